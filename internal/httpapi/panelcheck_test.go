package httpapi_test

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"

	"github.com/presswork/presswork/internal/app/apptest"
	"github.com/presswork/presswork/internal/easypanel/fakepanel"
	"github.com/presswork/presswork/internal/errs"
	"github.com/presswork/presswork/internal/testenv"
)

// TestPanelSettingsAreCheckedOnThePanel (#17.11): PUT /v1/easypanel logs
// in to the panel and looks for the project; what fails is named, and
// nothing is stored unless both pass.
func TestPanelSettingsAreCheckedOnThePanel(t *testing.T) {
	t.Parallel()
	h := apptest.Start(t)
	f := newFixtureLite(t, h, "panelcheck")
	panel := fakepanel.New(t)
	panel.AddProject("blogs")
	closed := testenv.ClosedURL(t)
	notAPanel := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		_, _ = w.Write([]byte("<html>a blog</html>"))
	}))
	t.Cleanup(notAPanel.Close)
	// tRPC replies that are not Easypanel's: a login result without a token,
	// and one that does not decode as a login's.
	reply := func(body string) string {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(body))
		}))
		t.Cleanup(srv.Close)
		return srv.URL
	}
	noToken, badLogin := reply(`{"result":{"data":{"json":{"ok":true}}}}`), reply(`{"result":{"data":{"json":"welcome"}}}`)
	const notEasypanel = "does not answer as an Easypanel (its reply is not the panel's)"
	settings := func(url, password, project string) map[string]string {
		return map[string]string{"url": url, "email": fakepanel.Email, "password": password, "project": project}
	}
	cases := []struct {
		name   string
		fault  func()
		body   map[string]string
		status int
		fields []string
		says   string // the url's problem, when set
	}{
		{"wrong password", nil, settings(panel.URL, "not the password", "sites"), 400, []string{"email", "password"}, ""},
		{"missing project", nil, settings(panel.URL, fakepanel.Password, "shop"), 400, []string{"project"}, ""},
		{"nothing listens", nil, settings(closed, fakepanel.Password, "sites"), 400, []string{"url"}, ""},
		{"not a panel", nil, settings(notAPanel.URL, fakepanel.Password, "sites"), 400, []string{"url"}, ""},
		{"panel fails", func() { panel.FailNext("auth.login", http.StatusInternalServerError, "internal error") },
			settings(panel.URL, fakepanel.Password, "sites"), 503, nil, ""},
		{"panel fails to list", func() {
			panel.FailNext("projects.listProjectsAndServices", http.StatusBadGateway, "bad gateway")
		}, settings(panel.URL, fakepanel.Password, "sites"), 503, nil, ""},
		{"newer panel", func() { panel.UseNewerAPI(true) }, settings(panel.URL, fakepanel.Password, "sites"), 400, []string{"url"}, ""},
		{"login without a token", nil, settings(noToken, fakepanel.Password, "sites"), 400, []string{"url"}, notEasypanel},
		{"login reply not a login's", nil, settings(badLogin, fakepanel.Password, "sites"), 400, []string{"url"}, notEasypanel},
	}
	for _, c := range cases {
		if c.fault != nil {
			c.fault()
		}
		a := callJSON(t, h, f.Key, "PUT", "/v1/easypanel", c.body)
		p := a.problem(t, c.status)
		for _, field := range c.fields {
			if !slices.Contains(fields(p), field) {
				t.Errorf("%s: problem names %v, want %s: %s", c.name, fields(p), field, a.Body)
			}
		}
		if c.says != "" && !slices.ContainsFunc(p.Errors, func(e errs.FieldProblem) bool {
			return e.Field == "url" && e.Problem == c.says
		}) {
			t.Errorf("%s: problems %+v, want url: %q", c.name, p.Errors, c.says)
		}
		noLeak(t, c.name, a, "not the password", fakepanel.Password)
		panel.UseNewerAPI(false)
		if _, err := h.App.Store.GetPanelCredentials(t.Context(), f.TenantID); err == nil {
			t.Fatalf("%s: the settings were stored", c.name)
		}
	}

	var s struct {
		Project *string `json:"project"`
	}
	callJSON(t, h, f.Key, "PUT", "/v1/easypanel", settings(panel.URL, fakepanel.Password, "blogs")).must(t, 200, &s)
	if s.Project == nil || *s.Project != "blogs" {
		t.Errorf("settings after a good PUT: project %v", s.Project)
	}
}

// testPanelURL starts a fake panel for the test that accepts the login the
// package's tests register (ops@example.com, panelPassword), and returns
// its address: PUT /v1/easypanel logs in to the panel it is given.
func testPanelURL(t testing.TB) string {
	t.Helper()
	return fakePanelURL(t, "ops@example.com", panelPassword, "sites")
}

// fakePanelURL starts a fake panel for the test that accepts email and
// password and has project, and returns its address.
func fakePanelURL(t testing.TB, email, password, project string) string {
	t.Helper()
	panel := fakepanel.New(t)
	panel.SetLogin(email, password)
	panel.AddProject(project)
	return panel.URL
}

// samplePanelURL is the address of the fake panel of sampleRequest's PUT
// /v1/easypanel, shared by the package's tests (a sample has no test to
// tie a panel to; it lives as long as the test binary). It accepts the
// sample's login.
var samplePanelURL = sync.OnceValue(func() string {
	panel := fakepanel.Start()
	panel.SetLogin("ops@example.com", "sample panel password")
	return panel.URL
})
