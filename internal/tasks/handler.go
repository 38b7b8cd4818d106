package tasks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"time"

	"github.com/hibiken/asynq"

	"github.com/presswork/presswork/internal/ai"
	"github.com/presswork/presswork/internal/config"
	"github.com/presswork/presswork/internal/errs"
	"github.com/presswork/presswork/internal/secret"
	"github.com/presswork/presswork/internal/store"
)

// Handlers runs the stages. It holds what every handler needs.
type Handlers struct {
	Store *store.Store
	// Writer and Embedder serve every tenant without providers of its own,
	// with the default prompts; each job adds its tenant's prompt overrides.
	Writer   *ai.Writer
	Embedder ai.Embedder
	// Tenants, if not nil, gives the providers of tenants that bring their
	// own credentials.
	Tenants ProviderSource
	// Image makes the images of every tenant.
	Image ai.ImageModel
	// Box opens the sites' application passwords.
	Box *secret.Box
	// WordPressHTTP is the HTTP client for WordPress sites (one that
	// refuses private addresses unless the operator allows them); nil means
	// http.DefaultClient.
	WordPressHTTP *http.Client
	// CancelCheck is how often a running image job looks whether it was
	// canceled, so that it can cancel its prediction; zero means a second.
	CancelCheck time.Duration
	Costs       config.Costs
	Log         *slog.Logger
	// Enqueuer delivers the jobs an automation run plans.
	Enqueuer *Enqueuer
	// PanelHTTP is the HTTP client for Easypanel; OperatorPanel the
	// operator's panel, for deployments that use it. A deploy waits up to
	// DeployWait for the app to run, looking every DeployPollEvery.
	PanelHTTP       *http.Client
	OperatorPanel   config.EasypanelConfig
	DeployPollEvery time.Duration
	DeployWait      time.Duration
}

// Register adds every handler to mux.
func (h *Handlers) Register(mux *asynq.ServeMux) {
	mux.HandleFunc(TypeCluster, h.wrap(h.cluster))
	mux.HandleFunc(TypeIdeas, h.wrap(h.ideas))
	mux.HandleFunc(TypeDraft, h.wrap(h.draft))
	mux.HandleFunc(TypeImage, h.wrap(h.image))
	mux.HandleFunc(TypePublish, h.wrap(h.publish))
	mux.HandleFunc(TypeCheck, h.wrap(h.checkSite))
	mux.HandleFunc(TypeAutomation, h.wrap(h.runAutomation))
	mux.HandleFunc(TypeDeploy, h.wrap(h.deploySite))
}

// ServerConfig is the asynq server configuration Presswork's workers use.
func ServerConfig(c config.Config, log *slog.Logger) asynq.Config {
	return asynq.Config{
		Concurrency:       c.WorkerConcurrency,
		Queues:            Queues,
		TaskCheckInterval: c.TaskCheckInterval,
		ShutdownTimeout:   c.ShutdownTimeout,
		IsFailure:         func(err error) bool { return !isThrottled(err) },
		RetryDelayFunc:    retryDelay(c.RetryBaseDelay, c.RetryMaxDelay),
		// asynq's default (5 s) would add up to 5 s to every retry.
		DelayedTaskCheckInterval: c.RetryCheckInterval,
		Logger:                   asynqLogger{log},
		LogLevel:                 asynq.WarnLevel,
	}
}

func isThrottled(err error) bool {
	var t *errs.ThrottledError
	return errors.As(err, &t)
}

// retryDelay honours a throttled error's Retry-After and otherwise backs off
// exponentially: base, 2 base, 4 base, ... up to most, each spread by up to
// a quarter either way so that retries of a bulk do not arrive together.
func retryDelay(base, most time.Duration) asynq.RetryDelayFunc {
	return func(n int, err error, _ *asynq.Task) time.Duration {
		var t *errs.ThrottledError
		if errors.As(err, &t) && t.RetryAfter > 0 {
			return t.RetryAfter
		}
		d := most
		if n < 30 && base<<n < most {
			d = base << n
		}
		return d - d/4 + rand.N(d/2+1)
	}
}

type stageFunc func(ctx context.Context, p Payload) error

// wrap turns a stage into an asynq handler that records the outcome on the
// job row: a permanent failure or the last attempt fails the job and refunds
// its credits; any other failure is recorded and retried. A throttled
// attempt is never a failure, not even the last one.
func (h *Handlers) wrap(stage stageFunc) asynq.HandlerFunc {
	return func(ctx context.Context, t *asynq.Task) error {
		var p Payload
		if err := json.Unmarshal(t.Payload(), &p); err != nil || p.JobID == "" || p.TenantID == 0 {
			return fmt.Errorf("task %s: unreadable payload: %w", t.Type(), asynq.SkipRetry)
		}
		log := h.Log.With("task_type", t.Type(), "task_id", p.JobID, "tenant", p.TenantID)
		err := stage(ctx, p)
		if err == nil || errors.Is(err, store.ErrJobFinished) {
			h.releaseNext(ctx, log, p.TenantID)
			return nil
		}
		err = h.recordFailure(ctx, log, p, err)
		if errors.Is(err, asynq.SkipRetry) {
			h.releaseNext(ctx, log, p.TenantID)
		}
		return err
	}
}

