package web_test

import (
	"crypto/sha256"
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/presswork/presswork/internal/app/apptest"
	"github.com/presswork/presswork/internal/store"
	"github.com/presswork/presswork/internal/tasks"
)

// TestSitePageSectionsInBrowser: the site page lists its keywords with
// their cluster; its tables show 50 rows a
// page with a pager (the filter searching every row, and starting again
// from the first page), and its sections list the pages drafts link to
// and the ideas refused as duplicates, with the reason.
func TestSitePageSectionsInBrowser(t *testing.T) {
	ctx := browser(t)
	h := apptest.Start(t)
	tk, _ := h.Tenant(t, "sections-ui", 10)
	tid := tk.Tenant.ID
	email, password := "owner@example.com", "owner password 1"
	createUser(t, h, tid, email, password, "owner")
	st := h.App.Store
	seed := apptest.SeedIdeas(t, st, tid, 60, "paged")
	title := "Grinder settings"
	sum := sha256.Sum256([]byte(title))
	_, err := st.ReplaceLinks(apptest.Context(t), tid, seed.Site.ID, time.Now(), []store.NewLink{
		{WPID: 9, Kind: "page", URL: "https://seed.example.com/grinder-settings/", Title: title, TitleHash: sum[:]}})
	apptest.Must(t, err, "store the inventory")
	job := apptest.FreeJob(t, st, tid, tasks.TypeIdeas, seed.Site.ID, seed.Cluster.ID)
	apptest.Must(t, st.SaveIdeasRefusing(apptest.Context(t), store.Outcome{TenantID: tid, JobID: job}, seed.Cluster, nil,
		[]store.RefusedIdea{{NewIdea: store.NewIdea{Title: "Choosing Espresso Grinders", ContentType: "guide",
			TargetKeywords: []string{"espresso grinders"}, Outline: []store.Heading{}}, Reason: "same_primary_keyword",
			ConflictsWith: seed.Ideas[0].ID, ConflictingTitle: seed.Ideas[0].Title}}), "save a refused idea")

	visible := func(table string, n int) chromedp.Action[chromedp.Void] {
		return poll(fmt.Sprintf(`document.querySelectorAll("#%s tbody tr:not([hidden])").length === %d`, table, n))
	}
	pagerSays := func(table, text string) chromedp.Action[chromedp.Void] {
		return poll(fmt.Sprintf(`(document.querySelector('.pager[data-table=%q]:not([hidden])')?.textContent || "").includes(%q)`, table, text))
	}
	err = chromedp.Do(ctx,
		signInBrowser(h.URL, email, password),
		chromedp.Navigate(fmt.Sprintf("%s/ui/sites/%d", h.URL, seed.Site.ID)),
		visible("keywords-table", 4),
		poll(`[...document.querySelectorAll("#keywords-table tr")].some(tr => tr.textContent.includes("best espresso grinder") &&
			tr.textContent.includes("800") && tr.textContent.includes("Espresso grinders"))`),
		visible("ideas-table", 50),
		pagerSays("ideas-table", "Page 1 of 2 (60 rows)"),
		chromedp.Click(`.pager[data-table="ideas-table"] .page-next`),
		visible("ideas-table", 10),
		pagerSays("ideas-table", "Page 2 of 2"),
		// The filter searches every row and starts from the first page.
		chromedp.SendKeys("#idea-filter", "idea 5"),
		poll(`[...document.querySelectorAll("#ideas-table tbody tr:not([hidden])")].length === 11`),
		poll(`document.querySelector('.pager[data-table="ideas-table"]').hidden`),
		poll(`document.querySelector("#links-table").textContent.includes("Grinder settings") &&
			document.querySelector("#links-table").textContent.includes("WordPress")`),
		poll(`(t => t.includes("Choosing Espresso Grinders") && t.includes("the same primary keyword") &&
			t.includes("paged idea 0"))(document.querySelector("#conflicts-table").textContent)`),
		poll(`[...document.querySelectorAll("nav.sections a")].some(a => a.getAttribute("href") === "#conflicts-h")`),
		screenshot(artifactsDir(t), "site-sections"),
	)
	if err != nil {
		t.Fatal(err)
	}
}
