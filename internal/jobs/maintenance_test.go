package jobs_test

import (
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/presswork/presswork/internal/app/apptest"
	"github.com/presswork/presswork/internal/app/schedulerapp"
	"github.com/presswork/presswork/internal/jobs"
	"github.com/presswork/presswork/internal/store"
)

// TestReconcilerFailsJobStuckPastItsLastAttempt: a running job whose task
// asynq no longer holds is delivered again while it has attempts left, and
// failed and refunded once it used its last one and outlived its time
// limit (whatever ran it died).
func TestReconcilerFailsJobStuckPastItsLastAttempt(t *testing.T) {
	t.Parallel()
	h := apptest.Start(t, apptest.WithEnv("RECONCILE_GRACE", "1ms"))
	st := h.App.Store
	const opening = 100
	tk, c := h.Tenant(t, "reconcile-stuck", opening)
	tenant := tk.Tenant.ID
	seed := apptest.SeedIdeas(t, st, tenant, 2, "stuck")
	ids := apptest.DraftJobs(t, c, seed.Ideas...)
	retrying, stuck := ids[0], ids[1]
	_, err := st.StartJob(apptest.Context(t), tenant, retrying, "ai_analysis")
	apptest.Must(t, err, "start")
	for range 9 { // draft jobs have 8 retries: 9 attempts in all
		_, err := st.StartJob(apptest.Context(t), tenant, stuck, "ai_analysis")
		apptest.Must(t, err, "start")
	}
	opts, err := redis.ParseURL(h.Env["REDIS_URL"])
	apptest.Must(t, err, "redis url")
	rdb := redis.NewClient(opts)
	defer rdb.Close()
	apptest.Must(t, rdb.FlushDB(apptest.Context(t)).Err(), "flush")

	r, closeFn := schedulerapp.NewReconciler(h.App)
	defer closeFn()
	r.Now = func() time.Time { return time.Now().Add(time.Hour) } // past the ten-minute limit of a draft
	rep, err := r.Once(apptest.Context(t))
	apptest.Must(t, err, "reconcile")
	if rep != (jobs.ReconcileReport{Examined: 2, Reenqueued: 1, Failed: 1}) {
		t.Errorf("pass did %+v, want the job with attempts left re-enqueued and the stuck one failed", rep)
	}
	j := apptest.Job(t, st, tenant, stuck)
	if j.State != store.JobFailed || j.CreditsCharged != 0 {
		t.Errorf("stuck job: %s, charged %d, error %q; want failed and refunded", j.State, j.CreditsCharged, apptest.Deref(j.LastError))
	}
	if got, want := apptest.JobLedger(apptest.Ledger(t, st, tenant), stuck), "reserve:-3 refund:3"; got != want {
		t.Errorf("stuck job ledger %q, want %q", got, want)
	}
	if info := apptest.TaskInfo(t, h.Inspector(t), jobs.QueueBulk, retrying); info == nil {
		t.Errorf("job %s with attempts left was not delivered again", retrying)
	}
}

// TestMaintenancePrunesWhatIsOld deletes finished jobs and run records
// older than their retention, and leaves unfinished work, newer rows and
// tasks archived by hand (their age is unknown) alone.
func TestMaintenancePrunesWhatIsOld(t *testing.T) {
	t.Parallel()
	h := apptest.Start(t)
	st := h.App.Store
	tk, c := h.Tenant(t, "maintenance", 100)
	tenant := tk.Tenant.ID
	seed := apptest.SeedIdeas(t, st, tenant, 3, "prune")
	ids := apptest.DraftJobs(t, c, seed.Ideas...)
	done, failed, queued := ids[0], ids[1], ids[2]
	_, err := st.StartJob(apptest.Context(t), tenant, done, "ai_analysis")
	apptest.Must(t, err, "start")
	apptest.Must(t, st.FinishJob(apptest.Context(t), store.Outcome{TenantID: tenant, JobID: done, Charged: 3}), "finish")
	apptest.Must(t, st.FailJob(apptest.Context(t), tenant, failed, store.Failure{Message: "test"}), "fail")
	in := h.Inspector(t)
	apptest.Must(t, in.ArchiveTask(jobs.QueueBulk, queued), "archive by hand")
	// A rule with a run that ended.
	next := time.Now().Add(time.Hour)
	rule, err := st.CreateRule(apptest.Context(t), tenant, store.Rule{SiteID: seed.Site.ID, Name: "r", Schedule: "@every 1h",
		Timezone: "UTC", Stages: []string{store.StageIdeas}, IdeasPerCluster: 1, MaxItems: 1, Enabled: true, NextFireAt: &next})
	apptest.Must(t, err, "rule")
	run, _, err := st.StartManualRun(apptest.Context(t), tenant, rule.ID, "run-prune", time.Now())
	apptest.Must(t, err, "run")
	apptest.Must(t, st.FailJob(apptest.Context(t), tenant, run.ID, store.Failure{Message: "test"}), "end the run")
	if got, err := st.GetRun(apptest.Context(t), tenant, run.ID); err != nil || got.Status != "failed" || got.FinishedAt == nil {
		t.Fatalf("a run whose job failed: %+v (%v), want failed and finished", got, err)
	}

	m := &jobs.Maintenance{Store: st, Inspector: in, Log: h.App.Log, RetainJobs: 90 * 24 * time.Hour,
		RetainRuns: 30 * 24 * time.Hour, RetainArchived: time.Hour}
	m.Now = time.Now
	rep, err := m.Once(apptest.Context(t))
	apptest.Must(t, err, "maintenance now")
	if rep != (jobs.MaintenanceReport{}) {
		t.Errorf("maintenance of fresh rows did %+v, want nothing", rep)
	}
	m.Now = func() time.Time { return time.Now().Add(91 * 24 * time.Hour) }
	rep, err = m.Once(apptest.Context(t))
	apptest.Must(t, err, "maintenance in 91 days")
	// The seeding's own finished jobs go as well.
	// The events: the failed draft job's and the run's job.failed.
	if rep.Jobs < 3 || rep.Runs != 1 || rep.ArchivedTasks != 0 || rep.Events != 2 {
		t.Errorf("maintenance 91 days on did %+v, want the finished jobs and their events deleted and the hand-archived task kept", rep)
	}
	left, err := st.ListJobs(apptest.Context(t), tenant, store.JobFilter{}, "", 100)
	apptest.Must(t, err, "list")
	if len(left) != 1 || left[0].ID != queued {
		t.Errorf("jobs left: %+v, want only the unfinished one", left)
	}
	if info := apptest.TaskInfo(t, in, jobs.QueueBulk, queued); info == nil || info.State != asynq.TaskStateArchived {
		t.Errorf("the task archived by hand: %+v, want it kept", info)
	}
	// 100 less the finished draft's 3 and the 3 the unfinished one reserved.
	if balance := apptest.CheckCredits(t, st, tenant, 94); balance == nil {
		t.Error("no ledger after pruning")
	}
}
