package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// siteIdeaRefsLimit bounds the ideas an ideas job compares its own with:
// the site's most recent ones.
const siteIdeaRefsLimit = 2000

// IdeaRef is what the ideas stage compares a new idea with: an idea of the
// site, its title and primary (first target) keyword.
type IdeaRef struct {
	ID        int64
	ClusterID int64
	Title     string
	Primary   string
}

// SiteIdeaRefs returns the site's ideas (at most the 2,000 most recent),
// those of clusterID first, then the newest first.
func (s *Store) SiteIdeaRefs(ctx context.Context, tenantID, siteID, clusterID int64) ([]IdeaRef, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, cluster_id, title, coalesce(target_keywords[1], '')
		FROM ideas WHERE tenant_id = $1 AND site_id = $2
		ORDER BY cluster_id = $3 DESC, id DESC LIMIT $4`, tenantID, siteID, clusterID, siteIdeaRefsLimit)
	if err != nil {
		return nil, translate(err)
	}
	return collect(rows, func(r pgx.Row) (ref IdeaRef, err error) {
		err = r.Scan(&ref.ID, &ref.ClusterID, &ref.Title, &ref.Primary)
		return ref, err
	})
}

// RefusedIdea is an idea the ideas stage refused because the site has one
// for the same query: ConflictsWith is that idea's id (zero when it is
// another idea of the same answer, named by ConflictingTitle).
type RefusedIdea struct {
	NewIdea
	Reason           string
	Similarity       float32
	ConflictsWith    int64
	ConflictingTitle string
}

// IdeaConflict is a refused idea as the API lists it.
type IdeaConflict struct {
	ID               int64     `json:"id"`
	SiteID           int64     `json:"site_id"`
	ClusterID        int64     `json:"cluster_id"`
	JobID            string    `json:"job_id"`
	Title            string    `json:"title"`
	ContentType      string    `json:"content_type"`
	TargetKeywords   []string  `json:"target_keywords"`
	Reason           string    `json:"reason"`
	Similarity       *float32  `json:"similarity"`
	ConflictsWith    *int64    `json:"conflicts_with"`
	ConflictingTitle string    `json:"conflicting_title"`
	CreatedAt        time.Time `json:"created_at"`
}

func saveRefused(ctx context.Context, tx pgx.Tx, o Outcome, cluster Cluster, refused []RefusedIdea) error {
	for _, r := range refused {
		targets := r.TargetKeywords
		if targets == nil {
			targets = []string{}
		}
		var with *int64
		if r.ConflictsWith != 0 {
			with = &r.ConflictsWith
		}
		var sim *float32
		if r.Similarity != 0 {
			sim = &r.Similarity
		}
		if _, err := tx.Exec(ctx, `INSERT INTO idea_conflicts (tenant_id, site_id, cluster_id, job_id, title,
			content_type, target_keywords, reason, similarity, conflicts_with, conflicting_title)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
			o.TenantID, cluster.SiteID, cluster.ID, o.JobID, r.Title, r.ContentType, targets, r.Reason, sim,
			with, r.ConflictingTitle); err != nil {
			return fmt.Errorf("insert refused idea: %w", err)
		}
	}
	return nil
}

// ListIdeaConflicts returns a page of the ideas refused on a site of the
// tenant as duplicates, oldest first.
func (s *Store) ListIdeaConflicts(ctx context.Context, tenantID, siteID int64, page Page) ([]IdeaConflict, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, site_id, cluster_id, job_id, title, content_type, target_keywords,
		reason, similarity, conflicts_with, conflicting_title, created_at
		FROM idea_conflicts WHERE tenant_id = $1 AND site_id = $2 AND id > $3 ORDER BY id LIMIT $4`,
		tenantID, siteID, page.After, page.Limit)
	if err != nil {
		return nil, translate(err)
	}
	return collect(rows, func(r pgx.Row) (c IdeaConflict, err error) {
		err = r.Scan(&c.ID, &c.SiteID, &c.ClusterID, &c.JobID, &c.Title, &c.ContentType, &c.TargetKeywords,
			&c.Reason, &c.Similarity, &c.ConflictsWith, &c.ConflictingTitle, &c.CreatedAt)
		return c, err
	})
}
