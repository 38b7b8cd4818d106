package ratelimit_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/presswork/presswork/internal/errs"
	"github.com/presswork/presswork/internal/ratelimit"
	"github.com/presswork/presswork/internal/testenv"
)

// TestFailuresAdmitCountsLookupsInFlight: Admit counts the lookups in
// flight, so that many lookups at once cannot all pass before the first
// failure is counted: a key that has not failed may have
// MaxInFlightFactor times the limit in flight; once it failed, its
// failures and lookups in flight together reach the limit; a lookup
// settled as a success frees its place and counts nothing, one settled as
// failed counts until the window ends.
func TestFailuresAdmitCountsLookupsInFlight(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const period = 5 * time.Second
	f := ratelimit.NewFailures(newClient(t, testenv.RedisURL(t)), "presswork:test-failures")
	ratelimit.SetFailurePeriod(f, period)
	waitNewWindow(t, f, period)
	key := fmt.Sprintf("ip:admit-%d", time.Now().UnixNano())
	const limit = 3
	const most = limit * ratelimit.MaxInFlightFactor
	brief := func(name string, err error) {
		t.Helper()
		var th *errs.ThrottledError
		if !errors.As(err, &th) || th.RetryAfter <= 0 || th.RetryAfter > time.Second {
			t.Fatalf("%s: %v, want throttled for at most a second", name, err)
		}
	}

	// At once, without failures: exactly the most in flight are admitted.
	const burst = most + 20
	var admitted atomic.Int64
	settles := make(chan func(context.Context, bool) error, burst)
	var wg sync.WaitGroup
	for range burst {
		wg.Go(func() {
			settle, err := f.Admit(ctx, key, limit)
			if err == nil {
				admitted.Add(1)
				settles <- settle
				return
			}
			var th *errs.ThrottledError
			if !errors.As(err, &th) || th.RetryAfter <= 0 || th.RetryAfter > time.Second {
				t.Errorf("admit with lookups in flight: %v, want throttled for at most a second", err)
			}
		})
	}
	wg.Wait()
	close(settles)
	if admitted.Load() != most {
		t.Fatalf("%d of %d lookups at once admitted, want %d", admitted.Load(), burst, most)
	}
	var pending []func(context.Context, bool) error
	for s := range settles {
		pending = append(pending, s)
	}
	settle := func(i int, failed bool) {
		t.Helper()
		if err := pending[i](ctx, failed); err != nil {
			t.Fatal(err)
		}
	}

	// A success frees its place and counts nothing.
	settle(0, false)
	again, err := f.Admit(ctx, key, limit)
	if err != nil {
		t.Fatalf("admit after a lookup succeeded: %v", err)
	}
	pending[0] = again
	// One failure: now the failures and the lookups in flight reach the limit.
	settle(0, true)
	_, err = f.Admit(ctx, key, limit)
	brief("admit after a failure with lookups in flight", err)
	for i := 2; i < len(pending); i++ {
		settle(i, false)
	}
	// One failure and one lookup in flight: room for one more lookup.
	third, err := f.Admit(ctx, key, limit)
	if err != nil {
		t.Fatalf("admit with one failure and one lookup in flight (limit %d): %v", limit, err)
	}
	_, err = f.Admit(ctx, key, limit)
	brief("admit with one failure and two lookups in flight", err)
	settle(1, true)
	if err := third(ctx, true); err != nil {
		t.Fatal(err)
	}
	// The limit's failures count for the rest of the window.
	var th *errs.ThrottledError
	if _, err := f.Admit(ctx, key, limit); !errors.As(err, &th) || th.RetryAfter <= time.Second {
		t.Errorf("admit after %d failures: %v, want throttled until the window ends", limit, err)
	}
}
