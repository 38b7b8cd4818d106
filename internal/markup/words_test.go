package markup

import "testing"

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
