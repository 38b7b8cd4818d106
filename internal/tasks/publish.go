package tasks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/presswork/presswork/internal/ai"
	"github.com/presswork/presswork/internal/errs"
	"github.com/presswork/presswork/internal/secret"
	"github.com/presswork/presswork/internal/store"
	"github.com/presswork/presswork/internal/wordpress"
)

// WordPress post statuses a publish may ask for.
const (
	PostDraft   = "draft"
	PostPublish = "publish"
	PostFuture  = "future"
)

// PublishParams are the options of a post:publish job.
type PublishParams struct {
	// Status is the post's final status: draft, publish or future.
	Status string `json:"status"`
	// PublishAt is the UTC time of a future post.
	PublishAt *time.Time `json:"publish_at,omitempty"`
}

// Phases of a publish job.
const (
	phasePublishMedia = "uploading_media"
	phasePublishTerms = "resolving_terms"
	phasePublishPost  = "writing_post"
	phasePublishFinal = "setting_status"
)

// publish publishes a draft (the subject) to its site, exactly once. It
// costs no credits.
//
// Only one delivery publishes a draft at a time (a PostgreSQL advisory
// lock). Every WordPress id is stored in PostgreSQL right after the remote
// create, before the next step; a retry finds what it made by the stored
// id, else by the marker every Presswork post and image carries (a search
// of the site), and updates it instead of creating another. The post is
// created as a WordPress draft with everything attached and only then given
// its final status, so that no reader sees it half made.
func (h *Handlers) publish(ctx context.Context, p Payload) error {
	lock, err := h.Store.LockDraft(ctx, p.SubjectID)
	if errors.Is(err, store.ErrLocked) {
		// Another delivery of this job is publishing; it finishes the job.
		h.Log.Info("draft is being published by another delivery", "task_id", p.JobID, "draft_id", p.SubjectID)
		return store.ErrJobFinished
	}
	if err != nil {
		return err
	}
	defer lock.Unlock()
	job, err := h.Store.StartJob(ctx, p.TenantID, p.JobID, 0, phasePublishMedia)
	if err != nil {
		return err
	}
	var params PublishParams
	if err := json.Unmarshal(job.Params, &params); err != nil {
		return errs.Permanent(fmt.Errorf("unreadable publish options: %w", err))
	}
	pub, err := h.newPublisher(ctx, p)
	if err != nil {
		return err
	}
	post, report, err := pub.run(ctx, params)
	if err != nil {
		return pub.classify(ctx, err)
	}
	result := map[string]any{"draft_id": pub.draft.ID, "post_id": post.ID, "status": post.Status,
		"link": store.PostLink(post.Link), "report": report}
	return h.Store.FinishPublish(ctx, outcome(p, job, 0, ai.Usage{}, result), pub.draft.ID,
		store.WPPost{ID: post.ID, Slug: post.Slug, Link: post.Link, Status: post.Status}, report)
}

// publisher publishes one draft.
type publisher struct {
	h      *Handlers
	p      Payload
	draft  store.Draft
	site   store.Site
	images []store.Image
	wp     *wordpress.Client
}

func (h *Handlers) newPublisher(ctx context.Context, p Payload) (*publisher, error) {
	draft, err := h.Store.GetDraft(ctx, p.TenantID, p.SubjectID)
	if err != nil {
		return nil, fmt.Errorf("draft %d: %w", p.SubjectID, err)
	}
	site, err := h.Store.GetSite(ctx, p.TenantID, draft.SiteID)
	if err != nil {
		return nil, fmt.Errorf("site %d: %w", draft.SiteID, err)
	}
	images, err := h.Store.ListImages(ctx, p.TenantID, draft.ID)
	if err != nil {
		return nil, fmt.Errorf("images of draft %d: %w", draft.ID, err)
	}
	wp, err := h.siteClient(ctx, site)
	if err != nil {
		return nil, err
	}
	return &publisher{h: h, p: p, draft: draft, site: site, images: images, wp: wp}, nil
}

// siteClient returns a WordPress client for a site, with its stored REST
// style (discovered on first use otherwise).
func (h *Handlers) siteClient(ctx context.Context, site store.Site) (*wordpress.Client, error) {
	if h.Box == nil {
		return nil, errs.Permanent(errors.New("the worker has no secret key to open site passwords"))
	}
	enc, err := h.Store.SitePassword(ctx, site.TenantID, site.ID)
	if err != nil {
		return nil, err
	}
	password, err := h.Box.Open(enc, secret.SitePasswordAD(site.TenantID))
	if err != nil {
		return nil, errs.Permanent(fmt.Errorf("the site's application password cannot be decrypted: %w", err))
	}
	hc := h.WordPressHTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	creds := wordpress.Credentials{URL: site.URL, User: site.WPUser, AppPassword: string(password)}
	return wordpress.New(hc, creds, wordpress.Style(deref(site.RESTStyle))), nil
}

