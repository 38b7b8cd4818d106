package config_test

import (
	"bytes"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/presswork/presswork/internal/config"
	"github.com/presswork/presswork/internal/testenv"
)

var (
	key1 = bytes.Repeat([]byte{1}, 32)
	key2 = bytes.Repeat([]byte{2}, 32)
	// key1B64 is what must never show in logs.
	key1B64 = base64.StdEncoding.EncodeToString(key1)
	key2B64 = base64.StdEncoding.EncodeToString(key2)
)

// env returns a getenv over m, with a valid SECRET_KEY unless m sets one
// (an empty value unsets it).
func env(m map[string]string) func(string) string {
	return func(name string) string {
		if v, ok := m[name]; ok {
			return v
		}
		if name == "SECRET_KEY" {
			return key1B64
		}
		return ""
	}
}

func load(t *testing.T, m map[string]string) config.Config {
	t.Helper()
	c, err := config.Load(env(m))
	if err != nil {
		t.Fatalf("Load(%v): %v", m, err)
	}
	return c
}

// loadErr loads m and returns the error, failing when there is none.
func loadErr(t *testing.T, m map[string]string) string {
	t.Helper()
	_, err := config.Load(env(m))
	if err == nil {
		t.Fatalf("Load(%v) accepted", m)
	}
	return err.Error()
}

