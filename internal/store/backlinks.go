package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// A back-link is a link to a post just published, added to an older
// Presswork post of the same site (#22, Site.Backlinks). Each pair is
// recorded once, right after WordPress stored the link, so that a job run
// again skips it.

// Backlink records that the post of draft FromDraftID (WordPress post
// WPPostID) links to the post of draft ToDraftID.
type Backlink struct {
	FromDraftID int64     `json:"from_draft_id"`
	ToDraftID   int64     `json:"to_draft_id"`
	WPPostID    int64     `json:"wp_post_id"`
	CreatedAt   time.Time `json:"created_at"`
}

// RecordBacklink records that the post of draft from (WordPress post
// wpPostID) links to the post of draft to, both drafts of the tenant's
// site; recording a pair again changes nothing. A draft not the tenant's
// site's is not found.
func (s *Store) RecordBacklink(ctx context.Context, tenantID, siteID, from, to, wpPostID int64) error {
	tag, err := s.pool.Exec(ctx, `INSERT INTO backlinks (tenant_id, site_id, from_draft_id, to_draft_id, wp_post_id)
		SELECT $1, $2, $3, $4, $5
		WHERE (SELECT count(*) FROM drafts WHERE tenant_id = $1 AND site_id = $2 AND id IN ($3, $4)) = 2
		ON CONFLICT (from_draft_id, to_draft_id) DO NOTHING`, tenantID, siteID, from, to, wpPostID)
	if err != nil {
		return fmt.Errorf("record back-link from draft %d to %d: %w", from, to, translate(err))
	}
	if tag.RowsAffected() == 0 {
		// Either recorded already or not the tenant's: tell them apart.
		var one int
		err := s.pool.QueryRow(ctx, `SELECT 1 FROM backlinks WHERE tenant_id = $1 AND from_draft_id = $2 AND to_draft_id = $3`,
			tenantID, from, to).Scan(&one)
		if err != nil {
			return fmt.Errorf("record back-link from draft %d to %d: %w", from, to, missing(translate(err), "draft", from))
		}
	}
	return nil
}

// BacklinksTo returns the back-links recorded to the post of draft to, by
// the draft they come from.
func (s *Store) BacklinksTo(ctx context.Context, tenantID, to int64) ([]Backlink, error) {
	rows, err := s.pool.Query(ctx, `SELECT from_draft_id, to_draft_id, wp_post_id, created_at FROM backlinks
		WHERE tenant_id = $1 AND to_draft_id = $2 ORDER BY from_draft_id`, tenantID, to)
	if err != nil {
		return nil, translate(err)
	}
	return collect(rows, func(r pgx.Row) (b Backlink, err error) {
		err = r.Scan(&b.FromDraftID, &b.ToDraftID, &b.WPPostID, &b.CreatedAt)
		return b, err
	})
}
