package store

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
)

// Site is one WordPress site of a tenant. The application password is kept
// encrypted and never leaves the store in a listing.
type Site struct {
	ID        int64     `json:"id"`
	TenantID  int64     `json:"-"`
	Name      string    `json:"name"`
	URL       string    `json:"url"`
	WPUser    string    `json:"username"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// SiteFields are the writable fields of a site; nil leaves a field as it is
// on update. AppPasswordEnc is the ciphertext.
type SiteFields struct {
	Name           *string
	URL            *string
	WPUser         *string
	AppPasswordEnc []byte
}

const siteColumns = `id, tenant_id, name, url, wp_user, created_at, updated_at`

func scanSite(r pgx.Row) (st Site, err error) {
	err = r.Scan(&st.ID, &st.TenantID, &st.Name, &st.URL, &st.WPUser, &st.CreatedAt, &st.UpdatedAt)
	return st, err
}

// CreateSite stores a new site; every field is required.
func (s *Store) CreateSite(ctx context.Context, tenantID int64, f SiteFields) (Site, error) {
	st, err := scanSite(s.pool.QueryRow(ctx,
		`INSERT INTO sites (tenant_id, name, url, wp_user, app_password_enc)
		 VALUES ($1, $2, $3, $4, $5) RETURNING `+siteColumns,
		tenantID, f.Name, f.URL, f.WPUser, f.AppPasswordEnc))
	return st, translate(err)
}

// GetSite returns one of a tenant's sites.
func (s *Store) GetSite(ctx context.Context, tenantID, id int64) (Site, error) {
	st, err := scanSite(s.pool.QueryRow(ctx,
		`SELECT `+siteColumns+` FROM sites WHERE tenant_id = $1 AND id = $2`, tenantID, id))
	return st, translate(err)
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
		        app_password_enc = coalesce($6, app_password_enc), updated_at = now()
		 WHERE tenant_id = $1 AND id = $2 RETURNING `+siteColumns,
		tenantID, id, f.Name, f.URL, f.WPUser, f.AppPasswordEnc))
	return st, translate(err)
}

// DeleteSite removes a site and everything made for it.
func (s *Store) DeleteSite(ctx context.Context, tenantID, id int64) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM sites WHERE tenant_id = $1 AND id = $2`, tenantID, id)
	if err != nil {
		return translate(err)
	}
	if tag.RowsAffected() == 0 {
		return translate(pgx.ErrNoRows)
	}
	return nil
}

// SitePassword returns the encrypted application password of a site.
func (s *Store) SitePassword(ctx context.Context, tenantID, id int64) ([]byte, error) {
	var enc []byte
	err := s.pool.QueryRow(ctx,
		`SELECT app_password_enc FROM sites WHERE tenant_id = $1 AND id = $2`, tenantID, id).Scan(&enc)
	return enc, translate(err)
}
