package store

import (
	"context"
	"fmt"
	"time"

	"github.com/presswork/presswork/internal/errs"
)

// Worker processes and the rescue of their jobs (#25). Each worker process
// registers itself and beats; an attempt records its worker when it starts
// (StartJob, from the Delivery of its context). A process whose beat is
// older than lostAfter and that did not say it stopped has died, and
// RescueLostJobs delivers its running jobs again under a new delivery
// number. Every write a worker makes on its job's row names the delivery it
// holds, so a process that was only paused finds, when it comes back, that
// its writes change nothing (ErrDeliveryLost).

// JobDelivery is the delivery of a job a worker holds: the worker process and
// the delivery number its task carried.
type JobDelivery struct {
	Worker string
	Number int
}

type deliveryKey struct{}

// WithDelivery returns ctx carrying d: the job writes made with it
// (StartJob, SetPhase, the finishing writes, FailJob, RetryLater) apply
// only while the job's delivery number is d's, and StartJob records d's
// worker on the job.
func WithDelivery(ctx context.Context, d JobDelivery) context.Context {
	return context.WithValue(ctx, deliveryKey{}, d)
}

// deliveryOf returns the delivery ctx carries: its number, nil when it
// carries none (the API's writes, which no rescue fences), and its worker,
// nil when unnamed.
func deliveryOf(ctx context.Context) (number *int, worker *string) {
	d, ok := ctx.Value(deliveryKey{}).(JobDelivery)
	if !ok {
		return nil, nil
	}
	if d.Worker != "" {
		worker = &d.Worker
	}
	return &d.Number, worker
}

// ErrDeliveryLost is returned by a worker's write on a job that was
// delivered again since its delivery began (its worker was taken for
// lost): the write changed nothing, and the job is another delivery's. It
// is an ErrJobFinished for the delivery that gets it: there is nothing
// left for it to do.
var ErrDeliveryLost = fmt.Errorf("%w: the job was delivered again (its worker was taken for lost)", ErrJobFinished)

// RegisterWorker records a worker process as running, beating now, and
// forgets the workers silent for a day that hold no running job (done
// here, once per process start, rather than on every rescue tick).
func (s *Store) RegisterWorker(ctx context.Context, id, host string, pid int) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO workers (id, host, pid) VALUES ($1, $2, $3)
		ON CONFLICT (id) DO UPDATE SET heartbeat_at = now(), stopped_at = NULL`, id, host, pid)
	if err != nil {
		return translate(err)
	}
	_, err = s.pool.Exec(ctx, `DELETE FROM workers w WHERE heartbeat_at < now() - interval '1 day'
		AND NOT EXISTS (SELECT 1 FROM jobs WHERE worker_id = w.id AND state = 'running')`)
	return translate(err)
}

// Heartbeat records that the worker process is alive. A worker row that is
// gone (deleted long after it stopped beating) is ErrNotFound: register
// again.
func (s *Store) Heartbeat(ctx context.Context, id string) error {
	tag, err := s.pool.Exec(ctx, `UPDATE workers SET heartbeat_at = now() WHERE id = $1`, id)
	if err != nil {
		return translate(err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("worker %s: %w", id, errs.ErrNotFound)
	}
	return nil
}

// StopWorker records that the worker process stopped gracefully: its jobs
// went back to the queue through asynq and are not rescued.
func (s *Store) StopWorker(ctx context.Context, id string) error {
	_, err := s.pool.Exec(ctx, `UPDATE workers SET stopped_at = now() WHERE id = $1`, id)
	return translate(err)
}

// LostWorkerMessage is what a job delivered again after its worker was
// lost shows as its error, with errs.CodeWorkerLost.
const LostWorkerMessage = "the worker running this job stopped answering; the job was queued again for another worker"

// RescueLostJobs queues again, under the next delivery number, the running
// jobs of worker processes whose last beat is older than lostAfter and
// that did not stop gracefully, at most limit of them, and returns them as
// they are now, for their tasks to be enqueued. The job shows it was
// queued again because its worker was lost; its attempt counts.
func (s *Store) RescueLostJobs(ctx context.Context, lostAfter time.Duration, limit int) ([]Job, error) {
	rows, err := s.pool.Query(ctx, `UPDATE jobs SET state = 'queued', phase = 'worker_lost', worker_id = NULL,
			delivery = delivery + 1, last_error = $3, error_code = $4, retry_at = NULL, updated_at = now()
		WHERE id IN (SELECT j.id FROM jobs j JOIN workers w ON w.id = j.worker_id
			WHERE j.state = 'running' AND w.stopped_at IS NULL AND w.heartbeat_at < now() - make_interval(secs => $1)
			ORDER BY j.started_at LIMIT $2 FOR UPDATE OF j SKIP LOCKED)
		RETURNING `+jobColumns, lostAfter.Seconds(), limit, LostWorkerMessage, errs.CodeWorkerLost)
	if err != nil {
		return nil, fmt.Errorf("rescue jobs of lost workers: %w", translate(err))
	}
	return collect(rows, scanJob)
}
