package worker

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/presswork/presswork/internal/ai"
	"github.com/presswork/presswork/internal/errs"
	"github.com/presswork/presswork/internal/links"
	"github.com/presswork/presswork/internal/markup"
	"github.com/presswork/presswork/internal/store"
	"github.com/presswork/presswork/internal/tasks"
)

// draftStore is what the draft stage reads and writes.
type draftStore interface {
	checkpointStore
	StartDraftJob(ctx context.Context, tenantID int64, jobID, phase string) (store.Job, store.IdeaInContext, error)
	profileStore
	GetIdeaInContext(ctx context.Context, tenantID, id int64) (store.IdeaInContext, error)
	ClusterKeywords(ctx context.Context, tenantID, clusterID int64) ([]store.Keyword, error)
	SaveDraft(ctx context.Context, o store.Outcome, idea store.Idea, d store.Draft) error
	GetDraft(ctx context.Context, tenantID, id int64) (store.Draft, error)
}

// Drafter runs draft:write jobs.
type Drafter struct {
	store  draftStore
	models *Models
	// minWords are the operator's minimum lengths by content type.
	minWords map[string]int
	// wordBand is how far (percent) a draft may be from its word target.
	wordBand int
	// links finds the site's pages to link to and checks the links made.
	links *InternalLinks
}

// draftLinkPages is how many of the site's pages a draft is offered.
const draftLinkPages = 8

// Work writes the article for an idea (the subject). It costs its quote:
// three credits by default. The model's answer is checkpointed when the
// job fails after it, so a retry does not pay for it again.
func (d *Drafter) Work(ctx context.Context, p tasks.Payload) error {
	job, idea, err := d.store.StartDraftJob(ctx, p.TenantID, p.JobID, "ai_analysis")
	if err != nil {
		return err
	}
	in, err := d.input(ctx, p.TenantID, idea)
	if err != nil {
		return err
	}
	writer, embedder, err := d.models.For(ctx, p.TenantID, ai.StageDraft)
	if err != nil {
		return err
	}
	var usage ai.Usage
	pages := &sitePages{links: d.links, tenantID: p.TenantID, siteID: idea.SiteID}
	ask := func() (draftAnswer, error) {
		// A line of a provider batch answered the first call (#23).
		batched, err := d.batchAnswered(ctx, job, &in, &writer)
		if err != nil {
			return draftAnswer{}, err
		}
		if !batched {
			if in.InternalLinks, err = d.linkTargets(ctx, pages, idea, embedder, &usage); err != nil {
				return draftAnswer{}, err
			}
		}
		out, err := askChat(ctx, &usage, func() (ai.Draft, ai.Usage, error) { return writer.Draft(ctx, in) })
		return draftAnswer{Draft: out, Fixes: out.Fixes, Warnings: out.Warnings}, err
	}
	save := func(answer draftAnswer) error { return d.save(ctx, p, job, idea, pages, answer, usage) }
	if err := answerOnce(ctx, d.store, p, job.Checkpointed, ask, save); err != nil {
		return fmt.Errorf("write draft: %w", err)
	}
	return nil
}

// save stores the draft of answer, its links checked against the site's
// pages, and ends the job.
func (d *Drafter) save(ctx context.Context, p tasks.Payload, job store.Job, idea store.IdeaInContext, pages *sitePages,
	answer draftAnswer, usage ai.Usage) error {
	out := answer.Draft
	out.Fixes, out.Warnings = answer.Fixes, answer.Warnings
	// A link to a page of the site that is not in its inventory was made
	// up (or the page is gone): it is removed, its text kept.
	inv, err := pages.read(ctx)
	if err != nil {
		return fmt.Errorf("link inventory of site %d: %w", idea.SiteID, err)
	}
	var removed []links.Removed
	out.BodyHTML, removed = checkLinks(inv, idea.SiteURL, out.BodyHTML)
	row := store.Draft{Title: out.Title, Slug: out.Slug, Excerpt: out.Excerpt, MetaTitle: out.MetaTitle,
		MetaDescription: out.MetaDescription, FocusKeyword: out.FocusKeyword, BodyHTML: out.BodyHTML,
		WordCount: markup.WordCount(out.BodyHTML)}
	result := map[string]any{"idea_id": idea.ID, "word_count": row.WordCount}
	if len(out.Fixes) > 0 {
		result["fixes"] = out.Fixes
	}
	if len(out.Warnings) > 0 {
		result["warnings"] = out.Warnings
	}
	result["internal_links"] = links.Count(out.BodyHTML, idea.SiteURL)
	if len(removed) > 0 {
		result["links_removed"] = removed
	}
	return d.store.SaveDraft(ctx, outcome(p, job, job.CreditsReserved, usage, result), idea.Idea, row)
}

// batchAnswered reports whether the job's first model call was answered
// by a provider batch; if so, in becomes the input the batch's request was
// written from and writer answers that request with the line's answer.
func (d *Drafter) batchAnswered(ctx context.Context, job store.Job, in *ai.DraftInput, writer **ai.Writer) (bool, error) {
	req, answer, ok, err := batchAnswerOf(ctx, d.store, job)
	if err != nil || !ok {
		return false, err
	}
	*in, *writer = req.Input, (*writer).WithAnswer(req.Key, answer.Response)
	return true, nil
}

