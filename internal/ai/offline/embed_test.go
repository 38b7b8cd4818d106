package offline

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/presswork/presswork/internal/ai"
)

func embedOne(t *testing.T, e *Embedder, text string) []float32 {
	t.Helper()
	vs, _, err := e.Embed(context.Background(), []string{text})
	if err != nil {
		t.Fatalf("Embed(%q): %v", text, err)
	}
	return vs[0]
}

func embedCosine(a, b []float32) float64 {
	var dot, na, nb float64
	for i := range a {
		dot += float64(a[i]) * float64(b[i])
		na += float64(a[i]) * float64(a[i])
		nb += float64(b[i]) * float64(b[i])
	}
	if na == 0 || nb == 0 {
		return 0
	}
	return dot / math.Sqrt(na*nb)
}

func embedNorm(v []float32) float64 {
	var s float64
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	return math.Sqrt(s)
}

func TestEmbedderIdentity(t *testing.T) {
	tests := []struct {
		dims     int
		wantDims int
	}{{0, 512}, {-3, 512}, {64, 64}, {300, 300}}
	for _, tt := range tests {
		e := NewEmbedder(tt.dims)
		if got := e.Dimensions(); got != tt.wantDims {
			t.Errorf("NewEmbedder(%d).Dimensions() = %d, want %d", tt.dims, got, tt.wantDims)
		}
		want := EmbedModel
		if sharedLexicon().db == nil {
			want = EmbedModelLexical
		}
		if got := e.Name(); got != want {
			t.Errorf("Name() = %q, want %q", got, want)
		}
		if got := len(embedOne(t, e, "running shoes")); got != tt.wantDims {
			t.Errorf("len(vector) = %d, want %d", got, tt.wantDims)
		}
	}
	var zero Embedder
	if got := zero.Dimensions(); got != DefaultDimensions {
		t.Errorf("zero Embedder Dimensions() = %d", got)
	}
}

func TestEmbedDeterministic(t *testing.T) {
	texts := []string{"best running shoes", "Sourdough starter recipe", "", "python list comprehension"}
	a, _, err := NewEmbedder(0).Embed(context.Background(), texts)
	if err != nil {
		t.Fatal(err)
	}
	// A fresh embedder, and the texts in another batch shape, give the same vectors.
	for i, text := range texts {
		b := embedOne(t, NewEmbedder(0), text)
		if diff := cmp.Diff(a[i], b); diff != "" {
			t.Errorf("vector of %q differs between calls (-first +second):\n%s", text, diff)
		}
	}
}

func TestEmbedUnitLength(t *testing.T) {
	e := NewEmbedder(0)
	for _, text := range []string{"a", "shoes", "best running shoes for flat feet", "Crème brûlée recette", "the", "日本語 テキスト", strings.Repeat("word ", 500)} {
		v := embedOne(t, e, text)
		if n := embedNorm(v); math.Abs(n-1) > 1e-5 {
			t.Errorf("|embed(%q)| = %v, want 1", text, n)
		}
	}
}

func TestEmbedEmptyIsZero(t *testing.T) {
	e := NewEmbedder(0)
	for _, text := range []string{"", "   ", "!!! ??? ---"} {
		v := embedOne(t, e, text)
		for i, x := range v {
			if x != 0 || math.IsNaN(float64(x)) {
				t.Fatalf("embed(%q)[%d] = %v, want 0", text, i, x)
			}
		}
	}
}

func TestEmbedSimilarity(t *testing.T) {
	e := NewEmbedder(0)
	tests := []struct {
		a, near, far string
	}{
		{"running shoes", "running shoe", "chocolate cake recipe"},
		{"running shoes", "Running  SHOES", "python tutorial"},
		{"sourdough bread baking", "baked sourdough bread", "running shoes"},
		{"python list comprehension", "python lists", "sourdough starter"},
	}
	for _, tt := range tests {
		near := embedCosine(embedOne(t, e, tt.a), embedOne(t, e, tt.near))
		far := embedCosine(embedOne(t, e, tt.a), embedOne(t, e, tt.far))
		if near < far+0.4 {
			t.Errorf("cos(%q, %q) = %.3f, cos(%q, %q) = %.3f: want a clear margin", tt.a, tt.near, near, tt.a, tt.far, far)
		}
	}
}

// TestEmbedModifiersWeighLittle: keywords that share only a query modifier
// are far apart, and a modifier barely moves a keyword away from its head
// terms (#21).
func TestEmbedModifiersWeighLittle(t *testing.T) {
	e := NewEmbedder(0)
	tests := []struct {
		a, near, far string
	}{
		{"how to potty train a puppy", "puppy potty training schedule", "how to sharpen a chisel"},
		{"cortado vs flat white", "flat white recipe", "pasmo vs suica"},
		{"bloomscape review", "bloomscape plants", "df64 grinder review"},
		{"dovetail joint for beginners", "hand cut dovetail joint", "latte art for beginners"},
		{"best trail running shoes 2024", "trail running shoes", "best budgeting app 2024"},
		{"road bike under $500", "road bike", "blender under $500"},
	}
	for _, tt := range tests {
		near := embedCosine(embedOne(t, e, tt.a), embedOne(t, e, tt.near))
		far := embedCosine(embedOne(t, e, tt.a), embedOne(t, e, tt.far))
		if near < 0.4 || far > 0.2 {
			t.Errorf("cos(%q, %q) = %.3f, cos(%q, %q) = %.3f: want >= 0.4 and <= 0.2", tt.a, tt.near, near, tt.a, tt.far, far)
		}
	}
	// A text of nothing but modifiers keeps its words at full weight.
	if v := embedOne(t, e, "how to"); embedNorm(v) < 0.99 {
		t.Errorf("|embed(how to)| = %.3f, want 1", embedNorm(v))
	}
}

