package markup

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestWordCount(t *testing.T) {
	tests := []struct {
		in   string
		want int
	}{
		{"", 0},
		{"<p>one two three</p>", 3},
		{"<h2>Head</h2><p>one</p><p>two</p>", 3},
		{"<p>un<strong>believ</strong>able</p>", 1},
		{"<p>a</p><p>b</p>", 2},
		{"<script>var a = 1;</script><p>visible text</p>", 2},
		{"<p>dash — here &amp; there</p>", 3},
		{"<p>Ünïcödé wörds 123</p>", 3},
	}
	for _, tt := range tests {
		if got := WordCount(tt.in); got != tt.want {
			t.Errorf("WordCount(%q) = %d, want %d", tt.in, got, tt.want)
		}
	}
}

func TestSections(t *testing.T) {
	body := `<p>One two three.</p><h2>First &amp; <em>best</em></h2><p>a b</p><h3>Sub</h3><p>c d e</p>` +
		`<h2>Second</h2><h2>Third</h2><p>x</p>`
	got := Sections(body)
	want := []Section{{"", 3}, {"First & best", 8}, {"Second", 1}, {"Third", 2}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Sections (-want +got):\n%s", diff)
	}
	if got := Sections(`<h2>Only</h2><p>a</p>`); len(got) != 1 || got[0].Heading != "Only" {
		t.Errorf("Sections without an introduction = %+v", got)
	}
}
