package worker

import (
	"context"
	"errors"
	"fmt"
	"html"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/presswork/presswork/internal/errs"
	"github.com/presswork/presswork/internal/markup"
	"github.com/presswork/presswork/internal/store"
	"github.com/presswork/presswork/internal/tasks"
	"github.com/presswork/presswork/internal/wordpress"
)

// postInput builds the post's fields: the sanitized body with the inline
// images after their headings, the terms by id, the featured image and the
// SEO plugin's fields.
func (pub *publication) postInput(ctx context.Context, media map[int64]wordpress.Media) (wordpress.PostInput, error) {
	categories, tags, err := pub.termNames(ctx)
	if err != nil {
		return wordpress.PostInput{}, err
	}
	in := wordpress.PostInput{Title: pub.draft.Title, Excerpt: pub.draft.Excerpt, Slug: pub.draft.Slug,
		Content: pub.content(media), Meta: seoFields(pub.site.SEOPlugin, pub.draft)}
	if in.Categories, err = pub.termIDs(ctx, wordpress.Taxonomy("categories"), categories); err != nil {
		return wordpress.PostInput{}, err
	}
	if in.Tags, err = pub.termIDs(ctx, wordpress.Taxonomy("tags"), tags); err != nil {
		return wordpress.PostInput{}, err
	}
	for _, img := range pub.images {
		if m, ok := media[img.ID]; ok && img.Role == store.ImageRoleFeatured {
			in.FeaturedMedia = &m.ID
		}
	}
	return in, nil
}

// termNames are the draft's categories and tags, else the site's default
// categories or the draft's cluster, and the draft's focus keyword.
func (pub *publication) termNames(ctx context.Context) (categories, tags []string, err error) {
	categories, tags = pub.draft.Categories, pub.draft.Tags
	if len(categories) == 0 {
		categories = pub.site.DefaultCategories
	}
	if len(categories) == 0 {
		name, err := pub.w.store.DraftClusterName(ctx, pub.p.TenantID, pub.draft.ID)
		if err != nil && !errors.Is(err, errs.ErrNotFound) {
			return nil, nil, err
		}
		if name != "" {
			categories = []string{name}
		}
	}
	if len(tags) == 0 && pub.draft.FocusKeyword != "" {
		tags = []string{pub.draft.FocusKeyword}
	}
	return categories, tags, nil
}

func (pub *publication) termIDs(ctx context.Context, tax wordpress.Taxonomy, names []string) ([]int64, error) {
	ids := make([]int64, 0, len(names))
	for _, name := range names {
		id, err := pub.wp.EnsureTerm(ctx, tax, name)
		if err != nil {
			return nil, fmt.Errorf("%s %q: %w", tax, name, err)
		}
		if !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	return ids, nil
}

// content is the post body: the draft sanitized for the site (links to
// the site's own host stay followed) with each inline image after its
// heading, and the draft's marker.
func (pub *publication) content(media map[int64]wordpress.Media) string {
	body := markup.SanitizeForSite(pub.draft.BodyHTML, siteHost(pub.site.URL))
	figures := make(map[string]string) // heading text -> figure
	for _, img := range pub.images {
		m, ok := media[img.ID]
		if !ok || img.Role != store.ImageRoleInline {
			continue
		}
		figures[img.Heading] += fmt.Sprintf("\n<figure class=\"wp-block-image\"><img src=\"%s\" alt=\"%s\" class=\"wp-image-%d\"/></figure>",
			html.EscapeString(m.SourceURL), html.EscapeString(img.AltText), m.ID)
	}
	if len(figures) > 0 {
		body = markup.AfterH2(body, func(heading string) string {
			fig := figures[heading]
			delete(figures, heading) // once per heading
			return fig
		})
	}
	return body + pub.faqSchema() + "\n" + pub.markerComment()
}

// siteHost is the host (with its port, if any) of the site URL siteURL,
// "" if it does not parse.
func siteHost(siteURL string) string {
	u, err := url.Parse(siteURL)
	if err != nil {
		return ""
	}
	return u.Host
}

// writePost updates the draft's post (stored id, else found by its marker)
// or creates it as a WordPress draft, storing its id at once. A live post
// keeps its status while it is updated.
func (pub *publication) writePost(ctx context.Context, in wordpress.PostInput) (wordpress.Post, error) {
	existing, err := pub.findPost(ctx)
	if err != nil {
		return wordpress.Post{}, err
	}
	if existing == nil {
		in.Status = tasks.PostDraft
		post, err := pub.wp.CreatePost(ctx, in)
		if err != nil {
			return wordpress.Post{}, err
		}
		return post, pub.recordPost(ctx, post)
	}
	in.Status = existing.Status
	if in.Status != tasks.PostPublish && in.Status != tasks.PostFuture && in.Status != "private" {
		in.Status = tasks.PostDraft
	}
	return pub.wp.UpdatePost(ctx, existing.ID, in)
}

// findPost returns the draft's post on the site: by stored id, else by the
// marker in its body (a create whose reply was lost), or nil.
func (pub *publication) findPost(ctx context.Context) (*wordpress.Post, error) {
	if id := pub.draft.WPPostID; id != nil {
		post, err := pub.wp.GetPost(ctx, *id)
		if err == nil {
			return &post, nil
		}
		if !errors.Is(err, errs.ErrNotFound) {
			return nil, err
		}
		// Deleted in WordPress (or trashed and emptied): publish anew.
		pub.w.log.Info("the draft's post is gone from the site; creating it again",
			"task_id", pub.p.JobID, "draft_id", pub.draft.ID, "post_id", *id)
		if err := pub.w.store.ForgetPost(ctx, pub.p.TenantID, pub.draft.ID, *id); err != nil {
			return nil, err
		}
	}
	posts, err := pub.wp.SearchPosts(ctx, pub.marker())
	if err != nil {
		return nil, err
	}
	for _, post := range posts {
		if strings.Contains(post.Content, pub.markerComment()) {
			return &post, pub.recordPost(ctx, post)
		}
	}
	return nil, nil
}

func (pub *publication) recordPost(ctx context.Context, post wordpress.Post) error {
	bg, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	return pub.w.store.RecordPost(bg, pub.p.TenantID, pub.draft.ID,
		store.WPPost{ID: post.ID, Slug: post.Slug, Link: post.Link, Status: post.Status})
}
