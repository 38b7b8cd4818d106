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
	batch     *openai.Batcher // the Batch API under the tenant's key
	key       string          // the tenant's OpenAI key, for TenantSecrets
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
	e, ok, err := m.entry(ctx, tenantID)
	return e.p, ok, err
}

// Batcher returns the Batch API client of a tenant with a key of its own
// (#23), built from the same sealed key, base URL and models as ForTenant's
// models, so that its batch-mode work runs under its key; ok is false for
// the others.
func (m *TenantModels) Batcher(ctx context.Context, tenantID int64) (*openai.Batcher, bool, error) {
	e, ok, err := m.entry(ctx, tenantID)
	return e.batch, ok, err
}

// entry returns the tenant's cached models, built again when its settings
// changed.
func (m *TenantModels) entry(ctx context.Context, tenantID int64) (tenantModelsEntry, bool, error) {
	settings, err := m.store.GetTenantAISettings(ctx, tenantID)
	if errors.Is(err, errs.ErrNotFound) || (err == nil && settings.OpenAIKeyEnc == nil) {
		m.mu.Lock()
		delete(m.cache, tenantID)
		m.mu.Unlock()
		return tenantModelsEntry{}, false, nil
	}
	if err != nil {
		return tenantModelsEntry{}, false, fmt.Errorf("load AI settings: %w", err)
	}
	m.mu.Lock()
	e, ok := m.cache[tenantID]
	m.mu.Unlock()
	if ok && e.updatedAt.Equal(settings.UpdatedAt) {
		return e, true, nil
	}
	e, err = m.build(tenantID, settings)
	if err != nil {
		return tenantModelsEntry{}, false, err
	}
	m.mu.Lock()
	m.cache[tenantID] = e
	m.mu.Unlock()
	return e, true, nil
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

func (m *TenantModels) build(tenantID int64, s store.TenantAISettings) (tenantModelsEntry, error) {
	key, err := m.box.Open(s.OpenAIKeyEnc, secret.OpenAIKeyAD(tenantID))
	if err != nil {
		return tenantModelsEntry{}, errs.Permanent(errors.New("the tenant's OpenAI key cannot be decrypted " +
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
	unusable := func(err error) (tenantModelsEntry, error) {
		return tenantModelsEntry{}, errs.Permanent(fmt.Errorf("the tenant's OpenAI settings are unusable: %w", err))
	}
	text, err := openai.NewTextModel(cfg, opts...)
	if err != nil {
		return unusable(err)
	}
	emb, err := openai.NewEmbedder(cfg, opts...)
	if err != nil {
		return unusable(err)
	}
	batch, err := openai.NewBatcher(cfg, opts...)
	if err != nil {
		return unusable(err)
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
	return tenantModelsEntry{updatedAt: s.UpdatedAt, p: p, batch: batch, key: string(key)}, nil
}