func TestDefaults(t *testing.T) {
	c := load(t, nil)
	want := config.Config{
		DatabaseURL:           "postgres://postgres@127.0.0.1:5432/presswork?sslmode=disable",
		DatabaseMaxConns:      20,
		RedisURL:              "redis://127.0.0.1:6379/0",
		APIAddr:               "127.0.0.1:8080",
		SecretKeyID:           1,
		Costs:                 config.Costs{KeywordsPerCredit: 30, Idea: 1, Draft: 3, Image: 1},
		WorkerConcurrency:     20,
		TaskCheckInterval:     50 * time.Millisecond,
		ShutdownTimeout:       20 * time.Second,
		RetryBaseDelay:        15 * time.Second,
		RetryMaxDelay:         time.Hour,
		AICallRetryDelay:      time.Second,
		RetryCheckInterval:    time.Second,
		WordPressTimeout:      time.Minute,
		ReconcileEvery:        30 * time.Second,
		ReconcileGrace:        2 * time.Minute,
		WorkerHeartbeat:       time.Second,
		WorkerLostAfter:       3 * time.Second,
		SchedulerTick:         time.Second,
		SchedulerLeaseTTL:     15 * time.Second,
		AutomationMinInterval: 5 * time.Minute,
		RetainJobs:            90 * 24 * time.Hour,
		RetainRuns:            30 * 24 * time.Hour,
		RetainArchivedTasks:   7 * 24 * time.Hour,
		MaintenanceEvery:      time.Hour,
		Easypanel:             config.EasypanelConfig{Project: "sites"},
		DeployPollEvery:       2 * time.Second,
		DeployWait:            10 * time.Minute,
		BulkInFlight:          map[string]int{"free": 4, "starter": 8, "pro": 16, "agency": 32},
		MaxImportRows:         100000,
		MaxBulkItems:          10000,
		APIKeyRate:            1200,
		APITenantRate:         3000,
		LogLevel:              slog.LevelInfo,
		LogFormat:             "json",
		Stripe: config.StripeConfig{ReturnURL: "http://127.0.0.1:8080/ui/billing", GracePeriod: 72 * time.Hour,
			SweepEvery: time.Minute},
	}
	keys := c.SecretKeys
	c.SecretKeys = nil
	if !reflect.DeepEqual(c, want) {
		t.Fatalf("defaults:\n got %+v\nwant %+v", c, want)
	}
	if len(keys) != 1 || !bytes.Equal(keys[1], key1) {
		t.Fatalf("secret keys = %v", keys)
	}
	box, err := load(t, nil).SecretBox()
	if err != nil {
		t.Fatal(err)
	}
	ct, err := box.Seal([]byte("pw"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if pt, err := box.Open(ct, nil); err != nil || string(pt) != "pw" {
		t.Fatalf("Open = %q, %v", pt, err)
	}
}

func TestOverrides(t *testing.T) {
	c := load(t, map[string]string{
		"DATABASE_URL":                     "postgresql://app:pw@db:5432/pw",
		"DATABASE_MAX_CONNS":               " 50 ",
		"REDIS_URL":                        "rediss://cache:6380/2",
		"API_ADDR":                         ":9000",
		"WORKER_CONCURRENCY":               "4",
		"TASK_CHECK_INTERVAL":              "1s",
		"SHUTDOWN_TIMEOUT":                 "8s",
		"RECONCILE_EVERY":                  "1m",
		"RECONCILE_GRACE":                  "90s",
		"MAX_IMPORT_ROWS":                  "10",
		"MAX_BULK_ITEMS":                   "5",
		"COST_CLUSTER_KEYWORDS_PER_CREDIT": "10",
		"COST_IDEA":                        "0",
		"COST_DRAFT":                       "7",
		"COST_IMAGE":                       "2",
		"LOG_LEVEL":                        "debug",
		"LOG_FORMAT":                       "text",
		"SECRET_KEY_ID":                    "3",
		"SECRET_KEYS_OLD":                  "1:" + key2B64 + ", 3:" + key2B64,
	})
	if c.DatabaseURL != "postgresql://app:pw@db:5432/pw" || c.DatabaseMaxConns != 50 || c.RedisURL != "rediss://cache:6380/2" ||
		c.APIAddr != ":9000" || c.WorkerConcurrency != 4 || c.TaskCheckInterval != time.Second || c.ShutdownTimeout != 8*time.Second ||
		c.ReconcileEvery != time.Minute || c.ReconcileGrace != 90*time.Second || c.MaxImportRows != 10 || c.MaxBulkItems != 5 ||
		c.Costs != (config.Costs{KeywordsPerCredit: 10, Idea: 0, Draft: 7, Image: 2}) || c.LogLevel != slog.LevelDebug || c.LogFormat != "text" {
		t.Fatalf("overrides not applied: %+v", c)
	}
	// The current key is SECRET_KEY under id 3; an old entry with the
	// current id does not replace it.
	if c.SecretKeyID != 3 || len(c.SecretKeys) != 2 || !bytes.Equal(c.SecretKeys[3], key1) || !bytes.Equal(c.SecretKeys[1], key2) {
		t.Fatalf("secret keys: id %d, %v", c.SecretKeyID, c.SecretKeys)
	}
	// A ciphertext sealed under the old key opens after rotation.
	old := load(t, map[string]string{"SECRET_KEY": key2B64})
	oldBox, _ := old.SecretBox()
	ct, _ := oldBox.Seal([]byte("rotated"), nil)
	box, err := c.SecretBox()
	if err != nil {
		t.Fatal(err)
	}
	if pt, err := box.Open(ct, nil); err != nil || string(pt) != "rotated" {
		t.Fatalf("open old ciphertext = %q, %v", pt, err)
	}
}

func TestSecretKeyRequiredAndValidated(t *testing.T) {
	short := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 16))
	long := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 33))
	for name, value := range map[string]string{
		"missing":      "",
		"not base64":   "this is not base64!",
		"16 bytes":     short,
		"33 bytes":     long,
		"hex not b64":  strings.Repeat("ab", 32) + "!",
		"only padding": "====",
	} {
		t.Run(name, func(t *testing.T) {
			msg := loadErr(t, map[string]string{"SECRET_KEY": value})
			if !strings.Contains(msg, "SECRET_KEY") {
				t.Fatalf("error does not name SECRET_KEY: %s", msg)
			}
			if len(value) > 8 && strings.Contains(msg, value) {
				t.Fatalf("error repeats the secret: %s", msg)
			}
		})
	}
	// URL-safe and unpadded encodings are accepted, and surrounding
	// whitespace (a trailing newline from a secrets file) is ignored.
	for _, v := range []string{
		base64.RawStdEncoding.EncodeToString(key1),
		base64.URLEncoding.EncodeToString(key1),
		base64.RawURLEncoding.EncodeToString(key1),
		key1B64 + "\n",
	} {
		if c := load(t, map[string]string{"SECRET_KEY": v}); !bytes.Equal(c.SecretKeys[1], key1) {
			t.Fatalf("SECRET_KEY %q: keys %v", v, c.SecretKeys)
		}
	}
}

