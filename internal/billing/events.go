package billing

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/hibiken/asynq"
	"github.com/stripe/stripe-go/v84"
	"github.com/stripe/stripe-go/v84/webhook"

	"github.com/presswork/presswork/internal/errs"
	"github.com/presswork/presswork/internal/store"
	"github.com/presswork/presswork/internal/tasks"
)

// The queue and options of the billing tasks: on the default queue with
// the person-asked work, retried, a minute at most each.
const (
	taskQueue   = "default"
	taskRetries = 25
	taskTimeout = time.Minute
)

// Handled are the event types billing applies; the README lists them as
// the ones to enable on the endpoint in Stripe's dashboard.
var Handled = []string{
	"checkout.session.completed",
	"invoice.paid",
	"invoice.payment_failed",
	"customer.subscription.created",
	"customer.subscription.updated",
	"customer.subscription.deleted",
	"charge.refunded",
}

// Receive verifies a webhook's signature (webhook.ConstructEvent, with
// Stripe's default tolerance), stores the event by its id and enqueues the
// task that applies it, unless it was applied already. A bad or stale
// signature is a validation error naming Stripe-Signature and stores
// nothing. A redelivered event that is not applied yet is enqueued again
// (the task id makes that one task).
func (s *Service) Receive(ctx context.Context, payload []byte, signature string) (store.StripeEvent, error) {
	ev, err := webhook.ConstructEvent(payload, signature, s.webhookSecret)
	if err != nil {
		return store.StripeEvent{}, errs.Invalid("Stripe-Signature", "the signature does not verify: %v", err)
	}
	created := time.Unix(ev.Created, 0).UTC()
	if _, err := s.store.RecordStripeEvent(ctx, ev.ID, string(ev.Type), created, payload); err != nil {
		return store.StripeEvent{}, err
	}
	stored, err := s.store.GetStripeEvent(ctx, ev.ID)
	if err != nil || stored.AppliedAt != nil {
		return stored, err
	}
	return stored, Enqueue(ctx, s.queue, ev.ID)
}

// NewEventTask is the task that applies a stored event; its id is the
// event's, so an event is on the queue once at a time.
func NewEventTask(eventID string) (*asynq.Task, error) {
	payload, err := json.Marshal(tasks.StripeEventPayload{EventID: eventID})
	if err != nil {
		return nil, err
	}
	return asynq.NewTask(tasks.TypeStripeEvent, payload, asynq.TaskID("stripe-"+eventID), asynq.Queue(taskQueue),
		asynq.MaxRetry(taskRetries), asynq.Timeout(taskTimeout), asynq.Retention(time.Hour)), nil
}

// Enqueue puts the event's task on the queue; a task already there is no
// error.
func Enqueue(ctx context.Context, q Enqueuer, eventID string) error {
	task, err := NewEventTask(eventID)
	if err != nil {
		return err
	}
	if _, err := q.EnqueueContext(ctx, task); err != nil && !errors.Is(err, asynq.ErrTaskIDConflict) {
		return errs.Unavailable("the queue", fmt.Errorf("enqueue Stripe event %s: %w", eventID, err))
	}
	return nil
}

// EnqueueAgain enqueues a stored event's task once more, with an id of
// its round (a sweep's time), beside a task of the event that may still
// be held by a dead worker's lease.
func EnqueueAgain(ctx context.Context, q Enqueuer, eventID string, round time.Time) error {
	task, err := NewEventTask(eventID)
	if err != nil {
		return err
	}
	_, err = q.EnqueueContext(ctx, task, asynq.TaskID(fmt.Sprintf("stripe-%s-%d", eventID, round.Unix())))
	if err != nil && !errors.Is(err, asynq.ErrTaskIDConflict) {
		return fmt.Errorf("enqueue Stripe event %s again: %w", eventID, err)
	}
	return nil
}

// NewGraceTask is the task that ends a tenant's grace period at the time
// given: one per tenant and start of the period.
func NewGraceTask(tenantID int64, since time.Time, at time.Time) (*asynq.Task, []asynq.Option, error) {
	payload, err := json.Marshal(tasks.StripeGracePayload{TenantID: tenantID})
	if err != nil {
		return nil, nil, err
	}
	return asynq.NewTask(tasks.TypeStripeGrace, payload), []asynq.Option{
		asynq.TaskID(fmt.Sprintf("stripe-grace-%d-%d", tenantID, since.Unix())), asynq.Queue(taskQueue),
		asynq.MaxRetry(taskRetries), asynq.ProcessAt(at), asynq.Retention(time.Hour)}, nil
}

