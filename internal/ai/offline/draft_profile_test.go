package offline

import (
	"context"
	"strings"
	"testing"

	"github.com/presswork/presswork/internal/ai"
	"github.com/presswork/presswork/internal/markup"
)

func profileDraftInput() ai.DraftInput {
	return ai.DraftInput{
		SiteName: "Grind Club", ClusterName: "Espresso Grinders", Title: "How to Choose an Espresso Grinder",
		ContentType: "guide", TargetKeywords: []string{"espresso grinder", "burr grinder"},
		Outline: []ai.Heading{{Level: 2, Text: "Why Grind Size Matters"}, {Level: 3, Text: "Burrs Versus Blades"},
			{Level: 2, Text: "What to Look For"}, {Level: 2, Text: "Our Verdict"}},
		FAQQuestions: []string{"how fine should espresso be ground", "are burr grinders worth it?"},
	}
}

// TestOfflineDraftHonoursProfile: the offline writer meets the word
// target of every size a profile allows, and writes the FAQ (from the
// question keywords), the key takeaways box and, through ParseDraft, a
// table of contents with anchors.
func TestOfflineDraftHonoursProfile(t *testing.T) {
	w, err := ai.NewWriter(NewTextModel())
	if err != nil {
		t.Fatal(err)
	}
	for _, target := range []int{600, 1500, 3000} {
		in := profileDraftInput()
		in.Profile = ai.Profile{WordTargets: map[string]int{"guide": target}, FAQ: true, TableOfContents: true,
			KeyTakeaways: true, Language: "de-AT"}
		d, _, err := w.Draft(context.Background(), in)
		if err != nil {
			t.Fatalf("target %d: %v", target, err)
		}
		lo, hi, _ := in.WordRange()
		if n := markup.WordCount(d.BodyHTML); n < lo || n > hi {
			t.Errorf("target %d: %d words, want %d to %d", target, n, lo, hi)
		}
		if len(d.Warnings) != 0 || len(d.Fixes) != 0 {
			t.Errorf("target %d: warnings %v, fixes %v", target, d.Warnings, d.Fixes)
		}
		for _, want := range []string{"<aside><p><strong>Key takeaways</strong></p><ul><li>",
			`<h2 id="frequently-asked-questions">Frequently Asked Questions</h2>`,
			`<h3 id="how-fine-should-espresso-be-ground">How fine should espresso be ground?</h3>`,
			"Are burr grinders worth it?</h3>", `<nav><p><strong>Inhalt</strong></p><ul><li><a href="#why-grind-size-matters">`,
			`<h2 id="why-grind-size-matters">`} {
			if !strings.Contains(d.BodyHTML, want) {
				t.Errorf("target %d: the body lacks %q", target, want)
			}
		}
		if strings.Index(d.BodyHTML, "<aside>") > strings.Index(d.BodyHTML, "<h2") {
			t.Errorf("target %d: the key takeaways come after the first heading", target)
		}
	}
}

// TestOfflineDraftShortTargets: without the added sections, the shortest
// target a profile allows is met too.
func TestOfflineDraftShortTargets(t *testing.T) {
	w, err := ai.NewWriter(NewTextModel())
	if err != nil {
		t.Fatal(err)
	}
	in := profileDraftInput()
	in.Profile = ai.Profile{WordTargets: map[string]int{"guide": ai.MinWordTarget}}
	d, _, err := w.Draft(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	lo, hi, _ := in.WordRange()
	if n := markup.WordCount(d.BodyHTML); n < lo || n > hi || len(d.Warnings) != 0 {
		t.Errorf("%d words, want %d to %d; warnings %v", n, lo, hi, d.Warnings)
	}
}

func TestOfflineDraftWithoutProfile(t *testing.T) {
	w, err := ai.NewWriter(NewTextModel())
	if err != nil {
		t.Fatal(err)
	}
	d, _, err := w.Draft(context.Background(), profileDraftInput())
	if err != nil {
		t.Fatal(err)
	}
	for _, unwanted := range []string{"<aside>", "<nav>", "Frequently Asked", " id="} {
		if strings.Contains(d.BodyHTML, unwanted) {
			t.Errorf("a draft without a profile has %q", unwanted)
		}
	}
	// A FAQ without question keywords asks about the target keywords.
	in := profileDraftInput()
	in.FAQQuestions = nil
	in.Profile.FAQ = true
	d, _, err = w.Draft(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(d.BodyHTML, "<h3>What should you know about espresso grinder?</h3>") {
		t.Errorf("no FAQ from the target keywords:\n%s", d.BodyHTML)
	}
}
