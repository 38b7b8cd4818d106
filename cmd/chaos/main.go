// Command chaos is the fault-injection run of `make chaos`: it starts a
// PostgreSQL, a Redis and a WordPress of its own, the fake AI providers
// and Presswork's real binaries, pushes a few hundred items through the
// whole pipeline through the HTTP API while it kills workers, restarts
// Redis (and empties it once), restarts PostgreSQL, makes WordPress fail
// 30% of its requests and the AI providers answer 429 storms and slow
// replies, then checks PostgreSQL and WordPress and prints one line:
//
//	items=N completed=N lost=0 duplicate_posts=0 double_charges=0 ledger_matches_balance=true
//
// It exits non-zero when any figure is wrong. See docs/reliability.md.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "chaos:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("chaos", flag.ContinueOnError)
	opts := options{}
	fs.IntVar(&opts.tenants, "tenants", 3, "tenants, each with its own site")
	fs.IntVar(&opts.items, "items", 90, "drafts each tenant takes from idea to published post")
	fs.StringVar(&opts.binDir, "bin", "", "folder with the api, worker, scheduler and presswork binaries (default: go build into the run's folder)")
	fs.BoolVar(&opts.keep, "keep", false, "keep the run's folder (logs, PostgreSQL data) afterwards")
	if err := fs.Parse(args); err != nil {
		return err
	}
	c, err := setUp(ctx, opts)
	if c != nil {
		defer c.tearDown()
	}
	if err != nil {
		return err
	}
	return c.run(ctx)
}
