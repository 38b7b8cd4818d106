package jobs

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/hibiken/asynq"

	"github.com/presswork/presswork/internal/store"
)

// Client submits jobs and releases held ones: the one way jobs reach the
// queue.
type Client struct {
	store  *store.Store
	client *asynq.Client
	log    *slog.Logger
}

// New returns a client that records jobs in st and enqueues their tasks
// with client.
func New(st *store.Store, client *asynq.Client, log *slog.Logger) *Client {
	return &Client{store: st, client: client, log: log}
}

// Submit runs commit, which writes jobs in one transaction and returns
// those to put on the queue now, then enqueues them. It returns commit's
// error, and enqueues nothing then. An enqueue that fails is logged, not
// returned: the jobs are safe in PostgreSQL and the Reconciler delivers
// them once the queue is reachable.
func (c *Client) Submit(ctx context.Context, commit func(context.Context) ([]store.Job, error)) error {
	deliver, err := commit(ctx)
	if err != nil || len(deliver) == 0 {
		return err
	}
	if err := c.enqueue(ctx, deliver); err != nil {
		c.log.Warn("enqueue failed; the reconciler will deliver", "error", err, "jobs", len(deliver))
	}
	return nil
}

// Create records a tenant's jobs (see store.CreateJobs; a batch when
// batchID is not empty) and enqueues those to deliver now.
func (c *Client) Create(ctx context.Context, tenantID int64, batchID string, js []store.NewJob) (store.JobBatch, error) {
	var made store.JobBatch
	err := c.Submit(ctx, func(ctx context.Context) ([]store.Job, error) {
		var err error
		made, err = c.store.CreateJobs(ctx, tenantID, batchID, js)
		return made.Deliver, err
	})
	return made, err
}

// Release puts the tenant's held jobs that now fit in its room on the
// queue and returns how many it released. Jobs released but not enqueued
// (the error says why) stay queued in PostgreSQL for the Reconciler.
func (c *Client) Release(ctx context.Context, tenantID int64) (int, error) {
	released, err := c.store.ReleaseHeld(ctx, tenantID)
	if err != nil || len(released) == 0 {
		return 0, err
	}
	return len(released), c.enqueue(ctx, released)
}

// finishedTimeout bounds the release that follows a job's end.
const finishedTimeout = 10 * time.Second

// Finished is told that one of a tenant's jobs on queue ended (it
// succeeded, failed for good or was canceled). A job of the paced queue
// leaves room: the tenant's held jobs that now fit are released, on a
// context of their own since ctx may be ending. A failure is logged; the
// Reconciler releases them on its next pass.
func (c *Client) Finished(ctx context.Context, tenantID int64, queue string) {
	if queue != QueueBulk {
		return
	}
	bg, cancel := context.WithTimeout(context.WithoutCancel(ctx), finishedTimeout)
	defer cancel()
	if _, err := c.Release(bg, tenantID); err != nil {
		c.log.Warn("releasing held jobs failed; the reconciler will", "error", err, "tenant", tenantID)
	}
}

// enqueueWorkers bounds the parallel enqueues of a bulk request: enqueue is
// one Redis round trip per task, and eight in flight keep Redis busy.
const enqueueWorkers = 8

// enqueue enqueues the jobs' tasks. A task already enqueued (same id)
// counts as done. The first error is returned after every job was tried;
// jobs that could not be enqueued stay queued in PostgreSQL and the
// Reconciler delivers them later.
func (c *Client) enqueue(ctx context.Context, js []store.Job) error {
	if len(js) == 1 {
		return c.enqueueOne(ctx, js[0])
	}
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
		next     = make(chan store.Job)
	)
	for range min(enqueueWorkers, len(js)) {
		wg.Go(func() {
			for job := range next {
				if err := c.enqueueOne(ctx, job); err != nil {
					mu.Lock()
					firstErr = cmp.Or(firstErr, err)
					mu.Unlock()
				}
			}
		})
	}
	for _, job := range js {
		next <- job
	}
	close(next)
	wg.Wait()
	return firstErr
}

func (c *Client) enqueueOne(ctx context.Context, job store.Job) error {
	task, err := NewTask(job)
	if err != nil {
		return err
	}
	_, err = c.client.EnqueueContext(ctx, task)
	if errors.Is(err, asynq.ErrTaskIDConflict) || errors.Is(err, asynq.ErrDuplicateTask) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("enqueue job %s: %w", job.ID, err)
	}
	return nil
}
