package ai

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"golang.org/x/net/html"

	"github.com/presswork/presswork/internal/errs"
	"github.com/presswork/presswork/internal/markup"
)

// Draft asks the model to write the article planned by in. The returned
// BodyHTML is sanitized with markup.SanitizeHTML.
func (w *Writer) Draft(ctx context.Context, in DraftInput) (Draft, Usage, error) {
	if err := validateDraftInput(in); err != nil {
		return Draft{}, Usage{}, err
	}
	schema, err := draftSchema(in)
	if err != nil {
		return Draft{}, Usage{}, err
	}
	call := stageCall{stage: StageDraft, input: in, maxTokens: draftMaxTokens, schema: schema}
	sentBack := "" // the length fault of the first answer, summarized
	return runStage(ctx, w, call, func(content []byte) (Draft, error) {
		d, err := ParseDraft(in, content)
		if err != nil {
			return d, err
		}
		fault, summary, bad := lengthFault(in, d.BodyHTML)
		switch {
		case bad && sentBack == "":
			// Sent back once to be expanded or trimmed; if that does not
			// help, this draft stands with the warning.
			sentBack = summary
			d.Warnings = append(d.Warnings, errs.FieldProblem{Field: "body_html", Problem: summary})
			return d, &errLengthOnly{problem: fault}
		case bad:
			d.Warnings = append(d.Warnings, errs.FieldProblem{Field: "body_html",
				Problem: summary + "; the length repair did not bring it within"})
		case sentBack != "":
			d.Fixes = append(d.Fixes, errs.FieldProblem{Field: "body_html", Problem: fmt.Sprintf(
				"%s; the model expanded or trimmed it to %d words", sentBack, markup.WordCount(d.BodyHTML))})
		}
		return d, nil
	})
}

// ParseDraft decodes a draft answer strictly, trims its fields, sanitizes
// its body with markup.SanitizeHTML, repairs what needs no model call
// (recorded in Fixes), adds the table of contents the profile asks for,
// validates it against in and records the soft rules it does not meet in
// Warnings.
func ParseDraft(in DraftInput, content []byte) (Draft, error) {
	var d Draft
	if err := decodeStrict(content, &d); err != nil {
		return Draft{}, err
	}
	d.Title = oneLine(d.Title)
	d.Slug = strings.TrimSpace(d.Slug)
	d.Excerpt = strings.TrimSpace(d.Excerpt)
	d.MetaTitle = oneLine(d.MetaTitle)
	d.MetaDescription = oneLine(d.MetaDescription)
	d.FocusKeyword = oneLine(d.FocusKeyword)
	d.BodyHTML = strings.TrimSpace(markup.SanitizeHTML(d.BodyHTML))
	repairDraft(in, &d)
	if in.Profile.TableOfContents {
		d.BodyHTML = addTableOfContents(d.BodyHTML, in.Profile.Language)
	}
	if err := ValidateDraft(in, d); err != nil {
		return Draft{}, err
	}
	d.Warnings = draftWarnings(in, d)
	return d, nil
}

// slugRE matches a slug: lower-case ASCII words joined by single hyphens.
var slugRE = regexp.MustCompile(`^[a-z0-9]+(?:-[a-z0-9]+)*$`)

// ValidateDraft checks a draft's fields, that its focus keyword is one of
// in's target keywords (normalized as targetKeywords does) and that its
// body contains every heading of in.Outline, in order, as an <h2>/<h3> of
// the same level with the same text.
func ValidateDraft(in DraftInput, d Draft) error {
	ve := &errs.ValidationError{}
	checkLen(ve, "title", d.Title, minTitleLen, maxTitleLen)
	switch {
	case d.Slug == "":
		ve.Add("slug", "must not be empty")
	case !slugRE.MatchString(d.Slug):
		ve.Add("slug", "must be lower-case ASCII letters and digits in words joined by single hyphens, got %q", d.Slug)
	case len(d.Slug) > maxSlugLen:
		ve.Add("slug", "must be at most %d characters, got %d", maxSlugLen, len(d.Slug))
	}
	checkLen(ve, "excerpt", d.Excerpt, 1, maxExcerptLen)
	checkLen(ve, "meta_title", d.MetaTitle, 1, maxMetaTitleLen)
	checkLen(ve, "meta_description", d.MetaDescription, minMetaDescriptionLen, maxMetaDescriptionLen)
	targets := targetKeywords(in)
	switch {
	case strings.TrimSpace(d.FocusKeyword) == "":
		ve.Add("focus_keyword", "must not be empty")
	case len(targets) > 0 && !containsString(targets, d.FocusKeyword):
		ve.Add("focus_keyword", "must be one of the target keywords, got %q", truncateRunes(d.FocusKeyword, 100))
	}
	if strings.TrimSpace(d.BodyHTML) == "" {
		ve.Add("body_html", "must not be empty")
		return ve.OrNil()
	}
	found := markup.Headings(d.BodyHTML)
	for _, i := range unmatchedHeadings(in.Outline, found) {
		h := in.Outline[i]
		ve.Add("body_html", "is missing outline[%d] as <h%d>%s</h%d> in its place after the headings before it",
			i, h.Level, html.EscapeString(truncateRunes(oneLine(h.Text), 80)), h.Level)
	}
	return ve.OrNil()
}

