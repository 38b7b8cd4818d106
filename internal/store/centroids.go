package store

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// Incremental clustering (#21). A clustering job keeps each cluster's
// centroid (migration 00024) so that keywords imported later join the
// clusters they fit, and a re-cluster replaces the clusters nobody shaped:
// those neither locked, edited nor holding ideas. A cluster with ideas is
// kept with its keywords, like an edited one: its ideas, and the drafts
// and posts written from them, were written for those keywords, and
// deleting the cluster would delete them.

// releasable is the condition on a cluster c that a re-cluster replaces.
const releasable = `NOT c.locked AND NOT c.edited AND NOT EXISTS (SELECT 1 FROM ideas i WHERE i.cluster_id = c.id)`

// ClusterCentroid is a cluster as a clustering job reads it to let new
// keywords join it.
type ClusterCentroid struct {
	ClusterID    int64
	KeywordCount int
	Locked       bool
	Edited       bool
	// Centroid is the mean of the members' unit vectors, nil when none is
	// kept for the model asked for (never computed, cleared by an edit, or
	// computed with another model); Size is how many members it is over.
	Centroid []float32
	Size     int
}

// ClusterCentroids returns the site's clusters in id order with their
// centroids of the embedding model model.
func (s *Store) ClusterCentroids(ctx context.Context, tenantID, siteID int64, model string) ([]ClusterCentroid, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, keyword_count, locked, edited,
			CASE WHEN centroid_model = $3 THEN centroid END, CASE WHEN centroid_model = $3 THEN centroid_size ELSE 0 END
		FROM clusters WHERE tenant_id = $1 AND site_id = $2 ORDER BY id`, tenantID, siteID, model)
	if err != nil {
		return nil, translate(err)
	}
	return collect(rows, func(r pgx.Row) (c ClusterCentroid, err error) {
		err = r.Scan(&c.ClusterID, &c.KeywordCount, &c.Locked, &c.Edited, &c.Centroid, &c.Size)
		return c, err
	})
}

// ClusterPhrases returns the phrases of the keywords of the site's
// clusters ids, by cluster, in keyword id order.
func (s *Store) ClusterPhrases(ctx context.Context, tenantID, siteID int64, ids []int64) (map[int64][]string, error) {
	rows, err := s.pool.Query(ctx, `SELECT cluster_id, phrase FROM keywords
		WHERE tenant_id = $1 AND site_id = $2 AND cluster_id = ANY($3) ORDER BY cluster_id, id`, tenantID, siteID, ids)
	if err != nil {
		return nil, translate(err)
	}
	out := map[int64][]string{}
	var id int64
	var phrase string
	_, err = pgx.ForEachRow(rows, []any{&id, &phrase}, func() error {
		out[id] = append(out[id], phrase)
		return nil
	})
	return out, translate(err)
}

// ReleasableClusters returns the ids of the site's clusters a re-cluster
// replaces: neither locked, edited nor holding ideas.
func (s *Store) ReleasableClusters(ctx context.Context, tenantID, siteID int64) ([]int64, error) {
	rows, err := s.pool.Query(ctx, `SELECT c.id FROM clusters c
		WHERE c.tenant_id = $1 AND c.site_id = $2 AND `+releasable+` ORDER BY c.id`, tenantID, siteID)
	if err != nil {
		return nil, translate(err)
	}
	return collect(rows, func(r pgx.Row) (id int64, err error) { return id, r.Scan(&id) })
}

// CountReclusterable counts the keywords a re-cluster of the site takes:
// the unclustered ones and those of its releasable clusters.
func (s *Store) CountReclusterable(ctx context.Context, tenantID, siteID int64) (int64, error) {
	var n int64
	err := s.pool.QueryRow(ctx, `SELECT count(*) FROM keywords k WHERE k.tenant_id = $1 AND k.site_id = $2
		AND (k.cluster_id IS NULL OR k.cluster_id IN (SELECT c.id FROM clusters c
			WHERE c.tenant_id = $1 AND c.site_id = $2 AND `+releasable+`))`, tenantID, siteID).Scan(&n)
	return n, translate(err)
}

// ClusterableKeywords returns up to limit of the site's keywords, in id
// order, that a clustering takes: those in no cluster and those of the
// clusters release (a re-cluster's) that are still releasable.
func (s *Store) ClusterableKeywords(ctx context.Context, tenantID, siteID int64, release []int64, limit int) ([]Keyword, error) {
	return s.clusterable(ctx, tenantID, siteID, release, nil, limit)
}

// ClusterableByIDs is ClusterableKeywords among the keywords ids.
func (s *Store) ClusterableByIDs(ctx context.Context, tenantID, siteID int64, release, ids []int64) ([]Keyword, error) {
	return s.clusterable(ctx, tenantID, siteID, release, ids, len(ids))
}

func (s *Store) clusterable(ctx context.Context, tenantID, siteID int64, release, ids []int64, limit int) ([]Keyword, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+keywordColumns+` FROM keywords
		WHERE tenant_id = $1 AND site_id = $2 AND ($3::bigint[] IS NULL OR id = ANY($3))
		  AND (cluster_id IS NULL OR cluster_id IN (SELECT c.id FROM clusters c
			WHERE c.tenant_id = $1 AND c.site_id = $2 AND c.id = ANY($4) AND `+releasable+`))
		ORDER BY id LIMIT $5`, tenantID, siteID, ids, release, limit)
	if err != nil {
		return nil, translate(err)
	}
	return collect(rows, scanKeyword)
}

// Clustering is what a clustering job saves (SaveClustering).
type Clustering struct {
	// Model is the embedding model the centroids were computed with; ""
	// keeps none.
	Model string
	// New are the clusters found among the keywords that joined none.
	New []NewCluster
	// Joins are the keywords that join existing clusters, and centroids
	// recomputed for existing clusters (a join with no keywords).
	Joins []ClusterJoin
	// Release lists the clusters a re-cluster replaces; those still
	// releasable are deleted before anything is assigned, their keywords
	// free to go to the new clusters or to join kept ones.
	Release []int64
	// Outliers are keywords the job left in no cluster: marked as its
	// outliers (see MarkOutliers) once released from their clusters.
	Outliers []int64
}

// ClusterJoin is keywords joining an existing cluster and its centroid
// with them. The centroid is written only if the cluster is as the job
// read it: SeenKeywords keywords, besides the joining ones, and a centroid
// over SeenSize members (0: none was kept). Otherwise (an edit meanwhile, a
// joining keyword clustered by someone else) it is cleared, to be
// recomputed by the next clustering.
type ClusterJoin struct {
	ClusterID    int64
	KeywordIDs   []int64
	Centroid     []float32
	Size         int
	SeenKeywords int
	SeenSize     int
}

// SaveClustering stores a clustering job's work and finishes the job, in
// one transaction, after locking the site's row as cluster edits do (so
// an edit happens wholly before or after it): it deletes the clusters it
// releases that are still releasable, inserts the new clusters with their
// keywords, adds the joining keywords to their clusters (a cluster locked
// meanwhile takes none), keeps the centroids and marks the outliers.
// Keywords that another job or an edit clustered meanwhile are left where
// they are; a new cluster left with none is not kept.
func (s *Store) SaveClustering(ctx context.Context, o Outcome, siteID int64, c Clustering) error {
	return s.transact(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT 1 FROM sites WHERE tenant_id = $1 AND id = $2 FOR NO KEY UPDATE`,
			o.TenantID, siteID); err != nil {
			return fmt.Errorf("lock site %d: %w", siteID, err)
		}
		if len(c.Release) > 0 {
			if _, err := tx.Exec(ctx, `DELETE FROM clusters c WHERE c.tenant_id = $1 AND c.site_id = $2
				AND c.id = ANY($3) AND `+releasable, o.TenantID, siteID, c.Release); err != nil {
				return fmt.Errorf("release clusters: %w", err)
			}
		}
		for _, nc := range c.New {
			if err := insertCluster(ctx, tx, o, siteID, c.Model, nc); err != nil {
				return err
			}
		}
		for _, j := range c.Joins {
			if err := joinCluster(ctx, tx, o, siteID, c.Model, j); err != nil {
				return err
			}
		}
		if len(c.Outliers) > 0 {
			if _, err := tx.Exec(ctx, `UPDATE keywords SET outlier_job = $4
				WHERE tenant_id = $1 AND site_id = $2 AND id = ANY($3) AND cluster_id IS NULL`,
				o.TenantID, siteID, c.Outliers, o.JobID); err != nil {
				return fmt.Errorf("mark outliers: %w", err)
			}
		}
		return finishJob(ctx, tx, o)
	})
}

