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
	"github.com/presswork/presswork/internal/errs"
	"github.com/presswork/presswork/internal/store"
	"github.com/presswork/presswork/internal/tasks"
)

const (
	// namingParallelism bounds concurrent naming calls of one clustering job.
	namingParallelism = 4
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
	profileStore
	GetJob(ctx context.Context, tenantID int64, id string) (store.Job, error)
	ReleasableClusters(ctx context.Context, tenantID, siteID int64) ([]int64, error)
	ClusterableKeywords(ctx context.Context, tenantID, siteID int64, release []int64, limit int) ([]store.Keyword, error)
	ClusterableByIDs(ctx context.Context, tenantID, siteID int64, release, ids []int64) ([]store.Keyword, error)
	ClusterCentroids(ctx context.Context, tenantID, siteID int64, model string) ([]store.ClusterCentroid, error)
	ClusterPhrases(ctx context.Context, tenantID, siteID int64, ids []int64) (map[int64][]string, error)
	StartJobCosting(ctx context.Context, tenantID int64, jobID string, cost int64, phase string) (store.Job, error)
	GetSite(ctx context.Context, tenantID, id int64) (store.Site, error)
	MarkOutliers(ctx context.Context, tenantID, siteID int64, jobID string, ids []int64) error
	ListClusters(ctx context.Context, tenantID, siteID int64, page store.Page) ([]store.Cluster, error)
	SetPhase(ctx context.Context, jobID, phase string) error
	SaveClustering(ctx context.Context, o store.Outcome, siteID int64, c store.Clustering) error
	embeddingCache
}

// Clusterer runs keywords:cluster jobs.
type Clusterer struct {
	store             clusterStore
	models            *Models
	keywordsPerCredit int64
	retry             callRetry
}

// grouping is a clustering's checkpointed decisions: the keyword ids of
// each new group, most central first, of the keywords that join existing
// clusters, and of the outliers; for a re-cluster, the clusters it
// replaces.
type grouping struct {
	Clusters [][]int64 `json:"clusters"`
	Outliers []int64   `json:"outliers"`
	Joins    []joining `json:"joins,omitempty"`
	Release  []int64   `json:"release,omitempty"`
}

// joining is keywords that join an existing cluster.
type joining struct {
	Cluster  int64   `json:"cluster"`
	Keywords []int64 `json:"keywords"`
}

func (g grouping) keywordIDs() []int64 {
	ids := append([]int64(nil), g.Outliers...)
	for _, c := range g.Clusters {
		ids = append(ids, c...)
	}
	for _, j := range g.Joins {
		ids = append(ids, j.Keywords...)
	}
	return ids
}

// clusterName is a group's checkpointed name.
type clusterName struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	Source      string `json:"source"`
}

// target is an existing cluster new keywords may join, with its centroid
// (recomputed from its members' vectors when none was kept) and what the
// job saw of it (see store.ClusterJoin).
type target struct {
	store.ClusterCentroid
	seenKeywords, seenSize int
}

