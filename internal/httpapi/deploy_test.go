package httpapi_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/presswork/presswork/internal/app/apptest"
	"github.com/presswork/presswork/internal/secret"
	"github.com/presswork/presswork/internal/store"
	"github.com/presswork/presswork/internal/tasks"
)

// panelPassword is the password test panels are registered with; no
// answer may show it.
const panelPassword = "Pan3l-Secr3t pw"

// setPanel registers a panel for the key's tenant (a fake one: PUT
// /v1/easypanel logs in to the panel it names).
func setPanel(t testing.TB, h *apptest.Harness, key string) {
	t.Helper()
	callJSON(t, h, key, "PUT", "/v1/easypanel", map[string]string{"url": testPanelURL(t),
		"email": "ops@example.com", "password": panelPassword}).must(t, 200, nil)
}

// deployAnswer is the 202 answer of a deployment action.
type deployAnswer struct {
	Deployment store.Deployment `json:"deployment"`
	JobID      string           `json:"job_id"`
}

// deploySample deploys a site with the sample request and returns its
// deployment (pending; no worker runs it).
func deploySample(t testing.TB, h *apptest.Harness, key string, siteID int64) store.Deployment {
	t.Helper()
	ct, body := sampleRequest(t, "POST", "/v1/sites/:id/deployment")
	var a deployAnswer
	call(t, h, key, "POST", fmt.Sprintf("/v1/sites/%d/deployment", siteID), ct, body).must(t, 202, &a)
	if a.Deployment.ID == 0 || a.JobID == "" {
		t.Fatalf("deploy answer %+v lacks the deployment or the job", a)
	}
	return a.Deployment
}

// settleDeployJobs cancels the tenant's queued deploy jobs and records
// their deployments as running, as if the jobs had run, so that the next
// action on a deployment may be queued.
func settleDeployJobs(t testing.TB, h *apptest.Harness, tenantID int64) {
	t.Helper()
	jobs, err := h.App.Store.ListJobs(t.Context(), tenantID, store.JobFilter{State: "queued", Type: tasks.TypeDeploy}, "", 100)
	apptest.Must(t, err, "list deploy jobs")
	for _, j := range jobs {
		_, err := h.App.Store.CancelJob(t.Context(), tenantID, j.ID)
		apptest.Must(t, err, "cancel deploy job")
		apptest.Must(t, h.App.Store.SetDeploymentState(t.Context(), tenantID, j.SubjectID, "running", "running", ""),
			"record the deployment running")
	}
}

// deploymentView is GET /v1/sites/:id/deployment.
type deploymentView struct {
	store.Deployment
	Log []store.DeploymentLogEntry `json:"log"`
}

func getDeployment(t testing.TB, h *apptest.Harness, key string, siteID int64) deploymentView {
	t.Helper()
	var v deploymentView
	a := call(t, h, key, "GET", fmt.Sprintf("/v1/sites/%d/deployment", siteID), "", nil).must(t, 200, &v)
	var raw map[string]any
	_ = json.Unmarshal(a.Body, &raw)
	if _, ok := raw["log"].([]any); !ok {
		t.Fatalf("deployment has no log array: %s", a.Body)
	}
	return v
}

// noLeak fails when an answer shows a secret.
func noLeak(t testing.TB, what string, a answer, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		if bytes.Contains(a.Body, []byte(s)) {
			t.Errorf("%s shows a secret %q: %s", what, s, clipBody(a.Body))
		}
	}
}

