package store

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
)

// TenantAISettings are the AI provider credentials a tenant brought. The
// key is sealed (see internal/secret) and never leaves the store other than
// to the worker that opens it.
type TenantAISettings struct {
	TenantID int64
	// OpenAIKeyEnc is the sealed OpenAI key; nil when the tenant has none
	// and the worker's own providers serve it.
	OpenAIKeyEnc  []byte `json:"-"`
	OpenAIKeyHint string
	// OpenAIBaseURL is the OpenAI-compatible server the key is for; nil
	// means OpenAI's API.
	OpenAIBaseURL *string
	// UpdatedAt changes with every write.
	UpdatedAt time.Time
}

const aiSettingsColumns = `tenant_id, openai_api_key_enc, coalesce(openai_key_hint, ''), openai_base_url, updated_at`

func scanAISettings(r pgx.Row) (a TenantAISettings, err error) {
	err = r.Scan(&a.TenantID, &a.OpenAIKeyEnc, &a.OpenAIKeyHint, &a.OpenAIBaseURL, &a.UpdatedAt)
	return a, err
}

// nextUpdatedAt is the updated_at of a write: now, and always later than
// the previous one, so that caches keyed on it see every change.
const nextUpdatedAt = `greatest(now(), tenant_ai_settings.updated_at + interval '1 microsecond')`

// GetTenantAISettings returns a tenant's AI settings; errs.ErrNotFound when
// it never had any. A job reads them from the configuration cache.
func (s *Store) GetTenantAISettings(ctx context.Context, tenantID int64) (TenantAISettings, error) {
	return cachedConfig(ctx, &s.config, configKey{read: "ai-settings", tenantID: tenantID}, func() (TenantAISettings, error) {
		a, err := scanAISettings(s.pool.QueryRow(ctx,
			`SELECT `+aiSettingsColumns+` FROM tenant_ai_settings WHERE tenant_id = $1`, tenantID))
		return a, translate(err)
	}, nil)
}

// SetTenantOpenAIKey stores a tenant's sealed OpenAI key, its hint and its
// base URL (nil: OpenAI's API), replacing any earlier ones.
func (s *Store) SetTenantOpenAIKey(ctx context.Context, tenantID int64, enc []byte, hint string, baseURL *string) (TenantAISettings, error) {
	a, err := scanAISettings(s.pool.QueryRow(ctx,
		`INSERT INTO tenant_ai_settings (tenant_id, openai_api_key_enc, openai_key_hint, openai_base_url)
		 VALUES ($1, $2, $3, $4)
		 ON CONFLICT (tenant_id) DO UPDATE SET openai_api_key_enc = excluded.openai_api_key_enc,
		     openai_key_hint = excluded.openai_key_hint, openai_base_url = excluded.openai_base_url,
		     updated_at = `+nextUpdatedAt+`
		 RETURNING `+aiSettingsColumns, tenantID, enc, hint, baseURL))
	return a, translate(err)
}

// ClearTenantOpenAIKey forgets a tenant's OpenAI key and base URL; the
// worker's own providers serve the tenant again. Clearing what is not set
// is not an error.
func (s *Store) ClearTenantOpenAIKey(ctx context.Context, tenantID int64) error {
	_, err := s.pool.Exec(ctx,
		`UPDATE tenant_ai_settings SET openai_api_key_enc = NULL, openai_key_hint = NULL, openai_base_url = NULL,
		     updated_at = `+nextUpdatedAt+`
		 WHERE tenant_id = $1`, tenantID)
	return translate(err)
}
