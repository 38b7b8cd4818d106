package ai

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/presswork/presswork/internal/errs"
)

func TestDefaultPromptsPassCheckPrompt(t *testing.T) {
	for _, stage := range PromptStages() {
		p, err := DefaultPrompt(stage)
		if err != nil {
			t.Fatal(err)
		}
		if err := CheckPrompt(stage, p.System, p.User); err != nil {
			t.Errorf("%s: the default templates fail CheckPrompt: %v", stage, err)
		}
	}
	if _, err := DefaultPrompt("nope"); err == nil {
		t.Error("DefaultPrompt of an unknown stage: no error")
	}
	if err := CheckPrompt("nope", "a", "b"); problemFields(t, err)[0] != "stage" {
		t.Errorf("CheckPrompt of an unknown stage: %v", err)
	}
}

func TestCheckPrompt(t *testing.T) {
	ok := "Write about {{oneline .Title}}."
	tests := []struct {
		name         string
		stage        Stage
		system, user string
		want         []string // fields
		problem      string   // part of the first problem
	}{
		{"ok", StageDraft, "You write for {{with .SiteName}}{{.}}{{else}}a blog{{end}}.", ok, nil, ""},
		{"ok with loops and printf", StageIdeas, `{{range $i, $k := .Keywords}}{{printf "%03d" $i}} {{keyword $k}}{{end}}`,
			`{{range .Count}}idea {{.}} {{end}}{{html .ClusterName}}`, nil, ""},
		{"parse error", StageDraft, ok, "Write {{if .Title}}", []string{"user"}, "does not parse"},
		{"unknown function", StageDraft, "{{shout .Title}}", ok, []string{"system"}, `function "shout" not defined`},
		{"unknown field", StageDraft, ok, "Write {{.Nope}}", []string{"user"}, "can't evaluate field Nope"},
		{"unknown field in the minimal sample's branch", StageIdeas, "About {{.ClusterName}}.",
			"{{with .ClusterDescription}}{{.}}{{else}}{{.Nope}}{{end}}", []string{"user"}, "Nope"},
		{"both fields", StageClusterName, "{{.Title}}", "{{.Nope}}", []string{"system", "user"}, "Title"},
		{"empty", StageDraft, " \n", ok, []string{"system"}, "must not be empty"},
		{"renders empty", StageDraft, ok, "{{if false}}x{{end}}  ", []string{"user"}, "renders to empty text"},
		{"too long", StageDraft, strings.Repeat("é", MaxPromptTemplateLen+1), ok, []string{"system"}, "at most 20000"},
		{"longest", StageDraft, strings.Repeat("é", MaxPromptTemplateLen), ok, nil, ""},
		{"NUL", StageDraft, ok, "Write\x00 it", []string{"user"}, "control characters"},
		{"invalid UTF-8", StageDraft, ok, "Write \xff", []string{"user"}, "UTF-8"},
		{"define", StageDraft, `{{define "x"}}x{{end}}{{template "x"}}`, ok, []string{"system"}, "may not define"},
		{"block", StageDraft, `{{block "x" .}}x{{end}}`, ok, []string{"system"}, "may not define"},
		{"template call", StageDraft, `{{template "system" .}}`, ok, []string{"system"}, "may not call templates"},
		{"endless loop", StageDraft, "{{range 9223372036854775807}}{{end}}x", ok, []string{"system"}, "loops run more than"},
		{"nested loops", StageDraft, "{{range 1000}}{{range 1000}}{{range 1000}}{{end}}{{end}}{{end}}x", ok,
			[]string{"system"}, "loops run more than"},
		{"loop over data", StageDraft, ok, "{{range .Outline}}{{range 1000000}}{{end}}{{end}}x", []string{"user"}, "loops run more than"},
		{"huge output", StageDraft, "{{range 4000}}" + strings.Repeat("x", 100) + "{{end}}", ok, []string{"system"}, "longer than 100000 bytes"},
		{"doubling", StageDraft, `{{$s := "xxxxxxxxxx"}}{{range 40}}{{$s = print $s $s}}{{end}}{{$s}}`, ok,
			[]string{"system"}, "longer than 20000 bytes"},
		{"wide printf", StageDraft, `{{printf "%0999999d" 1}}`, ok, []string{"system"}, "below 1000"},
		{"star printf", StageDraft, `{{printf "%0*d" 999999 1}}`, ok, []string{"system"}, "below 1000"},
		{"printf with a year", StageDraft, `{{printf "100%% in 2025: %s" .Title}}`, ok, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			err := CheckPrompt(tt.stage, tt.system, tt.user)
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("CheckPrompt took %s", d)
			}
			got := problemFields(t, err)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Fatalf("fields (-want +got):\n%s\nerror: %v", diff, err)
			}
			if tt.problem != "" {
				var ve *errs.ValidationError
				errors.As(err, &ve)
				if !strings.Contains(ve.Problems[0].Problem, tt.problem) {
					t.Errorf("problem %q does not say %q", ve.Problems[0].Problem, tt.problem)
				}
			}
		})
	}
}

