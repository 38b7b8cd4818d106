package web_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/presswork/presswork/internal/app/apptest"
	"github.com/presswork/presswork/internal/store"
	"github.com/presswork/presswork/internal/testenv"
)

// TestBillingPagesInBrowser (#26): with billing on (stripe-mock), an owner
// whose tenant bought a credit pack reads its plan, the plans and packs for
// sale, its invoices from Stripe and its payment on the Billing page; an
// operator reads the tenant's revenue and margin on the overview page.
func TestBillingPagesInBrowser(t *testing.T) {
	ctx := browser(t)
	h := apptest.Start(t, apptest.WithEnv("STRIPE_SECRET_KEY", "sk_test_123"),
		apptest.WithEnv("STRIPE_WEBHOOK_SECRET", "whsec_browser"),
		apptest.WithEnv("STRIPE_API_BASE", testenv.StripeMock(t)))
	st := h.App.Store
	c := apptest.Context(t)
	tk, _ := h.Tenant(t, "buyer", 100)
	createUser(t, h, tk.Tenant.ID, "owner@example.com", "correct horse battery", "owner")
	createUser(t, h, 0, "ops@example.com", "operator password", "operator")
	_, err := st.PutPlan(c, store.Plan{Name: "agency", StripePriceID: ptr("price_agency"), MonthlyCredits: 5000, Description: "5,000 credits a month"})
	apptest.Must(t, err, "plan")
	_, err = st.CreatePack(c, store.CreditPack{Name: "500 credits", StripePriceID: "price_pack500", Credits: 500, Active: true})
	apptest.Must(t, err, "pack")
	_, err = st.RememberCustomer(c, tk.Tenant.ID, "cus_buyer")
	apptest.Must(t, err, "customer")
	_, err = st.RecordStripeEvent(c, "evt_buyer", "checkout.session.completed", time.Now(), []byte(`{}`))
	apptest.Must(t, err, "event")
	_, err = st.ApplyBillingChange(c, store.BillingChange{EventID: "evt_buyer", Created: time.Now(), Customer: "cus_buyer",
		Pack: &store.PackPurchase{SessionID: "cs_buyer", PaymentIntent: "pi_buyer", Currency: "usd", AmountCents: 1000, Credits: 500}})
	apptest.Must(t, err, "pack bought")
	dir := artifactsDir(t)

	err = chromedp.Do(ctx,
		chromedp.Navigate(h.URL+"/ui/login"),
		chromedp.WaitVisible("#email"),
		chromedp.SendKeys("#email", "owner@example.com"),
		chromedp.SendKeys("#password", "correct horse battery"),
		chromedp.Click("#signin"),
		chromedp.WaitVisible("#sites-table"),
		chromedp.Navigate(h.URL+"/ui/billing"),
		poll(`document.querySelector("#plan-line").textContent.includes("600 credits")`),
		poll(`document.querySelector('#plans-table tr[data-plan="agency"] button') !== null`),
		poll(`document.querySelector('#packs-table tr[data-pack] button') !== null`),
		poll(`document.querySelector("#payments-table").textContent.includes("cs_buyer")`),
		poll(`document.querySelectorAll("#invoices-table tbody tr td").length > 1`),
		poll(`document.querySelector("#billing-off").hidden`),
		screenshot(dir, "billing"),
		chromedp.Click(".signout button"),
		chromedp.WaitVisible("#email"),
		chromedp.SendKeys("#email", "ops@example.com"),
		chromedp.SendKeys("#password", "operator password"),
		chromedp.Click("#signin"),
		chromedp.WaitVisible("#tenants-table"),
		chromedp.Navigate(h.URL+"/ui/overview"),
		poll(`(r => r !== null && r.textContent.includes("$10.00"))(document.querySelector('#margins-table tr[data-tenant="`+itoa(tk.Tenant.ID)+`"]'))`),
		poll(`document.querySelector("#totals").textContent.includes("credits sold 500")`),
		screenshot(dir, "billing-overview"),
	)
	if err != nil {
		t.Fatalf("browser: %v\npage: %s", err, pageText(t, ctx, dir))
	}
}

func ptr[T any](v T) *T { return &v }

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
