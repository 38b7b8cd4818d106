package store

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
)

// Site is one WordPress site of a tenant. The application password is kept
// encrypted and never leaves the store in a listing.
type Site struct {
	ID       int64  `json:"id"`
	TenantID int64  `json:"-"`
	Name     string `json:"name"`
	URL      string `json:"url"`
	WPUser   string `json:"username"`
	// RESTStyle is how the site's REST API is reached ("pretty" /wp-json/
	// or "query" ?rest_route=), found by the first check or publish.
	RESTStyle *string `json:"rest_style"`
	// Health is "unknown", "healthy" or "unhealthy", with HealthReason
	// saying why, in words a person can act on.
	Health       string `json:"health"`
	HealthReason string `json:"health_reason"`
	// HealthCode names an unhealthy site's reason stably (errs.Code*).
	HealthCode *string    `json:"health_code"`
	CheckedAt  *time.Time `json:"checked_at"`
	// RequireReview holds drafts in awaiting_review until an editor
	// approves them.
	RequireReview bool `json:"require_review"`
	// SEOPlugin names the plugin whose post fields are sent: none, yoast,
	// rankmath.
	SEOPlugin string `json:"seo_plugin"`
	// InlineImages is how many in-article images a draft gets (0-5).
	InlineImages      int      `json:"inline_images"`
	DefaultCategories []string `json:"default_categories"`
	// PublishWithoutImage lets a draft whose featured image failed be
	// published without one; otherwise it waits for its image.
	PublishWithoutImage bool `json:"publish_without_image"`
	// Enabled is false for a site automation rules must leave alone.
	Enabled bool `json:"enabled"`
	// Clustering is how strictly the site's keywords are grouped: strict,
	// balanced or inclusive (cluster.Strictness).
	Clustering string `json:"clustering"`
	// Backlinks is how many older Presswork posts of the site on the
	// closest topics get a link to a post just published (0-10; 0 is off).
	Backlinks int       `json:"backlinks"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// SiteFields are the writable fields of a site; nil leaves a field as it is
// on update. AppPasswordEnc is the ciphertext.
type SiteFields struct {
	Name                *string
	URL                 *string
	WPUser              *string
	AppPasswordEnc      []byte
	RequireReview       *bool
	SEOPlugin           *string
	InlineImages        *int
	DefaultCategories   []string // nil: unchanged
	PublishWithoutImage *bool
	Enabled             *bool
	Clustering          *string
	Backlinks           *int
}

// ClusteringLevels are the values of Site.Clustering, strictest first
// (the sites_clustering_check constraint; cluster.Strictnesses, which the
// API must not import).
var ClusteringLevels = []string{"strict", "balanced", "inclusive"}

// Site health values.
const (
	HealthUnknown   = "unknown"
	HealthHealthy   = "healthy"
	HealthUnhealthy = "unhealthy"
)

const siteColumns = `id, tenant_id, name, url, wp_user, rest_style, health, health_reason, health_code, checked_at,
	require_review, seo_plugin, inline_images, default_categories, publish_without_image, enabled, clustering,
	backlinks, created_at, updated_at`

func scanSite(r pgx.Row) (st Site, err error) {
	err = r.Scan(&st.ID, &st.TenantID, &st.Name, &st.URL, &st.WPUser, &st.RESTStyle, &st.Health, &st.HealthReason,
		&st.HealthCode, &st.CheckedAt, &st.RequireReview, &st.SEOPlugin, &st.InlineImages, &st.DefaultCategories,
		&st.PublishWithoutImage, &st.Enabled, &st.Clustering, &st.Backlinks, &st.CreatedAt, &st.UpdatedAt)
	return st, err
}

// CreateSite stores a new site; every field is required.
func (s *Store) CreateSite(ctx context.Context, tenantID int64, f SiteFields) (Site, error) {
	st, err := scanSite(s.pool.QueryRow(ctx,
		`INSERT INTO sites (tenant_id, name, url, wp_user, app_password_enc, require_review, seo_plugin,
		                    inline_images, default_categories, enabled, publish_without_image, clustering, backlinks)
		 VALUES ($1, $2, $3, $4, $5, coalesce($6, false), coalesce($7, 'none'), coalesce($8, 0), coalesce($9::text[], '{}'),
		         coalesce($10, true), coalesce($11, false), coalesce($12, 'balanced'), coalesce($13, 0))
		 RETURNING `+siteColumns,
		tenantID, f.Name, f.URL, f.WPUser, f.AppPasswordEnc, f.RequireReview, f.SEOPlugin, f.InlineImages,
		f.DefaultCategories, f.Enabled, f.PublishWithoutImage, f.Clustering, f.Backlinks))
	return st, translate(err)
}

// GetSite returns one of a tenant's sites.
func (s *Store) GetSite(ctx context.Context, tenantID, id int64) (Site, error) {
	st, err := scanSite(s.pool.QueryRow(ctx,
		`SELECT `+siteColumns+` FROM sites WHERE tenant_id = $1 AND id = $2`, tenantID, id))
	return st, missing(translate(err), "site", id)
}

// SitesByIDs returns the tenant's sites among ids, by id.
func (s *Store) SitesByIDs(ctx context.Context, tenantID int64, ids []int64) (map[int64]Site, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+siteColumns+` FROM sites WHERE tenant_id = $1 AND id = ANY($2)`,
		tenantID, ids)
	if err != nil {
		return nil, translate(err)
	}
	sites, err := collect(rows, scanSite)
	if err != nil {
		return nil, err
	}
	out := make(map[int64]Site, len(sites))
	for _, st := range sites {
		out[st.ID] = st
	}
	return out, nil
}

// ListSites returns a tenant's sites.
func (s *Store) ListSites(ctx context.Context, tenantID int64, page Page) ([]Site, error) {
	rows, err := s.pool.Query(ctx,
		`SELECT `+siteColumns+` FROM sites WHERE tenant_id = $1 AND id > $2 ORDER BY id LIMIT $3`,
		tenantID, page.After, page.Limit)
	if err != nil {
		return nil, translate(err)
	}
	return collect(rows, scanSite)
}

// UpdateSite changes the given fields of a site.
func (s *Store) UpdateSite(ctx context.Context, tenantID, id int64, f SiteFields) (Site, error) {
	st, err := scanSite(s.pool.QueryRow(ctx,
		`UPDATE sites SET name = coalesce($3, name), url = coalesce($4, url), wp_user = coalesce($5, wp_user),
		        app_password_enc = coalesce($6, app_password_enc),
		        require_review = coalesce($7, require_review), seo_plugin = coalesce($8, seo_plugin),
		        inline_images = coalesce($9, inline_images), default_categories = coalesce($10::text[], default_categories),
		        enabled = coalesce($11, enabled), publish_without_image = coalesce($12, publish_without_image),
		        clustering = coalesce($13, clustering), backlinks = coalesce($14, backlinks),
		        -- a new address or credentials make the last check stale
		        rest_style = CASE WHEN $4::text IS NULL OR $4 = url THEN rest_style END,
		        health = CASE WHEN ($4::text IS NULL OR $4 = url) AND $5::text IS NULL AND $6::bytea IS NULL
		                      THEN health ELSE 'unknown' END,
		        health_reason = CASE WHEN ($4::text IS NULL OR $4 = url) AND $5::text IS NULL AND $6::bytea IS NULL
		                      THEN health_reason ELSE '' END,
		        health_code = CASE WHEN ($4::text IS NULL OR $4 = url) AND $5::text IS NULL AND $6::bytea IS NULL
		                      THEN health_code END,
		        updated_at = now()
		 WHERE tenant_id = $1 AND id = $2 RETURNING `+siteColumns,
		tenantID, id, f.Name, f.URL, f.WPUser, f.AppPasswordEnc, f.RequireReview, f.SEOPlugin, f.InlineImages,
		f.DefaultCategories, f.Enabled, f.PublishWithoutImage, f.Clustering, f.Backlinks))
	return st, translate(err)
}

// DeleteSite removes a site and everything made for it. A site whose
// deployment still has services on the panel is a conflict: deleting it
// would leave them running with nobody to destroy them.
func (s *Store) DeleteSite(ctx context.Context, tenantID, id int64) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM sites WHERE tenant_id = $1 AND id = $2
		AND NOT EXISTS (SELECT 1 FROM deployments d WHERE d.site_id = $2 AND d.app_service IS NOT NULL
		                AND d.status <> 'destroyed')`, tenantID, id)
	if err == nil && tag.RowsAffected() == 0 {
		if _, gerr := s.GetSite(ctx, tenantID, id); gerr == nil {
			return ErrSiteHasServices
		}
	}
	return oneRow(tag.RowsAffected(), err)
}