// run does the remote work and returns the post's final state and the
// report of what WordPress kept.
func (pub *publisher) run(ctx context.Context, params PublishParams) (wordpress.Post, publishReport, error) {
	var report publishReport
	if err := pub.rememberStyle(ctx); err != nil {
		return wordpress.Post{}, report, err
	}
	media, err := pub.uploadImages(ctx)
	if err != nil {
		return wordpress.Post{}, report, err
	}
	if err := pub.h.Store.SetPhase(ctx, pub.p.JobID, phasePublishTerms); err != nil {
		return wordpress.Post{}, report, err
	}
	in, err := pub.postInput(ctx, media)
	if err != nil {
		return wordpress.Post{}, report, err
	}
	if err := pub.h.Store.SetPhase(ctx, pub.p.JobID, phasePublishPost); err != nil {
		return wordpress.Post{}, report, err
	}
	post, err := pub.writePost(ctx, in)
	if err != nil {
		return wordpress.Post{}, report, err
	}
	report.SEO = checkSEO(pub.site.SEOPlugin, in, post)
	if err := pub.h.Store.SetPhase(ctx, pub.p.JobID, phasePublishFinal); err != nil {
		return wordpress.Post{}, report, err
	}
	post, err = pub.finalStatus(ctx, post, params)
	if err != nil {
		return wordpress.Post{}, report, err
	}
	report.Status = post.Status
	return post, report, nil
}

// rememberStyle discovers the site's REST style if it is not stored yet and
// stores it.
func (pub *publisher) rememberStyle(ctx context.Context) error {
	if pub.site.RESTStyle != nil {
		return nil
	}
	style, err := pub.wp.Discover(ctx)
	if err != nil {
		return err
	}
	return pub.h.Store.RememberRESTStyle(ctx, pub.p.TenantID, pub.site.ID, string(style))
}

// uploadImages makes sure every ready image of the draft is in the site's
// media library and returns them by image id.
func (pub *publisher) uploadImages(ctx context.Context) (map[int64]wordpress.Media, error) {
	out := make(map[int64]wordpress.Media)
	for _, img := range pub.images {
		if img.State != store.ImageReady || (img.Role == store.ImageRoleInline && img.Position > pub.site.InlineImages) {
			continue // not made yet, or more in-article images than the site now asks for
		}
		m, err := pub.ensureMedia(ctx, img)
		if err != nil {
			return nil, fmt.Errorf("image %d: %w", img.ID, err)
		}
		out[img.ID] = m
	}
	return out, nil
}

// ensureMedia finds the image's media item (stored id, else its name on
// the site) and updates its texts, or uploads it and stores the id at once.
func (pub *publisher) ensureMedia(ctx context.Context, img store.Image) (wordpress.Media, error) {
	name := pub.mediaName(img)
	caption := img.AltText
	found, err := pub.findMedia(ctx, img, name)
	if err != nil {
		return wordpress.Media{}, err
	}
	if found != nil {
		if found.AltText == img.AltText && found.Caption != "" {
			return *found, nil
		}
		return pub.wp.UpdateMedia(ctx, found.ID, name, img.AltText, caption)
	}
	contentType, data, err := pub.h.Store.ImageContentByID(ctx, pub.p.TenantID, img.ID)
	if err != nil {
		return wordpress.Media{}, err
	}
	m, err := pub.wp.UploadMedia(ctx, wordpress.MediaInput{Filename: name + extension(contentType),
		ContentType: contentType, Data: data, Title: name, AltText: img.AltText, Caption: caption})
	if err != nil {
		return wordpress.Media{}, err
	}
	if err := pub.recordMedia(ctx, img.ID, m.ID); err != nil {
		return wordpress.Media{}, err
	}
	return m, nil
}

// findMedia returns the image's media item on the site: by stored id, else
// by name (an upload whose id was never stored), or nil.
func (pub *publisher) findMedia(ctx context.Context, img store.Image, name string) (*wordpress.Media, error) {
	if img.WPMediaID != nil {
		m, err := pub.wp.GetMedia(ctx, *img.WPMediaID)
		if err == nil {
			return &m, nil
		}
		if !errors.Is(err, errs.ErrNotFound) {
			return nil, err
		}
		// Deleted in WordPress: upload it again.
		if err := pub.recordMedia(ctx, img.ID, 0); err != nil {
			return nil, err
		}
		return nil, nil
	}
	items, err := pub.wp.SearchMedia(ctx, name)
	if err != nil {
		return nil, err
	}
	for _, m := range items {
		if m.Title == name {
			if err := pub.recordMedia(ctx, img.ID, m.ID); err != nil {
				return nil, err
			}
			return &m, nil
		}
	}
	return nil, nil
}

