package web_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/presswork/presswork/internal/app/apptest"
	"github.com/presswork/presswork/internal/client"
	"github.com/presswork/presswork/internal/testenv"
)

const chromiumPath = "/usr/bin/chromium"

// artifactsDir is where the browser tests write their screenshots:
// PRESSWORK_ARTIFACTS, or a new directory under the system's temporary one
// (never the repository).
func artifactsDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("PRESSWORK_ARTIFACTS")
	if dir == "" {
		var err error
		if dir, err = os.MkdirTemp("", "presswork-artifacts-"); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshots in %s", dir)
	return dir
}

// browser starts a headless chromium for the test, or skips (fails under
// CI=true) when it is not installed.
func browser(t *testing.T) context.Context {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		msg := fmt.Sprintf("chromium not installed (%s): apt-get install -y chromium", chromiumPath)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath), chromedp.NoSandbox, chromedp.Headless,
		chromedp.Flag("disable-dev-shm-usage", true), chromedp.WindowSize(1280, 900))
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(alloc, chromedp.WithLogf(t.Logf))
	t.Cleanup(func() { cancelCtx(); cancelAlloc() })
	// The first run starts the browser, on a context without a deadline.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	ctx, cancelTimeout := context.WithTimeout(ctx, 2*time.Minute)
	t.Cleanup(cancelTimeout)
	return ctx
}

func screenshot(dir, name string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		png, err := chromedp.FullScreenshot(100)(ctx, t)
		if err != nil {
			return fmt.Errorf("screenshot %s: %w", name, err)
		}
		return os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644)
	})
}

// poll waits until the JavaScript expression is true.
func poll(expr string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := chromedp.Poll[any](expr, chromedp.WithPollingTimeout(45*time.Second), chromedp.WithPollingInterval(100*time.Millisecond))(ctx, t)
		if err != nil {
			return fmt.Errorf("waiting for %s: %w", expr, err)
		}
		return nil
	})
}

// evaluate stores the value of a JavaScript expression in out.
func evaluate[T any](expr string, out *T) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) (err error) {
		*out, err = chromedp.Evaluate[T](expr)(ctx, t)
		return err
	})
}

// batchesDone waits until n progress bars have reached 100% with every job
// successful.
func batchesDone(n int) chromedp.Action[chromedp.Void] {
	return poll(fmt.Sprintf(`(() => { const b = [...document.querySelectorAll(".batch")];
		if (b.some(x => x.dataset.state === "failed")) throw new Error("a batch failed: " + b.map(x => x.textContent).join(" | "));
		return b.length >= %d && b.every(x => x.dataset.state === "done" && x.querySelector("progress").value === 100); })()`, n))
}

