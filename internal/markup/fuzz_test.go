package markup

import (
	"strings"
	"testing"

	"golang.org/x/net/html"
)

// fuzzSiteHost is the site host FuzzSanitizeHTML gives SanitizeForSite.
const fuzzSiteHost = "blog.example.com"

// sanitizedTags and sanitizedAttrs are what SanitizeHTML may leave (rel
// is the nofollow of links to other hosts, id the anchor of a heading).
var (
	sanitizedTags = map[string]bool{"h2": true, "h3": true, "h4": true, "p": true, "br": true, "ul": true, "ol": true,
		"li": true, "strong": true, "em": true, "b": true, "i": true, "blockquote": true, "a": true, "table": true,
		"caption": true, "thead": true, "tbody": true, "tfoot": true, "tr": true, "th": true, "td": true,
		"pre": true, "code": true, "dl": true, "dt": true, "dd": true}
	sanitizedAttrs = map[string]bool{"href": true, "rel": true, "colspan": true, "rowspan": true, "scope": true, "id": true}
)

// checkSanitized fails unless out, read as HTML, has only allowed elements
// and attributes, no script or style, no event handler, no id but a slug
// on a heading, no URL but http, https, mailto or a relative one, and
// rel="nofollow" on every link a browser could follow to a host other
// than siteHost (none on the links it keeps followed).
func checkSanitized(t *testing.T, in, out, siteHost string) {
	t.Helper()
	z := html.NewTokenizer(strings.NewReader(out))
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			return
		}
		if tt != html.StartTagToken && tt != html.SelfClosingTagToken && tt != html.EndTagToken {
			continue
		}
		tok := z.Token()
		if !sanitizedTags[tok.Data] || tok.Data == "script" || tok.Data == "style" {
			t.Fatalf("sanitizing %q gave %q, which keeps <%s>", in, out, tok.Data)
		}
		for _, a := range tok.Attr {
			if !sanitizedAttrs[a.Key] || strings.HasPrefix(a.Key, "on") {
				t.Fatalf("sanitizing %q gave %q, which keeps the attribute %s on <%s>", in, out, a.Key, tok.Data)
			}
			if a.Key == "id" && (headingLevel([]byte(tok.Data)) == 0 || !isSlug(a.Val)) {
				t.Fatalf("sanitizing %q gave %q, which keeps id=%q on <%s>", in, out, a.Val, tok.Data)
			}
			if a.Key == "href" {
				if scheme := browserScheme(a.Val); scheme != "" && scheme != "http" && scheme != "https" && scheme != "mailto" {
					t.Fatalf("sanitizing %q gave %q, which keeps a %s: URL", in, out, scheme)
				}
			}
		}
		if tok.Data == "a" && tt == html.StartTagToken {
			checkRel(t, in, out, tok, siteHost)
		}
	}
}

// checkRel fails unless the link a has rel="nofollow" exactly when
// browserFollowed says it should not stay followed.
func checkRel(t *testing.T, in, out string, a html.Token, siteHost string) {
	t.Helper()
	var href, rel string
	hasRel := false
	for _, attr := range a.Attr {
		switch attr.Key {
		case "href":
			href = attr.Val
		case "rel":
			rel, hasRel = attr.Val, true
		}
	}
	switch want := !browserFollowed(href, siteHost); {
	case want && rel != "nofollow":
		t.Fatalf("sanitizing %q for %q gave %q: the link to %q has rel %q, want nofollow", in, siteHost, out, href, rel)
	case !want && hasRel:
		t.Fatalf("sanitizing %q for %q gave %q: the link to %q has rel %q, want it followed", in, siteHost, out, href, rel)
	}
}

// browserURL is href as a browser reads it for its scheme and host:
// without whitespace and control characters, backslashes as slashes, in
// lower case.
func browserURL(href string) string {
	href = strings.Map(func(r rune) rune {
		switch {
		case r <= ' ' || r == 0x7f:
			return -1 // browsers skip these inside a scheme
		case r == '\\':
			return '/'
		}
		return r
	}, href)
	return strings.ToLower(href)
}

