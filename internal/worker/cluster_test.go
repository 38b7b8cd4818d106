package worker

import (
	"slices"
	"testing"

	"github.com/presswork/presswork/internal/ai"
	"github.com/presswork/presswork/internal/store"
)

func TestKeywordGroups(t *testing.T) {
	t.Parallel()
	intent, volume := "commercial", int32(5)
	keywords := []store.Keyword{{ID: 10, Phrase: "a"}, {ID: 11, Phrase: "b", Volume: &volume, Intent: &intent},
		{ID: 12, Phrase: "c"}}
	if got := keywordIDs(keywords, []int{2, 0}); !slices.Equal(got, []int64{12, 10}) {
		t.Errorf("keywordIDs = %v, want [12 10]", got)
	}
	infos := keywordInfos(keywords, []int{1, 2, 0}, 2)
	want := []ai.KeywordInfo{{Phrase: "b", Volume: &volume, Intent: "commercial"}, {Phrase: "c"}}
	if !slices.Equal(infos, want) {
		t.Errorf("keywordInfos = %+v, want %+v", infos, want)
	}
}

func TestDraftHeadings(t *testing.T) {
	t.Parallel()
	body := "<p>intro</p><h2>Why grind size matters</h2><h3>Burrs</h3><p>x</p><h2>How to <em>choose</em></h2>"
	if got, want := draftHeadings(body), []string{"Why grind size matters", "How to choose"}; !slices.Equal(got, want) {
		t.Errorf("draftHeadings = %q, want %q", got, want)
	}
}
