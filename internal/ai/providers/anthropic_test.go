package providers_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/presswork/presswork/internal/ai"
	"github.com/presswork/presswork/internal/ai/anthropic/fakeanthropic"
	"github.com/presswork/presswork/internal/ai/limited"
	"github.com/presswork/presswork/internal/ai/offline"
	"github.com/presswork/presswork/internal/ai/openai/fakeopenai"
	"github.com/presswork/presswork/internal/ai/providers"
)

// TestFromEnvTextProvider checks which provider serves the text stages and
// which the embeddings, by the keys set and AI_TEXT_PROVIDER.
func TestFromEnvTextProvider(t *testing.T) {
	offlineEmbedder := offline.NewEmbedder(0).Name()
	tests := []struct {
		name               string
		env                map[string]string
		wantText, wantEmbs string
	}{{
		name:     "Anthropic alone",
		env:      map[string]string{"ANTHROPIC_API_KEY": "sk-ant-test"},
		wantText: "anthropic/claude-haiku-4-5", wantEmbs: offlineEmbedder,
	}, {
		name:     "both keys: OpenAI by default",
		env:      map[string]string{"ANTHROPIC_API_KEY": "sk-ant-test", "OPENAI_API_KEY": "sk-test"},
		wantText: "openai/gpt-4o-mini", wantEmbs: "openai/text-embedding-3-small",
	}, {
		name: "both keys: Anthropic chosen",
		env: map[string]string{"ANTHROPIC_API_KEY": "sk-ant-test", "OPENAI_API_KEY": "sk-test",
			"AI_TEXT_PROVIDER": "Anthropic", "ANTHROPIC_MODEL": "claude-sonnet-4-6"},
		wantText: "anthropic/claude-sonnet-4-6", wantEmbs: "openai/text-embedding-3-small",
	}, {
		name:     "OpenAI chosen",
		env:      map[string]string{"OPENAI_API_KEY": "sk-test", "AI_TEXT_PROVIDER": "openai"},
		wantText: "openai/gpt-4o-mini", wantEmbs: "openai/text-embedding-3-small",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := providers.FromEnv(func(k string) string { return tt.env[k] }, nil, slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatal(err)
			}
			if p.Text.Name() != tt.wantText || p.Embedder.Name() != tt.wantEmbs {
				t.Errorf("text %s, embeddings %s; want %s, %s", p.Text.Name(), p.Embedder.Name(), tt.wantText, tt.wantEmbs)
			}
		})
	}
}

// TestFromEnvAnthropicLimitKeys checks that with Redis Anthropic's model
// is limited under "anthropic/<model>" per stage, that AI_LIMITS may name
// those keys, and that it may no longer name OpenAI's text models when
// Anthropic serves the text.
func TestFromEnvAnthropicLimitKeys(t *testing.T) {
	env := map[string]string{"ANTHROPIC_API_KEY": "sk-ant-test", "ANTHROPIC_MODEL_DRAFT": "claude-sonnet-4-6",
		"OPENAI_API_KEY": "sk-test", "AI_TEXT_PROVIDER": "anthropic",
		"AI_LIMITS": "anthropic/claude-haiku-4-5=50rpm/50000tpm,anthropic/claude-sonnet-4-6=20rpm,openai/text-embedding-3-small=500rpm"}
	getenv := func(k string) string { return env[k] }
	// The client is never dialled: building the models sends nothing.
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	t.Cleanup(func() { rdb.Close() })
	p, err := providers.FromEnv(getenv, rdb, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	text, ok := p.Text.(*limited.TextModel)
	if !ok {
		t.Fatalf("text model is %T, want a limited one", p.Text)
	}
	for stage, want := range map[ai.Stage]string{ai.StageIdeas: "anthropic/claude-haiku-4-5", ai.StageDraft: "anthropic/claude-sonnet-4-6"} {
		if got := text.Key(stage); got != want {
			t.Errorf("%s key %q, want %q", stage, got, want)
		}
	}

	env["AI_LIMITS"] = "openai/gpt-4o-mini=500rpm"
	_, err = providers.FromEnv(getenv, rdb, slog.New(slog.DiscardHandler))
	if err == nil || !strings.Contains(err.Error(), "openai/gpt-4o-mini") {
		t.Errorf("a limit on OpenAI's unused text model: err = %v, want it refused", err)
	}
	env["AI_LIMITS"] = "claude-haiku-4-5=50rpm"
	_, err = providers.FromEnv(getenv, rdb, slog.New(slog.DiscardHandler))
	if err == nil || !strings.Contains(err.Error(), "did you mean anthropic/claude-haiku-4-5") {
		t.Errorf("a limit without the provider: err = %v, want the anthropic/ key suggested", err)
	}
}

func TestFromEnvRefusesBadAnthropicConfiguration(t *testing.T) {
	for _, env := range []map[string]string{
		{"AI_TEXT_PROVIDER": "gemini", "ANTHROPIC_API_KEY": "sk-ant-test"},
		{"AI_TEXT_PROVIDER": "anthropic", "OPENAI_API_KEY": "sk-test"},
		{"AI_TEXT_PROVIDER": "openai", "ANTHROPIC_API_KEY": "sk-ant-test"},
		{"ANTHROPIC_API_KEY": "sk-ant-test", "ANTHROPIC_TIMEOUT": "soon"},
		// A bad configuration is refused even when OpenAI serves the text.
		{"ANTHROPIC_API_KEY": "sk-ant-test", "OPENAI_API_KEY": "sk-test", "ANTHROPIC_BASE_URL": "nowhere"},
	} {
		_, err := providers.FromEnv(func(k string) string { return env[k] }, nil, slog.New(slog.DiscardHandler))
		if err == nil {
			t.Errorf("FromEnv(%v) = nil error, want the bad variable named", env)
			continue
		}
		if !strings.Contains(err.Error(), "AI_TEXT_PROVIDER") && !strings.Contains(err.Error(), "ANTHROPIC_") {
			t.Errorf("FromEnv(%v): err %q names no variable", env, err)
		}
		if strings.Contains(err.Error(), "sk-ant-test") || strings.Contains(err.Error(), "sk-test") {
			t.Errorf("error %q repeats a secret", err)
		}
	}
}

// TestFromEnvAnthropicServesTheStages runs a stage through the worker's
// stack on the fake Messages API, as the pipeline does.
func TestFromEnvAnthropicServesTheStages(t *testing.T) {
	s := fakeanthropic.New(t)
	s.SetKey("sk-ant-test")
	s.SetContent(fakeanthropic.WriterContent(&fakeopenai.Writer{}))
	env := map[string]string{"ANTHROPIC_API_KEY": "sk-ant-test", "ANTHROPIC_BASE_URL": s.URL}
	p, err := providers.FromEnv(func(k string) string { return env[k] }, nil, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	w, err := ai.NewWriter(p.Text)
	if err != nil {
		t.Fatal(err)
	}
	name, usage, err := w.NameCluster(context.Background(), ai.ClusterNameInput{SiteName: "Trail Blog",
		Keywords: []ai.KeywordInfo{{Phrase: "trail running shoes"}}})
	if err != nil {
		t.Fatal(err)
	}
	if name.Name == "" || usage.Model != "claude-haiku-4-5" || usage.CostUSD <= 0 || len(s.Requests()) != 1 {
		t.Errorf("name %+v, usage %+v, %d requests", name, usage, len(s.Requests()))
	}
}
