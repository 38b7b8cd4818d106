package e2e_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/presswork/presswork/internal/app/apptest"
	"github.com/presswork/presswork/internal/easypanel/fakepanel"
	"github.com/presswork/presswork/internal/store"
)

// The deploy faults of issue #17 (points 9 to 14), each against the fake
// panel with the fault injected.

func (e *deployEnv) deployPath(site store.Site) string {
	return fmt.Sprintf("/v1/sites/%d/deployment", site.ID)
}

// putPanel registers the fake panel with project for the tenant.
func (e *deployEnv) putPanel(project string) {
	e.t.Helper()
	e.api.do(http.MethodPut, "/v1/easypanel", map[string]string{"url": e.panel.URL, "email": fakepanel.Email,
		"password": fakepanel.Password, "project": project}, nil)
}

// TestDeploymentTakesTheCorrectedProject (#17.9, #17.11): a deploy into a
// project the panel lacks fails saying so; once PUT /v1/easypanel names
// the right project, deploying again uses it, since nothing was created.
func TestDeploymentTakesTheCorrectedProject(t *testing.T) {
	e := startDeploy(t, "reproj")
	e.panel.AddProject("blogs")
	e.panel.RemoveProject(fakepanel.DefaultProject) // the project the settings name is gone
	site := e.site("Moved")
	j := e.act(http.MethodPost, e.deployPath(site), wordpressImage)
	d := e.deployment(site.ID)
	const missing = `Deployment failed: the panel has no project "sites"`
	if j.State != store.JobFailed || d.Status != "failed" || !strings.HasPrefix(d.Error, missing) {
		t.Fatalf("deploy into a missing project: job %s %q, deployment %s %q; want failed with %q",
			j.State, apptest.Deref(j.LastError), d.Status, d.Error, missing)
	}
	if n := len(e.panel.Services()); n != 0 {
		t.Fatalf("%d services created in a missing project", n)
	}
	// The missing project is found by looking, not by asking the panel to create in it.
	if n := e.panel.Calls("services.mariadb.createService") + e.panel.Calls("services.app.createService"); n != 0 {
		t.Errorf("the panel was asked %d times to create a service in a missing project", n)
	}

	e.putPanel("blogs")
	if j := e.act(http.MethodPost, e.deployPath(site), wordpressImage); j.State != store.JobSucceeded {
		t.Fatalf("deploy after the project was corrected: %s %q", j.State, apptest.Deref(j.LastError))
	}
	d = e.deployment(site.ID)
	app, ok := e.service(apptest.Deref(d.AppService))
	if d.Project != "blogs" || d.Status != "running" || !ok || app.ProjectName != "blogs" {
		t.Errorf("after the correction: deployment project %s status %s, app %+v; want all in blogs", d.Project, d.Status, app)
	}
}

// TestDeploymentRetargetsNamesChosenInTheOldProject (#17.9): names chosen
// in the old project, with nothing created there, are chosen again in the
// corrected one.
func TestDeploymentRetargetsNamesChosenInTheOldProject(t *testing.T) {
	e := startDeploy(t, "renames")
	e.panel.AddProject("blogs")
	site := e.site("Shop")
	// The database is refused (its project is gone by then): names chosen, nothing created.
	e.panel.FailNext("services.mariadb.createService", http.StatusInternalServerError, "Project sites not found")
	j := e.act(http.MethodPost, e.deployPath(site), wordpressImage)
	if d := e.deployment(site.ID); j.State != store.JobFailed || d.Step != "names_chosen" || d.AppService == nil {
		t.Fatalf("first deploy: job %s %q, deployment step %s names %v", j.State, apptest.Deref(j.LastError), d.Step, d.AppService)
	}
	e.putPanel("blogs")
	if j := e.act(http.MethodPost, e.deployPath(site), wordpressImage); j.State != store.JobSucceeded {
		t.Fatalf("deploy after the correction: %s %q", j.State, apptest.Deref(j.LastError))
	}
	for _, s := range e.panel.Services() {
		if s.ProjectName != "blogs" {
			t.Errorf("service %s created in project %s, want blogs", s.Name, s.ProjectName)
		}
	}
	if d := e.deployment(site.ID); d.Project != "blogs" || d.Status != "running" {
		t.Errorf("deployment project %s status %s", d.Project, d.Status)
	}
}

