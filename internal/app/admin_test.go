package app_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"testing"

	"github.com/presswork/presswork/internal/app"
	"github.com/presswork/presswork/internal/app/apptest"
)

// TestAdminServer checks the worker's and scheduler's admin endpoints:
// alive, ready, and not ready (503 with a reason) once PostgreSQL is gone.
func TestAdminServer(t *testing.T) {
	t.Parallel()
	h := apptest.Start(t)
	admin, err := h.App.StartAdmin("127.0.0.1:0")
	apptest.Must(t, err, "start admin server")
	t.Cleanup(func() { apptest.Must(t, admin.Close(), "close admin server") })

	checkAdmin(t, admin.Addr(), "/healthz", http.StatusOK, map[string]string{"status": "ok"})
	checkAdmin(t, admin.Addr(), "/readyz", http.StatusOK, map[string]string{"status": "ready"})
	if resp, err := http.Post("http://"+admin.Addr()+"/readyz", "application/json", nil); err != nil {
		t.Fatalf("POST /readyz: %v", err)
	} else if resp.Body.Close(); resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST /readyz: %d, want 405", resp.StatusCode)
	}

	// A second app on the same databases whose pool is closed: PostgreSQL
	// is unreachable for it.
	closed, err := app.Open(context.Background(), h.App.Config, slog.New(slog.NewTextHandler(io.Discard, nil)))
	apptest.Must(t, err, "open second app")
	closedAdmin, err := closed.StartAdmin("127.0.0.1:0")
	apptest.Must(t, err, "start second admin server")
	t.Cleanup(func() { apptest.Must(t, closedAdmin.Close(), "close second admin server") })
	closed.Close()
	checkAdmin(t, closedAdmin.Addr(), "/healthz", http.StatusOK, map[string]string{"status": "ok"})
	checkAdmin(t, closedAdmin.Addr(), "/readyz", http.StatusServiceUnavailable,
		map[string]string{"status": "unavailable", "reason": "PostgreSQL is unreachable"})
}

func checkAdmin(t *testing.T, addr, path string, wantStatus int, want map[string]string) {
	t.Helper()
	resp, err := http.Get("http://" + addr + path)
	apptest.Must(t, err, "GET ", path)
	defer resp.Body.Close()
	var got map[string]string
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
		t.Fatalf("GET %s: decode: %v", path, err)
	}
	if resp.StatusCode != wantStatus || resp.Header.Get("Content-Type") != "application/json" || len(got) != len(want) {
		t.Fatalf("GET %s: %d %s %v, want %d application/json %v", path, resp.StatusCode, resp.Header.Get("Content-Type"), got, wantStatus, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Fatalf("GET %s: %v, want %v", path, got, want)
		}
	}
}
