package cluster

import (
	"context"
	"slices"
	"testing"

	"github.com/presswork/presswork/internal/ai/offline"
)

func TestSides(t *testing.T) {
	tests := []struct {
		phrase, a, b string
		ok           bool
	}{
		{"cortado vs flat white", "cortado", "flat white", true},
		{"DeWalt vs. Makita cordless drill", "dewalt", "makita cordless drill", true},
		{"roth ira versus 401k", "roth ira", "401k", true},
		{"vs code extensions", "", "", false},
		{"mocha vs", "", "", false},
		{"flat white recipe", "", "", false},
	}
	for _, tt := range tests {
		a, b, ok := Sides(tt.phrase)
		if a != tt.a || b != tt.b || ok != tt.ok {
			t.Errorf("Sides(%q) = %q, %q, %v; want %q, %q, %v", tt.phrase, a, b, ok, tt.a, tt.b, tt.ok)
		}
	}
}

// TestGroupComparing: a comparison near no cluster as a whole joins the
// cluster of its subjects through one of its sides; Group leaves it out.
func TestGroupComparing(t *testing.T) {
	phrases := []string{
		"what is a cortado", "cortado near me", "cortado recipe", "cortado coffee", "iced cortado",
		"dovetail joint jig", "hand cut dovetail joint", "dovetail joint router", "dovetail joint for beginners",
		"cortado vs kalita wave 185 pour over dripper with paper filters",
	}
	sides, at := ComparisonTexts(phrases)
	if !slices.Equal(at, []int{9}) {
		t.Fatalf("ComparisonTexts found comparisons at %v, want [9]", at)
	}
	e := offline.NewEmbedder(0)
	vecs, _, err := e.Embed(context.Background(), slices.Concat(phrases, sides))
	if err != nil {
		t.Fatal(err)
	}
	n := len(phrases)
	// Thresholds that the whole comparison does not reach.
	opt := Options{AttachThreshold: 0.5, NearThreshold: 0.55}
	plain, err := Group(context.Background(), vecs[:n], opt)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(plain.Outliers, 9) {
		t.Fatalf("Group placed the comparison already (%v): the test shows nothing", plain.Clusters)
	}
	res, err := GroupComparing(context.Background(), vecs[:n], nil, Comparisons(at, vecs[n:]), opt)
	if err != nil {
		t.Fatal(err)
	}
	checkResult(t, n, res, Options{MinSize: 3, MaxSize: 30})
	for _, c := range res.Clusters {
		if slices.Contains(c, 9) && !slices.Contains(c, 0) {
			t.Errorf("the comparison joined %v, not the cortado cluster", c)
		}
	}
	if slices.Contains(res.Outliers, 9) {
		t.Errorf("GroupComparing left the comparison out: %+v", res)
	}
}
