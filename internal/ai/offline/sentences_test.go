package offline

import "testing"

func TestExpand(t *testing.T) {
	values := map[string]string{"{k}": "seo", "{k2}": "links", "{noun}": "guide"}
	tests := []struct{ in, want string }{
		{"", ""},
		{"no placeholders", "no placeholders"},
		{"{k} and {k2} in a {noun}", "seo and links in a guide"},
		{"{k}{k}", "seoseo"},
		{"{unknown} stays", "{unknown} stays"},
		{"a { lone brace and {k}", "a { lone brace and seo"},
		{"ends with {", "ends with {"},
		{"unclosed {k", "unclosed {k"},
		{"}{k}{", "}seo{"},
	}
	for _, tt := range tests {
		if got := expand(tt.in, values); got != tt.want {
			t.Errorf("expand(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
