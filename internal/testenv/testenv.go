// Package testenv gives integration tests their own real PostgreSQL
// database and Redis database, isolated per test. The servers are named by
// TEST_DATABASE_URL and TEST_REDIS_URL (local defaults). When a server is
// absent the test is skipped with a clear message, or fails under CI=true.
package testenv

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"

	"github.com/presswork/presswork/internal/store"
	"github.com/presswork/presswork/migrations"
)

const (
	defaultDatabaseURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
	defaultRedisURL    = "redis://127.0.0.1:6379/0"
)

func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// absent skips the test, or fails it in CI where the servers must be there.
func absent(t testing.TB, what string, err error) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is required under CI=true: %v", what, err)
	}
	t.Skipf("%s is not reachable (%v); start it with scripts/services.sh", what, err)
}

// DatabaseURL returns the URL of a new database holding the current
// schema, dropped when the test ends.
func DatabaseURL(t testing.TB) string {
	t.Helper()
	ctx := context.Background()
	adminURL := env("TEST_DATABASE_URL", defaultDatabaseURL)
	admin, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		absent(t, "PostgreSQL (TEST_DATABASE_URL)", err)
	}
	defer admin.Close(ctx)
	tmpl, err := ensureTemplate(ctx, admin, adminURL)
	if err != nil {
		t.Fatalf("prepare template database: %v", err)
	}
	name := "presswork_test_" + randomHex(6)
	if err := createFromTemplate(ctx, admin, name, tmpl); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		c, err := pgx.Connect(context.Background(), adminURL)
		if err == nil {
			_, _ = c.Exec(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
			c.Close(context.Background())
		}
	})
	return withDatabase(adminURL, name)
}

// Store returns a store on a new database of its own.
func Store(t testing.TB) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), DatabaseURL(t), 20)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	return st
}

// ensureTemplate creates, once per schema version, a migrated database that
// test databases are copied from (a copy takes milliseconds; migrating
// takes longer). An advisory lock serializes test processes.
func ensureTemplate(ctx context.Context, admin *pgx.Conn, adminURL string) (string, error) {
	sum, err := schemaHash()
	if err != nil {
		return "", err
	}
	name := "presswork_tmpl_" + sum[:12]
	if _, err := admin.Exec(ctx, "SELECT pg_advisory_lock(4242)"); err != nil {
		return "", err
	}
	defer admin.Exec(ctx, "SELECT pg_advisory_unlock(4242)") //nolint:errcheck
	var exists bool
	if err := admin.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		return "", err
	}
	if exists {
		return name, nil
	}
	building := name + "_building"
	if _, err := admin.Exec(ctx, "DROP DATABASE IF EXISTS "+building+" WITH (FORCE)"); err != nil {
		return "", err
	}
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+building); err != nil {
		return "", err
	}
	st, err := store.Open(ctx, withDatabase(adminURL, building), 2)
	if err != nil {
		return "", err
	}
	err = st.Migrate(ctx)
	st.Close()
	if err != nil {
		return "", err
	}
	_, err = admin.Exec(ctx, "ALTER DATABASE "+building+" RENAME TO "+name)
	return name, err
}

func createFromTemplate(ctx context.Context, admin *pgx.Conn, name, tmpl string) error {
	var err error
	for range 50 {
		_, err = admin.Exec(ctx, "CREATE DATABASE "+name+" TEMPLATE "+tmpl)
		if err == nil || !strings.Contains(err.Error(), "being accessed by other users") {
			return err
		}
		time.Sleep(100 * time.Millisecond) // another process is copying the template
	}
	return err
}

func schemaHash() (string, error) {
	h := sha256.New()
	err := fs.WalkDir(migrations.FS, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(migrations.FS, path)
		h.Write([]byte(path))
		h.Write(data)
		return err
	})
	return hex.EncodeToString(h.Sum(nil)), err
}

func withDatabase(rawURL, name string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return rawURL
	}
	u.Path = "/" + name
	return u.String()
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// defaultRedisDBs are the Redis logical databases handed out to tests
// (TEST_REDIS_DBS, "first-last"): not 0, which holds the locks (and `make
// run`'s queues), nor 15, `make demo`'s.
const defaultRedisDBs = "1-14"

// RedisDBs returns the Redis logical databases tests may take, from
// TEST_REDIS_DBS: first and last, inclusive.
func RedisDBs() (first, last int, err error) {
	v := env("TEST_REDIS_DBS", defaultRedisDBs)
	a, b, ok := strings.Cut(v, "-")
	first, err1 := strconv.Atoi(strings.TrimSpace(a))
	last, err2 := strconv.Atoi(strings.TrimSpace(b))
	if !ok || err1 != nil || err2 != nil || first < 0 || last < first {
		return 0, 0, fmt.Errorf("TEST_REDIS_DBS must be a range of Redis logical databases such as %s, not %q", defaultRedisDBs, v)
	}
	return first, last, nil
}

