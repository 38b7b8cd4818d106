package ai

import (
	"errors"
	"fmt"
	"maps"
	"regexp"
	"strings"
	"sync"
	"text/template"
	"text/template/parse"
	"unicode"
	"unicode/utf8"

	"github.com/presswork/presswork/internal/errs"
)

// PromptPair is the system and the user prompt template of a stage, in
// text/template syntax, rendered with the stage's input (ClusterNameInput,
// IdeasInput, DraftInput or ImagePromptInput) as data and the functions the
// default templates use (oneline, keyword, join, limitKeywords, ...).
type PromptPair struct {
	System string
	User   string
}

// Limits on prompt templates. A tenant's override runs in the API (when it
// is checked) and in every worker, so whatever it says, one rendering stays
// small and quick: bounded loop iterations, bounded output, and no builtin
// that can grow text without bound.
const (
	// MaxPromptTemplateLen bounds each template of an override, in characters.
	MaxPromptTemplateLen = 20000
	// maxRenderedPrompt bounds a rendered prompt, in bytes.
	maxRenderedPrompt = 100_000
	// maxLoopIterations bounds the range iterations of one rendering.
	maxLoopIterations = 5000
	// maxFuncOutput bounds the text one print, printf, println, html, js or
	// urlquery call returns, in bytes.
	maxFuncOutput = 20_000
)

// loopTick names the function called at the start of every range
// iteration: it counts the iterations of one rendering.
const loopTick = "__loop_tick"

var (
	errPromptTooLong = fmt.Errorf("the prompt is longer than %d bytes", maxRenderedPrompt)
	errTooManyLoops  = fmt.Errorf("loops run more than %d times", maxLoopIterations)
	errFuncTooLong   = fmt.Errorf("the result would be longer than %d bytes", maxFuncOutput)
)

// PromptStages returns the stages whose prompts are templates, in pipeline
// order.
func PromptStages() []Stage {
	return []Stage{StageClusterName, StageIdeas, StageDraft, StageImagePrompt}
}

// ParsePromptStage returns the stage named s, if it has prompt templates.
func ParsePromptStage(s string) (Stage, bool) {
	for _, stage := range PromptStages() {
		if string(stage) == s {
			return stage, true
		}
	}
	return "", false
}

// DefaultPrompt returns the embedded default templates of a stage.
func DefaultPrompt(stage Stage) (PromptPair, error) {
	if _, ok := ParsePromptStage(string(stage)); !ok {
		return PromptPair{}, errs.Permanent(fmt.Errorf("ai: unknown stage %q", stage))
	}
	read := func(part string) (string, error) {
		b, err := promptFS.ReadFile("prompts/" + string(stage) + "." + part + ".tmpl")
		if err != nil {
			return "", fmt.Errorf("ai: default %s prompt of %s: %w", part, stage, err)
		}
		return string(b), nil
	}
	system, err := read("system")
	if err != nil {
		return PromptPair{}, err
	}
	user, err := read("user")
	if err != nil {
		return PromptPair{}, err
	}
	return PromptPair{System: system, User: user}, nil
}

// CheckPrompt checks templates meant to replace a stage's defaults: each
// must be valid UTF-8 text of 1 to MaxPromptTemplateLen characters without
// control characters other than tabs and line breaks, must parse, must not
// define or call other templates, and must render to non-empty text with
// the stage's sample inputs (a full one and a minimal one, so that both
// sides of the usual {{if}} and {{with}} are tried). Problems are reported
// in an *errs.ValidationError naming the field "system" or "user" with the
// template's own error, such as a field the input does not have.
func CheckPrompt(stage Stage, system, user string) error {
	samples := promptSamples(stage)
	if samples == nil {
		return errs.Invalid("stage", "%q is not a stage with prompt templates", stage)
	}
	ve := &errs.ValidationError{}
	for _, part := range []struct{ field, text string }{{"system", system}, {"user", user}} {
		if problem := checkPromptPart(part.field, part.text, samples); problem != "" {
			ve.Add(part.field, "%s", problem)
		}
	}
	return ve.OrNil()
}

