package store

import (
	"context"

	"github.com/jackc/pgx/v5"
)

// SiteHealthChanged runs siteHealthChanged in a transaction of its own,
// for tests until the health writes call it.
func (s *Store) SiteHealthChanged(ctx context.Context, tenantID, siteID int64, before, after, reason string) error {
	return s.transact(ctx, func(tx pgx.Tx) error {
		return siteHealthChanged(ctx, tx, tenantID, siteID, before, after, reason)
	})
}
