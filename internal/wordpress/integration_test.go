package wordpress_test

import (
	"context"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/presswork/presswork/internal/wordpress"
)

// TestIntegration runs the client against the real WordPress named by
// PRESSWORK_WP_URL, PRESSWORK_WP_USER and PRESSWORK_WP_APP_PASSWORD. It
// leaves a published post, a media item and two terms on that site, all
// named with a unique run id.
func TestIntegration(t *testing.T) {
	site := os.Getenv("PRESSWORK_WP_URL")
	if site == "" {
		t.Skip("PRESSWORK_WP_URL is not set; set it with PRESSWORK_WP_USER and PRESSWORK_WP_APP_PASSWORD to run against a real WordPress")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c := wordpress.New(&http.Client{Timeout: 30 * time.Second}, wordpress.Credentials{
		URL: site, User: os.Getenv("PRESSWORK_WP_USER"), AppPassword: os.Getenv("PRESSWORK_WP_APP_PASSWORD"),
	}, "")
	run := time.Now().UTC().Format("20060102150405.000000")
	run = run[:14] + run[15:]

	res, err := c.Check(ctx)
	if err != nil || !res.Healthy {
		t.Fatalf("Check = %+v, %v; want healthy", res, err)
	}
	t.Logf("style %s, user %s", res.Style, res.User)

	cat := ensureTwice(ctx, t, c, wordpress.Categories, "Presswork Cat "+run)
	tag := ensureTwice(ctx, t, c, wordpress.Tags, "Presswork & Tag "+run)

	media, err := c.UploadMedia(ctx, wordpress.MediaInput{
		Filename: "Presswork café " + run + ".png", ContentType: "image/png", Data: pngBytes(t),
		Title: "Presswork image " + run, AltText: "A red line", Caption: "Made by a test",
	})
	if err != nil {
		t.Fatalf("UploadMedia: %v", err)
	}
	if media.ID <= 0 || media.AltText != "A red line" || media.Caption != "Made by a test" || media.MimeType != "image/png" {
		t.Errorf("UploadMedia = %+v", media)
	}

	slug := "presswork-test-" + run
	title := "Presswork test " + run
	in := wordpress.PostInput{
		Title: title, Content: "<p>Written by the integration test.</p>", Excerpt: "Test.", Slug: slug, Status: "draft",
		Categories: []int64{cat}, Tags: []int64{tag}, FeaturedMedia: &media.ID,
		Meta: map[string]string{"rank_math_title": "Not registered"},
	}
	draft, err := c.CreatePost(ctx, in)
	if err != nil {
		t.Fatalf("CreatePost: %v", err)
	}
	if draft.Status != "draft" || draft.Slug != slug || draft.Title != title || draft.FeaturedMedia != media.ID {
		t.Errorf("CreatePost = %+v", draft)
	}
	t.Logf("dropped meta: %v", draft.DroppedMeta(in))
	bySlug, err := c.PostsBySlug(ctx, slug)
	if err != nil || len(bySlug) != 1 || bySlug[0].ID != draft.ID {
		t.Errorf("PostsBySlug(draft) = %+v, %v", bySlug, err)
	}

	published, err := c.UpdatePost(ctx, draft.ID, wordpress.PostInput{Status: "publish"})
	if err != nil {
		t.Fatalf("UpdatePost: %v", err)
	}
	if published.Status != "publish" || published.Link == "" {
		t.Errorf("UpdatePost = %+v", published)
	}

	got, err := c.GetPost(ctx, draft.ID)
	if err != nil {
		t.Fatalf("GetPost: %v", err)
	}
	if got.Status != "publish" || got.Title != title || got.FeaturedMedia != media.ID ||
		len(got.Categories) != 1 || got.Categories[0] != cat || len(got.Tags) != 1 || got.Tags[0] != tag {
		t.Errorf("GetPost = %+v; want published with media %d, category %d, tag %d", got, media.ID, cat, tag)
	}

	found, err := c.SearchPosts(ctx, run)
	if err != nil {
		t.Fatalf("SearchPosts: %v", err)
	}
	if len(found) != 1 || found[0].ID != draft.ID {
		t.Errorf("SearchPosts(%q) = %d posts, want the one created", run, len(found))
	}
}

// ensureTwice ensures a term twice and checks both give the same id.
func ensureTwice(ctx context.Context, t *testing.T, c *wordpress.Client, tax wordpress.Taxonomy, name string) int64 {
	t.Helper()
	first, err := c.EnsureTerm(ctx, tax, name)
	if err != nil {
		t.Fatalf("EnsureTerm(%s, %q): %v", tax, name, err)
	}
	second, err := c.EnsureTerm(ctx, tax, name)
	if err != nil || second != first {
		t.Fatalf("second EnsureTerm(%s, %q) = %d, %v; want %d", tax, name, second, err, first)
	}
	return first
}
