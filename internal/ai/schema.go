package ai

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/presswork/presswork/internal/errs"
)

// Schema names sent with each stage's JSON schema.
const (
	schemaNameClusterName = "cluster_name"
	schemaNameIdeas       = "idea_list"
	schemaNameDraft       = "draft"
	schemaNameImagePrompt = "image_prompt"
)

// schemaName is the name sent with a stage's JSON schema.
func schemaName(stage Stage) string {
	switch stage {
	case StageClusterName:
		return schemaNameClusterName
	case StageIdeas:
		return schemaNameIdeas
	case StageDraft:
		return schemaNameDraft
	case StageImagePrompt:
		return schemaNameImagePrompt
	}
	return string(stage)
}

// stageSchemas builds the strict schema of each stage's answer once.
var stageSchemas = sync.OnceValues(func() (map[Stage]json.RawMessage, error) {
	out := make(map[Stage]json.RawMessage, 4)
	specs := []struct {
		stage  Stage
		v      any
		extras func(map[string]any)
	}{
		{StageClusterName, ClusterName{}, func(root map[string]any) {
			describe(root, "the cluster's topic name in title case, at most 80 characters", "name")
			describe(root, "one or two sentences, at most 300 characters", "description")
		}},
		{StageIdeas, IdeaList{}, func(root map[string]any) {
			idea := []string{"ideas", "[]"}
			setItems(root, 1, MaxIdeaCount, "ideas")
			describe(root, "10 to 120 characters", append(idea, "title")...)
			setKey(root, "enum", toAnySlice(ContentTypes), append(idea, "content_type")...)
			describe(root, "1 to 10 keywords from the cluster, the primary keyword first",
				append(idea, "target_keywords")...)
			setItems(root, minTargetKeywords, maxTargetKeywords, append(idea, "target_keywords")...)
			describe(root, "3 to 15 headings; the first has level 2", append(idea, "outline")...)
			setItems(root, minOutlineHeadings, maxOutlineHeadings, append(idea, "outline")...)
			setKey(root, "enum", []any{2, 3}, append(idea, "outline", "[]", "level")...)
			describe(root, "1 to 120 characters", append(idea, "outline", "[]", "text")...)
		}},
		{StageDraft, Draft{}, func(root map[string]any) {
			describe(root, "10 to 120 characters", "title")
			describe(root, "lower-case ASCII words joined by hyphens, at most 80 characters", "slug")
			describe(root, "1 to 300 characters", "excerpt")
			describe(root, "1 to 60 characters", "meta_title")
			describe(root, "50 to 160 characters", "meta_description")
			describe(root, "the focus keyword, exactly as given", "focus_keyword")
			describe(root, "the article body as an HTML fragment with every outline heading as <h2>/<h3>, in order",
				"body_html")
		}},
		{StageImagePrompt, ImagePrompt{}, func(root map[string]any) {
			describe(root, "a description of the image for an image model, 20 to 1000 characters", "prompt")
			describe(root, "the image's alt text for readers who cannot see it, 5 to 125 characters", "alt_text")
			describe(root, "the in-article images: exactly as many as asked for (none when none is asked for), "+
				"each after a different section heading", "inline_images")
			setItems(root, 0, MaxInlineImages, "inline_images")
			describe(root, "the section heading the image follows, copied exactly from the list given",
				"inline_images", "[]", "heading")
			describe(root, "a description of the image for an image model, 20 to 1000 characters",
				"inline_images", "[]", "prompt")
			describe(root, "the image's alt text for readers who cannot see it, 5 to 125 characters",
				"inline_images", "[]", "alt_text")
		}},
	}
	for _, s := range specs {
		raw, err := strictSchema(s.v, s.extras)
		if err != nil {
			return nil, fmt.Errorf("ai: schema for %s: %w", s.stage, err)
		}
		out[s.stage] = raw
	}
	return out, nil
})

// ideasSchema is the ideas schema for a request of count ideas.
func ideasSchema(count int) (json.RawMessage, error) {
	return editedSchema(StageIdeas, func(root map[string]any) {
		setItems(root, count, count, "ideas")
	})
}

// imagePromptSchema is the image_prompt schema for a request of count
// in-article images after the headings of in.
func imagePromptSchema(in ImagePromptInput) (json.RawMessage, error) {
	return editedSchema(StageImagePrompt, func(root map[string]any) {
		count := max(in.InlineCount, 0)
		setItems(root, count, count, "inline_images")
		if headings := InlineHeadings(in); count > 0 && len(headings) > 0 {
			setKey(root, "enum", toAnySlice(headings), "inline_images", "[]", "heading")
		}
	})
}

// draftSchema is the draft schema for in: the focus keyword is one of its
// target keywords.
func draftSchema(in DraftInput) (json.RawMessage, error) {
	return editedSchema(StageDraft, func(root map[string]any) {
		if targets := targetKeywords(in); len(targets) > 0 {
			setKey(root, "enum", toAnySlice(targets), "focus_keyword")
		}
	})
}

// editedSchema returns a copy of a stage's schema changed by edit.
func editedSchema(stage Stage, edit func(root map[string]any)) (json.RawMessage, error) {
	raw, err := Schema(stage)
	if err != nil {
		return nil, err
	}
	var root map[string]any
	if err := json.Unmarshal(raw, &root); err != nil {
		return nil, fmt.Errorf("ai: schema for %s: %w", stage, err)
	}
	edit(root)
	var buf bytes.Buffer
	if err := encodeSchemaNode(&buf, root); err != nil {
		return nil, fmt.Errorf("ai: schema for %s: %w", stage, err)
	}
	return buf.Bytes(), nil
}

// Schema returns the strict JSON schema a stage's answer must match.
func Schema(stage Stage) (json.RawMessage, error) {
	schemas, err := stageSchemas()
	if err != nil {
		return nil, err
	}
	s, ok := schemas[stage]
	if !ok {
		return nil, errs.Permanent(fmt.Errorf("ai: unknown stage %q", stage))
	}
	return append(json.RawMessage(nil), s...), nil
}
