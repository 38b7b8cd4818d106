package e2e_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/presswork/presswork/internal/app/apptest"
	"github.com/presswork/presswork/internal/errs"
	"github.com/presswork/presswork/internal/store"
	"github.com/presswork/presswork/internal/testenv"
)

// publishRun is a tenant with a site on a test WordPress and drafts ready
// to publish.
type publishRun struct {
	api    pipelineAPI
	wp     testenv.WordPressSite
	site   store.Site
	drafts []store.Draft
}

// startPublishRun creates a tenant whose site is wp (with the site settings
// given), and runs keywords -> clusters -> ideas -> drafts (n of them) ->
// images on the offline provider.
func startPublishRun(t *testing.T, h *apptest.Harness, slug string, wp testenv.WordPressSite, n int, settings map[string]any) publishRun {
	t.Helper()
	_, c := h.Tenant(t, slug, 1000)
	r := publishRun{api: pipelineAPI{t: t, c: c}, wp: wp}
	body := map[string]any{"name": "Trail " + slug, "url": wp.URL, "username": wp.User, "application_password": wp.AppPassword}
	for k, v := range settings {
		body[k] = v
	}
	r.api.do(http.MethodPost, "/v1/sites", body, &r.site)
	r.api.do(http.MethodPost, fmt.Sprintf("/v1/sites/%d/keywords", r.site.ID), []byte(providerTestKeywords), nil,
		"Content-Type", "text/csv")
	var acc apptest.Accepted
	r.api.do(http.MethodPost, fmt.Sprintf("/v1/sites/%d/clustering", r.site.ID), nil, &acc)
	r.api.waitJob(acc.Jobs[0].ID)
	var clusters []store.Cluster
	r.api.listAll(fmt.Sprintf("/v1/sites/%d/clusters", r.site.ID), &clusters)
	r.api.do(http.MethodPost, "/v1/ideas/generate", map[string]any{"cluster_ids": []int64{clusters[0].ID}, "count": n}, &acc)
	r.api.waitJob(acc.Jobs[0].ID)
	var ideas []store.Idea
	r.api.listAll(fmt.Sprintf("/v1/ideas?cluster_id=%d", clusters[0].ID), &ideas)
	ids := make([]int64, n)
	for i := range n {
		ids[i] = ideas[i].ID
	}
	r.waitAll("/v1/drafts/generate", map[string]any{"idea_ids": ids})
	r.api.listAll(fmt.Sprintf("/v1/drafts?site_id=%d", r.site.ID), &r.drafts)
	r.waitAll("/v1/images/generate", map[string]any{"draft_ids": r.draftIDs()})
	return r
}

func (r publishRun) draftIDs() []int64 {
	ids := make([]int64, len(r.drafts))
	for i, d := range r.drafts {
		ids[i] = d.ID
	}
	return ids
}

// waitAll posts a request that makes jobs and waits for all to succeed.
func (r publishRun) waitAll(path string, body any) {
	r.api.t.Helper()
	var acc apptest.Accepted
	r.api.do(http.MethodPost, path, body, &acc)
	for _, j := range acc.Jobs {
		r.api.waitJob(j.ID)
	}
}

func (r publishRun) draft(id int64) store.Draft {
	r.api.t.Helper()
	var d store.Draft
	r.api.do(http.MethodGet, fmt.Sprintf("/v1/drafts/%d", id), nil, &d)
	return d
}

// wpPost is a post as WordPress shows it in the edit context.
type wpPost struct {
	ID      int64  `json:"id"`
	Status  string `json:"status"`
	Slug    string `json:"slug"`
	DateGMT string `json:"date_gmt"`
	Title   struct {
		Raw string `json:"raw"`
	} `json:"title"`
	Content struct {
		Raw string `json:"raw"`
	} `json:"content"`
	Excerpt struct {
		Raw string `json:"raw"`
	} `json:"excerpt"`
	FeaturedMedia int64   `json:"featured_media"`
	Categories    []int64 `json:"categories"`
	Tags          []int64 `json:"tags"`
	// Meta is an object, or [] when the site registers no meta keys.
	Meta json.RawMessage `json:"meta"`
}

