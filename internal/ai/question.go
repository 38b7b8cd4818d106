package ai

import "strings"

// questionWords begin a search query that is a question (English, and the
// commonest of a few other languages).
var questionWords = map[string]bool{
	"how": true, "what": true, "why": true, "when": true, "where": true, "which": true, "who": true, "whom": true,
	"whose": true, "can": true, "could": true, "do": true, "does": true, "did": true, "is": true, "are": true,
	"was": true, "were": true, "should": true, "will": true, "would": true, "may": true, "must": true, "has": true,
	"have": true, "wie": true, "warum": true, "wann": true, "wo": true, "welche": true, "welcher": true,
	"kann": true, "comment": true, "pourquoi": true, "quand": true, "quel": true, "quelle": true, "cómo": true,
	"como": true, "qué": true, "que": true, "por": true, "cuál": true, "cuándo": true, "dónde": true, "quanto": true,
	"perché": true, "hoe": true, "wat": true, "waarom": true,
}

// IsQuestion reports whether a keyword reads as a question: it ends with a
// question mark or begins with a question word ("how long do trail shoes
// last").
func IsQuestion(phrase string) bool {
	p := strings.ToLower(strings.TrimSpace(phrase))
	if strings.HasSuffix(p, "?") {
		return true
	}
	first, rest, _ := strings.Cut(p, " ")
	return rest != "" && questionWords[first]
}
