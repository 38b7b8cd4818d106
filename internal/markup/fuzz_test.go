package markup

import (
	"strings"
	"testing"

	"golang.org/x/net/html"
)

// sanitizedTags and sanitizedAttrs are what SanitizeHTML may leave (rel
// is the nofollow bluemonday adds to fully qualified links).
var (
	sanitizedTags = map[string]bool{"h2": true, "h3": true, "h4": true, "p": true, "br": true, "ul": true, "ol": true,
		"li": true, "strong": true, "em": true, "b": true, "i": true, "blockquote": true, "a": true, "table": true,
		"caption": true, "thead": true, "tbody": true, "tfoot": true, "tr": true, "th": true, "td": true}
	sanitizedAttrs = map[string]bool{"href": true, "rel": true, "colspan": true, "rowspan": true, "scope": true}
)

// checkSanitized fails unless out, read as HTML, has only allowed elements
// and attributes, no event handler and no URL but http, https, mailto or
// a relative one.
func checkSanitized(t *testing.T, in, out string) {
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
		if !sanitizedTags[tok.Data] {
			t.Fatalf("SanitizeHTML(%q) = %q keeps <%s>", in, out, tok.Data)
		}
		for _, a := range tok.Attr {
			if !sanitizedAttrs[a.Key] || strings.HasPrefix(a.Key, "on") {
				t.Fatalf("SanitizeHTML(%q) = %q keeps the attribute %s on <%s>", in, out, a.Key, tok.Data)
			}
			if a.Key == "href" {
				v := strings.ToLower(strings.Map(func(r rune) rune {
					if r <= ' ' || r == 0x7f {
						return -1 // browsers skip these inside a scheme
					}
					return r
				}, a.Val))
				if scheme, _, ok := strings.Cut(v, ":"); ok && !strings.ContainsAny(scheme, "/?#") &&
					scheme != "http" && scheme != "https" && scheme != "mailto" {
					t.Fatalf("SanitizeHTML(%q) = %q keeps a %s: URL", in, out, scheme)
				}
			}
		}
	}
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
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out := SanitizeHTML(in)
		checkSanitized(t, in, out)
		if again := SanitizeHTML(out); again != out {
			t.Fatalf("SanitizeHTML is not stable:\n in    %q\n once  %q\n twice %q", in, out, again)
		}
	})
}
