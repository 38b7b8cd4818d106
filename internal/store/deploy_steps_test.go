package store_test

import (
	"errors"
	"testing"
	"time"

	"github.com/presswork/presswork/internal/errs"
	"github.com/presswork/presswork/internal/store"
)

func newDeployment(t *testing.T, st *store.Store) store.Deployment {
	t.Helper()
	tn := newTenant(t, st, 10)
	site := newSite(t, st, tn.ID)
	d, _, err := st.SaveDeployment(t.Context(), store.Deployment{TenantID: tn.ID, SiteID: site.ID, Panel: "tenant",
		Project: "sites", Source: store.DeploySource{Type: "image", Image: "wordpress:6"}, Domain: "blog.example.com", HTTPS: true},
		store.NewJob{ID: jobID(), Type: "site:deploy", Queue: "default", Params: []byte(`{"action":"deploy"}`)})
	if err != nil {
		t.Fatalf("SaveDeployment: %v", err)
	}
	return d
}

// TestDeployWaitHasOneDeadlinePerJob (#17.12): a job's wait keeps the
// deadline recorded when it started, whatever attempt asks; another job's
// wait starts anew.
func TestDeployWaitHasOneDeadlinePerJob(t *testing.T) {
	st := newStore(t)
	d := newDeployment(t, st)
	ctx := t.Context()
	firstIn, err := st.StartDeployWait(ctx, d.TenantID, d.ID, "job-a", "deploy", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	first := firstIn.WaitDeadline
	if left := time.Until(first); left < 50*time.Minute || left > 70*time.Minute {
		t.Fatalf("deadline %s from now, want an hour", left)
	}
	againIn, err := st.StartDeployWait(ctx, d.TenantID, d.ID, "job-a", "deploy", 5*time.Hour)
	again := againIn.WaitDeadline
	if err != nil || !again.Equal(first) {
		t.Errorf("the same job's second wait: deadline %s (%v), want the first %s", again, err, first)
	}
	otherIn, err := st.StartDeployWait(ctx, d.TenantID, d.ID, "job-b", "start", 5*time.Hour)
	other := otherIn.WaitDeadline
	if err != nil || other.Sub(first) < 3*time.Hour {
		t.Errorf("another job's wait: deadline %s (%v), want a new one 5h from now", other, err)
	}
}

// TestDeployIntentIsRecordedPerJob (#17.13): the intent is recorded before
// the call, accepted after it, and a later job's intent replaces it.
func TestDeployIntentIsRecordedPerJob(t *testing.T) {
	st := newStore(t)
	d := newDeployment(t, st)
	ctx := t.Context()
	if _, err := st.GetDeployIntent(ctx, d.TenantID, d.ID); !errors.Is(err, errs.ErrNotFound) {
		t.Fatalf("intent before any: %v, want not found", err)
	}
	in := store.DeployIntent{DeploymentID: d.ID, JobID: "job-a", Action: "deploy", BeforeAction: "act_1", BeforeAt: "2026-01-01T00:00:00.001Z"}
	if err := st.RecordDeployIntent(ctx, d.TenantID, in); err != nil {
		t.Fatal(err)
	}
	waiting, err := st.StartDeployWait(ctx, d.TenantID, d.ID, "job-a", "deploy", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if waiting.JobID != "job-a" || waiting.BeforeAction != in.BeforeAction || waiting.BeforeAt != in.BeforeAt ||
		waiting.WaitDeadline.IsZero() {
		t.Errorf("the wait's intent %+v, want job-a's with its deploy before the call and a deadline", waiting)
	}
	apptestMust(t, st.AcceptDeployIntent(ctx, d.TenantID, d.ID, "job-a"))
	got, err := st.GetDeployIntent(ctx, d.TenantID, d.ID)
	if err != nil || !got.Accepted || got.JobID != "job-a" || got.BeforeAction != "act_1" || got.WaitDeadline.IsZero() {
		t.Errorf("intent after the call %+v (%v)", got, err)
	}
	if err := st.AcceptDeployIntent(ctx, d.TenantID, d.ID, "job-b"); err == nil {
		t.Error("another job accepted the intent of job-a")
	}
	apptestMust(t, st.RecordDeployIntent(ctx, d.TenantID, store.DeployIntent{DeploymentID: d.ID, JobID: "job-b", Action: "redeploy"}))
	got, err = st.GetDeployIntent(ctx, d.TenantID, d.ID)
	if err != nil || got.Accepted || got.JobID != "job-b" || got.BeforeAction != "" || !got.WaitDeadline.IsZero() {
		t.Errorf("a later job's intent %+v (%v), want it alone", got, err)
	}
	if _, err := st.GetDeployIntent(ctx, d.TenantID+1000000, d.ID); err == nil {
		t.Error("another tenant reads the intent")
	}
}

// TestRetargetDeploymentOnlyBeforeAnythingWasCreated (#17.9).
func TestRetargetDeploymentOnlyBeforeAnythingWasCreated(t *testing.T) {
	st := newStore(t)
	d := newDeployment(t, st)
	ctx := t.Context()
	d, err := st.ChooseDeploymentNames(ctx, d.TenantID, d.ID, store.DeploymentNames{AppService: "a", DBService: "a-db",
		DBName: "wordpress", DBUser: "wordpress", DBPasswordEnc: []byte("x"), DBRootPasswordEnc: []byte("y")})
	if err != nil {
		t.Fatal(err)
	}
	moved, err := st.RetargetDeployment(ctx, d.TenantID, d.ID, "blogs")
	if err != nil || moved.Project != "blogs" || moved.AppService != nil || moved.Step != "none" {
		t.Fatalf("retargeted %+v (%v), want project blogs without names", moved, err)
	}
	apptestMust(t, st.SetDeploymentState(ctx, d.TenantID, d.ID, "database_created", "deploying", ""))
	if _, err := st.RetargetDeployment(ctx, d.TenantID, d.ID, "shop"); !errors.Is(err, errs.ErrNotFound) {
		t.Errorf("retargeting a deployment with a database: %v, want not found", err)
	}
}

func apptestMust(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
