package offline

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"html"
	"math/rand/v2"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	textnorm "golang.org/x/text/unicode/norm"

	"github.com/presswork/presswork/internal/ai"
	"github.com/presswork/presswork/internal/errs"
)

// TextModelName is the name of the offline text model; it is also the Model
// reported in Usage.
const TextModelName = "offline-writer-v1"

// Bounds of the offline writer's output.
const (
	maxIdeas         = 100 // more ideas than this are never written
	maxKeywordRunes  = 200 // keywords are cut to this length
	topicRunes       = 60  // a keyword used as a topic in a title or heading
	draftMinWords    = 600 // the draft length aimed for
	draftMaxWords    = 1200
	draftMaxAttempts = 4
)

// TextModel is the offline ai.TextModel: it writes its answers from the
// keyword data with templates, deterministically (the same input gives the
// same answer). It needs no network and is safe for concurrent use.
type TextModel struct{}

var _ ai.TextModel = (*TextModel)(nil)

// NewTextModel returns the offline text model. It is deterministic and names
// itself offline.
func NewTextModel() *TextModel { return &TextModel{} }

// Name returns the model name, "offline-writer-v1".
func (m *TextModel) Name() string { return TextModelName }

// GenerateJSON writes the answer for req.Input, which must be an
// ai.ClusterNameInput, ai.IdeasInput, ai.DraftInput or ai.ImagePromptInput
// (or a pointer to one); anything else is a permanent error.
func (m *TextModel) GenerateJSON(ctx context.Context, req ai.JSONRequest) (resp ai.JSONResponse, err error) {
	if err := ctx.Err(); err != nil {
		return ai.JSONResponse{}, err
	}
	defer func() {
		if r := recover(); r != nil {
			resp = ai.JSONResponse{}
			err = errs.Permanent(fmt.Errorf("offline writer: internal error: %v", r))
		}
	}()
	var answer any
	switch in := req.Input.(type) {
	case ai.ClusterNameInput:
		answer = nameCluster(in, newRand(in))
	case *ai.ClusterNameInput:
		if in != nil {
			answer = nameCluster(*in, newRand(*in))
		}
	case ai.IdeasInput:
		answer = writeIdeas(in, newRand(in))
	case *ai.IdeasInput:
		if in != nil {
			answer = writeIdeas(*in, newRand(*in))
		}
	case ai.DraftInput:
		answer = writeDraft(in)
	case *ai.DraftInput:
		if in != nil {
			answer = writeDraft(*in)
		}
	case ai.ImagePromptInput:
		answer = writeImagePrompt(in)
	case *ai.ImagePromptInput:
		if in != nil {
			answer = writeImagePrompt(*in)
		}
	}
	if answer == nil {
		return ai.JSONResponse{}, errs.Permanent(fmt.Errorf(
			"offline writer: stage %q: unsupported input %T", req.Stage, req.Input))
	}
	content, err := json.Marshal(answer)
	if err != nil {
		return ai.JSONResponse{}, errs.Permanent(fmt.Errorf("offline writer: %w", err))
	}
	if err := ctx.Err(); err != nil {
		return ai.JSONResponse{}, err
	}
	return ai.JSONResponse{
		Content: content,
		Usage: ai.Usage{
			Model:            TextModelName,
			PromptTokens:     len(strings.Fields(req.System)) + len(strings.Fields(req.Prompt)),
			CompletionTokens: len(strings.Fields(string(content))),
		},
	}, nil
}

// newRand seeds a PCG from the FNV-1a hash of v's JSON, so that the same
// input always gives the same answer.
func newRand(v any) *rand.Rand {
	b, _ := json.Marshal(v)
	h := fnv.New64a()
	h.Write(b)
	seed := h.Sum64()
	return rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
}

// ---------------------------------------------------------------------------
// Text helpers

// cleanText drops invalid UTF-8, U+FFFD and control characters and folds
// whitespace; it is the normalization the draft validator compares headings
// with.
func cleanText(s string) string {
	s = strings.ToValidUTF8(s, "")
	s = strings.Map(func(r rune) rune {
		if r == utf8.RuneError || (unicode.IsControl(r) && !unicode.IsSpace(r)) {
			return -1
		}
		return r
	}, s)
	return strings.Join(strings.Fields(s), " ")
}

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

