package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Job states.
const (
	JobQueued    = "queued"
	JobRunning   = "running"
	JobSucceeded = "succeeded"
	JobFailed    = "failed"
	JobCanceled  = "canceled"
	// JobBatched: the job's model call waits for a provider's Batch API
	// (see aibatches.go); it is in flight but not on the queue.
	JobBatched = "batched"
)

// ErrJobFinished is returned by StartJob and StartJobCosting for a job that already reached a
// final state: a duplicate delivery, which must do nothing.
var ErrJobFinished = errors.New("job already finished")

// Job is the durable record of one task.
type Job struct {
	ID        string          `json:"id"`
	TenantID  int64           `json:"-"`
	Type      string          `json:"type"`
	Queue     string          `json:"queue"`
	SiteID    int64           `json:"site_id"`
	SubjectID int64           `json:"subject_id"`
	BatchID   *string         `json:"batch_id"`
	Params    json.RawMessage `json:"params"`
	State     string          `json:"state"`
	Phase     string          `json:"phase"`
	Attempts  int             `json:"attempts"`
	LastError *string         `json:"error"`
	// ErrorCode names the last failure stably (errs.Code*); RetryAt and
	// RetriesLeft say, while the job waits to retry, when the next
	// attempt is due and how many retries remain after it.
	ErrorCode       *string         `json:"error_code"`
	RetryAt         *time.Time      `json:"retry_at"`
	RetriesLeft     *int            `json:"retries_left"`
	CreditsQuoted   int64           `json:"credits_quoted"`
	CreditsReserved int64           `json:"credits_reserved"`
	CreditsCharged  int64           `json:"credits_charged"`
	Model           *string         `json:"model"`
	TokensIn        int             `json:"tokens_in"`
	TokensOut       int             `json:"tokens_out"`
	CostUSD         float64         `json:"cost_usd"`
	Result          json.RawMessage `json:"result"`
	CreatedAt       time.Time       `json:"created_at"`
	UpdatedAt       time.Time       `json:"updated_at"`
	StartedAt       *time.Time      `json:"started_at"`
	FinishedAt      *time.Time      `json:"finished_at"`
	// Held is true while the job waits in PostgreSQL for its tenant's
	// turn: it is queued but not yet on the queue (see pacing.go).
	Held bool `json:"held"`
	// Delivery is the job's delivery number: 0, raised each time the job
	// is delivered again because its worker was lost (RescueLostJobs).
	Delivery int `json:"-"`
	// Checkpointed, set by StartJob, tells whether the job had checkpoints
	// when it started (an earlier attempt's, or a provider batch's answer):
	// a job without any need not read them.
	Checkpointed bool `json:"-"`
}

// Final reports whether the job can change no more.
func (j Job) Final() bool {
	return j.State == JobSucceeded || j.State == JobFailed || j.State == JobCanceled
}

const jobColumns = `id, tenant_id, type, queue, site_id, subject_id, batch_id, params, state, phase, attempts,
	last_error, credits_quoted, credits_reserved, credits_charged, model, tokens_in, tokens_out,
	cost_usd::float8, result, created_at, updated_at, started_at, finished_at, held, error_code, retry_at, retries_left,
	delivery`

func scanJob(r pgx.Row) (Job, error) { return scanJobWith(r) }

// scanJobWith scans jobColumns and then more.
func scanJobWith(r pgx.Row, more ...any) (j Job, err error) {
	err = r.Scan(append([]any{&j.ID, &j.TenantID, &j.Type, &j.Queue, &j.SiteID, &j.SubjectID, &j.BatchID, &j.Params,
		&j.State, &j.Phase, &j.Attempts, &j.LastError, &j.CreditsQuoted, &j.CreditsReserved,
		&j.CreditsCharged, &j.Model, &j.TokensIn, &j.TokensOut, &j.CostUSD, &j.Result,
		&j.CreatedAt, &j.UpdatedAt, &j.StartedAt, &j.FinishedAt, &j.Held, &j.ErrorCode, &j.RetryAt, &j.RetriesLeft,
		&j.Delivery}, more...)...)
	return j, err
}

// NewJob is a job to create. Quote is the credits it is expected to cost.
type NewJob struct {
	ID        string
	Type      string
	Queue     string
	SiteID    int64
	SubjectID int64
	Params    json.RawMessage
	Quote     int64
	// RuleID is the automation rule whose run made the job (0: none).
	RuleID int64
	// Batched makes the job wait in the state batched for a provider
	// batch instead of going on the queue (never held, never delivered).
	Batched bool
}

// JobBatch is what CreateJobs made: the jobs created, the ones skipped
// because the same work is already queued or running, and the jobs to put
// on the queue now (the created ones not held, and held ones of the
// tenant released by the room left).
type JobBatch struct {
	BatchID string
	Created []Job
	Skipped []NewJob
	Deliver []Job
}

