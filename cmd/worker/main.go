// Command worker runs Presswork's task handlers on the asynq queues.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/presswork/presswork/internal/app"
	"github.com/presswork/presswork/internal/config"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "worker:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	cfg, err := config.FromEnv()
	if err != nil {
		return fmt.Errorf("configuration: %w", err)
	}
	log := cfg.Logger(os.Stderr, "worker")
	log.Info("starting", "config", cfg)
	providers, err := app.ProvidersFromEnv(os.Getenv, log)
	if err != nil {
		return fmt.Errorf("configuration: %w", err)
	}
	a, err := app.Open(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.Close()
	err = a.RunWorker(ctx, providers)
	log.Info("stopped")
	return err
}
