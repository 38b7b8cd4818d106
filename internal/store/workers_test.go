package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/presswork/presswork/internal/errs"
	"github.com/presswork/presswork/internal/store"
)

// lostAfter is the silence after which the tests' workers are lost.
const lostAfter = 3 * time.Second

// rescue runs RescueLostJobs and returns the ids of the jobs it took.
func rescue(t *testing.T, st *store.Store) []string {
	t.Helper()
	jobs, err := st.RescueLostJobs(t.Context(), lostAfter, 100)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, j := range jobs {
		ids = append(ids, j.ID)
	}
	return ids
}

// startAs starts a job as delivery number of worker.
func startAs(t *testing.T, st *store.Store, tenantID int64, id, worker string, number int) (context.Context, error) {
	t.Helper()
	ctx := store.WithDelivery(t.Context(), store.JobDelivery{Worker: worker, Number: number})
	_, err := st.StartJob(ctx, tenantID, id, "writing")
	return ctx, err
}

func TestRescueLostWorkerFencesItsWrites(t *testing.T) {
	st := newStore(t)
	tn := newTenant(t, st, 100)
	lost, alive, stopped := "w-lost-"+jobID(), "w-alive-"+jobID(), "w-stopped-"+jobID()
	for _, w := range []string{lost, alive, stopped} {
		if err := st.RegisterWorker(t.Context(), w, "host", 1); err != nil {
			t.Fatal(err)
		}
	}
	jLost, jAlive, jStopped := newJob(t, st, tn.ID, typeDraft, 1, 3), newJob(t, st, tn.ID, typeDraft, 2, 3),
		newJob(t, st, tn.ID, typeDraft, 3, 3)
	lostCtx, err := startAs(t, st, tn.ID, jLost.ID, lost, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := startAs(t, st, tn.ID, jAlive.ID, alive, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := startAs(t, st, tn.ID, jStopped.ID, stopped, 0); err != nil {
		t.Fatal(err)
	}
	if got := rescue(t, st); len(got) != 0 {
		t.Fatalf("rescued %v while every worker beats", got)
	}
	for _, w := range []string{lost, stopped} {
		if err := st.AgeWorker(t.Context(), w, "1 minute"); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.StopWorker(t.Context(), stopped); err != nil {
		t.Fatal(err)
	}
	if got := rescue(t, st); len(got) != 1 || got[0] != jLost.ID {
		t.Fatalf("rescued %v, want only %s (the lost worker's; not the beating or the stopped one's)", got, jLost.ID)
	}
	if got := rescue(t, st); len(got) != 0 {
		t.Fatalf("a second rescue took %v again", got)
	}
	j := getJob(t, st, tn.ID, jLost.ID)
	if j.State != store.JobQueued || j.Phase != "worker_lost" || j.Delivery != 1 || derefString(j.ErrorCode) != errs.CodeWorkerLost ||
		derefString(j.LastError) != store.LostWorkerMessage || j.CreditsReserved != 3 {
		t.Fatalf("rescued job = state %s phase %s delivery %d code %v error %v reserved %d",
			j.State, j.Phase, j.Delivery, j.ErrorCode, j.LastError, j.CreditsReserved)
	}

	// The lost worker was only paused: every write it makes now changes
	// nothing.
	wantErrIs(t, "SetPhase of the lost delivery", st.SetPhase(lostCtx, jLost.ID, "saving"), nil)
	wantErrIs(t, "RetryLater of the lost delivery", st.RetryLater(lostCtx, tn.ID, jLost.ID, store.Failure{Message: "x"}),
		store.ErrDeliveryLost)
	wantErrIs(t, "FailJob of the lost delivery", st.FailJob(lostCtx, tn.ID, jLost.ID, store.Failure{Message: "x"}),
		store.ErrDeliveryLost)
	if _, err := st.StartJob(lostCtx, tn.ID, jLost.ID, "writing"); !errors.Is(err, store.ErrDeliveryLost) {
		t.Fatalf("StartJob of the lost delivery = %v, want ErrDeliveryLost", err)
	}

	// The new delivery runs and finishes; the old one cannot finish it.
	newCtx, err := startAs(t, st, tn.ID, jLost.ID, alive, 1)
	if err != nil {
		t.Fatal(err)
	}
	wantErrIs(t, "FinishJob of the lost delivery", st.FinishJob(lostCtx, store.Outcome{TenantID: tn.ID, JobID: jLost.ID, Charged: 3}),
		store.ErrDeliveryLost)
	if j := getJob(t, st, tn.ID, jLost.ID); j.State != store.JobRunning || j.Attempts != 2 || j.Phase != "writing" {
		t.Fatalf("after the lost delivery's writes: state %s, attempts %d, phase %s", j.State, j.Attempts, j.Phase)
	}
	if err := st.FinishJob(newCtx, store.Outcome{TenantID: tn.ID, JobID: jLost.ID, Charged: 3}); err != nil {
		t.Fatal(err)
	}
	if j := getJob(t, st, tn.ID, jLost.ID); j.State != store.JobSucceeded || j.CreditsCharged != 3 {
		t.Fatalf("finished job = %s charged %d", j.State, j.CreditsCharged)
	}
	checkBooks(t, st, tn.ID)
}

// TestWritesWithoutDeliveryAreNotFenced: the API's writes (a cancel) carry
// no delivery and apply whatever the job's delivery number.
func TestWritesWithoutDeliveryAreNotFenced(t *testing.T) {
	st := newStore(t)
	tn := newTenant(t, st, 100)
	w := "w-" + jobID()
	if err := st.RegisterWorker(t.Context(), w, "host", 1); err != nil {
		t.Fatal(err)
	}
	j := newJob(t, st, tn.ID, typeDraft, 1, 3)
	if _, err := startAs(t, st, tn.ID, j.ID, w, 0); err != nil {
		t.Fatal(err)
	}
	if err := st.AgeWorker(t.Context(), w, "1 minute"); err != nil {
		t.Fatal(err)
	}
	rescue(t, st)
	if _, err := st.CancelJob(t.Context(), tn.ID, j.ID); err != nil {
		t.Fatalf("cancel a rescued job: %v", err)
	}
	if got := checkBooks(t, st, tn.ID); got != 100 {
		t.Fatalf("balance after cancel = %d, want 100 (refunded)", got)
	}
}

func derefString(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
