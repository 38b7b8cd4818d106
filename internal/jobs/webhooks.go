package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/hibiken/asynq"

	"github.com/presswork/presswork/internal/store"
	"github.com/presswork/presswork/internal/tasks"
)

// WebhookTimeout bounds one webhook send (the worker's HTTP request
// included); WebhookLease is how long a claimed delivery waits before the
// dispatcher hands it out again, so a send lost with its worker (or never
// enqueued) is made again after it.
const (
	WebhookTimeout = 30 * time.Second
	WebhookLease   = 2 * time.Minute
)

// Dispatcher puts due webhook deliveries on the default queue. PostgreSQL
// holds what is due (store.ClaimDeliveries); a task only carries the
// delivery id and attempt number, and is not retried by asynq: the
// delivery's row says when to send again.
type Dispatcher struct {
	Store  *store.Store
	Client *asynq.Client
	Log    *slog.Logger
	Now    func() time.Time
	// Batch is how many deliveries one claim takes (0: 100).
	Batch int
}

// NewWebhookTask builds the task that makes one send of a delivery.
func NewWebhookTask(c store.DeliveryClaim) (*asynq.Task, error) {
	payload, err := json.Marshal(tasks.WebhookPayload{DeliveryID: c.ID, Attempt: c.Attempt})
	if err != nil {
		return nil, fmt.Errorf("payload of delivery %d: %w", c.ID, err)
	}
	return asynq.NewTask(tasks.TypeWebhook, payload, asynq.TaskID(fmt.Sprintf("webhook-%d-%d", c.ID, c.Attempt)),
		asynq.Queue(QueueDefault), asynq.MaxRetry(0), asynq.Timeout(WebhookTimeout)), nil
}

// Once enqueues the deliveries due now and says how many it handed out.
// A delivery that could not be enqueued is handed out again after
// WebhookLease.
func (d *Dispatcher) Once(ctx context.Context) (int, error) {
	batch := d.Batch
	if batch <= 0 {
		batch = 100
	}
	total := 0
	for ctx.Err() == nil {
		claims, err := d.Store.ClaimDeliveries(ctx, d.Now(), WebhookLease, batch)
		if err != nil {
			return total, err
		}
		for _, c := range claims {
			task, err := NewWebhookTask(c)
			if err != nil {
				return total, err
			}
			if _, err := d.Client.EnqueueContext(ctx, task); err != nil && !errors.Is(err, asynq.ErrTaskIDConflict) {
				return total, fmt.Errorf("enqueue delivery %d: %w", c.ID, err)
			}
			total++
		}
		if len(claims) < batch {
			break
		}
	}
	return total, nil
}

// Pass runs Once and logs what it did (for scheduler.WhileLeading).
func (d *Dispatcher) Pass(ctx context.Context) {
	n, err := d.Once(ctx)
	if err != nil {
		d.Log.Warn("webhook dispatch failed", "error", err)
	} else if n > 0 {
		d.Log.Debug("webhook deliveries enqueued", "count", n)
	}
}
