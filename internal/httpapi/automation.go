package httpapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/presswork/presswork/internal/errs"
	"github.com/presswork/presswork/internal/schedule"
	"github.com/presswork/presswork/internal/store"
	"github.com/presswork/presswork/internal/tasks"
)

// pipelineStage is the stages value that stands for every stage.
const pipelineStage = "pipeline"

// Limits of a rule's fields.
const (
	maxRuleName      = 100
	maxRuleIdeas     = 10
	maxRuleCredits   = 1_000_000_000_000
	defaultRuleItems = 50
	defaultRuleIdeas = 3
	defaultRuleTZ    = "UTC"
	rulesPerRead     = 500 // a page of the defaults endpoint's reads
)

// ruleRequest is the body of rule writes; on update absent fields are kept.
type ruleRequest struct {
	SiteID          *int64             `json:"site_id"`
	Name            *string            `json:"name"`
	Schedule        *string            `json:"schedule"`
	Timezone        *string            `json:"timezone"`
	Stages          *[]string          `json:"stages"`
	IdeasPerCluster *int               `json:"ideas_per_cluster"`
	AutoApprove     *bool              `json:"auto_approve"`
	MaxItems        *int               `json:"max_items"`
	Conditions      *[]store.Condition `json:"conditions"`
	Enabled         *bool              `json:"enabled"`
	// MaxCredits is raw so that null (no cap) differs from absent (kept).
	MaxCredits json.RawMessage `json:"max_credits"`
}

// newRule is a rule with the defaults of the fields a create may leave out.
func newRule() store.Rule {
	return store.Rule{Timezone: defaultRuleTZ, IdeasPerCluster: defaultRuleIdeas, MaxItems: defaultRuleItems,
		Conditions: []store.Condition{}, Enabled: true}
}

// apply validates req and writes it onto r (a new rule from newRule, or the
// stored one), recomputing next_fire_at when the schedule, the time zone or
// enabled changed. Every problem is reported at once.
func (s *Server) apply(req ruleRequest, r *store.Rule, create bool, now time.Time) error {
	v := &errs.ValidationError{}
	required := func(field string, set bool) bool {
		if !set && create {
			v.Add(field, "is required")
		}
		return set
	}
	switch {
	case create && req.SiteID == nil:
		v.Add("site_id", "is required")
	case create && *req.SiteID <= 0:
		v.Add("site_id", "must be a positive id")
	case create:
		r.SiteID = *req.SiteID
	case req.SiteID != nil:
		v.Add("site_id", "cannot change; create a rule for the other site instead")
	}
	if required("name", req.Name != nil) {
		checkText(v, "name", *req.Name, 1, maxRuleName)
		r.Name = strings.TrimSpace(*req.Name)
	}

	timing := create || req.Schedule != nil || req.Timezone != nil
	if req.Timezone != nil {
		r.Timezone = strings.TrimSpace(*req.Timezone)
		if r.Timezone == "" {
			r.Timezone = defaultRuleTZ
		}
	}
	tzOK := true
	if _, err := schedule.Location(r.Timezone); err != nil {
		v.Add("timezone", "%s", err.Error())
		tzOK = false
	}
	if required("schedule", req.Schedule != nil) {
		r.Schedule = strings.TrimSpace(*req.Schedule)
	}
	var sched schedule.Schedule
	switch {
	case create && req.Schedule == nil: // reported as required above
	case timing:
		tz := r.Timezone
		if !tzOK {
			tz = defaultRuleTZ // still say what is wrong with the schedule itself
		}
		var err error
		if sched, err = schedule.Parse(r.Schedule, tz, s.cfg.AutomationMinInterval); err != nil {
			v.Add("schedule", "%s", err.Error())
		}
	default:
		// The stored schedule: the minimum interval it was accepted under holds.
		var err error
		if sched, err = schedule.Parse(r.Schedule, r.Timezone, 0); err != nil {
			return fmt.Errorf("stored schedule of rule %d: %w", r.ID, err)
		}
	}

	if required("stages", req.Stages != nil) {
		if stages, ok := checkStages(v, *req.Stages); ok {
			r.Stages = stages
		}
	}
	if req.IdeasPerCluster != nil {
		r.IdeasPerCluster = *req.IdeasPerCluster
		if r.IdeasPerCluster < 1 || r.IdeasPerCluster > maxRuleIdeas {
			v.Add("ideas_per_cluster", "must be from 1 to %d ideas per cluster", maxRuleIdeas)
		}
	}
	if req.AutoApprove != nil {
		r.AutoApprove = *req.AutoApprove
	}
	if req.MaxItems != nil {
		r.MaxItems = *req.MaxItems
		if r.MaxItems < 1 || r.MaxItems > s.cfg.MaxBulkItems {
			v.Add("max_items", "must be from 1 to %d", s.cfg.MaxBulkItems)
		}
	}
	if req.MaxCredits != nil {
		if mc, ok := parseMaxCredits(req.MaxCredits); ok {
			r.MaxCredits = mc
		} else {
			v.Add("max_credits", "must be null (no cap) or a whole number from 0 to %d", int64(maxRuleCredits))
		}
	}
	if req.Conditions != nil {
		tasks.CheckConditions(v, *req.Conditions)
		r.Conditions = *req.Conditions
		if r.Conditions == nil {
			r.Conditions = []store.Condition{}
		}
	}
	wasEnabled := r.Enabled
	if req.Enabled != nil {
		r.Enabled = *req.Enabled
	}
	if err := v.OrNil(); err != nil {
		return err
	}
	switch {
	case !r.Enabled:
		r.NextFireAt = nil
	case create || timing || !wasEnabled || r.NextFireAt == nil:
		next := sched.Next(now)
		r.NextFireAt = &next
	}
	return nil
}

