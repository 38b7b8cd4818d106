package wordpress_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/presswork/presswork/internal/errs"
	"github.com/presswork/presswork/internal/wordpress"
	"github.com/presswork/presswork/internal/wordpress/fakewp"
)

func TestPostInputJSON(t *testing.T) {
	t.Parallel()
	when := time.Date(2026, 5, 1, 11, 0, 0, 0, time.FixedZone("CEST", 2*3600))
	zero := int64(0)
	seven := int64(7)
	tests := []struct {
		name string
		in   wordpress.PostInput
		want string
	}{
		{"empty sends nothing", wordpress.PostInput{}, `{}`},
		{"strings", wordpress.PostInput{Title: "T", Content: "C", Excerpt: "E", Slug: "s", Status: "draft"},
			`{"content":"C","excerpt":"E","slug":"s","status":"draft","title":"T"}`},
		{"date in UTC without offset", wordpress.PostInput{DateGMT: &when}, `{"date_gmt":"2026-05-01T09:00:00"}`},
		{"terms and media", wordpress.PostInput{Categories: []int64{1, 2}, Tags: []int64{3}, FeaturedMedia: &seven},
			`{"categories":[1,2],"featured_media":7,"tags":[3]}`},
		{"empty lists and media 0 clear", wordpress.PostInput{Categories: []int64{}, Tags: []int64{}, FeaturedMedia: &zero},
			`{"categories":[],"featured_media":0,"tags":[]}`},
		{"meta", wordpress.PostInput{Meta: map[string]string{"rank_math_title": "X"}}, `{"meta":{"rank_math_title":"X"}}`},
	}
	for _, tt := range tests {
		got, err := json.Marshal(tt.in)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if string(got) != tt.want {
			t.Errorf("%s: got %s, want %s", tt.name, got, tt.want)
		}
	}
}

func TestPostLifecycle(t *testing.T) {
	t.Parallel()
	srv, c := newClient(t, fakewp.Config{RegisteredMeta: []string{"rank_math_title"}})
	ctx := context.Background()
	media, err := c.UploadMedia(ctx, wordpress.MediaInput{Filename: "cover.png", ContentType: "image/png", Data: pngBytes(t)})
	if err != nil {
		t.Fatalf("UploadMedia: %v", err)
	}
	cat := srv.AddTerm("categories", "News", "")
	when := time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)
	in := wordpress.PostInput{
		Title: "Trail shoes", Content: "<p>Grip matters.</p>", Excerpt: "Grip.", Slug: "trail-shoes", Status: "draft",
		DateGMT: &when, Categories: []int64{cat}, FeaturedMedia: &media.ID,
		Meta: map[string]string{"rank_math_title": "Shoes", "_yoast_wpseo_title": "Dropped"},
	}
	created, err := c.CreatePost(ctx, in)
	if err != nil {
		t.Fatalf("CreatePost: %v", err)
	}
	want := wordpress.Post{
		ID: created.ID, Slug: "trail-shoes", Link: created.Link, Status: "draft", Title: "Trail shoes",
		Content: "<p>Grip matters.</p>", Excerpt: "Grip.", DateGMT: "2026-05-01T09:00:00", FeaturedMedia: media.ID,
		Categories: []int64{cat}, Tags: []int64{}, Meta: map[string]any{"rank_math_title": "Shoes"},
	}
	if diff := cmp.Diff(want, created); diff != "" {
		t.Errorf("CreatePost (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"_yoast_wpseo_title"}, created.DroppedMeta(in)); diff != "" {
		t.Errorf("DroppedMeta (-want +got):\n%s", diff)
	}
	last := srv.Requests()[len(srv.Requests())-1]
	if last.Query.Get("context") != "edit" || last.Header.Get("Content-Type") != "application/json" {
		t.Errorf("create sent query %v and Content-Type %q", last.Query, last.Header.Get("Content-Type"))
	}

	published, err := c.UpdatePost(ctx, created.ID, wordpress.PostInput{Status: "publish"})
	if err != nil {
		t.Fatalf("UpdatePost: %v", err)
	}
	want.Status = "publish"
	if diff := cmp.Diff(want, published, cmpopts.IgnoreFields(wordpress.Post{}, "Link")); diff != "" {
		t.Errorf("UpdatePost (-want +got):\n%s", diff)
	}
	var body map[string]any
	_ = json.Unmarshal(srv.Requests()[len(srv.Requests())-1].Body, &body)
	if diff := cmp.Diff(map[string]any{"status": "publish"}, body); diff != "" {
		t.Errorf("update body (-want +got):\n%s", diff)
	}

	got, err := c.GetPost(ctx, created.ID)
	if err != nil {
		t.Fatalf("GetPost: %v", err)
	}
	if diff := cmp.Diff(published, got); diff != "" {
		t.Errorf("GetPost (-want +got):\n%s", diff)
	}
	found, err := c.SearchPosts(ctx, "trail")
	if err != nil || len(found) != 1 || found[0].ID != created.ID {
		t.Errorf("SearchPosts = %+v, %v; want the post", found, err)
	}
	q := srv.Requests()[len(srv.Requests())-1].Query
	for k, v := range map[string]string{"search": "trail", "status": "any", "context": "edit", "per_page": "100"} {
		if q.Get(k) != v {
			t.Errorf("SearchPosts sent %s=%q, want %q", k, q.Get(k), v)
		}
	}
}

