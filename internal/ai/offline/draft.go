package offline

import (
	"fmt"
	"html"
	"math/rand/v2"
	"strings"

	"github.com/presswork/presswork/internal/ai"
	"github.com/presswork/presswork/internal/markup"
)

// writeDraft writes the article for in, trying up to draftMaxAttempts word
// targets until its length is within the band of the profile's word target
// or, without one, within draftMinWords and draftMaxWords.
func writeDraft(in ai.DraftInput) ai.Draft {
	// Try a few word targets until the article lands in the length range:
	// the profile's target and band, else draftMinWords to draftMaxWords.
	lo, hi, profiled := in.WordRange()
	if !profiled {
		lo, hi = draftMinWords, draftMaxWords
	}
	target := 0
	var d ai.Draft
	for attempt := 0; attempt < draftMaxAttempts; attempt++ {
		rng := newRand(struct {
			In      ai.DraftInput
			Attempt int
		}{in, attempt})
		if attempt == 0 {
			target = 750 + rng.IntN(300)
			if profiled {
				target = in.WordTarget()
			}
		}
		d = (&draftWriter{rng: rng}).write(in, target)
		d.BodyHTML = withInternalLinks(d.BodyHTML, in.InternalLinks)
		n := markup.WordCount(d.BodyHTML)
		switch {
		case n < lo:
			target = target * 3 / 2
		case n > hi:
			target = target * 2 / 3
		default:
			return d
		}
	}
	return d
}

// draftWriter writes one article body and counts its words.
type draftWriter struct {
	rng   *rand.Rand
	b     strings.Builder
	words int
	kws   []string // short forms of the target keywords, for sentences
	kwi   int
	noun  string
	used  map[string]bool
}

// contentNoun is the word the article uses for itself (guide, list, ...).
func contentNoun(ctype string) string {
	switch ctype {
	case "guide", "how_to":
		return "guide"
	case "listicle":
		return "list"
	case "comparison":
		return "comparison"
	case "review":
		return "review"
	}
	return "article"
}

