// Package store is Presswork's only door to PostgreSQL: every SQL statement
// lives here, every query is scoped by tenant, and driver errors are
// translated into the errs vocabulary at this boundary (nothing outside this
// package imports pgx).
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/presswork/presswork/internal/errs"
	"github.com/presswork/presswork/migrations"
)

// Store holds the connection pool, and the pool of publish locks once one
// is taken.
type Store struct {
	pool *pgxpool.Pool
	// pacedQueue is the queue whose jobs are paced, and inFlight each
	// plan's room on it; empty: no pacing (see pacing.go).
	pacedQueue string
	inFlight   map[string]int
	// runType and runQueue are the type and queue of the job that
	// delivers an automation run (see SetRunJob).
	runType, runQueue string

	// config keeps what jobs read of their tenants' configuration (see
	// configcache.go).
	config configCache

	locksOnce sync.Once
	locks     *pgxpool.Pool
	locksErr  error
}

// Open connects to PostgreSQL. maxConns <= 0 keeps pgx's default.
func Open(ctx context.Context, databaseURL string, maxConns int32) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(databaseURL)
	if err != nil {
		return nil, fmt.Errorf("parse database url: %w", err)
	}
	if maxConns > 0 {
		cfg.MaxConns = maxConns
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	return &Store{pool: pool}, nil
}

// Close releases every connection.
func (s *Store) Close() {
	s.locksOnce.Do(func() {}) // no pool is opened after Close
	if s.locks != nil {
		s.locks.Close()
	}
	s.pool.Close()
}

// Ping reports whether PostgreSQL answers.
func (s *Store) Ping(ctx context.Context) error {
	return translate(s.pool.Ping(ctx))
}

// Migrate applies pending migrations under a PostgreSQL advisory lock, so
// several processes starting at once apply them once.
func (s *Store) Migrate(ctx context.Context) error {
	return s.withGoose(func(p *goose.Provider) error {
		_, err := p.Up(ctx)
		return err
	})
}

// MigrationsPending reports whether migrations remain to be applied.
func (s *Store) MigrationsPending(ctx context.Context) (bool, error) {
	var pending bool
	err := s.withGoose(func(p *goose.Provider) (err error) {
		pending, err = p.HasPending(ctx)
		return err
	})
	return pending, err
}

func (s *Store) withGoose(fn func(*goose.Provider) error) error {
	db := stdlib.OpenDBFromPool(s.pool)
	defer db.Close()
	locker, err := lock.NewPostgresSessionLocker()
	if err != nil {
		return fmt.Errorf("migration lock: %w", err)
	}
	p, err := goose.NewProvider(goose.DialectPostgres, db, migrations.FS, goose.WithSessionLocker(locker))
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	if err := fn(p); err != nil {
		return fmt.Errorf("migrate: %w", translate(err))
	}
	return nil
}

// SQLDB returns a database/sql handle on the pool, for tools that need one.
func (s *Store) SQLDB() *sql.DB { return stdlib.OpenDBFromPool(s.pool) }

// transact runs fn in a transaction, committing when it returns nil.
func (s *Store) transact(ctx context.Context, fn func(pgx.Tx) error) error {
	begun, err := s.pool.Begin(ctx)
	if err != nil {
		return translate(err)
	}
	tx := &txn{Tx: begun}
	defer tx.Rollback(ctx) //nolint:errcheck // a no-op after Commit
	if err := fn(tx); err != nil {
		return translate(err)
	}
	if err := tx.Commit(ctx); err != nil {
		return translate(err)
	}
	for _, f := range tx.committed {
		f()
	}
	s.closeBatches(ctx, tx.endedBatches)
	return nil
}

// txn is a transaction of transact: it notes what its commit must be
// followed by.
type txn struct {
	pgx.Tx
	// endedBatches are the batches of the jobs it ended (jobEnded).
	endedBatches []string
	// committed are told that it committed.
	committed []func()
}

// closeBatches closes the batches a committed transaction ended jobs of
// (closeBatch), on a context that outlives the caller's. A failure is not
// the transaction's, which committed, and no caller could undo it: it is
// left to the reconciler, which closes such batches and logs how many
// (CloseFinishedBatches).
func (s *Store) closeBatches(ctx context.Context, ids []string) {
	for _, id := range ids {
		_, _ = closeBatch(context.WithoutCancel(ctx), s.pool, id)
	}
}

// translate maps driver errors onto the errs vocabulary, keeping the
// original in the chain for logs.
// missing names what a lookup did not find: ErrNotFound becomes a
// PublicError saying so ("no site 4 in this tenant"), which the API shows
// as the 404's detail; other errors pass.
func missing(err error, what string, id any) error {
	if errors.Is(err, errs.ErrNotFound) {
		return errs.Public(err, "no %s %v in this tenant", what, id)
	}
	return err
}

func translate(err error) error {
	if err == nil || errors.Is(err, errs.ErrNotFound) || errors.Is(err, errs.ErrConflict) || errors.Is(err, errs.ErrUnavailable) {
		return err
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("%w: %w", errs.ErrNotFound, err)
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch {
		case pgErr.Code == "23505": // unique_violation
			return fmt.Errorf("%w: %w", errs.ErrConflict, err)
		case pgErr.Code[:2] == "08", pgErr.Code == "57P01", pgErr.Code == "57P03": // connection, shutdown, starting
			return errs.Unavailable("the database", err)
		}
		return err
	}
	var netErr net.Error
	var connErr *pgconn.ConnectError
	// A connection cut in the middle of a statement (the server crashed or
	// restarted) ends in an unexpected EOF or a closed connection.
	if errors.As(err, &connErr) || errors.As(err, &netErr) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, pgconn.ErrConnClosed) {
		return errs.Unavailable("the database", err)
	}
	return err
}
