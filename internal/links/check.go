package links

import (
	"net/url"
	"slices"
	"strings"

	"golang.org/x/net/html"
)

// Removed is a link Check took out: its address and the text it kept.
type Removed struct {
	Href string `json:"href"`
	Text string `json:"text"`
}

// Check removes from the HTML fragment body each link to the site at
// siteURL (its host, in either scheme; a relative address is the site's
// too, resolved against siteURL) whose address is not one of inventory's
// (compared by Key): the <a> goes, its content stays as plain text. It
// returns the body and what it removed, in order. Links to other hosts,
// mailto: and the like, and links within the page (#anchor) are left
// alone; so is everything but the removed tags, byte for byte.
func Check(body string, inventory []string, siteURL string) (string, []Removed) {
	base, siteHost, ok := siteBase(siteURL)
	if !ok {
		return body, []Removed{}
	}
	known := make(map[string]bool, len(inventory))
	for _, u := range inventory {
		if k, ok := Key(u, base); ok {
			known[k] = true
		}
	}

	z := html.NewTokenizer(strings.NewReader(body))
	var out strings.Builder
	out.Grow(len(body))
	removed := []Removed{}
	var open []bool // for each <a> open: whether it is being removed
	var text strings.Builder
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			return out.String(), removed
		}
		raw := string(z.Raw())
		tok := z.Token()
		switch {
		case tt == html.StartTagToken && tok.Data == "a":
			href, has := attr(tok, "href")
			drop := has && internal(href, base, siteHost) && !known[mustKey(href, base)]
			open = append(open, drop)
			if drop {
				removed = append(removed, Removed{Href: href})
				text.Reset()
				continue
			}
		case tt == html.EndTagToken && tok.Data == "a" && len(open) > 0:
			drop := open[len(open)-1]
			open = open[:len(open)-1]
			if drop {
				removed[len(removed)-1].Text = strings.Join(strings.Fields(text.String()), " ")
				continue
			}
		case tt == html.TextToken && slices.Contains(open, true):
			text.WriteString(tok.Data)
		}
		out.WriteString(raw)
	}
}

// OnSite reports whether link is an absolute http(s) address on the host
// of the site at siteURL (either scheme).
func OnSite(link, siteURL string) bool {
	_, siteHost, ok := siteBase(siteURL)
	if !ok {
		return false
	}
	k, ok := Key(link, nil)
	return ok && keyHost(k) == siteHost
}

// siteBase returns the site at siteURL as the base relative links resolve
// against (its path ending in "/") and its host as Key writes it; false
// when siteURL has no host.
func siteBase(siteURL string) (*url.URL, string, bool) {
	base, err := url.Parse(siteURL)
	if err != nil || base.Host == "" {
		return nil, "", false
	}
	if !strings.HasSuffix(base.Path, "/") {
		base.Path += "/"
	}
	host, _ := Key(base.Scheme+"://"+base.Host, nil)
	return base, host, true
}

// keyHost is the host part of a Key.
func keyHost(key string) string {
	host, _, _ := strings.Cut(key, "/")
	host, _, _ = strings.Cut(host, "?")
	return host
}

func attr(t html.Token, key string) (string, bool) {
	for _, a := range t.Attr {
		if a.Key == key {
			return a.Val, true
		}
	}
	return "", false
}

// internal reports whether href leads to the site: a relative address
// (not one within the page) or an http(s) one on the site's host.
func internal(href string, base *url.URL, siteHost string) bool {
	h := browserHref(href)
	if h == "" || strings.HasPrefix(h, "#") {
		return false
	}
	u, err := url.Parse(h)
	if err != nil {
		return true // unreadable: no page of the inventory, and no page elsewhere either
	}
	if u.Scheme != "" && u.Scheme != "http" && u.Scheme != "https" {
		return false
	}
	k, ok := Key(href, base)
	if !ok {
		return u.Scheme == "" // a relative address that resolves to nothing usable
	}
	return keyHost(k) == siteHost
}

func mustKey(href string, base *url.URL) string {
	k, _ := Key(href, base)
	return k
}
