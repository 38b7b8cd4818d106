package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/presswork/presswork/internal/kwimport"
)

// Keyword is one search phrase of a site.
type Keyword struct {
	ID         int64   `json:"id"`
	SiteID     int64   `json:"site_id"`
	Phrase     string  `json:"phrase"`
	Volume     *int32  `json:"volume"`
	Difficulty *int16  `json:"difficulty"`
	Intent     *string `json:"intent"`
	ClusterID  *int64  `json:"cluster_id"`
	// Outlier is true for an unclustered keyword that a finished
	// clustering could not group: automation leaves it alone until new
	// keywords arrive; POST /v1/sites/:id/clustering tries it again.
	Outlier   bool      `json:"outlier"`
	CreatedAt time.Time `json:"created_at"`
}

// ImportResult counts what an import stored and skipped.
type ImportResult struct {
	Imported           int `json:"imported"`
	DuplicatesExisting int `json:"duplicates_existing"`
}

// ImportKeywords stores rows for a site in one transaction with COPY,
// skipping rows whose normalized phrase the site already has. Either every
// new row is stored or none is.
func (s *Store) ImportKeywords(ctx context.Context, tenantID, siteID int64, rows []kwimport.Row) (ImportResult, error) {
	var res ImportResult
	err := s.transact(ctx, func(tx pgx.Tx) error {
		if err := lockSite(ctx, tx, tenantID, siteID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `CREATE TEMP TABLE kw_import (
			ord int, phrase text, norm text, volume int, difficulty smallint, intent text) ON COMMIT DROP`); err != nil {
			return fmt.Errorf("create staging table: %w", err)
		}
		_, err := tx.CopyFrom(ctx, pgx.Identifier{"kw_import"},
			[]string{"ord", "phrase", "norm", "volume", "difficulty", "intent"},
			pgx.CopyFromSlice(len(rows), func(i int) ([]any, error) {
				r := rows[i]
				return []any{i, r.Phrase, r.Norm, r.Volume, r.Difficulty, nullIfEmpty(r.Intent)}, nil
			}))
		if err != nil {
			return fmt.Errorf("copy keywords: %w", err)
		}
		tag, err := tx.Exec(ctx, `
			INSERT INTO keywords (tenant_id, site_id, phrase, norm, volume, difficulty, intent)
			SELECT $1, $2, phrase, norm, volume, difficulty, intent FROM kw_import ORDER BY ord
			ON CONFLICT (site_id, norm) DO NOTHING`, tenantID, siteID)
		if err != nil {
			return fmt.Errorf("insert keywords: %w", err)
		}
		res.Imported = int(tag.RowsAffected())
		res.DuplicatesExisting = len(rows) - res.Imported
		return nil
	})
	return res, err
}

// lockSite checks the site belongs to the tenant and keeps it from being
// deleted until the transaction ends.
func lockSite(ctx context.Context, tx pgx.Tx, tenantID, siteID int64) error {
	var id int64
	err := tx.QueryRow(ctx, `SELECT id FROM sites WHERE tenant_id = $1 AND id = $2 FOR SHARE`, tenantID, siteID).Scan(&id)
	if err != nil {
		return fmt.Errorf("site %d: %w", siteID, translate(err))
	}
	return nil
}

func nullIfEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// KeywordFilter narrows a keyword listing.
type KeywordFilter struct {
	ClusterID   int64 // 0: any
	Unclustered bool
}

const keywordColumns = `id, site_id, phrase, volume, difficulty, intent, cluster_id,
	cluster_id IS NULL AND outlier_job IS NOT NULL AND NOT EXISTS (SELECT 1 FROM jobs o
		WHERE o.id = keywords.outlier_job AND o.state <> 'succeeded'), created_at`

func scanKeyword(r pgx.Row) (k Keyword, err error) {
	err = r.Scan(&k.ID, &k.SiteID, &k.Phrase, &k.Volume, &k.Difficulty, &k.Intent, &k.ClusterID, &k.Outlier, &k.CreatedAt)
	return k, err
}

// ListKeywords returns a site's keywords in id order.
func (s *Store) ListKeywords(ctx context.Context, tenantID, siteID int64, f KeywordFilter, page Page) ([]Keyword, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+keywordColumns+` FROM keywords
		WHERE tenant_id = $1 AND site_id = $2 AND id > $3
		  AND ($4 = 0 OR cluster_id = $4) AND (NOT $5 OR cluster_id IS NULL)
		ORDER BY id LIMIT $6`, tenantID, siteID, page.After, f.ClusterID, f.Unclustered, page.Limit)
	if err != nil {
		return nil, translate(err)
	}
	return collect(rows, scanKeyword)
}

// UnclusteredKeywords returns up to limit of a site's keywords that belong to
// no cluster, in id order.
func (s *Store) UnclusteredKeywords(ctx context.Context, tenantID, siteID int64, limit int) ([]Keyword, error) {
	return s.ListKeywords(ctx, tenantID, siteID, KeywordFilter{Unclustered: true}, Page{Limit: limit})
}

// UnclusteredByIDs returns the site's keywords among ids that belong to no
// cluster, in id order.
func (s *Store) UnclusteredByIDs(ctx context.Context, tenantID, siteID int64, ids []int64) ([]Keyword, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+keywordColumns+` FROM keywords
		WHERE tenant_id = $1 AND site_id = $2 AND id = ANY($3) AND cluster_id IS NULL ORDER BY id`,
		tenantID, siteID, ids)
	if err != nil {
		return nil, translate(err)
	}
	return collect(rows, scanKeyword)
}

// CountUnclustered counts a site's keywords that belong to no cluster.
func (s *Store) CountUnclustered(ctx context.Context, tenantID, siteID int64) (int64, error) {
	var n int64
	err := s.pool.QueryRow(ctx,
		`SELECT count(*) FROM keywords WHERE tenant_id = $1 AND site_id = $2 AND cluster_id IS NULL`,
		tenantID, siteID).Scan(&n)
	return n, translate(err)
}

// MarkOutliers records that clustering job jobID left the site's keywords
// ids ungrouped. The mark counts once the job has succeeded, so a job that
// fails or is canceled leaves its keywords to be tried again.
func (s *Store) MarkOutliers(ctx context.Context, tenantID, siteID int64, jobID string, ids []int64) error {
	// A retried attempt may have grouped (or not read) keywords an earlier
	// attempt of the same job left out: their marks go, so only this
	// attempt's outliers count as tried.
	_, err := s.pool.Exec(ctx, `UPDATE keywords
		SET outlier_job = CASE WHEN id = ANY($4) THEN $3 END
		WHERE tenant_id = $1 AND site_id = $2 AND cluster_id IS NULL AND (id = ANY($4) OR outlier_job = $3)`,
		tenantID, siteID, jobID, ids)
	if err != nil {
		return fmt.Errorf("mark outliers of job %s: %w", jobID, translate(err))
	}
	return nil
}
