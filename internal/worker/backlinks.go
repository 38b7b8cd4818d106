package worker

import (
	"context"
	"errors"
	"fmt"

	"github.com/presswork/presswork/internal/ai"
	"github.com/presswork/presswork/internal/errs"
	"github.com/presswork/presswork/internal/links"
	"github.com/presswork/presswork/internal/store"
	"github.com/presswork/presswork/internal/tasks"
	"github.com/presswork/presswork/internal/wordpress"
)

// Phases of a back-link pass.
const (
	phaseBacklinksPick   = "choosing_posts"
	phaseBacklinksUpdate = "updating_posts"
)

// backlinksStore is what a back-link pass reads and writes.
type backlinksStore interface {
	linkPickStore
	StartJobCosting(ctx context.Context, tenantID int64, jobID string, cost int64, phase string) (store.Job, error)
	SetPhase(ctx context.Context, jobID, phase string) error
	GetDraft(ctx context.Context, tenantID, id int64) (store.Draft, error)
	GetSite(ctx context.Context, tenantID, id int64) (store.Site, error)
	LockDraft(ctx context.Context, draftID int64) (*store.AdvisoryLock, error)
	BacklinksTo(ctx context.Context, tenantID, to int64) ([]store.Backlink, error)
	RecordBacklink(ctx context.Context, tenantID, siteID, from, to, wpPostID int64) error
	FinishJob(ctx context.Context, o store.Outcome) error
}

// Backlinker runs post:backlinks jobs.
type Backlinker struct {
	store  backlinksStore
	sites  *siteClients
	models *Models
	links  *InternalLinks
}

// backlinked is one older post a pass linked to the new one.
type backlinked struct {
	DraftID int64  `json:"draft_id"`
	PostID  int64  `json:"post_id"`
	URL     string `json:"url"`
	Title   string `json:"title"`
	// Found is true when the post had the link already (a pass cut off
	// after the update and before its record): it was only recorded.
	Found bool `json:"found,omitempty"`
}

// Work links the post of a draft just published (the subject) from up to
// Site.Backlinks older Presswork posts of its site, the closest in
// meaning to its title. It costs no credits.
//
// Each older post is linked exactly once, however often the job runs or
// is cut off: the pairs recorded already are skipped (and count towards
// the limit, so a retry chooses no more posts than the first attempt);
// for the others the post is read from WordPress, the link added unless
// it is there already (a pass cut off between the update and its record),
// and the pair recorded only after WordPress stored it.
func (b *Backlinker) Work(ctx context.Context, p tasks.Payload) error {
	job, err := b.store.StartJobCosting(ctx, p.TenantID, p.JobID, 0, phaseBacklinksPick)
	if err != nil {
		return err
	}
	draft, err := b.store.GetDraft(ctx, p.TenantID, p.SubjectID)
	if err != nil {
		return fmt.Errorf("draft %d: %w", p.SubjectID, err)
	}
	site, err := b.store.GetSite(ctx, p.TenantID, draft.SiteID)
	if err != nil {
		return fmt.Errorf("site %d: %w", draft.SiteID, err)
	}
	result := map[string]any{"draft_id": draft.ID, "limit": site.Backlinks, "linked": []backlinked{}, "count": 0}
	if draft.WPLink == nil || draft.WPPostID == nil || draft.WPStatus == nil || *draft.WPStatus != tasks.PostPublish {
		result["skipped"] = "the draft's post is not published"
		return b.store.FinishJob(ctx, outcome(p, job, 0, ai.Usage{}, result))
	}
	if site.Backlinks == 0 {
		result["skipped"] = "the site's back-links are off"
		return b.store.FinishJob(ctx, outcome(p, job, 0, ai.Usage{}, result))
	}
	chosen, done, usage, err := b.choose(ctx, p.TenantID, site, draft)
	if err != nil {
		return err
	}
	if err := b.store.SetPhase(ctx, p.JobID, phaseBacklinksUpdate); err != nil {
		return err
	}
	wp, err := b.sites.open(ctx, site)
	if err != nil {
		return err
	}
	linked, missing := []backlinked{}, []int64{}
	for _, l := range chosen {
		got, err := b.link(ctx, wp, p.TenantID, site.ID, draft, l)
		if errors.Is(err, errs.ErrNotFound) {
			missing = append(missing, l.WPID) // deleted from the site since the inventory was read
			continue
		}
		if err != nil {
			return classifyBacklink(err)
		}
		linked = append(linked, got)
	}
	result["linked"], result["count"], result["recorded_before"] = linked, len(linked)+done, done
	if len(missing) > 0 {
		result["missing_posts"] = missing
	}
	return b.store.FinishJob(ctx, outcome(p, job, 0, usage, result))
}