func TestEasypanelSettings(t *testing.T) {
	t.Parallel()
	h := apptest.Start(t)
	f := newFixtureLite(t, h, "panel")
	// PUT /v1/easypanel logs in to the panel it names: two fake panels.
	panelURL := testPanelURL(t)
	otherURL := fakePanelURL(t, "me@example.com", "second "+panelPassword, "blogs")

	type settings struct {
		Configured    bool    `json:"configured"`
		URL           *string `json:"url"`
		Email         *string `json:"email"`
		Project       *string `json:"project"`
		UpdatedAt     *string `json:"updated_at"`
		OperatorPanel bool    `json:"operator_panel"`
	}
	var s settings
	call(t, h, f.Key, "GET", "/v1/easypanel", "", nil).must(t, 200, &s)
	if s.Configured || s.URL != nil || s.Email != nil || s.Project != nil || s.UpdatedAt != nil || s.OperatorPanel {
		t.Errorf("settings before any panel %+v, want nothing configured", s)
	}

	put := callJSON(t, h, f.Key, "PUT", "/v1/easypanel", map[string]string{"url": panelURL + "/",
		"email": "ops@example.com", "password": panelPassword}).must(t, 200, &s)
	noLeak(t, "PUT /v1/easypanel", put, panelPassword)
	if bytes.Contains(put.Body, []byte("password")) {
		t.Errorf("PUT /v1/easypanel answer has a password field: %s", put.Body)
	}
	if !s.Configured || s.URL == nil || *s.URL != panelURL || *s.Email != "ops@example.com" ||
		*s.Project != "sites" || s.UpdatedAt == nil {
		t.Errorf("settings after PUT %+v, want the panel (url trimmed of its slash, project sites)", s)
	}
	get := call(t, h, f.Key, "GET", "/v1/easypanel", "", nil).must(t, 200, &s)
	noLeak(t, "GET /v1/easypanel", get, panelPassword)
	if !s.Configured || *s.URL != panelURL {
		t.Errorf("GET after PUT %+v", s)
	}

	// The password is stored sealed for the tenant.
	creds, err := h.App.Store.GetPanelCredentials(t.Context(), f.TenantID)
	apptest.Must(t, err, "panel credentials")
	if bytes.Contains(creds.PasswordEnc, []byte(panelPassword)) {
		t.Fatal("the stored panel password holds the plaintext")
	}
	plain, err := h.App.Box.Open(creds.PasswordEnc, secret.PanelPasswordAD(f.TenantID))
	apptest.Must(t, err, "open the panel password")
	if string(plain) != panelPassword {
		t.Errorf("stored password opens to %q", plain)
	}

	// Replaced with another project and password.
	put = callJSON(t, h, f.Key, "PUT", "/v1/easypanel", map[string]string{"url": otherURL,
		"email": "me@example.com", "password": "second " + panelPassword, "project": "blogs"}).must(t, 200, &s)
	noLeak(t, "second PUT", put, panelPassword)
	if *s.URL != otherURL || *s.Email != "me@example.com" || *s.Project != "blogs" {
		t.Errorf("settings after the second PUT %+v", s)
	}

	call(t, h, f.Key, "DELETE", "/v1/easypanel", "", nil).must(t, 204, nil)
	call(t, h, f.Key, "GET", "/v1/easypanel", "", nil).must(t, 200, &s)
	if s.Configured || s.URL != nil {
		t.Errorf("settings after DELETE %+v, want none", s)
	}
	call(t, h, f.Key, "DELETE", "/v1/easypanel", "", nil).must(t, 204, nil)
	if _, err := h.App.Store.GetPanelCredentials(t.Context(), f.TenantID); err == nil {
		t.Error("the panel is still stored after DELETE")
	}
}

func TestDeployWithoutPanel(t *testing.T) {
	t.Parallel()
	h := apptest.Start(t)
	f := newFixtureLite(t, h, "nopanel")
	siteID := createSite(t, h, f.Key, "No panel blog", "pw")
	path := fmt.Sprintf("/v1/sites/%d/deployment", siteID)
	for _, panel := range []string{"", "tenant", "operator"} {
		body := map[string]any{"source": map[string]string{"type": "image", "image": "wordpress:6"}, "domain": "blog.example.com"}
		if panel != "" {
			body["panel"] = panel
		}
		p := callJSON(t, h, f.Key, "POST", path, body).problem(t, 409)
		if !strings.Contains(p.Detail, "PUT /v1/easypanel") {
			t.Errorf("panel %q: 409 detail %q does not name PUT /v1/easypanel", panel, p.Detail)
		}
	}
	call(t, h, f.Key, "GET", path, "", nil).problem(t, 404)
	jobs, err := h.App.Store.ListJobs(t.Context(), f.TenantID, store.JobFilter{}, "", 10)
	apptest.Must(t, err, "list jobs")
	if len(jobs) != 0 {
		t.Errorf("%d jobs after refused deploys, want 0", len(jobs))
	}
}

