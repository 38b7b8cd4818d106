package ai

import (
	"context"
	"slices"
	"strconv"
	"strings"

	"github.com/presswork/presswork/internal/errs"
)

// NameCluster asks the model for a name and description of a keyword
// cluster; the name comes back with acronyms, brands and the user's
// casing spelled right (FixCasing).
func (w *Writer) NameCluster(ctx context.Context, in ClusterNameInput) (ClusterName, Usage, error) {
	if err := validateClusterNameInput(in); err != nil {
		return ClusterName{}, Usage{}, err
	}
	name, usage, err := runStage(ctx, w, stageCall{stage: StageClusterName, input: in, maxTokens: clusterNameMaxTokens},
		ParseClusterName)
	if err == nil {
		name.Name = FixCasing(name.Name, keywordPhrases(in.Keywords))
	}
	return name, usage, err
}

func keywordPhrases(ks []KeywordInfo) []string {
	out := make([]string, len(ks))
	for i, k := range ks {
		out[i] = k.Phrase
	}
	return out
}

// ParseClusterName decodes a cluster_name answer strictly (no unknown
// fields), trims its fields and validates it.
func ParseClusterName(content []byte) (ClusterName, error) {
	var c ClusterName
	if err := decodeStrict(content, &c); err != nil {
		return ClusterName{}, err
	}
	c.Name = strings.TrimSpace(c.Name)
	c.Description = strings.TrimSpace(c.Description)
	if err := ValidateClusterName(c); err != nil {
		return ClusterName{}, err
	}
	return c, nil
}

// ValidateClusterName checks a cluster name (1 to 80 characters) and
// description (1 to 300 characters).
func ValidateClusterName(c ClusterName) error {
	ve := &errs.ValidationError{}
	checkLen(ve, "name", c.Name, 1, maxClusterNameLen)
	checkLen(ve, "description", c.Description, 1, maxClusterDescriptionLen)
	return ve.OrNil()
}

// validateClusterNameInput checks, before the model is asked, that there is
// a keyword to name.
func validateClusterNameInput(in ClusterNameInput) error {
	for _, k := range in.Keywords {
		if strings.TrimSpace(k.Phrase) != "" {
			return nil
		}
	}
	return errs.Invalid("keywords", "at least one keyword is needed")
}

// NameKey is the form in which two cluster names of a site must differ:
// case and spacing ignored.
func NameKey(name string) string { return strings.ToLower(strings.Join(strings.Fields(name), " ")) }

// UniqueName returns name when taken (keyed by NameKey) lacks it; else
// the name made distinct by the cluster's distinguishing head term, the
// word its keywords (most central first) use most that the name lacks and
// that is no query modifier ("Trail Running Shoes" -> "Waterproof Trail
// Running Shoes"); else, with no such term free, the name numbered ("...
// 2"). It keeps maxClusterNameLen.
func UniqueName(name string, keywords []string, taken map[string]bool) string {
	if !taken[NameKey(name)] {
		return name
	}
	for _, term := range headTerms(name, keywords) {
		if n := TitleName(cutRunes(term+" "+name, maxClusterNameLen), keywords); !taken[NameKey(n)] {
			return n
		}
	}
	for i := 2; ; i++ {
		suffix := " " + strconv.Itoa(i)
		if n := cutRunes(name, maxClusterNameLen-len(suffix)) + suffix; !taken[NameKey(n)] {
			return n
		}
	}
}

// nameModifiers are query modifiers and function words, which tell no
// cluster from another.
var nameModifiers = map[string]bool{
	"a": true, "an": true, "the": true, "and": true, "or": true, "for": true, "of": true, "in": true,
	"on": true, "to": true, "with": true, "vs": true, "versus": true, "how": true, "what": true, "why": true,
	"is": true, "are": true, "do": true, "does": true, "i": true, "you": true, "best": true, "top": true,
	"my": true, "your": true, "near": true, "me": true, "can": true, "should": true, "which": true,
	"who": true, "when": true, "where": true, "at": true, "by": true, "from": true, "it": true, "be": true,
	"review": true, "reviews": true, "guide": true, "tips": true, "cheap": true, "beginners": true,
	"beginner": true, "much": true, "many": true, "worth": true, "price": true, "pricing": true,
	"cost": true, "free": true, "under": true, "without": true, "ideas": true, "explained": true,
}

// headTerms lists the words of keywords that could tell a cluster named
// name from another of that name, most used first (ties: first seen).
func headTerms(name string, keywords []string) []string {
	inName := map[string]bool{}
	for _, w := range splitWords(strings.ToLower(name)) {
		inName[strings.TrimSuffix(w, "s")] = true
	}
	count := map[string]int{}
	var order []string
	for _, k := range keywords {
		seen := map[string]bool{}
		for _, w := range splitWords(strings.ToLower(k)) {
			if nameModifiers[w] || inName[strings.TrimSuffix(w, "s")] || seen[w] || isNumber(w) {
				continue
			}
			seen[w] = true
			if count[w] == 0 {
				order = append(order, w)
			}
			count[w]++
		}
	}
	slices.SortStableFunc(order, func(a, b string) int { return count[b] - count[a] })
	return order
}

func isNumber(w string) bool {
	_, err := strconv.Atoi(w)
	return err == nil
}

// cutRunes keeps the first max runes of s, at a word boundary when there
// is one.
func cutRunes(s string, max int) string {
	r := []rune(s)
	if len(r) <= max {
		return s
	}
	cut := string(r[:max])
	if i := strings.LastIndexByte(cut, ' '); i > 0 {
		cut = cut[:i]
	}
	return strings.TrimSpace(cut)
}
