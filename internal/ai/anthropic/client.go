package anthropic

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	sdk "github.com/anthropics/anthropic-sdk-go/v2"
	"github.com/anthropics/anthropic-sdk-go/v2/option"

	"github.com/presswork/presswork/internal/errs"
	"github.com/presswork/presswork/internal/secret"
)

// retryAfterBounds bounds a 429's or 529's wait: 5s when the reply names
// none, a day at most.
var retryAfterBounds = errs.RetryAfterBounds{Default: 5 * time.Second, Max: 24 * time.Hour}

// maxMessageRunes caps the API's error message quoted in an Error.
const maxMessageRunes = 300

// statusOverloaded is the API's status for overloaded_error.
const statusOverloaded = 529

// Option changes how NewTextModel builds the provider.
type Option func(*options)

type options struct {
	now       func() time.Time
	transport http.RoundTripper
}

// WithClock sets the clock that turns a reset time into a delay.
func WithClock(now func() time.Time) Option {
	return func(o *options) { o.now = now }
}

// WithTransport sets the HTTP transport (for a proxy or instrumentation);
// the default is a clone of http.DefaultTransport.
func WithTransport(rt http.RoundTripper) Option {
	return func(o *options) { o.transport = rt }
}

// client is the SDK's client and what classifying its errors needs.
type client struct {
	api sdk.Client
	cfg Config
	now func() time.Time
}

func newClient(cfg Config, opts []Option) (*client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("anthropic config: %w", err)
	}
	o := options{now: time.Now}
	for _, opt := range opts {
		opt(&o)
	}
	if o.transport == nil {
		o.transport = http.DefaultTransport.(*http.Transport).Clone()
	}
	cfg.Prices = cfg.prices()
	cfg.BaseURL = cfg.baseURL()
	api := sdk.NewClient(
		// The configuration is ours: the SDK reads nothing from the
		// environment or from profiles on disk.
		option.WithoutEnvironmentDefaults(),
		option.WithAPIKey(cfg.APIKey.Reveal()),
		option.WithBaseURL(cfg.BaseURL),
		option.WithHTTPClient(&http.Client{Transport: o.transport}),
		option.WithRequestTimeout(cfg.Timeout),
		// The rate limiter and the job queue decide when to try again.
		option.WithMaxRetries(0),
	)
	return &client{api: api, cfg: cfg, now: o.now}, nil
}

// ---------------------------------------------------------------------------
// Errors

// Error is a call the API answered with an error status. It carries the
// API's error type, message and request id (each shortened, with the key in
// any of its forms and anything like a key removed) but not the SDK's
// error, whose text repeats the whole body of the answer.
type Error struct {
	Op         string // "messages (claude-haiku-4-5)"
	StatusCode int
	Type       string // the API's error type: "overloaded_error", "authentication_error"
	Code       string // error.details.error_code, when the API gives one
	Message    string
	RequestID  string // request-id, for support requests
	hint       string
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "anthropic: %s: HTTP %d", e.Op, e.StatusCode)
	if e.Type != "" {
		b.WriteString(" " + e.Type)
	}
	if e.Code != "" {
		b.WriteString(" (" + e.Code + ")")
	}
	if e.hint != "" {
		b.WriteString(": " + e.hint)
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	if e.RequestID != "" {
		b.WriteString(" (request " + e.RequestID + ")")
	}
	return b.String()
}

// ErrorCode is errs.CodeRateLimited for a rate limit or an overloaded API
// (429, 529), errs.CodeProviderError for the other 5xx and 408,
// errs.CodeProviderRejected for the rest (a rejected key, an unknown model,
// a bad request, a spend limit).
func (e *Error) ErrorCode() string {
	switch s := e.StatusCode; {
	case s == statusOverloaded || e.Type == "overloaded_error" || (s == http.StatusTooManyRequests && !e.spendLimit()):
		return errs.CodeRateLimited
	case s >= 500 || s == http.StatusRequestTimeout:
		return errs.CodeProviderError
	}
	return errs.CodeProviderRejected
}

// UserMessage is the error's words for a user: what the provider's answer
// means and what to check, without the server's own text.
func (e *Error) UserMessage() string {
	return fmt.Sprintf("the AI provider answered HTTP %d to the %s: %s", e.StatusCode, e.Op, e.hint)
}

// spendLimit reports whether a 429 says the organization reached a spend
// limit, which no wait within a job's life lifts.
func (e *Error) spendLimit() bool {
	return e.Code == "contract_spend_limit_reached" || e.Code == "enforced_spend_limit_reached"
}

