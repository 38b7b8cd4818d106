package worker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"unicode/utf8"

	"golang.org/x/sync/errgroup"

	"github.com/presswork/presswork/internal/ai"
	"github.com/presswork/presswork/internal/cluster"
	"github.com/presswork/presswork/internal/store"
	"github.com/presswork/presswork/internal/tasks"
)

const (
	// namingParallelism bounds concurrent naming calls of one clustering job.
	namingParallelism = 4
	// embedChunk is the most texts one embeddings call of a clustering
	// sends; each chunk is cached as soon as it is answered.
	embedChunk = 500
	// maxFallbackNameRunes keeps a fallback name within a cluster name's limit.
	maxFallbackNameRunes = 80
)

// Checkpoint steps of a clustering job.
const (
	stepGrouping   = "grouping"
	stepNamePrefix = "name/"
)

// clusterStore is what the clustering stage reads and writes.
type clusterStore interface {
	checkpointStore
	UnclusteredKeywords(ctx context.Context, tenantID, siteID int64, limit int) ([]store.Keyword, error)
	UnclusteredByIDs(ctx context.Context, tenantID, siteID int64, ids []int64) ([]store.Keyword, error)
	StartJobCosting(ctx context.Context, tenantID int64, jobID string, cost int64, phase string) (store.Job, error)
	GetSite(ctx context.Context, tenantID, id int64) (store.Site, error)
	MarkOutliers(ctx context.Context, tenantID, siteID int64, jobID string, ids []int64) error
	ListClusters(ctx context.Context, tenantID, siteID int64, page store.Page) ([]store.Cluster, error)
	SetPhase(ctx context.Context, jobID, phase string) error
	SaveClusters(ctx context.Context, o store.Outcome, siteID int64, clusters []store.NewCluster) error
	CachedEmbeddings(ctx context.Context, tenantID int64, model string, hashes [][]byte) (map[string][]float32, error)
	CacheEmbeddings(ctx context.Context, tenantID int64, model string, hashes [][]byte, vectors [][]float32) error
}

// Clusterer runs keywords:cluster jobs.
type Clusterer struct {
	store             clusterStore
	models            *Models
	keywordsPerCredit int64
	retry             callRetry
}

// grouping is a clustering's checkpointed grouping: the keyword ids of
// each group, most central first, and of the outliers.
type grouping struct {
	Clusters [][]int64 `json:"clusters"`
	Outliers []int64   `json:"outliers"`
}

func (g grouping) keywordIDs() []int64 {
	ids := append([]int64(nil), g.Outliers...)
	for _, c := range g.Clusters {
		ids = append(ids, c...)
	}
	return ids
}

// clusterName is a group's checkpointed name.
type clusterName struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	Source      string `json:"source"`
}

// Work groups a site's unclustered keywords (the subject is the site),
// names each group and stores the clusters. Its cost is settled on the
// keywords actually clustered; outliers stay unclustered and free, marked
// as this job's so that automation leaves them until new keywords arrive.
// Every unclustered keyword is taken, outliers of earlier jobs too: a job
// started by hand is how they are tried again.
//
// The work is checkpointed: vectors are cached by tenant, model and text
// as each embeddings call answers; the grouping is saved before naming
// starts and each name as it comes. A retried job reads them back, so it
// never pays twice for an embedding or a name. A group whose name cannot
// be had from the model (unusable answers twice over) is named after its
// most central keyword and marked so (store.NameByFallback); provider
// errors that outlast the call's retries fail the attempt instead, to be
// resumed by the job's retry.
func (c *Clusterer) Work(ctx context.Context, p tasks.Payload) error {
	saved, err := c.store.Checkpoints(ctx, p.TenantID, p.JobID, "")
	if err != nil {
		return err
	}
	plan, hasPlan := savedGrouping(saved)
	keywords, err := c.keywords(ctx, p, plan, hasPlan)
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
	var usage ai.Usage
	if !hasPlan {
		if plan, usage, err = c.group(ctx, p, embedder, keywords, cluster.Strictness(site.Clustering)); err != nil {
			return err
		}
	}
	groups, outliers := plan.resolve(keywords)
	// Automation does not cluster these again on their own (they would stay
	// outliers and cost embeddings each time) once this job has succeeded.
	if err := c.store.MarkOutliers(ctx, p.TenantID, site.ID, p.JobID, outliers); err != nil {
		return err
	}
	if err := c.store.SetPhase(ctx, p.JobID, "naming"); err != nil {
		return err
	}
	taken, err := c.siteClusterNames(ctx, p.TenantID, site.ID)
	if err != nil {
		return err
	}
	clusters, nameUsage, err := c.nameClusters(ctx, p, writer, site.Name, groups, saved, taken)
	usage.Add(nameUsage)
	if err != nil {
		return err
	}
	clustered := int64(len(keywords) - len(outliers))
	fallbacks := 0
	for _, cl := range clusters {
		if cl.NameSource == store.NameByFallback {
			fallbacks++
		}
	}
	done := outcome(p, job, tasks.ClusterCost(clustered, c.keywordsPerCredit), usage, map[string]any{
		"clusters": len(clusters), "keywords_clustered": clustered, "outliers": len(outliers),
		"names_fallback": fallbacks,
	})
	return c.store.SaveClusters(ctx, done, site.ID, clusters)
}

