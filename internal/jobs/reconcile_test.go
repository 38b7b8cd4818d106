package jobs_test

import (
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/presswork/presswork/internal/app/apptest"
	"github.com/presswork/presswork/internal/app/schedulerapp"
	"github.com/presswork/presswork/internal/jobs"
	"github.com/presswork/presswork/internal/store"
)

// TestReconciler loses the queued tasks of three jobs (Redis flushed after
// the API enqueued them) and has a fourth job whose task asynq archived
// while its row still says it will be retried. One pass of the reconciler
// must re-enqueue the three, which a worker then completes, and fail and
// refund the fourth.
func TestReconciler(t *testing.T) {
	t.Parallel()
	// Jobs unchanged for 1 ms are examined: the test's jobs qualify at once.
	h := apptest.Start(t, apptest.WithEnv("RECONCILE_GRACE", "1ms"))
	st := h.App.Store
	cost := h.App.Config.Costs.Draft
	const opening = 100
	tk, c := h.Tenant(t, "reconcile", opening)
	tenant := tk.Tenant.ID
	seed := apptest.SeedIdeas(t, st, tenant, 4, "reconcile")
	in := h.Inspector(t)

	// Three jobs whose tasks Redis loses.
	lost := apptest.DraftJobs(t, c, seed.Ideas[:3]...)
	if info := apptest.TaskInfo(t, in, jobs.QueueBulk, lost[0]); info == nil || info.State != asynq.TaskStatePending {
		t.Fatalf("task of job %s is not pending before the flush: %+v", lost[0], info)
	}
	opts, err := redis.ParseURL(h.Env["REDIS_URL"])
	apptest.Must(t, err, "redis url")
	rdb := redis.NewClient(opts)
	defer rdb.Close()
	apptest.Must(t, rdb.FlushDB(apptest.Context(t)).Err(), "flush the test's redis db")

	// A job whose attempts ran out while its row could not be updated: it
	// reserved its credits, its row says it waits for a retry, and asynq
	// archived the task.
	archived := apptest.DraftJobs(t, c, seed.Ideas[3])[0]
	_, err = st.StartJob(apptest.Context(t), tenant, archived, "ai_analysis")
	apptest.Must(t, err, "start the job")
	apptest.Must(t, st.RetryLater(apptest.Context(t), tenant, archived, store.Failure{Message: "temporary failure; retrying"}), "record a retry")
	apptest.Must(t, in.ArchiveTask(jobs.QueueDefault, archived), "archive the task")

	r, closeFn := schedulerapp.NewReconciler(h.App)
	defer closeFn()
	if r.Grace != time.Millisecond {
		t.Fatalf("reconciler grace %s, want the configured 1ms", r.Grace)
	}

	// Within the grace period nothing is examined.
	patient := *r
	patient.Grace = time.Hour
	rep, err := patient.Once(apptest.Context(t))
	apptest.Must(t, err, "reconcile with a long grace")
	if rep != (jobs.ReconcileReport{}) {
		t.Errorf("reconciler with 1h grace did %+v, want nothing", rep)
	}

	// Wait until every job row is older than the grace.
	apptest.Eventually(t, 5*time.Second, "jobs are older than the grace", func() (bool, error) {
		unfinished, err := st.Unfinished(apptest.Context(t), time.Now().Add(-r.Grace), 100)
		return len(unfinished) == 4, err
	})
	before := map[string]time.Time{}
	for _, id := range lost {
		before[id] = apptest.Job(t, st, tenant, id).UpdatedAt
	}
	rep, err = r.Once(apptest.Context(t))
	apptest.Must(t, err, "reconcile")
	if rep != (jobs.ReconcileReport{Examined: 4, Reenqueued: 3, Failed: 1}) {
		t.Errorf("reconcile pass did %+v, want 4 examined, 3 re-enqueued, 1 failed", rep)
	}
	for _, id := range lost {
		if info := apptest.TaskInfo(t, in, jobs.QueueBulk, id); info == nil || info.State != asynq.TaskStatePending {
			t.Errorf("task of job %s after the pass: %+v, want pending on the bulk queue", id, info)
		}
		// Touched, so that the next passes leave it alone for a grace period.
		if j := apptest.Job(t, st, tenant, id); !j.UpdatedAt.After(before[id]) || j.State != store.JobQueued {
			t.Errorf("job %s after the pass: state %s, updated %s (before %s); want queued and touched",
				id, j.State, j.UpdatedAt, before[id])
		}
	}

	j := apptest.Job(t, st, tenant, archived)
	if j.State != store.JobFailed || !strings.HasPrefix(apptest.Deref(j.LastError), "gave up after repeated failures") ||
		j.CreditsCharged != 0 {
		t.Errorf("archived job: state %s, error %q, charged %d; want failed with a clear message, nothing charged",
			j.State, apptest.Deref(j.LastError), j.CreditsCharged)
	}
	if got, want := apptest.JobLedger(apptest.Ledger(t, st, tenant), archived), "reserve:-3 refund:3"; got != want {
		t.Errorf("archived job ledger %q, want %q", got, want)
	}

	// A second pass finds the re-enqueued tasks alive and changes nothing.
	apptest.Eventually(t, 5*time.Second, "jobs are older than the grace again", func() (bool, error) {
		unfinished, err := st.Unfinished(apptest.Context(t), time.Now().Add(-r.Grace), 100)
		return len(unfinished) == 3, err
	})
	rep, err = r.Once(apptest.Context(t))
	apptest.Must(t, err, "second reconcile pass")
	if rep != (jobs.ReconcileReport{Examined: 3}) {
		t.Errorf("second pass did %+v, want 3 examined and nothing else", rep)
	}

	h.StartWorker(t)
	for _, id := range lost {
		j := apptest.WaitJobState(t, st, tenant, id, store.JobSucceeded)
		if j.CreditsCharged != cost {
			t.Errorf("job %s charged %d, want %d", id, j.CreditsCharged, cost)
		}
	}
	drafts, err := st.ListDrafts(apptest.Context(t), tenant, seed.Site.ID, store.Page{Limit: 100})
	apptest.Must(t, err, "list drafts")
	if len(drafts) != 3 {
		t.Errorf("%d drafts, want 3", len(drafts))
	}
	if j := apptest.Job(t, st, tenant, archived); j.State != store.JobFailed {
		t.Errorf("archived job is %s after the worker ran, want failed", j.State)
	}
	apptest.CheckCredits(t, st, tenant, opening-3*cost)
}

