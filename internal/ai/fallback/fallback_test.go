package fallback_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/redis/go-redis/v9"

	"github.com/presswork/presswork/internal/ai"
	"github.com/presswork/presswork/internal/ai/fallback"
	"github.com/presswork/presswork/internal/breaker"
	"github.com/presswork/presswork/internal/errs"
	"github.com/presswork/presswork/internal/testenv"
)

// fakeModel is an ai.TextModel (and ai.Embedder) that answers each call
// with the next of its scripted errors (nil: an answer), then with its
// default, and counts its calls.
type fakeModel struct {
	name  string
	dims  int
	usage ai.Usage // what each call consumed, failed ones too

	mu     sync.Mutex
	script []error
	def    error
	calls  int
}

func (m *fakeModel) Name() string    { return m.name }
func (m *fakeModel) Dimensions() int { return m.dims }

func (m *fakeModel) next() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls++
	if len(m.script) > 0 {
		err := m.script[0]
		m.script = m.script[1:]
		return err
	}
	return m.def
}

func (m *fakeModel) Calls() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.calls
}

func (m *fakeModel) GenerateJSON(ctx context.Context, req ai.JSONRequest) (ai.JSONResponse, error) {
	if err := m.next(); err != nil {
		return ai.JSONResponse{Usage: m.usage}, err
	}
	return ai.JSONResponse{Content: []byte(`{"by":"` + m.name + `"}`), Usage: m.usage}, nil
}

func (m *fakeModel) Embed(ctx context.Context, texts []string) ([][]float32, ai.Usage, error) {
	if err := m.next(); err != nil {
		return nil, m.usage, err
	}
	out := make([][]float32, len(texts))
	for i := range out {
		out[i] = make([]float32, m.dims)
	}
	return out, m.usage, nil
}

// statusError is a provider's error with an HTTP status, as openai.Error.
type statusError struct{ status int }

func (e *statusError) Error() string   { return fmt.Sprintf("HTTP %d", e.status) }
func (e *statusError) HTTPStatus() int { return e.status }

var (
	errServer     = &statusError{status: 500}
	errBadRequest = errs.Permanent(&statusError{status: 400})
)

func throttled(d time.Duration) error {
	return &errs.ThrottledError{RetryAfter: d, Err: &statusError{status: 429}}
}

func newText(t *testing.T, links []fallback.Link, b *breaker.Breaker, opts fallback.Options) *fallback.Text {
	t.Helper()
	c, err := fallback.NewText(links, b, opts)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestTextMovesOn: which failures of the first model move a call on to the
// second, and which are returned as they are.
func TestTextMovesOn(t *testing.T) {
	t.Parallel()
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name     string
		err      error
		link     bool // FallbackOnThrottle on the first link
		chain    bool // FallbackOnThrottle on the chain
		ctx      context.Context
		moveOn   bool
		wantKind func(error) bool // of the error returned when not moving on
	}{
		{name: "server error", err: errServer, moveOn: true},
		{name: "timeout", err: fmt.Errorf("openai: no answer within 1m: %w", context.DeadlineExceeded), moveOn: true},
		{name: "connection refused", err: errors.New("openai: connection failed"), moveOn: true},
		{name: "key rejected", err: errs.Permanent(&statusError{status: 401}), moveOn: true},
		{name: "access denied", err: errs.Permanent(&statusError{status: 403}), moveOn: true},
		{name: "unknown model", err: errs.Permanent(&statusError{status: 404}), moveOn: true},
		{name: "no quota", err: errs.Permanent(&statusError{status: 429}), moveOn: true},
		{name: "bad request", err: errBadRequest, wantKind: errs.IsPermanent},
		{name: "invalid schema", err: errs.Permanent(errors.New("the JSON schema is missing")), wantKind: errs.IsPermanent},
		{name: "throttled", err: throttled(time.Second), wantKind: isThrottled},
		{name: "throttled, link falls back", err: throttled(time.Second), link: true, moveOn: true},
		{name: "throttled, chain falls back", err: throttled(time.Second), chain: true, moveOn: true},
		{name: "redis down", err: fmt.Errorf("ratelimit: %w", errs.ErrUnavailable),
			wantKind: func(err error) bool { return errors.Is(err, errs.ErrUnavailable) }},
		{name: "caller gave up", err: context.Canceled, ctx: canceled,
			wantKind: func(err error) bool { return errors.Is(err, context.Canceled) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a := &fakeModel{name: "openai/a", script: []error{tt.err}, usage: ai.Usage{Model: "a-1", PromptTokens: 3, CostUSD: 0.5}}
			b := &fakeModel{name: "openai/b", usage: ai.Usage{Model: "b-1", PromptTokens: 10, CompletionTokens: 20, CostUSD: 1}}
			c := newText(t, []fallback.Link{{Model: a, FallbackOnThrottle: tt.link}, {Model: b}}, nil,
				fallback.Options{FallbackOnThrottle: tt.chain})
			ctx := tt.ctx
			if ctx == nil {
				ctx = context.Background()
			}
			resp, err := c.GenerateJSON(ctx, ai.JSONRequest{})
			if !tt.moveOn {
				if !tt.wantKind(err) || b.Calls() != 0 {
					t.Fatalf("error %v, second model called %d times; want the first model's error, the second not called", err, b.Calls())
				}
				if a.Calls() == 1 && resp.Usage.PromptTokens != 3 {
					t.Errorf("usage %+v, want the first model's", resp.Usage)
				}
				return
			}
			if err != nil || string(resp.Content) != `{"by":"openai/b"}` {
				t.Fatalf("%q, %v; want the second model's answer", resp.Content, err)
			}
			want := ai.Usage{Model: "b-1", PromptTokens: 13, CompletionTokens: 20, CostUSD: 1.5}
			if diff := cmp.Diff(want, resp.Usage); diff != "" {
				t.Errorf("usage (-want +got):\n%s", diff)
			}
		})
	}
}

