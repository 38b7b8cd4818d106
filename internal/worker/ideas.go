package worker

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/presswork/presswork/internal/ai"
	"github.com/presswork/presswork/internal/errs"
	"github.com/presswork/presswork/internal/store"
	"github.com/presswork/presswork/internal/tasks"
)

// ideasStore is what the ideas stage reads and writes.
type ideasStore interface {
	checkpointStore
	StartJob(ctx context.Context, tenantID int64, jobID, phase string) (store.Job, error)
	GetCluster(ctx context.Context, tenantID, id int64) (store.Cluster, error)
	profileStore
	GetSite(ctx context.Context, tenantID, id int64) (store.Site, error)
	ClusterKeywords(ctx context.Context, tenantID, clusterID int64) ([]store.Keyword, error)
	IdeaTitles(ctx context.Context, tenantID, clusterID int64) ([]string, error)
	SaveIdeas(ctx context.Context, o store.Outcome, cluster store.Cluster, ideas []store.NewIdea) error
}

// IdeaWriter runs ideas:generate jobs.
type IdeaWriter struct {
	store  ideasStore
	models *Models
	// perIdea is the credits an idea costs; zero charges the quote.
	perIdea int64
}

// Work writes content ideas for a cluster (the subject). It costs its
// quote: one credit per idea by default. The model's answer is
// checkpointed, so a retry after a failed save does not pay for it again.
func (w *IdeaWriter) Work(ctx context.Context, p tasks.Payload) error {
	job, err := w.store.StartJob(ctx, p.TenantID, p.JobID, "ai_analysis")
	if err != nil {
		return err
	}
	var params tasks.IdeasParams
	if err := json.Unmarshal(job.Params, &params); err != nil || params.Count < 1 {
		return errs.Permanent(fmt.Errorf("ideas job has invalid parameters %s", job.Params))
	}
	in, cluster, err := w.input(ctx, p, params.Count)
	if err != nil {
		return err
	}
	writer, _, err := w.models.For(ctx, p.TenantID, ai.StageIdeas)
	if err != nil {
		return err
	}
	var usage ai.Usage
	ideas, err := remembered(ctx, w.store, p, job.Attempts, stepAnswer, func() ([]ai.Idea, error) {
		return askChat(ctx, &usage, func() ([]ai.Idea, ai.Usage, error) { return writer.Ideas(ctx, in) })
	})
	if err != nil {
		return fmt.Errorf("write ideas: %w", err)
	}
	rows := make([]store.NewIdea, len(ideas))
	for i, idea := range ideas {
		rows[i] = store.NewIdea{Title: idea.Title, ContentType: idea.ContentType,
			TargetKeywords: idea.TargetKeywords, Outline: storeHeadings(idea.Outline)}
	}
	charged := job.CreditsReserved
	if w.perIdea > 0 {
		charged = min(charged, int64(len(ideas))*w.perIdea)
	}
	return w.store.SaveIdeas(ctx, outcome(p, job, charged, usage, map[string]any{"ideas": len(ideas)}), cluster, rows)
}

func (w *IdeaWriter) input(ctx context.Context, p tasks.Payload, count int) (ai.IdeasInput, store.Cluster, error) {
	cluster, err := w.store.GetCluster(ctx, p.TenantID, p.SubjectID)
	if err != nil {
		return ai.IdeasInput{}, cluster, fmt.Errorf("cluster %d: %w", p.SubjectID, err)
	}
	site, err := w.store.GetSite(ctx, p.TenantID, cluster.SiteID)
	if err != nil {
		return ai.IdeasInput{}, cluster, err
	}
	keywords, err := w.store.ClusterKeywords(ctx, p.TenantID, cluster.ID)
	if err != nil {
		return ai.IdeasInput{}, cluster, err
	}
	titles, err := w.store.IdeaTitles(ctx, p.TenantID, cluster.ID)
	if err != nil {
		return ai.IdeasInput{}, cluster, err
	}
	profile, err := siteProfile(ctx, w.store, p.TenantID, site.ID)
	if err != nil {
		return ai.IdeasInput{}, cluster, err
	}
	infos := make([]ai.KeywordInfo, 0, min(len(keywords), 30))
	for _, k := range keywords[:min(len(keywords), 30)] {
		infos = append(infos, keywordInfo(k))
	}
	return ai.IdeasInput{SiteName: site.Name, ClusterName: cluster.Name, ClusterDescription: cluster.Description,
		Keywords: infos, Count: count, ExistingTitles: titles, Profile: profile}, cluster, nil
}

func storeHeadings(hs []ai.Heading) []store.Heading {
	out := make([]store.Heading, len(hs))
	for i, h := range hs {
		out[i] = store.Heading{Level: h.Level, Text: h.Text}
	}
	return out
}
