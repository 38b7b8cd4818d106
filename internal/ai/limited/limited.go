// Package limited wraps AI models (ai.TextModel, ai.Embedder, ai.ImageModel)
// so that every worker process keeps each provider's model under its
// requests and tokens per minute, through one ratelimit.Limiter shared in
// Redis.
//
// Each call first waits for its place: one request, and for text and
// embeddings an estimate of its tokens (see EstimateText and
// EstimateEmbedding). Once the model answers, the estimate is corrected
// with the usage it reports. When the provider answers 429 all the same
// (*errs.ThrottledError), the model's key is paused for RetryAfter in every
// process and the call is retried in place after the pause, as long as the
// context's deadline leaves time for the pause and until it has met
// DefaultMaxThrottles 429s (see WithMaxThrottles). Then the ThrottledError
// is returned, which the worker treats as a delay, not a failure. A call whose place lies beyond the context's
// deadline (or WithMaxWait) is not made: it returns a ThrottledError at
// once, wrapping ratelimit.ErrWaitExceedsDeadline.
//
// # Keys and limits
//
// A model's calls are limited under a key, by default the model's Name()
// ("openai/gpt-4o-mini"); WithKey and WithStageKey choose others. The
// limits of each key come from a map, usually LimitsFromEnv's; a key the
// map does not name is unlimited, but still honours the pauses that 429s
// set.
package limited

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/presswork/presswork/internal/ai"
	"github.com/presswork/presswork/internal/errs"
	"github.com/presswork/presswork/internal/ratelimit"
)

// DefaultMaxThrottles is how many 429s a call meets before it returns the
// ThrottledError, unless WithMaxThrottles says otherwise.
const DefaultMaxThrottles = 3

// Option configures a wrapped model.
type Option func(*options)

type options struct {
	maxThrottles int
	maxWait      time.Duration
	key          string
	stageKey     func(ai.Stage) string
}

// WithMaxThrottles sets how many 429s a call meets before it returns the
// ThrottledError: 1 returns the first one (after pausing the key).
func WithMaxThrottles(n int) Option {
	return func(o *options) { o.maxThrottles = max(n, 1) }
}

// WithMaxWait bounds how long a call waits for its place, so that a job
// does not hold a worker for long: beyond it the call returns a
// ThrottledError at once and the job is retried later. Zero (the default)
// waits as long as the context's deadline allows.
func WithMaxWait(d time.Duration) Option {
	return func(o *options) { o.maxWait = max(d, 0) }
}

// WithKey limits every call under key instead of the model's Name(), e.g.
// "replicate/" + name for a Replicate model, whose Name() is the bare model.
func WithKey(key string) Option {
	return func(o *options) { o.key = key }
}

// WithStageKey limits a text model's calls under the key of their stage,
// for a provider that serves stages with different models (see StageKey).
// It applies to text models only, and takes precedence over WithKey.
func WithStageKey(f func(ai.Stage) string) Option {
	return func(o *options) { o.stageKey = f }
}

// StageKey returns the key function for a text model named
// "<provider>/<defaultModel>" (such as openai.TextModel) whose stages use
// the models modelFor names (such as openai.Config.ModelFor): a stage's
// key is "<provider>/<its model>".
func StageKey(name, defaultModel string, modelFor func(ai.Stage) string) func(ai.Stage) string {
	provider := strings.TrimSuffix(name, defaultModel)
	return func(s ai.Stage) string { return provider + modelFor(s) }
}

// guard waits for a call's place and retries it after 429s.
type guard struct {
	lim    *ratelimit.Limiter
	limits map[string]ratelimit.Limits
	o      options
}

func newGuard(lim *ratelimit.Limiter, limits map[string]ratelimit.Limits, opts []Option) guard {
	o := options{maxThrottles: DefaultMaxThrottles}
	for _, opt := range opts {
		opt(&o)
	}
	return guard{lim: lim, limits: limits, o: o}
}

func (g guard) keyOr(name string) string {
	if g.o.key != "" {
		return g.o.key
	}
	return name
}

// do runs call under key's limits with an estimate of tokens. call returns
// the tokens the provider reports, or 0 when it reports none.
func (g guard) do(ctx context.Context, key string, tokens int, call func(context.Context) (int, error)) error {
	limits := g.limits[key]
	if limits.TokensPerMinute <= 0 {
		tokens = 0
	}
	charged := min(tokens, max(limits.TokensPerMinute, 0)) // Wait charges at most the limit
	for throttles := 0; ; {
		if err := g.wait(ctx, key, limits, tokens); err != nil {
			return err
		}
		used, err := call(ctx)
		var te *errs.ThrottledError
		if !errors.As(err, &te) {
			if err == nil && used > 0 && charged > 0 && used != charged {
				// Best effort: a failed correction leaves the estimate.
				_ = g.lim.Adjust(ctx, key, limits, used-charged)
			}
			return err
		}
		// The provider's limit binds: pause every process, then retry
		// after the pause if there is time for it.
		if g.lim.Backoff(ctx, key, te.RetryAfter) != nil {
			return err
		}
		throttles++
		if throttles >= g.o.maxThrottles {
			return err
		}
		if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) <= te.RetryAfter {
			return err
		}
	}
}

func (g guard) wait(ctx context.Context, key string, limits ratelimit.Limits, tokens int) error {
	if g.o.maxWait <= 0 {
		return g.lim.Wait(ctx, key, limits, tokens)
	}
	wctx, cancel := context.WithTimeout(ctx, g.o.maxWait)
	defer cancel()
	err := g.lim.Wait(wctx, key, limits, tokens)
	if err != nil && ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded) {
		// Only the bound ran out, not the caller's time: a delay.
		return &errs.ThrottledError{RetryAfter: g.o.maxWait, Err: err}
	}
	return err
}

