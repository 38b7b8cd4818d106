// Package errs is Presswork's small error vocabulary. Every package returns
// these kinds (wrapped with %w), and the HTTP layer maps them to status codes
// in one place; package worker maps them to retry decisions.
package errs

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Sentinel kinds, tested with errors.Is.
var (
	// ErrNotFound: the row does not exist or belongs to another tenant.
	ErrNotFound = errors.New("not found")
	// ErrConflict: the request clashes with the current state (a duplicate, a
	// state that does not allow the change).
	ErrConflict = errors.New("conflict")
	// ErrUnauthenticated: no valid credentials.
	ErrUnauthenticated = errors.New("unauthenticated")
	// ErrForbidden: the credentials are valid but the role does not allow it.
	ErrForbidden = errors.New("forbidden")
	// ErrUnavailable: a dependency (PostgreSQL, Redis) is down; try again later.
	ErrUnavailable = errors.New("service unavailable")
	// ErrPermanent marks a failure that no retry can fix.
	ErrPermanent = errors.New("permanent failure")
)

// FieldProblem names one invalid field and what is wrong with it.
type FieldProblem struct {
	Field   string `json:"field"`
	Problem string `json:"problem"`
}

// ValidationError is bad input: one or more fields and their problems.
type ValidationError struct {
	Problems []FieldProblem
}

// Invalid returns a ValidationError for one field.
func Invalid(field, format string, args ...any) *ValidationError {
	return &ValidationError{Problems: []FieldProblem{{Field: field, Problem: fmt.Sprintf(format, args...)}}}
}

func (e *ValidationError) Error() string {
	parts := make([]string, 0, len(e.Problems))
	for _, p := range e.Problems {
		parts = append(parts, p.Field+": "+p.Problem)
	}
	return "invalid input: " + strings.Join(parts, "; ")
}

// Add appends a problem and returns the error for chaining.
func (e *ValidationError) Add(field, format string, args ...any) *ValidationError {
	e.Problems = append(e.Problems, FieldProblem{Field: field, Problem: fmt.Sprintf(format, args...)})
	return e
}

// CheckText adds a problem for field when val is not valid UTF-8, holds
// fewer than lo or more than hi characters once trimmed of white space, or
// holds control characters. It returns the error for chaining.
func (e *ValidationError) CheckText(field, val string, lo, hi int) *ValidationError {
	n := utf8.RuneCountInString(strings.TrimSpace(val))
	switch {
	case !utf8.ValidString(val):
		e.Add(field, "is not valid UTF-8")
	case n < lo && lo == 1:
		e.Add(field, "must not be empty")
	case n < lo || n > hi:
		e.Add(field, "must be %d to %d characters", lo, hi)
	case strings.ContainsFunc(val, isControl):
		e.Add(field, "must not contain control characters")
	}
	return e
}

// isControl reports whether r is an ASCII control character.
func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

// OrNil returns nil when there are no problems, so callers can collect
// problems and return the result directly.
func (e *ValidationError) OrNil() error {
	if e == nil || len(e.Problems) == 0 {
		return nil
	}
	return e
}

// InsufficientCreditsError says a tenant cannot afford the work asked for.
type InsufficientCreditsError struct {
	Needed    int64
	Available int64
}

func (e *InsufficientCreditsError) Error() string {
	return fmt.Sprintf("insufficient credits: needed %d, available %d", e.Needed, e.Available)
}

// ThrottledError means an upstream limit was hit; the work should be retried
// after RetryAfter and not counted as a failure.
type ThrottledError struct {
	RetryAfter time.Duration
	Err        error
}

func (e *ThrottledError) Error() string {
	return fmt.Sprintf("throttled (retry after %s): %v", e.RetryAfter, e.Err)
}

func (e *ThrottledError) Unwrap() error { return e.Err }

// PublicError is a refusal whose message is written for the caller: it
// names the role, slug or id concerned and never carries SQL or driver
// text, so the API and the command line show it as it is. errors.Is and
// errors.As see Err, the kind (a sentinel above, or an error that wraps one).
type PublicError struct {
	Msg string
	Err error
}

// Public returns a *PublicError of err's kind with a message for the caller.
func Public(err error, format string, args ...any) error {
	return &PublicError{Msg: fmt.Sprintf(format, args...), Err: err}
}

func (e *PublicError) Error() string { return e.Msg }
func (e *PublicError) Unwrap() error { return e.Err }

// Permanent wraps err so that errors.Is(err, ErrPermanent) holds.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanentError{err: err}
}

type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() []error {
	return []error{e.err, ErrPermanent}
}

// IsPermanent reports whether retrying err cannot help: it is marked
// permanent, is bad input, a missing row, or a lack of credits.
func IsPermanent(err error) bool {
	var ve *ValidationError
	var ic *InsufficientCreditsError
	return errors.Is(err, ErrPermanent) || errors.Is(err, ErrNotFound) ||
		errors.As(err, &ve) || errors.As(err, &ic)
}

// IsConflict reports whether err is ErrConflict.
func IsConflict(err error) bool { return errors.Is(err, ErrConflict) }

// UnavailableError is ErrUnavailable naming what is down, in words a
// client may read ("the database").
type UnavailableError struct {
	Service string
	Err     error
}

// Unavailable says that service is down; the error Is ErrUnavailable.
func Unavailable(service string, err error) error {
	return &UnavailableError{Service: service, Err: err}
}

func (e *UnavailableError) Error() string   { return e.Service + " is unavailable: " + e.Err.Error() }
func (e *UnavailableError) Unwrap() []error { return []error{ErrUnavailable, e.Err} }
