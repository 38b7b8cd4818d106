package easypanel_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/presswork/presswork/internal/easypanel"
	"github.com/presswork/presswork/internal/easypanel/fakepanel"
)

// exchange is one recorded request and the reply body it got.
type exchange struct {
	method string
	url    *url.URL
	body   []byte
	reply  []byte
}

// recorder is a transport that keeps every exchange, to check the wire form.
type recorder struct {
	mu        sync.Mutex
	exchanges []exchange
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		body, _ = io.ReadAll(req.Body)
		req.Body = io.NopCloser(bytes.NewReader(body))
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	reply, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(reply))
	r.mu.Lock()
	defer r.mu.Unlock()
	r.exchanges = append(r.exchanges, exchange{req.Method, req.URL, body, reply})
	return resp, nil
}

func (r *recorder) last(procedure string) exchange {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := len(r.exchanges) - 1; i >= 0; i-- {
		if r.exchanges[i].url.Path == "/api/trpc/"+procedure {
			return r.exchanges[i]
		}
	}
	return exchange{}
}

type testBundle struct {
	panel    *fakepanel.Server
	client   *easypanel.Client
	recorder *recorder
}

func setup(t *testing.T) testBundle {
	t.Helper()
	panel := fakepanel.New(t)
	rec := &recorder{}
	// The trailing slash checks that New tolerates it.
	client := easypanel.New(panel.URL+"/", fakepanel.Email, fakepanel.Password, &http.Client{Transport: rec})
	return testBundle{panel: panel, client: client, recorder: rec}
}

func sampleApp() easypanel.App {
	return easypanel.App{
		ProjectName: "sites", ServiceName: "acme-blog",
		Source: easypanel.Source{Type: "git", Repo: "https://git.example.com/acme/blog.git"},
		Domain: "acme-blog.example.com", HTTPS: true,
		Env:        "NODE_ENV=production",
		VolumeName: "wp_data", MountPath: "/var/www/html",
	}
}

func sampleDB() easypanel.MariaDB {
	return easypanel.MariaDB{
		ProjectName: "sites", ServiceName: "acme-blog-db", DatabaseName: "acme-blog-db",
		User: "wp_user", Password: "db-pass-7Hq", RootPassword: "root-pass-9Zx",
	}
}

func asAPIError(t *testing.T, err error) *easypanel.Error {
	t.Helper()
	apiErr, ok := errors.AsType[*easypanel.Error](err)
	if !ok {
		t.Fatalf("err = %v (%T), want *easypanel.Error", err, err)
	}
	return apiErr
}

func TestLoginCarriesTokenInBothForms(t *testing.T) {
	t.Parallel()
	for _, form := range []string{"bearer", "plain"} {
		t.Run(form, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			if form == "plain" {
				b.client.WithPlainAuthorization()
			}
			ctx := t.Context()
			for range 2 {
				if _, err := b.client.ListProjectsAndServices(ctx); err != nil {
					t.Fatal(err)
				}
			}
			if got := b.panel.Calls("auth.login"); got != 1 {
				t.Errorf("logins = %d, want 1 (lazy, then reused)", got)
			}
			if diff := cmp.Diff(map[string]int{form: 2}, b.panel.AuthForms()); diff != "" {
				t.Errorf("auth forms (-want +got):\n%s", diff)
			}
			if ex := b.recorder.last("auth.login"); ex.method != http.MethodPost {
				t.Errorf("login method = %s, want POST", ex.method)
			}
		})
	}
}

func TestExplicitLoginRejectsBadPassword(t *testing.T) {
	t.Parallel()
	panel := fakepanel.New(t)
	client := easypanel.New(panel.URL, fakepanel.Email, "wrong-password", nil)
	err := client.Login(t.Context())
	apiErr := asAPIError(t, err)
	if apiErr.Status != http.StatusUnauthorized || panel.Calls("auth.login") != 1 {
		t.Errorf("status %d after %d logins, want 401 after 1", apiErr.Status, panel.Calls("auth.login"))
	}
}