// SitePassword returns the encrypted application password of a site.
func (s *Store) SitePassword(ctx context.Context, tenantID, id int64) ([]byte, error) {
	var enc []byte
	err := s.pool.QueryRow(ctx,
		`SELECT app_password_enc FROM sites WHERE tenant_id = $1 AND id = $2`, tenantID, id).Scan(&enc)
	return enc, translate(err)
}

// RememberRESTStyle stores the REST style a publish discovered, leaving
// the site's health and the time of its last check as they are.
func (s *Store) RememberRESTStyle(ctx context.Context, tenantID, id int64, style string) error {
	tag, err := s.pool.Exec(ctx, `UPDATE sites SET rest_style = $3 WHERE tenant_id = $1 AND id = $2`,
		tenantID, id, style)
	return oneRow(tag.RowsAffected(), err)
}

// SiteCheck is what a connection check or a publish found out about a site.
type SiteCheck struct {
	RESTStyle string // "" leaves the stored style
	Health    string
	Reason    string
	Code      string // the reason's code (errs.Code*); "" for none
}

// RecordSiteCheck stores a site's health, the reason and its code, and the
// REST style found; a site turning unhealthy records site.unhealthy in the
// same transaction.
func (s *Store) RecordSiteCheck(ctx context.Context, tenantID, id int64, c SiteCheck) error {
	return s.transact(ctx, func(tx pgx.Tx) error {
		var before string
		err := tx.QueryRow(ctx, `WITH old AS (SELECT health FROM sites WHERE tenant_id = $1 AND id = $2 FOR UPDATE)
			UPDATE sites SET rest_style = coalesce(nullif($3, ''), rest_style),
			health = $4, health_reason = $5, health_code = nullif($6, ''), checked_at = now()
			FROM old WHERE tenant_id = $1 AND id = $2 RETURNING old.health`,
			tenantID, id, c.RESTStyle, c.Health, c.Reason, c.Code).Scan(&before)
		if err != nil {
			return translate(err) // no row: not found
		}
		return siteHealthChanged(ctx, tx, tenantID, id, before, c)
	})
}