// classify turns an error of the SDK into one of package errs' kinds; its
// message never shows the key.
func (c *client) classify(ctx context.Context, op string, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return fmt.Errorf("anthropic: %s: %w", op, ctxErr)
	}
	var apiErr *sdk.Error
	if errors.As(err, &apiErr) {
		e := &Error{
			Op:         op,
			StatusCode: apiErr.StatusCode,
			Type:       c.scrub(string(apiErr.Type())),
			Code:       c.scrub(string(apiErr.ErrorCode())),
			Message:    c.scrub(apiErr.Message),
			RequestID:  c.scrub(apiErr.RequestID),
		}
		var header http.Header
		if apiErr.Response != nil {
			header = apiErr.Response.Header
		}
		return c.redact(c.classifyStatus(e, header))
	}
	var ue *url.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ue) && ue.Timeout()):
		// The SDK's own per-request timeout (ANTHROPIC_TIMEOUT) ran out,
		// not the caller's: not the job's time limit, so not %w.
		return c.redact(fmt.Errorf("anthropic: %s: no answer within %s (ANTHROPIC_TIMEOUT): %v", op, c.cfg.Timeout, err))
	case errors.As(err, &ue):
		return c.redact(fmt.Errorf("anthropic: %s: connection failed: %w", op, err))
	}
	return c.redact(fmt.Errorf("anthropic: %s: %w", op, err))
}

func (c *client) classifyStatus(e *Error, header http.Header) error {
	switch s := e.StatusCode; {
	case s == http.StatusTooManyRequests && e.spendLimit():
		e.hint = "the organization reached its spend limit; raise it in the Anthropic console, then retry"
		return errs.Permanent(e)
	case s == http.StatusTooManyRequests:
		e.hint = "rate limited"
		return &errs.ThrottledError{RetryAfter: retryAfter(header, c.now()), Err: e}
	case s == statusOverloaded || e.Type == "overloaded_error":
		e.hint = "the API is overloaded"
		return &errs.ThrottledError{RetryAfter: retryAfter(header, c.now()), Err: e}
	case s == http.StatusRequestTimeout:
		e.hint = "the server timed out"
		return e
	case s >= 500:
		e.hint = "server error"
		return e
	case s == http.StatusUnauthorized:
		// The server's message may quote part of the key.
		e.hint, e.Message = "the API key was rejected; check ANTHROPIC_API_KEY", ""
		return errs.Permanent(e)
	case s == http.StatusPaymentRequired || e.Type == "billing_error":
		e.hint = "billing problem; check the plan and the credit balance in the Anthropic console"
		return errs.Permanent(e)
	case s == http.StatusForbidden:
		e.hint = "access denied; check that the key's workspace may use this model"
		return errs.Permanent(e)
	case s == http.StatusNotFound:
		e.hint = "not found; check the model names (ANTHROPIC_MODEL*) and ANTHROPIC_BASE_URL"
		return errs.Permanent(e)
	case s == http.StatusRequestEntityTooLarge:
		e.hint = "the request is too large"
		return errs.Permanent(e)
	default:
		e.hint = "the API rejected the request"
		return errs.Permanent(e)
	}
}

// keyLike matches Anthropic-style keys, masked or not.
var keyLike = regexp.MustCompile(`\bsk-ant-[A-Za-z0-9_*\-]{6,}`)

// scrub removes the key (in each form secret.Scrub knows) and anything like
// a key from a field of an API error, folds it onto one line and shortens
// it. It scrubs before shortening, so that no cut leaves part of the key.
func (c *client) scrub(msg string) string {
	msg = secret.Scrub(msg, c.cfg.APIKey.Reveal())
	msg = keyLike.ReplaceAllString(msg, "sk-ant-"+redacted)
	msg = strings.Join(strings.Fields(strings.ToValidUTF8(msg, "")), " ")
	if utf8.RuneCountInString(msg) > maxMessageRunes {
		msg = string([]rune(msg)[:maxMessageRunes]) + "…"
	}
	return msg
}

// redact makes sure err's message shows no form of the key, as a last line
// of defence.
func (c *client) redact(err error) error {
	return secret.ScrubError(err, c.cfg.APIKey.Reveal())
}

// retryAfter reads how long a 429 or 529 asks to wait: retry-after
// (seconds or an HTTP date), or an anthropic-ratelimit-*-reset time,
// within retryAfterBounds.
func retryAfter(h http.Header, now time.Time) time.Duration {
	if d, ok := errs.ParseRetryAfter(h.Get("Retry-After"), now); ok {
		return retryAfterBounds.Clamp(d, true)
	}
	return retryAfterBounds.Clamp(rateLimitReset(h, now))
}

// rateLimitKinds are the limits the API reports in anthropic-ratelimit-*
// headers.
var rateLimitKinds = []string{"requests", "tokens", "input-tokens", "output-tokens"}

// rateLimitReset reads the reset time (RFC 3339) of the exhausted
// anthropic-ratelimit-* limits (of all when none says it is exhausted); ok
// is false when none names one.
func rateLimitReset(h http.Header, now time.Time) (time.Duration, bool) {
	var exhausted, latest time.Duration
	found := false
	for _, kind := range rateLimitKinds {
		at, err := time.Parse(time.RFC3339, strings.TrimSpace(h.Get("anthropic-ratelimit-"+kind+"-reset")))
		if err != nil {
			continue
		}
		d := max(at.Sub(now), 0)
		found = true
		latest = max(latest, d)
		if strings.TrimSpace(h.Get("anthropic-ratelimit-"+kind+"-remaining")) == "0" {
			exhausted = max(exhausted, d)
		}
	}
	if exhausted > 0 {
		return exhausted, true
	}
	return latest, found
}