func TestBothEnvelopes(t *testing.T) {
	t.Parallel()
	for _, batch := range []bool{false, true} {
		t.Run(map[bool]string{false: "object", true: "batch"}[batch], func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			b.panel.UseBatchReplies(batch)
			ctx := t.Context()
			created, err := b.client.CreateApp(ctx, sampleApp())
			if err != nil {
				t.Fatal(err)
			}
			want := easypanel.Service{ProjectName: "sites", Name: "acme-blog", Type: "app", PrimaryDomainID: "dom_1"}
			if diff := cmp.Diff(want, created); diff != "" {
				t.Errorf("created (-want +got):\n%s", diff)
			}
			if first := bytes.TrimSpace(b.recorder.last("services.app.createService").reply)[0]; (first == '[') != batch {
				t.Errorf("reply starts with %q, batch = %v", first, batch)
			}
			_, err = b.client.InspectApp(ctx, "sites", "missing")
			apiErr := asAPIError(t, err)
			if !apiErr.NotFound() || apiErr.Status != http.StatusInternalServerError || apiErr.Code != "INTERNAL_SERVER_ERROR" {
				t.Errorf("missing service: %+v, want the 500 not-found form", apiErr)
			}
		})
	}
}

func TestQueriesSendInputParameter(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := t.Context()
	if _, err := b.client.CreateApp(ctx, sampleApp()); err != nil {
		t.Fatal(err)
	}
	if _, err := b.client.InspectApp(ctx, "sites", "acme-blog"); err != nil {
		t.Fatal(err)
	}
	ex := b.recorder.last("services.app.inspectService")
	query := ex.url.Query()
	if ex.method != http.MethodGet || len(query) != 1 {
		t.Fatalf("%s %s, want GET with only ?input=", ex.method, ex.url)
	}
	var input map[string]map[string]string
	if err := json.Unmarshal([]byte(query.Get("input")), &input); err != nil {
		t.Fatal(err)
	}
	want := map[string]map[string]string{"json": {"projectName": "sites", "serviceName": "acme-blog"}}
	if diff := cmp.Diff(want, input); diff != "" {
		t.Errorf("input (-want +got):\n%s", diff)
	}

	if _, err := b.client.ListProjectsAndServices(ctx); err != nil {
		t.Fatal(err)
	}
	if ex := b.recorder.last("projects.listProjectsAndServices"); ex.url.RawQuery != "" {
		t.Errorf("query without input sent %q", ex.url.RawQuery)
	}
}

func TestMutationsSendJSONEnvelope(t *testing.T) {
	t.Parallel()
	b := setup(t)
	if _, err := b.client.CreateApp(t.Context(), sampleApp()); err != nil {
		t.Fatal(err)
	}
	var body struct {
		JSON map[string]any `json:"json"`
	}
	if err := json.Unmarshal(b.recorder.last("services.app.createService").body, &body); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"projectName": "sites", "serviceName": "acme-blog",
		"source": map[string]any{"type": "git", "repo": "https://git.example.com/acme/blog.git", "ref": "main", "path": "/"},
		"build":  map[string]any{"type": "dockerfile", "file": "Dockerfile"},
		"domains": []any{map[string]any{
			"host": "acme-blog.example.com", "https": true, "path": "/", "wildcard": false,
			"destinationType": "service",
			"serviceDestination": map[string]any{
				"protocol": "http", "port": 80.0, "path": "/", "projectName": "sites", "serviceName": "acme-blog",
			},
		}},
		"mounts": []any{map[string]any{"type": "volume", "name": "wp_data", "mountPath": "/var/www/html"}},
		"env":    "NODE_ENV=production",
	}
	if diff := cmp.Diff(want, body.JSON); diff != "" {
		t.Errorf("createService input (-want +got):\n%s", diff)
	}
}