// TestEditorInBrowser does an editor's whole job in a real browser: sign
// in, add a site on the local WordPress, import the sample CSV, cluster,
// generate ideas and drafts on the offline provider, publish (held for
// review), approve and see the posts published, with every progress bar
// reaching 100%. It saves screenshots of the main pages.
func TestEditorInBrowser(t *testing.T) {
	ctx := browser(t)
	wp := testenv.WordPress(t, testenv.WPOptions{})
	h := apptest.Start(t)
	h.StartWorker(t)
	tk, api := h.Tenant(t, "browser", 1000)
	email, password := "editor@example.com", "correct horse battery"
	createUser(t, h, tk.Tenant.ID, email, password, "owner")
	dir := artifactsDir(t)
	csv, err := filepath.Abs("../../testdata/sample-keywords.csv")
	apptest.Must(t, err)

	var published, polls int
	err = chromedp.Do(ctx,
		chromedp.Navigate(h.URL+"/"),
		chromedp.WaitVisible("#email"),
		screenshot(dir, "login"),
		chromedp.SendKeys("#email", email),
		chromedp.SendKeys("#password", password),
		chromedp.Click("#signin"),
		chromedp.WaitVisible("#add-site"),

		chromedp.SendKeys("#site-name", "Trail notes"),
		chromedp.SendKeys("#site-url", wp.URL),
		chromedp.SendKeys("#site-user", wp.User),
		chromedp.SendKeys("#site-pass", wp.AppPassword),
		chromedp.Click("#site-review"),
		chromedp.Click("#add-site button[type=submit]"),
		poll(`document.querySelectorAll("#sites-table tbody a").length === 1`),
		chromedp.Click("#sites-table tbody button"),
		batchesDone(1),
		poll(`document.querySelector("#sites-table .badge").textContent === "healthy"`),
		screenshot(dir, "sites"),
		chromedp.Click("#sites-table tbody a"),

		chromedp.WaitVisible("#import"),
		chromedp.SetUploadFiles("#csv", []string{csv}),
		chromedp.Click("#import button[type=submit]"),
		poll(`(document.querySelector("#import-summary") || {}).textContent?.includes("imported 316")`),
		chromedp.Click("#cluster-btn"),
		batchesDone(1),
		poll(`document.querySelectorAll("#clusters-table .row-select").length >= 3`),
		// Rename the first cluster in place (its field starts with the old name).
		chromedp.Click("#clusters-table tbody tr:first-child .rename"),
		poll(`(document.querySelector("#clusters-table .rename-input").value = "", true)`),
		chromedp.SendKeys("#clusters-table .rename-input", "Renamed by the editor"),
		chromedp.Click("#clusters-table .rename-save"),
		poll(`document.querySelector("#clusters-table tbody tr:first-child").textContent.includes("Renamed by the editor")`),
		chromedp.Click("#clusters-table tbody tr:first-child .row-select"),
		chromedp.Click("#gen-ideas"),
		batchesDone(2),
		poll(`document.querySelectorAll("#ideas-table .row-select").length === 2`),
		chromedp.Click("#ideas-table .select-all"),
		chromedp.Click("#gen-drafts"),
		batchesDone(3),
		poll(`document.querySelectorAll("#drafts-table .row-select").length === 2`),
		screenshot(dir, "drafts"),

		chromedp.Click("#drafts-table .select-all"),
		chromedp.Click("#publish"),
		batchesDone(4),
		poll(`document.querySelectorAll('#drafts-table tr[data-status="awaiting_review"]').length === 2`),
		chromedp.Click("#drafts-table .select-all"),
		chromedp.Click("#approve"),
		batchesDone(5),
		poll(`document.querySelectorAll('#drafts-table tr[data-status="published"]').length === 2`),
		screenshot(dir, "published"),
		evaluate(`document.querySelectorAll('#drafts-table tr[data-status="published"] a[href^="http"]').length`, &published),
		// The bars moved on the event stream: the page never asked for a batch or a job to poll it.
		evaluate(`performance.getEntriesByType("resource").filter(r => /\/v1\/(batches|jobs)\//.test(r.name)).length`, &polls),

		chromedp.Click("#drafts-table tbody tr:first-child td:nth-child(2) a"),
		chromedp.WaitVisible("#edit-draft"),
		poll(`document.querySelector("#draft-status")?.textContent === "published" && document.querySelector("#preview").srcdoc.length > 100`),
		screenshot(dir, "draft"),

		chromedp.Navigate(h.URL+"/ui/credits"),
		poll(`document.querySelectorAll("#chart .bar").length >= 1 && document.querySelectorAll("#ledger-table tbody tr").length >= 3`),
		screenshot(dir, "credits"),
		chromedp.SetValue("#low-balance", "150"),
		chromedp.Click("#low-alert button[type=submit]"),
		poll(`document.querySelector("#messages").textContent.includes("below 150 credits")`),
		// Billing is off here (no Stripe keys): the page says so and shows the plan.
		chromedp.Navigate(h.URL+"/ui/billing"),
		poll(`document.querySelector("#plan-line").textContent.startsWith("Plan pro") && !document.querySelector("#billing-off").hidden`),
		screenshot(dir, "billing-off"),
		chromedp.Navigate(h.URL+"/ui/automation"),
		poll(`document.querySelectorAll("#defaults-site option").length === 1`),
		chromedp.Click("#defaults button[type=submit]"),
		poll(`document.querySelectorAll("#rules-table tbody input[type=checkbox]").length >= 1`),
		screenshot(dir, "automation"),
		chromedp.Navigate(h.URL+"/ui/people"),
		chromedp.WaitVisible("#invite"),
		chromedp.SendKeys("#invite-email", "writer@example.com"),
		chromedp.Click("#invite button[type=submit]"),
		chromedp.WaitVisible("#invite-link"),
		screenshot(dir, "people"),
	)
	if err != nil {
		t.Fatalf("browser: %v\npage: %s", err, pageText(t, ctx, dir))
	}

	// A failed job shows its reason, and Retry submits the work again.
	failedPublish(t, api)
	err = chromedp.Do(ctx,
		chromedp.Navigate(h.URL+"/ui/jobs"),
		poll(`[...document.querySelectorAll("#jobs-table tbody tr")].some(tr => tr.textContent.includes("post:publish") && tr.querySelector("button"))`),
		screenshot(dir, "jobs"),
		chromedp.Click("#jobs-table tbody tr:first-child button"),
		poll(`document.querySelector(".batch") && document.querySelector(".batch").dataset.state === "failed"`),
	)
	if err != nil {
		t.Fatalf("browser: %v\npage: %s", err, pageText(t, ctx, dir))
	}
	if published != 2 {
		t.Errorf("drafts table links %d published posts, want 2", published)
	}
	if polls != 0 {
		t.Errorf("the site page polled batches or jobs %d times; its progress bars should follow the event stream", polls)
	}
	var credits struct {
		LowBalanceAlert int64 `json:"low_balance_alert"`
	}
	apptest.Must(t, api.Do(t.Context(), http.MethodGet, "/v1/credits", nil, &credits), "read credits")
	if credits.LowBalanceAlert != 150 {
		t.Errorf("low balance alert after saving 150 on the credits page: %d", credits.LowBalanceAlert)
	}
	// The posts are in WordPress itself.
	var posts []map[string]any
	res, err := http.Get(wp.URL + "/index.php?rest_route=/wp/v2/posts&per_page=100")
	apptest.Must(t, err, "list posts")
	defer res.Body.Close()
	apptest.Must(t, decodeJSON(res, &posts), "decode posts")
	if len(posts) < 2 {
		t.Errorf("WordPress shows %d published posts, want at least 2", len(posts))
	}

	// At phone width the drafts page still works (no sideways page scroll).
	var overflow bool
	err = chromedp.Do(ctx,
		chromedp.EmulateViewport(390, 844),
		chromedp.Navigate(h.URL+"/ui/"),
		poll(`document.querySelectorAll("#sites-table tbody a").length === 1`),
		chromedp.Click("#sites-table tbody a"),
		chromedp.WaitVisible("#import"),
		poll(`document.querySelectorAll("#drafts-table .row-select").length === 2`),
		evaluate(`document.documentElement.scrollWidth > window.innerWidth + 1`, &overflow),
		screenshot(dir, "site-phone"),
	)
	if err != nil {
		t.Fatalf("browser at phone width: %v", err)
	}
	if overflow {
		t.Errorf("the site page scrolls sideways at 390 px")
	}
}