func TestEmbedCaseAndSpaceFolding(t *testing.T) {
	e := NewEmbedder(0)
	a := embedOne(t, e, "Running Shoes")
	b := embedOne(t, e, "  running\t shoes\n")
	if diff := cmp.Diff(a, b); diff != "" {
		t.Errorf("case and whitespace change the vector:\n%s", diff)
	}
}

func TestEmbedStopWordsOnly(t *testing.T) {
	// A text of only stop words still gets a vector.
	v := embedOne(t, NewEmbedder(0), "the")
	if n := embedNorm(v); math.Abs(n-1) > 1e-5 {
		t.Errorf("|embed(\"the\")| = %v, want 1", n)
	}
}

func TestEmbedUsage(t *testing.T) {
	_, u, err := NewEmbedder(0).Embed(context.Background(), []string{"best running shoes", "", "the art of war"})
	if err != nil {
		t.Fatal(err)
	}
	want := wantUsage(NewEmbedder(0).Name(), 7)
	if diff := cmp.Diff(want, u); diff != "" {
		t.Errorf("usage (-want +got):\n%s", diff)
	}
}

func TestEmbedCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := NewEmbedder(0).Embed(ctx, []string{"x"}); !errors.Is(err, context.Canceled) {
		t.Errorf("Embed with cancelled ctx: err = %v, want context.Canceled", err)
	}
}

// cancelAfter is a context whose Err reports context.Canceled after n nil
// answers.
type cancelAfter struct {
	context.Context
	n int
}

func (c *cancelAfter) Err() error {
	if c.n <= 0 {
		return context.Canceled
	}
	c.n--
	return nil
}

func TestEmbedCancelledMidway(t *testing.T) {
	ctx := &cancelAfter{Context: context.Background(), n: 2}
	if _, _, err := NewEmbedder(0).Embed(ctx, embedPhrases(5000)); !errors.Is(err, context.Canceled) {
		t.Errorf("Embed cancelled midway: err = %v, want context.Canceled", err)
	}
}

func TestStem(t *testing.T) {
	tests := map[string]string{
		"shoes": "sho", "shoe": "sho", "running": "run", "run": "run",
		"baking": "bak", "baked": "bak", "bakes": "bak", "bake": "bak",
		"dresses": "dress", "dress": "dress", "cookies": "cooki", "cookie": "cooki",
		"stopped": "stop", "speed": "speed", "lists": "list", "bus": "bus",
		"easy": "easi", "a": "a",
	}
	for in, want := range tests {
		if got := string(appendStem(nil, []byte(in))); got != want {
			t.Errorf("stem(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestFNVMatchesHashFNV(t *testing.T) {
	for _, s := range []string{"", "abc", " ru", "running"} {
		h := fnv.New64a()
		h.Write([]byte{tagGram})
		h.Write([]byte(s))
		if got, want := fnv1a(tagGram, []byte(s)), h.Sum64(); got != want {
			t.Errorf("fnv1a(%q) = %x, hash/fnv = %x", s, got, want)
		}
	}
}

func TestEmbedAllocations(t *testing.T) {
	e := NewEmbedder(0)
	texts := make([]string, 100)
	for i := range texts {
		texts[i] = fmt.Sprintf("best running shoes for women size %d", i)
	}
	// The output slices, plus a few buffers that grow once per call.
	allocs := testing.AllocsPerRun(20, func() { _, _, _ = e.Embed(context.Background(), texts) })
	if allocs > 10 {
		t.Errorf("Embed of 100 texts makes %v allocations, want <= 10", allocs)
	}
}

func BenchmarkEmbed100k(b *testing.B) {
	texts := embedPhrases(100_000)
	e := NewEmbedder(0)
	b.Logf("model %s", e.Name()) // WordNet is read once per process, before the loop
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := e.Embed(context.Background(), texts); err != nil {
			b.Fatal(err)
		}
	}
}

// embedPhrases returns n short keyword-like phrases.
func embedPhrases(n int) []string {
	heads := []string{"best", "cheap", "how to choose", "top", "review of", "buy", "guide to"}
	topics := []string{"running shoes", "sourdough bread", "python lists", "garden hose", "coffee grinder", "yoga mat"}
	tails := []string{"for beginners", "2024", "near me", "for women", "under 100", "at home"}
	out := make([]string, n)
	for i := range out {
		out[i] = heads[i%len(heads)] + " " + topics[(i/7)%len(topics)] + " " + tails[(i/42)%len(tails)]
	}
	return out
}

// wantUsage is a test helper that builds the expected usage.
func wantUsage(model string, words int) ai.Usage {
	return ai.Usage{Model: model, PromptTokens: words}
}
