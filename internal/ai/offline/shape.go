package offline

import "strings"

// Keyword shapes, for the title and heading templates: a noun phrase
// ("trail running shoes") fits any slot where a noun goes; a question ("are
// air fryers healthy", "how much house can i afford") only fits whole, at
// the head of a title; a comparison ("mocha vs latte") reads as a noun
// only as the subject of a title.
const (
	shapeNoun = iota
	shapeHowTo
	shapeQuestion
	shapeVersus
)

// auxiliaryWords start a direct question ("is the japan rail pass worth
// it") and, after a question word, make it one ("how much house can i
// afford").
var auxiliaryWords = map[string]bool{
	"is": true, "are": true, "am": true, "can": true, "could": true, "do": true, "does": true, "did": true,
	"should": true, "will": true, "would": true, "was": true, "were": true, "has": true, "have": true,
	"may": true, "must": true, "shall": true, "isn't": true, "aren't": true, "can't": true, "doesn't": true,
}

// questionWords start a question or an indirect question ("how often to
// water pothos").
var questionWords = map[string]bool{
	"how": true, "what": true, "why": true, "when": true, "where": true, "which": true, "who": true,
	"whats": true, "what's": true, "hows": true, "how's": true, "whose": true,
}

// rephrase returns a keyword whose "how" question trails its subject with
// the question first ("snake plant root rot how to fix" -> "how to fix
// snake plant root rot"), or without a short question that cannot lead
// ("keto flu symptoms how long" -> "keto flu symptoms"). Other keywords,
// and a "how" that continues a clause ("learn how to knit", "tips and how
// to ..."), are returned as they are; so are other question words, which
// mid-phrase usually start a relative clause ("things to do when it rains").
func rephrase(k string) string {
	words := strings.Fields(k)
	for i := 2; i < len(words); i++ {
		if !strings.EqualFold(words[i], "how") || clauseLeads[strings.ToLower(words[i-1])] {
			continue
		}
		head, tail := words[:i], words[i:]
		switch {
		case len(tail) >= 3 && strings.EqualFold(tail[1], "to"):
			return strings.Join(append(append([]string(nil), tail...), head...), " ")
		case len(tail) <= 3:
			return strings.Join(head, " ")
		}
		return k
	}
	return k
}

// clauseLeads are words after which "how" continues the phrase.
var clauseLeads = map[string]bool{
	"learn": true, "know": true, "see": true, "show": true, "teach": true, "explain": true, "explained": true,
	"and": true, "or": true, "about": true, "on": true, "of": true, "knowing": true, "learning": true,
}

// shapeOf returns the shape of a keyword (rephrased first).
func shapeOf(k string) int {
	k = rephrase(k)
	words := strings.Fields(strings.ToLower(k))
	if len(words) == 0 {
		return shapeNoun
	}
	if _, _, ok := splitVersus(k); ok {
		return shapeVersus
	}
	if detectType(k) == "how_to" {
		return shapeHowTo
	}
	if auxiliaryWords[words[0]] || (questionWords[words[0]] && len(words) > 1) {
		return shapeQuestion
	}
	return shapeNoun
}

// questionTitle is a question keyword as the head of a title, title-cased,
// with a question mark when it is a direct question ("Are Air Fryers
// Healthy?", "How Much House Can I Afford?") and none when it is indirect
// ("How Often to Water Pothos").
func questionTitle(k string) string {
	k = rephrase(k)
	words := strings.Fields(strings.ToLower(k))
	direct := len(words) > 0 && auxiliaryWords[words[0]]
	for _, w := range words[1:] {
		if auxiliaryWords[w] {
			direct = true
		}
	}
	q := titleCase(cutWords(strings.TrimRight(k, "?!. "), topicRunes+20))
	if direct {
		return q + "?"
	}
	return q
}

// headed joins a whole keyword heading a title to the rest: "Are Air
// Fryers Healthy? The Short Answer", "Mocha vs Latte: The Complete Guide".
func headed(head, rest string) string {
	if strings.HasSuffix(head, "?") {
		return head + " " + rest
	}
	return head + ": " + rest
}
