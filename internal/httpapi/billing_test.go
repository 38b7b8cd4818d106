package httpapi_test

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v84"
	"github.com/stripe/stripe-go/v84/webhook"

	"github.com/presswork/presswork/internal/app/apptest"
	"github.com/presswork/presswork/internal/store"
	"github.com/presswork/presswork/internal/testenv"
)

const testWebhookSecret = "whsec_httpapi_test"

// stripeEvent is a Stripe event with the library's API version, signed at
// signedAt with secret, as Stripe posts it.
func stripeEvent(t *testing.T, id, typ, secret string, signedAt time.Time, object map[string]any) (body []byte, signature string) {
	t.Helper()
	body, err := json.Marshal(map[string]any{"id": id, "object": "event", "api_version": stripe.APIVersion,
		"created": time.Now().Unix(), "type": typ, "data": map[string]any{"object": object}})
	if err != nil {
		t.Fatal(err)
	}
	return body, webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: body, Secret: secret, Timestamp: signedAt}).Header
}

// TestBillingOffByDefault: without Stripe keys the billing status says
// off, the calls that need Stripe are a 409, the webhook is not found,
// and operators still keep the catalogue (audited).
func TestBillingOffByDefault(t *testing.T) {
	t.Parallel()
	h := apptest.Start(t)
	f := newFixtureLite(t, h, "nobilling")
	op := h.OperatorClient(t)
	var st struct {
		Enabled bool   `json:"enabled"`
		Plan    string `json:"plan"`
		Balance int64  `json:"credit_balance"`
	}
	call(t, h, f.Key, "GET", "/v1/billing", "", nil).must(t, 200, &st)
	if st.Enabled || st.Balance != 100 {
		t.Errorf("billing status %+v, want off with 100 credits", st)
	}
	callJSON(t, h, f.Key, "POST", "/v1/billing/checkout", map[string]any{"plan": "pro"}).problem(t, 409)
	callJSON(t, h, f.Key, "POST", "/v1/billing/portal", nil).problem(t, 409)
	callJSON(t, h, f.Key, "GET", "/v1/billing/invoices", nil).problem(t, 409)
	call(t, h, "", "POST", "/v1/stripe/webhook", "application/json", []byte(`{}`)).problem(t, 404)
	callJSON(t, h, op.Key, "PUT", "/v1/admin/plans/pro", map[string]any{"stripe_price_id": "price_pro", "monthly_credits": 1000}).must(t, 200, nil)
	var audit struct {
		Items []store.AuditEntry `json:"items"`
	}
	callJSON(t, h, op.Key, "GET", "/v1/admin/audit", nil).must(t, 200, &audit)
	found := false
	for _, e := range audit.Items {
		found = found || (e.Action == "plan.put" && e.Target == "plan:pro")
	}
	if !found {
		t.Errorf("no plan.put audit entry in %+v", audit.Items)
	}
}

