package web_test

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/presswork/presswork/internal/app/apptest"
	"github.com/presswork/presswork/internal/store"
	"github.com/presswork/presswork/internal/tasks"
)

// TestBatchModeInBrowser (#23): an owner sets the bulk default of batch
// mode on the credits page, and asks for drafts in batch mode on a site's
// page, and ideas in batch mode for a cluster: the jobs wait batched,
// quoted at half the ordinary cost.
func TestBatchModeInBrowser(t *testing.T) {
	ctx := browser(t)
	h := apptest.Start(t)
	// Leave the site page (its event stream) before the server closes.
	t.Cleanup(func() { _ = chromedp.Do(ctx, chromedp.Navigate("about:blank")) })
	tk, _ := h.Tenant(t, "batch-ui", 100)
	seed := apptest.SeedIdeas(t, h.App.Store, tk.Tenant.ID, 2, "batchui")
	email, password := "owner@example.com", "owner password 1"
	createUser(t, h, tk.Tenant.ID, email, password, "owner")

	err := chromedp.Do(ctx,
		signInBrowser(h.URL, email, password),
		chromedp.Navigate(h.URL+"/ui/credits"),
		// The ledger comes last: the forms listen by then.
		poll(`document.querySelectorAll("#ledger-table tbody tr").length >= 1`),
		chromedp.SetValue("#batch-min-items", "25"),
		chromedp.Click("#batch-default button[type=submit]"),
		poll(`document.querySelector("#messages").textContent.includes("Bulks of 25 drafts or more go to batch mode.")`),

		chromedp.Navigate(fmt.Sprintf("%s/ui/sites/%d", h.URL, seed.Site.ID)),
		selectAllRows("ideas-table", 2),
		chromedp.SetValue("#draft-mode", "batch"),
		chromedp.Click("#gen-drafts"),
		poll(`[...document.querySelectorAll(".batch strong")].some(s => s.textContent.includes("Drafts for 2 idea(s) in batch mode"))`),

		// Ideas too: the cluster's, two of them, in batch mode.
		selectAllRows("clusters-table", 1),
		chromedp.SetValue("#idea-count", "2"),
		chromedp.SetValue("#idea-mode", "batch"),
		chromedp.Click("#gen-ideas"),
		poll(`[...document.querySelectorAll(".batch strong")].some(s => s.textContent.includes("Ideas for 1 cluster(s) in batch mode"))`),
	)
	if err != nil {
		t.Fatalf("browser: %v\npage: %s", err, pageText(t, ctx, artifactsDir(t)))
	}
	ctxDB := apptest.Context(t)
	n, err := h.App.Store.BatchMinItems(ctxDB, tk.Tenant.ID)
	if err != nil || n == nil || *n != 25 {
		t.Errorf("batch_min_items saved from the credits page: %v (%v), want 25", n, err)
	}
	jobs, err := h.App.Store.ListJobs(ctxDB, tk.Tenant.ID, store.JobFilter{Type: tasks.TypeDraft}, "", 10)
	apptest.Must(t, err, "list draft jobs")
	if len(jobs) != 2 {
		t.Fatalf("%d draft jobs, want 2", len(jobs))
	}
	for _, j := range jobs {
		if want := (h.App.Config.Costs.Draft + 1) / 2; j.State != store.JobBatched || j.CreditsQuoted != want {
			t.Errorf("job %s: %s, quoted %d; want batched at %d", j.ID, j.State, j.CreditsQuoted, want)
		}
	}
	ideas, err := h.App.Store.ListJobs(ctxDB, tk.Tenant.ID, store.JobFilter{Type: tasks.TypeIdeas}, "", 10)
	apptest.Must(t, err, "list ideas jobs")
	// Newest first: the page's, then the one that wrote the seeded ideas.
	if len(ideas) != 2 || ideas[1].CreditsQuoted != 0 {
		t.Fatalf("%d ideas jobs, want the seed's (free) and the page's", len(ideas))
	}
	if want := (2*h.App.Config.Costs.Idea + 1) / 2; ideas[0].State != store.JobBatched || ideas[0].CreditsQuoted != want {
		t.Errorf("ideas job %s: %s, quoted %d; want batched at %d", ideas[0].ID, ideas[0].State, ideas[0].CreditsQuoted, want)
	}
	var params tasks.IdeasParams
	if err := json.Unmarshal(ideas[0].Params, &params); err != nil || params.Count != 2 {
		t.Errorf("ideas job params %s (%v), want a count of 2", ideas[0].Params, err)
	}
}