// recordMedia stores a media id on a context that outlives the job's, so
// that an id WordPress gave is not lost to a timeout.
func (pub *publisher) recordMedia(ctx context.Context, imageID, mediaID int64) error {
	bg, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	return pub.h.Store.RecordMedia(bg, pub.p.TenantID, imageID, mediaID)
}

// mediaName is an image's file name without extension and its title in the
// media library: unique per draft and image, so a retry can find it.
func (pub *publisher) mediaName(img store.Image) string {
	if img.Role == store.ImageRoleFeatured {
		return fmt.Sprintf("%s-featured", pub.marker())
	}
	return fmt.Sprintf("%s-inline-%d", pub.marker(), img.Position)
}

// DraftMarker names a draft in everything Presswork puts on its site: the
// post body carries it in an HTML comment (DraftMarkerComment), media
// carry it in their titles. A search of the site for it finds what a lost
// reply hid.
func DraftMarker(draftID int64) string { return fmt.Sprintf("presswork-draft-%d", draftID) }

// DraftMarkerComment is the comment a draft's post body ends with.
func DraftMarkerComment(draftID int64) string { return "<!-- " + DraftMarker(draftID) + " -->" }

func (pub *publisher) marker() string { return DraftMarker(pub.draft.ID) }

func (pub *publisher) markerComment() string { return DraftMarkerComment(pub.draft.ID) }

func extension(contentType string) string {
	switch contentType {
	case "image/jpeg":
		return ".jpg"
	case "image/webp":
		return ".webp"
	case "image/gif":
		return ".gif"
	}
	return ".png"
}