func TestBadSecretKeysOld(t *testing.T) {
	for _, v := range []string{"nocolon", "x:" + key2B64, "300:" + key2B64, "2:short", "2:" + key2B64 + ",bad"} {
		msg := loadErr(t, map[string]string{"SECRET_KEYS_OLD": v})
		if !strings.Contains(msg, "SECRET_KEYS_OLD") {
			t.Fatalf("SECRET_KEYS_OLD=%q: error does not name it: %s", v, msg)
		}
		if strings.Contains(msg, key2B64) {
			t.Fatalf("error repeats a secret: %s", msg)
		}
	}
}

func TestAdminAddr(t *testing.T) {
	if c := load(t, nil); c.AdminAddr != "" {
		t.Fatalf("ADMIN_ADDR default %q, want empty (no admin server)", c.AdminAddr)
	}
	for _, addr := range []string{"127.0.0.1:9091", ":9091", "[::1]:9091", "127.0.0.1:0"} {
		if c := load(t, map[string]string{"ADMIN_ADDR": addr}); c.AdminAddr != addr {
			t.Errorf("ADMIN_ADDR=%s read as %q", addr, c.AdminAddr)
		}
	}
}

func TestBadValuesNameTheVariable(t *testing.T) {
	cases := []struct{ name, value string }{
		{"DATABASE_MAX_CONNS", "many"},
		{"DATABASE_MAX_CONNS", "1"},
		{"DATABASE_MAX_CONNS", "1001"},
		{"DATABASE_MAX_CONNS", "2.5"},
		{"WORKER_CONCURRENCY", "0"},
		{"WORKER_CONCURRENCY", "-3"},
		{"MAX_IMPORT_ROWS", "1e6"},
		{"MAX_BULK_ITEMS", "100001"},
		{"COST_CLUSTER_KEYWORDS_PER_CREDIT", "0"},
		{"COST_IDEA", "-1"},
		{"COST_DRAFT", "three"},
		{"COST_IMAGE", "-2"},
		{"SECRET_KEY_ID", "256"},
		{"SECRET_KEY_ID", "one"},
		{"TASK_CHECK_INTERVAL", "100"},
		{"TASK_CHECK_INTERVAL", "0s"},
		{"SHUTDOWN_TIMEOUT", "-5s"},
		{"RECONCILE_EVERY", "soon"},
		{"RECONCILE_GRACE", "2 minutes"},
		{"SCHEDULER_TICK", "0s"},
		{"SCHEDULER_LEASE_TTL", "2s"}, // less than three ticks of a second
		{"WORKER_HEARTBEAT", "0s"},
		{"WORKER_LOST_AFTER", "1500ms"}, // less than two beats of a second
		{"AUTOMATION_MIN_INTERVAL", "-1m"},
		{"RETAIN_JOBS", "forever"},
		{"MAINTENANCE_EVERY", "hourly"},
		{"EASYPANEL_URL", "ftp://panel.example.com"},
		{"DEPLOY_COST", "-1"},
		{"DEPLOY_WAIT", "long"},
		{"RETRY_CHECK_INTERVAL", "0s"},
		{"BULK_INFLIGHT", "pro=5"},
		{"BULK_INFLIGHT", "free=1,starter=2,pro=3,gold=4"},
		{"BULK_INFLIGHT", "free=0,starter=2,pro=3,agency=4"},
		{"LOG_LEVEL", "loud"},
		{"LOG_FORMAT", "xml"},
		{"ALLOW_PRIVATE_URLS", "maybe"},
		{"ADMIN_ADDR", "9091"},
		{"ADMIN_ADDR", "127.0.0.1"},
		{"ADMIN_ADDR", "127.0.0.1:http"},
		{"ADMIN_ADDR", "127.0.0.1:70000"},
		{"DATABASE_URL", "mysql://root@localhost/presswork"},
		{"DATABASE_URL", "host=localhost user=postgres"},
		{"REDIS_URL", "http://127.0.0.1:6379"},
		{"REDIS_URL", "127.0.0.1:6379"},
		{"REDIS_URL", "redis:6379"},
		{"REDIS_URL", "redis:///0"},
	}
	for _, c := range cases {
		t.Run(c.name+"="+c.value, func(t *testing.T) {
			msg := loadErr(t, map[string]string{c.name: c.value})
			if !strings.Contains(msg, c.name) {
				t.Fatalf("error does not name %s: %s", c.name, msg)
			}
		})
	}
}