func TestErrorClassification(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := t.Context()
	b.panel.AddService("sites", "acme-blog", "app")

	_, err := b.client.CreateApp(ctx, sampleApp())
	conflict := asAPIError(t, err)
	if !conflict.Conflict() || conflict.NotFound() || conflict.Temporary() ||
		conflict.Status != http.StatusConflict || conflict.Code != "CONFLICT" ||
		conflict.Message != "Service already exists" || conflict.Procedure != "services.app.createService" {
		t.Errorf("name clash: %+v", conflict)
	}

	err = b.client.DestroyApp(ctx, "sites", "nope")
	missing := asAPIError(t, err)
	if !missing.NotFound() || missing.Temporary() || missing.Conflict() {
		t.Errorf("-32603 not found: %+v", missing)
	}

	tests := []struct {
		status                        int
		message                       string
		notFound, conflict, temporary bool
	}{
		{http.StatusNotFound, "Domain not found", true, false, false},
		{http.StatusInternalServerError, "boom", false, false, true},
		{http.StatusServiceUnavailable, "maintenance", false, false, true},
		{http.StatusTooManyRequests, "slow down", false, false, true},
		{http.StatusBadRequest, "Name is already taken", false, true, false},
		{http.StatusBadRequest, "bad input", false, false, false},
	}
	for _, tt := range tests {
		b.panel.FailNext("services.app.stopService", tt.status, tt.message)
		err := b.client.StopApp(ctx, "sites", "acme-blog")
		e := asAPIError(t, err)
		got := [3]bool{e.NotFound(), e.Conflict(), e.Temporary()}
		if want := [3]bool{tt.notFound, tt.conflict, tt.temporary}; got != want || e.Status != tt.status || e.Message != tt.message {
			t.Errorf("%d %q: status %d message %q, [notFound conflict temporary] = %v, want %v",
				tt.status, tt.message, e.Status, e.Message, got, want)
		}
	}
}

func TestErrorNotFoundFromMessage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err  easypanel.Error
		want bool
	}{
		{easypanel.Error{Status: 500, Code: "INTERNAL_SERVER_ERROR", Message: "Project not found"}, true},
		{easypanel.Error{Status: 500, Code: "INTERNAL_SERVER_ERROR", Message: "Service does not exist"}, true},
		{easypanel.Error{Status: 500, Code: "INTERNAL_SERVER_ERROR", Message: "docker daemon not found"}, false},
		{easypanel.Error{Status: 400, Code: "BAD_REQUEST", Message: "Service not found"}, false},
		{easypanel.Error{Status: 404}, true},
	}
	for _, tt := range tests {
		if got := tt.err.NotFound(); got != tt.want {
			t.Errorf("%+v: NotFound = %v, want %v", tt.err, got, tt.want)
		}
	}
}

func TestExpiredTokenReloginOnce(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := t.Context()
	const list = "projects.listProjectsAndServices"
	if _, err := b.client.ListProjectsAndServices(ctx); err != nil {
		t.Fatal(err)
	}
	b.panel.ExpireTokens()
	if _, err := b.client.ListProjectsAndServices(ctx); err != nil {
		t.Fatalf("after expiry: %v", err)
	}
	if logins, calls := b.panel.Calls("auth.login"), b.panel.Calls(list); logins != 2 || calls != 3 {
		t.Errorf("logins %d, list calls %d; want 2 and 3 (one re-login, one retry)", logins, calls)
	}

	b.panel.FailNext(list, http.StatusUnauthorized, "Unauthorized")
	b.panel.FailNext(list, http.StatusUnauthorized, "Unauthorized")
	_, err := b.client.ListProjectsAndServices(ctx)
	if e := asAPIError(t, err); e.Status != http.StatusUnauthorized {
		t.Errorf("second 401: status %d", e.Status)
	}
	if logins, calls := b.panel.Calls("auth.login"), b.panel.Calls(list); logins != 3 || calls != 5 {
		t.Errorf("logins %d, list calls %d; want 3 and 5 (no second re-login)", logins, calls)
	}
}

