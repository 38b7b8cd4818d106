package markup

import "testing"

func TestSanitizeHTML(t *testing.T) {
	tests := []struct{ in, want string }{
		{`<h2>Title</h2><p>Text <strong>bold</strong> <em>it</em></p>`, `<h2>Title</h2><p>Text <strong>bold</strong> <em>it</em></p>`},
		{`<h1>Big</h1><h4>Small</h4>`, `Big<h4>Small</h4>`},
		{`<script>alert(1)</script><style>p{}</style><p>ok</p>`, `<p>ok</p>`},
		{`<iframe src="https://evil.example"></iframe><p>ok</p>`, `<p>ok</p>`},
		{`<p onclick="x()" class="c" style="color:red">ok</p>`, `<p>ok</p>`},
		{`<a href="javascript:alert(1)">x</a>`, `x`},
		{`<a href="/guide" target="_blank">x</a>`, `<a href="/guide">x</a>`},
		{`<a href="https://example.com/">x</a>`, `<a href="https://example.com/" rel="nofollow">x</a>`},
		{`<ul><li>a</li></ul><ol><li>b</li></ol><blockquote>q</blockquote>`, `<ul><li>a</li></ul><ol><li>b</li></ol><blockquote>q</blockquote>`},
		{`<table><thead><tr><th scope="col">A</th></tr></thead><tbody><tr><td colspan="2">1</td></tr></tbody></table>`,
			`<table><thead><tr><th scope="col">A</th></tr></thead><tbody><tr><td colspan="2">1</td></tr></tbody></table>`},
		{`<img src="x" onerror="alert(1)"><div>text</div>`, `text`},
	}
	for _, tt := range tests {
		if got := SanitizeHTML(tt.in); got != tt.want {
			t.Errorf("SanitizeHTML(%q)\n got %q\nwant %q", tt.in, got, tt.want)
		}
	}
}
