// Package providers builds the worker's AI provider stacks: its own models,
// from the environment or the offline ones, and the OpenAI models of
// tenants that bring their own key. Every model is counted in the metrics
// beneath its rate limiter, in the one order stack gives.
package providers

import (
	"fmt"
	"log/slog"

	"github.com/redis/go-redis/v9"

	"github.com/presswork/presswork/internal/ai"
	"github.com/presswork/presswork/internal/ai/limited"
	"github.com/presswork/presswork/internal/ai/offline"
	"github.com/presswork/presswork/internal/ai/openai"
	"github.com/presswork/presswork/internal/ai/replicate"
	"github.com/presswork/presswork/internal/metrics"
	"github.com/presswork/presswork/internal/ratelimit"
)

// Set is the AI providers the worker uses: its own text and embedding
// models, its image model, and how it builds the models of tenants that
// bring their own OpenAI key (those tenants never use the worker's text
// and embedding models).
type Set struct {
	ai.TextModels
	Image        ai.ImageModel
	TenantOpenAI TenantOpenAI
	// DraftMinWords are the operator's soft minimum lengths of drafts by
	// content type (DRAFT_MIN_WORDS); a type not listed keeps its default.
	DraftMinWords map[string]int
	// DraftWordBand is how far, in percent either side of its profile's
	// word target, a draft may be before it is sent back to be expanded
	// or trimmed (DRAFT_WORD_BAND).
	DraftWordBand int
	// Credentials are the providers the environment configures, from
	// which the model catalogue's routed models are built (NewRouter).
	Credentials Credentials
	// Batch is the Batch API of the worker's OpenAI (or Azure) account
	// when that account serves the worker's text, nil otherwise: batched
	// jobs then run the ordinary way.
	Batch *openai.Batcher
}

// TenantOpenAI is how the worker builds the text and embedding models of a
// tenant that brings its own OpenAI key (PUT /v1/ai-settings/openai):
// Config's models, prices and timeout with the tenant's key and base URL.
// With a Limiter, their calls are limited under keys of the tenant's own,
// "tenant-<id>/" and the usual key ("tenant-7/openai/gpt-4o-mini"), so that
// one tenant's calls never spend the limits of another or of the worker's
// own key; AI_LIMITS may name such keys.
type TenantOpenAI struct {
	Config  openai.Config
	Limiter *ratelimit.Limiter // nil: not limited
	Limits  map[string]ratelimit.Limits
	// AllowPrivateURLs lets tenants' base URLs reach loopback and private
	// addresses (ALLOW_PRIVATE_URLS); otherwise their connections go
	// through netguard.
	AllowPrivateURLs bool
}

// tenantKeyPlaceholder stands for the tenants' keys when the worker reads
// their models' configuration at start.
const tenantKeyPlaceholder = "tenant-key-placeholder"

// Offline returns the built-in offline providers; tenants with a key of
// their own get OpenAI's default models, not limited.
func Offline() Set {
	operator := stack{metricsKey: metrics.KeyOperator}
	return Set{
		TextModels: ai.TextModels{Text: operator.text(offline.NewTextModel()),
			Embedder: operator.embedder(offline.NewEmbedder(0))},
		Image:        operator.image(offline.NewImageModel()),
		TenantOpenAI: TenantOpenAI{Config: openai.DefaultConfig("")},
		Credentials:  Credentials{stack: operator},
	}
}

// CountedIn makes the calls of s's models count in r. The models FromEnv
// and Offline build count their calls themselves, beneath their rate
// limiters (every 429 counts); other models (a test's) count here, once
// per call they are given.
func (s Set) CountedIn(r *metrics.Registry) Set {
	s.Text = r.Text(s.Text, metrics.KeyOperator)
	s.Embedder = r.Embedder(s.Embedder, metrics.KeyOperator)
	s.Image = r.Image(s.Image, metrics.KeyOperator)
	return s
}