// insertCluster inserts a new cluster and assigns it its keywords still
// in no cluster; its centroid is kept only if it got them all.
func insertCluster(ctx context.Context, tx pgx.Tx, o Outcome, siteID int64, model string, nc NewCluster) error {
	var id int64
	centroid, size, centroidModel := nc.Centroid, nc.CentroidSize, model
	if centroid == nil || size < 1 || model == "" {
		centroid, size, centroidModel = nil, 0, ""
	}
	err := tx.QueryRow(ctx, `INSERT INTO clusters (tenant_id, site_id, job_id, name, description,
		name_source, keyword_count, centroid, centroid_model, centroid_size)
		VALUES ($1, $2, $3, $4, $5, coalesce(nullif($6, ''), 'model'), $7, $8, nullif($9, ''), nullif($10, 0)) RETURNING id`,
		o.TenantID, siteID, o.JobID, nc.Name, nc.Description, nc.NameSource, len(nc.KeywordIDs),
		centroid, centroidModel, size).Scan(&id)
	if err != nil {
		return fmt.Errorf("insert cluster: %w", err)
	}
	tag, err := tx.Exec(ctx, `UPDATE keywords SET cluster_id = $1, outlier_job = NULL
		WHERE tenant_id = $2 AND site_id = $3 AND id = ANY($4) AND cluster_id IS NULL`,
		id, o.TenantID, siteID, nc.KeywordIDs)
	if err != nil {
		return fmt.Errorf("assign keywords: %w", err)
	}
	switch n := tag.RowsAffected(); {
	case n == 0:
		_, err = tx.Exec(ctx, `DELETE FROM clusters WHERE id = $1`, id)
	case n < int64(len(nc.KeywordIDs)):
		_, err = tx.Exec(ctx, `UPDATE clusters SET keyword_count = $2, centroid = NULL, centroid_model = NULL,
			centroid_size = NULL WHERE id = $1`, id, n)
	}
	if err != nil {
		return fmt.Errorf("recount cluster: %w", err)
	}
	return nil
}

