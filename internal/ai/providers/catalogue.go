package providers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"strings"
	"sync"
	"time"

	"github.com/presswork/presswork/internal/ai"
	"github.com/presswork/presswork/internal/ai/anthropic"
	"github.com/presswork/presswork/internal/ai/fallback"
	"github.com/presswork/presswork/internal/ai/limited"
	"github.com/presswork/presswork/internal/ai/offline"
	"github.com/presswork/presswork/internal/ai/openai"
	"github.com/presswork/presswork/internal/ai/replicate"
	"github.com/presswork/presswork/internal/breaker"
	"github.com/presswork/presswork/internal/errs"
	"github.com/presswork/presswork/internal/ratelimit"
	"github.com/presswork/presswork/internal/store"
)

// Credentials are the providers the worker's environment configures, from
// which Router builds the catalogue's models (#23): each catalogue model of
// a configured provider is that provider's client with the model's name
// and the catalogue's prices; a model of a provider not configured here
// cannot be served by this worker.
type Credentials struct {
	OpenAI    *openai.Config    // OPENAI_API_KEY (OpenAI or Azure, as OPENAI_API_TYPE says)
	Anthropic *anthropic.Config // ANTHROPIC_API_KEY
	Replicate *replicate.Config // REPLICATE_API_TOKEN
	// Profiles are the providers served through their OpenAI-compatible
	// endpoints, by provider: "gemini" (GEMINI_API_KEY), "mistral"
	// (MISTRAL_API_KEY), "xai" (XAI_API_KEY); see profiles.go.
	Profiles map[string]*openai.Config
	stack    stack // the operator's metrics and limiter
}

// chainSource gives the models that serve a stage for a tenant.
type chainSource interface {
	RoutedChainFor(ctx context.Context, tenantID int64, stage string) (chain store.StageChain, ok bool, err error)
}

// Router serves the stages an operator routed in the model catalogue, or
// a tenant chose a model for: it builds each catalogue model once (again
// when its row changes), and puts a stage's models in a fallback chain
// whose circuits are shared through the breaker. A stage still on its
// seeded route is not routed: the worker's own models serve it. It is safe
// for concurrent use.
type Router struct {
	chains  chainSource
	creds   Credentials
	breaker *breaker.Breaker // nil: no circuits
	log     *slog.Logger

	mu     sync.Mutex
	built  map[int64]builtModel // by catalogue id
	warned map[string]bool      // unservable models already logged
}

// builtModel is a catalogue model made into a client, with the time of
// the row it was made from.
type builtModel struct {
	updatedAt time.Time
	text      ai.TextModel
	embedder  ai.Embedder
	image     ai.ImageModel
}

// NewRouter returns the router of the catalogue st holds, building models
// from creds; b, if not nil, holds the circuits of the fallback chains.
func NewRouter(st chainSource, creds Credentials, b *breaker.Breaker, log *slog.Logger) *Router {
	return &Router{chains: st, creds: creds, breaker: b, log: log, built: map[int64]builtModel{}, warned: map[string]bool{}}
}

// ErrNotServed says a catalogue model's provider is not configured here.
var ErrNotServed = errors.New("not configured on this worker")

// Text returns the text model of a tenant's stage when the catalogue routes
// it (ok false otherwise): the chain's models this worker can serve, in
// order, behind their circuits. A chain none of whose models can be served
// is a permanent error naming them.
func (r *Router) Text(ctx context.Context, tenantID int64, stage ai.Stage) (ai.TextModel, bool, error) {
	chain, ok, err := r.chain(ctx, tenantID, string(stage))
	if !ok || err != nil {
		return nil, false, err
	}
	var links []fallback.Link
	var missing []string
	for _, m := range chain.Models {
		b, err := r.model(m)
		if err != nil || b.text == nil {
			missing = append(missing, r.unserved(m, err))
			continue
		}
		links = append(links, fallback.Link{Model: b.text})
	}
	if len(links) == 0 {
		return nil, false, unservable(string(stage), missing)
	}
	t, err := fallback.NewText(links, r.breaker, fallback.Options{FallbackOnThrottle: chain.FallbackOnThrottle})
	if err != nil {
		return nil, false, errs.Permanent(err)
	}
	return t, true, nil
}

// Embedder returns the embedder of the embeddings stage when an operator
// routed it (ok false otherwise), with its fallbacks of the same family.
func (r *Router) Embedder(ctx context.Context, tenantID int64) (ai.Embedder, bool, error) {
	chain, ok, err := r.chain(ctx, tenantID, store.StageEmbeddings)
	if !ok || err != nil {
		return nil, false, err
	}
	var links []fallback.EmbedLink
	var missing []string
	for _, m := range chain.Models {
		b, err := r.model(m)
		if err != nil || b.embedder == nil {
			missing = append(missing, r.unserved(m, err))
			continue
		}
		links = append(links, fallback.EmbedLink{Embedder: b.embedder})
	}
	if len(links) == 0 {
		return nil, false, unservable(store.StageEmbeddings, missing)
	}
	e, err := fallback.NewEmbedder(links, r.breaker, fallback.Options{FallbackOnThrottle: chain.FallbackOnThrottle})
	if err != nil {
		return nil, false, errs.Permanent(err)
	}
	return e, true, nil
}

