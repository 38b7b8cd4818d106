package store

import (
	"context"
	"fmt"
	"regexp"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/presswork/presswork/internal/errs"
)

// Billing (#26): the plan catalogue and credit packs sold through Stripe,
// each tenant's Stripe customer and subscription, the webhook events
// received and the money they brought. Package billing speaks to Stripe;
// this file only keeps what it learns, and applies each event in one
// transaction that also marks it applied, so that it applies once.

// Plan is what one of the tenant plans sells through Stripe.
type Plan struct {
	Name          string  `json:"name"`
	StripePriceID *string `json:"stripe_price_id"`
	// MonthlyCredits is the allowance granted for each paid invoice.
	MonthlyCredits int64 `json:"monthly_credits"`
	// BulkInFlight is the plan's fair-share room; nil: BULK_INFLIGHT's.
	BulkInFlight *int      `json:"bulk_inflight"`
	Description  string    `json:"description"`
	UpdatedAt    time.Time `json:"updated_at"`
}

const planColumns = `name, stripe_price_id, monthly_credits, bulk_inflight, description, updated_at`

func scanPlan(r pgx.Row) (p Plan, err error) {
	err = r.Scan(&p.Name, &p.StripePriceID, &p.MonthlyCredits, &p.BulkInFlight, &p.Description, &p.UpdatedAt)
	return p, err
}

// ListPlans returns the plan catalogue, by name.
func (s *Store) ListPlans(ctx context.Context) ([]Plan, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+planColumns+` FROM plans ORDER BY name`)
	if err != nil {
		return nil, translate(err)
	}
	return collect(rows, scanPlan)
}

// GetPlan returns one plan of the catalogue.
func (s *Store) GetPlan(ctx context.Context, name string) (Plan, error) {
	p, err := scanPlan(s.pool.QueryRow(ctx, `SELECT `+planColumns+` FROM plans WHERE name = $1`, name))
	return p, missing(translate(err), "plan", name)
}

// pricePattern is a Stripe price id.
var pricePattern = regexp.MustCompile(`^price_[A-Za-z0-9_]{1,90}$`)

// maxCatalogueCredits bounds a plan's allowance and a pack's credits.
const maxCatalogueCredits = 1_000_000_000

// ValidatePlan checks a plan's fields (its name is the caller's to check);
// a bad one is a validation error naming it.
func ValidatePlan(p Plan) error {
	v := &errs.ValidationError{}
	if p.StripePriceID != nil && !pricePattern.MatchString(*p.StripePriceID) {
		v.Add("stripe_price_id", "must be a Stripe price id (price_...), or null for a plan not for sale")
	}
	if p.MonthlyCredits < 0 || p.MonthlyCredits > maxCatalogueCredits {
		v.Add("monthly_credits", "must be from 0 to %d", maxCatalogueCredits)
	}
	if p.BulkInFlight != nil && (*p.BulkInFlight < 1 || *p.BulkInFlight > 10000) {
		v.Add("bulk_inflight", "must be from 1 to 10000, or null for BULK_INFLIGHT's")
	}
	if len(p.Description) > 500 {
		v.Add("description", "must be at most 500 characters")
	}
	return v.OrNil()
}

// ValidatePack checks a credit pack's fields; a bad one is a validation
// error naming it.
func ValidatePack(p CreditPack) error {
	v := &errs.ValidationError{}
	v.CheckText("name", p.Name, 1, 100)
	if !pricePattern.MatchString(p.StripePriceID) {
		v.Add("stripe_price_id", "must be a Stripe price id (price_...)")
	}
	if p.Credits < 1 || p.Credits > maxCatalogueCredits {
		v.Add("credits", "must be from 1 to %d", maxCatalogueCredits)
	}
	return v.OrNil()
}

// PutPlan creates or replaces a plan of the catalogue (ValidatePlan). A
// price another plan has is errs.ErrConflict.
func (s *Store) PutPlan(ctx context.Context, p Plan) (Plan, error) {
	if err := ValidatePlan(p); err != nil {
		return Plan{}, err
	}
	out, err := scanPlan(s.pool.QueryRow(ctx, `
		INSERT INTO plans (name, stripe_price_id, monthly_credits, bulk_inflight, description)
		VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (name) DO UPDATE SET stripe_price_id = $2, monthly_credits = $3, bulk_inflight = $4,
			description = $5, updated_at = now()
		RETURNING `+planColumns, p.Name, p.StripePriceID, p.MonthlyCredits, p.BulkInFlight, p.Description))
	if err != nil {
		return Plan{}, fmt.Errorf("put plan %s: %w", p.Name, translate(err))
	}
	return out, nil
}

