package store_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/presswork/presswork/internal/errs"
	"github.com/presswork/presswork/internal/store"
)

func nj(typ string, subject, quote int64) store.NewJob {
	return store.NewJob{ID: jobID(), Type: typ, Queue: "default", SiteID: 1, SubjectID: subject, Quote: quote}
}

func TestCreateJobsRecordsQueuedJobs(t *testing.T) {
	st := newStore(t)
	ctx := t.Context()
	tn := newTenant(t, st, 100)
	in := []store.NewJob{nj(typeDraft, 1, 3), nj(typeDraft, 2, 3), nj(typeIdeas, 1, 1)}
	in[0].Params = json.RawMessage(`{"count":5}`)
	in[1].Queue = "bulk"
	b, err := st.CreateJobs(ctx, tn.ID, "batch-1", in)
	if err != nil {
		t.Fatal(err)
	}
	if b.BatchID != "batch-1" || len(b.Created) != 3 || len(b.Skipped) != 0 {
		t.Fatalf("CreateJobs = %+v", b)
	}
	for i, j := range b.Created {
		if j.ID != in[i].ID || j.State != store.JobQueued || j.Phase != "queued" || j.Attempts != 0 ||
			j.CreditsQuoted != in[i].Quote || j.CreditsReserved != in[i].Quote || j.BatchID == nil || *j.BatchID != "batch-1" ||
			j.TenantID != tn.ID || j.Queue != in[i].Queue || j.Type != in[i].Type || j.SubjectID != in[i].SubjectID {
			t.Fatalf("created[%d] = %+v, from %+v", i, j, in[i])
		}
	}
	var params map[string]int
	if err := json.Unmarshal(getJob(t, st, tn.ID, in[0].ID).Params, &params); err != nil || params["count"] != 5 {
		t.Fatalf("params = %v, %v", params, err)
	}
	if string(getJob(t, st, tn.ID, in[2].ID).Params) != "{}" {
		t.Fatalf("default params = %s", getJob(t, st, tn.ID, in[2].ID).Params)
	}
	sum, err := st.GetBatch(ctx, tn.ID, "batch-1")
	if err != nil || sum.Total != 3 || sum.ByState[store.JobQueued] != 3 || sum.Done != 0 || sum.Type != typeDraft {
		t.Fatalf("GetBatch = %+v, %v", sum, err)
	}
	// Creating jobs reserves their quotes, one ledger row per job.
	if got := checkBooks(t, st, tn.ID); got != 93 {
		t.Fatalf("balance = %d, want 93", got)
	}
	for _, j := range in {
		if l := jobLedger(t, st, tn.ID, j.ID); !slices.Equal(kinds(l), []string{fmt.Sprintf("reserve-%d", j.Quote)}) {
			t.Fatalf("ledger of %s = %v", j.ID, kinds(l))
		}
	}
	list, err := st.ListJobs(ctx, tn.ID, store.JobFilter{BatchID: "batch-1", Type: typeDraft}, "", 10)
	if err != nil || len(list) != 2 {
		t.Fatalf("ListJobs(batch, draft) = %d jobs, %v", len(list), err)
	}

	// No jobs: nothing to do, nothing written.
	b, err = st.CreateJobs(ctx, tn.ID, "", nil)
	if err != nil || len(b.Created) != 0 {
		t.Fatalf("CreateJobs(nil) = %+v, %v", b, err)
	}
	b, err = st.CreateJobs(ctx, tn.ID, "batch-empty", nil)
	if err != nil || len(b.Created) != 0 {
		t.Fatalf("CreateJobs(batch, nil) = %+v, %v", b, err)
	}
}

func TestCreateJobsAffordability(t *testing.T) {
	st := newStore(t)
	ctx := t.Context()
	tn := newTenant(t, st, 10)

	first := newJob(t, st, tn.ID, typeDraft, 1, 6)

	// 6 of 10 are promised to the queued job: 4 remain.
	_, err := st.CreateJobs(ctx, tn.ID, "b1", []store.NewJob{nj(typeDraft, 2, 3), nj(typeDraft, 3, 2)})
	wantInsufficient(t, "quotes above the balance less queued quotes", err, 5, 4)
	if errs.IsPermanent(err) != true {
		t.Fatalf("IsPermanent(%v) = false", err)
	}
	// Nothing was written: no jobs, no batch.
	if list, _ := st.ListJobs(ctx, tn.ID, store.JobFilter{}, "", 10); len(list) != 1 {
		t.Fatalf("refused CreateJobs left %d jobs, want 1", len(list))
	}
	_, err = st.GetBatch(ctx, tn.ID, "b1")
	wantErrIs(t, "batch of refused CreateJobs", err, errs.ErrNotFound)

	// Once the first job reserved its cost it no longer counts as a quote,
	// but the balance went down by as much: still 4 available.
	startJob(t, st, tn.ID, first.ID)
	_, err = st.CreateJobs(ctx, tn.ID, "", []store.NewJob{nj(typeDraft, 2, 5)})
	wantInsufficient(t, "after the reservation", err, 5, 4)

	// Exactly what is available is accepted.
	newJob(t, st, tn.ID, typeDraft, 2, 4)
	_, err = st.CreateJobs(ctx, tn.ID, "", []store.NewJob{nj(typeDraft, 3, 1)})
	wantInsufficient(t, "nothing left", err, 1, 0)

	// Jobs quoted at nothing are always accepted.
	newJob(t, st, tn.ID, typeDraft, 3, 0)

	// A job waiting for a retry keeps its reservation and is not counted twice.
	if err := st.RetryLater(ctx, tn.ID, first.ID, store.Failure{Message: "timeout"}); err != nil {
		t.Fatal(err)
	}
	_, err = st.CreateJobs(ctx, tn.ID, "", []store.NewJob{nj(typeDraft, 4, 1)})
	wantInsufficient(t, "with a job waiting for a retry", err, 1, 0)

	// A refund makes room again.
	if err := st.FailJob(ctx, tn.ID, first.ID, store.Failure{Message: "gave up"}); err != nil {
		t.Fatal(err)
	}
	newJob(t, st, tn.ID, typeDraft, 4, 6)
	checkBooks(t, st, tn.ID)
}

