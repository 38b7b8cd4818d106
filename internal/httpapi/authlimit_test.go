package httpapi_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/presswork/presswork/internal/app/apiapp"
	"github.com/presswork/presswork/internal/app/apptest"
	"github.com/presswork/presswork/internal/auth"
	"github.com/presswork/presswork/internal/httpapi"
)

// from sends one request straight to handler as if from the client
// address addr ("host:port"), with the header pairs given.
func from(t *testing.T, handler http.Handler, addr, method, path string, header ...string) answer {
	t.Helper()
	req := httptest.NewRequestWithContext(context.Background(), method, path, nil)
	req.RemoteAddr = addr
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	handler.ServeHTTP(rec, req)
	return answer{Status: rec.Code, Header: rec.Header(), Body: rec.Body.Bytes()}
}

func bearer(key string) []string { return []string{"Authorization", "Bearer " + key} }

const unknownKey = "pw_thisKeyDoesNotExist0000000000000"

// TestAuthFailuresLimited (#17.4): an address gets AuthFailuresPerMinute
// wrong keys a minute answered 401; after that every request from it is
// 429 with Retry-After before its key is looked up, wrong keys, the right
// key, operator keys, /monitoring's basic credentials and session cookies
// alike, also on another replica sharing the Redis and whatever
// X-Forwarded-For says. Other addresses are not affected; an IPv6 client
// is counted by its /64.
func TestAuthFailuresLimited(t *testing.T) {
	t.Parallel()
	h := apptest.Start(t)
	f := newFixtureLite(t, h, "authlimit")
	op := h.OperatorClient(t).Key
	api := h.API.Handler()
	const attacker, bystander = "203.0.113.7:40000", "198.51.100.9:40000"

	for i := range httpapi.AuthFailuresPerMinute {
		a := from(t, api, attacker, "GET", "/v1/tenant", bearer(unknownKey)...)
		if a.Status != http.StatusUnauthorized {
			t.Fatalf("wrong key %d of %d: status %d, want 401; body %s", i+1, httpapi.AuthFailuresPerMinute, a.Status, clipBody(a.Body))
		}
	}
	srv, enq := apiapp.New(h.App) // another replica on the same Redis
	t.Cleanup(func() { enq.Close() })
	session := sessionCookie(t, h, f.TenantID)
	for name, a := range map[string]answer{
		"another wrong key":       from(t, api, attacker, "GET", "/v1/tenant", bearer(unknownKey+"x")...),
		"the right key":           from(t, api, attacker, "GET", "/v1/tenant", bearer(f.Key)...),
		"the right key, spoofing": from(t, api, attacker, "GET", "/v1/tenant", append(bearer(f.Key), "X-Forwarded-For", "192.0.2.50")...),
		"an operator key":         from(t, api, attacker, "GET", "/v1/admin/tenants", bearer(op)...),
		"monitoring basic auth":   from(t, api, attacker, "GET", "/monitoring/api/queues", "Authorization", basicAuth(op)),
		"a session cookie":        from(t, api, attacker, "GET", "/v1/tenant", "Cookie", auth.SessionCookie+"="+session),
		"another replica":         from(t, srv.Handler(), attacker, "GET", "/v1/tenant", bearer(f.Key)...),
		"same address, new port":  from(t, api, "203.0.113.7:50000", "GET", "/v1/tenant", bearer(f.Key)...),
	} {
		refused(t, name, a)
		if p := a.problem(t, 429); p.Detail == "" {
			t.Errorf("%s: the problem has no detail", name)
		}
		if s, _ := strconv.Atoi(a.Header.Get("Retry-After")); s > 60 {
			t.Errorf("%s: Retry-After %d, want at most the minute's rest", name, s)
		}
	}
	// A request with no credential at all is not looked up: it is still 401.
	from(t, api, attacker, "GET", "/v1/tenant").problem(t, http.StatusUnauthorized)

	from(t, api, bystander, "GET", "/v1/tenant", bearer(f.Key)...).must(t, http.StatusOK, nil)
	from(t, api, bystander, "GET", "/v1/tenant", "Cookie", auth.SessionCookie+"="+session).must(t, http.StatusOK, nil)
	from(t, api, bystander, "GET", "/v1/tenant", append(bearer(f.Key), "X-Forwarded-For", "203.0.113.7")...).
		must(t, http.StatusOK, nil)

	// IPv6: the failures of one /64 add up; the next /64 is another client.
	for i := range httpapi.AuthFailuresPerMinute {
		addr := "[2001:db8:1:2::" + string(rune('a'+i%6)) + "]:443"
		from(t, api, addr, "GET", "/v1/tenant", bearer(unknownKey)...).problem(t, http.StatusUnauthorized)
	}
	refused(t, "another address of the /64", from(t, api, "[2001:db8:1:2:ffff::1]:443", "GET", "/v1/tenant", bearer(f.Key)...))
	from(t, api, "[2001:db8:1:3::1]:443", "GET", "/v1/tenant", bearer(f.Key)...).must(t, http.StatusOK, nil)
}

// TestAuthFailuresOnlyFailuresCount: many requests with the right key, a
// key without the permission (403) and no key at all count nothing.
func TestAuthFailuresOnlyFailuresCount(t *testing.T) {
	t.Parallel()
	h := apptest.Start(t)
	f := newFixtureLite(t, h, "authlimit-ok")
	api := h.API.Handler()
	const addr = "192.0.2.77:1234"
	for range httpapi.AuthFailuresPerMinute + 5 {
		from(t, api, addr, "GET", "/v1/tenant", bearer(f.Key)...).must(t, http.StatusOK, nil)
		from(t, api, addr, "GET", "/v1/admin/tenants", bearer(f.Key)...).problem(t, http.StatusForbidden)
		from(t, api, addr, "GET", "/v1/tenant").problem(t, http.StatusUnauthorized)
	}
	for range httpapi.AuthFailuresPerMinute - 1 {
		from(t, api, addr, "GET", "/v1/tenant", bearer(unknownKey)...).problem(t, http.StatusUnauthorized)
	}
	from(t, api, addr, "GET", "/v1/tenant", bearer(f.Key)...).must(t, http.StatusOK, nil)

	// LimitAuthFailures(0) turns the limit off.
	h.API.LimitAuthFailures(0)
	for range 3 {
		from(t, api, addr, "GET", "/v1/tenant", bearer(unknownKey)...).problem(t, http.StatusUnauthorized)
	}
	from(t, api, addr, "GET", "/v1/tenant", bearer(f.Key)...).must(t, http.StatusOK, nil)
}

// sessionCookie signs a user of the tenant in and returns the session's
// token.
func sessionCookie(t *testing.T, h *apptest.Harness, tenantID int64) string {
	t.Helper()
	ctx := context.Background()
	u, err := h.App.Store.CreateUser(ctx, tenantID, "limit@example.com", "not a bcrypt hash: never signs in", "owner")
	apptest.Must(t, err, "user")
	token, _, _ := auth.NewAPIKey()
	apptest.Must(t, h.App.Store.CreateSession(ctx, auth.HashSecret(token), u.ID, "csrf", time.Now().Add(time.Hour)), "session")
	return token
}

func basicAuth(key string) string {
	req, _ := http.NewRequest(http.MethodGet, "/", nil)
	req.SetBasicAuth("operator", key)
	return req.Header.Get("Authorization")
}
