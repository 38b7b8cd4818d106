package store

import (
	"context"
	"time"
)

// pruneBatch bounds the rows one delete statement removes, so retention
// never holds long locks.
const pruneBatch = 5000

// PruneJobs deletes jobs that finished before cutoff, and the batches left
// without jobs, and returns how many jobs it deleted. The credit ledger
// keeps its entries: it is the account, and it names jobs by id only.
func (s *Store) PruneJobs(ctx context.Context, cutoff time.Time) (int64, error) {
	total, err := s.pruneLoop(ctx, `DELETE FROM jobs WHERE id IN (SELECT id FROM jobs
		WHERE finished_at < $1 AND state IN ('succeeded', 'failed', 'canceled') LIMIT $2)`, cutoff)
	if err != nil {
		return total, err
	}
	_, err = s.pruneLoop(ctx, `DELETE FROM batches b WHERE b.id IN (SELECT id FROM batches
		WHERE created_at < $1 AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.batch_id = batches.id) LIMIT $2)`, cutoff)
	return total, err
}

// PruneRuns deletes automation run records that finished before cutoff.
func (s *Store) PruneRuns(ctx context.Context, cutoff time.Time) (int64, error) {
	return s.pruneLoop(ctx, `DELETE FROM automation_runs WHERE id IN (SELECT id FROM automation_runs
		WHERE finished_at < $1 LIMIT $2)`, cutoff)
}

// PruneIdempotencyKeys deletes the Idempotency-Keys claimed before cutoff,
// with their stored answers (IdempotencyKeyRetention says how long they
// are kept). A claim that never got its answer goes too: it was taken over
// long before.
func (s *Store) PruneIdempotencyKeys(ctx context.Context, cutoff time.Time) (int64, error) {
	return s.pruneLoop(ctx, `DELETE FROM idempotency_keys WHERE (tenant_id, key) IN (SELECT tenant_id, key
		FROM idempotency_keys WHERE created_at < $1 LIMIT $2)`, cutoff)
}

// pruneLoop runs a bounded delete until it deletes fewer rows than its
// bound.
func (s *Store) pruneLoop(ctx context.Context, query string, cutoff time.Time) (int64, error) {
	var total int64
	for {
		tag, err := s.pool.Exec(ctx, query, cutoff, pruneBatch)
		if err != nil {
			return total, translate(err)
		}
		total += tag.RowsAffected()
		if tag.RowsAffected() < pruneBatch || ctx.Err() != nil {
			return total, ctx.Err()
		}
	}
}
