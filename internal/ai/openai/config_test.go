package openai_test

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
	"github.com/presswork/presswork/internal/ai/openai"
)

func env(kv map[string]string) func(string) string {
	return func(k string) string { return kv[k] }
}

func TestConfigFromEnvNoKey(t *testing.T) {
	for _, key := range []string{"", "  "} {
		cfg, ok, err := openai.ConfigFromEnv(env(map[string]string{"OPENAI_API_KEY": key, "OPENAI_TIMEOUT": "bad"}))
		if ok || err != nil {
			t.Errorf("key %q: ok %v, err %v; want off without error", key, ok, err)
		}
		if diff := cmp.Diff(openai.Config{}, cfg); diff != "" {
			t.Errorf("config (-want +got):\n%s", diff)
		}
	}
}

func TestConfigFromEnv(t *testing.T) {
	withPrices := func(extra openai.Prices) openai.Prices {
		p := openai.DefaultPrices()
		for k, v := range extra {
			p[k] = v
		}
		return p
	}
	tests := []struct {
		name string
		env  map[string]string
		want openai.Config
	}{{
		name: "defaults",
		env:  map[string]string{"OPENAI_API_KEY": " sk-abc "},
		want: openai.Config{
			APIKey: "sk-abc", APIType: "openai", BaseURL: "https://api.openai.com/v1",
			Model: "gpt-4o-mini", StageModels: map[ai.Stage]string{},
			EmbeddingModel: "text-embedding-3-small", EmbeddingDimensions: 512,
			Timeout: 60 * time.Second, Prices: openai.DefaultPrices(),
		},
	}, {
		name: "compatible server with everything set",
		env: map[string]string{
			"OPENAI_API_KEY":              "ollama",
			"OPENAI_API_TYPE":             "OpenAI",
			"OPENAI_BASE_URL":             "http://localhost:11434/v1",
			"OPENAI_MODEL":                "llama3.1",
			"OPENAI_MODEL_CLUSTER_NAME":   "qwen2.5",
			"OPENAI_MODEL_IDEAS":          "llama3.1:70b",
			"OPENAI_MODEL_DRAFT":          "llama3.1:405b",
			"OPENAI_MODEL_IMAGE_PROMPT":   "qwen2.5:7b",
			"OPENAI_EMBEDDING_MODEL":      "nomic-embed-text",
			"OPENAI_EMBEDDING_DIMENSIONS": "768",
			"OPENAI_TIMEOUT":              "2m30s",
			"OPENAI_PRICES":               "llama3.1=0/0; gpt-4o-mini=$0.2/0.8, nomic-embed-text=0.01",
		},
		want: openai.Config{
			APIKey: "ollama", APIType: "openai", BaseURL: "http://localhost:11434/v1",
			Model: "llama3.1",
			StageModels: map[ai.Stage]string{
				ai.StageClusterName: "qwen2.5", ai.StageIdeas: "llama3.1:70b", ai.StageDraft: "llama3.1:405b",
				"image_prompt": "qwen2.5:7b",
			},
			EmbeddingModel: "nomic-embed-text", EmbeddingDimensions: 768,
			Timeout: 150 * time.Second,
			Prices: withPrices(openai.Prices{
				"llama3.1":         {},
				"gpt-4o-mini":      {PromptPerMillion: 0.2, CompletionPerMillion: 0.8},
				"nomic-embed-text": {PromptPerMillion: 0.01},
			}),
		},
	}, {
		name: "azure",
		env: map[string]string{
			"OPENAI_API_KEY":           "azurekey0123",
			"OPENAI_API_TYPE":          "azure",
			"OPENAI_AZURE_ENDPOINT":    "https://presswork.openai.azure.com/",
			"OPENAI_AZURE_DEPLOYMENTS": "gpt-4o-mini = mini-prod, text-embedding-3-small=emb",
			"OPENAI_TIMEOUT":           "45",
		},
		want: openai.Config{
			APIKey: "azurekey0123", APIType: "azure",
			AzureEndpoint: "https://presswork.openai.azure.com/", APIVersion: "2024-10-21",
			AzureDeployments: map[string]string{"gpt-4o-mini": "mini-prod", "text-embedding-3-small": "emb"},
			Model:            "gpt-4o-mini", StageModels: map[ai.Stage]string{},
			EmbeddingModel: "text-embedding-3-small", EmbeddingDimensions: 512,
			Timeout: 45 * time.Second, Prices: openai.DefaultPrices(),
		},
	}, {
		name: "azure preview version",
		env: map[string]string{
			"OPENAI_API_KEY": "k", "OPENAI_API_TYPE": "azure",
			"OPENAI_AZURE_ENDPOINT": "https://x.openai.azure.com", "OPENAI_API_VERSION": "2024-09-01-preview",
		},
		want: openai.Config{
			APIKey: "k", APIType: "azure", AzureEndpoint: "https://x.openai.azure.com", APIVersion: "2024-09-01-preview",
			Model: "gpt-4o-mini", StageModels: map[ai.Stage]string{},
			EmbeddingModel: "text-embedding-3-small", EmbeddingDimensions: 512,
			Timeout: 60 * time.Second, Prices: openai.DefaultPrices(),
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, ok, err := openai.ConfigFromEnv(env(tt.env))
			if err != nil || !ok {
				t.Fatalf("ok %v, err %v", ok, err)
			}
			if diff := cmp.Diff(tt.want, cfg); diff != "" {
				t.Errorf("config (-want +got):\n%s", diff)
			}
		})
	}
}

