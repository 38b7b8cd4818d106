package cluster

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/presswork/presswork/internal/ai/offline"
	"github.com/presswork/presswork/internal/errs"
)

// checkResult fails t unless every index in [0, n) appears exactly once and
// every cluster has MinSize..MaxSize members.
func checkResult(t *testing.T, n int, res Result, opt Options) {
	t.Helper()
	opt, err := opt.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	seen := make([]int, n)
	for ci, c := range res.Clusters {
		if len(c) < opt.MinSize || len(c) > opt.MaxSize {
			t.Errorf("cluster %d has %d members, want %d..%d", ci, len(c), opt.MinSize, opt.MaxSize)
		}
		for _, i := range c {
			seen[i]++
		}
	}
	for _, i := range res.Outliers {
		seen[i]++
	}
	for i, s := range seen {
		if s != 1 {
			t.Errorf("index %d appears %d times, want once", i, s)
		}
	}
	if !slices.IsSorted(res.Outliers) {
		t.Errorf("outliers not sorted: %v", res.Outliers)
	}
	for i := 1; i < len(res.Clusters); i++ {
		a, b := res.Clusters[i-1], res.Clusters[i]
		if len(a) < len(b) || len(a) == len(b) && a[0] > b[0] {
			t.Errorf("clusters %d and %d out of order", i-1, i)
		}
	}
}

// synthetic returns noisy copies of random, well-separated unit centroids
// (orthogonal: at most dim groups): sizes[g]
// vectors for group g, and each vector's group. noise is the expected length
// of the noise added to each unit centroid.
func synthetic(seed uint64, dim int, sizes []int, noise float64) ([][]float32, []int) {
	rng := rand.New(rand.NewPCG(seed, 7))
	var vecs [][]float32
	var labels []int
	var centroids [][]float32
	for g, size := range sizes {
		c := orthogonalUnit(rng, dim, centroids)
		centroids = append(centroids, c)
		for range size {
			v := make([]float32, dim)
			for j := range v {
				v[j] = c[j] + float32(noise*rng.NormFloat64()/math.Sqrt(float64(dim)))
			}
			vecs = append(vecs, v)
			labels = append(labels, g)
		}
	}
	// Shuffle so that groups are not contiguous in the input.
	rng.Shuffle(len(vecs), func(i, j int) {
		vecs[i], vecs[j] = vecs[j], vecs[i]
		labels[i], labels[j] = labels[j], labels[i]
	})
	return vecs, labels
}

// orthogonalUnit returns a random unit vector orthogonal to prev (at most
// dim-1 vectors).
func orthogonalUnit(rng *rand.Rand, dim int, prev [][]float32) []float32 {
	v := randomUnit(rng, dim)
	for _, p := range prev {
		var d float32
		for j := range v {
			d += v[j] * p[j]
		}
		for j := range v {
			v[j] -= d * p[j]
		}
	}
	var s float64
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	for j := range v {
		v[j] /= float32(math.Sqrt(s))
	}
	return v
}

func randomUnit(rng *rand.Rand, dim int) []float32 {
	v := make([]float32, dim)
	var s float64
	for j := range v {
		x := rng.NormFloat64()
		v[j] = float32(x)
		s += x * x
	}
	for j := range v {
		v[j] /= float32(math.Sqrt(s))
	}
	return v
}

// checkPure fails t if a cluster mixes labels and returns the share of
// indexes that ended in clusters.
func checkPure(t *testing.T, res Result, labels []int, names func(int) string) float64 {
	t.Helper()
	clustered := 0
	for ci, c := range res.Clusters {
		clustered += len(c)
		for _, i := range c {
			if labels[i] != labels[c[0]] {
				var members []string
				for _, j := range c {
					members = append(members, names(j))
				}
				t.Errorf("cluster %d mixes groups %d and %d: %s", ci, labels[c[0]], labels[i], strings.Join(members, " | "))
				break
			}
		}
	}
	return float64(clustered) / float64(len(labels))
}

