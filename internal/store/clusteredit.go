package store

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"

	"github.com/presswork/presswork/internal/errs"
)

// Editor says who edits a cluster. A locked cluster refuses edits by
// automation (a conflict); its user may still edit it, since locking is
// there to protect the cluster from the algorithm, not from its editor.
type Editor int

// Who edits a cluster.
const (
	ByUser Editor = iota
	ByAutomation
)

// Everything an edit names is checked in the transaction that makes it,
// after locking the site's row: edits of one site's clusters happen one
// at a time, so a name checked unique stays unique and a keyword checked
// in a cluster stays there until the edit commits.

// ClusterPatch is what PATCH /v1/clusters/:id changes; nil fields are kept.
type ClusterPatch struct {
	Name, Description *string
	Locked            *bool
}

// UpdateCluster renames, describes, locks or unlocks a cluster. A new name
// makes name_source user; a name another cluster of the site has (ignoring
// case) is a conflict naming it. Locking is no edit of the cluster's
// content: it leaves edited as it is.
func (s *Store) UpdateCluster(ctx context.Context, tenantID, id int64, p ClusterPatch, by Editor) (Cluster, error) {
	var c Cluster
	err := s.transact(ctx, func(tx pgx.Tx) error {
		cur, err := lockCluster(ctx, tx, tenantID, id, by)
		if err != nil {
			return err
		}
		if p.Name != nil {
			if err := uniqueName(ctx, tx, cur.SiteID, *p.Name, id); err != nil {
				return err
			}
		}
		c, err = scanCluster(tx.QueryRow(ctx, `UPDATE clusters SET
			name = coalesce($3, name), description = coalesce($4, description), locked = coalesce($5, locked),
			name_source = CASE WHEN $3::text IS NULL AND $4::text IS NULL THEN name_source ELSE 'user' END
			WHERE tenant_id = $1 AND id = $2 RETURNING `+clusterColumns, tenantID, id, p.Name, p.Description, p.Locked))
		return err
	})
	return c, err
}

// MergeClusters moves the keywords and ideas of the clusters ids into the
// cluster into, deletes them, and names into name when name is given. All
// must be clusters of one site; into may not be among ids.
func (s *Store) MergeClusters(ctx context.Context, tenantID, into int64, ids []int64, name string, by Editor) (Cluster, error) {
	var c Cluster
	err := s.transact(ctx, func(tx pgx.Tx) error {
		target, err := lockCluster(ctx, tx, tenantID, into, by)
		if err != nil {
			return err
		}
		for _, id := range ids {
			src, err := lockCluster(ctx, tx, tenantID, id, by)
			if err != nil {
				return err
			}
			if src.SiteID != target.SiteID {
				return errs.Invalid("cluster_ids", "cluster %d is of another site than cluster %d", id, into)
			}
		}
		if name != "" {
			if err := uniqueName(ctx, tx, target.SiteID, name, append([]int64{into}, ids...)...); err != nil {
				return err
			}
		}
		for _, q := range []string{
			`UPDATE keywords SET cluster_id = $2 WHERE tenant_id = $1 AND cluster_id = ANY($3)`,
			// The merged clusters' ideas are about the same topic now: they
			// follow their keywords rather than vanish with their cluster.
			`UPDATE ideas SET cluster_id = $2 WHERE tenant_id = $1 AND cluster_id = ANY($3)`,
			`DELETE FROM clusters WHERE tenant_id = $1 AND id <> $2 AND id = ANY($3)`,
		} {
			if _, err := tx.Exec(ctx, q, tenantID, into, ids); err != nil {
				return fmt.Errorf("merge clusters: %w", err)
			}
		}
		if name != "" {
			if _, err := tx.Exec(ctx, `UPDATE clusters SET name = $3, name_source = 'user' WHERE tenant_id = $1 AND id = $2`,
				tenantID, into, name); err != nil {
				return fmt.Errorf("name merged cluster: %w", err)
			}
		}
		c, err = touchClusters(ctx, tx, tenantID, into)
		return err
	})
	return c, err
}

