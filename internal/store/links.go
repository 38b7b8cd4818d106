package store

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
)

// A site's link inventory is what its articles may link to: its published
// posts and pages as WordPress lists them. A refresh replaces it whole;
// a publish adds its post at once, so that the next draft can link to it
// before the refresh that follows has run.

// Link sources.
const (
	LinkPresswork = "presswork" // a post Presswork published (DraftID says which)
	LinkWordPress = "wordpress" // anything else published on the site
)

// Link is one entry of a site's link inventory.
type Link struct {
	ID     int64  `json:"id"`
	SiteID int64  `json:"site_id"`
	WPID   int64  `json:"wp_id"`
	Kind   string `json:"kind"` // post or page
	URL    string `json:"url"`
	Title  string `json:"title"`
	Source string `json:"source"` // LinkPresswork or LinkWordPress
	// DraftID is the draft Presswork published as this post.
	DraftID *int64 `json:"draft_id"`
	// TitleHash keys the title's vector in the embedding cache.
	TitleHash   []byte    `json:"-"`
	RefreshedAt time.Time `json:"refreshed_at"`
}

// NewLink is an inventory entry as read from WordPress; its source is
// found by the store (a post a draft of the site was published as is
// Presswork's).
type NewLink struct {
	WPID      int64
	Kind      string
	URL       string
	Title     string
	TitleHash []byte
}

// LinkRefresh is the outcome of a replace: the entries kept, those
// removed, and whether the replace was skipped because a later refresh
// already stored a newer inventory.
type LinkRefresh struct {
	Entries int  `json:"entries"`
	Removed int  `json:"removed"`
	Stale   bool `json:"stale"`
}

const linkColumns = `id, site_id, wp_id, kind, url, title, source, draft_id, title_hash, refreshed_at`

func scanLink(r pgx.Row) (l Link, err error) {
	err = r.Scan(&l.ID, &l.SiteID, &l.WPID, &l.Kind, &l.URL, &l.Title, &l.Source, &l.DraftID, &l.TitleHash, &l.RefreshedAt)
	return l, err
}

// upsertLinks writes links as read at readAt: the source of each is found
// from the site's drafts, and an entry written later than readAt keeps
// its time.
const upsertLinks = `
	INSERT INTO link_inventory (tenant_id, site_id, wp_id, kind, url, title, source, draft_id, title_hash, refreshed_at)
	SELECT $1, $2, t.wp_id, t.kind, t.url, t.title, CASE WHEN d.id IS NULL THEN 'wordpress' ELSE 'presswork' END,
	       d.id, t.hash, $3
	FROM unnest($4::bigint[], $5::text[], $6::text[], $7::text[], $8::bytea[]) AS t(wp_id, kind, url, title, hash)
	LEFT JOIN LATERAL (SELECT id FROM drafts
	                   WHERE tenant_id = $1 AND site_id = $2 AND wp_post_id = t.wp_id AND t.kind = 'post'
	                   ORDER BY id LIMIT 1) d ON true
	ON CONFLICT (site_id, wp_id) DO UPDATE SET kind = excluded.kind, url = excluded.url, title = excluded.title,
	    source = excluded.source, draft_id = excluded.draft_id, title_hash = excluded.title_hash,
	    refreshed_at = greatest(link_inventory.refreshed_at, excluded.refreshed_at)`

// ReplaceLinks makes links, read from WordPress at readAt, the site's
// inventory, in one transaction: entries of the site not among them and
// older than readAt go. Refreshes of a site run one at a time (the site's
// row is locked), and one that read WordPress before the refresh last
// stored changes nothing (Stale). A site not the tenant's is not found.
func (s *Store) ReplaceLinks(ctx context.Context, tenantID, siteID int64, readAt time.Time, links []NewLink) (LinkRefresh, error) {
	var out LinkRefresh
	err := s.transact(ctx, func(tx pgx.Tx) error {
		var last *time.Time
		err := tx.QueryRow(ctx, `SELECT r.refreshed_at FROM sites s LEFT JOIN link_refreshes r ON r.site_id = s.id
			WHERE s.tenant_id = $1 AND s.id = $2 FOR UPDATE OF s`, tenantID, siteID).Scan(&last)
		if err != nil {
			return missing(translate(err), "site", siteID)
		}
		if last != nil && last.After(readAt) {
			out.Stale = true
			return nil
		}
		if err := writeLinks(ctx, tx, tenantID, siteID, readAt, links); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `DELETE FROM link_inventory WHERE tenant_id = $1 AND site_id = $2 AND refreshed_at < $3`,
			tenantID, siteID, readAt)
		if err != nil {
			return fmt.Errorf("delete old links of site %d: %w", siteID, err)
		}
		out.Removed = int(tag.RowsAffected())
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM link_inventory WHERE tenant_id = $1 AND site_id = $2`,
			tenantID, siteID).Scan(&out.Entries); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO link_refreshes (site_id, tenant_id, refreshed_at, entries) VALUES ($2, $1, $3, $4)
			ON CONFLICT (site_id) DO UPDATE SET refreshed_at = excluded.refreshed_at, entries = excluded.entries`,
			tenantID, siteID, readAt, out.Entries)
		return err
	})
	if err != nil {
		return LinkRefresh{}, fmt.Errorf("replace links of site %d: %w", siteID, err)
	}
	return out, nil
}

