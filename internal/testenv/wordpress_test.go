package testenv_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/presswork/presswork/internal/testenv"
)

// wpClient talks to a test site's REST API with its application password.
type wpClient struct {
	t    *testing.T
	site testenv.WordPressSite
	// endpoint turns a REST route ("/wp/v2/posts") and a query into a URL.
	endpoint func(route string, q url.Values) string
	http     *http.Client
}

func plainEndpoint(base string) func(string, url.Values) string {
	return func(route string, q url.Values) string {
		if q == nil {
			q = url.Values{}
		}
		q.Set("rest_route", route)
		return base + "/index.php?" + q.Encode()
	}
}

func prettyEndpoint(base string) func(string, url.Values) string {
	return func(route string, q url.Values) string {
		u := base + "/wp-json" + route
		if len(q) > 0 {
			u += "?" + q.Encode()
		}
		return u
	}
}

func (c *wpClient) do(method, route string, q url.Values, contentType string, body []byte, extra http.Header) (int, []byte) {
	c.t.Helper()
	req, err := http.NewRequest(method, c.endpoint(route, q), bytes.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	req.SetBasicAuth(c.site.User, c.site.AppPassword)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, v := range extra {
		req.Header[k] = v
	}
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, route, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatalf("%s %s: read body: %v", method, route, err)
	}
	return resp.StatusCode, data
}

// json sends v as JSON (nil: no body) and decodes the answer into out,
// failing the test unless the status is want.
func (c *wpClient) json(method, route string, q url.Values, v any, want int, out any) {
	c.t.Helper()
	var body []byte
	ct := ""
	if v != nil {
		var err error
		if body, err = json.Marshal(v); err != nil {
			c.t.Fatal(err)
		}
		ct = "application/json"
	}
	status, data := c.do(method, route, q, ct, body, nil)
	if status != want {
		c.t.Fatalf("%s %s: status %d, want %d: %.500s", method, route, status, want, data)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			c.t.Fatalf("%s %s: decode %.200q: %v", method, route, data, err)
		}
	}
}

type wpPost struct {
	ID     int    `json:"id"`
	Link   string `json:"link"`
	Status string `json:"status"`
	Title  struct {
		Raw string `json:"raw"`
	} `json:"title"`
	Content struct {
		Raw string `json:"raw"`
	} `json:"content"`
	Categories []int           `json:"categories"`
	Meta       json.RawMessage `json:"meta"` // [] when no meta key is registered

}

