// Package apptest boots the real Presswork processes for end-to-end tests:
// the API on an httptest server and, when asked, a worker, each on a
// database and a Redis database of the test's own; and it gives those
// tests helpers to seed data, follow jobs and check the credit ledger.
package apptest

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/presswork/presswork/internal/ai/providers"
	"github.com/presswork/presswork/internal/app"
	"github.com/presswork/presswork/internal/app/apiapp"
	"github.com/presswork/presswork/internal/app/workerapp"
	"github.com/presswork/presswork/internal/auth"
	"github.com/presswork/presswork/internal/client"
	"github.com/presswork/presswork/internal/config"
	"github.com/presswork/presswork/internal/httpapi"
	"github.com/presswork/presswork/internal/testenv"
)

// Harness is a running Presswork for one test.
type Harness struct {
	App *app.App
	// API is the server under test; its Routes are the route table.
	API *httpapi.Server
	URL string
	// Env is the environment the configuration was read from.
	Env map[string]string
}

// Option changes the environment before the configuration is read.
type Option func(env map[string]string)

// WithEnv sets one variable.
func WithEnv(name, value string) Option {
	return func(env map[string]string) { env[name] = value }
}

// Start opens the app on fresh databases and serves the API; a worker's
// checks server (workerapp.NewChecks), with the providers the options'
// environment configures, answers the checks its requests wait for.
func Start(t testing.TB, opts ...Option) *Harness {
	t.Helper()
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	env := map[string]string{
		"DATABASE_URL":        testenv.DatabaseURL(t),
		"REDIS_URL":           testenv.RedisURL(t),
		"SECRET_KEY":          base64.StdEncoding.EncodeToString(key),
		"TASK_CHECK_INTERVAL": "20ms",
		// Retries come back to the queue within 100 ms of their time.
		"RETRY_CHECK_INTERVAL": "100ms",
		"SHUTDOWN_TIMEOUT":     "3s",
		"WORKER_CONCURRENCY":   "10",
		// A model call that met a server error is tried again at once.
		"AI_CALL_RETRY_DELAY": "5ms",
		// The fakes of paid services listen on loopback.
		"ALLOW_PRIVATE_URLS": "true",
		// Tests make requests faster than any client should; the rate
		// limits have tests of their own.
		"API_RATE_PER_KEY":    "0",
		"API_RATE_PER_TENANT": "0",
	}
	for _, o := range opts {
		o(env)
	}
	cfg, err := config.Load(func(k string) string { return env[k] })
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	a, err := app.Open(context.Background(), cfg, testLogger())
	if err != nil {
		t.Fatalf("open app: %v", err)
	}
	t.Cleanup(a.Close)
	srv, enq := apiapp.New(a)
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(func() { ts.Close(); enq.Close() })
	// The checks a request waits for (PUT /v1/easypanel, model tests) are
	// answered as a worker answers them, with the providers env
	// configures, without the test starting a whole worker.
	models, err := providers.FromEnv(func(k string) string { return env[k] }, nil, a.Log)
	if err != nil {
		t.Fatalf("providers: %v", err)
	}
	checks, checkMux := workerapp.NewChecks(a, models.Credentials)
	Must(t, checks.Start(checkMux), "start the worker's checks")
	t.Cleanup(checks.Shutdown)
	return &Harness{App: a, API: srv, URL: ts.URL, Env: env}
}

func testLogger() *slog.Logger {
	if os.Getenv("PRESSWORK_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// StartWorker runs a worker with the offline providers (or p) until the
// test ends or the returned stop is called; stop waits for a graceful
// shutdown.
func (h *Harness) StartWorker(t testing.TB, p ...providers.Set) (stop func()) {
	t.Helper()
	models := providers.Offline()
	if len(p) > 0 {
		models = p[0]
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- workerapp.Run(ctx, h.App, models) }()
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil {
			t.Errorf("worker: %v", err)
		}
	}
	t.Cleanup(stop)
	return stop
}

// Tenant creates a tenant with credits and returns it with a client
// holding its owner key.
func (h *Harness) Tenant(t testing.TB, slug string, credits int64) (auth.TenantWithKey, *client.Client) {
	t.Helper()
	tk, err := auth.CreateTenant(context.Background(), h.App.Store,
		auth.NewTenantRequest{Name: "Tenant " + slug, Slug: slug, Plan: "pro", Credits: credits})
	if err != nil {
		t.Fatalf("create tenant: %v", err)
	}
	return tk, h.Client(tk.OwnerKey)
}

// Client returns an API client with key.
func (h *Harness) Client(key string) *client.Client {
	return &client.Client{BaseURL: h.URL, Key: key}
}

// OperatorClient returns a client with a new operator key.
func (h *Harness) OperatorClient(t testing.TB) *client.Client {
	t.Helper()
	key, prefix, hash := auth.NewAPIKey()
	if _, err := h.App.Store.CreateAPIKey(context.Background(), 0, "operator", "test operator", prefix, hash); err != nil {
		t.Fatal(err)
	}
	return h.Client(key)
}

// Eventually polls cond every 20 ms until it holds or timeout passes.
func Eventually(t testing.TB, timeout time.Duration, what string, cond func() (bool, error)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, err := cond()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not true after %s", what, timeout)
		}
		time.Sleep(20 * time.Millisecond) // polling with a deadline, not a timed wait
	}
}

// Must fails the test on err.
func Must(t testing.TB, err error, what ...any) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", fmt.Sprint(what...), err)
	}
}
