package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/presswork/presswork/internal/app/apptest"
	"github.com/presswork/presswork/internal/store"
	"github.com/presswork/presswork/internal/testenv"
)

// TestFailureReasonsInBrowser: a site whose check failed shows its reason
// and code in the sites table (a missing REST API; a certificate for
// another name, which says whose it is), and the failed check shows them
// on the failed jobs page, beside a job waiting to retry with its next
// attempt.
func TestFailureReasonsInBrowser(t *testing.T) {
	ctx := browser(t)
	ca := testenv.NewCA(t) // trusted, so that wrongName fails on its name alone
	h := apptest.Start(t, apptest.WithEnv("RETRY_BASE_DELAY", "1h"), apptest.WithEnv("EXTRA_CA_FILE", ca.File(t)))
	h.StartWorker(t)
	tk, c := h.Tenant(t, "reasons-ui", 10)
	email, password := "owner@example.com", "owner password 1"
	createUser(t, h, tk.Tenant.ID, email, password, "owner")
	noREST := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(noREST.Close)
	wrongName := ca.TLSServer(t, http.NotFoundHandler(), "other.example")
	down := httptest.NewServer(http.NotFoundHandler())
	downURL := down.URL
	down.Close() // refuses connections: its check retries

	for name, url := range map[string]string{"No API": noREST.URL, "Down": downURL, "Wrong name": wrongName.URL} {
		var site store.Site
		apptest.Must(t, c.Do(context.Background(), http.MethodPost, "/v1/sites", map[string]string{"name": name, "url": url,
			"username": "editor", "application_password": "abcd efgh"}, &site), "add site")
		var acc apptest.Accepted
		apptest.Must(t, c.Do(context.Background(), http.MethodPost, fmt.Sprintf("/v1/sites/%d/check", site.ID), nil, &acc), "check")
		apptest.Eventually(t, 30*time.Second, "the check of "+name+" fails an attempt", func() (bool, error) {
			j := apptest.Job(t, h.App.Store, tk.Tenant.ID, acc.Jobs[0].ID)
			return j.LastError != nil, nil
		})
	}
	err := chromedp.Do(ctx,
		signInBrowser(h.URL, email, password),
		poll(`document.querySelector("#sites-table").textContent.includes("no WordPress REST API answers")`),
		poll(`document.querySelector("#sites-table").textContent.includes("rest_disabled")`),
		poll(`[...document.querySelectorAll("#sites-table tr")].some(tr => tr.textContent.includes("Wrong name") &&
			tr.textContent.includes("the TLS certificate is for other.example, not 127.0.0.1") && tr.textContent.includes("tls_invalid"))`),
		chromedp.Navigate(h.URL+"/ui/jobs"),
		poll(`[...document.querySelectorAll('#jobs-table tr[data-state="failed"]')].some(tr => tr.textContent.includes("rest_disabled"))`),
		poll(`[...document.querySelectorAll('#jobs-table tr[data-state="queued"]')].some(tr =>
			tr.textContent.includes("refused the connection") && tr.textContent.includes("retrying at") && tr.textContent.includes("2 retries left"))`),
	)
	if err != nil {
		t.Fatalf("browser: %v\npage: %s", err, pageText(t, ctx, artifactsDir(t)))
	}
}

// signInBrowser signs in at base's login page and waits for the sites page.
func signInBrowser(base, email, password string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		for _, a := range []chromedp.Action[chromedp.Void]{
			chromedp.Navigate(base + "/ui/login"),
			chromedp.WaitVisible("#email"),
			chromedp.SendKeys("#email", email),
			chromedp.SendKeys("#password", password),
			chromedp.Click("#signin"),
			chromedp.WaitVisible("#add-site"),
		} {
			if _, err := a(ctx, t); err != nil {
				return err
			}
		}
		return nil
	})
}
