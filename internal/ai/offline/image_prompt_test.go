package offline

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/presswork/presswork/internal/ai"
)

// TestImagePrompt checks that the offline writer's image prompts pass the
// stage's validation, also for odd input, and are deterministic; in-article
// images are as many as asked for (or as there are headings), each after a
// different heading.
func TestImagePrompt(t *testing.T) {
	w, err := ai.NewWriter(NewTextModel())
	if err != nil {
		t.Fatal(err)
	}
	headings := []string{"Why grip matters", "Fit", "Fit", "Protection\x00 and   cushioning", "Sizing", "Care", "Budget"}
	inputs := []struct {
		in   ai.ImagePromptInput
		want int // in-article images
	}{
		{ai.ImagePromptInput{SiteName: "Trail & Tarmac", Title: "How to Choose Trail Running Shoes", FocusKeyword: "trail running shoes",
			Excerpt: "Grip, fit and protection.", Headings: []string{"Why grip matters", "Fit"}}, 0},
		{ai.ImagePromptInput{Title: "X"}, 0},
		{ai.ImagePromptInput{Title: "X", InlineCount: 3}, 0},
		{ai.ImagePromptInput{Title: strings.Repeat("very long title ", 40), FocusKeyword: strings.Repeat("k", 300)}, 0},
		{ai.ImagePromptInput{Title: "\x00\ufffd ok", FocusKeyword: " \n "}, 0},
		{ai.ImagePromptInput{Title: "Trail shoes", FocusKeyword: "trail shoes", Headings: headings, InlineCount: 5}, 5},
		{ai.ImagePromptInput{Title: "Trail shoes", Headings: headings, InlineCount: 2}, 2},
		{ai.ImagePromptInput{Title: "Trail shoes", Headings: headings[:3], InlineCount: 5}, 2},
		{ai.ImagePromptInput{Title: "Trail shoes", Headings: []string{strings.Repeat("long heading ", 30), "\x00"}, InlineCount: 2}, 2},
	}
	for _, c := range inputs {
		p, _, err := w.ImagePrompt(context.Background(), c.in)
		if err != nil {
			t.Errorf("ImagePrompt(%+v): %v", c.in, err)
			continue
		}
		if len(p.Inline) != c.want {
			t.Errorf("ImagePrompt(%+v): %d in-article images, want %d", c.in, len(p.Inline), c.want)
		}
		again, _, err := w.ImagePrompt(context.Background(), c.in)
		if diff := cmp.Diff(p, again); err != nil || diff != "" {
			t.Errorf("ImagePrompt(%+v) is not deterministic (-first +second):\n%s (%v)", c.in, diff, err)
		}
	}
}
