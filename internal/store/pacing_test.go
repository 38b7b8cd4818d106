package store_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/presswork/presswork/internal/store"
)

// TestBulkJobsBeyondTheRoomAreHeldAndReleasedInOrder: with room for 2
// bulk jobs, 5 created at once give 2 to deliver and 3 held; nothing more
// is released until one ends; then the oldest held one is. Default-queue
// jobs are never held, and held jobs are no reconciler candidates.
func TestBulkJobsBeyondTheRoomAreHeldAndReleasedInOrder(t *testing.T) {
	st := newStore(t)
	st.Pace("bulk", map[string]int{"free": 1, "starter": 1, "pro": 2, "agency": 1})
	tn := newTenant(t, st, 100)
	site := newSite(t, st, tn.ID)
	var jobs []store.NewJob
	for i := range 5 {
		jobs = append(jobs, store.NewJob{ID: fmt.Sprintf("pace-%d-%d", tn.ID, i), Type: "draft:write", Queue: "bulk",
			SiteID: site.ID, SubjectID: next(), Quote: 3})
	}
	made, err := st.CreateJobs(t.Context(), tn.ID, "batch-pace", jobs)
	if err != nil {
		t.Fatal(err)
	}
	if len(made.Created) != 5 || len(made.Deliver) != 2 || made.Deliver[0].ID != jobs[0].ID || made.Deliver[1].ID != jobs[1].ID {
		t.Fatalf("created %d, deliver %+v; want 5 created and the first 2 delivered", len(made.Created), ids(made.Deliver))
	}
	if j := getJob(t, st, tn.ID, jobs[4].ID); !j.Held || j.Phase != "held" || j.State != store.JobQueued {
		t.Errorf("job beyond the room: held %v, phase %s, state %s", j.Held, j.Phase, j.State)
	}
	if released, err := st.ReleaseHeld(t.Context(), tn.ID); err != nil || len(released) != 0 {
		t.Errorf("released %v (%v) with the room full", ids(released), err)
	}
	single, err := st.CreateJobs(t.Context(), tn.ID, "", []store.NewJob{{ID: fmt.Sprintf("single-%d", tn.ID),
		Type: "draft:write", Queue: "default", SiteID: site.ID, SubjectID: next(), Quote: 3}})
	if err != nil || len(single.Deliver) != 1 || single.Deliver[0].Held {
		t.Fatalf("a default-queue job with the bulk room full: %+v, %v; want it delivered", single, err)
	}
	unfinished, err := st.Unfinished(t.Context(), time.Now().Add(time.Hour), 100)
	if err != nil || len(unfinished) != 3 {
		t.Errorf("reconciler candidates %v (%v), want the 3 delivered jobs only", ids(unfinished), err)
	}

	startJobCosting(t, st, tn.ID, jobs[0].ID, 3)
	if err := st.FinishJob(t.Context(), store.Outcome{TenantID: tn.ID, JobID: jobs[0].ID, Charged: 3}); err != nil {
		t.Fatal(err)
	}
	released, err := st.ReleaseHeld(t.Context(), tn.ID)
	if err != nil || len(released) != 1 || released[0].ID != jobs[2].ID || released[0].Held {
		t.Fatalf("after one ended, released %v (%v), want the oldest held one, %s", ids(released), err, jobs[2].ID)
	}
	// With held jobs waiting, a room freed goes to the oldest of them, not
	// to a newer bulk's.
	startJobCosting(t, st, tn.ID, jobs[1].ID, 3)
	if err := st.FinishJob(t.Context(), store.Outcome{TenantID: tn.ID, JobID: jobs[1].ID, Charged: 3}); err != nil {
		t.Fatal(err)
	}
	later := []store.NewJob{{ID: fmt.Sprintf("pace-%d-later", tn.ID), Type: "draft:write", Queue: "bulk",
		SiteID: site.ID, SubjectID: next(), Quote: 3}}
	more, err := st.CreateJobs(t.Context(), tn.ID, "batch-pace-later", later)
	if err != nil || len(more.Deliver) != 1 || more.Deliver[0].ID != jobs[3].ID {
		t.Fatalf("a later bulk with held jobs waiting delivers %v (%v), want the oldest held, %s", ids(more.Deliver), err, jobs[3].ID)
	}
	if j := getJob(t, st, tn.ID, later[0].ID); !j.Held {
		t.Errorf("the later bulk's job is not held: %+v", j)
	}
	tenants, err := st.TenantsWithHeld(t.Context())
	if err != nil || !slices.Contains(tenants, tn.ID) {
		t.Errorf("tenants with held jobs %v (%v), want %d among them", tenants, err, tn.ID)
	}
	checkBooks(t, st, tn.ID)
}

func ids(jobs []store.Job) []string {
	out := make([]string, len(jobs))
	for i, j := range jobs {
		out[i] = j.ID
	}
	return out
}

// TestCatalogueRoomOverridesBulkInFlight (#26): a plan of the catalogue
// with a fair-share room of its own releases that many bulk jobs, not
// BULK_INFLIGHT's number; taking the room away gives BULK_INFLIGHT's back.
func TestCatalogueRoomOverridesBulkInFlight(t *testing.T) {
	st := newStore(t)
	st.Pace("bulk", map[string]int{"free": 1, "starter": 1, "pro": 1, "agency": 1})
	tn := newTenant(t, st, 100)
	site := newSite(t, st, tn.ID)
	room := 3
	plan, err := st.PutPlan(t.Context(), store.Plan{Name: tn.Plan, BulkInFlight: &room})
	if err != nil {
		t.Fatal(err)
	}
	bulk := func(prefix string, n int) []store.NewJob {
		var jobs []store.NewJob
		for i := range n {
			jobs = append(jobs, store.NewJob{ID: fmt.Sprintf("%s-%d-%d", prefix, tn.ID, i), Type: "draft:write", Queue: "bulk",
				SiteID: site.ID, SubjectID: next(), Quote: 1})
		}
		return jobs
	}
	made, err := st.CreateJobs(t.Context(), tn.ID, "batch-room", bulk("room", 5))
	if err != nil || len(made.Deliver) != 3 {
		t.Fatalf("deliver %v (%v) with the catalogue's room of 3, want 3", ids(made.Deliver), err)
	}
	plan.BulkInFlight = nil
	if _, err := st.PutPlan(t.Context(), plan); err != nil {
		t.Fatal(err)
	}
	other := newTenant(t, st, 100)
	otherSite := newSite(t, st, other.ID)
	jobs := bulk("norooms", 3)
	for i := range jobs {
		jobs[i].ID, jobs[i].SiteID = jobs[i].ID+"-other", otherSite.ID
	}
	made, err = st.CreateJobs(t.Context(), other.ID, "batch-noroom", jobs)
	if err != nil || len(made.Deliver) != 1 {
		t.Fatalf("deliver %v (%v) without the catalogue's room, want BULK_INFLIGHT's 1", ids(made.Deliver), err)
	}
}
