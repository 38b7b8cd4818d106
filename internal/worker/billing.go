package worker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/hibiken/asynq"

	"github.com/presswork/presswork/internal/billing"
	"github.com/presswork/presswork/internal/errs"
	"github.com/presswork/presswork/internal/store"
	"github.com/presswork/presswork/internal/tasks"
)

// BillingStore is what the billing tasks need of the store.
type BillingStore interface {
	GetStripeEvent(ctx context.Context, id string) (store.StripeEvent, error)
	ApplyBillingChange(ctx context.Context, ch store.BillingChange) (store.BillingOutcome, error)
	SuspendPastDue(ctx context.Context, tenantID int64, cutoff time.Time) (bool, error)
}

// BillingReleaser lets a tenant's held bulk jobs go when its plan's room
// grew (jobs.Client).
type BillingReleaser interface {
	Release(ctx context.Context, tenantID int64) (int, error)
}

// InvoicePayments finds the payment intent that paid an invoice
// (billing.Service), for an invoice.paid event that did not carry it.
type InvoicePayments interface {
	InvoicePaymentIntent(ctx context.Context, invoiceID string) (string, error)
}

// BillingEvents applies stored Stripe events (#26) and ends grace periods.
// An event applies in one transaction that marks it applied, so a worker
// killed anywhere before the commit leaves it unapplied for the task's
// next delivery, and one killed after leaves nothing to do.
type BillingEvents struct {
	Store BillingStore
	Jobs  BillingReleaser
	// Queue takes the grace-period tasks.
	Queue billing.Enqueuer
	// Payments, when not nil, completes paid invoices with their payment
	// intent, so that a refund of their charge finds them.
	Payments InvoicePayments
	Grace    time.Duration
	Now      func() time.Time
	Log      *slog.Logger
}

// RegisterBilling registers the billing tasks on mux.
func RegisterBilling(mux *asynq.ServeMux, b *BillingEvents) {
	mux.HandleFunc(tasks.TypeStripeEvent, b.ApplyEvent)
	mux.HandleFunc(tasks.TypeStripeGrace, b.EndGrace)
}

// ApplyEvent applies the stored event the task names.
func (b *BillingEvents) ApplyEvent(ctx context.Context, t *asynq.Task) error {
	var p tasks.StripeEventPayload
	if err := json.Unmarshal(t.Payload(), &p); err != nil {
		return fmt.Errorf("payload: %v: %w", err, asynq.SkipRetry)
	}
	ev, err := b.Store.GetStripeEvent(ctx, p.EventID)
	if errors.Is(err, errs.ErrNotFound) {
		return fmt.Errorf("stripe event %s is not stored: %w", p.EventID, asynq.SkipRetry)
	}
	if err != nil {
		return err
	}
	if ev.AppliedAt != nil {
		return nil
	}
	ch, err := billing.Change(ev)
	if err != nil {
		if errs.IsPermanent(err) {
			return fmt.Errorf("%w: %w", err, asynq.SkipRetry)
		}
		return err
	}
	if ch.Invoice != nil && ch.Invoice.PaymentIntent == "" && b.Payments != nil {
		pi, err := b.Payments.InvoicePaymentIntent(ctx, ch.Invoice.InvoiceID)
		if err != nil {
			// The allowance is not held up for it: only a later refund
			// of this invoice will not find its payment.
			b.Log.Warn("finding the payment of a paid invoice", "invoice", ch.Invoice.InvoiceID, "error", err)
		}
		ch.Invoice.PaymentIntent = pi
	}
	out, err := b.Store.ApplyBillingChange(ctx, ch)
	if err != nil {
		return fmt.Errorf("apply Stripe event %s: %w", ev.ID, err)
	}
	b.Log.Info("stripe event applied", "event", ev.ID, "type", ev.Type, "tenant_id", out.TenantID,
		"outcome", out.Outcome, "replayed", out.Replayed)
	if out.PlanChanged && b.Jobs != nil {
		if _, err := b.Jobs.Release(ctx, out.TenantID); err != nil {
			// The plan stands; the reconciler's next pass releases them.
			b.Log.Warn("releasing held jobs after a plan change", "tenant_id", out.TenantID, "error", err)
		}
	}
	if out.PastDueSince != nil {
		task, opts, err := billing.NewGraceTask(out.TenantID, *out.PastDueSince, out.PastDueSince.Add(b.Grace))
		if err != nil {
			return err
		}
		if _, err := b.Queue.EnqueueContext(ctx, task, opts...); err != nil && !errors.Is(err, asynq.ErrTaskIDConflict) {
			// The event is applied; the grace task is lost with this error
			// logged. The next failed payment event schedules it again.
			b.Log.Error("scheduling the end of a grace period", "tenant_id", out.TenantID, "error", err)
		}
	}
	return nil
}

// EndGrace suspends the tenant for new work if its payment is still past
// due a grace period after it failed.
func (b *BillingEvents) EndGrace(ctx context.Context, t *asynq.Task) error {
	var p tasks.StripeGracePayload
	if err := json.Unmarshal(t.Payload(), &p); err != nil {
		return fmt.Errorf("payload: %v: %w", err, asynq.SkipRetry)
	}
	suspended, err := b.Store.SuspendPastDue(ctx, p.TenantID, b.Now().Add(-b.Grace))
	if err != nil {
		return err
	}
	if suspended {
		b.Log.Warn("tenant suspended: payment past due after the grace period", "tenant_id", p.TenantID)
	}
	return nil
}

// SweepStore is what the billing sweep needs of the store.
type SweepStore interface {
	UnappliedStripeEvents(ctx context.Context, cutoff time.Time) ([]string, error)
}

// SweepBilling enqueues again, every period until ctx ends, the Stripe
// events received more than a period ago and still not applied: those
// whose worker died mid-way (asynq would deliver them again only after
// its lease ran out) or whose enqueue failed. A duplicate task is
// harmless: an event applies once (store.ApplyBillingChange).
func SweepBilling(ctx context.Context, st SweepStore, q billing.Enqueuer, every time.Duration, now func() time.Time, log *slog.Logger) {
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		t := now()
		ids, err := st.UnappliedStripeEvents(ctx, t.Add(-every))
		if err != nil {
			log.Warn("billing sweep", "error", err)
			continue
		}
		for _, id := range ids {
			if err := billing.EnqueueAgain(ctx, q, id, t.Truncate(every)); err != nil {
				log.Warn("billing sweep: enqueue", "event", id, "error", err)
			}
		}
	}
}
