package ai

import (
	"context"
	"fmt"
	"strings"

	"github.com/presswork/presswork/internal/errs"
)

// Ideas asks the model for exactly in.Count content ideas for a cluster.
func (w *Writer) Ideas(ctx context.Context, in IdeasInput) ([]Idea, Usage, error) {
	if err := validateIdeasInput(in); err != nil {
		return nil, Usage{}, err
	}
	schema, err := ideasSchema(in.Count)
	if err != nil {
		return nil, Usage{}, err
	}
	call := stageCall{stage: StageIdeas, input: in, maxTokens: ideasBaseMaxTokens + ideasPerIdeaTokens*in.Count,
		schema: schema}
	return runStage(ctx, w, call, func(content []byte) ([]Idea, error) {
		return ParseIdeas(in, content)
	})
}

// ParseIdeas decodes an ideas answer ({"ideas": [...]}) strictly, keeps the
// first in.Count ideas, normalizes whitespace and validates them.
func ParseIdeas(in IdeasInput, content []byte) ([]Idea, error) {
	var list IdeaList
	if err := decodeStrict(content, &list); err != nil {
		return nil, err
	}
	ideas := list.Ideas
	if in.Count >= 0 && len(ideas) > in.Count {
		ideas = ideas[:in.Count]
	}
	for i := range ideas {
		idea := &ideas[i]
		idea.Title = oneLine(idea.Title)
		idea.ContentType = strings.TrimSpace(idea.ContentType)
		for j, k := range idea.TargetKeywords {
			idea.TargetKeywords[j] = oneLine(k)
		}
		for j, h := range idea.Outline {
			idea.Outline[j].Text = oneLine(h.Text)
		}
	}
	if err := ValidateIdeas(in, ideas); err != nil {
		return nil, err
	}
	if ideas == nil {
		ideas = []Idea{}
	}
	return ideas, nil
}

// TitleKey is the form in which titles are compared for uniqueness: case
// and whitespace do not matter.
func TitleKey(title string) string {
	return strings.ToLower(oneLine(title))
}

// ValidateIdeas checks that ideas are exactly in.Count valid ideas with
// unique titles that are not among in.ExistingTitles.
func ValidateIdeas(in IdeasInput, ideas []Idea) error {
	ve := &errs.ValidationError{}
	if len(ideas) != in.Count {
		ve.Add("ideas", "want exactly %d ideas, got %d", in.Count, len(ideas))
	}
	existing := make(map[string]bool, len(in.ExistingTitles))
	for _, t := range in.ExistingTitles {
		existing[TitleKey(t)] = true
	}
	seen := make(map[string]int, len(ideas))
	for i, idea := range ideas {
		p := fmt.Sprintf("ideas[%d]", i)
		checkLen(ve, p+".title", idea.Title, minTitleLen, maxTitleLen)
		key := TitleKey(idea.Title)
		if key != "" {
			if j, dup := seen[key]; dup {
				ve.Add(p+".title", "duplicates the title of ideas[%d]", j)
			} else {
				seen[key] = i
			}
			if existing[key] {
				ve.Add(p+".title", "the site already has an article with this title")
			}
		}
		if !isContentType(idea.ContentType) {
			ve.Add(p+".content_type", "must be one of %s, got %q", strings.Join(ContentTypes, ", "), idea.ContentType)
		}
		if n := len(idea.TargetKeywords); n < minTargetKeywords || n > maxTargetKeywords {
			ve.Add(p+".target_keywords", "must have %d to %d keywords, got %d", minTargetKeywords, maxTargetKeywords, n)
		}
		for j, k := range idea.TargetKeywords {
			if strings.TrimSpace(k) == "" {
				ve.Add(fmt.Sprintf("%s.target_keywords[%d]", p, j), "must not be empty")
			}
		}
		validateOutline(ve, p+".outline", idea.Outline, minOutlineHeadings, maxOutlineHeadings)
	}
	return ve.OrNil()
}

// validateOutline checks that outline has lo to hi headings of level 2 or 3,
// the first of level 2, each with text of 1 to maxHeadingLen characters.
func validateOutline(ve *errs.ValidationError, field string, outline []Heading, lo, hi int) {
	if n := len(outline); n < lo || n > hi {
		ve.Add(field, "must have %d to %d headings, got %d", lo, hi, n)
	}
	for j, h := range outline {
		hp := fmt.Sprintf("%s[%d]", field, j)
		switch {
		case h.Level != 2 && h.Level != 3:
			ve.Add(hp+".level", "must be 2 or 3, got %d", h.Level)
		case j == 0 && h.Level != 2:
			ve.Add(hp+".level", "the first heading must be level 2")
		}
		checkLen(ve, hp+".text", h.Text, 1, maxHeadingLen)
	}
}

// isContentType reports whether t is one of ContentTypes.
func isContentType(t string) bool {
	for _, c := range ContentTypes {
		if t == c {
			return true
		}
	}
	return false
}

// validateIdeasInput checks, before the model is asked, the count, the
// cluster name and that there is a keyword.
func validateIdeasInput(in IdeasInput) error {
	ve := &errs.ValidationError{}
	if in.Count < 1 || in.Count > MaxIdeaCount {
		ve.Add("count", "must be between 1 and %d, got %d", MaxIdeaCount, in.Count)
	}
	if strings.TrimSpace(in.ClusterName) == "" {
		ve.Add("cluster_name", "must not be empty")
	}
	hasKeyword := false
	for _, k := range in.Keywords {
		if strings.TrimSpace(k.Phrase) != "" {
			hasKeyword = true
			break
		}
	}
	if !hasKeyword {
		ve.Add("keywords", "at least one keyword is needed")
	}
	return ve.OrNil()
}