// savedGrouping returns the grouping an earlier attempt checkpointed.
func savedGrouping(saved map[string]json.RawMessage) (grouping, bool) {
	var g grouping
	raw, ok := saved[stepGrouping]
	if !ok || json.Unmarshal(raw, &g) != nil {
		return grouping{}, false
	}
	return g, true
}

// keywords returns the keywords to cluster: those of the saved grouping
// that are still unclustered, or the site's unclustered keywords.
func (c *Clusterer) keywords(ctx context.Context, p tasks.Payload, plan grouping, hasPlan bool) ([]store.Keyword, error) {
	if hasPlan {
		return c.store.UnclusteredByIDs(ctx, p.TenantID, p.SubjectID, plan.keywordIDs())
	}
	return c.store.UnclusteredKeywords(ctx, p.TenantID, p.SubjectID, tasks.MaxKeywordsPerClustering)
}

// group embeds the keywords (what the cache lacks), groups them as strictly
// as the site asks and checkpoints the grouping.
func (c *Clusterer) group(ctx context.Context, p tasks.Payload, embedder ai.Embedder, keywords []store.Keyword,
	strictness cluster.Strictness) (grouping, ai.Usage, error) {
	opt, err := strictness.Options()
	if err != nil {
		return grouping{}, ai.Usage{}, err
	}
	phrases := make([]string, len(keywords))
	for i, k := range keywords {
		phrases[i] = k.Phrase
	}
	// A comparison ("x vs y") is placed by its sides when it fits nowhere
	// as a whole: they are embedded with the phrases.
	sides, at := cluster.ComparisonTexts(phrases)
	vectors, usage, err := c.embed(ctx, p.TenantID, embedder, slices.Concat(phrases, sides))
	if err != nil {
		return grouping{}, usage, fmt.Errorf("embed keywords: %w", err)
	}
	if err := c.store.SetPhase(ctx, p.JobID, "grouping"); err != nil {
		return grouping{}, usage, err
	}
	res, err := cluster.GroupComparing(ctx, vectors[:len(phrases)], cluster.Comparisons(at, vectors[len(phrases):]), opt)
	if err != nil {
		return grouping{}, usage, err
	}
	g := grouping{Clusters: make([][]int64, len(res.Clusters)), Outliers: indexIDs(keywords, res.Outliers)}
	for i, members := range res.Clusters {
		g.Clusters[i] = indexIDs(keywords, members)
	}
	return g, usage, c.store.SaveCheckpoint(ctx, p.TenantID, p.JobID, stepGrouping, g)
}

// embed returns the vectors of texts (see embedCached).
func (c *Clusterer) embed(ctx context.Context, tenantID int64, embedder ai.Embedder, texts []string) ([][]float32, ai.Usage, error) {
	return embedCached(ctx, c.store, c.retry, tenantID, embedder, texts)
}

// resolve returns the groups of g as keywords, most central first, and the
// outliers' ids, keeping only keywords among those given (a keyword
// clustered or deleted since g was saved is left out; an empty group goes).
func (g grouping) resolve(keywords []store.Keyword) (groups [][]store.Keyword, outliers []int64) {
	byID := make(map[int64]store.Keyword, len(keywords))
	for _, k := range keywords {
		byID[k.ID] = k
	}
	for _, ids := range g.Clusters {
		var members []store.Keyword
		for _, id := range ids {
			if k, ok := byID[id]; ok {
				members = append(members, k)
			}
		}
		groups = append(groups, members)
	}
	for _, id := range g.Outliers {
		if _, ok := byID[id]; ok {
			outliers = append(outliers, id)
		}
	}
	return groups, outliers
}

