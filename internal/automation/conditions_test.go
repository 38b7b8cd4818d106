package automation

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/presswork/presswork/internal/errs"
	"github.com/presswork/presswork/internal/store"
)

func TestCheckConditions(t *testing.T) {
	t.Parallel()
	fields := fmt.Sprint(conditionFields)
	eleven := make([]store.Condition, 11)
	for i := range eleven {
		eleven[i] = store.Condition{Field: FieldCreditsAvailable, Op: "gt"}
	}
	tests := []struct {
		name       string
		conditions []store.Condition
		want       []errs.FieldProblem
	}{
		{"none", nil, nil},
		{"every field and op", []store.Condition{{Field: FieldUnclusteredKeywords, Op: "gt"},
			{Field: FieldClustersNeedingIdeas, Op: "gte", Value: 1}, {Field: FieldIdeasWithoutDrafts, Op: "lt", Value: 2},
			{Field: FieldDraftsWithoutImages, Op: "lte"}, {Field: FieldDraftsToPublish, Op: "eq"},
			{Field: FieldCreditsAvailable, Op: "ne"}}, nil},
		{"ten", eleven[:10], nil},
		{"eleven", eleven, problem("conditions", "may list at most 10 conditions, got 11")},
		{"unknown field", []store.Condition{{Field: "keywords", Op: "gt"}},
			problem("conditions[0].field", "must be one of "+fields)},
		{"unknown op", []store.Condition{{Field: FieldCreditsAvailable, Op: ">"}},
			problem("conditions[0].op", "must be one of [gt gte lt lte eq ne]")},
		{"negative value", []store.Condition{{Field: FieldCreditsAvailable, Op: "gt"},
			{Field: FieldCreditsAvailable, Op: "gt", Value: -1}},
			problem("conditions[1].value", "must not be negative")},
		{"everything wrong", []store.Condition{{Field: "", Op: "", Value: -5}},
			problem("conditions[0].field", "must be one of "+fields, "conditions[0].op", "must be one of [gt gte lt lte eq ne]",
				"conditions[0].value", "must not be negative")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v := &errs.ValidationError{}
			CheckConditions(v, tt.conditions)
			if diff := cmp.Diff(tt.want, v.Problems); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
		})
	}
}

func TestUnmet(t *testing.T) {
	t.Parallel()
	tests := []struct {
		op    string
		have  int64
		want  int64
		holds bool
	}{
		{"gt", 6, 5, true}, {"gt", 5, 5, false},
		{"gte", 5, 5, true}, {"gte", 4, 5, false},
		{"lt", 4, 5, true}, {"lt", 5, 5, false},
		{"lte", 5, 5, true}, {"lte", 6, 5, false},
		{"eq", 5, 5, true}, {"eq", 4, 5, false},
		{"ne", 4, 5, true}, {"ne", 5, 5, false},
		{"unknown", 5, 5, false},
	}
	for _, tt := range tests {
		c := store.Condition{Field: FieldDraftsToPublish, Op: tt.op, Value: tt.want}
		want := ""
		if !tt.holds {
			want = fmt.Sprintf("condition drafts_to_publish %s %d does not hold: it is %d", tt.op, tt.want, tt.have)
		}
		if got := Unmet(c, tt.have); got != want {
			t.Errorf("Unmet(%s %d, have %d) = %q, want %q", tt.op, tt.want, tt.have, got, want)
		}
	}
}

func TestConditionStage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		field string
		stage string
		ok    bool
	}{
		{FieldClustersNeedingIdeas, store.StageIdeas, true},
		{FieldIdeasWithoutDrafts, store.StageDrafts, true},
		{FieldDraftsWithoutImages, store.StageImages, true},
		{FieldDraftsToPublish, store.StagePublish, true},
		{FieldUnclusteredKeywords, "", false},
		{FieldCreditsAvailable, "", false},
		{"unknown", "", false},
	}
	for _, tt := range tests {
		if stage, ok := ConditionStage(tt.field); stage != tt.stage || ok != tt.ok {
			t.Errorf("ConditionStage(%q) = %q, %v; want %q, %v", tt.field, stage, ok, tt.stage, tt.ok)
		}
	}
}
