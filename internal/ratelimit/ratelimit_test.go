package ratelimit_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/presswork/presswork/internal/errs"
	"github.com/presswork/presswork/internal/ratelimit"
	"github.com/presswork/presswork/internal/testenv"
)

const prefix = "presswork:ratelimit"

// processes returns n limiters on one Redis database, each with a client of
// its own, as n worker processes would have.
func processes(t *testing.T, n int) []*ratelimit.Limiter {
	t.Helper()
	url := testenv.RedisURL(t)
	var out []*ratelimit.Limiter
	for range n {
		out = append(out, ratelimit.New(newClient(t, url), prefix))
	}
	return out
}

func newClient(t testing.TB, url string) *redis.Client {
	t.Helper()
	opts, err := redis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	c := redis.NewClient(opts)
	t.Cleanup(func() { c.Close() })
	return c
}

// admission is one call that Wait let through.
type admission struct {
	at     time.Time
	tokens int
}

// hammer runs goroutines on every limiter, each calling Wait with tokens
// until ctx ends, and returns the admissions sorted by time and how many
// each limiter had.
func hammer(ctx context.Context, t *testing.T, lims []*ratelimit.Limiter, goroutines int,
	key string, limits ratelimit.Limits, tokens int) ([]admission, []int) {
	t.Helper()
	var mu sync.Mutex
	var all []admission
	per := make([]int, len(lims))
	var wg sync.WaitGroup
	for i, lim := range lims {
		for range goroutines {
			wg.Go(func() {
				for {
					err := lim.Wait(ctx, key, limits, tokens)
					if err != nil {
						var te *errs.ThrottledError
						if ctx.Err() == nil && !errors.As(err, &te) {
							t.Errorf("Wait: %v", err)
						}
						return
					}
					now := time.Now()
					mu.Lock()
					all = append(all, admission{at: now, tokens: tokens})
					per[i]++
					mu.Unlock()
				}
			})
		}
	}
	wg.Wait()
	slices.SortFunc(all, func(a, b admission) int { return a.at.Compare(b.at) })
	return all, per
}

// maxInWindow is the most requests and tokens admitted in any window of
// length d.
func maxInWindow(as []admission, d time.Duration) (requests, tokens int) {
	j, sum := 0, 0
	for i, a := range as {
		sum += a.tokens
		for as[j].at.Add(d).Compare(a.at) <= 0 {
			sum -= as[j].tokens
			j++
		}
		requests = max(requests, i-j+1)
		tokens = max(tokens, sum)
	}
	return requests, tokens
}

// The limits are per second here (SetPeriod), so that windows can be
// observed in a test; a window is shortened by slack to allow for a
// goroutine that wakes late.
const (
	period = time.Second
	slack  = 250 * time.Millisecond
)

func TestRequestLimitSharedByProcesses(t *testing.T) {
	t.Parallel()
	lims := processes(t, 2)
	for _, l := range lims {
		ratelimit.SetPeriod(l, period)
	}
	const limit = 60
	limits := ratelimit.Limits{RequestsPerMinute: limit}
	ctx, cancel := context.WithTimeout(t.Context(), 2*period+period/2)
	defer cancel()

	got, per := hammer(ctx, t, lims, 4, "openai/gpt-4o-mini", limits, 0)

	if n, _ := maxInWindow(got, period-slack); n > limit {
		t.Errorf("%d requests in a window of %s; the limit is %d per %s", n, period-slack, limit, period)
	}
	// 2.5 periods allow about twice the limit; the bound is loose because
	// throughput is measured by make bench, not by a timed test.
	if want := limit; len(got) < want {
		t.Errorf("%d requests admitted in 2.5 periods, want at least %d", len(got), want)
	}
	if per[0] == 0 || per[1] == 0 {
		t.Errorf("admissions per process = %v; both should be served", per)
	}
}

func TestTokenLimitSharedByProcesses(t *testing.T) {
	t.Parallel()
	lims := processes(t, 2)
	for _, l := range lims {
		ratelimit.SetPeriod(l, period)
	}
	const limit = 6000
	limits := ratelimit.Limits{RequestsPerMinute: 1000, TokensPerMinute: limit}
	ctx, cancel := context.WithTimeout(t.Context(), 2*period+period/2)
	defer cancel()

	got, _ := hammer(ctx, t, lims, 3, "openai/gpt-4o-mini", limits, 250)

	if _, n := maxInWindow(got, period-slack); n > limit {
		t.Errorf("%d tokens in a window of %s; the limit is %d per %s", n, period-slack, limit, period)
	}
	if tokens, want := 250*len(got), limit; tokens < want {
		t.Errorf("%d tokens admitted in 2.5 periods, want at least %d", tokens, want)
	}
}

