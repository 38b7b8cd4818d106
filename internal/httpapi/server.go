// Package httpapi is Presswork's HTTP API: it authenticates, validates,
// writes rows, checks credits, enqueues and answers. It never calls an AI
// provider or a WordPress site inside a request.
package httpapi

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/presswork/presswork/api"
	"github.com/presswork/presswork/internal/auth"
	"github.com/presswork/presswork/internal/billing"
	"github.com/presswork/presswork/internal/config"
	"github.com/presswork/presswork/internal/errs"
	"github.com/presswork/presswork/internal/metrics"
	"github.com/presswork/presswork/internal/secret"
	"github.com/presswork/presswork/internal/store"
	"github.com/presswork/presswork/internal/tasks"
)

// Jobs records jobs and puts them on the queues (jobs.Client).
type Jobs interface {
	// Submit runs commit, which records jobs, then enqueues those it
	// returns; it returns commit's error.
	Submit(ctx context.Context, commit func(context.Context) ([]store.Job, error)) error
	// Create records a tenant's jobs (store.CreateJobs) and enqueues those
	// to deliver now.
	Create(ctx context.Context, tenantID int64, batchID string, js []store.NewJob) (store.JobBatch, error)
	// Finished is told that one of a tenant's jobs on queue ended.
	Finished(ctx context.Context, tenantID int64, queue string)
	// Release puts the tenant's held jobs that now fit on the queue and
	// says how many.
	Release(ctx context.Context, tenantID int64) (int, error)
}

// Deps is what the API needs.
type Deps struct {
	Store  *store.Store
	Jobs   Jobs
	Box    *secret.Box
	Config config.Config
	Log    *slog.Logger
	// Ready reports whether the dependencies are usable (for /readyz).
	Ready func(ctx context.Context) error
	// Monitoring is the queue dashboard served to operators under
	// /monitoring (nil: none). Serve closes it on shutdown if it is an
	// io.Closer.
	Monitoring http.Handler
	// Metrics is the process's metrics registry: the API records its
	// requests there and serves it as GET /metrics (nil: a registry of its
	// own).
	Metrics *metrics.Registry
	// Limiter holds API keys and tenants to their request rates (nil: no
	// limits).
	Limiter RequestLimiter
	// AuthFailures counts failed authentications per client address, to
	// refuse an address past AuthFailuresPerMinute (nil: no limit).
	AuthFailures FailureCounter
	// UI is the editors' web interface, served under /ui with / redirecting
	// there (nil: none). It authenticates by session itself and calls the
	// API with the session cookie.
	UI http.Handler
	// PanelChecks carries PUT /v1/easypanel's checks and the model tests
	// to a worker and their answers back (panelcheck.go, modeltest.go).
	PanelChecks PanelCheckQueue
	// ModelTester answers POST /v1/admin/models/:id/test (nil: a
	// QueueTester on PanelChecks, or without them OfflineTester, which
	// passes offline models only).
	ModelTester ModelTester
	// Billing is billing through Stripe (#26); nil: off.
	Billing *billing.Service
}

// Server is the API.
type Server struct {
	store      *store.Store
	jobs       Jobs
	box        *secret.Box
	cfg        config.Config
	log        *slog.Logger
	ready      func(ctx context.Context) error
	monitoring http.Handler
	metrics    *metrics.Registry
	limiter    RequestLimiter
	ui         http.Handler
	docs       *apiDocs
	echo       *echo.Echo
	routes     []Route

	// authFailures and authFailLimit: see LimitAuthFailures.
	authFailures  FailureCounter
	authFailLimit atomic.Int64

	// panelChecks: see Deps.PanelChecks.
	panelChecks PanelCheckQueue
	// tester: see Deps.ModelTester.
	tester ModelTester
	// billing: see Deps.Billing.
	billing *billing.Service
}

// Route is one API route and the permission it needs; the route table is
// public so tests can walk every route.
type Route struct {
	Method, Path string
	Permission   auth.Permission // "" for public routes
	TenantOwned  bool            // the path names a tenant's row
}

