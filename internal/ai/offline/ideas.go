package offline

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/presswork/presswork/internal/ai"
	"github.com/presswork/presswork/internal/markup"
	"github.com/presswork/presswork/internal/overlap"
)

// ideaPlan is a candidate title and the outline variant that goes with it.
type ideaPlan struct {
	title   string
	variant int
}

// writeIdeas plans in.Count ideas (at most maxIdeas), rotating the primary
// keyword and the content type, with titles that differ from
// in.ExistingTitles and from each other.
func writeIdeas(in ai.IdeasInput, rng *rand.Rand) ai.IdeaList {
	count := min(max(in.Count, 0), maxIdeas)
	kws := cleanKeywords(in.Keywords)
	if len(kws) == 0 {
		fallback := strings.ToLower(cutWords(markup.CleanText(in.ClusterName), maxKeywordRunes))
		if fallback == "" {
			fallback = strings.ToLower(cutWords(markup.CleanText(in.SiteName), maxKeywordRunes))
		}
		if fallback == "" {
			fallback = "this topic"
		}
		kws = []string{fallback}
	}
	kws = untakenFirst(kws, in.TakenKeywords)
	taken := make(map[string]bool, len(in.ExistingTitles)+count)
	for _, t := range in.ExistingTitles {
		taken[ai.TitleKey(t)] = true
	}
	rotation := make([]string, len(ai.ContentTypes))
	for i, j := range rng.Perm(len(ai.ContentTypes)) {
		rotation[i] = ai.ContentTypes[j]
	}
	used := map[string]int{}
	next := 0
	ideas := make([]ai.Idea, 0, count)
	for i := 0; i < count; i++ {
		primary := kws[i%len(kws)]
		var other string
		if len(kws) > 1 {
			other = kws[(i+1)%len(kws)]
		}
		detected := detectType(rephrase(primary))
		ctype := detected
		if ctype == "" || used[ctype] > i/len(ai.ContentTypes) {
			// Rotate to the least used type that suits the keyword.
			best := ""
			for tries := 0; tries < len(rotation); tries++ {
				t := rotation[(next+tries)%len(rotation)]
				if suits(t, detected) && (best == "" || used[t] < used[best]) {
					best = t
				}
			}
			if best == "" {
				best = detected
			}
			ctype = best
			for tries := 0; tries < len(rotation) && rotation[next%len(rotation)] != best; tries++ {
				next++
			}
			next++
		}
		used[ctype]++

		targets := relatedTargets(primary, kws, min(len(kws), 2+rng.IntN(3), 10))

		items := 3 + rng.IntN(4)
		plans := titlePlans(ctype, primary, other, items)
		rng.Shuffle(len(plans), func(a, b int) { plans[a], plans[b] = plans[b], plans[a] })
		chosen := ideaPlan{}
		for _, p := range plans {
			if !taken[ai.TitleKey(p.title)] {
				chosen = p
				break
			}
		}
		if chosen.title == "" {
			chosen = uniqueTitle(plans[0], taken)
		}
		taken[ai.TitleKey(chosen.title)] = true

		ideas = append(ideas, ai.Idea{
			Title:          chosen.title,
			ContentType:    ctype,
			TargetKeywords: targets,
			Outline:        outlineFor(ctype, chosen.variant, primary, other, items, rng),
		})
	}
	return ai.IdeaList{Ideas: ideas}
}

// suits reports whether content type t reads well for a keyword whose
// detected type is detected: the title patterns treat the keyword as a noun,
// which a "how to ..." keyword is not.
func suits(t, detected string) bool {
	switch detected {
	case "how_to":
		return t == "how_to"
	case "comparison":
		return t == "comparison" || t == "guide" || t == "post"
	}
	return true
}

// secondTopic is the topic of the other keyword, or "" when it overlaps x
// ("Trail Shoes" and "Trail Shoes for Beginners" make no comparison) or
// is no noun phrase (a question, a comparison).
func secondTopic(x, other string) string {
	if other == "" || shapeOf(other) == shapeQuestion || shapeOf(other) == shapeVersus {
		return ""
	}
	y := titleCase(cutWords(nounForm(other), topicRunes))
	lx, ly := strings.ToLower(x), strings.ToLower(y)
	if strings.Contains(lx, ly) || strings.Contains(ly, lx) {
		return ""
	}
	return y
}

