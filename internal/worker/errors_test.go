package worker_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/presswork/presswork/internal/ai"
	"github.com/presswork/presswork/internal/ai/providers"
	"github.com/presswork/presswork/internal/app/apptest"
	"github.com/presswork/presswork/internal/app/schedulerapp"
	"github.com/presswork/presswork/internal/errs"
	"github.com/presswork/presswork/internal/jobs"
	"github.com/presswork/presswork/internal/secret/secrettest"
	"github.com/presswork/presswork/internal/store"
	"github.com/presswork/presswork/internal/tasks"
	"github.com/presswork/presswork/internal/worker"
)

// TestClassifiedErrors runs draft jobs against a model that fails in each
// of the ways a provider can: permanently (no retry, failed, refunded),
// passingly once (the call is sent again inside the job, which succeeds on
// its first attempt), retryably through all of a call's tries (the
// attempt fails and is retried, then succeeds with one charge), retryably
// on the last attempt (failed, refunded, with a message that does not
// promise a retry) and throttled (retried after Retry-After without
// counting a failure, even on the last attempt).
func TestClassifiedErrors(t *testing.T) {
	t.Parallel()
	h := apptest.Start(t)
	st := h.App.Store
	cost := h.App.Config.Costs.Draft
	const opening = 100
	tk, c := h.Tenant(t, "errors", opening)
	tenant := tk.Tenant.ID
	seed := apptest.SeedIdeas(t, st, tenant, 6, "errs")
	in := h.Inspector(t)
	cl := asynq.NewClient(h.App.Redis)
	t.Cleanup(func() { cl.Close() })

	const (
		permanent = iota
		retryable
		lastAttempt
		throttled
		throttledLast
		passing
	)
	const callTries = 4 // worker.callAttempts
	var calls counter
	model := hooked(func(ctx context.Context, req ai.JSONRequest) error {
		di, ok := req.Input.(ai.DraftInput)
		if !ok {
			return nil
		}
		var which int
		if _, err := fmt.Sscanf(di.Title, "errs idea %d:", &which); err != nil {
			return fmt.Errorf("unexpected draft %q", di.Title)
		}
		n := calls.add(di.Title)
		switch {
		case which == permanent:
			return errs.Permanent(errors.New(`the provider rejected the request: model "gpt-x" does not exist`))
		case which == retryable && n <= callTries, which == lastAttempt, which == passing && n == 1:
			return errors.New("provider answered HTTP 503")
		case (which == throttled || which == throttledLast) && n == 1:
			return &errs.ThrottledError{RetryAfter: time.Hour, Err: errors.New("HTTP 429: rate limit reached")}
		}
		return nil
	})
	h.StartWorker(t, offlineWith(model))
	callsFor := func(i int) int { return calls.get(seed.Ideas[i].Title) }

	// onLastAttempt creates a job without the API and enqueues its task with
	// no retries left.
	onLastAttempt := func(idea store.Idea) string {
		made, err := st.CreateJobs(apptest.Context(t), tenant, "", []store.NewJob{{ID: "last-" + fmt.Sprint(idea.ID), Type: tasks.TypeDraft,
			Queue: jobs.QueueDefault, SiteID: idea.SiteID, SubjectID: idea.ID, Quote: cost}})
		apptest.Must(t, err, "create job")
		task, err := jobs.NewTask(made.Created[0])
		apptest.Must(t, err, "task")
		_, err = cl.Enqueue(task, asynq.MaxRetry(0))
		apptest.Must(t, err, "enqueue")
		return made.Created[0].ID
	}

	t.Run("permanent", func(t *testing.T) {
		id := apptest.DraftJobs(t, c, seed.Ideas[permanent])[0]
		j := apptest.WaitJobState(t, st, tenant, id, store.JobFailed)
		if msg := apptest.Deref(j.LastError); !strings.Contains(msg, `model "gpt-x" does not exist`) {
			t.Errorf("failed job says %q, want the provider's reason", msg)
		}
		info := waitTask(t, in, jobs.QueueDefault, id, asynq.TaskStateArchived)
		if info.Retried != 0 || callsFor(permanent) != 1 || j.Attempts != 1 {
			t.Errorf("permanent error: retried %d, %d model calls, %d attempts; want no retry", info.Retried,
				callsFor(permanent), j.Attempts)
		}
		if got, want := apptest.JobLedger(apptest.Ledger(t, st, tenant), id), "reserve:-3 refund:3"; got != want || j.CreditsCharged != 0 {
			t.Errorf("job charged %d with ledger %q, want 0 and %q", j.CreditsCharged, got, want)
		}
	})

	t.Run("retryable", func(t *testing.T) {
		id := apptest.DraftJobs(t, c, seed.Ideas[retryable])[0]
		info := waitTask(t, in, jobs.QueueDefault, id, asynq.TaskStateRetry)
		if info.Retried != 1 {
			t.Errorf("task after a retryable error: retried %d, want 1 (a counted failure)", info.Retried)
		}
		j := apptest.Job(t, st, tenant, id)
		if j.State != store.JobQueued || j.Phase != "waiting_retry" || j.CreditsReserved != cost || j.LastError == nil {
			t.Errorf("job waiting for its retry: state %s, phase %s, reserved %d, error %q; want queued, waiting_retry, %d kept, a reason",
				j.State, j.Phase, j.CreditsReserved, apptest.Deref(j.LastError), cost)
		}
		// Run the retry now rather than after asynq's back-off.
		apptest.Must(t, in.RunTask(jobs.QueueDefault, id), "run the retry")
		j = apptest.WaitJobState(t, st, tenant, id, store.JobSucceeded)
		if j.Attempts != 2 || j.CreditsCharged != cost || callsFor(retryable) != callTries+1 || j.LastError != nil {
			t.Errorf("job after the retry: %d attempts, charged %d, %d model calls, error %q; want 2, %d, %d, none",
				j.Attempts, j.CreditsCharged, callsFor(retryable), apptest.Deref(j.LastError), cost, callTries+1)
		}
		if got, want := apptest.JobLedger(apptest.Ledger(t, st, tenant), id), "reserve:-3"; got != want {
			t.Errorf("job ledger %q, want %q", got, want)
		}
	})

	t.Run("retryable on the last attempt", func(t *testing.T) {
		id := onLastAttempt(seed.Ideas[lastAttempt])
		j := apptest.WaitJobState(t, st, tenant, id, store.JobFailed)
		if msg := apptest.Deref(j.LastError); !strings.HasPrefix(msg, "gave up after 1 attempt: ") || strings.Contains(msg, "retrying") {
			t.Errorf("failed job says %q, want a reason that says it gave up and promises no retry", msg)
		}
		info := waitTask(t, in, jobs.QueueDefault, id, asynq.TaskStateArchived)
		if callsFor(lastAttempt) != callTries || info.Retried != 0 {
			t.Errorf("%d model calls, retried %d; want %d calls and no retry", callsFor(lastAttempt), info.Retried, callTries)
		}
		if got, want := apptest.JobLedger(apptest.Ledger(t, st, tenant), id), "reserve:-3 refund:3"; got != want {
			t.Errorf("job ledger %q, want %q", got, want)
		}
	})

	t.Run("throttled", func(t *testing.T) {
		id := apptest.DraftJobs(t, c, seed.Ideas[throttled])[0]
		info := waitTask(t, in, jobs.QueueDefault, id, asynq.TaskStateRetry)
		if info.Retried != 0 {
			t.Errorf("throttled task: retried %d, want 0 (not a failure)", info.Retried)
		}
		if wait := time.Until(info.NextProcessAt); wait < 50*time.Minute {
			t.Errorf("throttled task runs again in %s, want the provider's Retry-After of 1h", wait)
		}
		j := apptest.Job(t, st, tenant, id)
		if j.Final() || !strings.Contains(apptest.Deref(j.LastError), "rate limit") {
			t.Errorf("throttled job: state %s, error %q; want unfinished with a rate-limit note", j.State, apptest.Deref(j.LastError))
		}
		apptest.Must(t, in.RunTask(jobs.QueueDefault, id), "run the retry")
		j = apptest.WaitJobState(t, st, tenant, id, store.JobSucceeded)
		if j.CreditsCharged != cost || callsFor(throttled) != 2 {
			t.Errorf("job charged %d after %d model calls, want %d after 2", j.CreditsCharged, callsFor(throttled), cost)
		}
		if got, want := apptest.JobLedger(apptest.Ledger(t, st, tenant), id), "reserve:-3"; got != want {
			t.Errorf("job ledger %q, want %q", got, want)
		}
	})

	t.Run("passing", func(t *testing.T) {
		id := apptest.DraftJobs(t, c, seed.Ideas[passing])[0]
		j := apptest.WaitJobState(t, st, tenant, id, store.JobSucceeded)
		if j.Attempts != 1 || callsFor(passing) != 2 || j.CreditsCharged != cost {
			t.Errorf("job after one passing fault: %d attempts, %d model calls, charged %d; want 1, 2, %d",
				j.Attempts, callsFor(passing), j.CreditsCharged, cost)
		}
	})

	// asynq archives a task with no retries left whatever the error; a
	// throttled last attempt must still not fail the job: the task is
	// dropped, the job stays queued, and the reconciler delivers it again.
	t.Run("throttled on the last attempt", func(t *testing.T) {
		id := onLastAttempt(seed.Ideas[throttledLast])
		var j store.Job
		apptest.Eventually(t, 30*time.Second, "the throttled attempt is recorded", func() (bool, error) {
			j = apptest.Job(t, st, tenant, id)
			return j.Phase == "waiting_retry", nil
		})
		apptest.Eventually(t, 30*time.Second, "asynq lets go of the task", func() (bool, error) {
			return apptest.TaskInfo(t, in, jobs.QueueDefault, id) == nil, nil
		})
		j = apptest.Job(t, st, tenant, id)
		if j.State != store.JobQueued || !strings.Contains(apptest.Deref(j.LastError), "rate limit") || j.CreditsReserved != cost {
			t.Errorf("throttled job: state %s, error %q, reserved %d; want queued with a rate-limit note, %d kept",
				j.State, apptest.Deref(j.LastError), j.CreditsReserved, cost)
		}
		r, closeFn := schedulerapp.NewReconciler(h.App)
		defer closeFn()
		r.Grace = time.Millisecond
		apptest.Eventually(t, 5*time.Second, "the job is older than the grace", func() (bool, error) {
			unfinished, err := st.Unfinished(apptest.Context(t), time.Now().Add(-r.Grace), 10)
			return len(unfinished) == 1, err
		})
		rep, err := r.Once(apptest.Context(t))
		apptest.Must(t, err, "reconcile")
		if rep.Reenqueued != 1 || rep.Failed != 0 {
			t.Errorf("reconciler did %+v, want the job re-enqueued", rep)
		}
		j = apptest.WaitJobState(t, st, tenant, id, store.JobSucceeded)
		if j.CreditsCharged != cost || callsFor(throttledLast) != 2 {
			t.Errorf("job charged %d after %d model calls, want %d after 2", j.CreditsCharged, callsFor(throttledLast), cost)
		}
		if got, want := apptest.JobLedger(apptest.Ledger(t, st, tenant), id), "reserve:-3"; got != want {
			t.Errorf("job ledger %q, want %q", got, want)
		}
	})

	// asynq's daily statistics count the permanent, the retryable and the
	// last-attempt errors as failures, and neither throttled one.
	q, err := in.GetQueueInfo(jobs.QueueDefault)
	apptest.Must(t, err, "queue info")
	if q.Failed != 3 {
		t.Errorf("asynq counted %d failures, want 3 (throttling is not a failure)", q.Failed)
	}
	apptest.CheckCredits(t, st, tenant, opening-4*cost)
}

