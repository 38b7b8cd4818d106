package httpapi

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/presswork/presswork/internal/store"
)

// listAudit answers GET /v1/audit: the caller's tenant's audit log, newest
// first, for its owners.
func (s *Server) listAudit(c echo.Context) error {
	p, err := page(c)
	if err != nil {
		return err
	}
	entries, err := s.store.TenantAudit(c.Request().Context(), principal(c).TenantID, p)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, listOf(entries, p, func(e store.AuditEntry) int64 { return e.ID }))
}

// listAuditAdmin answers GET /v1/admin/audit: every tenant's audit log and
// the operators' own entries, newest first; ?tenant_id= keeps one tenant's.
func (s *Server) listAuditAdmin(c echo.Context) error {
	p, err := page(c)
	if err != nil {
		return err
	}
	tenantID, err := queryInt(c, "tenant_id", 0, 1, 1<<62)
	if err != nil {
		return err
	}
	entries, err := s.store.AllAudit(c.Request().Context(), tenantID, p)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, listOf(entries, p, func(e store.AuditEntry) int64 { return e.ID }))
}

// audit records a sensitive action on the caller's tenant; a failure to
// record is logged, not fatal.
func (s *Server) audit(c echo.Context, action, target string) {
	s.auditTenant(c, principal(c).TenantID, action, target)
}

// auditTenant records a sensitive action on tenantID (an operator acting on
// a tenant: the entry is the tenant's, so its owners read it).
func (s *Server) auditTenant(c echo.Context, tenantID int64, action, target string) {
	p := principal(c)
	err := s.store.RecordAudit(c.Request().Context(), store.AuditRecord{TenantID: tenantID, KeyID: p.KeyID,
		Actor: p.Role, Action: action, Target: target})
	if err != nil {
		s.log.Warn("audit log write failed", "error", err, "action", action)
	}
}
