package markup

import (
	"strings"
	"testing"
)

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
		{`<a href="//example.com/">x</a><a href="http:example.com/x">y</a>`, `<a href="//example.com/" rel="nofollow">x</a><a href="http:example.com/x" rel="nofollow">y</a>`},
		{`<a href="mailto:a@example.com" rel="follow">x</a><a href="#top">y</a>`, `<a href="mailto:a@example.com">x</a><a href="#top">y</a>`},
		{`<ul><li>a</li></ul><ol><li>b</li></ol><blockquote>q</blockquote>`, `<ul><li>a</li></ul><ol><li>b</li></ol><blockquote>q</blockquote>`},
		{`<table><thead><tr><th scope="col">A</th></tr></thead><tbody><tr><td colspan="2">1</td></tr></tbody></table>`,
			`<table><thead><tr><th scope="col">A</th></tr></thead><tbody><tr><td colspan="2">1</td></tr></tbody></table>`},
		{`<img src="x" onerror="alert(1)"><div>text</div>`, `text`},
		{`<pre><code>if a &lt; b {\n\treturn\n}</code></pre>`, `<pre><code>if a &lt; b {\n\treturn\n}</code></pre>`},
		{`<p>Run <code class="lang" onclick="x()">go test</code></p>`, `<p>Run <code>go test</code></p>`},
		{`<pre style="color:red"><script>x</script>kept</pre>`, `<pre>kept</pre>`},
		{`<dl><dt>Term</dt><dd>Meaning</dd></dl>`, `<dl><dt>Term</dt><dd>Meaning</dd></dl>`},
		{`<dl title="t"><dt id="t">Term</dt><dd onclick="x">Meaning</dd></dl>`, `<dl><dt>Term</dt><dd>Meaning</dd></dl>`},
		{`<h2 id="why-grind-size">A</h2><h3 id="step_2">B</h3><h4 id="9">C</h4>`, `<h2 id="why-grind-size">A</h2><h3 id="step_2">B</h3><h4 id="9">C</h4>`},
		{`<h2 id="Upper">A</h2><h2 id="-lead">B</h2><h2 id="has space">C</h2><h2 id="">D</h2>`, `<h2>A</h2><h2>B</h2><h2>C</h2><h2>D</h2>`},
		{`<h2 id="x&quot;onmouseover=&quot;y">A</h2><h3 id="é">B</h3>`, `<h2>A</h2><h3>B</h3>`},
		{`<h2 id="` + strings.Repeat("a", 64) + `">A</h2><h2 id="` + strings.Repeat("a", 65) + `">B</h2>`,
			`<h2 id="` + strings.Repeat("a", 64) + `">A</h2><h2>B</h2>`},
		{`<p id="intro">x</p><li id="a">y</li>`, `<p>x</p><li>y</li>`},
		{`<nav class="toc" id="t"><ul><li><a href="#why-grind-size">Why</a></li></ul></nav><aside style="x"><p>K</p></aside>`,
			`<nav><ul><li><a href="#why-grind-size">Why</a></li></ul></nav><aside><p>K</p></aside>`},
	}
	for _, tt := range tests {
		if got := SanitizeHTML(tt.in); got != tt.want {
			t.Errorf("SanitizeHTML(%q)\n got %q\nwant %q", tt.in, got, tt.want)
		}
	}
}

func TestSanitizeForSite(t *testing.T) {
	const host = "blog.example.com"
	tests := []struct{ name, in, want string }{
		{"own host followed", `<a href="https://blog.example.com/guide">x</a>`, `<a href="https://blog.example.com/guide">x</a>`},
		{"own host over http", `<a href="http://blog.example.com/">x</a>`, `<a href="http://blog.example.com/">x</a>`},
		{"own host in capitals", `<a href="https://BLOG.Example.com/a">x</a>`, `<a href="https://BLOG.Example.com/a">x</a>`},
		{"own host protocol-relative", `<a href="//blog.example.com/a">x</a>`, `<a href="//blog.example.com/a">x</a>`},
		{"own host, rel given by the body", `<a href="https://blog.example.com/a" rel="nofollow sponsored">x</a>`,
			`<a href="https://blog.example.com/a">x</a>`},
		{"relative followed", `<a href="/guide">x</a><a href="#step-2">y</a>`, `<a href="/guide">x</a><a href="#step-2">y</a>`},
		{"other host nofollow", `<a href="https://example.com/">x</a>`, `<a href="https://example.com/" rel="nofollow">x</a>`},
		{"subdomain is another host", `<a href="https://www.blog.example.com/">x</a>`,
			`<a href="https://www.blog.example.com/" rel="nofollow">x</a>`},
		{"host as a suffix", `<a href="https://evilblog.example.com/">x</a>`, `<a href="https://evilblog.example.com/" rel="nofollow">x</a>`},
		{"own host as user info", `<a href="https://blog.example.com@evil.example/">x</a>`,
			`<a href="https://blog.example.com@evil.example/" rel="nofollow">x</a>`},
		{"own host with another port", `<a href="https://blog.example.com:8443/">x</a>`,
			`<a href="https://blog.example.com:8443/" rel="nofollow">x</a>`},
		{"own host in the path", `<a href="https://evil.example/blog.example.com">x</a>`,
			`<a href="https://evil.example/blog.example.com" rel="nofollow">x</a>`},
		{"own host with user info", `<a href="https://me@blog.example.com/">x</a>`, `<a href="https://me@blog.example.com/" rel="nofollow">x</a>`},
		{"own host after three slashes", `<a href="https:///blog.example.com/">x</a>`, `<a href="https:///blog.example.com/" rel="nofollow">x</a>`},
		{"host read by browsers only", `<a href="https:evil.example">x</a><a href="https:\\evil.example">y</a><a href="https:///evil.example">z</a>`,
			`<a href="https:evil.example" rel="nofollow">x</a><a href="https:\\evil.example" rel="nofollow">y</a><a href="https:///evil.example" rel="nofollow">z</a>`},
		{"backslashes escaped in a relative link", `<a href="\\evil.example">x</a>`, `<a href="%5C%5Cevil.example">x</a>`},
		{"mailto unchanged", `<a href="mailto:a@blog.example.com">x</a>`, `<a href="mailto:a@blog.example.com">x</a>`},
		{"still sanitized", `<a href="javascript:alert(1)">x</a><script>y</script><h2 id="toc" onclick="z">H</h2>`,
			`x<h2 id="toc">H</h2>`},
		{"the rest untouched", `<p>a &amp; b</p><br/><pre><code>&lt;a href=&#34;https://blog.example.com&#34;&gt;</code></pre>`,
			`<p>a &amp; b</p><br/><pre><code>&lt;a href=&#34;https://blog.example.com&#34;&gt;</code></pre>`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := SanitizeForSite(tt.in, host); got != tt.want {
				t.Errorf("SanitizeForSite(%q, %q)\n got %q\nwant %q", tt.in, host, got, tt.want)
			}
		})
	}
}

// TestSanitizeForSiteWithoutHost: with no site host, every link with a
// host is nofollow, as SanitizeHTML makes it.
func TestSanitizeForSiteWithoutHost(t *testing.T) {
	in := `<a href="https://blog.example.com/">x</a><a href="/rel">y</a>`
	if got, want := SanitizeForSite(in, ""), SanitizeHTML(in); got != want {
		t.Errorf("SanitizeForSite(%q, \"\") = %q, want %q", in, got, want)
	}
}
