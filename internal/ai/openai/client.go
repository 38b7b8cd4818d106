package openai

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	oa "github.com/sashabaranov/go-openai"

	"github.com/presswork/presswork/internal/errs"
	"github.com/presswork/presswork/internal/secret"
)

// retryAfterBounds bounds a 429's wait: 5s when the reply names none, a
// day at most.
var retryAfterBounds = errs.RetryAfterBounds{Default: 5 * time.Second, Max: 24 * time.Hour}

// maxMessageRunes caps the API's error message quoted in an Error.
const maxMessageRunes = 300

// Option changes how New* build the provider.
type Option func(*options)

type options struct {
	now       func() time.Time
	transport http.RoundTripper
}

// WithClock sets the clock that turns a Retry-After date into a delay.
func WithClock(now func() time.Time) Option {
	return func(o *options) { o.now = now }
}

// WithTransport sets the HTTP transport under the provider's own (for a
// proxy or instrumentation); the default is a clone of
// http.DefaultTransport.
func WithTransport(rt http.RoundTripper) Option {
	return func(o *options) { o.transport = rt }
}

// client is the go-openai client and what classifying its errors needs.
type client struct {
	api *oa.Client
	cfg Config
	now func() time.Time
	// deployment names a model in a request body: the model itself, or its
	// deployment on Azure (a Batch API line names the deployment).
	deployment func(model string) string
}

func newClient(cfg Config, opts []Option) (*client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("openai config: %w", err)
	}
	o := options{now: time.Now}
	for _, opt := range opts {
		opt(&o)
	}
	if o.transport == nil {
		o.transport = http.DefaultTransport.(*http.Transport).Clone()
	}
	hc := &http.Client{Timeout: cfg.Timeout, Transport: &recordingTransport{base: o.transport}}

	var oc oa.ClientConfig
	if cfg.apiType() == APITypeAzure {
		oc = oa.DefaultAzureConfig(cfg.APIKey.Reveal(), cfg.AzureEndpoint)
		oc.APIVersion = cfg.APIVersion
		deployments := make(map[string]string, len(cfg.AzureDeployments))
		for k, v := range cfg.AzureDeployments {
			deployments[k] = v
		}
		fallback := oc.AzureModelMapperFunc
		oc.AzureModelMapperFunc = func(model string) string {
			if d := deployments[model]; d != "" {
				return d
			}
			return fallback(model)
		}
	} else {
		oc = oa.DefaultConfig(cfg.APIKey.Reveal())
		oc.BaseURL = cfg.BaseURL
	}
	oc.HTTPClient = hc
	cfg.Prices = cfg.prices()
	deployment := func(model string) string { return model }
	if cfg.apiType() == APITypeAzure {
		deployment = oc.AzureModelMapperFunc
	}
	return &client{api: oa.NewClientWithConfig(oc), cfg: cfg, now: o.now, deployment: deployment}, nil
}

// providerName names the API in Name().
func (c *client) providerName() string {
	switch {
	case c.cfg.Profile.Name != "":
		return c.cfg.Profile.Name
	case c.cfg.apiType() == APITypeAzure:
		return "azure-openai"
	case strings.TrimRight(c.cfg.BaseURL, "/") == DefaultBaseURL:
		return "openai"
	default:
		return "openai-compatible"
	}
}

// do runs one go-openai call and classifies its error, which never shows
// the key.
func (c *client) do(ctx context.Context, op string, call func(ctx context.Context) error) error {
	ex := &exchange{}
	err := call(context.WithValue(ctx, exchangeKey{}, ex))
	if err == nil {
		return nil
	}
	return c.redact(c.classify(ctx, op, ex, err))
}

// ---------------------------------------------------------------------------
// Transport

type exchangeKey struct{}

// exchange is what the transport saw of one call's HTTP response.
type exchange struct {
	mu     sync.Mutex
	sent   bool
	status int
	header http.Header
}

func (e *exchange) get() (sent bool, status int, header http.Header) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.sent, e.status, e.header
}

// recordingTransport records the status and headers of each response in the
// request's exchange, because go-openai drops the headers of failed
// responses.
type recordingTransport struct {
	base http.RoundTripper
}

