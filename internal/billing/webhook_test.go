package billing_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/presswork/presswork/internal/errs"
	"github.com/presswork/presswork/internal/store"
)

// TestWebhookRefusesBadSignatures: a forged signature (another secret), a
// stale one (older than Stripe's default tolerance), a tampered payload
// and no signature are refused as a validation error naming
// Stripe-Signature, and store nothing and grant nothing.
func TestWebhookRefusesBadSignatures(t *testing.T) {
	b := setup(t, "")
	tn, cus := b.tenant(t, "acme", 0)
	ctx := context.Background()
	payload := event("evt_pack", "checkout.session.completed", time.Now(), packSession("cs_1", cus, "pi_1", 500, 1000))
	tampered := event("evt_pack", "checkout.session.completed", time.Now(), packSession("cs_1", cus, "pi_1", 50000, 1000))
	for _, tc := range []struct {
		name, header string
		body         []byte
	}{
		{"forged", sign(payload, "whsec_someone_else", time.Now()), payload},
		{"stale", sign(payload, whsec, time.Now().Add(-10*time.Minute)), payload},
		{"tampered", sign(payload, whsec, time.Now()), tampered},
		{"unsigned", "", payload},
	} {
		_, err := b.svc.Receive(ctx, tc.body, tc.header)
		var v *errs.ValidationError
		if !errors.As(err, &v) || len(v.Problems) == 0 || v.Problems[0].Field != "Stripe-Signature" {
			t.Errorf("%s: %v, want a validation error naming Stripe-Signature", tc.name, err)
		}
	}
	if _, err := b.st.GetStripeEvent(ctx, "evt_pack"); !errors.Is(err, errs.ErrNotFound) {
		t.Errorf("the refused event was stored: %v", err)
	}
	if rows := ledger(t, b.st, tn.ID); len(rows) != 0 {
		t.Errorf("ledger %+v after refused events, want none", rows)
	}
}

// TestDuplicateEventAppliesOnce: the same event delivered three times and
// its task run each time, and a second event of the same checkout
// session, grant the pack once.
func TestDuplicateEventAppliesOnce(t *testing.T) {
	b := setup(t, "")
	tn, cus := b.tenant(t, "acme", 0)
	payload := event("evt_1", "checkout.session.completed", time.Now(), packSession("cs_1", cus, "pi_1", 500, 1000))
	for range 3 {
		b.deliver(t, payload)
	}
	b.apply(t, "evt_1")
	b.deliver(t, event("evt_2", "checkout.session.completed", time.Now(), packSession("cs_1", cus, "pi_1", 500, 1000)))
	rows := ledger(t, b.st, tn.ID)
	if len(rows) != 1 || rows[0].Delta != 500 {
		t.Fatalf("ledger %+v, want one grant of 500", rows)
	}
}

// state is what the tests compare of a tenant after its events.
type state struct {
	Plan, Status string
	Balance      int64
	Ledger       []string
	Sub          string
	SubPlan      string
	PeriodEnd    time.Time
}

func stateOf(t *testing.T, st *store.Store, tenantID int64) state {
	t.Helper()
	ctx := context.Background()
	tn, err := st.GetTenant(ctx, tenantID)
	if err != nil {
		t.Fatal(err)
	}
	acc, err := st.BillingAccount(ctx, tenantID)
	if err != nil {
		t.Fatal(err)
	}
	s := state{Plan: tn.Plan, Status: tn.Status, Balance: tn.CreditBalance, Sub: *acc.SubscriptionID + " " + acc.SubscriptionStatus}
	if acc.SubscriptionPlan != nil {
		s.SubPlan = *acc.SubscriptionPlan
	}
	if acc.CurrentPeriodEnd != nil {
		s.PeriodEnd = acc.CurrentPeriodEnd.UTC()
	}
	for _, e := range ledger(t, st, tenantID) {
		s.Ledger = append(s.Ledger, e.Kind+" "+e.Note)
	}
	return s
}

