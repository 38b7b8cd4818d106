package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"testing"

	"github.com/hibiken/asynq"

	"github.com/presswork/presswork/internal/app/apptest"
	"github.com/presswork/presswork/internal/auth"
	"github.com/presswork/presswork/internal/jobs"
	"github.com/presswork/presswork/internal/store"
)

// heldJobs returns a tenant's queued bulk jobs: held and on the queue.
func heldJobs(t *testing.T, h *apptest.Harness, tenantID int64) (held, queued []store.Job) {
	t.Helper()
	list, err := h.App.Store.ListJobs(context.Background(), tenantID, store.JobFilter{}, "", 100)
	apptest.Must(t, err, "list jobs")
	for _, j := range list {
		switch {
		case j.Queue != jobs.QueueBulk || j.State != store.JobQueued:
		case j.Held:
			held = append(held, j)
		default:
			queued = append(queued, j)
		}
	}
	return held, queued
}

// TestOperatorChangesPlan (#17.8): PATCH /v1/admin/tenants/:id takes a
// plan; the fair-share room follows it at once (a held bulk job that the
// larger room fits is released and enqueued); the change is audited with
// the plan it replaced; status and plan may change together; a tenant key
// may not change its plan.
func TestOperatorChangesPlan(t *testing.T) {
	t.Parallel()
	h := apptest.Start(t, apptest.WithEnv("BULK_INFLIGHT", "free=1,starter=1,pro=1,agency=4"))
	f := newFixture(t, h, "plans", 100) // plan pro, and a queued batch of two ideas jobs
	op := h.OperatorClient(t).Key
	tenant := f.tenantID()
	path := fmt.Sprintf("/v1/admin/tenants/%d", tenant)
	held, queued := heldJobs(t, h, tenant)
	if len(held) != 1 || len(queued) != 1 {
		t.Fatalf("with a room of 1: %d held and %d queued bulk jobs, want 1 and 1", len(held), len(queued))
	}
	callJSON(t, h, f.Key, "PATCH", path, map[string]string{"plan": "agency"}).problem(t, http.StatusForbidden)

	var got store.Tenant
	callJSON(t, h, op, "PATCH", path, map[string]string{"plan": "agency"}).must(t, http.StatusOK, &got)
	if got.Plan != "agency" || got.Status != "active" || got.ID != tenant {
		t.Errorf("after the plan change: %+v, want agency and active", got)
	}
	if held, queued := heldJobs(t, h, tenant); len(held) != 0 || len(queued) != 2 {
		t.Errorf("with a room of 4: %d held and %d queued bulk jobs, want 0 and 2", len(held), len(queued))
	}
	in := asynq.NewInspector(h.App.Redis)
	t.Cleanup(func() { in.Close() })
	if _, err := in.GetTaskInfo(jobs.QueueBulk, held[0].ID); err != nil {
		t.Errorf("the released job %s is not on the queue: %v", held[0].ID, err)
	}
	var read store.Tenant
	call(t, h, op, "GET", path, "", nil).must(t, http.StatusOK, &read)
	if read != got {
		t.Errorf("GET after the change: %+v, want %+v", read, got)
	}
	entries := auditLog(t, h, op, fmt.Sprintf("/v1/admin/audit?tenant_id=%d", tenant))
	want := auth.PlanChangeTarget(tenant, "pro", "agency")
	if !slices.ContainsFunc(entries, func(e store.AuditEntry) bool {
		return e.Action == "tenant.plan" && e.Target == want && e.Actor == "operator"
	}) {
		t.Errorf("no tenant.plan audit entry %q in %+v", want, entries)
	}

	callJSON(t, h, op, "PATCH", path, map[string]string{"plan": "free", "status": "suspended"}).must(t, http.StatusOK, &got)
	if got.Plan != "free" || got.Status != "suspended" {
		t.Errorf("after changing both: %+v, want free and suspended", got)
	}
	callJSON(t, h, op, "PATCH", "/v1/admin/tenants/"+missingID, map[string]string{"plan": "pro"}).problem(t, http.StatusNotFound)
}
