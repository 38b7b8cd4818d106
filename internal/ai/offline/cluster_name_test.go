package offline

import (
	"context"
	"strings"
	"testing"

	"github.com/presswork/presswork/internal/ai"
)

func TestClusterName(t *testing.T) {
	m := NewTextModel()
	in := ai.ClusterNameInput{Keywords: keywordSets()["trail shoes"]}
	resp, err := m.GenerateJSON(context.Background(), ai.JSONRequest{Input: in})
	if err != nil {
		t.Fatal(err)
	}
	c, err := ai.ParseClusterName(resp.Content)
	if err != nil {
		t.Fatal(err)
	}
	if c.Name != "Trail Running Shoes" {
		t.Errorf("name = %q, want Trail Running Shoes", c.Name)
	}
	if !strings.Contains(c.Description, "6 keywords") || !strings.Contains(c.Description, "“trail running shoes”") {
		t.Errorf("description = %q", c.Description)
	}
	// The count is the cluster's size, not the number of keywords listed.
	in.KeywordCount = 27
	resp, err = m.GenerateJSON(context.Background(), ai.JSONRequest{Input: in})
	if err != nil {
		t.Fatal(err)
	}
	if c, err = ai.ParseClusterName(resp.Content); err != nil || !strings.Contains(c.Description, "27 keywords") {
		t.Errorf("description with KeywordCount 27 = %q, %v", c.Description, err)
	}
	// No keywords at all still gives a valid answer.
	resp, err = m.GenerateJSON(context.Background(), ai.JSONRequest{Input: ai.ClusterNameInput{}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ai.ParseClusterName(resp.Content); err != nil {
		t.Error(err)
	}
}
