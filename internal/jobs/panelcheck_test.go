package jobs

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/presswork/presswork/internal/tasks"
)

// TestPanelCheckTask: a panel check goes on the checks queue under its
// check id, is never retried, runs no longer than the API waits and keeps
// its result for the API to read.
func TestPanelCheckTask(t *testing.T) {
	p := tasks.PanelCheckPayload{CheckID: "check-1", TenantID: 7, URL: "https://panel.example", Email: "a@b.c",
		Project: "blog", SealedPassword: []byte("sealed")}
	task, err := NewPanelCheckTask(p)
	if err != nil {
		t.Fatal(err)
	}
	if task.Type() != tasks.TypePanelCheck {
		t.Errorf("type %q, want %q", task.Type(), tasks.TypePanelCheck)
	}
	var read tasks.PanelCheckPayload
	if err := json.Unmarshal(task.Payload(), &read); err != nil || read.CheckID != p.CheckID ||
		read.TenantID != p.TenantID || string(read.SealedPassword) != "sealed" {
		t.Errorf("payload %+v (%v), want %+v", read, err, p)
	}
	got := map[asynq.OptionType]any{}
	for _, o := range panelCheckOptions(p.CheckID) {
		got[o.Type()] = o.Value()
	}
	want := map[asynq.OptionType]any{asynq.QueueOpt: QueueChecks, asynq.TaskIDOpt: "check-1", asynq.MaxRetryOpt: 0,
		asynq.TimeoutOpt: tasks.PanelCheckWait, asynq.RetentionOpt: 2 * time.Minute}
	if len(got) != len(want) {
		t.Errorf("options %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("option %v is %v, want %v", k, got[k], v)
		}
	}
}
