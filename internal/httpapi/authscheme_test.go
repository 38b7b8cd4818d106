package httpapi_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/presswork/presswork/internal/app/apptest"
)

// TestAuthSchemeCaseInsensitive (#17.8): the Authorization scheme is
// matched without regard to case (RFC 9110, section 11.1), Bearer on the
// API and the dashboard and Basic on the dashboard; another scheme, or
// none, is still 401.
func TestAuthSchemeCaseInsensitive(t *testing.T) {
	t.Parallel()
	h := apptest.Start(t)
	f := newFixtureLite(t, h, "scheme")
	op := h.OperatorClient(t).Key
	for _, scheme := range []string{"Bearer", "bearer", "BEARER", "bEaReR"} {
		call(t, h, "", "GET", "/v1/tenant", "", nil, "Authorization", scheme+" "+f.Key).must(t, http.StatusOK, nil)
		call(t, h, "", "GET", "/v1/admin/tenants", "", nil, "Authorization", scheme+" "+op).must(t, http.StatusOK, nil)
		call(t, h, "", "GET", "/monitoring/api/queues", "", nil, "Authorization", scheme+" "+op).must(t, http.StatusOK, nil)
	}
	call(t, h, "", "GET", "/v1/tenant", "", nil, "Authorization", "Bearer   "+f.Key).must(t, http.StatusOK, nil)
	basic := strings.TrimPrefix(basicAuth(op), "Basic ")
	for _, scheme := range []string{"Basic", "basic", "BASIC"} {
		call(t, h, "", "GET", "/monitoring/api/queues", "", nil, "Authorization", scheme+" "+basic).must(t, http.StatusOK, nil)
	}
	for _, auth := range []string{"Token " + f.Key, "Bearer" + f.Key, "Bearerx " + f.Key, f.Key, "bearer", "bearer  "} {
		call(t, h, "", "GET", "/v1/tenant", "", nil, "Authorization", auth).problem(t, http.StatusUnauthorized)
	}
}
