package providers

import (
	"time"

	"github.com/presswork/presswork/internal/ai"
	"github.com/presswork/presswork/internal/ai/limited"
	"github.com/presswork/presswork/internal/metrics"
	"github.com/presswork/presswork/internal/ratelimit"
)

// maxLimiterWait is the longest a job holds a worker slot waiting for its
// place under a provider's limits; beyond it the job is throttled and
// retried later, which frees the slot.
const maxLimiterWait = time.Minute

// stack wraps a provider's models in the order every model of the worker
// has: counted in the metrics first, beneath the rate limiter, so that
// every request sent and every 429 counts; then limited, when there is a
// limiter. The options name a model's limit key (the model's Name() by
// default).
type stack struct {
	metricsKey string             // metrics.KeyOperator or metrics.KeyTenant
	lim        *ratelimit.Limiter // nil: not limited
	limits     map[string]ratelimit.Limits
}

func (s stack) text(m ai.TextModel, opts ...limited.Option) ai.TextModel {
	m = metrics.InstrumentText(m, s.metricsKey)
	if s.lim == nil {
		return m
	}
	return limited.NewTextModel(m, s.lim, s.limits, limitOptions(opts)...)
}

func (s stack) embedder(e ai.Embedder, opts ...limited.Option) ai.Embedder {
	e = metrics.InstrumentEmbedder(e, s.metricsKey)
	if s.lim == nil {
		return e
	}
	return limited.NewEmbedder(e, s.lim, s.limits, limitOptions(opts)...)
}

func (s stack) image(m ai.ImageModel, opts ...limited.Option) ai.ImageModel {
	m = metrics.InstrumentImage(m, s.metricsKey)
	if s.lim == nil {
		return m
	}
	return limited.NewImageModel(m, s.lim, s.limits, limitOptions(opts)...)
}

// limitOptions puts maxLimiterWait before opts.
func limitOptions(opts []limited.Option) []limited.Option {
	return append([]limited.Option{limited.WithMaxWait(maxLimiterWait)}, opts...)
}
