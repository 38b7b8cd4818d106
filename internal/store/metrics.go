package store

import (
	"context"
	"fmt"
)

// TenantPlan returns a tenant's plan (free, starter, pro, agency), for
// labelling its jobs in the metrics.
func (s *Store) TenantPlan(ctx context.Context, tenantID int64) (string, error) {
	var plan string
	err := s.pool.QueryRow(ctx, `SELECT plan FROM tenants WHERE id = $1`, tenantID).Scan(&plan)
	if err != nil {
		return "", fmt.Errorf("plan of tenant %d: %w", tenantID, translate(err))
	}
	return plan, nil
}

// LedgerTail is the credit ledger past an id, summed by kind, read in one
// snapshot whose transaction bounds come with it.
type LedgerTail struct {
	// Total and Folded are, per kind, the credits moved (the absolute
	// deltas) by the rows after the id asked for, and by those of them up
	// to the fold id.
	Total, Folded map[string]int64
	// MaxID is the highest id among those rows; 0 when there are none.
	MaxID int64
	// XMin and XMax are the snapshot's bounds: every transaction below XMin
	// had ended when it was taken; none at or above XMax had started.
	XMin, XMax int64
}

// LedgerTail sums the ledger rows with an id above after, and separately
// those up to foldTo, by kind. Ledger ids are taken before their rows
// commit, so a row may appear below ids already seen; the snapshot bounds
// let the caller know when no such row can still appear.
func (s *Store) LedgerTail(ctx context.Context, after, foldTo int64) (LedgerTail, error) {
	rows, err := s.pool.Query(ctx, `
		WITH snap AS (
			SELECT pg_snapshot_xmin(s)::text::bigint AS xmin, pg_snapshot_xmax(s)::text::bigint AS xmax
			FROM pg_current_snapshot() s
		), tail AS (
			SELECT kind, sum(abs(delta))::bigint AS total,
				coalesce(sum(abs(delta)) FILTER (WHERE id <= $2), 0)::bigint AS folded, max(id) AS max_id
			FROM credit_ledger WHERE id > $1 GROUP BY kind
		)
		SELECT snap.xmin, snap.xmax, tail.kind, tail.total, tail.folded, tail.max_id
		FROM snap LEFT JOIN tail ON true`, after, foldTo)
	if err != nil {
		return LedgerTail{}, fmt.Errorf("ledger totals: %w", translate(err))
	}
	defer rows.Close()
	t := LedgerTail{Total: map[string]int64{}, Folded: map[string]int64{}}
	for rows.Next() {
		var kind *string
		var total, folded, maxID *int64
		if err := rows.Scan(&t.XMin, &t.XMax, &kind, &total, &folded, &maxID); err != nil {
			return LedgerTail{}, fmt.Errorf("ledger totals: %w", translate(err))
		}
		if kind == nil {
			continue // an empty tail
		}
		t.Total[*kind], t.Folded[*kind] = *total, *folded
		t.MaxID = max(t.MaxID, *maxID)
	}
	if err := rows.Err(); err != nil {
		return LedgerTail{}, fmt.Errorf("ledger totals: %w", translate(err))
	}
	return t, nil
}