func TestConfigFromEnvErrors(t *testing.T) {
	const key = "sk-secret-0123456789"
	tests := []struct {
		env  map[string]string
		want string // the variable the error must name
	}{
		{map[string]string{"OPENAI_API_KEY": "sk bad"}, "OPENAI_API_KEY"},
		{map[string]string{"OPENAI_API_TYPE": "anthropic"}, "OPENAI_API_TYPE"},
		{map[string]string{"OPENAI_BASE_URL": "localhost:8080"}, "OPENAI_BASE_URL"},
		{map[string]string{"OPENAI_BASE_URL": "https://user:" + key + "@example.com/v1"}, "OPENAI_BASE_URL"},
		{map[string]string{"OPENAI_API_VERSION": "2024-10-21"}, "OPENAI_API_VERSION"},
		{map[string]string{"OPENAI_AZURE_ENDPOINT": "https://x.openai.azure.com"}, "OPENAI_AZURE_ENDPOINT"},
		{map[string]string{"OPENAI_AZURE_DEPLOYMENTS": "a=b"}, "OPENAI_AZURE_DEPLOYMENTS"},
		{map[string]string{"OPENAI_API_TYPE": "azure"}, "OPENAI_AZURE_ENDPOINT"},
		{map[string]string{"OPENAI_API_TYPE": "azure", "OPENAI_AZURE_ENDPOINT": "https://x.openai.azure.com",
			"OPENAI_API_VERSION": "2024-08-01-preview"}, "OPENAI_API_VERSION"},
		{map[string]string{"OPENAI_API_TYPE": "azure", "OPENAI_AZURE_ENDPOINT": "https://x.openai.azure.com",
			"OPENAI_API_VERSION": "latest"}, "OPENAI_API_VERSION"},
		{map[string]string{"OPENAI_API_TYPE": "azure", "OPENAI_AZURE_ENDPOINT": "https://x.openai.azure.com",
			"OPENAI_BASE_URL": "https://api.openai.com/v1"}, "OPENAI_BASE_URL"},
		{map[string]string{"OPENAI_API_TYPE": "azure", "OPENAI_AZURE_ENDPOINT": "https://x.openai.azure.com",
			"OPENAI_AZURE_DEPLOYMENTS": "gpt-4o-mini"}, "OPENAI_AZURE_DEPLOYMENTS"},
		{map[string]string{"OPENAI_EMBEDDING_DIMENSIONS": "many"}, "OPENAI_EMBEDDING_DIMENSIONS"},
		{map[string]string{"OPENAI_EMBEDDING_DIMENSIONS": "0"}, "OPENAI_EMBEDDING_DIMENSIONS"},
		{map[string]string{"OPENAI_TIMEOUT": "soon"}, "OPENAI_TIMEOUT"},
		{map[string]string{"OPENAI_TIMEOUT": "-1s"}, "OPENAI_TIMEOUT"},
		{map[string]string{"OPENAI_PRICES": "gpt-4o"}, "OPENAI_PRICES"},
		{map[string]string{"OPENAI_PRICES": "gpt-4o=cheap/1"}, "OPENAI_PRICES"},
		{map[string]string{"OPENAI_PRICES": "gpt-4o=1/-2"}, "OPENAI_PRICES"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.env), func(t *testing.T) {
			e := map[string]string{"OPENAI_API_KEY": key}
			for k, v := range tt.env {
				e[k] = v
			}
			_, ok, err := openai.ConfigFromEnv(env(e))
			if !ok || err == nil {
				t.Fatalf("ok %v, err %v; want an error", ok, err)
			}
			if !strings.Contains(err.Error(), tt.want+":") {
				t.Errorf("err = %q, want it to name %s", err, tt.want)
			}
			if strings.Contains(err.Error(), key) || strings.Contains(err.Error(), "sk bad") {
				t.Errorf("err = %q contains the key", err)
			}
		})
	}
}

