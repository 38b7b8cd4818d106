// Package links chooses and checks the internal links of an article (#22).
// A site's link inventory (its published posts and pages, package store)
// is what an article may link to on its own site: Relevant picks the few
// entries closest to an idea for the draft prompt, and Check removes from
// a written body every link to the site that the inventory does not hold
// (an address the model invented), keeping its text. Links to other sites
// are no business of this package.
package links

import (
	"cmp"
	"math"
	"net/url"
	"slices"
	"strings"
)

// Entry is one page an article may link to, with the embedding of its
// title (nil when it has none: Relevant then never picks it).
type Entry struct {
	URL    string
	Title  string
	Kind   string // post or page
	Vector []float32
}

// Relevant returns up to n entries of inventory most similar to idea (by
// cosine similarity of their vectors), most similar first, never the
// entry whose address is exclude's (the article itself, once published;
// "" excludes nothing), never an entry without a vector or with one of
// another dimension, and each address once. Ties keep the inventory's
// order.
func Relevant(idea []float32, inventory []Entry, n int, exclude string) []Entry {
	if n <= 0 || len(idea) == 0 || norm(idea) == 0 {
		return []Entry{}
	}
	skip, _ := Key(exclude, nil)
	type scored struct {
		e   Entry
		sim float64
		at  int
	}
	var all []scored
	seen := map[string]bool{}
	for i, e := range inventory {
		key, ok := Key(e.URL, nil)
		if !ok || key == skip || seen[key] || len(e.Vector) != len(idea) || norm(e.Vector) == 0 {
			continue
		}
		seen[key] = true
		all = append(all, scored{e, cosine(idea, e.Vector), i})
	}
	slices.SortStableFunc(all, func(a, b scored) int {
		if c := cmp.Compare(b.sim, a.sim); c != 0 {
			return c
		}
		return cmp.Compare(a.at, b.at)
	})
	out := make([]Entry, 0, min(n, len(all)))
	for _, s := range all[:min(n, len(all))] {
		out = append(out, s.e)
	}
	return out
}

func norm(v []float32) float64 {
	var s float64
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	return math.Sqrt(s)
}

func cosine(a, b []float32) float64 {
	var dot float64
	for i := range a {
		dot += float64(a[i]) * float64(b[i])
	}
	return dot / (norm(a) * norm(b))
}

// tracking are query parameters that do not change the page an address
// names.
func tracking(name string) bool {
	n := strings.ToLower(name)
	return strings.HasPrefix(n, "utm_") || n == "fbclid" || n == "gclid"
}

// Key is the form under which two addresses of the same page compare
// equal: http and https alike, the host without regard to case and
// without its scheme's default port, the path without its trailing slash,
// the query's parameters in order with tracking ones (utm_*, fbclid,
// gclid) left out, no fragment. A relative address is resolved against
// base (nil: a relative address has no key). ok is false for what is no
// http(s) address.
func Key(raw string, base *url.URL) (key string, ok bool) {
	u, err := url.Parse(browserHref(raw))
	if err != nil || raw == "" {
		return "", false
	}
	if base != nil {
		u = base.ResolveReference(u)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return "", false
	}
	host := strings.ToLower(u.Hostname())
	if p := u.Port(); p != "" && !(u.Scheme == "http" && p == "80") && !(u.Scheme == "https" && p == "443") {
		host += ":" + p
	}
	path := strings.TrimRight(u.EscapedPath(), "/")
	q := u.Query()
	for name := range q {
		if tracking(name) {
			delete(q, name)
		}
	}
	key = host + path
	if enc := q.Encode(); enc != "" { // Encode sorts by name
		key += "?" + enc
	}
	return key, true
}

// browserHref is an href as a browser follows it: white space and
// control characters skipped, a backslash read as a slash (as
// markup.SanitizeForSite judges links).
func browserHref(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r <= ' ' || r == 0x7f:
			return -1
		case r == '\\':
			return '/'
		}
		return r
	}, s)
}
