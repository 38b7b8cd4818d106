package store

import "context"

// SetDraftLinkUnchecked stores a post link as it is, the way links were
// stored before they were checked, for tests of drafts read back.
func (s *Store) SetDraftLinkUnchecked(ctx context.Context, tenantID, draftID int64, link string) error {
	tag, err := s.pool.Exec(ctx, `UPDATE drafts SET wp_link = $3 WHERE tenant_id = $1 AND id = $2`, tenantID, draftID, link)
	return oneRow(tag.RowsAffected(), err)
}