func TestEveryProblemIsReported(t *testing.T) {
	msg := loadErr(t, map[string]string{
		"SECRET_KEY": "", "WORKER_CONCURRENCY": "x", "SHUTDOWN_TIMEOUT": "x", "LOG_FORMAT": "x", "REDIS_URL": "x://",
	})
	for _, name := range []string{"SECRET_KEY", "WORKER_CONCURRENCY", "SHUTDOWN_TIMEOUT", "LOG_FORMAT", "REDIS_URL"} {
		if !strings.Contains(msg, name) {
			t.Errorf("error does not name %s: %s", name, msg)
		}
	}
}

// TestLogValueHidesSecrets logs the configuration the way the binaries do
// and looks for every secret in the output.
func TestLogValueHidesSecrets(t *testing.T) {
	cases := []struct {
		name    string
		env     map[string]string
		secrets []string
	}{
		{"user passwords", map[string]string{
			"DATABASE_URL": "postgres://app:Pg-S3cret-pw@db.internal:5432/presswork?sslmode=require",
			"REDIS_URL":    "redis://:Redis-S3cret-pw@cache.internal:6379/0",
		}, []string{"Pg-S3cret-pw", "Redis-S3cret-pw"}},
		{"escaped passwords", map[string]string{
			"DATABASE_URL": "postgres://app:p%40ss%2Fw0rd-xyz@db:5432/presswork",
			"REDIS_URL":    "rediss://default:r%3Ae%40dis-pw@cache:6380",
		}, []string{"p%40ss%2Fw0rd-xyz", "p@ss/w0rd-xyz", "r%3Ae%40dis-pw", "r:e@dis-pw", "dis-pw", "w0rd-xyz"}},
		{"password in the query", map[string]string{
			"DATABASE_URL": "postgres://app@db:5432/presswork?sslmode=disable&password=Query-S3cret-pw",
			"REDIS_URL":    "redis://cache:6379/0?password=Redis-Query-pw",
		}, []string{"Query-S3cret-pw", "Redis-Query-pw"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.env["SECRET_KEY"] = key1B64
			tc.env["SECRET_KEYS_OLD"] = "7:" + key2B64
			c := load(t, tc.env)
			for _, format := range []string{"json", "text"} {
				var buf bytes.Buffer
				c.LogFormat = format
				c.Logger(&buf, "api").Info("starting", "config", c)
				out := buf.String()
				for _, s := range append(tc.secrets, key1B64, key2B64, string(key1), base64.RawStdEncoding.EncodeToString(key1)) {
					if strings.Contains(out, s) {
						t.Errorf("%s log shows secret %q: %s", format, s, out)
					}
				}
				for _, want := range []string{"db", "cache", "secret_keys"} {
					if !strings.Contains(out, want) {
						t.Errorf("%s log lacks %q: %s", format, want, out)
					}
				}
			}
		})
	}
}

