package worker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/hibiken/asynq"

	"github.com/presswork/presswork/internal/ai"
	"github.com/presswork/presswork/internal/errs"
	"github.com/presswork/presswork/internal/secret"
	"github.com/presswork/presswork/internal/store"
	"github.com/presswork/presswork/internal/tasks"
)

// outcomeStore records a job's failed attempt.
type outcomeStore interface {
	FailJob(ctx context.Context, tenantID int64, jobID string, f store.Failure) error
	RetryLater(ctx context.Context, tenantID int64, jobID string, f store.Failure) error
}

// finisher is told that one of a tenant's jobs on queue ended.
type finisher interface {
	Finished(ctx context.Context, tenantID int64, queue string)
}

// secretNamer names the secrets a tenant brought (its own provider keys),
// which no failure may show.
type secretNamer interface {
	TenantSecrets(tenantID int64) []string
}

// secretNamerOf is tenants as a secretNamer, or nil if it names no
// secrets.
func secretNamerOf(tenants TenantModels) secretNamer {
	n, _ := tenants.(secretNamer)
	return n
}

// failureNote shows a recorded failure of a job on the object a user looks
// at for it (a publish's draft): final says the job failed for good, else
// it retries as f says.
type failureNote func(ctx context.Context, p tasks.Payload, f store.Failure, final bool) error

// recorder records the outcome of each delivery on the job row.
type recorder struct {
	store outcomeStore
	// jobs, if not nil, is told when a job ended.
	jobs finisher
	// secrets, if not nil, names the tenants' secrets to scrub.
	secrets secretNamer
	// usage, if not nil, records what each attempt spent.
	usage usageStore
	// delay, if not nil, is the back-off of a failed attempt: the recorder
	// plans it, writes it on the job and hands it to asynq (plannedRetry).
	delay asynq.RetryDelayFunc
	// workerID is the worker process's identity, recorded on the jobs it
	// starts (jobs.Rescuer); "" records none.
	workerID string
	log      *slog.Logger
}

// handler turns a stage's work into an asynq handler that records the
// outcome on the job row: a permanent failure or the last attempt fails the
// job and refunds its credits; any other failure is recorded and retried. A
// throttled attempt is never a failure, not even the last one. What the
// attempt spent with each model is recorded whatever its outcome. note, if
// not nil, shows each recorded failure on the job's subject too.
func (r *recorder) handler(work workFunc, note failureNote) asynq.HandlerFunc {
	return func(ctx context.Context, t *asynq.Task) error {
		var p tasks.Payload
		if err := json.Unmarshal(t.Payload(), &p); err != nil || p.JobID == "" || p.TenantID == 0 {
			return fmt.Errorf("task %s: unreadable payload: %w", t.Type(), asynq.SkipRetry)
		}
		log := r.log.With("task_type", t.Type(), "task_id", p.JobID, "tenant", p.TenantID)
		// Every write on the job row names this delivery: a job delivered
		// again while this process was paused is not written twice.
		ctx = store.WithDelivery(ctx, store.JobDelivery{Worker: r.workerID, Number: p.Delivery})
		workCtx, spending := withMeter(ctx, t.Type())
		// A job that succeeds records what this attempt spent with its end,
		// and learns whether its tenant has held jobs to release.
		attempt := &store.Attempt{Number: attempts(ctx), Spending: spending.spending}
		ctx = store.WithAttempt(ctx, attempt)
		err := work(store.WithAttempt(workCtx, attempt), p)
		if !attempt.UsageRecorded() {
			r.recordUsage(ctx, log, p, spending)
		}
		if errors.Is(err, store.ErrDeliveryLost) {
			log.Warn("delivery superseded: the job was delivered again after its worker was taken for lost; this attempt's work is dropped",
				"delivery", p.Delivery)
		}
		if err == nil || errors.Is(err, store.ErrJobFinished) {
			r.finished(ctx, p.TenantID)
			return nil
		}
		err = r.recordFailure(ctx, log, p, err, note)
		if errors.Is(err, asynq.SkipRetry) {
			r.finished(ctx, p.TenantID)
		}
		return err
	}
}

