package app

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/presswork/presswork/internal/ai"
	"github.com/presswork/presswork/internal/ai/limited"
	"github.com/presswork/presswork/internal/ai/offline"
	"github.com/presswork/presswork/internal/ai/openai"
	"github.com/presswork/presswork/internal/ai/replicate"
	"github.com/presswork/presswork/internal/metrics"
	"github.com/presswork/presswork/internal/ratelimit"
)

// maxLimiterWait is the longest a job holds a worker slot waiting for its
// place under a provider's limits; beyond it the job is throttled and
// retried later, which frees the slot.
const maxLimiterWait = time.Minute

// Providers are the AI providers the worker uses.
type Providers struct {
	Text     ai.TextModel
	Embedder ai.Embedder
	Image    ai.ImageModel
	// TenantOpenAI builds the models of tenants that bring their own
	// OpenAI key; they never use the providers above.
	TenantOpenAI TenantOpenAI
}

// TenantOpenAI is how the worker builds the text and embedding models of a
// tenant that brings its own OpenAI key (PUT /v1/ai-settings/openai):
// Config's models, prices and timeout with the tenant's key and base URL.
// With a Limiter, their calls are limited under keys of the tenant's own,
// "tenant-<id>/" and the usual key ("tenant-7/openai/gpt-4o-mini"), so that
// one tenant's calls never spend the limits of another or of the worker's
// own key; AI_LIMITS may name such keys.
type TenantOpenAI struct {
	Config  openai.Config
	Limiter *ratelimit.Limiter // nil: not limited
	Limits  map[string]ratelimit.Limits
	// AllowPrivateURLs lets tenants' base URLs reach loopback and private
	// addresses (ALLOW_PRIVATE_URLS); otherwise their connections go
	// through netguard.
	AllowPrivateURLs bool
}

// tenantKeyPlaceholder stands for the tenants' keys when the worker reads
// their models' configuration at start.
const tenantKeyPlaceholder = "tenant-key-placeholder"

// OfflineProviders returns the built-in offline providers; tenants with a
// key of their own get OpenAI's default models, not limited.
func OfflineProviders() Providers {
	return Providers{Text: metrics.InstrumentText(offline.NewTextModel(), metrics.KeyOperator),
		Embedder:     metrics.InstrumentEmbedder(offline.NewEmbedder(0), metrics.KeyOperator),
		Image:        metrics.InstrumentImage(offline.NewImageModel(), metrics.KeyOperator),
		TenantOpenAI: TenantOpenAI{Config: openai.DefaultConfig("")}}
}

// instrument makes the calls of p's models count in the process's
// metrics. The models ProvidersFromEnv and OfflineProviders build count
// their calls themselves, beneath their rate limiters (every 429 counts);
// other models (a test's) count here, once per call they are given.
func (a *App) instrument(p Providers) Providers {
	p.Text = a.Metrics.Text(p.Text, metrics.KeyOperator)
	p.Embedder = a.Metrics.Embedder(p.Embedder, metrics.KeyOperator)
	p.Image = a.Metrics.Image(p.Image, metrics.KeyOperator)
	return p
}

// ProvidersFromEnv chooses the providers from the environment: the
// OpenAI-compatible text and embedding models when OPENAI_API_KEY is set,
// Replicate images when REPLICATE_API_TOKEN is set, and the offline
// provider for whatever is not configured. A configuration that is set but
// invalid is an error, never a silent fallback. With rdb, the remote
// providers share the request and token limits of AI_LIMITS with every
// worker process through Redis, and a 429 pauses them all. The OPENAI_*
// variables other than the key also configure the models of tenants that
// bring their own key, whether or not OPENAI_API_KEY is set.
func ProvidersFromEnv(getenv func(string) string, rdb redis.UniversalClient, log *slog.Logger) (Providers, error) {
	p := OfflineProviders()
	limits, err := limited.LimitsFromEnv(getenv)
	if err != nil {
		return p, err
	}
	var lim *ratelimit.Limiter
	if rdb != nil {
		lim = ratelimit.New(rdb, "presswork:ratelimit")
	}
	oc, ok, err := openai.ConfigFromEnv(getenv)
	if err != nil {
		return p, fmt.Errorf("OpenAI configuration: %w", err)
	}
	if ok {
		if p.Text, err = openai.NewTextModel(oc); err != nil {
			return p, err
		}
		if p.Embedder, err = openai.NewEmbedder(oc); err != nil {
			return p, err
		}
		p.Text = metrics.InstrumentText(p.Text, metrics.KeyOperator)
		p.Embedder = metrics.InstrumentEmbedder(p.Embedder, metrics.KeyOperator)
		if lim != nil {
			p.Text = limited.NewTextModel(p.Text, lim, limits, limited.WithMaxWait(maxLimiterWait),
				limited.WithStageKey(limited.StageKey(p.Text.Name(), oc.Model, oc.ModelFor)))
			p.Embedder = limited.NewEmbedder(p.Embedder, lim, limits, limited.WithMaxWait(maxLimiterWait))
		}
		log.Info("OpenAI-compatible provider", "config", oc, "limits", limits)
		if unpriced := oc.UnpricedModels(); len(unpriced) > 0 {
			log.Warn("models without a price in OPENAI_PRICES are costed at 0 USD", "models", unpriced)
		}
	}
	tc, err := openai.ConfigFromEnvWithKey(getenv, tenantKeyPlaceholder)
	if err != nil {
		return p, fmt.Errorf("OpenAI configuration (for tenants' own keys): %w", err)
	}
	p.TenantOpenAI = TenantOpenAI{Config: tc, Limiter: lim, Limits: limits}
	rc, ok, err := replicate.ConfigFromEnv(getenv)
	if err != nil {
		return p, fmt.Errorf("Replicate configuration: %w", err)
	}
	if ok {
		if p.Image, err = replicate.NewImageModel(rc, replicate.WithLogger(log)); err != nil {
			return p, err
		}
		p.Image = metrics.InstrumentImage(p.Image, metrics.KeyOperator)
		if lim != nil {
			p.Image = limited.NewImageModel(p.Image, lim, limits, limited.WithMaxWait(maxLimiterWait),
				limited.WithKey("replicate/"+p.Image.Name()))
		}
		log.Info("Replicate image provider", "config", rc, "limits", limits)
	}
	return p, nil
}