// RedisURL returns the URL of a Redis logical database that no other test
// uses until this one ends, emptied first. Test processes coordinate
// through lock keys in TEST_REDIS_URL's database. A database holding keys
// that testenv did not write is refused, not emptied (redisDBForeign).
func RedisURL(t testing.TB) string {
	t.Helper()
	ctx := context.Background()
	base := env("TEST_REDIS_URL", defaultRedisURL)
	opts, err := redis.ParseURL(base)
	if err != nil {
		t.Fatalf("TEST_REDIS_URL: %v", err)
	}
	first, last, err := RedisDBs()
	if err == nil && opts.DB >= first && opts.DB <= last {
		err = fmt.Errorf("TEST_REDIS_DBS (%d-%d) must not hold TEST_REDIS_URL's database %d, where the tests keep their locks", first, last, opts.DB)
	}
	if err != nil {
		t.Fatal(err)
	}
	locks := redis.NewClient(opts)
	defer locks.Close()
	if err := locks.Ping(ctx).Err(); err != nil {
		absent(t, "Redis (TEST_REDIS_URL)", err)
	}
	owner := randomHex(8)
	deadline := time.Now().Add(5 * time.Minute)
	for time.Now().Before(deadline) {
		for db := first; db <= last; db++ {
			ok, err := locks.SetNX(ctx, redisLockKey(db), owner, 15*time.Minute).Result()
			if err != nil {
				t.Fatalf("redis lock: %v", err)
			}
			if ok {
				return claimRedisDB(t, opts, db, owner)
			}
		}
		time.Sleep(200 * time.Millisecond) // every database is taken: wait for a test to finish
	}
	t.Fatal("no free Redis test database within 5 minutes")
	return ""
}

// redisLockKey is the lock of test database db, held while a test uses it.
func redisLockKey(db int) string { return fmt.Sprintf("presswork:testdb:%d", db) }

// redisMarkerKey is testenv's marker of test database db, kept with the
// locks: set when a test claims the database and deleted once the database
// is emptied after it, so the keys of a test run that was killed are known
// to be testenv's, while the tests' own keys and key counts are untouched.
func redisMarkerKey(db int) string { return fmt.Sprintf("presswork:testdb:%d:in-use", db) }

// redisDBForeign returns an error when database db (data) holds keys but
// testenv's marker of it is not set (locks): keys testenv did not write,
// which the tests must not empty.
func redisDBForeign(ctx context.Context, locks, data *redis.Client, db int) error {
	n, err := data.DBSize(ctx).Result()
	if err != nil {
		return fmt.Errorf("count the keys of Redis database %d: %w", db, err)
	}
	if n == 0 {
		return nil
	}
	marked, err := locks.Exists(ctx, redisMarkerKey(db)).Result()
	if err != nil {
		return fmt.Errorf("read testenv's marker of Redis database %d: %w", db, err)
	}
	if marked == 0 {
		lo := locks.Options()
		host, port, _ := net.SplitHostPort(lo.Addr)
		return fmt.Errorf("redis database %d at %s holds %d key(s) that the tests did not write (no %s key in database %d): "+
			"the tests empty the databases they use (TEST_REDIS_DBS, default %s), so they refuse this one. "+
			"Point TEST_REDIS_URL at a Redis of its own or TEST_REDIS_DBS at free databases; "+
			"if the keys may go, empty the database: redis-cli -h %s -p %s -n %d FLUSHDB",
			db, lo.Addr, n, redisMarkerKey(db), lo.DB, defaultRedisDBs, host, port, db)
	}
	return nil
}

func claimRedisDB(t testing.TB, opts *redis.Options, db int, owner string) string {
	t.Helper()
	ctx := context.Background()
	o := *opts
	o.DB = db
	lc := redis.NewClient(opts)
	dc := redis.NewClient(&o)
	release := func() {
		if v, _ := lc.Get(ctx, redisLockKey(db)).Result(); v == owner {
			lc.Del(ctx, redisLockKey(db))
		}
		lc.Close()
		dc.Close()
	}
	err := redisDBForeign(ctx, lc, dc, db)
	if err == nil {
		err = lc.Set(ctx, redisMarkerKey(db), "a test of presswork (internal/testenv) uses this database", 0).Err()
	}
	if err == nil {
		err = dc.FlushDB(ctx).Err()
	}
	if err != nil {
		release()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		defer release()
		if dc.FlushDB(ctx).Err() == nil {
			lc.Del(ctx, redisMarkerKey(db))
		}
	})
	u := &url.URL{Scheme: "redis", Host: opts.Addr, Path: fmt.Sprintf("/%d", db)}
	if opts.Password != "" {
		u.User = url.UserPassword(opts.Username, opts.Password)
	}
	return u.String()
}
