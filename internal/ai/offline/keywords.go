package offline

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

var (
	topicPrefixes = []string{
		"how to ", "how do i ", "how do you ", "how can i ", "what is ", "what are ", "what's ",
		"why ", "the best ", "best ", "top ", "a guide to ", "guide to ",
	}
	topicSuffixes = []string{" review", " reviews", " guide", " tips", " explained", " ideas"}
)

// coreTopic strips search modifiers (how to, best, review, years) from a
// keyword, leaving the thing it is about.
func coreTopic(k string) string {
	k = rephrase(k)
	var words []string
	for _, w := range strings.Fields(k) {
		if !isYear(w) {
			words = append(words, w)
		}
	}
	for _, p := range topicPrefixes {
		pw := strings.Fields(p)
		if len(words) > len(pw) && equalFoldWords(words[:len(pw)], pw) {
			words = words[len(pw):]
			break
		}
	}
	for _, suf := range topicSuffixes {
		sw := strings.Fields(suf)
		if len(words) > len(sw) && equalFoldWords(words[len(words)-len(sw):], sw) {
			words = words[:len(words)-len(sw)]
			break
		}
	}
	if len(words) == 0 {
		return k
	}
	return strings.Join(words, " ")
}

func equalFoldWords(a, b []string) bool {
	for i := range a {
		if !strings.EqualFold(a[i], b[i]) {
			return false
		}
	}
	return true
}

func isYear(w string) bool {
	if len(w) != 4 {
		return false
	}
	n, err := strconv.Atoi(w)
	return err == nil && n >= 1990 && n <= 2099
}

// splitVersus splits "a vs b" into the topics a and b.
func splitVersus(k string) (a, b string, ok bool) {
	words := strings.Fields(k)
	for i, w := range words {
		if i > 0 && i < len(words)-1 &&
			(strings.EqualFold(w, "vs") || strings.EqualFold(w, "vs.") || strings.EqualFold(w, "versus")) {
			return coreTopic(strings.Join(words[:i], " ")), coreTopic(strings.Join(words[i+1:], " ")), true
		}
	}
	return "", "", false
}

// detectType guesses the content type a keyword asks for, or "".
func detectType(k string) string {
	l := " " + strings.ToLower(k) + " "
	switch {
	case strings.Contains(l, " vs ") || strings.Contains(l, " vs. ") || strings.Contains(l, " versus ") ||
		strings.Contains(l, " compare") || strings.Contains(l, " comparison ") || strings.Contains(l, " alternatives "):
		return "comparison"
	case strings.HasPrefix(l, " how to ") || strings.HasPrefix(l, " how do ") || strings.HasPrefix(l, " how can "):
		return "how_to"
	case strings.HasPrefix(l, " best ") || strings.HasPrefix(l, " top ") || strings.Contains(l, " tips ") ||
		strings.Contains(l, " ideas ") || strings.Contains(l, " examples "):
		return "listicle"
	case strings.Contains(l, " review ") || strings.Contains(l, " reviews "):
		return "review"
	case strings.HasPrefix(l, " what is ") || strings.HasPrefix(l, " what are ") || strings.Contains(l, " guide "):
		return "guide"
	}
	return ""
}

// topic is a keyword's core as a title-cased topic for titles and headings.
func topic(k string) string {
	return titleCase(cutWords(coreTopic(k), topicRunes))
}

// nounForm turns a keyword into a phrase that reads well in a sentence
// where a noun is expected: search modifiers are dropped and "how to make
// bread" becomes "making bread".
func nounForm(k string) string {
	k = rephrase(k)
	if detectType(k) == "how_to" {
		words := strings.Fields(k)
		for i := 1; i < len(words)-1; i++ {
			if strings.EqualFold(words[i], "to") {
				if rest := words[i+1:]; len(rest) > 0 {
					rest = append([]string{gerund(rest[0])}, rest[1:]...)
					return strings.Join(rest, " ")
				}
			}
		}
	}
	return coreTopic(k)
}

// doubled lists common verbs whose last consonant doubles before -ing.
var doubled = map[string]bool{
	"run": true, "get": true, "set": true, "put": true, "stop": true, "plan": true, "shop": true,
	"cut": true, "sit": true, "swim": true, "begin": true, "win": true, "dig": true, "knit": true,
	"jog": true, "chat": true, "ship": true, "skip": true, "drop": true, "hit": true, "let": true,
	"trim": true, "wrap": true, "prep": true, "grab": true, "hug": true, "nap": true, "pin": true,
}

// gerund makes the -ing form of an English verb (make -> making).
func gerund(v string) string {
	for i := 0; i < len(v); i++ {
		if v[i] >= utf8.RuneSelf {
			return v // not English
		}
	}
	l := strings.ToLower(v)
	switch {
	case l == "be":
		return "being"
	case doubled[l]:
		return v + v[len(v)-1:] + "ing"
	case strings.HasSuffix(l, "ie"):
		return v[:len(v)-2] + "ying"
	case strings.HasSuffix(l, "e") && !strings.HasSuffix(l, "ee") && !strings.HasSuffix(l, "ye") &&
		!strings.HasSuffix(l, "oe") && len(l) > 2:
		return v[:len(v)-1] + "ing"
	case strings.HasSuffix(l, "ing"):
		return v
	}
	return v + "ing"
}

// shortKeyword is a keyword cut to a length that reads well in a sentence.
func shortKeyword(k string) string {
	words := strings.Fields(k)
	if len(words) > 7 {
		k = strings.Join(words[:7], " ")
	}
	return cutWords(k, 50)
}
