package store_test

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/presswork/presswork/internal/errs"
	"github.com/presswork/presswork/internal/store"
)

// newBatchedJobs creates n batched draft jobs of quote each on the paced
// queue.
func newBatchedJobs(t *testing.T, st *store.Store, tenantID int64, n int, quote int64) store.JobBatch {
	t.Helper()
	js := make([]store.NewJob, n)
	for i := range js {
		js[i] = store.NewJob{ID: jobID(), Type: typeDraft, Queue: "bulk", SiteID: 1, SubjectID: next(),
			Quote: quote, Batched: true}
	}
	b, err := st.CreateJobs(t.Context(), tenantID, fmt.Sprintf("bulk-%d", next()), js)
	if err != nil {
		t.Fatalf("CreateJobs: %v", err)
	}
	if len(b.Created) != n {
		t.Fatalf("created %d jobs, want %d", len(b.Created), n)
	}
	return b
}

func jobIDs(js []store.Job) []string {
	ids := make([]string, len(js))
	for i, j := range js {
		ids[i] = j.ID
	}
	slices.Sort(ids)
	return ids
}

// Batched jobs are in flight (their quotes reserved, one per subject) but
// never delivered, held or swept by the reconciler.
func TestBatchedJobsWaitOffTheQueue(t *testing.T) {
	st := newStore(t)
	st.Pace("bulk", map[string]int{"pro": 1})
	ctx := t.Context()
	tn := newTenant(t, st, 100)

	made := newBatchedJobs(t, st, tn.ID, 3, 5)
	if len(made.Deliver) != 0 {
		t.Errorf("delivered %v, want none", jobIDs(made.Deliver))
	}
	for _, j := range made.Created {
		if j.State != store.JobBatched || j.Phase != "batched" || j.Held || j.CreditsReserved != 5 {
			t.Errorf("job %s: state %s phase %s held %v reserved %d", j.ID, j.State, j.Phase, j.Held, j.CreditsReserved)
		}
	}
	if got := balance(t, st, tn.ID); got != 85 {
		t.Errorf("balance = %d, want 85", got)
	}
	if c, err := st.Credits(ctx, tn.ID); err != nil || c.Reserved != 15 {
		t.Errorf("Credits = %+v, %v; want 15 reserved", c, err)
	}
	again, err := st.CreateJobs(ctx, tn.ID, "", []store.NewJob{{ID: jobID(), Type: typeDraft, Queue: "default",
		SiteID: 1, SubjectID: made.Created[0].SubjectID, Quote: 5}})
	if err != nil || len(again.Created) != 0 {
		t.Errorf("a second job for a batched subject: %+v, %v; want it skipped", again, err)
	}
	waiting, err := st.BatchedJobs(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(jobIDs(made.Created), jobIDs(waiting)); diff != "" {
		t.Errorf("BatchedJobs (-want +got):\n%s", diff)
	}
	swept, err := st.Unfinished(ctx, time.Now().Add(time.Hour), 10)
	if err != nil || len(swept) != 0 {
		t.Errorf("Unfinished = %v, %v; want none", jobIDs(swept), err)
	}
	held, err := st.ReleaseHeld(ctx, tn.ID)
	if err != nil || len(held) != 0 {
		t.Errorf("ReleaseHeld = %v, %v; want none", jobIDs(held), err)
	}

	// Back from their provider batch, they are paced like new bulk jobs:
	// one delivered (the plan's room), the others held.
	ids := jobIDs(made.Created)
	if _, _, err := st.StartAIBatch(ctx, store.NewAIBatch{ID: fmt.Sprintf("paced-%d", next()), Provider: "openai",
		Model: "gpt-4o-mini"}, ids); err != nil {
		t.Fatal(err)
	}
	waiting, _ = st.BatchedJobs(ctx, 10)
	if len(waiting) != 0 {
		t.Fatalf("still waiting: %v", jobIDs(waiting))
	}
	open, err := st.OpenAIBatches(ctx, 10)
	if err != nil || len(open) != 1 {
		t.Fatalf("OpenAIBatches = %+v, %v", open, err)
	}
	deliver, err := st.UnbatchJobs(ctx, open[0].ID, ids, true)
	if err != nil || len(deliver) != 1 {
		t.Fatalf("UnbatchJobs delivered %v, %v; want 1 of 3", jobIDs(deliver), err)
	}
	heldNow := 0
	for _, id := range ids {
		if j := getJob(t, st, tn.ID, id); j.State == store.JobQueued && j.Held && j.Phase == "held" {
			heldNow++
		}
	}
	if heldNow != 2 {
		t.Errorf("%d jobs held after the batch, want 2", heldNow)
	}
}

func TestAIBatchLifecycle(t *testing.T) {
	st := newStore(t)
	ctx := t.Context()
	tn := newTenant(t, st, 100)
	made := newBatchedJobs(t, st, tn.ID, 3, 5)
	ids := jobIDs(made.Created)

	b, jobs, err := st.StartAIBatch(ctx, store.NewAIBatch{ID: "grp-1", Provider: "openai", Model: "gpt-4o-mini"}, ids[:2])
	if err != nil {
		t.Fatal(err)
	}
	if b.State != store.AIBatchCreating || b.Total != 2 || b.TenantID != nil || len(jobs) != 2 || jobs[0].Phase != "batch_submitting" {
		t.Fatalf("started %+v with %d jobs", b, len(jobs))
	}
	// The jobs are taken: a second batch over them writes nothing.
	_, _, err = st.StartAIBatch(ctx, store.NewAIBatch{ID: "grp-2", Provider: "openai", Model: "gpt-4o-mini"}, ids[:2])
	if !errors.Is(err, errs.ErrConflict) {
		t.Errorf("second StartAIBatch = %v, want ErrConflict", err)
	}
	if _, err := st.GetAIBatch(ctx, "grp-2"); !errors.Is(err, errs.ErrNotFound) {
		t.Errorf("GetAIBatch(grp-2) = %v, want ErrNotFound", err)
	}
	if waiting, _ := st.BatchedJobs(ctx, 10); len(waiting) != 1 || waiting[0].ID != ids[2] {
		t.Errorf("waiting = %v, want [%s]", jobIDs(waiting), ids[2])
	}
	// Only a waiting job goes back to the queue without a provider batch.
	back, err := st.UnbatchWaiting(ctx, ids)
	if err != nil || len(back) != 1 || back[0].ID != ids[2] || back[0].State != store.JobQueued {
		t.Errorf("UnbatchWaiting = %+v, %v; want %s queued", back, err, ids[2])
	}

	if err := st.RecordAIBatchUpload(ctx, "grp-1", "file-1"); err != nil {
		t.Fatal(err)
	}
	if err := st.SubmitAIBatch(ctx, "grp-1", "batch_1"); err != nil {
		t.Fatal(err)
	}
	if err := st.SubmitAIBatch(ctx, "grp-1", "batch_2"); !errors.Is(err, errs.ErrConflict) {
		t.Errorf("second SubmitAIBatch = %v, want ErrConflict", err)
	}
	if err := st.RecordAIBatchStatus(ctx, "grp-1", store.AIBatchStatus{Status: "in_progress", Total: 2, Completed: 1}); err != nil {
		t.Fatal(err)
	}
	open, err := st.OpenAIBatches(ctx, 10)
	if err != nil || len(open) != 1 {
		t.Fatalf("OpenAIBatches = %+v, %v", open, err)
	}
	got := open[0]
	if *got.InputFileID != "file-1" || *got.ProviderBatchID != "batch_1" || *got.ProviderStatus != "in_progress" ||
		got.Completed != 1 || got.State != store.AIBatchSubmitted || got.PolledAt == nil {
		t.Errorf("open batch = %+v", got)
	}
	if j := getJob(t, st, tn.ID, ids[0]); j.Phase != "batch_waiting" {
		t.Errorf("phase = %s, want batch_waiting", j.Phase)
	}

	// A job canceled during the batch is refunded and left out of it.
	if _, err := st.CancelJob(ctx, tn.ID, ids[0]); err != nil {
		t.Fatal(err)
	}
	if got := balance(t, st, tn.ID); got != 90 {
		t.Errorf("balance after cancel = %d, want 90", got)
	}
	if err := st.EndAIBatch(ctx, "grp-1", ""); !errors.Is(err, store.ErrAIBatchBusy) {
		t.Errorf("EndAIBatch with a job batched = %v, want ErrAIBatchBusy", err)
	}
	back, err = st.UnbatchJobs(ctx, "grp-1", ids[:2], true)
	if err != nil {
		t.Fatal(err)
	}
	if len(back) != 1 || back[0].ID != ids[1] || back[0].State != store.JobQueued || back[0].Phase != "batch_answered" {
		t.Errorf("unbatched %+v, want %s queued", back, ids[1])
	}
	if err := st.EndAIBatch(ctx, "grp-1", ""); err != nil {
		t.Fatal(err)
	}
	if err := st.EndAIBatch(ctx, "grp-1", ""); err != nil {
		t.Errorf("EndAIBatch again = %v, want nil", err)
	}
	if open, _ := st.OpenAIBatches(ctx, 10); len(open) != 0 {
		t.Errorf("open after end = %+v", open)
	}
	if err := st.RequestAIBatchCancel(ctx, "grp-1"); !errors.Is(err, errs.ErrConflict) {
		t.Errorf("cancel an ended batch = %v, want ErrConflict", err)
	}
}

func TestLockAIBatchesIsExclusive(t *testing.T) {
	st := newStore(t)
	l, err := st.LockAIBatches(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.LockAIBatches(t.Context()); !errors.Is(err, store.ErrLocked) {
		t.Errorf("second lock = %v, want ErrLocked", err)
	}
	l.Unlock()
	l, err = st.LockAIBatches(t.Context())
	if err != nil {
		t.Fatalf("lock after unlock: %v", err)
	}
	l.Unlock()
}
