package jobs

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/presswork/presswork/internal/store"
	"github.com/presswork/presswork/internal/tasks"
)

func TestTaskOptions(t *testing.T) {
	for _, tc := range []struct {
		job      store.Job
		maxRetry int
		timeout  time.Duration
	}{
		{store.Job{ID: "j-draft", Type: tasks.TypeDraft, Queue: QueueBulk}, 8, 10 * time.Minute},
		{store.Job{ID: "j-cluster", Type: tasks.TypeCluster, Queue: QueueDefault}, 5, 30 * time.Minute},
		{store.Job{ID: "j-publish", Type: tasks.TypePublish, Queue: QueueBulk}, 20, 5 * time.Minute},
		{store.Job{ID: "j-check", Type: tasks.TypeCheck, Queue: QueueDefault}, 3, time.Minute},
		{store.Job{ID: "j-run", Type: tasks.TypeAutomation, Queue: QueueDefault}, 10, 2 * time.Minute},
		{store.Job{ID: "j-deploy", Type: tasks.TypeDeploy, Queue: QueueDefault}, 8, 20 * time.Minute},
	} {
		opts, err := taskOptions(tc.job)
		if err != nil {
			t.Errorf("%s: %v", tc.job.Type, err)
			continue
		}
		got := map[asynq.OptionType]any{}
		for _, o := range opts {
			got[o.Type()] = o.Value()
		}
		want := map[asynq.OptionType]any{asynq.TaskIDOpt: tc.job.ID, asynq.QueueOpt: tc.job.Queue,
			asynq.MaxRetryOpt: tc.maxRetry, asynq.TimeoutOpt: tc.timeout}
		if len(got) != len(want) {
			t.Errorf("%s: options %v, want %v", tc.job.Type, got, want)
		}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("%s: option %v is %v, want %v", tc.job.Type, k, got[k], v)
			}
		}
	}
}

func TestTaskOfUnknownTypeIsAnError(t *testing.T) {
	_, err := NewTask(store.Job{ID: "j", Type: "retired:type", Queue: QueueDefault})
	if err == nil || !strings.Contains(err.Error(), "retired:type") {
		t.Errorf("NewTask of an unknown type: %v, want an error naming it", err)
	}
}

func TestTypesAreTheTypesWithOptions(t *testing.T) {
	types := Types()
	if len(types) != len(specs) {
		t.Errorf("Types() lists %d types, options exist for %d", len(types), len(specs))
	}
	for _, typ := range types {
		if _, ok := specs[typ]; !ok {
			t.Errorf("type %s has no options", typ)
		}
	}
	if types[0] != tasks.TypeCluster || !slices.Contains(types, tasks.TypeAutomation) {
		t.Errorf("Types() = %v, want the pipeline's first and the automation run", types)
	}
}
