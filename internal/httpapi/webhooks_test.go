package httpapi_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/presswork/presswork/internal/app/apptest"
)

// TestWebhookSecretShownOnce: the secret is in the creation's answer only:
// not in reads, not in a replay of the same Idempotency-Key.
func TestWebhookSecretShownOnce(t *testing.T) {
	t.Parallel()
	h := apptest.Start(t)
	tk, _ := h.Tenant(t, "hook-secret", 0)
	body := map[string]any{"url": "https://hooks.example.com/a", "events": []string{"job.failed"}}
	var created struct {
		ID     int64  `json:"id"`
		Secret string `json:"secret"`
	}
	callJSON(t, h, tk.OwnerKey, "POST", "/v1/webhooks", body, "Idempotency-Key", "hook-1").must(t, 201, &created)
	if !strings.HasPrefix(created.Secret, "whsec_") || len(created.Secret) < 40 {
		t.Fatalf("secret %q", created.Secret)
	}
	replay := callJSON(t, h, tk.OwnerKey, "POST", "/v1/webhooks", body, "Idempotency-Key", "hook-1")
	replay.must(t, 201, nil)
	for _, a := range []answer{replay, call(t, h, tk.OwnerKey, "GET", fmt.Sprintf("/v1/webhooks/%d", created.ID), "", nil),
		call(t, h, tk.OwnerKey, "GET", "/v1/webhooks", "", nil)} {
		if strings.Contains(string(a.Body), created.Secret) || strings.Contains(string(a.Body), `"secret"`) {
			t.Errorf("the secret shown again: %s", a.Body)
		}
	}
}

// TestWebhookBadInput: each bad field is a 400 naming it.
func TestWebhookBadInput(t *testing.T) {
	t.Parallel()
	h := apptest.Start(t, apptest.WithEnv("ALLOW_PRIVATE_URLS", "false"))
	tk, _ := h.Tenant(t, "hook-bad", 0)
	for _, tt := range []struct {
		body  map[string]any
		field string
	}{
		{map[string]any{"events": []string{"job.failed"}}, "url"},
		{map[string]any{"url": "http://hooks.example.com/a", "events": []string{"job.failed"}}, "url"},
		{map[string]any{"url": "https://127.0.0.1/a", "events": []string{"job.failed"}}, "url"},
		{map[string]any{"url": "https://localhost/a", "events": []string{"job.failed"}}, "url"},
		{map[string]any{"url": "https://2130706433/a", "events": []string{"job.failed"}}, "url"},
		{map[string]any{"url": "https://u:p@hooks.example.com/a", "events": []string{"job.failed"}}, "url"},
		{map[string]any{"url": "https://hooks.example.com/a"}, "events"},
		{map[string]any{"url": "https://hooks.example.com/a", "events": []string{}}, "events"},
		{map[string]any{"url": "https://hooks.example.com/a", "events": []string{"job.exploded"}}, "events[0]"},
		{map[string]any{"url": "https://hooks.example.com/a", "events": []string{"job.failed", "job.failed"}}, "events[1]"},
	} {
		a := callJSON(t, h, tk.OwnerKey, "POST", "/v1/webhooks", tt.body)
		a.problem(t, http.StatusBadRequest)
		if !strings.Contains(string(a.Body), `"`+tt.field+`"`) {
			t.Errorf("%v: %s, want the field %s named", tt.body, a.Body, tt.field)
		}
	}
}
