package metrics

import (
	"cmp"
	"context"
	"errors"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/presswork/presswork/internal/ai"
	"github.com/presswork/presswork/internal/errs"
)

// The stage labels of calls that are not text stages.
const (
	StageEmbed = "embed"
	StageImage = "image"
)

// The outcomes of a provider call.
const (
	CallOK        = "ok"
	CallThrottled = "throttled" // the provider answered 429 (or its equivalent)
	CallError     = "error"
)

// The key labels: whose account a call is made on.
const (
	KeyOperator = "operator" // the worker's configured keys (or the offline provider)
	KeyTenant   = "tenant"   // a tenant's own key
)

// providerMetrics count AI provider calls: by provider (the model's Name),
// stage, key and outcome, with their duration, tokens and estimated cost.
type providerMetrics struct {
	calls    *prometheus.CounterVec
	duration *prometheus.HistogramVec
	tokens   *prometheus.CounterVec
	cost     *prometheus.CounterVec
}

func newProviderMetrics() providerMetrics {
	return providerMetrics{
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: "provider_calls_total",
			Help: "AI provider calls, by provider, stage, key (operator, tenant) and outcome (ok, throttled, error)."},
			[]string{"provider", "stage", "key", "outcome"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: namespace, Name: "provider_call_duration_seconds",
			Help:    "Time an AI provider call took, by provider and stage.",
			Buckets: []float64{.05, .1, .25, .5, 1, 2.5, 5, 10, 20, 40, 80, 160, 300}}, []string{"provider", "stage"}),
		tokens: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: "provider_tokens_total",
			Help: "Tokens AI providers reported, by provider, answering model, stage, key and direction (in, out)."},
			[]string{"provider", "model", "stage", "key", "direction"}),
		cost: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: "provider_cost_usd_total",
			Help: "Estimated cost in USD of AI provider calls, by provider, answering model, stage and key."},
			[]string{"provider", "model", "stage", "key"}),
	}
}

func (m providerMetrics) collectors() []prometheus.Collector {
	return []prometheus.Collector{m.calls, m.duration, m.tokens, m.cost}
}

// record counts one call and what it consumed (a failed call may have
// consumed some: the batches of an embedding that did go through).
func (m providerMetrics) record(provider, stage, key string, took time.Duration, u ai.Usage, err error) {
	m.calls.WithLabelValues(provider, stage, key, CallOutcome(err)).Inc()
	m.duration.WithLabelValues(provider, stage).Observe(took.Seconds())
	model := cmp.Or(u.Model, provider)
	if u.PromptTokens > 0 {
		m.tokens.WithLabelValues(provider, model, stage, key, "in").Add(float64(u.PromptTokens))
	}
	if u.CompletionTokens > 0 {
		m.tokens.WithLabelValues(provider, model, stage, key, "out").Add(float64(u.CompletionTokens))
	}
	if u.CostUSD > 0 {
		m.cost.WithLabelValues(provider, model, stage, key).Add(u.CostUSD)
	}
}

// CallOutcome classifies a provider call's error.
func CallOutcome(err error) string {
	if err == nil {
		return CallOK
	}
	if _, ok := errors.AsType[*errs.ThrottledError](err); ok {
		return CallThrottled
	}
	return CallError
}

// Provider calls are counted by wrappers of the ai models of two kinds.
// The raw providers are wrapped where they are built, beneath any rate
// limiter, so that every request sent and every 429 counts, with
// InstrumentText, InstrumentEmbedder and InstrumentImage: these record into
// the registry the call's context carries (none: not counted), as models
// are built before the process's registry is known. The worker wraps the
// models it is given once more with Registry.Text, Embedder and Image,
// which put the registry in the context and count a call themselves only
// when nothing beneath did (a model not built instrumented).

// callScope is what a call's context carries: the registry to record into
// and whether a wrapper beneath recorded the call.
type callScope struct {
	r       *Registry
	counted atomic.Bool
}

