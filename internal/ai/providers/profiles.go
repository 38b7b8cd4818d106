package providers

import (
	"fmt"
	"log/slog"
	"strings"

	"github.com/presswork/presswork/internal/ai"
	"github.com/presswork/presswork/internal/ai/limited"
	"github.com/presswork/presswork/internal/ai/openai"
	"github.com/presswork/presswork/internal/store"
)

// profileVars are the variables of each provider served through its
// OpenAI-compatible endpoint with a named profile: its key and an
// optional base URL (the profile's public API by default).
var profileVars = []struct {
	profile      openai.Profile
	key, baseURL string
}{
	{openai.ProfileGemini, "GEMINI_API_KEY", "GEMINI_BASE_URL"},
	{openai.ProfileMistral, "MISTRAL_API_KEY", "MISTRAL_BASE_URL"},
	{openai.ProfileXAI, "XAI_API_KEY", "XAI_BASE_URL"},
}

// profilesFromEnv reads the credentials of Gemini, Mistral and xAI, each
// when its key is set; a bad base URL is an error. Their models are the
// catalogue's, priced by the catalogue, and are built when routed.
func (c *Credentials) profilesFromEnv(getenv func(string) string, log *slog.Logger) error {
	for _, v := range profileVars {
		key := strings.TrimSpace(getenv(v.key))
		if key == "" {
			continue
		}
		cfg := openai.ConfigForProfile(v.profile, openai.Secret(key), strings.TrimSpace(getenv(v.baseURL)))
		if err := cfg.Validate(); err != nil {
			return fmt.Errorf("%s configuration (%s, %s): %w", v.profile.Name, v.key, v.baseURL, err)
		}
		if c.Profiles == nil {
			c.Profiles = map[string]*openai.Config{}
		}
		c.Profiles[v.profile.Name] = &cfg
		log.Info("OpenAI-compatible provider for catalogue models", "provider", v.profile.Name, "base_url", cfg.BaseURL)
	}
	return nil
}

// profilePrefixes returns the provider prefixes of the configured
// profiles' limit keys ("gemini/"): their models are the catalogue's, so
// AI_LIMITS may name any model under them.
func (c Credentials) profilePrefixes() []string {
	var out []string
	for name := range c.Profiles {
		out = append(out, name+"/")
	}
	return out
}

// profileModel builds catalogue model m of a profiled provider: a chat
// model on its OpenAI-compatible endpoint, limited under
// "<provider>/<model>". Embeddings are not served this way: each of
// these providers has its own embedding dimensions and parameters.
func (c Credentials) profileModel(m store.AIModel) (builtModel, error) {
	base := c.Profiles[m.Provider]
	if base == nil {
		return builtModel{}, ErrNotServed
	}
	if m.Kind != store.ModelKindChat {
		return builtModel{}, fmt.Errorf("%s serves chat models only here, not %s", m.Provider, m.Kind)
	}
	cfg := *base
	cfg.Model, cfg.StageModels = m.Model, map[ai.Stage]string{}
	cfg.Prices = openai.Prices{m.Model: {PromptPerMillion: m.PriceInputPerMTok, CompletionPerMillion: m.PriceOutputPerMTok}}
	text, err := openai.NewTextModel(cfg)
	if err != nil {
		return builtModel{}, err
	}
	return builtModel{text: c.stack.withLimits(m, text.Name()).text(text, limited.WithKey(text.Name()))}, nil
}
