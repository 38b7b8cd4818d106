package ai

import (
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"text/template"
	"unicode"
	"unicode/utf8"

	"github.com/microcosm-cc/bluemonday"
	"github.com/sashabaranov/go-openai/jsonschema"
	"golang.org/x/net/html"

	"github.com/presswork/presswork/internal/errs"
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
)

// Token budgets per stage.
const (
	clusterNameMaxTokens = 500
	ideasBaseMaxTokens   = 600
	ideasPerIdeaTokens   = 500
	draftMaxTokens       = 8000
	imagePromptMaxTokens = 600
	inlinePromptTokens   = 300 // more per in-article image
)

// Schema names sent with each stage's JSON schema.
const (
	schemaNameClusterName = "cluster_name"
	schemaNameIdeas       = "idea_list"
	schemaNameDraft       = "draft"
	schemaNameImagePrompt = "image_prompt"
)

//go:embed prompts/*.tmpl
var promptFS embed.FS

// Writer runs the text stages against a TextModel. It is safe for concurrent
// use if its model is.
type Writer struct {
	model   TextModel
	prompts promptSet
	schemas map[Stage]json.RawMessage
}

// NewWriter returns a Writer for model with the embedded default prompts.
func NewWriter(model TextModel) (*Writer, error) {
	if model == nil {
		return nil, errors.New("ai: NewWriter: nil model")
	}
	prompts, err := defaultPrompts()
	if err != nil {
		return nil, err
	}
	schemas, err := stageSchemas()
	if err != nil {
		return nil, err
	}
	return &Writer{model: model, prompts: prompts, schemas: schemas}, nil
}

// NameCluster asks the model for a name and description of a keyword cluster.
func (w *Writer) NameCluster(ctx context.Context, in ClusterNameInput) (ClusterName, Usage, error) {
	if err := validateClusterNameInput(in); err != nil {
		return ClusterName{}, Usage{}, err
	}
	return runStage(ctx, w, StageClusterName, in, clusterNameMaxTokens, ParseClusterName)
}

// Ideas asks the model for exactly in.Count content ideas for a cluster.
func (w *Writer) Ideas(ctx context.Context, in IdeasInput) ([]Idea, Usage, error) {
	if err := validateIdeasInput(in); err != nil {
		return nil, Usage{}, err
	}
	budget := ideasBaseMaxTokens + ideasPerIdeaTokens*in.Count
	return runStage(ctx, w, StageIdeas, in, budget, func(content []byte) ([]Idea, error) {
		return ParseIdeas(in, content)
	})
}

