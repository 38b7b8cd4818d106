package overlap

import (
	"math"
	"testing"
)

func unit(v ...float32) []float32 {
	var n float64
	for _, x := range v {
		n += float64(x * x)
	}
	for i := range v {
		v[i] /= float32(math.Sqrt(n))
	}
	return v
}

func TestKeywordKey(t *testing.T) {
	same := [][2]string{
		{"Trail Running Shoes", "trail-running shoe"},
		{"  best  espresso   machines ", "Best espresso machine"},
		{"why is my sourdough dense?", "Why is my sourdough dense"},
	}
	for _, p := range same {
		if KeywordKey(p[0]) != KeywordKey(p[1]) {
			t.Errorf("KeywordKey(%q) = %q, KeywordKey(%q) = %q; want equal", p[0], KeywordKey(p[0]), p[1], KeywordKey(p[1]))
		}
	}
	differ := [][2]string{
		{"glass", "glas"}, // "ss" is no plural
		{"puppy training", "puppy crate training"},
	}
	if KeywordKey(differ[0][0]) == KeywordKey(differ[0][1]) {
		t.Errorf("%q and %q must differ", differ[0][0], differ[0][1])
	}
	if KeywordKey("gas") != "gas" {
		t.Errorf(`KeywordKey("gas") = %q, want "gas"`, KeywordKey("gas"))
	}
	if KeywordKey(differ[1][0]) == KeywordKey(differ[1][1]) {
		t.Errorf("%q and %q must differ", differ[1][0], differ[1][1])
	}
	if KeywordKey(" ?! ") != "" {
		t.Errorf("KeywordKey of punctuation = %q, want empty", KeywordKey(" ?! "))
	}
}

func TestCheck(t *testing.T) {
	existing := []Entry{
		{ID: 1, Title: "Pothos Care Guide", Primary: "pothos care", Vector: unit(1, 0, 0)},
		{ID: 2, Title: "Best Trail Running Shoes", Primary: "trail running shoes", Vector: unit(0, 1, 0)},
	}
	candidates := []Entry{
		{Title: "How to Care for Pothos", Primary: "how to care for pothos", Vector: unit(0.99, 0.1, 0)}, // similar title
		{Title: "Trail Shoes Ranked", Primary: "Trail Running Shoe", Vector: unit(0, 0, 1)},              // same keyword
		{Title: "Monstera Care", Primary: "monstera care", Vector: unit(0.5, 0, 0.8)},                    // kept
		{Title: "Monstera Care Tips", Primary: "monstera care tips", Vector: unit(0.52, 0, 0.79)},        // like the kept candidate
		{Title: "Monstera Care 2", Primary: "Monstera care", Vector: nil},                                // same keyword as a kept candidate
		{Title: "Unrelated", Primary: "", Vector: unit(0, 0.3, -1)},                                      // kept: no key, not close
	}
	got := Check(candidates, existing, 0.9)
	want := []struct {
		cand   int
		withID int64
		with   string
		reason Reason
	}{
		{0, 1, "Pothos Care Guide", SimilarTitle},
		{1, 2, "Best Trail Running Shoes", SamePrimaryKeyword},
		{3, 0, "Monstera Care", SimilarTitle},
		{4, 0, "Monstera Care", SamePrimaryKeyword},
	}
	if len(got) != len(want) {
		t.Fatalf("Check: %d conflicts %+v, want %d", len(got), got, len(want))
	}
	for i, w := range want {
		g := got[i]
		if g.Candidate != w.cand || g.With.ID != w.withID || g.With.Title != w.with || g.Reason != w.reason {
			t.Errorf("conflict %d = candidate %d with %d %q (%s), want candidate %d with %d %q (%s)",
				i, g.Candidate, g.With.ID, g.With.Title, g.Reason, w.cand, w.withID, w.with, w.reason)
		}
	}
	if got[0].Similarity < 0.9 || got[0].Similarity > 1.0001 {
		t.Errorf("similarity of the pothos titles = %v, want in [0.9, 1]", got[0].Similarity)
	}
}

func TestCheckThresholdDefault(t *testing.T) {
	existing := []Entry{{ID: 1, Title: "a", Vector: unit(1, 0)}}
	near := []Entry{{Title: "b", Vector: unit(1, 0.4)}} // cosine 0.928
	if got := Check(near, existing, 0); len(got) != 1 {
		t.Errorf("threshold 0 (the default %v): %d conflicts, want 1", DefaultThreshold, len(got))
	}
	if got := Check(near, existing, 0.95); len(got) != 0 {
		t.Errorf("threshold 0.95: %d conflicts, want 0", len(got))
	}
}

func TestCheckMismatchedVectors(t *testing.T) {
	existing := []Entry{{ID: 1, Title: "a", Vector: unit(1, 0, 0)}}
	if got := Check([]Entry{{Title: "b", Vector: unit(1, 0)}}, existing, 0.5); len(got) != 0 {
		t.Errorf("vectors of different lengths compared: %+v", got)
	}
}
