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

// TestClusterNameOfModifierCluster: keywords that share only a query
// modifier are named by the kind of search they all are, not after the
// first of them.
func TestClusterNameOfModifierCluster(t *testing.T) {
	cases := map[string][]string{
		"Reviews":     {"bloomscape review", "df64 grinder review", "kreg jig review", "willer express review"},
		"Comparisons": {"pasmo vs suica", "brooks cascadia 17 vs 18", "circular saw vs table saw", "cortado vs flat white"},
		"Trail Running Shoes": {"trail running shoes review", "best trail running shoes", "trail running shoes vs hiking boots",
			"waterproof trail running shoes"},
	}
	for want, phrases := range cases {
		got := nameCluster(ai.ClusterNameInput{Keywords: keywords(phrases...)}, newRand(0))
		if got.Name != want {
			t.Errorf("name of %q = %q, want %q", phrases, got.Name, want)
		}
	}
}
