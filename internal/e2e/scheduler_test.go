package e2e_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/presswork/presswork/internal/app"
	"github.com/presswork/presswork/internal/app/apptest"
	"github.com/presswork/presswork/internal/app/schedulerapp"
	"github.com/presswork/presswork/internal/jobs"
	"github.com/presswork/presswork/internal/store"
	"github.com/presswork/presswork/internal/tasks"
)

const schedulerChildEnv = "PRESSWORK_SCHEDULER_PROCESS"

// leaderKey is where the scheduler replicas keep their lease.
const leaderKey = "presswork:scheduler:leader"

// TestSchedulerReplicas runs two scheduler processes (the test binary
// re-executed, running schedulerapp.Run as cmd/scheduler does) over rules
// firing every two seconds, kills the leader with SIGKILL and checks that
// the other takes over: every slot recorded once, every run planned once,
// and the slots after the kill fired by the survivor within 30 s.
func TestSchedulerReplicas(t *testing.T) {
	if os.Getenv(schedulerChildEnv) != "" {
		runSchedulerProcess(t)
		return
	}
	t.Parallel()
	h := apptest.Start(t)
	h.StartWorker(t)
	a := startAutomation(t, h, "replicas", 100)
	first := time.Now().Truncate(2 * time.Second).Add(4 * time.Second)
	var rules []store.Rule
	for range 3 {
		rules = append(rules, a.rule([]string{store.StageCluster}, 1, func(r *store.Rule) {
			r.Schedule, r.NextFireAt = "*/2 * * * * *", &first
		}))
	}
	var outA, outB bytes.Buffer
	env := []string{"SCHEDULER_TICK=100ms", "SCHEDULER_LEASE_TTL=1s", "LOG_LEVEL=error"}
	procs := map[int]*exec.Cmd{}
	for _, out := range []*bytes.Buffer{&outA, &outB} {
		cmd := startWorkerProcess(t, h, "TestSchedulerReplicas", schedulerChildEnv, out, env...)
		procs[cmd.Process.Pid] = cmd
		t.Cleanup(func() {
			if cmd.ProcessState == nil {
				_ = cmd.Process.Kill()
				_ = cmd.Wait()
			}
		})
	}
	leaderPid := func() int {
		holder, err := redisClient(t, h).Get(t.Context(), leaderKey).Result()
		if err != nil {
			return 0
		}
		parts := strings.Split(holder, "/")
		pid, _ := strconv.Atoi(parts[len(parts)-2])
		return pid
	}
	a.waitRuns(rules, time.Time{}, 3)
	killed := leaderPid()
	leader, ok := procs[killed]
	if !ok {
		t.Fatalf("the lease names pid %d, not one of the scheduler processes", killed)
	}
	apptest.Must(t, leader.Process.Kill(), "SIGKILL the leader")
	_ = leader.Wait()
	killedAt := time.Now()
	a.waitRuns(rules, killedAt, 3)
	survivor := leaderPid()
	if survivor == killed || procs[survivor] == nil {
		t.Fatalf("after the leader %d died the lease names %d", killed, survivor)
	}
	apptest.Must(t, procs[survivor].Process.Signal(syscall.SIGTERM), "SIGTERM the survivor")
	if err := procs[survivor].Wait(); err != nil {
		t.Fatalf("the surviving scheduler did not stop cleanly on SIGTERM: %v\n%s%s", err, outA.String(), outB.String())
	}
	for _, r := range rules {
		a.checkRuns(r, killedAt)
	}
}

// waitRuns waits until each rule has n slots fired after since.
func (a *automation) waitRuns(rules []store.Rule, since time.Time, n int) {
	a.t.Helper()
	apptest.Eventually(a.t, 60*time.Second, fmt.Sprintf("%d runs per rule after %v", n, since), func() (bool, error) {
		for _, r := range rules {
			runs, err := a.h.App.Store.ListRuns(a.t.Context(), a.tenant.ID, r.ID, time.Time{}, 1000)
			if err != nil {
				return false, err
			}
			fired := 0
			for _, run := range runs {
				fired += slotsAfter(run, since)
			}
			if fired < n {
				return false, nil
			}
		}
		return true, nil
	})
}

// slotsAfter counts the fired slots after since that run stands for; none
// for a record of missed slots. The slots a folded record stands for are
// consecutive, two seconds apart in these tests.
func slotsAfter(run store.Run, since time.Time) int {
	switch {
	case run.Status == store.RunMissed:
		return 0
	case run.ScheduledFor.After(since):
		return run.Count
	case run.LastScheduledFor != nil && run.LastScheduledFor.After(since):
		return min(run.Count, int(run.LastScheduledFor.Sub(since)/(2*time.Second))+1)
	}
	return 0
}