// TestInvoicePaidBeforeCheckoutSameState: a subscription's events in the
// usual order (checkout completed, subscription created, invoice paid)
// and with the invoice first and the checkout last leave two tenants in
// the same state: plan pro, one allowance, the same subscription.
func TestInvoicePaidBeforeCheckoutSameState(t *testing.T) {
	b := setup(t, "")
	start := time.Now().Truncate(time.Second)
	periodEnd := start.AddDate(0, 1, 0).UTC()
	events := func(prefix, cus string) [][]byte {
		return [][]byte{
			event("evt_"+prefix+"_cs", "checkout.session.completed", start, subscriptionSession("cs_"+prefix, cus, "sub_"+prefix)),
			event("evt_"+prefix+"_sub", "customer.subscription.created", start, subscription("sub_"+prefix, cus, "active", "price_pro", periodEnd)),
			event("evt_"+prefix+"_inv", "invoice.paid", start.Add(time.Second),
				invoice("in_"+prefix, cus, "sub_"+prefix, "price_pro", "pi_"+prefix, 2900, periodEnd)),
		}
	}
	usual, cusU := b.tenant(t, "usual", 0)
	for _, p := range events("u", cusU) {
		b.deliver(t, p)
	}
	reversed, cusR := b.tenant(t, "reversed", 0)
	evs := events("r", cusR)
	for _, i := range []int{2, 1, 0} {
		b.deliver(t, evs[i])
	}
	want := stateOf(t, b.st, usual.ID)
	got := stateOf(t, b.st, reversed.ID)
	want.Sub, got.Sub = want.Sub[len("sub_u"):], got.Sub[len("sub_r"):]
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("invoice first (-usual order +invoice first):\n%s", diff)
	}
	if want.Plan != "pro" || want.Balance != 1000 || !want.PeriodEnd.Equal(periodEnd) {
		t.Errorf("usual order: %+v, want plan pro, 1000 credits, renewing %s", want, periodEnd)
	}
}

// TestOlderSubscriptionEventChangesNothing: the plan follows the newest
// subscription event by its creation time, not by arrival; a deletion
// moves the tenant to free, and its fair-share room follows the plan.
func TestOlderSubscriptionEventChangesNothing(t *testing.T) {
	b := setup(t, "")
	tn, cus := b.tenant(t, "acme", 0)
	t0 := time.Now().Truncate(time.Second)
	end := t0.AddDate(0, 1, 0)
	b.deliver(t, event("evt_new", "customer.subscription.updated", t0.Add(time.Minute), subscription("sub_1", cus, "active", "price_agency", end)))
	b.deliver(t, event("evt_old", "customer.subscription.updated", t0, subscription("sub_1", cus, "active", "price_pro", end)))
	if s := stateOf(t, b.st, tn.ID); s.Plan != "agency" {
		t.Fatalf("plan %q after an older event for pro arrived last, want agency", s.Plan)
	}
	b.deliver(t, event("evt_del", "customer.subscription.deleted", t0.Add(2*time.Minute), subscription("sub_1", cus, "canceled", "price_agency", end)))
	if s := stateOf(t, b.st, tn.ID); s.Plan != "free" || s.Sub != "sub_1 canceled" {
		t.Fatalf("after deletion: %+v, want plan free, subscription canceled", s)
	}
}