func TestLogValueKeepsUsefulFields(t *testing.T) {
	c := load(t, map[string]string{"DATABASE_URL": "postgres://app:secretpw@db:5432/presswork"})
	var buf bytes.Buffer
	c.Logger(&buf, "worker").Info("starting", "config", c)
	var line struct {
		Process string         `json:"process"`
		Level   string         `json:"level"`
		Config  map[string]any `json:"config"`
	}
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
		t.Fatalf("log line is not JSON: %v: %s", err, buf.String())
	}
	if line.Process != "worker" || line.Level != "INFO" {
		t.Fatalf("log line = %+v", line)
	}
	db, _ := line.Config["database_url"].(string)
	if !strings.Contains(db, "app") || !strings.Contains(db, "db:5432/presswork") || strings.Contains(db, "secretpw") {
		t.Fatalf("database_url logged as %q", db)
	}
	if line.Config["secret_keys"] != float64(1) || line.Config["worker_concurrency"] != float64(20) {
		t.Fatalf("config logged as %v", line.Config)
	}
}

// TestLogValueOfUnsetURL (#20): an optional URL left unset is logged as
// unset, not as "(not a URL)"; a set one is logged.
func TestLogValueOfUnsetURL(t *testing.T) {
	for env, want := range map[string]string{
		"":                           "(unset)",
		"https://panel.example.com/": "https://panel.example.com/",
	} {
		c := load(t, map[string]string{"EASYPANEL_URL": env, "EASYPANEL_EMAIL": "ops@example.com", "EASYPANEL_PASSWORD": "panel-pw"})
		var buf bytes.Buffer
		c.Logger(&buf, "api").Info("starting", "config", c)
		var line struct {
			Config map[string]any `json:"config"`
		}
		if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
			t.Fatalf("log line is not JSON: %v: %s", err, buf.String())
		}
		if got := line.Config["easypanel_url"]; got != want {
			t.Errorf("EASYPANEL_URL=%q logged as %v, want %q", env, got, want)
		}
	}
}

func TestLoggerLevel(t *testing.T) {
	c := load(t, map[string]string{"LOG_LEVEL": "warn"})
	var buf bytes.Buffer
	l := c.Logger(&buf, "scheduler")
	l.Info("hidden")
	l.Warn("shown")
	if out := buf.String(); strings.Contains(out, "hidden") || !strings.Contains(out, "shown") {
		t.Fatalf("log output: %s", out)
	}
}

// TestLogValueOfInvalidURLs: even URLs that Load refuses are masked, in case
// a configuration is logged before it is validated.
func TestLogValueOfInvalidURLs(t *testing.T) {
	for _, u := range []string{
		"host=db user=app password=Dsn-S3cret-pw",
		"postgres:Opaque-S3cret-pw@db/presswork",
		"postgres://app@db/presswork?password=Bad%zzEscape-S3cret-pw",
		"postgres://app:Bad%zz-S3cret-pw@db/presswork",
		"postgres://app@db/presswork?sslpassword=Tls-S3cret-pw&application_name=x",
	} {
		c := config.Config{DatabaseURL: u, RedisURL: u}
		var buf bytes.Buffer
		c.Logger(&buf, "api").Info("config", "config", c)
		if strings.Contains(buf.String(), "S3cret") {
			t.Errorf("%q logged as %s", u, buf.String())
		}
	}
}