func TestCreateJobsSkipsWorkInFlight(t *testing.T) {
	st := newStore(t)
	ctx := t.Context()
	tn := newTenant(t, st, 10)
	a := newJob(t, st, tn.ID, typeDraft, 1, 5)

	// The same (type, subject) as a queued job is skipped, and skipped jobs
	// are not charged against the balance: 5 + 5 would not fit otherwise.
	dup, other, sameSubjectOtherType := nj(typeDraft, 1, 5), nj(typeDraft, 2, 2), nj(typeIdeas, 1, 1)
	twice := nj(typeDraft, 2, 2) // twice in one request: the second is skipped
	b, err := st.CreateJobs(ctx, tn.ID, "batch", []store.NewJob{dup, other, sameSubjectOtherType, twice})
	if err != nil {
		t.Fatal(err)
	}
	created := make([]string, len(b.Created))
	for i, j := range b.Created {
		created[i] = j.ID
	}
	slices.Sort(created)
	wantCreated := []string{other.ID, sameSubjectOtherType.ID}
	slices.Sort(wantCreated)
	if !slices.Equal(created, wantCreated) {
		t.Fatalf("created %v, want %v", created, wantCreated)
	}
	if len(b.Skipped) != 2 || b.Skipped[0].ID != dup.ID || b.Skipped[1].ID != twice.ID {
		t.Fatalf("skipped %+v, want %s and %s", b.Skipped, dup.ID, twice.ID)
	}
	if sum, err := st.GetBatch(ctx, tn.ID, "batch"); err != nil || sum.Total != 2 {
		t.Fatalf("batch total = %+v, %v; want 2", sum, err)
	}

	// Everything skipped: no error, nothing created, not even a quote check.
	b, err = st.CreateJobs(ctx, tn.ID, "", []store.NewJob{nj(typeDraft, 1, 100)})
	if err != nil || len(b.Created) != 0 || len(b.Skipped) != 1 {
		t.Fatalf("all skipped: %+v, %v", b, err)
	}

	// A retried request (same job id) is skipped, even once the job is running.
	startJob(t, st, tn.ID, a.ID)
	retry := store.NewJob{ID: a.ID, Type: typeDraft, Queue: "default", SiteID: 1, SubjectID: 1, Quote: 5}
	b, err = st.CreateJobs(ctx, tn.ID, "", []store.NewJob{retry})
	if err != nil || len(b.Created) != 0 || len(b.Skipped) != 1 {
		t.Fatalf("retry of a running job: %+v, %v", b, err)
	}
	if j := getJob(t, st, tn.ID, a.ID); j.State != store.JobRunning || j.CreditsReserved != 5 {
		t.Fatalf("job after a retried create = %+v", j)
	}

	// Once the job is final the same work may be asked for again.
	if err := st.FailJob(ctx, tn.ID, a.ID, store.Failure{Message: "boom"}); err != nil {
		t.Fatal(err)
	}
	again := newJob(t, st, tn.ID, typeDraft, 1, 5)
	if again.ID == a.ID {
		t.Fatal("same id")
	}
	// A job id taken by a final job stays taken.
	b, err = st.CreateJobs(ctx, tn.ID, "", []store.NewJob{{ID: a.ID, Type: typeDraft, Queue: "default", SubjectID: 99}})
	if err != nil || len(b.Created) != 0 {
		t.Fatalf("reuse of a final job's id: %+v, %v", b, err)
	}
	checkBooks(t, st, tn.ID)
}

// TestCreateJobsConcurrentQuotes: requests racing for the same credits
// cannot together be promised more than the balance.
func TestCreateJobsConcurrentQuotes(t *testing.T) {
	st := newStore(t)
	tn := newTenant(t, st, 5)
	const n = 12
	var wg sync.WaitGroup
	results := make([]error, n)
	for i := range n {
		wg.Go(func() {
			_, results[i] = st.CreateJobs(t.Context(), tn.ID, "", []store.NewJob{nj(typeDraft, int64(100+i), 1)})
		})
	}
	wg.Wait()
	ok := 0
	for _, err := range results {
		var ic *errs.InsufficientCreditsError
		switch {
		case err == nil:
			ok++
		case errors.As(err, &ic):
		default:
			t.Errorf("CreateJobs: %v", err)
		}
	}
	if ok != 5 {
		t.Fatalf("%d requests of 1 credit accepted with 5 credits, want 5", ok)
	}
	// The accepted jobs reserved their quotes when they were created.
	c, err := st.Credits(t.Context(), tn.ID)
	if err != nil || c.Reserved != 5 || c.Balance != 0 {
		t.Fatalf("Credits = %+v, %v", c, err)
	}
}

