package offline

import (
	"fmt"
	"hash/fnv"
	"strings"

	"github.com/presswork/presswork/internal/markup"
)

func (w *draftWriter) excerpt(focus string, h2s []string) string {
	f := cutWords(focus, 120)
	var topics []string
	for _, h := range h2s {
		if len(topics) == 2 {
			break
		}
		if runeLen(h) > 80 {
			continue
		}
		if h = headingRef(h); h != "" {
			topics = append(topics, h)
		}
	}
	var s string
	if len(topics) == 2 {
		s = pickOne(w.rng,
			fmt.Sprintf("A practical %s about %s, from %s to %s.", w.noun, f, topics[0], topics[1]),
			fmt.Sprintf("Everything you need to know about %s, including %s and %s.", f, topics[0], topics[1]),
			fmt.Sprintf("Clear, practical advice on %s: %s, %s and more.", f, topics[0], topics[1]),
		)
	} else {
		s = fmt.Sprintf("Clear, practical advice on %s, with tips you can use straight away.", f)
	}
	return cutPhrase(upperFirst(s), 300)
}

const metaFiller = "Practical advice, clear explanations and answers to the most common questions."

func (w *draftWriter) metaDescription(focus, site string) string {
	f := shortKeyword(focus)
	site = cutWords(markup.CleanText(site), 40)
	var s string
	switch w.rng.IntN(3) {
	case 0:
		s = fmt.Sprintf("Learn about %s: what matters, what to avoid and how to get started with confidence.", f)
	case 1:
		s = fmt.Sprintf("A practical %s about %s, with clear steps, common mistakes to avoid and tips that work.", w.noun, f)
	default:
		s = fmt.Sprintf("Everything you need to know about %s, explained simply, with practical tips you can use today.", f)
	}
	s = upperFirst(s)
	if site != "" && runeLen(s)+runeLen(site)+8 <= 160 {
		s += " From " + site + "."
	}
	if runeLen(s) < 50 {
		s += " " + metaFiller
	}
	if runeLen(s) > maxMetaDescriptionRunes {
		s = cutPhrase(s, maxMetaDescriptionRunes-1) + "."
	}
	return s
}

// metaTitle is the title when it fits; else its head before a colon or a
// question mark when that reads on its own ("How Much House Can I
// Afford?"), else the title cut at a word boundary and without a dangling
// last word ("..., Even If You Are" becomes "...").
func metaTitle(title string) string {
	if runeLen(title) <= maxMetaTitleRunes {
		return title
	}
	for _, sep := range []string{"? ", ": ", " – ", " — "} {
		i := strings.Index(title, sep)
		if i < 0 {
			continue
		}
		head := strings.TrimSpace(title[:i] + strings.TrimSpace(sep[:1]))
		head = strings.TrimSuffix(strings.TrimSuffix(head, ":"), "–")
		if n := runeLen(head); n >= 20 && n <= maxMetaTitleRunes {
			return strings.TrimSpace(head)
		}
	}
	t := cutPhrase(title, maxMetaTitleRunes)
	if strings.TrimSpace(t) == "" {
		t = string([]rune(title)[:min(maxMetaTitleRunes, runeLen(title))])
	}
	if strings.TrimSpace(t) == "" {
		t = "Article"
	}
	return t
}

func makeSlug(title, focus string) string {
	if s := markup.Slug(title, 80); s != "" {
		return s
	}
	if s := markup.Slug(focus, 80); s != "" {
		return s
	}
	h := fnv.New32a()
	h.Write([]byte(title + "\x00" + focus))
	return fmt.Sprintf("article-%08x", h.Sum32())
}
