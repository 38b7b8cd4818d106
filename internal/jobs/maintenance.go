package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/hibiken/asynq"

	"github.com/presswork/presswork/internal/store"
)

// Maintenance deletes what is kept only for a while: finished jobs, the
// records of automation runs, events and their webhook deliveries, and
// the tasks asynq archived.
type Maintenance struct {
	Store     *store.Store
	Inspector *asynq.Inspector
	Log       *slog.Logger
	Now       func() time.Time
	// How long each is kept after it finished.
	RetainJobs, RetainRuns, RetainArchived time.Duration
}

// MaintenanceReport counts what one pass deleted.
type MaintenanceReport struct {
	Jobs, Runs, ArchivedTasks int64
	// IdempotencyKeys older than store.IdempotencyKeyRetention.
	IdempotencyKeys int64
	// Events recorded RetainJobs ago, with their webhook deliveries.
	Events int64
}

// archivedPage is how many archived tasks one listing reads.
const archivedPage = 500

// Once makes one maintenance pass.
func (m *Maintenance) Once(ctx context.Context) (MaintenanceReport, error) {
	var rep MaintenanceReport
	var err1, err2, err3, err4, err5 error
	now := m.Now()
	rep.Jobs, err1 = m.Store.PruneJobs(ctx, now.Add(-m.RetainJobs))
	rep.Events, err5 = m.Store.PruneEvents(ctx, now.Add(-m.RetainJobs))
	rep.Runs, err2 = m.Store.PruneRuns(ctx, now.Add(-m.RetainRuns))
	rep.IdempotencyKeys, err3 = m.Store.PruneIdempotencyKeys(ctx, now.Add(-store.IdempotencyKeyRetention))
	for queue := range Queues {
		n, err := m.pruneArchived(ctx, queue, now.Add(-m.RetainArchived))
		rep.ArchivedTasks += n
		err4 = errors.Join(err4, err)
	}
	return rep, errors.Join(err1, err2, err3, err4, err5)
}

// pruneArchived deletes a queue's tasks archived before cutoff. asynq
// lists archived tasks oldest first, so it stops at the first newer one.
func (m *Maintenance) pruneArchived(ctx context.Context, queue string, cutoff time.Time) (int64, error) {
	var deleted int64
	for ctx.Err() == nil {
		tasks, err := m.Inspector.ListArchivedTasks(queue, asynq.PageSize(archivedPage), asynq.Page(1))
		if errors.Is(err, asynq.ErrQueueNotFound) {
			return deleted, nil
		}
		if err != nil {
			return deleted, fmt.Errorf("list archived tasks of %s: %w", queue, err)
		}
		old := 0
		for _, t := range tasks {
			// A task archived by hand has no failure time: its age is
			// unknown, and it is left for asynq's own 90-day limit.
			if t.LastFailedAt.IsZero() || !t.LastFailedAt.Before(cutoff) {
				break
			}
			if err := m.Inspector.DeleteTask(queue, t.ID); err != nil && !errors.Is(err, asynq.ErrTaskNotFound) {
				return deleted, fmt.Errorf("delete archived task %s: %w", t.ID, err)
			}
			deleted++
			old++
		}
		if old < len(tasks) || len(tasks) < archivedPage {
			return deleted, nil
		}
	}
	return deleted, ctx.Err()
}

// Pass makes one pass and logs what it did.
func (m *Maintenance) Pass(ctx context.Context) {
	rep, err := m.Once(ctx)
	if err != nil {
		m.Log.Warn("maintenance pass failed", "error", err)
	}
	if rep.Jobs+rep.Runs+rep.ArchivedTasks+rep.IdempotencyKeys+rep.Events > 0 {
		m.Log.Info("maintenance", "jobs_deleted", rep.Jobs, "runs_deleted", rep.Runs,
			"archived_tasks_deleted", rep.ArchivedTasks, "idempotency_keys_deleted", rep.IdempotencyKeys,
			"events_deleted", rep.Events)
	}
}