func TestRedisModes(t *testing.T) {
	if m := load(t, nil).Redis.Mode(); m != config.RedisSingle {
		t.Fatalf("default mode = %q", m)
	}
	c := load(t, map[string]string{
		"REDIS_SENTINEL_ADDRS":    " s1:26379 ,s2:26379,[::1]:26380",
		"REDIS_SENTINEL_MASTER":   "mymaster",
		"REDIS_SENTINEL_USERNAME": "sentinel",
		"REDIS_SENTINEL_PASSWORD": "sentinel-pw",
		"REDIS_USERNAME":          "app",
		"REDIS_PASSWORD":          "redis-pw",
		"REDIS_DB":                "4",
		"REDIS_TLS":               "true",
	})
	want := config.RedisConfig{SentinelAddrs: []string{"s1:26379", "s2:26379", "[::1]:26380"}, SentinelMaster: "mymaster",
		SentinelUsername: "sentinel", SentinelPassword: "sentinel-pw", Username: "app", Password: "redis-pw", DB: 4, TLS: true}
	if !reflect.DeepEqual(c.Redis, want) || c.Redis.Mode() != config.RedisSentinel {
		t.Fatalf("sentinel: %+v (%s)", c.Redis, c.Redis.Mode())
	}
	c = load(t, map[string]string{"REDIS_CLUSTER_ADDRS": "n1:6379,n2:6379", "REDIS_PASSWORD": "pw", "REDIS_TLS": "true"})
	want = config.RedisConfig{ClusterAddrs: []string{"n1:6379", "n2:6379"}, Password: "pw", TLS: true}
	if !reflect.DeepEqual(c.Redis, want) || c.Redis.Mode() != config.RedisCluster {
		t.Fatalf("cluster: %+v (%s)", c.Redis, c.Redis.Mode())
	}
	// REDIS_TLS=false is harmless with REDIS_URL.
	if c := load(t, map[string]string{"REDIS_TLS": "false"}); c.Redis.Mode() != config.RedisSingle {
		t.Fatalf("mode = %s", c.Redis.Mode())
	}
}

// TestRedisBadCombinations: each contradiction or unused variable stops
// the boot with an error that names the variable to fix.
func TestRedisBadCombinations(t *testing.T) {
	sentinel := map[string]string{"REDIS_SENTINEL_ADDRS": "s1:26379", "REDIS_SENTINEL_MASTER": "m"}
	with := func(base map[string]string, kv ...string) map[string]string {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	cases := []struct {
		name string
		env  map[string]string
		want []string
	}{
		{"sentinel and cluster", with(sentinel, "REDIS_CLUSTER_ADDRS", "n1:6379"), []string{"REDIS_SENTINEL_ADDRS", "REDIS_CLUSTER_ADDRS", "mutually exclusive"}},
		{"sentinel and url", with(sentinel, "REDIS_URL", "redis://cache:6379/0"), []string{"REDIS_URL", "must be unset"}},
		{"cluster and url", map[string]string{"REDIS_CLUSTER_ADDRS": "n1:6379", "REDIS_URL": "redis://cache:6379/0"}, []string{"REDIS_URL", "must be unset"}},
		{"sentinel without master", map[string]string{"REDIS_SENTINEL_ADDRS": "s1:26379"}, []string{"REDIS_SENTINEL_MASTER", "is required"}},
		{"master without sentinels", map[string]string{"REDIS_SENTINEL_MASTER": "m"}, []string{"REDIS_SENTINEL_MASTER", "only used with REDIS_SENTINEL_ADDRS"}},
		{"sentinel password without sentinels", map[string]string{"REDIS_SENTINEL_PASSWORD": "x"}, []string{"REDIS_SENTINEL_PASSWORD"}},
		{"sentinel password in cluster", map[string]string{"REDIS_CLUSTER_ADDRS": "n1:6379", "REDIS_SENTINEL_PASSWORD": "x"}, []string{"REDIS_SENTINEL_PASSWORD"}},
		{"cluster db", map[string]string{"REDIS_CLUSTER_ADDRS": "n1:6379", "REDIS_DB": "1"}, []string{"REDIS_DB", "Cluster"}},
		{"password with url", map[string]string{"REDIS_PASSWORD": "x"}, []string{"REDIS_PASSWORD", "REDIS_URL"}},
		{"username with url", map[string]string{"REDIS_USERNAME": "x"}, []string{"REDIS_USERNAME"}},
		{"db with url", map[string]string{"REDIS_DB": "2"}, []string{"REDIS_DB", "REDIS_URL"}},
		{"tls with url", map[string]string{"REDIS_TLS": "true"}, []string{"REDIS_TLS", "rediss://"}},
		{"bad tls", with(sentinel, "REDIS_TLS", "yes please"), []string{"REDIS_TLS"}},
		{"bad db", with(sentinel, "REDIS_DB", "-1"), []string{"REDIS_DB"}},
		{"no port", with(sentinel, "REDIS_SENTINEL_ADDRS", "s1"), []string{"REDIS_SENTINEL_ADDRS", "host:port"}},
		{"port 0", with(sentinel, "REDIS_SENTINEL_ADDRS", "s1:0"), []string{"REDIS_SENTINEL_ADDRS"}},
		{"no host", map[string]string{"REDIS_CLUSTER_ADDRS": ":6379"}, []string{"REDIS_CLUSTER_ADDRS"}},
		{"empty entry", map[string]string{"REDIS_CLUSTER_ADDRS": "n1:6379,,n2:6379"}, []string{"REDIS_CLUSTER_ADDRS"}},
		{"a URL, not an address", map[string]string{"REDIS_CLUSTER_ADDRS": "redis://n1:6379"}, []string{"REDIS_CLUSTER_ADDRS"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			msg := loadErr(t, tc.env)
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error lacks %q: %s", w, msg)
				}
			}
		})
	}
}