// TestDeployAfterAFailedRedeployDeploys (#17.10): a redeploy the panel
// refuses leaves the deployment failed; deploying it again asks the panel
// for a deploy and ends running (it used to report success at once and
// stay deploying).
func TestDeployAfterAFailedRedeployDeploys(t *testing.T) {
	e := startDeploy(t, "redo")
	site := e.site("Again")
	if j := e.act(http.MethodPost, e.deployPath(site), wordpressImage); j.State != store.JobSucceeded {
		t.Fatalf("deploy: %s %q", j.State, apptest.Deref(j.LastError))
	}
	app := apptest.Deref(e.deployment(site.ID).AppService)
	e.panel.FailNext("services.app.updateDeploy", http.StatusBadRequest, "Deploy refused: the build queue is full")
	if j := e.act(http.MethodPost, e.deployPath(site)+"/redeploy", nil); j.State != store.JobFailed {
		t.Fatalf("refused redeploy: %s", j.State)
	}
	if d := e.deployment(site.ID); d.Status != "failed" {
		t.Fatalf("after the refused redeploy: status %s", d.Status)
	}
	calls, deploys := e.panel.Calls("services.app.updateDeploy"), e.panel.DeployActions(fakepanel.DefaultProject, app)
	j := e.act(http.MethodPost, e.deployPath(site), wordpressImage)
	d := e.deployment(site.ID)
	if j.State != store.JobSucceeded || d.Status != "running" || d.Step != "running" {
		t.Errorf("deploy after a failed redeploy: job %s %q, deployment %s at %s; want running", j.State, apptest.Deref(j.LastError), d.Status, d.Step)
	}
	if got := e.panel.Calls("services.app.updateDeploy"); got != calls+1 {
		t.Errorf("updateDeploy called %d times by the deploy, want 1", got-calls)
	}
	if got := e.panel.DeployActions(fakepanel.DefaultProject, app); got != deploys+1 {
		t.Errorf("the panel ran %d deploys for the deploy, want 1", got-deploys)
	}
}

// TestDeployFailuresSayWhatFailed (#17.11): a refused login is named as
// such (not as a listing that failed), and the panel's own reason reaches
// the tenant, scrubbed of secrets.
func TestDeployFailuresSayWhatFailed(t *testing.T) {
	e := startDeploy(t, "says")
	site := e.site("Login")
	e.panel.FailNext("auth.login", http.StatusUnauthorized, "Invalid credentials")
	j := e.act(http.MethodPost, e.deployPath(site), wordpressImage)
	d := e.deployment(site.ID)
	const login = "Deployment failed: the panel refused Presswork's login; correct the email or password with PUT /v1/easypanel"
	if j.State != store.JobFailed || j.Attempts != 1 || d.Error != login || apptest.Deref(j.LastError) != login {
		t.Errorf("refused login: job %s after %d attempts %q, deployment %q; want failed at once with %q",
			j.State, j.Attempts, apptest.Deref(j.LastError), d.Error, login)
	}

	other := e.site("Reason")
	e.panel.FailNext("domains.updateDomain", http.StatusBadRequest,
		"Domain blog.example.com is not allowed (as "+fakepanel.Email+":"+fakepanel.Password+")")
	j = e.act(http.MethodPost, e.deployPath(other), wordpressImage)
	d = e.deployment(other.ID)
	const reason = "Deployment failed: the panel refused the domain: Domain blog.example.com is not allowed"
	if j.State != store.JobFailed || !strings.HasPrefix(d.Error, reason) || !strings.HasPrefix(apptest.Deref(j.LastError), reason) {
		t.Errorf("refused domain: deployment %q, job %q; want it to start %q", d.Error, apptest.Deref(j.LastError), reason)
	}
	if strings.Contains(d.Error+apptest.Deref(j.LastError), fakepanel.Password) {
		t.Errorf("the panel's reason shows the panel password: %q", d.Error)
	}
}

