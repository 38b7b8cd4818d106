package offline

import (
	"fmt"
	"html"
	"strings"

	"github.com/presswork/presswork/internal/ai"
	"github.com/presswork/presswork/internal/markup"
)

// The sections a content profile adds to an offline draft. The offline
// writer writes English whatever the profile's language; it honours the
// word target and these sections, not the voice, audience, point of view
// or the words to avoid (README, "Content profile").
const (
	maxFAQ   = 5  // questions in a FAQ
	faqWords = 40 // about the words a FAQ question and its answer take
)

// keyTakeaways writes the key takeaways box: an <aside> with a labelled
// list of points drawn from the main sections.
func (w *draftWriter) keyTakeaways(h2s []string) {
	var points []string
	for _, h := range h2s {
		if len(points) == 4 {
			break
		}
		if ref := headingRef(h); ref != "" && !isConclusionHeading(h) {
			points = append(points, w.fill(w.choose(takeawayPoints), ref))
		}
	}
	if len(points) < 2 {
		points = append(points, w.fill(w.choose(takeawayPoints), w.kws[0]), w.pick(introClosers))
	}
	w.b.WriteString("<aside><p><strong>Key takeaways</strong></p><ul>")
	for _, p := range points {
		w.b.WriteString("<li>" + html.EscapeString(p) + "</li>")
		w.words += countWords(p)
	}
	w.b.WriteString("</ul></aside>\n")
	w.words += 2
}

// takeawayPoints are the key takeaways' sentences; {H} is a section's
// topic.
var takeawayPoints = []string{
	"Start with {H}: it shapes every other choice.",
	"Give {H} a few minutes of thought before you decide.",
	"{H} matters more than most beginners expect.",
	"Check {H} against your own situation, not a generic checklist.",
	"Small changes in {H} make a visible difference.",
}

// faqQuestions are the questions of the draft's FAQ when its profile asks
// for one: the cluster's question keywords, else questions made from the
// target keywords.
func faqQuestions(in ai.DraftInput, kws []string) []string {
	if !in.Profile.FAQ {
		return nil
	}
	var out []string
	seen := map[string]bool{}
	add := func(q string) {
		q = strings.TrimRight(markup.CleanText(q), "?!. ")
		if q == "" || seen[strings.ToLower(q)] || len(out) == maxFAQ {
			return
		}
		seen[strings.ToLower(q)] = true
		out = append(out, upperFirst(ai.FixCasing(cutWords(q, 110), nil))+"?")
	}
	for _, q := range in.FAQQuestions {
		add(q)
	}
	for _, k := range kws {
		if len(out) >= 3 {
			break
		}
		add("What should you know about " + k)
		add("Is " + k + " worth it")
	}
	return out
}

// faq writes the FAQ section: an <h2> and each question as an <h3> with a
// short answer.
func (w *draftWriter) faq(questions []string) {
	if len(questions) == 0 {
		return
	}
	w.b.WriteString("<h2>Frequently Asked Questions</h2>\n")
	w.words += 3
	for _, q := range questions {
		fmt.Fprintf(&w.b, "<h3>%s</h3>\n", html.EscapeString(q))
		w.words += countWords(q)
		w.paragraph("", append([]string{w.fill(w.choose(faqAnswers), q)}, w.sentences(2, bodySentences, "")...)...)
	}
}

// faqAnswers open the answer to a FAQ question; {k} is a target keyword.
var faqAnswers = []string{
	"The short answer: it depends on your goals, but a few principles about {k} hold in almost every case.",
	"Most readers find that the answer comes down to {k} and how much time they can give it.",
	"It is simpler than it looks: start with the basics of {k} and adjust from there.",
	"Usually, yes, as long as you keep {k} in proportion to what you really need.",
}
