package scheduler_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/presswork/presswork/internal/jobs"
	"github.com/presswork/presswork/internal/scheduler"
	"github.com/presswork/presswork/internal/store"
	"github.com/presswork/presswork/internal/tasks"
	"github.com/presswork/presswork/internal/testenv"
)

var seq atomic.Int64

// clock is a settable time source.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Set(t time.Time) { c.mu.Lock(); c.now = t; c.mu.Unlock() }

// env is one test's PostgreSQL, Redis and a tenant's site.
type env struct {
	store  *store.Store
	redis  asynq.RedisConnOpt
	rdb    redis.UniversalClient
	tenant store.Tenant
	site   store.Site
}

func newEnv(t *testing.T) *env {
	t.Helper()
	t.Parallel()
	st := testenv.Store(t)
	jobs.Configure(st, nil)
	opt, err := asynq.ParseRedisURI(testenv.RedisURL(t))
	if err != nil {
		t.Fatal(err)
	}
	rdb := opt.MakeRedisClient().(redis.UniversalClient)
	t.Cleanup(func() { rdb.Close() })
	n := seq.Add(1)
	tn, err := st.CreateTenant(t.Context(), store.NewTenant{Slug: fmt.Sprintf("t-%d", n), Name: "T", Plan: "pro", Credits: 100})
	if err != nil {
		t.Fatal(err)
	}
	name, url, user := "Blog", "https://blog.example.com", "admin"
	site, err := st.CreateSite(t.Context(), tn.ID, store.SiteFields{Name: &name, URL: &url, WPUser: &user, AppPasswordEnc: []byte("x")})
	if err != nil {
		t.Fatal(err)
	}
	return &env{store: st, redis: opt, rdb: rdb, tenant: tn, site: site}
}

// rule stores an enabled rule due first at first.
func (e *env) rule(t *testing.T, spec string, first time.Time) store.Rule {
	t.Helper()
	r, err := e.store.CreateRule(t.Context(), e.tenant.ID, store.Rule{SiteID: e.site.ID, Name: fmt.Sprintf("rule %d", seq.Add(1)),
		Schedule: spec, Timezone: "UTC", Stages: []string{store.StageCluster}, IdeasPerCluster: 3, MaxItems: 10,
		Enabled: true, NextFireAt: &first})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func (e *env) scheduler(t *testing.T, c *clock, holder string) *scheduler.Scheduler {
	t.Helper()
	client := asynq.NewClient(e.redis)
	t.Cleanup(func() { client.Close() })
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	return &scheduler.Scheduler{Store: e.store, Jobs: jobs.New(e.store, client, log), Batch: 50, Now: c.Now, Log: log,
		Lease: &scheduler.Lease{Redis: e.rdb, Key: "leader", Holder: holder, TTL: time.Minute, Now: c.Now}}
}

func (e *env) runs(t *testing.T, ruleID int64) []store.Run {
	t.Helper()
	runs, err := e.store.ListRuns(t.Context(), e.tenant.ID, ruleID, time.Time{}, 1000)
	if err != nil {
		t.Fatal(err)
	}
	return runs
}

func fireDue(t *testing.T, s *scheduler.Scheduler) int {
	t.Helper()
	n, err := s.FireDue(t.Context())
	if err != nil {
		t.Fatalf("FireDue: %v", err)
	}
	return n
}

var t0 = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)

func TestEachSlotFiresOnceWithItsOwnTask(t *testing.T) {
	e := newEnv(t)
	c := &clock{now: t0.Add(-time.Second)}
	s := e.scheduler(t, c, "a")
	r := e.rule(t, "0 * * * *", t0)
	if n := fireDue(t, s); n != 0 {
		t.Fatalf("fired %d runs before the rule was due", n)
	}
	inspector := asynq.NewInspector(e.redis)
	defer inspector.Close()
	for slot := range 3 {
		c.Set(t0.Add(time.Duration(slot)*time.Hour + 2*time.Second))
		if n := fireDue(t, s); n != 1 {
			t.Fatalf("slot %d: fired %d runs, want 1", slot, n)
		}
		if n := fireDue(t, s); n != 0 {
			t.Fatalf("slot %d: a second pass fired %d runs", slot, n)
		}
		id := store.RunID(r.ID, t0.Add(time.Duration(slot)*time.Hour))
		info, err := inspector.GetTaskInfo(jobs.QueueDefault, id)
		if slot < 2 && (err != nil || info.Type != tasks.TypeAutomation) {
			t.Fatalf("slot %d: task %s: %+v, %v", slot, id, info, err)
		}
		if slot == 2 && err == nil {
			t.Fatalf("slot 2 was enqueued while slot 1's run was still queued")
		}
		// The run's job is still queued (no worker): the next slot of the
		// rule must still be recorded, but skipped, not piled up.
		if slot == 0 {
			if err := e.store.FailJob(t.Context(), e.tenant.ID, id, store.Failure{Message: "test: let the next slot run"}); err != nil {
				t.Fatal(err)
			}
		}
	}
	runs := e.runs(t, r.ID)
	if len(runs) != 3 {
		t.Fatalf("%d runs recorded, want 3", len(runs))
	}
	// Newest first: slot 2 found slot 1's run still queued.
	if runs[0].Status != store.RunSkipped || len(runs[0].Skipped) != 1 {
		t.Errorf("a slot fired while the previous run was queued: %+v, want it skipped with a reason", runs[0])
	}
	if runs[1].Status != store.RunQueued {
		t.Errorf("slot 1 run: %+v, want queued", runs[1])
	}
	got, err := e.store.GetRule(t.Context(), e.tenant.ID, r.ID)
	if err != nil || !got.NextFireAt.Equal(t0.Add(3*time.Hour)) || !got.LastFiredAt.Equal(t0.Add(2*time.Hour)) {
		t.Errorf("rule after three slots: next %v last %v (%v)", got.NextFireAt, got.LastFiredAt, err)
	}
}