// firstRequest returns a draft job's input, its links to the site's pages
// included, and the request the draft stage's first model call sends for
// it, without calling the model: the line of a provider batch.
func (d *Drafter) firstRequest(ctx context.Context, job store.Job) (ai.DraftInput, ai.JSONRequest, error) {
	idea, err := d.store.GetIdeaInContext(ctx, job.TenantID, job.SubjectID)
	if err != nil {
		return ai.DraftInput{}, ai.JSONRequest{}, fmt.Errorf("idea %d: %w", job.SubjectID, err)
	}
	in, err := d.input(ctx, job.TenantID, idea)
	if err != nil {
		return ai.DraftInput{}, ai.JSONRequest{}, err
	}
	writer, embedder, err := d.models.For(ctx, job.TenantID, ai.StageDraft)
	if err != nil {
		return ai.DraftInput{}, ai.JSONRequest{}, err
	}
	var usage ai.Usage // embedding the idea costs little; not billed to the job
	pages := &sitePages{links: d.links, tenantID: job.TenantID, siteID: idea.SiteID}
	if in.InternalLinks, err = d.linkTargets(ctx, pages, idea, embedder, &usage); err != nil {
		return ai.DraftInput{}, ai.JSONRequest{}, err
	}
	req, err := ai.FirstRequest(writer, func(w *ai.Writer) error { _, _, err := w.Draft(ctx, in); return err })
	return in, req, err
}

// draftAnswer is a draft stage's checkpointed answer: the draft and what
// its repair found (which ai.Draft does not encode).
type draftAnswer struct {
	Draft    ai.Draft            `json:"draft"`
	Fixes    []errs.FieldProblem `json:"fixes,omitempty"`
	Warnings []errs.FieldProblem `json:"warnings,omitempty"`
}

// input is what the draft of idea is written from: the idea, its site's
// content profile and, when the profile asks for a FAQ, the question
// keywords of its cluster.
func (d *Drafter) input(ctx context.Context, tenantID int64, idea store.IdeaInContext) (ai.DraftInput, error) {
	outline := make([]ai.Heading, len(idea.Outline))
	for i, h := range idea.Outline {
		outline[i] = ai.Heading{Level: h.Level, Text: h.Text}
	}
	profile, err := profileOf(idea.Profiles)
	if err != nil {
		return ai.DraftInput{}, err
	}
	var questions []string
	if profile.FAQ {
		keywords, err := d.store.ClusterKeywords(ctx, tenantID, idea.ClusterID)
		if err != nil {
			return ai.DraftInput{}, fmt.Errorf("keywords of cluster %d: %w", idea.ClusterID, err)
		}
		for _, k := range keywords {
			if ai.IsQuestion(k.Phrase) && len(questions) < maxFAQQuestions {
				questions = append(questions, k.Phrase)
			}
		}
	}
	return ai.DraftInput{SiteName: idea.SiteName, ClusterName: idea.ClusterName, Title: idea.Title,
		ContentType: idea.ContentType, TargetKeywords: idea.TargetKeywords, Outline: outline,
		MinWords: d.minWords[idea.ContentType], Profile: profile, FAQQuestions: questions, WordBand: d.wordBand}, nil
}

// linkTargets returns the site's pages closest to the idea, for the draft
// to link to; never the idea's own post. What embedding them costs is
// added to usage.
func (d *Drafter) linkTargets(ctx context.Context, pages *sitePages, idea store.IdeaInContext, embedder ai.Embedder,
	usage *ai.Usage) ([]ai.LinkTarget, error) {
	tenantID := pages.tenantID
	if d.links == nil || embedder == nil {
		return nil, nil
	}
	exclude := ""
	if idea.DraftID != nil {
		own, err := d.store.GetDraft(ctx, tenantID, *idea.DraftID)
		if err != nil && !errors.Is(err, errs.ErrNotFound) {
			return nil, err
		}
		if own.WPLink != nil {
			exclude = *own.WPLink
		}
	}
	about := idea.Title + ". " + strings.Join(idea.TargetKeywords, ", ")
	inv, err := pages.read(ctx)
	if err != nil {
		return nil, fmt.Errorf("pages of the site to link to: %w", err)
	}
	entries, u, err := d.links.closest(ctx, tenantID, idea.SiteID, embedder, about, inv, exclude, draftLinkPages)
	usage.Add(u)
	if err != nil {
		return nil, fmt.Errorf("pages of the site to link to: %w", err)
	}
	out := make([]ai.LinkTarget, len(entries))
	for i, e := range entries {
		out[i] = ai.LinkTarget{URL: e.URL, Title: e.Title}
	}
	return out, nil
}

// maxFAQQuestions caps the question keywords a draft's FAQ is offered.
const maxFAQQuestions = 8

// profileStore gives the content profile documents of a site and its
// tenant.
type profileStore interface {
	ContentProfiles(ctx context.Context, tenantID, siteID int64) (store.ContentProfiles, error)
}

// siteProfile returns the effective content profile of a site. A stored
// document that cannot be read is permanent: no retry reads it better.
func siteProfile(ctx context.Context, st profileStore, tenantID, siteID int64) (ai.Profile, error) {
	docs, err := st.ContentProfiles(ctx, tenantID, siteID)
	if err != nil {
		return ai.Profile{}, fmt.Errorf("content profile of site %d: %w", siteID, err)
	}
	return profileOf(docs)
}

// profileOf is the effective content profile of the documents of a site
// and its tenant.
func profileOf(docs store.ContentProfiles) (ai.Profile, error) {
	p, err := ai.ProfileOf(docs.Site, docs.Tenant)
	if err != nil {
		return ai.Profile{}, errs.Permanent(err)
	}
	return p, nil
}