func TestConcurrentCallsAfterExpiry(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := t.Context()
	if err := b.client.Login(ctx); err != nil {
		t.Fatal(err)
	}
	b.panel.ExpireTokens()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			_, err := b.client.ListProjectsAndServices(ctx)
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if got := b.panel.Calls("auth.login"); got != 2 {
		t.Errorf("logins = %d, want 2: concurrent 401s share one re-login", got)
	}
}

func TestNewerPanelIsUnsupported(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := t.Context()
	b.panel.UseNewerAPI(true)
	if err := b.client.Login(ctx); !errors.Is(err, easypanel.ErrUnsupportedPanel) {
		t.Fatalf("login: %v, want ErrUnsupportedPanel", err)
	}

	b.panel.UseNewerAPI(false)
	if err := b.client.Login(ctx); err != nil {
		t.Fatal(err)
	}
	b.panel.UseNewerAPI(true) // the panel was upgraded under us
	if _, err := b.client.ListProjectsAndServices(ctx); !errors.Is(err, easypanel.ErrUnsupportedPanel) {
		t.Errorf("query without input (404): %v, want ErrUnsupportedPanel", err)
	}
	if _, err := b.client.InspectApp(ctx, "sites", "acme-blog"); !errors.Is(err, easypanel.ErrUnsupportedPanel) {
		t.Errorf("query with input (400): %v, want ErrUnsupportedPanel", err)
	}
}

func TestOldPanel404IsNotUnsupported(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.panel.FailNext("services.app.inspectService", http.StatusNotFound, "Input validation failed")
	_, err := b.client.InspectApp(t.Context(), "sites", "acme-blog")
	if errors.Is(err, easypanel.ErrUnsupportedPanel) || !asAPIError(t, err).NotFound() {
		t.Errorf("err = %v, want the panel's own 404", err)
	}
}

func TestFailNextSurfacesError(t *testing.T) {
	t.Parallel()
	calls := map[string]func(context.Context, *easypanel.Client) error{
		"auth.login": func(ctx context.Context, c *easypanel.Client) error { return c.Login(ctx) },
		"projects.listProjectsAndServices": func(ctx context.Context, c *easypanel.Client) error {
			_, err := c.ListProjectsAndServices(ctx)
			return err
		},
		"services.mariadb.createService": func(ctx context.Context, c *easypanel.Client) error {
			db := sampleDB()
			db.ServiceName = "other-db"
			_, err := c.CreateMariaDB(ctx, db)
			return err
		},
		"services.mariadb.destroyService": func(ctx context.Context, c *easypanel.Client) error {
			return c.DestroyMariaDB(ctx, "sites", "acme-blog-db")
		},
		"services.app.createService": func(ctx context.Context, c *easypanel.Client) error {
			app := sampleApp()
			app.ServiceName = "other"
			_, err := c.CreateApp(ctx, app)
			return err
		},
		"services.app.inspectService": func(ctx context.Context, c *easypanel.Client) error {
			_, err := c.InspectApp(ctx, "sites", "acme-blog")
			return err
		},
		"services.app.updateDeploy": func(ctx context.Context, c *easypanel.Client) error {
			return c.Deploy(ctx, "sites", "acme-blog")
		},
		"services.app.stopService": func(ctx context.Context, c *easypanel.Client) error {
			return c.StopApp(ctx, "sites", "acme-blog")
		},
		"services.app.startService": func(ctx context.Context, c *easypanel.Client) error {
			return c.StartApp(ctx, "sites", "acme-blog")
		},
		"services.app.destroyService": func(ctx context.Context, c *easypanel.Client) error {
			return c.DestroyApp(ctx, "sites", "acme-blog")
		},
		"domains.updateDomain": func(ctx context.Context, c *easypanel.Client) error {
			return c.UpdateDomain(ctx, easypanel.Domain{
				ID: "dom_1", Host: "blog.acme.test", HTTPS: true, ProjectName: "sites", ServiceName: "acme-blog",
			})
		},
	}
	for procedure, call := range calls {
		t.Run(procedure, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			ctx := t.Context()
			mustCreate(t, b)
			b.panel.FailNext(procedure, http.StatusInternalServerError, "injected failure")
			e := asAPIError(t, call(ctx, b.client))
			if e.Procedure != procedure || e.Status != 500 || e.Message != "injected failure" || !e.Temporary() {
				t.Errorf("got %+v", e)
			}
			if err := call(ctx, b.client); err != nil {
				t.Errorf("the call after the failure: %v", err)
			}
		})
	}
}

