package e2e_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/presswork/presswork/internal/app/apptest"
	"github.com/presswork/presswork/internal/easypanel/fakepanel"
	"github.com/presswork/presswork/internal/store"
)

// deployEnv is a harness whose worker retries fast and watches deploys
// closely, with a tenant that registered the fake panel.
type deployEnv struct {
	t     *testing.T
	h     *apptest.Harness
	api   pipelineAPI
	panel *fakepanel.Server
	slug  string
	// stopWorker stops the worker gracefully (its jobs go back to the queue).
	stopWorker func()
}

func startDeploy(t *testing.T, slug string, opts ...apptest.Option) *deployEnv {
	t.Helper()
	t.Parallel()
	opts = append([]apptest.Option{apptest.WithEnv("RETRY_BASE_DELAY", "10ms"), apptest.WithEnv("RETRY_MAX_DELAY", "40ms"),
		apptest.WithEnv("DEPLOY_POLL_EVERY", "10ms")}, opts...)
	h := apptest.Start(t, opts...)
	stop := h.StartWorker(t)
	_, c := h.Tenant(t, slug, 100)
	e := &deployEnv{t: t, h: h, api: pipelineAPI{t: t, c: c}, panel: fakepanel.New(t), slug: slug, stopWorker: stop}
	e.api.do(http.MethodPut, "/v1/easypanel", map[string]string{"url": e.panel.URL, "email": fakepanel.Email,
		"password": fakepanel.Password}, nil)
	return e
}

func (e *deployEnv) site(name string) store.Site {
	var site store.Site
	e.api.do(http.MethodPost, "/v1/sites", map[string]string{"name": name, "url": "https://" + strings.ToLower(strings.ReplaceAll(name, " ", "-")) + ".example.com",
		"username": "editor", "application_password": "abcd efgh"}, &site)
	return site
}

type deployAccepted struct {
	Deployment store.Deployment `json:"deployment"`
	JobID      string           `json:"job_id"`
}

type deploymentView struct {
	store.Deployment
	Log []store.DeploymentLogEntry `json:"log"`
}

// act posts to a deployment route and waits for its job to end.
func (e *deployEnv) act(method, path string, body any) store.Job {
	e.t.Helper()
	var acc deployAccepted
	e.api.do(method, path, body, &acc)
	var j store.Job
	apptest.Eventually(e.t, 60*time.Second, "deployment job "+acc.JobID, func() (bool, error) {
		j = e.api.job(acc.JobID)
		return j.Final(), nil
	})
	return j
}

func (e *deployEnv) deployment(siteID int64) deploymentView {
	var v deploymentView
	e.api.do(http.MethodGet, fmt.Sprintf("/v1/sites/%d/deployment", siteID), nil, &v)
	return v
}

func (e *deployEnv) service(name string) (fakepanel.FakeService, bool) {
	for _, s := range e.panel.Services() {
		if s.Name == name {
			return s, true
		}
	}
	return fakepanel.FakeService{}, false
}

var wordpressImage = map[string]any{"source": map[string]string{"type": "image", "image": "wordpress:6"},
	"domain": "blog.example.com", "env": map[string]string{"WP_SECRET_SALT": "salt-value-do-not-leak"}}