// checkStages validates a rule's stages and returns them in pipeline
// order; ["pipeline"] is every stage.
func checkStages(v *errs.ValidationError, stages []string) ([]string, bool) {
	if len(stages) == 1 && stages[0] == pipelineStage {
		return slices.Clone(store.Stages), true
	}
	if len(stages) == 0 {
		v.Add("stages", "must list at least one stage of %s, or be [%q]", strings.Join(store.Stages, ", "), pipelineStage)
		return nil, false
	}
	for i, st := range stages {
		field := "stages[" + strconv.Itoa(i) + "]"
		switch {
		case st == pipelineStage:
			v.Add(field, "%q stands for every stage and must be the only one", pipelineStage)
			return nil, false
		case !slices.Contains(store.Stages, st):
			v.Add(field, "must be one of %s, or %q alone", strings.Join(store.Stages, ", "), pipelineStage)
			return nil, false
		case slices.Contains(stages[:i], st):
			v.Add(field, "repeats stage %q", st)
			return nil, false
		}
	}
	var out []string
	for _, st := range store.Stages {
		if slices.Contains(stages, st) {
			out = append(out, st)
		}
	}
	return out, true
}

// parseMaxCredits reads max_credits: null, or a whole number in range.
func parseMaxCredits(raw json.RawMessage) (*int64, bool) {
	if string(raw) == "null" {
		return nil, true
	}
	var n int64
	if err := json.Unmarshal(raw, &n); err != nil || n < 0 || n > maxRuleCredits {
		return nil, false
	}
	return &n, true
}

// ruleProblem gives the store's errors of rule writes their client text.
func ruleProblem(err error, r store.Rule, id int64) error {
	switch {
	case errorsIsNotFound(err) && id == 0:
		return public(err, "no site with id %d", r.SiteID)
	case errorsIsNotFound(err):
		return public(err, "no rule with id %d", id)
	case errs.IsConflict(err):
		return public(err, "site %d already has a rule named %q", r.SiteID, r.Name)
	}
	return err
}

func (s *Server) createRule(c echo.Context) error {
	var req ruleRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	rule := newRule()
	if err := s.apply(req, &rule, true, time.Now()); err != nil {
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
	var req ruleRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	now := time.Now()
	var tried store.Rule
	rule, err := s.store.UpdateRule(c.Request().Context(), principal(c).TenantID, id, func(r *store.Rule) error {
		err := s.apply(req, r, false, now)
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
	run, job, err := s.store.StartManualRun(ctx, tenant, id, runID, time.Now())
	switch {
	case errorsIsNotFound(err):
		return public(err, "no rule with id %d", id)
	case errs.IsConflict(err):
		return public(err, "a run of rule %d is still being planned; see GET /v1/automation/rules/%d/runs", id, id)
	case err != nil:
		return err
	}
	if err := s.enqueuer.Enqueue(ctx, []store.Job{job}); err != nil {
		// The run's job is safe in PostgreSQL; the reconciler delivers it.
		s.log.Warn("enqueue of a manual run failed; the reconciler will deliver", "error", err, "run", run.ID)
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

// defaultRule is one of the rules a site gets by default: the cadences of
// the WordPress CRON jobs that automation replaces.
type defaultRule struct {
	name     string
	stage    string
	schedule string
	maxItems int
}

var defaultRules = []defaultRule{
	{"Cluster new keywords", store.StageCluster, "@every 6h", 1},
	{"Generate ideas", store.StageIdeas, "@every 6h", 20},
	{"Write drafts", store.StageDrafts, "@every 3h", 10},
	{"Generate images", store.StageImages, "@every 3h", 10},
	{"Publish approved drafts", store.StagePublish, "@every 12h", 10},
}

type defaultsRequest struct {
	Enabled  *bool   `json:"enabled"`
	Timezone *string `json:"timezone"`
}

// createDefaultRules gives a site the default rules; a default whose name
// the site already uses is left as it is.
func (s *Server) createDefaultRules(c echo.Context) error {
	siteID, err := pathID(c, "id")
	if err != nil {
		return err
	}
	var req defaultsRequest
	if err := decodeOptionalJSON(c, &req); err != nil {
		return err
	}
	enabled, tz := true, defaultRuleTZ
	if req.Enabled != nil {
		enabled = *req.Enabled
	}
	if req.Timezone != nil && strings.TrimSpace(*req.Timezone) != "" {
		tz = strings.TrimSpace(*req.Timezone)
	}
	if _, err := schedule.Location(tz); err != nil {
		return errs.Invalid("timezone", "%s", err.Error())
	}
	ctx, tenant := c.Request().Context(), principal(c).TenantID
	if _, err := s.store.GetSite(ctx, tenant, siteID); err != nil {
		return public(err, "no site with id %d", siteID)
	}
	now, created := time.Now(), 0
	for _, d := range defaultRules {
		// The product's own cadences, whatever the minimum interval.
		sched, err := schedule.Parse(d.schedule, tz, 0)
		if err != nil {
			return fmt.Errorf("default rule %q: %w", d.name, err)
		}
		r := store.Rule{SiteID: siteID, Name: d.name, Schedule: d.schedule, Timezone: tz, Stages: []string{d.stage},
			IdeasPerCluster: defaultRuleIdeas, MaxItems: min(d.maxItems, s.cfg.MaxBulkItems),
			Conditions: []store.Condition{}, Enabled: enabled}
		if enabled {
			next := sched.Next(now)
			r.NextFireAt = &next
		}
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
	items := make([]store.Rule, 0, len(defaultRules))
	for _, d := range defaultRules {
		if i := slices.IndexFunc(rules, func(r store.Rule) bool { return r.Name == d.name }); i >= 0 {
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
