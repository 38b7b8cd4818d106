package offline

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/presswork/presswork/internal/wordnet"
)

// fixtureEmbedder embeds with the small WordNet of internal/wordnet's
// testdata (pothos and monstera are lianas; castling is a chess move) and
// the brand list brands.
func fixtureEmbedder(t *testing.T, brands string) *Embedder {
	t.Helper()
	db, err := wordnet.Open("../../wordnet/testdata")
	if err != nil {
		t.Fatal(err)
	}
	lex := newLexicon(db)
	lex.brands = parseBrands(brands)
	return &Embedder{lex: lex}
}

func lexicalEmbedder() *Embedder {
	lex := newLexicon(nil)
	lex.brands = nil
	return &Embedder{lex: lex}
}

// TestEmbedWordNet: words that share no letters but meet in WordNet lie
// near each other, and a collocation WordNet knows counts as one word.
func TestEmbedWordNet(t *testing.T) {
	wn, lexical := fixtureEmbedder(t, ""), lexicalEmbedder()
	if got := wn.Name(); got != EmbedModel {
		t.Errorf("Name() = %q, want %q", got, EmbedModel)
	}
	for _, tt := range []struct{ a, b string }{
		{"pothos", "monstera"},         // both lianas
		{"castling", "chess"},          // castling's topic domain
		{"monstera leaves", "leafage"}, // leaves is leaf, whose synset holds leafage
	} {
		with := embedCosine(embedOne(t, wn, tt.a), embedOne(t, wn, tt.b))
		without := embedCosine(embedOne(t, lexical, tt.a), embedOne(t, lexical, tt.b))
		if with < 0.15 || with < without+0.1 {
			t.Errorf("cos(%q, %q) = %.3f with WordNet, %.3f without: want >= 0.15 and clearly more", tt.a, tt.b, with, without)
		}
	}
	f := newFeaturizer(wn.lex)
	f.split("chess game openings")
	f.mods = modifierSpans(len(f.ends), f.word, f.mods)
	f.collocations()
	if diff := cmp.Diff([]int{2, 0, -1}, f.colloc); diff != "" {
		t.Errorf("collocations of %q (-want +got):\n%s", "chess game openings", diff)
	}
}

// TestEmbedWithoutWordNet: without the database the embedder works on
// spelling alone, says so in its name and once in the log.
func TestEmbedWithoutWordNet(t *testing.T) {
	var buf bytes.Buffer
	lex := loadLexicon(t.TempDir(), slog.New(slog.NewTextHandler(&buf, nil)))
	if lex.db != nil {
		t.Fatal("a lexicon from an empty directory has WordNet")
	}
	if !strings.Contains(buf.String(), "no WordNet") || strings.Count(buf.String(), "\n") != 1 {
		t.Errorf("log = %q, want one line saying there is no WordNet", buf.String())
	}
	e := &Embedder{lex: lex}
	if got := e.Name(); got != EmbedModelLexical {
		t.Errorf("Name() = %q, want %q", got, EmbedModelLexical)
	}
	vs, u, err := e.Embed(context.Background(), []string{"pothos care", "monstera care"})
	if err != nil {
		t.Fatal(err)
	}
	if u.Model != EmbedModelLexical || embedNorm(vs[0]) < 0.99 {
		t.Errorf("usage model %q, |v| = %.3f", u.Model, embedNorm(vs[0]))
	}
}

// TestEmbedBrands: a brand on the list brings its category words, so its
// keywords meet the category's; a word that is not a brand brings nothing.
func TestEmbedBrands(t *testing.T) {
	brands := "makita: cordless drill power tool\nmonday.com: project management\n"
	e, plain := fixtureEmbedder(t, brands), fixtureEmbedder(t, "")
	for _, tt := range []struct{ a, b string }{
		{"makita 18v review", "best cordless drill"},
		{"monday.com pricing", "project management software"},
	} {
		with := embedCosine(embedOne(t, e, tt.a), embedOne(t, e, tt.b))
		without := embedCosine(embedOne(t, plain, tt.a), embedOne(t, plain, tt.b))
		if with < 0.3 || without > 0.1 {
			t.Errorf("cos(%q, %q) = %.3f with the brand, %.3f without: want >= 0.3 and <= 0.1", tt.a, tt.b, with, without)
		}
	}
	if diff := cmp.Diff(embedOne(t, plain, "monday morning"), embedOne(t, e, "monday morning")); diff != "" {
		t.Errorf("a part of a brand's name changes the vector (-without +with):\n%s", diff)
	}
	// A brand that is also an English word is the brand only where the
	// keyword is about a product.
	leaf := fixtureEmbedder(t, "leaf: electric car\n")
	for _, tt := range []struct {
		text  string
		brand bool
	}{{"leaf review", true}, {"leaf vs bolt", true}, {"leaf e+ 62kwh", true}, {"leaf colour", false}, {"autumn leaf", false}} {
		got := embedCosine(embedOne(t, leaf, tt.text), embedOne(t, leaf, "electric car"))
		if got >= 0.2 != tt.brand {
			t.Errorf("cos(%q, electric car) = %.3f; want the brand's category %v", tt.text, got, tt.brand)
		}
	}
}

func TestParseBrands(t *testing.T) {
	got := parseBrands("# comment\nApple Watch: smartwatch # trailing\napple: phone laptop\nno colon here\n: empty\nx:\n")
	want := brandList{"apple": {
		{name: []string{"apple", "watch"}, words: []string{"smartwatch"}},
		{name: []string{"apple"}, words: []string{"phone", "laptop"}},
	}}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(brand{})); diff != "" {
		t.Errorf("parseBrands (-want +got):\n%s", diff)
	}
	if len(defaultBrands()) < 100 {
		t.Errorf("brands.txt has %d first words, want a list of well-known brands", len(defaultBrands()))
	}
}

func TestPolysemyScale(t *testing.T) {
	for _, tt := range []struct {
		senses   int
		min, max float32
	}{{0, 1, 1}, {1, 1, 1}, {10, 0.65, 0.75}, {40, 0.4, 0.5}} {
		if got := polysemyScale(tt.senses); got < tt.min || got > tt.max {
			t.Errorf("polysemyScale(%d) = %.3f, want in [%v, %v]", tt.senses, got, tt.min, tt.max)
		}
	}
}
