package worker

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/presswork/presswork/internal/ai"
	"github.com/presswork/presswork/internal/errs"
	"github.com/presswork/presswork/internal/overlap"
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
	SiteIdeaRefs(ctx context.Context, tenantID, siteID, clusterID int64) ([]store.IdeaRef, error)
	SiteLinks(ctx context.Context, tenantID, siteID int64) ([]store.Link, error)
	SaveIdeasRefusing(ctx context.Context, o store.Outcome, cluster store.Cluster, ideas []store.NewIdea,
		refused []store.RefusedIdea) error
	LockSiteIdeas(ctx context.Context, siteID int64) (*store.AdvisoryLock, error)
	embeddingCache
}

// IdeaWriter runs ideas:generate jobs.
type IdeaWriter struct {
	store  ideasStore
	models *Models
	// perIdea is the credits an idea costs; zero charges the quote.
	perIdea int64
	retry   callRetry
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
	writer, embedder, err := w.models.For(ctx, p.TenantID, ai.StageIdeas)
	if err != nil {
		return err
	}
	var usage ai.Usage
	ideas, err := remembered(ctx, w.store, p, job.Checkpointed, stepAnswer, func() ([]ai.Idea, error) {
		// A line of a provider batch answered the first call (#23).
		if err := w.batchAnswered(ctx, job, &in, &writer); err != nil {
			return nil, err
		}
		return askChat(ctx, &usage, func() ([]ai.Idea, ai.Usage, error) { return writer.Ideas(ctx, in) })
	})
	if err != nil {
		return fmt.Errorf("write ideas: %w", err)
	}
	// The site's ideas are read again and the answer's compared with them
	// and saved under the site's ideas lock: another job of the site may
	// have saved ideas since this one's prompt was written, and two jobs
	// deciding at once would each keep what duplicates the other's.
	lock, err := w.store.LockSiteIdeas(ctx, cluster.SiteID)
	if err != nil {
		return err
	}
	defer lock.Unlock()
	siteIdeas, err := w.siteIdeas(ctx, p.TenantID, cluster.SiteID, cluster.ID)
	if err != nil {
		return err
	}
	conflicts, embedUsage, err := w.overlaps(ctx, p.TenantID, embedder, ideas, siteIdeas)
	// The job is the chat model's: its name stays the one recorded.
	embedUsage.Model = ""
	usage.Add(embedUsage)
	if err != nil {
		return fmt.Errorf("compare the ideas with the site's: %w", err)
	}
	rows, refused := splitIdeas(ideas, conflicts)
	charged := job.CreditsReserved
	if w.perIdea > 0 && params.Count > 0 {
		// Each idea kept costs its share of the quote: perIdea, times the
		// credit multiplier of the model the tenant chose, if any.
		charged = min(charged, ceilDiv(job.CreditsQuoted*int64(len(rows)), int64(params.Count)))
	} else if len(ideas) > 0 {
		// The quote is for the ideas asked for; refused ones are not paid.
		charged = charged * int64(len(rows)) / int64(len(ideas))
	}
	return w.store.SaveIdeasRefusing(ctx, outcome(p, job, charged, usage,
		map[string]any{"ideas": len(rows), "refused_duplicates": len(refused)}), cluster, rows, refused)
}

// batchAnswered makes writer answer the first call of a job whose first
// call a provider batch answered with the line's answer, and in the input
// the batch's request was written from: the answer is then validated and
// repaired as any, and compared with the site's ideas as they are now.
func (w *IdeaWriter) batchAnswered(ctx context.Context, job store.Job, in *ai.IdeasInput, writer **ai.Writer) error {
	req, answer, ok, err := batchAnswerOf(ctx, w.store, job)
	if err != nil || !ok || req.Ideas == nil {
		return err
	}
	*in, *writer = *req.Ideas, (*writer).WithAnswer(req.Key, answer.Response)
	return nil
}

// firstRequest returns an ideas job's input and the request the ideas
// stage's first model call sends for it, without calling the model: the
// line of a provider batch.
func (w *IdeaWriter) firstRequest(ctx context.Context, job store.Job) (ai.IdeasInput, ai.JSONRequest, error) {
	var params tasks.IdeasParams
	if err := json.Unmarshal(job.Params, &params); err != nil || params.Count < 1 {
		return ai.IdeasInput{}, ai.JSONRequest{}, errs.Permanent(fmt.Errorf("ideas job has invalid parameters %s", job.Params))
	}
	in, _, err := w.input(ctx, tasks.Payload{TenantID: job.TenantID, JobID: job.ID, SubjectID: job.SubjectID}, params.Count)
	if err != nil {
		return ai.IdeasInput{}, ai.JSONRequest{}, err
	}
	writer, _, err := w.models.For(ctx, job.TenantID, ai.StageIdeas)
	if err != nil {
		return ai.IdeasInput{}, ai.JSONRequest{}, err
	}
	req, err := ai.FirstRequest(writer, func(w *ai.Writer) error { _, _, err := w.Ideas(ctx, in); return err })
	return in, req, err
}

