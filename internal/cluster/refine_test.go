package cluster

import (
	"context"
	"encoding/csv"
	"errors"
	"math"
	"math/rand/v2"
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
		"clickup review", "vintage typewriter ribbon", // 7, 8
	}
	g := grouperOf(t, phrases, Options{})
	clusters := []leaf{leafOf(g, 0, 1, 2, 3), leafOf(g, 4, 5, 6)}
	rest, err := g.attachNear(context.Background(), clusters, []int{7, 8}, attachFloor, g.opt.NearThreshold)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(rest, []int{8}) || !slices.Contains(clusters[0].members, 7) {
		t.Errorf("attachNear left %v out, clusters %v %v; want clickup review in the first, typewriter ribbon out",
			rest, clusters[0].members, clusters[1].members)
	}
}

// TestStrictness: the levels order coverage, lexical pass included
// (strict places no more keywords than balanced, balanced no more than
// inclusive), balanced is the
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
		res, err := GroupComparing(context.Background(), vecs, phrases, nil, opt)
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

// TestRegroup: keywords of one topic too loosely related for Threshold
// (each shares a word with one or two others only) form a cluster in the
// last tree, held to RegroupThreshold, and a keyword close to none of them
// stays out; with RegroupThreshold at Threshold nothing forms.
func TestRegroup(t *testing.T) {
	const dim, n = 256, 10
	rng := rand.New(rand.NewPCG(5, 9))
	unit := func(v []float32) []float32 {
		var s float64
		for _, x := range v {
			s += float64(x) * float64(x)
		}
		for i := range v {
			v[i] /= float32(math.Sqrt(s))
		}
		return v
	}
	random := func() []float32 {
		v := make([]float32, dim)
		for i := range v {
			v[i] = float32(rng.NormFloat64())
		}
		return unit(v)
	}
	topic := random()
	const alpha = 0.4 // each member's share of the topic: pairwise cosines about 0.16
	var vecs [][]float32
	for range n {
		r := random()
		v := make([]float32, dim)
		for i := range v {
			v[i] = alpha*topic[i] + float32(math.Sqrt(1-alpha*alpha))*r[i]
		}
		vecs = append(vecs, unit(v))
	}
	vecs = append(vecs, random())
	for _, tt := range []struct {
		regroup  float32
		clusters int
	}{
		{0.25, 1},
		{DefaultThreshold, 0},
	} {
		g := &grouper{m: matrix{}, opt: Options{RegroupThreshold: tt.regroup}, rng: newRNG(1), budget: bruteBudget}
		var err error
		if g.opt, err = g.opt.withDefaults(); err != nil {
			t.Fatal(err)
		}
		m, valid, _, err := normalized(vecs)
		if err != nil {
			t.Fatal(err)
		}
		g.m = m
		clusters, rest, err := g.build(context.Background(), valid)
		if err != nil || len(clusters) != 0 {
			t.Fatalf("the strict tree made %d clusters (%v); the test needs none", len(clusters), err)
		}
		got, rest, err := g.regroup(context.Background(), nil, rest)
		if err != nil {
			t.Fatal(err)
		}
		var members [][]int
		for _, l := range got {
			members = append(members, slices.Sorted(slices.Values(l.members)))
		}
		// The topic's cluster may leave out a member or two that the noise
		// took far; never the unrelated keyword n.
		if len(members) != tt.clusters || tt.clusters == 1 && (len(members[0]) < n-2 || slices.Contains(members[0], n)) {
			t.Errorf("RegroupThreshold %v: regroup gives %v (outliers %v), want %d cluster(s) of the topic", tt.regroup, members, rest, tt.clusters)
		}
	}
}