func checkPromptPart(name, text string, samples []any) string {
	switch {
	case !utf8.ValidString(text):
		return "is not valid UTF-8"
	case strings.TrimSpace(text) == "":
		return "must not be empty"
	case utf8.RuneCountInString(text) > MaxPromptTemplateLen:
		return fmt.Sprintf("must be at most %d characters", MaxPromptTemplateLen)
	case strings.ContainsFunc(text, func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\r' && r != '\t' }):
		return "must not contain control characters other than tabs and line breaks"
	}
	t, err := parsePromptTemplate(name, text)
	if err != nil {
		return err.Error()
	}
	for _, in := range samples {
		out, err := t.render(in)
		if err != nil {
			return "does not render with sample data: " + err.Error()
		}
		if out == "" {
			return "renders to empty text with sample data"
		}
	}
	return ""
}

// WithPrompts returns a copy of w whose stages use the given templates
// instead of their defaults; stages not in overrides keep w's. A template
// that does not parse is an *errs.ValidationError naming "system" or
// "user"; CheckPrompt is what should have refused it before it was stored.
func (w *Writer) WithPrompts(overrides map[Stage]PromptPair) (*Writer, error) {
	if len(overrides) == 0 {
		return w, nil
	}
	prompts := maps.Clone(w.prompts)
	for stage, p := range overrides {
		if _, ok := prompts[stage]; !ok {
			return nil, errs.Permanent(fmt.Errorf("ai: unknown stage %q", stage))
		}
		sp, err := parseStagePrompts(p)
		if err != nil {
			return nil, fmt.Errorf("%s prompt templates: %w", stage, err)
		}
		prompts[stage] = sp
	}
	cp := *w
	cp.prompts = prompts
	return &cp, nil
}

// WithModel returns a copy of w that calls model, with w's prompts.
func (w *Writer) WithModel(model TextModel) (*Writer, error) {
	if model == nil {
		return nil, errors.New("ai: WithModel: nil model")
	}
	cp := *w
	cp.model = model
	return &cp, nil
}

// RenderPrompt renders the default system and user prompt of a stage for
// input, which must be the stage's input type (ClusterNameInput, IdeasInput,
// DraftInput or ImagePromptInput, or a pointer to one).
func RenderPrompt(stage Stage, input any) (system, user string, err error) {
	prompts, err := defaultPrompts()
	if err != nil {
		return "", "", err
	}
	return renderPrompt(prompts, stage, input)
}

// promptSet holds the templates of every stage.
type promptSet map[Stage]stagePrompts

type stagePrompts struct {
	system, user promptTemplate
	// inlineAware is whether the templates use .InlineCount; when they do
	// not (an override written before in-article images existed), the
	// image_prompt stage adds the request for them to the user prompt.
	inlineAware bool
}

var defaultPrompts = sync.OnceValues(func() (promptSet, error) {
	set := promptSet{}
	for _, stage := range PromptStages() {
		p, err := DefaultPrompt(stage)
		if err != nil {
			return nil, err
		}
		sp, err := parseStagePrompts(p)
		if err != nil {
			return nil, fmt.Errorf("ai: default prompt templates of %s: %w", stage, err)
		}
		set[stage] = sp
	}
	return set, nil
})

func parseStagePrompts(p PromptPair) (stagePrompts, error) {
	ve := &errs.ValidationError{}
	system, err := parsePromptTemplate("system", p.System)
	if err != nil {
		ve.Add("system", "%s", err)
	}
	user, err := parsePromptTemplate("user", p.User)
	if err != nil {
		ve.Add("user", "%s", err)
	}
	aware := strings.Contains(p.System, ".InlineCount") || strings.Contains(p.User, ".InlineCount")
	return stagePrompts{system: system, user: user, inlineAware: aware}, ve.OrNil()
}

func renderPrompt(ps promptSet, stage Stage, input any) (system, user string, err error) {
	data, err := stageInput(stage, input)
	if err != nil {
		return "", "", err
	}
	sp, ok := ps[stage]
	if !ok {
		return "", "", errs.Permanent(fmt.Errorf("ai: no prompt templates for stage %q", stage))
	}
	if system, err = sp.system.render(data); err != nil {
		return "", "", errs.Permanent(fmt.Errorf("%s: render system prompt: %w", stage, err))
	}
	if user, err = sp.user.render(data); err != nil {
		return "", "", errs.Permanent(fmt.Errorf("%s: render user prompt: %w", stage, err))
	}
	if in, ok := data.(ImagePromptInput); ok && in.InlineCount > 0 && !sp.inlineAware {
		user += "\n\n" + inlineRequest(in)
	}
	return system, user, nil
}

// inlineRequest asks for in-article images in the words of the default
// templates, for templates that do not.
func inlineRequest(in ImagePromptInput) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Also describe %d in-article images in inline_images, each shown after a different one of "+
		"these section headings (copy the heading exactly), with a prompt and an alt text as for the featured image:\n", in.InlineCount)
	for _, h := range InlineHeadings(in) {
		b.WriteString("- " + h + "\n")
	}
	return strings.TrimSpace(b.String())
}

