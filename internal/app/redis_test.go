package app_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/presswork/presswork/internal/app"
	"github.com/presswork/presswork/internal/config"
	"github.com/presswork/presswork/internal/ratelimit"
	"github.com/presswork/presswork/internal/scheduler"
	"github.com/presswork/presswork/internal/testenv"
)

// redisEnv is a getenv over m with a valid SECRET_KEY.
func redisEnv(m map[string]string) func(string) string {
	key := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{9}, 32))
	return func(name string) string {
		if name == "SECRET_KEY" {
			return key
		}
		return m[name]
	}
}

func TestRedisConnOptModes(t *testing.T) {
	cases := []struct {
		name string
		env  map[string]string
		want asynq.RedisConnOpt
	}{
		{"default", nil, asynq.RedisClientOpt{Addr: "127.0.0.1:6379", DB: 0}},
		{"url", map[string]string{"REDIS_URL": "redis://:pw@cache:6380/3"},
			asynq.RedisClientOpt{Addr: "cache:6380", Password: "pw", DB: 3}},
		{"sentinel", map[string]string{
			"REDIS_SENTINEL_ADDRS":    "s1:26379, s2:26379,s3:26379",
			"REDIS_SENTINEL_MASTER":   "mymaster",
			"REDIS_SENTINEL_USERNAME": "sentineluser",
			"REDIS_SENTINEL_PASSWORD": "sentinel-pw",
			"REDIS_USERNAME":          "app",
			"REDIS_PASSWORD":          "redis-pw",
			"REDIS_DB":                "2",
		}, asynq.RedisFailoverClientOpt{MasterName: "mymaster", SentinelAddrs: []string{"s1:26379", "s2:26379", "s3:26379"},
			SentinelUsername: "sentineluser", SentinelPassword: "sentinel-pw", Username: "app", Password: "redis-pw", DB: 2}},
		{"cluster", map[string]string{
			"REDIS_CLUSTER_ADDRS": "n1:6379,n2:6379",
			"REDIS_PASSWORD":      "cluster-pw",
		}, asynq.RedisClusterClientOpt{Addrs: []string{"n1:6379", "n2:6379"}, Password: "cluster-pw"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := config.Load(redisEnv(tc.env))
			if err != nil {
				t.Fatal(err)
			}
			opt, err := app.RedisConnOpt(cfg)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(opt, tc.want) {
				t.Fatalf("RedisConnOpt = %#v\nwant %#v", opt, tc.want)
			}
			// The scheduler's lease and the rate limits need a go-redis
			// UniversalClient in every mode (building one does not dial).
			rdb, ok := opt.MakeRedisClient().(redis.UniversalClient)
			if !ok {
				t.Fatalf("MakeRedisClient() = %T, not a redis.UniversalClient", opt.MakeRedisClient())
			}
			rdb.Close()
		})
	}
}

func TestRedisConnOptTLS(t *testing.T) {
	for _, env := range []map[string]string{
		{"REDIS_SENTINEL_ADDRS": "s1:26379", "REDIS_SENTINEL_MASTER": "m", "REDIS_TLS": "true"},
		{"REDIS_CLUSTER_ADDRS": "n1:6379", "REDIS_TLS": "true"},
	} {
		cfg, err := config.Load(redisEnv(env))
		if err != nil {
			t.Fatal(err)
		}
		opt, err := app.RedisConnOpt(cfg)
		if err != nil {
			t.Fatal(err)
		}
		var tlsOK bool
		switch o := opt.(type) {
		case asynq.RedisFailoverClientOpt:
			tlsOK = o.TLSConfig != nil && o.TLSConfig.MinVersion >= 0x0303
		case asynq.RedisClusterClientOpt:
			tlsOK = o.TLSConfig != nil && o.TLSConfig.MinVersion >= 0x0303
		}
		if !tlsOK {
			t.Errorf("%v: TLS not configured: %#v", env, opt)
		}
	}
	// rediss:// keeps asynq's own TLS set-up.
	cfg, err := config.Load(redisEnv(map[string]string{"REDIS_URL": "rediss://cache:6380/0"}))
	if err != nil {
		t.Fatal(err)
	}
	opt, err := app.RedisConnOpt(cfg)
	if o, ok := opt.(asynq.RedisClientOpt); err != nil || !ok || o.TLSConfig == nil || o.TLSConfig.ServerName != "cache" {
		t.Fatalf("rediss:// = %#v, %v", opt, err)
	}
}