// TestBillingThroughStripe, against stripe-mock and a worker: an owner's
// checkout (an editor is refused), a forged webhook refused with nothing
// stored, a signed one applied once by the worker even when Stripe sends it
// twice, another tenant seeing none of it, and the operator's overview.
func TestBillingThroughStripe(t *testing.T) {
	t.Parallel()
	h := apptest.Start(t, apptest.WithEnv("STRIPE_SECRET_KEY", "sk_test_123"),
		apptest.WithEnv("STRIPE_WEBHOOK_SECRET", testWebhookSecret),
		apptest.WithEnv("STRIPE_API_BASE", testenv.StripeMock(t)))
	h.StartWorker(t)
	ctx := t.Context()
	a := newFixtureLite(t, h, "payer")
	b := newFixtureLite(t, h, "bystander")
	op := h.OperatorClient(t)
	var pack store.CreditPack
	callJSON(t, h, op.Key, "POST", "/v1/admin/credit-packs", map[string]any{"name": "500 credits",
		"stripe_price_id": "price_pack500", "credits": 500}).must(t, 201, &pack)

	var editor struct {
		Key string `json:"key"`
	}
	callJSON(t, h, a.Key, "POST", "/v1/api-keys", map[string]any{"name": "ed", "role": "editor"}).must(t, 201, &editor)
	callJSON(t, h, editor.Key, "POST", "/v1/billing/checkout", map[string]any{"pack_id": pack.ID}).problem(t, 403)
	var sess struct{ ID, URL string }
	callJSON(t, h, a.Key, "POST", "/v1/billing/checkout", map[string]any{"pack_id": pack.ID}).must(t, 201, &sess)
	if sess.URL == "" {
		t.Fatalf("checkout session %+v has no URL", sess)
	}
	acc, err := h.App.Store.BillingAccount(ctx, a.TenantID)
	apptest.Must(t, err, "A's billing account")

	object := map[string]any{"id": "cs_payer", "object": "checkout.session", "customer": acc.CustomerID, "mode": "payment",
		"payment_status": "paid", "amount_total": 1000, "currency": "usd", "payment_intent": "pi_payer",
		"metadata": map[string]any{"presswork_credits": fmt.Sprint(pack.Credits)}}
	forged, forgedSig := stripeEvent(t, "evt_forged", "checkout.session.completed", "whsec_not_ours", time.Now(), object)
	p := call(t, h, "", "POST", "/v1/stripe/webhook", "application/json", forged, "Stripe-Signature", forgedSig).problem(t, 400)
	if len(p.Errors) == 0 || p.Errors[0].Field != "Stripe-Signature" {
		t.Errorf("forged webhook problem %+v, want one naming Stripe-Signature", p)
	}
	body, sig := stripeEvent(t, "evt_payer", "checkout.session.completed", testWebhookSecret, time.Now(), object)
	call(t, h, "", "POST", "/v1/stripe/webhook", "application/json", body, "Stripe-Signature", sig).must(t, 200, nil)
	apptest.Eventually(t, 10*time.Second, "the pack granted", func() (bool, error) {
		ev, err := h.App.Store.GetStripeEvent(ctx, "evt_payer")
		return err == nil && ev.AppliedAt != nil, nil
	})
	var again struct {
		Applied bool `json:"applied"`
	}
	call(t, h, "", "POST", "/v1/stripe/webhook", "application/json", body, "Stripe-Signature", sig).must(t, 200, &again)
	if !again.Applied {
		t.Errorf("a redelivered event applied already says applied false")
	}
	if _, err := h.App.Store.GetStripeEvent(ctx, "evt_forged"); err == nil {
		t.Error("the forged event was stored")
	}
	apptest.CheckCredits(t, h.App.Store, a.TenantID, 600)
	apptest.CheckCredits(t, h.App.Store, b.TenantID, 100)

	var bs struct {
		Balance  int64                  `json:"credit_balance"`
		Payments []store.BillingPayment `json:"payments"`
	}
	call(t, h, b.Key, "GET", "/v1/billing", "", nil).must(t, 200, &bs)
	if bs.Balance != 100 || len(bs.Payments) != 0 {
		t.Errorf("B's billing %+v shows A's payment or balance", bs)
	}
	var invs struct {
		Items []json.RawMessage `json:"items"`
	}
	call(t, h, b.Key, "GET", "/v1/billing/invoices", "", nil).must(t, 200, &invs)
	if len(invs.Items) != 0 {
		t.Errorf("B (no Stripe customer) lists %d invoices", len(invs.Items))
	}
	var o store.BillingOverview
	callJSON(t, h, op.Key, "GET", "/v1/admin/billing/overview?days=7", nil).must(t, 200, &o)
	if o.Total.CreditsSold != 500 || o.Total.RevenueCents != 1000 {
		t.Errorf("overview total %+v, want 500 credits sold for 1000 cents", o.Total)
	}
	callJSON(t, h, a.Key, "GET", "/v1/admin/billing/overview", nil).problem(t, 403)
}
