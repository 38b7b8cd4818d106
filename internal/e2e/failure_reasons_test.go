package e2e_test

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/presswork/presswork/internal/app/apptest"
	"github.com/presswork/presswork/internal/easypanel/fakepanel"
	"github.com/presswork/presswork/internal/errs"
	"github.com/presswork/presswork/internal/store"
	"github.com/presswork/presswork/internal/testenv"
	"github.com/presswork/presswork/internal/wordpress/fakewp"
)

// TestSiteFailureReasons checks each class of site failure end to end: a
// site check on a name that does not exist, a certificate the worker cannot
// trust, a trusted certificate issued for another name, a wrong application
// password and a site without a REST API (over HTTP, and over HTTPS with a
// certificate of a CA the operator added) each fail the check at once (one
// attempt, not hours of retries), with the reason and its code on the job
// and on the site; a site that refuses connections keeps its reason while
// its check retries, with the time of the next attempt and the retries
// left on the job.
func TestSiteFailureReasons(t *testing.T) {
	t.Parallel()
	if !nxdomainResolves() {
		t.Skip("this machine has no DNS resolver that answers NXDOMAIN for .invalid names")
	}
	// The worker trusts ca (EXTRA_CA_FILE), so that wrongName fails on its
	// name alone, as a site with a valid certificate for another name does.
	ca := testenv.NewCA(t)
	h := apptest.Start(t, apptest.WithEnv("RETRY_BASE_DELAY", "1h"), apptest.WithEnv("EXTRA_CA_FILE", ca.File(t)))
	h.StartWorker(t)
	_, c := h.Tenant(t, "reasons", 100)
	api := pipelineAPI{t: t, c: c}

	tlsSite := httptest.NewTLSServer(http.NotFoundHandler()) // a certificate no system trusts
	t.Cleanup(tlsSite.Close)
	wrongName := ca.TLSServer(t, http.NotFoundHandler(), "other.example") // no 127.0.0.1 among its names
	wp := fakewp.New(t, fakewp.Config{RefuseWrongPassword: true})
	notHere := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprint(w, "<html><body>Not here</body></html>")
	})
	noREST := httptest.NewServer(notHere)
	t.Cleanup(noREST.Close)
	// A certificate of ca for the site's own address passes: its check
	// gets as far as the missing REST API.
	trustedNoREST := ca.TLSServer(t, notHere, "127.0.0.1")

	for _, c := range []struct {
		name, url, password, code, says string
	}{
		{"dns", "https://blog.invalid", "abcd efgh", errs.CodeDNSNotFound, "does not exist"},
		{"tls authority", tlsSite.URL, "abcd efgh", errs.CodeTLSInvalid, "certificate is not signed by a known authority"},
		{"tls name", wrongName.URL, "abcd efgh", errs.CodeTLSInvalid, "certificate is for other.example, not 127.0.0.1"},
		{"password", wp.SiteURL(), "wrong wrong wrong", errs.CodeAuthRejected, "application password"},
		{"rest", noREST.URL, "abcd efgh", errs.CodeRESTDisabled, "REST API"},
		{"rest over trusted tls", trustedNoREST.URL, "abcd efgh", errs.CodeRESTDisabled, "REST API"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var site store.Site
			api.do(http.MethodPost, "/v1/sites", map[string]string{"name": "Site " + c.name, "url": c.url,
				"username": fakewp.User, "application_password": c.password}, &site)
			j := api.checkSite(site.ID)
			if j.State != store.JobFailed || j.Attempts != 1 || apptest.Deref(j.ErrorCode) != c.code ||
				!strings.Contains(apptest.Deref(j.LastError), c.says) {
				t.Errorf("check job: %s after %d attempts, code %q, error %q; want failed at once with %s saying %q",
					j.State, j.Attempts, apptest.Deref(j.ErrorCode), apptest.Deref(j.LastError), c.code, c.says)
			}
			api.do(http.MethodGet, fmt.Sprintf("/v1/sites/%d", site.ID), nil, &site)
			if site.Health != store.HealthUnhealthy || apptest.Deref(site.HealthCode) != c.code ||
				!strings.Contains(site.HealthReason, c.says) {
				t.Errorf("site: %s, code %q, reason %q; want unhealthy with %s saying %q",
					site.Health, apptest.Deref(site.HealthCode), site.HealthReason, c.code, c.says)
			}
		})
	}

	t.Run("refused connection", func(t *testing.T) {
		var site store.Site
		api.do(http.MethodPost, "/v1/sites", map[string]string{"name": "Gone", "url": testenv.ClosedURL(t),
			"username": fakewp.User, "application_password": "abcd efgh"}, &site)
		var acc apptest.Accepted
		api.do(http.MethodPost, fmt.Sprintf("/v1/sites/%d/check", site.ID), nil, &acc)
		jobID := acc.Jobs[0].ID
		var j store.Job
		apptest.Eventually(t, 30*time.Second, "the check waits to retry", func() (bool, error) {
			j = api.job(jobID)
			return j.Phase == "waiting_retry", nil
		})
		if apptest.Deref(j.ErrorCode) != errs.CodeUnreachable || j.RetryAt == nil || time.Until(*j.RetryAt) < 30*time.Minute ||
			j.RetriesLeft == nil || *j.RetriesLeft != 2 || !strings.Contains(apptest.Deref(j.LastError), "refused the connection") {
			t.Errorf("retrying check: code %q, retry at %v, %v retries left, error %q; want unreachable, in about an hour, 2, the reason",
				apptest.Deref(j.ErrorCode), j.RetryAt, j.RetriesLeft, apptest.Deref(j.LastError))
		}
		var waiting struct {
			Items []store.Job `json:"items"`
		}
		api.do(http.MethodGet, "/v1/jobs?phase=waiting_retry&error_code=unreachable", nil, &waiting)
		if len(waiting.Items) != 1 || waiting.Items[0].ID != jobID {
			t.Errorf("jobs waiting to retry after an unreachable site: %+v", waiting.Items)
		}
		api.do(http.MethodGet, fmt.Sprintf("/v1/sites/%d", site.ID), nil, &site)
		if site.Health != store.HealthUnhealthy || apptest.Deref(site.HealthCode) != errs.CodeUnreachable {
			t.Errorf("site while its check retries: %s, code %q, reason %q", site.Health, apptest.Deref(site.HealthCode), site.HealthReason)
		}
	})
}

