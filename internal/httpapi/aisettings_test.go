package httpapi_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/presswork/presswork/internal/app/apptest"
	"github.com/presswork/presswork/internal/secret"
)

type aiSettingsAnswer struct {
	OpenAI struct {
		Configured bool    `json:"configured"`
		KeyHint    *string `json:"key_hint"`
		BaseURL    *string `json:"base_url"`
	} `json:"openai"`
}

func TestAISettings(t *testing.T) {
	t.Parallel()
	h := apptest.Start(t)
	a := newFixtureLite(t, h, "ai-a")
	b := newFixtureLite(t, h, "ai-b")
	const key = "sk-proj-SECRETtenantKEY0123456789abcd"
	secretParts := []string{key, "SECRETtenantKEY", "0123456789abcd"}

	// Every answer of this test is checked for the key.
	var answers []answer
	do := func(key, method, path string, body any) answer {
		t.Helper()
		ans := callJSON(t, h, key, method, path, body)
		answers = append(answers, ans)
		return ans
	}
	get := func(key string) aiSettingsAnswer {
		t.Helper()
		var s aiSettingsAnswer
		do(key, "GET", "/v1/ai-settings", nil).must(t, 200, &s)
		return s
	}

	if s := get(a.Key); s.OpenAI.Configured || s.OpenAI.KeyHint != nil || s.OpenAI.BaseURL != nil {
		t.Errorf("settings before any PUT: %+v", s)
	}
	var s aiSettingsAnswer
	do(a.Key, "PUT", "/v1/ai-settings/openai", map[string]string{"api_key": " " + key + "\n", "base_url": "https://llm.example.com/v1/"}).must(t, 200, &s)
	if !s.OpenAI.Configured || s.OpenAI.KeyHint == nil || *s.OpenAI.KeyHint != "sk-…abcd" ||
		s.OpenAI.BaseURL == nil || *s.OpenAI.BaseURL != "https://llm.example.com/v1" {
		t.Errorf("PUT answered %+v", s)
	}
	if diff := cmp.Diff(s, get(a.Key)); diff != "" {
		t.Errorf("GET after PUT (-put +get):\n%s", diff)
	}
	if s := get(b.Key); s.OpenAI.Configured {
		t.Errorf("another tenant's settings: %+v", s)
	}

	// The stored key is sealed, bound to the tenant.
	readEnc := func() []byte {
		t.Helper()
		db := h.App.Store.SQLDB()
		defer db.Close()
		var enc []byte
		apptest.Must(t, db.QueryRow(`SELECT openai_api_key_enc FROM tenant_ai_settings WHERE tenant_id = $1`, a.TenantID).Scan(&enc), "read the sealed key")
		return enc
	}
	enc := readEnc()
	for _, part := range secretParts {
		if bytes.Contains(enc, []byte(part)) {
			t.Errorf("the stored bytes contain %q", part)
		}
	}
	plain, err := h.App.Box.Open(enc, secret.OpenAIKeyAD(a.TenantID))
	if err != nil || string(plain) != key {
		t.Errorf("opening the stored key: %q, %v", plain, err)
	}
	if _, err := h.App.Box.Open(enc, secret.OpenAIKeyAD(b.TenantID)); err == nil {
		t.Error("the sealed key opens as another tenant's")
	}

	// Invalid inputs: 400 naming the field; nothing changes.
	before := get(a.Key)
	for _, bad := range []struct {
		body  any
		field string
	}{
		{map[string]string{"base_url": "https://llm.example.com/v1"}, "api_key"},
		{map[string]string{"api_key": ""}, "api_key"},
		{map[string]string{"api_key": "  "}, "api_key"},
		{map[string]string{"api_key": "sk-" + strings.Repeat("x", 198)}, "api_key"},
		{map[string]string{"api_key": "sk-SECRETtenantKEY with space"}, "api_key"},
		{map[string]string{"api_key": "sk-SECRETtenantKEYé"}, "api_key"},
		{map[string]string{"api_key": "sk-SECRETtenantKEY\x00"}, "api_key"},
		{map[string]any{"api_key": 42}, "api_key"},
		{map[string]string{"api_key": key, "base_url": "http://llm.example.com/v1"}, "base_url"},
		{map[string]string{"api_key": key, "base_url": "ftp://llm.example.com/v1"}, "base_url"},
		{map[string]string{"api_key": key, "base_url": "llm.example.com/v1"}, "base_url"},
		{map[string]string{"api_key": key, "base_url": "https://user:pw@llm.example.com/v1"}, "base_url"},
		{map[string]string{"api_key": key, "base_url": "https://llm.example.com/v1?x=1"}, "base_url"},
		{map[string]string{"api_key": key, "base_url": "https://llm.example.com/" + strings.Repeat("v", 2000)}, "base_url"},
		{map[string]string{"api_key": key, "organization": "x"}, "organization"},
	} {
		p := do(a.Key, "PUT", "/v1/ai-settings/openai", bad.body).problem(t, 400)
		if f := fields(p); len(f) != 1 || f[0] != bad.field {
			t.Errorf("PUT %v: fields %v, want [%s]", bad.body, f, bad.field)
		}
	}
	if diff := cmp.Diff(before, get(a.Key)); diff != "" {
		t.Errorf("settings changed by invalid PUTs (-before +after):\n%s", diff)
	}
	if !bytes.Equal(enc, readEnc()) {
		t.Error("the stored key changed by invalid PUTs")
	}

	// Plain http only for this machine; an empty base URL means OpenAI's API.
	for _, u := range []string{"http://127.0.0.1:11434/v1", "http://localhost:8000/v1", "http://[::1]/v1"} {
		do(a.Key, "PUT", "/v1/ai-settings/openai", map[string]string{"api_key": key, "base_url": u}).must(t, 200, &s)
		if s.OpenAI.BaseURL == nil || *s.OpenAI.BaseURL != u {
			t.Errorf("base URL %s stored as %v", u, s.OpenAI.BaseURL)
		}
	}
	do(a.Key, "PUT", "/v1/ai-settings/openai", map[string]string{"api_key": "sk-short", "base_url": ""}).must(t, 200, &s)
	if s.OpenAI.BaseURL != nil || *s.OpenAI.KeyHint != "sk-…" {
		t.Errorf("a short key without a base URL: %+v", s)
	}

	// Removing the key.
	do(a.Key, "DELETE", "/v1/ai-settings/openai", nil).must(t, 200, &s)
	if s.OpenAI.Configured || s.OpenAI.KeyHint != nil {
		t.Errorf("DELETE answered %+v", s)
	}
	if s := get(a.Key); s.OpenAI.Configured {
		t.Errorf("GET after DELETE: %+v", s)
	}
	do(a.Key, "DELETE", "/v1/ai-settings/openai", nil).must(t, 200, nil)

	// Editors may neither read nor change the settings.
	var editor struct {
		Key string `json:"key"`
	}
	callJSON(t, h, a.Key, "POST", "/v1/api-keys", map[string]string{"name": "ed", "role": "editor"}).must(t, 201, &editor)
	do(editor.Key, "GET", "/v1/ai-settings", nil).problem(t, 403)
	do(editor.Key, "PUT", "/v1/ai-settings/openai", map[string]string{"api_key": key}).problem(t, 403)

	// No answer, and no audit entry, ever showed the key.
	for _, ans := range answers {
		for _, part := range secretParts {
			if bytes.Contains(ans.Body, []byte(part)) {
				t.Errorf("an answer shows %q: %s", part, clipBody(ans.Body))
			}
		}
	}
	db := h.App.Store.SQLDB()
	defer db.Close()
	var audit []byte
	apptest.Must(t, db.QueryRow(`SELECT coalesce(json_agg(a), '[]')::text FROM audit_log a WHERE tenant_id = $1`, a.TenantID).Scan(&audit), "read audit log")
	if bytes.Contains(audit, []byte("SECRET")) || !bytes.Contains(audit, []byte("ai_settings.openai.set")) {
		t.Errorf("audit log: %s", audit)
	}
	var actions []string
	var rows []struct {
		Action string `json:"action"`
	}
	apptest.Must(t, json.Unmarshal(audit, &rows), "decode audit log")
	for _, r := range rows {
		if strings.HasPrefix(r.Action, "ai_settings.") {
			actions = append(actions, r.Action)
		}
	}
	if len(actions) != 7 {
		t.Errorf("audited AI settings actions %v, want 5 sets and 2 clears", actions)
	}
}
