package ai_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/presswork/presswork/internal/ai"
	"github.com/presswork/presswork/internal/ai/offline"
)

// TestOfflineDraftsNeedNoRepair checks that the local repairs leave the
// offline model's drafts as it wrote them (apart from the sanitizer).
func TestOfflineDraftsNeedNoRepair(t *testing.T) {
	ctx := context.Background()
	m := offline.NewTextModel()
	sets := map[string][]string{
		"trail shoes": {"trail running shoes", "best trail running shoes for beginners", "how to choose trail running shoes"},
		"german":      {"Laufschuhe für Damen", "beste Laufschuhe Test"},
		"japanese":    {"ランニングシューズ おすすめ", "ランニングシューズ 選び方"},
		"symbols":     {"☕ coffee & cake <recipes>", "c++ vs rust"},
	}
	for name, phrases := range sets {
		kws := make([]ai.KeywordInfo, len(phrases))
		for i, p := range phrases {
			kws[i] = ai.KeywordInfo{Phrase: p}
		}
		iin := ai.IdeasInput{ClusterName: name, Keywords: kws, Count: 6}
		resp, err := m.GenerateJSON(ctx, ai.JSONRequest{Input: iin})
		if err != nil {
			t.Fatal(err)
		}
		ideas, err := ai.ParseIdeas(iin, resp.Content)
		if err != nil {
			t.Fatal(err)
		}
		for _, idea := range ideas {
			din := ai.DraftInput{SiteName: "Example", ClusterName: name, Title: idea.Title, ContentType: idea.ContentType,
				TargetKeywords: idea.TargetKeywords, Outline: idea.Outline}
			resp, err := m.GenerateJSON(ctx, ai.JSONRequest{Input: din})
			if err != nil {
				t.Fatal(err)
			}
			var raw ai.Draft
			if err := json.Unmarshal(resp.Content, &raw); err != nil {
				t.Fatal(err)
			}
			got, err := ai.ParseDraft(din, resp.Content)
			if err != nil {
				t.Fatalf("%s %q: %v", name, idea.Title, err)
			}
			if got.Fixes != nil {
				t.Errorf("%s %q: fixes %+v", name, idea.Title, got.Fixes)
			}
			if diff := cmp.Diff(raw, got, cmpopts.IgnoreFields(ai.Draft{}, "BodyHTML", "Warnings")); diff != "" {
				t.Errorf("%s %q (-offline +parsed):\n%s", name, idea.Title, diff)
			}
		}
	}
}