// TestRedisConnOptRefusesHandBuiltContradictions: a Config not made by
// Load is checked too.
func TestRedisConnOptRefusesHandBuiltContradictions(t *testing.T) {
	for _, tc := range []struct {
		cfg  config.Config
		want string
	}{
		{config.Config{Redis: config.RedisConfig{SentinelAddrs: []string{"s:26379"}, SentinelMaster: "m", ClusterAddrs: []string{"n:6379"}}}, "mutually exclusive"},
		{config.Config{Redis: config.RedisConfig{SentinelAddrs: []string{"s:26379"}}}, "REDIS_SENTINEL_MASTER"},
		{config.Config{Redis: config.RedisConfig{ClusterAddrs: []string{"n:6379"}, DB: 1}}, "REDIS_DB"},
		{config.Config{RedisURL: "http://cache"}, "REDIS_URL"},
	} {
		if _, err := app.RedisConnOpt(tc.cfg); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("RedisConnOpt(%+v) = %v, want an error naming %s", tc.cfg.Redis, err, tc.want)
		}
	}
}

// TestRedisSentinelLive starts a Sentinel (redis-server --sentinel, which
// Debian's redis-server package can run without the redis-sentinel
// package) on loopback, monitoring the test Redis, and enqueues and
// inspects through it, and takes the scheduler's lease through it.
func TestRedisSentinelLive(t *testing.T) {
	server, err := exec.LookPath("redis-server")
	if err != nil {
		if s, err2 := exec.LookPath("redis-sentinel"); err2 == nil {
			server = s
		} else {
			t.Skip("redis-server (or redis-sentinel) is not installed: cannot start a Sentinel")
		}
	}
	direct, err := redis.ParseURL(testenv.RedisURL(t))
	if err != nil {
		t.Fatal(err)
	}
	host, port, err := net.SplitHostPort(direct.Addr)
	if err != nil {
		t.Fatal(err)
	}
	if ip := net.ParseIP(host); ip == nil {
		addrs, err := net.LookupHost(host)
		if err != nil || len(addrs) == 0 {
			t.Skipf("cannot resolve the test Redis host %q for the Sentinel: %v", host, err)
		}
		host = addrs[0]
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	sentinelAddr := ln.Addr().String()
	_, sentinelPort, _ := net.SplitHostPort(sentinelAddr)
	ln.Close()

	// A master name of this test's own, so that Sentinels of concurrent
	// runs do not mix.
	master := fmt.Sprintf("presswork-test-%d", time.Now().UnixNano())
	dir := t.TempDir()
	conf := fmt.Sprintf("port %s\nbind 127.0.0.1\ndir %s\nsentinel monitor %s %s %s 1\n", sentinelPort, dir, master, host, port)
	if direct.Password != "" {
		conf += fmt.Sprintf("sentinel auth-pass %s %s\n", master, direct.Password)
	}
	if direct.Username != "" {
		conf += fmt.Sprintf("sentinel auth-user %s %s\n", master, direct.Username)
	}
	confPath := filepath.Join(dir, "sentinel.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	cmd := exec.Command(server, confPath, "--sentinel")
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start sentinel: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("sentinel output:\n%s", out.String())
		}
	})

	// Wait for the Sentinel to answer with the master's address.
	sc := redis.NewSentinelClient(&redis.Options{Addr: sentinelAddr})
	defer sc.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for {
		got, err := sc.GetMasterAddrByName(ctx, master).Result()
		if err == nil && len(got) == 2 {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("sentinel never named the master: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}

	cfg, err := config.Load(redisEnv(map[string]string{
		"REDIS_SENTINEL_ADDRS":  sentinelAddr,
		"REDIS_SENTINEL_MASTER": master,
		"REDIS_USERNAME":        direct.Username,
		"REDIS_PASSWORD":        direct.Password,
		"REDIS_DB":              fmt.Sprint(direct.DB),
	}))
	if err != nil {
		t.Fatal(err)
	}
	opt, err := app.RedisConnOpt(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := opt.(asynq.RedisFailoverClientOpt); !ok {
		t.Fatalf("RedisConnOpt = %T", opt)
	}
	client := asynq.NewClient(opt)
	defer client.Close()
	if err := client.Ping(); err != nil {
		t.Fatalf("ping through the Sentinel: %v", err)
	}
	info, err := client.EnqueueContext(ctx, asynq.NewTask("sentinel:test", []byte(`{}`)), asynq.Queue("sentineltest"), asynq.TaskID("via-sentinel"))
	if err != nil {
		t.Fatalf("enqueue through the Sentinel: %v", err)
	}
	// The task is on the server the plain URL names, in the same database.
	plain := asynq.NewInspector(asynq.RedisClientOpt{Addr: direct.Addr, Username: direct.Username, Password: direct.Password, DB: direct.DB})
	defer plain.Close()
	got, err := plain.GetTaskInfo("sentineltest", info.ID)
	if err != nil || got.Type != "sentinel:test" {
		t.Fatalf("task enqueued through the Sentinel, read directly: %+v, %v", got, err)
	}

	// The scheduler's lease works on the failover client.
	rdb, ok := opt.MakeRedisClient().(redis.UniversalClient)
	if !ok {
		t.Fatalf("MakeRedisClient() is not a UniversalClient")
	}
	defer rdb.Close()
	lease := &scheduler.Lease{Redis: rdb, Key: "presswork:test:sentinel-lease", Holder: "a", TTL: 5 * time.Second, Now: time.Now}
	if held, err := lease.Try(ctx); err != nil || !held {
		t.Fatalf("lease through the Sentinel: %v, %v", held, err)
	}
	if v, err := redis.NewClient(direct).Get(ctx, "presswork:test:sentinel-lease").Result(); err != nil || v != "a" {
		t.Fatalf("lease key read directly = %q, %v", v, err)
	}
	if err := lease.Release(ctx); err != nil {
		t.Fatal(err)
	}
}

// freeClusterPort returns a loopback port that is free, and whose cluster
// bus port (port + 10000) is free too.
func freeClusterPort(t *testing.T) int {
	t.Helper()
	for range 100 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := ln.Addr().(*net.TCPAddr).Port
		ln.Close()
		if port+10000 > 65535 {
			continue
		}
		bus, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port+10000))
		if err != nil {
			continue
		}
		bus.Close()
		return port
	}
	t.Fatal("no free port pair for a cluster node")
	return 0
}

