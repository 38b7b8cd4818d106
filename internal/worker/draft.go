package worker

import (
	"context"
	"fmt"

	"github.com/presswork/presswork/internal/ai"
	"github.com/presswork/presswork/internal/errs"
	"github.com/presswork/presswork/internal/markup"
	"github.com/presswork/presswork/internal/store"
	"github.com/presswork/presswork/internal/tasks"
)

// draftStore is what the draft stage reads and writes.
type draftStore interface {
	checkpointStore
	StartJob(ctx context.Context, tenantID int64, jobID, phase string) (store.Job, error)
	profileStore
	GetIdeaInContext(ctx context.Context, tenantID, id int64) (store.IdeaInContext, error)
	ClusterKeywords(ctx context.Context, tenantID, clusterID int64) ([]store.Keyword, error)
	SaveDraft(ctx context.Context, o store.Outcome, idea store.Idea, d store.Draft) error
}

// Drafter runs draft:write jobs.
type Drafter struct {
	store  draftStore
	models *Models
	// minWords are the operator's minimum lengths by content type.
	minWords map[string]int
	// wordBand is how far (percent) a draft may be from its word target.
	wordBand int
}

// Work writes the article for an idea (the subject). It costs its quote:
// three credits by default. The model's answer is checkpointed, so a
// retry after a failed save does not pay for it again.
func (d *Drafter) Work(ctx context.Context, p tasks.Payload) error {
	job, err := d.store.StartJob(ctx, p.TenantID, p.JobID, "ai_analysis")
	if err != nil {
		return err
	}
	idea, err := d.store.GetIdeaInContext(ctx, p.TenantID, p.SubjectID)
	if err != nil {
		return fmt.Errorf("idea %d: %w", p.SubjectID, err)
	}
	in, err := d.input(ctx, p.TenantID, idea)
	if err != nil {
		return err
	}
	writer, _, err := d.models.For(ctx, p.TenantID, ai.StageDraft)
	if err != nil {
		return err
	}
	var usage ai.Usage
	answer, err := remembered(ctx, d.store, p, job.Attempts, stepAnswer, func() (draftAnswer, error) {
		out, err := askChat(ctx, &usage, func() (ai.Draft, ai.Usage, error) { return writer.Draft(ctx, in) })
		return draftAnswer{Draft: out, Fixes: out.Fixes, Warnings: out.Warnings}, err
	})
	if err != nil {
		return fmt.Errorf("write draft: %w", err)
	}
	out := answer.Draft
	out.Fixes, out.Warnings = answer.Fixes, answer.Warnings
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
	return d.store.SaveDraft(ctx, outcome(p, job, job.CreditsReserved, usage, result), idea.Idea, row)
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
	profile, err := siteProfile(ctx, d.store, tenantID, idea.SiteID)
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
	p, err := ai.ProfileOf(docs.Site, docs.Tenant)
	if err != nil {
		return ai.Profile{}, errs.Permanent(err)
	}
	return p, nil
}
