package store

import "context"

// AgeIdempotencyKey moves a claim's creation back by age (a PostgreSQL
// interval), for tests of abandoned claims.
func (s *Store) AgeIdempotencyKey(ctx context.Context, tenantID int64, key, age string) error {
	_, err := s.pool.Exec(ctx, `UPDATE idempotency_keys SET created_at = created_at - $3::interval
		WHERE tenant_id = $1 AND key = $2`, tenantID, key, age)
	return err
}

// AgeWorker moves a worker's last beat back by age (a PostgreSQL
// interval), for tests of lost workers.
func (s *Store) AgeWorker(ctx context.Context, id, age string) error {
	_, err := s.pool.Exec(ctx, `UPDATE workers SET heartbeat_at = heartbeat_at - $2::interval WHERE id = $1`, id, age)
	return err
}

// ReopenBatch forgets that a batch was closed, as if the worker that ended
// its last job had died before closing it.
func (s *Store) ReopenBatch(ctx context.Context, id string) error {
	_, err := s.pool.Exec(ctx, `UPDATE batches SET finished_at = NULL WHERE id = $1`, id)
	return err
}