// TestDeploymentLifecycle deploys a site through the fake panel and then
// changes its domain, stops, starts, redeploys and destroys it, checking
// the panel's services after each action and that no secret reaches the
// API's answers.
func TestDeploymentLifecycle(t *testing.T) {
	e := startDeploy(t, "acme")
	site := e.site("Garden Blog")
	if j := e.act(http.MethodPost, fmt.Sprintf("/v1/sites/%d/deployment", site.ID), wordpressImage); j.State != store.JobSucceeded || j.CreditsCharged != 0 {
		t.Fatalf("deploy job %s, charged %d (deploys are free by default): %s", j.State, j.CreditsCharged, apptest.Deref(j.LastError))
	}
	d := e.deployment(site.ID)
	if d.Status != "running" || d.Step != "running" || apptest.Deref(d.AppService) != "acme-garden-blog" || apptest.Deref(d.DBService) != "acme-garden-blog-db" {
		t.Fatalf("deployment after deploy: %+v", d.Deployment)
	}
	app, ok := e.service("acme-garden-blog")
	db, okDB := e.service("acme-garden-blog-db")
	if !ok || !okDB || app.Creates != 1 || db.Creates != 1 || !app.Enabled || app.Domain != "blog.example.com" {
		t.Fatalf("panel after deploy: app %+v, db %+v", app, db)
	}
	for _, want := range []string{"DATABASE_URL=mariadb://wordpress:" + db.Password + "@sites_acme-garden-blog-db:3306/wordpress",
		"WORDPRESS_DB_PASSWORD=" + db.Password, "WP_SECRET_SALT=salt-value-do-not-leak"} {
		if !strings.Contains(app.Env, want) {
			t.Errorf("app env lacks %q:\n%s", want, app.Env)
		}
	}
	if len(db.Password) < 20 || db.Password == db.RootPassword {
		t.Errorf("database passwords %q / %q: want long and distinct", db.Password, db.RootPassword)
	}

	e.act(http.MethodPatch, fmt.Sprintf("/v1/sites/%d/deployment", site.ID), map[string]string{"domain": "garden.example.org"})
	if app, _ := e.service("acme-garden-blog"); app.Domain != "garden.example.org" {
		t.Errorf("domain after the change: %q", app.Domain)
	}
	e.act(http.MethodPost, fmt.Sprintf("/v1/sites/%d/deployment/stop", site.ID), nil)
	if app, _ := e.service("acme-garden-blog"); app.Enabled || e.deployment(site.ID).Status != "stopped" {
		t.Errorf("after stop: app enabled %v, status %s", app.Enabled, e.deployment(site.ID).Status)
	}
	e.act(http.MethodPost, fmt.Sprintf("/v1/sites/%d/deployment/start", site.ID), nil)
	e.act(http.MethodPost, fmt.Sprintf("/v1/sites/%d/deployment/redeploy", site.ID), nil)
	if app, _ := e.service("acme-garden-blog"); !app.Enabled || e.deployment(site.ID).Status != "running" {
		t.Errorf("after start and redeploy: app enabled %v, status %s", app.Enabled, e.deployment(site.ID).Status)
	}
	e.act(http.MethodPost, fmt.Sprintf("/v1/sites/%d/deployment/destroy", site.ID), nil)
	if n := len(e.panel.Services()); n != 0 || e.deployment(site.ID).Status != "destroyed" {
		t.Errorf("after destroy: %d services on the panel, status %s", n, e.deployment(site.ID).Status)
	}
	// Deployed again: the names stored are reused, not chosen anew.
	e.act(http.MethodPost, fmt.Sprintf("/v1/sites/%d/deployment", site.ID), wordpressImage)
	if _, ok := e.service("acme-garden-blog"); !ok || e.deployment(site.ID).Status != "running" {
		t.Errorf("deployed again: services %+v", e.panel.Services())
	}

	view := e.deployment(site.ID)
	raw, _ := json.Marshal(view)
	db, _ = e.service("acme-garden-blog-db")
	for _, secret := range []string{fakepanel.Password, db.Password, db.RootPassword, "salt-value-do-not-leak"} {
		if strings.Contains(string(raw), secret) {
			t.Errorf("the deployment's answer shows a secret %q", secret)
		}
	}
	if len(view.Log) < 10 {
		t.Errorf("log has %d entries, want every step and action: %+v", len(view.Log), view.Log)
	}

	// A deployed site cannot be deleted: its services would run on with
	// nobody to destroy them. Once destroyed, it can.
	sitePath := fmt.Sprintf("/v1/sites/%d", site.ID)
	err := e.api.c.Do(t.Context(), http.MethodDelete, sitePath, nil, nil)
	if err == nil || !strings.Contains(err.Error(), "destroy its deployment first") {
		t.Errorf("deleting a deployed site: %v, want a 409 saying to destroy the deployment first", err)
	}
	e.act(http.MethodPost, fmt.Sprintf("/v1/sites/%d/deployment/destroy", site.ID), nil)
	e.api.do(http.MethodDelete, sitePath, nil, nil)
}

// TestDeploymentResumesAfterAFailureAtEveryStep makes each of the panel's
// procedures fail once, before or after it did its work, and checks the
// retried job continues and leaves exactly one database and one app.
func TestDeploymentResumesAfterAFailureAtEveryStep(t *testing.T) {
	e := startDeploy(t, "resume")
	procedures := []string{"projects.listProjectsAndServices", "services.mariadb.createService",
		"services.app.createService", "services.app.inspectService", "domains.updateDomain", "services.app.updateDeploy"}
	for i, proc := range procedures {
		for _, afterApply := range []bool{false, true} {
			site := e.site(fmt.Sprintf("Site %d %v", i, afterApply))
			if afterApply {
				e.panel.FailNextAfterApply(proc, http.StatusInternalServerError, "internal error")
			} else {
				e.panel.FailNext(proc, http.StatusBadGateway, "bad gateway")
			}
			j := e.act(http.MethodPost, fmt.Sprintf("/v1/sites/%d/deployment", site.ID), wordpressImage)
			d := e.deployment(site.ID)
			if j.State != store.JobSucceeded || j.Attempts < 2 || d.Status != "running" {
				t.Errorf("%s failing (after apply %v): job %s after %d attempts (%s), deployment %s",
					proc, afterApply, j.State, j.Attempts, apptest.Deref(j.LastError), d.Status)
				continue
			}
			for _, name := range []string{apptest.Deref(d.AppService), apptest.Deref(d.DBService)} {
				if s, ok := e.service(name); !ok || s.Creates != 1 {
					t.Errorf("%s failing (after apply %v): service %s created %d times", proc, afterApply, name, s.Creates)
				}
			}
		}
	}
	if n := len(e.panel.Services()); n != 2*2*len(procedures) {
		t.Errorf("%d services on the panel, want %d (one app and one database per site)", n, 4*len(procedures))
	}
}

