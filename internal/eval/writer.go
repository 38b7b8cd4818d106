package eval

import (
	"cmp"
	"context"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/presswork/presswork/internal/ai"
	"github.com/presswork/presswork/internal/ai/offline"
)

// IdeasPerCluster is how many ideas the writer checks ask of each cluster:
// one of each content type, so that every title template family is met.
var IdeasPerCluster = len(ai.ContentTypes)

// ideaKeywords is the worker's: the keywords an ideas call sees
// (internal/worker/ideas.go), by volume.
const ideaKeywords = 30

// SEO field limits (internal/ai/limits.go).
const (
	metaTitleMax       = 60
	metaDescriptionMax = 160
)

// The writer checks, in the order the table shows them.
const (
	FaultOffCluster      = "ideas off cluster"
	FaultBrokenTitle     = "broken titles"
	FaultMetaTitle       = "meta_title cut or long"
	FaultMetaDescription = "meta_description cut or long"
	FaultFalseCount      = "false keyword counts"
	FaultDuplicateName   = "duplicate names"
	FaultCasing          = "name casing"
	FaultFailed          = "failed calls"
)

// FaultNames lists the checks in table order.
var FaultNames = []string{FaultOffCluster, FaultBrokenTitle, FaultMetaTitle, FaultMetaDescription,
	FaultFalseCount, FaultDuplicateName, FaultCasing, FaultFailed}

// WriterReport counts the offline writer's faults over a clustering's
// clusters, with examples of each.
type WriterReport struct {
	Clusters, Ideas, Drafts int
	Faults                  map[string]int
	Examples                map[string][]string
}

func (r *WriterReport) fault(kind, example string) {
	r.Faults[kind]++
	if len(r.Examples[kind]) < 5 {
		r.Examples[kind] = append(r.Examples[kind], example)
	}
}

// CheckWriter asks the offline writer for IdeasPerCluster ideas of every
// cluster and a draft of every idea, as the ideas and draft stages ask
// (worker.IdeaWriter, worker.Drafter: the cluster's 30 keywords of most
// volume, its name and description; the idea's title, type, targets and
// outline), and counts the faults of issue #21's "Offline writer
// coherence" in names, descriptions, ideas and drafts.
func CheckWriter(ctx context.Context, c Clustering) (WriterReport, error) {
	r := WriterReport{Clusters: len(c.Clusters), Faults: map[string]int{}, Examples: map[string][]string{}}
	writer, err := ai.NewWriter(offline.NewTextModel())
	if err != nil {
		return r, err
	}
	checkNames(&r, c)
	for _, cl := range c.Clusters {
		ideas, _, err := writer.Ideas(ctx, ideasInput(c, cl))
		if err != nil {
			r.fault(FaultFailed, fmt.Sprintf("ideas of %q: %v", cl.Name, err))
			continue
		}
		members := map[string]bool{}
		for _, p := range c.Phrases(cl) {
			members[fold(p)] = true
		}
		for _, idea := range ideas {
			r.Ideas++
			checkIdea(&r, cl, idea, members)
			d, _, err := writer.Draft(ctx, ai.DraftInput{SiteName: SiteName, ClusterName: cl.Name, Title: idea.Title,
				ContentType: idea.ContentType, TargetKeywords: idea.TargetKeywords, Outline: idea.Outline})
			if err != nil {
				r.fault(FaultFailed, fmt.Sprintf("draft of %q: %v", idea.Title, err))
				continue
			}
			r.Drafts++
			checkDraft(&r, idea, d)
		}
	}
	return r, nil
}