// waitFor is how long Wait would make a call wait: it asks with a short
// deadline and reads the RetryAfter of the refusal (zero when admitted).
func waitFor(t *testing.T, l *ratelimit.Limiter, key string, limits ratelimit.Limits, tokens int) time.Duration {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	err := l.Wait(ctx, key, limits, tokens)
	var te *errs.ThrottledError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &te) && errors.Is(err, ratelimit.ErrWaitExceedsDeadline):
		return te.RetryAfter
	}
	t.Fatalf("Wait: %v", err)
	return 0
}

func TestRequestBurstThenSteadyRate(t *testing.T) {
	t.Parallel()
	l := processes(t, 1)[0]
	key := "openai/gpt-4o-mini"
	// 120 requests a minute: a burst of 3, then one every minute/118.
	limits := ratelimit.Limits{RequestsPerMinute: 120}
	for i := range 3 {
		if got := waitFor(t, l, key, limits, 0); got != 0 {
			t.Fatalf("request %d of the burst waits %s", i+1, got)
		}
	}
	want := time.Minute / 118
	if got := waitFor(t, l, key, limits, 0); got < want-100*time.Millisecond || got > want+time.Millisecond {
		t.Errorf("after the burst the wait is %s, want about %s", got, want)
	}
}

func TestTokensChargedAndAdjusted(t *testing.T) {
	t.Parallel()
	l := processes(t, 1)[0]
	key := "openai/gpt-4o-mini"
	// 6000 tokens a minute: a burst of 301 tokens, then one token every
	// minute/5700.
	limits := ratelimit.Limits{TokensPerMinute: 6000}
	perToken := time.Minute / 5700

	if err := l.Wait(t.Context(), key, limits, 100); err != nil {
		t.Fatal(err)
	}
	if err := l.Adjust(t.Context(), key, limits, 3000); err != nil {
		t.Fatal(err)
	}
	// 3100 tokens charged, 301 of them within the burst.
	want := (3100 - 301 + 1) * perToken
	if got := waitFor(t, l, key, limits, 1); got < want-time.Second || got > want+10*time.Millisecond {
		t.Errorf("after charging 3100 tokens the wait is %s, want about %s", got, want)
	}
	if err := l.Adjust(t.Context(), key, limits, -3100); err != nil {
		t.Fatal(err)
	}
	if got := waitFor(t, l, key, limits, 1); got != 0 {
		t.Errorf("after giving the tokens back the wait is %s, want none", got)
	}
	// A call larger than the burst goes when the bucket is full; one larger
	// than the limit is charged the limit, so the next call waits about a
	// minute.
	if err := l.Wait(t.Context(), key, limits, 50000); err != nil {
		t.Fatal(err)
	}
	if got := waitFor(t, l, key, limits, 1); got < 50*time.Second || got > time.Minute {
		t.Errorf("after a call larger than the limit the wait is %s, want about a minute", got)
	}
}

func TestBackoffPausesEveryProcess(t *testing.T) {
	t.Parallel()
	lims := processes(t, 2)
	key := "openai/gpt-4o-mini"
	const pause = 300 * time.Millisecond
	// Unlimited keys honour the pause too.
	for _, limits := range []ratelimit.Limits{{}, {RequestsPerMinute: 6000}} {
		start := time.Now()
		if err := lims[0].Backoff(t.Context(), key, pause); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		for i, l := range lims {
			wg.Go(func() {
				if err := l.Wait(t.Context(), key, limits, 0); err != nil {
					t.Errorf("process %d: Wait: %v", i, err)
					return
				}
				// Redis shares this machine's clock; allow for its rounding.
				if waited := time.Since(start); waited < pause-2*time.Millisecond {
					t.Errorf("limits %+v: process %d waited %s, want at least the %s pause", limits, i, waited, pause)
				}
			})
		}
		wg.Wait()
	}
}

