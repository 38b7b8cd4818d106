package httpapi

import (
	"net/http"

	"github.com/labstack/echo/v4"

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
		"available_for_new_work": cr.Balance, "costs": map[string]int64{
			"clustering_keywords_per_credit": s.cfg.Costs.KeywordsPerCredit, "idea": s.cfg.Costs.Idea,
			"draft": s.cfg.Costs.Draft, "image": s.cfg.Costs.Image},
	})
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
