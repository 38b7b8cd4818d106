package ai

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/presswork/presswork/internal/errs"
)

// ImagePrompt asks the model for an image-model prompt and the alt text of
// a draft's featured image and, when in.InlineCount > 0, of that many
// in-article images, each after a different one of in.Headings. A draft
// with fewer distinct headings gets one in-article image per heading: the
// count is lowered to len(InlineHeadings(in)) before the model is asked.
func (w *Writer) ImagePrompt(ctx context.Context, in ImagePromptInput) (ImagePrompt, Usage, error) {
	if err := validateImagePromptInput(in); err != nil {
		return ImagePrompt{}, Usage{}, err
	}
	in = clampInline(in)
	schema, err := imagePromptSchema(in)
	if err != nil {
		return ImagePrompt{}, Usage{}, err
	}
	call := stageCall{stage: StageImagePrompt, input: in,
		maxTokens: imagePromptMaxTokens + inlinePromptTokens*in.InlineCount, schema: schema}
	return runStage(ctx, w, call, func(content []byte) (ImagePrompt, error) {
		return ParseImagePrompt(in, content)
	})
}

// InlineHeadings returns the headings of in an in-article image may follow:
// the distinct non-empty ones among those a prompt lists, with their
// whitespace folded, in order.
func InlineHeadings(in ImagePromptInput) []string {
	hs := in.Headings
	if len(hs) > promptHeadings {
		hs = hs[:promptHeadings]
	}
	var out []string
	for _, h := range hs {
		if h = oneLine(h); h != "" && !containsString(out, h) {
			out = append(out, h)
		}
	}
	return out
}

// clampInline lowers in.InlineCount to the headings available.
func clampInline(in ImagePromptInput) ImagePromptInput {
	if in.InlineCount > 0 {
		in.InlineCount = min(in.InlineCount, len(InlineHeadings(in)))
	}
	return in
}

// ParseImagePrompt decodes an image_prompt answer strictly, folds the
// whitespace of its fields, keeps the first in.InlineCount in-article
// images (in.InlineCount lowered to the headings available, as the stage
// does) and validates it against in. Each in-article image's Heading is
// returned as the input heading it names (whitespace folded), and the
// images are sorted in the order of their headings.
func ParseImagePrompt(in ImagePromptInput, content []byte) (ImagePrompt, error) {
	in = clampInline(in)
	var p ImagePrompt
	if err := decodeStrict(content, &p); err != nil {
		return ImagePrompt{}, err
	}
	p.Prompt = oneLine(p.Prompt)
	p.AltText = oneLine(p.AltText)
	if len(p.Inline) > max(in.InlineCount, 0) {
		p.Inline = p.Inline[:max(in.InlineCount, 0)]
	}
	headings := InlineHeadings(in)
	for i := range p.Inline {
		ip := &p.Inline[i]
		ip.Heading = matchHeading(headings, ip.Heading)
		ip.Prompt = oneLine(ip.Prompt)
		ip.AltText = oneLine(ip.AltText)
	}
	if err := ValidateImagePrompt(in, p); err != nil {
		return ImagePrompt{}, err
	}
	sort.SliceStable(p.Inline, func(i, j int) bool {
		return slices.Index(headings, p.Inline[i].Heading) < slices.Index(headings, p.Inline[j].Heading)
	})
	if p.Inline == nil {
		p.Inline = []InlineImagePrompt{}
	}
	return p, nil
}

// matchHeading returns the heading of headings that h names: the same text
// once whitespace is folded, or else the same text in another case. An
// unknown heading is returned folded, for validation to report.
func matchHeading(headings []string, h string) string {
	h = oneLine(h)
	if containsString(headings, h) {
		return h
	}
	for _, c := range headings {
		if strings.EqualFold(c, h) {
			return c
		}
	}
	return h
}

// ValidateImagePrompt checks an image prompt (20 to 1000 characters) and
// alt text (5 to 125 characters), and that p has exactly in.InlineCount
// in-article images, each with a valid prompt and alt text and placed after
// a different one of InlineHeadings(in). in.InlineCount is taken as given:
// ImagePrompt and ParseImagePrompt lower it to the headings available first.
func ValidateImagePrompt(in ImagePromptInput, p ImagePrompt) error {
	ve := &errs.ValidationError{}
	checkLen(ve, "prompt", p.Prompt, minImagePromptLen, maxImagePromptLen)
	checkLen(ve, "alt_text", p.AltText, minAltTextLen, maxAltTextLen)
	if want := max(in.InlineCount, 0); len(p.Inline) != want {
		ve.Add("inline_images", "want exactly %d in-article images, got %d", want, len(p.Inline))
	}
	headings := InlineHeadings(in)
	seen := make(map[string]int, len(p.Inline))
	for i, ip := range p.Inline {
		f := fmt.Sprintf("inline_images[%d]", i)
		switch j, dup := seen[ip.Heading]; {
		case !containsString(headings, ip.Heading):
			ve.Add(f+".heading", "must be one of the section headings given, copied exactly; got %q",
				truncateRunes(ip.Heading, 80))
		case dup:
			ve.Add(f+".heading", "repeats the heading of inline_images[%d]; each image needs a different heading", j)
		default:
			seen[ip.Heading] = i
		}
		checkLen(ve, f+".prompt", ip.Prompt, minImagePromptLen, maxImagePromptLen)
		checkLen(ve, f+".alt_text", ip.AltText, minAltTextLen, maxAltTextLen)
	}
	return ve.OrNil()
}

// validateImagePromptInput checks, before the model is asked, the title and
// the in-article image count.
func validateImagePromptInput(in ImagePromptInput) error {
	ve := &errs.ValidationError{}
	if strings.TrimSpace(in.Title) == "" {
		ve.Add("title", "must not be empty")
	}
	if in.InlineCount < 0 || in.InlineCount > MaxInlineImages {
		ve.Add("inline_count", "must be between 0 and %d, got %d", MaxInlineImages, in.InlineCount)
	}
	return ve.OrNil()
}
