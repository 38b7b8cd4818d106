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
