package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/hibiken/asynq"
)

// AdminServer is the small HTTP server of the worker and the scheduler
// (ADMIN_ADDR): GET /healthz answers while the process is alive, GET
// /readyz while its dependencies are usable (as the API's /readyz), GET
// /metrics the process's Prometheus metrics.
type AdminServer struct {
	srv    *http.Server
	addr   string
	client *asynq.Client
	done   chan error
}

// StartAdmin listens on addr (host:port; port 0 picks a free one) and
// serves the admin endpoints in the background until Close.
func (a *App) StartAdmin(addr string) (*AdminServer, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("admin server: %w", err)
	}
	client := asynq.NewClient(a.Redis)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
		defer cancel()
		if err := a.Ready(ctx, client); err != nil {
			a.Log.Warn("not ready", "error", err)
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "reason": err.Error()})
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	})
	mux.Handle("GET /metrics", a.Metrics.Handler())
	s := &AdminServer{
		srv: &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second,
			WriteTimeout: 15 * time.Second, IdleTimeout: time.Minute},
		addr:   ln.Addr().String(),
		client: client,
		done:   make(chan error, 1),
	}
	go func() { s.done <- s.srv.Serve(ln) }()
	a.Log.Info("admin server listening", "addr", s.addr)
	return s, nil
}

// Addr is the address the server listens on.
func (s *AdminServer) Addr() string { return s.addr }

// Close stops the server, letting requests in progress finish for up to
// five seconds.
func (s *AdminServer) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := s.srv.Shutdown(ctx)
	if serveErr := <-s.done; !errors.Is(serveErr, http.ErrServerClosed) {
		err = errors.Join(err, serveErr)
	}
	return errors.Join(err, s.client.Close())
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
