package store

import (
	"context"
	"encoding/json"

	"github.com/presswork/presswork/internal/errs"
)

// ContentProfiles are the content profile documents a site's articles are
// written with: the site's own and its tenant's defaults, each a JSON
// object of the fields it sets (ai.ProfileSettings, which the store does
// not read).
type ContentProfiles struct {
	Site, Tenant json.RawMessage
}

// ContentProfiles returns a site's content profile document and its
// tenant's, in one query.
func (s *Store) ContentProfiles(ctx context.Context, tenantID, siteID int64) (ContentProfiles, error) {
	var p ContentProfiles
	err := s.pool.QueryRow(ctx, `SELECT s.content_profile, t.content_profile
		FROM sites s JOIN tenants t ON t.id = s.tenant_id
		WHERE s.tenant_id = $1 AND s.id = $2`, tenantID, siteID).Scan(&p.Site, &p.Tenant)
	return p, missing(translate(err), "site", siteID)
}

// TenantContentProfile returns a tenant's default content profile
// document.
func (s *Store) TenantContentProfile(ctx context.Context, tenantID int64) (json.RawMessage, error) {
	var doc json.RawMessage
	err := s.pool.QueryRow(ctx, `SELECT content_profile FROM tenants WHERE id = $1`, tenantID).Scan(&doc)
	return doc, translate(err)
}

// SetSiteContentProfile replaces a site's content profile document, which
// must be a JSON object.
func (s *Store) SetSiteContentProfile(ctx context.Context, tenantID, siteID int64, doc json.RawMessage) error {
	tag, err := s.pool.Exec(ctx, `UPDATE sites SET content_profile = $3, updated_at = now()
		WHERE tenant_id = $1 AND id = $2`, tenantID, siteID, doc)
	if err == nil && tag.RowsAffected() == 0 {
		return missing(errs.ErrNotFound, "site", siteID)
	}
	return translate(err)
}

// SetTenantContentProfile replaces a tenant's default content profile
// document, which must be a JSON object.
func (s *Store) SetTenantContentProfile(ctx context.Context, tenantID int64, doc json.RawMessage) error {
	tag, err := s.pool.Exec(ctx, `UPDATE tenants SET content_profile = $2 WHERE id = $1`, tenantID, doc)
	if err == nil && tag.RowsAffected() == 0 {
		return missing(errs.ErrNotFound, "tenant", tenantID)
	}
	return translate(err)
}
