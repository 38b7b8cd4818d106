package markup

import (
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/microcosm-cc/bluemonday"
	"golang.org/x/net/html"
)

// headingID is the form of an id a heading may keep, the anchor of a
// table of contents entry.
var headingID = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)

var sanitizer = sync.OnceValue(func() *bluemonday.Policy {
	// Modelled on bluemonday.UGCPolicy, narrowed to the elements an article
	// body needs. Links get their rel attribute from markLinks.
	p := bluemonday.NewPolicy()
	p.RequireParseableURLs(true)
	p.AllowRelativeURLs(true)
	p.AllowURLSchemes("mailto", "http", "https")
	p.AllowAttrs("href").OnElements("a")
	p.AllowElements("h2", "h3", "h4", "p", "br", "ul", "ol", "li", "strong", "em", "b", "i", "blockquote")
	// A table of contents and a key takeaways box (the content profile).
	p.AllowElements("nav", "aside")
	p.AllowAttrs("id").Matching(headingID).OnElements("h2", "h3", "h4")
	p.AllowElements("pre", "code", "dl", "dt", "dd")
	p.AllowElements("table", "caption", "thead", "tbody", "tfoot", "tr", "th", "td")
	p.AllowAttrs("colspan", "rowspan").Matching(bluemonday.Integer).OnElements("td", "th")
	p.AllowAttrs("scope").Matching(regexp.MustCompile(`^(?i:row|col)(?i:group)?$`)).OnElements("th")
	return p
})

// SanitizeHTML keeps only the elements an article body may use (h2-h4 with
// an optional slug id, paragraphs, lists, definition lists, strong/em,
// pre and code, links with href, blockquotes, tables, and nav and aside
// for a table of contents and a key takeaways box) and removes
// scripts, styles, iframes, event handlers and every other attribute.
// Every http, https or protocol-relative link gets rel="nofollow";
// relative and mailto links stay followed.
func SanitizeHTML(s string) string {
	return SanitizeForSite(s, "")
}

// SanitizeForSite is SanitizeHTML for a body published on the site whose
// URL has the host siteHost (with its port, if the URL has one): links of
// the form scheme://siteHost/... or //siteHost/... (host compared without
// regard to case) stay followed too. An empty siteHost follows no link
// with a host.
func SanitizeForSite(s, siteHost string) string {
	return markLinks(sanitizer().Sanitize(s), siteHost)
}

// markLinks returns the sanitized fragment s with rel="nofollow" on each
// link that followed does not keep followed, and no rel on the others.
// Everything but the <a> start tags is written back byte for byte.
func markLinks(s, siteHost string) string {
	z := html.NewTokenizer(strings.NewReader(s))
	var out strings.Builder
	out.Grow(len(s))
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			return out.String()
		}
		raw := string(z.Raw())
		tok := z.Token()
		if tt != html.StartTagToken || tok.Data != "a" {
			out.WriteString(raw)
			continue
		}
		tok.Attr = slices.DeleteFunc(tok.Attr, func(a html.Attribute) bool { return a.Key == "rel" })
		if !followed(tok, siteHost) {
			tok.Attr = append(tok.Attr, html.Attribute{Key: "rel", Val: "nofollow"})
		}
		out.WriteString(tok.String())
	}
}

// followed reports whether the link a stays followed: its href is
// relative (no scheme, no host), mailto, or an http, https or
// protocol-relative URL of the form //siteHost... without user info.
// The href is judged as a browser reads it.
func followed(a html.Token, siteHost string) bool {
	i := slices.IndexFunc(a.Attr, func(attr html.Attribute) bool { return attr.Key == "href" })
	if i < 0 {
		return true
	}
	// Judge the address a browser would follow: browsers skip white space
	// and control characters in it and read a backslash as a slash
	// (http:\/host is http://host).
	href := strings.Map(func(r rune) rune {
		switch {
		case r <= ' ' || r == 0x7f:
			return -1
		case r == '\\':
			return '/'
		}
		return r
	}, a.Attr[i].Val)
	u, err := url.Parse(href)
	if err != nil {
		return false
	}
	rest := href // what follows the scheme
	if u.Scheme != "" {
		_, rest, _ = strings.Cut(href, ":")
	}
	switch {
	case u.Scheme == "mailto":
		return true
	case u.Scheme == "" && !startsWithTwoSlashes(rest):
		return true
	case u.Scheme != "" && u.Scheme != "http" && u.Scheme != "https":
		return false
	}
	return siteHost != "" && strings.HasPrefix(rest, "//") && u.User == nil && strings.EqualFold(u.Host, siteHost)
}

// startsWithTwoSlashes reports whether s starts with two characters that
// are each a slash or a backslash.
func startsWithTwoSlashes(s string) bool {
	return len(s) >= 2 && (s[0] == '/' || s[0] == '\\') && (s[1] == '/' || s[1] == '\\')
}
