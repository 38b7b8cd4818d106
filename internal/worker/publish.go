package worker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/presswork/presswork/internal/ai"
	"github.com/presswork/presswork/internal/errs"
	"github.com/presswork/presswork/internal/markup"
	"github.com/presswork/presswork/internal/store"
	"github.com/presswork/presswork/internal/tasks"
	"github.com/presswork/presswork/internal/wordpress"
)

// Phases of a publish job.
const (
	phasePublishMedia = "uploading_media"
	phasePublishTerms = "resolving_terms"
	phasePublishPost  = "writing_post"
	phasePublishFinal = "setting_status"
)

// publishStore is what the publish stage reads and writes.
type publishStore interface {
	LockDraft(ctx context.Context, draftID int64) (*store.AdvisoryLock, error)
	StartJobCosting(ctx context.Context, tenantID int64, jobID string, cost int64, phase string) (store.Job, error)
	SetPhase(ctx context.Context, jobID, phase string) error
	GetDraft(ctx context.Context, tenantID, id int64) (store.Draft, error)
	GetSite(ctx context.Context, tenantID, id int64) (store.Site, error)
	ListImages(ctx context.Context, tenantID, draftID int64) ([]store.Image, error)
	ImageContentByID(ctx context.Context, tenantID, imageID int64) (contentType string, data []byte, err error)
	RecordMedia(ctx context.Context, tenantID, imageID, mediaID int64) error
	DraftClusterName(ctx context.Context, tenantID, draftID int64) (string, error)
	RecordPost(ctx context.Context, tenantID, draftID int64, p store.WPPost) error
	ForgetPost(ctx context.Context, tenantID, draftID, postID int64) error
	RememberRESTStyle(ctx context.Context, tenantID, id int64, style string) error
	RecordSiteCheck(ctx context.Context, tenantID, id int64, c store.SiteCheck) error
	FinishPublish(ctx context.Context, o store.Outcome, draftID int64, p store.WPPost, report any) error
	RecordPublishFailure(ctx context.Context, tenantID, draftID int64, f store.PublishFailure) error
}

// Publisher runs post:publish jobs.
type Publisher struct {
	store publishStore
	sites *siteClients
	log   *slog.Logger
	links *linkHook // nil: the link inventory is left to its refreshes
}

// Work publishes a draft (the subject) to its site, exactly once. It
// costs no credits.
//
// Only one delivery publishes a draft at a time (a PostgreSQL advisory
// lock). Every WordPress id is stored in PostgreSQL right after the remote
// create, before the next step; a retry finds what it made by the stored
// id, else by the marker every Presswork post and image carries (a search
// of the site), and updates it instead of creating another. The post is
// created as a WordPress draft with everything attached and only then given
// its final status, so that no reader sees it half made.
func (w *Publisher) Work(ctx context.Context, p tasks.Payload) error {
	lock, err := w.store.LockDraft(ctx, p.SubjectID)
	if errors.Is(err, store.ErrLocked) {
		// Another delivery of this job is publishing; it finishes the job.
		w.log.Info("draft is being published by another delivery", "task_id", p.JobID, "draft_id", p.SubjectID)
		return store.ErrJobFinished
	}
	if err != nil {
		return err
	}
	defer lock.Unlock()
	job, err := w.store.StartJobCosting(ctx, p.TenantID, p.JobID, 0, phasePublishMedia)
	if err != nil {
		return err
	}
	var params tasks.PublishParams
	if err := json.Unmarshal(job.Params, &params); err != nil {
		return errs.Permanent(fmt.Errorf("unreadable publish options: %w", err))
	}
	pub, err := w.newPublication(ctx, p)
	if err != nil {
		return err
	}
	post, report, err := pub.run(ctx, params)
	if err != nil {
		return pub.classify(ctx, err)
	}
	result := map[string]any{"draft_id": pub.draft.ID, "post_id": post.ID, "status": post.Status,
		"link": store.PostLink(post.Link), "report": report}
	if err := w.store.FinishPublish(ctx, outcome(p, job, 0, ai.Usage{}, result), pub.draft.ID,
		store.WPPost{ID: post.ID, Slug: post.Slug, Link: post.Link, Status: post.Status}, report); err != nil {
		return err
	}
	if w.links != nil {
		w.links.published(ctx, p, pub.site, post, pub.draft.Title)
	}
	return nil
}