var smallWords = map[string]bool{
	"a": true, "an": true, "the": true, "and": true, "or": true, "but": true, "nor": true,
	"for": true, "of": true, "in": true, "on": true, "at": true, "to": true, "by": true,
	"with": true, "from": true, "vs": true, "vs.": true, "versus": true, "as": true, "per": true,
}

// titleCase capitalizes words except small words after the first; words that
// already have capitals after their first letter (iPhone, SEO) are kept.
func titleCase(s string) string {
	words := strings.Fields(s)
	for i, w := range words {
		if hasInnerUpper(w) {
			continue
		}
		lw := strings.ToLower(w)
		if i > 0 && smallWords[lw] {
			words[i] = lw
			continue
		}
		words[i] = upperFirst(lw)
	}
	return strings.Join(words, " ")
}

func hasInnerUpper(w string) bool {
	prev := rune(-1)
	for i, r := range w {
		if i > 0 && unicode.IsUpper(r) && prev != '-' {
			return true
		}
		prev = r
	}
	return false
}

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
		if !hasInnerUpper(w) {
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
		p = cutWords(cleanText(p), maxKeywordRunes)
		key := strings.ToLower(p)
		if p == "" || seen[key] {
			continue
		}
		seen[key] = true
		out = append(out, p)
	}
	return out
}

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

// ---------------------------------------------------------------------------
// Cluster names

var themeStopWords = map[string]bool{
	"a": true, "an": true, "the": true, "and": true, "or": true, "for": true, "of": true,
	"in": true, "on": true, "to": true, "with": true, "vs": true, "versus": true, "how": true,
	"what": true, "why": true, "is": true, "are": true, "do": true, "does": true, "i": true,
	"you": true, "best": true, "top": true, "my": true, "your": true, "near": true, "me": true,
	"can": true, "should": true, "which": true, "who": true, "when": true, "where": true,
	"at": true, "by": true, "from": true, "it": true, "be": true, "review": true, "reviews": true,
	"guide": true, "tips": true, "vs.": true,
}

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