// CreateJobs records jobs in state queued, in one transaction, with a batch
// row when batchID is not empty. A job whose subject already has an
// unfinished job of the same type is skipped; a job id that exists already
// (a client retry) is skipped too. The tenant must be able to afford the
// created jobs: their quotes may not exceed the balance less what queued
// jobs are already quoted for. Nothing is written when it cannot.
func (s *Store) CreateJobs(ctx context.Context, tenantID int64, batchID string, jobs []NewJob) (JobBatch, error) {
	out := JobBatch{BatchID: batchID, Created: []Job{}, Skipped: []NewJob{}, Deliver: []Job{}}
	if len(jobs) == 0 {
		return out, nil
	}
	err := s.transact(ctx, func(tx pgx.Tx) error {
		var created []Job
		var err error
		if batchID == "" {
			created, err = s.insertJobs(ctx, tx, tenantID, "", jobs)
		} else {
			// The batch id of a retried request is taken: a conflict.
			created, err = s.insertBatch(ctx, tx, tenantID, batchID, jobs, false)
		}
		if err != nil {
			return err
		}
		if out.Deliver, err = s.deliverable(ctx, tx, tenantID, created); err != nil {
			return err
		}
		out.Created = created
		out.Skipped = skippedJobs(jobs, created)
		return nil
	})
	return out, err
}

// insertJobs inserts jobs as queued and reserves their quotes (see
// reserveQuotes); jobs on the paced queue past the tenant's room are held
// when the store paces (holds; the caller releases what fits: see
// deliverable). Those that fit are inserted not held, rather than held and
// released by a second write of every row (#24).
func (s *Store) insertJobs(ctx context.Context, tx pgx.Tx, tenantID int64, batchID string, jobs []NewJob) ([]Job, error) {
	held, err := s.holds(ctx, tx, tenantID, jobs)
	if err != nil {
		return nil, err
	}
	n := len(jobs)
	ids, types, queues := make([]string, n), make([]string, n), make([]string, n)
	sites, subjects, quotes := make([]int64, n), make([]int64, n), make([]int64, n)
	params, rules, batched := make([]string, n), make([]int64, n), make([]bool, n)
	for i, j := range jobs {
		ids[i], types[i], queues[i], batched[i] = j.ID, j.Type, j.Queue, j.Batched
		sites[i], subjects[i], quotes[i], rules[i] = j.SiteID, j.SubjectID, j.Quote, j.RuleID
		params[i] = "{}"
		if len(j.Params) > 0 {
			params[i] = string(j.Params)
		}
	}
	rows, err := tx.Query(ctx, `
		INSERT INTO jobs (id, tenant_id, type, queue, site_id, subject_id, batch_id, params, state, credits_quoted,
		                  credits_reserved, rule_id, held, phase)
		SELECT id, $2, type, queue, site_id, subject_id, nullif($3, ''), params::jsonb,
		       CASE WHEN batched THEN 'batched' ELSE 'queued' END, quote, quote, nullif(rule_id, 0),
		       held,
		       CASE WHEN batched THEN 'batched' WHEN held THEN 'held' ELSE 'queued' END
		FROM unnest($1::text[], $4::text[], $5::text[], $6::bigint[], $7::bigint[], $8::text[], $9::bigint[], $10::bigint[],
		            $11::boolean[], $12::boolean[])
		     AS t(id, type, queue, site_id, subject_id, params, quote, rule_id, batched, held)
		ON CONFLICT DO NOTHING
		RETURNING `+jobColumns,
		ids, tenantID, batchID, types, queues, sites, subjects, params, quotes, rules, batched, held)
	if err != nil {
		return nil, fmt.Errorf("insert jobs: %w", err)
	}
	created, err := collect(rows, scanJob)
	if err != nil {
		return nil, err
	}
	return created, reserveQuotes(ctx, tx, tenantID, created)
}

// reserveQuotes takes the quotes of jobs just created off the tenant's
// balance, with a "reserve" ledger row per job, in one statement: the work
// a request queues is paid for when it is accepted, so the worker starting
// a job touches the job's row only (one tenant's bulk would otherwise
// serialize on its tenant row, one job at a time). A tenant that cannot
// afford it all gets *errs.InsufficientCreditsError and the caller's
// transaction rolls back.
func reserveQuotes(ctx context.Context, tx pgx.Tx, tenantID int64, created []Job) error {
	ids, quotes := make([]string, 0, len(created)), make([]int64, 0, len(created))
	var needed int64
	for _, j := range created {
		if j.CreditsReserved > 0 {
			ids, quotes = append(ids, j.ID), append(quotes, j.CreditsReserved)
			needed += j.CreditsReserved
		}
	}
	if needed == 0 {
		return nil
	}
	// addBalance locks the tenant row: concurrent requests of a tenant
	// reserve one after the other, each against the balance the one before
	// left.
	after, err := addBalance(ctx, tx, tenantID, -needed)
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `
		INSERT INTO credit_ledger (tenant_id, job_id, kind, delta, balance_after)
		SELECT $1, u.id, 'reserve', -u.quote, $2::bigint - sum(u.quote) OVER (ORDER BY u.n)
		FROM unnest($3::text[], $4::bigint[]) WITH ORDINALITY AS u(id, quote, n)`,
		tenantID, after+needed, ids, quotes)
	if err != nil {
		return fmt.Errorf("append reservations to ledger: %w", translate(err))
	}
	return nil
}

