package anthropic_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/presswork/presswork/internal/ai"
	"github.com/presswork/presswork/internal/ai/anthropic"
)

func env(kv map[string]string) func(string) string {
	return func(k string) string { return kv[k] }
}

func TestConfigFromEnvNoKey(t *testing.T) {
	for _, key := range []string{"", "  "} {
		cfg, ok, err := anthropic.ConfigFromEnv(env(map[string]string{"ANTHROPIC_API_KEY": key, "ANTHROPIC_TIMEOUT": "bad"}))
		if ok || err != nil {
			t.Errorf("key %q: ok %v, err %v; want off without error", key, ok, err)
		}
		if diff := cmp.Diff(anthropic.Config{}, cfg); diff != "" {
			t.Errorf("config (-want +got):\n%s", diff)
		}
	}
}

func TestConfigFromEnv(t *testing.T) {
	withPrices := func(extra anthropic.Prices) anthropic.Prices {
		p := anthropic.DefaultPrices()
		for k, v := range extra {
			p[k] = v
		}
		return p
	}
	tests := []struct {
		name string
		env  map[string]string
		want anthropic.Config
	}{{
		name: "defaults",
		env:  map[string]string{"ANTHROPIC_API_KEY": " sk-ant-abc "},
		want: anthropic.Config{
			APIKey: "sk-ant-abc", BaseURL: "https://api.anthropic.com", Model: "claude-haiku-4-5",
			StageModels: map[ai.Stage]string{}, Timeout: 120 * time.Second, Prices: anthropic.DefaultPrices(),
		},
	}, {
		name: "everything set",
		env: map[string]string{
			"ANTHROPIC_API_KEY":            "sk-ant-abc",
			"ANTHROPIC_BASE_URL":           "http://localhost:4000",
			"ANTHROPIC_MODEL":              "claude-sonnet-4-6",
			"ANTHROPIC_MODEL_CLUSTER_NAME": "claude-haiku-4-5",
			"ANTHROPIC_MODEL_IDEAS":        "claude-sonnet-4-5",
			"ANTHROPIC_MODEL_DRAFT":        "claude-opus-4-6",
			"ANTHROPIC_MODEL_IMAGE_PROMPT": "claude-haiku-4-5-20251001",
			"ANTHROPIC_STRICT_TOOLS":       "true",
			"ANTHROPIC_TIMEOUT":            "3m",
			"ANTHROPIC_PRICES":             "claude-haiku-4-5=2/10; my-proxy=0/0, claude-opus-4-6=$5/25/6/0.4",
		},
		want: anthropic.Config{
			APIKey: "sk-ant-abc", BaseURL: "http://localhost:4000", Model: "claude-sonnet-4-6",
			StageModels: map[ai.Stage]string{
				ai.StageClusterName: "claude-haiku-4-5", ai.StageIdeas: "claude-sonnet-4-5",
				ai.StageDraft: "claude-opus-4-6", ai.StageImagePrompt: "claude-haiku-4-5-20251001",
			},
			StrictTools: true,
			Timeout:     3 * time.Minute,
			Prices: withPrices(anthropic.Prices{
				"claude-haiku-4-5": {InputPerMillion: 2, OutputPerMillion: 10, CacheWritePerMillion: 2.5, CacheReadPerMillion: 0.2},
				"my-proxy":         {},
				"claude-opus-4-6":  {InputPerMillion: 5, OutputPerMillion: 25, CacheWritePerMillion: 6, CacheReadPerMillion: 0.4},
			}),
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, ok, err := anthropic.ConfigFromEnv(env(tt.env))
			if err != nil || !ok {
				t.Fatalf("ok %v, err %v", ok, err)
			}
			if diff := cmp.Diff(tt.want, cfg, approx); diff != "" {
				t.Errorf("config (-want +got):\n%s", diff)
			}
		})
	}
}

