package store

import (
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/presswork/presswork/internal/errs"
)

// ErrDomainTaken: another live deployment on the operator's panel has the
// domain (an errs.ErrConflict).
var ErrDomainTaken = fmt.Errorf("%w: the domain is used by another deployment on the operator's panel", errs.ErrConflict)

// operatorDomainIndex keeps domains unique among the live deployments on
// the operator's panel (migration 00012).
const operatorDomainIndex = "deployments_operator_domain"

// domainTaken turns a violation of operatorDomainIndex into ErrDomainTaken,
// keeping the driver's error in the chain for logs.
func domainTaken(err error) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" && pgErr.ConstraintName == operatorDomainIndex {
		return fmt.Errorf("%w: %w", ErrDomainTaken, err)
	}
	return err
}
