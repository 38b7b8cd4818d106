package easypanel_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/presswork/presswork/internal/easypanel"
	"github.com/presswork/presswork/internal/easypanel/fakepanel"
	"github.com/presswork/presswork/internal/errs"
	"github.com/presswork/presswork/internal/netguard"
	"github.com/presswork/presswork/internal/testenv"
)

// TestCheckNamesTheFieldAtFault: a check that fails names the field to
// correct in Presswork's words, or says the panel is unavailable; a good
// login and an existing project pass.
func TestCheckNamesTheFieldAtFault(t *testing.T) {
	t.Parallel()
	panel := fakepanel.New(t)
	panel.AddProject("blogs")
	const notEasypanel = "does not answer as an Easypanel (its reply is not the panel's)"
	cases := []struct {
		name     string
		fault    func()
		url      string
		password string
		project  string
		fields   []string // nil: the panel is unavailable (with want empty) or the check passes
		want     string   // the first problem's text, when set
		down     bool
	}{
		{name: "good settings", url: panel.URL, password: fakepanel.Password, project: "blogs"},
		{name: "wrong password", url: panel.URL, password: "not the password", project: "sites",
			fields: []string{"email", "password"}, want: "the panel refused to log in with this email and password"},
		{name: "missing project", url: panel.URL, password: fakepanel.Password, project: "shop", fields: []string{"project"},
			want: `the panel has no project "shop" (it has "sites", "blogs"); create it in Easypanel or name one it has`},
		{name: "nothing listens", url: testenv.ClosedURL(t), password: fakepanel.Password, project: "sites",
			fields: []string{"url"}, want: "could not be reached: the connection was refused"},
		{name: "not a panel", url: htmlServer(t), password: fakepanel.Password, project: "sites", fields: []string{"url"}},
		{name: "panel fails", fault: func() { panel.FailNext("auth.login", http.StatusInternalServerError, "internal error") },
			url: panel.URL, password: fakepanel.Password, project: "sites", down: true},
		{name: "panel fails to list", fault: func() {
			panel.FailNext("projects.listProjectsAndServices", http.StatusBadGateway, "bad gateway")
		}, url: panel.URL, password: fakepanel.Password, project: "sites", down: true},
		{name: "login not found", fault: func() { panel.FailNext("auth.login", http.StatusNotFound, "no such route") },
			url: panel.URL, password: fakepanel.Password, project: "sites", fields: []string{"url"},
			want: "does not answer as an Easypanel (HTTP 404 on auth.login)"},
		{name: "newer panel", fault: func() { panel.UseNewerAPI(true) }, url: panel.URL, password: fakepanel.Password,
			project: "sites", fields: []string{"url"},
			want: "the panel runs Easypanel 2.31 or later (/api/rpc), which Presswork does not support yet"},
		{name: "login without a token", url: jsonServer(t, `{"result":{"data":{"json":{"ok":true}}}}`),
			password: fakepanel.Password, project: "sites", fields: []string{"url"}, want: notEasypanel},
		{name: "login reply not a login's", url: jsonServer(t, `{"result":{"data":{"json":"welcome"}}}`),
			password: fakepanel.Password, project: "sites", fields: []string{"url"}, want: notEasypanel},
	}
	for _, c := range cases {
		if c.fault != nil {
			c.fault()
		}
		err := easypanel.Check(t.Context(), c.url, fakepanel.Email, c.password, c.project, http.DefaultClient)
		panel.UseNewerAPI(false)
		checkOutcome(t, c.name, err, c.fields, c.want, c.down)
	}
}

// TestCheckRefusesWhatTheClientRefuses: the transport's refusals (a
// private address, a certificate not trusted) and a panel that does not
// answer in time are named as such.
func TestCheckRefusesWhatTheClientRefuses(t *testing.T) {
	t.Parallel()
	panel := fakepanel.New(t)
	tlsServer := httptest.NewTLSServer(http.NotFoundHandler())
	t.Cleanup(tlsServer.Close)
	guarded := &http.Client{Transport: netguard.Transport()}
	err := easypanel.Check(t.Context(), panel.URL, fakepanel.Email, fakepanel.Password, "sites", guarded)
	checkOutcome(t, "private address", err, []string{"url"}, "leads to a private or loopback address", false)
	err = easypanel.Check(t.Context(), tlsServer.URL, fakepanel.Email, fakepanel.Password, "sites", http.DefaultClient)
	checkOutcome(t, "untrusted certificate", err, []string{"url"}, "could not be reached: its TLS certificate is not valid", false)

	release := make(chan struct{})
	hanging := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { <-release }))
	t.Cleanup(hanging.Close)
	t.Cleanup(func() { close(release) }) // runs first: the handler returns, then the server closes
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	err = easypanel.Check(ctx, hanging.URL, fakepanel.Email, fakepanel.Password, "sites", http.DefaultClient)
	checkOutcome(t, "no answer in time", err, nil, "", true)
}

// TestCheckNamesAtMostTenProjects: a missing project's problem lists the
// panel's first ten projects.
func TestCheckNamesAtMostTenProjects(t *testing.T) {
	t.Parallel()
	panel := fakepanel.New(t)
	want := `"sites"`
	for i := range 12 {
		panel.AddProject(fmt.Sprintf("p%d", i))
		if i < 9 {
			want += fmt.Sprintf(`, "p%d"`, i)
		}
	}
	err := easypanel.Check(t.Context(), panel.URL, fakepanel.Email, fakepanel.Password, "shop", http.DefaultClient)
	checkOutcome(t, "twelve projects", err, []string{"project"},
		`the panel has no project "shop" (it has `+want+`); create it in Easypanel or name one it has`, false)
}

// checkOutcome fails the test unless err is what the case expects: the
// problems naming fields (the first saying want, when set), the panel
// unavailable (down), or no error when neither.
func checkOutcome(t *testing.T, name string, err error, fields []string, want string, down bool) {
	t.Helper()
	var ve *errs.ValidationError
	switch {
	case down:
		if ue := (*errs.UnavailableError)(nil); !errors.As(err, &ue) || ue.Service != "the panel" {
			t.Errorf("%s: got %v, want the panel unavailable", name, err)
		}
	case fields == nil:
		if err != nil {
			t.Errorf("%s: %v", name, err)
		}
	case !errors.As(err, &ve):
		t.Errorf("%s: got %v, want problems naming %v", name, err, fields)
	default:
		got := make([]string, 0, len(ve.Problems))
		for _, p := range ve.Problems {
			got = append(got, p.Field)
		}
		if !slices.Equal(got, fields) {
			t.Errorf("%s: problems name %v, want %v: %v", name, got, fields, err)
		}
		if want != "" && ve.Problems[0].Problem != want {
			t.Errorf("%s: problem %q, want %q", name, ve.Problems[0].Problem, want)
		}
	}
}

// htmlServer serves a web page that is no panel.
func htmlServer(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		_, _ = w.Write([]byte("<html>a blog</html>"))
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// jsonServer answers every request with body, a tRPC reply that is not
// Easypanel's.
func jsonServer(t *testing.T, body string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}
