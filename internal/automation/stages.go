package automation

import (
	"slices"
	"strconv"
	"strings"

	"github.com/presswork/presswork/internal/errs"
	"github.com/presswork/presswork/internal/store"
)

// everyStage is the stages value that stands for every stage.
const everyStage = "pipeline"

// checkStages validates a rule's stages and returns them in pipeline
// order; ["pipeline"] is every stage.
func checkStages(v *errs.ValidationError, stages []string) ([]string, bool) {
	if len(stages) == 1 && stages[0] == everyStage {
		return slices.Clone(store.Stages), true
	}
	if len(stages) == 0 {
		v.Add("stages", "must list at least one stage of %s, or be [%q]", strings.Join(store.Stages, ", "), everyStage)
		return nil, false
	}
	for i, st := range stages {
		field := "stages[" + strconv.Itoa(i) + "]"
		switch {
		case st == everyStage:
			v.Add(field, "%q stands for every stage and must be the only one", everyStage)
			return nil, false
		case !slices.Contains(store.Stages, st):
			v.Add(field, "must be one of %s, or %q alone", strings.Join(store.Stages, ", "), everyStage)
			return nil, false
		case slices.Contains(stages[:i], st):
			v.Add(field, "repeats stage %q", st)
			return nil, false
		}
	}
	var out []string
	for _, st := range store.Stages {
		if slices.Contains(stages, st) {
			out = append(out, st)
		}
	}
	return out, true
}