// TestRedisClusterLive starts a three-node Redis Cluster on loopback
// (redis-server and redis-cli from Debian's redis-server package) and runs
// what Presswork does with Redis through REDIS_CLUSTER_ADDRS: enqueueing on
// both queues, a worker processing the tasks, the inspector, the
// scheduler's lease and the provider rate limiter's scripts.
func TestRedisClusterLive(t *testing.T) {
	server, err1 := exec.LookPath("redis-server")
	cli, err2 := exec.LookPath("redis-cli")
	if err1 != nil || err2 != nil {
		t.Skip("redis-server and redis-cli are not installed: cannot start a Redis Cluster")
	}
	var addrs []string
	var logs []*bytes.Buffer
	for i := range 3 {
		port := freeClusterPort(t)
		dir := t.TempDir()
		var out bytes.Buffer
		cmd := exec.Command(server, "--port", fmt.Sprint(port), "--bind", "127.0.0.1", "--dir", dir,
			"--cluster-enabled", "yes", "--cluster-config-file", filepath.Join(dir, "nodes.conf"),
			"--cluster-node-timeout", "5000", "--appendonly", "no", "--save", "")
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatalf("start cluster node %d: %v", i, err)
		}
		logs = append(logs, &out)
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
		addrs = append(addrs, fmt.Sprintf("127.0.0.1:%d", port))
	}
	t.Cleanup(func() {
		if t.Failed() {
			for i, l := range logs {
				t.Logf("node %d:\n%s", i, l.String())
			}
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, addr := range addrs {
		c := redis.NewClient(&redis.Options{Addr: addr})
		for c.Ping(ctx).Err() != nil {
			if ctx.Err() != nil {
				t.Fatalf("cluster node %s never answered", addr)
			}
			time.Sleep(20 * time.Millisecond)
		}
		c.Close()
	}
	create := exec.CommandContext(ctx, cli, append(append([]string{"--cluster", "create"}, addrs...),
		"--cluster-replicas", "0", "--cluster-yes")...)
	if out, err := create.CombinedOutput(); err != nil {
		t.Fatalf("redis-cli --cluster create: %v\n%s", err, out)
	}

	cfg, err := config.Load(redisEnv(map[string]string{"REDIS_CLUSTER_ADDRS": strings.Join(addrs, ",")}))
	if err != nil {
		t.Fatal(err)
	}
	opt, err := app.RedisConnOpt(cfg)
	if err != nil {
		t.Fatal(err)
	}
	rdb, ok := opt.MakeRedisClient().(redis.UniversalClient)
	if !ok {
		t.Fatal("MakeRedisClient() is not a UniversalClient")
	}
	defer rdb.Close()
	cc := rdb.(*redis.ClusterClient)
	for {
		info, err := cc.ClusterInfo(ctx).Result()
		if err == nil && strings.Contains(info, "cluster_state:ok") {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("cluster never became ok: %v %s", err, info)
		}
		time.Sleep(100 * time.Millisecond)
	}

	client := asynq.NewClient(opt)
	defer client.Close()
	if err := client.Ping(); err != nil {
		t.Fatalf("ping the cluster: %v", err)
	}
	// The two queues land in different hash slots; tasks go to both.
	const n = 10
	for i := range n {
		queue := []string{"default", "bulk"}[i%2]
		if _, err := client.EnqueueContext(ctx, asynq.NewTask("cluster:test", []byte(fmt.Sprint(i))),
			asynq.Queue(queue), asynq.TaskID(fmt.Sprintf("cluster-%d", i))); err != nil {
			t.Fatalf("enqueue on the cluster (%s): %v", queue, err)
		}
	}
	inspector := asynq.NewInspector(opt)
	defer inspector.Close()
	if info, err := inspector.GetTaskInfo("bulk", "cluster-1"); err != nil || info.Type != "cluster:test" {
		t.Fatalf("inspect on the cluster: %+v, %v", info, err)
	}
	done := make(chan string, n)
	srv := asynq.NewServer(opt, asynq.Config{Concurrency: 4, Queues: map[string]int{"default": 3, "bulk": 1},
		LogLevel: asynq.FatalLevel, TaskCheckInterval: 50 * time.Millisecond})
	mux := asynq.NewServeMux()
	mux.HandleFunc("cluster:test", func(ctx context.Context, task *asynq.Task) error {
		done <- string(task.Payload())
		return nil
	})
	if err := srv.Start(mux); err != nil {
		t.Fatalf("start a worker on the cluster: %v", err)
	}
	defer srv.Shutdown()
	for range n {
		select {
		case <-done:
		case <-ctx.Done():
			t.Fatal("the worker did not process every task on the cluster")
		}
	}

	// The scheduler's lease: two holders, one wins.
	a := &scheduler.Lease{Redis: rdb, Key: "presswork:scheduler:leader", Holder: "a", TTL: 5 * time.Second, Now: time.Now}
	b := &scheduler.Lease{Redis: rdb, Key: "presswork:scheduler:leader", Holder: "b", TTL: 5 * time.Second, Now: time.Now}
	if held, err := a.Try(ctx); err != nil || !held {
		t.Fatalf("lease a on the cluster: %v, %v", held, err)
	}
	if held, err := b.Try(ctx); err != nil || held {
		t.Fatalf("lease b on the cluster while a holds it: %v, %v", held, err)
	}
	if err := a.Release(ctx); err != nil {
		t.Fatal(err)
	}
	if held, err := b.Try(ctx); err != nil || !held {
		t.Fatalf("lease b on the cluster after a released it: %v, %v", held, err)
	}

	// The rate limiter's scripts, on keys spread over the nodes.
	lim := ratelimit.New(rdb, "presswork:ratelimit")
	for _, key := range []string{"openai/gpt-4o-mini", "replicate/black-forest-labs/flux-schnell", "tenant-7/openai/gpt-4o"} {
		limits := ratelimit.Limits{RequestsPerMinute: 600, TokensPerMinute: 100000}
		if err := lim.Wait(ctx, key, limits, 100); err != nil {
			t.Fatalf("rate limiter Wait on the cluster (%s): %v", key, err)
		}
		if err := lim.Adjust(ctx, key, limits, -50); err != nil {
			t.Fatalf("rate limiter Adjust on the cluster (%s): %v", key, err)
		}
		if err := lim.Backoff(ctx, key, time.Millisecond); err != nil {
			t.Fatalf("rate limiter Backoff on the cluster (%s): %v", key, err)
		}
	}
}
