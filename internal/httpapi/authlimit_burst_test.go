package httpapi_test

import (
	"net/http"
	"strconv"
	"sync"
	"testing"

	"github.com/presswork/presswork/internal/app/apptest"
	"github.com/presswork/presswork/internal/httpapi"
	"github.com/presswork/presswork/internal/ratelimit"
)

// TestAuthFailuresLimitedAtOnce (#17.4): wrong keys sent all at once from
// one address are held to a bound too (the lookups in flight count; see
// ratelimit.Failures.Admit). With a check before each lookup and a count
// after it, every one of them passed the check before the first failure
// was counted, and each was looked up.
func TestAuthFailuresLimitedAtOnce(t *testing.T) {
	t.Parallel()
	h := apptest.Start(t)
	api := h.API.Handler()
	const burst = 600
	answers := make([]answer, burst)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range burst {
		wg.Go(func() {
			<-start
			answers[i] = from(t, api, "203.0.113.99:1", "GET", "/v1/tenant", bearer(unknownKey)...)
		})
	}
	close(start)
	wg.Wait()
	looked := 0
	for i, a := range answers {
		switch a.Status {
		case http.StatusUnauthorized:
			looked++
		case http.StatusTooManyRequests:
			if s, err := strconv.Atoi(a.Header.Get("Retry-After")); err != nil || s < 1 || s > 60 {
				t.Errorf("answer %d: Retry-After %q", i, a.Header.Get("Retry-After"))
			}
		default:
			t.Errorf("answer %d: status %d, want 401 or 429; body %s", i, a.Status, clipBody(a.Body))
		}
	}
	if most := httpapi.AuthFailuresPerMinute * ratelimit.MaxInFlightFactor; looked > most {
		t.Errorf("%d of %d wrong keys sent at once were looked up (answered 401), want at most %d", looked, burst, most)
	}
	// The burst's failures were counted: the address is refused for the minute.
	refused(t, "after the burst", from(t, api, "203.0.113.99:2", "GET", "/v1/tenant", bearer(unknownKey)...))
}