// browserScheme is the scheme of href as a browser reads it, "" if it is
// relative.
func browserScheme(href string) string {
	v := browserURL(href)
	if scheme, _, ok := strings.Cut(v, ":"); ok && !strings.ContainsAny(scheme, "/?#") {
		return scheme
	}
	return ""
}

// browserFollowed reports whether the link to href may stay followed on
// the site siteHost: a relative link that names no host, a mailto link,
// or an http(s) or protocol-relative link whose host is siteHost.
func browserFollowed(href, siteHost string) bool {
	v := browserURL(href)
	scheme := browserScheme(href)
	rest := strings.TrimPrefix(v, scheme+":")
	switch {
	case scheme == "mailto":
		return true
	case scheme == "" && !strings.HasPrefix(rest, "//"):
		return true
	case siteHost == "" || (scheme != "" && scheme != "http" && scheme != "https"):
		return false
	}
	host, ok := strings.CutPrefix(rest, "//"+strings.ToLower(siteHost))
	return ok && (host == "" || strings.ContainsAny(host[:1], "/?#"))
}

// isSlug reports whether s is 1 to 64 lower-case letters, digits, - and _,
// not starting with - or _.
func isSlug(s string) bool {
	if s == "" || len(s) > 64 || s[0] == '-' || s[0] == '_' {
		return false
	}
	for _, r := range s {
		if (r < 'a' || r > 'z') && (r < '0' || r > '9') && r != '-' && r != '_' {
			return false
		}
	}
	return true
}

func FuzzSanitizeHTML(f *testing.F) {
	for _, s := range []string{
		"<h2>Title</h2><p>Some <strong>bold</strong> text &amp; more.</p>",
		`<script>alert(1)</script><p onclick="x()">hi</p>`,
		`<a href="javascript:alert(1)">x</a><a href=" JaVaScRiPt:alert(1)">y</a><a href="java&#x09;script:x">z</a>`,
		`<a href="https://example.com/?q=1&x=<y>">link</a><a href="/rel">r</a><a href="mailto:a@b.c">m</a>`,
		`<img src=x onerror=alert(1)><svg onload=alert(1)><iframe src="data:text/html,x"></iframe>`,
		`<table><tr><th scope="col" onmouseover="x">h</th><td colspan="2" rowspan="x">d</td></tr></table>`,
		`<style>p{}</style><p style="color:red">s</p><!-- comment --><![CDATA[x]]>`,
		`<p>unclosed <b>bold <i>italic</p></b>`,
		"<<script>script>alert(1)<</script>/script>",
		`<a href="data:text/html;base64,PHNjcmlwdD4=">d</a><a href="vbscript:x">v</a>`,
		"\x00<p>\xff\xfe</p>",
		"",
		`<pre><code class="go">if a &lt; b {}</code></pre><dl><dt id="x">t</dt><dd>d</dd></dl>`,
		`<h2 id="toc-1">A</h2><h3 id="Bad Id">B</h3><p id="p">c</p><h4 id='x" onclick="y'>d</h4>`,
		`<a href="https://blog.example.com/a" rel="nofollow">own</a><a href="//BLOG.example.com">own</a>` +
			`<a href="https://blog.example.com@evil.example/">user</a><a href="https:\\evil.example">bs</a>` +
			`<a href="https:evil.example">opaque</a><a href="https:///evil.example">three</a>` +
			`<a href="https://blog.example.com/?q=a\b">query</a><a href="/\evil.example">rel</a>`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out := SanitizeHTML(in)
		checkSanitized(t, in, out, "")
		if again := SanitizeHTML(out); again != out {
			t.Fatalf("SanitizeHTML is not stable:\n in    %q\n once  %q\n twice %q", in, out, again)
		}
		site := SanitizeForSite(in, fuzzSiteHost)
		checkSanitized(t, in, site, fuzzSiteHost)
		if again := SanitizeForSite(site, fuzzSiteHost); again != site {
			t.Fatalf("SanitizeForSite is not stable:\n in    %q\n once  %q\n twice %q", in, site, again)
		}
	})
}
