package links_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/presswork/presswork/internal/links"
)

func TestKey(t *testing.T) {
	t.Parallel()
	same := [][]string{
		{"https://example.com/shoes/", "http://example.com/shoes", "https://EXAMPLE.com:443/shoes/", "https://example.com/shoes/#top",
			"https://example.com/shoes/?utm_source=x", " https://example.com/shoes/ "},
		{"https://example.com/?p=5&lang=en", "http://example.com?lang=en&p=5", "https://example.com/?p=5&lang=en&gclid=1"},
		{"http://127.0.0.1:8080/blog/a/", "https://127.0.0.1:8080/blog/a"},
	}
	for _, group := range same {
		want, ok := links.Key(group[0], nil)
		if !ok {
			t.Fatalf("Key(%q) is not ok", group[0])
		}
		for _, u := range group[1:] {
			if got, ok := links.Key(u, nil); !ok || got != want {
				t.Errorf("Key(%q) = %q, %v; want %q like %q", u, got, ok, want, group[0])
			}
		}
	}
	different := [][2]string{
		{"https://example.com/?p=5", "https://example.com/?p=6"},
		{"https://example.com/shoes/", "https://example.com/shoes/trail/"},
		{"https://example.com/a", "https://www.example.com/a"},
		{"http://example.com:8080/a", "http://example.com/a"},
	}
	for _, d := range different {
		a, _ := links.Key(d[0], nil)
		b, _ := links.Key(d[1], nil)
		if a == b {
			t.Errorf("Key(%q) = Key(%q) = %q; want different", d[0], d[1], a)
		}
	}
	for _, bad := range []string{"", "/relative/", "mailto:a@example.com", "ftp://example.com/x", "https://user@example.com/x"} {
		if k, ok := links.Key(bad, nil); ok {
			t.Errorf("Key(%q) = %q, ok; want no key", bad, k)
		}
	}
}

func TestRelevant(t *testing.T) {
	t.Parallel()
	inv := []links.Entry{
		{URL: "https://example.com/trail-shoes/", Title: "Trail shoes", Vector: []float32{1, 0.1, 0}},
		{URL: "https://example.com/about/", Title: "About", Vector: []float32{0, 0, 1}},
		{URL: "https://example.com/road-shoes/", Title: "Road shoes", Vector: []float32{0.8, 0.6, 0}},
		{URL: "https://example.com/no-vector/", Title: "No vector"},
		{URL: "https://example.com/wrong-dim/", Title: "Wrong", Vector: []float32{1, 0}},
		{URL: "http://example.com/trail-shoes", Title: "Trail shoes again", Vector: []float32{1, 0.1, 0}},
		{URL: "https://example.com/this-article/", Title: "The article", Vector: []float32{1, 0, 0}},
		{URL: "https://example.com/socks/", Title: "Socks", Vector: []float32{0.5, 0.5, 0.5}},
	}
	idea := []float32{1, 0, 0}
	titles := func(es []links.Entry) []string {
		out := []string{}
		for _, e := range es {
			out = append(out, e.Title)
		}
		return out
	}
	tests := []struct {
		name    string
		n       int
		exclude string
		want    []string
	}{
		{"top 3, never the article itself", 3, "http://EXAMPLE.com/this-article", []string{"Trail shoes", "Road shoes", "Socks"}},
		{"the article when not excluded", 1, "", []string{"The article"}},
		{"more than there are", 10, "https://example.com/this-article/", []string{"Trail shoes", "Road shoes", "Socks", "About"}},
		{"none asked", 0, "", []string{}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, titles(links.Relevant(idea, inv, tt.n, tt.exclude))); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.name, diff)
		}
	}
	if got := links.Relevant(nil, inv, 3, ""); len(got) != 0 {
		t.Errorf("Relevant without an idea vector = %v, want none", titles(got))
	}
	if got := links.Relevant([]float32{0, 0, 0}, inv, 3, ""); len(got) != 0 {
		t.Errorf("Relevant of a zero vector = %v, want none", titles(got))
	}
}

