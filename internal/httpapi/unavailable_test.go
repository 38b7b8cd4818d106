package httpapi_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/presswork/presswork/internal/config"
	"github.com/presswork/presswork/internal/httpapi"
	"github.com/presswork/presswork/internal/store"
)

// TestDatabaseDownIs503: with PostgreSQL unreachable (nothing listens on
// the store's port), an API request answers 503 with Retry-After and a
// problem that says the database is what is down.
func TestDatabaseDownIs503(t *testing.T) {
	t.Parallel()
	st, err := store.Open(context.Background(), "postgres://postgres@127.0.0.1:1/none?sslmode=disable&connect_timeout=2", 2)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	cfg, err := config.Load(func(k string) string {
		return map[string]string{"SECRET_KEY": "c2VjcmV0LWtleS1vZi10aGlydHktdHdvLWJ5dGVzISE="}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(httpapi.New(httpapi.Deps{Store: st, Config: cfg,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))}).Handler())
	t.Cleanup(srv.Close)

	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/v1/credits", nil)
	req.Header.Set("Authorization", "Bearer pw_whatever")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var p httpapi.Problem
	if err := json.NewDecoder(resp.Body).Decode(&p); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" ||
		p.Detail != "the database is unavailable; try again shortly" {
		t.Fatalf("answer %d (Retry-After %q) %+v, want 503 saying the database is unavailable",
			resp.StatusCode, resp.Header.Get("Retry-After"), p)
	}
}