// meta returns the post's meta fields.
func (p wpPost) meta() map[string]any {
	m := map[string]any{}
	_ = json.Unmarshal(p.Meta, &m)
	return m
}

// wpGet reads a route of the test WordPress's REST API (through
// ?rest_route=, which every WordPress answers) into out.
func wpGet(t *testing.T, wp testenv.WordPressSite, route string, query url.Values, out any) {
	t.Helper()
	q := url.Values{"rest_route": {route}}
	for k, v := range query {
		q[k] = v
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, wp.URL+"/index.php?"+q.Encode(), nil)
	apptest.Must(t, err, "request")
	req.SetBasicAuth(wp.User, wp.AppPassword)
	resp, err := http.DefaultClient.Do(req)
	apptest.Must(t, err, "GET ", route)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	apptest.Must(t, err, "read ", route)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", route, resp.StatusCode, body)
	}
	apptest.Must(t, json.Unmarshal(body, out), "decode ", route)
}

// wpPosts returns every post of the site in any status but trash.
func wpPosts(t *testing.T, wp testenv.WordPressSite) []wpPost {
	t.Helper()
	var posts []wpPost
	wpGet(t, wp, "/wp/v2/posts", url.Values{"status": {"any"}, "context": {"edit"}, "per_page": {"100"}}, &posts)
	return posts
}

// postsOfDraft returns the site's posts that carry a draft's marker.
func postsOfDraft(posts []wpPost, draftID int64) []wpPost {
	marker := fmt.Sprintf("<!-- presswork-draft-%d -->", draftID)
	var out []wpPost
	for _, p := range posts {
		if strings.Contains(p.Content.Raw, marker) {
			out = append(out, p)
		}
	}
	return out
}

// presswork returns the posts that carry a Presswork marker (a fresh
// WordPress has a sample post of its own).
func presswork(posts []wpPost) []wpPost {
	var out []wpPost
	for _, p := range posts {
		if strings.Contains(p.Content.Raw, "<!-- presswork-draft-") {
			out = append(out, p)
		}
	}
	return out
}

// termNames returns the names of the terms of a taxonomy with these ids.
func termNames(t *testing.T, wp testenv.WordPressSite, taxonomy string, ids []int64) []string {
	t.Helper()
	if len(ids) == 0 {
		return nil
	}
	include := make([]string, len(ids))
	for i, id := range ids {
		include[i] = fmt.Sprint(id)
	}
	var terms []struct {
		Name string `json:"name"`
	}
	wpGet(t, wp, "/wp/v2/"+taxonomy, url.Values{"include": {strings.Join(include, ",")}}, &terms)
	names := make([]string, len(terms))
	for i, tm := range terms {
		names[i] = tm.Name
	}
	return names
}

