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
}

// OfflineProviders returns the built-in offline providers.
func OfflineProviders() Providers {
	return Providers{Text: offline.NewTextModel(), Embedder: offline.NewEmbedder(0), Image: offline.NewImageModel()}
}

// ProvidersFromEnv chooses the providers from the environment: the
// OpenAI-compatible text and embedding models when OPENAI_API_KEY is set,
// Replicate images when REPLICATE_API_TOKEN is set, and the offline
// provider for whatever is not configured. A configuration that is set but
// invalid is an error, never a silent fallback. With rdb, the remote
// providers share the request and token limits of AI_LIMITS with every
// worker process through Redis, and a 429 pauses them all.
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
	rc, ok, err := replicate.ConfigFromEnv(getenv)
	if err != nil {
		return p, fmt.Errorf("Replicate configuration: %w", err)
	}
	if ok {
		if p.Image, err = replicate.NewImageModel(rc, replicate.WithLogger(log)); err != nil {
			return p, err
		}
		if lim != nil {
			p.Image = limited.NewImageModel(p.Image, lim, limits, limited.WithMaxWait(maxLimiterWait),
				limited.WithKey("replicate/"+p.Image.Name()))
		}
		log.Info("Replicate image provider", "config", rc, "limits", limits)
	}
	return p, nil
}