func TestWordPress(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		opts    testenv.WPOptions
		metaKey string // an SEO meta key the site must accept
	}{
		{name: "plain", opts: testenv.WPOptions{}},
		{name: "pretty", opts: testenv.WPOptions{Pretty: true, SEO: "yoast"}, metaKey: "_yoast_wpseo_metadesc"},
		{name: "plain_rankmath", opts: testenv.WPOptions{SEO: "rankmath"}, metaKey: "rank_math_description"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			start := time.Now()
			site := testenv.WordPress(t, tc.opts)
			t.Logf("site %s at %s up in %v", site.Name, site.URL, time.Since(start).Round(time.Millisecond))
			if !strings.HasPrefix(site.URL, "http://127.0.0.1:") || site.User == "" || site.AppPassword == "" || site.Name == "" {
				t.Fatalf("incomplete site: %+v", site)
			}
			hc := &http.Client{Timeout: 30 * time.Second}
			c := &wpClient{t: t, site: site, http: hc, endpoint: plainEndpoint(site.URL)}
			if tc.opts.Pretty {
				c.endpoint = prettyEndpoint(site.URL)
			}

			// /wp-json/ is the REST API only with pretty permalinks; a
			// client must see the difference to fall back to ?rest_route=.
			resp, err := hc.Get(site.URL + "/wp-json/")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			isJSON := resp.StatusCode == http.StatusOK && strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json")
			if isJSON != tc.opts.Pretty {
				t.Fatalf("GET /wp-json/: %s %q; pretty=%v", resp.Status, resp.Header.Get("Content-Type"), tc.opts.Pretty)
			}

			// The application password authenticates an administrator.
			var me struct {
				Slug         string          `json:"slug"`
				Roles        []string        `json:"roles"`
				Capabilities map[string]bool `json:"capabilities"`
			}
			c.json(http.MethodGet, "/wp/v2/users/me", url.Values{"context": {"edit"}}, nil, http.StatusOK, &me)
			if !me.Capabilities["publish_posts"] || !me.Capabilities["upload_files"] {
				t.Fatalf("users/me: %+v, want publish_posts and upload_files", me)
			}

			var cat struct {
				ID int `json:"id"`
			}
			c.json(http.MethodPost, "/wp/v2/categories", nil, map[string]any{"name": "News " + tc.name}, http.StatusCreated, &cat)

			in := map[string]any{
				"title":      "Hello from " + tc.name,
				"content":    "<p>Written by TestWordPress.</p>",
				"status":     "publish",
				"categories": []int{cat.ID},
			}
			if tc.metaKey != "" {
				in["meta"] = map[string]string{tc.metaKey: "An SEO description"}
			}
			var created wpPost
			c.json(http.MethodPost, "/wp/v2/posts", nil, in, http.StatusCreated, &created)
			if created.ID == 0 {
				t.Fatal("created post has no id")
			}

			var got wpPost
			c.json(http.MethodGet, fmt.Sprintf("/wp/v2/posts/%d", created.ID), url.Values{"context": {"edit"}}, nil, http.StatusOK, &got)
			if got.Title.Raw != in["title"] || got.Content.Raw != in["content"] || got.Status != "publish" {
				t.Fatalf("read back %+v, want %v", got, in)
			}
			if len(got.Categories) != 1 || got.Categories[0] != cat.ID {
				t.Fatalf("categories %v, want [%d]", got.Categories, cat.ID)
			}
			if tc.metaKey != "" {
				var meta map[string]string
				if err := json.Unmarshal(got.Meta, &meta); err != nil || meta[tc.metaKey] != "An SEO description" {
					t.Fatalf("meta %s, want %s set (%v)", got.Meta, tc.metaKey, err)
				}
			}
			if !strings.HasPrefix(got.Link, site.URL+"/") {
				t.Fatalf("link %q is not on %s", got.Link, site.URL)
			}
			if tc.opts.Pretty != !strings.Contains(got.Link, "?p=") {
				t.Fatalf("link %q does not match pretty=%v", got.Link, tc.opts.Pretty)
			}
			// The public post page renders.
			page, err := hc.Get(got.Link)
			if err != nil {
				t.Fatal(err)
			}
			html, _ := io.ReadAll(page.Body)
			page.Body.Close()
			if page.StatusCode != http.StatusOK || !bytes.Contains(html, []byte("Hello from "+tc.name)) {
				t.Fatalf("GET %s: %s, title missing", got.Link, page.Status)
			}

			// Media: raw PNG bytes; the file is then served by the site.
			status, data := c.do(http.MethodPost, "/wp/v2/media", nil, "image/png", testPNG(t),
				http.Header{"Content-Disposition": {`attachment; filename="pixel-test.png"`}})
			if status != http.StatusCreated {
				t.Fatalf("POST media: %d %.500s", status, data)
			}
			var media struct {
				ID        int    `json:"id"`
				SourceURL string `json:"source_url"`
			}
			if err := json.Unmarshal(data, &media); err != nil || media.ID == 0 {
				t.Fatalf("media answer %.300s: %v", data, err)
			}
			img, err := hc.Get(media.SourceURL)
			if err != nil {
				t.Fatal(err)
			}
			img.Body.Close()
			if img.StatusCode != http.StatusOK || img.Header.Get("Content-Type") != "image/png" {
				t.Fatalf("GET %s: %s %q", media.SourceURL, img.Status, img.Header.Get("Content-Type"))
			}
		})
	}
}

// testPNG is a small PNG, large enough for WordPress to make a thumbnail.
func testPNG(t *testing.T) []byte {
	t.Helper()
	m := image.NewRGBA(image.Rect(0, 0, 320, 200))
	for y := range 200 {
		for x := range 320 {
			m.Set(x, y, color.RGBA{uint8(x), uint8(y), 128, 255})
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, m); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}