// TestPublishToWordPress publishes drafts to a real WordPress, once with
// plain permalinks (?rest_route=) and once with pretty ones (/wp-json/), and
// checks in WordPress itself what arrived: title, content with the
// in-article image, status (publish, future, draft), terms, featured image
// with alt text, SEO fields; then that republishing an edited draft updates
// the same post.
func TestPublishToWordPress(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		style string
		opts  testenv.WPOptions
	}{
		{"plain permalinks", "query", testenv.WPOptions{}},
		{"pretty permalinks with Yoast fields", "pretty", testenv.WPOptions{Pretty: true, SEO: "yoast"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			wp := testenv.WordPress(t, tc.opts)
			h := apptest.Start(t)
			h.StartWorker(t)
			r := startPublishRun(t, h, "pub-"+tc.style, wp, 3,
				map[string]any{"seo_plugin": "yoast", "inline_images": 1, "default_categories": []string{"Trail Guides"}})
			checkSiteHealthy(t, r, tc.style)

			live, future, draft := r.drafts[0], r.drafts[1], r.drafts[2]
			at := time.Now().Add(48 * time.Hour).UTC().Truncate(time.Second)
			r.waitAll("/v1/drafts/publish", map[string]any{"draft_ids": []int64{live.ID}})
			r.waitAll("/v1/drafts/publish", map[string]any{"draft_ids": []int64{future.ID}, "status": "future", "publish_at": at})
			r.waitAll("/v1/drafts/publish", map[string]any{"draft_ids": []int64{draft.ID}, "status": "draft"})

			posts := wpPosts(t, wp)
			checkPublished(t, r, posts, live.ID, "publish", tc.opts.SEO != "")
			got := checkPublished(t, r, posts, future.ID, "future", tc.opts.SEO != "")
			if want := at.Format("2006-01-02T15:04:05"); got.DateGMT != want {
				t.Errorf("future post date_gmt %q, want %q", got.DateGMT, want)
			}
			checkPublished(t, r, posts, draft.ID, "draft", tc.opts.SEO != "")

			// Republishing an edited draft updates the same post.
			before := r.draft(live.ID)
			r.api.do(http.MethodPatch, fmt.Sprintf("/v1/drafts/%d", live.ID),
				map[string]any{"title": "Edited: " + before.Title, "tags": []string{"edited tag"}}, nil)
			r.waitAll("/v1/drafts/publish", map[string]any{"draft_ids": []int64{live.ID}})
			after := r.draft(live.ID)
			if *after.WPPostID != *before.WPPostID {
				t.Errorf("republish made post %d, want the same post %d", *after.WPPostID, *before.WPPostID)
			}
			posts = wpPosts(t, wp)
			mine := postsOfDraft(posts, live.ID)
			if len(mine) != 1 || mine[0].Title.Raw != "Edited: "+before.Title || mine[0].Status != "publish" {
				t.Fatalf("after republishing: %d posts of the draft %+v, want one titled %q", len(mine), mine, "Edited: "+before.Title)
			}
			if tags := termNames(t, wp, "tags", mine[0].Tags); !slices.Equal(tags, []string{"edited tag"}) {
				t.Errorf("republished post tags %v, want [edited tag]", tags)
			}
			if n := len(presswork(posts)); n != 3 {
				t.Errorf("WordPress has %d posts from Presswork, want exactly the 3 published", n)
			}
		})
	}
}

// checkSiteHealthy runs a connection check and expects a healthy site
// reached in the given REST style.
func checkSiteHealthy(t *testing.T, r publishRun, style string) {
	t.Helper()
	r.api.waitJob(r.api.checkSite(r.site.ID).ID)
	var site store.Site
	r.api.do(http.MethodGet, fmt.Sprintf("/v1/sites/%d", r.site.ID), nil, &site)
	if site.Health != store.HealthHealthy || apptest.Deref(site.RESTStyle) != style || site.CheckedAt == nil {
		t.Fatalf("site after check: health %q (%q), style %q, checked %v; want healthy, %q",
			site.Health, site.HealthReason, apptest.Deref(site.RESTStyle), site.CheckedAt, style)
	}
}

