package httpapi_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/presswork/presswork/internal/ai"
	"github.com/presswork/presswork/internal/app/apptest"
	"github.com/presswork/presswork/internal/store"
)

// activePromptAnswer is an item of GET /v1/prompts.
type activePromptAnswer struct {
	Stage   string `json:"stage"`
	Source  string `json:"source"`
	Version *int   `json:"version"`
	System  string `json:"system"`
	User    string `json:"user"`
}

// activePrompts returns GET /v1/prompts by stage.
func activePrompts(t *testing.T, h *apptest.Harness, key string) map[string]activePromptAnswer {
	t.Helper()
	var l struct {
		Items []activePromptAnswer `json:"items"`
	}
	call(t, h, key, "GET", "/v1/prompts", "", nil).must(t, 200, &l)
	out := map[string]activePromptAnswer{}
	var stages []string
	for _, it := range l.Items {
		out[it.Stage] = it
		stages = append(stages, it.Stage)
	}
	if want := []string{"cluster_name", "ideas", "draft", "image_prompt"}; !slices.Equal(stages, want) {
		t.Fatalf("GET /v1/prompts lists stages %v, want %v", stages, want)
	}
	return out
}

// promptHistory lists a stage's versions as "3:revert* 2:override 1:override",
// newest first, the active one starred.
func promptHistory(t *testing.T, h *apptest.Harness, key, stage string) string {
	t.Helper()
	var l struct {
		Items []store.PromptVersion `json:"items"`
	}
	call(t, h, key, "GET", "/v1/prompts/"+stage+"/versions", "", nil).must(t, 200, &l)
	parts := make([]string, len(l.Items))
	for i, v := range l.Items {
		parts[i] = fmt.Sprintf("%d:%s", v.Version, v.Kind)
		if v.Active {
			parts[i] += "*"
		}
	}
	return strings.Join(parts, " ")
}

func checkDefault(t *testing.T, got activePromptAnswer) {
	t.Helper()
	def, err := ai.DefaultPrompt(ai.Stage(got.Stage))
	apptest.Must(t, err, "default prompt")
	if got.Source != "default" || got.Version != nil || got.System != def.System || got.User != def.User {
		t.Errorf("%s: source %q version %v, default templates %v; want the default", got.Stage, got.Source, got.Version,
			got.System == def.System && got.User == def.User)
	}
}

