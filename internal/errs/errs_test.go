package errs_test

import (
	"errors"
	"fmt"
	"io"
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
		{"Mon, 23 Nov 2026 12:00:30 GMT", 30 * time.Second, true},
		{"Mon, 23 Nov 2026 11:00:00 GMT", 0, true},
		{"", 0, false},
		{"-3", 0, false},
		{"soon", 0, false},
	} {
		got, ok := errs.ParseRetryAfter(tc.in, now)
		if got != tc.want || ok != tc.ok {
			t.Errorf("ParseRetryAfter(%q) = %s, %v; want %s, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestUnavailableNamesTheService(t *testing.T) {
	cause := io.ErrUnexpectedEOF
	err := fmt.Errorf("load job: %w", errs.Unavailable("the database", cause))
	var ue *errs.UnavailableError
	if !errors.Is(err, errs.ErrUnavailable) || !errors.Is(err, cause) || !errors.As(err, &ue) || ue.Service != "the database" {
		t.Fatalf("%v: Is ErrUnavailable %v, Is its cause %v, names %+v", err, errors.Is(err, errs.ErrUnavailable),
			errors.Is(err, cause), ue)
	}
}
