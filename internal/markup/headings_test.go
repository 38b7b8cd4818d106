package markup

import (
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestHeadings(t *testing.T) {
	tests := []struct {
		name string
		body string
		want []Heading
	}{
		{"none", "<p>text</p>", []Heading{}},
		{"empty", "", []Heading{}},
		{"h2 and h3 in order", "<h2>One</h2><p>x</p><h3>Two</h3><h2>Three</h2>",
			[]Heading{{2, "One"}, {3, "Two"}, {2, "Three"}}},
		{"other levels skipped", "<h1>Top</h1><h4>Deep</h4><h2>Kept</h2>", []Heading{{2, "Kept"}}},
		{"text normalized", "<h2> Trail\n  shoes <em>&amp;</em> socks </h2>", []Heading{{2, "Trail shoes & socks"}}},
		{"unclosed heading ends at the next", "<h2>Open<h3>Next</h3>", []Heading{{2, "Open"}, {3, "Next"}}},
		{"empty heading kept", "<h2></h2>", []Heading{{2, ""}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, Headings(tt.body)); diff != "" {
				t.Errorf("Headings(%q) (-want +got):\n%s", tt.body, diff)
			}
		})
	}
}

func TestCleanText(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"  plain  ", "plain"},
		{"two\n\tlines", "two lines"},
		{"ctrl\x00\x01chars", "ctrlchars"},
		{"bad \xff utf8 \ufffd", "bad utf8"},
	}
	for _, tt := range tests {
		if got := CleanText(tt.in); got != tt.want {
			t.Errorf("CleanText(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestAfterH2 checks that AfterH2 finds each h2 by the text Headings gives
// it (whitespace folded, entities decoded, inner tags dropped) and leaves
// the rest of the body as it was.
func TestAfterH2(t *testing.T) {
	body := "<p>Intro &amp; more</p>\n<h2>Trail\n   shoes <em>&amp;</em> socks</h2><p>a</p><h3>Sub</h3><h2>Last</h2>"
	var seen []string
	for _, h := range Headings(body) {
		if h.Level == 2 {
			seen = append(seen, h.Text)
		}
	}
	got := AfterH2(body, func(text string) string {
		if !slices.Contains(seen, text) {
			t.Errorf("AfterH2 gave heading %q, which Headings does not know (%q)", text, seen)
		}
		return "[after " + text + "]"
	})
	want := "<p>Intro &amp; more</p>\n<h2>Trail\n   shoes <em>&amp;</em> socks</h2>[after Trail shoes & socks]" +
		"<p>a</p><h3>Sub</h3><h2>Last</h2>[after Last]"
	if got != want {
		t.Errorf("AfterH2:\n got %q\nwant %q", got, want)
	}
}