// TestDeploymentNamesFailuresAndNewerPanels: a taken name gets -2; a
// refused domain fails the deployment with a short message for the user
// and the panel's reply for operators only, and a second deploy continues
// from the step that failed; a panel of the newer API is named as such.
func TestDeploymentNamesFailuresAndNewerPanels(t *testing.T) {
	e := startDeploy(t, "clash", apptest.WithEnv("DEPLOY_COST", "5"))
	e.panel.AddService("sites", "clash-news", "app")
	site := e.site("News")
	e.panel.FailNext("domains.updateDomain", http.StatusBadRequest, "Domain news.example.com is invalid for this panel")
	path := fmt.Sprintf("/v1/sites/%d/deployment", site.ID)
	j := e.act(http.MethodPost, path, wordpressImage)
	d := e.deployment(site.ID)
	// The panel's own reason follows the short message (#17 point 11).
	const short = "Deployment failed: the panel refused the domain: Domain news.example.com is invalid for this panel"
	if j.State != store.JobFailed || apptest.Deref(j.LastError) != short || d.Status != "failed" || d.Error != short {
		t.Fatalf("refused domain: job %s %q, deployment %s %q", j.State, apptest.Deref(j.LastError), d.Status, d.Error)
	}
	if apptest.Deref(d.AppService) != "clash-news-2" || apptest.Deref(d.DBService) != "clash-news-2-db" {
		t.Errorf("names with clash-news taken: %s, %s", apptest.Deref(d.AppService), apptest.Deref(d.DBService))
	}
	for _, entry := range d.Log {
		if entry.Detail != "" {
			t.Errorf("tenant's log shows the panel's reply: %+v", entry)
		}
	}
	var admin deploymentView
	apptest.Must(t, e.h.OperatorClient(t).Do(t.Context(), http.MethodGet, fmt.Sprintf("/v1/admin/deployments/%d", d.ID), nil, &admin), "admin view")
	if !strings.Contains(fmt.Sprint(admin.Log), "is invalid for this panel") {
		t.Errorf("operator's log lacks the panel's reply: %+v", admin.Log)
	}
	db, _ := e.service("clash-news-2-db")
	raw, _ := json.Marshal(admin)
	for _, secret := range []string{fakepanel.Password, db.Password, db.RootPassword, "salt-value-do-not-leak"} {
		if strings.Contains(string(raw), secret) {
			t.Errorf("the operator's view of the deployment shows a secret %q", secret)
		}
	}
	if j := e.act(http.MethodPost, path, wordpressImage); j.State != store.JobSucceeded {
		t.Fatalf("second deploy: %s %q", j.State, apptest.Deref(j.LastError))
	}
	if app, _ := e.service("clash-news-2"); app.Creates != 1 || e.deployment(site.ID).Status != "running" {
		t.Errorf("after the second deploy: app created %d times, status %s", app.Creates, e.deployment(site.ID).Status)
	}

	e.panel.UseNewerAPI(true)
	// A failed deploy refunds what it reserved.
	var before struct {
		Balance int64 `json:"balance"`
	}
	e.api.do(http.MethodGet, "/v1/credits", nil, &before)
	other := e.site("Other")
	j = e.act(http.MethodPost, fmt.Sprintf("/v1/sites/%d/deployment", other.ID), wordpressImage)
	if j.State != store.JobFailed || !strings.Contains(apptest.Deref(j.LastError), "newer Easypanel") {
		t.Errorf("newer panel: job %s %q, want failed naming the newer Easypanel", j.State, apptest.Deref(j.LastError))
	}
	var after struct {
		Balance int64 `json:"balance"`
	}
	e.api.do(http.MethodGet, "/v1/credits", nil, &after)
	if j.CreditsReserved != 5 || j.CreditsCharged != 0 || after.Balance != before.Balance {
		t.Errorf("failed deploy reserved %d, charged %d, balance %d -> %d; want 5 reserved and refunded",
			j.CreditsReserved, j.CreditsCharged, before.Balance, after.Balance)
	}
}
