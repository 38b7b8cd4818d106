package jobs_test

import (
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/presswork/presswork/internal/app/apptest"
	"github.com/presswork/presswork/internal/jobs"
	"github.com/presswork/presswork/internal/store"
	"github.com/presswork/presswork/internal/tasks"
)

// TestLinkRefreshQueuesEachSiteOncePerPeriod: a pass queues a site:links
// job for a site never refreshed, a repeated pass in the same period
// queues nothing, a site refreshed within the period is not due, and the
// next period queues it again.
func TestLinkRefreshQueuesEachSiteOncePerPeriod(t *testing.T) {
	t.Parallel()
	h := apptest.Start(t)
	st := h.App.Store
	tk, _ := h.Tenant(t, "links-refresh", 10)
	site := apptest.SeedIdeas(t, st, tk.Tenant.ID, 1, "links").Site
	client := asynq.NewClient(h.App.Redis)
	t.Cleanup(func() { client.Close() })
	now := time.Date(2026, 5, 1, 9, 30, 0, 0, time.UTC)
	lr := &jobs.LinkRefresh{Store: st, Jobs: jobs.New(st, client, h.App.Log), Log: h.App.Log,
		Now: func() time.Time { return now }, Every: 24 * time.Hour, Batch: 100}
	once := func(want int, when string) {
		t.Helper()
		n, err := lr.Once(apptest.Context(t))
		if err != nil || n != want {
			t.Fatalf("%s: Once = %d, %v; want %d", when, n, err, want)
		}
	}
	once(1, "never refreshed")
	once(0, "the same period again")
	js, err := st.ListJobs(apptest.Context(t), tk.Tenant.ID, store.JobFilter{Type: tasks.TypeLinks}, "", 10)
	apptest.Must(t, err, "list jobs")
	if len(js) != 1 || js[0].SubjectID != site.ID || js[0].CreditsQuoted != 0 {
		t.Fatalf("links jobs = %+v, want one free job for site %d", js, site.ID)
	}
	// The job ran (its row is done) and stored the inventory.
	_, err = st.StartJobCosting(apptest.Context(t), tk.Tenant.ID, js[0].ID, 0, "reading_site")
	apptest.Must(t, err, "start")
	apptest.Must(t, st.FinishJob(apptest.Context(t), store.Outcome{TenantID: tk.Tenant.ID, JobID: js[0].ID}), "finish")
	_, err = st.ReplaceLinks(apptest.Context(t), tk.Tenant.ID, site.ID, now, nil)
	apptest.Must(t, err, "replace links")
	now = now.Add(time.Hour)
	once(0, "refreshed an hour ago")
	now = now.Add(24 * time.Hour)
	once(1, "refreshed a day ago")
}
