package ai

import (
	"strings"
	"unicode"
)

// danglingWords cannot end a title or a phrase cut short: a cut after one
// of them leaves it unfinished ("A Practical Guide for", "Pros, Cons and",
// "..., Even If You Are").
var danglingWords = map[string]bool{
	"a": true, "an": true, "the": true, "and": true, "or": true, "nor": true, "but": true, "of": true,
	"for": true, "to": true, "in": true, "on": true, "at": true, "by": true, "with": true, "from": true,
	"into": true, "onto": true, "about": true, "as": true, "per": true, "than": true, "that": true,
	"if": true, "even": true, "when": true, "while": true, "so": true, "your": true, "my": true,
	"our": true, "their": true, "its": true, "you": true, "i": true, "we": true, "is": true, "are": true,
	"was": true, "were": true, "be": true, "can": true, "will": true, "should": true, "do": true,
	"does": true, "vs": true, "vs.": true, "versus": true, "how": true, "what": true, "which": true,
	"who": true, "why": true, "where": true, "more": true, "most": true, "very": true, "get": true,
	"near": true, "under": true, "without": true, "like": true,
}

// phraseSeparators are left at the end of a cut and dropped.
const phraseSeparators = ",;:-–—/&|(+"

// TrimDangling drops dangling words (for, and, a, to, ...) and separators
// from the end of a phrase that was cut, so that it ends on a word that can
// end one. It never leaves fewer than two words.
func TrimDangling(s string) string {
	words := strings.Fields(s)
	for len(words) > 2 {
		last := strings.ToLower(strings.TrimRight(words[len(words)-1], phraseSeparators))
		if last != "" && !danglingWords[last] {
			break
		}
		words = words[:len(words)-1]
	}
	return strings.TrimRightFunc(strings.Join(words, " "), func(r rune) bool {
		return unicode.IsSpace(r) || strings.ContainsRune(phraseSeparators, r)
	})
}

// cutPhrase is cutAtWord that, when it cuts, also drops the dangling words
// the cut leaves (TrimDangling).
func cutPhrase(s string, n int) string {
	cut := cutAtWord(s, n)
	if cut == s {
		return s
	}
	return TrimDangling(cut)
}
