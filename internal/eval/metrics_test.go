package eval

import (
	"math"
	"testing"
)

// The expected figures are worked out by hand in the comments (and agree
// with scikit-learn's adjusted_rand_score where it has the same case).
func TestAdjustedRand(t *testing.T) {
	cases := []struct {
		name     string
		labels   []string
		clusters []int
		want     float64
	}{
		{"identical", []string{"a", "a", "b", "b"}, []int{0, 0, 1, 1}, 1},
		{"renumbered", []string{"a", "a", "b", "b"}, []int{7, 7, 3, 3}, 1},
		// index 1, rows 2, cols 1, pairs 6: expected 1/3, max 3/2: (2/3)/(7/6) = 4/7.
		{"one topic split", []string{"a", "a", "b", "b"}, []int{0, 0, 1, 2}, 4.0 / 7},
		// index 0, rows 6, cols 0: expected 0, max 3: 0.
		{"all apart", []string{"a", "a", "a", "a"}, []int{0, 1, 2, 3}, 0},
		// cells 2,1,1,2: index 2; rows 3+3; cols 1+1+1; pairs 15: expected 6*3/15 = 1.2,
		// max 4.5: 0.8/3.3.
		{"three ways", []string{"a", "a", "a", "b", "b", "b"}, []int{0, 0, 1, 1, 2, 2}, 0.8 / 3.3},
		{"one item", []string{"a"}, []int{0}, 1},
		{"both one group", []string{"a", "a", "a"}, []int{0, 0, 0}, 1},
	}
	for _, c := range cases {
		if got := AdjustedRand(c.labels, c.clusters); math.Abs(got-c.want) > 1e-9 {
			t.Errorf("%s: AdjustedRand = %v, want %v", c.name, got, c.want)
		}
	}
}

func TestPurity(t *testing.T) {
	// Cluster 0 holds a, a, b (2 agree), cluster 1 holds b, b, c (2 agree): 4 of 6.
	got := Purity([]string{"a", "a", "b", "b", "b", "c"}, []int{0, 0, 0, 1, 1, 1})
	if math.Abs(got-4.0/6) > 1e-9 {
		t.Errorf("Purity = %v, want 4/6", got)
	}
	if got := Purity(nil, nil); got != 0 {
		t.Errorf("Purity of nothing = %v, want 0", got)
	}
}

func TestScoreUnclustered(t *testing.T) {
	s := Score([]string{"a", "a", "b", "b", "c"}, []int{0, 0, 1, Unclustered, Unclustered})
	// Over the three clustered keywords (a a b in 0 0 1) the partitions agree.
	// Counting the two outliers as singletons: clusters 0 0 1 2 3 against
	// a a b b c: index 1, rows 1+1+0 = 2, cols 1, pairs 10: expected 0.2,
	// max 1.5: 0.8/1.3.
	want := Scores{Keywords: 5, Clustered: 3, Clusters: 2, Purity: 1, ARI: 1, ARISingletons: 0.8 / 1.3}
	if s.Keywords != want.Keywords || s.Clustered != want.Clustered || s.Clusters != want.Clusters ||
		math.Abs(s.Purity-want.Purity) > 1e-9 || math.Abs(s.ARI-want.ARI) > 1e-9 ||
		math.Abs(s.ARISingletons-want.ARISingletons) > 1e-9 {
		t.Errorf("Score = %+v, want %+v", s, want)
	}
	if got := s.Coverage(); math.Abs(got-0.6) > 1e-9 {
		t.Errorf("Coverage = %v, want 0.6", got)
	}
}
