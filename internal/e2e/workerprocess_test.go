package e2e_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
	"testing"

	"github.com/presswork/presswork/internal/ai/providers"
	"github.com/presswork/presswork/internal/app"
	"github.com/presswork/presswork/internal/app/apptest"
	"github.com/presswork/presswork/internal/app/workerapp"
	"github.com/presswork/presswork/internal/config"
)

// startWorkerProcess re-runs the test binary as a child process that runs
// only the test named test, with marker set (so the test knows to act as
// the worker, see runWorkerProcess), h's environment and extra variables.
func startWorkerProcess(t *testing.T, h *apptest.Harness, test, marker string, out io.Writer, extra ...string) *exec.Cmd {
	t.Helper()
	env := append(os.Environ(), marker+"=1")
	for k, v := range h.Env {
		env = append(env, k+"="+v)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^"+test+"$", "-test.count=1", "-test.v")
	cmd.Env, cmd.Stdout, cmd.Stderr = append(env, extra...), out, out
	apptest.Must(t, cmd.Start(), "start worker process")
	return cmd
}

// runWorkerProcess is the child side: a worker as cmd/worker runs it, on
// the configuration of the environment, with the providers made by
// providers, until SIGTERM.
func runWorkerProcess(t *testing.T, models func(log *slog.Logger) providers.Set) {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	cfg, err := config.FromEnv()
	apptest.Must(t, err, "config")
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: cfg.LogLevel}))
	a, err := app.Open(ctx, cfg, log)
	apptest.Must(t, err, "open")
	defer a.Close()
	apptest.Must(t, workerapp.Run(ctx, a, models(log)), "worker")
}
