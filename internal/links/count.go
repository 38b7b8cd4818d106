package links

import (
	"strings"

	"golang.org/x/net/html"
)

// Count returns how many links of the HTML fragment body lead to the site
// at siteURL (relative ones included, links within the page not).
func Count(body, siteURL string) int {
	base, siteHost, ok := siteBase(siteURL)
	if !ok {
		return 0
	}
	z := html.NewTokenizer(strings.NewReader(body))
	n := 0
	for {
		switch z.Next() {
		case html.ErrorToken:
			return n
		case html.StartTagToken:
			if tok := z.Token(); tok.Data == "a" {
				if href, ok := attr(tok, "href"); ok && internal(href, base, siteHost) {
					n++
				}
			}
		}
	}
}