// Work groups a site's unclustered keywords (the subject is the site),
// names each group and stores the clusters. Its cost is settled on the
// keywords actually clustered; outliers stay unclustered and free, marked
// as this job's so that automation leaves them until new keywords arrive.
// Every unclustered keyword is taken, outliers of earlier jobs too: a job
// started by hand is how they are tried again.
//
// Clustering is incremental (#21): a keyword that fits one of the site's
// clusters (its centroid is Threshold similar; see cluster.Join) joins it
// before the rest are grouped, and an outlier of the grouping joins one
// when it is AttachThreshold similar, so clusters grow instead of gaining
// parallel ones. Joining keywords are clustered keywords: charged alike.
// Locked clusters take nothing. A re-cluster (tasks.ClusterParams) also
// takes the keywords of the clusters neither locked, edited nor holding
// ideas and replaces those clusters; edited clusters take nothing then
// either. Centroids are kept in the clusters' rows (store.Clustering).
//
// The work is checkpointed: vectors are cached by tenant, model and text
// as each embeddings call answers; the grouping (joins included) is saved
// before naming starts and each name as it comes. A retried job reads them
// back, so it never pays twice for an embedding or a name, nor decides
// differently. A group whose name cannot be had from the model (unusable
// answers twice over) is named after its most central keyword and marked
// so (store.NameByFallback); provider errors that outlast the call's
// retries fail the attempt instead, to be resumed by the job's retry.
func (c *Clusterer) Work(ctx context.Context, p tasks.Payload) error {
	saved, err := c.store.Checkpoints(ctx, p.TenantID, p.JobID, "")
	if err != nil {
		return err
	}
	params, err := c.params(ctx, p)
	if err != nil {
		return err
	}
	plan, hasPlan := savedGrouping(saved)
	if !hasPlan && params.Recluster {
		if plan.Release, err = c.store.ReleasableClusters(ctx, p.TenantID, p.SubjectID); err != nil {
			return fmt.Errorf("clusters to replace: %w", err)
		}
	}
	keywords, err := c.keywords(ctx, p, plan, hasPlan)
	if err != nil {
		return fmt.Errorf("load keywords: %w", err)
	}
	job, err := c.store.StartJobCosting(ctx, p.TenantID, p.JobID, c.cost(params, int64(len(keywords))), "embedding")
	if err != nil {
		return err
	}
	// A retry keeps the first attempt's reservation: cluster no more than it covers.
	if covered := c.covered(params, job.CreditsReserved); int64(len(keywords)) > covered {
		keywords = keywords[:covered]
	}
	site, err := c.store.GetSite(ctx, p.TenantID, p.SubjectID)
	if err != nil {
		return err
	}
	opt, err := cluster.Strictness(site.Clustering).Options()
	if err != nil {
		return err
	}
	writer, embedder, err := c.models.For(ctx, p.TenantID, ai.StageClusterName)
	if err != nil {
		return err
	}
	targets, usage, err := c.targets(ctx, p, embedder, plan.Release, params.Recluster)
	if err != nil {
		return err
	}
	var vectors map[int64][]float32
	var u ai.Usage
	if hasPlan {
		vectors, u, err = c.keywordVectors(ctx, p.TenantID, embedder, keywords)
	} else {
		plan, vectors, u, err = c.group(ctx, p, embedder, keywords, opt, targets, plan.Release)
	}
	usage.Add(u)
	if err != nil {
		return err
	}
	groups, joins, outliers := plan.resolve(keywords)
	// Automation does not cluster these again on their own (they would stay
	// outliers and cost embeddings each time) once this job has succeeded.
	if err := c.store.MarkOutliers(ctx, p.TenantID, site.ID, p.JobID, outliers); err != nil {
		return err
	}
	if err := c.store.SetPhase(ctx, p.JobID, "naming"); err != nil {
		return err
	}
	taken, err := c.siteClusterNames(ctx, p.TenantID, site.ID, plan.Release)
	if err != nil {
		return err
	}
	profile, err := siteProfile(ctx, c.store, p.TenantID, site.ID)
	if err != nil {
		return err
	}
	clusters, nameUsage, err := c.nameClusters(ctx, p, writer, site.Name, profile, groups, saved, taken)
	usage.Add(nameUsage)
	if err != nil {
		return err
	}
	for i := range clusters {
		clusters[i].Centroid, clusters[i].CentroidSize = cluster.Mean(vectorsOf(vectors, clusters[i].KeywordIDs))
	}
	clustered := int64(len(keywords) - len(outliers))
	fallbacks := 0
	for _, cl := range clusters {
		if cl.NameSource == store.NameByFallback {
			fallbacks++
		}
	}
	joined := 0
	for _, j := range joins {
		joined += len(j.Keywords)
	}
	result := map[string]any{
		"clusters": len(clusters), "keywords_clustered": clustered, "outliers": len(outliers),
		"names_fallback": fallbacks, "keywords_joined": joined, "clusters_grown": len(joins),
	}
	if params.Recluster {
		result["clusters_replaced"] = len(plan.Release)
	}
	done := outcome(p, job, c.cost(params, clustered), usage, result)
	return c.store.SaveClustering(ctx, done, site.ID, store.Clustering{Model: embedModel(embedder), New: clusters,
		Joins: centroidJoins(targets, joins, vectors), Release: plan.Release, Outliers: outliers})
}

// cost is the credits of clustering n keywords: their base cost times the
// credit multiplier the job was quoted with.
func (c *Clusterer) cost(params tasks.ClusterParams, n int64) int64 {
	base := tasks.ClusterCost(n, c.keywordsPerCredit)
	if params.CreditMultiplier <= 0 {
		return base
	}
	return store.AIModel{CreditMultiplier: params.CreditMultiplier}.Credits(base)
}

// covered is how many keywords reserved credits pay for.
func (c *Clusterer) covered(params tasks.ClusterParams, reserved int64) int64 {
	n := reserved * c.keywordsPerCredit
	for n > 0 && c.cost(params, n) > reserved {
		n -= c.keywordsPerCredit
	}
	return max(n, 0)
}

