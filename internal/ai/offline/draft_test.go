package offline

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/presswork/presswork/internal/ai"
)

func headings(n, textLen int) []ai.Heading {
	hs := make([]ai.Heading, n)
	for i := range hs {
		text := fmt.Sprintf("Section %d about choosing well", i+1)
		if textLen > 0 {
			text = cutWords(strings.Repeat(fmt.Sprintf("Section %d long heading text ", i+1), 10), textLen)
		}
		hs[i] = ai.Heading{Level: 2, Text: text}
		if i%3 == 2 {
			hs[i].Level = 3
		}
	}
	return hs
}

func TestDraftLengthAndHeadings(t *testing.T) {
	w := newWriter(t)
	long := strings.Repeat("é", 200)
	cases := []struct {
		name string
		in   ai.DraftInput
	}{
		{"3 headings", ai.DraftInput{Title: "A Short Outline Article", TargetKeywords: []string{"garden tools"}, Outline: headings(3, 0)}},
		{"15 headings", ai.DraftInput{Title: "A Long Outline Article", TargetKeywords: []string{"garden tools"}, Outline: headings(15, 0)}},
		{"15 long headings", ai.DraftInput{Title: "A Long Outline Article", TargetKeywords: []string{"garden tools", "rakes"}, Outline: headings(15, 120)}},
		{"long keyword", ai.DraftInput{Title: "Tiny", ContentType: "listicle", TargetKeywords: []string{long, long + "x"}, Outline: headings(5, 0)}},
		{"escaping", ai.DraftInput{Title: `Tips & <Tricks> for "Quotes"`, ContentType: "comparison",
			TargetKeywords: []string{"<b>bold</b> & co", "a&amp;b"},
			Outline:        []ai.Heading{{Level: 2, Text: "Tips & Tricks"}, {Level: 3, Text: "<script>alert(1)</script>"}, {Level: 2, Text: "A &amp; B?"}}}},
		{"review", ai.DraftInput{Title: "Whatever Title Here", ContentType: "review", TargetKeywords: []string{"x"}, Outline: headings(4, 0)}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d, _, err := w.Draft(context.Background(), c.in)
			if err != nil {
				t.Fatal(err)
			}
			checkDraft(t, c.in, d)
			if strings.Contains(d.BodyHTML, "<script>") || strings.Contains(d.BodyHTML, "<b>bold") {
				t.Errorf("keyword text was not escaped:\n%s", d.BodyHTML)
			}
		})
	}
}

func TestDraftListsAndConclusion(t *testing.T) {
	m := NewTextModel()
	for ctype, want := range map[string]string{"how_to": "<ol>", "listicle": "<ul>", "comparison": "<ul>"} {
		in := ai.IdeasInput{ClusterName: "Coffee", Keywords: keywords("coffee grinder", "burr grinder"), Count: 6}
		resp, err := m.GenerateJSON(context.Background(), ai.JSONRequest{Input: in})
		if err != nil {
			t.Fatal(err)
		}
		ideas, err := ai.ParseIdeas(in, resp.Content)
		if err != nil {
			t.Fatal(err)
		}
		for _, idea := range ideas {
			if idea.ContentType != ctype {
				continue
			}
			din := ai.DraftInput{Title: idea.Title, ContentType: ctype, TargetKeywords: idea.TargetKeywords, Outline: idea.Outline}
			resp, err := m.GenerateJSON(context.Background(), ai.JSONRequest{Input: din})
			if err != nil {
				t.Fatal(err)
			}
			d, err := ai.ParseDraft(din, resp.Content)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(d.BodyHTML, want) {
				t.Errorf("%s draft has no %s list", ctype, want)
			}
		}
	}
}