func TestStartJobReservesOnce(t *testing.T) {
	st := newStore(t)
	ctx := t.Context()
	tn := newTenant(t, st, 10)
	j := newJob(t, st, tn.ID, typeDraft, 1, 5) // reserves its quote
	if j.CreditsReserved != 5 || balance(t, st, tn.ID) != 5 {
		t.Fatalf("created job reserved %d, balance %d; want 5 and 5", j.CreditsReserved, balance(t, st, tn.ID))
	}

	got := startJob(t, st, tn.ID, j.ID)
	if got.State != store.JobRunning || got.Phase != "working" || got.Attempts != 1 || got.CreditsReserved != 5 || got.StartedAt == nil {
		t.Fatalf("first start = %+v", got)
	}
	if b := balance(t, st, tn.ID); b != 5 {
		t.Fatalf("balance %d, want 5", b)
	}
	// A duplicate delivery, even asking another cost, does not reserve again.
	again, err := st.StartJobCosting(ctx, tn.ID, j.ID, 3, "again")
	if err != nil {
		t.Fatal(err)
	}
	if again.Attempts != 2 || again.CreditsReserved != 5 || again.Phase != "again" || !again.StartedAt.Equal(*got.StartedAt) {
		t.Fatalf("second start = %+v", again)
	}
	if b := balance(t, st, tn.ID); b != 5 {
		t.Fatalf("balance after second start %d, want 5", b)
	}
	if l := jobLedger(t, st, tn.ID, j.ID); !slices.Equal(kinds(l), []string{"reserve-5"}) {
		t.Fatalf("job ledger = %v", kinds(l))
	}
	// The stored row says the same.
	if row := getJob(t, st, tn.ID, j.ID); row.State != store.JobRunning || row.Attempts != 2 || row.CreditsReserved != 5 {
		t.Fatalf("stored job = %+v", row)
	}

	// A job without a quote (its cost is decided when it starts) reserves
	// the cost it starts with; zero reserves nothing.
	k := newJob(t, st, tn.ID, typeDraft, 2, 0)
	if got := startJobCosting(t, st, tn.ID, k.ID, 4); got.CreditsReserved != 4 {
		t.Fatalf("start with cost 4 reserved %d", got.CreditsReserved)
	}
	z := newJob(t, st, tn.ID, typeDraft, 3, 0)
	if got := startJobCosting(t, st, tn.ID, z.ID, 0); got.CreditsReserved != 0 || got.State != store.JobRunning {
		t.Fatalf("start with cost 0 = %+v", got)
	}
	if err := st.SetPhase(ctx, z.ID, "writing"); err != nil {
		t.Fatal(err)
	}
	if got := getJob(t, st, tn.ID, z.ID); got.Phase != "writing" {
		t.Fatalf("phase = %q", got.Phase)
	}
	if b := checkBooks(t, st, tn.ID); b != 1 {
		t.Fatalf("balance %d, want 1", b)
	}
	_, err = st.StartJob(ctx, tn.ID, "no-such-job", "x")
	wantErrIs(t, "StartJob unknown", err, errs.ErrNotFound)
	n := newJob(t, st, tn.ID, typeDraft, 4, 0)
	if _, err := st.StartJobCosting(ctx, tn.ID, n.ID, -1, "x"); err == nil {
		t.Fatal("StartJobCosting with a negative cost succeeded")
	}
	if got := getJob(t, st, tn.ID, n.ID); got.State != store.JobQueued || got.Attempts != 0 {
		t.Fatalf("job after a negative cost = %+v", got)
	}
}

func TestStartJobInsufficientChangesNothing(t *testing.T) {
	st := newStore(t)
	ctx := t.Context()
	tn := newTenant(t, st, 10)
	j := newJob(t, st, tn.ID, typeDraft, 1, 0) // its cost is decided when it starts
	if _, err := st.GrantCredits(ctx, tn.ID, -8, "spent elsewhere"); err != nil {
		t.Fatal(err)
	}
	before := ledger(t, st, tn.ID)

	_, err := st.StartJobCosting(ctx, tn.ID, j.ID, 5, "working")
	wantInsufficient(t, "StartJobCosting", err, 5, 2)
	if !errs.IsPermanent(err) {
		t.Fatalf("IsPermanent(%v) = false", err)
	}
	got := getJob(t, st, tn.ID, j.ID)
	if got.State != store.JobQueued || got.Attempts != 0 || got.CreditsReserved != 0 || got.StartedAt != nil || got.Phase != "queued" {
		t.Fatalf("job after refused start = %+v", got)
	}
	if b := balance(t, st, tn.ID); b != 2 {
		t.Fatalf("balance %d, want 2", b)
	}
	if after := ledger(t, st, tn.ID); len(after) != len(before) {
		t.Fatalf("ledger changed: %v -> %v", kinds(before), kinds(after))
	}
}

func TestStartJobSuspendedTenant(t *testing.T) {
	st := newStore(t)
	ctx := t.Context()
	tn := newTenant(t, st, 10)
	j := newJob(t, st, tn.ID, typeDraft, 1, 5)
	if s, err := st.SetTenantStatus(ctx, tn.ID, "suspended"); err != nil || s.Status != "suspended" {
		t.Fatalf("SetTenantStatus = %+v, %v", s, err)
	}
	_, err := st.StartJob(ctx, tn.ID, j.ID, "working")
	wantErrIs(t, "StartJob for a suspended tenant", err, errs.ErrPermanent)
	// The job keeps the reservation it made when it was queued (failing it
	// would refund it).
	if got := getJob(t, st, tn.ID, j.ID); got.State != store.JobQueued || got.Attempts != 0 || got.CreditsReserved != 5 {
		t.Fatalf("job = %+v", got)
	}
	if b := checkBooks(t, st, tn.ID); b != 5 {
		t.Fatalf("balance %d, want 5", b)
	}
	// A job that reserves when it starts is refused as well, reserving nothing.
	k := newJob(t, st, tn.ID, typeDraft, 2, 0)
	_, err = st.StartJobCosting(ctx, tn.ID, k.ID, 2, "working")
	wantErrIs(t, "StartJobCosting for a suspended tenant", err, errs.ErrPermanent)
	if b := checkBooks(t, st, tn.ID); b != 5 {
		t.Fatalf("balance %d, want 5", b)
	}
	// Reactivated, the same job runs.
	if _, err := st.SetTenantStatus(ctx, tn.ID, "active"); err != nil {
		t.Fatal(err)
	}
	startJob(t, st, tn.ID, j.ID)
	_, err = st.SetTenantStatus(ctx, tn.ID+1000, "active")
	wantErrIs(t, "SetTenantStatus unknown", err, errs.ErrNotFound)
}