// params reads the job's parameters.
func (c *Clusterer) params(ctx context.Context, p tasks.Payload) (tasks.ClusterParams, error) {
	job, err := c.store.GetJob(ctx, p.TenantID, p.JobID)
	if err != nil {
		return tasks.ClusterParams{}, err
	}
	var params tasks.ClusterParams
	if len(job.Params) > 0 {
		if err := json.Unmarshal(job.Params, &params); err != nil {
			return params, errs.Permanent(fmt.Errorf("clustering job has invalid parameters %s", job.Params))
		}
	}
	return params, nil
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
// that are still to be clustered, or the site's unclustered keywords (and
// a re-cluster's released ones).
func (c *Clusterer) keywords(ctx context.Context, p tasks.Payload, plan grouping, hasPlan bool) ([]store.Keyword, error) {
	if hasPlan {
		return c.store.ClusterableByIDs(ctx, p.TenantID, p.SubjectID, plan.Release, plan.keywordIDs())
	}
	return c.store.ClusterableKeywords(ctx, p.TenantID, p.SubjectID, plan.Release, tasks.MaxKeywordsPerClustering)
}

// targets returns the site's clusters new keywords may join: all but the
// locked ones and those a re-cluster replaces, and for a re-cluster not
// the edited ones either. A cluster whose centroid was not kept for the
// embedder's model (an edit cleared it, or the model changed) gets it
// recomputed from its members' vectors, cached ones mostly.
func (c *Clusterer) targets(ctx context.Context, p tasks.Payload, embedder ai.Embedder, release []int64,
	recluster bool) ([]target, ai.Usage, error) {
	all, err := c.store.ClusterCentroids(ctx, p.TenantID, p.SubjectID, embedModel(embedder))
	if err != nil {
		return nil, ai.Usage{}, fmt.Errorf("cluster centroids: %w", err)
	}
	released := setOf(release)
	var out []target
	var stale []int64
	for _, cl := range all {
		if cl.Locked || recluster && cl.Edited || released[cl.ClusterID] {
			continue
		}
		if cl.Centroid == nil {
			stale = append(stale, cl.ClusterID)
			cl.Size = 0
		}
		out = append(out, target{ClusterCentroid: cl, seenKeywords: cl.KeywordCount, seenSize: cl.Size})
	}
	if len(stale) == 0 {
		return out, ai.Usage{}, nil
	}
	phrases, err := c.store.ClusterPhrases(ctx, p.TenantID, p.SubjectID, stale)
	if err != nil {
		return nil, ai.Usage{}, fmt.Errorf("members of clusters: %w", err)
	}
	var texts []string
	for _, id := range stale {
		texts = append(texts, phrases[id]...)
	}
	vectors, usage, err := c.embed(ctx, p.TenantID, embedder, texts)
	if err != nil {
		return nil, usage, fmt.Errorf("embed cluster members: %w", err)
	}
	at := 0
	for i := range out {
		if out[i].Centroid != nil {
			continue
		}
		n := len(phrases[out[i].ClusterID])
		out[i].Centroid, out[i].Size = cluster.Mean(vectors[at : at+n])
		out[i].seenKeywords = n
		at += n
	}
	return slices.DeleteFunc(out, func(t target) bool { return t.Centroid == nil }), usage, nil
}

// group embeds the keywords (what the cache lacks), lets those that fit an
// existing cluster join it, groups the rest as strictly as the site asks,
// gives the grouping's outliers a second chance at the existing clusters
// and checkpoints the outcome. It returns the keywords' vectors by id.
func (c *Clusterer) group(ctx context.Context, p tasks.Payload, embedder ai.Embedder, keywords []store.Keyword,
	opt cluster.Options, targets []target, release []int64) (grouping, map[int64][]float32, ai.Usage, error) {
	phrases := make([]string, len(keywords))
	for i, k := range keywords {
		phrases[i] = k.Phrase
	}
	// A comparison ("x vs y") is placed by its sides when it fits nowhere
	// as a whole: they are embedded with the phrases.
	sides, at := cluster.ComparisonTexts(phrases)
	vectors, usage, err := c.embed(ctx, p.TenantID, embedder, slices.Concat(phrases, sides))
	if err != nil {
		return grouping{}, nil, usage, fmt.Errorf("embed keywords: %w", err)
	}
	if err := c.store.SetPhase(ctx, p.JobID, "grouping"); err != nil {
		return grouping{}, nil, usage, err
	}
	kv := vectors[:len(phrases)]
	existing := make([]cluster.Existing, len(targets))
	for i, t := range targets {
		existing[i] = cluster.Existing{Mean: t.Centroid, Size: t.seenKeywords}
	}
	joinedTo, err := cluster.Join(ctx, kv, existing, opt, false)
	if err != nil {
		return grouping{}, nil, usage, err
	}
	var rest []int // indexes into keywords of those joining nothing
	for i, t := range joinedTo {
		if t < 0 {
			rest = append(rest, i)
		} else {
			existing[t].Size++
		}
	}
	res, err := cluster.GroupComparing(ctx, pick(kv, rest), pick(phrases, rest), restComparisons(cluster.Comparisons(at, vectors[len(phrases):]), rest), opt)
	if err != nil {
		return grouping{}, nil, usage, err
	}
	outliers := pickInts(rest, res.Outliers)
	late, err := cluster.Join(ctx, pick(kv, outliers), existing, opt, true)
	if err != nil {
		return grouping{}, nil, usage, err
	}
	g := grouping{Clusters: make([][]int64, len(res.Clusters)), Release: release}
	for n, i := range outliers {
		if late[n] >= 0 {
			joinedTo[i] = late[n]
		} else {
			g.Outliers = append(g.Outliers, keywords[i].ID)
		}
	}
	for i, members := range res.Clusters {
		g.Clusters[i] = indexIDs(keywords, pickInts(rest, members))
	}
	g.Joins = joinings(keywords, targets, joinedTo)
	byID := make(map[int64][]float32, len(keywords))
	for i, k := range keywords {
		byID[k.ID] = kv[i]
	}
	return g, byID, usage, c.store.SaveCheckpoint(ctx, p.TenantID, p.JobID, stepGrouping, g)
}

// keywordVectors returns the keywords' vectors by id: from the cache, as the
// attempt that grouped them embedded them.
func (c *Clusterer) keywordVectors(ctx context.Context, tenantID int64, embedder ai.Embedder,
	keywords []store.Keyword) (map[int64][]float32, ai.Usage, error) {
	phrases := make([]string, len(keywords))
	for i, k := range keywords {
		phrases[i] = k.Phrase
	}
	vectors, usage, err := c.embed(ctx, tenantID, embedder, phrases)
	if err != nil {
		return nil, usage, fmt.Errorf("embed keywords: %w", err)
	}
	byID := make(map[int64][]float32, len(keywords))
	for i, k := range keywords {
		byID[k.ID] = vectors[i]
	}
	return byID, usage, nil
}

// joinings gathers the keywords joining each target (joinedTo holds a
// target index per keyword, or -1), in target order.
func joinings(keywords []store.Keyword, targets []target, joinedTo []int) []joining {
	byTarget := make([][]int64, len(targets))
	for i, t := range joinedTo {
		if t >= 0 {
			byTarget[t] = append(byTarget[t], keywords[i].ID)
		}
	}
	var out []joining
	for t, ids := range byTarget {
		if len(ids) > 0 {
			out = append(out, joining{Cluster: targets[t].ClusterID, Keywords: ids})
		}
	}
	return out
}

// centroidJoins returns what the store writes for existing clusters: the
// keywords joining each, with its centroid as a running mean over them,
// and the centroids recomputed for clusters nothing joined.
func centroidJoins(targets []target, joins []joining, vectors map[int64][]float32) []store.ClusterJoin {
	byID := make(map[int64]target, len(targets))
	for _, t := range targets {
		byID[t.ClusterID] = t
	}
	var out []store.ClusterJoin
	grown := make(map[int64]bool, len(joins))
	for _, j := range joins {
		cj := store.ClusterJoin{ClusterID: j.Cluster, KeywordIDs: j.Keywords}
		// A cluster no longer a target (locked, or gone, since the joins
		// were decided) gets no centroid: the store clears it.
		if t, ok := byID[j.Cluster]; ok {
			cj.Centroid, cj.Size = cluster.AddMean(t.Centroid, t.Size, vectorsOf(vectors, j.Keywords))
			cj.SeenKeywords, cj.SeenSize = t.seenKeywords, t.seenSize
		}
		out = append(out, cj)
		grown[j.Cluster] = true
	}
	for _, t := range targets {
		if t.seenSize == 0 && !grown[t.ClusterID] {
			out = append(out, store.ClusterJoin{ClusterID: t.ClusterID, Centroid: t.Centroid, Size: t.Size,
				SeenKeywords: t.seenKeywords})
		}
	}
	return out
}

// vectorsOf returns the vectors of the keywords ids that vectors holds.
func vectorsOf(vectors map[int64][]float32, ids []int64) [][]float32 {
	out := make([][]float32, 0, len(ids))
	for _, id := range ids {
		if v, ok := vectors[id]; ok {
			out = append(out, v)
		}
	}
	return out
}

func setOf(ids []int64) map[int64]bool {
	set := make(map[int64]bool, len(ids))
	for _, id := range ids {
		set[id] = true
	}
	return set
}

// pick returns the elements (vectors, phrases) at the indexes at.
func pick[T any](xs []T, at []int) []T {
	out := make([]T, len(at))
	for n, i := range at {
		out[n] = xs[i]
	}
	return out
}

// pickInts returns outer[i] for each i of inner: indexes into a subset
// mapped back to the whole.
func pickInts(outer, inner []int) []int {
	out := make([]int, len(inner))
	for n, i := range inner {
		out[n] = outer[i]
	}
	return out
}

// restComparisons keeps the comparisons among the keywords rest, with
// their indexes into rest.
func restComparisons(comparisons []cluster.Comparison, rest []int) []cluster.Comparison {
	pos := make(map[int]int, len(rest))
	for n, i := range rest {
		pos[i] = n
	}
	var out []cluster.Comparison
	for _, cp := range comparisons {
		if n, ok := pos[cp.Index]; ok {
			cp.Index = n
			out = append(out, cp)
		}
	}
	return out
}

// embed returns the vectors of texts, through the tenant's embedding cache.
func (c *Clusterer) embed(ctx context.Context, tenantID int64, embedder ai.Embedder, texts []string) ([][]float32, ai.Usage, error) {
	return embedCached(ctx, c.store, c.retry, tenantID, embedder, texts)
}

// resolve returns the groups of g as keywords, most central first, the
// joins and the outliers' ids, keeping only keywords among those given (a
// keyword clustered or deleted since g was saved is left out; an empty
// group goes, an empty join too).
func (g grouping) resolve(keywords []store.Keyword) (groups [][]store.Keyword, joins []joining, outliers []int64) {
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
	for _, j := range g.Joins {
		var ids []int64
		for _, id := range j.Keywords {
			if _, ok := byID[id]; ok {
				ids = append(ids, id)
			}
		}
		if len(ids) > 0 {
			joins = append(joins, joining{Cluster: j.Cluster, Keywords: ids})
		}
	}
	for _, id := range g.Outliers {
		if _, ok := byID[id]; ok {
			outliers = append(outliers, id)
		}
	}
	return groups, joins, outliers
}

// nameClusters names each group, a few at a time, checkpointing each name
// as it comes; names saved by an earlier attempt are reused. After a
// failure no new name is asked for, but the calls in flight finish and
// keep their names: they are paid for. A group left empty is skipped (its
// index keeps its checkpoint step). Names are then made unique on the site
// (taken holds the ai.NameKey of its names).
func (c *Clusterer) nameClusters(ctx context.Context, p tasks.Payload, writer *ai.Writer, siteName string, profile ai.Profile,
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
			name, usage, err := c.nameOne(ctx, writer, siteName, profile, members)
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

// siteClusterNames returns the ai.NameKey of each of a site's cluster
// names, but those of the clusters a re-cluster replaces (release).
func (c *Clusterer) siteClusterNames(ctx context.Context, tenantID, siteID int64, release []int64) (map[string]bool, error) {
	taken := map[string]bool{}
	released := setOf(release)
	page := store.Page{Limit: 500}
	for {
		cs, err := c.store.ListClusters(ctx, tenantID, siteID, page)
		if err != nil {
			return nil, fmt.Errorf("list cluster names: %w", err)
		}
		for _, cl := range cs {
			if !released[cl.ID] {
				taken[ai.NameKey(cl.Name)] = true
			}
		}
		if len(cs) < page.Limit {
			return taken, nil
		}
		page.After = cs[len(cs)-1].ID
	}
}

// nameOne asks the model for a group's name (callRetry.ask); when its
// answers stay unusable the group is named after its most central keyword.
func (c *Clusterer) nameOne(ctx context.Context, writer *ai.Writer, siteName string, profile ai.Profile,
	members []store.Keyword) (clusterName, ai.Usage, error) {
	// The model sees the ten most central keywords and the cluster's size.
	in := ai.ClusterNameInput{SiteName: siteName, Keywords: keywordInfos(members, 10), KeywordCount: len(members)}
	in.Profile = profile // its language names the cluster
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