// write writes the draft for in aiming at target words: the introduction,
// the outline's sections, the conclusion and the metadata.
func (w *draftWriter) write(in ai.DraftInput, target int) ai.Draft {
	w.used = map[string]bool{}
	kws := cleanPhrases(in.TargetKeywords)
	focus := ""
	if len(kws) > 0 {
		focus = kws[0]
	}
	if focus == "" {
		focus = strings.ToLower(cutWords(markup.CleanText(in.ClusterName), maxKeywordRunes))
	}
	if focus == "" {
		focus = strings.ToLower(cutWords(coreTopic(markup.CleanText(in.Title)), maxKeywordRunes))
	}
	if focus == "" {
		focus = "this topic"
	}
	if len(kws) == 0 {
		kws = []string{focus}
	}
	seen := map[string]bool{}
	for _, k := range kws {
		k = ai.FixCasing(shortKeyword(nounForm(k)), nil) // "ev charger" reads "EV charger"
		if !seen[strings.ToLower(k)] {
			seen[strings.ToLower(k)] = true
			w.kws = append(w.kws, k)
		}
	}
	w.noun = contentNoun(in.ContentType)

	title := markup.CleanText(in.Title)
	if title == "" {
		title = titleCase(cutWords(focus, 100))
	}
	title = fitTitle(title)

	// Headings as written: level 2 or 3 and the cleaned text.
	type section struct {
		level int
		text  string
	}
	sections := make([]section, len(in.Outline))
	for i, h := range in.Outline {
		level := h.Level
		if level != 3 {
			level = 2
		}
		sections[i] = section{level: level, text: markup.CleanText(h.Text)}
	}
	var h2s, h3s []string
	for _, s := range sections {
		if s.level == 2 {
			h2s = append(h2s, s.text)
		} else {
			h3s = append(h3s, s.text)
		}
	}

	// Introduction: the first sentence names the focus keyword in full.
	openers := introOpeners
	if detectType(focus) == "how_to" {
		openers = openers[:3] // the ones that read well with "how to ..."
	}
	parts := strings.SplitN(w.choose(openers), "{F}", 2)
	focusText := ai.FixCasing(focus, nil)
	if parts[0] == "" {
		focusText = upperFirst(focusText)
	}
	intro := html.EscapeString(parts[0]) + "<strong>" + html.EscapeString(focusText) + "</strong>"
	if len(parts) == 2 {
		intro += html.EscapeString(parts[1])
	}
	w.words += countWords(strings.Join(parts, focus))
	w.paragraph(intro, w.sentences(2+w.rng.IntN(2), bodySentences, "")...)
	switch {
	case len(h2s) >= 2 && runeLen(h2s[0]) <= 70 && runeLen(h2s[len(h2s)-1]) <= 70:
		w.paragraph("", fmt.Sprintf("This %s is organised in %d main sections, starting with “%s” and ending with “%s”.",
			w.noun, len(h2s), h2s[0], h2s[len(h2s)-1]), w.pick(introClosers))
	case len(h2s) >= 2:
		w.paragraph("", fmt.Sprintf("This %s is organised in %d main sections.", w.noun, len(h2s)), w.pick(introClosers))
	default:
		w.paragraph("", w.pick(introClosers))
	}
	switch in.ContentType {
	case "how_to":
		steps := h3s
		if len(steps) == 0 {
			steps = h2s
		}
		w.list("ol", "Here is the process at a glance:", steps, true)
	case "listicle":
		var items []string
		for _, h := range h2s {
			if stripItemNumber(h) != h {
				items = append(items, h)
			}
		}
		if len(items) < 2 {
			items = h2s
		}
		w.list("ul", "At a glance, this list covers:", items, true)
	}

	if in.Profile.KeyTakeaways {
		w.keyTakeaways(h2s)
	}
	questions := faqQuestions(in, w.kws)

	// Sections.
	conclusionDone := false
	reserve := 70 + faqWords*len(questions)
	for i, s := range sections {
		fmt.Fprintf(&w.b, "<h%d>%s</h%d>\n", s.level, html.EscapeString(s.text), s.level)
		w.words += countWords(s.text)
		last := i == len(sections)-1
		if last && isConclusionHeading(s.text) {
			w.conclusion()
			conclusionDone = true
			break
		}
		remaining := len(sections) - i
		budget := max((target-w.words-reserve)/remaining, 25)
		start := w.words
		for p := 0; p < max(4, budget/70) && (p == 0 || w.words-start < budget-10); p++ {
			n := 2 + w.rng.IntN(3)
			if budget-(w.words-start) < 45 {
				n = 2
			}
			var lead string
			if p == 0 {
				lead = w.opener(s.text)
			}
			if lead != "" {
				w.paragraph("", append([]string{lead}, w.sentences(n-1, bodySentences, "")...)...)
			} else {
				w.paragraph("", w.sentences(n, bodySentences, "")...)
			}
			if w.words-start == 0 {
				break
			}
		}
		if i == 0 && in.ContentType == "comparison" {
			w.list("ul", "The main criteria to weigh up:", []string{
				"Price and overall value",
				"Ease of use from day one",
				"Quality, durability and support",
				"How well it fits your needs for " + w.kws[0],
			}, false)
		}
	}
	if !conclusionDone {
		w.conclusion()
	}
	w.faq(questions)

	body := strings.TrimSpace(w.b.String())
	return ai.Draft{
		Title:           title,
		Slug:            makeSlug(title, focus),
		Excerpt:         w.excerpt(focus, h2s),
		MetaTitle:       metaTitle(title),
		MetaDescription: w.metaDescription(focus, in.SiteName),
		FocusKeyword:    focus,
		BodyHTML:        body,
	}
}