func TestFinishSettlesAndRefundsUnused(t *testing.T) {
	st := newStore(t)
	ctx := t.Context()
	w := newWorld(t, st) // 100 credits; cluster 1, ideas 1, draft 3: all charged in full
	tid := w.tenant.ID
	if b := checkBooks(t, st, tid); b != 95 {
		t.Fatalf("balance after the world = %d, want 95", b)
	}
	for _, id := range w.jobs {
		j := getJob(t, st, tid, id)
		if j.State != store.JobSucceeded || j.Phase != "completed" || j.CreditsCharged != j.CreditsReserved || j.FinishedAt == nil {
			t.Fatalf("job %s = %+v", id, j)
		}
		if l := jobLedger(t, st, tid, id); len(l) != 1 || l[0].Kind != "reserve" {
			t.Fatalf("fully charged job %s ledger = %v", id, kinds(l))
		}
	}

	// A draft charged less than reserved: the rest is settled back.
	j := newJob(t, st, tid, typeDraft, w.idea.ID, 5)
	startJob(t, st, tid, j.ID)
	o := store.Outcome{TenantID: tid, JobID: j.ID, Charged: 2, Model: "gpt-x", TokensIn: 100, TokensOut: 50,
		CostUSD: 0.0125, Result: map[string]int{"words": 900}}
	d := store.Draft{Title: "Rewritten", Slug: "rewritten", Excerpt: "e", MetaTitle: "mt", MetaDescription: "md",
		FocusKeyword: "shoes", BodyHTML: "<p>new</p>", WordCount: 900}
	if err := st.SaveDraft(ctx, o, w.idea, d); err != nil {
		t.Fatal(err)
	}
	got := getJob(t, st, tid, j.ID)
	if got.State != store.JobSucceeded || got.CreditsCharged != 2 || got.CreditsReserved != 5 || got.Model == nil ||
		*got.Model != "gpt-x" || got.TokensIn != 100 || got.TokensOut != 50 || got.CostUSD != 0.0125 || got.LastError != nil {
		t.Fatalf("finished job = %+v", got)
	}
	var result map[string]int
	if err := json.Unmarshal(got.Result, &result); err != nil || result["words"] != 900 {
		t.Fatalf("result = %s, %v", got.Result, err)
	}
	if l := jobLedger(t, st, tid, j.ID); !slices.Equal(kinds(l), []string{"reserve-5", "settle+3"}) {
		t.Fatalf("job ledger = %v", kinds(l))
	}
	if b := checkBooks(t, st, tid); b != 93 {
		t.Fatalf("balance %d, want 93", b)
	}
	// The draft of the idea was replaced, not duplicated.
	dr, err := st.GetDraft(ctx, tid, w.draft.ID)
	if err != nil || dr.Title != "Rewritten" || dr.BodyHTML != "<p>new</p>" || dr.JobID != j.ID || dr.WordCount != 900 {
		t.Fatalf("draft = %+v, %v", dr, err)
	}
	if ds, _ := st.ListDrafts(ctx, tid, 0, store.Page{Limit: 10}); len(ds) != 1 || ds[0].BodyHTML != "" {
		t.Fatalf("ListDrafts = %+v (want one, without body)", ds)
	}

	// Charging more than reserved charges the reservation only.
	k := newJob(t, st, tid, typeIdeas, w.cluster.ID, 2)
	startJob(t, st, tid, k.ID)
	if err := st.SaveIdeas(ctx, store.Outcome{TenantID: tid, JobID: k.ID, Charged: 50}, w.cluster,
		[]store.NewIdea{{Title: "Second", ContentType: "guide", TargetKeywords: []string{"trail shoes"}}}); err != nil {
		t.Fatal(err)
	}
	if got := getJob(t, st, tid, k.ID); got.CreditsCharged != 2 {
		t.Fatalf("charged %d, want 2", got.CreditsCharged)
	}
	if b := checkBooks(t, st, tid); b != 91 {
		t.Fatalf("balance %d, want 91", b)
	}
	titles, err := st.IdeaTitles(ctx, tid, w.cluster.ID)
	if err != nil || !slices.Equal(titles, []string{"Best running shoes", "Second"}) {
		t.Fatalf("IdeaTitles = %v, %v", titles, err)
	}
	without, err := st.ListIdeas(ctx, tid, store.IdeaFilter{WithoutDraft: true}, store.Page{Limit: 10})
	if err != nil || len(without) != 1 || without[0].Title != "Second" || without[0].DraftID != nil {
		t.Fatalf("ListIdeas(without draft) = %+v, %v", without, err)
	}
	idea, err := st.GetIdea(ctx, tid, w.idea.ID)
	if err != nil || idea.DraftID == nil || *idea.DraftID != w.draft.ID || len(idea.Outline) != 1 || idea.Outline[0].Text != "Why" {
		t.Fatalf("GetIdea = %+v, %v", idea, err)
	}

	// A finished job is final: a duplicate delivery does nothing.
	ideasBefore, _ := st.ListIdeas(ctx, tid, store.IdeaFilter{}, store.Page{Limit: 10})
	err = st.SaveIdeas(ctx, store.Outcome{TenantID: tid, JobID: k.ID, Charged: 2}, w.cluster,
		[]store.NewIdea{{Title: "Duplicate", ContentType: "guide"}})
	wantErrIs(t, "SaveIdeas on a finished job", err, store.ErrJobFinished)
	if ideasAfter, _ := st.ListIdeas(ctx, tid, store.IdeaFilter{}, store.Page{Limit: 10}); len(ideasAfter) != len(ideasBefore) {
		t.Fatalf("a refused SaveIdeas stored ideas: %d -> %d", len(ideasBefore), len(ideasAfter))
	}
	err = st.SaveDraft(ctx, o, w.idea, store.Draft{Title: "Late duplicate"})
	wantErrIs(t, "SaveDraft on a finished job", err, store.ErrJobFinished)
	if dr, _ := st.GetDraft(ctx, tid, w.draft.ID); dr.Title != "Rewritten" {
		t.Fatalf("a refused SaveDraft changed the draft: %q", dr.Title)
	}
	_, err = st.StartJob(ctx, tid, j.ID, "again")
	wantErrIs(t, "StartJob on a succeeded job", err, store.ErrJobFinished)
	wantErrIs(t, "FailJob on a succeeded job", st.FailJob(ctx, tid, j.ID, store.Failure{Message: "late"}), store.ErrJobFinished)
	_, err = st.CancelJob(ctx, tid, j.ID)
	wantErrIs(t, "CancelJob on a succeeded job", err, errs.ErrConflict)
	if err := st.RetryLater(ctx, tid, j.ID, store.Failure{Message: "late"}); err != nil {
		t.Fatal(err)
	}
	if got := getJob(t, st, tid, j.ID); got.State != store.JobSucceeded || got.LastError != nil {
		t.Fatalf("RetryLater changed a finished job: %+v", got)
	}
	if b := checkBooks(t, st, tid); b != 91 {
		t.Fatalf("balance %d, want 91", b)
	}

	// A job that was never started cannot be finished.
	q := newJob(t, st, tid, typeDraft, w.idea.ID, 1)
	err = st.SaveDraft(ctx, store.Outcome{TenantID: tid, JobID: q.ID, Charged: 1}, w.idea, store.Draft{Title: "Early"})
	wantErrIs(t, "SaveDraft on a queued job", err, store.ErrJobFinished)
}