// overlaps returns the ideas that would compete with the site's others (or
// with each other) for one query. Titles are embedded through the tenant's
// cache, so a retry, and later jobs, pay only for titles never seen.
func (w *IdeaWriter) overlaps(ctx context.Context, tenantID int64, embedder ai.Embedder, ideas []ai.Idea,
	siteIdeas []store.IdeaRef) ([]overlap.Conflict, ai.Usage, error) {
	candidates := make([]overlap.Entry, len(ideas))
	texts := make([]string, 0, len(ideas)+len(siteIdeas))
	for i, idea := range ideas {
		candidates[i] = overlap.Entry{Title: idea.Title, Primary: firstOf(idea.TargetKeywords)}
		texts = append(texts, idea.Title)
	}
	existing := make([]overlap.Entry, len(siteIdeas))
	for i, ref := range siteIdeas {
		existing[i] = overlap.Entry{ID: ref.ID, Title: ref.Title, Primary: ref.Primary}
		texts = append(texts, ref.Title)
	}
	var usage ai.Usage
	if embedder != nil && len(ideas) > 0 {
		vectors, u, err := embedCached(ctx, w.store, w.retry, tenantID, embedder, texts)
		usage = u
		if err != nil {
			return nil, usage, err
		}
		for i := range candidates {
			candidates[i].Vector = vectors[i]
		}
		for i := range existing {
			existing[i].Vector = vectors[len(candidates)+i]
		}
	}
	return overlap.Check(candidates, existing, overlap.DefaultThreshold), usage, nil
}

// splitIdeas returns the ideas to keep as rows and those refused.
func splitIdeas(ideas []ai.Idea, conflicts []overlap.Conflict) ([]store.NewIdea, []store.RefusedIdea) {
	refusedAt := make(map[int]overlap.Conflict, len(conflicts))
	for _, c := range conflicts {
		refusedAt[c.Candidate] = c
	}
	rows := make([]store.NewIdea, 0, len(ideas))
	var refused []store.RefusedIdea
	for i, idea := range ideas {
		row := store.NewIdea{Title: idea.Title, ContentType: idea.ContentType,
			TargetKeywords: idea.TargetKeywords, Outline: storeHeadings(idea.Outline)}
		c, ok := refusedAt[i]
		if !ok {
			rows = append(rows, row)
			continue
		}
		refused = append(refused, store.RefusedIdea{NewIdea: row, Reason: string(c.Reason), Similarity: c.Similarity,
			ConflictsWith: c.With.ID, ConflictingTitle: c.With.Title})
	}
	return rows, refused
}

func firstOf(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}

// input gathers what the ideas of a cluster are written from, with the
// site's ideas they must not repeat.
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
	siteIdeas, err := w.siteIdeas(ctx, p.TenantID, site.ID, cluster.ID)
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
	in := ai.IdeasInput{SiteName: site.Name, ClusterName: cluster.Name, ClusterDescription: cluster.Description,
		Keywords: infos, Count: count, Profile: profile}
	// The prompt lists the cluster's own ideas first, then the site's newest.
	taken := make(map[string]bool, len(siteIdeas))
	for _, ref := range siteIdeas {
		in.ExistingTitles = append(in.ExistingTitles, ref.Title)
		if key := overlap.KeywordKey(ref.Primary); key != "" && !taken[key] {
			taken[key] = true
			in.TakenKeywords = append(in.TakenKeywords, ref.Primary)
		}
	}
	return in, cluster, nil
}

// siteIdeas returns what a new idea of the site is compared with: the
// site's ideas (clusterID's first) and, as ideas without an id, the titles
// of its own posts and pages that Presswork did not make.
func (w *IdeaWriter) siteIdeas(ctx context.Context, tenantID, siteID, clusterID int64) ([]store.IdeaRef, error) {
	refs, err := w.store.SiteIdeaRefs(ctx, tenantID, siteID, clusterID)
	if err != nil {
		return nil, err
	}
	pages, err := w.store.SiteLinks(ctx, tenantID, siteID)
	if err != nil {
		return nil, err
	}
	for _, l := range pages {
		if l.Source == store.LinkWordPress {
			refs = append(refs, store.IdeaRef{Title: l.Title})
		}
	}
	return refs, nil
}

func storeHeadings(hs []ai.Heading) []store.Heading {
	out := make([]store.Heading, len(hs))
	for i, h := range hs {
		out[i] = store.Heading{Level: h.Level, Text: h.Text}
	}
	return out
}

// ceilDiv is a/b rounded up, for b > 0.
func ceilDiv(a, b int64) int64 { return (a + b - 1) / b }