// DeletePlan takes a plan out of the catalogue (tenants keep it).
func (s *Store) DeletePlan(ctx context.Context, name string) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM plans WHERE name = $1`, name)
	return missing(oneRow(tag.RowsAffected(), err), "plan", name)
}

// CreditPack is a one-off purchase of credits.
type CreditPack struct {
	ID            int64     `json:"id"`
	Name          string    `json:"name"`
	StripePriceID string    `json:"stripe_price_id"`
	Credits       int64     `json:"credits"`
	Active        bool      `json:"active"`
	CreatedAt     time.Time `json:"created_at"`
}

const packColumns = `id, name, stripe_price_id, credits, active, created_at`

func scanPack(r pgx.Row) (p CreditPack, err error) {
	err = r.Scan(&p.ID, &p.Name, &p.StripePriceID, &p.Credits, &p.Active, &p.CreatedAt)
	return p, err
}

// ListPacks returns the credit packs, the active ones only if activeOnly.
func (s *Store) ListPacks(ctx context.Context, activeOnly bool) ([]CreditPack, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+packColumns+` FROM credit_packs WHERE active OR NOT $1 ORDER BY credits, id`, activeOnly)
	if err != nil {
		return nil, translate(err)
	}
	return collect(rows, scanPack)
}

// GetPack returns a credit pack.
func (s *Store) GetPack(ctx context.Context, id int64) (CreditPack, error) {
	p, err := scanPack(s.pool.QueryRow(ctx, `SELECT `+packColumns+` FROM credit_packs WHERE id = $1`, id))
	return p, missing(translate(err), "credit pack", id)
}

// CreatePack adds a credit pack (ValidatePack); a price already sold is
// errs.ErrConflict.
func (s *Store) CreatePack(ctx context.Context, p CreditPack) (CreditPack, error) {
	if err := ValidatePack(p); err != nil {
		return CreditPack{}, err
	}
	out, err := scanPack(s.pool.QueryRow(ctx,
		`INSERT INTO credit_packs (name, stripe_price_id, credits, active) VALUES ($1, $2, $3, $4) RETURNING `+packColumns,
		p.Name, p.StripePriceID, p.Credits, p.Active))
	if err != nil {
		return CreditPack{}, fmt.Errorf("create credit pack: %w", translate(err))
	}
	return out, nil
}

// UpdatePack replaces a credit pack's fields (ValidatePack).
func (s *Store) UpdatePack(ctx context.Context, p CreditPack) (CreditPack, error) {
	if err := ValidatePack(p); err != nil {
		return CreditPack{}, err
	}
	out, err := scanPack(s.pool.QueryRow(ctx,
		`UPDATE credit_packs SET name = $2, stripe_price_id = $3, credits = $4, active = $5 WHERE id = $1 RETURNING `+packColumns,
		p.ID, p.Name, p.StripePriceID, p.Credits, p.Active))
	if err != nil {
		return CreditPack{}, missing(fmt.Errorf("update credit pack %d: %w", p.ID, translate(err)), "credit pack", p.ID)
	}
	return out, nil
}

// DeletePack deletes a credit pack (payments keep their credits).
func (s *Store) DeletePack(ctx context.Context, id int64) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM credit_packs WHERE id = $1`, id)
	return missing(oneRow(tag.RowsAffected(), err), "credit pack", id)
}

// BillingAccount is a tenant's Stripe customer and subscription.
type BillingAccount struct {
	TenantID           int64      `json:"tenant_id"`
	CustomerID         string     `json:"customer_id"`
	SubscriptionID     *string    `json:"subscription_id"`
	SubscriptionStatus string     `json:"subscription_status"`
	SubscriptionPlan   *string    `json:"subscription_plan"`
	CurrentPeriodEnd   *time.Time `json:"current_period_end"`
	CancelAtPeriodEnd  bool       `json:"cancel_at_period_end"`
	PastDueSince       *time.Time `json:"past_due_since"`
	BillingSuspended   bool       `json:"billing_suspended"`
}

