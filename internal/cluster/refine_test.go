package cluster

import (
	"context"
	"encoding/csv"
	"errors"
	"os"
	"slices"
	"testing"

	"github.com/presswork/presswork/internal/ai/offline"
	"github.com/presswork/presswork/internal/errs"
	"github.com/presswork/presswork/internal/store"
)

// grouperOf returns a grouper over the offline vectors of phrases.
func grouperOf(t *testing.T, phrases []string, opt Options) *grouper {
	t.Helper()
	vecs, _, err := offline.NewEmbedder(0).Embed(context.Background(), phrases)
	if err != nil {
		t.Fatal(err)
	}
	opt, err = opt.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	m, _, _, err := normalized(vecs)
	if err != nil {
		t.Fatal(err)
	}
	return &grouper{m: m, opt: opt, rng: newRNG(opt.Seed), budget: bruteBudget}
}

func leafOf(g *grouper, members ...int) leaf {
	c, _ := centroid(g.m, members)
	return leaf{members: members, centroid: c}
}

// TestMerge: two pieces of one topic merge, unless their union would pass
// MaxSize; a cluster of another topic stays apart.
func TestMerge(t *testing.T) {
	phrases := []string{
		"how to prune tomato plants", "tomato plant spacing", "heirloom tomato seeds", // 0-2
		"how to grow tomatoes in pots", "best fertilizer for tomatoes", "tomato cages vs stakes", // 3-5
		"chess openings for beginners", "chess opening traps", "learn chess openings", // 6-8
	}
	for _, tt := range []struct {
		maxSize int
		want    [][]int
	}{
		{30, [][]int{{0, 1, 2, 3, 4, 5}, {6, 7, 8}}},
		{5, [][]int{{0, 1, 2}, {3, 4, 5}, {6, 7, 8}}},
	} {
		g := grouperOf(t, phrases, Options{MaxSize: tt.maxSize})
		got, err := g.merge(context.Background(), []leaf{leafOf(g, 0, 1, 2), leafOf(g, 3, 4, 5), leafOf(g, 6, 7, 8)})
		if err != nil {
			t.Fatal(err)
		}
		var members [][]int
		for _, l := range got {
			members = append(members, slices.Sorted(slices.Values(l.members)))
		}
		if !slices.EqualFunc(members, tt.want, slices.Equal) {
			t.Errorf("MaxSize %d: merge gives %v, want %v", tt.maxSize, members, tt.want)
		}
	}
}

// TestAttachNear: an outlier sharing its rare word with one member of a
// cluster joins it; one close to nothing stays out.
func TestAttachNear(t *testing.T) {
	phrases := []string{
		"asana vs trello", "jira vs asana", "clickup vs monday.com", "project management software", // 0-3
		"espresso machine under 500", "home espresso machine", "espresso machine cleaning", // 4-6
		"clickup review", "lelit bianca v3", // 7, 8
	}
	g := grouperOf(t, phrases, Options{})
	clusters := []leaf{leafOf(g, 0, 1, 2, 3), leafOf(g, 4, 5, 6)}
	rest, err := g.attachNear(context.Background(), clusters, []int{7, 8}, attachFloor, g.opt.NearThreshold)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(rest, []int{8}) || !slices.Contains(clusters[0].members, 7) {
		t.Errorf("attachNear left %v out, clusters %v %v; want clickup review in the first, lelit bianca out",
			rest, clusters[0].members, clusters[1].members)
	}
}

// TestStrictness: the levels order coverage (strict places no more
// keywords than balanced, balanced no more than inclusive), balanced is the
// default options, and an unknown level is refused.
func TestStrictness(t *testing.T) {
	phrases := samplePhrases(t)
	vecs, _, err := offline.NewEmbedder(0).Embed(context.Background(), phrases)
	if err != nil {
		t.Fatal(err)
	}
	clustered := make([]int, len(Strictnesses))
	for i, s := range Strictnesses {
		opt, err := s.Options()
		if err != nil {
			t.Fatal(err)
		}
		res, err := Group(context.Background(), vecs, opt)
		if err != nil {
			t.Fatal(err)
		}
		clustered[i] = len(phrases) - len(res.Outliers)
	}
	if !(clustered[0] <= clustered[1] && clustered[1] <= clustered[2]) || clustered[0] == clustered[2] {
		t.Errorf("keywords clustered strict, balanced, inclusive: %v; want them rising", clustered)
	}
	var levels []string
	for _, s := range Strictnesses {
		levels = append(levels, string(s))
	}
	if !slices.Equal(levels, store.ClusteringLevels) {
		t.Errorf("Strictnesses %v, store.ClusteringLevels %v: the API would accept what the worker refuses", levels, store.ClusteringLevels)
	}
	if opt, err := Strictness("").Options(); err != nil || opt != (Options{}) {
		t.Errorf(`Strictness("").Options() = %+v, %v; want the defaults`, opt, err)
	}
	if _, err := Strictness("loose").Options(); !errors.Is(err, errs.ErrPermanent) {
		t.Errorf(`Strictness("loose").Options() error %v, want ErrPermanent`, err)
	}
}

// samplePhrases returns the keywords of the shipped sample file.
func samplePhrases(t *testing.T) []string {
	t.Helper()
	f, err := os.Open("../../testdata/sample-keywords.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil || len(rows) < 2 {
		t.Fatalf("sample keywords: %v", err)
	}
	var out []string
	for _, r := range rows[1:] {
		out = append(out, r[0])
	}
	return out
}