// postInput builds the post's fields: the sanitized body with the inline
// images after their headings, the terms by id, the featured image and the
// SEO plugin's fields.
func (pub *publisher) postInput(ctx context.Context, media map[int64]wordpress.Media) (wordpress.PostInput, error) {
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
func (pub *publisher) termNames(ctx context.Context) (categories, tags []string, err error) {
	categories, tags = pub.draft.Categories, pub.draft.Tags
	if len(categories) == 0 {
		categories = pub.site.DefaultCategories
	}
	if len(categories) == 0 {
		name, err := pub.h.Store.DraftClusterName(ctx, pub.p.TenantID, pub.draft.ID)
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

func (pub *publisher) termIDs(ctx context.Context, tax wordpress.Taxonomy, names []string) ([]int64, error) {
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

// content is the post body: the sanitized draft with each inline image
// after its heading, and the draft's marker.
func (pub *publisher) content(media map[int64]wordpress.Media) string {
	body := ai.SanitizeHTML(pub.draft.BodyHTML)
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
		body = ai.AfterH2(body, func(heading string) string {
			fig := figures[heading]
			delete(figures, heading) // once per heading
			return fig
		})
	}
	return body + "\n" + pub.markerComment()
}

// seoKeys are the post meta keys of the SEO plugins: title, description,
// focus keyword.
var seoKeys = map[string][3]string{
	"yoast":    {"_yoast_wpseo_title", "_yoast_wpseo_metadesc", "_yoast_wpseo_focuskw"},
	"rankmath": {"rank_math_title", "rank_math_description", "rank_math_focus_keyword"},
}

func seoFields(plugin string, d store.Draft) map[string]string {
	keys, ok := seoKeys[plugin]
	if !ok {
		return nil
	}
	return map[string]string{keys[0]: d.MetaTitle, keys[1]: d.MetaDescription, keys[2]: d.FocusKeyword}
}

// publishReport says what a publish sent and what WordPress kept.
type publishReport struct {
	Status string     `json:"status"`
	SEO    *seoReport `json:"seo,omitempty"`
}

// seoReport lists the SEO fields WordPress kept and those it dropped
// (unregistered meta keys are dropped silently).
type seoReport struct {
	Plugin  string   `json:"plugin"`
	Kept    []string `json:"kept"`
	Dropped []string `json:"dropped"`
}

func checkSEO(plugin string, sent wordpress.PostInput, got wordpress.Post) *seoReport {
	if len(sent.Meta) == 0 {
		return nil
	}
	dropped := got.DroppedMeta(sent)
	r := &seoReport{Plugin: plugin, Kept: []string{}, Dropped: []string{}}
	for _, key := range seoKeys[plugin] { // in the plugin's order
		if slices.Contains(dropped, key) {
			r.Dropped = append(r.Dropped, key)
		} else {
			r.Kept = append(r.Kept, key)
		}
	}
	return r
}

// writePost updates the draft's post (stored id, else found by its marker)
// or creates it as a WordPress draft, storing its id at once. A live post
// keeps its status while it is updated.
func (pub *publisher) writePost(ctx context.Context, in wordpress.PostInput) (wordpress.Post, error) {
	existing, err := pub.findPost(ctx)
	if err != nil {
		return wordpress.Post{}, err
	}
	if existing == nil {
		in.Status = PostDraft
		post, err := pub.wp.CreatePost(ctx, in)
		if err != nil {
			return wordpress.Post{}, err
		}
		return post, pub.recordPost(ctx, post)
	}
	in.Status = existing.Status
	if in.Status != PostPublish && in.Status != PostFuture && in.Status != "private" {
		in.Status = PostDraft
	}
	return pub.wp.UpdatePost(ctx, existing.ID, in)
}

// findPost returns the draft's post on the site: by stored id, else by the
// marker in its body (a create whose reply was lost), or nil.
func (pub *publisher) findPost(ctx context.Context) (*wordpress.Post, error) {
	if id := pub.draft.WPPostID; id != nil {
		post, err := pub.wp.GetPost(ctx, *id)
		if err == nil {
			return &post, nil
		}
		if !errors.Is(err, errs.ErrNotFound) {
			return nil, err
		}
		// Deleted in WordPress (or trashed and emptied): publish anew.
		pub.h.Log.Info("the draft's post is gone from the site; creating it again",
			"task_id", pub.p.JobID, "draft_id", pub.draft.ID, "post_id", *id)
		if err := pub.h.Store.ForgetPost(ctx, pub.p.TenantID, pub.draft.ID, *id); err != nil {
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

func (pub *publisher) recordPost(ctx context.Context, post wordpress.Post) error {
	bg, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	return pub.h.Store.RecordPost(bg, pub.p.TenantID, pub.draft.ID,
		store.WPPost{ID: post.ID, Slug: post.Slug, Link: post.Link, Status: post.Status})
}

// finalStatus gives the complete post the status asked for. A future time
// already past publishes now.
func (pub *publisher) finalStatus(ctx context.Context, post wordpress.Post, params PublishParams) (wordpress.Post, error) {
	want := wordpress.PostInput{Status: params.Status}
	if params.Status == PostFuture {
		if params.PublishAt == nil || !params.PublishAt.After(time.Now().Add(time.Minute)) {
			want.Status = PostPublish
		} else {
			at := params.PublishAt.UTC()
			want.DateGMT = &at
		}
	}
	if want.Status == post.Status && want.DateGMT == nil {
		return post, nil
	}
	updated, err := pub.wp.UpdatePost(ctx, post.ID, want)
	if err != nil {
		return wordpress.Post{}, err
	}
	if updated.Status != want.Status {
		return wordpress.Post{}, errs.Permanent(fmt.Errorf("WordPress set the post's status to %q, not %q",
			updated.Status, want.Status))
	}
	return updated, nil
}

// classify turns a WordPress failure into the job's outcome: refused
// credentials mark the site unhealthy and fail the job without retry;
// field errors fail it with WordPress's words; the rest is retried.
func (pub *publisher) classify(ctx context.Context, err error) error {
	var auth *wordpress.AuthError
	if errors.As(err, &auth) {
		reason := auth.Error()
		bg, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if rerr := pub.h.Store.RecordSiteCheck(bg, pub.p.TenantID, pub.site.ID,
			store.SiteCheck{Health: store.HealthUnhealthy, Reason: reason}); rerr != nil {
			pub.h.Log.Warn("recording site health", "site_id", pub.site.ID, "error", rerr)
		}
		return errs.Permanent(fmt.Errorf("publishing to %s failed: %s", pub.site.URL, reason))
	}
	var status *wordpress.StatusError
	if errors.As(err, &status) && errors.Is(err, errs.ErrNotFound) {
		// Not the draft's post or image (their 404s are handled where
		// they are read): a route the site does not serve.
		return errs.Permanent(&remoteError{msg: "WordPress answered 404 Not Found (" + status.Code +
			"): is its REST API enabled at this address?", err: err})
	}
	if errs.IsPermanent(err) || errors.Is(err, errs.ErrNotFound) || errors.Is(err, store.ErrJobFinished) {
		return err
	}
	if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
		return &remoteError{msg: "WordPress did not answer in time (WORDPRESS_TIMEOUT)", err: err}
	}
	var th *errs.ThrottledError
	if errors.As(err, &th) {
		return err
	}
	return &remoteError{msg: "WordPress failed to answer (details in the worker log)", err: err}
}
