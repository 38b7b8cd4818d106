package httpapi

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/presswork/presswork/internal/errs"
	"github.com/presswork/presswork/internal/store"
)

func (s *Server) getTenant(c echo.Context) error {
	t, err := s.store.GetTenant(c.Request().Context(), principal(c).TenantID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, t)
}

func (s *Server) getCredits(c echo.Context) error {
	cr, err := s.store.Credits(c.Request().Context(), principal(c).TenantID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{
		"balance": cr.Balance, "reserved_by_unfinished_jobs": cr.Reserved,
		"available_for_new_work": cr.Balance, "low_balance_alert": cr.LowThreshold, "costs": map[string]int64{
			"clustering_keywords_per_credit": s.cfg.Costs.KeywordsPerCredit, "idea": s.cfg.Costs.Idea,
			"draft": s.cfg.Costs.Draft, "image": s.cfg.Costs.Image},
	})
}

// creditsAlert is the body of PUT /v1/credits/alert.
type creditsAlert struct {
	LowBalance *int64 `json:"low_balance"`
}

// maxLowBalance bounds the alert threshold: far above any real balance,
// low enough that a typo of many digits is refused.
const maxLowBalance = 1_000_000_000

func (r creditsAlert) validate() error {
	v := &errs.ValidationError{}
	switch {
	case r.LowBalance == nil:
		v.Add("low_balance", "is required: the balance below which credits.low is sent (0 turns the alert off)")
	case *r.LowBalance < 0 || *r.LowBalance > maxLowBalance:
		v.Add("low_balance", "must be between 0 (no alert) and 1000000000")
	}
	return v.OrNil()
}

// putCreditsAlert sets the balance below which the tenant hears
// credits.low, and answers as GET /v1/credits does.
func (s *Server) putCreditsAlert(c echo.Context) error {
	var req creditsAlert
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if err := req.validate(); err != nil {
		return err
	}
	if err := s.store.SetCreditsLowThreshold(c.Request().Context(), principal(c).TenantID, *req.LowBalance); err != nil {
		return err
	}
	s.audit(c, "credits.alert", "tenant")
	return s.getCredits(c)
}

func (s *Server) getLedger(c echo.Context) error {
	p, err := page(c)
	if err != nil {
		return err
	}
	entries, err := s.store.Ledger(c.Request().Context(), principal(c).TenantID, p)
	if err != nil {
		return err
	}
	l := List[store.LedgerEntry]{Items: entries}
	if len(entries) == p.Limit {
		l.NextAfter = entries[len(entries)-1].ID // newest first: the next page is older
	}
	return c.JSON(http.StatusOK, l)
}