func mustCreate(t *testing.T, b testBundle) {
	t.Helper()
	ctx := t.Context()
	if _, err := b.client.CreateMariaDB(ctx, sampleDB()); err != nil {
		t.Fatal(err)
	}
	if _, err := b.client.CreateApp(ctx, sampleApp()); err != nil {
		t.Fatal(err)
	}
}

func TestSecretsNeverInErrorText(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := t.Context()
	db := sampleDB()
	b.panel.FailNext("auth.login", http.StatusBadRequest, "password "+fakepanel.Password+" rejected")
	err := b.client.Login(ctx)
	if err == nil || strings.Contains(err.Error(), fakepanel.Password) {
		t.Errorf("login error text %q shows the password", err)
	}
	b.panel.FailNext("services.mariadb.createService", http.StatusBadRequest,
		"password "+db.Password+" and root password "+db.RootPassword+" are weak")
	_, err = b.client.CreateMariaDB(ctx, db)
	text := asAPIError(t, err).Error()
	if strings.Contains(text, db.Password) || strings.Contains(text, db.RootPassword) || !strings.Contains(text, "***") {
		t.Errorf("error text %q shows a password", text)
	}
}

func TestMaskMariaDBReply(t *testing.T) {
	t.Parallel()
	b := setup(t)
	db := sampleDB()
	if _, err := b.client.CreateMariaDB(t.Context(), db); err != nil {
		t.Fatal(err)
	}
	reply := b.recorder.last("services.mariadb.createService").reply
	if !bytes.Contains(reply, []byte(db.RootPassword)) {
		t.Fatalf("the fake should echo the passwords like the panel: %s", reply)
	}
	for _, masked := range [][]byte{easypanel.Mask(reply), easypanel.Mask(reply, db.Password, db.RootPassword)} {
		if bytes.Contains(masked, []byte(db.Password)) || bytes.Contains(masked, []byte(db.RootPassword)) {
			t.Errorf("masked reply still shows a password: %s", masked)
		}
		if !json.Valid(masked) || !bytes.Contains(masked, []byte(`"rootPassword":"***"`)) {
			t.Errorf("masked reply: %s", masked)
		}
	}
}

func TestMask(t *testing.T) {
	t.Parallel()
	tests := []struct {
		reply   string
		secrets []string
		want    string
	}{
		{`{"token": "abc", "n": 1}`, nil, `{"token": "***", "n": 1}`},
		{`[{"password":"p\"q","x":null,"token":null}]`, nil, `[{"password":"***","x":null,"token":null}]`},
		{`Error: s3cret leaked, again s3cret`, []string{"s3cret", ""}, `Error: *** leaked, again ***`},
		{`{"env":"DB=mariadb://u:a\"b@h"}`, []string{`a"b`}, `{"env":"DB=mariadb://u:***@h"}`},
	}
	for _, tt := range tests {
		if got := string(easypanel.Mask([]byte(tt.reply), tt.secrets...)); got != tt.want {
			t.Errorf("Mask(%s) = %s, want %s", tt.reply, got, tt.want)
		}
	}
}

func TestConnectionURL(t *testing.T) {
	t.Parallel()
	got := sampleDB().ConnectionURL()
	if want := "mariadb://wp_user:db-pass-7Hq@sites_acme-blog-db:3306/acme-blog-db"; got != want {
		t.Errorf("ConnectionURL = %q, want %q", got, want)
	}
}

