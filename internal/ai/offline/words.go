package offline

import (
	"math/rand/v2"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/presswork/presswork/internal/ai"
	"github.com/presswork/presswork/internal/markup"
)

func runeLen(s string) int { return utf8.RuneCountInString(s) }

// cutWords shortens s to at most max runes, at a word boundary when one is
// not too far back, without trailing separators.
func cutWords(s string, max int) string {
	if runeLen(s) <= max {
		return s
	}
	if max <= 0 {
		return ""
	}
	all := []rune(s)
	r := all[:max]
	cut := string(r)
	if !unicode.IsSpace(all[max]) {
		// The cut falls inside a word: back off to the last space.
		if i := strings.LastIndexByte(cut, ' '); i > 0 && runeLen(cut[:i]) >= max/2 {
			cut = cut[:i]
		}
	}
	trimmed := strings.TrimRightFunc(cut, func(r rune) bool {
		return unicode.IsSpace(r) || strings.ContainsRune(",;:-–—/&|(+", r)
	})
	if trimmed == "" {
		trimmed = strings.TrimSpace(string(r))
	}
	return trimmed
}

// cutPhrase shortens s like cutWords and, when it had to cut, drops the
// dangling words and separators left at the end (ai.TrimDangling), so that
// the cut ends on a word that can end a phrase.
func cutPhrase(s string, max int) string {
	cut := cutWords(s, max)
	if cut == s {
		return s
	}
	return ai.TrimDangling(cut)
}

// trimDangling drops dangling words and separators from the end of s.
func trimDangling(s string) string { return ai.TrimDangling(s) }

// titleCase capitalizes words except small words after the first; words
// that already have capitals after their first letter (iPhone, SEO) are
// kept, and acronyms and brands get their spelling (ai.TitleName).
func titleCase(s string) string { return ai.TitleName(s, nil) }

func upperFirst(s string) string {
	r, size := utf8.DecodeRuneInString(s)
	if size == 0 || r == utf8.RuneError {
		return s
	}
	return string(unicode.ToTitle(r)) + s[size:]
}

// lowerWords lower-cases words that are only capitalized (Step Two -> step
// two) and keeps acronyms and brand spellings.
func lowerWords(s string) string {
	words := strings.Fields(s)
	for i, w := range words {
		if !ai.HasCapitalAfterFirst(w) {
			words[i] = strings.ToLower(w)
		}
	}
	return strings.Join(words, " ")
}

// cleanKeywords cleans keyword phrases, cuts them to maxKeywordRunes and
// drops empty and duplicate ones, keeping their order.
func cleanKeywords(ks []ai.KeywordInfo) []string {
	phrases := make([]string, len(ks))
	for i, k := range ks {
		phrases[i] = k.Phrase
	}
	return cleanPhrases(phrases)
}

func cleanPhrases(ps []string) []string {
	var out []string
	seen := make(map[string]bool, len(ps))
	for _, p := range ps {
		p = cutWords(markup.CleanText(p), maxKeywordRunes)
		key := strings.ToLower(p)
		if p == "" || seen[key] {
			continue
		}
		seen[key] = true
		out = append(out, p)
	}
	return out
}

func hasInnerUpperAny(s string) bool {
	for _, w := range strings.Fields(s) {
		if ai.HasCapitalAfterFirst(w) {
			return true
		}
	}
	return false
}

// joinAnd joins items as "a, b and c".
func joinAnd(items []string) string {
	switch len(items) {
	case 0:
		return ""
	case 1:
		return items[0]
	}
	return strings.Join(items[:len(items)-1], ", ") + " and " + items[len(items)-1]
}

func pickOne(rng *rand.Rand, options ...string) string { return options[rng.IntN(len(options))] }

// countWords counts words in plain text like markup.WordCount: runs of
// non-space characters with a letter or digit.
func countWords(s string) int {
	n := 0
	for _, f := range strings.Fields(s) {
		for _, r := range f {
			if unicode.IsLetter(r) || unicode.IsDigit(r) {
				n++
				break
			}
		}
	}
	return n
}
