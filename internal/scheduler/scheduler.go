package scheduler

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/presswork/presswork/internal/cronspec"
	"github.com/presswork/presswork/internal/store"
)

// Submitter records jobs and puts them on the queue (jobs.Client).
type Submitter interface {
	// Submit runs commit, which records jobs, then enqueues those it
	// returns; it returns commit's error.
	Submit(ctx context.Context, commit func(context.Context) ([]store.Job, error)) error
}

// Scheduler fires due automation rules.
type Scheduler struct {
	Store *store.Store
	Jobs  Submitter
	Lease *Lease
	Log   *slog.Logger
	Now   func() time.Time
	// Batch bounds the rules one transaction fires.
	Batch int

	fired atomic.Int64
}

// Fired counts the runs this scheduler recorded and enqueued.
func (s *Scheduler) Fired() int64 { return s.fired.Load() }

// FireDue fires every rule due now and enqueues the runs' tasks, batch by
// batch, and returns how many runs it recorded. A task that cannot be
// enqueued stays queued in PostgreSQL for the reconciler.
func (s *Scheduler) FireDue(ctx context.Context) (int, error) {
	total := 0
	for {
		fired, runs, err := s.fireBatch(ctx)
		if err != nil {
			return total, err
		}
		total += fired
		s.fired.Add(int64(runs))
		if fired < s.Batch || ctx.Err() != nil {
			return total, ctx.Err()
		}
	}
}

// fireBatch fires a batch of due rules and enqueues the runs' jobs; it
// returns how many rules fired and how many run jobs they made.
func (s *Scheduler) fireBatch(ctx context.Context) (fired, runs int, err error) {
	err = s.Jobs.Submit(ctx, func(ctx context.Context) ([]store.Job, error) {
		now := s.Now()
		firings, err := s.Store.FireDueRules(ctx, now, s.Batch, func(r store.Rule) store.Advance { return s.next(r, now) })
		if err != nil {
			return nil, err
		}
		fired = len(firings)
		js := make([]store.Job, 0, len(firings))
		for _, f := range firings {
			if f.Job != nil {
				js = append(js, *f.Job)
			}
			if f.Missed > 0 {
				s.Log.Warn("slots of a rule were missed", "rule", f.Rule.ID, "tenant", f.Rule.TenantID, "missed", f.Missed)
			}
		}
		runs = len(js)
		return js, nil
	})
	return fired, runs, err
}

// maxCountedMisses bounds the slots counted as missed for one rule. The
// count runs inside the firing transaction (3-15 µs a slot measured), so
// after a long outage a batch of rules must not hold its row locks and the
// lease loop for long: 1,000 slots is 3.5 days of a rule at the 5-minute
// minimum interval; past it the record says "at least".
const maxCountedMisses = 1000

// next is when r fires after its due slot fired at now (zero, the rule
// disabled, when its schedule no longer parses or never fires again), and
// the slots between that it missed.
func (s *Scheduler) next(r store.Rule, now time.Time) store.Advance {
	sched, err := cronspec.Parse(r.Schedule, r.Timezone, 0)
	if err != nil {
		s.Log.Warn("disabling a rule whose schedule no longer parses", "rule", r.ID, "tenant", r.TenantID, "error", err)
		return store.Advance{}
	}
	a := store.Advance{Next: sched.After(*r.NextFireAt, now)}
	a.Missed, a.MissedFrom, a.MissedTo, a.AtLeast = sched.Missed(*r.NextFireAt, now, maxCountedMisses)
	return a
}

// Run takes part in the leader election and, while it leads, fires due
// rules every tick, until ctx ends; then it gives up the lease.
func (s *Scheduler) Run(ctx context.Context, tick time.Duration) {
	renewEvery := s.Lease.TTL / 3
	var lastTry time.Time
	ticker := time.NewTicker(tick)
	defer ticker.Stop()
	leading := false
	for {
		if now := s.Now(); now.Sub(lastTry) >= renewEvery || !leading {
			lastTry = now
			held, err := s.Lease.Try(ctx)
			if err != nil {
				s.Log.Warn("cannot renew the scheduler lease", "error", err)
			}
			if held != leading {
				s.Log.Info("scheduler leadership changed", "leading", held, "holder", s.Lease.Holder)
			}
			leading = held
		}
		if s.Lease.Held() {
			if n, err := s.FireDue(ctx); err != nil && ctx.Err() == nil {
				s.Log.Warn("firing due rules failed", "error", err, "fired", n)
			} else if n > 0 {
				s.Log.Info("fired automation rules", "runs", n)
			}
		}
		select {
		case <-ctx.Done():
			release, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
			defer cancel()
			if err := s.Lease.Release(release); err != nil {
				s.Log.Warn("releasing the scheduler lease", "error", err)
			}
			return
		case <-ticker.C:
		}
	}
}

// WhileLeading runs fn every interval while lease is held, until ctx ends.
func WhileLeading(ctx context.Context, lease *Lease, every time.Duration, fn func(context.Context)) {
	ticker := time.NewTicker(every)
	defer ticker.Stop()
	for {
		if lease.Held() {
			fn(ctx)
		}
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}
