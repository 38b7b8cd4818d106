package e2e_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v84"
	"github.com/stripe/stripe-go/v84/webhook"

	"github.com/presswork/presswork/internal/ai/providers"
	"github.com/presswork/presswork/internal/app/apptest"
	"github.com/presswork/presswork/internal/testenv"
)

const billingKillChild = "PRESSWORK_BILLING_KILL_CHILD"

// TestBillingWorkerKilledMidGrant (#26): a worker process takes the task
// of a credit pack's checkout.session.completed and is killed (SIGKILL)
// inside the transaction that grants it, between the event's receipt and
// the grant; another worker, by the billing sweep, applies the event, and
// the pack is granted exactly once.
func TestBillingWorkerKilledMidGrant(t *testing.T) {
	if os.Getenv(billingKillChild) == "1" {
		runWorkerProcess(t, func(*slog.Logger) providers.Set { return providers.Offline() })
		return
	}
	const secret = "whsec_kill_test"
	h := apptest.Start(t, apptest.WithEnv("STRIPE_SECRET_KEY", "sk_test_123"),
		apptest.WithEnv("STRIPE_WEBHOOK_SECRET", secret), apptest.WithEnv("STRIPE_API_BASE", testenv.StripeMock(t)),
		apptest.WithEnv("STRIPE_SWEEP_EVERY", "300ms"))
	ctx := apptest.Context(t)
	st := h.App.Store
	tk, _ := h.Tenant(t, "killed-mid-grant", 100)
	_, err := st.RememberCustomer(ctx, tk.Tenant.ID, "cus_killed")
	apptest.Must(t, err, "customer")

	// Hold the tenant's row so that the child's grant waits inside its
	// transaction, after the event is stored and before any credit moves.
	db := st.SQLDB()
	defer db.Close()
	hold, err := db.BeginTx(ctx, nil)
	apptest.Must(t, err, "begin")
	defer hold.Rollback() //nolint:errcheck
	_, err = hold.ExecContext(ctx, `SELECT 1 FROM tenants WHERE id = $1 FOR UPDATE`, tk.Tenant.ID)
	apptest.Must(t, err, "lock the tenant")

	var out bytes.Buffer
	child := startWorkerProcess(t, h, "TestBillingWorkerKilledMidGrant", billingKillChild, &out)
	defer child.Process.Kill() //nolint:errcheck

	body, err := json.Marshal(map[string]any{"id": "evt_killed", "object": "event", "api_version": stripe.APIVersion,
		"created": time.Now().Unix(), "type": "checkout.session.completed", "data": map[string]any{"object": map[string]any{
			"id": "cs_killed", "object": "checkout.session", "customer": "cus_killed", "mode": "payment", "payment_status": "paid",
			"amount_total": 1000, "currency": "usd", "payment_intent": "pi_killed", "metadata": map[string]any{"presswork_credits": "500"}}}})
	apptest.Must(t, err, "event")
	sig := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: body, Secret: secret, Timestamp: time.Now()}).Header
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.URL+"/v1/stripe/webhook", bytes.NewReader(body))
	apptest.Must(t, err, "request")
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Stripe-Signature", sig)
	resp, err := http.DefaultClient.Do(req)
	apptest.Must(t, err, "post the webhook")
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("webhook: %s, want 200", resp.Status)
	}

	apptest.Eventually(t, 30*time.Second, "the child waiting inside the grant", func() (bool, error) {
		var waiting int
		err := db.QueryRowContext(ctx, `SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()
			AND wait_event_type = 'Lock' AND query LIKE '%FROM tenants WHERE id = $1 FOR NO KEY UPDATE%'`).Scan(&waiting)
		return waiting > 0, err
	})
	apptest.Must(t, child.Process.Kill(), "SIGKILL the worker")
	_ = child.Wait()
	apptest.Must(t, hold.Rollback(), "release the tenant")
	ev, err := st.GetStripeEvent(ctx, "evt_killed")
	apptest.Must(t, err, "the stored event")
	if ev.AppliedAt != nil {
		t.Fatalf("the event is applied although its worker was killed before committing; child log:\n%s", out.String())
	}
	apptest.CheckCredits(t, st, tk.Tenant.ID, 100)

	h.StartWorker(t)
	apptest.Eventually(t, 30*time.Second, "the event applied by another worker", func() (bool, error) {
		ev, err := st.GetStripeEvent(ctx, "evt_killed")
		return err == nil && ev.AppliedAt != nil, nil
	})
	rows := apptest.CheckCredits(t, st, tk.Tenant.ID, 600)
	grants := 0
	for _, e := range rows {
		if strings.Contains(e.Note, "credit pack") {
			grants++
		}
	}
	if grants != 1 {
		t.Errorf("%d credit pack grants in the ledger %+v, want exactly 1", grants, rows)
	}
	if t.Failed() {
		fmt.Println(out.String())
	}
}