func TestSaveClustersAssignsKeywords(t *testing.T) {
	st := newStore(t)
	ctx := t.Context()
	tn := newTenant(t, st, 10)
	site := newSite(t, st, tn.ID)
	importKeywords(t, st, tn.ID, site.ID, "a", "b", "c", "d")
	kws := keywords(t, st, tn.ID, site.ID, store.KeywordFilter{})

	first := newJob(t, st, tn.ID, typeCluster, site.ID, 2)
	startJob(t, st, tn.ID, first.ID)
	err := st.SaveClusters(ctx, store.Outcome{TenantID: tn.ID, JobID: first.ID, Charged: 1}, site.ID, []store.NewCluster{
		{Name: "AB", Description: "a and b", KeywordIDs: []int64{kws[0].ID, kws[1].ID}},
		{Name: "C", Description: "c", KeywordIDs: []int64{kws[2].ID}},
	})
	if err != nil {
		t.Fatal(err)
	}
	cs, err := st.ListClusters(ctx, tn.ID, site.ID, store.Page{Limit: 10})
	if err != nil || len(cs) != 2 || cs[0].Name != "AB" || cs[0].KeywordCount != 2 || cs[0].JobID != first.ID {
		t.Fatalf("ListClusters = %+v, %v", cs, err)
	}
	ck, err := st.ClusterKeywords(ctx, tn.ID, cs[0].ID)
	if err != nil || len(ck) != 2 {
		t.Fatalf("ClusterKeywords = %+v, %v", ck, err)
	}
	if n, err := st.CountUnclustered(ctx, tn.ID, site.ID); err != nil || n != 1 {
		t.Fatalf("CountUnclustered = %d, %v", n, err)
	}
	if l := jobLedger(t, st, tn.ID, first.ID); !slices.Equal(kinds(l), []string{"reserve-2", "settle+1"}) {
		t.Fatalf("ledger = %v", kinds(l))
	}

	// A keyword another job clustered meanwhile stays where it is.
	second := newJob(t, st, tn.ID, typeCluster, site.ID, 0)
	startJobCosting(t, st, tn.ID, second.ID, 0)
	err = st.SaveClusters(ctx, store.Outcome{TenantID: tn.ID, JobID: second.ID}, site.ID, []store.NewCluster{
		{Name: "AD", Description: "a and d", KeywordIDs: []int64{kws[0].ID, kws[3].ID}},
	})
	if err != nil {
		t.Fatal(err)
	}
	got := keywords(t, st, tn.ID, site.ID, store.KeywordFilter{})
	if *got[0].ClusterID != cs[0].ID || got[3].ClusterID == nil || *got[3].ClusterID == cs[0].ID {
		t.Fatalf("keywords after the second clustering: %+v", got)
	}
	byID, err := st.ClustersByIDs(ctx, tn.ID, []int64{cs[1].ID, cs[0].ID, 999999})
	if err != nil || len(byID) != 2 || byID[0].ID != cs[0].ID {
		t.Fatalf("ClustersByIDs = %+v, %v", byID, err)
	}
	checkBooks(t, st, tn.ID)
}

func TestFailJobRefundsOnce(t *testing.T) {
	st := newStore(t)
	ctx := t.Context()
	tn := newTenant(t, st, 10)
	j := newJob(t, st, tn.ID, typeDraft, 1, 4)
	startJob(t, st, tn.ID, j.ID)
	if err := st.FailJob(ctx, tn.ID, j.ID, store.Failure{Message: "provider said no"}); err != nil {
		t.Fatal(err)
	}
	wantErrIs(t, "second FailJob", st.FailJob(ctx, tn.ID, j.ID, store.Failure{Message: "again"}), store.ErrJobFinished)
	got := getJob(t, st, tn.ID, j.ID)
	if got.State != store.JobFailed || got.LastError == nil || *got.LastError != "provider said no" || got.CreditsCharged != 0 || got.FinishedAt == nil {
		t.Fatalf("failed job = %+v", got)
	}
	if l := jobLedger(t, st, tn.ID, j.ID); !slices.Equal(kinds(l), []string{"reserve-4", "refund+4"}) {
		t.Fatalf("job ledger = %v", kinds(l))
	}
	if b := checkBooks(t, st, tn.ID); b != 10 {
		t.Fatalf("balance %d, want 10", b)
	}

	// A queued job without a reservation fails without a refund.
	q := newJob(t, st, tn.ID, typeDraft, 2, 0)
	if err := st.FailJob(ctx, tn.ID, q.ID, store.Failure{Message: "bad input"}); err != nil {
		t.Fatal(err)
	}
	if got := getJob(t, st, tn.ID, q.ID); got.State != store.JobFailed {
		t.Fatalf("state %s", got.State)
	}
	if l := jobLedger(t, st, tn.ID, q.ID); len(l) != 0 {
		t.Fatalf("ledger of an unreserved failed job = %v", kinds(l))
	}
	if b := checkBooks(t, st, tn.ID); b != 10 {
		t.Fatalf("balance %d, want 10", b)
	}
	wantErrIs(t, "FailJob unknown", st.FailJob(ctx, tn.ID, "no-such-job", store.Failure{Message: "x"}), store.ErrJobFinished)
}