// promptTemplate is one parsed template whose every range iteration counts
// against maxLoopIterations.
type promptTemplate struct {
	t *template.Template
}

// parsePromptTemplate parses text as the template name. A template may not
// define or call other templates: {{template}} is the one construct that
// could recurse.
func parsePromptTemplate(name, text string) (promptTemplate, error) {
	t, err := template.New(name).Funcs(promptFuncs).Option("missingkey=error").Parse(text)
	if err != nil {
		return promptTemplate{}, fmt.Errorf("does not parse: %w", err)
	}
	if len(t.Templates()) > 1 {
		return promptTemplate{}, errors.New("may not define templates ({{define}} or {{block}})")
	}
	if t.Tree == nil || t.Tree.Root == nil {
		return promptTemplate{}, errors.New("must not be empty")
	}
	if err := guardLoops(t.Tree.Root, tickNode()); err != nil {
		return promptTemplate{}, err
	}
	return promptTemplate{t: t}, nil
}

// tickNode is a {{__loop_tick}} action, put at the start of every range
// body by guardLoops.
var tickNode = sync.OnceValue(func() *parse.ActionNode {
	t := template.Must(template.New("loop").Funcs(promptFuncs).Parse("{{" + loopTick + "}}"))
	return t.Tree.Root.Nodes[0].(*parse.ActionNode)
})

// guardLoops refuses template calls and makes every range body start with
// tick. Control structures only nest in lists, never in pipelines.
func guardLoops(n parse.Node, tick *parse.ActionNode) error {
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return nil
		}
		for _, c := range n.Nodes {
			if err := guardLoops(c, tick); err != nil {
				return err
			}
		}
	case *parse.TemplateNode:
		return errors.New("may not call templates ({{template}} or {{block}})")
	case *parse.IfNode:
		return guardBranch(&n.BranchNode, tick)
	case *parse.WithNode:
		return guardBranch(&n.BranchNode, tick)
	case *parse.RangeNode:
		if err := guardBranch(&n.BranchNode, tick); err != nil {
			return err
		}
		n.List.Nodes = append([]parse.Node{tick}, n.List.Nodes...)
	}
	return nil
}

func guardBranch(b *parse.BranchNode, tick *parse.ActionNode) error {
	if err := guardLoops(b.List, tick); err != nil {
		return err
	}
	return guardLoops(b.ElseList, tick)
}

// render executes the template with data into at most maxRenderedPrompt
// bytes and at most maxLoopIterations range iterations, and trims the
// result.
func (p promptTemplate) render(data any) (string, error) {
	t, err := p.t.Clone() // a clone of its own for this rendering's counter
	if err != nil {
		return "", err
	}
	iterations := 0
	t.Funcs(template.FuncMap{loopTick: func() (string, error) {
		if iterations++; iterations > maxLoopIterations {
			return "", errTooManyLoops
		}
		return "", nil
	}})
	var out limitedBuilder
	if err := t.Execute(&out, data); err != nil {
		if errors.Is(err, errTooManyLoops) {
			return "", errTooManyLoops // the error's location is the injected tick's
		}
		return "", err
	}
	return strings.TrimSpace(out.String()), nil
}

// limitedBuilder is a strings.Builder that refuses to grow past
// maxRenderedPrompt bytes; the template stops at the refused write.
type limitedBuilder struct {
	strings.Builder
}

func (b *limitedBuilder) Write(p []byte) (int, error) {
	if b.Len()+len(p) > maxRenderedPrompt {
		return 0, errPromptTooLong
	}
	return b.Builder.Write(p)
}

// boundedText wraps a builtin whose result is at most growth times the size
// of its arguments, refusing results longer than maxFuncOutput before they
// are built.
func boundedText(f func(...any) string, growth int) func(args ...any) (string, error) {
	return func(args ...any) (string, error) {
		if argsSize(args)*growth > maxFuncOutput {
			return "", errFuncTooLong
		}
		out := f(args...)
		if len(out) > maxFuncOutput {
			return "", errFuncTooLong
		}
		return out, nil
	}
}

// printfSpec matches the flags, width and precision of a printf verb.
var printfSpec = regexp.MustCompile(`%[^a-zA-Z%]*`)

var bigNumber = regexp.MustCompile(`\d{4}`)

