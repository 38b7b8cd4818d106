package store

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
)

// UsageRow is what a tenant's finished jobs of one stage consumed on one
// day (UTC) with one model.
type UsageRow struct {
	Day       string  `json:"day"`
	Stage     string  `json:"stage"`
	Model     string  `json:"model"`
	Jobs      int64   `json:"jobs"`
	TokensIn  int64   `json:"tokens_in"`
	TokensOut int64   `json:"tokens_out"`
	CostUSD   float64 `json:"cost_usd"`
	Credits   int64   `json:"credits_charged"`
}

// Usage sums a tenant's finished jobs by day, stage and model, for jobs
// finished in [from, to).
func (s *Store) Usage(ctx context.Context, tenantID int64, from, to time.Time) ([]UsageRow, error) {
	rows, err := s.pool.Query(ctx,
		`SELECT to_char(finished_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day, type, coalesce(model, ''),
		        count(*), sum(tokens_in), sum(tokens_out), sum(cost_usd)::float8, sum(credits_charged)
		 FROM jobs
		 WHERE tenant_id = $1 AND state IN ('succeeded', 'failed') AND finished_at >= $2 AND finished_at < $3
		 GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`, tenantID, from, to)
	if err != nil {
		return nil, translate(err)
	}
	return collect(rows, func(r pgx.Row) (u UsageRow, err error) {
		err = r.Scan(&u.Day, &u.Stage, &u.Model, &u.Jobs, &u.TokensIn, &u.TokensOut, &u.CostUSD, &u.Credits)
		return u, err
	})
}
