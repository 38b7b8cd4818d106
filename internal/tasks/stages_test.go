package tasks_test

import (
	"testing"

	"github.com/presswork/presswork/internal/ai"
	"github.com/presswork/presswork/internal/store"
	"github.com/presswork/presswork/internal/tasks"
)

func TestStagePipeline(t *testing.T) {
	t.Parallel()
	if len(tasks.Pipeline) != len(store.Stages) {
		t.Fatalf("%d stages in the pipeline, store has %d", len(tasks.Pipeline), len(store.Stages))
	}
	for i, st := range tasks.Pipeline {
		if st.Name != store.Stages[i] {
			t.Errorf("stage %d is %q, store.Stages has %q there", i, st.Name, store.Stages[i])
		}
		if st.Type == "" || st.Subjects == "" {
			t.Errorf("stage %q lacks a task type or subjects: %+v", st.Name, st)
		}
	}
}

func TestStageLookups(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, typ string
		prompt    ai.Stage
	}{
		{"cluster", "keywords:cluster", "cluster_name"},
		{"ideas", "ideas:generate", "ideas"},
		{"drafts", "draft:write", "draft"},
		{"images", "image:generate", "image_prompt"},
		{"publish", "post:publish", ""},
	}
	for _, tt := range tests {
		byName, ok := tasks.StageNamed(tt.name)
		if !ok || byName.Type != tt.typ || byName.Prompt != tt.prompt {
			t.Errorf("StageNamed(%q) = %+v, %v; want type %q, prompt %q", tt.name, byName, ok, tt.typ, tt.prompt)
		}
	}
	for _, unknown := range []string{"draft", "site:check", ""} {
		if st, ok := tasks.StageNamed(unknown); ok {
			t.Errorf("StageNamed(%q) = %+v, want none", unknown, st)
		}
	}
}
