package store

import (
	"context"

	"github.com/jackc/pgx/v5"
)

// Progress is where a watched batch or job stands: what an event stream
// sends as batch.progress or job.progress while a page shows its bar.
type Progress struct {
	// Kind is "batch" or "job".
	Kind string `json:"kind"`
	ID   string `json:"id"`
	// Total, Done and Failed count the jobs (1 for a job); Done counts
	// succeeded, failed and canceled ones.
	Total  int `json:"total"`
	Done   int `json:"done"`
	Failed int `json:"failed"`
	// State, Phase, Error and ErrorCode are a single job's (empty for a
	// batch: its failures are in GET /v1/batches/:id).
	State     string  `json:"state,omitempty"`
	Phase     string  `json:"phase,omitempty"`
	Error     *string `json:"error,omitempty"`
	ErrorCode *string `json:"error_code,omitempty"`
}

// Finished reports whether every job of p has ended.
func (p Progress) Finished() bool { return p.Done >= p.Total }

// WatchProgress reads where the tenant's batches and jobs of the given ids
// stand, batches first; ids of another tenant or of nothing are left out.
// Two indexed reads, whatever the size of the tenant's history.
func (s *Store) WatchProgress(ctx context.Context, tenantID int64, batchIDs, jobIDs []string) ([]Progress, error) {
	out := []Progress{}
	if len(batchIDs) > 0 {
		rows, err := s.pool.Query(ctx, `
			SELECT b.id, b.total,
			       count(j.id) FILTER (WHERE j.state IN ('succeeded', 'failed', 'canceled')),
			       count(j.id) FILTER (WHERE j.state = 'failed')
			FROM batches b LEFT JOIN jobs j ON j.batch_id = b.id
			WHERE b.tenant_id = $1 AND b.id = ANY ($2)
			GROUP BY b.id, b.total ORDER BY b.id`, tenantID, batchIDs)
		if err != nil {
			return nil, translate(err)
		}
		batches, err := collect(rows, func(r pgx.Row) (p Progress, err error) {
			p.Kind = "batch"
			err = r.Scan(&p.ID, &p.Total, &p.Done, &p.Failed)
			return p, err
		})
		if err != nil {
			return nil, err
		}
		out = append(out, batches...)
	}
	if len(jobIDs) > 0 {
		rows, err := s.pool.Query(ctx, `SELECT id, state, phase, last_error, error_code FROM jobs
			WHERE tenant_id = $1 AND id = ANY ($2) ORDER BY id`, tenantID, jobIDs)
		if err != nil {
			return nil, translate(err)
		}
		jobs, err := collect(rows, func(r pgx.Row) (p Progress, err error) {
			p.Kind, p.Total = "job", 1
			if err = r.Scan(&p.ID, &p.State, &p.Phase, &p.Error, &p.ErrorCode); err != nil {
				return p, err
			}
			if p.State == JobSucceeded || p.State == JobFailed || p.State == JobCanceled {
				p.Done = 1
			}
			if p.State == JobFailed {
				p.Failed = 1
			}
			return p, nil
		})
		if err != nil {
			return nil, err
		}
		out = append(out, jobs...)
	}
	return out, nil
}