// pageText saves a screenshot of the page after a failure and returns its
// text, for the failure's message.
func pageText(t *testing.T, ctx context.Context, dir string) string {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	var text string
	if err := chromedp.Do(ctx, screenshot(dir, "failure"), evaluate(`document.body.innerText`, &text)); err != nil {
		return "(unreadable: " + err.Error() + ")"
	}
	return text
}

// failedPublish gives the first site a password WordPress refuses (and no
// review) and publishes one of its drafts again, which fails at once
// (401), and waits for the job to fail.
func failedPublish(t *testing.T, api *client.Client) {
	t.Helper()
	ctx := context.Background()
	var sites, drafts struct{ Items []struct{ ID int64 } }
	apptest.Must(t, api.Do(ctx, http.MethodGet, "/v1/sites", nil, &sites), "list sites")
	siteID := sites.Items[0].ID
	apptest.Must(t, api.Do(ctx, http.MethodPatch, fmt.Sprintf("/v1/sites/%d", siteID),
		map[string]any{"application_password": "aaaa bbbb cccc dddd eeee ffff", "require_review": false}, nil), "change password")
	apptest.Must(t, api.Do(ctx, http.MethodGet, fmt.Sprintf("/v1/drafts?site_id=%d", siteID), nil, &drafts), "list drafts")
	var acc struct{ Jobs []struct{ ID string } }
	apptest.Must(t, api.Do(ctx, http.MethodPost, "/v1/drafts/publish",
		map[string]any{"draft_ids": []int64{drafts.Items[0].ID}, "status": "publish"}, &acc), "publish")
	apptest.Eventually(t, 30*time.Second, "the publish fails", func() (bool, error) {
		var job struct{ State string }
		err := api.Do(ctx, http.MethodGet, "/v1/jobs/"+acc.Jobs[0].ID, nil, &job)
		return job.State == "failed", err
	})
}
