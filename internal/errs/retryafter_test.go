package errs_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/presswork/presswork/internal/errs"
)

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"7", 7 * time.Second, true},
		{" 0.5 ", 500 * time.Millisecond, true},
		{"0", 0, true},
		{"999999999", 24 * time.Hour, true},
		{"1e30", 24 * time.Hour, true},
		{"+Inf", 24 * time.Hour, true},
		{"Mon, 23 Nov 2026 12:00:30 GMT", 30 * time.Second, true},
		{"Mon, 23 Nov 2026 11:00:00 GMT", 0, true},
		{"Sat, 28 Nov 2026 12:00:00 GMT", 24 * time.Hour, true},
		{"", 0, false},
		{"-3", 0, false},
		{"NaN", 0, false},
		{"soon", 0, false},
	} {
		got, ok := errs.ParseRetryAfter(tc.in, now)
		if got != tc.want || ok != tc.ok {
			t.Errorf("ParseRetryAfter(%q) = %s, %v; want %s, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestParseRetryAfterMs(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"1500", 1500 * time.Millisecond, true},
		{" 20 ", 20 * time.Millisecond, true},
		{"0.5", 500 * time.Microsecond, true},
		{"0", 0, true},
		{"1e30", 24 * time.Hour, true},
		{"", 0, false},
		{"-1", 0, false},
		{"NaN", 0, false},
		{"Mon, 23 Nov 2026 12:00:30 GMT", 0, false},
	} {
		got, ok := errs.ParseRetryAfterMs(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("ParseRetryAfterMs(%q) = %s, %v; want %s, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestRetryAfterBoundsHeader(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	b := errs.RetryAfterBounds{Default: 10 * time.Second, Min: time.Second, Max: 10 * time.Minute}
	for _, tc := range []struct {
		in   string
		want time.Duration
	}{
		{"7", 7 * time.Second},
		{"1.5", 1500 * time.Millisecond},
		{"0", time.Second},
		{"", 10 * time.Second},
		{"soon", 10 * time.Second},
		{"-3", 10 * time.Second},
		{"86400", 10 * time.Minute},
		{now.Add(30 * time.Second).Format(http.TimeFormat), 30 * time.Second},
		{now.Add(-time.Minute).Format(http.TimeFormat), time.Second},
	} {
		h := http.Header{}
		if tc.in != "" {
			h.Set("Retry-After", tc.in)
		}
		if got := b.Header(h, now); got != tc.want {
			t.Errorf("Header(Retry-After: %q) = %s, want %s", tc.in, got, tc.want)
		}
	}
	if got := b.Header(nil, now); got != b.Default {
		t.Errorf("Header(nil) = %s, want the default %s", got, b.Default)
	}
}

func TestRetryAfterBoundsClampWithoutMin(t *testing.T) {
	b := errs.RetryAfterBounds{Default: 5 * time.Second, Max: 24 * time.Hour}
	for _, tc := range []struct {
		d    time.Duration
		ok   bool
		want time.Duration
	}{
		{0, true, 0},
		{90 * time.Second, true, 90 * time.Second},
		{48 * time.Hour, true, 24 * time.Hour},
		{time.Hour, false, 5 * time.Second},
	} {
		if got := b.Clamp(tc.d, tc.ok); got != tc.want {
			t.Errorf("Clamp(%s, %v) = %s, want %s", tc.d, tc.ok, got, tc.want)
		}
	}
}