// EstimateText is the tokens charged for a text request before it is sent:
// a token per four bytes of the system prompt, the prompt and the schema
// (rounded up), plus MaxTokens for the answer.
func EstimateText(req ai.JSONRequest) int {
	return (len(req.System)+len(req.Prompt)+len(req.Schema)+3)/4 + max(req.MaxTokens, 0)
}

// EstimateEmbedding is the tokens charged for embedding texts before they
// are sent: a token per four bytes of each text, rounded up.
func EstimateEmbedding(texts []string) int {
	n := 0
	for _, t := range texts {
		n += (len(t) + 3) / 4
	}
	return n
}

// TextModel is an ai.TextModel whose calls are rate limited.
type TextModel struct {
	m ai.TextModel
	g guard
}

var _ ai.TextModel = (*TextModel)(nil)

// NewTextModel wraps m: its calls wait for their place on lim under the
// limits of their key.
func NewTextModel(m ai.TextModel, lim *ratelimit.Limiter, limits map[string]ratelimit.Limits, opts ...Option) *TextModel {
	return &TextModel{m: m, g: newGuard(lim, limits, opts)}
}

// Name returns the wrapped model's name.
func (t *TextModel) Name() string { return t.m.Name() }

// Key returns the key the calls of stage are limited under.
func (t *TextModel) Key(stage ai.Stage) string {
	if t.g.o.stageKey != nil {
		return t.g.o.stageKey(stage)
	}
	return t.g.keyOr(t.m.Name())
}

// GenerateJSON waits for a request and EstimateText(req) tokens, then calls
// the wrapped model.
func (t *TextModel) GenerateJSON(ctx context.Context, req ai.JSONRequest) (ai.JSONResponse, error) {
	var resp ai.JSONResponse
	err := t.g.do(ctx, t.Key(req.Stage), EstimateText(req), func(ctx context.Context) (int, error) {
		var err error
		resp, err = t.m.GenerateJSON(ctx, req)
		return resp.Usage.PromptTokens + resp.Usage.CompletionTokens, err
	})
	return resp, err
}

// Embedder is an ai.Embedder whose calls are rate limited.
type Embedder struct {
	e ai.Embedder
	g guard
}

var _ ai.Embedder = (*Embedder)(nil)

// NewEmbedder wraps e: its calls wait for their place on lim under the
// limits of its key.
func NewEmbedder(e ai.Embedder, lim *ratelimit.Limiter, limits map[string]ratelimit.Limits, opts ...Option) *Embedder {
	return &Embedder{e: e, g: newGuard(lim, limits, opts)}
}

// Name returns the wrapped embedder's name.
func (e *Embedder) Name() string { return e.e.Name() }

// Dimensions returns the wrapped embedder's dimensions.
func (e *Embedder) Dimensions() int { return e.e.Dimensions() }

// Key returns the key the calls are limited under.
func (e *Embedder) Key() string { return e.g.keyOr(e.e.Name()) }

// Embed waits for one request and EstimateEmbedding(texts) tokens, then
// calls the wrapped embedder. A call that the wrapped embedder splits into
// several HTTP requests is still charged one request; a retry after a 429
// embeds every text again.
func (e *Embedder) Embed(ctx context.Context, texts []string) ([][]float32, ai.Usage, error) {
	var vecs [][]float32
	var usage ai.Usage
	err := e.g.do(ctx, e.Key(), EstimateEmbedding(texts), func(ctx context.Context) (int, error) {
		var u ai.Usage
		var err error
		vecs, u, err = e.e.Embed(ctx, texts)
		usage.Add(u) // the batches a throttled attempt did embed were paid for too
		return u.PromptTokens + u.CompletionTokens, err
	})
	return vecs, usage, err
}

// ImageModel is an ai.ImageModel whose calls are rate limited, in requests
// only.
type ImageModel struct {
	m ai.ImageModel
	g guard
}

var _ ai.ImageModel = (*ImageModel)(nil)

// NewImageModel wraps m: its Generate calls wait for their place on lim
// under the limits of its key. Token limits do not apply.
func NewImageModel(m ai.ImageModel, lim *ratelimit.Limiter, limits map[string]ratelimit.Limits, opts ...Option) *ImageModel {
	return &ImageModel{m: m, g: newGuard(lim, limits, opts)}
}

// Name returns the wrapped model's name.
func (m *ImageModel) Name() string { return m.m.Name() }

// Key returns the key the calls are limited under.
func (m *ImageModel) Key() string { return m.g.keyOr(m.m.Name()) }

// Generate waits for one request, then calls the wrapped model. A retry
// after a 429 resumes the prediction the throttled attempt started, if any,
// rather than paying for another.
func (m *ImageModel) Generate(ctx context.Context, req ai.ImageRequest) (ai.Image, error) {
	onStarted := req.OnStarted
	req.OnStarted = func(ctx context.Context, id string) error {
		req.ResumePredictionID = id
		if onStarted != nil {
			return onStarted(ctx, id)
		}
		return nil
	}
	var img ai.Image
	err := m.g.do(ctx, m.Key(), 0, func(ctx context.Context) (int, error) {
		var err error
		img, err = m.m.Generate(ctx, req)
		return 0, err
	})
	return img, err
}

// Cancel cancels a prediction without waiting for a place: it stops
// spending.
func (m *ImageModel) Cancel(ctx context.Context, predictionID string) error {
	return m.m.Cancel(ctx, predictionID)
}