func (t *recordingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ex, _ := req.Context().Value(exchangeKey{}).(*exchange)
	if ex != nil {
		ex.mu.Lock()
		ex.sent = true
		ex.mu.Unlock()
	}
	resp, err := t.base.RoundTrip(req)
	if ex != nil && resp != nil {
		ex.mu.Lock()
		ex.status, ex.header = resp.StatusCode, resp.Header.Clone()
		ex.mu.Unlock()
	}
	return resp, err
}

// ---------------------------------------------------------------------------
// Errors

// Error is a call the API answered with an error status. It carries the
// API's code, type, message and request id (each shortened, with the key in
// any of its forms and anything like a key removed) but not go-openai's
// error, whose text may repeat what the server said about the key.
type Error struct {
	Op         string // "chat completion", "embeddings"
	StatusCode int
	Code       string // the API's error code: "invalid_api_key", "insufficient_quota"
	Type       string
	Message    string
	RequestID  string // x-request-id, for support requests
	hint       string
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "openai: %s: HTTP %d", e.Op, e.StatusCode)
	if e.Code != "" {
		b.WriteString(" " + e.Code)
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

// ErrorCode is errs.CodeProviderError for a 5xx or 408,
// errs.CodeRateLimited for a 429 rate limit, errs.CodeProviderRejected for
// the rest (a rejected key, no quota, an unknown model, a bad request).
func (e *Error) ErrorCode() string {
	switch s := e.StatusCode; {
	case s >= 500 || s == http.StatusRequestTimeout:
		return errs.CodeProviderError
	case s == http.StatusTooManyRequests && e.Code != "insufficient_quota" && e.Type != "insufficient_quota":
		return errs.CodeRateLimited
	}
	return errs.CodeProviderRejected
}

// HTTPStatus is the status the API answered with (package fallback moves
// on to another provider when it names a rejected key, account or model).
func (e *Error) HTTPStatus() int { return e.StatusCode }

// Message is the error's words for a user: what the provider's answer means
// and what to check, without the server's own text.
func (e *Error) UserMessage() string {
	return fmt.Sprintf("the AI provider answered HTTP %d to the %s: %s", e.StatusCode, e.Op, e.hint)
}

func (c *client) classify(ctx context.Context, op string, ex *exchange, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return fmt.Errorf("openai: %s: %w", op, ctxErr)
	}
	sent, status, header := ex.get()
	e := &Error{Op: op, StatusCode: status}
	var apiErr *oa.APIError
	var reqErr *oa.RequestError
	switch {
	case errors.As(err, &apiErr):
		if apiErr.HTTPStatusCode != 0 {
			e.StatusCode = apiErr.HTTPStatusCode
		}
		e.Code, e.Type, e.Message = codeString(apiErr.Code), apiErr.Type, apiErr.Message
	case errors.As(err, &reqErr):
		if reqErr.HTTPStatusCode != 0 {
			e.StatusCode = reqErr.HTTPStatusCode
		}
		e.Message = string(reqErr.Body)
	}
	if e.StatusCode >= 400 {
		if header != nil {
			e.RequestID = header.Get("x-request-id")
			if e.RequestID == "" {
				e.RequestID = header.Get("apim-request-id") // Azure
			}
		}
		// Everything here came from the server, which may echo the key in
		// any field, as a tenant's own OpenAI-compatible server may.
		e.Code, e.Type, e.RequestID = c.scrub(e.Code), c.scrub(e.Type), c.scrub(e.RequestID)
		e.Message = c.scrub(e.Message)
		return c.classifyStatus(e, header)
	}

	var ue *url.Error
	switch {
	case errors.As(err, &ue) && ue.Timeout():
		return fmt.Errorf("openai: %s: no answer within %s (OPENAI_TIMEOUT): %w", op, c.cfg.Timeout, err)
	case errors.As(err, &ue):
		return fmt.Errorf("openai: %s: connection failed: %w", op, err)
	case sent && status != 0:
		return fmt.Errorf("openai: %s: reading the answer (HTTP %d): %w", op, status, err)
	case !sent:
		// go-openai refused the request before sending it (an unsupported
		// model or parameter): the same request fails the same way again.
		return errs.Permanent(fmt.Errorf("openai: %s: the request was not sent: %w", op, err))
	}
	return fmt.Errorf("openai: %s: %w", op, err)
}

