// Package jobs owns a job's life between PostgreSQL and the queue. A job is
// a row first and a task second: Submit commits the rows (and their credit
// reservations), then enqueues their tasks, whose id is the job id; an
// enqueue that fails is left to the Reconciler, which delivers again what
// PostgreSQL holds and asynq lost. Bulk work is paced: Finished and Release
// put a tenant's held jobs on the queue as its room frees up. The queues,
// the choice between them and each task type's retries and time limit live
// here, and so do the panel check's queue and task (no job, but a task
// with options of its own); store keeps the SQL and is handed the names
// and limits (Configure).
package jobs

import (
	"github.com/presswork/presswork/internal/store"
	"github.com/presswork/presswork/internal/tasks"
)

// Queues. A few fixed queues: asynq scans queues one by one, so never one
// per tenant.
const (
	QueueDefault = "default" // single items asked for by a person
	QueueBulk    = "bulk"    // the items of a bulk request, paced per tenant
)

// Queues maps queue names to their asynq priority weights.
var Queues = map[string]int{QueueDefault: 3, QueueBulk: 1}

// QueueFor is the queue of the jobs of a request for n items: a single
// item goes on the default queue, the items of a bulk request on the bulk
// one.
func QueueFor(n int) string {
	if n == 1 {
		return QueueDefault
	}
	return QueueBulk
}

// Configure hands st what it stores jobs with: the bulk queue as the paced
// one, with each plan's room on it (bulkInFlight; empty turns pacing off),
// and the type and queue of the job that delivers an automation run. Call
// it once, before st is used.
func Configure(st *store.Store, bulkInFlight map[string]int) {
	st.Pace(QueueBulk, bulkInFlight)
	st.SetRunJob(tasks.TypeAutomation, QueueDefault)
}
