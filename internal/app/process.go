package app

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/presswork/presswork/internal/config"
)

// Process is one Presswork server binary: what it runs on the App.
type Process struct {
	// Name names the process in its logs: "api", "worker", "scheduler".
	Name string
	// Admin serves the admin endpoints (StartAdmin) on ADMIN_ADDR when it
	// is set: for the processes that have no HTTP server of their own.
	Admin bool
	// Run works until ctx ends; the App is closed after it returns.
	Run func(ctx context.Context, a *App) error
}

// Main is the main function of a server binary: it runs p (see Run) until
// SIGINT or SIGTERM, and when that fails prints the error after p.Name and
// exits with status 1.
func Main(p Process) {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	err := Run(ctx, p)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, p.Name+":", err)
		os.Exit(1)
	}
}

// Run is the runbook every server binary follows: the configuration from
// the environment, a logger to stderr, a "starting" line with the masked
// configuration, the App opened, the admin server when p asks for it and
// ADMIN_ADDR is set, p.Run until ctx ends, and a "stopped" line.
func Run(ctx context.Context, p Process) error {
	cfg, err := config.FromEnv()
	if err != nil {
		return fmt.Errorf("configuration: %w", err)
	}
	log := cfg.Logger(os.Stderr, p.Name)
	log.Info("starting", "config", cfg)
	a, err := Open(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.Close()
	if p.Admin && cfg.AdminAddr != "" {
		admin, err := a.StartAdmin(cfg.AdminAddr)
		if err != nil {
			return err
		}
		defer func() {
			if err := admin.Close(); err != nil {
				log.Warn("admin server shutdown", "error", err)
			}
		}()
	}
	err = p.Run(ctx, a)
	log.Info("stopped")
	return err
}
