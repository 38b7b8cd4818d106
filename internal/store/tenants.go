package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/presswork/presswork/internal/errs"
)

// Tenant is one customer account.
type Tenant struct {
	ID            int64     `json:"id"`
	Slug          string    `json:"slug"`
	Name          string    `json:"name"`
	Plan          string    `json:"plan"`
	Status        string    `json:"status"`
	CreditBalance int64     `json:"credit_balance"`
	CreatedAt     time.Time `json:"created_at"`
}

// LedgerEntry is one change of a tenant's balance.
type LedgerEntry struct {
	ID           int64     `json:"id"`
	JobID        *string   `json:"job_id"`
	Kind         string    `json:"kind"`
	Delta        int64     `json:"delta"`
	BalanceAfter int64     `json:"balance_after"`
	Note         string    `json:"note"`
	CreatedAt    time.Time `json:"created_at"`
}

const tenantColumns = `id, slug, name, plan, status, credit_balance, created_at`

func scanTenant(row pgx.Row) (Tenant, error) {
	var t Tenant
	err := row.Scan(&t.ID, &t.Slug, &t.Name, &t.Plan, &t.Status, &t.CreditBalance, &t.CreatedAt)
	return t, err
}

// NewTenant is what CreateTenant needs.
type NewTenant struct {
	Slug, Name, Plan string
	Credits          int64
}

// CreateTenant creates a tenant with its opening credits recorded in the
// ledger. A taken slug is errs.ErrConflict.
func (s *Store) CreateTenant(ctx context.Context, nt NewTenant) (Tenant, error) {
	var t Tenant
	err := s.transact(ctx, func(tx pgx.Tx) error {
		var err error
		t, err = scanTenant(tx.QueryRow(ctx,
			`INSERT INTO tenants (slug, name, plan) VALUES ($1, $2, $3) RETURNING `+tenantColumns,
			nt.Slug, nt.Name, nt.Plan))
		if err != nil {
			return fmt.Errorf("insert tenant: %w", err)
		}
		if nt.Credits > 0 {
			t.CreditBalance, err = grant(ctx, tx, t.ID, nt.Credits, "opening credits")
		}
		return err
	})
	return t, err
}

// GetTenant returns a tenant by id.
func (s *Store) GetTenant(ctx context.Context, id int64) (Tenant, error) {
	t, err := scanTenant(s.pool.QueryRow(ctx, `SELECT `+tenantColumns+` FROM tenants WHERE id = $1`, id))
	return t, translate(err)
}

// ListTenants returns every tenant, oldest first.
func (s *Store) ListTenants(ctx context.Context) ([]Tenant, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+tenantColumns+` FROM tenants ORDER BY id`)
	if err != nil {
		return nil, translate(err)
	}
	return collect(rows, scanTenant)
}

// SetTenantStatus suspends or reactivates a tenant.
func (s *Store) SetTenantStatus(ctx context.Context, id int64, status string) (Tenant, error) {
	t, _, err := s.ChangeTenant(ctx, id, TenantChange{Status: &status})
	return t, err
}

// TenantChange is a change of a tenant's status, plan or both (nil: kept).
type TenantChange struct {
	Status, Plan *string
}

// ChangeTenant applies ch to a tenant in one statement and returns the
// tenant as changed and the plan it had before. The fair-share room of its
// bulk jobs follows the plan at their next release (ReleaseHeld). A
// missing tenant is errs.ErrNotFound.
func (s *Store) ChangeTenant(ctx context.Context, id int64, ch TenantChange) (t Tenant, oldPlan string, err error) {
	err = s.pool.QueryRow(ctx, `
		UPDATE tenants t SET status = coalesce($2, t.status), plan = coalesce($3, t.plan)
		FROM (SELECT id, plan FROM tenants WHERE id = $1 FOR UPDATE) old
		WHERE t.id = old.id
		RETURNING old.plan, t.id, t.slug, t.name, t.plan, t.status, t.credit_balance, t.created_at`,
		id, ch.Status, ch.Plan).Scan(&oldPlan, &t.ID, &t.Slug, &t.Name, &t.Plan, &t.Status, &t.CreditBalance, &t.CreatedAt)
	if err != nil {
		return Tenant{}, "", fmt.Errorf("change tenant %d: %w", id, translate(err))
	}
	return t, oldPlan, nil
}

// GrantCredits adds credits to a tenant and returns the new balance.
func (s *Store) GrantCredits(ctx context.Context, tenantID, amount int64, note string) (int64, error) {
	var balance int64
	err := s.transact(ctx, func(tx pgx.Tx) (err error) {
		balance, err = grant(ctx, tx, tenantID, amount, note)
		return err
	})
	return balance, err
}

