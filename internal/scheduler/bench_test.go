package scheduler_test

import (
	"fmt"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/presswork/presswork/internal/jobs"
	"github.com/presswork/presswork/internal/scheduler"
	"github.com/presswork/presswork/internal/store"
)

// TestBenchFiringTenThousandRules is part of `make bench`: 10,000 rules of
// 1,000 tenants due in the same second, fired by two schedulers at once
// (both acting as leader: the worst overlap). The schedulers' clock is
// moved to the slot at a known wall time; each firing's lag is the wall
// time from then until the pass that fired it had enqueued its task. It
// checks that each firing was enqueued exactly once.
func TestBenchFiringTenThousandRules(t *testing.T) {
	if os.Getenv("PRESSWORK_BENCH") == "" {
		t.Skip("a benchmark: run with PRESSWORK_BENCH=1 (make bench)")
	}
	const tenants, perTenant = 1000, 10
	e := newEnv(t)
	setupStart := time.Now()
	e.benchRules(t, tenants, perTenant)
	t.Logf("setup of %d rules: %v", tenants*perTenant, time.Since(setupStart).Round(time.Millisecond))

	c := &clock{now: t0.Add(-time.Minute)}
	a, b := e.scheduler(t, c, "a"), e.scheduler(t, c, "b")
	a.Batch, b.Batch = 1000, 1000
	var mu sync.Mutex
	var lags []time.Duration // one per firing
	var due time.Time
	loop := func(s *scheduler.Scheduler) {
		for a.Fired()+b.Fired() < tenants*perTenant && time.Since(due) < time.Minute {
			before := s.Fired()
			if _, err := s.FireDue(t.Context()); err != nil {
				t.Error(err)
				return
			}
			lag := time.Since(due)
			mu.Lock()
			for range s.Fired() - before {
				lags = append(lags, lag)
			}
			mu.Unlock()
			time.Sleep(20 * time.Millisecond) // half of a 50 ms scheduler tick, on average
		}
	}
	due = time.Now()
	c.Set(t0.Add(time.Second)) // the slot has come
	var wg sync.WaitGroup
	wg.Go(func() { loop(a) })
	wg.Go(func() { loop(b) })
	wg.Wait()

	inspector := asynq.NewInspector(e.redis)
	defer inspector.Close()
	q, err := inspector.GetQueueInfo(jobs.QueueDefault)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(lags)
	fired := a.Fired() + b.Fired()
	n := len(lags)
	raw := rawEnqueue(t, e, tenants*perTenant)
	fmt.Printf("| scheduler firing: %d rules of %d tenants due at once, two schedulers | every firing enqueued within %v of its slot "+
		"(target <= 5s); baseline: raw asynq enqueue of as many tasks with 8 goroutines %v (ratio %.2f); "+
		"%d tasks for %d firings, duplicates %d (replica a %d, b %d) |\n",
		tenants*perTenant, tenants, lags[n-1].Round(time.Millisecond), raw.Round(time.Millisecond),
		float64(lags[n-1])/float64(raw), q.Pending, n, q.Pending-n, a.Fired(), b.Fired())
	if fired != tenants*perTenant || q.Pending != tenants*perTenant {
		t.Errorf("%d firings enqueued, %d tasks pending, want %d of each", fired, q.Pending, tenants*perTenant)
	}
}

// rawEnqueue times the enqueue of n tasks straight to asynq with eight
// goroutines: the baseline of the firing figure.
func rawEnqueue(t *testing.T, e *env, n int) time.Duration {
	t.Helper()
	client := asynq.NewClient(e.redis)
	defer client.Close()
	next := make(chan int)
	var wg sync.WaitGroup
	start := time.Now()
	for range 8 {
		wg.Go(func() {
			for i := range next {
				task := asynq.NewTask("bench:raw", []byte(`{"tenant_id":1,"job_id":"x"}`), asynq.TaskID(fmt.Sprint("raw-", i)), asynq.Queue("raw"))
				if _, err := client.Enqueue(task); err != nil {
					t.Error(err)
				}
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	return time.Since(start)
}

// benchRules creates tenants with a site and perTenant rules each, all due
// at t0, eight tenants at a time.
func (e *env) benchRules(t *testing.T, tenants, perTenant int) {
	t.Helper()
	next := make(chan int)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for i := range next {
				if err := e.benchTenant(t, i, perTenant); err != nil {
					t.Error(err)
				}
			}
		})
	}
	for i := range tenants {
		next <- i
	}
	close(next)
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
}

func (e *env) benchTenant(t *testing.T, i, rules int) error {
	tn, err := e.store.CreateTenant(t.Context(), store.NewTenant{Slug: fmt.Sprintf("bench-%d", i), Name: "B", Plan: "pro", Credits: 10})
	if err != nil {
		return err
	}
	name, url, user := "Blog", "https://b.example.com", "admin"
	site, err := e.store.CreateSite(t.Context(), tn.ID, store.SiteFields{Name: &name, URL: &url, WPUser: &user, AppPasswordEnc: []byte("x")})
	if err != nil {
		return err
	}
	slot := t0
	for j := range rules {
		if _, err := e.store.CreateRule(t.Context(), tn.ID, store.Rule{SiteID: site.ID, Name: fmt.Sprint(j), Schedule: "*/5 * * * *",
			Timezone: "UTC", Stages: []string{store.StageCluster}, IdeasPerCluster: 3, MaxItems: 10, Enabled: true, NextFireAt: &slot}); err != nil {
			return err
		}
	}
	return nil
}
