package store_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/presswork/presswork/internal/store"
)

func eventTypes(t *testing.T, st *store.Store, tenantID int64) []string {
	t.Helper()
	evs, err := st.EventsAfter(t.Context(), tenantID, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, e := range evs {
		types = append(types, e.Type+" "+e.Subject)
	}
	return types
}

// TestEventsWithTheirChange: an event is recorded by the change it
// reports and only then: a job failed once makes one job.failed, however
// often it is failed; a deployment makes deployment.finished when it
// comes to rest from another status. Deliveries go to the enabled
// webhooks that subscribe to the type.
func TestEventsWithTheirChange(t *testing.T) {
	st := newStore(t)
	d := newDeployment(t, st)
	ctx := t.Context()
	url := "https://hooks.example.com/x"
	subscribed, err := st.CreateWebhook(ctx, d.TenantID, store.WebhookFields{URL: &url,
		Events: []string{store.EventJobFailed, store.EventDeploymentFinished}, SecretEnc: []byte("s")})
	apptestMust(t, err)
	_, err = st.CreateWebhook(ctx, d.TenantID, store.WebhookFields{URL: &url, Events: []string{store.EventDraftReady},
		SecretEnc: []byte("s")})
	apptestMust(t, err)
	off := false
	disabled, err := st.CreateWebhook(ctx, d.TenantID, store.WebhookFields{URL: &url,
		Events: []string{store.EventJobFailed}, Enabled: &off, SecretEnc: []byte("s")})
	apptestMust(t, err)

	job := newJob(t, st, d.TenantID, "site:check", next(), 0)
	apptestMust(t, st.FailJob(ctx, d.TenantID, job.ID, store.Failure{Message: "boom"}))
	if err := st.FailJob(ctx, d.TenantID, job.ID, store.Failure{Message: "again"}); err == nil {
		t.Fatal("failing a failed job again: no error")
	}
	apptestMust(t, st.SetDeploymentState(ctx, d.TenantID, d.ID, "database_created", "deploying", ""))
	apptestMust(t, st.SetDeploymentState(ctx, d.TenantID, d.ID, "running", "running", ""))
	apptestMust(t, st.SetDeploymentState(ctx, d.TenantID, d.ID, "running", "running", ""))

	got := eventTypes(t, st, d.TenantID)
	want := []string{"job.failed job:" + job.ID, "deployment.finished deployment:" + fmt.Sprint(d.ID)}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("events %q, want %q", got, want)
	}
	ds, err := st.ListDeliveries(ctx, d.TenantID, subscribed.ID, store.Page{Limit: 10})
	apptestMust(t, err)
	if len(ds) != 2 || ds[0].EventType != store.EventDeploymentFinished || ds[1].EventType != store.EventJobFailed ||
		ds[0].Status != store.DeliveryPending {
		t.Errorf("deliveries of the subscribed webhook %+v, want its two events pending", ds)
	}
	if ds, _ := st.ListDeliveries(ctx, d.TenantID, disabled.ID, store.Page{Limit: 10}); len(ds) != 0 {
		t.Errorf("a disabled webhook got deliveries %+v", ds)
	}
	if _, err := st.ListDeliveries(ctx, d.TenantID+1000000, subscribed.ID, store.Page{Limit: 10}); err == nil {
		t.Error("another tenant lists the deliveries")
	}
}

// TestSiteUnhealthyOnlyWhenItTurns: site.unhealthy is recorded when a
// site's health turns unhealthy, not while it stays so or recovers.
func TestSiteUnhealthyOnlyWhenItTurns(t *testing.T) {
	st := newStore(t)
	tn := newTenant(t, st, 0)
	site := newSite(t, st, tn.ID)
	ctx := t.Context()
	for _, c := range []store.SiteCheck{
		{Health: store.HealthUnhealthy, Reason: "no such host", Code: "dns_not_found"},
		{Health: store.HealthUnhealthy, Reason: "still no such host", Code: "dns_not_found"},
		{Health: store.HealthHealthy},
	} {
		apptestMust(t, st.RecordSiteCheck(ctx, tn.ID, site.ID, c))
	}
	if err := st.RecordSiteCheck(ctx, tn.ID+1000000, site.ID, store.SiteCheck{Health: store.HealthUnhealthy}); err == nil {
		t.Error("another tenant records a check of the site")
	}
	got := eventTypes(t, st, tn.ID)
	if len(got) != 1 || got[0] != fmt.Sprintf("site.unhealthy site:%d", site.ID) {
		t.Fatalf("events %q, want one site.unhealthy", got)
	}
}

// TestMissedBatchCloseIsSwept: a batch whose last job ended but which was
// not closed (its worker died between the job's commit and the close) is
// closed by CloseFinishedBatches, once, with batch.finished recorded once;
// an open batch is left alone.
func TestMissedBatchCloseIsSwept(t *testing.T) {
	st := newStore(t)
	ctx := t.Context()
	tenant := newTenant(t, st, 0)
	mk := func(batch string) []store.Job {
		b, err := st.CreateJobs(ctx, tenant.ID, batch, []store.NewJob{
			{ID: jobID(), Type: "site:check", Queue: "default", SubjectID: next()},
			{ID: jobID(), Type: "site:check", Queue: "default", SubjectID: next()}})
		apptestMust(t, err)
		return b.Created
	}
	ended, open := mk(fmt.Sprintf("ended-%d", next())), mk(fmt.Sprintf("open-%d", next()))
	for _, j := range ended {
		apptestMust(t, st.FailJob(ctx, tenant.ID, j.ID, store.Failure{Message: "boom"}))
	}
	apptestMust(t, st.FailJob(ctx, tenant.ID, open[0].ID, store.Failure{Message: "boom"}))
	count := func() (n int) {
		for _, e := range eventTypes(t, st, tenant.ID) {
			if strings.HasPrefix(e, store.EventBatchFinished) {
				n++
			}
		}
		return n
	}
	if n := count(); n != 1 {
		t.Fatalf("%d batch.finished after one batch ended, want 1", n)
	}
	apptestMust(t, st.ReopenBatch(ctx, *ended[0].BatchID))
	closed, err := st.CloseFinishedBatches(ctx, 100)
	apptestMust(t, err)
	if closed != 1 || count() != 2 {
		t.Fatalf("sweep closed %d batches (want 1), %d batch.finished (want 2: the reopened one again)", closed, count())
	}
	if closed, err = st.CloseFinishedBatches(ctx, 100); err != nil || closed != 0 {
		t.Fatalf("second sweep closed %d (%v), want 0", closed, err)
	}
}