// noteFailure shows a publish job's recorded failure on its draft (the
// subject), in the words and code of the job's: an editor looking at the
// draft sees why it is not published, and whether and when it is tried
// again. A successful publish replaces it (FinishPublish).
func (w *Publisher) noteFailure(ctx context.Context, p tasks.Payload, f store.Failure, final bool) error {
	pf := store.PublishFailure{JobID: p.JobID, Error: f.Message, ErrorCode: f.Code, At: time.Now().UTC(), Final: final}
	if !final {
		pf.RetryAt, pf.RetriesLeft = f.RetryAt, f.RetriesLeft
	}
	if err := w.store.RecordPublishFailure(ctx, p.TenantID, p.SubjectID, pf); err != nil {
		return fmt.Errorf("publish failure of draft %d: %w", p.SubjectID, err)
	}
	return nil
}

// publication is the publish of one draft.
type publication struct {
	w      *Publisher
	p      tasks.Payload
	draft  store.Draft
	site   store.Site
	images []store.Image
	wp     *wordpress.Client
	// faq is the draft's FAQ section, read once.
	faq []markup.QA
	// noScript leaves the FAQ's structured data out of the body: the site
	// removed it from this post once already.
	noScript bool
}

func (w *Publisher) newPublication(ctx context.Context, p tasks.Payload) (*publication, error) {
	draft, err := w.store.GetDraft(ctx, p.TenantID, p.SubjectID)
	if err != nil {
		return nil, fmt.Errorf("draft %d: %w", p.SubjectID, err)
	}
	site, err := w.store.GetSite(ctx, p.TenantID, draft.SiteID)
	if err != nil {
		return nil, fmt.Errorf("site %d: %w", draft.SiteID, err)
	}
	images, err := w.store.ListImages(ctx, p.TenantID, draft.ID)
	if err != nil {
		return nil, fmt.Errorf("images of draft %d: %w", draft.ID, err)
	}
	if err := featuredFailure(site, images); err != nil {
		return nil, err
	}
	wp, err := w.sites.open(ctx, site)
	if err != nil {
		return nil, err
	}
	return &publication{w: w, p: p, draft: draft, site: site, images: images, wp: wp, faq: markup.FAQ(draft.BodyHTML)}, nil
}

// featuredFailure refuses to publish a draft whose featured image failed
// to a site that does not publish without one (Site.PublishWithoutImage).
// A draft with no featured image row, or a pending one, is published
// without it.
func featuredFailure(site store.Site, images []store.Image) error {
	if site.PublishWithoutImage {
		return nil
	}
	for _, img := range images {
		if img.Role == store.ImageRoleFeatured && img.State == store.ImageFailed {
			return errs.Permanent(fmt.Errorf("the featured image of the draft failed (%s): generate it again "+
				"(POST /v1/images/generate) or let the site publish without it (publish_without_image)",
				deref(img.Error)))
		}
	}
	return nil
}

