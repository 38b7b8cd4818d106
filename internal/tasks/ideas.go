package tasks

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/presswork/presswork/internal/ai"
	"github.com/presswork/presswork/internal/errs"
	"github.com/presswork/presswork/internal/store"
)

// IdeasParams are the parameters of an ideas job.
type IdeasParams struct {
	Count int `json:"count"`
}

// ideas writes content ideas for a cluster (the subject). It costs its
// quote: one credit per idea by default.
func (h *Handlers) ideas(ctx context.Context, p Payload) error {
	job, err := h.Store.StartJob(ctx, p.TenantID, p.JobID, quotedCost, "ai_analysis")
	if err != nil {
		return err
	}
	var params IdeasParams
	if err := json.Unmarshal(job.Params, &params); err != nil || params.Count < 1 {
		return errs.Permanent(fmt.Errorf("ideas job has invalid parameters %s", job.Params))
	}
	in, cluster, err := h.ideasInput(ctx, p, params.Count)
	if err != nil {
		return err
	}
	writer, _, err := h.aiFor(ctx, p.TenantID, ai.StageIdeas)
	if err != nil {
		return err
	}
	ideas, usage, err := writer.Ideas(ctx, in)
	if err != nil {
		return fmt.Errorf("write ideas: %w", err)
	}
	rows := make([]store.NewIdea, len(ideas))
	for i, idea := range ideas {
		rows[i] = store.NewIdea{Title: idea.Title, ContentType: idea.ContentType,
			TargetKeywords: idea.TargetKeywords, Outline: storeHeadings(idea.Outline)}
	}
	charged := job.CreditsReserved
	if h.Costs.Idea > 0 {
		charged = min(charged, int64(len(ideas))*h.Costs.Idea)
	}
	return h.Store.SaveIdeas(ctx, outcome(p, job, charged, usage, map[string]any{"ideas": len(ideas)}), cluster, rows)
}

func (h *Handlers) ideasInput(ctx context.Context, p Payload, count int) (ai.IdeasInput, store.Cluster, error) {
	cluster, err := h.Store.GetCluster(ctx, p.TenantID, p.SubjectID)
	if err != nil {
		return ai.IdeasInput{}, cluster, fmt.Errorf("cluster %d: %w", p.SubjectID, err)
	}
	site, err := h.Store.GetSite(ctx, p.TenantID, cluster.SiteID)
	if err != nil {
		return ai.IdeasInput{}, cluster, err
	}
	keywords, err := h.Store.ClusterKeywords(ctx, p.TenantID, cluster.ID)
	if err != nil {
		return ai.IdeasInput{}, cluster, err
	}
	titles, err := h.Store.IdeaTitles(ctx, p.TenantID, cluster.ID)
	if err != nil {
		return ai.IdeasInput{}, cluster, err
	}
	infos := make([]ai.KeywordInfo, 0, min(len(keywords), 30))
	for _, k := range keywords[:min(len(keywords), 30)] {
		infos = append(infos, keywordInfo(k))
	}
	return ai.IdeasInput{SiteName: site.Name, ClusterName: cluster.Name, ClusterDescription: cluster.Description,
		Keywords: infos, Count: count, ExistingTitles: titles}, cluster, nil
}

func storeHeadings(hs []ai.Heading) []store.Heading {
	out := make([]store.Heading, len(hs))
	for i, h := range hs {
		out[i] = store.Heading{Level: h.Level, Text: h.Text}
	}
	return out
}

// quotedCost tells StartJob to reserve the job's quote.
const quotedCost = -1