func TestDeploy(t *testing.T) {
	t.Parallel()
	h := apptest.Start(t)
	f := newFixtureLite(t, h, "deploy")
	op := h.OperatorClient(t)
	siteID := createSite(t, h, f.Key, "Deploy blog", "pw")
	setPanel(t, h, f.Key)
	path := fmt.Sprintf("/v1/sites/%d/deployment", siteID)
	const envSecret = "env-s3cret-value"

	var acc deployAnswer
	a := callJSON(t, h, f.Key, "POST", path, map[string]any{
		"source": map[string]string{"type": "git", "repo": "https://github.com/example/blog.git"},
		"domain": "  Blog.Example.COM ", "https": false, "env": map[string]string{"WP_DEBUG": envSecret},
	}).must(t, 202, &acc)
	noLeak(t, "POST deployment", a, envSecret, panelPassword)
	if loc := a.Header.Get("Location"); loc != path {
		t.Errorf("Location %q, want %q", loc, path)
	}
	d := acc.Deployment
	wantSource := store.DeploySource{Type: "git", Repo: "https://github.com/example/blog.git", Ref: "main", Path: "/", Dockerfile: "Dockerfile"}
	if d.ID == 0 || d.SiteID != siteID || d.Status != "pending" || d.Step != "none" || d.Panel != "tenant" ||
		d.Project != "sites" || d.Domain != "blog.example.com" || d.HTTPS || d.Source != wantSource || d.AppService != nil {
		t.Errorf("accepted deployment %+v", d)
	}

	// The job is queued, for the deployment; no worker runs it.
	var job store.Job
	call(t, h, f.Key, "GET", "/v1/jobs/"+acc.JobID, "", nil).must(t, 200, &job)
	var params tasks.DeployParams
	_ = json.Unmarshal(job.Params, &params)
	if job.Type != tasks.TypeDeploy || job.State != "queued" || job.SubjectID != d.ID || job.SiteID != siteID ||
		params.Action != tasks.ActionDeploy {
		t.Errorf("deploy job %+v (params %s), want a queued site:deploy of deployment %d", job, job.Params, d.ID)
	}
	v := getDeployment(t, h, f.Key, siteID)
	if v.ID != d.ID || v.Status != "pending" || v.Domain != "blog.example.com" || len(v.Log) != 0 {
		t.Errorf("GET deployment %+v", v)
	}

	// The environment is stored sealed.
	stored, err := h.App.Store.SiteDeployment(t.Context(), f.TenantID, siteID)
	apptest.Must(t, err, "site deployment")
	if len(stored.EnvEnc) == 0 || bytes.Contains(stored.EnvEnc, []byte(envSecret)) {
		t.Fatalf("stored environment %q is not sealed", stored.EnvEnc)
	}
	plain, err := h.App.Box.Open(stored.EnvEnc, secret.DeploymentSecretAD(f.TenantID, siteID, "env"))
	apptest.Must(t, err, "open the environment")
	if string(plain) != `{"WP_DEBUG":"`+envSecret+`"}` {
		t.Errorf("stored environment opens to %s", plain)
	}

	// Deployed already: a second deploy is a conflict, and so is another
	// action while the deploy is queued.
	ct, body := sampleRequest(t, "POST", "/v1/sites/:id/deployment")
	if p := call(t, h, f.Key, "POST", path, ct, body).problem(t, 409); !strings.Contains(p.Detail, "queued or running") {
		t.Errorf("a second deploy while the first is queued: 409 detail %q", p.Detail)
	}
	for _, action := range []string{"redeploy", "stop", "start", "destroy"} {
		p := call(t, h, f.Key, "POST", path+"/"+action, "", nil).problem(t, 409)
		want := "deploy it first" // the app is not on the panel yet
		if action == "destroy" {
			want = "queued or running"
		}
		if !strings.Contains(p.Detail, want) {
			t.Errorf("%s while the deploy is queued: 409 detail %q, want it to say %q", action, p.Detail, want)
		}
	}
	if v := getDeployment(t, h, f.Key, siteID); v.Status != "pending" || v.Domain != "blog.example.com" {
		t.Errorf("deployment after refused actions %+v", v.Deployment)
	}

	// With the deploy done (here: canceled), actions queue one job each.
	settleDeployJobs(t, h, f.TenantID)
	a = call(t, h, f.Key, "POST", path+"/redeploy", "", nil).must(t, 202, &acc)
	call(t, h, f.Key, "GET", "/v1/jobs/"+acc.JobID, "", nil).must(t, 200, &job)
	_ = json.Unmarshal(job.Params, &params)
	if params.Action != tasks.ActionRedeploy || job.SubjectID != d.ID || a.Header.Get("Location") != path {
		t.Errorf("redeploy job %+v params %s", job, job.Params)
	}
	settleDeployJobs(t, h, f.TenantID)
	callJSON(t, h, f.Key, "PATCH", path, map[string]string{"domain": "WWW.example.org"}).must(t, 202, &acc)
	if acc.Deployment.Domain != "www.example.org" {
		t.Errorf("domain change answer %+v", acc.Deployment)
	}
	if v := getDeployment(t, h, f.Key, siteID); v.Domain != "www.example.org" {
		t.Errorf("domain after the change %q", v.Domain)
	}
	settleDeployJobs(t, h, f.TenantID)
	callJSON(t, h, f.Key, "POST", path+"/stop", map[string]any{}).must(t, 202, nil)
	settleDeployJobs(t, h, f.TenantID)
	call(t, h, f.Key, "POST", path+"/destroy", "", nil).must(t, 202, nil)
	settleDeployJobs(t, h, f.TenantID)

	// Destroyed (as the worker records it): actions are conflicts; a new
	// deploy is accepted.
	apptest.Must(t, h.App.Store.SetDeploymentState(t.Context(), f.TenantID, d.ID, "none", "destroyed", ""), "destroy")
	for _, action := range []string{"redeploy", "stop", "start", "destroy"} {
		p := call(t, h, f.Key, "POST", path+"/"+action, "", nil).problem(t, 409)
		if !strings.Contains(p.Detail, "destroyed") {
			t.Errorf("%s of a destroyed deployment: 409 detail %q", action, p.Detail)
		}
	}
	callJSON(t, h, f.Key, "PATCH", path, map[string]string{"domain": "new.example.org"}).problem(t, 409)
	call(t, h, f.Key, "POST", path, ct, body).must(t, 202, &acc)
	if acc.Deployment.ID != d.ID || acc.Deployment.Status != "pending" || acc.Deployment.Domain != "sample.example.com" {
		t.Errorf("deploy again after destroy %+v", acc.Deployment)
	}

	// The log: tenants see no detail, operators do.
	apptest.Must(t, h.App.Store.AppendDeploymentLog(t.Context(), store.DeploymentLogEntry{DeploymentID: d.ID,
		TenantID: f.TenantID, JobID: acc.JobID, Action: "deploy", Step: "names_chosen", Message: "names chosen",
		Detail: "panel said ok"}), "append log")
	v = getDeployment(t, h, f.Key, siteID)
	if len(v.Log) != 1 || v.Log[0].Message != "names chosen" || v.Log[0].Detail != "" || v.Log[0].JobID != acc.JobID {
		t.Errorf("tenant's log %+v, want one entry without detail", v.Log)
	}
	var admin struct {
		deploymentView
		TenantID int64 `json:"tenant_id"`
	}
	adminAnswer := call(t, h, op.Key, "GET", fmt.Sprintf("/v1/admin/deployments/%d", d.ID), "", nil).must(t, 200, &admin)
	noLeak(t, "GET /v1/admin/deployments/:id", adminAnswer, envSecret, panelPassword)
	if admin.TenantID != f.TenantID || admin.ID != d.ID || len(admin.Log) != 1 || admin.Log[0].Detail != "panel said ok" {
		t.Errorf("operator's view %+v", admin)
	}
	call(t, h, op.Key, "GET", "/v1/admin/deployments/"+missingID, "", nil).problem(t, 404)
	call(t, h, f.Key, "GET", fmt.Sprintf("/v1/admin/deployments/%d", d.ID), "", nil).problem(t, 403)
}

