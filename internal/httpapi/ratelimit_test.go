package httpapi_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/presswork/presswork/internal/app/apiapp"
	"github.com/presswork/presswork/internal/app/apptest"
	"github.com/presswork/presswork/internal/auth"
)

// secondKey gives a tenant another owner key.
func secondKey(t *testing.T, h *apptest.Harness, tenantID int64) string {
	t.Helper()
	key, prefix, hash := auth.NewAPIKey()
	_, err := h.App.Store.CreateAPIKey(context.Background(), tenantID, "owner", "second", prefix, hash)
	apptest.Must(t, err, "second key")
	return key
}

// refused checks a 429 problem with a Retry-After of at least a second.
func refused(t *testing.T, what string, a answer) {
	t.Helper()
	p := a.problem(t, 429)
	if p.Type != "https://presswork.dev/problems/rate-limited" {
		t.Errorf("%s: problem type %q", what, p.Type)
	}
	if s, err := strconv.Atoi(a.Header.Get("Retry-After")); err != nil || s < 1 {
		t.Errorf("%s: Retry-After %q, want whole seconds >= 1", what, a.Header.Get("Retry-After"))
	}
}

// TestRateLimitPerKey: at 6 requests a minute a key gets one request (its
// burst) and then 429s with Retry-After until its next place, about 10 s
// on; a refused request writes nothing; another key of the same tenant is
// counted apart; and a second API replica on the same Redis shares the
// count.
func TestRateLimitPerKey(t *testing.T) {
	t.Parallel()
	h := apptest.Start(t, apptest.WithEnv("API_RATE_PER_KEY", "6"))
	f := newFixtureLite(t, h, "limited") // its one request of the minute
	refused(t, "second request", call(t, h, f.Key, "GET", "/v1/sites", "", nil))
	site := []byte(`{"name":"Blog","url":"https://blog.example.com","username":"u","application_password":"abcd efgh ijkl mnop"}`)
	refused(t, "refused write", call(t, h, f.Key, "POST", "/v1/sites", "application/json", site))
	other := secondKey(t, h, f.TenantID)
	if n := countSites(t, h, other); n != 0 {
		t.Errorf("a refused POST /v1/sites wrote %d sites", n)
	}

	// Another replica: its own server and limiter, the same Redis.
	srv, enq := apiapp.New(h.App)
	replica := httptest.NewServer(srv.Handler())
	t.Cleanup(func() { replica.Close(); enq.Close() })
	refused(t, "the first key on another replica", callAt(t, replica.URL, f.Key, "GET", "/v1/sites"))
	refused(t, "the second key on another replica", callAt(t, replica.URL, other, "GET", "/v1/sites"))
}

// TestRateLimitPerTenant: with 6 requests a minute per tenant, the
// tenant's second key is refused after its first key used the tenant's
// place, while another tenant's request goes through.
func TestRateLimitPerTenant(t *testing.T) {
	t.Parallel()
	h := apptest.Start(t, apptest.WithEnv("API_RATE_PER_TENANT", "6"))
	f := newFixtureLite(t, h, "tenant-limited") // the tenant's one request
	refused(t, "the tenant's second key", call(t, h, secondKey(t, h, f.TenantID), "GET", "/v1/sites", "", nil))
	newFixtureLite(t, h, "tenant-free") // another tenant's request goes through
}

// callAt makes a request to another server than the harness's.
func callAt(t *testing.T, baseURL, key, method, path string) answer {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), method, baseURL+path, nil)
	apptest.Must(t, err, method, " ", path)
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	apptest.Must(t, err, method, " ", path)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	apptest.Must(t, err, "read ", path)
	return answer{Status: resp.StatusCode, Header: resp.Header, Body: body}
}