// nameClusters names each group, a few at a time, checkpointing each name
// as it comes; names saved by an earlier attempt are reused. After a
// failure no new name is asked for, but the calls in flight finish and
// keep their names: they are paid for. A group left empty is skipped (its
// index keeps its checkpoint step). Names are then made unique on the site
// (taken holds the ai.NameKey of its names).
func (c *Clusterer) nameClusters(ctx context.Context, p tasks.Payload, writer *ai.Writer, siteName string,
	groups [][]store.Keyword, saved map[string]json.RawMessage, taken map[string]bool) ([]store.NewCluster, ai.Usage, error) {
	out := make([]store.NewCluster, len(groups))
	usages := make([]ai.Usage, len(groups))
	var g errgroup.Group
	g.SetLimit(namingParallelism)
	var failed atomic.Bool
	for i, members := range groups {
		if len(members) == 0 {
			continue
		}
		step := fmt.Sprintf("%s%d", stepNamePrefix, i)
		var name clusterName
		if raw, ok := saved[step]; ok && json.Unmarshal(raw, &name) == nil && name.Name != "" {
			out[i] = name.cluster(members)
			continue
		}
		g.Go(func() error {
			if failed.Load() {
				return nil
			}
			name, usage, err := c.nameOne(ctx, writer, siteName, members)
			usages[i] = usage
			if err == nil {
				out[i] = name.cluster(members)
				err = c.store.SaveCheckpoint(ctx, p.TenantID, p.JobID, step, name)
			}
			if err != nil {
				failed.Store(true)
				return fmt.Errorf("name cluster: %w", err)
			}
			return nil
		})
	}
	err := g.Wait()
	var total ai.Usage
	for _, u := range usages {
		total.Add(u)
	}
	distinctNames(out, groups, taken)
	return slices.DeleteFunc(out, func(c store.NewCluster) bool { return c.Name == "" }), total, err
}

// distinctNames makes each name unique on the site (ai.UniqueName: a name
// already taken gets its cluster's distinguishing head term), in group
// order, after the checkpointed names, so that a retried job names alike.
func distinctNames(out []store.NewCluster, groups [][]store.Keyword, taken map[string]bool) {
	for i := range out {
		if out[i].Name == "" {
			continue
		}
		phrases := make([]string, len(groups[i]))
		for j, k := range groups[i] {
			phrases[j] = k.Phrase
		}
		out[i].Name = ai.UniqueName(out[i].Name, phrases, taken)
		taken[ai.NameKey(out[i].Name)] = true
	}
}

// siteClusterNames returns the ai.NameKey of each of a site's cluster names.
func (c *Clusterer) siteClusterNames(ctx context.Context, tenantID, siteID int64) (map[string]bool, error) {
	taken := map[string]bool{}
	page := store.Page{Limit: 500}
	for {
		cs, err := c.store.ListClusters(ctx, tenantID, siteID, page)
		if err != nil {
			return nil, fmt.Errorf("list cluster names: %w", err)
		}
		for _, cl := range cs {
			taken[ai.NameKey(cl.Name)] = true
		}
		if len(cs) < page.Limit {
			return taken, nil
		}
		page.After = cs[len(cs)-1].ID
	}
}

// nameOne asks the model for a group's name (callRetry.ask); when its
// answers stay unusable the group is named after its most central keyword.
func (c *Clusterer) nameOne(ctx context.Context, writer *ai.Writer, siteName string, members []store.Keyword) (clusterName, ai.Usage, error) {
	// The model sees the ten most central keywords and the cluster's size.
	in := ai.ClusterNameInput{SiteName: siteName, Keywords: keywordInfos(members, 10), KeywordCount: len(members)}
	var total ai.Usage
	name, err := askChat(ctx, &total, func() (ai.ClusterName, ai.Usage, error) { return writer.NameCluster(ctx, in) })
	switch {
	case errors.Is(err, ai.ErrUnusableAnswer):
		return fallbackName(members[0].Phrase), total, nil
	case err != nil:
		return clusterName{}, total, err
	}
	return clusterName{Name: name.Name, Description: name.Description, Source: store.NameByModel}, total, nil
}

// fallbackName names a cluster after its most central keyword, in title
// case (ai.TitleName).
func fallbackName(phrase string) clusterName {
	phrase = strings.Join(strings.Fields(phrase), " ")
	if utf8.RuneCountInString(phrase) > maxFallbackNameRunes {
		phrase = string([]rune(phrase)[:maxFallbackNameRunes])
	}
	name := ai.TitleName(phrase, []string{phrase})
	return clusterName{Name: name, Description: "Searches around “" + phrase + "”.", Source: store.NameByFallback}
}

func (n clusterName) cluster(members []store.Keyword) store.NewCluster {
	ids := make([]int64, len(members))
	for i, k := range members {
		ids[i] = k.ID
	}
	return store.NewCluster{Name: n.Name, Description: n.Description, NameSource: n.Source, KeywordIDs: ids}
}

// indexIDs returns the ids of keywords at the indexes members.
func indexIDs(keywords []store.Keyword, members []int) []int64 {
	ids := make([]int64, len(members))
	for i, m := range members {
		ids[i] = keywords[m].ID
	}
	return ids
}

// keywordInfos returns up to limit keywords, most central first.
func keywordInfos(members []store.Keyword, limit int) []ai.KeywordInfo {
	infos := make([]ai.KeywordInfo, 0, min(limit, len(members)))
	for _, k := range members[:min(limit, len(members))] {
		infos = append(infos, keywordInfo(k))
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