// New builds the API.
func New(d Deps) *Server {
	docs, err := newAPIDocs(api.Spec)
	if err != nil {
		panic(err) // the embedded document is broken: a build defect the tests catch
	}
	s := &Server{store: d.Store, jobs: d.Jobs, box: d.Box, cfg: d.Config, log: d.Log, ready: d.Ready,
		monitoring: d.Monitoring, metrics: d.Metrics, limiter: d.Limiter, authFailures: d.AuthFailures, ui: d.UI, docs: docs}
	s.authFailLimit.Store(AuthFailuresPerMinute)
	s.panelChecks = d.PanelChecks
	s.tester = d.ModelTester
	s.billing = d.Billing
	switch {
	case s.tester != nil:
	case d.PanelChecks != nil:
		s.tester = NewQueueTester(d.PanelChecks, d.Log)
	default:
		s.tester = OfflineTester{}
	}
	if s.metrics == nil {
		s.metrics = metrics.New()
	}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = s.errorHandler
	// The client's address is the connection's: X-Forwarded-For and
	// X-Real-IP are anyone's to write, and no trusted proxy is configured.
	e.IPExtractor = echo.ExtractIPDirect()
	e.Use(middleware.RequestID())
	e.Use(s.metrics.HTTPMiddleware())
	e.Use(s.recoverPanics)
	e.Use(s.logRequests)
	s.echo = e
	s.addRoutes()
	return s
}

// Handler returns the http.Handler of the API.
func (s *Server) Handler() http.Handler { return s.echo }

// Routes returns the route table.
func (s *Server) Routes() []Route { return s.routes }