// FromEnv chooses the providers from the environment: the
// OpenAI-compatible text and embedding models when OPENAI_API_KEY is set,
// Anthropic's text model instead when AI_TEXT_PROVIDER says so or only
// ANTHROPIC_API_KEY is set (see textProviderFromEnv), Replicate images
// when REPLICATE_API_TOKEN is set, and the offline
// provider for whatever is not configured. A configuration that is set but
// invalid is an error, never a silent fallback; so is an AI_LIMITS key
// that neither these models nor tenants' own are limited under. With rdb,
// the remote providers share the request and token limits of AI_LIMITS
// with every worker process through Redis, and a 429 pauses them all. The
// OPENAI_* variables other than the key also configure the models of
// tenants that bring their own key, whether or not OPENAI_API_KEY is set.
func FromEnv(getenv func(string) string, rdb redis.UniversalClient, log *slog.Logger) (Set, error) {
	p := Offline()
	limits, err := limited.LimitsFromEnv(getenv)
	if err != nil {
		return p, err
	}
	if p.DraftMinWords, err = ai.ParseMinWords(getenv("DRAFT_MIN_WORDS")); err != nil {
		return p, fmt.Errorf("DRAFT_MIN_WORDS: %w", err)
	}
	if p.DraftWordBand, err = ai.ParseWordBand(getenv("DRAFT_WORD_BAND")); err != nil {
		return p, fmt.Errorf("DRAFT_WORD_BAND: %w", err)
	}
	operator := stack{metricsKey: metrics.KeyOperator, limits: limits}
	if rdb != nil {
		operator.lim = ratelimit.New(rdb, "presswork:ratelimit")
	}
	p.Credentials.stack = operator
	if err := p.Credentials.profilesFromEnv(getenv, log); err != nil {
		return p, err
	}
	textProvider, err := textProviderFromEnv(getenv)
	if err != nil {
		return p, err
	}
	textKeys, err := operator.openAIFromEnv(&p, getenv, log, textProvider == textProviderOpenAI)
	if err != nil {
		return p, err
	}
	anthropicKeys, err := operator.anthropicFromEnv(&p, getenv, log, textProvider == textProviderAnthropic)
	if err != nil {
		return p, err
	}
	textKeys = append(textKeys, anthropicKeys...)
	tc, err := openai.ConfigFromEnvWithKey(getenv, tenantKeyPlaceholder)
	if err != nil {
		return p, fmt.Errorf("OpenAI configuration (for tenants' own keys): %w", err)
	}
	tenantKeys, err := tenantOpenAIKeys(tc)
	if err != nil {
		return p, err
	}
	p.TenantOpenAI = TenantOpenAI{Config: tc, Limiter: operator.lim, Limits: limits}
	imageKeys, err := operator.replicateFromEnv(&p, getenv, log)
	if err != nil {
		return p, err
	}
	keys := limitKeys{operator: append(textKeys, imageKeys...), tenant: tenantKeys,
		prefixes: p.Credentials.profilePrefixes()}
	return p, keys.check(limits)
}

// openAIFromEnv sets p's embedding model, and its text model when
// withText, to the OpenAI-compatible ones when OPENAI_API_KEY is set, and
// returns the keys they are limited under.
func (s stack) openAIFromEnv(p *Set, getenv func(string) string, log *slog.Logger, withText bool) ([]string, error) {
	oc, ok, err := openai.ConfigFromEnv(getenv)
	if err != nil {
		return nil, fmt.Errorf("OpenAI configuration: %w", err)
	}
	if !ok {
		return nil, nil
	}
	p.Credentials.OpenAI = &oc
	text, err := openai.NewTextModel(oc)
	if err != nil {
		return nil, err
	}
	emb, err := openai.NewEmbedder(oc)
	if err != nil {
		return nil, err
	}
	p.Embedder = s.embedder(emb)
	log.Info("OpenAI-compatible provider", "config", oc, "text", withText, "limits", s.limits)
	if unpriced := oc.UnpricedModels(); len(unpriced) > 0 {
		log.Warn("models without a price in OPENAI_PRICES are costed at 0 USD", "models", unpriced)
	}
	if !withText {
		return []string{emb.Name()}, nil
	}
	if p.Batch, err = openai.NewBatcher(oc); err != nil {
		return nil, err
	}
	p.Text = s.text(text, limited.WithStageKey(limited.StageKey(text.Name(), oc.Model, oc.ModelFor)))
	return openAIKeys(text, emb, oc), nil
}

// replicateFromEnv sets p's image model to Replicate's when
// REPLICATE_API_TOKEN is set, and returns the key it is limited under.
func (s stack) replicateFromEnv(p *Set, getenv func(string) string, log *slog.Logger) ([]string, error) {
	rc, ok, err := replicate.ConfigFromEnv(getenv)
	if err != nil {
		return nil, fmt.Errorf("Replicate configuration: %w", err)
	}
	if !ok {
		return nil, nil
	}
	p.Credentials.Replicate = &rc
	img, err := replicate.NewImageModel(rc, replicate.WithLogger(log))
	if err != nil {
		return nil, err
	}
	key := "replicate/" + img.Name()
	p.Image = s.image(img, limited.WithKey(key))
	log.Info("Replicate image provider", "config", rc, "limits", s.limits)
	return []string{key}, nil
}
