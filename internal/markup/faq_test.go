package markup

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestFAQ(t *testing.T) {
	body := `<h2>Why it matters</h2><p>Intro text.</p><h3>Not a question</h3><p>Not an answer.</p>
<h2 id="frequently-asked-questions">Frequently Asked Questions</h2>
<h3>How often should I feed a sourdough starter?</h3><p>Once a day at room temperature,<br>once a week in the fridge.</p>
<h3>Why is my sourdough <em>dense</em>?</h3><p>Usually an under-proofed dough.</p><ul><li>Check the starter.</li></ul>
<h3>An empty one?</h3>
<h2>Conclusion</h2><h3>Later</h3><p>Not in the FAQ.</p>`
	want := []QA{
		{Question: "How often should I feed a sourdough starter?", Answer: "Once a day at room temperature, once a week in the fridge."},
		{Question: "Why is my sourdough dense?", Answer: "Usually an under-proofed dough. Check the starter."},
	}
	if diff := cmp.Diff(want, FAQ(body)); diff != "" {
		t.Errorf("FAQ (-want +got):\n%s", diff)
	}
	byID := `<h2 id="faq">Your questions</h2><h3>Q?</h3><p>A.</p>`
	if got := FAQ(byID); len(got) != 1 || got[0].Question != "Q?" {
		t.Errorf("FAQ of a section with id faq = %+v", got)
	}
	if got := FAQ(`<h2>Steps</h2><h3>One?</h3><p>Yes.</p>`); got != nil {
		t.Errorf("FAQ without a FAQ section = %+v, want nil", got)
	}
}

func TestFAQSchema(t *testing.T) {
	if FAQSchema(nil) != "" {
		t.Error("FAQSchema(nil) is not empty")
	}
	s := FAQSchema([]QA{{Question: "Is </script><script>alert(1)</script> safe?", Answer: "Yes & no"}})
	if !strings.HasPrefix(s, `<script type="application/ld+json">`) || !strings.HasSuffix(s, "</script>") {
		t.Fatalf("FAQSchema = %q, want one JSON-LD script element", s)
	}
	inner := strings.TrimSuffix(strings.TrimPrefix(s, `<script type="application/ld+json">`), "</script>")
	if strings.Contains(inner, "<") || strings.Contains(inner, ">") {
		t.Errorf("the JSON holds markup: %s", inner)
	}
	if !strings.Contains(inner, FAQSchemaMarker) {
		t.Errorf("the JSON lacks %s: %s", FAQSchemaMarker, inner)
	}
	var page struct {
		Type       string `json:"@type"`
		MainEntity []struct {
			Name           string `json:"name"`
			AcceptedAnswer struct {
				Text string `json:"text"`
			} `json:"acceptedAnswer"`
		} `json:"mainEntity"`
	}
	if err := json.Unmarshal([]byte(inner), &page); err != nil {
		t.Fatal(err)
	}
	if page.Type != "FAQPage" || len(page.MainEntity) != 1 || page.MainEntity[0].AcceptedAnswer.Text != "Yes & no" ||
		!strings.Contains(page.MainEntity[0].Name, "</script>") {
		t.Errorf("decoded %+v", page)
	}
}