func TestCancelJob(t *testing.T) {
	st := newStore(t)
	ctx := t.Context()
	tn := newTenant(t, st, 10)
	other := newTenant(t, st, 10)
	q := newJob(t, st, tn.ID, typeDraft, 1, 4)

	_, err := st.CancelJob(ctx, other.ID, q.ID)
	wantErrIs(t, "CancelJob by another tenant", err, errs.ErrNotFound)

	got, err := st.CancelJob(ctx, tn.ID, q.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != store.JobCanceled || got.Phase != store.JobCanceled || got.FinishedAt == nil || got.LastError == nil {
		t.Fatalf("canceled job = %+v", got)
	}
	_, err = st.CancelJob(ctx, tn.ID, q.ID)
	wantErrIs(t, "second CancelJob", err, errs.ErrConflict)
	// The quote it reserved when it was queued is refunded.
	if l := jobLedger(t, st, tn.ID, q.ID); !slices.Equal(kinds(l), []string{"reserve-4", "refund+4"}) {
		t.Fatalf("ledger of a canceled queued job = %v", kinds(l))
	}
	if b := checkBooks(t, st, tn.ID); b != 10 {
		t.Fatalf("balance %d, want 10", b)
	}
	// The subject is free for new work again.
	again := newJob(t, st, tn.ID, typeDraft, 1, 4)
	if _, err := st.CancelJob(ctx, tn.ID, again.ID); err != nil {
		t.Fatal(err)
	}

	// A running job's reservation is refunded.
	r := newJob(t, st, tn.ID, typeDraft, 2, 3)
	startJob(t, st, tn.ID, r.ID)
	if _, err := st.CancelJob(ctx, tn.ID, r.ID); err != nil {
		t.Fatal(err)
	}
	if l := jobLedger(t, st, tn.ID, r.ID); !slices.Equal(kinds(l), []string{"reserve-3", "refund+3"}) {
		t.Fatalf("job ledger = %v", kinds(l))
	}
	if b := checkBooks(t, st, tn.ID); b != 10 {
		t.Fatalf("balance %d, want 10", b)
	}
	// The worker finishing a canceled job is refused and changes nothing.
	err = st.SaveClusters(ctx, store.Outcome{TenantID: tn.ID, JobID: r.ID, Charged: 3}, 1, nil)
	wantErrIs(t, "finishing a canceled job", err, store.ErrJobFinished)
	_, err = st.StartJob(ctx, tn.ID, r.ID, "x")
	wantErrIs(t, "starting a canceled job", err, store.ErrJobFinished)
	if b := checkBooks(t, st, tn.ID); b != 10 {
		t.Fatalf("balance %d, want 10", b)
	}
}

func TestRetryLater(t *testing.T) {
	st := newStore(t)
	ctx := t.Context()
	tn := newTenant(t, st, 10)
	j := newJob(t, st, tn.ID, typeDraft, 1, 4)
	startJob(t, st, tn.ID, j.ID)
	if err := st.RetryLater(ctx, tn.ID, j.ID, store.Failure{Message: "provider timeout"}); err != nil {
		t.Fatal(err)
	}
	got := getJob(t, st, tn.ID, j.ID)
	if got.State != store.JobQueued || got.Phase != "waiting_retry" || got.LastError == nil ||
		*got.LastError != "provider timeout" || got.CreditsReserved != 4 || got.Attempts != 1 {
		t.Fatalf("job waiting for retry = %+v", got)
	}
	c, err := st.Credits(ctx, tn.ID)
	if err != nil || c.Reserved != 4 || c.Balance != 6 {
		t.Fatalf("Credits = %+v, %v", c, err)
	}
	// The retry keeps the reservation and does not reserve again.
	got = startJob(t, st, tn.ID, j.ID)
	if got.Attempts != 2 || got.CreditsReserved != 4 || got.State != store.JobRunning {
		t.Fatalf("restarted job = %+v", got)
	}
	if b := balance(t, st, tn.ID); b != 6 {
		t.Fatalf("balance %d, want 6", b)
	}
	// Even a retry that the tenant could no longer afford runs: it is paid.
	if _, err := st.GrantCredits(ctx, tn.ID, -6, "spent"); err != nil {
		t.Fatal(err)
	}
	if err := st.RetryLater(ctx, tn.ID, j.ID, store.Failure{Message: "again"}); err != nil {
		t.Fatal(err)
	}
	startJob(t, st, tn.ID, j.ID)
	// RetryLater of a job that is not running changes nothing.
	q := newJob(t, st, tn.ID, typeDraft, 2, 0)
	if err := st.RetryLater(ctx, tn.ID, q.ID, store.Failure{Message: "x"}); err != nil {
		t.Fatal(err)
	}
	if got := getJob(t, st, tn.ID, q.ID); got.Phase != "queued" || got.LastError != nil {
		t.Fatalf("RetryLater on a queued job: %+v", got)
	}
	if err := st.FailJob(ctx, tn.ID, j.ID, store.Failure{Message: "gave up"}); err != nil {
		t.Fatal(err)
	}
	if l := jobLedger(t, st, tn.ID, j.ID); !slices.Equal(kinds(l), []string{"reserve-4", "refund+4"}) {
		t.Fatalf("job ledger = %v", kinds(l))
	}
	if b := checkBooks(t, st, tn.ID); b != 4 {
		t.Fatalf("balance %d, want 4", b)
	}
}

func TestUnfinishedAndTouch(t *testing.T) {
	st := newStore(t)
	ctx := t.Context()
	tn := newTenant(t, st, 10)
	a := newJob(t, st, tn.ID, typeDraft, 1, 0)
	b := newJob(t, st, tn.ID, typeDraft, 2, 0)
	c := newJob(t, st, tn.ID, typeDraft, 3, 0)
	startJobCosting(t, st, tn.ID, b.ID, 0)
	if err := st.FailJob(ctx, tn.ID, c.ID, store.Failure{Message: "x"}); err != nil {
		t.Fatal(err)
	}
	cutoff := getJob(t, st, tn.ID, b.ID).UpdatedAt.Add(time.Microsecond)
	got, err := st.Unfinished(ctx, cutoff, 10)
	if err != nil || len(got) != 2 || got[0].ID != a.ID || got[1].ID != b.ID {
		t.Fatalf("Unfinished = %+v, %v", got, err)
	}
	if err := st.Touch(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	// A touched job is not a candidate for rows changed before its touch.
	ta := getJob(t, st, tn.ID, a.ID)
	got, err = st.Unfinished(ctx, ta.UpdatedAt, 10)
	if err != nil || slices.ContainsFunc(got, func(j store.Job) bool { return j.ID == a.ID }) {
		t.Fatalf("touched job still unfinished-before its own update time: %+v, %v", got, err)
	}
}

// TestConcurrentStartsNeverOverdraw: 30 jobs start at once with credits for
// 10; exactly 10 reserve and the balance never goes negative.
func TestConcurrentStartsNeverOverdraw(t *testing.T) {
	st := newStore(t)
	tn := newTenant(t, st, 10)
	const n = 30
	jobs := make([]store.NewJob, n)
	for i := range jobs {
		jobs[i] = nj(typeDraft, int64(i+1), 0) // quoted at nothing so all can be created
	}
	if _, err := st.CreateJobs(t.Context(), tn.ID, "", jobs); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	results := make([]error, n)
	for i := range n {
		wg.Go(func() {
			_, results[i] = st.StartJobCosting(t.Context(), tn.ID, jobs[i].ID, 1, "working")
		})
	}
	wg.Wait()
	started, refused := 0, 0
	for i, err := range results {
		var ic *errs.InsufficientCreditsError
		switch {
		case err == nil:
			started++
		case errors.As(err, &ic):
			refused++
			if j := getJob(t, st, tn.ID, jobs[i].ID); j.State != store.JobQueued || j.CreditsReserved != 0 {
				t.Errorf("refused job %s = %+v", j.ID, j)
			}
		default:
			t.Errorf("StartJobCosting: %v", err)
		}
	}
	if started != 10 || refused != 20 {
		t.Fatalf("started %d refused %d, want 10 and 20", started, refused)
	}
	if b := checkBooks(t, st, tn.ID); b != 0 {
		t.Fatalf("balance %d, want 0", b)
	}
	reserves := 0
	for _, e := range ledger(t, st, tn.ID) {
		if e.Kind == "reserve" {
			reserves++
		}
		if e.BalanceAfter < 0 {
			t.Fatalf("ledger row with a negative balance: %+v", e)
		}
	}
	if reserves != 10 {
		t.Fatalf("%d reserve rows, want 10", reserves)
	}
	c, _ := st.Credits(t.Context(), tn.ID)
	if c.Reserved != 10 {
		t.Fatalf("reserved by running jobs = %d, want 10", c.Reserved)
	}
}

// TestConcurrentStartFailSameJob: 20 deliveries of the same job start and
// fail it at once; it is reserved once and refunded once.
func TestConcurrentStartFailSameJob(t *testing.T) {
	st := newStore(t)
	tn := newTenant(t, st, 10)
	j := newJob(t, st, tn.ID, typeDraft, 1, 3)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var unexpected []error
	for i := range 20 {
		wg.Go(func() {
			_, err := st.StartJob(t.Context(), tn.ID, j.ID, "working")
			if err == nil || errors.Is(err, store.ErrJobFinished) {
				err = st.FailJob(t.Context(), tn.ID, j.ID, store.Failure{Message: fmt.Sprintf("attempt %d failed", i)})
			}
			if err != nil && !errors.Is(err, store.ErrJobFinished) {
				mu.Lock()
				unexpected = append(unexpected, err)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(unexpected) > 0 {
		t.Fatalf("unexpected errors: %v", unexpected)
	}
	got := getJob(t, st, tn.ID, j.ID)
	if got.State != store.JobFailed || got.CreditsReserved != 3 || got.Attempts < 1 {
		t.Fatalf("job = %+v", got)
	}
	if l := jobLedger(t, st, tn.ID, j.ID); !slices.Equal(kinds(l), []string{"reserve-3", "refund+3"}) {
		t.Fatalf("job ledger = %v", kinds(l))
	}
	if b := checkBooks(t, st, tn.ID); b != 10 {
		t.Fatalf("balance %d, want 10", b)
	}
}

// TestConcurrentMixedOperationsKeepBooks runs requests, starts, retries,
// failures, cancels, finishes and grants of one tenant at once, on subjects
// that collide, and checks the credit invariants: no error but the expected
// ones (no deadlock), balance never negative and equal to the ledger, each
// job reserved at most once, every failed or canceled job refunded, every
// succeeded job charged what it says.
func TestConcurrentMixedOperationsKeepBooks(t *testing.T) {
	st := newStore(t)
	tn := newTenant(t, st, 15)
	tid := tn.ID
	const workers, rounds = 6, 8
	var wg sync.WaitGroup
	var mu sync.Mutex
	var unexpected []error
	expected := func(err error) bool {
		var ic *errs.InsufficientCreditsError
		return err == nil || errors.As(err, &ic) || errors.Is(err, store.ErrJobFinished) || errors.Is(err, errs.ErrConflict)
	}
	for w := range workers {
		wg.Go(func() {
			ctx := t.Context()
			report := func(err error) {
				if !expected(err) {
					mu.Lock()
					unexpected = append(unexpected, err)
					mu.Unlock()
				}
			}
			for r := range rounds {
				b, err := st.CreateJobs(ctx, tid, "", []store.NewJob{nj(typeDraft, int64(500+(w+r)%4), int64(1+r%3))})
				report(err)
				if err != nil || len(b.Created) == 0 {
					continue
				}
				id := b.Created[0].ID
				if _, err := st.StartJob(ctx, tid, id, "working"); err != nil {
					report(err)
					report(st.FailJob(ctx, tid, id, store.Failure{Message: "cannot afford"}))
					continue
				}
				switch (w + r) % 5 {
				case 0:
					report(st.FailJob(ctx, tid, id, store.Failure{Message: "failed"}))
				case 1:
					report(st.RetryLater(ctx, tid, id, store.Failure{Message: "retry"}))
					if _, err := st.StartJob(ctx, tid, id, "again"); err != nil {
						report(err)
					}
					report(st.SaveClusters(ctx, store.Outcome{TenantID: tid, JobID: id, Charged: 1}, 1, nil))
				case 2:
					_, err := st.CancelJob(ctx, tid, id)
					report(err)
				case 3:
					report(st.SaveClusters(ctx, store.Outcome{TenantID: tid, JobID: id, Charged: 1}, 1, nil))
				default:
					_, err := st.GrantCredits(ctx, tid, 2, "top up")
					report(err)
					report(st.SaveClusters(ctx, store.Outcome{TenantID: tid, JobID: id, Charged: 9}, 1, nil))
				}
			}
		})
	}
	wg.Wait()
	if len(unexpected) > 0 {
		t.Fatalf("unexpected errors: %v", unexpected)
	}
	checkBooks(t, st, tid)
	byJob := map[string]map[string]int64{}
	for _, e := range ledger(t, st, tid) {
		if e.JobID != nil {
			if byJob[*e.JobID] == nil {
				byJob[*e.JobID] = map[string]int64{}
			}
			byJob[*e.JobID][e.Kind] += e.Delta
		}
	}
	jobs, err := st.ListJobs(t.Context(), tid, store.JobFilter{}, "", 1000)
	if err != nil {
		t.Fatal(err)
	}
	if len(jobs) == 0 {
		t.Fatal("no jobs were created")
	}
	for _, j := range jobs {
		l := byJob[j.ID]
		if -l["reserve"] != j.CreditsReserved {
			t.Errorf("job %s (%s): reserved %d, ledger reserve %d", j.ID, j.State, j.CreditsReserved, l["reserve"])
		}
		switch j.State {
		case store.JobFailed, store.JobCanceled:
			if l["refund"] != j.CreditsReserved || j.CreditsCharged != 0 {
				t.Errorf("job %s (%s): reserved %d, refunded %d, charged %d", j.ID, j.State, j.CreditsReserved, l["refund"], j.CreditsCharged)
			}
		case store.JobSucceeded:
			if j.CreditsReserved-l["settle"] != j.CreditsCharged || l["refund"] != 0 {
				t.Errorf("job %s: reserved %d, settled back %d, charged %d", j.ID, j.CreditsReserved, l["settle"], j.CreditsCharged)
			}
		default:
			if l["refund"] != 0 || l["settle"] != 0 {
				t.Errorf("unfinished job %s has ledger %v", j.ID, l)
			}
		}
	}
}

func TestGetBatchProgress(t *testing.T) {
	st := newStore(t)
	ctx := t.Context()
	tn := newTenant(t, st, 20)
	in := []store.NewJob{nj(typeIdeas, 601, 2), nj(typeIdeas, 602, 2), nj(typeIdeas, 603, 2), nj(typeIdeas, 604, 2)}
	if _, err := st.CreateJobs(ctx, tn.ID, "progress", in); err != nil {
		t.Fatal(err)
	}
	startJob(t, st, tn.ID, in[0].ID)
	if err := st.SaveClusters(ctx, store.Outcome{TenantID: tn.ID, JobID: in[0].ID, Charged: 2}, 1, nil); err != nil {
		t.Fatal(err)
	}
	startJob(t, st, tn.ID, in[1].ID)
	if err := st.FailJob(ctx, tn.ID, in[1].ID, store.Failure{Message: "the provider refused"}); err != nil {
		t.Fatal(err)
	}
	startJob(t, st, tn.ID, in[2].ID) // running in phase "working"
	b, err := st.GetBatch(ctx, tn.ID, "progress")
	if err != nil {
		t.Fatal(err)
	}
	if b.Total != 4 || b.Done != 2 || b.ByState[store.JobSucceeded] != 1 || b.ByState[store.JobFailed] != 1 ||
		b.ByState[store.JobRunning] != 1 || b.ByState[store.JobQueued] != 1 || b.RunningByPhase["working"] != 1 ||
		b.CreditsCharged != 2 || b.Type != typeIdeas {
		t.Fatalf("GetBatch = %+v", b)
	}
	if len(b.Errors) != 1 || b.Errors[0].JobID != in[1].ID || b.Errors[0].Error != "the provider refused" {
		t.Fatalf("batch errors = %+v", b.Errors)
	}
	failed, err := st.ListJobs(ctx, tn.ID, store.JobFilter{State: store.JobFailed}, "", 10)
	if err != nil || len(failed) != 1 || failed[0].ID != in[1].ID {
		t.Fatalf("ListJobs(failed) = %+v, %v", failed, err)
	}
	// Paging with the job id cursor visits every job once.
	seen := map[string]bool{}
	after := ""
	for {
		page, err := st.ListJobs(ctx, tn.ID, store.JobFilter{}, after, 3)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		for _, j := range page {
			if seen[j.ID] {
				t.Fatalf("job %s listed twice", j.ID)
			}
			seen[j.ID] = true
		}
		after = page[len(page)-1].ID
	}
	if len(seen) != 4 {
		t.Fatalf("paging saw %d jobs, want 4", len(seen))
	}
	_, err = st.GetBatch(ctx, tn.ID, "no-such-batch")
	wantErrIs(t, "GetBatch unknown", err, errs.ErrNotFound)
}

// TestStartDraftJobReadsItsIdea (#24): a draft job starts and reads its
// idea in context in one statement, the idea as GetIdeaInContext reads it;
// a job whose idea is gone starts and says which idea it could not read.
func TestStartDraftJobReadsItsIdea(t *testing.T) {
	st := newStore(t)
	ctx := t.Context()
	w := newWorld(t, st)
	tid := w.tenant.ID
	want, err := st.GetIdeaInContext(ctx, tid, w.idea.ID)
	if err != nil {
		t.Fatal(err)
	}
	j := newJob(t, st, tid, typeDraft, w.idea.ID, 3)
	job, got, err := st.StartDraftJob(ctx, tid, j.ID, "ai_analysis")
	if err != nil {
		t.Fatal(err)
	}
	if job.State != store.JobRunning || job.Phase != "ai_analysis" || job.Attempts != 1 || job.CreditsReserved != 3 {
		t.Fatalf("started job = %+v", job)
	}
	if !got.CreatedAt.Equal(want.CreatedAt) {
		t.Fatalf("idea created at %v, want %v", got.CreatedAt, want.CreatedAt)
	}
	got.CreatedAt = want.CreatedAt
	if !jsonEqual(t, got.Profiles.Site, want.Profiles.Site) || !jsonEqual(t, got.Profiles.Tenant, want.Profiles.Tenant) {
		t.Fatalf("profiles = %s / %s, want %s / %s", got.Profiles.Site, got.Profiles.Tenant, want.Profiles.Site, want.Profiles.Tenant)
	}
	got.Profiles = want.Profiles
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("StartDraftJob's idea = %+v\nGetIdeaInContext  = %+v", got, want)
	}

	gone := newJob(t, st, tid, typeDraft, w.idea.ID+1000, 3)
	_, _, err = st.StartDraftJob(ctx, tid, gone.ID, "ai_analysis")
	if !errors.Is(err, errs.ErrNotFound) || !strings.Contains(err.Error(), fmt.Sprintf("idea %d", w.idea.ID+1000)) {
		t.Fatalf("StartDraftJob of a job without its idea = %v", err)
	}
	if j := getJob(t, st, tid, gone.ID); j.State != store.JobRunning {
		t.Fatalf("job without its idea = %+v, want running", j)
	}
}

func jsonEqual(t *testing.T, a, b []byte) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatalf("%s: %v", a, err)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	return reflect.DeepEqual(x, y)
}
