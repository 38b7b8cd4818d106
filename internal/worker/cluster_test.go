package worker

import (
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/presswork/presswork/internal/ai"
	"github.com/presswork/presswork/internal/store"
)

func TestKeywordGroups(t *testing.T) {
	t.Parallel()
	intent, volume := "commercial", int32(5)
	keywords := []store.Keyword{{ID: 10, Phrase: "a"}, {ID: 11, Phrase: "b", Volume: &volume, Intent: &intent},
		{ID: 12, Phrase: "c"}}
	if got := indexIDs(keywords, []int{2, 0}); !slices.Equal(got, []int64{12, 10}) {
		t.Errorf("indexIDs = %v, want [12 10]", got)
	}
	infos := keywordInfos([]store.Keyword{keywords[1], keywords[2], keywords[0]}, 2)
	want := []ai.KeywordInfo{{Phrase: "b", Volume: &volume, Intent: "commercial"}, {Phrase: "c"}}
	if !slices.Equal(infos, want) {
		t.Errorf("keywordInfos = %+v, want %+v", infos, want)
	}
}

// TestGroupingResolve: a saved grouping is read back against the keywords
// still unclustered; the ones gone leave their groups, in order, and an
// emptied group stays as an empty slot (its name step keeps its index).
func TestGroupingResolve(t *testing.T) {
	t.Parallel()
	g := grouping{Clusters: [][]int64{{3, 1}, {4}, {2, 5}}, Outliers: []int64{6, 7},
		Joins: []joining{{Cluster: 40, Keywords: []int64{8, 9}}, {Cluster: 41, Keywords: []int64{10}}}}
	if got := g.keywordIDs(); !slices.Equal(got, []int64{6, 7, 3, 1, 4, 2, 5, 8, 9, 10}) {
		t.Errorf("keywordIDs = %v", got)
	}
	left := []store.Keyword{{ID: 1}, {ID: 2}, {ID: 3}, {ID: 5}, {ID: 7}, {ID: 9}}
	groups, joins, outliers := g.resolve(left)
	if len(joins) != 1 || joins[0].Cluster != 40 || !slices.Equal(joins[0].Keywords, []int64{9}) {
		t.Errorf("joins = %+v, want keyword 9 joining cluster 40", joins)
	}
	var ids [][]int64
	for _, members := range groups {
		ids = append(ids, clusterName{}.cluster(members).KeywordIDs)
	}
	if want := [][]int64{{3, 1}, {}, {2, 5}}; !slices.EqualFunc(ids, want, slices.Equal) {
		t.Errorf("groups = %v, want %v", ids, want)
	}
	if !slices.Equal(outliers, []int64{7}) {
		t.Errorf("outliers = %v, want [7]", outliers)
	}
}

func TestFallbackName(t *testing.T) {
	t.Parallel()
	n := fallbackName("  écoles   de ski ")
	if n.Name != "Écoles de Ski" || n.Source != store.NameByFallback || n.Description != "Searches around “écoles de ski”." {
		t.Errorf("fallbackName = %+v", n)
	}
	if n := fallbackName("ev charger for wordpress sites"); n.Name != "EV Charger for WordPress Sites" {
		t.Errorf("fallbackName = %q, want title case with acronyms and brands", n.Name)
	}
	long := fallbackName(strings.Repeat("word ", 40))
	if utf8.RuneCountInString(long.Name) > maxFallbackNameRunes {
		t.Errorf("fallback name of %d runes, want at most %d", utf8.RuneCountInString(long.Name), maxFallbackNameRunes)
	}
}

func TestDraftHeadings(t *testing.T) {
	t.Parallel()
	body := "<p>intro</p><h2>Why grind size matters</h2><h3>Burrs</h3><p>x</p><h2>How to <em>choose</em></h2>"
	if got, want := draftHeadings(body), []string{"Why grind size matters", "How to choose"}; !slices.Equal(got, want) {
		t.Errorf("draftHeadings = %q, want %q", got, want)
	}
}

// TestDistinctNames: a name the site has, or that an earlier group of the
// job took, gets its group's head term; an empty slot stays empty.
func TestDistinctNames(t *testing.T) {
	t.Parallel()
	kws := func(phrases ...string) []store.Keyword {
		out := make([]store.Keyword, len(phrases))
		for i, p := range phrases {
			out[i] = store.Keyword{Phrase: p}
		}
		return out
	}
	out := []store.NewCluster{{Name: "Trail Running Shoes"}, {}, {Name: "Trail Running Shoes"}, {Name: "Espresso"}}
	groups := [][]store.Keyword{kws("trail running shoes", "best trail running shoes"), nil,
		kws("waterproof trail running shoes", "waterproof trail shoes"), kws("espresso grind size")}
	taken := map[string]bool{ai.NameKey("espresso"): true}
	distinctNames(out, groups, taken)
	var got []string
	for _, c := range out {
		got = append(got, c.Name)
	}
	if want := []string{"Trail Running Shoes", "", "Waterproof Trail Running Shoes", "Grind Espresso"}; !slices.Equal(got, want) {
		t.Errorf("names = %q, want %q", got, want)
	}
}
