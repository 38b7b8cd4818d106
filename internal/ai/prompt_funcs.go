package ai

import (
	"fmt"
	"strconv"
	"strings"
	"text/template"

	"github.com/presswork/presswork/internal/errs"
)

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

// promptFuncs are the functions prompt templates may call.
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

// groupThousands writes n with commas between groups of three digits.
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