// TestShortEnvValuesAreNotMasked: an environment value shorter than
// secret.Scrub's floor (WP_DEBUG=1) is not masked out of the panel's
// reason, where it would blank ordinary words ("blog1.example.com").
func TestShortEnvValuesAreNotMasked(t *testing.T) {
	e := startDeploy(t, "short")
	site := e.site("Debug")
	body := map[string]any{"source": map[string]string{"type": "image", "image": "wordpress:6"},
		"domain": "blog1.example.com", "env": map[string]string{"WP_DEBUG": "1", "WP_SECRET_SALT": "salt-value-do-not-leak"}}
	e.panel.FailNext("domains.updateDomain", http.StatusBadRequest,
		"Domain blog1.example.com is not allowed (salt salt-value-do-not-leak)")
	j := e.act(http.MethodPost, e.deployPath(site), body)
	d := e.deployment(site.ID)
	const reason = "Deployment failed: the panel refused the domain: Domain blog1.example.com is not allowed"
	if j.State != store.JobFailed || !strings.HasPrefix(d.Error, reason) || !strings.HasPrefix(apptest.Deref(j.LastError), reason) {
		t.Errorf("refused domain: deployment %q, job %q; want it to start %q", d.Error, apptest.Deref(j.LastError), reason)
	}
	if strings.Contains(d.Error+apptest.Deref(j.LastError), "salt-value-do-not-leak") {
		t.Errorf("the panel's reason shows an environment value: %q", d.Error)
	}
}

// TestAppThatNeverRunsFailsAfterOneWait (#17.12, #17.14): a deploy that
// never ends (while the panel shows the app enabled) fails once
// DEPLOY_WAIT has passed, in the first attempt: the wait is one step with
// one deadline, and enabled alone is not running.
func TestAppThatNeverRunsFailsAfterOneWait(t *testing.T) {
	e := startDeploy(t, "never", apptest.WithEnv("DEPLOY_WAIT", "1s"))
	e.panel.NeverFinishDeploys()
	for _, enabled := range []bool{false, true} {
		e.panel.SetEnabledWhileDeploying(enabled)
		site := e.site(fmt.Sprintf("Stuck %v", enabled))
		calls := e.panel.Calls("services.app.updateDeploy")
		j := e.act(http.MethodPost, e.deployPath(site), wordpressImage)
		d := e.deployment(site.ID)
		const never = "Deployment failed: the app did not start running within 1s"
		if j.State != store.JobFailed || j.Attempts != 1 || d.Status != "failed" || !strings.HasPrefix(d.Error, never) {
			t.Errorf("never running (enabled %v): job %s after %d attempts %q, deployment %s %q; want failed after one attempt with %q",
				enabled, j.State, j.Attempts, apptest.Deref(j.LastError), d.Status, d.Error, never)
		}
		if n := e.panel.Calls("services.app.updateDeploy") - calls; n != 1 {
			t.Errorf("enabled %v: updateDeploy called %d times, want 1", enabled, n)
		}
	}
}

// TestOneFailedLookIsNotAFailedApp (#17.12): a 500 on inspect or on the
// deploy's state while waiting is looked past, in the same attempt.
func TestOneFailedLookIsNotAFailedApp(t *testing.T) {
	e := startDeploy(t, "blip")
	e.panel.SetDeployDelay(3)
	// The first inspection is the domain step's; the second is the wait's.
	e.panel.FailCall("services.app.inspectService", 2, http.StatusInternalServerError, "internal error")
	// The first listing is the trigger's; the second is the wait's.
	e.panel.FailCall("actions.listActions", 2, http.StatusInternalServerError, "internal error")
	site := e.site("Blip")
	j := e.act(http.MethodPost, e.deployPath(site), wordpressImage)
	if d := e.deployment(site.ID); j.State != store.JobSucceeded || j.Attempts != 1 || d.Status != "running" {
		t.Errorf("one failed look: job %s after %d attempts %q, deployment %s; want running in one attempt",
			j.State, j.Attempts, apptest.Deref(j.LastError), d.Status)
	}
	if n := e.panel.Calls("services.app.inspectService"); n < 3 {
		t.Errorf("inspectService called %d times: the injected failure was not reached", n)
	}
}

