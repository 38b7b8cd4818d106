package store

import (
	"context"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"
)

// Pacing shares the workers fairly between tenants. asynq's queues are
// first in, first out, and a queue per tenant does not scale, so a
// tenant's jobs on the paced queue (the one of bulk requests) are not all
// put on the queue at once: at most the plan's number are queued or
// running at a time; the rest are held in PostgreSQL, queued but not yet
// delivered, and released oldest first as earlier ones finish. Another
// tenant's work then waits behind a bounded number of jobs, not behind a
// whole bulk. Held work is only delayed: it keeps its quote and is charged
// once, when it runs.

// Pace sets the queue whose jobs are paced and how many of them a tenant
// of each plan may have on it at once; an empty queue or inFlight turns
// pacing off (every job is delivered at once). Call it before the store is
// used.
func (s *Store) Pace(queue string, inFlight map[string]int) {
	s.pacedQueue, s.inFlight = queue, inFlight
}

func (s *Store) paced() bool { return s.pacedQueue != "" && len(s.inFlight) > 0 }

// advisoryPacing is the first key of the advisory lock that serializes a
// tenant's releases (the second is the tenant id).
const advisoryPacing int32 = 0x5072_0003

// deliverable returns, of the jobs just created in tx, those to enqueue
// now: the ones neither held nor batched, and the held jobs of the tenant (the new ones
// included) that fit in its room.
func (s *Store) deliverable(ctx context.Context, tx pgx.Tx, tenantID int64, created []Job) ([]Job, error) {
	deliver := make([]Job, 0, len(created))
	held := false
	for _, j := range created {
		switch {
		case j.Held:
			held = true
		case j.State != JobBatched:
			deliver = append(deliver, j)
		}
	}
	if !held {
		return deliver, nil
	}
	released, err := s.release(ctx, tx, tenantID)
	return append(deliver, released...), err
}

// ReleaseHeld releases the tenant's held jobs that fit in its room, oldest
// first, and returns them, to enqueue. It is called after every job of
// the paced queue ends, so a tenant without held jobs costs one indexed look, not a locked
// transaction.
func (s *Store) ReleaseHeld(ctx context.Context, tenantID int64) ([]Job, error) {
	if !s.paced() {
		return nil, nil
	}
	// The end of the attempt that calls may have read it already.
	if a := attemptOf(ctx); a != nil && a.heldKnown.Load() && !a.held.Load() {
		return nil, nil
	}
	var anyHeld bool
	if err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM jobs WHERE tenant_id = $1 AND held AND state = 'queued')`,
		tenantID).Scan(&anyHeld); err != nil || !anyHeld {
		return nil, translate(err)
	}
	var released []Job
	err := s.transact(ctx, func(tx pgx.Tx) error {
		var err error
		released, err = s.release(ctx, tx, tenantID)
		return err
	})
	return released, err
}

func (s *Store) release(ctx context.Context, tx pgx.Tx, tenantID int64) ([]Job, error) {
	free, anyHeld, err := s.room(ctx, tx, tenantID)
	if err != nil || free == 0 || !anyHeld {
		return nil, err
	}
	rows, err := tx.Query(ctx, `
		UPDATE jobs SET held = false, phase = 'queued', updated_at = now()
		WHERE id IN (SELECT id FROM jobs WHERE tenant_id = $1 AND held AND state = 'queued'
		             ORDER BY created_at, id LIMIT $2)
		RETURNING `+jobColumns, tenantID, free)
	if err != nil {
		return nil, fmt.Errorf("release held jobs: %w", err)
	}
	return collect(rows, scanJob)
}

// room locks the tenant's releases for the rest of tx and returns how many
// more of its jobs the paced queue has room for (its plan's room less its
// jobs queued or running there, not held) and whether it has held jobs.
func (s *Store) room(ctx context.Context, tx pgx.Tx, tenantID int64) (free int, anyHeld bool, err error) {
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, ($2::bigint % 2147483647)::int)`,
		advisoryPacing, tenantID); err != nil {
		return 0, false, fmt.Errorf("lock releases: %w", err)
	}
	// The plan catalogue's fair-share room (#26), when it gives one,
	// overrides BULK_INFLIGHT's.
	var plan string
	var catalogued *int
	var inFlight int
	if err := tx.QueryRow(ctx, `SELECT t.plan, p.bulk_inflight,
			(SELECT count(*) FROM jobs WHERE tenant_id = $1 AND queue = $2 AND NOT held AND state IN ('queued', 'running')),
			EXISTS (SELECT 1 FROM jobs WHERE tenant_id = $1 AND held AND state = 'queued')
		FROM tenants t LEFT JOIN plans p ON p.name = t.plan
		WHERE t.id = $1`, tenantID, s.pacedQueue).Scan(&plan, &catalogued, &inFlight, &anyHeld); err != nil {
		return 0, false, fmt.Errorf("tenant %d: %w", tenantID, err)
	}
	room := s.inFlight[plan]
	if catalogued != nil {
		room = *catalogued
	}
	return max(max(room, 1)-inFlight, 0), anyHeld, nil
}

// holds returns, for jobs about to be created, which to hold: when the
// store paces, the jobs of the paced queue (not batched) past the room the
// tenant has left (room), all of them if it has held jobs already (those
// go first). It takes the lock of the tenant's releases when it looks.
func (s *Store) holds(ctx context.Context, tx pgx.Tx, tenantID int64, jobs []NewJob) ([]bool, error) {
	held := make([]bool, len(jobs))
	if !s.paced() || !slices.ContainsFunc(jobs, func(j NewJob) bool { return s.isPaced(j) }) {
		return held, nil
	}
	free, anyHeld, err := s.room(ctx, tx, tenantID)
	if err != nil {
		return nil, err
	}
	if anyHeld {
		free = 0
	}
	for i, j := range jobs {
		if s.isPaced(j) {
			held[i] = free == 0
			free = max(free-1, 0)
		}
	}
	return held, nil
}

func (s *Store) isPaced(j NewJob) bool { return j.Queue == s.pacedQueue && !j.Batched }

// TenantsWithHeld returns the tenants that have held jobs.
func (s *Store) TenantsWithHeld(ctx context.Context) ([]int64, error) {
	rows, err := s.pool.Query(ctx, `SELECT DISTINCT tenant_id FROM jobs WHERE held AND state = 'queued'`)
	if err != nil {
		return nil, translate(err)
	}
	return collect(rows, func(r pgx.Row) (id int64, err error) { err = r.Scan(&id); return id, err })
}
