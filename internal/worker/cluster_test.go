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
	g := grouping{Clusters: [][]int64{{3, 1}, {4}, {2, 5}}, Outliers: []int64{6, 7}}
	if got := g.keywordIDs(); !slices.Equal(got, []int64{6, 7, 3, 1, 4, 2, 5}) {
		t.Errorf("keywordIDs = %v", got)
	}
	left := []store.Keyword{{ID: 1}, {ID: 2}, {ID: 3}, {ID: 5}, {ID: 7}}
	groups, outliers := g.resolve(left)
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
	if n.Name != "Écoles de ski" || n.Source != store.NameByFallback || n.Description != "Searches around “écoles de ski”." {
		t.Errorf("fallbackName = %+v", n)
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
