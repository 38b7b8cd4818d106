package store

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/presswork/presswork/internal/errs"
)

// StartJob moves a job to running with its quote reserved. A job reserves
// its quote when it is created, so this normally touches the job's row
// only; one found without a reservation reserves its quote now (see start).
func (s *Store) StartJob(ctx context.Context, tenantID int64, jobID, phase string) (Job, error) {
	return s.start(ctx, tenantID, jobID, phase, nil)
}

// StartJobCosting moves a job whose cost is decided when it runs (zero for
// a free job) to running, reserving cost unless the job already holds a
// reservation (see start). A negative cost is an error.
func (s *Store) StartJobCosting(ctx context.Context, tenantID int64, jobID string, cost int64, phase string) (Job, error) {
	if cost < 0 {
		return Job{}, fmt.Errorf("start job %s: negative cost %d", jobID, cost)
	}
	return s.start(ctx, tenantID, jobID, phase, &cost)
}

// start moves a job to running and makes sure its cost is reserved, in one
// transaction: cost, or the job's quote when cost is nil. The cost is
// reserved once per job: a retried or duplicated delivery finds the
// reservation and does not charge again. A job in a final state returns
// ErrJobFinished. A tenant that cannot afford the cost gets
// *errs.InsufficientCreditsError, and one no longer active a permanent
// error for a job that costs something (free jobs, like an automation run
// that records the suspension, still run); nothing changes then.
func (s *Store) start(ctx context.Context, tenantID int64, jobID, phase string, cost *int64) (Job, error) {
	if job, _, ok, err := s.startReserved(ctx, tenantID, jobID, phase, cost, ""); ok || err != nil {
		return job, err
	}
	return s.startLongWay(ctx, tenantID, jobID, phase, cost)
}

// startLongWay is start for a job that startReserved did not start.
func (s *Store) startLongWay(ctx context.Context, tenantID int64, jobID, phase string, cost *int64) (Job, error) {
	var job Job
	err := s.transact(ctx, func(tx pgx.Tx) error {
		var err error
		job, err = scanJob(tx.QueryRow(ctx,
			`SELECT `+jobColumns+` FROM jobs WHERE tenant_id = $1 AND id = $2 FOR UPDATE`, tenantID, jobID))
		if err != nil {
			return fmt.Errorf("job %s: %w", jobID, translate(err))
		}
		if job.Final() {
			return ErrJobFinished
		}
		job.Checkpointed = true // not looked up on this rare path: its checkpoints are read
		if number, _ := deliveryOf(ctx); number != nil && *number != job.Delivery {
			return ErrDeliveryLost
		}
		toReserve := job.CreditsQuoted
		if cost != nil {
			toReserve = *cost
		}
		if job.CreditsReserved == 0 && toReserve > 0 {
			if err := reserve(ctx, tx, tenantID, jobID, toReserve); err != nil {
				return err
			}
			job.CreditsReserved = toReserve
		}
		var tenantStatus string
		_, worker := deliveryOf(ctx)
		err = tx.QueryRow(ctx, `UPDATE jobs SET state = 'running', phase = $2, attempts = attempts + 1,
			credits_reserved = $3, started_at = coalesce(started_at, now()), retry_at = NULL, updated_at = now(),
			worker_id = $4
			WHERE id = $1 RETURNING state, phase, attempts, started_at, (SELECT status FROM tenants WHERE id = tenant_id)`,
			jobID, phase, job.CreditsReserved, worker).Scan(&job.State, &job.Phase, &job.Attempts, &job.StartedAt, &tenantStatus)
		if err == nil && job.CreditsReserved > 0 && tenantStatus != "active" {
			return errs.Permanent(fmt.Errorf("tenant is %s", tenantStatus))
		}
		return err
	})
	return job, err
}

