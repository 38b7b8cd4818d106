package worker

import (
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"testing"
	"time"

	"github.com/presswork/presswork/internal/config"
	"github.com/presswork/presswork/internal/errs"
	"github.com/presswork/presswork/internal/jobs"
)

func TestRetryDelay(t *testing.T) {
	t.Parallel()
	failed := errors.New("provider answered HTTP 503")
	throttled := &errs.ThrottledError{RetryAfter: time.Hour, Err: failed}
	tests := []struct {
		name   string
		n      int
		err    error
		lo, hi time.Duration
	}{
		{"first retry: base, spread a quarter", 0, failed, 750 * time.Millisecond, 1250 * time.Millisecond},
		{"third retry: 4 base", 2, failed, 3 * time.Second, 5 * time.Second},
		{"capped at most", 10, failed, 45 * time.Second, 75 * time.Second},
		{"no shift overflow", 64, failed, 45 * time.Second, 75 * time.Second},
		{"throttled: Retry-After as it is", 3, throttled, time.Hour, time.Hour},
		{"throttled, wrapped", 0, fmt.Errorf("write draft: %w", throttled), time.Hour, time.Hour},
		{"throttled without Retry-After: backoff", 0, &errs.ThrottledError{Err: failed},
			750 * time.Millisecond, 1250 * time.Millisecond},
	}
	delay := retryDelay(time.Second, time.Minute)
	for _, tt := range tests {
		for range 200 {
			if d := delay(tt.n, tt.err, nil); d < tt.lo || d > tt.hi {
				t.Fatalf("%s: retry %d waits %s, want between %s and %s", tt.name, tt.n, d, tt.lo, tt.hi)
			}
		}
	}
}

func TestServerConfig(t *testing.T) {
	t.Parallel()
	c := config.Config{WorkerConcurrency: 7, RetryBaseDelay: time.Second, RetryMaxDelay: time.Minute}
	got := ServerConfig(c, slog.New(slog.DiscardHandler))
	if got.Concurrency != 7 || !maps.Equal(got.Queues, jobs.Queues) {
		t.Errorf("concurrency %d, queues %v; want 7 and %v", got.Concurrency, got.Queues, jobs.Queues)
	}
	throttled := fmt.Errorf("draft: %w", &errs.ThrottledError{RetryAfter: time.Second, Err: errors.New("429")})
	if got.IsFailure(throttled) {
		t.Error("a throttled attempt counts as a failure")
	}
	if !got.IsFailure(errors.New("HTTP 503")) {
		t.Error("an ordinary failed attempt does not count as a failure")
	}
}