func TestCheck(t *testing.T) {
	t.Parallel()
	inv := []string{
		"https://example.com/blog/trail-shoes/",
		"http://example.com/blog/?p=12",
		"https://example.com/blog/about",
	}
	const site = "https://example.com/blog"
	tests := []struct {
		name    string
		body    string
		want    string
		removed []links.Removed
	}{
		{"known link kept byte for byte",
			`<p>See <a href="https://example.com/blog/trail-shoes/" rel="nofollow">trail  shoes</a>.</p>`,
			`<p>See <a href="https://example.com/blog/trail-shoes/" rel="nofollow">trail  shoes</a>.</p>`, nil},
		{"invented link unwrapped",
			`<p>Read <a href="https://example.com/blog/best-socks/">our <em>sock</em> guide</a> now.</p>`,
			`<p>Read our <em>sock</em> guide now.</p>`,
			[]links.Removed{{Href: "https://example.com/blog/best-socks/", Text: "our sock guide"}}},
		{"http vs https, trailing slash, case",
			`<a href="http://EXAMPLE.com/blog/trail-shoes">a</a> <a href="https://example.com/blog/about/">b</a>`,
			`<a href="http://EXAMPLE.com/blog/trail-shoes">a</a> <a href="https://example.com/blog/about/">b</a>`, nil},
		{"query strings: the id counts, order and tracking do not",
			`<a href="https://example.com/blog/?utm_source=x&p=12">a</a> <a href="https://example.com/blog/?p=13">b</a>`,
			`<a href="https://example.com/blog/?utm_source=x&p=12">a</a> b`,
			[]links.Removed{{Href: "https://example.com/blog/?p=13", Text: "b"}}},
		{"relative links resolve against the site",
			`<a href="/blog/about">a</a> <a href="trail-shoes/">b</a> <a href="/blog/made-up/">c</a> <a href="//example.com/blog/nope">d</a>`,
			`<a href="/blog/about">a</a> <a href="trail-shoes/">b</a> c d`,
			[]links.Removed{{Href: "/blog/made-up/", Text: "c"}, {Href: "//example.com/blog/nope", Text: "d"}}},
		{"external, mailto and in-page links left alone",
			`<a href="https://other.org/x">x</a> <a href="mailto:a@example.com">m</a> <a href="#faq">f</a> <a href="https://www.example.com/y">w</a>`,
			`<a href="https://other.org/x">x</a> <a href="mailto:a@example.com">m</a> <a href="#faq">f</a> <a href="https://www.example.com/y">w</a>`, nil},
		{"a fragment does not make a known page unknown, nor hide an unknown one",
			`<a href="https://example.com/blog/about#team">a</a> <a href="https://example.com/blog/x#team">b</a>`,
			`<a href="https://example.com/blog/about#team">a</a> b`,
			[]links.Removed{{Href: "https://example.com/blog/x#team", Text: "b"}}},
		{"browser tricks are the site's too",
			`<a href="https:\\example.com\blog\fake">a</a>`, `a`,
			[]links.Removed{{Href: `https:\\example.com\blog\fake`, Text: "a"}}},
		{"another port is another host",
			`<a href="https://example.com:8443/blog/fake">a</a>`, `<a href="https://example.com:8443/blog/fake">a</a>`, nil},
		{"an anchor without href stays", `<a>x</a>`, `<a>x</a>`, nil},
	}
	for _, tt := range tests {
		got, removed := links.Check(tt.body, inv, site)
		if got != tt.want {
			t.Errorf("%s: body\n got %s\nwant %s", tt.name, got, tt.want)
		}
		if tt.removed == nil {
			tt.removed = []links.Removed{}
		}
		if diff := cmp.Diff(tt.removed, removed); diff != "" {
			t.Errorf("%s: removed (-want +got):\n%s", tt.name, diff)
		}
	}
}

func TestCheckEmptyInventoryRemovesEveryInternalLink(t *testing.T) {
	t.Parallel()
	got, removed := links.Check(`<p><a href="https://example.com/a">a</a> <a href="https://other.org/">o</a></p>`, nil, "https://example.com")
	if got != `<p>a <a href="https://other.org/">o</a></p>` || len(removed) != 1 {
		t.Errorf("Check = %s, %v", got, removed)
	}
}