// choose returns the inventory's posts to link from now: of the site's
// older Presswork posts (never the draft's own) not yet linked to it, the
// closest to its title, as many as the limit leaves after those recorded
// (done).
func (b *Backlinker) choose(ctx context.Context, tenantID int64, site store.Site, draft store.Draft) (
	[]store.Link, int, ai.Usage, error) {
	recorded, err := b.store.BacklinksTo(ctx, tenantID, draft.ID)
	if err != nil {
		return nil, 0, ai.Usage{}, fmt.Errorf("back-links of draft %d: %w", draft.ID, err)
	}
	left := site.Backlinks - len(recorded)
	if left <= 0 {
		return nil, len(recorded), ai.Usage{}, nil
	}
	skip := map[int64]bool{draft.ID: true}
	for _, r := range recorded {
		skip[r.FromDraftID] = true
	}
	inv, err := b.store.SiteLinks(ctx, tenantID, site.ID)
	if err != nil {
		return nil, 0, ai.Usage{}, fmt.Errorf("link inventory of site %d: %w", site.ID, err)
	}
	byKey := map[string]store.Link{}
	var older []store.Link
	for _, l := range inv {
		if l.Source != store.LinkPresswork || l.Kind != "post" || l.DraftID == nil || skip[*l.DraftID] {
			continue
		}
		if k, ok := links.Key(l.URL, nil); ok {
			older = append(older, l)
			byKey[k] = l
		}
	}
	if len(older) == 0 {
		return nil, len(recorded), ai.Usage{}, nil
	}
	embedder, err := b.models.EmbedderFor(ctx, tenantID)
	if err != nil {
		return nil, 0, ai.Usage{}, err
	}
	if embedder == nil {
		return nil, 0, ai.Usage{}, errs.Permanent(errors.New("no embedding model is configured to find the closest posts"))
	}
	closest, usage, err := b.links.closest(ctx, tenantID, site.ID, embedder, draft.Title, older, *draft.WPLink, left)
	if err != nil {
		return nil, 0, usage, err
	}
	out := make([]store.Link, 0, len(closest))
	for _, e := range closest {
		k, _ := links.Key(e.URL, nil)
		out = append(out, byKey[k])
	}
	return out, len(recorded), usage, nil
}

// link adds the link to the new post to the older post l unless it has
// one, then records the pair. It holds the older draft's publish lock
// meanwhile: two passes (for two new posts) that chose the same older post,
// or a republish of it, would otherwise each write what they read and drop
// the other's change.
func (b *Backlinker) link(ctx context.Context, wp *wordpress.Client, tenantID, siteID int64, draft store.Draft,
	l store.Link) (backlinked, error) {
	target := *draft.WPLink
	got := backlinked{DraftID: *l.DraftID, PostID: l.WPID, URL: l.URL, Title: l.Title}
	lock, err := b.store.LockDraft(ctx, *l.DraftID)
	if errors.Is(err, store.ErrLocked) {
		return got, fmt.Errorf("the post of draft %d is being changed by another job; tried again later", *l.DraftID)
	}
	if err != nil {
		return got, err
	}
	defer lock.Unlock()
	post, err := wp.GetPost(ctx, l.WPID)
	if err != nil {
		return got, err
	}
	if links.LinksTo(post.Content, target) {
		got.Found = true
	} else {
		body := links.AddRelated(post.Content, target, draft.Title, tasks.DraftMarkerComment(*l.DraftID))
		if _, err := wp.UpdatePost(ctx, l.WPID, wordpress.PostInput{Content: body}); err != nil {
			return got, err
		}
	}
	if err := b.store.RecordBacklink(ctx, tenantID, siteID, *l.DraftID, draft.ID, l.WPID); err != nil {
		return got, err
	}
	return got, nil
}

// classifyBacklink fails without retry what no waiting heals (refused
// credentials, a permanent failure); the rest is retried.
func classifyBacklink(err error) error {
	var auth *wordpress.AuthError
	if errors.As(err, &auth) {
		return errs.Permanent(errs.WithCode(errs.CodeAuthRejected, "WordPress refused the site's credentials: "+auth.Error(), err))
	}
	return err
}
