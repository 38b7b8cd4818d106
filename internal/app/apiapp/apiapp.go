// Package apiapp wires the API process on the shared App: the HTTP API
// with its queue client, the queue dashboard, the rate limiters, the web
// interface and the panel checks it hands to the worker. cmd/api, the demo
// and the end-to-end tests serve the API through it; it links no worker
// code.
package apiapp

import (
	"context"

	"github.com/hibiken/asynq"
	"github.com/hibiken/asynqmon"

	"github.com/presswork/presswork/internal/app"
	"github.com/presswork/presswork/internal/billing"
	"github.com/presswork/presswork/internal/httpapi"
	"github.com/presswork/presswork/internal/jobs"
	"github.com/presswork/presswork/internal/ratelimit"
	"github.com/presswork/presswork/internal/web"
)

// New builds the HTTP API with a client that enqueues to Redis; close the
// returned client when done. The queue dashboard (asynqmon) is mounted at
// /monitoring for operators, by key or web session (Serve closes its Redis
// connections); the API's and the sign-in's rate limits use the App's Redis
// client.
func New(a *app.App) (*httpapi.Server, *asynq.Client) {
	client := asynq.NewClient(a.Redis)
	monitoring := asynqmon.New(asynqmon.Options{RootPath: "/monitoring", RedisConnOpt: a.Redis, ReadOnly: false})
	srv := httpapi.New(httpapi.Deps{
		Store: a.Store, Jobs: jobs.New(a.Store, client, a.Log),
		Box: a.Box, Config: a.Config, Log: a.Log,
		Ready:      func(ctx context.Context) error { return a.Ready(ctx, client) },
		Monitoring: monitoring, Metrics: a.Metrics, Limiter: apiLimiter(a),
		// Always on, like the sign-in limits: it protects keys, not capacity.
		AuthFailures: ratelimit.NewFailures(a.RedisClient(), "presswork:auth-failures"),
		UI:           web.New(web.Deps{Store: a.Store, Limiter: loginLimiter(a), Log: a.Log}),
		// Checks go out through the client and their answers are read with
		// an inspector on the App's Redis client (closed with the App).
		PanelChecks: struct {
			*asynq.Client
			*asynq.Inspector
		}{client, asynq.NewInspectorFromRedisClient(a.RedisClient())},
		// nil (billing off) without Stripe keys.
		Billing: billing.New(a.Config.Stripe, a.Store, client, nil),
	})
	return srv, client
}

// Run serves the API on API_ADDR until ctx ends, then lets requests in
// progress finish for up to SHUTDOWN_TIMEOUT.
func Run(ctx context.Context, a *app.App) error {
	srv, client := New(a)
	defer client.Close()
	return srv.Serve(ctx, a.Config.APIAddr, a.Config.ShutdownTimeout, func(addr string) {
		a.Log.Info("API listening", "addr", "http://"+addr)
	})
}

// apiLimiter is the API's request limiter on Redis, or nil when both
// rates are off.
func apiLimiter(a *app.App) httpapi.RequestLimiter {
	if a.Config.APIKeyRate <= 0 && a.Config.APITenantRate <= 0 {
		return nil
	}
	return ratelimit.New(a.RedisClient(), "presswork:api-ratelimit")
}

// loginLimiter holds the web interface's sign-in attempts to their rates
// (always on: they protect passwords, not capacity).
func loginLimiter(a *app.App) web.Limiter {
	return web.NewWindowLimiter(a.RedisClient(), "presswork:login-attempts")
}
