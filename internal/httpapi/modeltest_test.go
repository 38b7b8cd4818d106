package httpapi_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/presswork/presswork/internal/ai/openai/fakeopenai"
	"github.com/presswork/presswork/internal/app/apptest"
	"github.com/presswork/presswork/internal/store"
	"github.com/presswork/presswork/internal/testenv"
)

// modelTestResult is the answer of POST /v1/admin/models/:id/test.
type modelTestResult struct {
	OK        bool   `json:"ok"`
	Problem   string `json:"problem"`
	Message   string `json:"message"`
	LatencyMS int64  `json:"latency_ms"`
}

// TestModelTestRunsOnAWorker (#23): the catalogue's test action is run
// by a worker's checks server with the worker's key, against the fake
// OpenAI API: a good key passes, and a refused key, an unknown model and
// a closed port are each named in plain words, never with the key.
func TestModelTestRunsOnAWorker(t *testing.T) {
	t.Parallel()
	fake := fakeopenai.New(t)
	fake.SetKey("sk-worker-key")
	h := apptest.Start(t, apptest.WithEnv("OPENAI_API_KEY", "sk-worker-key"), apptest.WithEnv("OPENAI_BASE_URL", fake.BaseURL()))
	op := h.OperatorClient(t).Key
	// newModel is the test path of an OpenAI model of the catalogue
	// (seeded, or added).
	newModel := func(h *apptest.Harness, op, model, kind string) string {
		var list modelList
		call(t, h, op, "GET", "/v1/admin/models", "", nil).must(t, 200, &list)
		i := slices.IndexFunc(list.Items, func(m store.AIModel) bool {
			return m.Provider == "openai" && m.Model == model && string(m.Kind) == kind
		})
		if i >= 0 {
			return fmt.Sprintf("/v1/admin/models/%d/test", list.Items[i].ID)
		}
		var m store.AIModel
		callJSON(t, h, op, "POST", "/v1/admin/models", map[string]any{"provider": "openai", "model": model, "kind": kind,
			"display_name": model}).must(t, 201, &m)
		return fmt.Sprintf("/v1/admin/models/%d/test", m.ID)
	}
	chat, embed := newModel(h, op, "gpt-4o-mini", "chat"), newModel(h, op, "text-embedding-3-small", "embeddings")
	cases := []struct {
		name    string
		fault   func()
		path    string
		problem string
		says    string // part of the message
	}{
		{"chat answers", nil, chat, "", "answered"},
		{"embeddings answer", nil, embed, "", "answered"},
		{"key refused", func() { fake.SetKey("sk-another-key") }, chat, "key", "key was refused"},
		{"unknown model", func() {
			fake.SetKey("sk-worker-key")
			fake.Push(fakeopenai.Error(404, "invalid_request_error", "model_not_found", "The model does not exist"))
		}, chat, "model", `does not know the model "gpt-4o-mini"`},
	}
	for _, c := range cases {
		if c.fault != nil {
			c.fault()
		}
		var tr modelTestResult
		call(t, h, op, "POST", c.path, "", nil).must(t, 200, &tr)
		checkModelTest(t, c.name, tr, c.problem, c.says)
	}
	if n := len(fake.Requests()); n != 4 {
		t.Errorf("the fake API got %d requests, want one per test (4)", n)
	}

	// Workers whose provider listens nowhere.
	down := apptest.Start(t, apptest.WithEnv("OPENAI_API_KEY", "sk-worker-key"),
		apptest.WithEnv("OPENAI_BASE_URL", testenv.ClosedURL(t)+"/v1"))
	downOp := down.OperatorClient(t).Key
	var tr modelTestResult
	call(t, down, downOp, "POST", newModel(down, downOp, "gpt-4o-mini", "chat"), "", nil).must(t, 200, &tr)
	checkModelTest(t, "closed port", tr, "network", "could not be reached")
}

func checkModelTest(t *testing.T, name string, tr modelTestResult, problem, says string) {
	t.Helper()
	if tr.OK != (problem == "") || tr.Problem != problem || !strings.Contains(tr.Message, says) {
		t.Errorf("%s: %+v, want problem %q saying %q", name, tr, problem, says)
	}
	if strings.Contains(tr.Message, "sk-") {
		t.Errorf("%s: the message quotes a key: %q", name, tr.Message)
	}
}