// AddLink adds one entry (or updates the entry of the same WordPress id)
// at time at: a publish adds its post this way.
func (s *Store) AddLink(ctx context.Context, tenantID, siteID int64, at time.Time, l NewLink) error {
	return s.transact(ctx, func(tx pgx.Tx) error {
		var one int
		err := tx.QueryRow(ctx, `SELECT 1 FROM sites WHERE tenant_id = $1 AND id = $2`, tenantID, siteID).Scan(&one)
		if err != nil {
			return missing(translate(err), "site", siteID)
		}
		if err := writeLinks(ctx, tx, tenantID, siteID, at, []NewLink{l}); err != nil {
			return fmt.Errorf("add link to site %d: %w", siteID, err)
		}
		return nil
	})
}

func writeLinks(ctx context.Context, tx pgx.Tx, tenantID, siteID int64, at time.Time, links []NewLink) error {
	n := len(links)
	ids, kinds, urls, titles, hashes := make([]int64, n), make([]string, n), make([]string, n), make([]string, n), make([][]byte, n)
	for i, l := range links {
		ids[i], kinds[i], urls[i], titles[i], hashes[i] = l.WPID, l.Kind, l.URL, l.Title, l.TitleHash
	}
	if _, err := tx.Exec(ctx, upsertLinks, tenantID, siteID, at, ids, kinds, urls, titles, hashes); err != nil {
		return fmt.Errorf("write links: %w", err)
	}
	return nil
}

// ListLinks returns a page of the site's inventory, by id.
func (s *Store) ListLinks(ctx context.Context, tenantID, siteID int64, page Page) ([]Link, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+linkColumns+` FROM link_inventory
		WHERE tenant_id = $1 AND site_id = $2 AND id > $3 ORDER BY id LIMIT $4`, tenantID, siteID, page.After, page.Limit)
	if err != nil {
		return nil, translate(err)
	}
	return collect(rows, scanLink)
}

// SiteLinks returns the site's whole inventory, by id: what a draft's
// links are chosen from and checked against. A job reads it from the
// configuration cache.
func (s *Store) SiteLinks(ctx context.Context, tenantID, siteID int64) ([]Link, error) {
	return cachedConfig(ctx, &s.config, configKey{read: "links", tenantID: tenantID, detail: siteID}, func() ([]Link, error) {
		rows, err := s.pool.Query(ctx, `SELECT `+linkColumns+` FROM link_inventory
			WHERE tenant_id = $1 AND site_id = $2 ORDER BY id`, tenantID, siteID)
		if err != nil {
			return nil, translate(err)
		}
		return collect(rows, scanLink)
	}, slices.Clone)
}

// SiteRef names one site of one tenant.
type SiteRef struct {
	TenantID, SiteID int64
}

// SitesDueForLinks returns up to limit sites whose inventory was last
// refreshed before before (or never): enabled sites of active tenants not
// known to be unhealthy (a refresh of those would fail; a publish, which
// needs a healthy site, refreshes them), least recently refreshed first.
func (s *Store) SitesDueForLinks(ctx context.Context, before time.Time, limit int) ([]SiteRef, error) {
	rows, err := s.pool.Query(ctx, `SELECT s.tenant_id, s.id FROM sites s
		JOIN tenants t ON t.id = s.tenant_id
		LEFT JOIN link_refreshes r ON r.site_id = s.id
		WHERE t.status = 'active' AND s.enabled AND s.health <> 'unhealthy'
		  AND (r.refreshed_at IS NULL OR r.refreshed_at < $1)
		ORDER BY r.refreshed_at NULLS FIRST, s.id LIMIT $2`, before, limit)
	if err != nil {
		return nil, translate(err)
	}
	return collect(rows, func(r pgx.Row) (ref SiteRef, err error) {
		err = r.Scan(&ref.TenantID, &ref.SiteID)
		return ref, err
	})
}