// TestDeployNotRepeatedAfterItsReplyWasLost (#17.13): the panel accepts
// updateDeploy but its answer is lost (as when the worker dies before it
// records it); the retried job finds the deploy started and does not ask
// again.
func TestDeployNotRepeatedAfterItsReplyWasLost(t *testing.T) {
	e := startDeploy(t, "twice")
	site := e.site("Once")
	e.panel.FailNextAfterApply("services.app.updateDeploy", http.StatusBadGateway, "bad gateway")
	j := e.act(http.MethodPost, e.deployPath(site), wordpressImage)
	d := e.deployment(site.ID)
	if j.State != store.JobSucceeded || j.Attempts < 2 || d.Status != "running" {
		t.Fatalf("lost reply: job %s after %d attempts %q, deployment %s", j.State, j.Attempts, apptest.Deref(j.LastError), d.Status)
	}
	if n := e.panel.DeployActions(d.Project, apptest.Deref(d.AppService)); n != 1 {
		t.Errorf("the panel ran %d deploys, want 1", n)
	}
	if n := e.panel.Calls("services.app.updateDeploy"); n != 1 {
		t.Errorf("updateDeploy called %d times, want 1", n)
	}

	// The same on a redeploy, whose deploy is not the first of the app.
	e.panel.FailNextAfterApply("services.app.updateDeploy", http.StatusBadGateway, "bad gateway")
	if j := e.act(http.MethodPost, e.deployPath(site)+"/redeploy", nil); j.State != store.JobSucceeded || j.Attempts < 2 {
		t.Fatalf("lost redeploy reply: job %s after %d attempts %q", j.State, j.Attempts, apptest.Deref(j.LastError))
	}
	if n := e.panel.DeployActions(d.Project, apptest.Deref(d.AppService)); n != 2 {
		t.Errorf("the panel ran %d deploys after the redeploy, want 2", n)
	}
}

// TestRunningIsTheDeploysState (#17.14): an app the panel shows enabled
// whose deploy ended in error is failed, with the panel's reason.
func TestRunningIsTheDeploysState(t *testing.T) {
	e := startDeploy(t, "judge")
	e.panel.SetEnabledWhileDeploying(true)
	e.panel.FailNextDeploy("Build failed: Dockerfile not found")
	site := e.site("Broken")
	j := e.act(http.MethodPost, e.deployPath(site), wordpressImage)
	d := e.deployment(site.ID)
	const want = "Deployment failed: the panel's deploy ended in error: Build failed: Dockerfile not found"
	if j.State != store.JobFailed || d.Status != "failed" || d.Error != want {
		t.Errorf("failed deploy of an enabled app: job %s %q, deployment %s %q; want %q", j.State, apptest.Deref(j.LastError), d.Status, d.Error, want)
	}
}

// TestFailedDeploysReasonHidesTheDeploymentsSecrets (#17.11): the reason
// of a redeploy's failed build reaches the tenant without the
// deployment's database password or environment values, although a
// redeploy opens neither (it starts past the steps that use them).
func TestFailedDeploysReasonHidesTheDeploymentsSecrets(t *testing.T) {
	e := startDeploy(t, "hush")
	site := e.site("Quiet")
	if j := e.act(http.MethodPost, e.deployPath(site), wordpressImage); j.State != store.JobSucceeded {
		t.Fatalf("deploy: %s %q", j.State, apptest.Deref(j.LastError))
	}
	db, ok := e.service(apptest.Deref(e.deployment(site.ID).DBService))
	if !ok || db.Password == "" {
		t.Fatalf("the panel has no database for the site: %+v", e.panel.Services())
	}
	const salt = "salt-value-do-not-leak"
	e.panel.FailNextDeploy("Build failed: WP_SECRET_SALT=" + salt + " WORDPRESS_DB_PASSWORD=" + db.Password)
	j := e.act(http.MethodPost, e.deployPath(site)+"/redeploy", nil)
	d := e.deployment(site.ID)
	const want = "Redeploy failed: the panel's deploy ended in error: Build failed: WP_SECRET_SALT="
	if j.State != store.JobFailed || d.Status != "failed" || !strings.HasPrefix(d.Error, want) {
		t.Fatalf("failed build on redeploy: job %s %q, deployment %s %q; want failed starting %q",
			j.State, apptest.Deref(j.LastError), d.Status, d.Error, want)
	}
	shown := d.Error + "\n" + apptest.Deref(j.LastError)
	for _, l := range d.Log {
		shown += "\n" + l.Message + "\n" + l.Detail
	}
	for _, s := range []string{salt, db.Password} {
		if strings.Contains(shown, s) {
			t.Errorf("a secret of the deployment (%q) is shown:\n%s", s, shown)
		}
	}
}

