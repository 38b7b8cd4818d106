package web_test

import (
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/presswork/presswork/internal/app/apptest"
)

// TestModelsInBrowser (#23): an operator tests a model on the Models page
// and reads the result in plain words, enables a model and routes a stage
// to it with the stage's select.
func TestModelsInBrowser(t *testing.T) {
	ctx := browser(t)
	h := apptest.Start(t)
	createUser(t, h, 0, "ops@example.com", "operator password", "operator")
	st := h.App.Store
	mini, err := st.FindModel(apptest.Context(t), "openai", "gpt-4o-mini", "chat")
	apptest.Must(t, err, "find gpt-4o-mini")
	row := fmt.Sprintf(`document.querySelector('#models-table tr[data-model="%d"]')`, mini.ID)

	var changed bool
	err = chromedp.Do(ctx,
		chromedp.Navigate(h.URL+"/ui/login"),
		chromedp.WaitVisible("#email"),
		chromedp.SendKeys("#email", "ops@example.com"),
		chromedp.SendKeys("#password", "operator password"),
		chromedp.Click("#signin"),
		chromedp.WaitVisible("#tenants-table"),
		chromedp.Navigate(h.URL+"/ui/models"),
		poll(`document.querySelector('#models-table tr[data-model="1"]') !== null`),
		chromedp.Click(`#models-table tr[data-model="1"] button.test`),
		poll(`document.querySelector('#models-table tr[data-model="1"] .test-result').textContent.includes("Works. offline/offline-writer-v1 works")`),
		chromedp.Click(fmt.Sprintf(`#models-table tr[data-model="%d"] button.test`, mini.ID)),
		poll(row+`.querySelector(".test-result").textContent.startsWith("Failed (key)")`),
		chromedp.Click(fmt.Sprintf(`#models-table tr[data-model="%d"] button.toggle`, mini.ID)),
		poll(row+`.textContent.includes("enabled") && `+row+`.querySelector("button.toggle").textContent === "Disable"`),
		poll(fmt.Sprintf(`document.querySelector('#route-draft option[value="%d"]') !== null`, mini.ID)),
		evaluate(fmt.Sprintf(`(s => { s.value = "%d"; s.dispatchEvent(new Event("change")); return true; })(document.querySelector("#route-draft"))`, mini.ID), &changed),
		poll(`document.querySelector("#messages").textContent.includes("The draft stage now uses openai/gpt-4o-mini.")`),
		screenshot(artifactsDir(t), "models"),
	)
	if err != nil {
		t.Fatalf("browser: %v\npage: %s", err, pageText(t, ctx, artifactsDir(t)))
	}
	rt, err := st.GetRoute(apptest.Context(t), "draft")
	apptest.Must(t, err, "draft route")
	if rt.ModelID != mini.ID {
		t.Errorf("draft route %+v, want model %d", rt, mini.ID)
	}
}