// run does the remote work and returns the post's final state and the
// report of what WordPress kept.
func (pub *publication) run(ctx context.Context, params tasks.PublishParams) (wordpress.Post, publishReport, error) {
	var report publishReport
	if err := pub.rememberStyle(ctx); err != nil {
		return wordpress.Post{}, report, err
	}
	media, err := pub.uploadImages(ctx)
	if err != nil {
		return wordpress.Post{}, report, err
	}
	if err := pub.w.store.SetPhase(ctx, pub.p.JobID, phasePublishTerms); err != nil {
		return wordpress.Post{}, report, err
	}
	in, err := pub.postInput(ctx, media)
	if err != nil {
		return wordpress.Post{}, report, err
	}
	if err := pub.w.store.SetPhase(ctx, pub.p.JobID, phasePublishPost); err != nil {
		return wordpress.Post{}, report, err
	}
	post, err := pub.writePost(ctx, in)
	if err != nil {
		return wordpress.Post{}, report, err
	}
	report.SEO = checkSEO(pub.site.SEOPlugin, in, post)
	if post, report.FAQ, err = pub.keepFAQ(ctx, in, post); err != nil {
		return wordpress.Post{}, report, err
	}
	if err := pub.w.store.SetPhase(ctx, pub.p.JobID, phasePublishFinal); err != nil {
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
func (pub *publication) rememberStyle(ctx context.Context) error {
	if pub.site.RESTStyle != nil {
		return nil
	}
	style, err := pub.wp.Discover(ctx)
	if err != nil {
		return err
	}
	return pub.w.store.RememberRESTStyle(ctx, pub.p.TenantID, pub.site.ID, string(style))
}

// publishReport says what a publish sent and what WordPress kept.
type publishReport struct {
	Status string     `json:"status"`
	SEO    *seoReport `json:"seo,omitempty"`
	FAQ    *faqReport `json:"faq,omitempty"`
}

// finalStatus gives the complete post the status asked for. A future time
// already past publishes now.
func (pub *publication) finalStatus(ctx context.Context, post wordpress.Post, params tasks.PublishParams) (wordpress.Post, error) {
	want := wordpress.PostInput{Status: params.Status}
	if params.Status == tasks.PostFuture {
		if params.PublishAt == nil || !params.PublishAt.After(time.Now().Add(time.Minute)) {
			want.Status = tasks.PostPublish
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

// classify turns a WordPress failure into the job's outcome, with the
// site's health when the failure is the site's (its address, certificate,
// login or REST API, or no answer): refused credentials and reasons no
// waiting heals fail the job without retry; field errors fail it with
// WordPress's words; the rest is retried.
func (pub *publication) classify(ctx context.Context, err error) error {
	var auth *wordpress.AuthError
	if errors.As(err, &auth) {
		reason := auth.Error()
		pub.markUnhealthy(ctx, reason, errs.CodeAuthRejected)
		return errs.Permanent(errs.WithCode(errs.CodeAuthRejected,
			fmt.Sprintf("publishing to %s failed: %s", pub.site.URL, reason), err))
	}
	var status *wordpress.StatusError
	if errors.As(err, &status) && errors.Is(err, errs.ErrNotFound) {
		// Not the draft's post or image (their 404s are handled where
		// they are read): a route the site does not serve.
		reason := "WordPress answered 404 Not Found (" + status.Code + "): is its REST API enabled at this address?"
		pub.markUnhealthy(ctx, reason, errs.CodeRESTDisabled)
		return errs.Permanent(&remoteError{msg: reason, err: errs.WithCode(errs.CodeRESTDisabled, reason, err)})
	}
	if msg, ok := errs.MessageOf(err); ok && siteCodes[errs.CodeOf(err)] {
		reason := "WordPress at " + pub.site.URL + ": " + msg
		pub.markUnhealthy(ctx, reason, errs.CodeOf(err))
		return &remoteError{msg: "Publishing failed: " + reason, err: err}
	}
	if errs.IsPermanent(err) || errors.Is(err, errs.ErrNotFound) || errors.Is(err, store.ErrJobFinished) {
		return err
	}
	if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
		pub.markUnhealthy(ctx, "WordPress did not answer in time", errs.CodeTimeout)
		return &remoteError{msg: "WordPress did not answer in time (WORDPRESS_TIMEOUT)", err: errs.WithCode(errs.CodeTimeout, "timeout", err)}
	}
	var th *errs.ThrottledError
	if errors.As(err, &th) {
		return err
	}
	if errors.As(err, &status) {
		return &remoteError{msg: fmt.Sprintf("WordPress failed to answer (HTTP %d)", status.Status), err: err}
	}
	return &remoteError{msg: "WordPress failed to answer; the worker log has the details under job " + pub.p.JobID, err: err}
}

// siteCodes are the codes of failures that are the site's, not the post's:
// a publish that meets one marks the site unhealthy.
var siteCodes = map[string]bool{
	errs.CodeDNSNotFound: true, errs.CodeTLSInvalid: true, errs.CodeUnreachable: true,
	errs.CodeTimeout: true, errs.CodeRESTDisabled: true, errs.CodeAuthRejected: true,
}

// markUnhealthy records the site unhealthy with a publish's reason; a
// failure to record it is logged, the publish's own failure is what counts.
func (pub *publication) markUnhealthy(ctx context.Context, reason, code string) {
	bg, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := pub.w.store.RecordSiteCheck(bg, pub.p.TenantID, pub.site.ID,
		store.SiteCheck{Health: store.HealthUnhealthy, Reason: reason, Code: code}); err != nil {
		pub.w.log.Warn("recording site health", "site_id", pub.site.ID, "error", err)
	}
}