// SplitCluster makes a new cluster named name of the cluster id's keywords
// keywordIDs. Each must be in the cluster, and at least one must stay. The
// ideas stay with the cluster split; the new cluster carries the job id of
// the clustering that grouped its keywords.
func (s *Store) SplitCluster(ctx context.Context, tenantID, id int64, keywordIDs []int64, name, description string,
	by Editor) (Cluster, error) {
	var c Cluster
	err := s.transact(ctx, func(tx pgx.Tx) error {
		src, err := lockCluster(ctx, tx, tenantID, id, by)
		if err != nil {
			return err
		}
		kws, err := keywordsOf(ctx, tx, tenantID, keywordIDs)
		if err != nil {
			return err
		}
		for _, k := range kws {
			if k.ClusterID == nil || *k.ClusterID != id {
				return errs.Invalid("keyword_ids", "keyword %d is not in cluster %d", k.ID, id)
			}
		}
		var n int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM keywords WHERE tenant_id = $1 AND cluster_id = $2`,
			tenantID, id).Scan(&n); err != nil {
			return fmt.Errorf("count keywords: %w", err)
		}
		if n == len(keywordIDs) {
			return errs.Invalid("keyword_ids", "would leave cluster %d empty: keep at least one of its keywords (or rename it)", id)
		}
		if err := uniqueName(ctx, tx, src.SiteID, name); err != nil {
			return err
		}
		var newID int64
		if err := tx.QueryRow(ctx, `INSERT INTO clusters (tenant_id, site_id, job_id, name, description, name_source,
			keyword_count, edited) VALUES ($1, $2, $3, $4, $5, 'user', 0, true) RETURNING id`,
			tenantID, src.SiteID, src.JobID, name, description).Scan(&newID); err != nil {
			return fmt.Errorf("insert cluster: %w", err)
		}
		if _, err := tx.Exec(ctx, `UPDATE keywords SET cluster_id = $2 WHERE tenant_id = $1 AND id = ANY($3)`,
			tenantID, newID, keywordIDs); err != nil {
			return fmt.Errorf("move keywords: %w", err)
		}
		if _, err := touchClusters(ctx, tx, tenantID, id); err != nil {
			return err
		}
		c, err = touchClusters(ctx, tx, tenantID, newID)
		return err
	})
	return c, err
}

// MoveKeywords puts the keywords keywordIDs of the cluster id's site into
// it, from other clusters or from none (outliers). A keyword already there
// stays: moving it again changes nothing.
func (s *Store) MoveKeywords(ctx context.Context, tenantID, id int64, keywordIDs []int64, by Editor) (Cluster, error) {
	var c Cluster
	err := s.transact(ctx, func(tx pgx.Tx) error {
		target, err := lockCluster(ctx, tx, tenantID, id, by)
		if err != nil {
			return err
		}
		kws, err := keywordsOf(ctx, tx, tenantID, keywordIDs)
		if err != nil {
			return err
		}
		touched := []int64{id}
		for _, k := range kws {
			if k.SiteID != target.SiteID {
				return errs.Invalid("keyword_ids", "keyword %d is of another site than cluster %d", k.ID, id)
			}
			if k.ClusterID != nil && *k.ClusterID != id && !slices.Contains(touched, *k.ClusterID) {
				if _, err := lockCluster(ctx, tx, tenantID, *k.ClusterID, by); err != nil {
					return err
				}
				touched = append(touched, *k.ClusterID)
			}
		}
		if len(touched) == 1 && allIn(kws, id) {
			c = target // nothing moves: a repeat leaves the cluster as it was
			return nil
		}
		if _, err := tx.Exec(ctx, `UPDATE keywords SET cluster_id = $2, outlier_job = NULL
			WHERE tenant_id = $1 AND id = ANY($3)`, tenantID, id, keywordIDs); err != nil {
			return fmt.Errorf("move keywords: %w", err)
		}
		for _, t := range touched[1:] {
			if _, err := touchClusters(ctx, tx, tenantID, t); err != nil {
				return err
			}
		}
		c, err = touchClusters(ctx, tx, tenantID, id)
		return err
	})
	return c, err
}

// RemoveKeywords takes the keywords keywordIDs out of the cluster id: they
// become outliers of the clustering that grouped them: automation leaves
// them alone until new keywords arrive, and POST /v1/sites/:id/clustering
// tries them again. A
// keyword already in no cluster stays so; one in another cluster is
// refused naming keyword_ids.
func (s *Store) RemoveKeywords(ctx context.Context, tenantID, id int64, keywordIDs []int64, by Editor) (Cluster, error) {
	var c Cluster
	err := s.transact(ctx, func(tx pgx.Tx) error {
		cl, err := lockCluster(ctx, tx, tenantID, id, by)
		if err != nil {
			return err
		}
		kws, err := keywordsOf(ctx, tx, tenantID, keywordIDs)
		if err != nil {
			return err
		}
		var out []int64
		for _, k := range kws {
			switch {
			case k.SiteID != cl.SiteID:
				return errs.Invalid("keyword_ids", "keyword %d is of another site than cluster %d", k.ID, id)
			case k.ClusterID != nil && *k.ClusterID != id:
				return errs.Invalid("keyword_ids", "keyword %d is in cluster %d, not in cluster %d", k.ID, *k.ClusterID, id)
			case k.ClusterID != nil:
				out = append(out, k.ID)
			}
		}
		if len(out) == 0 {
			c = cl
			return nil
		}
		if _, err := tx.Exec(ctx, `UPDATE keywords SET cluster_id = NULL, outlier_job = $3
			WHERE tenant_id = $1 AND id = ANY($2)`, tenantID, out, cl.JobID); err != nil {
			return fmt.Errorf("remove keywords: %w", err)
		}
		c, err = touchClusters(ctx, tx, tenantID, id)
		return err
	})
	return c, err
}

// ClusterKeywordsPage returns a page of a cluster's keywords in id order.
func (s *Store) ClusterKeywordsPage(ctx context.Context, tenantID, clusterID int64, page Page) ([]Keyword, error) {
	if _, err := s.GetCluster(ctx, tenantID, clusterID); err != nil {
		return nil, err
	}
	rows, err := s.pool.Query(ctx, `SELECT `+keywordColumns+` FROM keywords
		WHERE tenant_id = $1 AND cluster_id = $2 AND id > $3 ORDER BY id LIMIT $4`,
		tenantID, clusterID, page.After, page.Limit)
	if err != nil {
		return nil, translate(err)
	}
	return collect(rows, scanKeyword)
}

// lockCluster reads one of the tenant's clusters for an edit, locking its
// site's row first (see above) and then the cluster's. A locked cluster
// refuses an edit by automation.
func lockCluster(ctx context.Context, tx pgx.Tx, tenantID, id int64, by Editor) (Cluster, error) {
	var siteID int64
	err := tx.QueryRow(ctx, `SELECT site_id FROM clusters WHERE tenant_id = $1 AND id = $2`, tenantID, id).Scan(&siteID)
	if err != nil {
		return Cluster{}, missing(translate(err), "cluster", id)
	}
	if _, err := tx.Exec(ctx, `SELECT 1 FROM sites WHERE tenant_id = $1 AND id = $2 FOR NO KEY UPDATE`,
		tenantID, siteID); err != nil {
		return Cluster{}, fmt.Errorf("lock site %d: %w", siteID, err)
	}
	c, err := scanCluster(tx.QueryRow(ctx, `SELECT `+clusterColumns+` FROM clusters
		WHERE tenant_id = $1 AND id = $2 FOR UPDATE`, tenantID, id))
	if err != nil {
		return Cluster{}, missing(translate(err), "cluster", id) // deleted while we waited
	}
	if c.Locked && by == ByAutomation {
		return Cluster{}, errs.Public(errs.ErrConflict, "cluster %d is locked against automatic changes", id)
	}
	return c, nil
}

// uniqueName refuses name when another cluster of the site than except
// has it, ignoring case and surrounding space.
func uniqueName(ctx context.Context, tx pgx.Tx, siteID int64, name string, except ...int64) error {
	var other int64
	err := tx.QueryRow(ctx, `SELECT id FROM clusters WHERE site_id = $1 AND lower(btrim(name)) = lower(btrim($2))
		AND NOT id = ANY($3) LIMIT 1`, siteID, name, append([]int64{}, except...)).Scan(&other)
	switch {
	case err == nil:
		return &NameTakenError{Name: name, ClusterID: other}
	case errors.Is(err, pgx.ErrNoRows):
		return nil
	}
	return fmt.Errorf("check cluster name: %w", err)
}

// NameTakenError is a conflict: another cluster of the site has the name.
type NameTakenError struct {
	Name      string
	ClusterID int64
}

func (e *NameTakenError) Error() string {
	return fmt.Sprintf("cluster %d of this site is already named %q", e.ClusterID, e.Name)
}

// Unwrap makes the error a conflict.
func (e *NameTakenError) Unwrap() error { return errs.ErrConflict }

// keywordsOf returns the tenant's keywords ids, in the order given; an id
// that names none is not found.
func keywordsOf(ctx context.Context, tx pgx.Tx, tenantID int64, ids []int64) ([]Keyword, error) {
	// Locked, so a clustering job saving its clusters meanwhile cannot move
	// them between the check and the edit.
	rows, err := tx.Query(ctx, `SELECT `+keywordColumns+` FROM keywords WHERE tenant_id = $1 AND id = ANY($2)
		ORDER BY id FOR UPDATE OF keywords`, tenantID, ids)
	if err != nil {
		return nil, translate(err)
	}
	kws, err := collect(rows, scanKeyword)
	if err != nil {
		return nil, err
	}
	for _, id := range ids {
		if !slices.ContainsFunc(kws, func(k Keyword) bool { return k.ID == id }) {
			return nil, errs.Public(errs.ErrNotFound, "no keyword %d in this tenant", id)
		}
	}
	return kws, nil
}

func allIn(kws []Keyword, clusterID int64) bool {
	return !slices.ContainsFunc(kws, func(k Keyword) bool { return k.ClusterID == nil || *k.ClusterID != clusterID })
}

// touchClusters recounts a cluster's keywords after an edit, marks it
// edited, clears its centroid (the next clustering of the site recomputes
// it from its members' cached vectors) and returns it.
func touchClusters(ctx context.Context, tx pgx.Tx, tenantID, id int64) (Cluster, error) {
	c, err := scanCluster(tx.QueryRow(ctx, `UPDATE clusters SET edited = true,
		centroid = NULL, centroid_model = NULL, centroid_size = NULL,
		keyword_count = (SELECT count(*) FROM keywords k WHERE k.tenant_id = $1 AND k.cluster_id = $2)
		WHERE tenant_id = $1 AND id = $2 RETURNING `+clusterColumns, tenantID, id))
	if err != nil {
		return Cluster{}, fmt.Errorf("recount cluster %d: %w", id, err)
	}
	return c, nil
}
