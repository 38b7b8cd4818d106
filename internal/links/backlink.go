package links

import (
	"html"
	"net/url"
	"strings"

	xhtml "golang.org/x/net/html"
)

// LinksTo reports whether the HTML fragment body has a link (an <a
// href>) to the page at target, compared by Key; a relative address is
// resolved against target. A back-link pass asks it before it adds a
// link, so that a post gets one link to a page however often it runs.
func LinksTo(body, target string) bool {
	want, ok := Key(target, nil)
	if !ok {
		return false
	}
	base, _ := url.Parse(target)
	z := xhtml.NewTokenizer(strings.NewReader(body))
	for {
		switch z.Next() {
		case xhtml.ErrorToken:
			return false
		case xhtml.StartTagToken, xhtml.SelfClosingTagToken:
			tok := z.Token()
			if tok.Data != "a" {
				continue
			}
			if href, has := attr(tok, "href"); has {
				if k, ok := Key(href, base); ok && k == want {
					return true
				}
			}
		}
	}
}

// AddRelated returns body with a short paragraph linking to the page at
// target (the anchor is its title) placed before marker (the post's
// Presswork marker comment) when body has it, else at the end.
func AddRelated(body, target, title, marker string) string {
	p := `<p>Related: <a href="` + html.EscapeString(target) + `">` + html.EscapeString(title) + `</a></p>`
	if i := strings.LastIndex(body, marker); marker != "" && i >= 0 {
		return body[:i] + p + "\n" + body[i:]
	}
	if body != "" && !strings.HasSuffix(body, "\n") {
		p = "\n" + p
	}
	return body + p
}
