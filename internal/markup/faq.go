package markup

import (
	"encoding/json"
	"strings"

	"golang.org/x/net/html"
)

// QA is one question of a FAQ section and its answer, as plain text.
type QA struct {
	Question string
	Answer   string
}

// faqHeadings are what a FAQ section's <h2> says (lower case, in part).
var faqHeadings = []string{"faq", "frequently asked", "common questions", "questions and answers"}

// FAQ returns the questions and answers of a fragment's FAQ section: the
// first <h2> whose text names one ("FAQ", "Frequently asked questions",
// ...) or whose id is "faq", then each <h3> under it up to the next <h2> as
// a question, and the text between it and the next heading as its answer.
// Questions without an answer are left out; nil when there is no section.
func FAQ(body string) []QA {
	z := html.NewTokenizer(strings.NewReader(body))
	var (
		out             []QA
		inFAQ, inH2     bool
		h2Text          strings.Builder
		h2ID            string
		question, reply strings.Builder
		inQuestion      bool
	)
	flush := func() {
		q, a := CleanText(question.String()), CleanText(reply.String())
		if q != "" && a != "" {
			out = append(out, QA{Question: q, Answer: a})
		}
		question.Reset()
		reply.Reset()
	}
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			if inFAQ {
				flush()
			}
			return out
		}
		name, _ := z.TagName()
		level := headingLevel(name)
		switch {
		case tt == html.StartTagToken && level == 2:
			if inFAQ {
				flush()
				return out // the section ends at the next h2
			}
			inH2, h2ID = true, attr(z, "id")
			h2Text.Reset()
		case tt == html.EndTagToken && level == 2 && inH2:
			inH2 = false
			inFAQ = h2ID == "faq" || namesFAQ(h2Text.String())
		case inFAQ && tt == html.StartTagToken && level == 3:
			flush()
			inQuestion = true
		case inFAQ && tt == html.EndTagToken && level == 3:
			inQuestion = false
		case tt == html.TextToken && inH2:
			h2Text.Write(z.Text())
		case tt == html.TextToken && inFAQ && inQuestion:
			question.Write(z.Text())
		case tt == html.TextToken && inFAQ:
			reply.Write(z.Text())
			reply.WriteByte(' ')
		}
	}
}

// attr returns the current start tag's attribute key, or "". It must be
// called before anything else reads the tag's attributes.
func attr(z *html.Tokenizer, key string) string {
	for {
		k, v, more := z.TagAttr()
		if string(k) == key {
			return string(v)
		}
		if !more {
			return ""
		}
	}
}

func namesFAQ(heading string) bool {
	h := strings.ToLower(CleanText(heading))
	for _, f := range faqHeadings {
		if strings.Contains(h, f) {
			return true
		}
	}
	return false
}

// faqPage is schema.org's FAQPage as JSON-LD.
type faqPage struct {
	Context    string        `json:"@context"`
	Type       string        `json:"@type"`
	MainEntity []faqQuestion `json:"mainEntity"`
}

type faqQuestion struct {
	Type           string    `json:"@type"`
	Name           string    `json:"name"`
	AcceptedAnswer faqAnswer `json:"acceptedAnswer"`
}

type faqAnswer struct {
	Type string `json:"@type"`
	Text string `json:"text"`
}

// FAQSchema returns the FAQPage structured data of qas as a JSON-LD
// <script> element, "" when there are none. The JSON escapes <, > and &,
// so no text of a question can end the element.
func FAQSchema(qas []QA) string {
	if len(qas) == 0 {
		return ""
	}
	page := faqPage{Context: "https://schema.org", Type: "FAQPage", MainEntity: make([]faqQuestion, len(qas))}
	for i, qa := range qas {
		page.MainEntity[i] = faqQuestion{Type: "Question", Name: qa.Question,
			AcceptedAnswer: faqAnswer{Type: "Answer", Text: qa.Answer}}
	}
	data, err := json.Marshal(page) // cannot fail: strings only
	if err != nil {
		return ""
	}
	return `<script type="application/ld+json">` + string(data) + `</script>`
}

// FAQSchemaMarker is what shows that a saved body still holds the FAQ's
// structured data.
const FAQSchemaMarker = `"@type":"FAQPage"`
