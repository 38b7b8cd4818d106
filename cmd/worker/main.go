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
	a, err := app.Open(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.Close()
	if cfg.AdminAddr != "" {
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
	providers, err := app.ProvidersFromEnv(os.Getenv, a.RedisClient(), log)
	if err != nil {
		return fmt.Errorf("configuration: %w", err)
	}
	err = a.RunWorker(ctx, providers)
	log.Info("stopped")
	return err
}
