package offline_test

import (
	"context"
	"testing"

	"github.com/presswork/presswork/internal/ai"
	"github.com/presswork/presswork/internal/ai/offline"
	"github.com/presswork/presswork/internal/eval"
)

// TestIdeaTitlesPassTheEval runs the ideas and draft stages on clusters of
// one keyword shape each and checks their titles and meta titles with
// make eval's checks (internal/eval).
func TestIdeaTitlesPassTheEval(t *testing.T) {
	clusters := map[string][]string{
		"questions": {"are air fryers healthy", "is the japan rail pass worth it", "how much house can i afford",
			"how often to water pothos", "why is my sourdough dense", "what is a roth ira"},
		"trailing questions": {"espresso channeling how to fix", "keto flu symptoms how long",
			"fungus gnats in houseplants how to get rid of", "banneton basket how to use"},
		"comparisons": {"cortado vs flat white", "1099 vs w2 explained", "dewalt vs makita cordless",
			"acoustic vs electric guitar for beginners"},
		"nouns": {"best tomato varieties for beginners", "camping for beginners checklist",
			"guitar strumming patterns for beginners", "waterproof trail running shoes"},
	}
	w, err := ai.NewWriter(offline.NewTextModel())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for name, phrases := range clusters {
		kws := make([]ai.KeywordInfo, len(phrases))
		for i, p := range phrases {
			kws[i] = ai.KeywordInfo{Phrase: p}
		}
		ideas, _, err := w.Ideas(ctx, ai.IdeasInput{ClusterName: name, Keywords: kws, Count: 12})
		if err != nil {
			t.Fatal(err)
		}
		for _, idea := range ideas {
			if why := eval.BrokenTitle(idea.Title); why != "" {
				t.Errorf("%s: %q: %s", name, idea.Title, why)
			}
			d, _, err := w.Draft(ctx, ai.DraftInput{ClusterName: name, Title: idea.Title, ContentType: idea.ContentType,
				TargetKeywords: idea.TargetKeywords, Outline: idea.Outline})
			if err != nil {
				t.Fatal(err)
			}
			if why := eval.CutField(d.MetaTitle, d.Title, 60); why != "" {
				t.Errorf("%s: meta title %q of %q: %s", name, d.MetaTitle, d.Title, why)
			}
		}
	}
}
