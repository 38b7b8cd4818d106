// Command api serves Presswork's HTTP API.
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
		fmt.Fprintln(os.Stderr, "api:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	cfg, err := config.FromEnv()
	if err != nil {
		return fmt.Errorf("configuration: %w", err)
	}
	log := cfg.Logger(os.Stderr, "api")
	log.Info("starting", "config", cfg)
	a, err := app.Open(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.Close()
	srv, client := a.API()
	defer client.Close()
	err = srv.Serve(ctx, cfg.APIAddr, cfg.ShutdownTimeout, func(addr string) {
		log.Info("API listening", "addr", "http://"+addr)
	})
	log.Info("stopped")
	return err
}