// joinCluster adds j's keywords still in no cluster to its cluster, unless
// the cluster is locked or gone, recounts the cluster and keeps or clears
// its centroid (see ClusterJoin).
func joinCluster(ctx context.Context, tx pgx.Tx, o Outcome, siteID int64, model string, j ClusterJoin) error {
	var joined int64
	if len(j.KeywordIDs) > 0 {
		tag, err := tx.Exec(ctx, `UPDATE keywords SET cluster_id = $4, outlier_job = NULL
			WHERE tenant_id = $1 AND site_id = $2 AND id = ANY($3) AND cluster_id IS NULL
			  AND EXISTS (SELECT 1 FROM clusters c WHERE c.tenant_id = $1 AND c.id = $4 AND NOT c.locked)`,
			o.TenantID, siteID, j.KeywordIDs, j.ClusterID)
		if err != nil {
			return fmt.Errorf("join keywords to cluster %d: %w", j.ClusterID, err)
		}
		joined = tag.RowsAffected()
	}
	centroid := j.Centroid
	if j.Size < 1 || model == "" {
		centroid = nil
	}
	_, err := tx.Exec(ctx, `WITH n AS (SELECT count(*) AS n FROM keywords WHERE tenant_id = $1 AND cluster_id = $2),
		seen AS (SELECT id, $3::real[] IS NOT NULL AND (SELECT n FROM n) = $6
			AND CASE WHEN centroid_model = $4 THEN centroid_size ELSE 0 END = $7 AS keep
			FROM clusters WHERE tenant_id = $1 AND id = $2)
		UPDATE clusters c SET keyword_count = n.n,
			centroid = CASE WHEN seen.keep THEN $3::real[] END,
			centroid_model = CASE WHEN seen.keep THEN $4 END,
			centroid_size = CASE WHEN seen.keep THEN $5::integer END
		FROM n, seen WHERE c.id = seen.id AND NOT c.locked`,
		o.TenantID, j.ClusterID, centroid, model, j.Size, int64(j.SeenKeywords)+joined, j.SeenSize)
	if err != nil {
		return fmt.Errorf("keep centroid of cluster %d: %w", j.ClusterID, err)
	}
	return nil
}
