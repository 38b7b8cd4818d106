package ai

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/presswork/presswork/internal/errs"
)

// draftOnce runs the draft stage on a fake model that answers d once and
// fails the test on a second call.
func draftOnce(t *testing.T, d Draft) Draft {
	t.Helper()
	m := answers(JSONResponse{Content: jsonOf(t, d)})
	got, _, err := newWriter(t, m).Draft(context.Background(), sampleDraftInput())
	if err != nil {
		t.Fatal(err)
	}
	if len(m.calls) != 1 {
		t.Fatalf("calls = %d, want 1 (no repair call)", len(m.calls))
	}
	return got
}

// fixedFields lists the fields of d.Fixes.
func fixedFields(d Draft) []string {
	var out []string
	for _, f := range d.Fixes {
		out = append(out, f.Field)
	}
	return out
}

func TestDraftLongMetaTitleIsCutWithoutARepairCall(t *testing.T) {
	d := sampleDraft()
	d.MetaTitle = "How to Choose Trail Running Shoes: Grip, Fit and Terrain Tips"
	if n := runes(d.MetaTitle); n != 61 {
		t.Fatalf("meta title has %d characters, want 61", n)
	}
	got := draftOnce(t, d)
	if want := "How to Choose Trail Running Shoes: Grip, Fit and Terrain"; got.MetaTitle != want {
		t.Errorf("meta title = %q, want %q", got.MetaTitle, want)
	}
	if diff := cmp.Diff([]string{"meta_title"}, fixedFields(got)); diff != "" {
		t.Errorf("fixes (-want +got):\n%s\n%+v", diff, got.Fixes)
	}
}

func TestDraftHeadingCaseIsAcceptedAndRewritten(t *testing.T) {
	d := sampleDraft()
	d.BodyHTML = strings.NewReplacer(
		"<h2>Why Trail Shoes Differ from Road Shoes</h2>", `<h2 id="why">why trail shoes   DIFFER from road shoes?</h2>`,
		"<h3>Step 2: Check Grip &amp; Lugs</h3>", "<h3>Step 2: check <em>grip</em> &amp; lugs</h3>",
		"<h2>Common Mistakes to Avoid</h2>", "<h2> Common mistakes to avoid: </h2>",
	).Replace(d.BodyHTML)
	got := draftOnce(t, d)
	for _, want := range []string{`<h2 id="why">Why Trail Shoes Differ from Road Shoes</h2>`,
		"<h3>Step 2: Check Grip &amp; Lugs</h3>", "<h2>Common Mistakes to Avoid</h2>"} {
		if !strings.Contains(got.BodyHTML, want) {
			t.Errorf("body lacks %s:\n%s", want, got.BodyHTML)
		}
	}
	if diff := cmp.Diff([]string{"body_html", "body_html", "body_html"}, fixedFields(got)); diff != "" {
		t.Errorf("fixes (-want +got):\n%s", diff)
	}
	if err := ValidateDraft(sampleDraftInput(), got); err != nil {
		t.Errorf("the repaired draft does not validate: %v", err)
	}
}

func TestDraftOtherHeadingFaultsStillNeedTheModel(t *testing.T) {
	d := sampleDraft()
	d.BodyHTML = strings.Replace(d.BodyHTML, "Know Your Terrain", "Know the Terrain", 1)
	if _, err := ParseDraft(sampleDraftInput(), jsonOf(t, d)); err == nil {
		t.Error("a heading with other words was accepted")
	}
	d = sampleDraft()
	d.BodyHTML = strings.Replace(d.BodyHTML, "<h3>Step 1: Know Your Terrain</h3>", "<h2>Step 1: Know Your Terrain</h2>", 1)
	if _, err := ParseDraft(sampleDraftInput(), jsonOf(t, d)); err == nil {
		t.Error("a heading of the wrong level was accepted")
	}
}

func TestDraftFocusKeywordIsFixed(t *testing.T) {
	in := sampleDraftInput() // how to choose trail running shoes; trail running shoes; best ... for beginners
	tests := []struct{ focus, want string }{
		{"how to choose trail running shoes", "how to choose trail running shoes"},
		{"Trail  Running Shoes", "trail running shoes"},
		{"choose trail", "how to choose trail running shoes"},
		{"best trail running shoes for beginners 2026", "trail running shoes"},
		{"sneakers", "how to choose trail running shoes"},
		{"", "how to choose trail running shoes"},
	}
	for _, tt := range tests {
		d := sampleDraft()
		d.FocusKeyword = tt.focus
		got, err := ParseDraft(in, jsonOf(t, d))
		if err != nil {
			t.Errorf("focus %q: %v", tt.focus, err)
			continue
		}
		if got.FocusKeyword != tt.want {
			t.Errorf("focus %q became %q, want %q", tt.focus, got.FocusKeyword, tt.want)
		}
		if fixed := len(got.Fixes) > 0; fixed != (tt.focus != tt.want) {
			t.Errorf("focus %q: fixes %+v", tt.focus, got.Fixes)
		}
	}
	d := sampleDraft()
	d.FocusKeyword = "potty"
	got := draftOnce(t, d)
	if got.FocusKeyword != in.TargetKeywords[0] {
		t.Errorf("focus keyword = %q", got.FocusKeyword)
	}
}