// fitTitle makes a title 10 to 120 runes long.
func fitTitle(t string) string {
	t = cutPhrase(markup.CleanText(t), 120)
	if runeLen(t) < 10 {
		t = cutPhrase(t+": A Practical Guide", 120)
	}
	return t
}

// uniqueTitle adds a distinguishing suffix to plan's title until no taken
// title has the same key.
func uniqueTitle(p ideaPlan, taken map[string]bool) ideaPlan {
	suffixes := []string{": A Fresh Look", ": What to Know", ": Questions and Answers", ": The Essentials"}
	for k := 0; ; k++ {
		suffix := fmt.Sprintf(" (Part %d)", k-len(suffixes)+2)
		if k < len(suffixes) {
			suffix = suffixes[k]
		}
		t := fitTitle(cutWords(p.title, 120-runeLen(suffix)) + suffix)
		if !taken[ai.TitleKey(t)] {
			return ideaPlan{title: t, variant: p.variant}
		}
	}
}

// titlePlans lists the candidate titles of an idea; the variant selects the
// matching outline. A keyword that cannot fill a noun slot (a question, or
// a comparison outside a comparison) heads its titles whole.
func titlePlans(ctype, primary, other string, items int) []ideaPlan {
	primary = rephrase(primary)
	n := strconv.Itoa(items)
	var ts []string
	switch shape := shapeOf(primary); {
	case shape == shapeQuestion:
		ts = wholeKeywordTitles(ctype, questionTitle(primary), n)
	case shape == shapeVersus && ctype != "comparison":
		a, b, _ := splitVersus(primary)
		ts = wholeKeywordTitles(ctype, titleCase(cutWords(a, 50))+" vs "+titleCase(cutWords(b, 50)), n)
	default:
		ts = nounTitles(ctype, primary, other, n)
	}
	ts = dropRepeats(ts)
	plans := make([]ideaPlan, 0, len(ts))
	for i, t := range ts {
		if t != "" {
			plans = append(plans, ideaPlan{title: fitTitle(t), variant: i})
		}
	}
	return plans
}

// wholeKeywordTitles are the titles headed by a whole keyword, a question
// or a comparison, that no noun slot can take. None ends on a noun a
// question cannot have ("... Review", "... Tips"). Listicle titles keep
// the order of the item pools (tips, things to know, mistakes, ways).
func wholeKeywordTitles(ctype, head, n string) []string {
	var rests []string
	switch ctype {
	case "guide":
		rests = []string{"A Complete Guide", "Everything You Need to Know", "What Beginners Should Know"}
	case "listicle":
		rests = []string{n + " Pointers That Make It Easier", n + " Things to Know Before You Decide",
			n + " Common Mistakes to Avoid", n + " Smart Ways to Get It Right"}
	case "how_to":
		rests = []string{"A Step-by-Step Guide", "A Step-by-Step Answer", "How to Work It Out"}
	case "comparison":
		rests = []string{"The Options Compared", "Comparing the Main Options", "How the Options Stack Up"}
	case "review":
		rests = []string{"An Honest Verdict", "Pros, Cons and Our Verdict", "Our Honest Take"}
	default:
		rests = []string{"What You Should Know First", "The Honest Answer", "What Most People Get Wrong",
			"The Short Answer and the Long One"}
	}
	ts := make([]string, len(rests))
	for i, r := range rests {
		ts[i] = headed(head, r)
	}
	return ts
}