// Image returns the image model of a tenant's images when the catalogue
// routes them (ok false otherwise): the first of the chain this worker
// can serve (an image is paid per prediction; a retry of the job, not a
// second provider, follows a failure).
func (r *Router) Image(ctx context.Context, tenantID int64) (ai.ImageModel, bool, error) {
	chain, ok, err := r.chain(ctx, tenantID, "images")
	if !ok || err != nil {
		return nil, false, err
	}
	var missing []string
	for _, m := range chain.Models {
		b, err := r.model(m)
		if err == nil && b.image != nil {
			return b.image, true, nil
		}
		missing = append(missing, r.unserved(m, err))
	}
	return nil, false, unservable("images", missing)
}

// chain returns the stage's chain when it is routed. With a RouteMemo in
// ctx, the first look-up reads the embeddings' route too, in the same
// statement, for the job's next look-up.
func (r *Router) chain(ctx context.Context, tenantID int64, stage string) (store.StageChain, bool, error) {
	memo, _ := ctx.Value(routeMemoKey{}).(*routeMemo)
	many, canMany := r.chains.(chainsSource)
	if memo == nil || !canMany {
		chain, ok, err := r.chains.RoutedChainFor(ctx, tenantID, stage)
		if err != nil {
			return chain, false, fmt.Errorf("the model catalogue's %s route: %w", stage, err)
		}
		return chain, ok, nil
	}
	if !memo.read[stage] {
		stages := []string{stage}
		if stage != store.StageEmbeddings {
			stages = append(stages, store.StageEmbeddings)
		}
		chains, err := many.RoutedChainsFor(ctx, tenantID, stages)
		if err != nil {
			return store.StageChain{}, false, fmt.Errorf("the model catalogue's %s route: %w", stage, err)
		}
		for _, s := range stages {
			memo.read[s] = true
		}
		maps.Copy(memo.chains, chains)
	}
	chain, ok := memo.chains[stage]
	return chain, ok, nil
}

// chainsSource reads several stages' chains at once.
type chainsSource interface {
	RoutedChainsFor(ctx context.Context, tenantID int64, stages []string) (map[string]store.StageChain, error)
}

// routeMemo holds the routes one job read (WithRouteMemo).
type routeMemo struct {
	read   map[string]bool
	chains map[string]store.StageChain
}

type routeMemoKey struct{}

// WithRouteMemo makes the Router's look-ups with the returned context
// share what they read: a job that asks for its stage's model and then its
// embedder reads both routes in one statement. Use it for one job's
// look-ups only, from one goroutine.
func WithRouteMemo(ctx context.Context) context.Context {
	return context.WithValue(ctx, routeMemoKey{}, &routeMemo{read: map[string]bool{}, chains: map[string]store.StageChain{}})
}

// unserved names a model that cannot be served and logs why, once.
func (r *Router) unserved(m store.AIModel, err error) string {
	why := fmt.Sprintf("%s (%v)", m.Name(), err)
	r.mu.Lock()
	first := !r.warned[why]
	r.warned[why] = true
	r.mu.Unlock()
	if first {
		r.log.Warn("a routed catalogue model cannot be served by this worker", "model", m.Name(), "error", err)
	}
	return why
}

func unservable(stage string, missing []string) error {
	msg := fmt.Sprintf("no model of the %s stage's route can be served: %s; the operator must configure its "+
		"provider on the workers or route the stage to another model", stage, strings.Join(missing, ", "))
	return errs.WithCode(errs.CodeProviderRejected, msg, errs.Permanent(errors.New(msg)))
}

// model returns catalogue model m as a client, built again when its row
// changed.
func (r *Router) model(m store.AIModel) (builtModel, error) {
	r.mu.Lock()
	b, ok := r.built[m.ID]
	r.mu.Unlock()
	if ok && b.updatedAt.Equal(m.UpdatedAt) {
		return b, nil
	}
	b, err := r.creds.build(m)
	if err != nil {
		return b, err
	}
	b.updatedAt = m.UpdatedAt
	r.mu.Lock()
	r.built[m.ID] = b
	r.mu.Unlock()
	return b, nil
}

// Built is a catalogue model as this worker serves it: the client of its
// kind; the others are nil.
type Built struct {
	Text     ai.TextModel
	Embedder ai.Embedder
	Image    ai.ImageModel
}

// Build makes catalogue model m into the client Router would serve it
// with (for a model test); ErrNotServed says m's provider is not
// configured on this worker.
func (c Credentials) Build(m store.AIModel) (Built, error) {
	b, err := c.build(m)
	if err != nil {
		return Built{}, err
	}
	return Built{Text: b.text, Embedder: b.embedder, Image: b.image}, nil
}