func TestConfigNeverShowsTheKey(t *testing.T) {
	const key = "sk-proj-VERYsecret123"
	cfg, _, err := openai.ConfigFromEnv(env(map[string]string{"OPENAI_API_KEY": key}))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("config", "openai", cfg)
	slog.New(slog.NewTextHandler(&buf, nil)).Info("config", "openai", cfg, "key", cfg.APIKey)
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
	if !strings.Contains(buf.String(), `"model_draft":"gpt-4o-mini"`) {
		t.Errorf("log lacks the draft model: %s", buf.String())
	}
	if cfg.APIKey.Reveal() != key {
		t.Errorf("Reveal = %q", cfg.APIKey.Reveal())
	}
}

func TestPrices(t *testing.T) {
	p := openai.DefaultPrices()
	tests := []struct {
		model string
		want  openai.Price
		ok    bool
	}{
		{"gpt-4o-mini", openai.Price{PromptPerMillion: 0.15, CompletionPerMillion: 0.60}, true},
		{"gpt-4o-mini-2024-07-18", openai.Price{PromptPerMillion: 0.15, CompletionPerMillion: 0.60}, true},
		{"gpt-4o-2024-08-06", openai.Price{PromptPerMillion: 2.50, CompletionPerMillion: 10}, true},
		{"gpt-4.1-mini", openai.Price{PromptPerMillion: 0.40, CompletionPerMillion: 1.60}, true},
		{"text-embedding-3-large", openai.Price{PromptPerMillion: 0.13}, true},
		{"gpt-4o-mini-search-preview", openai.Price{}, false}, // not priced as gpt-4o-mini
		{"gpt-4o-audio", openai.Price{}, false},
		{"llama3", openai.Price{}, false},
	}
	for _, tt := range tests {
		got, ok := p.Lookup(tt.model)
		if ok != tt.ok || got != tt.want {
			t.Errorf("Lookup(%q) = %+v, %v; want %+v, %v", tt.model, got, ok, tt.want, tt.ok)
		}
	}
	if diff := cmp.Diff(0.00045, p.Cost("gpt-4o-mini", 1000, 500), approx); diff != "" {
		t.Errorf("Cost (-want +got):\n%s", diff)
	}
	if got := p.Cost("llama3", 1000, 500); got != 0 {
		t.Errorf("Cost of an unpriced model = %v", got)
	}
}