// recordUsage stores what an attempt spent, with a fresh context: the
// task's own may have timed out or been canceled.
func (r *recorder) recordUsage(ctx context.Context, log *slog.Logger, p tasks.Payload, m *meter) {
	entries := m.spending()
	if r.usage == nil || len(entries) == 0 {
		return
	}
	bg, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := r.usage.RecordUsage(bg, p.TenantID, p.JobID, attempts(ctx), entries); err != nil {
		log.Error("recording usage", "error", err, "usage", entries)
	}
}

// finished tells jobs that the task's job ended, so that the tenant's held
// jobs that now fit go on the queue.
func (r *recorder) finished(ctx context.Context, tenantID int64) {
	if r.jobs != nil {
		q, _ := asynq.GetQueueName(ctx)
		r.jobs.Finished(ctx, tenantID, q)
	}
}

func (r *recorder) recordFailure(ctx context.Context, log *slog.Logger, p tasks.Payload, err error, note failureNote) error {
	// The last line of defence: each provider's client scrubs what its
	// remote side said, but what a failure shows (the job's error, the
	// log, asynq's record) must not hold the tenant's own secrets even if
	// one of them missed a field.
	secrets := r.tenantSecrets(p.TenantID)
	err = secret.ScrubError(err, secrets...)
	f := store.Failure{Message: secret.Scrub(publicMessage(err, p.JobID), secrets...), Code: failureCode(err)}
	if errors.Is(err, context.Canceled) && ctx.Err() != nil {
		// The worker is shutting down: asynq puts the task back without
		// counting a failure; the job stays running until it is picked up.
		log.Info("job interrupted by shutdown")
		return err
	}
	// Record with a fresh context: the task's own may have timed out.
	bg, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	throttled := isThrottled(err)
	if errs.IsPermanent(err) || (isLastAttempt(ctx) && !throttled) {
		if !errs.IsPermanent(err) {
			f.Message = gaveUp(attempts(ctx)) + f.Message
		}
		log.Warn("job failed", "error", err, "error_code", f.Code)
		ferr := r.store.FailJob(bg, p.TenantID, p.JobID, f)
		if errors.Is(ferr, store.ErrDeliveryLost) {
			log.Warn("delivery superseded: the job was delivered again after its worker was taken for lost; this attempt's failure is dropped",
				"delivery", p.Delivery)
			return nil
		}
		if ferr != nil && !errors.Is(ferr, store.ErrJobFinished) {
			log.Error("recording job failure", "error", ferr)
			return fmt.Errorf("%s: %w", f.Message, ferr)
		}
		if ferr == nil {
			r.note(bg, log, note, p, f, true)
		}
		return fmt.Errorf("%s: %w", f.Message, asynq.SkipRetry)
	}
	log.Info("job attempt failed; will retry", "error", err, "error_code", f.Code)
	planned := r.planRetry(ctx, err, &f)
	rerr := r.store.RetryLater(bg, p.TenantID, p.JobID, f)
	switch {
	case errors.Is(rerr, store.ErrDeliveryLost):
		log.Warn("delivery superseded: the job was delivered again after its worker was taken for lost; this attempt's failure is dropped",
			"delivery", p.Delivery)
		return nil
	case rerr != nil:
		log.Error("recording job retry", "error", rerr)
	default:
		r.note(bg, log, note, p, f, false)
	}
	if throttled && isLastAttempt(ctx) {
		// asynq archives a task whose retries are used up whatever the
		// error, and counts it as failed. A throttled attempt is not a
		// failure: drop the task instead; the job stays queued in
		// PostgreSQL and the reconciler delivers it again, with its
		// retries renewed, once the grace period has passed.
		log.Info("throttled on the last attempt; the reconciler will deliver the job again")
		return fmt.Errorf("%s: %w", f.Message, asynq.RevokeTask)
	}
	return planned
}

// note shows a recorded failure with note, if any. A failure to show it is
// logged: the job's own record is what counts.
func (r *recorder) note(ctx context.Context, log *slog.Logger, note failureNote, p tasks.Payload, f store.Failure, final bool) {
	if note == nil {
		return
	}
	if err := note(ctx, p, f, final); err != nil {
		log.Error("showing the failure on the job's subject", "error", err)
	}
}

