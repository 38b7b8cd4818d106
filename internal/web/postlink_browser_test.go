package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"testing"

	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/chromedp"

	"github.com/presswork/presswork/internal/app/apptest"
)

// serveDrafts answers the page's /v1/drafts requests with drafts, as an
// API that still held a hostile link would; other requests go through.
func serveDrafts(t *testing.T, ctx context.Context, drafts ...map[string]any) {
	t.Helper()
	paused := make(chan *fetch.EventRequestPaused, 64)
	apptest.Must(t, chromedp.Listen(ctx, func(ev any) {
		if e, ok := ev.(*fetch.EventRequestPaused); ok {
			paused <- e
		}
	}), "listen")
	answers := map[string]any{"/v1/drafts": map[string]any{"items": drafts}}
	for _, d := range drafts {
		answers[fmt.Sprint("/v1/drafts/", d["id"])] = d
		answers[fmt.Sprint("/v1/drafts/", d["id"], "/images")] = map[string]any{"items": []any{}}
	}
	byPath := map[string][]byte{}
	for path, a := range answers {
		b, err := json.Marshal(a)
		apptest.Must(t, err, "encode ", path)
		byPath[path] = b
	}
	go func() {
		for {
			var e *fetch.EventRequestPaused
			select {
			case e = <-paused:
			case <-ctx.Done():
				return
			}
			u, err := url.Parse(e.Request.URL)
			body, ok := byPath[u.Path]
			if err != nil || !ok {
				_, _ = chromedp.Call(ctx, fetch.ContinueRequest, fetch.ContinueRequestParams{RequestID: e.RequestID})
				continue
			}
			_, _ = chromedp.Call(ctx, fetch.FulfillRequest, fetch.FulfillRequestParams{RequestID: e.RequestID, ResponseCode: 200,
				ResponseHeaders: []*fetch.HeaderEntry{{Name: "Content-Type", Value: "application/json"}}, Body: body})
		}
	}()
	_, err := chromedp.Call(ctx, fetch.Enable, fetch.EnableParams{Patterns: []*fetch.RequestPattern{{URLPattern: "*/v1/drafts*"}}})
	apptest.Must(t, err, "enable request interception")
}

// badLinks lists the page's links that are not http(s).
const badLinks = `[...document.querySelectorAll("a[href]")].filter(a => !/^https?:$/.test(new URL(a.href).protocol)).map(a => a.getAttribute("href"))`

// TestPostLinksInBrowser: a post link that is not http(s) is never made
// an href, on the draft page or in a site's drafts table, whatever the API
// answers; an https link is.
func TestPostLinksInBrowser(t *testing.T) {
	ctx := browser(t)
	h := apptest.Start(t)
	tk, _ := h.Tenant(t, "links", 10)
	email, password := "owner@example.com", "owner password 1"
	createUser(t, h, tk.Tenant.ID, email, password, "owner")
	draft := func(id int64, link string) map[string]any {
		return map[string]any{"id": id, "site_id": 1, "idea_id": id, "title": "Post " + link, "slug": "post", "status": "published",
			"word_count": 2, "body_html": "<p>Two words</p>", "categories": []string{}, "tags": []string{}, "wp_link": link}
	}
	hostile := []string{"javascript:document.title='pwned'", " JavaScript:alert(1)", "data:text/html,<script>alert(1)</script>", "vbscript:msgbox(1)"}
	good := "https://blog.example.com/post/"
	drafts := []map[string]any{draft(1, hostile[0]), draft(2, good)}
	for i, link := range hostile[1:] {
		drafts = append(drafts, draft(int64(3+i), link))
	}
	serveDrafts(t, ctx, drafts...)

	var draftBad, listBad, listGood []string
	var draftShown bool
	var checks []bool
	err := chromedp.Do(ctx,
		signInBrowser(h.URL, email, password),

		chromedp.Navigate(h.URL+"/ui/drafts/1"),
		poll(`document.querySelector("#draft-status")?.textContent === "published"`),
		evaluate(badLinks, &draftBad),
		evaluate(`document.querySelector("#draft-summary").textContent.includes("view the post")`, &draftShown),

		chromedp.Navigate(h.URL+"/ui/sites/1"),
		poll(`document.querySelectorAll('#drafts-table tr[data-status="published"]').length === `+fmt.Sprint(len(drafts))),
		evaluate(badLinks, &listBad),
		evaluate(`[...document.querySelectorAll("#drafts-table a[href^='http']")].map(a => a.getAttribute("href"))`, &listGood),
	)
	if err != nil {
		t.Fatalf("browser: %v\npage: %s", err, pageText(t, ctx, artifactsDir(t)))
	}
	if len(draftBad) != 0 || draftShown {
		t.Errorf("draft page with link %q: links %q, \"view the post\" shown %v; want no link", hostile[0], draftBad, draftShown)
	}
	if len(listBad) != 0 {
		t.Errorf("drafts table links %q, want only http(s) links", listBad)
	}
	if !slices.Equal(listGood, []string{good}) {
		t.Errorf("drafts table http(s) post links %q, want [%q]", listGood, good)
	}

	err = chromedp.Do(ctx,
		// The guard itself: only http(s) addresses pass, relative ones only
		// against a base.
		evaluate(`[webLink("javascript:alert(1)") === null, webLink(" javascript:alert(1)") === null,
			webLink("data:text/html,x") === null, webLink("/ui/") === null, webLink("//evil.example/x") === null,
			webLink(null) === null, webLink("https://blog.example.com/p") === "https://blog.example.com/p",
			webLink("/ui/", location.href) === location.origin + "/ui/",
			el("a", { href: "javascript:alert(1)" }).hasAttribute("href") === false,
			el("img", { src: "data:image/svg+xml,<svg/>" }).hasAttribute("src") === false,
			el("a", { href: "/ui/sites/1" }).getAttribute("href") === "/ui/sites/1"]`, &checks),
	)
	if err != nil {
		t.Fatalf("link guard: %v", err)
	}
	for i, ok := range checks {
		if !ok {
			t.Errorf("link guard check %d failed", i)
		}
	}
}