// startReserved is start's common case in one statement: an unfinished
// job that has nothing left to reserve (it reserved its quote when it was
// queued, and its tenant is active; or it costs nothing: cost, or its quote
// when cost is nil) moves to running. ok is false when the job is not such
// a job; start then takes the long way, which knows why.
//
// subject, when not "", is a scalar subquery over the started row (named
// jobs) that the statement returns too: what the stage reads of the job's
// subject (a JSON document, nil when it finds nothing), in the same round
// trip (#24).
func (s *Store) startReserved(ctx context.Context, tenantID int64, jobID, phase string, cost *int64,
	subject string) (job Job, subjectDoc []byte, ok bool, err error) {
	number, worker := deliveryOf(ctx)
	var checkpointed bool
	var version configVersion
	job, err = scanJobWith(s.pool.QueryRow(ctx, `UPDATE jobs SET state = 'running', phase = $3, attempts = attempts + 1,
			started_at = coalesce(started_at, now()), retry_at = NULL, updated_at = now(), worker_id = $6
		WHERE tenant_id = $1 AND id = $2 AND state IN ('queued', 'running')
		  AND (credits_reserved > 0 OR coalesce($4::bigint, credits_quoted) = 0)
		  AND (credits_reserved = 0 OR (SELECT status FROM tenants WHERE id = $1) = 'active')
		  AND ($5::int IS NULL OR delivery = $5)
		RETURNING `+jobColumns+`, EXISTS (SELECT 1 FROM job_checkpoints c WHERE c.job_id = jobs.id), `+
		configReturning+`, `+cmp.Or(subject, "NULL::jsonb"),
		tenantID, jobID, phase, cost, number, worker), &checkpointed, &version.tenant, &version.shared, &subjectDoc)
	job.Checkpointed = checkpointed
	if isNoRows(err) {
		return Job{}, nil, false, nil
	}
	if err != nil {
		return Job{}, nil, false, fmt.Errorf("start job %s: %w", jobID, translate(err))
	}
	if a := attemptOf(ctx); a != nil {
		version.tenantID = tenantID
		a.config.Store(&version)
	}
	return job, subjectDoc, true, nil
}

func reserve(ctx context.Context, tx pgx.Tx, tenantID int64, jobID string, cost int64) error {
	var balance int64
	var status string
	err := tx.QueryRow(ctx, `SELECT credit_balance, status FROM tenants WHERE id = $1 FOR NO KEY UPDATE`, tenantID).
		Scan(&balance, &status)
	if err != nil {
		return fmt.Errorf("tenant %d: %w", tenantID, translate(err))
	}
	if status != "active" {
		return errs.Permanent(fmt.Errorf("tenant is %s", status))
	}
	if balance < cost {
		return &errs.InsufficientCreditsError{Needed: cost, Available: balance}
	}
	balance, err = addBalance(ctx, tx, tenantID, -cost)
	if err != nil {
		return err
	}
	return appendLedger(ctx, tx, tenantID, &jobID, "reserve", -cost, balance, "")
}

// SetPhase records the phase of a running job (of the delivery ctx
// carries, if any).
func (s *Store) SetPhase(ctx context.Context, jobID, phase string) error {
	number, _ := deliveryOf(ctx)
	_, err := s.pool.Exec(ctx, `UPDATE jobs SET phase = $2, updated_at = now()
		WHERE id = $1 AND state = 'running' AND ($3::int IS NULL OR delivery = $3)`, jobID, phase, number)
	return translate(err)
}

// Outcome is what a finished job records about itself.
type Outcome struct {
	TenantID  int64
	JobID     string
	Charged   int64 // at most what was reserved; the rest is refunded
	Model     string
	TokensIn  int
	TokensOut int
	CostUSD   float64
	Result    any // stored as JSON
}

