package store

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
)

// Kinds of model a usage entry was spent with.
const (
	UsageChat      = "chat"
	UsageEmbedding = "embedding"
	UsageImage     = "image"
)

// UsageEntry is what one attempt of a job spent with one model.
type UsageEntry struct {
	Stage     string
	Model     string
	Kind      string // UsageChat, UsageEmbedding or UsageImage
	TokensIn  int64
	TokensOut int64
	CostUSD   float64
}

// RecordUsage stores what attempt of a job spent, failed attempts too, and
// sets the job's tokens and cost to the sums over all its attempts (and its
// model, if it has none yet, to its main one).
func (s *Store) RecordUsage(ctx context.Context, tenantID int64, jobID string, attempt int, entries []UsageEntry) error {
	if len(entries) == 0 {
		return nil
	}
	stages, models, kinds, tokensIn, tokensOut, costs := usageColumns(entries)
	// One statement: the rows the CTE inserts are not yet visible to the
	// sums over ai_usage, so the job's totals add the earlier attempts'
	// rows and the ones just added.
	_, err := s.pool.Exec(ctx, `
		WITH added AS (
			INSERT INTO ai_usage (tenant_id, job_id, attempt, stage, model, kind, tokens_in, tokens_out, cost_usd)
			SELECT $1, $2, $3, u.stage, u.model, u.kind, u.tokens_in, u.tokens_out, u.cost_usd
			FROM unnest($4::text[], $5::text[], $6::text[], $7::bigint[], $8::bigint[], $9::float8[])
			     AS u(stage, model, kind, tokens_in, tokens_out, cost_usd)
			RETURNING tokens_in, tokens_out, cost_usd),
		all_rows AS (
			SELECT tokens_in, tokens_out, cost_usd FROM ai_usage WHERE job_id = $2 AND tenant_id = $1
			UNION ALL SELECT tokens_in, tokens_out, cost_usd FROM added)
		UPDATE jobs SET (tokens_in, tokens_out, cost_usd) =
		    (SELECT sum(tokens_in)::integer, sum(tokens_out)::integer, sum(cost_usd) FROM all_rows),
		    model = coalesce(model, nullif($10, ''))
		WHERE id = $2 AND tenant_id = $1`,
		tenantID, jobID, attempt, stages, models, kinds, tokensIn, tokensOut, costs, mainModel(entries))
	if err != nil {
		return fmt.Errorf("record usage of job %s: %w", jobID, translate(err))
	}
	return nil
}

// usageColumns are entries as the arrays unnest reads.
func usageColumns(entries []UsageEntry) (stages, models, kinds []string, tokensIn, tokensOut []int64, costs []float64) {
	for _, e := range entries {
		stages, models, kinds = append(stages, e.Stage), append(models, e.Model), append(kinds, e.Kind)
		tokensIn, tokensOut, costs = append(tokensIn, e.TokensIn), append(tokensOut, e.TokensOut), append(costs, e.CostUSD)
	}
	return stages, models, kinds, tokensIn, tokensOut, costs
}

// Attempt is what the store learns and records about one attempt of a
// job through the attempt's context (WithAttempt), so that the statement
// that ends the job successfully does more and later statements are
// skipped (#24):
//
//   - what the attempt spent (Spending) is recorded with the job's end:
//     one statement and one update of the job's row less than RecordUsage
//     after it. UsageRecorded tells, after the attempt, whether that
//     happened; if not (the attempt failed, or ended the job some other
//     way), the caller records it with RecordUsage.
//   - whether the tenant has held jobs is read with the job's end, and
//     ReleaseHeld skips its own look when it had none.
type Attempt struct {
	Number   int
	Spending func() []UsageEntry

	recorded atomic.Bool
	// heldKnown is set when the job's end read held, whether the tenant
	// had held jobs then.
	heldKnown, held atomic.Bool
	// config is the configuration version the job started with (see
	// configcache.go).
	config atomic.Pointer[configVersion]
}

// UsageRecorded reports whether the attempt's usage was recorded with the
// job's end (the transaction that ended the job committed).
func (a *Attempt) UsageRecorded() bool { return a.recorded.Load() }

type attemptKey struct{}

// WithAttempt hands a to the store calls made with the context.
func WithAttempt(ctx context.Context, a *Attempt) context.Context {
	return context.WithValue(ctx, attemptKey{}, a)
}

func attemptOf(ctx context.Context) *Attempt {
	a, _ := ctx.Value(attemptKey{}).(*Attempt)
	return a
}

// mainModel is the model a job that finished without naming one is filed
// under: its first chat model, else its first model.
func mainModel(entries []UsageEntry) string {
	if len(entries) == 0 {
		return ""
	}
	for _, e := range entries {
		if e.Kind == UsageChat {
			return e.Model
		}
	}
	return entries[0].Model
}

// UsageRow is what a tenant's jobs of one stage consumed on one day (UTC)
// with one model. Tokens and cost count every attempt, failed ones too, on
// the day it was spent, under the model that served it; Jobs and Credits
// count the jobs that finished that day, under the job's model.
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

// Usage sums a tenant's spending in [from, to) by day, stage and model,
// with the jobs finished and the credits they were charged.
func (s *Store) Usage(ctx context.Context, tenantID int64, from, to time.Time) ([]UsageRow, error) {
	rows, err := s.pool.Query(ctx,
		`WITH spent AS (
		   SELECT to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day, stage, model,
		          sum(tokens_in)::bigint AS tokens_in, sum(tokens_out)::bigint AS tokens_out, sum(cost_usd) AS cost_usd
		   FROM ai_usage
		   WHERE tenant_id = $1 AND created_at >= $2 AND created_at < $3
		   GROUP BY 1, 2, 3),
		 finished AS (
		   SELECT to_char(finished_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day, type AS stage,
		          coalesce(model, '') AS model, count(*) AS jobs, sum(credits_charged)::bigint AS credits
		   FROM jobs
		   WHERE tenant_id = $1 AND state IN ('succeeded', 'failed') AND finished_at >= $2 AND finished_at < $3
		   GROUP BY 1, 2, 3)
		 SELECT day, stage, model, coalesce(jobs, 0), coalesce(tokens_in, 0), coalesce(tokens_out, 0),
		        coalesce(cost_usd, 0)::float8, coalesce(credits, 0)
		 FROM spent FULL JOIN finished USING (day, stage, model)
		 ORDER BY 1, 2, 3`, tenantID, from, to)
	if err != nil {
		return nil, translate(err)
	}
	return collect(rows, func(r pgx.Row) (u UsageRow, err error) {
		err = r.Scan(&u.Day, &u.Stage, &u.Model, &u.Jobs, &u.TokensIn, &u.TokensOut, &u.CostUSD, &u.Credits)
		return u, err
	})
}
