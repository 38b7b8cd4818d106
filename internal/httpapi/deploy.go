package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/presswork/presswork/internal/errs"
	"github.com/presswork/presswork/internal/jobs"
	"github.com/presswork/presswork/internal/secret"
	"github.com/presswork/presswork/internal/store"
	"github.com/presswork/presswork/internal/tasks"
)

// Limits of deployment requests.
const (
	maxEnvVars     = 50
	maxEnvValue    = 4096
	maxDeployLog   = 200
	defaultProject = "sites"
)

var (
	envKeyPattern   = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,99}$`)
	imagePattern    = regexp.MustCompile(`^[a-z0-9][a-z0-9._/:@-]{0,199}$`)
	refPattern      = regexp.MustCompile(`^[A-Za-z0-9._/-]{1,100}$`)
	projectPattern  = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,39}$`)
	hostnamePattern = regexp.MustCompile(`^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$`)
	// reservedEnv are the variables a deploy sets itself.
	reservedEnv = regexp.MustCompile(`^(DATABASE_URL|WORDPRESS_DB_(HOST|NAME|USER|PASSWORD))$`)
)

// panelSettings is what the API shows of a tenant's Easypanel: never the
// password.
type panelSettings struct {
	Configured bool       `json:"configured"`
	URL        *string    `json:"url"`
	Email      *string    `json:"email"`
	Project    *string    `json:"project"`
	UpdatedAt  *time.Time `json:"updated_at,omitempty"`
	// OperatorPanel says whether the operator's panel can be used instead.
	OperatorPanel bool `json:"operator_panel"`
}

func (s *Server) panelSettingsOf(c store.PanelCredentials, found bool) panelSettings {
	out := panelSettings{OperatorPanel: s.cfg.Easypanel.URL != ""}
	if found {
		out.Configured, out.URL, out.Email, out.Project, out.UpdatedAt = true, &c.URL, &c.Email, &c.Project, &c.UpdatedAt
	}
	return out
}

func (s *Server) getPanelSettings(c echo.Context) error {
	creds, err := s.store.GetPanelCredentials(c.Request().Context(), principal(c).TenantID)
	if err != nil && !errors.Is(err, errs.ErrNotFound) {
		return err
	}
	return c.JSON(http.StatusOK, s.panelSettingsOf(creds, err == nil))
}

type panelRequest struct {
	URL      *string `json:"url"`
	Email    *string `json:"email"`
	Password *string `json:"password"`
	Project  *string `json:"project"`
}

// putPanelSettings stores the tenant's Easypanel access, its password
// sealed.
func (s *Server) putPanelSettings(c echo.Context) error {
	var req panelRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	v := &errs.ValidationError{}
	creds := store.PanelCredentials{TenantID: principal(c).TenantID, Project: defaultProject}
	if req.URL == nil {
		v.Add("url", "is required")
	} else if problem := panelURLProblem(*req.URL, s.cfg.AllowPrivateURLs); problem != "" {
		v.Add("url", "%s", problem)
	} else {
		creds.URL = strings.TrimRight(strings.TrimSpace(*req.URL), "/")
	}
	if req.Email == nil {
		v.Add("email", "is required")
	} else if v.CheckText("email", *req.Email, 3, 200); !strings.Contains(*req.Email, "@") {
		v.Add("email", "must be an email address")
	}
	if req.Password == nil {
		v.Add("password", "is required")
	} else {
		v.CheckText("password", *req.Password, 1, 200)
	}
	if req.Project != nil {
		if creds.Project = *req.Project; !projectPattern.MatchString(creds.Project) {
			v.Add("project", "must be 1 to 40 lower-case letters, digits, dashes or underscores")
		}
	}
	if err := v.OrNil(); err != nil {
		return err
	}
	creds.Email = strings.TrimSpace(*req.Email)
	if err := s.checkPanel(c.Request().Context(), creds, *req.Password); err != nil {
		return err // panelcheck.go: the login and the project, checked on the panel
	}
	enc, err := s.box.Seal([]byte(*req.Password), secret.PanelPasswordAD(creds.TenantID))
	if err != nil {
		return fmt.Errorf("seal the panel password: %w", err)
	}
	creds.PasswordEnc = enc
	if creds, err = s.store.PutPanelCredentials(c.Request().Context(), creds); err != nil {
		return err
	}
	s.audit(c, "easypanel.set", "easypanel:"+creds.URL)
	return c.JSON(http.StatusOK, s.panelSettingsOf(creds, true))
}

