package providers

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/presswork/presswork/internal/ai"
	"github.com/presswork/presswork/internal/ai/limited"
	"github.com/presswork/presswork/internal/ai/openai"
	"github.com/presswork/presswork/internal/ratelimit"
)

// tenantKeysBaseURL stands for any OpenAI-compatible server a tenant may
// name as its base URL; its models are keyed "openai-compatible/...".
const tenantKeysBaseURL = "https://openai-compatible.invalid/v1"

// limitKeys is every key the configured models are limited under: the
// worker's own models' keys, and the keys of tenants' own models after
// their "tenant-<id>/" prefix.
type limitKeys struct {
	operator []string
	tenant   []string
}

// tenantKeyPrefix is the prefix of the limit keys of a tenant's own models.
func tenantKeyPrefix(tenantID int64) string {
	return fmt.Sprintf("tenant-%d/", tenantID)
}

// cutTenantPrefix splits a key into its "tenant-<id>/" prefix and the rest;
// ok is false when the key has no such prefix with a valid tenant id.
func cutTenantPrefix(key string) (prefix, rest string, ok bool) {
	head, rest, found := strings.Cut(key, "/")
	digits, isTenant := strings.CutPrefix(head, "tenant-")
	if !found || !isTenant {
		return "", key, false
	}
	id, err := strconv.ParseInt(digits, 10, 64)
	if err != nil || id < 1 || tenantKeyPrefix(id) != head+"/" {
		return "", key, false
	}
	return head + "/", rest, true
}

// openAIKeys returns the keys the text and embedding models built from cfg
// are limited under: each stage's model's, the default model's (which
// serves any stage OPENAI_MODEL_* does not name) and the embedder's.
func openAIKeys(text ai.TextModel, emb ai.Embedder, cfg openai.Config) []string {
	stageKey := limited.StageKey(text.Name(), cfg.Model, cfg.ModelFor)
	keys := []string{stageKey(""), emb.Name()}
	for _, stage := range ai.PromptStages() {
		keys = append(keys, stageKey(stage))
	}
	return keys
}

// tenantOpenAIKeys returns the keys tenants' own models are limited under
// after their "tenant-<id>/" prefix: cfg's models on the OpenAI API
// ("openai/...") and on a compatible server ("openai-compatible/..."),
// since each tenant chooses its base URL.
func tenantOpenAIKeys(cfg openai.Config) ([]string, error) {
	var keys []string
	for _, baseURL := range []string{"", tenantKeysBaseURL} {
		c := cfg.ForKey(tenantKeyPlaceholder, baseURL, tenantKeySource)
		text, err := openai.NewTextModel(c)
		if err != nil {
			return nil, fmt.Errorf("OpenAI configuration (for tenants' own keys): %w", err)
		}
		emb, err := openai.NewEmbedder(c)
		if err != nil {
			return nil, fmt.Errorf("OpenAI configuration (for tenants' own keys): %w", err)
		}
		keys = append(keys, openAIKeys(text, emb, c)...)
	}
	return keys, nil
}

// check refuses limits with a key that no configured model is limited
// under: such a limit would silently limit nothing. The error names those
// keys, a key with the same model for each when there is one, and the keys
// in use.
func (k limitKeys) check(limits map[string]ratelimit.Limits) error {
	k.operator, k.tenant = sortedUnique(k.operator), sortedUnique(k.tenant)
	var unmatched []string
	for key := range limits {
		if !k.matches(key) {
			unmatched = append(unmatched, key)
		}
	}
	if len(unmatched) == 0 {
		return nil
	}
	slices.Sort(unmatched)
	named := make([]string, len(unmatched))
	for i, key := range unmatched {
		named[i] = key
		if alt := k.sameModel(key); len(alt) > 0 {
			named[i] += " (did you mean " + strings.Join(alt, " or ") + "?)"
		}
	}
	verb := "matches"
	if len(unmatched) > 1 {
		verb = "match"
	}
	return fmt.Errorf("%s: %s %s no configured model; %s", limited.EnvVar,
		strings.Join(named, ", "), verb, k.describe())
}

func (k limitKeys) matches(key string) bool {
	if _, rest, ok := cutTenantPrefix(key); ok {
		return slices.Contains(k.tenant, rest)
	}
	return slices.Contains(k.operator, key)
}

// sameModel returns the keys in use that limit the model key names under
// another provider's prefix (or none).
func (k limitKeys) sameModel(key string) []string {
	prefix, rest, isTenant := cutTenantPrefix(key)
	candidates := k.operator
	if isTenant {
		candidates = k.tenant
	}
	model := modelOf(rest)
	var out []string
	for _, c := range candidates {
		if modelOf(c) == model {
			out = append(out, prefix+c)
		}
	}
	return out
}

// modelOf returns the model a key names: what follows its provider
// ("openai/", "replicate/", ...), or the whole key without a provider.
func modelOf(key string) string {
	for _, provider := range []string{"openai/", "openai-compatible/", "azure-openai/", "anthropic/", "replicate/"} {
		if m, ok := strings.CutPrefix(key, provider); ok {
			return m
		}
	}
	return key
}

// describe lists the keys in use.
func (k limitKeys) describe() string {
	own := "the worker's own models are offline and never limited (OPENAI_API_KEY and REPLICATE_API_TOKEN are unset)"
	if len(k.operator) > 0 {
		own = "the worker's own models are limited under " + strings.Join(k.operator, ", ")
	}
	return own + "; tenants' own OpenAI keys under tenant-<id>/ followed by " + strings.Join(k.tenant, ", ")
}

func sortedUnique(keys []string) []string {
	out := slices.Clone(keys)
	slices.Sort(out)
	return slices.Compact(out)
}
