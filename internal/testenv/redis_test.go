package testenv

import (
	"context"
	"fmt"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
)

// fatalRecorder is a testing.TB whose Fatal records the message and stops
// the goroutine, as testing's does.
type fatalRecorder struct {
	testing.TB
	msg string
}

func (f *fatalRecorder) Helper() {}
func (f *fatalRecorder) Fatal(args ...any) {
	f.msg = fmt.Sprint(args...)
	runtime.Goexit()
}

func (f *fatalRecorder) Fatalf(format string, args ...any) { f.Fatal(fmt.Sprintf(format, args...)) }

// fatalOf runs f with a fatalRecorder and returns what it failed with.
func fatalOf(t testing.TB, f func(tb testing.TB)) string {
	rec := &fatalRecorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		f(rec)
	}()
	<-done
	return rec.msg
}

// TestRedisTestDatabases (#20): a claimed test database is marked as
// testenv's; a database holding keys without the marker is refused and
// left as it is, while a marked one (a killed run's) or an empty one is
// taken and emptied.
func TestRedisTestDatabases(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	u, err := url.Parse(RedisURL(t))
	if err != nil {
		t.Fatal(err)
	}
	db, _ := strconv.Atoi(strings.TrimPrefix(u.Path, "/"))
	opts, err := redis.ParseURL(env("TEST_REDIS_URL", defaultRedisURL))
	if err != nil {
		t.Fatal(err)
	}
	locks := redis.NewClient(opts)
	t.Cleanup(func() { locks.Close() })
	o := *opts
	o.DB = db
	data := redis.NewClient(&o)
	t.Cleanup(func() { data.Close() })
	if n, err := locks.Exists(ctx, redisMarkerKey(db)).Result(); err != nil || n != 1 {
		t.Fatalf("claimed database %d: marker %s exists %d, %v", db, redisMarkerKey(db), n, err)
	}
	if n, err := data.DBSize(ctx).Result(); err != nil || n != 0 {
		t.Fatalf("claimed database %d holds %d keys (%v), want none: the marker is kept with the locks", db, n, err)
	}

	// The test's own keys: marked, so taken (a run killed now leaves them).
	if err := data.Set(ctx, "somebody:data", "keep me", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if err := redisDBForeign(ctx, locks, data, db); err != nil {
		t.Errorf("keys of a marked database refused: %v", err)
	}
	// Keys testenv did not write: refused, and not emptied.
	if err := locks.Del(ctx, redisMarkerKey(db)).Err(); err != nil {
		t.Fatal(err)
	}
	msg := fatalOf(t, func(tb testing.TB) { claimRedisDB(tb, opts, db, "another test") })
	for _, want := range []string{fmt.Sprintf("redis database %d", db), "1 key(s) that the tests did not write",
		"TEST_REDIS_DBS", fmt.Sprintf("-n %d FLUSHDB", db)} {
		if !strings.Contains(msg, want) {
			t.Errorf("claiming a database with foreign keys failed with %q, want it to say %q", msg, want)
		}
	}
	if v, err := data.Get(ctx, "somebody:data").Result(); err != nil || v != "keep me" {
		t.Errorf("the refused database's key: %q, %v; want it kept", v, err)
	}
	if v, err := locks.Get(ctx, redisLockKey(db)).Result(); err != nil || v == "another test" {
		t.Errorf("the refusal touched this test's lock of database %d: %q, %v", db, v, err)
	}
	// Emptied, it may be taken again.
	if err := data.FlushDB(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	if err := redisDBForeign(ctx, locks, data, db); err != nil {
		t.Errorf("an empty database refused: %v", err)
	}
	if err := locks.Set(ctx, redisMarkerKey(db), "restored", 0).Err(); err != nil {
		t.Fatal(err)
	}
}

// TestRedisDBs: TEST_REDIS_DBS names the databases tests take; a bad range,
// or one holding the locks' database, fails the test that asks.
func TestRedisDBs(t *testing.T) {
	for v, want := range map[string][2]int{"": {1, 14}, "3-5": {3, 5}, " 7 - 7 ": {7, 7}} {
		t.Setenv("TEST_REDIS_DBS", v)
		first, last, err := RedisDBs()
		if err != nil || first != want[0] || last != want[1] {
			t.Errorf("TEST_REDIS_DBS=%q: %d-%d, %v; want %d-%d", v, first, last, err, want[0], want[1])
		}
	}
	for _, v := range []string{"5", "5-3", "-1-4", "a-b", "1-"} {
		t.Setenv("TEST_REDIS_DBS", v)
		if _, _, err := RedisDBs(); err == nil || !strings.Contains(err.Error(), "TEST_REDIS_DBS") {
			t.Errorf("TEST_REDIS_DBS=%q: %v, want an error naming TEST_REDIS_DBS", v, err)
		}
	}
	t.Setenv("TEST_REDIS_URL", "redis://127.0.0.1:1/2")
	t.Setenv("TEST_REDIS_DBS", "0-3")
	if msg := fatalOf(t, func(tb testing.TB) { RedisURL(tb) }); !strings.Contains(msg, "must not hold TEST_REDIS_URL's database 2") {
		t.Errorf("a range holding the locks' database: %q", msg)
	}
}