// Draft asks the model to write the article planned by in. The returned
// BodyHTML is sanitized with SanitizeHTML.
func (w *Writer) Draft(ctx context.Context, in DraftInput) (Draft, Usage, error) {
	if err := validateDraftInput(in); err != nil {
		return Draft{}, Usage{}, err
	}
	return runStage(ctx, w, StageDraft, in, draftMaxTokens, func(content []byte) (Draft, error) {
		return ParseDraft(in, content)
	})
}

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
	budget := imagePromptMaxTokens + inlinePromptTokens*in.InlineCount
	return runStage(ctx, w, StageImagePrompt, in, budget, func(content []byte) (ImagePrompt, error) {
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

// runStage renders the prompts, calls the model, and parses and validates its
// answer, with one repair attempt when the answer is a refusal, truncated or
// invalid.
func runStage[T any](ctx context.Context, w *Writer, stage Stage, input any, maxTokens int,
	parse func([]byte) (T, error)) (T, Usage, error) {
	var zero T
	var usage Usage
	system, user, err := renderPrompt(w.prompts, stage, input)
	if err != nil {
		return zero, usage, err
	}
	req := JSONRequest{
		Stage:      stage,
		System:     system,
		Prompt:     user,
		SchemaName: schemaName(stage),
		Schema:     w.schemas[stage],
		Input:      input,
		MaxTokens:  maxTokens,
	}
	var problem string
	for attempt := 0; attempt < 2; attempt++ {
		if attempt > 0 {
			if err := ctx.Err(); err != nil {
				return zero, usage, fmt.Errorf("%s: %w", stage, err)
			}
			req.Prompt = user + "\n\nYour previous answer was invalid: " + problem +
				". Answer again with JSON that matches the schema."
		}
		resp, err := w.model.GenerateJSON(ctx, req)
		usage.Add(resp.Usage)
		if err != nil {
			return zero, usage, fmt.Errorf("%s: %w", stage, err)
		}
		if resp.Refusal != "" {
			problem = "the model refused to answer (" + resp.Refusal + "); the request is for ordinary editorial content"
			continue
		}
		if resp.Truncated {
			problem = fmt.Sprintf("it was cut off at the limit of %d tokens before the JSON was complete; "+
				"write a shorter answer", req.MaxTokens)
			// Give the repair a little more room as well.
			req.MaxTokens += req.MaxTokens / 2
			continue
		}
		v, err := parse(resp.Content)
		if err == nil {
			return v, usage, nil
		}
		problem = describeProblem(err)
	}
	return zero, usage, errs.Permanent(fmt.Errorf(
		"%s: the model's answer was unusable after one repair attempt: %s", stage, problem))
}

// describeProblem turns a parse or validation error into text for the repair
// prompt and the final error.
func describeProblem(err error) string {
	var ve *errs.ValidationError
	if errors.As(err, &ve) {
		parts := make([]string, 0, len(ve.Problems))
		for i, p := range ve.Problems {
			if i == maxReportedProblems {
				parts = append(parts, fmt.Sprintf("and %d more problems", len(ve.Problems)-i))
				break
			}
			parts = append(parts, p.Field+": "+p.Problem)
		}
		return strings.Join(parts, "; ")
	}
	return err.Error()
}

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

// ---------------------------------------------------------------------------
// Prompts

// stageInput checks that input has the stage's input type and dereferences
// pointers.
func stageInput(stage Stage, input any) (any, error) {
	switch stage {
	case StageClusterName:
		switch v := input.(type) {
		case ClusterNameInput:
			return v, nil
		case *ClusterNameInput:
			if v != nil {
				return *v, nil
			}
		}
	case StageIdeas:
		switch v := input.(type) {
		case IdeasInput:
			return v, nil
		case *IdeasInput:
			if v != nil {
				return *v, nil
			}
		}
	case StageDraft:
		switch v := input.(type) {
		case DraftInput:
			return v, nil
		case *DraftInput:
			if v != nil {
				return *v, nil
			}
		}
	case StageImagePrompt:
		switch v := input.(type) {
		case ImagePromptInput:
			return clampInline(v), nil
		case *ImagePromptInput:
			if v != nil {
				return clampInline(*v), nil
			}
		}
	default:
		return nil, errs.Permanent(fmt.Errorf("ai: unknown stage %q", stage))
	}
	return nil, errs.Permanent(fmt.Errorf("%s: the prompt input has type %T", stage, input))
}

var promptFuncs = template.FuncMap{
	"oneline":      oneLine,
	"keyword":      formatKeyword,
	"maxKeywords":  func() int { return promptKeywords },
	"contentTypes": func() []string { return ContentTypes },
	"limitKeywords": func(ks []KeywordInfo) []KeywordInfo {
		if len(ks) > promptKeywords {
			return ks[:promptKeywords]
		}
		return ks
	},
	"limitStrings": func(ss []string) []string {
		if len(ss) > promptTitles {
			return ss[:promptTitles]
		}
		return ss
	},
	"join": func(ss []string, sep string) string {
		out := make([]string, 0, len(ss))
		for _, s := range ss {
			if s = oneLine(s); s != "" {
				out = append(out, s)
			}
		}
		return strings.Join(out, sep)
	},
	"limitHeadings": func(ss []string) []string {
		if len(ss) > promptHeadings {
			return ss[:promptHeadings]
		}
		return ss
	},
	"rest": func(ss []string) []string {
		if len(ss) == 0 {
			return nil
		}
		return ss[1:]
	},
	"plural": func(n int, one, many string) string {
		if n == 1 {
			return one
		}
		return many
	},

	// The builtins that can make text longer than their arguments are
	// replaced by bounded ones, so that no template (a tenant's override
	// included) can build huge strings; see prompts.go.
	"print":    boundedText(fmt.Sprint, 1),
	"println":  boundedText(fmt.Sprintln, 1),
	"printf":   boundedPrintf,
	"html":     boundedText(template.HTMLEscaper, 6),
	"js":       boundedText(template.JSEscaper, 6),
	"urlquery": boundedText(template.URLQueryEscaper, 3),
	loopTick:   func() string { return "" }, // replaced at each rendering
}

// oneLine folds all whitespace (including newlines) into single spaces, so
// that user data cannot break the layout of a prompt.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// formatKeyword renders a keyword and its metrics on one line.
func formatKeyword(k KeywordInfo) string {
	var meta []string
	if k.Volume != nil {
		meta = append(meta, "volume "+groupThousands(int64(*k.Volume))+"/month")
	}
	if k.Difficulty != nil {
		meta = append(meta, "difficulty "+strconv.Itoa(int(*k.Difficulty)))
	}
	if intent := oneLine(k.Intent); intent != "" {
		meta = append(meta, "intent "+intent)
	}
	s := oneLine(k.Phrase)
	if len(meta) > 0 {
		s += " (" + strings.Join(meta, ", ") + ")"
	}
	return s
}

func groupThousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// ---------------------------------------------------------------------------
// Schemas

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
			describe(root, "10 to 120 characters", append(idea, "title")...)
			setKey(root, "enum", toAnySlice(ContentTypes), append(idea, "content_type")...)
			describe(root, "1 to 10 keywords from the cluster, the primary keyword first",
				append(idea, "target_keywords")...)
			describe(root, "3 to 15 headings; the first has level 2", append(idea, "outline")...)
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

// strictSchema generates the schema of v's type with jsonschema and makes it
// fit strict structured outputs: $refs are inlined, and every object lists
// all of its properties as required and forbids additional properties.
func strictSchema(v any, extras func(map[string]any)) (json.RawMessage, error) {
	def, err := jsonschema.GenerateSchemaForType(v)
	if err != nil {
		return nil, err
	}
	b, err := json.Marshal(def)
	if err != nil {
		return nil, err
	}
	var root map[string]any
	if err := json.Unmarshal(b, &root); err != nil {
		return nil, err
	}
	defs, _ := root["$defs"].(map[string]any)
	delete(root, "$defs")
	fixed, err := strictNode(root, defs, 0)
	if err != nil {
		return nil, err
	}
	if extras != nil {
		extras(fixed)
	}
	var buf bytes.Buffer
	if err := encodeSchemaNode(&buf, fixed); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// schemaKeyOrder is the order in which encodeSchemaNode writes the keys of a
// schema object; other keys follow, sorted.
var schemaKeyOrder = []string{"type", "description", "enum", "properties", "items", "required", "additionalProperties"}

// encodeSchemaNode writes v as JSON like encoding/json, except that the
// properties of an object schema keep the order of its "required" list (the
// Go field order): models generate properties in schema order, so a title
// comes before the outline or the body it introduces.
func encodeSchemaNode(buf *bytes.Buffer, v any) error {
	switch n := v.(type) {
	case map[string]any:
		var keys []string
		for _, k := range schemaKeyOrder {
			if _, ok := n[k]; ok {
				keys = append(keys, k)
			}
		}
		var rest []string
		for k := range n {
			if !containsString(schemaKeyOrder, k) {
				rest = append(rest, k)
			}
		}
		sort.Strings(rest)
		keys = append(keys, rest...)
		buf.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				buf.WriteByte(',')
			}
			kb, _ := json.Marshal(k)
			buf.Write(kb)
			buf.WriteByte(':')
			if props, ok := n[k].(map[string]any); ok && k == "properties" {
				if err := encodeProperties(buf, props, n["required"]); err != nil {
					return err
				}
				continue
			}
			if err := encodeSchemaNode(buf, n[k]); err != nil {
				return err
			}
		}
		buf.WriteByte('}')
		return nil
	case []any:
		buf.WriteByte('[')
		for i, e := range n {
			if i > 0 {
				buf.WriteByte(',')
			}
			if err := encodeSchemaNode(buf, e); err != nil {
				return err
			}
		}
		buf.WriteByte(']')
		return nil
	default:
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(v); err != nil {
			return err
		}
		buf.Write(bytes.TrimRight(b.Bytes(), "\n"))
		return nil
	}
}

func encodeProperties(buf *bytes.Buffer, props map[string]any, required any) error {
	var order []string
	if req, ok := required.([]any); ok {
		for _, r := range req {
			if name, ok := r.(string); ok {
				if _, ok := props[name]; ok && !containsString(order, name) {
					order = append(order, name)
				}
			}
		}
	}
	var rest []string
	for name := range props {
		if !containsString(order, name) {
			rest = append(rest, name)
		}
	}
	sort.Strings(rest)
	order = append(order, rest...)
	buf.WriteByte('{')
	for i, name := range order {
		if i > 0 {
			buf.WriteByte(',')
		}
		kb, _ := json.Marshal(name)
		buf.Write(kb)
		buf.WriteByte(':')
		if err := encodeSchemaNode(buf, props[name]); err != nil {
			return err
		}
	}
	buf.WriteByte('}')
	return nil
}

func containsString(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

func strictNode(node map[string]any, defs map[string]any, depth int) (map[string]any, error) {
	if depth > 32 {
		return nil, errors.New("schema nests too deeply (a recursive type?)")
	}
	if ref, ok := node["$ref"].(string); ok {
		target, ok := defs[strings.TrimPrefix(ref, "#/$defs/")].(map[string]any)
		if !ok {
			return nil, fmt.Errorf("unresolved $ref %q", ref)
		}
		// Copy so that one definition used twice is fixed up independently.
		cp := make(map[string]any, len(target))
		for k, v := range target {
			cp[k] = v
		}
		for k, v := range node {
			if k != "$ref" {
				cp[k] = v
			}
		}
		return strictNode(cp, defs, depth+1)
	}
	out := make(map[string]any, len(node))
	for k, v := range node {
		out[k] = v
	}
	if items, ok := node["items"].(map[string]any); ok {
		fixed, err := strictNode(items, defs, depth+1)
		if err != nil {
			return nil, err
		}
		out["items"] = fixed
	}
	if out["type"] == "object" {
		props, _ := node["properties"].(map[string]any)
		fixedProps := make(map[string]any, len(props))
		required := make([]any, 0, len(props))
		// Keep the generator's required order (the Go field order), then
		// add the properties it left optional.
		var names []string
		if req, ok := node["required"].([]any); ok {
			for _, r := range req {
				if name, ok := r.(string); ok && props[name] != nil && !containsString(names, name) {
					names = append(names, name)
				}
			}
		}
		var optional []string
		for name := range props {
			if !containsString(names, name) {
				optional = append(optional, name)
			}
		}
		sort.Strings(optional)
		names = append(names, optional...)
		for _, name := range names {
			p, ok := props[name].(map[string]any)
			if !ok {
				return nil, fmt.Errorf("property %q has no schema", name)
			}
			fixed, err := strictNode(p, defs, depth+1)
			if err != nil {
				return nil, err
			}
			fixedProps[name] = fixed
			required = append(required, name)
		}
		out["properties"] = fixedProps
		out["required"] = required
		out["additionalProperties"] = false
	}
	return out, nil
}

// setKey sets key to value on the schema node at path, where a path element
// is a property name or "[]" for an array's items. Missing nodes are ignored.
func setKey(root map[string]any, key string, value any, path ...string) {
	node := root
	for _, p := range path {
		var next map[string]any
		if p == "[]" {
			next, _ = node["items"].(map[string]any)
		} else {
			props, _ := node["properties"].(map[string]any)
			next, _ = props[p].(map[string]any)
		}
		if next == nil {
			return
		}
		node = next
	}
	node[key] = value
}

func describe(root map[string]any, text string, path ...string) {
	setKey(root, "description", text, path...)
}

func toAnySlice(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// ---------------------------------------------------------------------------
// Parsing

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

// ParseDraft decodes a draft answer strictly, trims its fields, sanitizes
// its body with SanitizeHTML and validates it against in.
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
	d.BodyHTML = strings.TrimSpace(SanitizeHTML(d.BodyHTML))
	if err := ValidateDraft(in, d); err != nil {
		return Draft{}, err
	}
	return d, nil
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

// decodeStrict decodes exactly one JSON value into v, rejecting unknown
// fields and trailing data. A Markdown code fence around the JSON is removed.
func decodeStrict(content []byte, v any) error {
	content = stripCodeFence(content)
	if len(bytes.TrimSpace(content)) == 0 {
		return errors.New("the answer is empty")
	}
	dec := json.NewDecoder(bytes.NewReader(content))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("the answer is not JSON that matches the schema: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("the answer has data after the JSON object")
	}
	return nil
}

func stripCodeFence(b []byte) []byte {
	t := bytes.TrimSpace(b)
	if !bytes.HasPrefix(t, []byte("```")) || !bytes.HasSuffix(t, []byte("```")) || len(t) < 6 {
		return b
	}
	t = t[3 : len(t)-3]
	if i := bytes.IndexByte(t, '\n'); i >= 0 {
		// Drop the info string ("json") on the opening line.
		if first := bytes.TrimSpace(t[:i]); len(first) == 0 || isWord(first) {
			t = t[i+1:]
		}
	}
	return t
}

func isWord(b []byte) bool {
	for _, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}

// ---------------------------------------------------------------------------
// Validation

var slugRE = regexp.MustCompile(`^[a-z0-9]+(?:-[a-z0-9]+)*$`)

func runes(s string) int { return utf8.RuneCountInString(s) }

func checkLen(ve *errs.ValidationError, field, value string, lo, hi int) {
	n := runes(strings.TrimSpace(value))
	switch {
	case n == 0 && lo > 0:
		ve.Add(field, "must not be empty")
	case n < lo:
		ve.Add(field, "must be at least %d characters, got %d", lo, n)
	case n > hi:
		ve.Add(field, "must be at most %d characters, got %d", hi, n)
	}
}

// ValidateClusterName checks a cluster name (1 to 80 characters) and
// description (1 to 300 characters).
func ValidateClusterName(c ClusterName) error {
	ve := &errs.ValidationError{}
	checkLen(ve, "name", c.Name, 1, maxClusterNameLen)
	checkLen(ve, "description", c.Description, 1, maxClusterDescriptionLen)
	return ve.OrNil()
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

func isContentType(t string) bool {
	for _, c := range ContentTypes {
		if t == c {
			return true
		}
	}
	return false
}

// ValidateDraft checks a draft's fields and that its body contains every
// heading of in.Outline, in order, as an <h2>/<h3> of the same level with the
// same text.
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
	if strings.TrimSpace(d.FocusKeyword) == "" {
		ve.Add("focus_keyword", "must not be empty")
	}
	if strings.TrimSpace(d.BodyHTML) == "" {
		ve.Add("body_html", "must not be empty")
		return ve.OrNil()
	}
	found := bodyHeadings(d.BodyHTML)
	for _, i := range unmatchedHeadings(in.Outline, found) {
		h := in.Outline[i]
		ve.Add("body_html", "is missing outline[%d] as <h%d>%s</h%d> in its place after the headings before it",
			i, h.Level, html.EscapeString(truncateRunes(oneLine(h.Text), 80)), h.Level)
	}
	return ve.OrNil()
}

// unmatchedHeadings returns the indexes of the outline headings that are not
// part of a longest in-order match between outline and found, so that one
// misplaced heading is reported once rather than with all the ones after it.
func unmatchedHeadings(outline []Heading, found []bodyHeading) []int {
	want := make([][2]string, len(outline))
	for i, h := range outline {
		want[i] = [2]string{headingText(h.Text), headingText(html.UnescapeString(h.Text))}
	}
	match := func(i, j int) bool {
		return found[j].level == outline[i].Level && (found[j].text == want[i][0] || found[j].text == want[i][1])
	}
	n, m := len(outline), len(found)
	var missing []int
	if (n+1)*(m+1) > 1<<20 {
		// Too big for the table: match greedily.
		next := 0
		for i := range outline {
			j := next
			for j < m && !match(i, j) {
				j++
			}
			if j == m {
				missing = append(missing, i)
				continue
			}
			next = j + 1
		}
		return missing
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
			i++
			j++
		case j == m || lcs[i+1][j] == lcs[i][j]:
			missing = append(missing, i)
			i++
		default:
			j++
		}
	}
	return missing
}

// Headings returns the <h2> and <h3> headings of an HTML fragment, in
// order, with their text normalized (whitespace folded).
func Headings(body string) []Heading {
	found := bodyHeadings(body)
	out := make([]Heading, len(found))
	for i, h := range found {
		out[i] = Heading{Level: h.level, Text: h.text}
	}
	return out
}

type bodyHeading struct {
	level int
	text  string
}

// bodyHeadings returns the <h2> and <h3> elements of an HTML fragment with
// their text normalized by headingText.
func bodyHeadings(body string) []bodyHeading {
	z := html.NewTokenizer(strings.NewReader(body))
	var out []bodyHeading
	var cur strings.Builder
	level := 0
	flush := func() {
		if level != 0 {
			out = append(out, bodyHeading{level: level, text: headingText(cur.String())})
		}
		level = 0
		cur.Reset()
	}
	for {
		switch z.Next() {
		case html.ErrorToken:
			flush()
			return out
		case html.StartTagToken:
			name, _ := z.TagName()
			if l := headingLevel(name); l != 0 {
				flush()
				if l == 2 || l == 3 {
					level = l
				}
			}
		case html.EndTagToken:
			name, _ := z.TagName()
			if headingLevel(name) != 0 {
				flush()
			}
		case html.TextToken:
			if level != 0 {
				cur.Write(z.Text())
			}
		}
	}
}

// AfterH2 returns body with insert(text) written after each <h2> element,
// text being the heading's text normalized as Headings gives it, so that a
// heading read from Headings finds its place again.
func AfterH2(body string, insert func(text string) string) string {
	z := html.NewTokenizer(strings.NewReader(body))
	var out, text strings.Builder
	inH2 := false
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			return out.String()
		}
		out.Write(z.Raw())
		switch tt {
		case html.StartTagToken:
			if name, _ := z.TagName(); headingLevel(name) == 2 {
				inH2 = true
				text.Reset()
			}
		case html.EndTagToken:
			if name, _ := z.TagName(); headingLevel(name) == 2 && inH2 {
				inH2 = false
				out.WriteString(insert(headingText(text.String())))
			}
		case html.TextToken:
			if inH2 {
				text.Write(z.Text())
			}
		}
	}
}