func TestCatchUpAfterAnOutageFiresOncePerRule(t *testing.T) {
	e := newEnv(t)
	c := &clock{now: t0}
	s := e.scheduler(t, c, "a")
	hourly := e.rule(t, "0 * * * *", t0)
	every := e.rule(t, "@every 3h", t0)
	// The scheduler was down for a day and a half.
	c.Set(t0.Add(36*time.Hour + 30*time.Minute))
	if n := fireDue(t, s); n != 2 {
		t.Fatalf("after the outage %d runs fired, want one per rule (2)", n)
	}
	if n := fireDue(t, s); n != 0 {
		t.Fatalf("a second pass fired %d more", n)
	}
	for _, r := range []store.Rule{hourly, every} {
		runs := slices.DeleteFunc(e.runs(t, r.ID), func(run store.Run) bool { return run.Status == store.RunMissed })
		if len(runs) != 1 || !runs[0].ScheduledFor.Equal(t0) {
			t.Errorf("rule %s: runs %+v, want one for the missed slot %v", r.Schedule, runs, t0)
		}
		got, _ := e.store.GetRule(t.Context(), e.tenant.ID, r.ID)
		if !got.NextFireAt.After(c.Now()) {
			t.Errorf("rule %s: next fire %v is not after now %v", r.Schedule, got.NextFireAt, c.Now())
		}
	}
}

func TestTwoSchedulersFiringTogetherRecordEachSlotOnce(t *testing.T) {
	e := newEnv(t)
	c := &clock{now: t0}
	a, b := e.scheduler(t, c, "a"), e.scheduler(t, c, "b")
	const rules = 120
	for range rules {
		e.rule(t, "*/10 * * * *", t0)
	}
	total := 0
	for slot := range 3 {
		c.Set(t0.Add(time.Duration(slot) * 10 * time.Minute))
		var wg sync.WaitGroup
		var na, nb int
		wg.Go(func() { na = fireDue(t, a) })
		wg.Go(func() { nb = fireDue(t, b) })
		wg.Wait()
		if na+nb != rules {
			t.Fatalf("slot %d: the two schedulers fired %d + %d runs, want %d in all", slot, na, nb, rules)
		}
		total += na + nb
		// Let the next slot's runs plan: finish this slot's run jobs.
		queued, err := e.store.ListJobs(t.Context(), e.tenant.ID,
			store.JobFilter{State: store.JobQueued, Type: tasks.TypeAutomation}, "", 1000)
		if err != nil {
			t.Fatal(err)
		}
		for _, j := range queued {
			if err := e.store.FailJob(t.Context(), e.tenant.ID, j.ID, store.Failure{Message: "test"}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if a.Fired()+b.Fired() != int64(total) {
		t.Errorf("enqueued %d + %d run tasks for %d runs", a.Fired(), b.Fired(), total)
	}
	inspector := asynq.NewInspector(e.redis)
	defer inspector.Close()
	q, err := inspector.GetQueueInfo(jobs.QueueDefault)
	if err != nil || q.Pending != total {
		t.Errorf("asynq holds %v pending run tasks (%v), want %d", q, err, total)
	}
}

func TestLeaseHasOneHolderAndPassesOn(t *testing.T) {
	e := newEnv(t)
	c := &clock{now: time.Now()}
	lease := func(holder string) *scheduler.Lease {
		return &scheduler.Lease{Redis: e.rdb, Key: "leader", Holder: holder, TTL: 300 * time.Millisecond, Now: c.Now}
	}
	a, b := lease("a"), lease("b")
	ctx := context.Background()
	if ok, err := a.Try(ctx); !ok || err != nil {
		t.Fatalf("a could not take a free lease: %v", err)
	}
	if ok, _ := b.Try(ctx); ok || b.Held() {
		t.Fatal("b took a lease a holds")
	}
	if ok, _ := a.Try(ctx); !ok || !a.Held() {
		t.Fatal("a could not renew its lease")
	}
	// a's clock says its lease ran out: it no longer counts as leader even
	// before Redis expires the key.
	c.Set(c.Now().Add(time.Second))
	if a.Held() {
		t.Fatal("a still leads past its lease")
	}
	// a dies without releasing: the key expires in Redis and b takes over.
	deadline := time.Now().Add(10 * time.Second)
	for ok := false; !ok; {
		if time.Now().After(deadline) {
			t.Fatal("b did not take over an expired lease")
		}
		ok, _ = b.Try(ctx)
	}
	if err := b.Release(ctx); err != nil || b.Held() {
		t.Fatalf("release: %v", err)
	}
	if ok, _ := a.Try(ctx); !ok {
		t.Fatal("a could not take a released lease")
	}
}
