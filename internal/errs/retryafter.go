package errs

import (
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// maxRetryAfter caps what ParseRetryAfter and ParseRetryAfterMs read.
const maxRetryAfter = 24 * time.Hour

// ParseRetryAfter reads a Retry-After header value, in seconds (possibly
// fractional) or as an HTTP date relative to now, capped at a day; a date
// in the past is 0. ok is false for an empty, negative or unreadable value.
func ParseRetryAfter(v string, now time.Time) (d time.Duration, ok bool) {
	v = strings.TrimSpace(v)
	if d, ok := parseCount(v, time.Second); ok {
		return d, true
	}
	if at, err := http.ParseTime(v); err == nil {
		return min(max(at.Sub(now), 0), maxRetryAfter), true
	}
	return 0, false
}

// ParseRetryAfterMs reads a retry-after-ms header value (sent by OpenAI
// and Azure OpenAI), in milliseconds (possibly fractional), capped at a
// day. ok is false for an empty, negative or unreadable value.
func ParseRetryAfterMs(v string) (d time.Duration, ok bool) {
	return parseCount(strings.TrimSpace(v), time.Millisecond)
}

// parseCount reads a non-negative, possibly fractional number of units,
// capped at maxRetryAfter.
func parseCount(v string, unit time.Duration) (time.Duration, bool) {
	n, err := strconv.ParseFloat(v, 64)
	if err != nil || math.IsNaN(n) || n < 0 {
		return 0, false
	}
	return time.Duration(min(n*float64(unit), float64(maxRetryAfter))), true
}

// RetryAfterBounds is how a client turns a throttled reply into a wait:
// Default when the reply names no readable wait, and never less than Min
// nor more than Max.
type RetryAfterBounds struct {
	Default, Min, Max time.Duration
}

// Clamp returns d within the bounds, or Default within them when ok is
// false; its arguments are what ParseRetryAfter returns.
func (b RetryAfterBounds) Clamp(d time.Duration, ok bool) time.Duration {
	if !ok {
		d = b.Default
	}
	return min(max(d, b.Min), b.Max)
}

// Header returns the wait h's Retry-After asks for, within the bounds.
func (b RetryAfterBounds) Header(h http.Header, now time.Time) time.Duration {
	return b.Clamp(ParseRetryAfter(h.Get("Retry-After"), now))
}
