package e2e_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/presswork/presswork/internal/ai/openai/fakeopenai"
	"github.com/presswork/presswork/internal/app/apptest"
	"github.com/presswork/presswork/internal/secret"
)

// TestTenantURLsStayOffPrivateNetworks: unless the operator allows private
// addresses, the API refuses tenants' URLs that name them, and the worker
// refuses to connect to one even when the URL got past the API (a name
// resolving there, or a setting saved before the rule).
func TestTenantURLsStayOffPrivateNetworks(t *testing.T) {
	t.Parallel()
	fake := fakeopenai.New(t)
	fake.SetContent(answerFromPrompt)
	h := apptest.Start(t, apptest.WithEnv("ALLOW_PRIVATE_URLS", "false"))
	h.StartWorker(t)
	run, c := startTenant(t, h, "guarded", "Guarded Kitchen")
	ctx := context.Background()

	for _, body := range []map[string]string{
		{"api_key": "sk-guarded-key", "base_url": fake.BaseURL()},
		{"api_key": "sk-guarded-key", "base_url": "http://localhost:11434/v1"},
		{"api_key": "sk-guarded-key", "base_url": "https://169.254.169.254/v1"},
	} {
		err := c.Do(ctx, http.MethodPut, "/v1/ai-settings/openai", body, nil)
		if err == nil || !strings.Contains(err.Error(), "base_url") || !strings.Contains(err.Error(), "HTTP 400") {
			t.Errorf("PUT base_url %s: %v, want a 400 naming base_url", body["base_url"], err)
		}
	}
	for _, u := range []string{"https://10.0.0.7", "http://127.0.0.1:8080", "https://[::1]/blog"} {
		err := c.Do(ctx, http.MethodPost, "/v1/sites", map[string]string{"name": "Internal", "url": u,
			"username": "editor", "application_password": "abcd"}, nil)
		if err == nil || !strings.Contains(err.Error(), `"url"`) || !strings.Contains(err.Error(), "HTTP 400") {
			t.Errorf("POST site with url %s: %v, want a 400 naming url", u, err)
		}
	}

	// A loopback base URL stored without the API's check: the worker
	// refuses to connect and fails the job for good.
	run.cluster()
	var tenant struct {
		ID int64 `json:"id"`
	}
	apptest.Must(t, c.Do(ctx, http.MethodGet, "/v1/tenant", nil, &tenant), "GET tenant")
	tenantID := tenant.ID
	sealed, err := h.App.Box.Seal([]byte("sk-guarded-key"), secret.OpenAIKeyAD(tenantID))
	apptest.Must(t, err, "seal")
	base := fake.BaseURL()
	_, err = h.App.Store.SetTenantOpenAIKey(ctx, tenantID, sealed, "sk-…-key", &base)
	apptest.Must(t, err, "store the setting")
	j := run.waitFailed(run.startIdeas())
	if msg := apptest.Deref(j.LastError); !strings.Contains(msg, "ALLOW_PRIVATE_URLS") || j.Attempts != 1 {
		t.Errorf("job against a loopback base URL: %d attempts, error %q", j.Attempts, msg)
	}
	if n := len(fake.Requests()); n != 0 {
		t.Errorf("the loopback server got %d requests", n)
	}
}