func isThrottled(err error) bool {
	var th *errs.ThrottledError
	return errors.As(err, &th)
}

// TestTextFirstServes: a first model that answers is the only one called,
// and a usage without a model is named after the link.
func TestTextFirstServes(t *testing.T) {
	t.Parallel()
	a := &fakeModel{name: "openai/a", usage: ai.Usage{PromptTokens: 1}}
	b := &fakeModel{name: "openai/b"}
	c := newText(t, []fallback.Link{{Model: a}, {Model: b}}, nil, fallback.Options{})
	resp, err := c.GenerateJSON(context.Background(), ai.JSONRequest{})
	if err != nil || resp.Usage.Model != "openai/a" || b.Calls() != 0 {
		t.Fatalf("%+v, %v, second called %d times; want the first model's answer named openai/a", resp, err, b.Calls())
	}
	if c.Name() != "openai/a" {
		t.Errorf("Name %q, want the first model's", c.Name())
	}
}

// TestTextExhausted: when every model fails, the error is retryable even
// if one was a rejected key, names each model, and carries every
// attempt's usage; a model passed over for throttling makes it a
// ThrottledError with the shortest wait.
func TestTextExhausted(t *testing.T) {
	t.Parallel()
	a := &fakeModel{name: "openai/a", def: errs.Permanent(&statusError{status: 401}), usage: ai.Usage{Model: "a-1", PromptTokens: 1}}
	b := &fakeModel{name: "azure-openai/b", def: errServer, usage: ai.Usage{Model: "b-1", PromptTokens: 2}}
	c := newText(t, []fallback.Link{{Model: a}, {Model: b}}, nil, fallback.Options{})
	resp, err := c.GenerateJSON(context.Background(), ai.JSONRequest{})
	var ex *fallback.ExhaustedError
	if !errors.As(err, &ex) || errs.IsPermanent(err) || isThrottled(err) {
		t.Fatalf("every model failing: %v, want a retryable ExhaustedError", err)
	}
	if !errors.Is(err, errServer) || errs.CodeOf(err) != errs.CodeProviderError {
		t.Errorf("%v: want it to wrap the server error, code %s", err, errs.CodeOf(err))
	}
	for _, want := range []string{"openai/a: HTTP 401", "azure-openai/b: HTTP 500"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%q does not say %q", err, want)
		}
	}
	if resp.Usage.PromptTokens != 3 || resp.Usage.Model != "b-1" {
		t.Errorf("usage %+v, want both attempts' tokens, under the last model", resp.Usage)
	}

	a = &fakeModel{name: "openai/a", def: throttled(5 * time.Second)}
	b = &fakeModel{name: "openai/b", def: throttled(2 * time.Second)}
	d := &fakeModel{name: "openai/d", def: errServer}
	c = newText(t, []fallback.Link{{Model: a}, {Model: b}, {Model: d}}, nil, fallback.Options{FallbackOnThrottle: true})
	_, err = c.GenerateJSON(context.Background(), ai.JSONRequest{})
	var th *errs.ThrottledError
	if !errors.As(err, &th) || th.RetryAfter != 2*time.Second || !errors.As(err, &ex) || len(ex.Attempts) != 3 {
		t.Fatalf("throttled, throttled, failed: %v; want a ThrottledError after 2s around an ExhaustedError of 3", err)
	}
}