func (c *client) classifyStatus(e *Error, header http.Header) error {
	switch s := e.StatusCode; {
	case s == http.StatusTooManyRequests && (e.Code == "insufficient_quota" || e.Type == "insufficient_quota"):
		e.hint = "the account has no quota left; check the plan and billing details, then retry"
		return errs.Permanent(e)
	case s == http.StatusTooManyRequests:
		e.hint = "rate limited"
		return &errs.ThrottledError{RetryAfter: retryAfter(header, c.now()), Err: e}
	case s == http.StatusRequestTimeout:
		e.hint = "the server timed out"
		return e
	case s >= 500:
		e.hint = "server error"
		return e
	case s == http.StatusUnauthorized:
		// The server's message may quote part of the key.
		source := c.cfg.KeySource
		if source == "" {
			source = c.cfg.Profile.KeyVar
		}
		if source == "" {
			source = "OPENAI_API_KEY"
		}
		e.hint, e.Message = "the API key was rejected; check "+source, ""
		return errs.Permanent(e)
	case s == http.StatusForbidden:
		e.hint = "access denied; check the key's project, organization and region"
		return errs.Permanent(e)
	case s == http.StatusNotFound:
		e.hint = "not found; check the model names (OPENAI_MODEL*, OPENAI_EMBEDDING_MODEL), " +
			"the Azure deployments (OPENAI_AZURE_DEPLOYMENTS) and the URL"
		return errs.Permanent(e)
	default:
		e.hint = "the API rejected the request"
		return errs.Permanent(e)
	}
}

// codeString renders an API error code, which is a string or a number.
func codeString(code any) string {
	switch v := code.(type) {
	case nil:
		return ""
	case string:
		return v
	default:
		return fmt.Sprint(v)
	}
}

// keyLike matches OpenAI-style keys, masked or not.
var keyLike = regexp.MustCompile(`\bsk-[A-Za-z0-9_*\-]{6,}`)

// scrub removes the key (in each form secret.Scrub knows) and anything like
// a key from a field of an API error, folds it onto one line and shortens
// it. It scrubs before shortening, so that no cut leaves part of the key.
func (c *client) scrub(msg string) string {
	msg = secret.Scrub(msg, c.cfg.APIKey.Reveal())
	msg = keyLike.ReplaceAllString(msg, "sk-"+redacted)
	msg = strings.Join(strings.Fields(strings.ToValidUTF8(msg, "")), " ")
	if utf8.RuneCountInString(msg) > maxMessageRunes {
		msg = string([]rune(msg)[:maxMessageRunes]) + "…"
	}
	return msg
}

// redact makes sure err's message shows no form of the key, as a last line
// of defence: classify scrubs what the server said, but a transport or
// go-openai error may quote a reply too.
func (c *client) redact(err error) error {
	return secret.ScrubError(err, c.cfg.APIKey.Reveal())
}

// retryAfter reads how long a 429 asks to wait: retry-after-ms, Retry-After
// (seconds or an HTTP date), or an x-ratelimit-* reset time, within
// retryAfterBounds.
func retryAfter(h http.Header, now time.Time) time.Duration {
	return retryAfterBounds.Clamp(headerRetryAfter(h, now))
}

// headerRetryAfter returns the first wait h names; ok is false when it
// names none.
func headerRetryAfter(h http.Header, now time.Time) (time.Duration, bool) {
	if d, ok := errs.ParseRetryAfterMs(h.Get("retry-after-ms")); ok {
		return d, true
	}
	if d, ok := errs.ParseRetryAfter(h.Get("Retry-After"), now); ok {
		return d, true
	}
	return rateLimitReset(h)
}

// rateLimitReset reads the reset time of the exhausted x-ratelimit-* limit
// (of both when neither says it is exhausted); ok is false when neither
// names one.
func rateLimitReset(h http.Header) (time.Duration, bool) {
	var exhausted, latest time.Duration
	found := false
	for _, kind := range []string{"requests", "tokens"} {
		d, err := time.ParseDuration(strings.TrimSpace(h.Get("x-ratelimit-reset-" + kind)))
		if err != nil || d < 0 {
			continue
		}
		found = true
		latest = max(latest, d)
		if strings.TrimSpace(h.Get("x-ratelimit-remaining-"+kind)) == "0" {
			exhausted = max(exhausted, d)
		}
	}
	if exhausted > 0 {
		return exhausted, true
	}
	return latest, found
}