// GrantCreditsOnce is GrantCredits for a request that may be retried: the
// first call with requestKey grants and returns the new balance; a retry
// with the same key and amount grants nothing and returns the balance the
// first call left (replayed true). The same key with another amount is
// errs.ErrConflict.
func (s *Store) GrantCreditsOnce(ctx context.Context, tenantID, amount int64, note, requestKey string) (balance int64, replayed bool, err error) {
	err = s.transact(ctx, func(tx pgx.Tx) error {
		// The tenant row lock orders concurrent retries of one grant.
		if _, err := tx.Exec(ctx, `SELECT 1 FROM tenants WHERE id = $1 FOR NO KEY UPDATE`, tenantID); err != nil {
			return translate(err)
		}
		var delta int64
		err := tx.QueryRow(ctx, `SELECT delta, balance_after FROM credit_ledger WHERE tenant_id = $1 AND request_key = $2`,
			tenantID, requestKey).Scan(&delta, &balance)
		switch {
		case err == nil && delta != amount:
			return fmt.Errorf("Idempotency-Key %q was used for a grant of %d credits: %w", requestKey, delta, errs.ErrConflict)
		case err == nil:
			replayed = true
			return nil
		case !isNoRows(err):
			return translate(err)
		}
		if balance, err = addBalance(ctx, tx, tenantID, amount); err != nil {
			return err
		}
		return appendKeyedLedger(ctx, tx, tenantID, nil, "grant", amount, balance, note, &requestKey)
	})
	return balance, replayed, err
}

func grant(ctx context.Context, tx pgx.Tx, tenantID, amount int64, note string) (int64, error) {
	balance, err := addBalance(ctx, tx, tenantID, amount)
	if err != nil {
		return 0, err
	}
	return balance, appendLedger(ctx, tx, tenantID, nil, "grant", amount, balance, note)
}

// addBalance changes a balance by delta, refusing to take it below zero
// (*errs.InsufficientCreditsError). A missing tenant is errs.ErrNotFound.
//
// A charge that takes the balance from at or above the tenant's
// credits_low_threshold to below it records credits.low in the same
// transaction: once per crossing, however the balance fell.
func addBalance(ctx context.Context, tx pgx.Tx, tenantID, delta int64) (int64, error) {
	var balance, threshold int64
	err := tx.QueryRow(ctx,
		`UPDATE tenants SET credit_balance = credit_balance + $2
		 WHERE id = $1 AND credit_balance + $2 >= 0 RETURNING credit_balance, credits_low_threshold`,
		tenantID, delta).Scan(&balance, &threshold)
	if isNoRows(err) {
		// No row: either no tenant, or the change would overdraw it.
		err = tx.QueryRow(ctx, `SELECT credit_balance FROM tenants WHERE id = $1`, tenantID).Scan(&balance)
		if err == nil {
			return 0, &errs.InsufficientCreditsError{Needed: -delta, Available: balance}
		}
	}
	if err != nil {
		return 0, fmt.Errorf("change balance of tenant %d: %w", tenantID, translate(err))
	}
	if crossedBelow(balance-delta, balance, threshold) {
		if err := recordEvent(ctx, tx, tenantID, EventCreditsLow, fmt.Sprintf("tenant:%d", tenantID),
			map[string]int64{"balance": balance, "threshold": threshold, "change": delta}); err != nil {
			return 0, err
		}
	}
	return balance, nil
}

// crossedBelow reports whether a balance going from before to after fell
// below threshold (0: no alert).
func crossedBelow(before, after, threshold int64) bool {
	return threshold > 0 && before >= threshold && after < threshold
}

func appendLedger(ctx context.Context, tx pgx.Tx, tenantID int64, jobID *string, kind string, delta, balance int64, note string) error {
	return appendKeyedLedger(ctx, tx, tenantID, jobID, kind, delta, balance, note, nil)
}

