package offline

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/presswork/presswork/internal/ai"
)

func TestIdeasVaryContentTypesAndKeywords(t *testing.T) {
	m := NewTextModel()
	in := ai.IdeasInput{ClusterName: "SEO", Keywords: keywordSets()["many"], Count: 10}
	resp, err := m.GenerateJSON(context.Background(), ai.JSONRequest{Input: in})
	if err != nil {
		t.Fatal(err)
	}
	ideas, err := ai.ParseIdeas(in, resp.Content)
	if err != nil {
		t.Fatal(err)
	}
	types := map[string]bool{}
	primaries := map[string]bool{}
	for _, idea := range ideas {
		types[idea.ContentType] = true
		primaries[idea.TargetKeywords[0]] = true
		if strings.Contains(idea.Title, "2026") || strings.Contains(idea.Title, "2025") {
			t.Errorf("title %q has a year", idea.Title)
		}
	}
	if len(types) < 5 {
		t.Errorf("only %d content types across 10 ideas: %v", len(types), types)
	}
	if len(primaries) != 10 {
		t.Errorf("only %d distinct primary keywords across 10 ideas", len(primaries))
	}
}

// TestIdeaTargetsStayOnFocus: an idea's other targets are close variants
// of its primary keyword, never another topic of the cluster, and its
// draft names no keyword outside them.
func TestIdeaTargetsStayOnFocus(t *testing.T) {
	kws := []string{"how to make sourdough starter from scratch", "gluten free sourdough starter", "sourdough starter",
		"sourdough starter not rising", "rye sourdough starter", "banneton basket how to use"}
	cases := []struct {
		primary string
		want    []string
	}{
		{kws[0], []string{kws[0], "sourdough starter", "rye sourdough starter"}},
		{"banneton basket how to use", []string{"banneton basket how to use"}},
		{"sourdough starter", []string{"sourdough starter", "rye sourdough starter"}},
	}
	for _, c := range cases {
		got := relatedTargets(c.primary, kws, 3)
		if diff := cmp.Diff(c.want, got); diff != "" {
			t.Errorf("relatedTargets(%q) (-want +got):\n%s", c.primary, diff)
		}
	}
	w := newWriter(t)
	d, _, err := w.Draft(context.Background(), ai.DraftInput{ClusterName: "Sourdough Starter", ContentType: "how_to",
		Title: "How to Make Sourdough Starter from Scratch", TargetKeywords: relatedTargets(kws[0], kws, 3),
		Outline: []ai.Heading{{Level: 2, Text: "What You Need"}, {Level: 2, Text: "Steps"}, {Level: 2, Text: "Final Thoughts"}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, off := range []string{"gluten", "not rising", "banneton"} {
		if strings.Contains(strings.ToLower(d.BodyHTML), off) {
			t.Errorf("the draft drifts to %q", off)
		}
	}
}

// TestIdeasAvoidTakenKeywords: keywords that are already the primary
// keyword of an idea of the site are not made primary again while others
// are free (such an idea would be refused as a duplicate).
func TestIdeasAvoidTakenKeywords(t *testing.T) {
	kws := keywordSets()["many"]
	taken := make([]string, 0, 5)
	isTaken := map[string]bool{}
	for _, k := range kws[:5] {
		taken = append(taken, strings.ToUpper(k.Phrase)) // compared as keys: case does not matter
		isTaken[k.Phrase] = true
	}
	in := ai.IdeasInput{ClusterName: "SEO", Keywords: kws, Count: len(kws) - 5, TakenKeywords: taken}
	resp, err := NewTextModel().GenerateJSON(context.Background(), ai.JSONRequest{Input: in})
	if err != nil {
		t.Fatal(err)
	}
	ideas, err := ai.ParseIdeas(in, resp.Content)
	if err != nil {
		t.Fatal(err)
	}
	for _, idea := range ideas {
		if isTaken[idea.TargetKeywords[0]] {
			t.Errorf("idea %q has the taken primary keyword %q while %d keywords were free",
				idea.Title, idea.TargetKeywords[0], len(kws)-5)
		}
	}
}