// ideasInput is what the ideas stage gives the writer for a cluster with
// no ideas yet.
func ideasInput(c Clustering, cl Cluster) ai.IdeasInput {
	byVolume := slices.Clone(cl.Members)
	slices.SortFunc(byVolume, func(a, b int) int { // volume DESC NULLS LAST, id
		va, vb := c.Set.Keywords[a].Volume, c.Set.Keywords[b].Volume
		switch {
		case va == nil && vb == nil:
			return cmp.Compare(a, b)
		case va == nil:
			return 1
		case vb == nil:
			return -1
		}
		return cmp.Or(cmp.Compare(*vb, *va), cmp.Compare(a, b))
	})
	infos := make([]ai.KeywordInfo, 0, ideaKeywords)
	for _, i := range byVolume[:min(ideaKeywords, len(byVolume))] {
		infos = append(infos, c.Set.Keywords[i].info())
	}
	return ai.IdeasInput{SiteName: SiteName, ClusterName: cl.Name, ClusterDescription: cl.Description,
		Keywords: infos, Count: IdeasPerCluster, ExistingTitles: []string{}}
}

// countRE finds a keyword count in a description: "(27 keywords in
// total)", "; 10 keywords in this cluster".
var countRE = regexp.MustCompile(`(\d+) keywords?\b`)

// checkNames counts, per site (one clustering), repeated cluster names, and
// names and descriptions whose counts or casing are false.
func checkNames(r *WriterReport, c Clustering) {
	seen := map[string]bool{}
	for _, cl := range c.Clusters {
		key := fold(cl.Name)
		if seen[key] {
			r.fault(FaultDuplicateName, cl.Name)
		}
		seen[key] = true
		for _, m := range countRE.FindAllStringSubmatch(cl.Description, -1) {
			if n, _ := strconv.Atoi(m[1]); n != len(cl.Members) {
				r.fault(FaultFalseCount, fmt.Sprintf("%q says %q, has %d", cl.Name, m[0], len(cl.Members)))
			}
		}
		if w, want, bad := badCasing(cl.Name); bad {
			r.fault(FaultCasing, fmt.Sprintf("%q: %q should be %q", cl.Name, w, want))
		}
	}
}

// checkIdea counts an idea whose target keywords are not all its
// cluster's, and a title of broken grammar.
func checkIdea(r *WriterReport, cl Cluster, idea ai.Idea, members map[string]bool) {
	for _, k := range idea.TargetKeywords {
		if !members[fold(k)] {
			r.fault(FaultOffCluster, fmt.Sprintf("%q (cluster %q) targets %q", idea.Title, cl.Name, k))
			break
		}
	}
	if why := BrokenTitle(idea.Title); why != "" {
		r.fault(FaultBrokenTitle, fmt.Sprintf("%q: %s", idea.Title, why))
	}
}

// checkDraft counts SEO fields over their length or cut mid-word or
// mid-phrase.
func checkDraft(r *WriterReport, idea ai.Idea, d ai.Draft) {
	if why := CutField(d.MetaTitle, d.Title, metaTitleMax); why != "" {
		r.fault(FaultMetaTitle, fmt.Sprintf("%q of %q: %s", d.MetaTitle, idea.Title, why))
	}
	if why := CutField(d.MetaDescription, "", metaDescriptionMax); why != "" {
		r.fault(FaultMetaDescription, fmt.Sprintf("%q: %s", d.MetaDescription, why))
	}
}

// Words a question keyword starts with: auxiliary verbs, which no noun
// slot of a sentence can take, and question words, which read as a noun
// clause after a preposition ("Know About How to ...") but not after an
// article or an adjective ("The Best How to ...").
const (
	auxiliaries   = `is|are|can|does|should|will|was|were|did`
	questionWords = `how|what|why|when|where|which|who`
)

// brokenTitleRules are the grammar faults a title is checked for, beyond
// doubled words (doubled: Go's regexp has no back-references), each with
// what it says.
var brokenTitleRules = []struct {
	re     *regexp.Regexp
	why    string
	unless *regexp.Regexp // a title this matches is fine
}{
	// "The Real Benefits of Is the Japan Rail Pass Worth It", "Air Fryer vs
	// Are Air Fryers Healthy": a question keyword where a noun belongs.
	{regexp.MustCompile(`(?i)\b(of|for|about|to|with|on|in|at|from|the|a|an|your|best|top|common|practical|smart|choose|vs\.?|versus|than) (` +
		auxiliaries + `)\b`), "a question keyword embedded mid-sentence", nil},
	{regexp.MustCompile(`(?i)\b(the|a|an|your|best|top|common|practical|smart|choose|vs\.?|versus|than) (` +
		questionWords + `|do)\b`), "a question keyword embedded mid-sentence", nil},
	// "How Much Does a Trip to Japan Cost Review": a question made a noun.
	// "What Most People Get Wrong About Asana Alternatives" is not one: the
	// noun is the object of "about".
	{regexp.MustCompile(`(?i)^(` + auxiliaries + `|do|` + questionWords + `)\b.*\b(review|reviews|alternatives|explained|mistakes|tips)$`),
		"a question keyword used as a noun", regexp.MustCompile(`(?i)\babout\b`)},
}

