package web_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/presswork/presswork/internal/app/apptest"
	"github.com/presswork/presswork/internal/store"
	"github.com/presswork/presswork/internal/tasks"
	"github.com/presswork/presswork/internal/testenv"
	"github.com/presswork/presswork/internal/wordpress/fakewp"
)

// TestFailureReasonsInBrowser: a site whose check failed shows its reason
// and code in the sites table (a missing REST API; a certificate for
// another name, which says whose it is; a wrong application password; a
// name that does not exist), and the failed check shows them
// on the failed jobs page, beside a job waiting to retry with its next
// attempt. A draft whose publish failed shows the reason and code on its
// page, with the next attempt or that none comes.
func TestFailureReasonsInBrowser(t *testing.T) {
	ctx := browser(t)
	ca := testenv.NewCA(t) // trusted, so that wrongName fails on its name alone
	h := apptest.Start(t, apptest.WithEnv("RETRY_BASE_DELAY", "1h"), apptest.WithEnv("EXTRA_CA_FILE", ca.File(t)))
	h.StartWorker(t)
	tk, c := h.Tenant(t, "reasons-ui", 10)
	seed := apptest.SeedIdeas(t, h.App.Store, tk.Tenant.ID, 2, "reasons")
	refused := seedPublishFailure(t, h.App.Store, tk.Tenant.ID, seed.Ideas[0], store.Failure{Code: "auth_rejected",
		Message: "WordPress refused the application password of editor"})
	left := 2
	retrying := seedPublishFailure(t, h.App.Store, tk.Tenant.ID, seed.Ideas[1], store.Failure{Code: "site_error",
		Message: "WordPress failed to answer (HTTP 503)", RetryAt: new(time.Now().Add(time.Hour)), RetriesLeft: &left})
	email, password := "owner@example.com", "owner password 1"
	createUser(t, h, tk.Tenant.ID, email, password, "owner")
	noREST := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(noREST.Close)
	wrongName := ca.TLSServer(t, http.NotFoundHandler(), "other.example")
	down := httptest.NewServer(http.NotFoundHandler())
	downURL := down.URL
	down.Close() // refuses connections: its check retries

	wp := fakewp.New(t, fakewp.Config{RefuseWrongPassword: true})
	sites := []struct{ name, url, password string }{
		{"No API", noREST.URL, "abcd efgh"}, {"Down", downURL, "abcd efgh"}, {"Wrong name", wrongName.URL, "abcd efgh"},
		{"Wrong password", wp.SiteURL(), "wrong wrong wrong"},
	}
	_, lookupErr := net.LookupHost("presswork-check.invalid")
	var dnsErr *net.DNSError
	nxdomain := errors.As(lookupErr, &dnsErr) && dnsErr.IsNotFound
	if nxdomain { // a machine whose resolver does not answer NXDOMAIN cannot show this case
		sites = append(sites, struct{ name, url, password string }{"No such name", "https://blog.invalid", "abcd efgh"})
	}
	for _, s := range sites {
		name, url := s.name, s.url
		var site store.Site
		apptest.Must(t, c.Do(context.Background(), http.MethodPost, "/v1/sites", map[string]string{"name": name, "url": url,
			"username": fakewp.User, "application_password": s.password}, &site), "add site")
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
		poll(`[...document.querySelectorAll("#sites-table tr")].some(tr => tr.textContent.includes("Wrong password") &&
			tr.textContent.includes("application password") && tr.textContent.includes("auth_rejected"))`),
		poll(fmt.Sprintf(`%t || [...document.querySelectorAll("#sites-table tr")].some(tr => tr.textContent.includes("No such name") &&
			tr.textContent.includes("does not exist") && tr.textContent.includes("dns_not_found"))`, !nxdomain)),
		chromedp.Navigate(h.URL+"/ui/jobs"),
		poll(`[...document.querySelectorAll('#jobs-table tr[data-state="failed"]')].some(tr => tr.textContent.includes("rest_disabled"))`),
		poll(`[...document.querySelectorAll('#jobs-table tr[data-state="failed"]')].some(tr => tr.textContent.includes("auth_rejected"))`),
		poll(`[...document.querySelectorAll('#jobs-table tr[data-state="queued"]')].some(tr =>
			tr.textContent.includes("refused the connection") && tr.textContent.includes("retrying at") && tr.textContent.includes("2 retries left"))`),
		chromedp.Navigate(fmt.Sprintf("%s/ui/drafts/%d", h.URL, refused)),
		poll(`(t => t.includes("Publishing failed: WordPress refused the application password") && t.includes("auth_rejected") &&
			t.includes("will not be tried again"))(document.querySelector("#publish-failure:not([hidden])")?.textContent || "")`),
		chromedp.Navigate(fmt.Sprintf("%s/ui/drafts/%d", h.URL, retrying)),
		poll(`(t => t.includes("HTTP 503") && t.includes("site_error") && t.includes("next attempt") && t.includes("2 retries left"))(
			document.querySelector("#publish-failure:not([hidden])")?.textContent || "")`),
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

// seedPublishFailure writes a draft of idea and a publish job of it that
// failed with f: for good, or waiting to retry when f has a retry time.
// The draft shows the failure (RecordPublishFailure); it returns its id.
func seedPublishFailure(t *testing.T, st *store.Store, tenantID int64, idea store.Idea, f store.Failure) int64 {
	t.Helper()
	ctx := apptest.Context(t)
	draftJob := apptest.FreeJob(t, st, tenantID, tasks.TypeDraft, idea.SiteID, idea.ID)
	apptest.Must(t, st.SaveDraft(ctx, store.Outcome{TenantID: tenantID, JobID: draftJob}, idea, store.Draft{Title: idea.Title,
		Slug: fmt.Sprint("draft-", idea.ID), BodyHTML: "<p>Two words</p>", WordCount: 2}), "save draft")
	drafts, err := st.ListDrafts(ctx, tenantID, idea.SiteID, store.Page{Limit: 100})
	apptest.Must(t, err, "list drafts")
	i := slices.IndexFunc(drafts, func(d store.Draft) bool { return d.IdeaID == idea.ID })
	if i < 0 {
		t.Fatalf("no draft of idea %d", idea.ID)
	}
	pub := apptest.FreeJob(t, st, tenantID, tasks.TypePublish, idea.SiteID, drafts[i].ID)
	final := f.RetryAt == nil
	if final {
		apptest.Must(t, st.FailJob(ctx, tenantID, pub, f), "fail the publish")
	} else {
		apptest.Must(t, st.RetryLater(ctx, tenantID, pub, f), "retry the publish")
	}
	apptest.Must(t, st.RecordPublishFailure(ctx, tenantID, drafts[i].ID, store.PublishFailure{JobID: pub, Error: f.Message,
		ErrorCode: f.Code, At: time.Now(), Final: final, RetryAt: f.RetryAt, RetriesLeft: f.RetriesLeft}), "show the failure")
	return drafts[i].ID
}