// finishJob marks a running job succeeded and settles its credits inside tx.
// A job that is no longer running (finished by a duplicate delivery, or
// canceled) makes it fail with ErrJobFinished so the caller's writes roll
// back; so does a job delivered again since the delivery ctx carries began
// (ErrDeliveryLost).
func finishJob(ctx context.Context, tx pgx.Tx, o Outcome) error {
	result, err := json.Marshal(o.Result)
	if err != nil {
		return fmt.Errorf("encode result: %w", err)
	}
	var reserved int64
	var ended endedJob
	var held bool
	delivery, _ := deliveryOf(ctx)
	// This attempt's usage: handed by the worker (recorded here, with the
	// end), else the outcome's totals (recorded by the caller after).
	thisIn, thisOut, thisCost := o.TokensIn, o.TokensOut, o.CostUSD
	attempt := attemptOf(ctx)
	t, isTxn := tx.(*txn)
	if !isTxn { // it could not learn that the transaction committed
		attempt = nil
	}
	var entries []UsageEntry
	number := 0
	if attempt != nil {
		entries, number = attempt.Spending(), attempt.Number
		thisIn, thisOut, thisCost = 0, 0, 0
	}
	stages, models, kinds, tokensIn, tokensOut, costs := usageColumns(entries)
	// One statement: the job's usage is this attempt's plus its earlier
	// attempts' (already in ai_usage: an attempt that resumed from
	// checkpoints may spend nothing itself); its checkpoints go with it;
	// what its end reports comes back, with whether the tenant holds jobs
	// and whether another job of its batch still waits to start
	// (endedJob.batchWaiting).
	err = tx.QueryRow(ctx, `WITH earlier AS (
			SELECT coalesce(sum(tokens_in), 0) AS tokens_in, coalesce(sum(tokens_out), 0) AS tokens_out,
			       coalesce(sum(cost_usd), 0) AS cost_usd
			FROM ai_usage WHERE tenant_id = $1 AND job_id = $2),
		added AS (
			INSERT INTO ai_usage (tenant_id, job_id, attempt, stage, model, kind, tokens_in, tokens_out, cost_usd)
			SELECT $1, $2, $10, u.stage, u.model, u.kind, u.tokens_in, u.tokens_out, u.cost_usd
			FROM unnest($11::text[], $12::text[], $13::text[], $14::bigint[], $15::bigint[], $16::float8[])
			     AS u(stage, model, kind, tokens_in, tokens_out, cost_usd)
			RETURNING tokens_in, tokens_out, cost_usd),
		this AS (
			SELECT coalesce(sum(tokens_in), 0) AS tokens_in, coalesce(sum(tokens_out), 0) AS tokens_out,
			       coalesce(sum(cost_usd), 0) AS cost_usd
			FROM added),
		finished AS (
			UPDATE jobs SET state = 'succeeded', phase = 'completed',
			credits_charged = least($3, credits_reserved), model = coalesce(nullif($4, ''), nullif($17, '')),
			tokens_in = $5 + earlier.tokens_in + this.tokens_in, tokens_out = $6 + earlier.tokens_out + this.tokens_out,
			cost_usd = $7 + earlier.cost_usd + this.cost_usd, result = $8, last_error = NULL, error_code = NULL,
			retry_at = NULL, retries_left = NULL, finished_at = now(), updated_at = now()
			FROM earlier, this
			WHERE tenant_id = $1 AND id = $2 AND state = 'running' AND ($9::int IS NULL OR delivery = $9)
			RETURNING id, credits_reserved, type, state, batch_id, last_error, error_code, subject_id),
		forgotten AS (DELETE FROM job_checkpoints WHERE job_id = (SELECT id FROM finished))
		SELECT credits_reserved, type, state, batch_id, last_error, error_code, subject_id,
			EXISTS (SELECT 1 FROM jobs WHERE tenant_id = $1 AND held AND state = 'queued'),
			EXISTS (SELECT 1 FROM jobs o WHERE o.batch_id = finished.batch_id AND o.id <> finished.id
			        AND o.state IN ('queued', 'batched'))
		FROM finished`,
		o.TenantID, o.JobID, o.Charged, o.Model, thisIn, thisOut, thisCost, result, delivery,
		number, stages, models, kinds, tokensIn, tokensOut, costs, mainModel(entries)).
		Scan(&reserved, &ended.typ, &ended.state, &ended.batchID, &ended.lastError, &ended.errorCode, &ended.subjectID,
			&held, &ended.batchWaiting)
	if err == nil && attempt != nil {
		t.committed = append(t.committed, func() {
			attempt.recorded.Store(true)
			attempt.held.Store(held)
			attempt.heldKnown.Store(true)
		})
	}
	if err != nil {
		if isNoRows(err) {
			return whyNotWritten(ctx, tx, o.JobID)
		}
		return fmt.Errorf("finish job %s: %w", o.JobID, err)
	}
	if err := jobEnded(ctx, tx, o.TenantID, o.JobID, ended); err != nil {
		return err
	}
	if unused := reserved - min(o.Charged, reserved); unused > 0 {
		return giveBack(ctx, tx, o.TenantID, o.JobID, "settle", unused, "unused part of the reservation")
	}
	return nil
}