func nameCluster(in ai.ClusterNameInput, rng *rand.Rand) ai.ClusterName {
	kws := cleanKeywords(in.Keywords)
	if len(kws) == 0 {
		site := cutWords(cleanText(in.SiteName), 60)
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
	if len(theme) == 0 {
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

	count := fmt.Sprintf("%d keywords", len(kws))
	if len(kws) == 1 {
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

func hasInnerUpperAny(s string) bool {
	for _, w := range strings.Fields(s) {
		if hasInnerUpper(w) {
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

// ---------------------------------------------------------------------------
// Ideas

type ideaPlan struct {
	title   string
	variant int
}

func writeIdeas(in ai.IdeasInput, rng *rand.Rand) ai.IdeaList {
	count := min(max(in.Count, 0), maxIdeas)
	kws := cleanKeywords(in.Keywords)
	if len(kws) == 0 {
		fallback := strings.ToLower(cutWords(cleanText(in.ClusterName), maxKeywordRunes))
		if fallback == "" {
			fallback = strings.ToLower(cutWords(cleanText(in.SiteName), maxKeywordRunes))
		}
		if fallback == "" {
			fallback = "this topic"
		}
		kws = []string{fallback}
	}
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
		detected := detectType(primary)
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

		nTargets := min(len(kws), 2+rng.IntN(3), 10)
		targets := make([]string, 0, nTargets)
		for j := 0; j < nTargets; j++ {
			targets = append(targets, kws[(i+j)%len(kws)])
		}

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
// ("Trail Shoes" and "Trail Shoes for Beginners" make no comparison).
func secondTopic(x, other string) string {
	if other == "" {
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
	t = cutWords(cleanText(t), 120)
	if runeLen(t) < 10 {
		t = cutWords(t+": A Practical Guide", 120)
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
// matching outline.
func titlePlans(ctype, primary, other string, items int) []ideaPlan {
	x := topic(primary)
	y := secondTopic(x, other)
	n := strconv.Itoa(items)
	var ts []string
	switch ctype {
	case "guide":
		ts = []string{
			"The Complete Guide to " + x,
			x + ": A Practical Guide for Beginners",
			"Everything You Need to Know About " + x,
			"A Beginner's Guide to " + x,
		}
	case "listicle":
		// The variant picks the item pool: tips, things to know, mistakes, ways.
		ts = []string{
			n + " Practical " + x + " Tips That Actually Work",
			n + " Things to Know Before You Choose " + x,
			n + " Common " + x + " Mistakes and How to Avoid Them",
			n + " Smart Ways to Get More Out of " + x,
		}
	case "how_to":
		if strings.HasPrefix(strings.ToLower(primary), "how to ") {
			full := titleCase(cutWords(primary, topicRunes+7))
			ts = []string{
				full + ": A Step-by-Step Guide",
				"How to " + x + " the Right Way",
				"How to " + x + ", Even If You Are a Beginner",
			}
		} else {
			ts = []string{
				"How to Choose the Right " + x,
				"How to Get Started with " + x,
				"How to Get the Most Out of " + x + ": A Step-by-Step Guide",
			}
		}
	case "comparison":
		a, b := x, y
		if va, vb, ok := splitVersus(primary); ok {
			a, b = titleCase(cutWords(va, 50)), titleCase(cutWords(vb, 50))
		}
		if b != "" {
			ts = []string{
				a + " vs " + b + ": Which Is Right for You?",
				a + " vs " + b + ": Key Differences Explained",
				a + " or " + b + "? An Honest Comparison",
			}
		} else {
			ts = []string{
				x + " Compared: How the Main Options Stack Up",
				"Comparing " + x + ": Which Option Suits You Best?",
				x + " Alternatives Compared",
			}
		}
	case "review":
		ts = []string{
			x + " Review: Is It Worth It?",
			"An Honest Review of " + x,
			x + " Review: Pros, Cons and Verdict",
		}
	default:
		ts = []string{
			"Why It Pays to Understand " + x,
			"What Most People Get Wrong About " + x,
			x + ": What You Should Know First",
			"The Real Benefits of " + x,
		}
	}
	plans := make([]ideaPlan, len(ts))
	for i, t := range ts {
		plans[i] = ideaPlan{title: fitTitle(t), variant: i}
	}
	return plans
}

var listItemPools = [][]string{
	{ // tips
		"Start with a Clear Goal", "Learn the Basics Before You Spend", "Compare a Few Options Side by Side",
		"Read Real User Experiences", "Keep It Simple at First", "Track What Works",
		"Review and Adjust Regularly", "Ask for Advice Early",
	},
	{ // things to know
		"Your Needs Come First", "Price Is Not Everything", "Quality Shows in the Details",
		"Reviews Only Tell Part of the Story", "Upkeep Matters More Than You Think",
		"The Cheapest Option Can Cost More", "Timing Can Make a Difference",
	},
	{ // mistakes
		"Skipping the Research", "Focusing Only on Price", "Ignoring the Fine Print",
		"Copying What Everyone Else Does", "Trying to Do Everything at Once", "Giving Up Too Early",
		"Not Asking for Help",
	},
	{ // ways
		"Set Up the Basics Properly", "Build a Simple Routine", "Use What You Already Have",
		"Learn from Other People", "Measure Your Results", "Keep Everything Up to Date",
		"Experiment a Little",
	},
}

func pickOne(rng *rand.Rand, options ...string) string { return options[rng.IntN(len(options))] }

// outlineFor writes a 4-8 heading outline that fits the content type.
func outlineFor(ctype string, variant int, primary, other string, items int, rng *rand.Rand) []ai.Heading {
	x := topic(primary)
	y := secondTopic(x, other)
	var hs []ai.Heading
	h2 := func(t string) { hs = append(hs, ai.Heading{Level: 2, Text: cutWords(t, 120)}) }
	h3 := func(t string) { hs = append(hs, ai.Heading{Level: 3, Text: cutWords(t, 120)}) }
	switch ctype {
	case "guide":
		h2(pickOne(rng, "An Overview of "+x, x+" at a Glance", "Understanding "+x))
		h2(pickOne(rng, "Why It Pays to Understand "+x, "The Benefits of "+x))
		h2("Getting Started with " + x)
		h3("What You Need First")
		h3("Your First Steps")
		if y != "" {
			h2("The Role of " + y)
		} else {
			h2("Frequently Asked Questions")
		}
		h2(pickOne(rng, "Common Mistakes to Avoid", "Mistakes Beginners Make"))
		h2(pickOne(rng, "Final Thoughts", "Key Takeaways"))
	case "listicle":
		pool := append([]string(nil), listItemPools[variant%len(listItemPools)]...)
		rng.Shuffle(len(pool), func(a, b int) { pool[a], pool[b] = pool[b], pool[a] })
		h2(pickOne(rng, "What to Look For in "+x, "What to Know Before You Begin", "Why These Points Matter"))
		for i := 0; i < items && i < len(pool); i++ {
			h2(strconv.Itoa(i+1) + ". " + pool[i])
		}
		h2(pickOne(rng, "Final Thoughts", "The Bottom Line"))
	case "how_to":
		h2("What You Need Before You Start")
		if strings.HasPrefix(strings.ToLower(primary), "how to ") {
			h2("Step-by-Step: How to " + x)
		} else {
			h2("Step-by-Step Instructions")
		}
		steps := []string{"Plan Your Approach", "Prepare Everything You Need", "Work Through It Carefully", "Check the Result"}
		nSteps := 3 + rng.IntN(2)
		for i := 0; i < nSteps; i++ {
			h3("Step " + strconv.Itoa(i+1) + ": " + steps[i])
		}
		h2(pickOne(rng, "Troubleshooting Common Problems", "Common Mistakes and How to Fix Them"))
		h2("Final Thoughts")
	case "comparison":
		a, b := x, y
		if va, vb, ok := splitVersus(primary); ok {
			a, b = titleCase(cutWords(va, 50)), titleCase(cutWords(vb, 50))
		}
		if b != "" {
			h2(a + " vs " + b + " at a Glance")
			h2(a + ": The Basics")
			h2(b + ": The Basics")
			h2("Key Differences")
		} else {
			h2("What to Compare When Choosing " + x)
			h2("The Main Options at a Glance")
			h2("Key Differences")
		}
		h3("Price and Value")
		h3("Ease of Use")
		h3(pickOne(rng, "Quality and Performance", "Durability and Support"))
		h2(pickOne(rng, "Which One Should You Choose?", "Final Verdict"))
	case "review":
		h2(x + " at a Glance")
		h2("What We Liked")
		h3("Everyday Use")
		h3("Value for Money")
		h2("What Could Be Better")
		h2("Who Should Consider " + x + "?")
		if y != "" {
			h2("Alternatives Worth Considering: " + y)
		} else {
			h2("Alternatives Worth Considering")
		}
		h2("The Verdict on " + x)
	default:
		h2(pickOne(rng, "Why It Pays to Understand "+x, "Why People Care About "+x))
		h2("The Basics of " + x)
		if y != "" {
			h2("The Role of " + y)
		}
		h2(pickOne(rng, "Common Myths About "+x, "What Most People Get Wrong"))
		h2("Practical Tips to Get Started")
		h3("Small First Steps")
		h3("Consistency over Intensity")
		h2("Final Thoughts")
	}
	if len(hs) > 8 {
		hs = hs[:8]
	}
	return hs
}

// ---------------------------------------------------------------------------
// Drafts

func writeDraft(in ai.DraftInput) ai.Draft {
	// Try a few word targets until the article lands in the length range.
	target := 0
	var d ai.Draft
	for attempt := 0; attempt < draftMaxAttempts; attempt++ {
		rng := newRand(struct {
			In      ai.DraftInput
			Attempt int
		}{in, attempt})
		if attempt == 0 {
			target = 750 + rng.IntN(300)
		}
		d = (&draftWriter{rng: rng}).write(in, target)
		n := ai.WordCount(d.BodyHTML)
		switch {
		case n < draftMinWords:
			target = target * 3 / 2
		case n > draftMaxWords:
			target = target * 2 / 3
		default:
			return d
		}
	}
	return d
}

type draftWriter struct {
	rng   *rand.Rand
	b     strings.Builder
	words int
	kws   []string // short forms of the target keywords, for sentences
	kwi   int
	noun  string
	used  map[string]bool
}

func contentNoun(ctype string) string {
	switch ctype {
	case "guide", "how_to":
		return "guide"
	case "listicle":
		return "list"
	case "comparison":
		return "comparison"
	case "review":
		return "review"
	}
	return "article"
}

// nounForm turns a keyword into a phrase that reads well in a sentence
// where a noun is expected: search modifiers are dropped and "how to make
// bread" becomes "making bread".
func nounForm(k string) string {
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

func (w *draftWriter) write(in ai.DraftInput, target int) ai.Draft {
	w.used = map[string]bool{}
	kws := cleanPhrases(in.TargetKeywords)
	focus := ""
	if len(kws) > 0 {
		focus = kws[0]
	}
	if focus == "" {
		focus = strings.ToLower(cutWords(cleanText(in.ClusterName), maxKeywordRunes))
	}
	if focus == "" {
		focus = strings.ToLower(cutWords(coreTopic(cleanText(in.Title)), maxKeywordRunes))
	}
	if focus == "" {
		focus = "this topic"
	}
	if len(kws) == 0 {
		kws = []string{focus}
	}
	seen := map[string]bool{}
	for _, k := range kws {
		k = shortKeyword(nounForm(k))
		if !seen[strings.ToLower(k)] {
			seen[strings.ToLower(k)] = true
			w.kws = append(w.kws, k)
		}
	}
	w.noun = contentNoun(in.ContentType)

	title := cleanText(in.Title)
	if title == "" {
		title = titleCase(cutWords(focus, 100))
	}
	title = fitTitle(title)

	// Headings as written: level 2 or 3 and the cleaned text.
	type section struct {
		level int
		text  string
	}
	sections := make([]section, len(in.Outline))
	for i, h := range in.Outline {
		level := h.Level
		if level != 3 {
			level = 2
		}
		sections[i] = section{level: level, text: cleanText(h.Text)}
	}
	var h2s, h3s []string
	for _, s := range sections {
		if s.level == 2 {
			h2s = append(h2s, s.text)
		} else {
			h3s = append(h3s, s.text)
		}
	}

	// Introduction: the first sentence names the focus keyword in full.
	openers := introOpeners
	if detectType(focus) == "how_to" {
		openers = openers[:3] // the ones that read well with "how to ..."
	}
	parts := strings.SplitN(w.choose(openers), "{F}", 2)
	focusText := focus
	if parts[0] == "" {
		focusText = upperFirst(focus)
	}
	intro := html.EscapeString(parts[0]) + "<strong>" + html.EscapeString(focusText) + "</strong>"
	if len(parts) == 2 {
		intro += html.EscapeString(parts[1])
	}
	w.words += countWords(strings.Join(parts, focus))
	w.paragraph(intro, w.sentences(2+w.rng.IntN(2), bodySentences, "")...)
	switch {
	case len(h2s) >= 2 && runeLen(h2s[0]) <= 70 && runeLen(h2s[len(h2s)-1]) <= 70:
		w.paragraph("", fmt.Sprintf("This %s is organised in %d main sections, starting with “%s” and ending with “%s”.",
			w.noun, len(h2s), h2s[0], h2s[len(h2s)-1]), w.pick(introClosers))
	case len(h2s) >= 2:
		w.paragraph("", fmt.Sprintf("This %s is organised in %d main sections.", w.noun, len(h2s)), w.pick(introClosers))
	default:
		w.paragraph("", w.pick(introClosers))
	}
	switch in.ContentType {
	case "how_to":
		steps := h3s
		if len(steps) == 0 {
			steps = h2s
		}
		w.list("ol", "Here is the process at a glance:", steps, true)
	case "listicle":
		var items []string
		for _, h := range h2s {
			if stripItemNumber(h) != h {
				items = append(items, h)
			}
		}
		if len(items) < 2 {
			items = h2s
		}
		w.list("ul", "At a glance, this list covers:", items, true)
	}

	// Sections.
	conclusionDone := false
	reserve := 70
	for i, s := range sections {
		fmt.Fprintf(&w.b, "<h%d>%s</h%d>\n", s.level, html.EscapeString(s.text), s.level)
		w.words += countWords(s.text)
		last := i == len(sections)-1
		if last && isConclusionHeading(s.text) {
			w.conclusion()
			conclusionDone = true
			break
		}
		remaining := len(sections) - i
		budget := max((target-w.words-reserve)/remaining, 25)
		start := w.words
		for p := 0; p < 4 && (p == 0 || w.words-start < budget-10); p++ {
			n := 2 + w.rng.IntN(3)
			if budget-(w.words-start) < 45 {
				n = 2
			}
			var lead string
			if p == 0 {
				lead = w.opener(s.text)
			}
			if lead != "" {
				w.paragraph("", append([]string{lead}, w.sentences(n-1, bodySentences, "")...)...)
			} else {
				w.paragraph("", w.sentences(n, bodySentences, "")...)
			}
			if w.words-start == 0 {
				break
			}
		}
		if i == 0 && in.ContentType == "comparison" {
			w.list("ul", "The main criteria to weigh up:", []string{
				"Price and overall value",
				"Ease of use from day one",
				"Quality, durability and support",
				"How well it fits your needs for " + w.kws[0],
			}, false)
		}
	}
	if !conclusionDone {
		w.conclusion()
	}

	body := strings.TrimSpace(w.b.String())
	return ai.Draft{
		Title:           title,
		Slug:            makeSlug(title, focus),
		Excerpt:         w.excerpt(focus, h2s),
		MetaTitle:       metaTitle(title),
		MetaDescription: w.metaDescription(focus, in.SiteName),
		FocusKeyword:    focus,
		BodyHTML:        body,
	}
}

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

func (w *draftWriter) excerpt(focus string, h2s []string) string {
	f := cutWords(focus, 120)
	var topics []string
	for _, h := range h2s {
		if len(topics) == 2 {
			break
		}
		if runeLen(h) > 80 {
			continue
		}
		if h = headingRef(h); h != "" {
			topics = append(topics, h)
		}
	}
	var s string
	if len(topics) == 2 {
		s = pickOne(w.rng,
			fmt.Sprintf("A practical %s about %s, from %s to %s.", w.noun, f, topics[0], topics[1]),
			fmt.Sprintf("Everything you need to know about %s, including %s and %s.", f, topics[0], topics[1]),
			fmt.Sprintf("Clear, practical advice on %s: %s, %s and more.", f, topics[0], topics[1]),
		)
	} else {
		s = fmt.Sprintf("Clear, practical advice on %s, with tips you can use straight away.", f)
	}
	return cutWords(upperFirst(s), 300)
}

const metaFiller = "Practical advice, clear explanations and answers to the most common questions."

func (w *draftWriter) metaDescription(focus, site string) string {
	f := shortKeyword(focus)
	site = cutWords(cleanText(site), 40)
	var s string
	switch w.rng.IntN(3) {
	case 0:
		s = fmt.Sprintf("Learn about %s: what matters, what to avoid and how to get started with confidence.", f)
	case 1:
		s = fmt.Sprintf("A practical %s about %s, with clear steps, common mistakes to avoid and tips that work.", w.noun, f)
	default:
		s = fmt.Sprintf("Everything you need to know about %s, explained simply, with practical tips you can use today.", f)
	}
	s = upperFirst(s)
	if site != "" && runeLen(s)+runeLen(site)+8 <= 160 {
		s += " From " + site + "."
	}
	if runeLen(s) < 50 {
		s += " " + metaFiller
	}
	if runeLen(s) > 160 {
		s = cutWords(s, 159) + "…"
	}
	return s
}

func metaTitle(title string) string {
	t := cutWords(title, 60)
	if strings.TrimSpace(t) == "" {
		t = string([]rune(title)[:min(60, runeLen(title))])
	}
	if strings.TrimSpace(t) == "" {
		t = "Article"
	}
	return t
}

// translit spells letters that do not decompose into ASCII.
var translit = map[rune]string{
	'ß': "ss", 'æ': "ae", 'œ': "oe", 'ø': "o", 'đ': "d", 'ð': "d", 'ł': "l", 'þ': "th",
	'ħ': "h", 'ı': "i", 'ŋ': "n", 'ŧ': "t", '&': "and",
}

// slugify turns s into lower-case ASCII words joined by single hyphens, at
// most max bytes long, cut at a hyphen where possible.
func slugify(s string, max int) string {
	var b strings.Builder
	hyphen := true // suppress a leading hyphen
	for _, r := range textnorm.NFKD.String(s) {
		if unicode.Is(unicode.Mn, r) || r == '\'' || r == '’' {
			continue
		}
		r = unicode.ToLower(r)
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			b.WriteRune(r)
			hyphen = false
		case translit[r] != "":
			if r == '&' && !hyphen {
				b.WriteByte('-')
			}
			b.WriteString(translit[r])
			if r == '&' {
				b.WriteByte('-')
				hyphen = true
			} else {
				hyphen = false
			}
		default:
			if !hyphen {
				b.WriteByte('-')
				hyphen = true
			}
		}
	}
	slug := strings.Trim(b.String(), "-")
	if len(slug) > max {
		slug = slug[:max]
		if i := strings.LastIndexByte(slug, '-'); i >= max/2 {
			slug = slug[:i]
		}
		slug = strings.Trim(slug, "-")
	}
	return slug
}

func makeSlug(title, focus string) string {
	if s := slugify(title, 80); s != "" {
		return s
	}
	if s := slugify(focus, 80); s != "" {
		return s
	}
	h := fnv.New32a()
	h.Write([]byte(title + "\x00" + focus))
	return fmt.Sprintf("article-%08x", h.Sum32())
}

// countWords counts words in plain text like ai.WordCount: runs of
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

// ---------------------------------------------------------------------------
// Sentence templates. {k} and {k2} are target keywords, {h}/{H} the heading
// text (lower-cased words / first letter capitalized), {noun} the kind of
// article, {F} (intro openers only) the full focus keyword in <strong>.

// introOpeners: the first three also read well with a "how to ..." keyword.
var introOpeners = []string{
	"If you have been searching for {F}, you are in the right place.",
	"There is a lot of advice about {F} out there, and not all of it is useful.",
	"Plenty of people search for {F} every day, and most of them want the same thing: clear, honest answers.",
	"{F} is one of those topics that looks simple until you try to get it right.",
	"Getting {F} right does not have to be complicated.",
	"Whether you are just starting out or want to do better, {F} is worth understanding properly.",
}

var introClosers = []string{
	"By the end, you will know what matters, what to skip and what to do next.",
	"Read it from start to finish, or jump straight to the section you need.",
	"Each section is short and practical, so you can put the ideas to work straight away.",
	"The goal is simple: help you make better decisions with less guesswork.",
}

var headingOpeners = []string{
	"This section covers {h} and why it matters for anyone interested in {k}.",
	"Let’s look more closely at {h}.",
	"When it comes to {h}, a few points are worth knowing.",
	"Here is what you should know about {h}.",
	"A lot of questions about {k} come back to {h}.",
	"Next up: {h}, and what it means for {k}.",
	"It is worth spending a moment on {h} before moving on.",
}

// itemOpeners introduce numbered steps and list items ({h} is the item text
// without its number, usually an imperative: "plan your approach").
var itemOpeners = []string{
	"This point is simple to state: {h}.",
	"The idea here is straightforward: {h}.",
	"Put simply: {h}.",
	"It sounds obvious, but it is easy to forget: {h}.",
	"Here the advice is clear: {h}.",
}

var questionOpeners = []string{
	"“{h}” is one of the first questions people ask, and the answer is simpler than it seems.",
	"A common question is “{h}” The honest answer depends on your situation, but a few principles apply in almost every case.",
	"Many readers start by asking “{h}” Here is a clear, practical answer.",
	"Before going further, it is worth answering “{h}” properly.",
}

var bodySentences = []string{
	"A little planning goes a long way with {k}, and it saves you from the most common frustrations.",
	"Most people find {k} easier once they understand a few simple principles.",
	"It helps to think about what you actually need from {k} before you look at any specific option.",
	"There is no single right answer here, because the best approach to {k} depends on your goals, your budget and your experience.",
	"Small details often make the biggest difference, so take the time to look at them closely.",
	"If you are new to {k}, start with the basics and build from there rather than trying to do everything at once.",
	"Experienced readers will recognise this advice, but it is worth repeating because it is so often ignored.",
	"A good rule of thumb is to keep things simple until you have a clear reason to add complexity.",
	"Write down what matters most to you; it makes every later decision about {k} faster.",
	"Be wary of advice that promises quick results, because real progress with {k} usually takes a little patience.",
	"Comparing two or three options side by side is often the quickest way to see what really matters.",
	"The right choice for someone else is not automatically the right choice for you.",
	"Think about where {k} will fit into your everyday routine, not just how things look on paper.",
	"Reading a few honest experiences from other people can reveal problems that product pages never mention.",
	"When in doubt, choose the option that is easier to change later.",
	"Cost matters, but value over time matters more than the price you pay on day one.",
	"It is also worth checking how your choices around {k} will hold up over months rather than days.",
	"Keep notes as you go, so you can see what worked and repeat it.",
	"Many problems with {k} come from skipping this step, so do not rush it.",
	"Once the fundamentals are in place, fine-tuning becomes much more rewarding.",
	"Think of {k} as a long-term project rather than a one-off decision.",
	"Asking one simple question, what problem am I trying to solve, clears up a lot of confusion.",
	"The good news is that you do not need to be an expert to get this right.",
	"Clear goals make it much easier to judge whether your approach to {k} is working for you.",
	"Try one change at a time, so you know which change made the difference.",
	"Quality tends to show in the details: materials, finish, support and how easy something is to live with.",
	"Do not be afraid to revisit your choices as your needs change.",
	"A realistic plan beats an ambitious one that you abandon after a week.",
	"Look for consistent feedback rather than a single glowing or angry opinion.",
	"It is easy to overthink {k}; a good decision made today beats a perfect one made never.",
	"Set aside a little time to test what you have learned before you commit.",
	"Where possible, start with a small step that is easy to undo.",
	"The most useful question is not what is best in general, but what is best for your situation.",
	"You will get more out of {k} if you understand why each step matters, not just what to do.",
	"Check the basics first; they explain most of the problems people run into.",
	"Be honest about how much time and money you want to invest in {k}.",
	"Trends come and go, so focus on what will still be useful to you a year from now.",
	"Build on what already works instead of starting over every time.",
	"If something feels unnecessarily complicated, there is usually a simpler way to do it.",
	"A short checklist can keep you on track when there are many things to remember.",
	"Progress with {k} is rarely a straight line, and that is perfectly normal.",
	"Spending a few extra minutes here can save hours of frustration later.",
	"Your own experience is the best guide you have, so pay attention to what it tells you.",
	"The difference between a good result and a great one often comes down to consistency.",
	"This is also the moment to think about {k2}, since it is closely connected to {k}.",
	"Many readers who ask about {k} also want to know about {k2}, so it is worth keeping both in mind.",
	"If you are also interested in {k2}, the same principles apply.",
}

var conclusionSentences = []string{
	"In short, success with {k} comes down to a little preparation and a lot of consistency.",
	"Start with the basics covered above, and refine your approach as you learn what works for you.",
	"If you take only one thing away from this {noun}, let it be this: good decisions about {k} start with knowing your own needs.",
	"Come back to this {noun} whenever you need a refresher on {k}.",
	"Whatever your starting point, the steps above will help you make steady progress.",
	"Take it one step at a time, and you will be surprised how quickly {k} starts to feel familiar.",
}

// ---------------------------------------------------------------------------
// Image prompts

// Bounds of the offline image prompt, within the stage's limits.
const (
	imageTopicRunes = 200
	altTextRunes    = 125
)

// writeImagePrompt describes a featured image for the article's topic (the
// focus keyword, else the title) and writes its alt text; when in-article
// images are asked for, it places them after headings spread over the
// article, each describing its section.
func writeImagePrompt(in ai.ImagePromptInput) ai.ImagePrompt {
	topic := cleanText(in.FocusKeyword)
	if topic == "" {
		topic = cleanText(in.Title)
	}
	topic = cutWords(topic, imageTopicRunes)
	if topic == "" {
		topic = "an everyday scene"
	}
	styles := []string{
		"soft natural morning light, shallow depth of field",
		"warm late-afternoon light, calm and inviting mood",
		"bright overcast daylight, clean and uncluttered composition",
	}
	rng := newRand(in)
	prompt := "Editorial photograph illustrating " + topic + ": a realistic, well-composed scene, " +
		styles[rng.IntN(len(styles))] + ", wide landscape format with space around the subject, " +
		"no text, no logos, no people's faces."
	out := ai.ImagePrompt{Prompt: prompt, AltText: altText(topic), Inline: []ai.InlineImagePrompt{}}

	headings := ai.InlineHeadings(in)
	n := min(max(in.InlineCount, 0), len(headings))
	for i := range n {
		// Spread the images over the article: the i-th of n sections.
		h := headings[i*len(headings)/n]
		section := cutWords(cleanText(h), imageTopicRunes)
		if section == "" {
			section = "one step of the article"
		}
		out.Inline = append(out.Inline, ai.InlineImagePrompt{
			Heading: h,
			Prompt: "Editorial photograph for the section \"" + section + "\" of an article about " + topic +
				": a realistic detail shot, " + styles[(rng.IntN(len(styles))+i)%len(styles)] +
				", landscape format, no text, no logos, no people's faces.",
			AltText: altText(section + ", " + topic),
		})
	}
	return out
}

// altText describes a photograph of subject in at most 125 characters.
func altText(subject string) string {
	const suffix = " illustrated in a photograph"
	alt := cutWords(upperFirst(subject), altTextRunes-len(suffix))
	alt += suffix
	if runeLen(alt) < 5 {
		alt = "A featured photograph"
	}
	return alt
}
