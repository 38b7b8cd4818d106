package httpapi_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/presswork/presswork/internal/app/apptest"
	"github.com/presswork/presswork/internal/auth"
)

// TestMonitoringSession: an operator person signed in to the web interface
// opens the queue dashboard with the session alone (and finds it in the
// navigation); a tenant person's session is refused; without a session or
// credentials the browser is asked for basic credentials, which still work.
func TestMonitoringSession(t *testing.T) {
	t.Parallel()
	h := apptest.Start(t)
	tenant := newFixtureLite(t, h, "monitoring-session")
	cookie := func(token string) []string { return []string{"Cookie", auth.SessionCookie + "=" + token} }
	operator := cookie(operatorSession(t, h))
	owner := cookie(sessionCookie(t, h, tenant.TenantID))

	a := call(t, h, "", "GET", "/ui/tenants", "", nil, operator...)
	a.must(t, http.StatusOK, nil)
	if !strings.Contains(string(a.Body), `href="/monitoring"`) {
		t.Errorf("the operator's navigation has no link to /monitoring: %s", clipBody(a.Body))
	}

	for _, path := range []string{"/monitoring", "/monitoring/api/queues"} {
		call(t, h, "", "GET", path, "", nil, operator...).must(t, http.StatusOK, nil)
		call(t, h, "", "GET", path, "", nil, owner...).problem(t, http.StatusForbidden)
		call(t, h, "", "GET", path, "", nil, cookie("pw_thisSessionDoesNotExist000000000")...).problem(t, http.StatusUnauthorized)
		a := call(t, h, "", "GET", path, "", nil)
		a.problem(t, http.StatusUnauthorized)
		if got, want := a.Header.Get("WWW-Authenticate"), `Basic realm="presswork monitoring"`; got != want {
			t.Errorf("GET %s without credentials: WWW-Authenticate %q, want %q", path, got, want)
		}
		// Basic credentials (scripts) win over a session cookie.
		call(t, h, "", "GET", path, "", nil, "Authorization", basicAuth(h.OperatorClient(t).Key)).must(t, http.StatusOK, nil)
		call(t, h, "", "GET", path, "", nil, append(owner, "Authorization", basicAuth(h.OperatorClient(t).Key))...).
			must(t, http.StatusOK, nil)
		call(t, h, "", "GET", path, "", nil, append(operator, "Authorization", basicAuth(tenant.Key))...).
			problem(t, http.StatusForbidden)
	}

	// The dashboard's own writes carry no CSRF header: the session is
	// enough from the same origin, and refused from another site.
	pause := "/monitoring/api/queues/monitoring-session:pause"
	call(t, h, "", "POST", pause, "", nil, append(operator, "Sec-Fetch-Site", "cross-site")...).must(t, http.StatusForbidden, nil)
	call(t, h, "", "POST", pause, "", nil, owner...).problem(t, http.StatusForbidden)
	call(t, h, "", "POST", pause, "", nil, append(operator, "Sec-Fetch-Site", "same-origin")...).must(t, http.StatusNoContent, nil)
}

// operatorSession makes an operator person (of no tenant) and returns the
// token of a session of theirs.
func operatorSession(t *testing.T, h *apptest.Harness) string {
	t.Helper()
	ctx := context.Background()
	u, err := h.App.Store.CreateUser(ctx, 0, "ops@example.com", "not a bcrypt hash: never signs in", "operator")
	apptest.Must(t, err, "operator")
	token, _, _ := auth.NewAPIKey()
	apptest.Must(t, h.App.Store.CreateSession(ctx, auth.HashSecret(token), u.ID, "csrf", time.Now().Add(time.Hour)), "session")
	return token
}