type scopeKey struct{}

// WithRegistry returns ctx carrying r, for the instrumented models called
// with it (the job middleware does this for every job).
func WithRegistry(ctx context.Context, r *Registry) context.Context {
	return context.WithValue(ctx, scopeKey{}, &callScope{r: r})
}

// instrument wraps the calls of one model; r is nil beneath a limiter.
type instrument struct {
	r        *Registry
	provider string
	key      string
}

// around runs one call of stage and records it.
func (in instrument) around(ctx context.Context, stage string, call func(context.Context) (ai.Usage, error)) error {
	scope, _ := ctx.Value(scopeKey{}).(*callScope)
	if in.r != nil {
		scope = &callScope{r: in.r}
		ctx = context.WithValue(ctx, scopeKey{}, scope)
	}
	start := time.Now()
	u, err := call(ctx)
	if scope == nil {
		return err
	}
	if in.r == nil {
		scope.counted.Store(true)
	} else if scope.counted.Load() {
		return err // counted beneath
	}
	scope.r.providers.record(in.provider, stage, in.key, time.Since(start), u, err)
	return err
}

// InstrumentText wraps a provider's text model so that its calls count
// under key, in the registry of their context.
func InstrumentText(t ai.TextModel, key string) ai.TextModel {
	return &textModel{TextModel: t, in: instrument{provider: t.Name(), key: key}}
}

// InstrumentEmbedder wraps a provider's embedder as InstrumentText does.
func InstrumentEmbedder(e ai.Embedder, key string) ai.Embedder {
	return &embedder{Embedder: e, in: instrument{provider: e.Name(), key: key}}
}

// InstrumentImage wraps a provider's image model as InstrumentText does.
func InstrumentImage(i ai.ImageModel, key string) ai.ImageModel {
	return &imageModel{ImageModel: i, in: instrument{provider: i.Name(), key: key}}
}

// Text wraps a text model the worker uses so that its calls count in r
// under key, if the model does not count them itself.
func (r *Registry) Text(t ai.TextModel, key string) ai.TextModel {
	return &textModel{TextModel: t, in: instrument{r: r, provider: t.Name(), key: key}}
}

// Embedder wraps an embedder as Text does.
func (r *Registry) Embedder(e ai.Embedder, key string) ai.Embedder {
	return &embedder{Embedder: e, in: instrument{r: r, provider: e.Name(), key: key}}
}

// Image wraps an image model as Text does.
func (r *Registry) Image(i ai.ImageModel, key string) ai.ImageModel {
	return &imageModel{ImageModel: i, in: instrument{r: r, provider: i.Name(), key: key}}
}

type textModel struct {
	ai.TextModel
	in instrument
}

func (t *textModel) GenerateJSON(ctx context.Context, req ai.JSONRequest) (resp ai.JSONResponse, err error) {
	err = t.in.around(ctx, string(req.Stage), func(ctx context.Context) (ai.Usage, error) {
		resp, err = t.TextModel.GenerateJSON(ctx, req)
		return resp.Usage, err
	})
	return resp, err
}

type embedder struct {
	ai.Embedder
	in instrument
}

func (e *embedder) Embed(ctx context.Context, texts []string) (vecs [][]float32, u ai.Usage, err error) {
	err = e.in.around(ctx, StageEmbed, func(ctx context.Context) (ai.Usage, error) {
		vecs, u, err = e.Embedder.Embed(ctx, texts)
		return u, err
	})
	return vecs, u, err
}

type imageModel struct {
	ai.ImageModel
	in instrument
}

func (i *imageModel) Generate(ctx context.Context, req ai.ImageRequest) (img ai.Image, err error) {
	err = i.in.around(ctx, StageImage, func(ctx context.Context) (ai.Usage, error) {
		img, err = i.ImageModel.Generate(ctx, req)
		return ai.Usage{Model: img.Model, CostUSD: img.CostUSD}, err
	})
	return img, err
}