func TestDeploymentNotFound(t *testing.T) {
	t.Parallel()
	h := apptest.Start(t)
	f := newFixtureLite(t, h, "nodeploy")
	setPanel(t, h, f.Key)
	siteID := createSite(t, h, f.Key, "Undeployed blog", "pw")
	path := fmt.Sprintf("/v1/sites/%d/deployment", siteID)
	want := fmt.Sprintf("POST /v1/sites/%d/deployment first", siteID)
	check := func(method, p string, body any) {
		t.Helper()
		pr := callJSON(t, h, f.Key, method, p, body).problem(t, 404)
		if !strings.Contains(pr.Detail, want) {
			t.Errorf("%s %s: 404 detail %q, want it to say %q", method, p, pr.Detail, want)
		}
	}
	check("GET", path, nil)
	check("PATCH", path, map[string]string{"domain": "blog.example.com"})
	for _, action := range []string{"redeploy", "stop", "start", "destroy"} {
		check("POST", path+"/"+action, nil)
	}
	// A site that does not exist.
	missing := "/v1/sites/" + missingID + "/deployment"
	ct, body := sampleRequest(t, "POST", "/v1/sites/:id/deployment")
	call(t, h, f.Key, "POST", missing, ct, body).problem(t, 404)
	call(t, h, f.Key, "GET", missing, "", nil).problem(t, 404)
	call(t, h, f.Key, "POST", missing+"/stop", "", nil).problem(t, 404)
	jobs, err := h.App.Store.ListJobs(t.Context(), f.TenantID, store.JobFilter{}, "", 10)
	apptest.Must(t, err, "list jobs")
	if len(jobs) != 0 {
		t.Errorf("%d jobs after 404s, want 0", len(jobs))
	}
}