func TestConfigFromEnvErrors(t *testing.T) {
	const key = "sk-ant-secret-0123456789"
	tests := []struct {
		env  map[string]string
		want string // the variable the error must name
	}{
		{map[string]string{"ANTHROPIC_API_KEY": "sk ant"}, "ANTHROPIC_API_KEY"},
		{map[string]string{"ANTHROPIC_BASE_URL": "api.anthropic.com"}, "ANTHROPIC_BASE_URL"},
		{map[string]string{"ANTHROPIC_BASE_URL": "https://user:" + key + "@example.com"}, "ANTHROPIC_BASE_URL"},
		{map[string]string{"ANTHROPIC_STRICT_TOOLS": "maybe"}, "ANTHROPIC_STRICT_TOOLS"},
		{map[string]string{"ANTHROPIC_TIMEOUT": "soon"}, "ANTHROPIC_TIMEOUT"},
		{map[string]string{"ANTHROPIC_TIMEOUT": "0"}, "ANTHROPIC_TIMEOUT"},
		{map[string]string{"ANTHROPIC_PRICES": "claude-haiku-4-5"}, "ANTHROPIC_PRICES"},
		{map[string]string{"ANTHROPIC_PRICES": "claude-haiku-4-5=1"}, "ANTHROPIC_PRICES"},
		{map[string]string{"ANTHROPIC_PRICES": "claude-haiku-4-5=1/5/1"}, "ANTHROPIC_PRICES"},
		{map[string]string{"ANTHROPIC_PRICES": "claude-haiku-4-5=cheap/5"}, "ANTHROPIC_PRICES"},
		{map[string]string{"ANTHROPIC_PRICES": "claude-haiku-4-5=1/-5"}, "ANTHROPIC_PRICES"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.env), func(t *testing.T) {
			e := map[string]string{"ANTHROPIC_API_KEY": key}
			for k, v := range tt.env {
				e[k] = v
			}
			_, ok, err := anthropic.ConfigFromEnv(env(e))
			if !ok || err == nil {
				t.Fatalf("ok %v, err %v; want an error", ok, err)
			}
			if !strings.Contains(err.Error(), tt.want+":") {
				t.Errorf("err = %q, want it to name %s", err, tt.want)
			}
			if strings.Contains(err.Error(), key) || strings.Contains(err.Error(), "sk ant") {
				t.Errorf("err = %q contains the key", err)
			}
		})
	}
}

func TestConfigNeverShowsTheKey(t *testing.T) {
	const key = "sk-ant-api03-VERYsecret123"
	cfg, _, err := anthropic.ConfigFromEnv(env(map[string]string{"ANTHROPIC_API_KEY": key}))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("config", "anthropic", cfg)
	slog.New(slog.NewTextHandler(&buf, nil)).Info("config", "anthropic", cfg, "key", cfg.APIKey)
	j, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, out := range []string{
		buf.String(), string(j),
		fmt.Sprintf("%v %+v %#v %s %q", cfg, cfg, cfg, cfg.APIKey, cfg.APIKey),
	} {
		if strings.Contains(out, "VERYsecret") {
			t.Errorf("output shows the key: %s", out)
		}
		if !strings.Contains(out, "[redacted]") {
			t.Errorf("output does not show the key as [redacted]: %s", out)
		}
	}
	if !strings.Contains(buf.String(), `"model_draft":"claude-haiku-4-5"`) {
		t.Errorf("log lacks the draft model: %s", buf.String())
	}
	if cfg.APIKey.Reveal() != key {
		t.Errorf("Reveal = %q", cfg.APIKey.Reveal())
	}
}

func TestPrices(t *testing.T) {
	p := anthropic.DefaultPrices()
	haiku := anthropic.Price{InputPerMillion: 1, OutputPerMillion: 5, CacheWritePerMillion: 1.25, CacheReadPerMillion: 0.10}
	tests := []struct {
		model string
		want  anthropic.Price
		ok    bool
	}{
		{"claude-haiku-4-5", haiku, true},
		{"claude-haiku-4-5-20251001", haiku, true},
		{"claude-3-5-haiku-latest", anthropic.Price{InputPerMillion: 0.80, OutputPerMillion: 4, CacheWritePerMillion: 1, CacheReadPerMillion: 0.08}, true},
		{"claude-haiku-4-5-fast", anthropic.Price{}, false},
		{"claude-mythos-5", anthropic.Price{}, false},
	}
	for _, tt := range tests {
		got, ok := p.Lookup(tt.model)
		if ok != tt.ok || got != tt.want {
			t.Errorf("Lookup(%q) = %+v, %v; want %+v, %v", tt.model, got, ok, tt.want, tt.ok)
		}
	}
	cost := p.Cost("claude-haiku-4-5", anthropic.Tokens{Input: 1000, Output: 500, CacheWrite: 2000, CacheRead: 4000})
	if diff := cmp.Diff((1000*1+500*5+2000*1.25+4000*0.10)/1e6, cost, approx); diff != "" {
		t.Errorf("Cost (-want +got):\n%s", diff)
	}
	if got := p.Cost("llama3", anthropic.Tokens{Input: 1000}); got != 0 {
		t.Errorf("Cost of an unpriced model = %v", got)
	}
}

func TestUnpricedModels(t *testing.T) {
	cfg := anthropic.Config{
		Model:       "claude-haiku-4-5",
		StageModels: map[ai.Stage]string{ai.StageDraft: "claude-fable-5", ai.StageIdeas: "claude-sonnet-4-5-20250929"},
	}
	if diff := cmp.Diff([]string{"claude-fable-5"}, cfg.UnpricedModels()); diff != "" {
		t.Errorf("UnpricedModels (-want +got):\n%s", diff)
	}
}
