package cluster

// Query modifiers and head terms (#21). The same split serves the lexical
// pass of Group (a head term a few keywords share is evidence of a topic,
// a shared modifier is none) and make eval's check of clusters held
// together only by a modifier (internal/eval).

import (
	"strings"
	"unicode"
)

// ModifierPhrases are the query modifiers: words and phrases that say what
// kind of page a searcher wants (a how-to, a comparison, a review, a cheap
// one, one nearby, this year's) and not what it is about. Longer phrases
// are matched first; a matched phrase is one modifier term. Years (1990 to
// 2039) and prices ("$200", "under 100") are modifiers too (see terms).
var ModifierPhrases = []string{
	"how to", "how do i", "how do you", "how much", "how many", "how long", "how often",
	"what is", "what are", "what to", "what can", "why is", "why are", "why does", "is it",
	"for beginners", "for beginner", "near me", "pros and cons", "worth it", "step by step",
	"vs", "versus", "best", "top", "review", "reviews", "cheap", "cheapest", "affordable",
	"price", "prices", "pricing", "cost", "costs", "deal", "deals", "sale", "buy", "free",
	"beginner", "beginners", "guide", "tips", "ideas", "explained", "alternative", "alternatives",
	"how", "what", "why", "when", "where", "which", "who", "can", "does", "do", "should", "is", "are",
}

// stopWords are neither head terms nor modifiers: they link words.
var stopWords = map[string]bool{
	"a": true, "an": true, "the": true, "and": true, "or": true, "of": true, "for": true, "to": true,
	"in": true, "on": true, "at": true, "by": true, "with": true, "from": true, "my": true, "your": true,
	"i": true, "you": true, "it": true, "me": true, "be": true, "get": true, "this": true, "that": true,
	"without": true, "into": true, "after": true, "before": true, "not": true, "no": true, "s": true,
}

// Terms splits a keyword into its head terms and its modifiers. Words are
// lower-cased runs of letters and digits (inner apostrophes, hyphens,
// periods and slashes kept: de'longhi, wh-1000xm5, monday.com, 50/30/20);
// modifier phrases are taken first, longest first; a year or a price
// ("$200", "under 100") is a modifier; other bare numbers and stop words are
// dropped; what is left are head terms, with a plural "s" taken off
// ("drills" and "drill" are one term).
func Terms(keyword string) (heads, modifiers []string) {
	words := splitWords(keyword)
	for i := 0; i < len(words); {
		if n, m := matchModifier(words[i:]); n > 0 {
			modifiers = append(modifiers, m)
			i += n
			continue
		}
		w := words[i]
		i++
		switch {
		case isYear(w):
			modifiers = append(modifiers, "<year>")
		case strings.HasPrefix(w, "$"):
			modifiers = append(modifiers, "<price>")
		case w == "under" && i < len(words) && isNumber(strings.TrimPrefix(words[i], "$")):
			modifiers = append(modifiers, "<price>")
			i++
		case stopWords[w] || isNumber(w):
		default:
			heads = append(heads, singular(w))
		}
	}
	return heads, modifiers
}

// matchModifier returns the number of words of the longest modifier phrase
// words starts with, and the phrase.
func matchModifier(words []string) (int, string) {
	bestN, best := 0, ""
	for _, p := range ModifierPhrases {
		pw := strings.Fields(p)
		if len(pw) <= bestN || len(pw) > len(words) {
			continue
		}
		match := true
		for j := range pw {
			if words[j] != pw[j] {
				match = false
				break
			}
		}
		if match {
			bestN, best = len(pw), p
		}
	}
	return bestN, best
}

// splitWords lower-cases s and splits it into words.
func splitWords(s string) []string {
	fields := strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !(unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune("'’-./$+", r))
	})
	out := fields[:0]
	for _, f := range fields {
		f = strings.Trim(f, "'’-./+")
		f = strings.TrimSuffix(f, "'s")
		if f != "" {
			out = append(out, f)
		}
	}
	return out
}

func isYear(w string) bool { return len(w) == 4 && isNumber(w) && w >= "1990" && w <= "2039" }

func isNumber(w string) bool {
	if w == "" {
		return false
	}
	for _, r := range w {
		if !unicode.IsDigit(r) && r != '.' && r != ',' {
			return false
		}
	}
	return true
}

// singular takes a plural "s" off words of more than three letters
// ("drills", not "glass" or "gps").
func singular(w string) string {
	if len(w) > 3 && strings.HasSuffix(w, "s") && !strings.HasSuffix(w, "ss") && !strings.HasSuffix(w, "us") {
		return w[:len(w)-1]
	}
	return w
}

func distinct(ts []string) []string {
	seen := make(map[string]bool, len(ts))
	out := ts[:0:0]
	for _, t := range ts {
		if !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	return out
}