// panelURLProblem checks a panel's address: https (the password crosses
// it), no credentials, and no private address unless the operator allows
// them (then http is accepted too, for panels on the local network).
func panelURLProblem(raw string, allowPrivate bool) string {
	u, err := url.Parse(strings.TrimSpace(raw))
	switch {
	case err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http"):
		return "must be the panel's address, such as https://panel.example.com"
	case u.User != nil:
		return "must not contain credentials; send email and password as their own fields"
	case u.Scheme == "http" && !allowPrivate:
		return "must use https: the panel's password is sent to it"
	}
	return siteURLProblem(raw, allowPrivate)
}

func (s *Server) deletePanelSettings(c echo.Context) error {
	err := s.store.DeletePanelCredentials(c.Request().Context(), principal(c).TenantID)
	if err != nil && !errors.Is(err, errs.ErrNotFound) {
		return err
	}
	s.audit(c, "easypanel.clear", "easypanel")
	return c.NoContent(http.StatusNoContent)
}

// deployRequest is the body of POST /v1/sites/:id/deployment.
type deployRequest struct {
	Panel  *string             `json:"panel"`
	Source *store.DeploySource `json:"source"`
	Domain *string             `json:"domain"`
	HTTPS  *bool               `json:"https"`
	Env    map[string]string   `json:"env"`
}

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

// checkDeploy validates a deploy request into d.
func (s *Server) checkDeploy(req deployRequest, d *store.Deployment) error {
	v := &errs.ValidationError{}
	if req.Source == nil {
		v.Add("source", "is required: {\"type\":\"git\",\"repo\":\"https://...\"} or {\"type\":\"image\",\"image\":\"wordpress:6\"}")
	} else {
		d.Source = checkSource(v, *req.Source, s.cfg.AllowPrivateURLs)
	}
	if req.Domain == nil {
		v.Add("domain", "is required")
	} else if d.Domain = strings.ToLower(strings.TrimSpace(*req.Domain)); !validHostname(d.Domain) {
		v.Add("domain", "must be a host name such as blog.example.com")
	} else if problem := s.reservedDomainProblem(d.Domain); problem != "" {
		v.Add("domain", "%s", problem)
	}
	if req.HTTPS != nil {
		d.HTTPS = *req.HTTPS
	}
	checkEnv(v, req.Env)
	return v.OrNil()
}

func validHostname(h string) bool { return len(h) <= 253 && hostnamePattern.MatchString(h) }

// specialUseDomains are suffixes no deployment may take on any panel:
// names that resolve on the local machine or network (RFC 6761, RFC 6762,
// ICANN's .internal) or to addresses (reverse DNS), never a public site.
var specialUseDomains = []string{"localhost", "local", "internal", "arpa", "invalid"}

// reservedDomainProblem says why a deployment may not take domain, or "":
// the operator's panel serves its own interface on its host, and the
// operator reserves suffixes (DEPLOY_RESERVED_DOMAINS) for its own names.
func (s *Server) reservedDomainProblem(domain string) string {
	if host := s.cfg.Easypanel.Host(); host != "" && domain == host {
		return "is the address of the deployment panel itself"
	}
	for _, suffixes := range [][]string{specialUseDomains, s.cfg.DeployReservedDomains} {
		for _, suffix := range suffixes {
			if domain == suffix || strings.HasSuffix(domain, "."+suffix) {
				return fmt.Sprintf("is reserved: no deployment may use %s or a name under it", suffix)
			}
		}
	}
	return ""
}

