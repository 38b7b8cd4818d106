package jobs

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/hibiken/asynq"

	"github.com/presswork/presswork/internal/store"
)

// Reconciler makes asynq agree with PostgreSQL: a job PostgreSQL says is
// queued or running but asynq no longer holds (Redis lost its data, a task
// was deleted by hand, the API could not reach Redis) is enqueued again
// with its own id; a job whose task asynq archived (retries exhausted while
// the job row could not be updated) is failed and refunded.
type Reconciler struct {
	Store     *store.Store
	Inspector *asynq.Inspector
	Jobs      *Client
	Grace     time.Duration // how long a job may go unchanged before it is examined
	Log       *slog.Logger
	Now       func() time.Time
	// Report, if not nil, is given what each Pass did (to count it in
	// metrics, for example).
	Report func(ReconcileReport, error)
}

// ReconcileReport counts what one pass did.
type ReconcileReport struct {
	Examined, Reenqueued, Failed int
	// Released counts held jobs released because their tenant had room
	// (a worker that ended a job died before it released the next).
	Released int
	// Closed counts batches whose last job ended without closing them
	// (its worker died between the job's commit and the batch's close).
	Closed int
}

// releaseHeld releases the held jobs of every tenant with room.
func (r *Reconciler) releaseHeld(ctx context.Context) (int, error) {
	tenants, err := r.Store.TenantsWithHeld(ctx)
	if err != nil {
		return 0, fmt.Errorf("tenants with held jobs: %w", err)
	}
	released := 0
	for _, t := range tenants {
		n, err := r.Jobs.Release(ctx, t)
		if err != nil {
			return released, fmt.Errorf("release held jobs of tenant %d: %w", t, err)
		}
		released += n
	}
	return released, nil
}

// reconcileBatch bounds the jobs one pass examines.
const reconcileBatch = 1000

// Pass makes one pass, logs what it did and gives it to Report.
func (r *Reconciler) Pass(ctx context.Context) {
	rep, err := r.Once(ctx)
	if r.Report != nil {
		r.Report(rep, err)
	}
	if err != nil {
		r.Log.Warn("reconcile pass failed", "error", err)
	} else if rep.Reenqueued+rep.Failed+rep.Released+rep.Closed > 0 {
		r.Log.Info("reconciled jobs", "examined", rep.Examined, "reenqueued", rep.Reenqueued, "failed", rep.Failed,
			"released", rep.Released, "batches_closed", rep.Closed)
	}
}

// maxReconcileErrors ends a pass after this many jobs in a row could not be
// reconciled: Redis or PostgreSQL is likely down, and the next pass will do.
const maxReconcileErrors = 10

// Once makes one pass over the jobs unchanged for longer than Grace. A job
// that cannot be reconciled (its task cannot be built or inspected) is
// logged, touched so that it waits a grace period before the next try, and
// skipped: it must not hold up the jobs behind it. The error returned then
// counts those jobs and names the first.
func (r *Reconciler) Once(ctx context.Context) (ReconcileReport, error) {
	var rep ReconcileReport
	released, err := r.releaseHeld(ctx)
	rep.Released = released
	if err != nil {
		return rep, err
	}
	if rep.Closed, err = r.Store.CloseFinishedBatches(ctx, reconcileBatch); err != nil {
		return rep, fmt.Errorf("close finished batches: %w", err)
	}
	jobs, err := r.Store.Unfinished(ctx, r.Now().Add(-r.Grace), reconcileBatch)
	if err != nil {
		return rep, fmt.Errorf("list unfinished jobs: %w", err)
	}
	var first error
	failures, inARow := 0, 0
	for _, job := range jobs {
		if inARow == maxReconcileErrors || ctx.Err() != nil {
			break
		}
		rep.Examined++
		action, err := r.reconcile(ctx, job)
		if err != nil {
			r.Log.Warn("cannot reconcile job", "task_id", job.ID, "tenant", job.TenantID, "error", err)
			if terr := r.Store.Touch(ctx, job.ID); terr != nil {
				err = errors.Join(err, terr)
			}
			first = cmp.Or(first, err)
			failures++
			inARow++
			continue
		}
		inARow = 0
		switch action {
		case "reenqueued":
			rep.Reenqueued++
		case "failed":
			rep.Failed++
		}
	}
	if first != nil {
		return rep, fmt.Errorf("%d of %d jobs examined could not be reconciled; first: %w", failures, rep.Examined, first)
	}
	return rep, ctx.Err()
}

func (r *Reconciler) reconcile(ctx context.Context, job store.Job) (string, error) {
	info, err := r.Inspector.GetTaskInfo(job.Queue, TaskID(job))
	switch {
	case (errors.Is(err, asynq.ErrTaskNotFound) || errors.Is(err, asynq.ErrQueueNotFound)) && r.stuck(job):
		return "failed", r.fail(ctx, job, "the job ran past its time limit on its last attempt and was given up")
	case errors.Is(err, asynq.ErrTaskNotFound) || errors.Is(err, asynq.ErrQueueNotFound):
		if err := r.Jobs.enqueue(ctx, []store.Job{job}); err != nil {
			return "", err
		}
		r.Log.Info("re-enqueued a job asynq had lost", "task_id", job.ID, "tenant", job.TenantID)
		return "reenqueued", r.Store.Touch(ctx, job.ID)
	case err != nil:
		return "", fmt.Errorf("inspect task %s: %w", job.ID, err)
	case info.State == asynq.TaskStateArchived:
		msg := "gave up after repeated failures"
		if job.LastError != nil {
			msg += ": " + *job.LastError
		}
		return "failed", r.fail(ctx, job, msg)
	}
	return "alive", r.Store.Touch(ctx, job.ID)
}

// stuck reports whether a running job that asynq no longer holds used its
// last attempt and has not changed for longer than that attempt could
// run: whatever ran it died, and delivering it again would exceed its
// retries.
func (r *Reconciler) stuck(job store.Job) bool {
	sp := specs[job.Type]
	return job.State == store.JobRunning && job.Attempts > sp.maxRetry &&
		job.UpdatedAt.Before(r.Now().Add(-sp.timeout-r.Grace))
}

// fail fails a job and refunds its reservation; a job that finished in
// the meantime is left as it is.
func (r *Reconciler) fail(ctx context.Context, job store.Job, msg string) error {
	err := r.Store.FailJob(ctx, job.TenantID, job.ID, store.Failure{Message: msg})
	if err != nil && !errors.Is(err, store.ErrJobFinished) {
		return err
	}
	r.Log.Info("failed a job that could not finish", "task_id", job.ID, "tenant", job.TenantID, "reason", msg)
	return nil
}
