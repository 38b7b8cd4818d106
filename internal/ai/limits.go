package ai

import (
	"fmt"
	"strconv"
	"strings"
)

// Limits the stages enforce on their input and on the model's answers. Lengths
// are counted in runes.
const (
	MaxIdeaCount = 20 // most ideas one Ideas call may ask for

	maxClusterNameLen        = 80
	maxClusterDescriptionLen = 300
	minTitleLen              = 10
	maxTitleLen              = 120
	minTargetKeywords        = 1
	maxTargetKeywords        = 10
	minOutlineHeadings       = 3
	maxOutlineHeadings       = 15
	maxHeadingLen            = 120
	maxSlugLen               = 80
	maxExcerptLen            = 300
	maxMetaTitleLen          = 60
	minMetaDescriptionLen    = 50
	maxMetaDescriptionLen    = 160
	maxDraftOutlineHeadings  = 30
	minImagePromptLen        = 20
	maxImagePromptLen        = 1000
	minAltTextLen            = 5
	maxAltTextLen            = 125
	// promptHeadings caps the headings rendered into an image prompt.
	promptHeadings = 20

	// promptKeywords and promptTitles cap the lists rendered into a prompt.
	promptKeywords = 60
	promptTitles   = 100
	// maxReportedProblems caps the problems quoted back to the model.
	maxReportedProblems = 12
	// maxRepairAnswerRunes caps the previous answer quoted in a repair
	// request (a full draft is about 8,000 tokens, some 35,000 runes).
	maxRepairAnswerRunes = 48000
)

// minDraftWordsByType is the soft minimum length of a draft in words, by
// content type; a shorter draft is accepted with a warning.
var minDraftWordsByType = map[string]int{
	"post":       500,
	"guide":      800,
	"listicle":   600,
	"comparison": 600,
	"how_to":     600,
	"review":     600,
}

// minDraftWords is the soft minimum length of a draft of content type t
// by default; an unknown type counts as a post.
func minDraftWords(t string) int {
	if n, ok := minDraftWordsByType[t]; ok {
		return n
	}
	return minDraftWordsByType["post"]
}

// MaxMinWords bounds a configured minimum length of a draft.
const MaxMinWords = 20000

// ParseMinWords reads the operator's minimum draft lengths by content type
// (DRAFT_MIN_WORDS), "post=500,guide=1200": each type one of ContentTypes,
// each minimum 1 to MaxMinWords words. Types left out keep their defaults.
func ParseMinWords(s string) (map[string]int, error) {
	out := map[string]int{}
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		typ, num, ok := strings.Cut(part, "=")
		typ = strings.TrimSpace(typ)
		n, err := strconv.Atoi(strings.TrimSpace(num))
		switch {
		case !ok:
			return nil, fmt.Errorf("%q: want type=words, like post=500", part)
		case !isContentType(typ):
			return nil, fmt.Errorf("%q: unknown content type %q (one of %s)", part, typ, strings.Join(ContentTypes, ", "))
		case err != nil || n < 1 || n > MaxMinWords:
			return nil, fmt.Errorf("%q: the minimum must be a whole number of words from 1 to %d", part, MaxMinWords)
		case out[typ] != 0:
			return nil, fmt.Errorf("%q: %s is given twice", part, typ)
		}
		out[typ] = n
	}
	return out, nil
}

// Token budgets per stage.
const (
	clusterNameMaxTokens = 500
	ideasBaseMaxTokens   = 600
	ideasPerIdeaTokens   = 500
	draftMaxTokens       = 8000
	imagePromptMaxTokens = 600
	inlinePromptTokens   = 300 // more per in-article image
)
