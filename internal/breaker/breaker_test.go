package breaker_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/redis/go-redis/v9"

	"github.com/presswork/presswork/internal/breaker"
	"github.com/presswork/presswork/internal/errs"
	"github.com/presswork/presswork/internal/testenv"
)

const prefix = "presswork:breaker"

// clock is a clock the tests move by hand.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// transitions records the state changes a breaker reports.
type transitions struct {
	mu  sync.Mutex
	got []string
}

func (tr *transitions) record(key string, from, to breaker.State) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	tr.got = append(tr.got, key+": "+from.String()+" -> "+to.String())
}

func (tr *transitions) list() []string {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return append([]string(nil), tr.got...)
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

// processes returns n breakers on one Redis database, each with a client
// of its own as n worker processes would have, all on clk.
func processes(t *testing.T, n int, cfg breaker.Config) []*breaker.Breaker {
	t.Helper()
	url := testenv.RedisURL(t)
	var out []*breaker.Breaker
	for range n {
		b, err := breaker.New(newClient(t, url), prefix, cfg)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

// call makes one call on key through b that ends with o, and returns
// Allow's refusal.
func call(t *testing.T, b *breaker.Breaker, key string, o breaker.Outcome) error {
	t.Helper()
	ctx := context.Background()
	tk, err := b.Allow(ctx, key)
	if err != nil {
		return err
	}
	if err := b.Done(ctx, tk, o); err != nil {
		t.Fatalf("done: %v", err)
	}
	return nil
}

func state(t *testing.T, b *breaker.Breaker, key string) breaker.State {
	t.Helper()
	s, err := b.Stats(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	return s.State
}

func wantOpen(t *testing.T, err error, what string) *breaker.OpenError {
	t.Helper()
	var oe *breaker.OpenError
	if !errors.As(err, &oe) || !errors.Is(err, breaker.ErrOpen) {
		t.Fatalf("%s: %v, want an OpenError", what, err)
	}
	return oe
}

// TestOpensPastThresholdInEveryProcess: failures counted by two processes
// add up; fewer calls than MinCalls never open the circuit, whatever their
// ratio, nor does a ratio under Ratio; the failure that reaches both opens
// it for every process, which then refuses calls for Cooldown; another key
// has a circuit of its own.
func TestOpensPastThresholdInEveryProcess(t *testing.T) {
	t.Parallel()
	clk := newClock()
	var tr transitions
	cfg := breaker.Config{Window: time.Minute, MinCalls: 10, Ratio: 0.5, Cooldown: 30 * time.Second,
		Clock: clk.Now, OnTransition: tr.record}
	ps := processes(t, 2, cfg)
	a, b := ps[0], ps[1]
	const key = "openai/gpt-4o-mini"

	// 9 failures: below MinCalls.
	for i := range 9 {
		if err := call(t, ps[i%2], key, breaker.Failure); err != nil {
			t.Fatalf("failure %d: %v", i+1, err)
		}
	}
	if s := state(t, b, key); s != breaker.Closed {
		t.Fatalf("after 9 failures of 9 calls: %s, want closed (MinCalls 10)", s)
	}
	// 11 successes: 9 of 20 failed, under the ratio.
	for i := range 11 {
		if err := call(t, ps[i%2], key, breaker.Success); err != nil {
			t.Fatalf("success %d: %v", i+1, err)
		}
	}
	if err := call(t, a, key, breaker.Neutral); err != nil {
		t.Fatalf("neutral call: %v", err)
	}
	st, err := a.Stats(context.Background(), key)
	if err != nil || st.State != breaker.Closed || st.Calls != 20 || st.Failures != 9 {
		t.Fatalf("after 9 failures of 20 calls and a neutral one: %+v, %v; want closed with 20 calls, 9 failures", st, err)
	}
	// The 10th failure makes 10 of 21, still under half; the 11th, 11 of 22.
	if err := call(t, b, key, breaker.Failure); err != nil || state(t, a, key) != breaker.Closed {
		t.Fatalf("10 failures of 21: %v, %s; want closed", err, state(t, a, key))
	}
	if err := call(t, b, key, breaker.Failure); err != nil {
		t.Fatal(err)
	}
	for name, p := range map[string]*breaker.Breaker{"a": a, "b": b} {
		if s := state(t, p, key); s != breaker.Open {
			t.Fatalf("process %s after 11 failures of 22: %s, want open", name, s)
		}
		oe := wantOpen(t, call(t, p, key, breaker.Success), "process "+name)
		if oe.RetryAfter != 30*time.Second || oe.Key != key {
			t.Errorf("process %s: %+v, want the key and RetryAfter 30s", name, oe)
		}
	}
	if err := call(t, a, "azure-openai/gpt-4o-mini", breaker.Success); err != nil {
		t.Errorf("another key: %v, want admitted", err)
	}
	clk.Advance(29 * time.Second)
	oe := wantOpen(t, call(t, b, key, breaker.Success), "29s later")
	if oe.RetryAfter != time.Second {
		t.Errorf("29s later: RetryAfter %s, want 1s", oe.RetryAfter)
	}
	if diff := cmp.Diff([]string{key + ": closed -> open"}, tr.list()); diff != "" {
		t.Errorf("transitions (-want +got):\n%s", diff)
	}
}

// TestHalfOpenProbes: after the cooldown one probe at a time is admitted,
// in whichever process asks first; a neutral probe lets the next one
// through; a failed probe reopens the circuit for another cooldown; a
// probe that never ends holds it for ProbeTimeout only, and its late end
// changes nothing; a successful probe closes it, with its counts cleared.
func TestHalfOpenProbes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clk := newClock()
	var tr transitions
	cfg := breaker.Config{MinCalls: 2, Ratio: 1, Cooldown: 10 * time.Second, ProbeTimeout: time.Minute,
		Clock: clk.Now, OnTransition: tr.record}
	ps := processes(t, 2, cfg)
	a, b := ps[0], ps[1]
	const key = "openai/gpt-4o"
	for range 2 {
		if err := call(t, a, key, breaker.Failure); err != nil {
			t.Fatal(err)
		}
	}
	wantOpen(t, call(t, b, key, breaker.Success), "after 2 failures of 2")

	clk.Advance(10 * time.Second)
	if s := state(t, b, key); s != breaker.HalfOpen {
		t.Fatalf("after the cooldown: %s, want half_open", s)
	}
	probe, err := a.Allow(ctx, key)
	if err != nil || !probe.Probe() {
		t.Fatalf("first call after the cooldown: %+v, %v; want a probe", probe, err)
	}
	oe := wantOpen(t, call(t, b, key, breaker.Success), "a second call while the probe is in flight")
	if oe.RetryAfter != time.Minute {
		t.Errorf("while the probe is in flight: RetryAfter %s, want the probe's lease, 1m", oe.RetryAfter)
	}
	// Neutral: the next call probes.
	if err := a.Done(ctx, probe, breaker.Neutral); err != nil {
		t.Fatal(err)
	}
	if probe, err = b.Allow(ctx, key); err != nil || !probe.Probe() {
		t.Fatalf("after a neutral probe: %+v, %v; want another probe", probe, err)
	}
	// Failure: open for another cooldown.
	if err := b.Done(ctx, probe, breaker.Failure); err != nil {
		t.Fatal(err)
	}
	wantOpen(t, call(t, a, key, breaker.Success), "after a failed probe")
	clk.Advance(9 * time.Second)
	wantOpen(t, call(t, a, key, breaker.Success), "9s after a failed probe")
	clk.Advance(time.Second)
	// A probe whose process died: another is admitted after ProbeTimeout.
	lost, err := a.Allow(ctx, key)
	if err != nil || !lost.Probe() {
		t.Fatalf("after the second cooldown: %+v, %v; want a probe", lost, err)
	}
	clk.Advance(59 * time.Second)
	wantOpen(t, call(t, b, key, breaker.Success), "59s into the lost probe's lease")
	clk.Advance(time.Second)
	probe, err = b.Allow(ctx, key)
	if err != nil || !probe.Probe() {
		t.Fatalf("after the lost probe's lease: %+v, %v; want a probe", probe, err)
	}
	// The lost probe's late end is not the current probe's.
	if err := a.Done(ctx, lost, breaker.Success); err != nil {
		t.Fatal(err)
	}
	if s := state(t, a, key); s != breaker.HalfOpen {
		t.Fatalf("after the lost probe's late success: %s, want still half_open", s)
	}
	if err := b.Done(ctx, probe, breaker.Success); err != nil {
		t.Fatal(err)
	}
	st, err := a.Stats(ctx, key)
	if err != nil || st.State != breaker.Closed || st.Calls != 0 || st.Failures != 0 {
		t.Fatalf("after a successful probe: %+v, %v; want closed with nothing counted", st, err)
	}
	// Cleared counts: one failure does not reopen it.
	if err := call(t, a, key, breaker.Failure); err != nil || state(t, a, key) != breaker.Closed {
		t.Fatalf("one failure after closing: %v, %s; want closed", err, state(t, a, key))
	}
	want := []string{
		key + ": closed -> open", key + ": open -> half_open", key + ": half_open -> open",
		key + ": open -> half_open", key + ": half_open -> closed",
	}
	if diff := cmp.Diff(want, tr.list()); diff != "" {
		t.Errorf("transitions (-want +got):\n%s", diff)
	}
}

// TestLateOutcomesOfOpenCircuit: calls admitted while the circuit was
// closed and ending after it opened count for nothing, neither reopening
// it later nor closing it.
func TestLateOutcomesOfOpenCircuit(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clk := newClock()
	b := processes(t, 1, breaker.Config{MinCalls: 2, Ratio: 0.5, Cooldown: 10 * time.Second, Clock: clk.Now})[0]
	const key = "k"
	var inFlight []breaker.Ticket
	for range 3 {
		tk, err := b.Allow(ctx, key)
		if err != nil || tk.Probe() {
			t.Fatalf("closed circuit: %+v, %v", tk, err)
		}
		inFlight = append(inFlight, tk)
	}
	for _, tk := range inFlight[:2] {
		if err := b.Done(ctx, tk, breaker.Failure); err != nil {
			t.Fatal(err)
		}
	}
	if s := state(t, b, key); s != breaker.Open {
		t.Fatalf("after 2 failures: %s, want open", s)
	}
	if err := b.Done(ctx, inFlight[2], breaker.Success); err != nil {
		t.Fatal(err)
	}
	if s := state(t, b, key); s != breaker.Open {
		t.Fatalf("after a late success: %s, want open", s)
	}
}

// TestSlidingWindow: the previous window's counts weigh by how much of it
// is still within Window, so a run of failures across a window's edge
// opens the circuit; counts older than two windows are forgotten.
func TestSlidingWindow(t *testing.T) {
	t.Parallel()
	clk := newClock() // on a minute's edge: windows start at whole minutes
	b := processes(t, 1, breaker.Config{Window: time.Minute, MinCalls: 4, Ratio: 0.5, Clock: clk.Now})[0]
	const key = "k"
	clk.Advance(50 * time.Second)
	for range 3 {
		if err := call(t, b, key, breaker.Failure); err != nil {
			t.Fatal(err)
		}
	}
	// 15s into the next window, 45s of the last one's 60 still count: 3 *
	// 0.75 + 1 = 3.25 calls, short of 4.
	clk.Advance(25 * time.Second)
	if err := call(t, b, key, breaker.Failure); err != nil {
		t.Fatal(err)
	}
	st, err := b.Stats(context.Background(), key)
	if err != nil || st.State != breaker.Closed || st.Calls != 3.25 || st.Failures != 3.25 {
		t.Fatalf("15s into the next window: %+v, %v; want closed, 3.25 calls and failures", st, err)
	}
	if err := call(t, b, key, breaker.Failure); err != nil {
		t.Fatal(err)
	}
	if s := state(t, b, key); s != breaker.Open {
		t.Fatalf("4.25 failures of 4.25 calls: %s, want open", s)
	}

	// Another key: failures two windows ago are forgotten.
	const old = "old"
	for range 3 {
		if err := call(t, b, old, breaker.Failure); err != nil {
			t.Fatal(err)
		}
	}
	clk.Advance(2 * time.Minute)
	st, err = b.Stats(context.Background(), old)
	if err != nil || st.Calls != 0 {
		t.Fatalf("two windows later: %+v, %v; want nothing counted", st, err)
	}
	for range 2 {
		if err := call(t, b, old, breaker.Failure); err != nil {
			t.Fatal(err)
		}
	}
	if s := state(t, b, old); s != breaker.Closed {
		t.Fatalf("2 failures after 3 forgotten: %s, want closed", s)
	}
}

// TestServerClock: without a clock of its own, the breaker times its
// cooldown on the Redis server's clock.
func TestServerClock(t *testing.T) {
	t.Parallel()
	b := processes(t, 1, breaker.Config{MinCalls: 1, Ratio: 1, Cooldown: 300 * time.Millisecond})[0]
	const key = "k"
	if err := call(t, b, key, breaker.Failure); err != nil {
		t.Fatal(err)
	}
	oe := wantOpen(t, call(t, b, key, breaker.Success), "after a failure")
	if oe.RetryAfter <= 0 || oe.RetryAfter > 300*time.Millisecond {
		t.Errorf("RetryAfter %s, want within the 300ms cooldown", oe.RetryAfter)
	}
	deadline := time.Now().Add(5 * time.Second)
	for call(t, b, key, breaker.Success) != nil {
		if time.Now().After(deadline) {
			t.Fatal("still open 5s after a 300ms cooldown")
		}
		time.Sleep(20 * time.Millisecond) // polling with a deadline
	}
	if s := state(t, b, key); s != breaker.Closed {
		t.Errorf("after a successful probe: %s, want closed", s)
	}
}

// TestRedisDown: without Redis the errors say the breaker is unavailable,
// so that callers can let the call through.
func TestRedisDown(t *testing.T) {
	t.Parallel()
	b, err := breaker.New(newClient(t, "redis://127.0.0.1:1/0"), prefix, breaker.Config{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := b.Allow(ctx, "k"); !errors.Is(err, errs.ErrUnavailable) {
		t.Errorf("allow without Redis: %v, want ErrUnavailable", err)
	}
	if err := b.Done(ctx, breaker.Ticket{Key: "k"}, breaker.Failure); !errors.Is(err, errs.ErrUnavailable) {
		t.Errorf("done without Redis: %v, want ErrUnavailable", err)
	}
}

// TestConfigRange: a ratio beyond 1 or a negative duration is refused.
func TestConfigRange(t *testing.T) {
	t.Parallel()
	for _, cfg := range []breaker.Config{{Ratio: 1.5}, {Ratio: -0.1}, {Window: -time.Second}, {MinCalls: -1}} {
		if _, err := breaker.New(nil, prefix, cfg); err == nil {
			t.Errorf("New(%+v) succeeded, want an error", cfg)
		}
	}
}