// TestRefundNeverNegative: a tenant that spent most of a pack is refunded
// in full: its balance goes to zero, not below, and what it spent is
// recorded as unrecovered; a second refund event of the same charge takes
// nothing more.
func TestRefundNeverNegative(t *testing.T) {
	b := setup(t, "")
	ctx := context.Background()
	tn, cus := b.tenant(t, "acme", 0)
	b.deliver(t, event("evt_pack", "checkout.session.completed", time.Now(), packSession("cs_1", cus, "pi_1", 500, 1000)))
	if _, err := b.st.GrantCredits(ctx, tn.ID, -420, "spent on jobs (stand-in)"); err != nil {
		t.Fatal(err)
	}
	b.deliver(t, event("evt_half", "charge.refunded", time.Now(), charge("ch_1", cus, "pi_1", 1000, 500)))
	if s := balanceOf(t, b.st, tn.ID); s != 0 {
		t.Errorf("after a half refund the balance is %d, want 0 (80 left, 250 due)", s)
	}
	b.deliver(t, event("evt_full", "charge.refunded", time.Now(), charge("ch_1", cus, "pi_1", 1000, 1000)))
	b.deliver(t, event("evt_full_again", "charge.refunded", time.Now(), charge("ch_1", cus, "pi_1", 1000, 1000)))
	rows := ledger(t, b.st, tn.ID)
	pays, err := b.st.BillingPayments(ctx, tn.ID, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(pays) != 1 || pays[0].CreditsTakenBack != 80 || pays[0].CreditsUnrecovered != 420 || pays[0].RefundedCents != 1000 {
		t.Errorf("payment %+v, want 80 credits taken back, 420 unrecovered, 1000 cents refunded", pays)
	}
	if last := rows[len(rows)-1]; last.BalanceAfter != 0 || last.Kind != "clawback" {
		t.Errorf("last ledger row %+v, want a clawback to 0", last)
	}
}

func balanceOf(t *testing.T, st *store.Store, tenantID int64) int64 {
	t.Helper()
	tn, err := st.GetTenant(context.Background(), tenantID)
	if err != nil {
		t.Fatal(err)
	}
	return tn.CreditBalance
}

// TestPaymentFailedGraceThenSuspendedThenPaid: a failed payment starts a
// grace period; before its end the tenant works, after it the tenant is
// suspended (as an operator's suspension does), and paying the invoice
// reactivates it. A tenant an operator suspended stays suspended.
func TestPaymentFailedGraceThenSuspendedThenPaid(t *testing.T) {
	b := setup(t, "")
	ctx := context.Background()
	tn, cus := b.tenant(t, "acme", 0)
	failedAt := time.Now().Truncate(time.Second)
	end := failedAt.AddDate(0, 1, 0)
	b.deliver(t, event("evt_fail", "invoice.payment_failed", failedAt, map[string]any{"id": "in_2", "object": "invoice", "customer": cus}))
	acc, err := b.st.BillingAccount(ctx, tn.ID)
	if err != nil || acc.PastDueSince == nil || !acc.PastDueSince.Equal(failedAt) {
		t.Fatalf("account %+v, %v: want past due since %s", acc, err, failedAt)
	}
	grace := func(now time.Time) string {
		b.now = now
		task, err := graceTask(tn.ID, failedAt)
		if err != nil {
			t.Fatal(err)
		}
		if err := b.events.EndGrace(ctx, task); err != nil {
			t.Fatal(err)
		}
		got, err := b.st.GetTenant(ctx, tn.ID)
		if err != nil {
			t.Fatal(err)
		}
		return got.Status
	}
	if s := grace(failedAt.Add(71 * time.Hour)); s != "active" {
		t.Fatalf("within the grace period the tenant is %s, want active", s)
	}
	if s := grace(failedAt.Add(72*time.Hour + time.Second)); s != "suspended" {
		t.Fatalf("after the grace period the tenant is %s, want suspended", s)
	}
	b.deliver(t, event("evt_paid", "invoice.paid", failedAt.Add(73*time.Hour), invoice("in_2", cus, "sub_1", "price_pro", "pi_2", 2900, end)))
	if s := stateOf(t, b.st, tn.ID); s.Status != "active" || s.Plan != "pro" {
		t.Fatalf("after paying: %+v, want active on pro", s)
	}
	// An operator's suspension is not billing's to lift.
	if _, err := b.st.SetTenantStatus(ctx, tn.ID, "suspended"); err != nil {
		t.Fatal(err)
	}
	b.deliver(t, event("evt_paid3", "invoice.paid", failedAt.Add(74*time.Hour), invoice("in_3", cus, "sub_1", "price_pro", "pi_3", 2900, end)))
	if s := stateOf(t, b.st, tn.ID); s.Status != "suspended" {
		t.Fatalf("an operator-suspended tenant is %s after paying, want still suspended", s.Status)
	}
}