func TestLongerBackoffWins(t *testing.T) {
	t.Parallel()
	lims := processes(t, 2)
	key := "replicate/black-forest-labs/flux-schnell"
	limits := ratelimit.Limits{RequestsPerMinute: 600}

	if err := lims[0].Backoff(t.Context(), key, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := lims[1].Backoff(t.Context(), key, 50*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	for i, l := range lims {
		if got := waitFor(t, l, key, limits, 0); got < 4*time.Second {
			t.Errorf("process %d: wait %s after a 5s and a 50ms backoff, want the 5s one", i, got)
		}
	}
	if err := lims[1].Backoff(t.Context(), key, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	if got := waitFor(t, lims[0], key, limits, 0); got < 29*time.Second {
		t.Errorf("wait %s after a 30s backoff, want it to extend the pause", got)
	}
}

func TestCancelReturnsPromptlyAndGivesPlaceBack(t *testing.T) {
	t.Parallel()
	l := processes(t, 1)[0]

	t.Run("paused", func(t *testing.T) {
		key := "paused"
		if err := l.Backoff(t.Context(), key, time.Minute); err != nil {
			t.Fatal(err)
		}
		assertCanceledPromptly(t, l, key, ratelimit.Limits{})
	})

	t.Run("waiting for a place", func(t *testing.T) {
		key := "full"
		limits := ratelimit.Limits{RequestsPerMinute: 1}
		if err := l.Wait(t.Context(), key, limits, 0); err != nil {
			t.Fatal(err)
		}
		assertCanceledPromptly(t, l, key, limits)
		// The canceled call's place is free again: the next call waits for
		// the first one's minute, not for two.
		if got := waitFor(t, l, key, limits, 0); got > time.Minute || got < 50*time.Second {
			t.Errorf("wait after a canceled call = %s, want about a minute", got)
		}
	})
}

func assertCanceledPromptly(t *testing.T, l *ratelimit.Limiter, key string, limits ratelimit.Limits) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- l.Wait(ctx, key, limits, 0) }()
	timer := time.AfterFunc(50*time.Millisecond, cancel)
	defer timer.Stop()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Wait = %v, want context.Canceled", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("Wait did not return within 2s of its context's cancel")
	}
}

func TestWaitBeyondDeadlineFailsAtOnce(t *testing.T) {
	t.Parallel()
	l := processes(t, 1)[0]
	key := "openai/gpt-4o-mini"
	limits := ratelimit.Limits{RequestsPerMinute: 1}
	if err := l.Wait(t.Context(), key, limits, 0); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	start := time.Now()
	err := l.Wait(ctx, key, limits, 0)
	var te *errs.ThrottledError
	if !errors.As(err, &te) || !errors.Is(err, ratelimit.ErrWaitExceedsDeadline) {
		t.Fatalf("Wait = %v, want a ThrottledError wrapping ErrWaitExceedsDeadline", err)
	}
	if te.RetryAfter < 50*time.Second || te.RetryAfter > time.Minute {
		t.Errorf("RetryAfter = %s, want about a minute", te.RetryAfter)
	}
	if took := time.Since(start); took > time.Second {
		t.Errorf("Wait took %s to refuse, want at once", took)
	}
}

func TestZeroLimitsPassThrough(t *testing.T) {
	t.Parallel()
	url := testenv.RedisURL(t)
	rdb := newClient(t, url)
	l := ratelimit.New(rdb, prefix)
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	for range 500 {
		if err := l.Wait(ctx, "openai/gpt-4o-mini", ratelimit.Limits{}, 100000); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Adjust(ctx, "openai/gpt-4o-mini", ratelimit.Limits{}, 5000); err != nil {
		t.Fatal(err)
	}
	if n, err := rdb.DBSize(ctx).Result(); err != nil || n != 0 {
		t.Errorf("DBSize = %d, %v; unlimited keys should store nothing", n, err)
	}
}

func TestRedisDownIsUnavailable(t *testing.T) {
	t.Parallel()
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialTimeout: 200 * time.Millisecond})
	defer rdb.Close()
	l := ratelimit.New(rdb, prefix)
	err := l.Wait(t.Context(), "k", ratelimit.Limits{RequestsPerMinute: 10}, 0)
	if !errors.Is(err, errs.ErrUnavailable) {
		t.Errorf("Wait = %v, want errs.ErrUnavailable", err)
	}
}