// planRetry decides when a failed attempt is tried again and how many
// retries remain after it (a throttled attempt does not count), notes both
// on f, and returns err carrying the delay for asynq (plannedRetry), so
// that the job row shows the time asynq keeps.
func (r *recorder) planRetry(ctx context.Context, err error, f *store.Failure) error {
	retried, _ := asynq.GetRetryCount(ctx)
	maxRetry, ok := asynq.GetMaxRetry(ctx)
	if ok {
		left := max(maxRetry-retried-1, 0)
		if isThrottled(err) {
			left = max(maxRetry-retried, 0)
		}
		f.RetriesLeft = &left
	}
	if r.delay == nil {
		return err
	}
	d := r.delay(retried, err, nil)
	at := time.Now().Add(d)
	f.RetryAt = &at
	return &plannedRetry{delay: d, err: err}
}

// plannedRetry is a failed attempt's error with the back-off the recorder
// chose; the server's RetryDelayFunc (plannedDelay) uses it.
type plannedRetry struct {
	delay time.Duration
	err   error
}

func (e *plannedRetry) Error() string { return e.err.Error() }
func (e *plannedRetry) Unwrap() error { return e.err }

// failureCode is the stable code of a failure (errs.CodeOf), an AI stage's
// unusable answers being provider_refused.
func failureCode(err error) string {
	if errors.Is(err, ai.ErrUnusableAnswer) {
		return errs.CodeProviderRefused
	}
	return errs.CodeOf(err)
}

// tenantSecrets returns the tenant's own secrets, if secrets names them.
func (r *recorder) tenantSecrets(tenantID int64) []string {
	if r.secrets != nil {
		return r.secrets.TenantSecrets(tenantID)
	}
	return nil
}

func isLastAttempt(ctx context.Context) bool {
	retried, ok1 := asynq.GetRetryCount(ctx)
	maxRetry, ok2 := asynq.GetMaxRetry(ctx)
	return ok1 && ok2 && retried >= maxRetry
}

// attempts is the number of the current attempt, counting from 1.
func attempts(ctx context.Context) int {
	retried, _ := asynq.GetRetryCount(ctx)
	return retried + 1
}

func gaveUp(attempts int) string {
	if attempts == 1 {
		return "gave up after 1 attempt: "
	}
	return fmt.Sprintf("gave up after %d attempts: ", attempts)
}

// publicMessage is the text a user reads on a failed or retrying job: the
// words of errors Presswork wrote for people, and a plain summary of
// anything else (whose detail goes to the worker log, found by the job's
// id). It promises no retry: the job's state says whether one will come.
func publicMessage(err error, jobID string) string {
	var ve *errs.ValidationError
	var ic *errs.InsufficientCreditsError
	var th *errs.ThrottledError
	var re *remoteError
	var um interface{ UserMessage() string }
	msg, coded := errs.MessageOf(err)
	switch {
	case errors.As(err, &re):
		return re.msg
	case coded:
		return msg
	case errors.As(err, &ic):
		return ic.Error()
	case errors.As(err, &th):
		return "the AI provider is rate limiting requests"
	case errors.Is(err, context.DeadlineExceeded):
		return "the job ran past its time limit"
	case errors.Is(err, errs.ErrNotFound):
		return "the item this job works on no longer exists"
	case errors.As(err, &ve), errors.Is(err, errs.ErrPermanent):
		return err.Error()
	case errors.Is(err, errs.ErrUnavailable):
		return "a service Presswork depends on was unavailable"
	case errors.As(err, &um):
		return um.UserMessage()
	}
	return "an unexpected error; the worker log has the details under job " + jobID
}

// remoteError is a failure of a remote site (WordPress, Easypanel) with the
// words a user reads on the job; the detail goes to the worker log.
type remoteError struct {
	msg  string
	code string // errs.Code*; "" leaves it to err
	err  error
}

func (e *remoteError) Error() string { return e.msg + ": " + e.err.Error() }
func (e *remoteError) Unwrap() error { return e.err }

// ErrorCode is the error's own code, if it has one (errs.Coder).
func (e *remoteError) ErrorCode() string {
	if e.code != "" {
		return e.code
	}
	return errs.CodeOf(e.err)
}