// build makes catalogue model m into a client of its provider, counted in
// the metrics and limited like the worker's own models (the catalogue's
// rpm and tpm apply unless AI_LIMITS names the model's key).
func (c Credentials) build(m store.AIModel) (builtModel, error) {
	switch m.Provider {
	case "offline":
		return offlineModel(m)
	case "openai", "azure":
		return c.openAIModel(m)
	case "anthropic":
		return c.anthropicModel(m)
	case "replicate":
		return c.replicateModel(m)
	case "gemini", "mistral", "xai":
		return c.profileModel(m)
	}
	return builtModel{}, ErrNotServed
}

func offlineModel(m store.AIModel) (builtModel, error) {
	switch m.Kind {
	case store.ModelKindChat:
		return builtModel{text: offline.NewTextModel()}, nil
	case store.ModelKindEmbeddings:
		return builtModel{embedder: offline.NewEmbedder(0)}, nil
	case store.ModelKindImage:
		return builtModel{image: offline.NewImageModel()}, nil
	}
	return builtModel{}, fmt.Errorf("unknown kind %q", m.Kind)
}

func (c Credentials) openAIModel(m store.AIModel) (builtModel, error) {
	if c.OpenAI == nil || (m.Provider == "azure") != (c.OpenAI.APIType == openai.APITypeAzure) {
		return builtModel{}, ErrNotServed
	}
	cfg := *c.OpenAI
	cfg.StageModels = map[ai.Stage]string{}
	cfg.Prices = openai.Prices{m.Model: {PromptPerMillion: m.PriceInputPerMTok, CompletionPerMillion: m.PriceOutputPerMTok}}
	switch m.Kind {
	case store.ModelKindChat:
		cfg.Model = m.Model
		text, err := openai.NewTextModel(cfg)
		if err != nil {
			return builtModel{}, err
		}
		return builtModel{text: c.stack.withLimits(m, text.Name()).text(text, limited.WithKey(text.Name()))}, nil
	case store.ModelKindEmbeddings:
		cfg.EmbeddingModel = m.Model
		emb, err := openai.NewEmbedder(cfg)
		if err != nil {
			return builtModel{}, err
		}
		return builtModel{embedder: c.stack.withLimits(m, emb.Name()).embedder(emb, limited.WithKey(emb.Name()))}, nil
	}
	return builtModel{}, fmt.Errorf("OpenAI serves no %s models here", m.Kind)
}

func (c Credentials) anthropicModel(m store.AIModel) (builtModel, error) {
	if c.Anthropic == nil {
		return builtModel{}, ErrNotServed
	}
	if m.Kind != store.ModelKindChat {
		return builtModel{}, fmt.Errorf("Anthropic has no %s models", m.Kind)
	}
	cfg := *c.Anthropic
	cfg.Model, cfg.StageModels = m.Model, map[ai.Stage]string{}
	cfg.Prices = anthropic.Prices{m.Model: {InputPerMillion: m.PriceInputPerMTok, OutputPerMillion: m.PriceOutputPerMTok,
		CacheWritePerMillion: 1.25 * m.PriceInputPerMTok, CacheReadPerMillion: 0.1 * m.PriceInputPerMTok}}
	text, err := anthropic.NewTextModel(cfg)
	if err != nil {
		return builtModel{}, err
	}
	return builtModel{text: c.stack.withLimits(m, text.Name()).text(text, limited.WithKey(text.Name()))}, nil
}

func (c Credentials) replicateModel(m store.AIModel) (builtModel, error) {
	if c.Replicate == nil {
		return builtModel{}, ErrNotServed
	}
	if m.Kind != store.ModelKindImage {
		return builtModel{}, fmt.Errorf("Replicate serves images only here, not %s", m.Kind)
	}
	cfg := *c.Replicate
	cfg.ImageModel, cfg.ImagePriceUSD = m.Model, m.PricePerImage
	img, err := replicate.NewImageModel(cfg)
	if err != nil {
		return builtModel{}, err
	}
	key := "replicate/" + img.Name()
	return builtModel{image: c.stack.withLimits(m, key).image(img, limited.WithKey(key))}, nil
}

// withLimits returns s with the catalogue's limits of m under key, the key
// its client is limited by, unless AI_LIMITS names that key.
func (s stack) withLimits(m store.AIModel, key string) stack {
	if m.RPM == nil && m.TPM == nil {
		return s
	}
	if _, set := s.limits[key]; set {
		return s
	}
	limits := make(map[string]ratelimit.Limits, len(s.limits)+1)
	for k, v := range s.limits {
		limits[k] = v
	}
	var l ratelimit.Limits
	if m.RPM != nil {
		l.RequestsPerMinute = *m.RPM
	}
	if m.TPM != nil {
		l.TokensPerMinute = *m.TPM
	}
	limits[key] = l
	s.limits = limits
	return s
}
