package providers_test

import (
	"context"
	"log/slog"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/presswork/presswork/internal/ai"
	"github.com/presswork/presswork/internal/ai/openai"
	"github.com/presswork/presswork/internal/ai/openai/fakeopenai"
	"github.com/presswork/presswork/internal/ai/providers"
	"github.com/presswork/presswork/internal/store"
)

const profileTestKey = "profile-key-0123456789abcdef"

func TestFromEnvReadsProfileCredentials(t *testing.T) {
	env := map[string]string{"GEMINI_API_KEY": profileTestKey, "XAI_API_KEY": profileTestKey,
		"XAI_BASE_URL": "https://xai.example/v1/"}
	p, err := providers.FromEnv(func(k string) string { return env[k] }, nil, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	got := p.Credentials.Profiles
	if len(got) != 2 || got["mistral"] != nil {
		t.Fatalf("profiles = %v, want gemini and xai", got)
	}
	if got["gemini"].BaseURL != openai.ProfileGemini.DefaultBaseURL || got["xai"].BaseURL != "https://xai.example/v1" {
		t.Errorf("base URLs %q, %q", got["gemini"].BaseURL, got["xai"].BaseURL)
	}
	if got["gemini"].Profile.Name != "gemini" || got["xai"].KeySource != "XAI_API_KEY" {
		t.Errorf("gemini profile %+v, xai key source %q", got["gemini"].Profile, got["xai"].KeySource)
	}
}

func TestFromEnvRefusesBadProfileBaseURL(t *testing.T) {
	env := map[string]string{"MISTRAL_API_KEY": profileTestKey, "MISTRAL_BASE_URL": "not a url"}
	_, err := providers.FromEnv(func(k string) string { return env[k] }, nil, slog.New(slog.DiscardHandler))
	if err == nil || !strings.Contains(err.Error(), "MISTRAL_BASE_URL") || strings.Contains(err.Error(), profileTestKey) {
		t.Fatalf("err = %v, want MISTRAL_BASE_URL named without the key", err)
	}
}

// AI_LIMITS may name a model of a configured profile's provider (the
// catalogue's models are not known at start), and only then.
func TestFromEnvProfileLimitKeys(t *testing.T) {
	env := map[string]string{"AI_LIMITS": "gemini/gemini-2.5-flash=60rpm"}
	getenv := func(k string) string { return env[k] }
	if _, err := providers.FromEnv(getenv, nil, slog.New(slog.DiscardHandler)); err == nil {
		t.Error("AI_LIMITS names a gemini model without GEMINI_API_KEY, and FromEnv accepts it")
	}
	env["GEMINI_API_KEY"] = profileTestKey
	if _, err := providers.FromEnv(getenv, nil, slog.New(slog.DiscardHandler)); err != nil {
		t.Errorf("with GEMINI_API_KEY: %v", err)
	}
	env["AI_LIMITS"] = "gemini/=60rpm"
	if _, err := providers.FromEnv(getenv, nil, slog.New(slog.DiscardHandler)); err == nil {
		t.Error("AI_LIMITS names gemini/ without a model, and FromEnv accepts it")
	}
}

// routes is a catalogue that routes every stage to its models.
type routes []store.AIModel

func (r routes) RoutedChainFor(_ context.Context, _ int64, stage string) (store.StageChain, bool, error) {
	return store.StageChain{Stage: stage, Models: r, Routed: true}, true, nil
}

// A routed catalogue model of each profiled provider is served by its
// provider's fake, in its dialect, at the catalogue's prices.
func TestRouterServesProfiledModels(t *testing.T) {
	for _, tc := range []struct {
		provider string
		dialect  fakeopenai.Dialect
		model    string
	}{
		{"gemini", fakeopenai.Gemini, "gemini-2.5-flash"},
		{"mistral", fakeopenai.Mistral, "mistral-small-latest"},
		{"xai", fakeopenai.XAI, "grok-4"},
	} {
		t.Run(tc.provider, func(t *testing.T) {
			s := fakeopenai.New(t)
			s.SetKey(profileTestKey)
			s.SetDialect(tc.dialect)
			s.SetContent(func(*fakeopenai.Request) string { return `{"name":"Trail Shoes","description":"Shoes."}` })
			env := map[string]string{
				strings.ToUpper(tc.provider) + "_API_KEY":  profileTestKey,
				strings.ToUpper(tc.provider) + "_BASE_URL": s.BaseURL(),
			}
			p, err := providers.FromEnv(func(k string) string { return env[k] }, nil, slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatal(err)
			}
			m := store.AIModel{ID: 1, Provider: tc.provider, Model: tc.model, Kind: store.ModelKindChat,
				PriceInputPerMTok: 1, PriceOutputPerMTok: 2, UpdatedAt: time.Now()}
			r := providers.NewRouter(routes{m}, p.Credentials, nil, slog.New(slog.DiscardHandler))
			text, ok, err := r.Text(context.Background(), 7, ai.StageClusterName)
			if err != nil || !ok {
				t.Fatalf("Text = %v, %v", ok, err)
			}
			schema, err := ai.Schema(ai.StageClusterName)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := text.GenerateJSON(context.Background(), ai.JSONRequest{Stage: ai.StageClusterName,
				System: "Name it.", Prompt: "trail shoes", SchemaName: "cluster_name", Schema: schema, MaxTokens: 100})
			if err != nil {
				t.Fatal(err)
			}
			u := resp.Usage
			want := (float64(u.PromptTokens)*1 + float64(u.CompletionTokens)*2) / 1e6
			if u.Model != tc.model || u.PromptTokens == 0 || math.Abs(u.CostUSD-want) > 1e-12 {
				t.Errorf("usage %+v, want the model %s at the catalogue's prices (%g USD)", u, tc.model, want)
			}
		})
	}
}

// Embeddings of these providers are not served, nor is a provider
// without its key.
func TestRouterRefusesUnservedProfiledModels(t *testing.T) {
	env := map[string]string{"MISTRAL_API_KEY": profileTestKey}
	p, err := providers.FromEnv(func(k string) string { return env[k] }, nil, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	r := providers.NewRouter(routes{
		{ID: 1, Provider: "mistral", Model: "mistral-embed", Kind: store.ModelKindEmbeddings},
		{ID: 2, Provider: "gemini", Model: "gemini-embedding-001", Kind: store.ModelKindEmbeddings},
	}, p.Credentials, nil, slog.New(slog.DiscardHandler))
	_, _, err = r.Embedder(context.Background(), 7)
	if err == nil || !strings.Contains(err.Error(), "chat models only") || !strings.Contains(err.Error(), "not configured") {
		t.Fatalf("err = %v, want mistral's embeddings and gemini's missing key named", err)
	}
}
