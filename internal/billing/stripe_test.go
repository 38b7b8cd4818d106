package billing_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/presswork/presswork/internal/auth"
	"github.com/presswork/presswork/internal/testenv"
)

// TestSignUpToPlanAndTopUp follows one tenant against stripe-mock: it
// signs up (an operator creates it, no credits), its owner starts a
// checkout for the pro plan (its Stripe customer is created then, once),
// Stripe's events for the subscription arrive, the owner buys a credit
// pack, opens the portal and lists invoices. The ledger is logged for the
// closing note of #26.
func TestSignUpToPlanAndTopUp(t *testing.T) {
	b := setup(t, testenv.StripeMock(t))
	ctx := context.Background()
	signup, err := auth.CreateTenant(ctx, b.st, auth.NewTenantRequest{Name: "My Media", Slug: "my-media", Plan: "free"})
	if err != nil {
		t.Fatal(err)
	}
	tn := signup.Tenant
	pro, err := b.st.GetPlan(ctx, "pro")
	if err != nil {
		t.Fatal(err)
	}
	sess, err := b.svc.CheckoutPlan(ctx, tn.ID, pro)
	if err != nil || sess.ID == "" || !strings.HasPrefix(sess.URL, "http") {
		t.Fatalf("checkout of pro: %+v, %v; want a session with a URL", sess, err)
	}
	cus, err := b.svc.Customer(ctx, tn.ID)
	if err != nil || !strings.HasPrefix(cus, "cus_") {
		t.Fatalf("customer %q, %v", cus, err)
	}
	start := time.Now().Truncate(time.Second)
	end := start.AddDate(0, 1, 0)
	b.deliver(t, event("evt_sub_cs", "checkout.session.completed", start, subscriptionSession(sess.ID, cus, "sub_mymedia")))
	b.deliver(t, event("evt_sub_created", "customer.subscription.created", start, subscription("sub_mymedia", cus, "active", "price_pro", end)))
	b.deliver(t, event("evt_sub_inv", "invoice.paid", start.Add(time.Second), invoice("in_mymedia_1", cus, "sub_mymedia", "price_pro", "pi_inv1", 2900, end)))

	packs, err := b.st.ListPacks(ctx, true)
	if err != nil || len(packs) != 1 {
		t.Fatalf("packs %+v, %v", packs, err)
	}
	top, err := b.svc.CheckoutPack(ctx, tn.ID, packs[0])
	if err != nil || top.URL == "" {
		t.Fatalf("checkout of a pack: %+v, %v", top, err)
	}
	b.deliver(t, event("evt_pack_cs", "checkout.session.completed", start.Add(time.Minute), packSession("cs_mymedia_pack", cus, "pi_pack1", 500, 1000)))

	portal, err := b.svc.Portal(ctx, tn.ID)
	if err != nil || portal.URL == "" {
		t.Fatalf("portal: %+v, %v", portal, err)
	}
	invs, err := b.svc.Invoices(ctx, tn.ID, 10)
	if err != nil || len(invs) == 0 {
		t.Fatalf("invoices from stripe-mock: %+v, %v", invs, err)
	}
	if n := b.calls.count("POST /v1/customers"); n != 1 {
		t.Errorf("%d customers created for one tenant over two checkouts and a portal, want 1", n)
	}
	s := stateOf(t, b.st, tn.ID)
	if s.Plan != "pro" || s.Balance != 1500 {
		t.Errorf("tenant %+v, want plan pro with 1000 + 500 credits", s)
	}
	t.Logf("tenant %d %q: plan %s, status %s, balance %d, subscription %s renewing %s",
		tn.ID, tn.Slug, s.Plan, s.Status, s.Balance, s.Sub, s.PeriodEnd.Format(time.DateOnly))
	logLedger(t, ledger(t, b.st, tn.ID))
}

// TestInvoiceWithoutPaymentsAsksStripe: an invoice.paid event without
// the invoice's payments (as Stripe sends it unless asked) makes the
// worker ask Stripe for them (stripe-mock here), once, and the allowance
// is granted whatever the answer. stripe-mock's invoice payment names no
// payment intent, so no refund is matched through the lookup here; the
// refund itself (store.applyRefund, one path for packs and invoices) is
// TestRefundNeverNegative's.
func TestInvoiceWithoutPaymentsAsksStripe(t *testing.T) {
	b := setup(t, testenv.StripeMock(t))
	b.events.Payments = b.svc
	tn, cus := b.tenant(t, "asks", 0)
	inv := invoice("in_asks", cus, "sub_asks", "price_pro", "", 2900, time.Now().AddDate(0, 1, 0))
	delete(inv, "payments")
	b.deliver(t, event("evt_inv", "invoice.paid", time.Now(), inv))
	if n := b.calls.count("GET /v1/invoice_payments"); n != 1 {
		t.Errorf("%d calls for the invoice's payments, want 1", n)
	}
	if bal := balanceOf(t, b.st, tn.ID); bal != 1000 {
		t.Errorf("balance %d after the invoice, want the allowance of 1000", bal)
	}
	with := event("evt_inv2", "invoice.paid", time.Now(), invoice("in_with", cus, "sub_asks", "price_pro", "pi_with", 2900, time.Now().AddDate(0, 2, 0)))
	b.deliver(t, with)
	if n := b.calls.count("GET /v1/invoice_payments"); n != 1 {
		t.Errorf("%d calls for payments after an invoice that carried them, want still 1", n)
	}
}