func TestWithPrompts(t *testing.T) {
	m := answers(JSONResponse{Content: jsonOf(t, sampleDraft())}, JSONResponse{Content: jsonOf(t, sampleDraft())},
		JSONResponse{Content: jsonOf(t, ClusterName{Name: "Trail Shoes", Description: "About trail shoes."})})
	w := newWriter(t, m)
	custom, err := w.WithPrompts(map[Stage]PromptPair{StageDraft: {
		System: "MARKER-SYS for {{with .SiteName}}{{oneline .}}{{end}}",
		User:   "MARKER-USER {{oneline .Title}}\n{{range .Outline}}- {{.Text}}\n{{end}}",
	}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	in := sampleDraftInput()
	if _, _, err := custom.Draft(ctx, in); err != nil {
		t.Fatal(err)
	}
	if _, _, err := w.Draft(ctx, in); err != nil {
		t.Fatal(err)
	}
	if _, _, err := custom.NameCluster(ctx, sampleClusterNameInput()); err != nil {
		t.Fatal(err)
	}
	wantUser := "MARKER-USER " + in.Title + "\n"
	for _, h := range in.Outline {
		wantUser += "- " + h.Text + "\n"
	}
	if got := m.calls[0]; got.System != "MARKER-SYS for Trail & Tarmac" || got.Prompt != strings.TrimSpace(wantUser) {
		t.Errorf("override rendered system %q, user %q", got.System, got.Prompt)
	}
	defSystem, defUser, err := RenderPrompt(StageDraft, in)
	if err != nil {
		t.Fatal(err)
	}
	if got := m.calls[1]; got.System != defSystem || got.Prompt != defUser {
		t.Error("WithPrompts changed the writer it was called on")
	}
	cSystem, cUser, _ := RenderPrompt(StageClusterName, sampleClusterNameInput())
	if got := m.calls[2]; got.System != cSystem || got.Prompt != cUser {
		t.Error("a stage without an override does not use its default")
	}

	if _, err := w.WithPrompts(map[Stage]PromptPair{StageDraft: {System: "{{if}}", User: "x"}}); problemFields(t, err)[0] != "system" {
		t.Errorf("a template that does not parse: %v", err)
	}
	if _, err := w.WithPrompts(map[Stage]PromptPair{"nope": {System: "x", User: "x"}}); !errors.Is(err, errs.ErrPermanent) {
		t.Errorf("an unknown stage: %v", err)
	}
}

func TestOverrideThatFailsToRenderIsPermanent(t *testing.T) {
	m := answers()
	w, err := newWriter(t, m).WithPrompts(map[Stage]PromptPair{StageDraft: {System: "ok", User: "{{.Nope}}"}})
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = w.Draft(context.Background(), sampleDraftInput())
	if !errors.Is(err, errs.ErrPermanent) || !strings.Contains(err.Error(), "Nope") {
		t.Errorf("err = %v, want a permanent error naming the field", err)
	}
	if len(m.calls) != 0 {
		t.Error("the model was called")
	}
}

func TestWithModel(t *testing.T) {
	first, second := answers(), answers(JSONResponse{Content: jsonOf(t, sampleDraft())})
	w := newWriter(t, first)
	w2, err := w.WithModel(second)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := w2.Draft(context.Background(), sampleDraftInput()); err != nil {
		t.Fatal(err)
	}
	if len(first.calls) != 0 || len(second.calls) != 1 {
		t.Errorf("calls: first model %d, second %d; want 0 and 1", len(first.calls), len(second.calls))
	}
	if _, err := w.WithModel(nil); err == nil {
		t.Error("WithModel(nil) succeeded")
	}
}

func TestParsePromptStage(t *testing.T) {
	for _, s := range PromptStages() {
		if got, ok := ParsePromptStage(string(s)); !ok || got != s {
			t.Errorf("ParsePromptStage(%q) = %q, %v", s, got, ok)
		}
	}
	for _, s := range []string{"", "Draft", "image", "draft "} {
		if _, ok := ParsePromptStage(s); ok {
			t.Errorf("ParsePromptStage(%q) succeeded", s)
		}
	}
}