// TestChainNeedsModels: empty chains and missing models are refused.
func TestChainNeedsModels(t *testing.T) {
	t.Parallel()
	if _, err := fallback.NewText(nil, nil, fallback.Options{}); err == nil {
		t.Error("empty text chain accepted")
	}
	if _, err := fallback.NewText([]fallback.Link{{}}, nil, fallback.Options{}); err == nil {
		t.Error("text chain without a model accepted")
	}
	if _, err := fallback.NewEmbedder(nil, nil, fallback.Options{}); err == nil {
		t.Error("empty embedding chain accepted")
	}
}

// TestEmbedderFamily: an embedding chain holds one model at one size,
// through any provider; it is named after its first embedder and falls
// back like a text chain.
func TestEmbedderFamily(t *testing.T) {
	t.Parallel()
	small := func(provider string, dims int) *fakeModel {
		return &fakeModel{name: provider + "/text-embedding-3-small", dims: dims}
	}
	for _, bad := range [][]*fakeModel{
		{small("openai", 8), {name: "openai/text-embedding-3-large", dims: 8}},
		{small("openai", 8), small("azure-openai", 16)},
		{small("openai", 8), {name: "text-embedding-3-small-v2", dims: 8}},
	} {
		links := []fallback.EmbedLink{{Embedder: bad[0]}, {Embedder: bad[1]}}
		if _, err := fallback.NewEmbedder(links, nil, fallback.Options{}); err == nil {
			t.Errorf("chain of %s (%d) and %s (%d) accepted", bad[0].name, bad[0].dims, bad[1].name, bad[1].dims)
		}
	}
	a, b := small("openai", 8), small("azure-openai", 8)
	a.def, a.usage = errServer, ai.Usage{Model: "text-embedding-3-small", PromptTokens: 7}
	b.usage = ai.Usage{Model: "text-embedding-3-small", PromptTokens: 5}
	e, err := fallback.NewEmbedder([]fallback.EmbedLink{{Embedder: a}, {Embedder: b}}, nil, fallback.Options{})
	if err != nil {
		t.Fatalf("OpenAI and Azure's text-embedding-3-small: %v", err)
	}
	if e.Name() != "openai/text-embedding-3-small" || e.Dimensions() != 8 {
		t.Errorf("Name %q, Dimensions %d; want the first embedder's", e.Name(), e.Dimensions())
	}
	vecs, u, err := e.Embed(context.Background(), []string{"x", "y"})
	if err != nil || len(vecs) != 2 || len(vecs[0]) != 8 || u.PromptTokens != 12 || b.Calls() != 1 {
		t.Fatalf("%d vectors, usage %+v, %v; want the second embedder's two vectors, both attempts' tokens", len(vecs), u, err)
	}
	if got := fallback.Family("azure-openai/text-embedding-3-small"); got != "text-embedding-3-small" {
		t.Errorf("Family = %q", got)
	}
}

// clock is a clock the tests move by hand.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// newBreaker returns a breaker on a Redis database of the test's own, on
// clk, with a key prefix of its own.
func newBreaker(t *testing.T, clk *clock, cfg breaker.Config, onTransition func(key string, from, to breaker.State)) *breaker.Breaker {
	t.Helper()
	opts, err := redis.ParseURL(testenv.RedisURL(t))
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(opts)
	t.Cleanup(func() { rdb.Close() })
	cfg.Clock, cfg.OnTransition = clk.Now, onTransition
	b, err := breaker.New(rdb, "presswork:breaker", cfg)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestCircuits: a failing model's circuit opens past the threshold and
// its calls then go straight to the next model; with every circuit open
// the call fails at once, naming them; after the cooldown a probe reaches
// the model again and its success closes the circuit. Throttling and bad
// requests never count against a circuit.
func TestCircuits(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clk := &clock{now: time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)}
	b := newBreaker(t, clk, breaker.Config{MinCalls: 4, Ratio: 0.5, Cooldown: 30 * time.Second}, nil)
	a := &fakeModel{name: "openai/a", def: errServer}
	fb := &fakeModel{name: "openai/b"}
	c := newText(t, []fallback.Link{{Model: a}, {Model: fb}}, b, fallback.Options{})
	for i := range 4 {
		if resp, err := c.GenerateJSON(ctx, ai.JSONRequest{}); err != nil || string(resp.Content) != `{"by":"openai/b"}` {
			t.Fatalf("call %d: %q, %v; want the fallback's answer", i+1, resp.Content, err)
		}
	}
	for range 5 {
		if resp, err := c.GenerateJSON(ctx, ai.JSONRequest{}); err != nil || string(resp.Content) != `{"by":"openai/b"}` {
			t.Fatalf("with a's circuit open: %q, %v; want the fallback's answer", resp.Content, err)
		}
	}
	if a.Calls() != 4 || fb.Calls() != 9 {
		t.Fatalf("a called %d times, b %d; want a 4 times (then its circuit open), b 9", a.Calls(), fb.Calls())
	}

	// b alone, open too: the call fails at once.
	only := newText(t, []fallback.Link{{Model: a}}, b, fallback.Options{})
	_, err := only.GenerateJSON(ctx, ai.JSONRequest{})
	var ex *fallback.ExhaustedError
	if !errors.As(err, &ex) || !errors.Is(err, breaker.ErrOpen) || errs.IsPermanent(err) || a.Calls() != 4 {
		t.Fatalf("a chain of a's open circuit only: %v, a called %d times; want an ExhaustedError of ErrOpen without a call", err, a.Calls())
	}

	// After the cooldown, a probe reaches a; its success closes the
	// circuit.
	clk.Advance(30 * time.Second)
	a.mu.Lock()
	a.def = nil
	a.mu.Unlock()
	if resp, err := c.GenerateJSON(ctx, ai.JSONRequest{}); err != nil || string(resp.Content) != `{"by":"openai/a"}` {
		t.Fatalf("probe: %q, %v; want a's answer", resp.Content, err)
	}
	if s, err := b.Stats(ctx, "openai/a"); err != nil || s.State != breaker.Closed {
		t.Fatalf("after the probe: %+v, %v; want closed", s, err)
	}

	// Throttling and bad requests are no failures of the provider.
	th := &fakeModel{name: "openai/throttled", def: throttled(time.Second)}
	bad := &fakeModel{name: "openai/bad", def: errBadRequest}
	for _, m := range []*fakeModel{th, bad} {
		ch := newText(t, []fallback.Link{{Model: m, FallbackOnThrottle: true}, {Model: fb}}, b, fallback.Options{})
		for range 6 {
			_, _ = ch.GenerateJSON(ctx, ai.JSONRequest{})
		}
		if s, err := b.Stats(ctx, m.name); err != nil || s.State != breaker.Closed || s.Calls != 0 || m.Calls() != 6 {
			t.Errorf("%s after 6 calls: %+v, %v, called %d times; want closed, nothing counted, every call made", m.name, s, err, m.Calls())
		}
	}
}