// TestPanelLoginFailureReason: a deploy whose panel refuses Presswork's
// login fails with the code panel_login_failed and says what to correct,
// on the job and on the deployment.
func TestPanelLoginFailureReason(t *testing.T) {
	e := startDeploy(t, "login")
	site := e.site("Login Blog")
	e.panel.SetLogin(fakepanel.Email, "a-new-password")
	j := e.act(http.MethodPost, fmt.Sprintf("/v1/sites/%d/deployment", site.ID), wordpressImage)
	d := e.deployment(site.ID)
	if j.State != store.JobFailed || apptest.Deref(j.ErrorCode) != errs.CodePanelLogin ||
		!strings.Contains(apptest.Deref(j.LastError), "refused Presswork's login") || !strings.Contains(d.Error, "refused Presswork's login") {
		t.Errorf("deploy with a refused login: job %s, code %q, error %q; deployment %q", j.State,
			apptest.Deref(j.ErrorCode), apptest.Deref(j.LastError), d.Error)
	}
}

// checkSite starts a site check and waits for its job to end.
func (a pipelineAPI) checkSite(siteID int64) store.Job {
	a.t.Helper()
	var acc apptest.Accepted
	a.do(http.MethodPost, fmt.Sprintf("/v1/sites/%d/check", siteID), nil, &acc)
	var j store.Job
	apptest.Eventually(a.t, 30*time.Second, "the check ends", func() (bool, error) {
		j = a.job(acc.Jobs[0].ID)
		return j.Final(), nil
	})
	return j
}

// nxdomainResolves reports whether a .invalid name (RFC 6761) gets a "no
// such host" answer here, as it does wherever a resolver runs.
func nxdomainResolves() bool {
	_, err := net.LookupHost("presswork-check.invalid")
	var dns *net.DNSError
	return err != nil && errors.As(err, &dns) && dns.IsNotFound
}