// TestImagesBatchModeInBrowser (#23): an owner asks for a draft's images
// with their prompts in batch mode on the site's page: the job waits
// batched, quoted as ordinary images.
func TestImagesBatchModeInBrowser(t *testing.T) {
	ctx := browser(t)
	h := apptest.Start(t)
	t.Cleanup(func() { _ = chromedp.Do(ctx, chromedp.Navigate("about:blank")) })
	tk, _ := h.Tenant(t, "batch-images-ui", 100)
	seed := apptest.SeedIdeas(t, h.App.Store, tk.Tenant.ID, 1, "batchimagesui")
	ctxDB := apptest.Context(t)
	job := apptest.FreeJob(t, h.App.Store, tk.Tenant.ID, tasks.TypeDraft, seed.Site.ID, seed.Ideas[0].ID)
	apptest.Must(t, h.App.Store.SaveDraft(ctxDB, store.Outcome{TenantID: tk.Tenant.ID, JobID: job}, seed.Ideas[0],
		store.Draft{Title: seed.Ideas[0].Title, Slug: "batch-images-ui", BodyHTML: "<h2>One</h2><p>Two words</p>", WordCount: 2}),
		"save draft")
	email, password := "owner@example.com", "owner password 1"
	createUser(t, h, tk.Tenant.ID, email, password, "owner")

	err := chromedp.Do(ctx,
		signInBrowser(h.URL, email, password),
		chromedp.Navigate(fmt.Sprintf("%s/ui/sites/%d", h.URL, seed.Site.ID)),
		selectAllRows("drafts-table", 1),
		chromedp.SetValue("#image-mode", "batch"),
		chromedp.Click("#gen-images"),
		poll(`[...document.querySelectorAll(".batch strong")].some(s => s.textContent.includes("Images 1 draft(s) in batch mode"))`),
	)
	if err != nil {
		t.Fatalf("browser: %v\npage: %s", err, pageText(t, ctx, artifactsDir(t)))
	}
	jobs, err := h.App.Store.ListJobs(ctxDB, tk.Tenant.ID, store.JobFilter{Type: tasks.TypeImage}, "", 10)
	apptest.Must(t, err, "list images jobs")
	want := int64(1+seed.Site.InlineImages) * h.App.Config.Costs.Image
	if len(jobs) != 1 || jobs[0].State != store.JobBatched || jobs[0].CreditsQuoted != want {
		t.Fatalf("images jobs %+v, want one batched, quoted %d", jobs, want)
	}
}

// selectAllRows selects the n rows of a table of the site page with its
// "select all" box once the page has loaded (its site's summary shown), and
// selects them again until they stay selected: a click that lands while
// the page is still laying itself out, or a table filled again after it,
// would leave them unselected.
func selectAllRows(table string, n int) chromedp.Action[chromedp.Void] {
	return poll(fmt.Sprintf(`(() => {
		if (!document.querySelector("#site-summary").textContent.includes("health")) return false;
		const rows = [...document.querySelectorAll("#%[1]s tbody .row-select")];
		if (rows.length !== %[2]d) return false;
		if (!rows.every(r => r.checked)) {
			const all = document.querySelector("#%[1]s .select-all");
			all.checked = false;
			all.click();
		}
		return rows.every(r => r.checked);
	})()`, table, n))
}