// imageRegistry returns the registry host:port an image reference names,
// or "" for Docker Hub. As in Docker's reference grammar, the first path
// component is a registry only when it contains a '.' or a ':' or is
// localhost (wordpress:6 and library/wordpress are Docker Hub's).
func imageRegistry(ref string) string {
	first, _, hasPath := strings.Cut(ref, "/")
	if !hasPath || (!strings.ContainsAny(first, ".:") && first != "localhost") {
		return ""
	}
	return first
}

// checkImage validates an image reference and its registry's host.
func checkImage(v *errs.ValidationError, image string, allowPrivate bool) {
	if !imagePattern.MatchString(image) {
		v.Add("source.image", "must be an image reference such as wordpress:6")
		return
	}
	registry := imageRegistry(image)
	if registry == "" {
		return
	}
	host := registry
	if strings.Contains(registry, ":") {
		h, port, err := net.SplitHostPort(registry)
		n, perr := strconv.Atoi(port)
		if err != nil || h == "" || perr != nil || n < 1 || n > 65535 {
			v.Add("source.image", "must name its registry as host or host:port (a port from 1 to 65535), "+
				"such as registry.example.com:5000/site:1")
			return
		}
		host = h
	}
	if problem := hostProblem(host, allowPrivate); problem != "" {
		v.Add("source.image", "registry %s", problem)
	}
}

func checkSource(v *errs.ValidationError, src store.DeploySource, allowPrivate bool) store.DeploySource {
	switch src.Type {
	case "git":
		u, err := url.Parse(src.Repo)
		switch {
		case err != nil || u.Scheme != "https" || u.Host == "":
			v.Add("source.repo", "must be an https:// URL of a git repository")
		case u.User != nil:
			v.Add("source.repo", "must not contain credentials")
		default:
			if problem := hostProblem(u.Hostname(), allowPrivate); problem != "" {
				v.Add("source.repo", "%s", problem)
			}
		}
		if src.Ref == "" {
			src.Ref = "main"
		}
		if !refPattern.MatchString(src.Ref) {
			v.Add("source.ref", "must be a branch or tag name")
		}
		if src.Path == "" {
			src.Path = "/"
		}
		if src.Dockerfile == "" {
			src.Dockerfile = "Dockerfile"
		}
		if !refPattern.MatchString(src.Path) || !refPattern.MatchString(src.Dockerfile) {
			v.Add("source.path", "and source.dockerfile must be paths of letters, digits, dots, dashes and slashes")
		}
		if src.Image != "" {
			v.Add("source.image", "is for sources of type image")
		}
	case "image":
		checkImage(v, src.Image, allowPrivate)
		if src.Repo != "" || src.Ref != "" || src.Path != "" || src.Dockerfile != "" {
			v.Add("source", "of type image takes only image")
		}
	default:
		v.Add("source.type", "must be git or image")
	}
	return src
}

// checkEnv validates the user's variables: names, sizes, and no line
// breaks (the panel takes them as KEY=value lines).
func checkEnv(v *errs.ValidationError, env map[string]string) {
	if len(env) > maxEnvVars {
		v.Add("env", "may hold at most %d variables", maxEnvVars)
		return
	}
	for k, val := range env {
		field := "env." + k
		switch {
		case !envKeyPattern.MatchString(k):
			v.Add("env", "variable name %q must be letters, digits and underscores, not starting with a digit", k)
		case reservedEnv.MatchString(k):
			v.Add(field, "is set by the deploy (the site's database)")
		case len(val) > maxEnvValue:
			v.Add(field, "must be at most %d bytes", maxEnvValue)
		case strings.ContainsAny(val, "\r\n\x00"):
			v.Add(field, "must be one line")
		}
	}
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