func TestDraftShortIsAcceptedWithAWarning(t *testing.T) {
	got := draftOnce(t, sampleDraft())
	if len(got.Warnings) != 1 || got.Warnings[0].Field != "body_html" ||
		!strings.Contains(got.Warnings[0].Problem, "fewer than the 600 expected of a how_to") {
		t.Errorf("warnings = %+v", got.Warnings)
	}
	d := sampleDraft()
	d.BodyHTML += "<p>" + strings.Repeat("word ", 600) + "</p>"
	if got := draftOnce(t, d); got.Warnings != nil || got.Fixes != nil {
		t.Errorf("a long, valid draft has warnings %+v and fixes %+v", got.Warnings, got.Fixes)
	}
}

func TestDraftInvalidJSONIsRepairedWithTheAnswerAndItsProblems(t *testing.T) {
	bad := `{"title": "How to Choose Trail Running Shoes", "slug":`
	m := answers(JSONResponse{Content: []byte(bad)}, JSONResponse{Content: jsonOf(t, sampleDraft())})
	if _, _, err := newWriter(t, m).Draft(context.Background(), sampleDraftInput()); err != nil {
		t.Fatal(err)
	}
	if len(m.calls) != 2 {
		t.Fatalf("calls = %d, want 2", len(m.calls))
	}
	first, second := m.calls[0].Prompt, m.calls[1].Prompt
	if !strings.HasPrefix(second, first) {
		t.Fatal("the repair prompt does not start with the original prompt")
	}
	tail := second[len(first):]
	for _, want := range []string{
		"Your previous answer was invalid: the answer is not JSON that matches the schema: unexpected EOF.",
		"<previous_answer>\n" + bad + "\n</previous_answer>",
		"Return the whole document corrected",
	} {
		if !strings.Contains(tail, want) {
			t.Errorf("repair prompt lacks %q:\n%s", want, tail)
		}
	}
}

func TestDraftHardFaultIsRepairedWithTheAnswerAndItsProblems(t *testing.T) {
	d := sampleDraft()
	d.MetaTitle = strings.Repeat("x", 70) // fixed locally: not among the problems
	d.BodyHTML = strings.Replace(d.BodyHTML, "<h2>Common Mistakes to Avoid</h2>", "", 1)
	first := jsonOf(t, d)
	m := answers(JSONResponse{Content: first}, JSONResponse{Content: jsonOf(t, sampleDraft())})
	if _, _, err := newWriter(t, m).Draft(context.Background(), sampleDraftInput()); err != nil {
		t.Fatal(err)
	}
	if len(m.calls) != 2 {
		t.Fatalf("calls = %d, want 2", len(m.calls))
	}
	tail := strings.TrimPrefix(m.calls[1].Prompt, m.calls[0].Prompt)
	want := "Your previous answer was invalid: body_html: is missing outline[4] as <h2>Common Mistakes to Avoid</h2>"
	if !strings.Contains(tail, want) || !strings.Contains(tail, string(first)) || strings.Contains(tail, "meta_title:") {
		t.Errorf("repair prompt:\n%s", tail)
	}
}

func TestRefusalRepairHasNoPreviousAnswer(t *testing.T) {
	m := answers(JSONResponse{Refusal: "no"}, JSONResponse{Content: jsonOf(t, sampleDraft())})
	if _, _, err := newWriter(t, m).Draft(context.Background(), sampleDraftInput()); err != nil {
		t.Fatal(err)
	}
	tail := strings.TrimPrefix(m.calls[1].Prompt, m.calls[0].Prompt)
	if strings.Contains(tail, "<previous_answer>") || !strings.HasSuffix(tail, "Answer again with JSON that matches the schema.") {
		t.Errorf("repair prompt:\n%s", tail)
	}
}

func TestRepairPromptCapsThePreviousAnswer(t *testing.T) {
	p := repairPrompt("prompt", "problem", []byte(strings.Repeat("é", maxRepairAnswerRunes+10)))
	if n := strings.Count(p, "é"); n != maxRepairAnswerRunes || !strings.Contains(p, "[cut here]") {
		t.Errorf("quoted %d runes of the answer", n)
	}
}

