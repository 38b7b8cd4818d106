package providers

import (
	"fmt"
	"log/slog"
	"strings"

	"github.com/presswork/presswork/internal/ai"
	"github.com/presswork/presswork/internal/ai/anthropic"
	"github.com/presswork/presswork/internal/ai/limited"
)

// The text providers AI_TEXT_PROVIDER chooses between.
const (
	textProviderOpenAI    = "openai"
	textProviderAnthropic = "anthropic"
)

// textProviderFromEnv returns the provider of the worker's own text model:
// AI_TEXT_PROVIDER when it is set (its key must be set too); else Anthropic
// when ANTHROPIC_API_KEY is set and OPENAI_API_KEY is not; else OpenAI (or
// the offline model when OPENAI_API_KEY is unset too). Embeddings stay with
// OpenAI or the offline embedder: Anthropic has none.
func textProviderFromEnv(getenv func(string) string) (string, error) {
	set := func(name string) bool { return strings.TrimSpace(getenv(name)) != "" }
	switch v := strings.ToLower(strings.TrimSpace(getenv("AI_TEXT_PROVIDER"))); v {
	case "":
		if set("ANTHROPIC_API_KEY") && !set("OPENAI_API_KEY") {
			return textProviderAnthropic, nil
		}
		return textProviderOpenAI, nil
	case textProviderOpenAI:
		if !set("OPENAI_API_KEY") {
			return "", fmt.Errorf("AI_TEXT_PROVIDER: %q needs OPENAI_API_KEY", v)
		}
		return v, nil
	case textProviderAnthropic:
		if !set("ANTHROPIC_API_KEY") {
			return "", fmt.Errorf("AI_TEXT_PROVIDER: %q needs ANTHROPIC_API_KEY", v)
		}
		return v, nil
	default:
		return "", fmt.Errorf("AI_TEXT_PROVIDER: must be %q or %q, got %q", textProviderOpenAI, textProviderAnthropic, v)
	}
}

// anthropicFromEnv reads the Anthropic configuration when
// ANTHROPIC_API_KEY is set (a bad one is an error even when the model is
// not used) and, with useText, makes its model p's text model, limited
// under "anthropic/<model>" per stage; it returns the keys it is limited
// under.
func (s stack) anthropicFromEnv(p *Set, getenv func(string) string, log *slog.Logger, useText bool) ([]string, error) {
	ac, ok, err := anthropic.ConfigFromEnv(getenv)
	if err != nil {
		return nil, fmt.Errorf("Anthropic configuration: %w", err)
	}
	if !ok {
		return nil, nil
	}
	p.Credentials.Anthropic = &ac
	text, err := anthropic.NewTextModel(ac)
	if err != nil {
		return nil, err
	}
	if !useText {
		log.Info("ANTHROPIC_API_KEY is set but OpenAI serves the text stages; set AI_TEXT_PROVIDER=anthropic to use Anthropic")
		return nil, nil
	}
	stageKey := limited.StageKey(text.Name(), ac.Model, ac.ModelFor)
	p.Text = s.text(text, limited.WithStageKey(stageKey))
	log.Info("Anthropic text provider", "config", ac, "limits", s.limits)
	if unpriced := ac.UnpricedModels(); len(unpriced) > 0 {
		log.Warn("models without a price in ANTHROPIC_PRICES are costed at 0 USD", "models", unpriced)
	}
	keys := []string{stageKey("")}
	for _, stage := range ai.PromptStages() {
		keys = append(keys, stageKey(stage))
	}
	return keys, nil
}
