package offline

// Query modifiers: words that say what kind of page a searcher wants (a
// how-to, a comparison, a review, a cheap one, one nearby, this year's) and
// not what the page is about. The embedder weighs them little against the
// head terms, so that "how to potty train a puppy" lies near "puppy potty
// training schedule", not near "how to sharpen a chisel" (#21).

// modifierWeight scales every feature of a modifier word. It is not zero,
// so that a text made only of modifiers still has a direction and two texts
// with the same head terms differ a little by their modifiers.
const modifierWeight = 0.1

// modifierPhrases are the modifiers of more than one word, as word lists;
// they are matched before single words (so "how to" is one modifier, while
// "to" alone is a stop word).
var modifierPhrases = [][]string{
	{"how", "to"}, {"how", "do", "i"}, {"how", "do", "you"}, {"how", "much"}, {"how", "many"},
	{"how", "long"}, {"how", "often"}, {"what", "is"}, {"what", "are"}, {"for", "beginners"},
	{"for", "beginner"}, {"near", "me"}, {"close", "to", "me"}, {"pros", "and", "cons"},
	{"worth", "it"}, {"step", "by", "step"}, {"is", "it"}, {"do", "i", "need"},
}

// modifierWords are the single-word modifiers: page types, comparisons,
// superlatives, prices, and question and auxiliary words.
var modifierWords = map[string]bool{
	"vs": true, "versus": true, "best": true, "top": true, "review": true, "reviews": true,
	"cheap": true, "cheapest": true, "affordable": true, "budget": false, "price": true,
	"prices": true, "pricing": true, "cost": true, "costs": true, "deal": true, "deals": true,
	"sale": true, "buy": true, "free": true, "beginner": true, "beginners": true, "guide": true,
	"tips": true, "ideas": true, "explained": true, "alternative": true, "alternatives": true,
	"comparison": true, "compared": true, "difference": true, "differences": true, "between": true,
	"good": true, "better": true, "easy": true, "simple": true, "ultimate": true, "new": true,
	"near": true, "online": true, "checklist": true, "list": false, "worth": true,
	"how": true, "what": true, "why": true, "when": true, "where": true, "which": true, "who": true,
	"can": true, "does": true, "do": true, "should": true, "is": true, "are": true, "will": true,
	"my": true, "your": true, "i": true, "you": true, "it": true, "me": true, "much": true,
	"many": true, "under": true, "over": true, "less": true, "than": true,
}

// modifierSpans marks, for each of the n words word(0..n-1), whether it is
// part of a query modifier: a modifier phrase, a modifier word, a year (1990
// to 2039), or a price ("under 200" is two modifier words; "$" is not a word
// character, so "$200" arrives as "200" and counts only after "under").
func modifierSpans(n int, word func(int) []byte, mods []bool) []bool {
	mods = append(mods[:0], make([]bool, n)...)
	for i := 0; i < n; {
		if k := matchPhrase(n, word, i); k > 0 {
			for j := i; j < i+k; j++ {
				mods[j] = true
			}
			i += k
			continue
		}
		w := word(i)
		mods[i] = modifierWords[string(w)] || isYearBytes(w) || i > 0 && mods[i-1] && isNumeral(w) && string(word(i-1)) == "under"
		i++
	}
	return mods
}

// matchPhrase returns the length of the longest modifier phrase starting at
// word i, 0 when none does.
func matchPhrase(n int, word func(int) []byte, i int) int {
	best := 0
	for _, p := range modifierPhrases {
		if len(p) <= best || i+len(p) > n {
			continue
		}
		match := true
		for j, pw := range p {
			if string(word(i+j)) != pw {
				match = false
				break
			}
		}
		if match {
			best = len(p)
		}
	}
	return best
}

func isYearBytes(w []byte) bool {
	return len(w) == 4 && isNumeral(w) && string(w) >= "1990" && string(w) <= "2039"
}

func isNumeral(w []byte) bool {
	if len(w) == 0 {
		return false
	}
	for _, c := range w {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