// checkPublished checks, in WordPress, the one post of a draft: status,
// title, excerpt, content (body text, the inline image after its heading),
// terms, featured image and its alt text, SEO fields; and that the draft
// records the post.
func checkPublished(t *testing.T, r publishRun, posts []wpPost, draftID int64, status string, seoRegistered bool) wpPost {
	t.Helper()
	d := r.draft(draftID)
	mine := postsOfDraft(posts, draftID)
	if len(mine) != 1 {
		t.Fatalf("draft %d has %d posts in WordPress, want 1", draftID, len(mine))
	}
	p := mine[0]
	if d.Status != store.DraftPublished || d.WPPostID == nil || *d.WPPostID != p.ID || apptest.Deref(d.WPStatus) != status {
		t.Errorf("draft %d records status %q, post %v, wp status %q; WordPress has post %d", draftID, d.Status,
			d.WPPostID, apptest.Deref(d.WPStatus), p.ID)
	}
	if p.Status != status || p.Title.Raw != d.Title || strings.TrimSpace(p.Excerpt.Raw) != d.Excerpt || p.Slug != apptest.Deref(d.WPSlug) {
		t.Errorf("post %d: status %q title %q excerpt %q slug %q; want %q %q %q %q", p.ID, p.Status, p.Title.Raw,
			p.Excerpt.Raw, p.Slug, status, d.Title, d.Excerpt, apptest.Deref(d.WPSlug))
	}
	firstH2 := bodyH2s(d.BodyHTML)
	if len(firstH2) == 0 || !strings.Contains(p.Content.Raw, firstH2[0]) {
		t.Errorf("post %d content lacks the draft's headings %v", p.ID, firstH2)
	}
	if cats := termNames(t, r.wp, "categories", p.Categories); !slices.Equal(cats, []string{"Trail Guides"}) {
		t.Errorf("post %d categories %v, want [Trail Guides]", p.ID, cats)
	}
	if tags := termNames(t, r.wp, "tags", p.Tags); !slices.Equal(tags, []string{d.FocusKeyword}) && d.Tags == nil {
		t.Errorf("post %d tags %v, want the focus keyword %q", p.ID, tags, d.FocusKeyword)
	}
	checkMedia(t, r, d, p)
	checkSEOFields(t, d, p, seoRegistered)
	return p
}

// checkMedia checks the post's featured image and in-article image against
// the draft's images.
func checkMedia(t *testing.T, r publishRun, d store.Draft, p wpPost) {
	t.Helper()
	var images []store.Image
	r.api.do(http.MethodGet, fmt.Sprintf("/v1/drafts/%d/images", d.ID), nil, &images)
	for _, img := range images {
		if img.WPMediaID == nil {
			t.Errorf("draft %d image %d (%s) has no WordPress media id", d.ID, img.ID, img.Role)
			continue
		}
		var m struct {
			AltText   string `json:"alt_text"`
			SourceURL string `json:"source_url"`
			MimeType  string `json:"mime_type"`
		}
		wpGet(t, r.wp, fmt.Sprintf("/wp/v2/media/%d", *img.WPMediaID), url.Values{"context": {"edit"}}, &m)
		if m.AltText != img.AltText || m.MimeType != apptest.Deref(img.ContentType) {
			t.Errorf("media %d: alt %q type %q, want %q %q", *img.WPMediaID, m.AltText, m.MimeType, img.AltText, apptest.Deref(img.ContentType))
		}
		switch img.Role {
		case store.ImageRoleFeatured:
			if p.FeaturedMedia != *img.WPMediaID {
				t.Errorf("post %d featured media %d, want %d", p.ID, p.FeaturedMedia, *img.WPMediaID)
			}
		default:
			at := strings.Index(p.Content.Raw, img.Heading)
			fig := strings.Index(p.Content.Raw, m.SourceURL)
			if at < 0 || fig < at {
				t.Errorf("post %d: inline image %s not after its heading %q", p.ID, m.SourceURL, img.Heading)
			}
		}
	}
	if len(images) != 2 {
		t.Errorf("draft %d has %d images, want a featured and an inline one", d.ID, len(images))
	}
}

// checkSEOFields checks that the Yoast fields arrived when the site
// registers them, and that the report says which were dropped otherwise.
func checkSEOFields(t *testing.T, d store.Draft, p wpPost, registered bool) {
	t.Helper()
	var report struct {
		SEO struct {
			Kept, Dropped []string
		} `json:"seo"`
	}
	apptest.Must(t, json.Unmarshal(d.PublishReport, &report), "decode publish report")
	if registered {
		if m := p.meta(); m["_yoast_wpseo_title"] != d.MetaTitle || m["_yoast_wpseo_metadesc"] != d.MetaDescription {
			t.Errorf("post %d meta %s, want the draft's SEO title and description", p.ID, p.Meta)
		}
		if len(report.SEO.Kept) != 3 || len(report.SEO.Dropped) != 0 {
			t.Errorf("draft %d SEO report %+v, want 3 kept", d.ID, report.SEO)
		}
		return
	}
	if len(report.SEO.Dropped) != 3 || len(report.SEO.Kept) != 0 {
		t.Errorf("draft %d SEO report %+v, want all 3 dropped (the site does not register them)", d.ID, report.SEO)
	}
}