// Change reads what a stored event says (its payload as Stripe sent it).
func Change(e store.StripeEvent) (store.BillingChange, error) {
	var ev stripe.Event
	if err := json.Unmarshal(e.Payload, &ev); err != nil {
		return store.BillingChange{}, errs.Permanent(fmt.Errorf("decode Stripe event %s: %w", e.ID, err))
	}
	ch := store.BillingChange{EventID: e.ID, Created: e.Created}
	if ev.Data == nil {
		ch.Ignored = "no object"
		return ch, nil
	}
	var err error
	switch ev.Type {
	case "checkout.session.completed":
		err = checkoutChange(&ch, ev.Data.Raw)
	case "invoice.paid":
		err = invoicePaidChange(&ch, ev.Data.Raw)
	case "invoice.payment_failed":
		var inv stripe.Invoice
		if err = json.Unmarshal(ev.Data.Raw, &inv); err == nil {
			ch.Customer = customerID(inv.Customer)
			ch.PaymentFailed = &store.PaymentFailed{InvoiceID: inv.ID}
		}
	case "customer.subscription.created", "customer.subscription.updated", "customer.subscription.deleted":
		var sub stripe.Subscription
		if err = json.Unmarshal(ev.Data.Raw, &sub); err == nil {
			ch.Customer = customerID(sub.Customer)
			st := subscriptionState(&sub)
			ch.Subscription = &st
		}
	case "charge.refunded":
		var c stripe.Charge
		if err = json.Unmarshal(ev.Data.Raw, &c); err == nil {
			ch.Customer = customerID(c.Customer)
			ch.Refund = &store.ChargeRefund{ChargeID: c.ID, AmountCents: c.Amount, RefundedCents: c.AmountRefunded}
			if c.PaymentIntent != nil {
				ch.Refund.PaymentIntent = c.PaymentIntent.ID
			}
		}
	default:
		ch.Ignored = "event type " + string(ev.Type) + " is not handled"
	}
	if err != nil {
		return store.BillingChange{}, errs.Permanent(fmt.Errorf("decode the object of Stripe event %s: %w", e.ID, err))
	}
	return ch, nil
}

func customerID(c *stripe.Customer) string {
	if c == nil {
		return ""
	}
	return c.ID
}

func checkoutChange(ch *store.BillingChange, raw json.RawMessage) error {
	var cs stripe.CheckoutSession
	if err := json.Unmarshal(raw, &cs); err != nil {
		return err
	}
	ch.Customer = customerID(cs.Customer)
	if cs.Mode != stripe.CheckoutSessionModePayment {
		// A subscription's checkout: its invoice.paid and subscription
		// events do the work, in whatever order they come.
		ch.Ignored = "checkout of a subscription (its invoice grants)"
		return nil
	}
	if cs.PaymentStatus != stripe.CheckoutSessionPaymentStatusPaid {
		ch.Ignored = "checkout not paid (" + string(cs.PaymentStatus) + ")"
		return nil
	}
	credits, err := strconv.ParseInt(cs.Metadata["presswork_credits"], 10, 64)
	if err != nil || credits <= 0 {
		ch.Ignored = "checkout without presswork_credits"
		return nil //nolint:nilerr // a session not made by Presswork is ignored
	}
	p := &store.PackPurchase{SessionID: cs.ID, Credits: credits, AmountCents: cs.AmountTotal, Currency: string(cs.Currency)}
	if cs.PaymentIntent != nil {
		p.PaymentIntent = cs.PaymentIntent.ID
	}
	ch.Pack = p
	return nil
}

func invoicePaidChange(ch *store.BillingChange, raw json.RawMessage) error {
	var inv stripe.Invoice
	if err := json.Unmarshal(raw, &inv); err != nil {
		return err
	}
	ch.Customer = customerID(inv.Customer)
	paid := &store.InvoicePaid{InvoiceID: inv.ID, AmountCents: inv.AmountPaid, Currency: string(inv.Currency)}
	if inv.Payments != nil {
		for _, p := range inv.Payments.Data {
			if p.Payment != nil && p.Payment.PaymentIntent != nil {
				paid.PaymentIntent = p.Payment.PaymentIntent.ID
			}
		}
	}
	var periodEnd int64
	if inv.Lines != nil {
		for _, l := range inv.Lines.Data {
			if l.Pricing != nil && l.Pricing.PriceDetails != nil && paid.PriceID == "" {
				paid.PriceID = l.Pricing.PriceDetails.Price
				if l.Period != nil {
					periodEnd = l.Period.End
				}
			}
		}
	}
	if inv.Parent != nil && inv.Parent.SubscriptionDetails != nil && inv.Parent.SubscriptionDetails.Subscription != nil {
		st := store.SubscriptionState{ID: inv.Parent.SubscriptionDetails.Subscription.ID, Status: "active", PriceID: paid.PriceID}
		if periodEnd > 0 {
			st.PeriodEnd = time.Unix(periodEnd, 0).UTC()
		}
		paid.Subscription = &st
	}
	ch.Invoice = paid
	return nil
}

func subscriptionState(sub *stripe.Subscription) store.SubscriptionState {
	st := store.SubscriptionState{ID: sub.ID, Status: string(sub.Status), CancelAtPeriodEnd: sub.CancelAtPeriodEnd}
	if sub.Items != nil && len(sub.Items.Data) > 0 {
		item := sub.Items.Data[0]
		if item.Price != nil {
			st.PriceID = item.Price.ID
		}
		if item.CurrentPeriodEnd > 0 {
			st.PeriodEnd = time.Unix(item.CurrentPeriodEnd, 0).UTC()
		}
	}
	return st
}
