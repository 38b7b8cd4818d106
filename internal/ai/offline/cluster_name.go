package offline

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"unicode"

	"github.com/presswork/presswork/internal/ai"
	"github.com/presswork/presswork/internal/markup"
)

var themeStopWords = map[string]bool{
	"a": true, "an": true, "the": true, "and": true, "or": true, "for": true, "of": true,
	"in": true, "on": true, "to": true, "with": true, "vs": true, "versus": true, "how": true,
	"what": true, "why": true, "is": true, "are": true, "do": true, "does": true, "i": true,
	"you": true, "best": true, "top": true, "my": true, "your": true, "near": true, "me": true,
	"can": true, "should": true, "which": true, "who": true, "when": true, "where": true,
	"at": true, "by": true, "from": true, "it": true, "be": true, "review": true, "reviews": true,
	"guide": true, "tips": true, "vs.": true,
	// Query modifiers: they say what kind of search it is, not what about.
	"beginners": true, "beginner": true, "much": true, "many": true, "long": true, "often": true,
	"worth": true, "pricing": true, "price": true, "cost": true, "cheap": true, "explained": true,
	"ideas": true, "under": true, "take": true,
}

// modifierKinds name a cluster whose keywords share only a query
// modifier by the kind of search they are, which is true of the whole
// cluster ("Reviews"), rather than after its first keyword, which is
// true of one ("Bloomscape"). The first that most keywords match wins.
var modifierKinds = []struct {
	name    string
	matches func(l string) bool // l: " keyword " lower-cased
}{
	{"Comparisons", func(l string) bool { return strings.Contains(l, " vs ") || strings.Contains(l, " versus ") }},
	{"Reviews", func(l string) bool { return strings.Contains(l, " review ") || strings.Contains(l, " reviews ") }},
	{"How-To Guides", func(l string) bool { return strings.Contains(l, " how to ") }},
	{"Beginner Guides", func(l string) bool { return strings.Contains(l, " beginner") }},
	{"Local Searches", func(l string) bool { return strings.Contains(l, " near me ") }},
	{"Costs and Prices", func(l string) bool {
		return strings.Contains(l, " how much ") || strings.Contains(l, " cost ") || strings.Contains(l, " price") ||
			strings.Contains(l, " pricing ")
	}},
	{"Worth-It Questions", func(l string) bool { return strings.Contains(l, " worth it ") }},
	{"Buying Guides", func(l string) bool { return strings.HasPrefix(l, " best ") || strings.HasPrefix(l, " top ") }},
}

// modifierKind returns the name of the kind of search that at least
// threshold of kws are, or "".
func modifierKind(kws []string, threshold int) string {
	for _, k := range modifierKinds {
		n := 0
		for _, kw := range kws {
			if k.matches(" " + strings.ToLower(kw) + " ") {
				n++
			}
		}
		if n >= threshold {
			return k.name
		}
	}
	return ""
}

// themeWords lists the lower-cased words of k that can name a theme: no
// stop words, no years.
func themeWords(k string) []string {
	var out []string
	for _, w := range strings.FieldsFunc(strings.ToLower(k), func(r rune) bool {
		return !(unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r) || r == '\'' || r == '-')
	}) {
		w = strings.Trim(w, "'-")
		if w == "" || themeStopWords[w] || isYear(w) {
			continue
		}
		out = append(out, w)
	}
	return out
}

// nameCluster names a cluster after the words most of its first keywords
// share (else after the first keyword) and describes it with example
// keywords and the cluster's size.
func nameCluster(in ai.ClusterNameInput, rng *rand.Rand) ai.ClusterName {
	kws := cleanKeywords(in.Keywords)
	if len(kws) == 0 {
		site := cutWords(markup.CleanText(in.SiteName), 60)
		name := "General Topics"
		if site != "" {
			name = cutWords("Topics for "+site, 80)
		}
		return ai.ClusterName{Name: name, Description: "A group of related search topics without keywords yet."}
	}
	top := kws[:min(8, len(kws))]
	counts := map[string]int{}
	for _, k := range top {
		seen := map[string]bool{}
		for _, w := range themeWords(k) {
			if !seen[w] {
				seen[w] = true
				counts[w]++
			}
		}
	}
	threshold := 1
	if len(top) > 1 {
		threshold = max(2, (len(top)+1)/2)
	}
	var theme []string
	pick := func(th int) {
		theme = theme[:0]
		seen := map[string]bool{}
		for _, w := range themeWords(top[0]) {
			if counts[w] >= th && !seen[w] {
				seen[w] = true
				theme = append(theme, w)
			}
		}
	}
	if len(top) > 1 {
		pick(threshold)
		if len(theme) == 0 && threshold > 2 {
			pick(2)
		}
	}
	name := titleCase(cutWords(strings.Join(theme, " "), 80))
	if len(theme) == 0 && len(top) > 1 {
		// Nothing in common but a query modifier: name the kind of search.
		name = modifierKind(top, threshold)
	}
	if name == "" {
		// One keyword, or nothing in common: name it after the first.
		name = titleCase(cutWords(nounForm(top[0]), 80))
	}
	if name == "" {
		name = "General Topics"
	}
	themeText := strings.ToLower(name)
	if hasInnerUpperAny(name) {
		themeText = name
	}

	// The count is the cluster's, not that of the keywords listed.
	size := max(in.Size(), len(kws))
	count := fmt.Sprintf("%d keywords", size)
	if size == 1 {
		count = "1 keyword"
	}
	templates := []string{
		"Searches about %[1]s, such as %[2]s, from people looking for clear, practical answers (%[3]s in total).",
		"Everything people want to know about %[1]s, with queries like %[2]s; %[3]s in this cluster.",
		"Content for readers researching %[1]s, covering searches such as %[2]s (%[3]s).",
	}
	tmpl := templates[rng.IntN(len(templates))]
	var desc string
	for n := min(3, len(kws)); n >= 0; n-- {
		examples := make([]string, 0, n)
		for _, k := range kws[:n] {
			examples = append(examples, "“"+cutWords(k, 60)+"”")
		}
		ex := joinAnd(examples)
		if ex == "" {
			ex = "related questions"
		}
		desc = fmt.Sprintf(tmpl, cutWords(themeText, 80), ex, count)
		if runeLen(desc) <= 300 {
			break
		}
	}
	return ai.ClusterName{Name: name, Description: cutWords(desc, 300)}
}
