package ai

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestIdeasTruncatesExtraIdeas(t *testing.T) {
	in := sampleIdeasInput()
	ideas := sampleIdeas()
	extra := append(append([]Idea(nil), ideas...), Idea{Title: "bad"})
	m := answers(JSONResponse{Content: jsonOf(t, IdeaList{Ideas: extra})})
	got, _, err := newWriter(t, m).Ideas(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(ideas, got); diff != "" {
		t.Errorf("ideas (-want +got):\n%s", diff)
	}
	if m.calls[0].MaxTokens != ideasBaseMaxTokens+ideasPerIdeaTokens*in.Count {
		t.Errorf("max tokens = %d", m.calls[0].MaxTokens)
	}
}

func TestIdeasTooFewIsRepaired(t *testing.T) {
	in := sampleIdeasInput()
	ideas := sampleIdeas()
	m := answers(
		JSONResponse{Content: jsonOf(t, IdeaList{Ideas: ideas[:1]})},
		JSONResponse{Content: jsonOf(t, IdeaList{Ideas: ideas})},
	)
	got, _, err := newWriter(t, m).Ideas(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != in.Count {
		t.Errorf("got %d ideas", len(got))
	}
	if !strings.Contains(m.calls[1].Prompt, "ideas: want exactly 3 ideas, got 1") {
		t.Errorf("repair prompt:\n%s", m.calls[1].Prompt)
	}
}

func TestValidateIdeas(t *testing.T) {
	in := sampleIdeasInput()
	mod := func(f func(ideas []Idea) []Idea) []Idea {
		ideas := sampleIdeas()
		for i := range ideas {
			ideas[i].TargetKeywords = append([]string(nil), ideas[i].TargetKeywords...)
			ideas[i].Outline = append([]Heading(nil), ideas[i].Outline...)
		}
		return f(ideas)
	}
	headings := func(n int) []Heading {
		hs := make([]Heading, n)
		for i := range hs {
			hs[i] = Heading{Level: 2, Text: fmt.Sprintf("Heading %d", i)}
		}
		return hs
	}
	tests := []struct {
		name  string
		ideas []Idea
		want  []string
	}{
		{"ok", sampleIdeas(), nil},
		{"too few", mod(func(is []Idea) []Idea { return is[:2] }), []string{"ideas"}},
		{"too many", mod(func(is []Idea) []Idea { return append(is, is[0]) }), []string{"ideas", "ideas[3].title"}},
		{"short title", mod(func(is []Idea) []Idea { is[1].Title = "Too short"; return is }), []string{"ideas[1].title"}},
		{"title in runes", mod(func(is []Idea) []Idea { is[1].Title = strings.Repeat("ß", 120); return is }), nil},
		{"long title", mod(func(is []Idea) []Idea { is[1].Title = strings.Repeat("ß", 121); return is }), []string{"ideas[1].title"}},
		{"duplicate title", mod(func(is []Idea) []Idea { is[2].Title = " " + strings.ToUpper(is[0].Title); return is }), []string{"ideas[2].title"}},
		{"existing title", mod(func(is []Idea) []Idea { is[0].Title = "our favourite  running socks"; return is }), []string{"ideas[0].title"}},
		{"content type", mod(func(is []Idea) []Idea { is[0].ContentType = "essay"; return is }), []string{"ideas[0].content_type"}},
		{"no keywords", mod(func(is []Idea) []Idea { is[0].TargetKeywords = nil; return is }), []string{"ideas[0].target_keywords"}},
		{"11 keywords", mod(func(is []Idea) []Idea {
			is[0].TargetKeywords = strings.Split("a b c d e f g h i j k", " ")
			return is
		}), []string{"ideas[0].target_keywords"}},
		{"blank keyword", mod(func(is []Idea) []Idea { is[0].TargetKeywords = []string{"a", " "}; return is }), []string{"ideas[0].target_keywords[1]"}},
		{"2 headings", mod(func(is []Idea) []Idea { is[2].Outline = headings(2); return is }), []string{"ideas[2].outline"}},
		{"15 headings", mod(func(is []Idea) []Idea { is[2].Outline = headings(15); return is }), nil},
		{"16 headings", mod(func(is []Idea) []Idea { is[2].Outline = headings(16); return is }), []string{"ideas[2].outline"}},
		{"first heading h3", mod(func(is []Idea) []Idea { is[1].Outline[0].Level = 3; return is }), []string{"ideas[1].outline[0].level"}},
		{"level 4", mod(func(is []Idea) []Idea { is[1].Outline[2].Level = 4; return is }), []string{"ideas[1].outline[2].level"}},
		{"empty heading", mod(func(is []Idea) []Idea { is[1].Outline[1].Text = ""; return is }), []string{"ideas[1].outline[1].text"}},
		{"long heading", mod(func(is []Idea) []Idea { is[1].Outline[1].Text = strings.Repeat("x", 121); return is }), []string{"ideas[1].outline[1].text"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := problemFields(t, ValidateIdeas(in, tt.ideas))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
		})
	}
}