// secretSource serves a tenant's jobs with its own text model and names
// the key it brought, as the worker's providers.TenantModels does.
type secretSource struct {
	tenantID int64
	model    ai.TextModel
	key      string
}

func (s secretSource) ForTenant(_ context.Context, tenantID int64) (ai.TextModels, bool, error) {
	if tenantID != s.tenantID {
		return ai.TextModels{}, false, nil
	}
	return ai.TextModels{Text: s.model, Embedder: providers.Offline().Embedder}, true, nil
}

func (s secretSource) TenantSecrets(tenantID int64) []string {
	if tenantID != s.tenantID {
		return nil
	}
	return []string{s.key}
}

// TestFailuresHideTheTenantsSecrets is the last line of defence: a
// provider error that still quotes the tenant's own key (in plain, base64
// and URL-escaped forms, as a client that missed a field would pass on)
// reaches neither the job's error, nor the worker log, nor the error handed
// to asynq, on a permanent failure and on a retried one; the failures keep
// their kinds.
func TestFailuresHideTheTenantsSecrets(t *testing.T) {
	t.Parallel()
	h := apptest.Start(t)
	st := h.App.Store
	tk, _ := h.Tenant(t, "secrets", 100)
	tenant := tk.Tenant.ID
	seed := apptest.SeedIdeas(t, st, tenant, 2, "secrets")
	const key = "sk-tenant/Own+Key=0123&abc"
	echo := fmt.Sprintf("invalid key %s (base64 %s, escaped %s)", key,
		base64.StdEncoding.EncodeToString([]byte(key)), url.QueryEscape(key))
	model := hooked(func(ctx context.Context, req ai.JSONRequest) error {
		di, ok := req.Input.(ai.DraftInput)
		if ok && strings.HasPrefix(di.Title, "secrets idea 0:") {
			return errs.Permanent(errors.New("provider refused: " + echo))
		}
		return errors.New("provider failed: " + echo)
	})
	var logs secrettest.LogBuffer
	w, err := ai.NewWriter(providers.Offline().Text)
	apptest.Must(t, err, "writer")
	mux := asynq.NewServeMux()
	worker.Register(mux, worker.Deps{Store: st, Writer: w, Embedder: providers.Offline().Embedder, Costs: h.App.Config.Costs,
		Tenants: secretSource{tenantID: tenant, model: model, key: key},
		Log:     slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})

	for i, wantState := range []string{store.JobFailed, store.JobQueued} {
		made, err := st.CreateJobs(apptest.Context(t), tenant, "", []store.NewJob{{ID: fmt.Sprintf("secret-%d", i), Type: tasks.TypeDraft,
			Queue: jobs.QueueDefault, SiteID: seed.Site.ID, SubjectID: seed.Ideas[i].ID, Quote: h.App.Config.Costs.Draft}})
		apptest.Must(t, err, "create job")
		task, err := jobs.NewTask(made.Created[0])
		apptest.Must(t, err, "task")
		handlerErr := mux.ProcessTask(apptest.Context(t), task)
		if handlerErr == nil {
			t.Fatalf("job %d succeeded, want a failure", i)
		}
		if permanent := errors.Is(handlerErr, asynq.SkipRetry); permanent != (i == 0) {
			t.Errorf("job %d: the handler's error %v skips retries: %v", i, handlerErr, permanent)
		}
		j := apptest.Job(t, st, tenant, made.Created[0].ID)
		if j.State != wantState || j.LastError == nil {
			t.Fatalf("job %d: state %s, error %q; want %s with an error", i, j.State, apptest.Deref(j.LastError), wantState)
		}
		for where, text := range map[string]string{"the job's error": *j.LastError, "the handler's error": handlerErr.Error()} {
			if found := shownForms(text, key); len(found) > 0 {
				t.Errorf("job %d: %s shows the key (as %s): %s", i, where, strings.Join(found, ", "), text)
			}
		}
	}
	out := logs.String()
	if !strings.Contains(out, "job failed") || !strings.Contains(out, "will retry") {
		t.Fatalf("the log lacks the failures; is it captured?\n%s", out)
	}
	if found := shownForms(out, key); len(found) > 0 {
		t.Errorf("the worker log shows the key (as %s):\n%s", strings.Join(found, ", "), out)
	}
}

// shownForms names the forms of key that text shows.
func shownForms(text, key string) []string {
	return secrettest.Leaks(text, secrettest.Forms(key, ""))
}
