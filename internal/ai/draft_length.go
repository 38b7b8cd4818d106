package ai

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/presswork/presswork/internal/errs"
	"github.com/presswork/presswork/internal/markup"
)

// Bounds of the word band: how far, in percent either side of its target, a
// draft's length may be before it is sent back to be expanded or trimmed.
const (
	DefaultWordBand = 30
	MinWordBand     = 5
	MaxWordBand     = 100
	// lengthSections is how many sections a length repair names.
	lengthSections = 3
)

// ParseWordBand reads the operator's word band (DRAFT_WORD_BAND), a whole
// percentage from MinWordBand to MaxWordBand; "" is DefaultWordBand.
func ParseWordBand(s string) (int, error) {
	s = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(s), "%"))
	if s == "" {
		return DefaultWordBand, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < MinWordBand || n > MaxWordBand {
		return 0, fmt.Errorf("%q: the band must be a whole percentage from %d to %d", s, MinWordBand, MaxWordBand)
	}
	return n, nil
}

// WordRange is the lengths a draft of in may have without a length
// repair: its word target plus or minus its band. ok is false when in has
// no target.
func (in DraftInput) WordRange() (lo, hi int, ok bool) {
	target := in.WordTarget()
	if target <= 0 {
		return 0, 0, false
	}
	band := in.WordBand
	if band <= 0 {
		band = DefaultWordBand
	}
	return target * (100 - band) / 100, target * (100 + band) / 100, true
}

// errLengthOnly marks a draft whose only fault is its length: the model is
// asked once to expand or trim it, and if that does not help the draft is
// kept with a warning (it is never written again from scratch).
type errLengthOnly struct{ problem errs.FieldProblem }

func (e *errLengthOnly) Error() string { return e.problem.Field + ": " + e.problem.Problem }

// Soft reports that the answer is usable as it is.
func (e *errLengthOnly) Soft() bool { return true }

// lengthFault says what is wrong with the length of a draft body, naming
// the sections to expand (the shortest) or to trim (the longest), or ok
// false when it is within its target's band or has no target. summary is
// the fault without the request.
func lengthFault(in DraftInput, body string) (fault errs.FieldProblem, summary string, ok bool) {
	lo, hi, ok := in.WordRange()
	if !ok {
		return errs.FieldProblem{}, "", false
	}
	n := markup.WordCount(body)
	if n >= lo && n <= hi {
		return errs.FieldProblem{}, "", false
	}
	target := in.WordTarget()
	secs := markup.Sections(body)
	verb, which, change := "expand", "shortest", target-n
	order := func(a, b markup.Section) int { return cmp.Compare(a.Words, b.Words) }
	if n > hi {
		verb, which, change = "trim", "longest", n-target
		order = func(a, b markup.Section) int { return cmp.Compare(b.Words, a.Words) }
	}
	slices.SortStableFunc(secs, order)
	names := make([]string, 0, lengthSections)
	for _, s := range secs[:min(len(secs), lengthSections)] {
		if s.Heading == "" {
			names = append(names, "the introduction")
		} else {
			names = append(names, fmt.Sprintf("%q", truncateRunes(s.Heading, 80)))
		}
	}
	where := ""
	if len(names) > 0 {
		where = fmt.Sprintf(", mostly in %s (the %s)", joinAnd(names), which)
	}
	summary = fmt.Sprintf("has %d words, outside the %d to %d words expected of a %s (the target is about %d)",
		n, lo, hi, contentTypeName(in.ContentType), target)
	return errs.FieldProblem{Field: "body_html", Problem: fmt.Sprintf(
		"%s: %s it by about %d words%s; keep every heading, the order and what is already right, "+
			"and change only what the length needs", summary, verb, change, where)}, summary, true
}

// joinAnd joins items as "a, b and c".
func joinAnd(items []string) string {
	if len(items) < 2 {
		return strings.Join(items, "")
	}
	return strings.Join(items[:len(items)-1], ", ") + " and " + items[len(items)-1]
}
