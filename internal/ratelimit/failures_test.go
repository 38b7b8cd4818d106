package ratelimit_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/presswork/presswork/internal/errs"
	"github.com/presswork/presswork/internal/ratelimit"
	"github.com/presswork/presswork/internal/testenv"
)

// TestFailuresSharedWindow: failures counted by two processes add up; the
// key is refused, until its window ends, once the limit is reached (not
// before); a lookup settled as no failure counts nothing; another key is
// counted apart; and a new window admits the key again.
func TestFailuresSharedWindow(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := testenv.RedisURL(t)
	const period = 2 * time.Second
	a := ratelimit.NewFailures(newClient(t, url), "presswork:test-failures")
	b := ratelimit.NewFailures(newClient(t, url), "presswork:test-failures")
	ratelimit.SetFailurePeriod(a, period)
	ratelimit.SetFailurePeriod(b, period)

	// Start at the beginning of a window, so that the three failures and
	// the checks fall in one.
	waitNewWindow(t, a, period)
	for i, f := range []*ratelimit.Failures{a, b, a} {
		if err := admit(ctx, f, "ip:192.0.2.1", 3, false); err != nil {
			t.Fatalf("lookup before failure %d: %v, want admitted", i+1, err)
		}
		if err := admit(ctx, f, "ip:192.0.2.1", 3, true); err != nil {
			t.Fatalf("failure %d: %v", i+1, err)
		}
	}
	for name, f := range map[string]*ratelimit.Failures{"a": a, "b": b} {
		_, err := f.Admit(ctx, "ip:192.0.2.1", 3)
		var th *errs.ThrottledError
		if !errors.As(err, &th) || !errors.Is(err, ratelimit.ErrTooManyFailures) {
			t.Fatalf("process %s after 3 failures: %v, want a ThrottledError", name, err)
		}
		if th.RetryAfter <= 0 || th.RetryAfter > period {
			t.Errorf("process %s: RetryAfter %s, want within the %s window", name, th.RetryAfter, period)
		}
	}
	if err := admit(ctx, a, "ip:192.0.2.1", 4, false); err != nil {
		t.Errorf("3 failures under a limit of 4: %v, want admitted", err)
	}
	if err := admit(ctx, b, "ip:192.0.2.2", 3, false); err != nil {
		t.Errorf("another address: %v, want admitted", err)
	}
	if err := admit(ctx, a, "ip:192.0.2.1", 0, false); err != nil {
		t.Errorf("limit 0: %v, want admitted", err)
	}
	deadline := time.Now().Add(3 * period)
	for admit(ctx, a, "ip:192.0.2.1", 3, false) != nil {
		if time.Now().After(deadline) {
			t.Fatal("still refused two windows later")
		}
		time.Sleep(50 * time.Millisecond) // polling with a deadline
	}
}

// waitNewWindow returns just after a window of f began: it counts a
// failure on a key of its own and polls until the count is gone.
func waitNewWindow(t *testing.T, f *ratelimit.Failures, period time.Duration) {
	t.Helper()
	ctx := context.Background()
	if err := admit(ctx, f, "window-probe", 1, true); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(2 * period)
	for admit(ctx, f, "window-probe", 1, false) != nil {
		if time.Now().After(deadline) {
			t.Fatal("no new window")
		}
		time.Sleep(5 * time.Millisecond) // polling with a deadline
	}
}

// TestFailuresRedisDown: without Redis the error says the limit is
// unavailable, so that callers can let the request through.
func TestFailuresRedisDown(t *testing.T) {
	t.Parallel()
	f := ratelimit.NewFailures(newClient(t, "redis://127.0.0.1:1/0"), "presswork:test-failures")
	if _, err := f.Admit(context.Background(), "ip:192.0.2.1", 3); !errors.Is(err, errs.ErrUnavailable) {
		t.Errorf("admit without Redis: %v, want ErrUnavailable", err)
	}
}

// admit makes one lookup on key under limit, settled as failed or not; it
// returns Admit's refusal.
func admit(ctx context.Context, f *ratelimit.Failures, key string, limit int, failed bool) error {
	settle, err := f.Admit(ctx, key, limit)
	if err != nil {
		return err
	}
	return settle(ctx, failed)
}
