// Package app holds what every Presswork process shares: the App (the
// database, Redis, the secret box, the metrics registry), the admin server,
// the HTTP client for tenants' sites and Run, the runbook every server
// binary follows. Each process's own wiring is in apiapp, workerapp and
// schedulerapp; the binaries in cmd/, the demo and the end-to-end tests all
// boot through them, so what the tests run is what ships.
package app

import (
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/presswork/presswork/internal/config"
	"github.com/presswork/presswork/internal/jobs"
	"github.com/presswork/presswork/internal/metrics"
	"github.com/presswork/presswork/internal/netguard"
	"github.com/presswork/presswork/internal/secret"
	"github.com/presswork/presswork/internal/store"
)

// App holds the resources every process shares.
type App struct {
	Config config.Config
	Log    *slog.Logger
	Store  *store.Store
	Redis  asynq.RedisConnOpt
	Box    *secret.Box
	// rdb is the process's go-redis client, for what the project keeps in
	// Redis itself: the scheduler's lease and the rate limiters.
	rdb redis.UniversalClient
	// Metrics is the process's Prometheus registry, served as GET /metrics
	// by the API and by the admin server.
	Metrics *metrics.Registry
}

// Open connects to PostgreSQL, applies pending migrations and prepares the
// Redis connection options and client. Close releases what it opened.
func Open(ctx context.Context, cfg config.Config, log *slog.Logger) (*App, error) {
	redisOpt, err := RedisConnOpt(cfg)
	if err != nil {
		return nil, err
	}
	box, err := cfg.SecretBox()
	if err != nil {
		return nil, err
	}
	rdb, ok := redisOpt.MakeRedisClient().(redis.UniversalClient)
	if !ok {
		return nil, errors.New("asynq's Redis client is not a go-redis client")
	}
	st, err := store.Open(ctx, cfg.DatabaseURL, cfg.DatabaseMaxConns)
	if err != nil {
		rdb.Close()
		return nil, err
	}
	if err := migrateWithRetry(ctx, st, log); err != nil {
		st.Close()
		rdb.Close()
		return nil, err
	}
	jobs.Configure(st, cfg.BulkInFlight)
	return &App{Config: cfg, Log: log, Store: st, Redis: redisOpt, Box: box, rdb: rdb, Metrics: metrics.New()}, nil
}

// migrateWithRetry applies migrations, waiting up to a minute for a
// PostgreSQL that is still starting.
func migrateWithRetry(ctx context.Context, st *store.Store, log *slog.Logger) error {
	deadline := time.Now().Add(time.Minute)
	for {
		err := st.Migrate(ctx)
		if err == nil || time.Now().After(deadline) || ctx.Err() != nil {
			return err
		}
		log.Warn("database not ready; retrying", "error", err)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(2 * time.Second):
		}
	}
}

// Close releases the database pool and the Redis client.
func (a *App) Close() {
	a.Store.Close()
	if err := a.rdb.Close(); err != nil {
		a.Log.Warn("closing the Redis client", "error", err)
	}
}

// RedisClient is the process's go-redis client; Close closes it.
func (a *App) RedisClient() redis.UniversalClient { return a.rdb }

// Ready reports whether the process can work: PostgreSQL and Redis (pinged
// through client) reachable and the migrations current. Its error is a
// short reason fit for /readyz, without internal detail.
func (a *App) Ready(ctx context.Context, client *asynq.Client) error {
	if err := a.Store.Ping(ctx); err != nil {
		return errors.New("PostgreSQL is unreachable")
	}
	if err := client.Ping(); err != nil {
		return errors.New("Redis is unreachable")
	}
	if pending, err := a.Store.MigrationsPending(ctx); err != nil || pending {
		return errors.New("database migrations are not current")
	}
	return nil
}

// WordPressClient is the HTTP client for WordPress sites: bounded by
// WORDPRESS_TIMEOUT, trusting the authorities of EXTRA_CA_FILE beside the
// system's, and refusing loopback and private addresses unless
// ALLOW_PRIVATE_URLS is set.
func (a *App) WordPressClient() *http.Client {
	transport := http.DefaultTransport.(*http.Transport).Clone()
	if !a.Config.AllowPrivateURLs {
		transport = netguard.Transport()
	}
	if a.Config.RootCAs != nil {
		transport.TLSClientConfig = &tls.Config{RootCAs: a.Config.RootCAs}
	}
	return &http.Client{Transport: transport, Timeout: a.Config.WordPressTimeout}
}
