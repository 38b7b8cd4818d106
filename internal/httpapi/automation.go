package httpapi

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/presswork/presswork/internal/automation"
	"github.com/presswork/presswork/internal/errs"
	"github.com/presswork/presswork/internal/store"
)

// rulesPerRead is a page of the defaults endpoint's reads.
const rulesPerRead = 500

// ruleLimits are the deployment's bounds on rules.
func (s *Server) ruleLimits() automation.Limits {
	return automation.Limits{MinInterval: s.cfg.AutomationMinInterval, MaxItems: s.cfg.MaxBulkItems}
}

// ruleProblem gives the store's errors of rule writes their client text.
func ruleProblem(err error, r store.Rule, id int64) error {
	switch {
	case errorsIsNotFound(err) && id == 0:
		return errs.Public(err, "no site with id %d", r.SiteID)
	case errorsIsNotFound(err):
		return errs.Public(err, "no rule with id %d", id)
	case errs.IsConflict(err):
		return errs.Public(err, "site %d already has a rule named %q", r.SiteID, r.Name)
	}
	return err
}

func (s *Server) createRule(c echo.Context) error {
	var req automation.RuleChange
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	rule, err := s.ruleLimits().Create(req, time.Now())
	if err != nil {
		return err
	}
	created, err := s.store.CreateRule(c.Request().Context(), principal(c).TenantID, rule)
	if err != nil {
		return ruleProblem(err, rule, 0)
	}
	s.audit(c, "automation_rule.create", fmt.Sprintf("automation_rule:%d site:%d", created.ID, created.SiteID))
	c.Response().Header().Set(echo.HeaderLocation, fmt.Sprintf("/v1/automation/rules/%d", created.ID))
	return c.JSON(http.StatusCreated, created)
}

func (s *Server) listRules(c echo.Context) error {
	return listBySite(c, s.store.ListRules, func(r store.Rule) int64 { return r.ID })
}

func (s *Server) getRule(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	rule, err := s.store.GetRule(c.Request().Context(), principal(c).TenantID, id)
	if err != nil {
		return ruleProblem(err, rule, id)
	}
	return c.JSON(http.StatusOK, rule)
}

func (s *Server) updateRule(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	var req automation.RuleChange
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	now, limits := time.Now(), s.ruleLimits()
	var tried store.Rule
	rule, err := s.store.UpdateRule(c.Request().Context(), principal(c).TenantID, id, func(r *store.Rule) error {
		err := limits.Update(req, r, now)
		tried = *r
		return err
	})
	if err != nil {
		return ruleProblem(err, tried, id)
	}
	s.audit(c, "automation_rule.update", fmt.Sprintf("automation_rule:%d", id))
	return c.JSON(http.StatusOK, rule)
}

func (s *Server) deleteRule(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	if err := s.store.DeleteRule(c.Request().Context(), principal(c).TenantID, id); err != nil {
		return ruleProblem(err, store.Rule{}, id)
	}
	s.audit(c, "automation_rule.delete", fmt.Sprintf("automation_rule:%d", id))
	return c.NoContent(http.StatusNoContent)
}

// runRule starts a run of a rule now, as the scheduler does when the rule
// is due: the run and its job are committed, then the job is enqueued.
func (s *Server) runRule(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	if err := noBody(c); err != nil {
		return err
	}
	ctx, tenant := c.Request().Context(), principal(c).TenantID
	// "m" keeps manual ids apart from the scheduler's run-{rule}-{unix}.
	runID := fmt.Sprintf("run-%d-m%s", id, newID(c, "run", id))
	var run store.Run
	err = s.jobs.Submit(ctx, func(ctx context.Context) ([]store.Job, error) {
		r, job, err := s.store.StartManualRun(ctx, tenant, id, runID, time.Now())
		run = r
		return []store.Job{job}, err
	})
	switch {
	case errorsIsNotFound(err):
		return errs.Public(err, "no rule with id %d", id)
	case errs.IsConflict(err):
		return errs.Public(err, "a run of rule %d is still being planned; see GET /v1/automation/rules/%d/runs", id, id)
	case err != nil:
		return err
	}
	s.audit(c, "automation_rule.run", fmt.Sprintf("automation_rule:%d run:%s", id, run.ID))
	c.Response().Header().Set(echo.HeaderLocation, "/v1/automation/runs/"+run.ID)
	return c.JSON(http.StatusAccepted, run)
}

func (s *Server) listRuns(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	limit, err := queryInt(c, "limit", 50, 1, 500)
	if err != nil {
		return err
	}
	var before time.Time
	if v := c.QueryParam("before"); v != "" {
		if before, err = time.Parse(time.RFC3339Nano, v); err != nil {
			return errs.Invalid("before", "must be a time in RFC 3339 form, such as 2026-12-01T09:00:00Z")
		}
	}
	ctx, tenant := c.Request().Context(), principal(c).TenantID
	if _, err := s.store.GetRule(ctx, tenant, id); err != nil {
		return ruleProblem(err, store.Rule{}, id)
	}
	runs, err := s.store.ListRuns(ctx, tenant, id, before, int(limit))
	if err != nil {
		return err
	}
	l := List[store.Run]{Items: runs}
	if len(runs) == int(limit) {
		l.NextBefore = runs[len(runs)-1].ScheduledFor
	}
	return c.JSON(http.StatusOK, l)
}

func (s *Server) getRun(c echo.Context) error {
	return getByTextID(c, "run", s.store.GetRun)
}

// createDefaultRules gives a site the default rules; a default whose name
// the site already uses is left as it is.
func (s *Server) createDefaultRules(c echo.Context) error {
	siteID, err := pathID(c, "id")
	if err != nil {
		return err
	}
	var req automation.Defaults
	if err := decodeOptionalJSON(c, &req); err != nil {
		return err
	}
	defaults, err := s.ruleLimits().DefaultRules(siteID, req, time.Now())
	if err != nil {
		return err
	}
	ctx, tenant := c.Request().Context(), principal(c).TenantID
	if _, err := s.store.GetSite(ctx, tenant, siteID); err != nil {
		return errs.Public(err, "no site with id %d", siteID)
	}
	created := 0
	for _, r := range defaults {
		_, err = s.store.CreateRule(ctx, tenant, r)
		switch {
		case errs.IsConflict(err): // the site has a rule of that name: keep it
		case err != nil:
			return ruleProblem(err, r, 0)
		default:
			created++
		}
	}
	rules, err := s.siteRules(c, siteID)
	if err != nil {
		return err
	}
	items := make([]store.Rule, 0, len(defaults))
	for _, d := range defaults {
		if i := slices.IndexFunc(rules, func(r store.Rule) bool { return r.Name == d.Name }); i >= 0 {
			items = append(items, rules[i])
		}
	}
	s.audit(c, "automation_rule.defaults", fmt.Sprintf("site:%d created:%d", siteID, created))
	return c.JSON(http.StatusCreated, List[store.Rule]{Items: items})
}

// siteRules returns every rule of a site.
func (s *Server) siteRules(c echo.Context, siteID int64) ([]store.Rule, error) {
	ctx, tenant := c.Request().Context(), principal(c).TenantID
	var all []store.Rule
	p := store.Page{Limit: rulesPerRead}
	for {
		rules, err := s.store.ListRules(ctx, tenant, siteID, p)
		if err != nil {
			return nil, err
		}
		all = append(all, rules...)
		if len(rules) < p.Limit {
			return all, nil
		}
		p.After = rules[len(rules)-1].ID
	}
}