// BillingAccount returns the tenant's account; errs.ErrNotFound when it
// has no Stripe customer yet.
func (s *Store) BillingAccount(ctx context.Context, tenantID int64) (BillingAccount, error) {
	var a BillingAccount
	err := s.pool.QueryRow(ctx, `
		SELECT tenant_id, customer_id, subscription_id, subscription_status, subscription_plan, current_period_end,
		       cancel_at_period_end, past_due_since, billing_suspended
		FROM billing_accounts WHERE tenant_id = $1`, tenantID).Scan(&a.TenantID, &a.CustomerID, &a.SubscriptionID,
		&a.SubscriptionStatus, &a.SubscriptionPlan, &a.CurrentPeriodEnd, &a.CancelAtPeriodEnd, &a.PastDueSince, &a.BillingSuspended)
	return a, translate(err)
}

// RememberCustomer records the tenant's Stripe customer unless it has one
// already, and returns the one it has.
func (s *Store) RememberCustomer(ctx context.Context, tenantID int64, customerID string) (string, error) {
	var id string
	err := s.pool.QueryRow(ctx, `
		WITH ins AS (
			INSERT INTO billing_accounts (tenant_id, customer_id) VALUES ($1, $2)
			ON CONFLICT (tenant_id) DO NOTHING RETURNING customer_id
		)
		SELECT customer_id FROM ins UNION ALL SELECT customer_id FROM billing_accounts WHERE tenant_id = $1
		LIMIT 1`, tenantID, customerID).Scan(&id)
	if err != nil {
		return "", fmt.Errorf("remember the Stripe customer of tenant %d: %w", tenantID, translate(err))
	}
	return id, nil
}

// RecordStripeEvent stores a verified webhook event by its id; fresh is
// false when it was stored already (a redelivery).
func (s *Store) RecordStripeEvent(ctx context.Context, id, typ string, created time.Time, payload []byte) (fresh bool, err error) {
	tag, err := s.pool.Exec(ctx, `INSERT INTO stripe_events (id, type, created, payload) VALUES ($1, $2, $3, $4)
		ON CONFLICT (id) DO NOTHING`, id, typ, created, payload)
	if err != nil {
		return false, fmt.Errorf("record Stripe event %s: %w", id, translate(err))
	}
	return tag.RowsAffected() == 1, nil
}

// StripeEvent is a stored webhook event.
type StripeEvent struct {
	ID        string     `json:"id"`
	Type      string     `json:"type"`
	Created   time.Time  `json:"created"`
	Payload   []byte     `json:"-"`
	AppliedAt *time.Time `json:"applied_at"`
	Outcome   string     `json:"outcome"`
}

// GetStripeEvent returns a stored event.
func (s *Store) GetStripeEvent(ctx context.Context, id string) (StripeEvent, error) {
	var e StripeEvent
	err := s.pool.QueryRow(ctx, `SELECT id, type, created, payload, applied_at, outcome FROM stripe_events WHERE id = $1`, id).
		Scan(&e.ID, &e.Type, &e.Created, &e.Payload, &e.AppliedAt, &e.Outcome)
	return e, translate(err)
}

// UnappliedStripeEvents returns the ids of events received before cutoff
// and not applied yet, oldest first (for a sweep that enqueues them again).
func (s *Store) UnappliedStripeEvents(ctx context.Context, cutoff time.Time) ([]string, error) {
	rows, err := s.pool.Query(ctx, `SELECT id FROM stripe_events WHERE applied_at IS NULL AND received_at < $1
		ORDER BY received_at LIMIT 1000`, cutoff)
	if err != nil {
		return nil, translate(err)
	}
	return collect(rows, func(r pgx.Row) (id string, err error) { err = r.Scan(&id); return id, err })
}

// BillingChange is what one Stripe event says, in Presswork's terms; one
// of its parts is set.
type BillingChange struct {
	EventID  string
	Created  time.Time
	Customer string

	Pack          *PackPurchase
	Invoice       *InvoicePaid
	Subscription  *SubscriptionState
	PaymentFailed *PaymentFailed
	Refund        *ChargeRefund
	// Ignored says why the event changes nothing (an event type not
	// handled, a checkout of a subscription whose invoice does the work).
	Ignored string
}

