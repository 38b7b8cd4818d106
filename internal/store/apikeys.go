package store

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
)

// APIKey is a stored key; the secret itself is never stored, only its hash.
type APIKey struct {
	ID        int64      `json:"id"`
	TenantID  *int64     `json:"tenant_id,omitempty"`
	Role      string     `json:"role"`
	Name      string     `json:"name"`
	Prefix    string     `json:"prefix"`
	CreatedAt time.Time  `json:"created_at"`
	RevokedAt *time.Time `json:"revoked_at"`
}

// Principal is who a request acts as: the key and, for tenant keys, the
// tenant's status.
type Principal struct {
	KeyID        int64
	TenantID     int64 // 0 for operators
	Role         string
	TenantStatus string
}

const apiKeyColumns = `id, tenant_id, role, name, prefix, created_at, revoked_at`

func scanAPIKey(r pgx.Row) (k APIKey, err error) {
	err = r.Scan(&k.ID, &k.TenantID, &k.Role, &k.Name, &k.Prefix, &k.CreatedAt, &k.RevokedAt)
	return k, err
}

// CreateAPIKey stores a key hash. tenantID 0 makes an operator key.
func (s *Store) CreateAPIKey(ctx context.Context, tenantID int64, role, name, prefix string, hash []byte) (APIKey, error) {
	k, err := scanAPIKey(s.pool.QueryRow(ctx,
		`INSERT INTO api_keys (tenant_id, role, name, prefix, key_hash)
		 VALUES (nullif($1, 0), $2, $3, $4, $5) RETURNING `+apiKeyColumns,
		tenantID, role, name, prefix, hash))
	return k, translate(err)
}

// PrincipalByKeyHash finds the live key with this hash. A revoked or unknown
// key is errs.ErrNotFound.
func (s *Store) PrincipalByKeyHash(ctx context.Context, hash []byte) (Principal, error) {
	var p Principal
	var tenantID *int64
	var status *string
	err := s.pool.QueryRow(ctx,
		`SELECT k.id, k.tenant_id, k.role, t.status FROM api_keys k
		 LEFT JOIN tenants t ON t.id = k.tenant_id
		 WHERE k.key_hash = $1 AND k.revoked_at IS NULL`, hash).Scan(&p.KeyID, &tenantID, &p.Role, &status)
	if err != nil {
		return Principal{}, translate(err)
	}
	if tenantID != nil {
		p.TenantID = *tenantID
	}
	if status != nil {
		p.TenantStatus = *status
	}
	return p, nil
}

// ListAPIKeys returns a tenant's keys, revoked ones included.
func (s *Store) ListAPIKeys(ctx context.Context, tenantID int64) ([]APIKey, error) {
	rows, err := s.pool.Query(ctx,
		`SELECT `+apiKeyColumns+` FROM api_keys WHERE tenant_id = $1 ORDER BY id`, tenantID)
	if err != nil {
		return nil, translate(err)
	}
	return collect(rows, scanAPIKey)
}

// GetAPIKey returns one of a tenant's keys.
func (s *Store) GetAPIKey(ctx context.Context, tenantID, id int64) (APIKey, error) {
	k, err := scanAPIKey(s.pool.QueryRow(ctx,
		`SELECT `+apiKeyColumns+` FROM api_keys WHERE tenant_id = $1 AND id = $2`, tenantID, id))
	return k, missing(translate(err), "API key", id)
}

// RevokeAPIKey revokes a key; revoking twice is not an error.
func (s *Store) RevokeAPIKey(ctx context.Context, tenantID, id int64) (APIKey, error) {
	k, err := scanAPIKey(s.pool.QueryRow(ctx,
		`UPDATE api_keys SET revoked_at = coalesce(revoked_at, now())
		 WHERE tenant_id = $1 AND id = $2 RETURNING `+apiKeyColumns, tenantID, id))
	return k, translate(err)
}

// Audit records a sensitive action.
func (s *Store) Audit(ctx context.Context, tenantID, keyID int64, action, target string) error {
	_, err := s.pool.Exec(ctx,
		`INSERT INTO audit_log (tenant_id, key_id, action, target) VALUES (nullif($1, 0), nullif($2, 0), $3, $4)`,
		tenantID, keyID, action, target)
	return translate(err)
}
