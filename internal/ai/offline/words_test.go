package offline

import (
	"strings"
	"testing"
)

func TestCutWords(t *testing.T) {
	tests := []struct {
		in   string
		max  int
		want string
	}{
		{"short", 10, "short"},
		{"The Complete Guide to Trail Running Shoes", 30, "The Complete Guide to Trail"},
		{"Tips & Tricks for you", 13, "Tips & Tricks"},
		{"Tips & Tricks for you", 8, "Tips"},
		{strings.Repeat("é", 70), 60, strings.Repeat("é", 60)},
	}
	for _, tt := range tests {
		if got := cutWords(tt.in, tt.max); got != tt.want {
			t.Errorf("cutWords(%q, %d) = %q, want %q", tt.in, tt.max, got, tt.want)
		}
	}
}