func TestFitFields(t *testing.T) {
	in := sampleDraftInput()
	long := "Trail running shoes: how to choose grip, fit and protection for every trail and season, " +
		"and the mistakes beginners make when buying their very first pair of shoes."
	tests := []struct {
		name      string
		mod       func(d *Draft)
		field     string
		want      func(d Draft) string
		wantValue string
	}{
		// Cut at a word, and not after "of".
		{"long meta description cut at a word", func(d *Draft) { d.MetaDescription = long }, "meta_description",
			func(d Draft) string { return d.MetaDescription },
			"Trail running shoes: how to choose grip, fit and protection for every trail and season, " +
				"and the mistakes beginners make when buying their very first pair"},
		{"short meta description from the excerpt", func(d *Draft) { d.MetaDescription = "Too short." }, "meta_description",
			func(d Draft) string { return d.MetaDescription }, sampleDraft().Excerpt},
		{"empty meta title from the title", func(d *Draft) { d.MetaTitle = "" }, "meta_title",
			func(d Draft) string { return d.MetaTitle }, "How to Choose Trail Running Shoes for Your First Season"},
		{"long excerpt", func(d *Draft) { d.Excerpt = strings.Repeat("grip ", 70) }, "excerpt",
			func(d Draft) string { return d.Excerpt }, strings.TrimSpace(strings.Repeat("grip ", 60))},
		{"empty excerpt from the meta description", func(d *Draft) { d.Excerpt = "" }, "excerpt",
			func(d Draft) string { return d.Excerpt }, sampleDraft().MetaDescription},
		{"short title from the plan", func(d *Draft) { d.Title = "Shoes" }, "title",
			func(d Draft) string { return d.Title }, in.Title},
		{"long title", func(d *Draft) { d.Title = strings.Repeat("Trail ", 25) }, "title",
			func(d Draft) string { return d.Title }, strings.TrimSpace(strings.Repeat("Trail ", 20))},
		{"slug slugified", func(d *Draft) { d.Slug = "Größe & Straße: Trail-Schuhé!" }, "slug",
			func(d Draft) string { return d.Slug }, "grosse-and-strasse-trail-schuhe"},
		{"slug from the focus keyword", func(d *Draft) { d.Slug = "ランニング" }, "slug",
			func(d Draft) string { return d.Slug }, "how-to-choose-trail-running-shoes"},
		{"slug too long", func(d *Draft) { d.Slug = strings.Repeat("trail-", 20) + "shoes" }, "slug",
			func(d Draft) string { return d.Slug }, strings.TrimSuffix(strings.Repeat("trail-", 13), "-")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := sampleDraft()
			d.BodyHTML += "<p>" + strings.Repeat("word ", 600) + "</p>"
			tt.mod(&d)
			got, err := ParseDraft(in, jsonOf(t, d))
			if err != nil {
				t.Fatal(err)
			}
			if v := tt.want(got); v != tt.wantValue {
				t.Errorf("%s = %q, want %q", tt.field, v, tt.wantValue)
			}
			if diff := cmp.Diff([]string{tt.field}, fixedFields(got)); diff != "" {
				t.Errorf("fixes (-want +got):\n%s\n%+v", diff, got.Fixes)
			}
		})
	}
}

func TestCutAtWord(t *testing.T) {
	tests := []struct {
		s    string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"two words", 3, "two"},
		{"cut inside a word", 14, "cut inside a"},
		{"cut inside a word", 12, "cut inside a"},
		{"cut before, a comma", 11, "cut before"},
		{"Grip & fit", 7, "Grip"},
		{"oneverylongwordwithoutspaces", 10, "oneverylon"},
		{"a verylongwordwithoutspaces", 10, "a verylong"},
		{"ööö ööö", 5, "ööö"},
	}
	for _, tt := range tests {
		if got := cutAtWord(tt.s, tt.n); got != tt.want {
			t.Errorf("cutAtWord(%q, %d) = %q, want %q", tt.s, tt.n, got, tt.want)
		}
	}
}

func TestValidateDraftFocusKeywordIsATarget(t *testing.T) {
	d := sampleDraft()
	d.FocusKeyword = "trail running"
	if diff := cmp.Diff([]string{"focus_keyword"}, problemFields(t, ValidateDraft(sampleDraftInput(), d))); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
}

// schemaAt returns the schema node at path (property names, "[]" for items).
func schemaAt(t *testing.T, raw json.RawMessage, path ...string) map[string]any {
	t.Helper()
	var node map[string]any
	if err := json.Unmarshal(raw, &node); err != nil {
		t.Fatal(err)
	}
	for _, p := range path {
		if p == "[]" {
			node, _ = node["items"].(map[string]any)
		} else {
			props, _ := node["properties"].(map[string]any)
			node, _ = props[p].(map[string]any)
		}
		if node == nil {
			t.Fatalf("no schema at %v", path)
		}
	}
	return node
}

