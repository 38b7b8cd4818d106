package markup

import (
	"strings"
	"testing"
)

func TestSlug(t *testing.T) {
	tests := []struct{ in, want string }{
		{"How to Choose Trail Running Shoes", "how-to-choose-trail-running-shoes"},
		{"Café Crème: Ünïcödé Guide", "cafe-creme-unicode-guide"},
		{"Straße & Größe — Æsir Øl", "strasse-and-grosse-aesir-ol"},
		{"Salt&Pepper", "salt-and-pepper"},
		{"Beginner's Guide to C++", "beginners-guide-to-c"},
		{"  --Multiple   spaces--and---hyphens--  ", "multiple-spaces-and-hyphens"},
		{"ランニングシューズ", ""},
		{strings.Repeat("word ", 30), strings.TrimSuffix(strings.Repeat("word-", 16), "-")},
		{strings.Repeat("a", 100), strings.Repeat("a", 80)},
	}
	for _, tt := range tests {
		if got := Slug(tt.in, 80); got != tt.want {
			t.Errorf("Slug(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
