package offline

import (
	"strings"
	"testing"

	"github.com/presswork/presswork/internal/ai"
	"github.com/presswork/presswork/internal/markup"
)

// TestDraftInternalLinks: the offline writer links to the pages it is
// given (up to five), each once, with the page's title as anchor text,
// and to nothing else of the site.
func TestDraftInternalLinks(t *testing.T) {
	targets := []ai.LinkTarget{
		{URL: "https://blog.example/espresso-basics/", Title: "Espresso basics"},
		{URL: "https://blog.example/burr-grinders/", Title: "Burr grinders compared"},
		{URL: "https://blog.example/?p=12", Title: "Cleaning & descaling"},
	}
	in := ai.DraftInput{Title: "How to Choose an Espresso Grinder", ContentType: "guide",
		TargetKeywords: []string{"espresso grinder"}, InternalLinks: targets,
		Outline: []ai.Heading{{Level: 2, Text: "Why grind matters"}, {Level: 2, Text: "Burr types"}, {Level: 2, Text: "Budget"}}}
	d := writeDraft(in)
	if got := strings.Count(d.BodyHTML, "<a "); got != len(targets) {
		t.Errorf("%d links in the body, want %d:\n%s", got, len(targets), d.BodyHTML)
	}
	for _, l := range targets {
		want := `href="` + strings.ReplaceAll(l.URL, "&", "&amp;") + `">` + strings.ReplaceAll(l.Title, "&", "&amp;") + `</a>`
		if strings.Count(d.BodyHTML, want) != 1 {
			t.Errorf("the body does not link once to %s as %q", l.URL, l.Title)
		}
	}
	if markup.SanitizeHTML(d.BodyHTML) == "" {
		t.Error("the body does not survive sanitizing")
	}
	if without := writeDraft(ai.DraftInput{Title: in.Title, ContentType: in.ContentType, TargetKeywords: in.TargetKeywords,
		Outline: in.Outline}); strings.Contains(without.BodyHTML, "<a ") {
		t.Errorf("a draft without pages to link to has links:\n%s", without.BodyHTML)
	}
	many := append(append([]ai.LinkTarget{}, targets...), targets...)
	for i := range many {
		many[i].URL += "x" + string(rune('a'+i))
	}
	in.InternalLinks = many
	if got := strings.Count(writeDraft(in).BodyHTML, "<a "); got != maxDraftLinks {
		t.Errorf("%d links for %d pages, want at most %d", got, len(many), maxDraftLinks)
	}
}