// nounTitles are the titles of a keyword that reads as a noun phrase.
func nounTitles(ctype, primary, other, n string) []string {
	x := topic(primary)
	y := secondTopic(x, other)
	switch ctype {
	case "guide":
		return []string{
			"The Complete Guide to " + x,
			x + ": A Practical Guide for Beginners",
			"Everything You Need to Know About " + x,
			"A Beginner's Guide to " + x,
		}
	case "listicle":
		// The variant picks the item pool: tips, things to know, mistakes, ways.
		return []string{
			n + " Practical " + x + " Tips That Actually Work",
			n + " Things to Know Before You Choose " + x,
			n + " Common " + x + " Mistakes and How to Avoid Them",
			n + " Smart Ways to Get More Out of " + x,
		}
	case "how_to":
		if strings.HasPrefix(strings.ToLower(primary), "how to ") {
			full := titleCase(cutWords(primary, topicRunes+7))
			return []string{
				full + ": A Step-by-Step Guide",
				"How to " + x + " the Right Way",
				"How to " + x + ", Even If You Are a Beginner",
			}
		}
		return []string{
			"How to Choose the Right " + x,
			"How to Get Started with " + x,
			"How to Get the Most Out of " + x + ": A Step-by-Step Guide",
		}
	case "comparison":
		a, b := x, y
		if va, vb, ok := splitVersus(primary); ok {
			a, b = titleCase(cutWords(va, 50)), titleCase(cutWords(vb, 50))
		}
		if b != "" {
			return []string{
				a + " vs " + b + ": Which Is Right for You?",
				a + " vs " + b + ": Key Differences Explained",
				a + " or " + b + "? An Honest Comparison",
			}
		}
		return []string{
			x + " Compared: How the Main Options Stack Up",
			"Comparing " + x + ": Which Option Suits You Best?",
			x + " Alternatives Compared",
		}
	case "review":
		return []string{
			x + " Review: Is It Worth It?",
			"An Honest Review of " + x,
			x + " Review: Pros, Cons and Verdict",
		}
	}
	return []string{
		"Why It Pays to Understand " + x,
		"What Most People Get Wrong About " + x,
		x + ": What You Should Know First",
		"The Real Benefits of " + x,
	}
}

// dropRepeats leaves out titles in which the template repeats a word of
// the keyword ("Tomato Varieties for Beginners: A Practical Guide for
// Beginners"), unless every title does. Left-out titles keep their place
// (an empty title) so that variants still match their outlines.
func dropRepeats(ts []string) []string {
	out := make([]string, len(ts))
	kept := 0
	for i, t := range ts {
		if !repeatsWord(t) {
			out[i] = t
			kept++
		}
	}
	if kept == 0 {
		return ts
	}
	return out
}

// repeatsWord reports whether a title has a word of four letters or more
// twice, singular and plural alike.
func repeatsWord(t string) bool {
	seen := map[string]bool{}
	for _, w := range strings.FieldsFunc(strings.ToLower(t), func(r rune) bool {
		return !(unicode.IsLetter(r) || unicode.IsDigit(r) || r == '\'' || r == '-')
	}) {
		w = strings.TrimSuffix(strings.TrimSuffix(w, "'s"), "s")
		if len(w) < 4 {
			continue
		}
		if seen[w] {
			return true
		}
		seen[w] = true
	}
	return false
}

// relatedTargets returns primary and up to n-1 keywords of kws that are
// close variants of it, most alike first: they share a theme word with it
// and add at most one of their own ("sourdough starter", "rye sourdough
// starter" for "how to make sourdough starter", not "gluten free sourdough
// starter"), so that an article written for the targets stays on its
// focus keyword. A keyword with no such variant is its idea's only target.
func relatedTargets(primary string, kws []string, n int) []string {
	targets := []string{primary}
	own := map[string]bool{}
	for _, w := range themeWords(rephrase(primary)) {
		own[w] = true
	}
	type candidate struct {
		k             string
		shared, extra int
	}
	var cands []candidate
	for _, k := range kws {
		if strings.EqualFold(k, primary) {
			continue
		}
		c := candidate{k: k}
		seen := map[string]bool{}
		for _, w := range themeWords(rephrase(k)) {
			if seen[w] {
				continue
			}
			seen[w] = true
			if own[w] {
				c.shared++
			} else {
				c.extra++
			}
		}
		if c.shared > 0 && c.extra <= 1 {
			cands = append(cands, c)
		}
	}
	slices.SortStableFunc(cands, func(a, b candidate) int {
		return cmp.Or(cmp.Compare(b.shared, a.shared), cmp.Compare(a.extra, b.extra))
	})
	for _, c := range cands[:min(len(cands), n-1)] {
		targets = append(targets, c.k)
	}
	return targets
}

// untakenFirst orders kws so that keywords the site's ideas do not already
// aim at come first (in their order), then the taken ones: an idea is
// refused when its primary keyword is taken.
func untakenFirst(kws, taken []string) []string {
	isTaken := make(map[string]bool, len(taken))
	for _, k := range taken {
		isTaken[overlap.KeywordKey(k)] = true
	}
	out := make([]string, 0, len(kws))
	for _, k := range kws {
		if !isTaken[overlap.KeywordKey(k)] {
			out = append(out, k)
		}
	}
	for _, k := range kws {
		if isTaken[overlap.KeywordKey(k)] {
			out = append(out, k)
		}
	}
	return out
}