// TestPublishReviewAndRefusedCredentials covers a site that requires
// review (publish holds the draft in awaiting_review; approval publishes
// it with the options it was held with) and a site whose application
// password WordPress refuses (the check and the publish mark it unhealthy
// with the reason; the publish fails at once, without retries).
func TestPublishReviewAndRefusedCredentials(t *testing.T) {
	t.Parallel()
	wp := testenv.WordPress(t, testenv.WPOptions{})
	h := apptest.Start(t)
	h.StartWorker(t)
	r := startPublishRun(t, h, "review", wp, 2, map[string]any{"require_review": true})

	var held struct {
		Jobs          []any   `json:"jobs"`
		HeldForReview []int64 `json:"held_for_review"`
	}
	r.api.do(http.MethodPost, "/v1/drafts/publish", map[string]any{"draft_ids": r.draftIDs(), "status": "draft"}, &held)
	if len(held.Jobs) != 0 || !slices.Equal(held.HeldForReview, r.draftIDs()) {
		t.Fatalf("publish on a review site answered %+v, want both drafts held and no job", held)
	}
	if d := r.draft(r.drafts[0].ID); d.Status != store.DraftAwaitingReview {
		t.Fatalf("draft status %q, want awaiting_review", d.Status)
	}
	if n := len(presswork(wpPosts(t, wp))); n != 0 {
		t.Fatalf("WordPress has %d posts before approval, want 0", n)
	}
	r.waitAll("/v1/drafts/approve", map[string]any{"draft_ids": []int64{r.drafts[0].ID}})
	posts := presswork(wpPosts(t, wp))
	if len(posts) != 1 || posts[0].Status != "draft" {
		t.Fatalf("after approving one draft WordPress has %+v, want one post in status draft (the held option)", posts)
	}
	if d := r.draft(r.drafts[1].ID); d.Status != store.DraftAwaitingReview {
		t.Errorf("the unapproved draft is %q, want still awaiting_review", d.Status)
	}

	// Wrong credentials: the check says so, and a publish fails at once.
	r.api.do(http.MethodPatch, fmt.Sprintf("/v1/sites/%d", r.site.ID),
		map[string]any{"application_password": "wrong pass word", "require_review": false}, nil)
	if j := r.api.checkSite(r.site.ID); j.State != store.JobFailed || apptest.Deref(j.ErrorCode) != errs.CodeAuthRejected {
		t.Errorf("check with a wrong password: job %s, code %q; want failed, auth_rejected", j.State, apptest.Deref(j.ErrorCode))
	}
	var site store.Site
	r.api.do(http.MethodGet, fmt.Sprintf("/v1/sites/%d", r.site.ID), nil, &site)
	if site.Health != store.HealthUnhealthy || !strings.Contains(site.HealthReason, "application password") {
		t.Errorf("site with a wrong password: health %q, reason %q; want unhealthy naming the application password",
			site.Health, site.HealthReason)
	}
	var acc apptest.Accepted
	r.api.do(http.MethodPost, "/v1/drafts/publish", map[string]any{"draft_ids": []int64{r.drafts[1].ID}}, &acc)
	tr := tenantRun{api: r.api}
	j := tr.waitFailed(acc.Jobs[0].ID)
	if j.Attempts != 1 || !strings.Contains(apptest.Deref(j.LastError), "application password") || j.CreditsCharged != 0 ||
		apptest.Deref(j.ErrorCode) != errs.CodeAuthRejected {
		t.Errorf("publish with refused credentials: %d attempts, error %q (%q), charged %d; want 1 attempt, the reason, auth_rejected, nothing charged",
			j.Attempts, apptest.Deref(j.LastError), apptest.Deref(j.ErrorCode), j.CreditsCharged)
	}
	if n := len(presswork(wpPosts(t, wp))); n != 1 {
		t.Errorf("WordPress has %d posts, want still 1", n)
	}
}