// BrokenTitle returns what is wrong with a title's grammar, "" when
// nothing is: a word doubled ("Review Review"), a modifier twice ("Best ...
// Best"), a question keyword embedded mid-sentence ("Benefits of Is the ...")
// or used as a noun ("How Much Does It Cost Review").
func BrokenTitle(title string) string {
	if w := doubled(title); w != "" {
		return fmt.Sprintf("%q doubled", w)
	}
	for _, rule := range brokenTitleRules {
		if rule.re.MatchString(title) && (rule.unless == nil || !rule.unless.MatchString(title)) {
			return rule.why
		}
	}
	if w := questionAfterNoun(title); w != "" {
		return fmt.Sprintf("a question keyword embedded mid-sentence (after %q)", w)
	}
	words := strings.Fields(strings.ToLower(title))
	if last := words[len(words)-1]; danglingWords[last] && last != "you" {
		return fmt.Sprintf("ends mid-phrase (on %q)", last)
	}
	return ""
}

// questionLeads are the words after which a question word may start a
// clause ("Mistakes and How to Avoid Them", "Learn How to ...").
var questionLeads = map[string]bool{
	"and": true, "or": true, "but": true, "about": true, "on": true, "of": true, "to": true, "know": true,
	"learn": true, "see": true, "find": true, "decide": true, "choose": true, "explained": true, "is": true,
	"explains": true, "shows": true, "wonder": true, "ask": true, "matters": true, "here's": true,
}

var questionWordRE = regexp.MustCompile(`^(` + questionWords + `)$`)

// questionAfterNoun returns the word after which a title's question word
// ("how", "what", ...) starts a clause where none can start: "Fungus Gnats
// in Houseplants How to Get Rid of". Punctuation before it ends the check
// (": How to ...").
func questionAfterNoun(title string) string {
	words := strings.Fields(title)
	for i := 1; i < len(words); i++ {
		w := strings.ToLower(words[i])
		prev := words[i-1]
		if !questionWordRE.MatchString(w) || strings.ContainsAny(prev, ":;,.?!—–-(") {
			continue
		}
		if !questionLeads[strings.ToLower(prev)] {
			return prev
		}
	}
	return ""
}

// repeatModifiers are the modifiers a title should not have twice.
var repeatModifiers = map[string]bool{"best": true, "review": true, "vs": true, "top": true, "cheap": true}

// doubled returns a word that a title has twice in a row (case ignored;
// numbers are not words here),
// or a modifier it has twice anywhere.
func doubled(title string) string {
	words := strings.FieldsFunc(strings.ToLower(title), func(r rune) bool {
		return !(unicode.IsLetter(r) || r == '\'') // "Ratio 1:1:1" doubles no word
	})
	count := map[string]int{}
	for i, w := range words {
		if i > 0 && w == words[i-1] {
			return w
		}
		if count[w]++; repeatModifiers[w] && count[w] == 2 {
			return w
		}
	}
	return ""
}

// danglingWords cannot end a title or a sentence: a cut after one of them
// is a cut mid-phrase ("..., Even If You Are").
var danglingWords = map[string]bool{
	"a": true, "an": true, "the": true, "and": true, "or": true, "of": true, "for": true, "to": true,
	"in": true, "on": true, "at": true, "by": true, "with": true, "from": true, "your": true, "you": true,
	"are": true, "is": true, "if": true, "even": true, "than": true, "that": true, "how": true, "what": true,
	"vs": true, "versus": true, "about": true, "into": true, "when": true, "while": true, "can": true,
	"get": true, "more": true, "most": true, "which": true, "who": true, "but": true, "so": true,
}