// TestReconcilerSkipsJobItCannotDeliver puts a job the reconciler cannot
// enqueue (a task type this version does not know) first in line: the
// pass must report it and still deliver the lost job behind it.
func TestReconcilerSkipsJobItCannotDeliver(t *testing.T) {
	t.Parallel()
	h := apptest.Start(t, apptest.WithEnv("RECONCILE_GRACE", "1ms"))
	st := h.App.Store
	tk, c := h.Tenant(t, "reconcile-poison", 50)
	tenant := tk.Tenant.ID
	seed := apptest.SeedIdeas(t, st, tenant, 1, "poison")

	_, err := st.CreateJobs(apptest.Context(t), tenant, "", []store.NewJob{{ID: "retired-task-type", Type: "retired:type",
		Queue: jobs.QueueDefault, SiteID: seed.Site.ID, SubjectID: seed.Ideas[0].ID}})
	apptest.Must(t, err, "create a job of an unknown type")
	id := apptest.DraftJobs(t, c, seed.Ideas[0])[0]
	opts, err := redis.ParseURL(h.Env["REDIS_URL"])
	apptest.Must(t, err, "redis url")
	rdb := redis.NewClient(opts)
	defer rdb.Close()
	apptest.Must(t, rdb.FlushDB(apptest.Context(t)).Err(), "flush the test's redis db")

	r, closeFn := schedulerapp.NewReconciler(h.App)
	defer closeFn()
	apptest.Eventually(t, 5*time.Second, "jobs are older than the grace", func() (bool, error) {
		unfinished, err := st.Unfinished(apptest.Context(t), time.Now().Add(-r.Grace), 100)
		return len(unfinished) == 2 && unfinished[0].ID == "retired-task-type", err
	})
	rep, err := r.Once(apptest.Context(t))
	if err == nil || !strings.Contains(err.Error(), "retired:type") {
		t.Errorf("reconcile pass error %v, want one naming the job it could not deliver", err)
	}
	if rep != (jobs.ReconcileReport{Examined: 2, Reenqueued: 1}) {
		t.Fatalf("reconcile pass did %+v, want 2 examined and the draft re-enqueued", rep)
	}
	h.StartWorker(t)
	apptest.WaitJobState(t, st, tenant, id, store.JobSucceeded)
	apptest.CheckCredits(t, st, tenant, 50-h.App.Config.Costs.Draft)
}
