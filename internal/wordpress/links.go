package wordpress

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"strings"
)

// maxLinkPages bounds how many pages of posts, and of pages, a link
// listing reads: 5,000 of each at WordPress's 100 a page.
const maxLinkPages = 50

// Published is a published post or page of the site, as a link target.
type Published struct {
	ID    int64
	Kind  string // post or page
	Link  string // its address, on the site's host
	Title string // plain text: entities decoded, tags removed
}

// wirePublished is what _fields=id,link,title,type,status brings back.
type wirePublished struct {
	ID     int64    `json:"id"`
	Link   string   `json:"link"`
	Title  rendered `json:"title"`
	Type   string   `json:"type"`
	Status string   `json:"status"`
}

// ListPublished returns the site's published posts and pages (up to
// 5,000 of each), asking WordPress for the fields a link needs only and
// reading page after page by X-WP-TotalPages. Links that are not http(s)
// or not on the site's host (a post whose permalink points elsewhere) are
// left out and counted in skipped.
func (c *Client) ListPublished(ctx context.Context) (items []Published, skipped int, err error) {
	for _, kind := range []struct{ name, route string }{{"post", "/wp/v2/posts"}, {"page", "/wp/v2/pages"}} {
		q := url.Values{"_fields": {"id,link,title,type,status"}, "status": {"publish"}, "orderby": {"id"}, "order": {"asc"}}
		k := call{op: "list published " + kind.name + "s", what: kind.name, method: http.MethodGet, route: kind.route, query: q}
		got, err := listPages[wirePublished](ctx, c, k, maxLinkPages)
		if err != nil {
			return nil, 0, err
		}
		for _, w := range got {
			if w.ID <= 0 || w.Status != "publish" || !c.OnSite(w.Link) {
				skipped++
				continue
			}
			items = append(items, Published{ID: w.ID, Kind: kind.name, Link: w.Link, Title: plainTitle(w.Title.text())})
		}
	}
	return items, skipped, nil
}

// OnSite reports whether link is an absolute http(s) address on the
// site's host (either scheme; the port must match, a default port
// matching none).
func (c *Client) OnSite(link string) bool {
	if c.site == nil {
		return false
	}
	u, err := url.Parse(link)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return false
	}
	return strings.EqualFold(u.Hostname(), c.site.Hostname()) && portOf(u) == portOf(c.site)
}

// portOf is u's port, "" for the default port of its scheme.
func portOf(u *url.URL) string {
	p := u.Port()
	if (u.Scheme == "http" && p == "80") || (u.Scheme == "https" && p == "443") {
		return ""
	}
	return p
}

// plainTitle is a rendered title as a reader sees it.
func plainTitle(s string) string {
	return strings.Join(strings.Fields(html.UnescapeString(reTag.ReplaceAllString(s, ""))), " ")
}

// String describes a published item for logs and errors.
func (p Published) String() string { return fmt.Sprintf("%s %d %s", p.Kind, p.ID, p.Link) }
