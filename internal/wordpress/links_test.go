package wordpress_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/presswork/presswork/internal/testenv"
	"github.com/presswork/presswork/internal/wordpress"
	"github.com/presswork/presswork/internal/wordpress/fakewp"
)

func TestListPublished(t *testing.T) {
	t.Parallel()
	for _, plain := range []bool{false, true} {
		t.Run(fmt.Sprintf("plain=%v", plain), func(t *testing.T) {
			t.Parallel()
			srv, c := newClient(t, fakewp.Config{Plain: plain, Prefix: "/blog"})
			var want []wordpress.Published
			// 230 posts: three pages of 100.
			for i := range 230 {
				title := fmt.Sprintf("Post %d", i)
				id := srv.Add(fakewp.Content{Title: title})
				want = append(want, wordpress.Published{ID: id, Kind: "post", Link: fmt.Sprintf("%s/?p=%d", srv.SiteURL(), id), Title: title})
			}
			quoted := srv.Add(fakewp.Content{Title: "Runner's guide & more"})
			want = append(want, wordpress.Published{ID: quoted, Kind: "post", Link: fmt.Sprintf("%s/?p=%d", srv.SiteURL(), quoted), Title: "Runner’s guide & more"})
			srv.Add(fakewp.Content{Title: "Unpublished", Status: "draft"})
			srv.Add(fakewp.Content{Title: "Later", Status: "future"})
			srv.Add(fakewp.Content{Title: "Elsewhere", Link: "https://other.example.com/elsewhere/"})
			srv.Add(fakewp.Content{Title: "Mail", Link: "mailto:someone@example.com"})
			srv.Add(fakewp.Content{Title: "Relative", Link: "/blog/relative/"})
			about := srv.Add(fakewp.Content{Type: "page", Title: "About us"})
			srv.Add(fakewp.Content{Type: "page", Title: "Draft page", Status: "draft"})
			// The same host in the other scheme is the site's.
			httpsPage := strings.Replace(srv.SiteURL(), "http://", "https://", 1) + "/contact/"
			contact := srv.Add(fakewp.Content{Type: "page", Title: "Contact", Link: httpsPage})
			want = append(want,
				wordpress.Published{ID: about, Kind: "page", Link: fmt.Sprintf("%s/?page_id=%d", srv.SiteURL(), about), Title: "About us"},
				wordpress.Published{ID: contact, Kind: "page", Link: httpsPage, Title: "Contact"})

			got, skipped, err := c.ListPublished(context.Background())
			if err != nil {
				t.Fatalf("ListPublished: %v", err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("ListPublished (-want +got):\n%s", diff)
			}
			if skipped != 3 {
				t.Errorf("skipped = %d, want 3 (another host, mailto:, a relative link)", skipped)
			}
			if n := srv.Count(http.MethodGet, "/wp/v2/posts"); n != 3 {
				t.Errorf("%d requests for posts, want 3 pages", n)
			}
			if n := srv.Count(http.MethodGet, "/wp/v2/pages"); n != 1 {
				t.Errorf("%d requests for pages, want 1", n)
			}
			for _, r := range srv.Requests() {
				if r.Route != "/wp/v2/posts" && r.Route != "/wp/v2/pages" {
					continue
				}
				if r.Query.Get("_fields") != "id,link,title,type,status" || r.Query.Get("per_page") != "100" ||
					r.Query.Get("status") != "publish" || r.Query.Get("context") != "" {
					t.Errorf("request %s %v: want _fields, per_page=100, status=publish and the view context", r.Route, r.Query)
				}
			}
		})
	}
}

func TestListPublishedEmptyAndFailing(t *testing.T) {
	t.Parallel()
	srv, c := newClient(t, fakewp.Config{})
	got, skipped, err := c.ListPublished(context.Background())
	if err != nil || len(got) != 0 || skipped != 0 {
		t.Fatalf("ListPublished of an empty site = %v, %d, %v", got, skipped, err)
	}
	srv.Inject(http.MethodGet, "/wp/v2/pages", fakewp.Fault{Status: 403, Body: `{"code":"rest_forbidden","message":"Sorry, you are not allowed to do that.","data":{"status":403}}`})
	if _, _, err := c.ListPublished(context.Background()); err == nil {
		t.Fatal("ListPublished succeeded though the pages were refused")
	}
}

// TestListPublishedRealWordPress reads the inventory of a real WordPress:
// its sample post and page, and a page an editor made there (not
// Presswork), in both REST styles.
func TestListPublishedRealWordPress(t *testing.T) {
	t.Parallel()
	for _, pretty := range []bool{false, true} {
		t.Run(fmt.Sprintf("pretty=%v", pretty), func(t *testing.T) {
			t.Parallel()
			site := testenv.WordPress(t, testenv.WPOptions{Pretty: pretty})
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			page := editorPage(ctx, t, site, "Our shop's opening hours")
			c := wordpress.New(&http.Client{Timeout: 30 * time.Second}, wordpress.Credentials{URL: site.URL, User: site.User, AppPassword: site.AppPassword}, "")
			got, skipped, err := c.ListPublished(ctx)
			if err != nil {
				t.Fatalf("ListPublished: %v", err)
			}
			byID := map[int64]wordpress.Published{}
			for _, p := range got {
				byID[p.ID] = p
				if !c.OnSite(p.Link) {
					t.Errorf("%v is not on the site", p)
				}
			}
			if p := byID[page.ID]; p.Kind != "page" || p.Title != "Our shop’s opening hours" || p.Link != page.Link {
				t.Errorf("the editor's page = %+v, want page %d %q at %s", p, page.ID, "Our shop’s opening hours", page.Link)
			}
			var kinds []string
			for _, p := range got {
				kinds = append(kinds, p.Kind+":"+p.Title)
			}
			if !contains(kinds, "post:Hello world!") || !contains(kinds, "page:Sample Page") {
				t.Errorf("inventory %v lacks WordPress's sample post or page", kinds)
			}
			if skipped != 0 {
				t.Errorf("skipped = %d, want 0", skipped)
			}
		})
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// editorPage publishes a page on site through the REST API, as an editor
// of the site (not Presswork's client) would.
func editorPage(ctx context.Context, t *testing.T, site testenv.WordPressSite, title string) (out struct {
	ID   int64  `json:"id"`
	Link string `json:"link"`
}) {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"title": title, "content": "<p>Open daily.</p>", "status": "publish"})
	u := site.URL + "/index.php?rest_route=" + url.QueryEscape("/wp/v2/pages")
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth(site.User, site.AppPassword)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("create page: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create page: HTTP %d", resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || out.ID <= 0 {
		t.Fatalf("create page: %+v, %v", out, err)
	}
	return out
}
