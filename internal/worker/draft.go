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
	GetIdeaInContext(ctx context.Context, tenantID, id int64) (store.IdeaInContext, error)
	SaveDraft(ctx context.Context, o store.Outcome, idea store.Idea, d store.Draft) error
}

// Drafter runs draft:write jobs.
type Drafter struct {
	store  draftStore
	models *Models
	// minWords are the operator's minimum lengths by content type.
	minWords map[string]int
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
	writer, _, err := d.models.For(ctx, p.TenantID, ai.StageDraft)
	if err != nil {
		return err
	}
	var usage ai.Usage
	answer, err := remembered(ctx, d.store, p, job.Attempts, stepAnswer, func() (draftAnswer, error) {
		out, err := askChat(ctx, &usage, func() (ai.Draft, ai.Usage, error) { return writer.Draft(ctx, d.input(idea)) })
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

func (d *Drafter) input(idea store.IdeaInContext) ai.DraftInput {
	outline := make([]ai.Heading, len(idea.Outline))
	for i, h := range idea.Outline {
		outline[i] = ai.Heading{Level: h.Level, Text: h.Text}
	}
	return ai.DraftInput{SiteName: idea.SiteName, ClusterName: idea.ClusterName, Title: idea.Title,
		ContentType: idea.ContentType, TargetKeywords: idea.TargetKeywords, Outline: outline,
		MinWords: d.minWords[idea.ContentType]}
}
