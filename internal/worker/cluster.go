package worker

import (
	"context"
	"fmt"

	"golang.org/x/sync/errgroup"

	"github.com/presswork/presswork/internal/ai"
	"github.com/presswork/presswork/internal/cluster"
	"github.com/presswork/presswork/internal/store"
	"github.com/presswork/presswork/internal/tasks"
)

// namingParallelism bounds concurrent naming calls of one clustering job.
const namingParallelism = 4

// clusterStore is what the clustering stage reads and writes.
type clusterStore interface {
	UnclusteredKeywords(ctx context.Context, tenantID, siteID int64, limit int) ([]store.Keyword, error)
	StartJobCosting(ctx context.Context, tenantID int64, jobID string, cost int64, phase string) (store.Job, error)
	GetSite(ctx context.Context, tenantID, id int64) (store.Site, error)
	MarkOutliers(ctx context.Context, tenantID, siteID int64, jobID string, ids []int64) error
	SetPhase(ctx context.Context, jobID, phase string) error
	SaveClusters(ctx context.Context, o store.Outcome, siteID int64, clusters []store.NewCluster) error
}

// Clusterer runs keywords:cluster jobs.
type Clusterer struct {
	store             clusterStore
	models            *Models
	keywordsPerCredit int64
}

// Work groups a site's unclustered keywords (the subject is the site),
// names each group and stores the clusters. Its cost is settled on the
// keywords actually clustered; outliers stay unclustered and free, marked
// as this job's so that automation leaves them until new keywords arrive.
// Every unclustered keyword is taken, outliers of earlier jobs too: a job
// started by hand is how they are tried again.
func (c *Clusterer) Work(ctx context.Context, p tasks.Payload) error {
	keywords, err := c.store.UnclusteredKeywords(ctx, p.TenantID, p.SubjectID, tasks.MaxKeywordsPerClustering)
	if err != nil {
		return fmt.Errorf("load keywords: %w", err)
	}
	job, err := c.store.StartJobCosting(ctx, p.TenantID, p.JobID, tasks.ClusterCost(int64(len(keywords)), c.keywordsPerCredit), "embedding")
	if err != nil {
		return err
	}
	// A retry keeps the first attempt's reservation: cluster no more than it covers.
	if covered := job.CreditsReserved * c.keywordsPerCredit; int64(len(keywords)) > covered {
		keywords = keywords[:covered]
	}
	site, err := c.store.GetSite(ctx, p.TenantID, p.SubjectID)
	if err != nil {
		return err
	}
	writer, embedder, err := c.models.For(ctx, p.TenantID, ai.StageClusterName)
	if err != nil {
		return err
	}
	groups, usage, err := c.groupKeywords(ctx, embedder, p.JobID, keywords)
	if err != nil {
		return err
	}
	// Automation does not cluster these again on their own (they would stay
	// outliers and cost embeddings each time) once this job has succeeded.
	if err := c.store.MarkOutliers(ctx, p.TenantID, site.ID, p.JobID, keywordIDs(keywords, groups.Outliers)); err != nil {
		return err
	}
	if err := c.store.SetPhase(ctx, p.JobID, "naming"); err != nil {
		return err
	}
	clusters, nameUsage, err := nameClusters(ctx, writer, site.Name, keywords, groups.Clusters)
	if err != nil {
		return err
	}
	usage.Add(nameUsage)
	clustered := int64(len(keywords) - len(groups.Outliers))
	done := outcome(p, job, tasks.ClusterCost(clustered, c.keywordsPerCredit), usage, map[string]any{
		"clusters": len(clusters), "keywords_clustered": clustered, "outliers": len(groups.Outliers),
	})
	return c.store.SaveClusters(ctx, done, site.ID, clusters)
}

func (c *Clusterer) groupKeywords(ctx context.Context, embedder ai.Embedder, jobID string, keywords []store.Keyword) (cluster.Result, ai.Usage, error) {
	phrases := make([]string, len(keywords))
	for i, k := range keywords {
		phrases[i] = k.Phrase
	}
	vectors, usage, err := embedder.Embed(ctx, phrases)
	spent(ctx, store.UsageEmbedding, usage)
	if err != nil {
		return cluster.Result{}, usage, fmt.Errorf("embed keywords: %w", err)
	}
	if err := c.store.SetPhase(ctx, jobID, "grouping"); err != nil {
		return cluster.Result{}, usage, err
	}
	groups, err := cluster.Group(ctx, vectors, cluster.Options{})
	return groups, usage, err
}

// nameClusters asks the writer to name each group, a few at a time.
func nameClusters(ctx context.Context, writer *ai.Writer, siteName string, keywords []store.Keyword, groups [][]int) ([]store.NewCluster, ai.Usage, error) {
	out := make([]store.NewCluster, len(groups))
	usages := make([]ai.Usage, len(groups))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(namingParallelism)
	for i, members := range groups {
		g.Go(func() error {
			in := ai.ClusterNameInput{SiteName: siteName, Keywords: keywordInfos(keywords, members, 10)}
			name, usage, err := writer.NameCluster(gctx, in)
			spent(gctx, store.UsageChat, usage)
			if err != nil {
				return fmt.Errorf("name cluster: %w", err)
			}
			out[i], usages[i] = store.NewCluster{Name: name.Name, Description: name.Description,
				KeywordIDs: keywordIDs(keywords, members)}, usage
			return nil
		})
	}
	err := g.Wait()
	var total ai.Usage
	for _, u := range usages {
		total.Add(u)
	}
	return out, total, err
}

// keywordIDs returns the ids of keywords at the indexes members.
func keywordIDs(keywords []store.Keyword, members []int) []int64 {
	ids := make([]int64, len(members))
	for i, m := range members {
		ids[i] = keywords[m].ID
	}
	return ids
}

// keywordInfos returns up to limit keywords of a group, most central first.
func keywordInfos(keywords []store.Keyword, members []int, limit int) []ai.KeywordInfo {
	infos := make([]ai.KeywordInfo, 0, min(limit, len(members)))
	for _, m := range members[:min(limit, len(members))] {
		infos = append(infos, keywordInfo(keywords[m]))
	}
	return infos
}

func keywordInfo(k store.Keyword) ai.KeywordInfo {
	info := ai.KeywordInfo{Phrase: k.Phrase, Volume: k.Volume, Difficulty: k.Difficulty}
	if k.Intent != nil {
		info.Intent = *k.Intent
	}
	return info
}
