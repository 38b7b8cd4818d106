package offline

import (
	"html"
	"strings"
)

// nextKeyword rotates through the target keywords.
func (w *draftWriter) nextKeyword() string {
	k := w.kws[w.kwi%len(w.kws)]
	w.kwi++
	return k
}

// fill replaces the placeholders of a sentence template: {k} and {k2} with
// target keywords, {h} and {H} with heading text, {noun} with the content
// noun. The result is plain text.
func (w *draftWriter) fill(t, heading string) string {
	k := w.nextKeyword()
	k2 := k
	if len(w.kws) > 1 {
		k2 = w.kws[w.kwi%len(w.kws)]
		if k2 == k {
			k2 = w.kws[(w.kwi+1)%len(w.kws)]
		}
	}
	return upperFirst(expand(t, map[string]string{
		"{k}": k, "{k2}": k2, "{h}": heading, "{H}": upperFirst(heading), "{noun}": w.noun}))
}

// expand replaces the placeholders of t ("{name}") found in values; other
// braces stay as they are. (A strings.Replacer built per sentence cost more
// than writing the article.)
func expand(t string, values map[string]string) string {
	var b strings.Builder
	b.Grow(len(t) + 32)
	for {
		open := strings.IndexByte(t, '{')
		if open < 0 {
			b.WriteString(t)
			return b.String()
		}
		b.WriteString(t[:open])
		t = t[open:]
		end := strings.IndexByte(t, '}')
		if v, ok := values[t[:end+1]]; end > 0 && ok {
			b.WriteString(v)
			t = t[end+1:]
			continue
		}
		b.WriteByte('{')
		t = t[1:]
	}
}

// pick chooses a template from pool, avoiding ones already used in this
// article while there are unused ones, and fills it.
func (w *draftWriter) pick(pool []string) string {
	return w.fill(w.choose(pool), "")
}

func (w *draftWriter) choose(pool []string) string {
	start := w.rng.IntN(len(pool))
	for i := range pool {
		t := pool[(start+i)%len(pool)]
		if !w.used[t] {
			w.used[t] = true
			return t
		}
	}
	return pool[start]
}

func (w *draftWriter) sentences(n int, pool []string, heading string) []string {
	out := make([]string, 0, n)
	for i := 0; i < n; i++ {
		t := w.choose(pool)
		if strings.Contains(t, "{k2}") && len(w.kws) < 2 {
			t = w.choose(pool)
			if strings.Contains(t, "{k2}") {
				continue
			}
		}
		out = append(out, w.fill(t, heading))
	}
	return out
}

// paragraph writes a <p> of sentences (plain text, escaped here) after an
// optional lead that is already HTML.
func (w *draftWriter) paragraph(leadHTML string, sentences ...string) {
	escaped := make([]string, 0, len(sentences)+1)
	if leadHTML != "" {
		escaped = append(escaped, leadHTML)
	}
	for _, s := range sentences {
		if s == "" {
			continue
		}
		escaped = append(escaped, html.EscapeString(s))
		w.words += countWords(s)
	}
	if len(escaped) == 0 {
		return
	}
	w.b.WriteString("<p>" + strings.Join(escaped, " ") + "</p>\n")
}

// list writes an intro paragraph and a list of plain-text items.
func (w *draftWriter) list(tag, intro string, items []string, stripNumbers bool) {
	var lis []string
	for _, it := range items {
		if stripNumbers {
			it = stripItemNumber(it)
		}
		it = cutWords(it, 120)
		if it == "" {
			continue
		}
		lis = append(lis, "<li>"+html.EscapeString(it)+"</li>")
		w.words += countWords(it)
	}
	if len(lis) < 2 {
		return
	}
	w.paragraph("", intro)
	w.b.WriteString("<" + tag + ">" + strings.Join(lis, "") + "</" + tag + ">\n")
}

func (w *draftWriter) conclusion() {
	ss := w.sentences(3, conclusionSentences, "")
	w.paragraph("", ss...)
}

// opener returns a first sentence (plain text) for a section that refers to
// its heading, or "" when the heading does not fit in a sentence.
func (w *draftWriter) opener(heading string) string {
	if heading == "" || runeLen(heading) > 70 {
		return ""
	}
	if strings.HasSuffix(heading, "?") {
		return w.fill(w.choose(questionOpeners), heading)
	}
	pool := headingOpeners
	if stripItemNumber(heading) != heading {
		// A numbered step or list item, usually an imperative.
		pool = itemOpeners
	}
	ref := headingRef(heading)
	if ref == "" {
		return ""
	}
	return w.fill(w.choose(pool), ref)
}

// headingRef is a heading as a phrase inside a sentence: without its item
// number, the part after a colon ("X: The Basics" -> "the basics"), final
// punctuation and capitals.
func headingRef(heading string) string {
	ref := stripItemNumber(heading)
	if i := strings.LastIndex(ref, ": "); i >= 0 && i+2 < len(ref) {
		ref = ref[i+2:]
	}
	return lowerWords(strings.TrimRight(ref, ".:!?"))
}

// stripItemNumber removes "Step 2:" and "3." prefixes from a heading.
func stripItemNumber(s string) string {
	t := s
	if l := strings.ToLower(t); strings.HasPrefix(l, "step ") {
		t = t[len("step "):]
	}
	i := 0
	for i < len(t) && t[i] >= '0' && t[i] <= '9' {
		i++
	}
	if i > 0 && i < len(t) && strings.ContainsRune(".:)", rune(t[i])) {
		return strings.TrimSpace(t[i+1:])
	}
	return s
}

func isConclusionHeading(s string) bool {
	l := strings.ToLower(s)
	for _, m := range []string{"final thought", "conclusion", "verdict", "summary", "wrap", "bottom line",
		"takeaway", "which one should you choose", "which option should you choose"} {
		if strings.Contains(l, m) {
			return true
		}
	}
	return false
}
