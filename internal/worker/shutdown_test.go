package worker_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/presswork/presswork/internal/ai"
	"github.com/presswork/presswork/internal/app/apptest"
	"github.com/presswork/presswork/internal/jobs"
	"github.com/presswork/presswork/internal/store"
)

// TestShutdownWithJobInFlight stops a worker while a draft is being written
// (the model blocks until the worker gives up on it): the task goes back to
// the queue without counting as a failure, the job is neither failed nor
// refunded, and a new worker completes it with one charge.
func TestShutdownWithJobInFlight(t *testing.T) {
	t.Parallel()
	h := apptest.Start(t, apptest.WithEnv("SHUTDOWN_TIMEOUT", "300ms"))
	st := h.App.Store
	cost := h.App.Config.Costs.Draft
	const opening = 50
	tk, c := h.Tenant(t, "shutdown", opening)
	tenant := tk.Tenant.ID
	seed := apptest.SeedIdeas(t, st, tenant, 1, "shutdown")
	in := h.Inspector(t)

	entered := make(chan struct{})
	var once sync.Once
	blocking := hooked(func(ctx context.Context, req ai.JSONRequest) error {
		if req.Stage != ai.StageDraft {
			return nil
		}
		once.Do(func() { close(entered) })
		<-ctx.Done() // never released: only the worker's shutdown ends the call
		return ctx.Err()
	})
	stop := h.StartWorker(t, offlineWith(blocking))
	id := apptest.DraftJobs(t, c, seed.Ideas[0])[0]
	select {
	case <-entered:
	case <-time.After(30 * time.Second):
		t.Fatal("the worker never started writing the draft")
	}
	if j := apptest.Job(t, st, tenant, id); j.State != store.JobRunning || j.CreditsReserved != cost {
		t.Fatalf("job in flight: state %s, reserved %d; want running with %d reserved", j.State, j.CreditsReserved, cost)
	}

	stop()

	j := apptest.Job(t, st, tenant, id)
	if j.State == store.JobFailed || j.Final() || j.LastError != nil || j.Attempts != 1 {
		t.Errorf("job after the shutdown: state %s, error %q, attempts %d; want unfinished, no error, 1 attempt",
			j.State, apptest.Deref(j.LastError), j.Attempts)
	}
	if got, want := apptest.JobLedger(apptest.Ledger(t, st, tenant), id), "reserve:-3"; got != want {
		t.Errorf("job ledger after the shutdown %q, want %q (no refund)", got, want)
	}
	info := apptest.TaskInfo(t, in, jobs.QueueDefault, id)
	if info == nil || info.State != asynq.TaskStatePending || info.Retried != 0 || info.LastErr != "" {
		t.Errorf("task after the shutdown: %+v, want pending, not retried, no error", info)
	}
	q, err := in.GetQueueInfo(jobs.QueueDefault)
	apptest.Must(t, err, "queue info")
	if q.Failed != 0 || q.FailedTotal != 0 || q.Retry != 0 || q.Archived != 0 {
		t.Errorf("asynq counted the interrupted task as a failure: %+v", q)
	}

	h.StartWorker(t)
	j = apptest.WaitJobState(t, st, tenant, id, store.JobSucceeded)
	if j.CreditsCharged != cost || j.Attempts != 2 {
		t.Errorf("job charged %d in %d attempts, want %d in 2", j.CreditsCharged, j.Attempts, cost)
	}
	entries := apptest.CheckCredits(t, st, tenant, opening-cost)
	if got, want := apptest.JobLedger(entries, id), "reserve:-3"; got != want {
		t.Errorf("job ledger %q, want %q", got, want)
	}
	drafts, err := st.ListDrafts(apptest.Context(t), tenant, seed.Site.ID, store.Page{Limit: 10})
	apptest.Must(t, err, "list drafts")
	if len(drafts) != 1 {
		t.Errorf("%d drafts, want 1", len(drafts))
	}
}
