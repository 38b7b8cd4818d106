package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/presswork/presswork/internal/errs"
	"github.com/presswork/presswork/internal/jobs"
	"github.com/presswork/presswork/internal/secret"
	"github.com/presswork/presswork/internal/store"
	"github.com/presswork/presswork/internal/tasks"
)

// maxDeployLog bounds the log entries a deployment is shown with.
const maxDeployLog = 200

// deploymentView is a deployment with its log, as a tenant sees it.
type deploymentView struct {
	store.Deployment
	Log []store.DeploymentLogEntry `json:"log"`
}

// deploymentAccepted is the 202 answer of a deployment action.
type deploymentAccepted struct {
	Deployment store.Deployment `json:"deployment"`
	JobID      string           `json:"job_id"`
}

func (s *Server) deploySite(c echo.Context) error {
	siteID, err := pathID(c, "id")
	if err != nil {
		return err
	}
	var req deployRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	ctx, tenant := c.Request().Context(), principal(c).TenantID
	d := store.Deployment{TenantID: tenant, SiteID: siteID, HTTPS: true}
	if err := s.checkDeploy(req, &d); err != nil {
		return err
	}
	if _, err := s.store.GetSite(ctx, tenant, siteID); err != nil {
		return errs.Public(err, "no site with id %d", siteID)
	}
	if err := s.choosePanel(c, req.Panel, &d); err != nil {
		return err
	}
	if len(req.Env) > 0 {
		raw, _ := json.Marshal(req.Env)
		if d.EnvEnc, err = s.box.Seal(raw, secret.DeploymentSecretAD(tenant, siteID, "env")); err != nil {
			return fmt.Errorf("seal the environment: %w", err)
		}
	}
	d, job, err := s.submitAction(ctx, func(ctx context.Context) (store.Deployment, store.Job, error) {
		return s.store.SaveDeployment(ctx, d, s.actionJob(c, siteID, tasks.ActionDeploy, s.cfg.DeployCost))
	})
	if err != nil {
		return deploymentProblem(err, siteID)
	}
	s.audit(c, "deployment.deploy", fmt.Sprintf("site:%d deployment:%d", siteID, d.ID))
	return s.acceptAction(c, d, job)
}

// choosePanel picks the deployment's panel: the one asked for, else the
// tenant's own, else the operator's.
func (s *Server) choosePanel(c echo.Context, asked *string, d *store.Deployment) error {
	creds, err := s.store.GetPanelCredentials(c.Request().Context(), d.TenantID)
	hasOwn := err == nil
	if err != nil && !errors.Is(err, errs.ErrNotFound) {
		return err
	}
	operator := s.cfg.Easypanel.URL != ""
	panel := "tenant"
	switch {
	case asked != nil && *asked != "tenant" && *asked != "operator":
		return errs.Invalid("panel", "must be tenant or operator")
	case asked != nil:
		panel = *asked
	case !hasOwn:
		panel = "operator"
	}
	switch {
	case panel == "tenant" && !hasOwn:
		return errs.Public(errs.ErrConflict, "no Easypanel access is registered for the tenant; PUT /v1/easypanel first")
	case panel == "operator" && !operator:
		return errs.Public(errs.ErrConflict, "no Easypanel is configured: register the tenant's own with PUT /v1/easypanel")
	case panel == "tenant":
		d.Panel, d.Project = "tenant", creds.Project
	default:
		d.Panel, d.Project = "operator", s.cfg.Easypanel.Project
	}
	return nil
}

// actionJob is the job of an action on a site's deployment; the store
// gives it its subject.
func (s *Server) actionJob(c echo.Context, siteID int64, action string, quote int64) store.NewJob {
	params, _ := json.Marshal(tasks.DeployParams{Action: action})
	return store.NewJob{ID: newID(c, "deploy", siteID, action), Type: tasks.TypeDeploy, Queue: jobs.QueueDefault,
		Params: params, Quote: quote}
}

// deploymentProblem gives the store's deployment conflicts of the site
// their client text.
func deploymentProblem(err error, siteID int64) error {
	switch {
	case errors.Is(err, store.ErrSiteDeployed):
		return errs.Public(err, "site %d is deployed already; redeploy it, change its domain or destroy it", siteID)
	case errors.Is(err, store.ErrDeploymentBusy):
		return errs.Public(err, "another action on the deployment of site %d is queued or running", siteID)
	case errors.Is(err, store.ErrSiteHasServices):
		return errs.Public(err, "site %d is deployed on Easypanel; destroy its deployment first "+
			"(POST /v1/sites/%d/deployment/destroy)", siteID, siteID)
	case errors.Is(err, store.ErrDomainTaken):
		const problem = "is used by another deployment on the shared panel; choose another"
		return errs.Public(&fieldConflict{field: "domain", problem: problem, err: err}, "the domain %s", problem)
	}
	return err
}

// fieldConflict is a conflict caused by one field's value (a domain taken
// by another deployment): its problem document names the field, as a 400's
// does.
type fieldConflict struct {
	field, problem string
	err            error
}

func (e *fieldConflict) Error() string { return e.field + " " + e.problem + ": " + e.err.Error() }
func (e *fieldConflict) Unwrap() error { return e.err }

