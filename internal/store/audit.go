package store

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
)

// AuditRecord is a sensitive action to record.
type AuditRecord struct {
	TenantID int64 // the tenant acted on; 0 for none (an operator key, a key rotation)
	KeyID    int64 // the API key that acted; 0 for the command line
	Actor    string
	Action   string
	Target   string
}

// AuditEntry is one row of the audit log.
type AuditEntry struct {
	ID        int64     `json:"id"`
	TenantID  *int64    `json:"tenant_id"`
	KeyID     *int64    `json:"key_id"`
	Actor     string    `json:"actor"`
	Action    string    `json:"action"`
	Target    string    `json:"target"`
	CreatedAt time.Time `json:"created_at"`
}

// RecordAudit writes one audit log entry.
func (s *Store) RecordAudit(ctx context.Context, r AuditRecord) error {
	_, err := s.pool.Exec(ctx,
		`INSERT INTO audit_log (tenant_id, key_id, actor, action, target) VALUES (nullif($1, 0), nullif($2, 0), $3, $4, $5)`,
		r.TenantID, r.KeyID, r.Actor, r.Action, r.Target)
	return translate(err)
}

const auditColumns = `id, tenant_id, key_id, actor, action, target, created_at`

func scanAudit(r pgx.Row) (e AuditEntry, err error) {
	err = r.Scan(&e.ID, &e.TenantID, &e.KeyID, &e.Actor, &e.Action, &e.Target, &e.CreatedAt)
	return e, err
}

// TenantAudit returns a tenant's audit log, newest first; page.After is
// the id of the last entry of the previous page (older entries follow).
func (s *Store) TenantAudit(ctx context.Context, tenantID int64, page Page) ([]AuditEntry, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+auditColumns+` FROM audit_log
		WHERE tenant_id = $1 AND ($2 = 0 OR id < $2) ORDER BY id DESC LIMIT $3`, tenantID, page.After, page.Limit)
	if err != nil {
		return nil, translate(err)
	}
	return collect(rows, scanAudit)
}

// AllAudit returns the whole audit log for operators, newest first, paged
// like TenantAudit. tenantID > 0 keeps that tenant's entries only.
func (s *Store) AllAudit(ctx context.Context, tenantID int64, page Page) ([]AuditEntry, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+auditColumns+` FROM audit_log
		WHERE ($1 = 0 OR tenant_id = $1) AND ($2 = 0 OR id < $2) ORDER BY id DESC LIMIT $3`, tenantID, page.After, page.Limit)
	if err != nil {
		return nil, translate(err)
	}
	return collect(rows, scanAudit)
}
