package offline

import (
	"context"
	"strings"
	"testing"

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