func giveBack(ctx context.Context, tx pgx.Tx, tenantID int64, jobID, kind string, amount int64, note string) error {
	balance, err := addBalance(ctx, tx, tenantID, amount)
	if err != nil {
		return err
	}
	return appendLedger(ctx, tx, tenantID, &jobID, kind, amount, balance, note)
}

// whyNotWritten is the error of a worker's write that found no job row to
// change: ErrDeliveryLost when the job was delivered again since the
// delivery ctx carries began, else ErrJobFinished.
func whyNotWritten(ctx context.Context, q querier, jobID string) error {
	number, _ := deliveryOf(ctx)
	if number == nil {
		return ErrJobFinished
	}
	var current int
	if err := q.QueryRow(ctx, `SELECT delivery FROM jobs WHERE id = $1`, jobID).Scan(&current); err == nil && current != *number {
		return ErrDeliveryLost
	}
	return ErrJobFinished
}

// querier is a pool or a transaction.
type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

func isNoRows(err error) bool { return errors.Is(err, pgx.ErrNoRows) }

// Failure is what a failed attempt records on its job: the words a user
// reads and their code (errs.Code*); for an attempt that will be retried,
// when the next one is due and how many retries remain after it.
type Failure struct {
	Message     string
	Code        string
	RetryAt     *time.Time
	RetriesLeft *int
}

// FailJob ends a queued or running job as failed with f and refunds what
// it reserved, in one transaction; the images the job left pending turn
// failed with the message. A job already final is left as it is
// (ErrJobFinished).
func (s *Store) FailJob(ctx context.Context, tenantID int64, jobID string, f Failure) error {
	return s.endUnfinished(ctx, tenantID, jobID, JobFailed, f)
}

// CancelJob ends a queued or running job as canceled and refunds what it
// reserved. A job already final is errs.ErrConflict.
func (s *Store) CancelJob(ctx context.Context, tenantID int64, jobID string) (Job, error) {
	if _, err := s.GetJob(ctx, tenantID, jobID); err != nil {
		return Job{}, err
	}
	err := s.endUnfinished(ctx, tenantID, jobID, JobCanceled, Failure{Message: "canceled by request"})
	if errors.Is(err, ErrJobFinished) {
		return Job{}, fmt.Errorf("job %s has already finished: %w", jobID, errs.ErrConflict)
	}
	if err != nil {
		return Job{}, err
	}
	return s.GetJob(ctx, tenantID, jobID)
}

