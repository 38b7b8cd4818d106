package markup

import (
	"regexp"
	"sync"

	"github.com/microcosm-cc/bluemonday"
)

var sanitizer = sync.OnceValue(func() *bluemonday.Policy {
	// Modelled on bluemonday.UGCPolicy, narrowed to the elements an article
	// body needs.
	p := bluemonday.NewPolicy()
	p.RequireParseableURLs(true)
	p.AllowRelativeURLs(true)
	p.AllowURLSchemes("mailto", "http", "https")
	p.RequireNoFollowOnFullyQualifiedLinks(true)
	p.AllowAttrs("href").OnElements("a")
	p.AllowElements("h2", "h3", "h4", "p", "br", "ul", "ol", "li", "strong", "em", "b", "i", "blockquote")
	p.AllowElements("table", "caption", "thead", "tbody", "tfoot", "tr", "th", "td")
	p.AllowAttrs("colspan", "rowspan").Matching(bluemonday.Integer).OnElements("td", "th")
	p.AllowAttrs("scope").Matching(regexp.MustCompile(`^(?i:row|col)(?i:group)?$`)).OnElements("th")
	return p
})

// SanitizeHTML keeps only the elements an article body may use (h2-h4,
// paragraphs, lists, strong/em, links with href, blockquotes and tables) and
// removes scripts, styles, iframes, event handlers and every other attribute.
func SanitizeHTML(s string) string {
	return sanitizer().Sanitize(s)
}