// releaseNext puts the tenant's held bulk jobs that now fit on the queue,
// after one of its jobs ended. A failure is logged: the scheduler's
// reconciler releases them on its next pass.
func (h *Handlers) releaseNext(ctx context.Context, log *slog.Logger, tenantID int64) {
	if h.Enqueuer == nil || asynqQueue(ctx) != QueueBulk {
		return
	}
	bg, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	jobs, err := h.Store.ReleaseHeld(bg, tenantID)
	if err == nil && len(jobs) > 0 {
		err = h.Enqueuer.Enqueue(bg, jobs)
	}
	if err != nil {
		log.Warn("releasing held jobs failed; the reconciler will", "error", err)
	}
}

func asynqQueue(ctx context.Context) string {
	q, _ := asynq.GetQueueName(ctx)
	return q
}

func (h *Handlers) recordFailure(ctx context.Context, log *slog.Logger, p Payload, err error) error {
	// The last line of defence: each provider's client scrubs what its
	// remote side said, but what a failure shows (the job's error, the
	// log, asynq's record) must not hold the tenant's own secrets even if
	// one of them missed a field.
	secrets := h.tenantSecrets(p.TenantID)
	err = secret.ScrubError(err, secrets...)
	msg := secret.Scrub(publicMessage(err), secrets...)
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
			msg = gaveUp(attempts(ctx)) + msg
		}
		log.Warn("job failed", "error", err)
		if ferr := h.Store.FailJob(bg, p.TenantID, p.JobID, msg); ferr != nil && !errors.Is(ferr, store.ErrJobFinished) {
			log.Error("recording job failure", "error", ferr)
			return fmt.Errorf("%s: %w", msg, ferr)
		}
		return fmt.Errorf("%s: %w", msg, asynq.SkipRetry)
	}
	log.Info("job attempt failed; will retry", "error", err)
	if rerr := h.Store.RetryLater(bg, p.TenantID, p.JobID, msg); rerr != nil {
		log.Error("recording job retry", "error", rerr)
	}
	if throttled && isLastAttempt(ctx) {
		// asynq archives a task whose retries are used up whatever the
		// error, and counts it as failed. A throttled attempt is not a
		// failure: drop the task instead; the job stays queued in
		// PostgreSQL and the reconciler delivers it again, with its
		// retries renewed, once the grace period has passed.
		log.Info("throttled on the last attempt; the reconciler will deliver the job again")
		return fmt.Errorf("%s: %w", msg, asynq.RevokeTask)
	}
	return err
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
// anything else (whose detail goes to the worker log only). It promises no
// retry: the job's state says whether one will come.
func publicMessage(err error) string {
	var ve *errs.ValidationError
	var ic *errs.InsufficientCreditsError
	var th *errs.ThrottledError
	var re *remoteError
	switch {
	case errors.As(err, &re):
		return re.msg
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
	}
	return "temporary failure (details in the worker log)"
}

// secretNamer is a ProviderSource that also names the secrets a tenant
// brought (its own provider keys), which no failure may show.
type secretNamer interface {
	TenantSecrets(tenantID int64) []string
}

// tenantSecrets returns the tenant's own secrets that Tenants knows, if it
// names them.
func (h *Handlers) tenantSecrets(tenantID int64) []string {
	if n, ok := h.Tenants.(secretNamer); ok {
		return n.TenantSecrets(tenantID)
	}
	return nil
}

// asynqLogger sends asynq's own logs to slog.
type asynqLogger struct{ log *slog.Logger }

func (l asynqLogger) Debug(args ...any) { l.log.Debug(fmt.Sprint(args...), "component", "asynq") }
func (l asynqLogger) Info(args ...any)  { l.log.Info(fmt.Sprint(args...), "component", "asynq") }
func (l asynqLogger) Warn(args ...any)  { l.log.Warn(fmt.Sprint(args...), "component", "asynq") }
func (l asynqLogger) Error(args ...any) { l.log.Error(fmt.Sprint(args...), "component", "asynq") }
func (l asynqLogger) Fatal(args ...any) {
	l.log.Error(fmt.Sprint(args...), "component", "asynq", "fatal", true)
}

// remoteError is a failure of a remote site (WordPress) with the words a
// user reads on the job; the detail goes to the worker log.
type remoteError struct {
	msg string
	err error
}

func (e *remoteError) Error() string { return e.msg + ": " + e.err.Error() }
func (e *remoteError) Unwrap() error { return e.err }
