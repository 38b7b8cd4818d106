package e2e_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/presswork/presswork/internal/app/apptest"
	"github.com/presswork/presswork/internal/store"
	"github.com/presswork/presswork/internal/testenv"
)

// faqBody is a draft body with a FAQ section of two questions.
const faqBody = `<p>Trail shoes grip where road shoes slip.</p>
<h2>How to choose</h2><p>Fit first, then grip, then weight.</p>
<h2>Frequently Asked Questions</h2>
<h3>Can I wear trail running shoes on the road?</h3><p>Yes, for short stretches; the lugs wear faster on asphalt.</p>
<h3>How long do trail running shoes last?</h3><p>About 500 to 800 km, depending on the terrain and your weight.</p>`

// TestPublishFAQ publishes a draft with a FAQ to a real WordPress that
// keeps scripts and to one that removes them (DISALLOW_UNFILTERED_HTML):
// the first post carries the FAQPage JSON-LD, the second keeps its visible
// FAQ without the JSON showing as text, and its publish report says why
// the structured data is missing.
func TestPublishFAQ(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name      string
		opts      testenv.WPOptions
		schema    string
		hasScript bool
	}{
		{name: "scripts allowed", schema: "kept", hasScript: true},
		{name: "scripts removed", opts: testenv.WPOptions{NoScripts: true}, schema: "stripped"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			wp := testenv.WordPress(t, tc.opts)
			h := apptest.Start(t)
			h.StartWorker(t)
			r := startPublishRun(t, h, "faq", wp, 1, nil)
			id := r.drafts[0].ID
			r.api.do(http.MethodPatch, fmt.Sprintf("/v1/drafts/%d", id), map[string]any{"body_html": faqBody}, nil)
			var acc apptest.Accepted
			r.api.do(http.MethodPost, "/v1/drafts/publish", map[string]any{"draft_ids": []int64{id}}, &acc)
			j := r.api.waitJob(acc.Jobs[0].ID)
			if j.State != store.JobSucceeded {
				t.Fatalf("publish job %s: %s", j.State, apptest.Deref(j.LastError))
			}
			var result struct {
				Report struct {
					FAQ *struct {
						Questions int    `json:"questions"`
						Schema    string `json:"schema"`
						Note      string `json:"note"`
					} `json:"faq"`
				} `json:"report"`
			}
			apptest.Must(t, json.Unmarshal(j.Result, &result), "job result")
			faq := result.Report.FAQ
			if faq == nil || faq.Questions != 2 || faq.Schema != tc.schema {
				t.Fatalf("publish report's faq %+v (result %s), want 2 questions, schema %s", faq, j.Result, tc.schema)
			}
			if !tc.hasScript && !strings.Contains(faq.Note, "unfiltered_html") {
				t.Errorf("the note %q does not say why the structured data is missing", faq.Note)
			}
			posts := postsOfDraft(wpPosts(t, wp), id)
			if len(posts) != 1 {
				t.Fatalf("%d posts of the draft, want 1", len(posts))
			}
			content := posts[0].Content.Raw
			for _, q := range []string{"Can I wear trail running shoes on the road?", "How long do trail running shoes last?"} {
				if !strings.Contains(content, q) {
					t.Errorf("the post lacks the visible question %q", q)
				}
			}
			gotScript := strings.Contains(content, `<script type="application/ld+json">`) && strings.Contains(content, `"@type":"FAQPage"`)
			if gotScript != tc.hasScript {
				t.Errorf("JSON-LD in the post: %v, want %v; content:\n%s", gotScript, tc.hasScript, content)
			}
			if !tc.hasScript && strings.Contains(content, "FAQPage") {
				t.Errorf("the removed script left its JSON as text in the post:\n%s", content)
			}
		})
	}
}