// TestDeployWaitKeepsItsDeadlineAcrossAttempts (#17.12): a worker stopped
// while it waits for the app hands the job back; the attempt that resumes
// it after the wait's deadline fails at once instead of waiting anew.
func TestDeployWaitKeepsItsDeadlineAcrossAttempts(t *testing.T) {
	const wait = 8 * time.Second // well past a loaded machine's pickup of the resumed job
	e := startDeploy(t, "keeps", apptest.WithEnv("DEPLOY_WAIT", wait.String()), apptest.WithEnv("SHUTDOWN_TIMEOUT", "100ms"))
	e.panel.NeverFinishDeploys()
	site := e.site("Late")
	var acc deployAccepted
	e.api.do(http.MethodPost, e.deployPath(site), wordpressImage, &acc)
	// The trigger lists the app's deploys once; a second listing is the wait's first look.
	apptest.Eventually(t, 60*time.Second, "the wait for the app", func() (bool, error) {
		return e.panel.Calls("actions.listActions") >= 2, nil
	})
	waiting := time.Now() // the wait started before this: its deadline is before waiting+wait
	e.stopWorker()
	if j := e.api.job(acc.JobID); j.Final() {
		t.Fatalf("the job ended while the worker stopped: %s %q", j.State, apptest.Deref(j.LastError))
	}
	apptest.Eventually(t, 2*wait, "the wait's deadline to pass", func() (bool, error) {
		return time.Now().After(waiting.Add(wait)), nil
	})
	restarted := time.Now()
	e.h.StartWorker(t)
	var j store.Job
	apptest.Eventually(t, 60*time.Second, "deployment job "+acc.JobID, func() (bool, error) {
		j = e.api.job(acc.JobID)
		return j.Final(), nil
	})
	took := time.Since(restarted)
	never := "Deployment failed: the app did not start running within " + wait.String()
	if d := e.deployment(site.ID); j.State != store.JobFailed || d.Status != "failed" || !strings.HasPrefix(d.Error, never) {
		t.Errorf("resumed after the deadline: job %s %q, deployment %s %q; want failed with %q",
			j.State, apptest.Deref(j.LastError), d.Status, d.Error, never)
	}
	if took >= wait {
		t.Errorf("the resumed attempt waited %s (a new wait of %s), want it to fail at once", took, wait)
	}
}

// TestRedeployBeforeTheDomainSetsIt: a deploy that stopped because the
// panel refused its domain is finished by a redeploy (the domain set, then
// the deploy), not marked running without its domain.
func TestRedeployBeforeTheDomainSetsIt(t *testing.T) {
	e := startDeploy(t, "nodomain")
	site := e.site("No Domain")
	e.panel.FailNext("domains.updateDomain", http.StatusBadRequest, "Domain blog.example.com is not allowed")
	if j := e.act(http.MethodPost, e.deployPath(site), wordpressImage); j.State != store.JobFailed {
		t.Fatalf("deploy with its domain refused: %s, want failed", j.State)
	}
	if d := e.deployment(site.ID); d.Step != "app_created" {
		t.Fatalf("after the refused domain the step is %s, want app_created", d.Step)
	}
	domains := e.panel.Calls("domains.updateDomain")
	j := e.act(http.MethodPost, e.deployPath(site)+"/redeploy", nil)
	d := e.deployment(site.ID)
	if j.State != store.JobSucceeded || d.Status != "running" || d.Step != "running" {
		t.Errorf("redeploy: job %s %q, deployment %s at %s; want running at step running", j.State, apptest.Deref(j.LastError), d.Status, d.Step)
	}
	if e.panel.Calls("domains.updateDomain") == domains {
		t.Errorf("the redeploy did not set the domain the first deploy could not")
	}
}
