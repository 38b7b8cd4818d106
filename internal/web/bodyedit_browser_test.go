package web_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/presswork/presswork/internal/app/apptest"
	"github.com/presswork/presswork/internal/store"
	"github.com/presswork/presswork/internal/tasks"
)

// editedBody is what the editor types: two links to the site (one
// relative), one to another site, a FAQ of two questions, and a script
// that saving must remove.
const editedBody = `<h2>Choosing a grinder</h2><p>Read our <a href="/burr-grinders/">burr grinder guide</a> and the
<a href="https://seed.example.com/espresso-basics/">espresso basics</a> first; the
<a href="https://example.org/study">study</a> measured it. An espresso grinder matters.</p><script>alert(1)</script>
<h2>Frequently Asked Questions</h2><h3>Is a hand grinder enough?</h3><p>For one or two cups a day, yes.</p>
<h3>How fine for espresso?</h3><p>Like table salt.</p>`

// TestDraftBodyEditorInBrowser edits a draft's body on its page: the
// preview follows the typing, the checks beside it count the links to the
// site and to others and the FAQ's questions, and saving stores the body
// sanitized as publishing does (the script gone, the FAQ kept).
func TestDraftBodyEditorInBrowser(t *testing.T) {
	ctx := browser(t)
	h := apptest.Start(t)
	tk, _ := h.Tenant(t, "body-ui", 10)
	tid := tk.Tenant.ID
	email, password := "owner@example.com", "owner password 1"
	createUser(t, h, tid, email, password, "owner")
	st := h.App.Store
	seed := apptest.SeedIdeas(t, st, tid, 1, "body")
	idea := seed.Ideas[0]
	apptest.Must(t, st.SaveDraft(apptest.Context(t), store.Outcome{TenantID: tid,
		JobID: apptest.FreeJob(t, st, tid, tasks.TypeDraft, idea.SiteID, idea.ID)}, idea,
		store.Draft{Title: idea.Title, Slug: "body-draft", BodyHTML: "<p>Two words</p>", WordCount: 2, FocusKeyword: "espresso grinder"}), "save draft")
	apptest.Must(t, st.SetSiteContentProfile(apptest.Context(t), tid, idea.SiteID, []byte(`{"faq":true,"word_targets":{"guide":600}}`)),
		"site profile")
	drafts, err := st.ListDrafts(apptest.Context(t), tid, idea.SiteID, store.Page{Limit: 10})
	apptest.Must(t, err, "list drafts")
	id := drafts[0].ID

	check := func(name, text string) chromedp.Action[chromedp.Void] {
		return poll(fmt.Sprintf(`(document.querySelector('#body-checks [data-check=%q]')?.textContent || "").includes(%q)`, name, text))
	}
	var dispatched bool
	step := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			_ = chromedp.Do(ctx, screenshot(artifactsDir(t), "draft-body-editor-failed"))
			t.Fatalf("%s: %v", what, err)
		}
	}
	step("sign in", signInBrowser(h.URL, email, password))
	step("open the draft",
		chromedp.Navigate(fmt.Sprintf("%s/ui/drafts/%d", h.URL, id)))
	step("see the body",
		poll(`document.querySelector("#f-body_html").value === "<p>Two words</p>"`),
		check("faq", "no FAQ section (the profile asks for one)"),
		check("words", "the profile aims at 600 for a guide, 420 to 780"),
		check("internal-links", "0 links to this site"))
	step("type a body",
		chromedp.SetValue("#f-body_html", editedBody),
		evaluate(`document.querySelector("#f-body_html").dispatchEvent(new Event("input"))`, &dispatched),
		poll(`document.querySelector("#preview").srcdoc.includes("Is a hand grinder enough?")`),
		check("internal-links", "2 links to this site"),
		check("external-links", "1 links to other sites"),
		check("faq", "FAQ with 2 question(s)"),
		check("focus", "the focus keyword appears"))
	step("save it",
		chromedp.Click(`#edit-body button[type="submit"]`),
		poll(`document.querySelector("#messages").textContent.includes("Saved the body")`),
		poll(`document.querySelector("#messages").textContent.includes("sanitized")`),
		poll(`!document.querySelector("#f-body_html").value.includes("<script")`),
		screenshot(artifactsDir(t), "draft-body-editor"))
	d, err := st.GetDraft(apptest.Context(t), tid, id)
	apptest.Must(t, err, "get draft")
	if strings.Contains(d.BodyHTML, "<script") || strings.Contains(d.BodyHTML, "alert(1)") {
		t.Errorf("the saved body keeps the script: %s", d.BodyHTML)
	}
	for _, want := range []string{"Is a hand grinder enough?", `href="/burr-grinders/"`, "Frequently Asked Questions"} {
		if !strings.Contains(d.BodyHTML, want) {
			t.Errorf("the saved body lacks %q: %s", want, d.BodyHTML)
		}
	}
	if d.WordCount < 40 || !slices.Contains([]string{"espresso grinder"}, d.FocusKeyword) {
		t.Errorf("saved draft: %d words, focus %q", d.WordCount, d.FocusKeyword)
	}
}