// unmatchedHeadings returns the indexes of the outline headings that are not
// part of a longest in-order match between outline and found (same level,
// same text), so that one misplaced heading is reported once rather than
// with all the ones after it.
func unmatchedHeadings(outline []Heading, found []markup.Heading) []int {
	want := outlineTexts(outline)
	pairs := alignHeadings(len(outline), len(found), func(i, j int) bool {
		return found[j].Level == outline[i].Level && (found[j].Text == want[i][0] || found[j].Text == want[i][1])
	})
	var missing []int
	for i, j := range pairs {
		if j < 0 {
			missing = append(missing, i)
		}
	}
	return missing
}

// outlineTexts returns, for each outline heading, the two texts a heading
// of the body may show for it: its text as written and with its entities
// decoded, both normalized by markup.CleanText.
func outlineTexts(outline []Heading) [][2]string {
	want := make([][2]string, len(outline))
	for i, h := range outline {
		want[i] = [2]string{markup.CleanText(h.Text), markup.CleanText(html.UnescapeString(h.Text))}
	}
	return want
}

// alignHeadings matches n outline headings with m found headings in order,
// with match(i, j) saying whether found[j] may stand for outline[i], and
// returns for each outline heading the index of its found heading, or -1.
// The match is a longest one.
func alignHeadings(n, m int, match func(i, j int) bool) []int {
	pairs := make([]int, n)
	for i := range pairs {
		pairs[i] = -1
	}
	if (n+1)*(m+1) > 1<<20 {
		// Too big for the table: match greedily.
		next := 0
		for i := 0; i < n; i++ {
			j := next
			for j < m && !match(i, j) {
				j++
			}
			if j < m {
				pairs[i] = j
				next = j + 1
			}
		}
		return pairs
	}
	// lcs[i][j] is the length of the longest in-order match of outline[i:]
	// and found[j:].
	lcs := make([][]int32, n+1)
	for i := range lcs {
		lcs[i] = make([]int32, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			switch {
			case match(i, j):
				lcs[i][j] = lcs[i+1][j+1] + 1
			case lcs[i+1][j] >= lcs[i][j+1]:
				lcs[i][j] = lcs[i+1][j]
			default:
				lcs[i][j] = lcs[i][j+1]
			}
		}
	}
	i, j := 0, 0
	for i < n {
		switch {
		case j < m && match(i, j) && lcs[i][j] == lcs[i+1][j+1]+1:
			pairs[i] = j
			i++
			j++
		case j == m || lcs[i+1][j] == lcs[i][j]:
			i++
		default:
			j++
		}
	}
	return pairs
}

// validateDraftInput checks, before the model is asked, the title, the focus
// keyword and the outline.
func validateDraftInput(in DraftInput) error {
	ve := &errs.ValidationError{}
	if strings.TrimSpace(in.Title) == "" {
		ve.Add("title", "must not be empty")
	}
	if len(in.TargetKeywords) == 0 || strings.TrimSpace(in.TargetKeywords[0]) == "" {
		ve.Add("target_keywords", "the first target keyword (the focus keyword) must not be empty")
	}
	validateOutline(ve, "outline", in.Outline, 1, maxDraftOutlineHeadings)
	for i, h := range in.Outline {
		if strings.TrimSpace(h.Text) != "" && markup.CleanText(h.Text) == "" {
			ve.Add(fmt.Sprintf("outline[%d].text", i), "has no printable text")
		}
	}
	return ve.OrNil()
}