// Serve listens on addr until ctx ends, then shuts down gracefully within
// timeout.
func (s *Server) Serve(ctx context.Context, addr string, timeout time.Duration, started func(addr string)) error {
	srv := &http.Server{Addr: addr, Handler: s.echo, ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout: 5 * time.Minute, WriteTimeout: 5 * time.Minute, IdleTimeout: 2 * time.Minute}
	ln, err := listen(ctx, addr)
	if err != nil {
		return err
	}
	if c, ok := s.monitoring.(io.Closer); ok {
		defer c.Close()
	}
	if started != nil {
		started(ln.Addr().String())
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return err
	}
	if err := <-done; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

type handler = echo.HandlerFunc

func (s *Server) add(method, path string, perm auth.Permission, tenantOwned bool, h handler) {
	s.routes = append(s.routes, Route{Method: method, Path: path, Permission: perm, TenantOwned: tenantOwned})
	var mw []echo.MiddlewareFunc
	if perm != "" {
		mw = append(mw, s.authenticate(perm))
		if s.limiter != nil {
			mw = append(mw, s.limitRequests)
		}
		if method == http.MethodPost && perm != auth.PermOperator {
			mw = append(mw, s.idempotent)
		}
	}
	s.echo.Add(method, path, h, mw...)
}

func (s *Server) addRoutes() {
	const get, post, put, patch, del = http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete
	s.add(get, "/healthz", "", false, s.healthz)
	s.add(get, "/readyz", "", false, s.readyz)
	s.add(get, "/openapi.json", "", false, s.openAPIJSON)
	s.add(get, "/docs", "", false, s.docsHTML)
	s.add(get, docsBundlePath, "", false, s.docsBundle)
	s.add(get, "/metrics", "", false, echo.WrapHandler(s.metrics.Handler()))

	s.add(get, "/v1/tenant", auth.PermRead, false, s.getTenant)
	s.add(get, "/v1/credits", auth.PermBilling, false, s.getCredits)
	s.add(get, "/v1/credits/ledger", auth.PermBilling, false, s.getLedger)
	s.add(put, "/v1/credits/alert", auth.PermBilling, false, s.putCreditsAlert)
	s.add(get, "/v1/batch-settings", auth.PermRead, false, s.getBatchSettings)
	s.add(put, "/v1/batch-settings", auth.PermBilling, false, s.putBatchSettings)
	s.add(get, "/v1/usage", auth.PermBilling, false, s.getUsage)
	s.add(get, "/v1/audit", auth.PermAudit, false, s.listAudit)

	s.add(get, "/v1/api-keys", auth.PermKeys, false, s.listAPIKeys)
	s.add(post, "/v1/api-keys", auth.PermKeys, false, s.createAPIKey)
	s.add(del, "/v1/api-keys/:id", auth.PermKeys, true, s.revokeAPIKey)

	s.add(get, "/v1/sites", auth.PermRead, false, s.listSites)
	s.add(post, "/v1/sites", auth.PermSites, false, s.createSite)
	s.add(get, "/v1/sites/:id", auth.PermRead, true, s.getSite)
	s.add(post, "/v1/sites/:id/check", auth.PermContent, true, s.checkSiteConnection)
	s.add(get, "/v1/sites/:id/links", auth.PermRead, true, s.listLinks)
	s.add(post, "/v1/sites/:id/links/refresh", auth.PermContent, true, s.refreshLinks)
	s.add(patch, "/v1/sites/:id", auth.PermSites, true, s.updateSite)
	s.add(del, "/v1/sites/:id", auth.PermSites, true, s.deleteSite)
	s.add(get, "/v1/sites/:id/profile", auth.PermRead, true, s.getSiteProfile)
	s.add(put, "/v1/sites/:id/profile", auth.PermContent, true, s.putSiteProfile)
	s.add(get, "/v1/profile", auth.PermRead, false, s.getTenantProfile)
	s.add(put, "/v1/profile", auth.PermContent, false, s.putTenantProfile)

	s.add(post, "/v1/sites/:id/keywords", auth.PermContent, true, s.importKeywords)
	s.add(get, "/v1/sites/:id/keywords", auth.PermRead, true, s.listKeywords)
	s.add(post, "/v1/sites/:id/clustering", auth.PermContent, true, s.startClustering)
	s.add(post, "/v1/sites/:id/recluster", auth.PermContent, true, s.startReclustering)
	s.add(get, "/v1/sites/:id/clusters", auth.PermRead, true, s.listClusters)
	s.add(get, "/v1/sites/:id/idea-conflicts", auth.PermRead, true, s.listIdeaConflicts)
	s.add(get, "/v1/clusters/:id", auth.PermRead, true, s.getCluster)
	s.add(patch, "/v1/clusters/:id", auth.PermContent, true, s.renameCluster)
	s.add(get, "/v1/clusters/:id/keywords", auth.PermRead, true, s.listClusterKeywords)
	s.add(post, "/v1/clusters/:id/keywords", auth.PermContent, true, s.moveKeywords)
	s.add(post, "/v1/clusters/:id/keywords/remove", auth.PermContent, true, s.removeKeywords)
	s.add(post, "/v1/clusters/:id/split", auth.PermContent, true, s.splitCluster)
	s.add(post, "/v1/clusters/merge", auth.PermContent, false, s.mergeClusters)
	s.add(post, "/v1/ideas/generate", auth.PermContent, false, s.generateIdeas)
	s.add(get, "/v1/ideas", auth.PermRead, false, s.listIdeas)
	s.add(get, "/v1/ideas/:id", auth.PermRead, true, s.getIdea)
	s.add(post, "/v1/drafts/generate", auth.PermContent, false, s.generateDrafts)
	s.add(get, "/v1/drafts", auth.PermRead, false, s.listDrafts)
	s.add(get, "/v1/drafts/:id", auth.PermRead, true, s.getDraft)
	s.add(patch, "/v1/drafts/:id", auth.PermContent, true, s.editDraft)
	s.add(post, "/v1/drafts/publish", auth.PermContent, false, s.publishDrafts)
	s.add(post, "/v1/drafts/approve", auth.PermContent, false, s.approveDrafts)
	s.add(post, "/v1/images/generate", auth.PermContent, false, s.generateImages)
	s.add(get, "/v1/drafts/:id/image", auth.PermRead, true, s.getDraftImage)
	s.add(get, "/v1/drafts/:id/image/content", auth.PermRead, true, s.getDraftImageContent)
	s.add(get, "/v1/drafts/:id/images", auth.PermRead, true, s.listDraftImages)
	s.add(get, "/v1/images/:id/content", auth.PermRead, true, s.getImageContent)

	s.add(get, "/v1/automation/rules", auth.PermRead, false, s.listRules)
	s.add(post, "/v1/automation/rules", auth.PermContent, false, s.createRule)
	s.add(get, "/v1/automation/rules/:id", auth.PermRead, true, s.getRule)
	s.add(patch, "/v1/automation/rules/:id", auth.PermContent, true, s.updateRule)
	s.add(del, "/v1/automation/rules/:id", auth.PermContent, true, s.deleteRule)
	s.add(post, "/v1/automation/rules/:id/run", auth.PermContent, true, s.runRule)
	s.add(get, "/v1/automation/rules/:id/runs", auth.PermRead, true, s.listRuns)
	s.add(get, "/v1/automation/runs/:id", auth.PermRead, true, s.getRun)
	s.add(post, "/v1/sites/:id/automation/defaults", auth.PermContent, true, s.createDefaultRules)

	s.add(get, "/v1/jobs", auth.PermRead, false, s.listJobs)
	s.add(get, "/v1/jobs/:id", auth.PermRead, true, s.getJob)
	s.add(post, "/v1/jobs/:id/cancel", auth.PermContent, true, s.cancelJob)
	s.add(get, "/v1/batches/:id", auth.PermRead, true, s.getBatch)

	// A stage is no row of the tenant's: an unknown one is simply not found.
	s.add(get, "/v1/prompts", auth.PermRead, false, s.listPrompts)
	s.add(get, "/v1/prompts/:stage/versions", auth.PermRead, false, s.listPromptVersions)
	s.add(put, "/v1/prompts/:stage", auth.PermContent, false, s.putPrompt)
	s.add(del, "/v1/prompts/:stage", auth.PermContent, false, s.revertPrompt)

	s.add(get, "/v1/ai-settings", auth.PermKeys, false, s.getAISettings)
	s.add(put, "/v1/ai-settings/openai", auth.PermKeys, false, s.putOpenAISettings)
	s.add(del, "/v1/ai-settings/openai", auth.PermKeys, false, s.deleteOpenAISettings)
	s.add(get, "/v1/models", auth.PermRead, false, s.listTenantModels)
	s.add(get, "/v1/stage-models", auth.PermRead, false, s.getStageModels)
	s.add(put, "/v1/stage-models", auth.PermKeys, false, s.putStageModels)

	s.add(get, "/v1/easypanel", auth.PermKeys, false, s.getPanelSettings)
	s.add(put, "/v1/easypanel", auth.PermKeys, false, s.putPanelSettings)
	s.add(del, "/v1/easypanel", auth.PermKeys, false, s.deletePanelSettings)

	s.add(get, "/v1/events", auth.PermRead, false, s.listEvents)
	s.add(get, "/v1/webhooks", auth.PermKeys, false, s.listWebhooks)
	s.add(post, "/v1/webhooks", auth.PermKeys, false, s.createWebhook)
	s.add(get, "/v1/webhooks/:id", auth.PermKeys, true, s.getWebhook)
	s.add(patch, "/v1/webhooks/:id", auth.PermKeys, true, s.updateWebhook)
	s.add(del, "/v1/webhooks/:id", auth.PermKeys, true, s.deleteWebhook)
	s.add(get, "/v1/webhooks/:id/deliveries", auth.PermKeys, true, s.listDeliveries)
	s.add(post, "/v1/webhooks/:id/deliveries/:delivery/redeliver", auth.PermKeys, true, s.redeliver)
	s.add(post, "/v1/sites/:id/deployment", auth.PermSites, true, s.deploySite)
	s.add(get, "/v1/sites/:id/deployment", auth.PermRead, true, s.getDeployment)
	s.add(patch, "/v1/sites/:id/deployment", auth.PermSites, true, s.changeDeploymentDomain)
	s.add(post, "/v1/sites/:id/deployment/redeploy", auth.PermSites, true, s.deploymentAction(tasks.ActionRedeploy))
	s.add(post, "/v1/sites/:id/deployment/stop", auth.PermSites, true, s.deploymentAction(tasks.ActionStop))
	s.add(post, "/v1/sites/:id/deployment/start", auth.PermSites, true, s.deploymentAction(tasks.ActionStart))
	s.add(post, "/v1/sites/:id/deployment/destroy", auth.PermSites, true, s.deploymentAction(tasks.ActionDestroy))

	s.add(post, "/v1/stripe/webhook", "", false, s.stripeWebhook)
	s.add(get, "/v1/billing", auth.PermBilling, false, s.getBilling)
	s.add(post, "/v1/billing/checkout", auth.PermPay, false, s.startCheckout)
	s.add(post, "/v1/billing/portal", auth.PermPay, false, s.startPortal)
	s.add(get, "/v1/billing/invoices", auth.PermBilling, false, s.listInvoices)
	s.add(get, "/v1/admin/plans", auth.PermOperator, false, s.listPlansAdmin)
	s.add(put, "/v1/admin/plans/:name", auth.PermOperator, false, s.putPlan)
	s.add(del, "/v1/admin/plans/:name", auth.PermOperator, false, s.deletePlan)
	s.add(get, "/v1/admin/credit-packs", auth.PermOperator, false, s.listPacksAdmin)
	s.add(post, "/v1/admin/credit-packs", auth.PermOperator, false, s.createPack)
	s.add(patch, "/v1/admin/credit-packs/:id", auth.PermOperator, false, s.updatePack)
	s.add(del, "/v1/admin/credit-packs/:id", auth.PermOperator, false, s.deletePack)
	s.add(get, "/v1/admin/billing/overview", auth.PermOperator, false, s.billingOverview)

	s.add(get, "/v1/admin/tenants", auth.PermOperator, false, s.listTenants)
	s.add(post, "/v1/admin/tenants", auth.PermOperator, false, s.createTenant)
	s.add(get, "/v1/admin/tenants/:id", auth.PermOperator, false, s.getTenantAdmin)
	s.add(patch, "/v1/admin/tenants/:id", auth.PermOperator, false, s.updateTenant)
	s.add(post, "/v1/admin/tenants/:id/credits", auth.PermOperator, false, s.grantCredits)
	s.add(get, "/v1/admin/tenants/:id/usage", auth.PermOperator, false, s.getTenantUsage)
	s.add(get, "/v1/admin/deployments/:id", auth.PermOperator, false, s.getDeploymentAdmin)
	s.add(get, "/v1/admin/audit", auth.PermOperator, false, s.listAuditAdmin)
	s.add(get, "/v1/admin/models", auth.PermOperator, false, s.listModelsAdmin)
	s.add(post, "/v1/admin/models", auth.PermOperator, false, s.createModel)
	s.add(get, "/v1/admin/models/:id", auth.PermOperator, false, s.getModelAdmin)
	s.add(patch, "/v1/admin/models/:id", auth.PermOperator, false, s.updateModel)
	s.add(post, "/v1/admin/models/:id/test", auth.PermOperator, false, s.testModel)
	s.add(del, "/v1/admin/models/:id", auth.PermOperator, false, s.deleteModel)
	s.add(get, "/v1/admin/routes", auth.PermOperator, false, s.listRoutes)
	s.add(put, "/v1/admin/routes/:stage", auth.PermOperator, false, s.putRoute)

	if s.monitoring != nil {
		s.mountMonitoring(s.monitoring)
	}
	if s.ui != nil {
		s.mountUI(s.ui)
	}
}

func (s *Server) healthz(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) readyz(c echo.Context) error {
	if s.ready != nil {
		if err := s.ready(c.Request().Context()); err != nil {
			s.log.Warn("not ready", "error", err)
			return c.JSON(http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "reason": err.Error()})
		}
	}
	return c.JSON(http.StatusOK, map[string]string{"status": "ready"})
}

