package automation

import (
	"fmt"
	"slices"

	"github.com/presswork/presswork/internal/errs"
	"github.com/presswork/presswork/internal/store"
)

// The fields a rule's condition may test: the tenant's credits and the
// site's backlog.
const (
	FieldUnclusteredKeywords  = "unclustered_keywords"
	FieldClustersNeedingIdeas = "clusters_needing_ideas"
	FieldIdeasWithoutDrafts   = "ideas_without_drafts"
	FieldDraftsWithoutImages  = "drafts_without_images"
	FieldDraftsToPublish      = "drafts_to_publish"
	FieldCreditsAvailable     = "credits_available"
)

// Condition fields and operators a rule may use.
var (
	conditionFields = []string{FieldUnclusteredKeywords, FieldClustersNeedingIdeas, FieldIdeasWithoutDrafts,
		FieldDraftsWithoutImages, FieldDraftsToPublish, FieldCreditsAvailable}
	conditionOps = []string{"gt", "gte", "lt", "lte", "eq", "ne"}
)

// maxConditions bounds the conditions of one rule.
const maxConditions = 10

// conditionStages maps the backlog fields counted as a stage's candidates
// to that stage.
var conditionStages = map[string]string{
	FieldClustersNeedingIdeas: store.StageIdeas,
	FieldIdeasWithoutDrafts:   store.StageDrafts,
	FieldDraftsWithoutImages:  store.StageImages,
	FieldDraftsToPublish:      store.StagePublish,
}

// CheckConditions adds a problem to v for each malformed condition.
func CheckConditions(v *errs.ValidationError, conditions []store.Condition) {
	if len(conditions) > maxConditions {
		v.Add("conditions", "may list at most %d conditions, got %d", maxConditions, len(conditions))
		return
	}
	for i, c := range conditions {
		field := fmt.Sprintf("conditions[%d]", i)
		if !slices.Contains(conditionFields, c.Field) {
			v.Add(field+".field", "must be one of %v", conditionFields)
		}
		if !slices.Contains(conditionOps, c.Op) {
			v.Add(field+".op", "must be one of %v", conditionOps)
		}
		if c.Value < 0 {
			v.Add(field+".value", "must not be negative")
		}
	}
}

// ConditionStage returns the automation stage whose candidates the
// backlog field counts; ok is false for the other fields
// (FieldCreditsAvailable, FieldUnclusteredKeywords) and unknown ones.
func ConditionStage(field string) (stage string, ok bool) {
	stage, ok = conditionStages[field]
	return stage, ok
}

// Unmet says why condition c does not hold when its field's value is
// have, or "" when it holds.
func Unmet(c store.Condition, have int64) string {
	if holds(have, c.Op, c.Value) {
		return ""
	}
	return fmt.Sprintf("condition %s %s %d does not hold: it is %d", c.Field, c.Op, c.Value, have)
}

// holds compares have to want with op; an unknown op never holds.
func holds(have int64, op string, want int64) bool {
	switch op {
	case "gt":
		return have > want
	case "gte":
		return have >= want
	case "lt":
		return have < want
	case "lte":
		return have <= want
	case "eq":
		return have == want
	case "ne":
		return have != want
	}
	return false
}
