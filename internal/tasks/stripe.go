package tasks

// TypeStripeEvent applies one Stripe webhook event (#26). It is no job:
// its record is the event's row in stripe_events, stored by the API
// before the task is enqueued and marked applied in the transaction that
// applies it.
const TypeStripeEvent = "stripe:event"

// TypeStripeGrace ends a failed payment's grace period: the tenant is
// suspended for new work if its payment is still past due.
const TypeStripeGrace = "stripe:grace"

// StripeEventPayload names a stored Stripe event.
type StripeEventPayload struct {
	EventID string `json:"event_id"`
}

// StripeGracePayload names the tenant whose grace period ends.
type StripeGracePayload struct {
	TenantID int64 `json:"tenant_id"`
}