func headingLevel(name []byte) int {
	if len(name) == 2 && name[0] == 'h' && name[1] >= '1' && name[1] <= '6' {
		return int(name[1] - '0')
	}
	return 0
}

// headingText normalizes heading text for comparison: invalid UTF-8,
// control characters and U+FFFD are dropped and whitespace is folded.
func headingText(s string) string {
	s = strings.ToValidUTF8(s, "")
	s = strings.Map(func(r rune) rune {
		if r == utf8.RuneError || (unicode.IsControl(r) && !unicode.IsSpace(r)) {
			return -1
		}
		return r
	}, s)
	return oneLine(s)
}

func truncateRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n]) + "…"
}

// ---------------------------------------------------------------------------
// Input checks

func validateClusterNameInput(in ClusterNameInput) error {
	for _, k := range in.Keywords {
		if strings.TrimSpace(k.Phrase) != "" {
			return nil
		}
	}
	return errs.Invalid("keywords", "at least one keyword is needed")
}

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
		if strings.TrimSpace(h.Text) != "" && headingText(h.Text) == "" {
			ve.Add(fmt.Sprintf("outline[%d].text", i), "has no printable text")
		}
	}
	return ve.OrNil()
}

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

// ---------------------------------------------------------------------------
// HTML

var sanitizer = sync.OnceValue(func() *bluemonday.Policy {
	// Modelled on bluemonday.UGCPolicy, narrowed to the elements an article
	// body needs.
	p := bluemonday.NewPolicy()
	p.RequireParseableURLs(true)
	p.AllowRelativeURLs(true)
	p.AllowURLSchemes("mailto", "http", "https")
	p.RequireNoFollowOnFullyQualifiedLinks(true)
	p.AllowAttrs("href").OnElements("a")
	p.AllowElements("h2", "h3", "h4", "p", "br", "ul", "ol", "li", "strong", "em", "b", "i", "blockquote")
	p.AllowElements("table", "caption", "thead", "tbody", "tfoot", "tr", "th", "td")
	p.AllowAttrs("colspan", "rowspan").Matching(bluemonday.Integer).OnElements("td", "th")
	p.AllowAttrs("scope").Matching(regexp.MustCompile(`^(?i:row|col)(?i:group)?$`)).OnElements("th")
	return p
})