func TestAppLifecycle(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := t.Context()
	b.panel.SetDeployDelay(2)
	mustCreate(t, b)
	inv, err := b.client.ListProjectsAndServices(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !inv.Has("sites", "acme-blog") || !inv.Has("sites", "acme-blog-db") || inv.Has("sites", "nope") ||
		len(inv.Projects) != 1 || inv.Projects[0].Name != "sites" {
		t.Errorf("inventory %+v", inv)
	}

	if err := b.client.Deploy(ctx, "sites", "acme-blog"); err != nil {
		t.Fatal(err)
	}
	wantEnabled(t, b, false, false, true)
	if err := b.client.StopApp(ctx, "sites", "acme-blog"); err != nil {
		t.Fatal(err)
	}
	wantEnabled(t, b, false)
	if err := b.client.StartApp(ctx, "sites", "acme-blog"); err != nil {
		t.Fatal(err)
	}
	wantEnabled(t, b, false, false, true)

	svc, err := b.client.InspectApp(ctx, "sites", "acme-blog")
	if err != nil {
		t.Fatal(err)
	}
	d := easypanel.Domain{ID: svc.PrimaryDomainID, Host: "blog.acme.test", ProjectName: "sites", ServiceName: "acme-blog"}
	if err := b.client.UpdateDomain(ctx, d); err != nil {
		t.Fatal(err)
	}
	d.ID = "dom_99"
	if err := b.client.UpdateDomain(ctx, d); err == nil || !asAPIError(t, err).NotFound() {
		t.Errorf("wrong domain id: %v", err)
	}
	if got := b.panel.Services()[1].Domain; got != "blog.acme.test" {
		t.Errorf("domain = %q", got)
	}

	if err := b.client.DestroyApp(ctx, "sites", "acme-blog"); err != nil {
		t.Fatal(err)
	}
	if err := b.client.DestroyMariaDB(ctx, "sites", "acme-blog-db"); err != nil {
		t.Fatal(err)
	}
	if left := b.panel.Services(); len(left) != 0 {
		t.Errorf("services left: %+v", left)
	}
}

func wantEnabled(t *testing.T, b testBundle, inspections ...bool) {
	t.Helper()
	for i, want := range inspections {
		svc, err := b.client.InspectApp(t.Context(), "sites", "acme-blog")
		if err != nil {
			t.Fatal(err)
		}
		if svc.Enabled != want {
			t.Errorf("inspection %d: enabled = %v, want %v", i+1, svc.Enabled, want)
		}
	}
}

func TestLostReplyCreatesOnce(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := t.Context()
	b.panel.FailNextAfterApply("services.app.createService", http.StatusBadGateway, "upstream closed")
	_, err := b.client.CreateApp(ctx, sampleApp())
	if !asAPIError(t, err).Temporary() {
		t.Errorf("lost reply: %v, want a temporary error", err)
	}
	_, err = b.client.CreateApp(ctx, sampleApp())
	if !asAPIError(t, err).Conflict() {
		t.Errorf("retry: %v, want a conflict", err)
	}
	if services := b.panel.Services(); len(services) != 1 || services[0].Creates != 1 {
		t.Errorf("services %+v, want one created once", services)
	}
}

func TestServiceReadsNumericDomainID(t *testing.T) {
	t.Parallel()
	var svc easypanel.Service
	if err := json.Unmarshal([]byte(`{"name":"a","primaryDomainId":42,"enabled":true}`), &svc); err != nil {
		t.Fatal(err)
	}
	if svc.PrimaryDomainID != "42" || svc.Name != "a" || !svc.Enabled {
		t.Errorf("%+v", svc)
	}
}

func TestTransportErrorIsNotAPIError(t *testing.T) {
	t.Parallel()
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	client := easypanel.New(closed.URL, fakepanel.Email, fakepanel.Password, nil)
	_, err := client.ListProjectsAndServices(t.Context())
	if _, ok := errors.AsType[*easypanel.Error](err); ok || err == nil {
		t.Errorf("err = %v, want a transport error", err)
	}
}

// TestRefusalsEchoingThePasswordAreScrubbed (#17.3, #17.11): a panel message quoting the
// password, plain, base64 or as the email:password pair of basic auth, keeps none of them.
func TestRefusalsEchoingThePasswordAreScrubbed(t *testing.T) {
	t.Parallel()
	b := setup(t)
	pair := base64.StdEncoding.EncodeToString([]byte(fakepanel.Email + ":" + fakepanel.Password))
	echo := "bad " + fakepanel.Password + " / " + base64.StdEncoding.EncodeToString([]byte(fakepanel.Password)) +
		" / Basic " + pair + " / " + url.QueryEscape(fakepanel.Password+"&")
	b.panel.FailNext("services.app.stopService", http.StatusBadRequest, echo)
	err := b.client.StopApp(t.Context(), "sites", "acme-blog")
	if err == nil {
		t.Fatal("the refusal was not reported")
	}
	for _, form := range []string{fakepanel.Password, base64.StdEncoding.EncodeToString([]byte(fakepanel.Password)), pair} {
		if strings.Contains(err.Error(), form) {
			t.Errorf("the error shows %q: %v", form, err)
		}
	}
}

// TestLoginRefusedIsNamed (#17.11): a wrong password is ErrLoginRefused, not a failed call.
func TestLoginRefusedIsNamed(t *testing.T) {
	t.Parallel()
	panel := fakepanel.New(t)
	c := easypanel.New(panel.URL, fakepanel.Email, "wrong password", nil)
	if _, err := c.ListProjectsAndServices(t.Context()); !errors.Is(err, easypanel.ErrLoginRefused) {
		t.Errorf("wrong password: %v, want ErrLoginRefused", err)
	}
	panel.FailNext("auth.login", http.StatusInternalServerError, "internal error")
	c = easypanel.New(panel.URL, fakepanel.Email, fakepanel.Password, nil)
	if _, err := c.ListProjectsAndServices(t.Context()); err == nil || errors.Is(err, easypanel.ErrLoginRefused) {
		t.Errorf("a failing panel: %v, want an error that is not ErrLoginRefused", err)
	}
}

// TestDeployActionsTellTheDeploysState (#17.13, #17.14): a deploy is listed newest first with
// its state, running until it ends.
func TestDeployActionsTellTheDeploysState(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.panel.AddService("sites", "acme-blog", "app")
	ctx := t.Context()
	acts, err := b.client.DeployActions(ctx, "sites", "acme-blog")
	if err != nil || len(acts) != 0 {
		t.Fatalf("before any deploy: %v %v", acts, err)
	}
	for range 2 {
		if err := b.client.Deploy(ctx, "sites", "acme-blog"); err != nil {
			t.Fatal(err)
		}
	}
	acts, err = b.client.DeployActions(ctx, "sites", "acme-blog")
	if err != nil || len(acts) != 2 || acts[0].CreatedAt <= acts[1].CreatedAt {
		t.Fatalf("after two deploys: %+v %v, want two, newest first", acts, err)
	}
	if got, ok := easypanel.NewerThan(acts, acts[1]); !ok || got.ID != acts[0].ID {
		t.Errorf("newer than the first: %+v %v", got, ok)
	}
	if _, ok := easypanel.NewerThan(acts, acts[0]); ok {
		t.Error("a deploy newer than the newest")
	}
	if acts[0].Finished() {
		t.Fatalf("a deploy ended before the panel was looked at: %+v", acts[0])
	}
	// The fake ends a deploy after one look (its default delay).
	if acts, err = b.client.DeployActions(ctx, "sites", "acme-blog"); err != nil || acts[0].Status != easypanel.ActionDone {
		t.Errorf("deploy state after a look: %+v %v, want done", acts, err)
	}
}
