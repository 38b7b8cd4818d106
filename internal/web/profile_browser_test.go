package web_test

import (
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/google/go-cmp/cmp"

	"github.com/presswork/presswork/internal/ai"
	"github.com/presswork/presswork/internal/app/apptest"
)

// TestProfileInBrowser: an owner sets the tenant's defaults on the
// account page and a site's own profile on its page; what is saved is what
// the worker reads, and a refused field is named on the page.
func TestProfileInBrowser(t *testing.T) {
	ctx := browser(t)
	h := apptest.Start(t)
	tk, _ := h.Tenant(t, "profile-ui", 10)
	seed := apptest.SeedIdeas(t, h.App.Store, tk.Tenant.ID, 1, "profile")
	email, password := "owner@example.com", "owner password 1"
	createUser(t, h, tk.Tenant.ID, email, password, "owner")

	err := chromedp.Do(ctx,
		signInBrowser(h.URL, email, password),
		chromedp.Navigate(h.URL+"/ui/account"),
		poll(`document.querySelector("#profile-effective").textContent.includes("language of the keywords")`),
		chromedp.SendKeys("#profile-voice", "Calm and exact."),
		chromedp.SetValue("#profile-faq", "true"),
		chromedp.Click("#profile-save"),
		poll(`document.querySelector("#messages").textContent.includes("Profile saved.")`),
		poll(`document.querySelector("#profile-effective").textContent.includes("voice “Calm and exact.”")`),

		chromedp.Navigate(fmt.Sprintf("%s/ui/sites/%d", h.URL, seed.Site.ID)),
		poll(`document.querySelector("#profile-effective").textContent.includes("voice “Calm and exact.”")`),
		chromedp.SendKeys("#profile-language", "klingon language"),
		chromedp.Click("#profile-save"),
		poll(`document.querySelector("#messages").textContent.includes("language must be a BCP 47 language tag")`),
		chromedp.SetValue("#profile-language", "de-at"),
		chromedp.SendKeys("#profile-words-guide", "1500"),
		chromedp.SendKeys("#profile-avoid", "cheap\nguaranteed"),
		chromedp.SetValue("#profile-table_of_contents", "true"),
		chromedp.Click("#profile-save"),
		poll(`document.querySelector("#messages").textContent.includes("Profile saved.")`),
		poll(`document.querySelector("#profile-language").value === "de-AT"`),
		poll(`(t => t.includes("language de-AT") && t.includes("guide 1500") && t.includes("faq, table of contents") &&
			t.includes("avoid cheap, guaranteed"))(document.querySelector("#profile-effective").textContent)`),
	)
	if err != nil {
		t.Fatalf("browser: %v\npage: %s", err, pageText(t, ctx, artifactsDir(t)))
	}
	docs, err := h.App.Store.ContentProfiles(apptest.Context(t), tk.Tenant.ID, seed.Site.ID)
	apptest.Must(t, err, "content profiles")
	got, err := ai.ProfileOf(docs.Site, docs.Tenant)
	apptest.Must(t, err, "profile")
	want := ai.Profile{Language: "de-AT", Voice: "Calm and exact.", Avoid: []string{"cheap", "guaranteed"},
		WordTargets: map[string]int{"guide": 1500}, FAQ: true, TableOfContents: true}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("the profile saved from the pages (-want +got):\n%s", diff)
	}
}