func TestPostsBySlugFindsDrafts(t *testing.T) {
	t.Parallel()
	_, c := newClient(t, fakewp.Config{})
	ctx := context.Background()
	for range 2 {
		if _, err := c.CreatePost(ctx, wordpress.PostInput{Title: "Same", Slug: "same", Status: "draft"}); err != nil {
			t.Fatalf("CreatePost: %v", err)
		}
	}
	found, err := c.PostsBySlug(ctx, "same")
	if err != nil || len(found) != 2 {
		t.Fatalf("PostsBySlug = %d posts, %v; want both drafts", len(found), err)
	}
	p, err := c.UpdatePost(ctx, found[1].ID, wordpress.PostInput{Status: "publish"})
	if err != nil {
		t.Fatalf("UpdatePost: %v", err)
	}
	if p.Slug != "same" {
		t.Errorf("first published slug = %q", p.Slug)
	}
	p, err = c.UpdatePost(ctx, found[0].ID, wordpress.PostInput{Status: "publish"})
	if err != nil || p.Slug != "same-2" {
		t.Errorf("second published slug = %q, %v; want same-2", p.Slug, err)
	}
}

func TestPostsListPages(t *testing.T) {
	t.Parallel()
	_, c := newClient(t, fakewp.Config{})
	ctx := context.Background()
	for range 105 {
		if _, err := c.CreatePost(ctx, wordpress.PostInput{Title: "Many", Status: "draft"}); err != nil {
			t.Fatalf("CreatePost: %v", err)
		}
	}
	found, err := c.SearchPosts(ctx, "many")
	if err != nil || len(found) != 105 {
		t.Fatalf("SearchPosts = %d posts, %v; want 105 over two pages", len(found), err)
	}
}

func TestGetPostMissing(t *testing.T) {
	t.Parallel()
	_, c := newClient(t, fakewp.Config{})
	_, err := c.GetPost(context.Background(), 12345)
	var se *wordpress.StatusError
	if !errors.Is(err, errs.ErrNotFound) || !errors.As(err, &se) || se.Code != "rest_post_invalid_id" {
		t.Fatalf("GetPost = %v, want ErrNotFound with rest_post_invalid_id", err)
	}
}

func TestCreatePostRefused(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		cfg  fakewp.Config
		in   wordpress.PostInput
		want func(error) bool
	}{
		{"bad status", fakewp.Config{}, wordpress.PostInput{Title: "T", Status: "live"}, func(err error) bool {
			var fe *wordpress.FieldError
			return errors.As(err, &fe) && fe.Params["status"] != "" && fe.Code == "rest_invalid_param"
		}},
		{"anonymous", fakewp.Config{IgnorePassword: true}, wordpress.PostInput{Title: "T"}, func(err error) bool {
			var ae *wordpress.AuthError
			return errors.As(err, &ae) && ae.Anonymous()
		}},
		{"contributor publishing", fakewp.Config{Caps: []string{"edit_posts"}}, wordpress.PostInput{Title: "T", Status: "publish"}, func(err error) bool {
			var ae *wordpress.AuthError
			return errors.As(err, &ae) && ae.Status == http.StatusForbidden
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := fakewp.New(t, tt.cfg)
			c := wordpress.New(srv.Client(), creds(srv.SiteURL()), wordpress.StylePretty)
			_, err := c.CreatePost(context.Background(), tt.in)
			if !tt.want(err) || !errors.Is(err, errs.ErrPermanent) {
				t.Fatalf("CreatePost = %v", err)
			}
			noSecrets(t, err)
		})
	}
}