// checkRuns checks a rule's records: one per slot (or per consecutive
// slots skipped alike, or missed), two seconds apart but for slots skipped
// while no scheduler led (and any a busy machine made late), each planned
// once, and the first after the kill fired within 30 s.
func (a *automation) checkRuns(r store.Rule, killedAt time.Time) {
	a.t.Helper()
	var runs []store.Run
	apptest.Eventually(a.t, 60*time.Second, "every run planned", func() (bool, error) {
		var err error
		runs, err = a.h.App.Store.ListRuns(a.t.Context(), a.tenant.ID, r.ID, time.Time{}, 1000)
		return !slices.ContainsFunc(runs, func(run store.Run) bool { return run.Status == store.RunQueued }), err
	})
	slices.Reverse(runs)
	takeover := time.Duration(-1)
	for i, run := range runs {
		if i > 0 {
			prev := runs[i-1].ScheduledFor
			if last := runs[i-1].LastScheduledFor; last != nil {
				prev = *last
			}
			gap := run.ScheduledFor.Sub(prev)
			if gap <= 0 || gap%(2*time.Second) != 0 {
				a.t.Errorf("rule %d: runs at %v and %v are not distinct slots", r.ID, prev, run.ScheduledFor)
			}
		}
		if run.Status != store.RunDone && run.Status != store.RunSkipped && run.Status != store.RunMissed {
			a.t.Errorf("run %s ended %s: %+v", run.ID, run.Status, run.Skipped)
		}
		if run.Status == store.RunMissed ||
			len(run.Skipped) > 0 && run.Skipped[0].Reason == "the rule's previous run had not finished planning" {
			continue
		}
		j := a.api.job(run.ID)
		if j.State != store.JobSucceeded || j.Attempts != 1 {
			a.t.Errorf("run %s: job %s after %d attempts, want succeeded after 1", run.ID, j.State, j.Attempts)
		}
		fired := run.FiredAt
		if run.LastFiredAt != nil && !fired.After(killedAt) {
			fired = *run.LastFiredAt // a record folded across the kill
		}
		if takeover < 0 && fired.After(killedAt) {
			takeover = fired.Sub(killedAt)
		}
	}
	if takeover < 0 || takeover > 30*time.Second {
		a.t.Errorf("rule %d: the first run after the leader died fired %v after, want within 30 s", r.ID, takeover)
	}
	a.t.Logf("rule %d: %d runs, first after the kill fired %v later", r.ID, len(runs), takeover.Round(time.Millisecond))
}

func redisClient(t *testing.T, h *apptest.Harness) *redis.Client {
	t.Helper()
	opt, err := redis.ParseURL(h.Env["REDIS_URL"])
	apptest.Must(t, err, "parse REDIS_URL")
	c := redis.NewClient(opt)
	t.Cleanup(func() { c.Close() })
	return c
}

// runSchedulerProcess is the child side: the scheduler as cmd/scheduler
// runs it, until SIGTERM.
func runSchedulerProcess(t *testing.T) {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	apptest.Must(t, app.Run(ctx, app.Process{Name: "scheduler", Admin: true, Run: schedulerapp.Run}), "scheduler")
}

// TestAutomationSurvivesRedisFlush empties Redis twice while rules run:
// once while a run's task waits in the queue, once while the jobs it
// planned wait. The reconciler enqueues each lost task again with its own
// id, and every job completes once, charged once.
func TestAutomationSurvivesRedisFlush(t *testing.T) {
	t.Parallel()
	h := apptest.Start(t, apptest.WithEnv("SCHEDULER_TICK", "100ms"), apptest.WithEnv("SCHEDULER_LEASE_TTL", "1s"),
		apptest.WithEnv("RECONCILE_EVERY", "200ms"), apptest.WithEnv("RECONCILE_GRACE", "500ms"))
	h.StartWorker(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- schedulerapp.Run(ctx, h.App) }()
	t.Cleanup(func() { cancel(); <-done })

	a := startAutomation(t, h, "flush", 1000)
	a.finish(a.run(a.rule([]string{store.StageCluster}, 1)))
	inspector := asynq.NewInspector(h.App.Redis)
	defer inspector.Close()
	now := time.Now()
	due := func(r *store.Rule) { r.NextFireAt = &now }

	// The run's own task is lost.
	apptest.Must(t, inspector.PauseQueue(jobs.QueueDefault), "pause default")
	ideas := a.rule([]string{store.StageIdeas}, 50, due)
	runID := store.RunID(ideas.ID, now)
	apptest.Eventually(t, 30*time.Second, "the scheduler enqueues run "+runID, func() (bool, error) {
		_, err := inspector.GetTaskInfo(jobs.QueueDefault, runID)
		return err == nil, nil
	})
	flushRedis(t, h)
	run := a.waitRun(runID)
	if enqueued(run, store.StageIdeas) == 0 {
		t.Fatalf("run after the flush: %+v, want ideas jobs", run)
	}
	a.finish(run)

	// The jobs a run planned are lost.
	apptest.Must(t, inspector.PauseQueue(jobs.QueueBulk), "pause bulk")
	drafts := a.rule([]string{store.StageDrafts}, 50, due)
	runID = store.RunID(drafts.ID, now)
	run = a.waitRun(runID)
	planned := enqueued(run, store.StageDrafts)
	if planned == 0 {
		t.Fatalf("drafts run: %+v, want draft jobs", run)
	}
	flushRedis(t, h)
	a.finish(run)
	for _, j := range a.api.jobs() {
		if j.Type == tasks.TypeDraft && j.Attempts != 1 {
			t.Errorf("draft job %s ran %d times, want once", j.ID, j.Attempts)
		}
	}
	checkChargedOnce(t, a.api)
	t.Logf("after two flushes: run of %d draft jobs completed", planned)
}
