package tasks

import (
	"context"
	"fmt"

	"github.com/presswork/presswork/internal/ai"
	"github.com/presswork/presswork/internal/store"
)

// draft writes the article for an idea (the subject). It costs its quote:
// three credits by default.
func (h *Handlers) draft(ctx context.Context, p Payload) error {
	job, err := h.Store.StartJob(ctx, p.TenantID, p.JobID, quotedCost, "ai_analysis")
	if err != nil {
		return err
	}
	idea, err := h.Store.GetIdeaInContext(ctx, p.TenantID, p.SubjectID)
	if err != nil {
		return fmt.Errorf("idea %d: %w", p.SubjectID, err)
	}
	in := draftInput(idea)
	writer, _, err := h.aiFor(ctx, p.TenantID, ai.StageDraft)
	if err != nil {
		return err
	}
	d, usage, err := writer.Draft(ctx, in)
	if err != nil {
		return fmt.Errorf("write draft: %w", err)
	}
	row := store.Draft{Title: d.Title, Slug: d.Slug, Excerpt: d.Excerpt, MetaTitle: d.MetaTitle,
		MetaDescription: d.MetaDescription, FocusKeyword: d.FocusKeyword, BodyHTML: d.BodyHTML,
		WordCount: ai.WordCount(d.BodyHTML)}
	result := map[string]any{"idea_id": idea.ID, "word_count": row.WordCount}
	return h.Store.SaveDraft(ctx, outcome(p, job, job.CreditsReserved, usage, result), idea.Idea, row)
}

func draftInput(idea store.IdeaInContext) ai.DraftInput {
	outline := make([]ai.Heading, len(idea.Outline))
	for i, h := range idea.Outline {
		outline[i] = ai.Heading{Level: h.Level, Text: h.Text}
	}
	return ai.DraftInput{SiteName: idea.SiteName, ClusterName: idea.ClusterName, Title: idea.Title,
		ContentType: idea.ContentType, TargetKeywords: idea.TargetKeywords, Outline: outline}
}
