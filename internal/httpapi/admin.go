package httpapi

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/presswork/presswork/internal/auth"
	"github.com/presswork/presswork/internal/errs"
	"github.com/presswork/presswork/internal/store"
)

func (s *Server) createTenant(c echo.Context) error {
	var req auth.NewTenantRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	out, err := auth.CreateTenant(c.Request().Context(), s.store, req)
	if err != nil {
		return err
	}
	s.auditTenant(c, out.Tenant.ID, "tenant.create", fmt.Sprintf("tenant:%d", out.Tenant.ID))
	return c.JSON(http.StatusCreated, out)
}

func (s *Server) listTenants(c echo.Context) error {
	ts, err := s.store.ListTenants(c.Request().Context())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, List[store.Tenant]{Items: ts})
}

func (s *Server) getTenantAdmin(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	t, err := s.store.GetTenant(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, t)
}

func (s *Server) updateTenant(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	var req auth.TenantChangeRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	out, err := auth.ChangeTenant(c.Request().Context(), s.store, s.jobs, id, req)
	if err != nil {
		return err
	}
	if out.ReleaseErr != nil {
		s.log.Warn("releasing held jobs failed; the reconciler will", "error", out.ReleaseErr, "tenant", id)
	}
	if req.Status != nil {
		s.auditTenant(c, id, "tenant."+*req.Status, fmt.Sprintf("tenant:%d", id))
	}
	if req.Plan != nil {
		s.auditTenant(c, id, "tenant.plan", auth.PlanChangeTarget(id, out.OldPlan, out.Tenant.Plan))
	}
	return c.JSON(http.StatusOK, out.Tenant)
}

type grantRequest struct {
	Amount int64  `json:"amount"`
	Note   string `json:"note"`
}

func (s *Server) grantCredits(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	var req grantRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	v := &errs.ValidationError{}
	if req.Amount < 1 || req.Amount > auth.MaxGrant {
		v.Add("amount", "must be from 1 to %d credits", auth.MaxGrant)
	}
	if strings.TrimSpace(req.Note) != "" { // optional
		v.CheckText("note", req.Note, 1, 500)
	}
	if err := v.OrNil(); err != nil {
		return err
	}
	ctx := c.Request().Context()
	var balance int64
	replayed := false
	if key := c.Request().Header.Get(idempotencyHeader); key == "" {
		balance, err = s.store.GrantCredits(ctx, id, req.Amount, req.Note)
	} else if err = checkIdempotencyKey(key); err == nil {
		// A retried grant with the same Idempotency-Key grants nothing more.
		balance, replayed, err = s.store.GrantCreditsOnce(ctx, id, req.Amount, req.Note, key)
	}
	if err != nil {
		return err
	}
	if replayed {
		c.Response().Header().Set("Idempotent-Replayed", "true")
	} else {
		s.auditTenant(c, id, "credits.grant", fmt.Sprintf("tenant:%d amount:%d", id, req.Amount))
	}
	return c.JSON(http.StatusOK, map[string]int64{"balance": balance})
}