func TestLogValueHidesRedisPasswords(t *testing.T) {
	for _, env := range []map[string]string{
		{"REDIS_SENTINEL_ADDRS": "s1:26379", "REDIS_SENTINEL_MASTER": "mymaster",
			"REDIS_SENTINEL_PASSWORD": "Sentinel-S3cret-pw", "REDIS_PASSWORD": "Redis-S3cret-pw"},
		{"REDIS_CLUSTER_ADDRS": "n1:6379", "REDIS_PASSWORD": "Redis-S3cret-pw"},
	} {
		c := load(t, env)
		var buf bytes.Buffer
		c.Logger(&buf, "worker").Info("starting", "config", c)
		out := buf.String()
		if strings.Contains(out, "S3cret") {
			t.Errorf("log shows a Redis password: %s", out)
		}
		if !strings.Contains(out, string(c.Redis.Mode())) || !strings.Contains(out, ":6379") && !strings.Contains(out, ":26379") {
			t.Errorf("log lacks the Redis mode and addresses: %s", out)
		}
	}
}

// TestExtraCAFile: the authorities of EXTRA_CA_FILE are trusted beside the
// system's, and a file that would add no trust stops the boot with the
// variable's name.
func TestExtraCAFile(t *testing.T) {
	ca := testenv.NewCA(t)
	c := load(t, map[string]string{"EXTRA_CA_FILE": ca.File(t)})
	leaf, err := x509.ParseCertificate(ca.Issue(t, "blog.example").Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	if c.RootCAs == nil {
		t.Fatal("EXTRA_CA_FILE set, no RootCAs")
	}
	if _, err := leaf.Verify(x509.VerifyOptions{DNSName: "blog.example", Roots: c.RootCAs}); err != nil {
		t.Errorf("a certificate of the extra CA does not verify: %v", err)
	}
	if unset := load(t, nil); unset.RootCAs != nil || unset.ExtraCAFile != "" {
		t.Errorf("EXTRA_CA_FILE unset: RootCAs %v, file %q; want the system's (nil)", unset.RootCAs, unset.ExtraCAFile)
	}

	dir := t.TempDir()
	write := func(name, text string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	for _, c := range []struct{ name, path, says string }{
		{"missing", filepath.Join(dir, "absent.pem"), "no such file"},
		{"empty", write("empty.pem", ""), "holds none"},
		{"not PEM", write("text.pem", "not a certificate\n"), "holds none"},
		{"a key", write("key.pem", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"), "holds a PRIVATE KEY"},
		{"broken", write("broken.pem", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"), "cannot be read"},
	} {
		t.Run(c.name, func(t *testing.T) {
			msg := loadErr(t, map[string]string{"EXTRA_CA_FILE": c.path})
			if !strings.Contains(msg, "EXTRA_CA_FILE") || !strings.Contains(msg, c.says) {
				t.Errorf("error %q; want it to name EXTRA_CA_FILE and say %q", msg, c.says)
			}
		})
	}
}
