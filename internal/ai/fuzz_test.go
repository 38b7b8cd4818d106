package ai_test

import (
	"strings"
	"testing"

	"github.com/presswork/presswork/internal/ai"
)

// FuzzParseModelOutputs feeds arbitrary model answers to the parsers of
// the cluster name, ideas and image prompt stages (drafts: FuzzValidateDraft
// in internal/ai/offline): they never panic, and what they accept passes
// the stage's validation.
func FuzzParseModelOutputs(f *testing.F) {
	for _, s := range []struct {
		stage uint8
		data  string
	}{
		{0, `{"name":"Trail Shoes","description":"Shoes for running off road."}`},
		{0, `{"name":"","description":"x","extra":1}`},
		{0, `{"name":"` + strings.Repeat("n", 300) + `","description":"d"}`},
		{1, `{"ideas":[{"title":"How to Choose Trail Shoes","content_type":"how_to","target_keywords":["trail shoes"],` +
			`"outline":[{"level":2,"text":"Grip"},{"level":3,"text":"Lugs"},{"level":2,"text":"Fit"}]}]}`},
		{1, `{"ideas":[{"title":"Existing Title","content_type":"listicle","target_keywords":[],"outline":[]}]}`},
		{1, `{"ideas":null}`},
		{2, `{"prompt":"A photograph of trail running shoes on a rocky path","alt_text":"Trail shoes on rocks",` +
			`"inline_images":[{"heading":"Grip","prompt":"Close-up of a shoe's lugs in the mud","alt_text":"Shoe lugs"}]}`},
		{2, `{"prompt":"short","alt_text":"","inline_images":[{"heading":"Nowhere","prompt":"p","alt_text":"a"}]}`},
		{2, "```json\n{}\n```"},
		{3, `null`}, {3, `[]`}, {3, "\xff"}, {3, `{"a":` + strings.Repeat("[", 1000)},
	} {
		f.Add(s.stage, []byte(s.data))
	}
	kws := []ai.KeywordInfo{{Phrase: "trail shoes"}, {Phrase: "trail running shoes"}}
	ideasIn := ai.IdeasInput{ClusterName: "Trail Shoes", Keywords: kws, Count: 1, ExistingTitles: []string{"Existing Title"}}
	imageIn := ai.ImagePromptInput{Title: "How to Choose Trail Shoes", FocusKeyword: "trail shoes",
		Headings: []string{"Grip", "Fit", "Care"}, InlineCount: 1}
	f.Fuzz(func(t *testing.T, stage uint8, data []byte) {
		switch stage % 3 {
		case 0:
			c, err := ai.ParseClusterName(data)
			if err != nil {
				return
			}
			if err := ai.ValidateClusterName(c); err != nil {
				t.Fatalf("ParseClusterName accepted %q, which ValidateClusterName rejects: %v", data, err)
			}
		case 1:
			ideas, err := ai.ParseIdeas(ideasIn, data)
			if err != nil {
				return
			}
			if err := ai.ValidateIdeas(ideasIn, ideas); err != nil {
				t.Fatalf("ParseIdeas accepted %q, which ValidateIdeas rejects: %v", data, err)
			}
		case 2:
			p, err := ai.ParseImagePrompt(imageIn, data)
			if err != nil {
				return
			}
			if err := ai.ValidateImagePrompt(imageIn, p); err != nil {
				t.Fatalf("ParseImagePrompt accepted %q, which ValidateImagePrompt rejects: %v", data, err)
			}
		}
	})
}