func TestRequestSchemasCarryTheInputsConstraints(t *testing.T) {
	ctx := context.Background()
	m := answers(JSONResponse{Content: jsonOf(t, sampleDraft())},
		JSONResponse{Content: jsonOf(t, IdeaList{Ideas: sampleIdeas()})})
	w := newWriter(t, m)
	if _, _, err := w.Draft(ctx, sampleDraftInput()); err != nil {
		t.Fatal(err)
	}
	if _, _, err := w.Ideas(ctx, sampleIdeasInput()); err != nil {
		t.Fatal(err)
	}
	focus := schemaAt(t, m.calls[0].Schema, "focus_keyword")
	if diff := cmp.Diff([]any{"how to choose trail running shoes", "trail running shoes",
		"best trail running shoes for beginners"}, focus["enum"]); diff != "" {
		t.Errorf("focus_keyword enum (-want +got):\n%s", diff)
	}
	ideas := schemaAt(t, m.calls[1].Schema, "ideas")
	if ideas["minItems"] != 3.0 || ideas["maxItems"] != 3.0 {
		t.Errorf("ideas: minItems %v, maxItems %v; want 3", ideas["minItems"], ideas["maxItems"])
	}
	if kw := schemaAt(t, m.calls[1].Schema, "ideas", "[]", "target_keywords"); kw["minItems"] != 1.0 || kw["maxItems"] != 10.0 {
		t.Errorf("target_keywords: %v", kw)
	}

	in := sampleImagePromptInput()
	in.InlineCount = 2
	raw, err := imagePromptSchema(in)
	if err != nil {
		t.Fatal(err)
	}
	if imgs := schemaAt(t, raw, "inline_images"); imgs["minItems"] != 2.0 || imgs["maxItems"] != 2.0 {
		t.Errorf("inline_images: %v", imgs)
	}
	heading := schemaAt(t, raw, "inline_images", "[]", "heading")
	if enum, _ := heading["enum"].([]any); len(enum) != len(InlineHeadings(in)) || enum[0] != in.Headings[0] {
		t.Errorf("heading enum = %v", heading["enum"])
	}
}

func TestDraftFixesAreNotInTheAnswer(t *testing.T) {
	d := sampleDraft()
	d.Fixes = []errs.FieldProblem{{Field: "x", Problem: "y"}}
	d.Warnings = d.Fixes
	if b := jsonOf(t, d); strings.Contains(string(b), `"x"`) {
		t.Errorf("fixes marshalled: %s", b)
	}
	raw, err := Schema(StageDraft)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(raw), "Fixes") || strings.Contains(string(raw), "Warnings") {
		t.Errorf("schema names the fixes: %s", raw)
	}
}

// TestDraftMinWordsFromTheInput: a configured minimum replaces the content
// type's default, in the warning and in the prompt.
func TestDraftMinWordsFromTheInput(t *testing.T) {
	in := sampleDraftInput()
	in.MinWords = 50
	m := answers(JSONResponse{Content: jsonOf(t, sampleDraft())})
	got, _, err := newWriter(t, m).Draft(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	if got.Warnings != nil || !strings.Contains(m.calls[0].Prompt, "Length: at least 50 words.") {
		t.Errorf("with a minimum of 50 words: warnings %+v; prompt:\n%s", got.Warnings, m.calls[0].Prompt)
	}
	in.MinWords = 5000
	m = answers(JSONResponse{Content: jsonOf(t, sampleDraft())})
	got, _, _ = newWriter(t, m).Draft(context.Background(), in)
	if len(got.Warnings) != 1 || !strings.Contains(got.Warnings[0].Problem, "fewer than the 5000 expected") {
		t.Errorf("with a minimum of 5000 words: warnings %+v", got.Warnings)
	}
}

func TestParseMinWords(t *testing.T) {
	got, err := ParseMinWords(" post=300, guide = 1500 ,")
	if err != nil || len(got) != 2 || got["post"] != 300 || got["guide"] != 1500 {
		t.Errorf("ParseMinWords = %v, %v", got, err)
	}
	if got, err := ParseMinWords(""); err != nil || len(got) != 0 {
		t.Errorf("ParseMinWords(\"\") = %v, %v", got, err)
	}
	for _, bad := range []string{"post", "essay=500", "post=0", "post=-5", "post=lots", "post=20001", "post=5,post=6"} {
		if _, err := ParseMinWords(bad); err == nil {
			t.Errorf("ParseMinWords(%q) accepted", bad)
		}
	}
}
