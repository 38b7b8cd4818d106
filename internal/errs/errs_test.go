package errs_test

import (
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/presswork/presswork/internal/errs"
)

func TestUnavailableNamesTheService(t *testing.T) {
	cause := io.ErrUnexpectedEOF
	err := fmt.Errorf("load job: %w", errs.Unavailable("the database", cause))
	var ue *errs.UnavailableError
	if !errors.Is(err, errs.ErrUnavailable) || !errors.Is(err, cause) || !errors.As(err, &ue) || ue.Service != "the database" {
		t.Fatalf("%v: Is ErrUnavailable %v, Is its cause %v, names %+v", err, errors.Is(err, errs.ErrUnavailable),
			errors.Is(err, cause), ue)
	}
}

func TestCheckText(t *testing.T) {
	tests := []struct {
		val     string
		lo, hi  int
		problem string // "" when the text is fine
	}{
		{"Acme Media", 1, 100, ""},
		{"", 0, 10, ""},
		{"  Acme  ", 1, 4, ""},
		{"\xff", 1, 100, "is not valid UTF-8"},
		{"   ", 1, 100, "must not be empty"},
		{"ab", 3, 200, "must be 3 to 200 characters"},
		{"ééééé", 1, 4, "must be 1 to 4 characters"},
		{"a\tb", 1, 100, "must not contain control characters"},
		{"a\x7fb", 1, 100, "must not contain control characters"},
	}
	for _, tt := range tests {
		v := (&errs.ValidationError{}).CheckText("name", tt.val, tt.lo, tt.hi)
		var got string
		if len(v.Problems) > 0 {
			got = v.Problems[0].Problem
		}
		if len(v.Problems) > 1 || got != tt.problem || (got != "" && v.Problems[0].Field != "name") {
			t.Errorf("CheckText(%q, %d, %d) = %+v, want %q", tt.val, tt.lo, tt.hi, v.Problems, tt.problem)
		}
	}
}

func TestPublicKeepsTheKind(t *testing.T) {
	err := fmt.Errorf("load rule: %w", errs.Public(errs.ErrNotFound, "no rule with id %d", 7))
	var pe *errs.PublicError
	if !errors.Is(err, errs.ErrNotFound) || !errors.As(err, &pe) || pe.Msg != "no rule with id 7" {
		t.Fatalf("%v: Is ErrNotFound %v, public message %+v", err, errors.Is(err, errs.ErrNotFound), pe)
	}
	if got := pe.Error(); got != "no rule with id 7" {
		t.Errorf("Error() = %q, want the message for the caller", got)
	}
}