func skippedJobs(asked []NewJob, created []Job) []NewJob {
	made := make(map[string]bool, len(created))
	for _, j := range created {
		made[j.ID] = true
	}
	skipped := []NewJob{}
	for _, j := range asked {
		if !made[j.ID] {
			skipped = append(skipped, j)
		}
	}
	return skipped
}

// GetJob returns one of a tenant's jobs.
func (s *Store) GetJob(ctx context.Context, tenantID int64, id string) (Job, error) {
	j, err := scanJob(s.pool.QueryRow(ctx,
		`SELECT `+jobColumns+` FROM jobs WHERE tenant_id = $1 AND id = $2`, tenantID, id))
	return j, missing(translate(err), "job", id)
}

// JobFilter narrows a job listing; empty fields match everything.
type JobFilter struct {
	State, Type, BatchID string
	// Phase and ErrorCode match the job's phase ("waiting_retry": jobs
	// that failed an attempt and will try again) and last failure's code.
	Phase, ErrorCode string
}

// ListJobs returns a tenant's jobs, newest first, after the job id cursor.
func (s *Store) ListJobs(ctx context.Context, tenantID int64, f JobFilter, after string, limit int) ([]Job, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+jobColumns+` FROM jobs
		WHERE tenant_id = $1 AND ($2 = '' OR state = $2) AND ($3 = '' OR type = $3) AND ($4 = '' OR batch_id = $4)
		  AND ($5 = '' OR (created_at, id) < (SELECT created_at, id FROM jobs WHERE id = $5 AND tenant_id = $1))
		  AND ($7 = '' OR phase = $7) AND ($8 = '' OR error_code = $8)
		ORDER BY created_at DESC, id DESC LIMIT $6`,
		tenantID, f.State, f.Type, f.BatchID, after, limit, f.Phase, f.ErrorCode)
	if err != nil {
		return nil, translate(err)
	}
	return collect(rows, scanJob)
}

// BatchSummary is the progress of a batch.
type BatchSummary struct {
	ID             string         `json:"id"`
	Type           string         `json:"type"`
	Total          int            `json:"total"`
	Done           int            `json:"done"`
	ByState        map[string]int `json:"by_state"`
	RunningByPhase map[string]int `json:"running_by_phase"`
	CreditsCharged int64          `json:"credits_charged"`
	Errors         []JobError     `json:"errors"`
	CreatedAt      time.Time      `json:"created_at"`
	// ProviderBatches are the provider batches (#23) that carry the
	// batch's batched jobs, with the provider's own progress.
	ProviderBatches []ProviderBatchProgress `json:"provider_batches"`
}

// JobError is a failed job of a batch and its reason.
type JobError struct {
	JobID string `json:"job_id"`
	Error string `json:"error"`
}

// GetBatch summarizes one of a tenant's batches.
func (s *Store) GetBatch(ctx context.Context, tenantID int64, id string) (BatchSummary, error) {
	b := BatchSummary{ID: id, ByState: map[string]int{}, RunningByPhase: map[string]int{}, Errors: []JobError{}}
	err := s.pool.QueryRow(ctx, `SELECT type, total, created_at FROM batches WHERE tenant_id = $1 AND id = $2`,
		tenantID, id).Scan(&b.Type, &b.Total, &b.CreatedAt)
	if err != nil {
		return b, missing(translate(err), "batch", id)
	}
	rows, err := s.pool.Query(ctx, `SELECT state, phase, count(*), sum(credits_charged) FROM jobs
		WHERE batch_id = $1 AND tenant_id = $2 GROUP BY state, phase`, id, tenantID)
	if err != nil {
		return b, missing(translate(err), "batch", id)
	}
	defer rows.Close()
	for rows.Next() {
		var state, phase string
		var n int
		var charged int64
		if err := rows.Scan(&state, &phase, &n, &charged); err != nil {
			return b, missing(translate(err), "batch", id)
		}
		b.ByState[state] += n
		b.CreditsCharged += charged
		if state == JobRunning {
			b.RunningByPhase[phase] += n
		}
	}
	if err := rows.Err(); err != nil {
		return b, missing(translate(err), "batch", id)
	}
	b.Done = b.ByState[JobSucceeded] + b.ByState[JobFailed] + b.ByState[JobCanceled]
	if b.Errors, err = s.batchErrors(ctx, tenantID, id); err != nil {
		return b, err
	}
	b.ProviderBatches, err = s.providerProgress(ctx, tenantID, id)
	return b, err
}

func (s *Store) batchErrors(ctx context.Context, tenantID int64, batchID string) ([]JobError, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, last_error FROM jobs
		WHERE batch_id = $1 AND tenant_id = $2 AND state = 'failed' ORDER BY id LIMIT 20`, batchID, tenantID)
	if err != nil {
		return nil, translate(err)
	}
	return collect(rows, func(r pgx.Row) (e JobError, err error) {
		var msg *string
		err = r.Scan(&e.JobID, &msg)
		if msg != nil {
			e.Error = *msg
		}
		return e, err
	})
}