// CutField returns what is wrong with an SEO field made from whole ("" if
// from no one text), "" when nothing is: longer than limit runes; cut and
// marked with an ellipsis; cut mid-word (a prefix of whole stopping inside
// a word); or cut mid-phrase (a prefix of whole not ending a question or
// an exclamation, or a field not ending a sentence, whose last word no
// phrase ends on: "..., Even If You Are").
func CutField(field, whole string, limit int) string {
	n := utf8.RuneCountInString(field)
	switch {
	case n > limit:
		return fmt.Sprintf("%d characters, over %d", n, limit)
	case strings.HasSuffix(field, "…") || strings.HasSuffix(field, "..."):
		return "cut, ends in an ellipsis"
	case field == whole:
		return ""
	}
	prefix := whole != "" && strings.HasPrefix(whole, field)
	if prefix {
		if next, _ := utf8.DecodeRuneInString(whole[len(field):]); unicode.IsLetter(next) || unicode.IsDigit(next) {
			return "cut mid-word"
		}
	}
	// A field ends a sentence when it ends in a full stop and is not a
	// prefix of whole (which may end on an abbreviation, "Cortado vs."), or
	// when it ends in a question or exclamation mark, followed in whole by
	// a space: "How Many Hives Should a Beginner Start with?" of "... with?
	// 6 Common Mistakes to Avoid".
	if last := field[len(field)-min(len(field), 1):]; !prefix && strings.ContainsAny(last, ".!?") ||
		prefix && strings.ContainsAny(last, "!?") && strings.HasPrefix(whole[len(field):], " ") {
		return "" // ends a sentence
	}
	words := strings.Fields(strings.ToLower(strings.TrimRight(field, ".,;:!? ")))
	if len(words) > 0 && danglingWords[strings.Trim(words[len(words)-1], "'\"“”")] {
		return fmt.Sprintf("cut mid-phrase (ends on %q)", words[len(words)-1])
	}
	return ""
}

// Casings are the spellings names must keep: acronyms and brands.
var Casings = []string{
	"EV", "EVs", "3D", "SEO", "USA", "UK", "US", "IRA", "IRAs", "HSA", "PMI", "FHA", "GPS", "ANC", "PLA", "PETG",
	"LLC", "DIY", "JR", "AI", "TV", "PC", "PDF", "CPA", "SEP", "W-2", "1099", "ID", "APP",
	"WordPress", "WooCommerce", "DeWalt", "De'Longhi", "YouTube", "iPhone", "iPad", "AirPods", "PayPal",
	"QuickBooks", "FreshBooks", "ChargePoint", "BigCommerce", "ClickUp", "ConvertKit", "MailerLite",
	"HubSpot", "ActiveCampaign", "1Password", "LastPass", "NordPass", "SmartDesk", "RoboVac", "LatteGo",
	"GoPro", "TikTok", "LinkedIn", "MacBook", "eBird", "JuiceBox", "SoundCore", "QuietComfort", "OM-1", "Gore-Tex",
}

// casings maps each lower-cased spelling to its right one. "APP" is listed
// only to be dropped: "app" is a word.
var casings = func() map[string]string {
	m := map[string]string{}
	for _, c := range Casings {
		if c != "APP" && c != "US" && c != "ID" {
			m[strings.ToLower(c)] = c
		}
	}
	return m
}()

// badCasing returns a word of name that is an acronym or brand spelled
// otherwise than it should be ("Ev", "Wordpress").
func badCasing(name string) (got, want string, bad bool) {
	for _, w := range strings.FieldsFunc(name, func(r rune) bool {
		return !(unicode.IsLetter(r) || unicode.IsDigit(r) || r == '\'' || r == '-')
	}) {
		if want, ok := casings[strings.ToLower(w)]; ok && w != want {
			return w, want, true
		}
	}
	return "", "", false
}

// fold is a phrase's comparison form: lower-case, whitespace folded.
func fold(s string) string { return strings.Join(strings.Fields(strings.ToLower(s)), " ") }
