package providers_test

import (
	"log/slog"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/presswork/presswork/internal/ai"
	"github.com/presswork/presswork/internal/ai/limited"
	"github.com/presswork/presswork/internal/ai/offline"
	"github.com/presswork/presswork/internal/ai/providers"
)

func TestFromEnvDefaultsToOffline(t *testing.T) {
	p, err := providers.FromEnv(func(string) string { return "" }, nil, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if p.Text.Name() != offline.NewTextModel().Name() || p.Embedder.Name() != offline.NewEmbedder(0).Name() ||
		p.Image.Name() != offline.ImageModelName {
		t.Errorf("providers = %s, %s, %s; want the offline ones", p.Text.Name(), p.Embedder.Name(), p.Image.Name())
	}
	if len(p.DraftMinWords) != 0 {
		t.Errorf("draft minimums %v without DRAFT_MIN_WORDS", p.DraftMinWords)
	}
	p, err = providers.FromEnv(func(k string) string {
		return map[string]string{"DRAFT_MIN_WORDS": "guide=1500"}[k]
	}, nil, slog.New(slog.DiscardHandler))
	if err != nil || p.DraftMinWords["guide"] != 1500 {
		t.Errorf("with DRAFT_MIN_WORDS=guide=1500: %v, %v", p.DraftMinWords, err)
	}
}

func TestFromEnvRefusesBadConfiguration(t *testing.T) {
	for _, env := range []map[string]string{
		{"OPENAI_API_KEY": "sk-test", "OPENAI_BASE_URL": "not a url"},
		{"OPENAI_API_KEY": "sk-test", "OPENAI_EMBEDDING_DIMENSIONS": "-3"},
		{"REPLICATE_API_TOKEN": "r8_test", "REPLICATE_IMAGE_MODEL": "no-slash"},
		{"OPENAI_API_KEY": "sk-test", "AI_LIMITS": "openai/gpt-4o-mini=fast"},
		{"DRAFT_MIN_WORDS": "essay=500"},
	} {
		_, err := providers.FromEnv(func(k string) string { return env[k] }, nil, slog.New(slog.DiscardHandler))
		if err == nil {
			t.Errorf("FromEnv(%v) = nil error, want the bad variable named", env)
			continue
		}
		for k := range env {
			if strings.Contains(err.Error(), "sk-test") || strings.Contains(err.Error(), "r8_test") {
				t.Errorf("error %q repeats a secret (%s)", err, k)
			}
		}
	}
}

// TestFromEnvLimitKeys checks that with Redis the remote models are
// limited, each under its own key, and without it they are not.
func TestFromEnvLimitKeys(t *testing.T) {
	env := map[string]string{"OPENAI_API_KEY": "sk-test", "OPENAI_MODEL": "gpt-4o-mini",
		"OPENAI_MODEL_DRAFT": "gpt-4o", "REPLICATE_API_TOKEN": "r8_test", "REPLICATE_IMAGE_MODEL": "acme/painter"}
	getenv := func(k string) string { return env[k] }
	// The client is never dialled: building the models sends nothing.
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	t.Cleanup(func() { rdb.Close() })
	p, err := providers.FromEnv(getenv, rdb, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	text, textLimited := p.Text.(*limited.TextModel)
	emb, embLimited := p.Embedder.(*limited.Embedder)
	img, imgLimited := p.Image.(*limited.ImageModel)
	if !textLimited || !embLimited || !imgLimited {
		t.Fatalf("models are %T, %T and %T; want limited ones", p.Text, p.Embedder, p.Image)
	}
	for _, c := range []struct{ what, got, want string }{
		{"ideas text", text.Key(ai.StageIdeas), "openai/gpt-4o-mini"},
		{"draft text", text.Key(ai.StageDraft), "openai/gpt-4o"},
		{"embeddings", emb.Key(), "openai/text-embedding-3-small"},
		{"images", img.Key(), "replicate/acme/painter"},
	} {
		if c.got != c.want {
			t.Errorf("%s key %q, want %q", c.what, c.got, c.want)
		}
	}
	if p.TenantOpenAI.Limiter == nil {
		t.Error("tenants' models would not be limited")
	}

	p, err = providers.FromEnv(getenv, nil, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := p.Text.(*limited.TextModel); ok || p.TenantOpenAI.Limiter != nil {
		t.Error("without Redis the models are limited")
	}
}
