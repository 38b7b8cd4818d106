package jobs_test

import (
	"bytes"
	"net/http"
	"testing"
	"time"

	"github.com/presswork/presswork/internal/app/apptest"
	"github.com/presswork/presswork/internal/jobs"
	"github.com/presswork/presswork/internal/store"
)

// TestMaintenancePrunesIdempotencyKeys (#17.8): an Idempotency-Key is
// remembered for store.IdempotencyKeyRetention (its reuse for another
// request is a conflict) and deleted by the maintenance pass after it, so
// the key may then name a new request.
func TestMaintenancePrunesIdempotencyKeys(t *testing.T) {
	t.Parallel()
	h := apptest.Start(t)
	tk, _ := h.Tenant(t, "idem-prune", 0)
	post := func(name string) int {
		t.Helper()
		body := []byte(`{"name":"` + name + `","url":"https://` + name + `.example.com","username":"u","application_password":"abcd efgh"}`)
		req, err := http.NewRequestWithContext(apptest.Context(t), http.MethodPost, h.URL+"/v1/sites", bytes.NewReader(body))
		apptest.Must(t, err, "request")
		req.Header.Set("Authorization", "Bearer "+tk.OwnerKey)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", "create-site-1")
		resp, err := http.DefaultClient.Do(req)
		apptest.Must(t, err, "POST /v1/sites")
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := post("first"); got != http.StatusCreated {
		t.Fatalf("first request: %d, want 201", got)
	}
	if got := post("second"); got != http.StatusConflict {
		t.Fatalf("the key reused for another request: %d, want 409", got)
	}

	start := time.Now()
	m := &jobs.Maintenance{Store: h.App.Store, Inspector: h.Inspector(t), Log: h.App.Log,
		RetainJobs: 90 * 24 * time.Hour, RetainRuns: 30 * 24 * time.Hour, RetainArchived: 30 * 24 * time.Hour}
	m.Now = func() time.Time { return start.Add(store.IdempotencyKeyRetention - time.Hour) }
	rep, err := m.Once(apptest.Context(t))
	apptest.Must(t, err, "maintenance within the retention")
	if rep.IdempotencyKeys != 0 {
		t.Errorf("within the retention the pass deleted %d keys, want 0", rep.IdempotencyKeys)
	}
	if got := post("second"); got != http.StatusConflict {
		t.Fatalf("the key reused within the retention: %d, want 409", got)
	}

	m.Now = func() time.Time { return start.Add(store.IdempotencyKeyRetention + time.Hour) }
	rep, err = m.Once(apptest.Context(t))
	apptest.Must(t, err, "maintenance past the retention")
	if rep.IdempotencyKeys != 1 {
		t.Errorf("past the retention the pass deleted %d keys, want 1", rep.IdempotencyKeys)
	}
	if got := post("second"); got != http.StatusCreated {
		t.Errorf("the key reused after the retention: %d, want 201 (a new request)", got)
	}
}