func TestDeploymentRoles(t *testing.T) {
	t.Parallel()
	h := apptest.Start(t)
	owner := newFixtureLite(t, h, "deployroles")
	keys := map[string]string{"owner": owner.Key}
	for _, role := range []string{"admin", "editor", "viewer", "bot"} {
		var k struct {
			Key string `json:"key"`
		}
		callJSON(t, h, owner.Key, "POST", "/v1/api-keys", map[string]string{"name": role + " key", "role": role}).must(t, 201, &k)
		keys[role] = k.Key
	}
	siteID := createSite(t, h, owner.Key, "Roles deploy blog", "pw")
	path := fmt.Sprintf("/v1/sites/%d/deployment", siteID)
	ct, body := sampleRequest(t, "POST", "/v1/sites/:id/deployment")
	panelCT, panelBody := sampleRequest(t, "PUT", "/v1/easypanel")

	// Editors, bots and viewers may not touch the panel or deploy.
	for _, role := range []string{"editor", "bot", "viewer"} {
		k := keys[role]
		call(t, h, k, "PUT", "/v1/easypanel", panelCT, panelBody).problem(t, 403)
		call(t, h, k, "GET", "/v1/easypanel", "", nil).problem(t, 403)
		call(t, h, k, "DELETE", "/v1/easypanel", "", nil).problem(t, 403)
	}
	// The admin registers the panel and deploys.
	call(t, h, keys["admin"], "PUT", "/v1/easypanel", panelCT, panelBody).must(t, 200, nil)
	for _, role := range []string{"editor", "bot", "viewer"} {
		call(t, h, keys[role], "POST", path, ct, body).problem(t, 403)
	}
	call(t, h, owner.Key, "GET", path, "", nil).problem(t, 404) // the denied requests wrote nothing
	call(t, h, keys["admin"], "POST", path, ct, body).must(t, 202, nil)
	settleDeployJobs(t, h, owner.TenantID)

	// Everyone reads it; only the owner and admin act on it.
	for role, k := range keys {
		if v := getDeployment(t, h, k, siteID); v.Status != "running" {
			t.Errorf("%s reads deployment %+v", role, v.Deployment)
		}
	}
	for _, role := range []string{"editor", "bot", "viewer"} {
		k := keys[role]
		callJSON(t, h, k, "PATCH", path, map[string]string{"domain": "x.example.com"}).problem(t, 403)
		for _, action := range []string{"redeploy", "stop", "start", "destroy"} {
			call(t, h, k, "POST", path+"/"+action, "", nil).problem(t, 403)
		}
	}
	jobs, err := h.App.Store.ListJobs(t.Context(), owner.TenantID, store.JobFilter{State: "queued"}, "", 10)
	apptest.Must(t, err, "list jobs")
	if len(jobs) != 0 {
		t.Errorf("%d queued jobs after denied actions, want 0", len(jobs))
	}
	call(t, h, owner.Key, "POST", path+"/stop", "", nil).must(t, 202, nil)
	settleDeployJobs(t, h, owner.TenantID)
	call(t, h, keys["admin"], "POST", path+"/start", "", nil).must(t, 202, nil)
	settleDeployJobs(t, h, owner.TenantID)
	callJSON(t, h, owner.Key, "PATCH", path, map[string]string{"domain": "owner.example.com"}).must(t, 202, nil)
	if v := getDeployment(t, h, owner.Key, siteID); v.Domain != "owner.example.com" {
		t.Errorf("domain %q after the owner's change", v.Domain)
	}
}