func (s *Store) endUnfinished(ctx context.Context, tenantID int64, jobID, state string, f Failure) error {
	message := f.Message
	number, _ := deliveryOf(ctx)
	return s.transact(ctx, func(tx pgx.Tx) error {
		var reserved int64
		var ended endedJob
		err := tx.QueryRow(ctx, `UPDATE jobs SET state = $3, phase = $3, last_error = nullif($4, ''),
			error_code = nullif($5, ''), retry_at = NULL, retries_left = NULL,
			credits_charged = 0, finished_at = now(), updated_at = now()
			WHERE tenant_id = $1 AND id = $2 AND state IN ('queued', 'running', 'batched') AND ($6::int IS NULL OR delivery = $6)
			RETURNING credits_reserved, type, state, batch_id, last_error, error_code, subject_id`,
			tenantID, jobID, state, message, f.Code, number).
			Scan(&reserved, &ended.typ, &ended.state, &ended.batchID, &ended.lastError, &ended.errorCode, &ended.subjectID)
		if isNoRows(err) {
			return whyNotWritten(ctx, tx, jobID)
		}
		if err != nil {
			return fmt.Errorf("end job %s: %w", jobID, err)
		}
		if err := deleteCheckpoints(ctx, tx, jobID); err != nil {
			return err
		}
		if err := jobEnded(ctx, tx, tenantID, jobID, ended); err != nil {
			return err
		}
		// An image job that failed leaves its pending images failed.
		if state == JobFailed {
			if err := failJobImages(ctx, tx, tenantID, jobID, message); err != nil {
				return err
			}
		}
		if err := endAnnouncedRetry(ctx, tx, tenantID, jobID); err != nil {
			return err
		}
		// An automation run's job ends its run's record too.
		if _, err := tx.Exec(ctx, `UPDATE automation_runs SET status = 'failed', finished_at = now(),
			skipped = jsonb_build_array(jsonb_build_object('reason', 'the run was ' || $3 || ': ' || $2::text))
			WHERE id = $1 AND status = 'queued'`, jobID, message, state); err != nil {
			return fmt.Errorf("end run %s: %w", jobID, err)
		}
		if reserved > 0 {
			return giveBack(ctx, tx, tenantID, jobID, "refund", reserved, "job "+state)
		}
		return nil
	})
}

// endAnnouncedRetry makes final the failure of jobID that its subject's
// publish report shows (RecordPublishFailure), if it shows one: a job
// canceled or failed while waiting to retry (by a user, the reconciler)
// is not tried again, whatever the report said. The report names its job,
// so no other job's subject is touched.
func endAnnouncedRetry(ctx context.Context, tx pgx.Tx, tenantID int64, jobID string) error {
	_, err := tx.Exec(ctx, `UPDATE drafts SET publish_report = jsonb_set(publish_report, '{failed}',
			publish_report->'failed' || '{"final": true, "retry_at": null, "retries_left": null}')
		WHERE tenant_id = $1 AND id = (SELECT subject_id FROM jobs WHERE id = $2)
			AND publish_report->'failed'->>'job_id' = $2 AND publish_report->'failed'->>'final' = 'false'`,
		tenantID, jobID)
	if err != nil {
		return fmt.Errorf("end the retry job %s announced: %w", jobID, err)
	}
	return nil
}

// RetryLater records a failed attempt that will be retried: the job goes
// back to queued, keeping its reservation, with f's reason, code and
// retry time.
func (s *Store) RetryLater(ctx context.Context, tenantID int64, jobID string, f Failure) error {
	number, _ := deliveryOf(ctx)
	tag, err := s.pool.Exec(ctx, `UPDATE jobs SET state = 'queued', phase = 'waiting_retry', last_error = $3,
		error_code = nullif($4, ''), retry_at = $5, retries_left = $6, updated_at = now()
		WHERE tenant_id = $1 AND id = $2 AND state = 'running' AND ($7::int IS NULL OR delivery = $7)`,
		tenantID, jobID, f.Message, f.Code, f.RetryAt, f.RetriesLeft, number)
	if err != nil {
		return translate(err)
	}
	if tag.RowsAffected() == 0 {
		if err := whyNotWritten(ctx, s.pool, jobID); errors.Is(err, ErrDeliveryLost) {
			return err
		}
	}
	return nil
}

// Unfinished returns jobs queued or running whose row has not changed since
// before the given time, oldest first: the reconciler's candidates.
func (s *Store) Unfinished(ctx context.Context, notChangedSince time.Time, limit int) ([]Job, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+jobColumns+` FROM jobs
		WHERE state IN ('queued', 'running') AND NOT held AND updated_at < $1 ORDER BY updated_at LIMIT $2`,
		notChangedSince, limit)
	if err != nil {
		return nil, translate(err)
	}
	return collect(rows, scanJob)
}

// Touch marks a job as seen by the reconciler so it is not examined again
// before the grace period passes.
func (s *Store) Touch(ctx context.Context, jobID string) error {
	_, err := s.pool.Exec(ctx, `UPDATE jobs SET updated_at = now() WHERE id = $1 AND state IN ('queued', 'running')`, jobID)
	return translate(err)
}