// PackPurchase is a credit pack's checkout session, completed and paid.
type PackPurchase struct {
	SessionID, PaymentIntent, Currency string
	AmountCents, Credits               int64
}

// InvoicePaid is a paid invoice of a subscription.
type InvoicePaid struct {
	InvoiceID, PaymentIntent, Currency, PriceID string
	AmountCents                                 int64
	Subscription                                *SubscriptionState
}

// SubscriptionState is a subscription as an event shows it.
type SubscriptionState struct {
	ID, Status, PriceID string
	PeriodEnd           time.Time
	CancelAtPeriodEnd   bool
}

// PaymentFailed is a failed payment of an invoice.
type PaymentFailed struct{ InvoiceID string }

// ChargeRefund is a charge's refunded total so far.
type ChargeRefund struct {
	ChargeID, PaymentIntent    string
	AmountCents, RefundedCents int64
}

// BillingOutcome is what applying an event did.
type BillingOutcome struct {
	// Replayed: the event was applied already; nothing changed now.
	Replayed bool
	TenantID int64
	Outcome  string
	// PlanChanged: the tenant's plan changed (its fair-share room with it).
	PlanChanged bool
	// PastDueSince is set when a failed payment started a grace period.
	PastDueSince *time.Time
}

// ApplyBillingChange applies ch, the event ch.EventID (stored already), in
// one transaction that marks the event applied: an event applied already
// changes nothing (Replayed). Grants are keyed by the Stripe object that
// paid them, so that two events of one payment grant once too.
func (s *Store) ApplyBillingChange(ctx context.Context, ch BillingChange) (BillingOutcome, error) {
	var out BillingOutcome
	err := s.transact(ctx, func(tx pgx.Tx) error {
		var applied *time.Time
		if err := tx.QueryRow(ctx, `SELECT applied_at FROM stripe_events WHERE id = $1 FOR UPDATE`, ch.EventID).
			Scan(&applied); err != nil {
			return fmt.Errorf("Stripe event %s: %w", ch.EventID, translate(err))
		}
		if applied != nil {
			out.Replayed = true
			return nil
		}
		var err error
		out, err = applyChange(ctx, tx, ch)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE stripe_events SET applied_at = now(), outcome = $2 WHERE id = $1`, ch.EventID, out.Outcome)
		return translate(err)
	})
	return out, err
}

func applyChange(ctx context.Context, tx pgx.Tx, ch BillingChange) (BillingOutcome, error) {
	if ch.Ignored != "" {
		return BillingOutcome{Outcome: "ignored: " + ch.Ignored}, nil
	}
	var tenantID int64
	err := tx.QueryRow(ctx, `SELECT tenant_id FROM billing_accounts WHERE customer_id = $1 FOR UPDATE`, ch.Customer).Scan(&tenantID)
	if isNoRows(err) {
		return BillingOutcome{Outcome: fmt.Sprintf("ignored: customer %q is no tenant's", ch.Customer)}, nil
	}
	if err != nil {
		return BillingOutcome{}, translate(err)
	}
	// The tenant row lock orders this event with every other balance change.
	if _, err := tx.Exec(ctx, `SELECT 1 FROM tenants WHERE id = $1 FOR NO KEY UPDATE`, tenantID); err != nil {
		return BillingOutcome{}, translate(err)
	}
	out := BillingOutcome{TenantID: tenantID}
	switch {
	case ch.Pack != nil:
		out.Outcome, err = applyPack(ctx, tx, tenantID, ch)
	case ch.Invoice != nil:
		out, err = applyInvoicePaid(ctx, tx, tenantID, ch)
	case ch.Subscription != nil:
		out.PlanChanged, out.Outcome, err = applySubscription(ctx, tx, tenantID, ch.Created, *ch.Subscription)
	case ch.PaymentFailed != nil:
		out.PastDueSince, out.Outcome, err = applyPaymentFailed(ctx, tx, tenantID, ch)
	case ch.Refund != nil:
		out.Outcome, err = applyRefund(ctx, tx, tenantID, *ch.Refund)
	default:
		out.Outcome = "ignored: nothing to apply"
	}
	return out, err
}

// recordPayment inserts a payment once; inserted is false when it exists.
func recordPayment(ctx context.Context, tx pgx.Tx, tenantID int64, id, kind, pi string, amount int64, currency string,
	credits int64, at time.Time) (inserted bool, err error) {
	var piArg *string
	if pi != "" {
		piArg = &pi
	}
	tag, err := tx.Exec(ctx, `INSERT INTO billing_payments (id, tenant_id, kind, payment_intent, amount_cents, currency, credits, paid_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (id) DO NOTHING`, id, tenantID, kind, piArg, amount, currency, credits, at)
	if err != nil {
		return false, fmt.Errorf("record payment %s: %w", id, translate(err))
	}
	return tag.RowsAffected() == 1, nil
}

// grantKeyed grants credits with a ledger row keyed by key: a second grant
// of the key is refused by the ledger's unique index.
func grantKeyed(ctx context.Context, tx pgx.Tx, tenantID, amount int64, note, key string) error {
	balance, err := addBalance(ctx, tx, tenantID, amount)
	if err != nil {
		return err
	}
	return appendKeyedLedger(ctx, tx, tenantID, nil, "grant", amount, balance, note, &key)
}

func applyPack(ctx context.Context, tx pgx.Tx, tenantID int64, ch BillingChange) (string, error) {
	p := ch.Pack
	inserted, err := recordPayment(ctx, tx, tenantID, p.SessionID, "pack", p.PaymentIntent, p.AmountCents, p.Currency, p.Credits, ch.Created)
	if err != nil || !inserted {
		return "credit pack granted already", err
	}
	if err := grantKeyed(ctx, tx, tenantID, p.Credits, "credit pack (Stripe checkout)", "stripe:"+p.SessionID); err != nil {
		return "", err
	}
	return fmt.Sprintf("credit pack: %d credits", p.Credits), nil
}

func applyInvoicePaid(ctx context.Context, tx pgx.Tx, tenantID int64, ch BillingChange) (BillingOutcome, error) {
	inv := ch.Invoice
	out := BillingOutcome{TenantID: tenantID}
	var plan string
	var credits int64
	err := tx.QueryRow(ctx, `SELECT name, monthly_credits FROM plans WHERE stripe_price_id = $1`, inv.PriceID).Scan(&plan, &credits)
	if err != nil && !isNoRows(err) {
		return out, translate(err)
	}
	inserted, err := recordPayment(ctx, tx, tenantID, inv.InvoiceID, "invoice", inv.PaymentIntent, inv.AmountCents, inv.Currency, credits, ch.Created)
	if err != nil {
		return out, err
	}
	out.Outcome = "invoice recorded already"
	if inserted {
		out.Outcome = fmt.Sprintf("invoice paid: plan %q, %d credits", plan, credits)
		if credits > 0 {
			if err := grantKeyed(ctx, tx, tenantID, credits, fmt.Sprintf("monthly allowance of plan %s", plan), "stripe:"+inv.InvoiceID); err != nil {
				return out, err
			}
		}
	}
	// A payment ends the grace period and lifts billing's suspension (the
	// outer statement reads billing_suspended as it was before the CTE).
	if _, err := tx.Exec(ctx, `
		WITH acc AS (
			UPDATE billing_accounts SET past_due_since = NULL, billing_suspended = false
			WHERE tenant_id = $1 RETURNING billing_suspended
		)
		UPDATE tenants SET status = 'active' WHERE id = $1 AND status = 'suspended'
			AND (SELECT billing_suspended FROM billing_accounts WHERE tenant_id = $1)`, tenantID); err != nil {
		return out, translate(err)
	}
	if inv.Subscription != nil {
		changed, _, err := applySubscription(ctx, tx, tenantID, ch.Created, *inv.Subscription)
		if err != nil {
			return out, err
		}
		out.PlanChanged = changed
	}
	return out, nil
}

// subscriptionLive says whether a subscription in this status gives its plan.
func subscriptionLive(status string) bool {
	return status == "active" || status == "trialing" || status == "past_due"
}

// applySubscription records a subscription's state unless a newer event
// set it already, and moves the tenant to its plan (or to free when it
// ended).
func applySubscription(ctx context.Context, tx pgx.Tx, tenantID int64, at time.Time, sub SubscriptionState) (planChanged bool, outcome string, err error) {
	var plan *string
	if err := tx.QueryRow(ctx, `SELECT name FROM plans WHERE stripe_price_id = $1`, sub.PriceID).Scan(&plan); err != nil && !isNoRows(err) {
		return false, "", translate(err)
	}
	var periodEnd *time.Time
	if !sub.PeriodEnd.IsZero() {
		periodEnd = &sub.PeriodEnd
	}
	tag, err := tx.Exec(ctx, `
		UPDATE billing_accounts SET subscription_id = $2, subscription_status = $3, subscription_plan = $4,
			current_period_end = coalesce($5, current_period_end), cancel_at_period_end = $6, subscription_at = $7
		WHERE tenant_id = $1 AND (subscription_at IS NULL OR subscription_at <= $7)`,
		tenantID, sub.ID, sub.Status, plan, periodEnd, sub.CancelAtPeriodEnd, at)
	if err != nil {
		return false, "", fmt.Errorf("record subscription %s: %w", sub.ID, translate(err))
	}
	if tag.RowsAffected() == 0 {
		return false, "subscription: a newer state is recorded already", nil
	}
	target := "free"
	switch {
	case subscriptionLive(sub.Status) && plan != nil:
		target = *plan
	case subscriptionLive(sub.Status):
		return false, fmt.Sprintf("subscription %s: price %q is no plan's", sub.Status, sub.PriceID), nil
	case sub.Status == "incomplete":
		return false, "subscription incomplete: plan kept", nil
	}
	var old string
	err = tx.QueryRow(ctx, `UPDATE tenants t SET plan = $2 FROM (SELECT id, plan FROM tenants WHERE id = $1) o
		WHERE t.id = o.id RETURNING o.plan`, tenantID, target).Scan(&old)
	if err != nil {
		return false, "", translate(err)
	}
	return old != target, fmt.Sprintf("subscription %s: plan %s (was %s)", sub.Status, target, old), nil
}

func applyPaymentFailed(ctx context.Context, tx pgx.Tx, tenantID int64, ch BillingChange) (*time.Time, string, error) {
	var paid bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM billing_payments WHERE id = $1)`, ch.PaymentFailed.InvoiceID).
		Scan(&paid); err != nil {
		return nil, "", translate(err)
	}
	if paid {
		return nil, "payment failed: the invoice is paid already", nil
	}
	var since time.Time
	err := tx.QueryRow(ctx, `UPDATE billing_accounts SET past_due_since = coalesce(past_due_since, $2)
		WHERE tenant_id = $1 RETURNING past_due_since`, tenantID, ch.Created).Scan(&since)
	if err != nil {
		return nil, "", translate(err)
	}
	return &since, "payment failed: grace period from " + since.UTC().Format(time.RFC3339), nil
}

// applyRefund takes back the share of a payment's credits that its
// refunded share is, down to a zero balance at most; what the tenant spent
// already is recorded as unrecovered.
func applyRefund(ctx context.Context, tx pgx.Tx, tenantID int64, r ChargeRefund) (string, error) {
	var id string
	var amount, credits, taken, unrecovered int64
	err := tx.QueryRow(ctx, `SELECT id, amount_cents, credits, credits_taken_back, credits_unrecovered FROM billing_payments
		WHERE tenant_id = $1 AND payment_intent = $2 FOR UPDATE`, tenantID, r.PaymentIntent).
		Scan(&id, &amount, &credits, &taken, &unrecovered)
	if isNoRows(err) {
		return fmt.Sprintf("refund of charge %s: no payment of this tenant with payment intent %q", r.ChargeID, r.PaymentIntent), nil
	}
	if err != nil {
		return "", translate(err)
	}
	refunded := min(r.RefundedCents, amount)
	due := credits
	if amount > 0 {
		due = credits * refunded / amount
	}
	owed := due - taken - unrecovered
	if owed <= 0 {
		_, err := tx.Exec(ctx, `UPDATE billing_payments SET refunded_cents = greatest(refunded_cents, $2) WHERE id = $1`, id, refunded)
		return "refund: nothing more to take back", translate(err)
	}
	var balance int64
	if err := tx.QueryRow(ctx, `SELECT credit_balance FROM tenants WHERE id = $1`, tenantID).Scan(&balance); err != nil {
		return "", translate(err)
	}
	take := min(owed, balance)
	if take > 0 {
		after, err := addBalance(ctx, tx, tenantID, -take)
		if err != nil {
			return "", err
		}
		key := fmt.Sprintf("stripe:%s:refunded:%d", r.ChargeID, refunded)
		if err := appendKeyedLedger(ctx, tx, tenantID, nil, "clawback", -take, after,
			fmt.Sprintf("refund of %s", id), &key); err != nil {
			return "", err
		}
	}
	_, err = tx.Exec(ctx, `UPDATE billing_payments SET refunded_cents = greatest(refunded_cents, $2),
		credits_taken_back = credits_taken_back + $3, credits_unrecovered = credits_unrecovered + $4 WHERE id = $1`,
		id, refunded, take, owed-take)
	if err != nil {
		return "", translate(err)
	}
	return fmt.Sprintf("refund: %d credits taken back, %d unrecovered", take, owed-take), nil
}

// SuspendPastDue suspends the tenant for new work if its payment is still
// past due since before cutoff (the grace period ended) and it is active;
// it says whether it did.
func (s *Store) SuspendPastDue(ctx context.Context, tenantID int64, cutoff time.Time) (bool, error) {
	var suspended bool
	err := s.transact(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE tenants t SET status = 'suspended' FROM billing_accounts b
			WHERE t.id = $1 AND b.tenant_id = t.id AND t.status = 'active'
			  AND b.past_due_since IS NOT NULL AND b.past_due_since <= $2`, tenantID, cutoff)
		if err != nil || tag.RowsAffected() == 0 {
			return err
		}
		suspended = true
		_, err = tx.Exec(ctx, `UPDATE billing_accounts SET billing_suspended = true WHERE tenant_id = $1`, tenantID)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("suspend past-due tenant %d: %w", tenantID, err)
	}
	return suspended, nil
}

// TenantMargin is what one tenant paid against what its AI work cost, in
// a window.
type TenantMargin struct {
	TenantID           int64   `json:"tenant_id"`
	Slug               string  `json:"slug"`
	Plan               string  `json:"plan"`
	Status             string  `json:"status"`
	SubscriptionStatus string  `json:"subscription_status"`
	CreditsSold        int64   `json:"credits_sold"`
	CreditsConsumed    int64   `json:"credits_consumed"`
	RevenueCents       int64   `json:"revenue_cents"`
	ProviderCostUSD    float64 `json:"provider_cost_usd"`
	// MarginUSD is revenue (taken as US dollars) less provider cost.
	MarginUSD float64 `json:"margin_usd"`
}

// PlanStatusCount counts the tenants of a plan in a status.
type PlanStatusCount struct {
	Plan    string `json:"plan"`
	Status  string `json:"status"`
	Tenants int64  `json:"tenants"`
}

// DayJobs counts the jobs created on a day (UTC).
type DayJobs struct {
	Day       string `json:"day"`
	Jobs      int64  `json:"jobs"`
	Succeeded int64  `json:"succeeded"`
	Failed    int64  `json:"failed"`
}

// BillingOverview is the operator's view of billing since a time.
type BillingOverview struct {
	Since        time.Time         `json:"since"`
	ByPlan       []PlanStatusCount `json:"tenants_by_plan"`
	Tenants      []TenantMargin    `json:"tenants"`
	Total        TenantMargin      `json:"total"`
	JobsPerDay   []DayJobs         `json:"jobs_per_day"`
	RevenueNotes string            `json:"revenue_note"`
}

// BillingOverview sums, per tenant and in total since since: credits sold
// (payments), credits consumed (jobs charged), revenue (paid invoices and
// packs less refunds), provider cost (ai_usage) and the margin; and counts
// tenants by plan and status and jobs per day.
func (s *Store) BillingOverview(ctx context.Context, since time.Time) (BillingOverview, error) {
	o := BillingOverview{Since: since, RevenueNotes: "revenue is summed in the payments' currency minor units, taken as US cents for the margin"}
	rows, err := s.pool.Query(ctx, `SELECT plan, status, count(*) FROM tenants GROUP BY plan, status ORDER BY plan, status`)
	if err != nil {
		return o, translate(err)
	}
	if o.ByPlan, err = collect(rows, func(r pgx.Row) (c PlanStatusCount, err error) {
		err = r.Scan(&c.Plan, &c.Status, &c.Tenants)
		return c, err
	}); err != nil {
		return o, err
	}
	rows, err = s.pool.Query(ctx, `
		SELECT t.id, t.slug, t.plan, t.status, coalesce(b.subscription_status, ''),
		       coalesce((SELECT sum(credits) FROM billing_payments p WHERE p.tenant_id = t.id AND p.paid_at >= $1), 0)::bigint,
		       coalesce((SELECT sum(credits_charged) FROM jobs j WHERE j.tenant_id = t.id AND j.created_at >= $1), 0)::bigint,
		       coalesce((SELECT sum(amount_cents - refunded_cents) FROM billing_payments p WHERE p.tenant_id = t.id AND p.paid_at >= $1), 0)::bigint,
		       coalesce((SELECT sum(cost_usd) FROM ai_usage u WHERE u.tenant_id = t.id AND u.created_at >= $1), 0)::float8
		FROM tenants t LEFT JOIN billing_accounts b ON b.tenant_id = t.id ORDER BY t.id`, since)
	if err != nil {
		return o, translate(err)
	}
	if o.Tenants, err = collect(rows, func(r pgx.Row) (m TenantMargin, err error) {
		err = r.Scan(&m.TenantID, &m.Slug, &m.Plan, &m.Status, &m.SubscriptionStatus, &m.CreditsSold, &m.CreditsConsumed,
			&m.RevenueCents, &m.ProviderCostUSD)
		m.MarginUSD = float64(m.RevenueCents)/100 - m.ProviderCostUSD
		return m, err
	}); err != nil {
		return o, err
	}
	for _, m := range o.Tenants {
		o.Total.CreditsSold += m.CreditsSold
		o.Total.CreditsConsumed += m.CreditsConsumed
		o.Total.RevenueCents += m.RevenueCents
		o.Total.ProviderCostUSD += m.ProviderCostUSD
		o.Total.MarginUSD += m.MarginUSD
	}
	rows, err = s.pool.Query(ctx, `
		SELECT to_char(date_trunc('day', created_at AT TIME ZONE 'UTC'), 'YYYY-MM-DD') AS day, count(*),
		       count(*) FILTER (WHERE state = 'succeeded'), count(*) FILTER (WHERE state = 'failed')
		FROM jobs WHERE created_at >= $1 GROUP BY day ORDER BY day`, since)
	if err != nil {
		return o, translate(err)
	}
	o.JobsPerDay, err = collect(rows, func(r pgx.Row) (d DayJobs, err error) {
		err = r.Scan(&d.Day, &d.Jobs, &d.Succeeded, &d.Failed)
		return d, err
	})
	return o, err
}

// BillingLedger returns the tenant's ledger rows oldest first (for the
// billing page and tests; at most limit rows).
func (s *Store) BillingLedger(ctx context.Context, tenantID int64, limit int) ([]LedgerEntry, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, job_id, kind, delta, balance_after, note, created_at FROM credit_ledger
		WHERE tenant_id = $1 ORDER BY id LIMIT $2`, tenantID, limit)
	if err != nil {
		return nil, translate(err)
	}
	return collect(rows, scanLedger)
}

// BillingPayment is money a tenant paid and what it granted.
type BillingPayment struct {
	ID                 string    `json:"id"`
	Kind               string    `json:"kind"`
	AmountCents        int64     `json:"amount_cents"`
	Currency           string    `json:"currency"`
	Credits            int64     `json:"credits"`
	RefundedCents      int64     `json:"refunded_cents"`
	CreditsTakenBack   int64     `json:"credits_taken_back"`
	CreditsUnrecovered int64     `json:"credits_unrecovered"`
	PaidAt             time.Time `json:"paid_at"`
}

// BillingPayments returns the tenant's newest payments.
func (s *Store) BillingPayments(ctx context.Context, tenantID int64, limit int) ([]BillingPayment, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, kind, amount_cents, currency, credits, refunded_cents, credits_taken_back,
		credits_unrecovered, paid_at FROM billing_payments WHERE tenant_id = $1 ORDER BY paid_at DESC, id LIMIT $2`, tenantID, limit)
	if err != nil {
		return nil, translate(err)
	}
	return collect(rows, func(r pgx.Row) (p BillingPayment, err error) {
		err = r.Scan(&p.ID, &p.Kind, &p.AmountCents, &p.Currency, &p.Credits, &p.RefundedCents, &p.CreditsTakenBack,
			&p.CreditsUnrecovered, &p.PaidAt)
		return p, err
	})
}