// conflictFields are the fields a conflict names; nil for most.
func conflictFields(err error) []errs.FieldProblem {
	var fc *fieldConflict
	if errors.As(err, &fc) {
		return []errs.FieldProblem{{Field: fc.field, Problem: fc.problem}}
	}
	return nil
}

// submitAction runs commit, the store call that records an action on a
// deployment with its job, and enqueues the job.
func (s *Server) submitAction(ctx context.Context,
	commit func(context.Context) (store.Deployment, store.Job, error)) (store.Deployment, store.Job, error) {
	var d store.Deployment
	var job store.Job
	err := s.jobs.Submit(ctx, func(ctx context.Context) ([]store.Job, error) {
		var err error
		d, job, err = commit(ctx)
		return []store.Job{job}, err
	})
	return d, job, err
}

// acceptAction answers 202 to an action submitted on a deployment.
func (s *Server) acceptAction(c echo.Context, d store.Deployment, job store.Job) error {
	c.Response().Header().Set(echo.HeaderLocation, fmt.Sprintf("/v1/sites/%d/deployment", d.SiteID))
	return c.JSON(http.StatusAccepted, deploymentAccepted{Deployment: d, JobID: job.ID})
}

// siteDeployment loads the deployment of the path's site.
func (s *Server) siteDeployment(c echo.Context) (store.Deployment, error) {
	siteID, err := pathID(c, "id")
	if err != nil {
		return store.Deployment{}, err
	}
	ctx, tenant := c.Request().Context(), principal(c).TenantID
	if _, err := s.store.GetSite(ctx, tenant, siteID); err != nil {
		return store.Deployment{}, errs.Public(err, "no site with id %d", siteID)
	}
	d, err := s.store.SiteDeployment(ctx, tenant, siteID)
	if err != nil {
		return d, errs.Public(err, "site %d has no deployment; POST /v1/sites/%d/deployment first", siteID, siteID)
	}
	return d, nil
}

func (s *Server) getDeployment(c echo.Context) error {
	d, err := s.siteDeployment(c)
	if err != nil {
		return err
	}
	log, err := s.store.DeploymentLog(c.Request().Context(), d.ID, false, maxDeployLog)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, deploymentView{Deployment: d, Log: log})
}

type domainRequest struct {
	Domain *string `json:"domain"`
}

func (s *Server) changeDeploymentDomain(c echo.Context) error {
	var req domainRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if req.Domain == nil {
		return errs.Invalid("domain", "is required")
	}
	domain := strings.ToLower(strings.TrimSpace(*req.Domain))
	if !validHostname(domain) {
		return errs.Invalid("domain", "must be a host name such as blog.example.com")
	}
	if problem := s.reservedDomainProblem(domain); problem != "" {
		return errs.Invalid("domain", "%s", problem)
	}
	d, err := s.siteDeployment(c)
	if err != nil {
		return err
	}
	if d.Status == "destroyed" {
		return errs.Public(errs.ErrConflict, "the deployment was destroyed; deploy the site again with the new domain")
	}
	d, job, err := s.submitAction(c.Request().Context(), func(ctx context.Context) (store.Deployment, store.Job, error) {
		return s.store.QueueDeploymentAction(ctx, d, domain, s.actionJob(c, d.SiteID, tasks.ActionDomain, 0))
	})
	if err != nil {
		return deploymentProblem(err, d.SiteID)
	}
	s.audit(c, "deployment.domain", fmt.Sprintf("deployment:%d domain:%s", d.ID, domain))
	return s.acceptAction(c, d, job)
}

// deploymentAction answers the routes that run one action (redeploy,
// stop, start, destroy) on a site's deployment.
func (s *Server) deploymentAction(action string) echo.HandlerFunc {
	return func(c echo.Context) error {
		if err := noBody(c); err != nil {
			return err
		}
		d, err := s.siteDeployment(c)
		if err != nil {
			return err
		}
		switch {
		case d.Status == "destroyed" && action != tasks.ActionDestroy:
			return errs.Public(errs.ErrConflict, "the deployment was destroyed; deploy the site again first")
		case d.Status == "destroyed":
			return errs.Public(errs.ErrConflict, "the deployment is destroyed already")
		case action != tasks.ActionDestroy && !d.StepDone("app_created"):
			return errs.Public(errs.ErrConflict, "the site's app is not on the panel yet (deployment %s); deploy it first", d.Status)
		}
		d, job, err := s.submitAction(c.Request().Context(), func(ctx context.Context) (store.Deployment, store.Job, error) {
			return s.store.QueueDeploymentAction(ctx, d, "", s.actionJob(c, d.SiteID, action, 0))
		})
		if err != nil {
			return deploymentProblem(err, d.SiteID)
		}
		s.audit(c, "deployment."+action, fmt.Sprintf("deployment:%d", d.ID))
		return s.acceptAction(c, d, job)
	}
}

// getDeploymentAdmin shows operators any deployment with the panel's
// replies in its log.
func (s *Server) getDeploymentAdmin(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	d, err := s.store.DeploymentByID(c.Request().Context(), id)
	if err != nil {
		return errs.Public(err, "no deployment with id %d", id)
	}
	log, err := s.store.DeploymentLog(c.Request().Context(), d.ID, true, maxDeployLog)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, struct {
		deploymentView
		TenantID int64 `json:"tenant_id"`
	}{deploymentView{Deployment: d, Log: log}, d.TenantID})
}
