package cluster

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/presswork/presswork/internal/ai/offline"
	"github.com/presswork/presswork/internal/errs"
)

// lexicalOf returns a grouper over phrases and their term ids.
func lexicalOf(t *testing.T, phrases []string, opt Options) (*grouper, [][]int, []bool) {
	t.Helper()
	g := grouperOf(t, phrases, opt)
	terms, rare := termIDs(phrases, g.opt.maxTermDF(len(phrases)))
	return g, terms, rare
}

// TestAttachTerms: an outlier joins the only cluster where its head term
// occurs in two members; one whose term two clusters hold, one whose term
// only one member holds, and one sharing only a modifier stay out.
func TestAttachTerms(t *testing.T) {
	phrases := []string{
		"beekeeping for beginners", "top bar hive plans", "hive inspection checklist", "beekeeping suit", // 0-3
		"chess openings for beginners", "learn chess openings", "chess opening traps", // 4-6
		"flow hive review",             // 7: hive, twice in the first cluster only
		"how to learn openings review", // 8: opening, held by the second cluster only... and "learn"
		"langstroth suit review",       // 9: suit, once in the first cluster
		"best review for beginners",    // 10: modifiers only
	}
	g, terms, _ := lexicalOf(t, phrases, Options{})
	clusters := []leaf{leafOf(g, 0, 1, 2, 3), leafOf(g, 4, 5, 6)}
	rest := g.attachTerms(clusters, []int{7, 8, 9, 10}, terms)
	if !slices.Contains(clusters[0].members, 7) {
		t.Errorf("flow hive review stayed out of the beekeeping cluster: %v", clusters[0].members)
	}
	if !slices.Contains(clusters[1].members, 8) {
		t.Errorf("how to learn openings review stayed out of the chess cluster: %v", clusters[1].members)
	}
	if !slices.Equal(rest, []int{9, 10}) {
		t.Errorf("attachTerms left %v out, want [9 10] (a term one member holds, modifiers only)", rest)
	}

	// A term held by two clusters places nothing.
	phrases = []string{
		"tomato plant spacing", "tomato plant cages", "tomato seeds", // 0-2
		"snake plant care", "snake plant watering", "snake plant light", // 3-5
		"plant food for beginners", // 6
	}
	g, terms, _ = lexicalOf(t, phrases, Options{})
	clusters = []leaf{leafOf(g, 0, 1, 2), leafOf(g, 3, 4, 5)}
	if rest := g.attachTerms(clusters, []int{6}, terms); !slices.Equal(rest, []int{6}) {
		t.Errorf("plant food joined a cluster though both hold plant: %v %v", clusters[0].members, clusters[1].members)
	}
}

// TestGroupTerms: outliers sharing a rare head term form a cluster;
// outliers sharing only a modifier ("review", "how to", "vs", "best") form
// none.
func TestGroupTerms(t *testing.T) {
	phrases := []string{
		"best hand plane for beginners", "block plane vs smoothing plane", "stanley no 4 plane", // 0-2
		"dewalt drill review", "pothos care review", "cortado review", // 3-5
		"how to sharpen a chisel", "how to potty train a puppy", "how to make cold brew", // 6-8
		"fha vs conventional loan", "sibley vs peterson field guide", "italian game vs ruy lopez", // 9-11
		"best restaurants in trastevere", "best low light houseplants", "best running watch", // 12-14
	}
	g, terms, rare := lexicalOf(t, phrases, Options{})
	all := make([]int, len(phrases))
	for i := range all {
		all[i] = i
	}
	got, rest := g.groupTerms(all, terms, rare)
	if len(got) != 1 || !slices.Equal(slices.Sorted(slices.Values(got[0].members)), []int{0, 1, 2}) {
		var members [][]int
		for _, l := range got {
			members = append(members, l.members)
		}
		t.Fatalf("groupTerms made %v, want one cluster [0 1 2] (the planes)", members)
	}
	if len(rest) != len(phrases)-3 {
		t.Errorf("groupTerms left %v, want every keyword but the planes", rest)
	}
}

// TestGroupTermsCohesion: a term of any topic ("line") does not hold
// keywords of different topics together once they are pruned to
// TermCohesion; without the floor it would.
func TestGroupTermsCohesion(t *testing.T) {
	phrases := []string{
		"caro kann defense main line", "vatican museums skip the line", "fishing line strength",
		"vintage typewriter ribbon",
	}
	for _, tt := range []struct {
		cohesion float32
		groups   int
	}{{0.1, 0}, {-1, 1}} {
		g, terms, rare := lexicalOf(t, phrases, Options{TermCohesion: tt.cohesion})
		if got, _ := g.groupTerms([]int{0, 1, 2, 3}, terms, rare); len(got) != tt.groups {
			t.Errorf("TermCohesion %v: groupTerms made %d clusters of keywords sharing only line, want %d",
				tt.cohesion, len(got), tt.groups)
		}
	}
}

// TestGroupComparingLexical: with phrases, GroupComparing places keywords
// the vectors leave out by the head terms they share, never by a shared
// modifier; with nil phrases, or a negative TermSupport, there is no
// lexical pass.
func TestGroupComparingLexical(t *testing.T) {
	phrases := []string{
		"caro kann defense main line", "sicilian defense for beginners", "kings indian defense plans",
		"dewalt drill review", "pothos care review", "cortado review", "kindle paperwhite review",
		"how to sharpen a chisel", "how to potty train a puppy", "how to make cold brew",
	}
	vecs, _, err := offline.NewEmbedder(0).Embed(context.Background(), phrases)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	with, err := GroupComparing(ctx, vecs, phrases, nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range with.Clusters {
		for _, i := range c {
			if i > 2 {
				t.Errorf("cluster %v holds %q, which shares only a modifier with the others", c, phrases[i])
			}
		}
	}
	without, err := GroupComparing(ctx, vecs, nil, nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	off, err := GroupComparing(ctx, vecs, phrases, nil, Options{TermSupport: -1})
	if err != nil {
		t.Fatal(err)
	}
	if len(with.Outliers) >= len(without.Outliers) || !slices.Equal(off.Outliers, without.Outliers) {
		t.Errorf("outliers with phrases %v, without %v, pass off %v; want fewer with phrases only",
			with.Outliers, without.Outliers, off.Outliers)
	}
	if _, err := GroupComparing(ctx, vecs, phrases, nil, Options{TermShare: 2}); !errors.Is(err, errs.ErrPermanent) {
		t.Errorf("TermShare 2: error %v, want ErrPermanent", err)
	}
}