// recoverPanics turns a panic into a logged 500: a panic is a bug, but one
// request's bug must not take the process down.
func (s *Server) recoverPanics(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) (err error) {
		defer func() {
			if r := recover(); r != nil {
				s.log.Error("panic in handler", "panic", r, "path", c.Path())
				err = errors.New("panic")
			}
		}()
		return next(c)
	}
}

func (s *Server) logRequests(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		if err != nil {
			c.Error(err)
		}
		p := principal(c)
		s.log.LogAttrs(c.Request().Context(), levelFor(c.Response().Status), "request",
			slog.String("method", c.Request().Method), slog.String("route", c.Path()),
			slog.Int("status", c.Response().Status), slog.Duration("duration", time.Since(start)),
			slog.String("request_id", c.Response().Header().Get(echo.HeaderXRequestID)),
			slog.Int64("tenant", p.TenantID))
		return nil
	}
}

func levelFor(status int) slog.Level {
	if status >= 500 {
		return slog.LevelError
	}
	return slog.LevelDebug
}

func errorsIsNotFound(err error) bool { return errors.Is(err, errs.ErrNotFound) }

func listen(ctx context.Context, addr string) (net.Listener, error) {
	var lc net.ListenConfig
	return lc.Listen(ctx, "tcp", addr)
}