func TestPromptOverrides(t *testing.T) {
	t.Parallel()
	h := apptest.Start(t)
	a := newFixtureLite(t, h, "prompts-a")
	b := newFixtureLite(t, h, "prompts-b")

	for _, p := range activePrompts(t, h, a.Key) {
		checkDefault(t, p)
	}

	system1 := "You are the MARKER-1 writer{{with .SiteName}} for {{oneline .}}{{end}}."
	user1 := "Write {{oneline .Title}}.\n{{range .Outline}}- {{.Text}}\n{{end}}"
	var v store.PromptVersion
	callJSON(t, h, a.Key, "PUT", "/v1/prompts/draft", map[string]string{"system": system1, "user": user1}).must(t, 201, &v)
	if v.Version != 1 || v.Kind != store.PromptOverride || !v.Active || v.Stage != "draft" ||
		v.CreatedByKeyID == nil || *v.CreatedByKeyID != a.KeyID || *v.System != system1 || *v.User != user1 {
		t.Fatalf("first PUT answered %+v", v)
	}
	got := activePrompts(t, h, a.Key)
	if d := got["draft"]; d.Source != "override" || d.Version == nil || *d.Version != 1 || d.System != system1 || d.User != user1 {
		t.Errorf("GET /v1/prompts shows draft %+v, want override version 1", d)
	}
	checkDefault(t, got["ideas"])

	// The same templates again store nothing.
	callJSON(t, h, a.Key, "PUT", "/v1/prompts/draft", map[string]string{"system": system1, "user": user1}).must(t, 200, &v)
	if v.Version != 1 {
		t.Errorf("repeated PUT answered version %d, want 1", v.Version)
	}
	system2 := strings.Replace(system1, "MARKER-1", "MARKER-2", 1)
	callJSON(t, h, a.Key, "PUT", "/v1/prompts/draft", map[string]string{"system": system2, "user": user1}).must(t, 201, &v)
	if v.Version != 2 {
		t.Fatalf("second PUT answered version %d, want 2", v.Version)
	}
	if d := activePrompts(t, h, a.Key)["draft"]; d.Version == nil || *d.Version != 2 || d.System != system2 {
		t.Errorf("after the second PUT draft is %+v, want version 2", d)
	}

	// Invalid templates: 400 naming the field, nothing stored.
	before := state(t, h, a.Key, "/v1/prompts", "/v1/prompts/draft/versions")
	for _, bad := range []struct {
		name   string
		body   any
		fields []string
		says   string
	}{
		{"parse error", map[string]string{"system": system1, "user": "Write {{if .Title}}"}, []string{"user"}, "does not parse"},
		{"unknown field", map[string]string{"system": system1, "user": "Write {{.Nope}}"}, []string{"user"}, "Nope"},
		{"unknown function", map[string]string{"system": "{{shout .Title}}", "user": user1}, []string{"system"}, "shout"},
		{"both", map[string]string{"system": "{{.Keywords}}", "user": "{{.Nope}}"}, []string{"system", "user"}, "Keywords"},
		{"empty", map[string]string{"system": "", "user": user1}, []string{"system"}, "empty"},
		{"too long", map[string]string{"system": strings.Repeat("x", ai.MaxPromptTemplateLen+1), "user": user1}, []string{"system"}, "20000"},
		{"template call", map[string]string{"system": `{{template "user" .}}`, "user": user1}, []string{"system"}, "may not call"},
		{"endless loop", map[string]string{"system": "{{range 9223372036854775807}}{{end}}x", "user": user1}, []string{"system"}, "loops"},
		{"missing user", map[string]string{"system": system1}, []string{"user"}, "required"},
		{"not a string", map[string]any{"system": system1, "user": 3}, []string{"user"}, "string"},
		{"unknown body field", map[string]string{"system": system1, "user": user1, "model": "x"}, []string{"model"}, "not a known field"},
	} {
		p := callJSON(t, h, a.Key, "PUT", "/v1/prompts/draft", bad.body).problem(t, 400)
		if diff := cmp.Diff(bad.fields, fields(p)); diff != "" {
			t.Errorf("%s: fields (-want +got):\n%s", bad.name, diff)
		} else if !strings.Contains(p.Errors[0].Problem, bad.says) {
			t.Errorf("%s: problem %q does not say %q", bad.name, p.Errors[0].Problem, bad.says)
		}
	}
	// A template for another stage's input does not fit this one.
	callJSON(t, h, a.Key, "PUT", "/v1/prompts/cluster_name", map[string]string{"system": system1, "user": user1}).problem(t, 400)
	sameState(t, "invalid templates", before, state(t, h, a.Key, "/v1/prompts", "/v1/prompts/draft/versions"))

	// Another tenant sees none of it.
	for _, p := range activePrompts(t, h, b.Key) {
		checkDefault(t, p)
	}
	if got := promptHistory(t, h, b.Key, "draft"); got != "" {
		t.Errorf("another tenant's draft versions: %q", got)
	}

	// Reverting keeps the history; reverting again stores nothing.
	v = store.PromptVersion{}
	callJSON(t, h, a.Key, "DELETE", "/v1/prompts/draft", nil).must(t, 200, &v)
	if v.Version != 3 || v.Kind != store.PromptRevert || !v.Active || v.System != nil {
		t.Errorf("DELETE answered %+v, want revert version 3", v)
	}
	checkDefault(t, activePrompts(t, h, a.Key)["draft"])
	callJSON(t, h, a.Key, "DELETE", "/v1/prompts/draft", nil).must(t, 200, &v)
	if v.Version != 3 {
		t.Errorf("second DELETE answered version %d, want 3", v.Version)
	}
	if got, want := promptHistory(t, h, a.Key, "draft"), "3:revert* 2:override 1:override"; got != want {
		t.Errorf("draft versions %q, want %q", got, want)
	}
	// A stage never overridden has nothing to revert.
	if ans := callJSON(t, h, a.Key, "DELETE", "/v1/prompts/ideas", nil); ans.Status != http.StatusNoContent {
		t.Errorf("DELETE of a stage never overridden: status %d, want 204", ans.Status)
	}
	if got := promptHistory(t, h, a.Key, "ideas"); got != "" {
		t.Errorf("ideas versions %q after reverting a default", got)
	}

	// Pages of versions, newest first.
	var page struct {
		Items     []store.PromptVersion `json:"items"`
		NextAfter *int64                `json:"next_after"`
	}
	call(t, h, a.Key, "GET", "/v1/prompts/draft/versions?limit=2", "", nil).must(t, 200, &page)
	if len(page.Items) != 2 || page.NextAfter == nil || *page.NextAfter != 2 {
		t.Fatalf("first page %+v, next %v", page.Items, page.NextAfter)
	}
	page.NextAfter = nil
	call(t, h, a.Key, "GET", "/v1/prompts/draft/versions?limit=2&after=2", "", nil).must(t, 200, &page)
	if len(page.Items) != 1 || page.Items[0].Version != 1 || page.NextAfter != nil {
		t.Errorf("second page %+v, next %v", page.Items, page.NextAfter)
	}

	// Stages that do not exist are not found.
	for _, r := range []struct{ method, path string }{
		{"GET", "/v1/prompts/image/versions"}, {"PUT", "/v1/prompts/Draft"}, {"DELETE", "/v1/prompts/draft%00"},
		{"GET", "/v1/prompts/%FF/versions"},
	} {
		callJSON(t, h, a.Key, r.method, r.path, map[string]string{"system": system1, "user": user1}).problem(t, 404)
	}

	// Writes are audited.
	db := h.App.Store.SQLDB()
	defer db.Close()
	var audited []string
	rows, err := db.Query(`SELECT action || ' ' || target FROM audit_log WHERE tenant_id = $1 AND action LIKE 'prompt.%' ORDER BY id`, a.TenantID)
	apptest.Must(t, err, "read audit log")
	for rows.Next() {
		var s string
		apptest.Must(t, rows.Scan(&s), "scan audit log")
		audited = append(audited, s)
	}
	apptest.Must(t, rows.Err(), "read audit log")
	want := []string{"prompt.override prompt:draft version:1", "prompt.override prompt:draft version:2", "prompt.revert prompt:draft version:3"}
	if diff := cmp.Diff(want, audited); diff != "" {
		t.Errorf("audit log (-want +got):\n%s", diff)
	}
}
