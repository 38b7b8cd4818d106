package providers_test

import (
	"log/slog"
	"strings"
	"testing"

	"github.com/presswork/presswork/internal/ai/providers"
)

var (
	openAIEnv     = map[string]string{"OPENAI_API_KEY": "sk-test"}
	compatibleEnv = map[string]string{"OPENAI_API_KEY": "sk-test", "OPENAI_BASE_URL": "http://llm.internal:8000/v1"}
	azureEnv      = map[string]string{"OPENAI_API_KEY": "sk-test", "OPENAI_API_TYPE": "azure",
		"OPENAI_AZURE_ENDPOINT": "https://acme.openai.azure.com", "OPENAI_AZURE_DEPLOYMENTS": "gpt-4o-mini=prod-mini"}
	replicateEnv = map[string]string{"REPLICATE_API_TOKEN": "r8_test", "REPLICATE_IMAGE_MODEL": "acme/painter:v2"}
	stagesEnv    = map[string]string{"OPENAI_API_KEY": "sk-test", "OPENAI_MODEL_DRAFT": "gpt-4o",
		"OPENAI_MODEL_CLUSTER_NAME": "gpt-4.1-nano", "OPENAI_EMBEDDING_MODEL": "text-embedding-3-large"}
	offlineEnv = map[string]string{}
)

// withLimits returns env with AI_LIMITS set to limits.
func withLimits(env map[string]string, limits string) func(string) string {
	return func(k string) string {
		if k == "AI_LIMITS" {
			return limits
		}
		return env[k]
	}
}

func TestFromEnvAcceptsLimitKeysInUse(t *testing.T) {
	for _, c := range []struct {
		name   string
		env    map[string]string
		limits string
	}{
		{"openai", openAIEnv, "openai/gpt-4o-mini=500rpm/200000tpm,openai/text-embedding-3-small=3000rpm"},
		{"openai-compatible", compatibleEnv, "openai-compatible/gpt-4o-mini=120rpm;openai-compatible/text-embedding-3-small=60rpm"},
		{"azure by model, not deployment", azureEnv, "azure-openai/gpt-4o-mini=100rpm,azure-openai/text-embedding-3-small=100rpm"},
		{"replicate with version", replicateEnv, "replicate/acme/painter:v2=10rpm"},
		{"replicate default", map[string]string{"REPLICATE_API_TOKEN": "r8_test"}, "replicate/black-forest-labs/flux-schnell=600rpm"},
		{"per-stage models", stagesEnv,
			"openai/gpt-4o=50rpm,openai/gpt-4.1-nano=50rpm,openai/gpt-4o-mini=50rpm,openai/text-embedding-3-large=50rpm"},
		{"tenants offline", offlineEnv,
			"tenant-7/openai/gpt-4o-mini=60rpm,tenant-7/openai-compatible/text-embedding-3-small=60rpm"},
		{"tenants' stage models", map[string]string{"OPENAI_MODEL_DRAFT": "gpt-4o"}, "tenant-12/openai/gpt-4o=5rpm"},
		{"tenants beside azure", azureEnv, "tenant-3/openai/gpt-4o-mini=5rpm,azure-openai/gpt-4o-mini=5rpm"},
		{"tenants beside compatible", compatibleEnv, "tenant-3/openai/gpt-4o-mini=5rpm,tenant-3/openai-compatible/gpt-4o-mini=5rpm"},
		{"no limits offline", offlineEnv, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, err := providers.FromEnv(withLimits(c.env, c.limits), nil, slog.New(slog.DiscardHandler)); err != nil {
				t.Errorf("FromEnv with AI_LIMITS=%q: %v", c.limits, err)
			}
		})
	}
}

func TestFromEnvRefusesLimitKeysOfNoModel(t *testing.T) {
	for _, c := range []struct {
		name   string
		env    map[string]string
		limits string
		want   []string // in the error
	}{
		{"openai prefix on a compatible server", compatibleEnv, "openai/gpt-4o-mini=120rpm", []string{
			"AI_LIMITS: openai/gpt-4o-mini (did you mean openai-compatible/gpt-4o-mini?) matches no configured model",
			"limited under openai-compatible/gpt-4o-mini, openai-compatible/text-embedding-3-small"}},
		{"compatible prefix on OpenAI", openAIEnv, "openai-compatible/text-embedding-3-small=60rpm", []string{
			"(did you mean openai/text-embedding-3-small?)"}},
		{"no prefix", openAIEnv, "gpt-4o-mini=60rpm", []string{"gpt-4o-mini (did you mean openai/gpt-4o-mini?)"}},
		{"azure deployment name", azureEnv, "azure-openai/prod-mini=60rpm", []string{
			"azure-openai/prod-mini matches", "limited under azure-openai/gpt-4o-mini"}},
		{"a stage model not configured", openAIEnv, "openai/gpt-4o=60rpm", []string{"openai/gpt-4o matches"}},
		{"remote model while offline", offlineEnv, "openai/gpt-4o-mini=60rpm", []string{
			"openai/gpt-4o-mini matches no configured model",
			"OPENAI_API_KEY and REPLICATE_API_TOKEN are unset",
			"tenant-<id>/ followed by openai-compatible/gpt-4o-mini"}},
		{"replicate while offline", openAIEnv, "replicate/black-forest-labs/flux-schnell=600rpm", []string{
			"replicate/black-forest-labs/flux-schnell matches"}},
		{"another replicate model", replicateEnv, "replicate/acme/painter=10rpm", []string{
			"replicate/acme/painter matches", "limited under replicate/acme/painter:v2"}},
		{"azure for a tenant", azureEnv, "tenant-7/azure-openai/gpt-4o-mini=5rpm", []string{
			"(did you mean tenant-7/openai-compatible/gpt-4o-mini or tenant-7/openai/gpt-4o-mini?)"}},
		{"tenant id zero", offlineEnv, "tenant-0/openai/gpt-4o-mini=5rpm", []string{"tenant-0/openai/gpt-4o-mini matches"}},
		{"tenant id padded", offlineEnv, "tenant-07/openai/gpt-4o-mini=5rpm", []string{"tenant-07/openai/gpt-4o-mini matches"}},
		{"tenant name", offlineEnv, "tenant-acme/openai/gpt-4o-mini=5rpm", []string{"tenant-acme/openai/gpt-4o-mini matches"}},
		{"two keys", openAIEnv, "openai/gpt-4o-mini=5rpm,openai/gpt-5=5rpm,openai/o3=5rpm", []string{
			"AI_LIMITS: openai/gpt-5, openai/o3 match no configured model"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := providers.FromEnv(withLimits(c.env, c.limits), nil, slog.New(slog.DiscardHandler))
			if err == nil {
				t.Fatalf("FromEnv with AI_LIMITS=%q = nil error, want the key refused", c.limits)
			}
			t.Log(err)
			for _, want := range c.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q\nwant it to contain %q", err, want)
				}
			}
			if strings.Contains(err.Error(), "sk-test") || strings.Contains(err.Error(), "r8_test") {
				t.Errorf("error %q repeats a secret", err)
			}
		})
	}
}
