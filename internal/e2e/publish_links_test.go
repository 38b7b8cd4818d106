package e2e_test

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

	"golang.org/x/net/html"

	"github.com/presswork/presswork/internal/app/apptest"
	"github.com/presswork/presswork/internal/store"
	"github.com/presswork/presswork/internal/testenv"
)

// TestPublishedLinksExist runs the pipeline against a real WordPress that
// has a page an editor made there (not Presswork): the site's link
// inventory is read from WordPress, the drafts link to its pages, and every
// link to the site in the published posts leads to a page WordPress has.
func TestPublishedLinksExist(t *testing.T) {
	t.Parallel()
	wp := testenv.WordPress(t, testenv.WPOptions{})
	h := apptest.Start(t)
	h.StartWorker(t)
	_, c := h.Tenant(t, "links", 1000)
	api := pipelineAPI{t: t, c: c}
	shop := wpCreatePage(t, wp, "Trail shoe fitting at our shop")

	var site store.Site
	api.do(http.MethodPost, "/v1/sites", map[string]any{"name": "Trail links", "url": wp.URL, "username": wp.User,
		"application_password": wp.AppPassword}, &site)
	var acc apptest.Accepted
	api.do(http.MethodPost, fmt.Sprintf("/v1/sites/%d/links/refresh", site.ID), nil, &acc)
	api.waitJob(acc.Jobs[0].ID)
	var inventory []store.Link
	api.listAll(fmt.Sprintf("/v1/sites/%d/links", site.ID), &inventory)
	found := false
	for _, l := range inventory {
		found = found || l.URL == shop
	}
	if !found {
		t.Fatalf("the inventory %+v lacks the editor's page %s", inventory, shop)
	}

	api.do(http.MethodPost, fmt.Sprintf("/v1/sites/%d/keywords", site.ID), []byte(providerTestKeywords), nil,
		"Content-Type", "text/csv")
	api.do(http.MethodPost, fmt.Sprintf("/v1/sites/%d/clustering", site.ID), nil, &acc)
	api.waitJob(acc.Jobs[0].ID)
	var clusters []store.Cluster
	api.listAll(fmt.Sprintf("/v1/sites/%d/clusters", site.ID), &clusters)
	api.do(http.MethodPost, "/v1/ideas/generate", map[string]any{"cluster_ids": []int64{clusters[0].ID}, "count": 2}, &acc)
	api.waitJob(acc.Jobs[0].ID)
	var ideas []store.Idea
	api.listAll(fmt.Sprintf("/v1/ideas?site_id=%d", site.ID), &ideas)
	r := publishRun{api: api, wp: wp, site: site}
	r.waitAll("/v1/drafts/generate", map[string]any{"idea_ids": []int64{ideas[0].ID, ideas[1].ID}})
	api.listAll(fmt.Sprintf("/v1/drafts?site_id=%d", site.ID), &r.drafts)
	r.waitAll("/v1/drafts/publish", map[string]any{"draft_ids": r.draftIDs(), "status": "publish"})

	exists := map[string]bool{}
	for _, route := range []string{"/wp/v2/posts", "/wp/v2/pages"} {
		var items []struct {
			Link string `json:"link"`
		}
		wpGet(t, wp, route, url.Values{"per_page": {"100"}}, &items)
		for _, it := range items {
			exists[it.Link] = true
		}
	}
	host := strings.TrimPrefix(wp.URL, "http://")
	linked := 0
	for _, d := range r.drafts {
		posts := postsOfDraft(wpPosts(t, wp), d.ID)
		if len(posts) != 1 {
			t.Fatalf("%d posts of draft %d, want 1", len(posts), d.ID)
		}
		for _, href := range hrefs(posts[0].Content.Raw) {
			u, err := url.Parse(href)
			if err != nil || strings.HasPrefix(href, "#") || u.Host != "" && u.Host != host {
				continue
			}
			linked++
			if !exists[href] {
				t.Errorf("post of draft %d links to %s, which is no page of the site", d.ID, href)
			}
		}
	}
	if linked < 2*len(r.drafts) {
		t.Errorf("%d links to the site in %d posts, want at least 2 each", linked, len(r.drafts))
	}
}

// hrefs returns the href of each <a> of an HTML fragment.
func hrefs(body string) []string {
	var out []string
	z := html.NewTokenizer(strings.NewReader(body))
	for {
		switch z.Next() {
		case html.ErrorToken:
			return out
		case html.StartTagToken:
			tok := z.Token()
			for _, a := range tok.Attr {
				if tok.Data == "a" && a.Key == "href" {
					out = append(out, a.Val)
				}
			}
		}
	}
}

// wpCreatePage publishes a page through the REST API as an editor of the
// site would, and returns its link.
func wpCreatePage(t *testing.T, wp testenv.WordPressSite, title string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	body, _ := json.Marshal(map[string]string{"title": title, "content": "<p>Book a fitting.</p>", "status": "publish"})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, wp.URL+"/index.php?rest_route="+url.QueryEscape("/wp/v2/pages"),
		bytes.NewReader(body))
	apptest.Must(t, err, "request")
	req.SetBasicAuth(wp.User, wp.AppPassword)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	apptest.Must(t, err, "create page")
	defer resp.Body.Close()
	var page struct {
		Link string `json:"link"`
	}
	if resp.StatusCode != http.StatusCreated || json.NewDecoder(resp.Body).Decode(&page) != nil || page.Link == "" {
		t.Fatalf("create page: HTTP %d", resp.StatusCode)
	}
	return page.Link
}