func TestDeployOperatorPanel(t *testing.T) {
	t.Parallel()
	h := apptest.Start(t, apptest.WithEnv("EASYPANEL_URL", "https://panel.operator.example"),
		apptest.WithEnv("EASYPANEL_EMAIL", "ops@operator.example"), apptest.WithEnv("EASYPANEL_PASSWORD", "operator-pw"),
		apptest.WithEnv("EASYPANEL_PROJECT", "hosted"))
	f := newFixtureLite(t, h, "opspanel")
	var s struct {
		Configured    bool `json:"configured"`
		OperatorPanel bool `json:"operator_panel"`
	}
	a := call(t, h, f.Key, "GET", "/v1/easypanel", "", nil).must(t, 200, &s)
	noLeak(t, "GET /v1/easypanel", a, "operator-pw", "ops@operator.example")
	if s.Configured || !s.OperatorPanel {
		t.Errorf("settings %+v, want the operator's panel only", s)
	}
	siteID := createSite(t, h, f.Key, "Hosted blog", "pw")
	path := fmt.Sprintf("/v1/sites/%d/deployment", siteID)
	body := map[string]any{"panel": "tenant", "source": map[string]string{"type": "image", "image": "wordpress:6"},
		"domain": "hosted.example.com"}
	if p := callJSON(t, h, f.Key, "POST", path, body).problem(t, 409); !strings.Contains(p.Detail, "PUT /v1/easypanel") {
		t.Errorf("asking for a tenant panel without one: 409 detail %q", p.Detail)
	}
	delete(body, "panel")
	var acc deployAnswer
	a = callJSON(t, h, f.Key, "POST", path, body).must(t, 202, &acc)
	noLeak(t, "POST deployment", a, "operator-pw")
	if acc.Deployment.Panel != "operator" || acc.Deployment.Project != "hosted" {
		t.Errorf("deployment %+v, want the operator's panel and project", acc.Deployment)
	}
}

// TestDeployAnotherTenantsSiteWithoutPanel: a deploy naming another
// tenant's site is a 404 even when the caller has no panel.
func TestDeployAnotherTenantsSiteWithoutPanel(t *testing.T) {
	t.Parallel()
	h := apptest.Start(t)
	a := newFixtureLite(t, h, "owner-a")
	b := newFixtureLite(t, h, "nopanel-b")
	siteID := createSite(t, h, a.Key, "A's blog", "pw")
	ct, body := sampleRequest(t, "POST", "/v1/sites/:id/deployment")
	for _, id := range []string{fmt.Sprint(siteID), missingID} {
		if ans := call(t, h, b.Key, "POST", "/v1/sites/"+id+"/deployment", ct, body); ans.Status != http.StatusNotFound {
			t.Errorf("a tenant without a panel got %d, not 404, for site %s", ans.Status, id)
		}
	}
}

// TestDeploymentRefusalsWriteNothing: a refused deployment request leaves
// the deployment as it was.
func TestDeploymentRefusalsWriteNothing(t *testing.T) {
	t.Parallel()
	t.Run("domain change while an action is queued", func(t *testing.T) {
		t.Parallel()
		h := apptest.Start(t)
		f := newFixtureLite(t, h, "busydomain")
		setPanel(t, h, f.Key)
		siteID := createSite(t, h, f.Key, "Busy blog", "pw")
		d := deploySample(t, h, f.Key, siteID) // its deploy job stays queued
		path := fmt.Sprintf("/v1/sites/%d/deployment", siteID)
		p := callJSON(t, h, f.Key, "PATCH", path, map[string]string{"domain": "moved.example.com"}).problem(t, 409)
		if !strings.Contains(p.Detail, "queued or running") {
			t.Errorf("409 detail %q", p.Detail)
		}
		if v := getDeployment(t, h, f.Key, siteID); v.Domain != d.Domain {
			t.Errorf("after the refused change the domain is %q, not %q", v.Domain, d.Domain)
		}
	})
	t.Run("deploy the tenant cannot afford", func(t *testing.T) {
		t.Parallel()
		h := apptest.Start(t, apptest.WithEnv("DEPLOY_COST", "1000"))
		f := newFixtureLite(t, h, "poordeploy") // 100 credits
		setPanel(t, h, f.Key)
		siteID := createSite(t, h, f.Key, "Poor blog", "pw")
		ct, body := sampleRequest(t, "POST", "/v1/sites/:id/deployment")
		path := fmt.Sprintf("/v1/sites/%d/deployment", siteID)
		call(t, h, f.Key, "POST", path, ct, body).problem(t, 402)
		if a := call(t, h, f.Key, "GET", path, "", nil); a.Status != http.StatusNotFound {
			t.Errorf("a deploy refused with 402 left a deployment (GET: %d %s)", a.Status, clipBody(a.Body))
		}
	})
}