func TestGroupSmallInputs(t *testing.T) {
	tests := []struct {
		name    string
		vectors [][]float32
		want    Result
	}{
		{"nil", nil, Result{Clusters: [][]int{}, Outliers: []int{}}},
		{"empty", [][]float32{}, Result{Clusters: [][]int{}, Outliers: []int{}}},
		{"two vectors", [][]float32{{1, 0}, {1, 0.1}}, Result{Clusters: [][]int{}, Outliers: []int{0, 1}}},
		{"zero-length vectors", [][]float32{{}, {}, {}, {}}, Result{Clusters: [][]int{}, Outliers: []int{0, 1, 2, 3}}},
		{"zero and NaN vectors", [][]float32{{0, 0}, {float32(math.NaN()), 1}, {float32(math.Inf(1)), 0}, {1, 0}, {1, 0}, {1, 0}},
			Result{Clusters: [][]int{{3, 4, 5}}, Outliers: []int{0, 1, 2}}},
		{"identical vectors", [][]float32{{0, 2}, {0, 1}, {0, 3}}, Result{Clusters: [][]int{{0, 1, 2}}, Outliers: []int{}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Group(context.Background(), tt.vectors, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Group (-want +got):\n%s", diff)
			}
		})
	}
}

func TestGroupErrors(t *testing.T) {
	tests := []struct {
		name    string
		vectors [][]float32
		opt     Options
	}{
		{"ragged vectors", [][]float32{{1, 0}, {1, 0, 0}}, Options{}},
		{"negative MinSize", [][]float32{{1}}, Options{MinSize: -1}},
		{"MaxSize below MinSize", [][]float32{{1}}, Options{MinSize: 5, MaxSize: 4}},
		{"NaN threshold", [][]float32{{1}}, Options{Threshold: float32(math.NaN())}},
		{"threshold above 1", [][]float32{{1}}, Options{Threshold: 1.5}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Group(context.Background(), tt.vectors, tt.opt)
			if !errors.Is(err, errs.ErrPermanent) {
				t.Errorf("err = %v, want errs.ErrPermanent", err)
			}
		})
	}
}

func TestGroupSynthetic(t *testing.T) {
	tests := []struct {
		name  string
		dim   int
		sizes []int
		noise float64
		opt   Options
	}{
		{"default options", 64, []int{40, 25, 12, 60, 7, 33, 3}, 0.6, Options{}},
		{"high dimension", 256, []int{100, 5, 18, 30, 31, 9}, 0.8, Options{}},
		{"small clusters", 32, []int{8, 8, 8, 8, 20}, 0.5, Options{MinSize: 2, MaxSize: 6}},
		{"large clusters", 128, []int{500, 120, 80, 301}, 0.7, Options{MinSize: 5, MaxSize: 100, Seed: 42}},
		{"many groups", 256, slices.Repeat([]int{12}, 150), 0.6, Options{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vecs, labels := synthetic(uint64(len(tt.name)), tt.dim, tt.sizes, tt.noise)
			res, err := Group(context.Background(), vecs, tt.opt)
			if err != nil {
				t.Fatal(err)
			}
			checkResult(t, len(vecs), res, tt.opt)
			share := checkPure(t, res, labels, func(i int) string { return fmt.Sprint(i) })
			if share < 0.9 {
				t.Errorf("only %.0f%% of vectors clustered, want >= 90%%", 100*share)
			}
		})
	}
}

func TestGroupOutliersStayOut(t *testing.T) {
	// Three tight groups plus scattered random vectors: the random ones are
	// dissimilar to everything and must end as outliers.
	vecs, labels := synthetic(3, 128, []int{20, 20, 20}, 0.4)
	rng := rand.New(rand.NewPCG(9, 9))
	for range 15 {
		vecs = append(vecs, randomUnit(rng, 128))
		labels = append(labels, -1)
	}
	res, err := Group(context.Background(), vecs, Options{})
	if err != nil {
		t.Fatal(err)
	}
	checkResult(t, len(vecs), res, Options{})
	checkPure(t, res, labels, func(i int) string { return fmt.Sprint(i) })
	for _, c := range res.Clusters {
		for _, i := range c {
			if labels[i] == -1 {
				t.Errorf("random vector %d is in a cluster", i)
			}
		}
	}
}

func TestGroupCentralFirst(t *testing.T) {
	vecs := [][]float32{{1, 0.5}, {1, 0}, {1, 0.25}, {1, -0.1}}
	res, err := Group(context.Background(), vecs, Options{Threshold: 0.5})
	if err != nil {
		t.Fatal(err)
	}
	want := Result{Clusters: [][]int{{2, 1, 3, 0}}, Outliers: []int{}}
	if diff := cmp.Diff(want, res); diff != "" {
		t.Errorf("Group (-want +got):\n%s", diff)
	}
}

