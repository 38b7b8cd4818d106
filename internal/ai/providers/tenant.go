package providers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/presswork/presswork/internal/ai"
	"github.com/presswork/presswork/internal/ai/limited"
	"github.com/presswork/presswork/internal/ai/openai"
	"github.com/presswork/presswork/internal/errs"
	"github.com/presswork/presswork/internal/metrics"
	"github.com/presswork/presswork/internal/netguard"
	"github.com/presswork/presswork/internal/secret"
	"github.com/presswork/presswork/internal/store"
)

// tenantKeySource names a tenant's key in the message of a rejected key.
const tenantKeySource = "the tenant's OpenAI key (PUT /v1/ai-settings/openai)"

// TenantModels is the source of the worker's tenant models: it builds the OpenAI
// models of tenants that bring their own key, as TenantOpenAI says, and
// keeps them until the tenant's settings change. It is safe for concurrent
// use.
type TenantModels struct {
	store *store.Store
	box   *secret.Box
	cfg   TenantOpenAI
	log   *slog.Logger

	mu    sync.Mutex
	cache map[int64]tenantModelsEntry
}

type tenantModelsEntry struct {
	updatedAt time.Time
	p         ai.TextModels
	key       string // the tenant's OpenAI key, for TenantSecrets
}

// NewTenantModels returns the source of tenants' own models; box opens
// their keys.
func NewTenantModels(st *store.Store, box *secret.Box, cfg TenantOpenAI, log *slog.Logger) *TenantModels {
	return &TenantModels{store: st, box: box, cfg: cfg, log: log, cache: map[int64]tenantModelsEntry{}}
}

// ForTenant returns the models of a tenant with a key of its own; ok is
// false for the others. A key that cannot be decrypted is a permanent
// error.
func (m *TenantModels) ForTenant(ctx context.Context, tenantID int64) (ai.TextModels, bool, error) {
	settings, err := m.store.GetTenantAISettings(ctx, tenantID)
	if errors.Is(err, errs.ErrNotFound) || (err == nil && settings.OpenAIKeyEnc == nil) {
		m.mu.Lock()
		delete(m.cache, tenantID)
		m.mu.Unlock()
		return ai.TextModels{}, false, nil
	}
	if err != nil {
		return ai.TextModels{}, false, fmt.Errorf("load AI settings: %w", err)
	}
	m.mu.Lock()
	e, ok := m.cache[tenantID]
	m.mu.Unlock()
	if ok && e.updatedAt.Equal(settings.UpdatedAt) {
		return e.p, true, nil
	}
	p, key, err := m.build(tenantID, settings)
	if err != nil {
		return ai.TextModels{}, false, err
	}
	m.mu.Lock()
	m.cache[tenantID] = tenantModelsEntry{updatedAt: settings.UpdatedAt, p: p, key: key}
	m.mu.Unlock()
	return p, true, nil
}

// TenantSecrets returns the OpenAI key of the tenant's models in use (none
// before ForTenant built them), so that the worker can scrub it from a
// failure's text whatever a provider echoed.
func (m *TenantModels) TenantSecrets(tenantID int64) []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	if e, ok := m.cache[tenantID]; ok && e.key != "" {
		return []string{e.key}
	}
	return nil
}

func (m *TenantModels) build(tenantID int64, s store.TenantAISettings) (ai.TextModels, string, error) {
	key, err := m.box.Open(s.OpenAIKeyEnc, secret.OpenAIKeyAD(tenantID))
	if err != nil {
		return ai.TextModels{}, "", errs.Permanent(errors.New("the tenant's OpenAI key cannot be decrypted " +
			"(the server's SECRET_KEY may have changed); save the key again with PUT /v1/ai-settings/openai"))
	}
	baseURL := ""
	if s.OpenAIBaseURL != nil {
		baseURL = *s.OpenAIBaseURL
	}
	cfg := m.cfg.Config.ForKey(openai.Secret(key), baseURL, tenantKeySource)
	var opts []openai.Option
	if !m.cfg.AllowPrivateURLs {
		opts = append(opts, openai.WithTransport(netguard.Transport()))
	}
	text, err := openai.NewTextModel(cfg, opts...)
	if err != nil {
		return ai.TextModels{}, "", errs.Permanent(fmt.Errorf("the tenant's OpenAI settings are unusable: %w", err))
	}
	emb, err := openai.NewEmbedder(cfg, opts...)
	if err != nil {
		return ai.TextModels{}, "", errs.Permanent(fmt.Errorf("the tenant's OpenAI settings are unusable: %w", err))
	}
	tenant := stack{metricsKey: metrics.KeyTenant, lim: m.cfg.Limiter, limits: m.cfg.Limits}
	prefix := tenantKeyPrefix(tenantID)
	stageKey := limited.StageKey(text.Name(), cfg.Model, cfg.ModelFor)
	p := ai.TextModels{
		Text:     tenant.text(text, limited.WithStageKey(func(s ai.Stage) string { return prefix + stageKey(s) })),
		Embedder: tenant.embedder(emb, limited.WithKey(prefix+emb.Name())),
	}
	m.log.Info("tenant's own OpenAI key in use", "tenant", tenantID, "base_url", cfg.BaseURL,
		"text", p.Text.Name(), "embeddings", p.Embedder.Name())
	return p, string(key), nil
}