// boundedPrintf is printf with widths and precisions below 1000 and a
// result of at most maxFuncOutput bytes.
func boundedPrintf(format string, args ...any) (string, error) {
	for _, spec := range printfSpec.FindAllString(strings.ReplaceAll(format, "%%", ""), -1) {
		if strings.Contains(spec, "*") || bigNumber.MatchString(spec) {
			return "", errors.New("widths and precisions must be written out and below 1000")
		}
	}
	if len(format)+argsSize(args) > maxFuncOutput {
		return "", errFuncTooLong
	}
	out := fmt.Sprintf(format, args...)
	if len(out) > maxFuncOutput {
		return "", errFuncTooLong
	}
	return out, nil
}

// argsSize estimates the text size of builtin arguments: exactly for
// strings, a guess for the rest (whose result is checked afterwards).
func argsSize(args []any) int {
	n := 0
	for _, a := range args {
		switch v := a.(type) {
		case string:
			n += len(v)
		case []string:
			for _, s := range v {
				n += len(s) + 1
			}
		default:
			n += 32
		}
	}
	return n
}

// promptSamples returns the inputs a stage's templates are checked with: a
// full one (every optional field set, a full content profile, more
// keywords than a prompt lists) and a minimal one.
func promptSamples(stage Stage) []any {
	i32 := func(v int32) *int32 { return &v }
	i16 := func(v int16) *int16 { return &v }
	keywords := []KeywordInfo{
		{Phrase: "trail running shoes", Volume: i32(14800), Difficulty: i16(42), Intent: "commercial"},
		{Phrase: "best trail running shoes for beginners", Volume: i32(2900), Difficulty: i16(35), Intent: "commercial"},
		{Phrase: "how to choose trail running shoes", Intent: "informational"},
	}
	for i := len(keywords); i <= promptKeywords; i++ {
		keywords = append(keywords, KeywordInfo{Phrase: fmt.Sprintf("trail running shoes %d", i), Volume: i32(int32(10 * i))})
	}
	minimal := []KeywordInfo{{Phrase: "trail shoes"}}
	profile := Profile{Language: "en-GB", Voice: "Friendly and precise.", Audience: "Beginner trail runners",
		PointOfView: "second_person", Avoid: []string{"guaranteed"}, WordTargets: map[string]int{"how_to": 1200},
		FAQ: true, TableOfContents: true, KeyTakeaways: true}
	outline := []Heading{
		{Level: 2, Text: "Why Trail Shoes Differ from Road Shoes"},
		{Level: 2, Text: "Choosing Your Pair"},
		{Level: 3, Text: "Grip & Lugs"},
	}
	switch stage {
	case StageClusterName:
		return []any{
			ClusterNameInput{SiteName: "Trail & Tarmac", Keywords: keywords, Profile: profile},
			ClusterNameInput{Keywords: minimal},
			ClusterNameInput{Keywords: keywords[:10], KeywordCount: 27},
		}
	case StageIdeas:
		return []any{
			IdeasInput{SiteName: "Trail & Tarmac", ClusterName: "Trail Running Shoes",
				ClusterDescription: "Runners choosing their first pair of trail shoes.", Keywords: keywords, Count: 3,
				ExistingTitles: []string{"Trail Running for Beginners", "Our Favourite Running Socks"},
				TakenKeywords:  []string{"trail running for beginners", "running socks"}, Profile: profile},
			IdeasInput{ClusterName: "Trail Shoes", Keywords: minimal, Count: 1},
		}
	case StageDraft:
		return []any{
			DraftInput{SiteName: "Trail & Tarmac", ClusterName: "Trail Running Shoes",
				Title: "How to Choose Trail Running Shoes", ContentType: "how_to",
				TargetKeywords: []string{"how to choose trail running shoes", "trail running shoes"}, Outline: outline,
				Profile: profile, FAQQuestions: []string{"are trail shoes worth it"}},
			DraftInput{Title: "Trail Shoes", ContentType: "post", TargetKeywords: []string{"trail shoes"},
				Outline: outline[:1]},
		}
	case StageImagePrompt:
		return []any{
			ImagePromptInput{SiteName: "Trail & Tarmac", Title: "How to Choose Trail Running Shoes",
				FocusKeyword: "how to choose trail running shoes",
				Excerpt:      "What to look for in grip, fit and protection before you buy your first pair.",
				Headings:     []string{outline[0].Text, outline[1].Text, outline[2].Text}, InlineCount: 2, Profile: profile},
			ImagePromptInput{Title: "Trail Shoes"},
		}
	}
	return nil
}
