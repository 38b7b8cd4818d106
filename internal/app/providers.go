package app

import (
	"fmt"
	"log/slog"

	"github.com/presswork/presswork/internal/ai"
	"github.com/presswork/presswork/internal/ai/offline"
	"github.com/presswork/presswork/internal/ai/openai"
	"github.com/presswork/presswork/internal/ai/replicate"
)

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
// invalid is an error, never a silent fallback.
func ProvidersFromEnv(getenv func(string) string, log *slog.Logger) (Providers, error) {
	p := OfflineProviders()
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
		log.Info("OpenAI-compatible provider", "config", oc)
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
		log.Info("Replicate image provider", "config", rc)
	}
	return p, nil
}