func TestGroupDeterministic(t *testing.T) {
	vecs, _ := synthetic(5, 64, []int{50, 40, 30, 20, 10, 70, 4}, 0.9)
	opt := Options{Seed: 7}
	first, err := Group(context.Background(), vecs, opt)
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		again, err := Group(context.Background(), vecs, opt)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(first, again); diff != "" {
			t.Fatalf("second run differs (-first +second):\n%s", diff)
		}
	}
}

func TestGroupIdenticalLargeInput(t *testing.T) {
	// 100 identical vectors must still be cut into clusters of at most MaxSize.
	vecs := make([][]float32, 100)
	for i := range vecs {
		vecs[i] = []float32{1, 2, 3}
	}
	res, err := Group(context.Background(), vecs, Options{})
	if err != nil {
		t.Fatal(err)
	}
	checkResult(t, len(vecs), res, Options{})
	if len(res.Outliers) != 0 {
		t.Errorf("identical vectors gave %d outliers", len(res.Outliers))
	}
}

func TestGroupCancelled(t *testing.T) {
	vecs, _ := synthetic(1, 32, []int{50, 50}, 0.5)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Group(ctx, vecs, Options{}); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

// countdownCtx is a context that reports context.Canceled once Err has been
// called n times, to cancel Group at a chosen point of its work.
type countdownCtx struct {
	context.Context
	n int
}

func (c *countdownCtx) Err() error {
	if c.n <= 0 {
		return context.Canceled
	}
	c.n--
	return nil
}

func TestGroupCancelledMidway(t *testing.T) {
	vecs, _ := synthetic(2, 64, slices.Repeat([]int{20}, 30), 0.8)
	// Count the checks of an uncancelled run, then cancel at points along it.
	counter := &countdownCtx{Context: context.Background(), n: math.MaxInt}
	if _, err := Group(counter, vecs, Options{}); err != nil {
		t.Fatal(err)
	}
	checks := math.MaxInt - counter.n
	if checks < 10 {
		t.Fatalf("Group checked ctx only %d times", checks)
	}
	for _, at := range []int{1, checks / 4, checks / 2, checks - 1} {
		_, err := Group(&countdownCtx{Context: context.Background(), n: at}, vecs, Options{})
		if !errors.Is(err, context.Canceled) {
			t.Errorf("cancelled after %d of %d checks: err = %v, want context.Canceled", at, checks, err)
		}
	}
}

// topics are 15 keyword phrases about each of three subjects.
var topics = [][]string{
	{
		"best running shoes", "running shoes for women", "running shoes for men",
		"trail running shoes", "running shoes for flat feet", "cheap running shoes",
		"lightweight running shoe", "running shoes for beginners", "cushioned running shoes",
		"running shoe reviews", "waterproof running shoes", "wide running shoes",
		"best running shoes for marathon", "running shoes sale", "carbon plate running shoes",
	},
	{
		"sourdough bread recipe", "sourdough starter", "how to make sourdough starter",
		"sourdough starter recipe", "feeding sourdough starter", "easy sourdough bread",
		"sourdough bread baking", "sourdough discard recipes", "whole wheat sourdough bread",
		"sourdough baking tips", "sourdough bread flour", "baking sourdough in dutch oven",
		"sourdough bread for beginners", "best sourdough bread recipe", "sourdough loaf",
	},
	{
		"python list comprehension", "python for loop", "python dictionary methods",
		"python tutorial for beginners", "learn python programming", "python programming course",
		"python string format", "python read file", "python class example",
		"python programming language", "python lambda function", "python list sort",
		"python programming exercises", "python functions tutorial", "python dictionary comprehension",
	},
}

func TestGroupOfflineEmbeddings(t *testing.T) {
	var phrases []string
	var labels []int
	for g, ps := range topics {
		phrases = append(phrases, ps...)
		for range ps {
			labels = append(labels, g)
		}
	}
	vecs, _, err := offline.NewEmbedder(0).Embed(context.Background(), phrases)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Group(context.Background(), vecs, Options{})
	if err != nil {
		t.Fatal(err)
	}
	checkResult(t, len(vecs), res, Options{})
	share := checkPure(t, res, labels, func(i int) string { return phrases[i] })
	for _, c := range res.Clusters {
		var ps []string
		for _, i := range c {
			ps = append(ps, phrases[i])
		}
		t.Logf("cluster: %s", strings.Join(ps, " | "))
	}
	t.Logf("%.0f%% clustered; outliers: %d", 100*share, len(res.Outliers))
	if share < 0.6 {
		t.Errorf("only %.0f%% of phrases clustered, want >= 60%%", 100*share)
	}
}

// keywordPhrases returns n distinct, realistic, deterministic keyword
// phrases built from word lists: a product with an optional intent, modifier
// and qualifier (at most 246,840 phrases exist).
func keywordPhrases(n int) []string {
	intents := []string{"best", "cheap", "how to choose", "top 10", "buy", "review of", "where to buy"}
	modifiers := []string{"waterproof", "lightweight", "organic", "wireless", "vintage", "portable",
		"electric", "stainless steel", "wooden", "kids", "professional", "compact", "heavy duty",
		"ergonomic", "budget", "luxury", "handmade", "smart", "foldable", "outdoor", "indoor"}
	products := []string{"running shoes", "hiking boots", "coffee grinder", "espresso machine", "yoga mat",
		"standing desk", "office chair", "gaming laptop", "mechanical keyboard", "noise cancelling headphones",
		"bluetooth speaker", "air fryer", "slow cooker", "chef knife", "cast iron skillet", "sourdough starter",
		"garden hose", "lawn mower", "pressure washer", "tent", "sleeping bag", "backpack", "water bottle",
		"electric toothbrush", "hair dryer", "face moisturizer", "sunscreen", "dog food", "cat litter",
		"bird feeder", "fish tank", "baby stroller", "car seat", "crib mattress", "bike helmet",
		"mountain bike", "road bike", "kayak", "fishing rod", "golf clubs", "tennis racket", "basketball",
		"dumbbells", "treadmill", "rowing machine", "protein powder", "vitamin d", "green tea", "wine glasses",
		"dinner plates", "bed sheets", "memory foam pillow", "duvet cover", "blackout curtains", "area rug",
		"led bulbs", "smart thermostat", "security camera", "robot vacuum", "dehumidifier"}
	qualifiers := []string{"for women", "for men", "for beginners", "near me", "2024", "reviews",
		"under 100", "on sale", "for small spaces", "for travel", "vs", "brands", "for seniors", "deals"}
	rng := rand.New(rand.NewPCG(2024, 11))
	// pick returns a random word, or none with probability 1-p.
	pick := func(ws []string, p float64) string {
		if rng.Float64() >= p {
			return ""
		}
		return ws[rng.IntN(len(ws))]
	}
	out := make([]string, 0, n)
	seen := make(map[string]bool, n)
	for len(out) < n {
		words := []string{pick(intents, 0.4), pick(modifiers, 0.5), pick(products, 1), pick(qualifiers, 0.5)}
		phrase := strings.Join(strings.Fields(strings.Join(words, " ")), " ")
		if !seen[phrase] {
			seen[phrase] = true
			out = append(out, phrase)
		}
	}
	return out
}

func TestGroupKeywordPhrases(t *testing.T) {
	phrases := keywordPhrases(3000)
	vecs, _, err := offline.NewEmbedder(0).Embed(context.Background(), phrases)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Group(context.Background(), vecs, Options{})
	if err != nil {
		t.Fatal(err)
	}
	checkResult(t, len(vecs), res, Options{})
	t.Logf("%d clusters, %d outliers", len(res.Clusters), len(res.Outliers))
	for _, c := range res.Clusters[:min(5, len(res.Clusters))] {
		var ps []string
		for _, i := range c[:min(6, len(c))] {
			ps = append(ps, phrases[i])
		}
		t.Logf("cluster of %d: %s", len(c), strings.Join(ps, " | "))
	}
}

func TestGroupDefaults(t *testing.T) {
	vecs, _ := synthetic(11, 64, []int{45, 20, 8, 2}, 0.7)
	zero, err := Group(context.Background(), vecs, Options{})
	if err != nil {
		t.Fatal(err)
	}
	explicit, err := Group(context.Background(), vecs, Options{MinSize: 3, MaxSize: 30, Threshold: 0.35, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(explicit, zero); diff != "" {
		t.Errorf("zero Options differ from the explicit defaults (-explicit +zero):\n%s", diff)
	}
}

func TestGroupInvertedFileAttach(t *testing.T) {
	// The same data through an exhaustive attach and through the inverted
	// file (budget 0) must satisfy the invariants, and on well-separated
	// data give the same answer.
	vecs, labels := synthetic(13, 256, slices.Repeat([]int{14, 4, 1}, 60), 0.9)
	brute, err := group(context.Background(), vecs, Options{}, bruteBudget)
	if err != nil {
		t.Fatal(err)
	}
	ivf, err := group(context.Background(), vecs, Options{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	checkResult(t, len(vecs), ivf, Options{})
	checkPure(t, ivf, labels, func(i int) string { return fmt.Sprint(i) })
	if diff := cmp.Diff(brute, ivf); diff != "" {
		t.Errorf("inverted file differs from exhaustive attach (-brute +ivf):\n%s", diff)
	}
}

func TestIndexFindsNearestCluster(t *testing.T) {
	const dim, nClusters = 128, 400
	vecs, labels := synthetic(17, dim, slices.Repeat([]int{2}, nClusters/2), 0.2)
	rng := rand.New(rand.NewPCG(1, 2))
	m, _, _, err := normalized(vecs)
	if err != nil {
		t.Fatal(err)
	}
	clusters := make([]leaf, len(vecs))
	for i := range vecs {
		clusters[i] = leaf{members: []int{i}, centroid: m.row(i)}
	}
	g := &grouper{m: m, opt: Options{Threshold: 0.35}, rng: newRNG(1), budget: 0}
	idx, err := g.newIndex(context.Background(), clusters, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(idx.lists) < 2 {
		t.Fatalf("index has %d lists, want an inverted file", len(idx.lists))
	}
	for c := range 50 {
		target := rng.IntN(len(vecs))
		q := make([]float32, dim)
		for j := range q {
			q[j] = m.row(target)[j] + float32(0.1*rng.NormFloat64()/math.Sqrt(dim))
		}
		props := idx.propose(nil, c, q, 0.35)
		if len(props) == 0 || labels[props[0].c] != labels[target] {
			t.Errorf("query near cluster %d (group %d): proposals %v", target, labels[target], props)
		}
	}
}

func TestGroupRobustness(t *testing.T) {
	// Random small inputs full of duplicates, zeros and extreme values, with
	// varied options: no panic, and the invariants hold.
	rng := rand.New(rand.NewPCG(3, 4))
	values := []float32{0, 1, -1, 0.5, 1e-30, 1e30, float32(math.NaN()), float32(math.Inf(-1))}
	for trial := range 300 {
		n, dim := rng.IntN(60), 1+rng.IntN(6)
		vecs := make([][]float32, n)
		for i := range vecs {
			vecs[i] = make([]float32, dim)
			for j := range vecs[i] {
				vecs[i][j] = values[rng.IntN(len(values))]
			}
		}
		minSize := 1 + rng.IntN(4)
		opt := Options{MinSize: minSize, MaxSize: minSize + rng.IntN(10), Threshold: float32(rng.Float64()*2 - 1), Seed: int64(trial)}
		res, err := Group(context.Background(), vecs, opt)
		if err != nil {
			t.Fatalf("trial %d: %v", trial, err)
		}
		checkResult(t, n, res, opt)
	}
}

func benchmarkGroup(b *testing.B, n int) {
	vecs, _, err := offline.NewEmbedder(0).Embed(context.Background(), keywordPhrases(n))
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	var res Result
	for b.Loop() {
		res, err = Group(context.Background(), vecs, Options{})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(res.Clusters)), "clusters")
	b.ReportMetric(float64(len(res.Outliers)), "outliers")
}

func BenchmarkGroup10k(b *testing.B) { benchmarkGroup(b, 10_000) }

func BenchmarkGroup100k(b *testing.B) {
	if testing.Short() {
		b.Skip("100k benchmark skipped in -short mode")
	}
	benchmarkGroup(b, 100_000)
}
