package billing_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/stripe/stripe-go/v84"
	"github.com/stripe/stripe-go/v84/webhook"

	"github.com/presswork/presswork/internal/billing"
	"github.com/presswork/presswork/internal/config"
	"github.com/presswork/presswork/internal/secret"
	"github.com/presswork/presswork/internal/store"
	"github.com/presswork/presswork/internal/testenv"
	"github.com/presswork/presswork/internal/worker"
)

const whsec = "whsec_test_presswork"

// bundle is one test's billing: a store of its own, a Redis database of
// its own for the queue, the Service, and the worker's handler.
type bundle struct {
	st     *store.Store
	svc    *billing.Service
	events *worker.BillingEvents
	queue  *asynq.Client
	calls  *callCounter
	now    time.Time
}

// callCounter counts the requests to Stripe by method and path.
type callCounter struct {
	mu    sync.Mutex
	calls map[string]int
	next  http.RoundTripper
}

func (c *callCounter) RoundTrip(r *http.Request) (*http.Response, error) {
	c.mu.Lock()
	c.calls[r.Method+" "+r.URL.Path]++
	c.mu.Unlock()
	return c.next.RoundTrip(r)
}

func (c *callCounter) count(key string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.calls[key]
}

// setup starts a bundle; stripeBase is stripe-mock's URL or "" for tests
// that make no call to Stripe (an address that answers nothing).
func setup(t *testing.T, stripeBase string) *bundle {
	t.Helper()
	if stripeBase == "" {
		stripeBase = "http://127.0.0.1:9"
	}
	st := testenv.Store(t)
	redisOpt, err := asynq.ParseRedisURI(testenv.RedisURL(t))
	if err != nil {
		t.Fatal(err)
	}
	q := asynq.NewClient(redisOpt)
	t.Cleanup(func() { q.Close() })
	calls := &callCounter{calls: map[string]int{}, next: http.DefaultTransport}
	cfg := config.StripeConfig{SecretKey: secret.Text("sk_test_123"), WebhookSecret: secret.Text(whsec),
		APIBase: stripeBase, ReturnURL: "http://127.0.0.1:8080/ui/billing", GracePeriod: 72 * time.Hour}
	b := &bundle{st: st, queue: q, calls: calls, now: time.Now()}
	b.svc = billing.New(cfg, st, q, &http.Client{Transport: calls, Timeout: 20 * time.Second})
	b.events = &worker.BillingEvents{Store: st, Queue: q, Grace: cfg.GracePeriod, Now: func() time.Time { return b.now },
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	b.catalogue(t)
	return b
}

// catalogue sells pro (price_pro, 1000 credits a month) and agency
// (price_agency, 5000, a fair-share room of 64) and a pack of 500 credits.
func (b *bundle) catalogue(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	room := 64
	for _, p := range []store.Plan{
		{Name: "pro", StripePriceID: ptr("price_pro"), MonthlyCredits: 1000, Description: "Pro"},
		{Name: "agency", StripePriceID: ptr("price_agency"), MonthlyCredits: 5000, BulkInFlight: &room},
	} {
		if _, err := b.st.PutPlan(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := b.st.CreatePack(ctx, store.CreditPack{Name: "500 credits", StripePriceID: "price_pack500", Credits: 500, Active: true}); err != nil {
		t.Fatal(err)
	}
}

func ptr[T any](v T) *T { return &v }

// tenant creates a tenant on the free plan with a Stripe customer.
func (b *bundle) tenant(t *testing.T, slug string, credits int64) (store.Tenant, string) {
	t.Helper()
	ctx := context.Background()
	tn, err := b.st.CreateTenant(ctx, store.NewTenant{Slug: slug, Name: slug, Plan: "free", Credits: credits})
	if err != nil {
		t.Fatal(err)
	}
	cus := "cus_" + strings.ReplaceAll(slug, "-", "")
	if _, err := b.st.RememberCustomer(ctx, tn.ID, cus); err != nil {
		t.Fatal(err)
	}
	return tn, cus
}

// event is a Stripe event as its webhook carries it.
func event(id, typ string, created time.Time, object map[string]any) []byte {
	body, err := json.Marshal(map[string]any{"id": id, "object": "event", "api_version": stripe.APIVersion,
		"created": created.Unix(), "type": typ, "livemode": false, "pending_webhooks": 1,
		"data": map[string]any{"object": object}})
	if err != nil {
		panic(err)
	}
	return body
}

// sign signs payload as Stripe does, at signedAt with secret.
func sign(payload []byte, secret string, signedAt time.Time) string {
	return webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: payload, Secret: secret, Timestamp: signedAt}).Header
}

// deliver receives payload, properly signed, and applies its event as
// the worker does; it returns the event as stored after.
func (b *bundle) deliver(t *testing.T, payload []byte) store.StripeEvent {
	t.Helper()
	ctx := context.Background()
	ev, err := b.svc.Receive(ctx, payload, sign(payload, whsec, time.Now()))
	if err != nil {
		t.Fatalf("receive: %v", err)
	}
	b.apply(t, ev.ID)
	got, err := b.st.GetStripeEvent(ctx, ev.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.AppliedAt == nil {
		t.Fatalf("event %s not applied", ev.ID)
	}
	return got
}

// apply runs the worker's handler on the event's task.
func (b *bundle) apply(t *testing.T, eventID string) {
	t.Helper()
	task, err := billing.NewEventTask(eventID)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.events.ApplyEvent(context.Background(), task); err != nil {
		t.Fatalf("apply %s: %v", eventID, err)
	}
}

func packSession(id, customer, pi string, credits, cents int64) map[string]any {
	return map[string]any{"id": id, "object": "checkout.session", "customer": customer, "mode": "payment",
		"payment_status": "paid", "status": "complete", "amount_total": cents, "currency": "usd", "payment_intent": pi,
		"metadata": map[string]any{"presswork_credits": fmt.Sprint(credits)}}
}

func subscriptionSession(id, customer, sub string) map[string]any {
	return map[string]any{"id": id, "object": "checkout.session", "customer": customer, "mode": "subscription",
		"payment_status": "paid", "status": "complete", "amount_total": 2900, "currency": "usd", "subscription": sub,
		"metadata": map[string]any{"presswork_plan": "pro"}}
}

func subscription(id, customer, status, price string, periodEnd time.Time) map[string]any {
	return map[string]any{"id": id, "object": "subscription", "customer": customer, "status": status,
		"cancel_at_period_end": false, "items": map[string]any{"object": "list", "data": []any{
			map[string]any{"id": "si_" + id, "object": "subscription_item", "current_period_end": periodEnd.Unix(),
				"price": map[string]any{"id": price, "object": "price"}}}}}
}

func invoice(id, customer, sub, price, pi string, cents int64, periodEnd time.Time) map[string]any {
	return map[string]any{"id": id, "object": "invoice", "customer": customer, "status": "paid", "amount_paid": cents,
		"currency": "usd",
		"parent":   map[string]any{"type": "subscription_details", "subscription_details": map[string]any{"subscription": sub}},
		"lines": map[string]any{"object": "list", "data": []any{map[string]any{"id": "il_" + id, "object": "line_item",
			"period":  map[string]any{"start": periodEnd.AddDate(0, -1, 0).Unix(), "end": periodEnd.Unix()},
			"pricing": map[string]any{"type": "price_details", "price_details": map[string]any{"price": price, "product": "prod_1"}}}}},
		"payments": map[string]any{"object": "list", "data": []any{map[string]any{"id": "inpay_" + id, "object": "invoice_payment",
			"payment": map[string]any{"type": "payment_intent", "payment_intent": pi}}}}}
}

func charge(id, customer, pi string, amount, refunded int64) map[string]any {
	return map[string]any{"id": id, "object": "charge", "customer": customer, "amount": amount, "amount_refunded": refunded,
		"payment_intent": pi, "refunded": refunded >= amount, "currency": "usd"}
}

// ledger returns the tenant's ledger oldest first, checking that every
// row's balance is the running sum and never negative.
func ledger(t *testing.T, st *store.Store, tenantID int64) []store.LedgerEntry {
	t.Helper()
	rows, err := st.BillingLedger(context.Background(), tenantID, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var sum int64
	for _, e := range rows {
		sum += e.Delta
		if e.BalanceAfter != sum || e.BalanceAfter < 0 {
			t.Errorf("ledger row %d (%s %+d) leaves %d; running sum %d", e.ID, e.Kind, e.Delta, e.BalanceAfter, sum)
		}
	}
	tn, err := st.GetTenant(context.Background(), tenantID)
	if err != nil {
		t.Fatal(err)
	}
	if tn.CreditBalance != sum {
		t.Errorf("balance %d, ledger sums to %d", tn.CreditBalance, sum)
	}
	return rows
}

func logLedger(t *testing.T, rows []store.LedgerEntry) {
	t.Helper()
	t.Logf("%-4s %-9s %8s %8s  %s", "id", "kind", "delta", "balance", "note")
	for _, e := range rows {
		t.Logf("%-4d %-9s %+8d %8d  %s", e.ID, e.Kind, e.Delta, e.BalanceAfter, e.Note)
	}
}

func graceTask(tenantID int64, since time.Time) (*asynq.Task, error) {
	task, _, err := billing.NewGraceTask(tenantID, since, since.Add(72*time.Hour))
	return task, err
}
