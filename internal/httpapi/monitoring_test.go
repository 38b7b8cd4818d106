package httpapi_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/hibiken/asynq"

	"github.com/presswork/presswork/internal/app/apptest"
)

func TestMonitoring(t *testing.T) {
	t.Parallel()
	h := apptest.Start(t)
	tenant := newFixtureLite(t, h, "monitoring")
	op := h.OperatorClient(t).Key

	client := asynq.NewClient(h.App.Redis)
	t.Cleanup(func() { client.Close() })
	_, err := client.Enqueue(asynq.NewTask("monitoring:test", nil), asynq.Queue("monitoring-test"))
	apptest.Must(t, err, "enqueue")

	basic := func(key string) []string {
		req, _ := http.NewRequest(http.MethodGet, "/", nil)
		req.SetBasicAuth("operator", key)
		return []string{"Authorization", req.Header.Get("Authorization")}
	}
	for _, path := range []string{"/monitoring", "/monitoring/", "/monitoring/api/queues"} {
		a := call(t, h, "", "GET", path, "", nil)
		a.problem(t, http.StatusUnauthorized)
		if got, want := a.Header.Get("WWW-Authenticate"), `Basic realm="presswork monitoring"`; got != want {
			t.Errorf("GET %s without a key: WWW-Authenticate %q, want %q", path, got, want)
		}
		call(t, h, "", "GET", path, "", nil, basic("pw_thisKeyDoesNotExist0000000000000")...).problem(t, http.StatusUnauthorized)
		call(t, h, tenant.Key, "GET", path, "", nil).problem(t, http.StatusForbidden)
		call(t, h, "", "GET", path, "", nil, basic(tenant.Key)...).problem(t, http.StatusForbidden)
	}

	for name, a := range map[string]answer{
		"bearer": call(t, h, op, "GET", "/monitoring", "", nil),
		"basic":  call(t, h, "", "GET", "/monitoring", "", nil, basic(op)...),
	} {
		a.must(t, http.StatusOK, nil)
		if ct := a.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") || !strings.Contains(string(a.Body), "<html") {
			t.Errorf("dashboard with a %s operator key: Content-Type %q, body %s", name, ct, clipBody(a.Body))
		}
	}

	var queues struct {
		Queues []struct {
			Queue string `json:"queue"`
			Size  int    `json:"size"`
		} `json:"queues"`
	}
	call(t, h, "", "GET", "/monitoring/api/queues", "", nil, basic(op)...).must(t, http.StatusOK, &queues)
	found := false
	for _, q := range queues.Queues {
		found = found || (q.Queue == "monitoring-test" && q.Size == 1)
	}
	if !found {
		body, _ := json.Marshal(queues)
		t.Errorf("GET /monitoring/api/queues: want queue monitoring-test with one task, got %s", body)
	}

	// A write from another site is refused even with the operator's credentials.
	call(t, h, op, "POST", "/monitoring/api/queues/monitoring-test:pause", "", nil, "Sec-Fetch-Site", "cross-site").
		must(t, http.StatusForbidden, nil)
	call(t, h, op, "POST", "/monitoring/api/queues/monitoring-test:pause", "", nil).must(t, http.StatusNoContent, nil)
}
