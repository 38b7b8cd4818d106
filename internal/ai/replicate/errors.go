package replicate

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/presswork/presswork/internal/errs"
	"github.com/presswork/presswork/internal/secret"
)

// Bounds on what is read of an error response.
const (
	maxErrorBody   = 64 << 10
	maxErrorDetail = 500 // runes of a problem detail kept in errors
)

// retryAfter bounds a 429's wait: 10s when Retry-After names none.
var retryAfter = errs.RetryAfterBounds{Default: 10 * time.Second, Min: time.Second, Max: 10 * time.Minute}

// statusTransport turns every HTTP response with a status of 400 or more
// into an *httpStatusError that keeps the status and the headers.
//
// replicate-go drops the headers of error responses, and for a 429 (and a
// 5xx on GET) it sleeps and retries by itself, ignoring the context. Failing
// the round trip instead hands the decision back to us: the library returns
// at once with our error wrapped inside it.
type statusTransport struct {
	base http.RoundTripper
}

func (t *statusTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if err != nil || resp.StatusCode < 400 {
		return resp, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	detail := problemDetail(body)
	// The detail is the only server text that reaches our errors (the
	// headers are kept for Retry-After only); make sure it cannot carry the
	// token onwards in any form, before a cut could leave part of it.
	if token, ok := strings.CutPrefix(req.Header.Get("Authorization"), "Bearer "); ok && token != "" {
		detail = secret.Scrub(detail, token)
	}
	detail = truncate(detail, maxErrorDetail)
	return nil, &httpStatusError{
		Status: resp.StatusCode,
		Header: resp.Header.Clone(),
		Method: req.Method,
		Path:   req.URL.Path,
		Detail: detail,
	}
}

// httpStatusError is an HTTP error response from Replicate (or from the
// output host).
type httpStatusError struct {
	Status int
	Header http.Header
	Method string
	Path   string
	Detail string // from the problem JSON, if any
}

func (e *httpStatusError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "HTTP %d %s", e.Status, http.StatusText(e.Status))
	if e.Detail != "" {
		b.WriteString(": ")
		b.WriteString(e.Detail)
	}
	if hint := statusHints[e.Status]; hint != "" {
		b.WriteString(" (")
		b.WriteString(hint)
		b.WriteString(")")
	}
	return b.String()
}

// statusHints say what to do about the permanent failures.
var statusHints = map[int]string{
	http.StatusUnauthorized:        "check REPLICATE_API_TOKEN",
	http.StatusPaymentRequired:     "the Replicate account needs billing set up or more credit",
	http.StatusForbidden:           "the token may not use this model or endpoint",
	http.StatusNotFound:            "check REPLICATE_IMAGE_MODEL and REPLICATE_BASE_URL",
	http.StatusUnprocessableEntity: "the model rejected the input",
}

// problemDetail extracts a readable message from a problem JSON body
// ({"title", "detail", ...}); anything else gives "".
func problemDetail(body []byte) string {
	var p struct {
		Title  string `json:"title"`
		Detail string `json:"detail"`
	}
	if json.Unmarshal(body, &p) != nil {
		return ""
	}
	msg := strings.TrimSpace(p.Detail)
	if t := strings.TrimSpace(p.Title); t != "" && !strings.Contains(msg, t) {
		if msg == "" {
			msg = t
		} else {
			msg = t + ": " + msg
		}
	}
	return msg
}

// truncate cuts s to at most n runes.
func truncate(s string, n int) string {
	for i := range s {
		if n == 0 {
			return s[:i] + "..."
		}
		n--
	}
	return s
}

// classify turns an error from the library or the HTTP client into
// Presswork's vocabulary: 429 is *errs.ThrottledError, 408 and 5xx (and
// network errors) are retryable, any other 4xx is permanent.
func classify(op string, err error, now time.Time) error {
	var se *httpStatusError
	if !errors.As(err, &se) {
		return fmt.Errorf("replicate: %s: %w", op, err)
	}
	e := fmt.Errorf("replicate: %s: %w", op, se)
	switch {
	case se.Status == http.StatusTooManyRequests:
		return &errs.ThrottledError{RetryAfter: retryAfter.Header(se.Header, now), Err: e}
	case se.Status == http.StatusRequestTimeout || se.Status >= 500:
		return e
	}
	return errs.Permanent(e)
}

// redact makes sure err's message shows no form of token, as a last line of
// defence: statusTransport and predictionError already scrub the server text
// we keep.
func redact(err error, token string) error { return secret.ScrubError(err, token) }
