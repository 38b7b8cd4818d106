package worker_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/presswork/presswork/internal/ai"
	"github.com/presswork/presswork/internal/ai/offline"
	"github.com/presswork/presswork/internal/ai/providers"
	"github.com/presswork/presswork/internal/app/apptest"
	"github.com/presswork/presswork/internal/worker"
)

// waitTask waits until asynq holds a job's task in state.
func waitTask(t testing.TB, in *asynq.Inspector, queue, id string, state asynq.TaskState) *asynq.TaskInfo {
	t.Helper()
	var info *asynq.TaskInfo
	apptest.Eventually(t, 30*time.Second, fmt.Sprintf("task %s becomes %s", id, state), func() (bool, error) {
		info = apptest.TaskInfo(t, in, queue, id)
		return info != nil && info.State == state, nil
	})
	return info
}

// workers builds the workers around a text model, registered on a mux
// that a test can call directly.
func workers(t testing.TB, h *apptest.Harness, p providers.Set) *asynq.ServeMux {
	t.Helper()
	w, err := ai.NewWriter(p.Text)
	apptest.Must(t, err, "writer")
	mux := asynq.NewServeMux()
	worker.Register(mux, worker.Deps{Store: h.App.Store, Writer: w, Embedder: p.Embedder, Costs: h.App.Config.Costs,
		Log: h.App.Log})
	return mux
}

// providers returns the offline providers with text in place of the
// offline text model.
func offlineWith(text ai.TextModel) providers.Set {
	p := providers.Offline()
	p.Text = text
	return p
}

// hookModel is the offline text model with a hook that runs before each
// call and may answer in its place (with an error, typically).
type hookModel struct {
	inner ai.TextModel
	hook  func(ctx context.Context, req ai.JSONRequest) error
}

func (m hookModel) Name() string { return "hooked-" + m.inner.Name() }

func (m hookModel) GenerateJSON(ctx context.Context, req ai.JSONRequest) (ai.JSONResponse, error) {
	if err := m.hook(ctx, req); err != nil {
		return ai.JSONResponse{}, err
	}
	return m.inner.GenerateJSON(ctx, req)
}

func hooked(hook func(ctx context.Context, req ai.JSONRequest) error) hookModel {
	return hookModel{inner: offline.NewTextModel(), hook: hook}
}

// hookEmbedder is the offline embedder with a hook that runs before each
// call and may fail it.
type hookEmbedder struct {
	ai.Embedder
	hook func(ctx context.Context, texts []string) error
}

func (e hookEmbedder) Embed(ctx context.Context, texts []string) ([][]float32, ai.Usage, error) {
	if err := e.hook(ctx, texts); err != nil {
		return nil, ai.Usage{}, err
	}
	return e.Embedder.Embed(ctx, texts)
}

// sampleKeywords returns the header and the first n rows of the
// repository's testdata/sample-keywords.csv.
func sampleKeywords(t testing.TB, n int) []byte {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("cannot locate the test file")
	}
	data, err := os.ReadFile(filepath.Join(filepath.Dir(file), "..", "..", "testdata", "sample-keywords.csv"))
	apptest.Must(t, err, "read sample keywords")
	lines := strings.SplitAfter(string(data), "\n")
	return []byte(strings.Join(lines[:min(n+1, len(lines))], ""))
}

// counter counts calls by key.
type counter struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *counter) add(key string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n == nil {
		c.n = map[string]int{}
	}
	c.n[key]++
	return c.n[key]
}

func (c *counter) get(key string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[key]
}