func TestUnpricedModels(t *testing.T) {
	cfg := openai.Config{
		Model:          "gpt-4o-mini",
		StageModels:    map[ai.Stage]string{ai.StageDraft: "llama3", ai.StageIdeas: "gpt-4o-2024-08-06"},
		EmbeddingModel: "nomic-embed-text",
	}
	if diff := cmp.Diff([]string{"llama3", "nomic-embed-text"}, cfg.UnpricedModels()); diff != "" {
		t.Errorf("UnpricedModels (-want +got):\n%s", diff)
	}
}

func TestConfigFromEnvWithKey(t *testing.T) {
	// Without OPENAI_API_KEY the other variables still configure the models
	// of keys brought by tenants; OPENAI_API_KEY itself is not read.
	cfg, err := openai.ConfigFromEnvWithKey(env(map[string]string{
		"OPENAI_API_KEY": "sk-operator", "OPENAI_MODEL": "gpt-4.1-mini", "OPENAI_MODEL_DRAFT": "gpt-4.1",
		"OPENAI_EMBEDDING_DIMENSIONS": "256", "OPENAI_TIMEOUT": "90s",
	}), "sk-placeholder")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.APIKey.Reveal() != "sk-placeholder" || cfg.Model != "gpt-4.1-mini" || cfg.ModelFor(ai.StageDraft) != "gpt-4.1" ||
		cfg.EmbeddingDimensions != 256 || cfg.Timeout != 90*time.Second || cfg.BaseURL != openai.DefaultBaseURL {
		t.Errorf("config %+v", cfg)
	}
	if _, err := openai.ConfigFromEnvWithKey(env(map[string]string{"OPENAI_TIMEOUT": "soon"}), "sk-placeholder"); err == nil ||
		!strings.Contains(err.Error(), "OPENAI_TIMEOUT") {
		t.Errorf("a bad variable: err = %v", err)
	}
	if _, err := openai.ConfigFromEnvWithKey(env(nil), " "); err == nil {
		t.Error("an empty key: no error")
	}
	def, err := openai.ConfigFromEnvWithKey(env(nil), "sk-x")
	if err != nil {
		t.Fatal(err)
	}
	def.Prices, def.StageModels = nil, nil
	want := openai.DefaultConfig("sk-x")
	want.Prices, want.StageModels = nil, nil
	if diff := cmp.Diff(want, def); diff != "" {
		t.Errorf("an empty environment is not DefaultConfig (-want +got):\n%s", diff)
	}
}

func TestConfigForKey(t *testing.T) {
	azure, err := openai.ConfigFromEnvWithKey(env(map[string]string{
		"OPENAI_API_TYPE": "azure", "OPENAI_AZURE_ENDPOINT": "https://res.openai.azure.com",
		"OPENAI_AZURE_DEPLOYMENTS": "gpt-4o-mini=mini", "OPENAI_MODEL_IDEAS": "gpt-4o",
	}), "azure-key")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ baseURL, want string }{{"", openai.DefaultBaseURL}, {"http://127.0.0.1:11434/v1", "http://127.0.0.1:11434/v1"}} {
		cfg := azure.ForKey("sk-tenant", tt.baseURL, "the tenant's key")
		if cfg.APIType != openai.APITypeOpenAI || cfg.BaseURL != tt.want || cfg.AzureEndpoint != "" || cfg.AzureDeployments != nil ||
			cfg.APIKey.Reveal() != "sk-tenant" || cfg.ModelFor(ai.StageIdeas) != "gpt-4o" || cfg.KeySource != "the tenant's key" {
			t.Errorf("ForKey(%q) = %+v", tt.baseURL, cfg)
		}
		if err := cfg.Validate(); err != nil {
			t.Errorf("ForKey(%q) does not validate: %v", tt.baseURL, err)
		}
	}
	if azure.APIKey.Reveal() != "azure-key" || azure.AzureEndpoint == "" {
		t.Error("ForKey changed the configuration it was called on")
	}
}
