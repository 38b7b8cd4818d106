package wordpress

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// dateLayout is how WordPress reads and writes date_gmt: UTC, no offset.
const dateLayout = "2006-01-02T15:04:05"

// PostInput is what a create or update sends. Empty strings and nil fields
// are left out, so an update changes only what is set; a non-nil empty
// Categories or Tags clears them, and a FeaturedMedia of 0 removes the
// featured image.
type PostInput struct {
	Title   string
	Content string
	Excerpt string
	Slug    string
	// Status is draft, pending, private, publish or future. publish with a
	// DateGMT 60s or more ahead becomes future (which relies on WP-Cron).
	Status        string
	DateGMT       *time.Time
	Categories    []int64
	Tags          []int64
	FeaturedMedia *int64
	// Meta is sent as is; keys not registered for REST are dropped by
	// WordPress without an error (see DroppedMeta).
	Meta map[string]string
}

// MarshalJSON writes the fields that are set, with date_gmt in UTC.
func (in PostInput) MarshalJSON() ([]byte, error) {
	m := map[string]any{}
	for key, v := range map[string]string{
		"title": in.Title, "content": in.Content, "excerpt": in.Excerpt, "slug": in.Slug, "status": in.Status,
	} {
		if v != "" {
			m[key] = v
		}
	}
	if in.DateGMT != nil {
		m["date_gmt"] = in.DateGMT.UTC().Format(dateLayout)
	}
	if in.Categories != nil {
		m["categories"] = in.Categories
	}
	if in.Tags != nil {
		m["tags"] = in.Tags
	}
	if in.FeaturedMedia != nil {
		m["featured_media"] = *in.FeaturedMedia
	}
	if in.Meta != nil {
		m["meta"] = in.Meta
	}
	return json.Marshal(m)
}

// Post is a post as WordPress stored it (edit context: raw fields).
type Post struct {
	ID     int64
	Slug   string // as WordPress made it unique (e.g. with -2); "" for a draft sent without one
	Link   string
	Status string
	// Title, Content and Excerpt are raw, as saved (after kses filtering).
	Title, Content, Excerpt string
	DateGMT                 string // 2026-05-01T09:00:00, UTC; "" when unset
	FeaturedMedia           int64
	Categories, Tags        []int64
	Meta                    map[string]any
}

// rendered is a field WordPress gives as {raw, rendered}.
type rendered struct {
	Raw      *string `json:"raw"`
	Rendered string  `json:"rendered"`
}

// text is the raw value, or the rendered one outside the edit context.
func (r rendered) text() string {
	if r.Raw != nil {
		return *r.Raw
	}
	return r.Rendered
}

// wirePost is a post as WordPress sends it.
type wirePost struct {
	ID            int64           `json:"id"`
	Slug          string          `json:"slug"`
	Link          string          `json:"link"`
	Status        string          `json:"status"`
	Title         rendered        `json:"title"`
	Content       rendered        `json:"content"`
	Excerpt       rendered        `json:"excerpt"`
	DateGMT       *string         `json:"date_gmt"`
	FeaturedMedia int64           `json:"featured_media"`
	Categories    []int64         `json:"categories"`
	Tags          []int64         `json:"tags"`
	Meta          json.RawMessage `json:"meta"`
}

// UnmarshalJSON reads a post from WordPress's JSON.
func (p *Post) UnmarshalJSON(b []byte) error {
	var w wirePost
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*p = Post{
		ID: w.ID, Slug: w.Slug, Link: w.Link, Status: w.Status,
		Title: w.Title.text(), Content: w.Content.text(), Excerpt: w.Excerpt.text(),
		FeaturedMedia: w.FeaturedMedia, Categories: w.Categories, Tags: w.Tags,
		Meta: metaMap(w.Meta),
	}
	if w.DateGMT != nil {
		p.DateGMT = *w.DateGMT
	}
	if p.ID <= 0 {
		return fmt.Errorf("no post id")
	}
	return nil
}

// metaMap reads meta, which WordPress sends as [] when it is empty.
func metaMap(raw json.RawMessage) map[string]any {
	m := map[string]any{}
	_ = json.Unmarshal(raw, &m) // [] or null leave it empty
	return m
}

// DroppedMeta returns the keys of in.Meta whose value p does not hold:
// WordPress drops keys not registered for REST without an error, so a
// caller must not report them as saved.
func (p Post) DroppedMeta(in PostInput) []string {
	var dropped []string
	for k, want := range in.Meta {
		if got, ok := p.Meta[k]; !ok || fmt.Sprint(got) != want {
			dropped = append(dropped, k)
		}
	}
	return dropped
}

// editQuery asks for raw fields back.
func editQuery() url.Values { return url.Values{"context": {"edit"}} }

// postRoute is the route of one post.
func postRoute(id int64) string { return "/wp/v2/posts/" + strconv.FormatInt(id, 10) }

// GetPost returns post id in the edit context. A missing post (deleted, or
// never there) gives an error wrapping errs.ErrNotFound.
func (c *Client) GetPost(ctx context.Context, id int64) (Post, error) {
	var p Post
	k := call{op: fmt.Sprintf("get post %d", id), what: "post", method: http.MethodGet, route: postRoute(id), query: editQuery()}
	_, err := c.do(ctx, k, &p)
	return p, err
}

// CreatePost creates a post and returns it as stored. It is sent once: an
// error after sending may hide a post that was created, which the caller
// finds with PostsBySlug.
func (c *Client) CreatePost(ctx context.Context, in PostInput) (Post, error) {
	return c.sendPost(ctx, call{op: "create post", route: "/wp/v2/posts"}, in)
}

// UpdatePost changes the fields of post id that in sets and returns the
// post as stored.
func (c *Client) UpdatePost(ctx context.Context, id int64, in PostInput) (Post, error) {
	return c.sendPost(ctx, call{op: fmt.Sprintf("update post %d", id), route: postRoute(id), repeatable: true}, in)
}

// sendPost POSTs in as JSON to k.route.
func (c *Client) sendPost(ctx context.Context, k call, in PostInput) (Post, error) {
	body, err := json.Marshal(in)
	if err != nil {
		return Post{}, fmt.Errorf("wordpress: %s: %w", k.op, err)
	}
	k.what, k.method, k.query = "post", http.MethodPost, editQuery()
	k.body, k.contentType = body, "application/json"
	var p Post
	_, err = c.do(ctx, k, &p)
	return p, err
}

// SearchPosts returns the posts of any status but trash whose title,
// excerpt or content contains search (up to 1,000).
func (c *Client) SearchPosts(ctx context.Context, search string) ([]Post, error) {
	q := url.Values{"search": {search}, "status": {"any"}, "context": {"edit"}}
	return list[Post](ctx, c, call{op: fmt.Sprintf("search posts for %q", search), what: "search", method: http.MethodGet, route: "/wp/v2/posts", query: q})
}

// PostsBySlug returns the posts of any status but trash with this slug.
// Drafts and pending posts keep the slug they were sent with, so several
// may share it; WordPress makes a slug unique only when a post is
// published.
func (c *Client) PostsBySlug(ctx context.Context, slug string) ([]Post, error) {
	q := url.Values{"slug": {slug}, "status": {"any"}, "context": {"edit"}}
	return list[Post](ctx, c, call{op: fmt.Sprintf("find posts with slug %q", slug), what: "search", method: http.MethodGet, route: "/wp/v2/posts", query: q})
}