// TestProbeLeaseGivenBack: a probe whose caller gives up frees the
// half-open circuit for the next call's probe at once.
func TestProbeLeaseGivenBack(t *testing.T) {
	t.Parallel()
	clk := &clock{now: time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)}
	b := newBreaker(t, clk, breaker.Config{MinCalls: 1, Ratio: 1, Cooldown: time.Second}, nil)
	a := &fakeModel{name: "openai/a", script: []error{errServer}}
	fb := &fakeModel{name: "openai/b"}
	c := newText(t, []fallback.Link{{Model: a}, {Model: fb}}, b, fallback.Options{})
	if _, err := c.GenerateJSON(context.Background(), ai.JSONRequest{}); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Second)
	canceled, cancel := context.WithCancel(context.Background())
	a.mu.Lock()
	a.script = []error{context.Canceled}
	a.mu.Unlock()
	cancelling := &cancelModel{fakeModel: a, cancel: cancel}
	cc := newText(t, []fallback.Link{{Model: cancelling}, {Model: fb}}, b, fallback.Options{})
	if _, err := cc.GenerateJSON(canceled, ai.JSONRequest{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("probe whose caller gave up: %v, want context.Canceled", err)
	}
	if resp, err := c.GenerateJSON(context.Background(), ai.JSONRequest{}); err != nil || string(resp.Content) != `{"by":"openai/a"}` {
		t.Fatalf("the next call: %q, %v; want a probe answered by a", resp.Content, err)
	}
}

// cancelModel cancels the caller's context during the call, as a caller
// giving up mid-call does.
type cancelModel struct {
	*fakeModel
	cancel context.CancelFunc
}

func (m *cancelModel) GenerateJSON(ctx context.Context, req ai.JSONRequest) (ai.JSONResponse, error) {
	m.cancel()
	return m.fakeModel.GenerateJSON(ctx, req)
}

// TestBreakerDownFailsOpen: when the breaker's Redis is down, the chain
// calls its models as if every circuit were closed.
func TestBreakerDownFailsOpen(t *testing.T) {
	t.Parallel()
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialTimeout: time.Second})
	t.Cleanup(func() { rdb.Close() })
	b, err := breaker.New(rdb, "presswork:breaker", breaker.Config{})
	if err != nil {
		t.Fatal(err)
	}
	a := &fakeModel{name: "openai/a", script: []error{errServer}}
	fb := &fakeModel{name: "openai/b"}
	c := newText(t, []fallback.Link{{Model: a}, {Model: fb}}, b, fallback.Options{})
	for _, want := range []string{`{"by":"openai/b"}`, `{"by":"openai/a"}`} {
		if resp, err := c.GenerateJSON(context.Background(), ai.JSONRequest{}); err != nil || string(resp.Content) != want {
			t.Fatalf("%q, %v; want %s", resp.Content, err, want)
		}
	}
}