// appendKeyedLedger appends a ledger row; requestKey, if not nil, is the
// Idempotency-Key of the request that made it.
func appendKeyedLedger(ctx context.Context, tx pgx.Tx, tenantID int64, jobID *string, kind string, delta, balance int64,
	note string, requestKey *string) error {
	_, err := tx.Exec(ctx,
		`INSERT INTO credit_ledger (tenant_id, job_id, kind, delta, balance_after, note, request_key)
		 VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		tenantID, jobID, kind, delta, balance, note, requestKey)
	if err != nil {
		return fmt.Errorf("append %s to ledger: %w", kind, translate(err))
	}
	return nil
}

// Ledger returns a tenant's ledger, newest first, after the cursor (an id,
// 0 for the start).
func (s *Store) Ledger(ctx context.Context, tenantID int64, page Page) ([]LedgerEntry, error) {
	rows, err := s.pool.Query(ctx,
		`SELECT id, job_id, kind, delta, balance_after, note, created_at FROM credit_ledger
		 WHERE tenant_id = $1 AND ($2 = 0 OR id < $2) ORDER BY id DESC LIMIT $3`,
		tenantID, page.After, page.Limit)
	if err != nil {
		return nil, translate(err)
	}
	return collect(rows, scanLedger)
}

func scanLedger(r pgx.Row) (e LedgerEntry, err error) {
	err = r.Scan(&e.ID, &e.JobID, &e.Kind, &e.Delta, &e.BalanceAfter, &e.Note, &e.CreatedAt)
	return e, err
}

// CreditSummary is a tenant's balance with what is reserved by unfinished
// jobs (already taken off the balance).
type CreditSummary struct {
	Balance   int64 `json:"balance"`
	Reserved  int64 `json:"reserved_by_unfinished_jobs"`
	LedgerSum int64 `json:"ledger_sum"`
	// LowThreshold is the balance below which the tenant hears
	// credits.low; 0 when the alert is off.
	LowThreshold int64 `json:"low_balance_alert"`
}

// Credits summarizes a tenant's credits.
func (s *Store) Credits(ctx context.Context, tenantID int64) (CreditSummary, error) {
	var c CreditSummary
	err := s.pool.QueryRow(ctx, `
		SELECT t.credit_balance, t.credits_low_threshold,
		       (SELECT coalesce(sum(delta), 0) FROM credit_ledger WHERE tenant_id = t.id),
		       (SELECT coalesce(sum(credits_reserved), 0) FROM jobs WHERE tenant_id = t.id AND state IN ('queued', 'running', 'batched'))
		FROM tenants t WHERE t.id = $1`, tenantID).Scan(&c.Balance, &c.LowThreshold, &c.LedgerSum, &c.Reserved)
	return c, translate(err)
}

// SetCreditsLowThreshold sets the balance below which the tenant hears
// credits.low (0 turns the alert off).
func (s *Store) SetCreditsLowThreshold(ctx context.Context, tenantID, threshold int64) error {
	tag, err := s.pool.Exec(ctx, `UPDATE tenants SET credits_low_threshold = $2 WHERE id = $1`, tenantID, threshold)
	return oneRow(tag.RowsAffected(), err)
}

// Page bounds a listing: Limit rows after the cursor After (an id; 0 = start).
type Page struct {
	After int64
	Limit int
}

func collect[T any](rows pgx.Rows, scan func(pgx.Row) (T, error)) ([]T, error) {
	defer rows.Close()
	out := []T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, translate(err)
		}
		out = append(out, v)
	}
	return out, translate(rows.Err())
}

// errNoTenant is returned when a tenant-scoped write finds no tenant.
var errNoTenant = fmt.Errorf("tenant: %w", errs.ErrNotFound)

// MaxBatchMinItems bounds tenants.batch_min_items.
const MaxBatchMinItems = 100000

// BatchMinItems returns the tenant's default for bulk drafts (#23): a
// request for at least this many drafts that names no mode goes to batch
// mode; nil when the default is off.
func (s *Store) BatchMinItems(ctx context.Context, tenantID int64) (*int, error) {
	var n *int
	err := s.pool.QueryRow(ctx, `SELECT batch_min_items FROM tenants WHERE id = $1`, tenantID).Scan(&n)
	return n, translate(err)
}

// SetBatchMinItems sets the tenant's default for bulk drafts (nil turns
// it off); a value outside 1 to MaxBatchMinItems is a validation error
// naming batch_min_items.
func (s *Store) SetBatchMinItems(ctx context.Context, tenantID int64, n *int) error {
	if n != nil && (*n < 1 || *n > MaxBatchMinItems) {
		v := &errs.ValidationError{}
		v.Add("batch_min_items", "must be a whole number from 1 to %d, or null for no default", MaxBatchMinItems)
		return v
	}
	tag, err := s.pool.Exec(ctx, `UPDATE tenants SET batch_min_items = $2 WHERE id = $1`, tenantID, n)
	return oneRow(tag.RowsAffected(), err)
}
