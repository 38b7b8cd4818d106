// Package tasks holds Presswork's asynq task types: their names, payloads
// (ids only), default options and handlers, one file per stage. PostgreSQL
// is the source of truth; a task only delivers a job id, and the handler
// checks the job row before it works.
package tasks

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/hibiken/asynq"

	"github.com/presswork/presswork/internal/store"
)

// Task types.
const (
	TypeCluster = "keywords:cluster"
	TypeIdeas   = "ideas:generate"
	TypeDraft   = "draft:write"
	TypeImage   = "image:generate"
	TypePublish = "post:publish"
	TypeCheck   = "site:check"
)

// Queues. A few fixed queues: asynq scans queues one by one, so never one
// per tenant.
const (
	QueueDefault = "default" // single items asked for by a person
	QueueBulk    = "bulk"    // the items of a bulk request
)

// Queues maps queue names to their asynq priority weights.
var Queues = map[string]int{QueueDefault: 3, QueueBulk: 1}

// Payload is every task's payload: ids only.
type Payload struct {
	TenantID  int64  `json:"tenant_id"`
	JobID     string `json:"job_id"`
	SubjectID int64  `json:"subject_id"`
}

// spec is a task type's default options.
type spec struct {
	maxRetry int
	timeout  time.Duration
}

var specs = map[string]spec{
	TypeCluster: {maxRetry: 5, timeout: 30 * time.Minute},
	TypeIdeas:   {maxRetry: 8, timeout: 5 * time.Minute},
	TypeDraft:   {maxRetry: 8, timeout: 10 * time.Minute},
	TypeImage:   {maxRetry: 8, timeout: 10 * time.Minute},
	// A publish is a handful of requests; a flaky site gets many tries,
	// spaced by asynq's backoff.
	TypePublish: {maxRetry: 20, timeout: 5 * time.Minute},
	TypeCheck:   {maxRetry: 3, timeout: time.Minute},
	// A run only reads PostgreSQL and enqueues.
	TypeAutomation: {maxRetry: 10, timeout: 2 * time.Minute},
	// A deploy waits for the app to run (DEPLOY_WAIT, 10 minutes by
	// default); a panel that is down gets several tries.
	TypeDeploy: {maxRetry: 8, timeout: 20 * time.Minute},
}

// Timeout returns how long one attempt of a task type may run.
func Timeout(taskType string) time.Duration { return specs[taskType].timeout }

// NewTask builds the asynq task that delivers a job. Its id is the job id,
// so a second enqueue of the same job is rejected by asynq.
func NewTask(job store.Job) (*asynq.Task, error) {
	sp, ok := specs[job.Type]
	if !ok {
		return nil, fmt.Errorf("unknown task type %q", job.Type)
	}
	payload, err := json.Marshal(Payload{TenantID: job.TenantID, JobID: job.ID, SubjectID: job.SubjectID})
	if err != nil {
		return nil, err
	}
	return asynq.NewTask(job.Type, payload,
		asynq.TaskID(job.ID), asynq.Queue(job.Queue), asynq.MaxRetry(sp.maxRetry), asynq.Timeout(sp.timeout)), nil
}

// Enqueuer puts jobs on the queues.
type Enqueuer struct {
	Client *asynq.Client
}

// enqueueWorkers bounds the parallel enqueues of a bulk request: enqueue is
// one Redis round trip per task, and eight in flight keep Redis busy.
const enqueueWorkers = 8

// Enqueue enqueues the jobs' tasks. A task already enqueued (same id) counts
// as done. The first error is returned after every job was tried; jobs that
// could not be enqueued stay queued in PostgreSQL and the reconciler
// delivers them later.
func (e *Enqueuer) Enqueue(ctx context.Context, jobs []store.Job) error {
	if len(jobs) == 1 {
		return e.enqueueOne(ctx, jobs[0])
	}
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
		next     = make(chan store.Job)
	)
	for range min(enqueueWorkers, len(jobs)) {
		wg.Go(func() {
			for job := range next {
				if err := e.enqueueOne(ctx, job); err != nil {
					mu.Lock()
					firstErr = cmp.Or(firstErr, err)
					mu.Unlock()
				}
			}
		})
	}
	for _, job := range jobs {
		next <- job
	}
	close(next)
	wg.Wait()
	return firstErr
}

func (e *Enqueuer) enqueueOne(ctx context.Context, job store.Job) error {
	task, err := NewTask(job)
	if err != nil {
		return err
	}
	_, err = e.Client.EnqueueContext(ctx, task)
	if errors.Is(err, asynq.ErrTaskIDConflict) || errors.Is(err, asynq.ErrDuplicateTask) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("enqueue job %s: %w", job.ID, err)
	}
	return nil
}