// SanitizeHTML keeps only the elements an article body may use (h2-h4,
// paragraphs, lists, strong/em, links with href, blockquotes and tables) and
// removes scripts, styles, iframes, event handlers and every other attribute.
func SanitizeHTML(s string) string {
	return sanitizer().Sanitize(s)
}

// inlineElements do not separate words.
var inlineElements = map[string]bool{
	"a": true, "abbr": true, "b": true, "bdi": true, "bdo": true, "cite": true, "code": true,
	"data": true, "dfn": true, "em": true, "i": true, "kbd": true, "mark": true, "q": true,
	"s": true, "samp": true, "small": true, "span": true, "strong": true, "sub": true,
	"sup": true, "time": true, "u": true, "var": true,
}

// WordCount counts the words of the visible text of an HTML fragment: runs
// of non-space characters that contain at least one letter or digit. The
// content of script, style and similar elements is not counted.
func WordCount(s string) int {
	z := html.NewTokenizer(strings.NewReader(s))
	var text strings.Builder
	skip := ""
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			return countWords(text.String())
		case html.TextToken:
			if skip == "" {
				text.Write(z.Text())
			}
		case html.StartTagToken, html.SelfClosingTagToken:
			name, _ := z.TagName()
			n := string(name)
			switch n {
			case "script", "style", "template", "noscript", "iframe", "textarea", "title":
				if skip == "" && tt == html.StartTagToken {
					skip = n
				}
			}
			if !inlineElements[n] {
				text.WriteByte(' ')
			}
		case html.EndTagToken:
			name, _ := z.TagName()
			if string(name) == skip {
				skip = ""
			}
			if !inlineElements[string(name)] {
				text.WriteByte(' ')
			}
		}
	}
}

// countWords counts the runs of non-space characters that hold a letter
// or a digit, without splitting s.
func countWords(s string) int {
	n := 0
	counted := false // the current run has been counted
	for _, r := range s {
		if unicode.IsSpace(r) {
			counted = false
			continue
		}
		if !counted && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
			n++
			counted = true
		}
	}
	return n
}
