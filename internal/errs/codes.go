package errs

import (
	"context"
	"errors"
)

// Codes name the failures a user can act on, stably: a job's and a site's
// error_code. The words that go with one are the failure's own (Coded's
// message); a code is for programs, filters and webhooks.
const (
	// A remote site (WordPress, Easypanel) or provider.
	CodeDNSNotFound  = "dns_not_found"      // the host name does not exist
	CodeTLSInvalid   = "tls_invalid"        // the certificate is not valid for the host
	CodeUnreachable  = "unreachable"        // no connection (refused, reset, no route)
	CodeTimeout      = "timeout"            // no answer in time
	CodeAuthRejected = "auth_rejected"      // credentials refused (401/403, a wrong application password)
	CodeRESTDisabled = "rest_disabled"      // no WordPress REST API at the address
	CodePermission   = "permission_missing" // the user may not do what Presswork needs (publish, upload)
	CodeSiteRejected = "site_rejected"      // the site refused the content (a field, a 4xx)
	CodeSiteError    = "site_error"         // the site failed (5xx, a cut-off or unreadable answer)
	CodePanelLogin   = "panel_login_failed"
	CodeDeployFailed = "deploy_failed"
	// An AI provider.
	CodeProviderRefused  = "provider_refused"  // no usable answer: refusals, broken or cut-off answers
	CodeProviderRejected = "provider_rejected" // the request was refused (a bad key, no quota, an unknown model)
	CodeProviderError    = "provider_error"    // the provider failed (5xx)
	CodeRateLimited      = "rate_limited"
	// Presswork itself.
	CodeInsufficientCredits = "insufficient_credits"
	CodeNotFound            = "not_found"     // the job's subject is gone
	CodeInvalidInput        = "invalid_input" // the job's own input cannot be used
	CodeUnavailable         = "unavailable"   // PostgreSQL or Redis was down
	CodeTimeLimit           = "time_limit"    // the job ran past its time limit
	CodeWorkerLost          = "worker_lost"   // its worker died; the job was queued again (not a failure)
	CodeInternal            = "internal"      // anything else: the detail is in the worker log
)

// CodedError is a failure with a code and the words a user reads; Err
// keeps the detail (for the log) and the kind (for errors.Is).
type CodedError struct {
	Code string
	Msg  string
	Err  error
}

// WithCode returns err with a code and a message for the user.
func WithCode(code, msg string, err error) error {
	return &CodedError{Code: code, Msg: msg, Err: err}
}

func (e *CodedError) Error() string {
	if e.Err == nil {
		return e.Msg
	}
	return e.Msg + ": " + e.Err.Error()
}

func (e *CodedError) Unwrap() error { return e.Err }

// Coder is an error that knows its own code (a client's error type).
type Coder interface {
	ErrorCode() string
}

// CodeOf returns the code of err: the outermost CodedError's or Coder's in
// its chain, else the code of its kind; CodeInternal when nothing says.
func CodeOf(err error) string {
	var ce *CodedError
	if errors.As(err, &ce) {
		return ce.Code
	}
	var c Coder
	if errors.As(err, &c) {
		if code := c.ErrorCode(); code != "" {
			return code
		}
	}
	var ve *ValidationError
	var ic *InsufficientCreditsError
	var th *ThrottledError
	switch {
	case errors.As(err, &ic):
		return CodeInsufficientCredits
	case errors.As(err, &th):
		return CodeRateLimited
	case errors.Is(err, context.DeadlineExceeded):
		return CodeTimeLimit
	case errors.Is(err, ErrNotFound):
		return CodeNotFound
	case errors.As(err, &ve):
		return CodeInvalidInput
	case errors.Is(err, ErrUnavailable):
		return CodeUnavailable
	}
	return CodeInternal
}

// MessageOf returns the words of err's outermost CodedError, if any.
func MessageOf(err error) (string, bool) {
	var ce *CodedError
	if errors.As(err, &ce) {
		return ce.Msg, true
	}
	return "", false
}
