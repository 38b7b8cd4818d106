// Package config reads Presswork's configuration from the environment once,
// at start, and validates it so that bad configuration fails the boot, not
// the first request.
package config

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/presswork/presswork/internal/secret"
)

// Costs are the credit prices of the stages.
type Costs struct {
	KeywordsPerCredit int64 // clustering: 1 credit per this many keywords, rounded up
	Idea              int64
	Draft             int64
	Image             int64 // one image (featured or in-article)
}

// Config is the whole configuration of every Presswork process.
type Config struct {
	DatabaseURL      string
	DatabaseMaxConns int32
	RedisURL         string
	APIAddr          string
	// AdminAddr is where the worker and the scheduler serve /healthz and
	// /readyz; empty: no admin server.
	AdminAddr         string
	SecretKeyID       byte
	SecretKeys        map[byte][]byte
	Costs             Costs
	WorkerConcurrency int
	TaskCheckInterval time.Duration
	ShutdownTimeout   time.Duration
	// RetryBaseDelay is the wait before a failed job's first retry; each
	// further retry waits twice as long (up to an hour).
	RetryBaseDelay time.Duration
	// RetryMaxDelay caps the wait between retries.
	RetryMaxDelay time.Duration
	// RetryCheckInterval is how often a worker moves retries (and delayed
	// tasks) whose time has come back to their queue.
	RetryCheckInterval time.Duration
	ReconcileEvery     time.Duration
	ReconcileGrace     time.Duration
	// SchedulerTick is how often the leading scheduler looks for due
	// rules; SchedulerLeaseTTL is how long its leadership lasts unrenewed,
	// so a replica takes over within about SchedulerLeaseTTL + SchedulerTick
	// of the leader's death.
	SchedulerTick     time.Duration
	SchedulerLeaseTTL time.Duration
	// AutomationMinInterval is the shortest interval between two firings
	// a rule's schedule may have.
	AutomationMinInterval time.Duration
	// Retention: finished jobs and run records older than these are
	// deleted, and asynq's archived tasks too, every MaintenanceEvery.
	RetainJobs          time.Duration
	RetainRuns          time.Duration
	RetainArchivedTasks time.Duration
	MaintenanceEvery    time.Duration
	MaxImportRows       int
	MaxBulkItems        int
	LogLevel            slog.Level
	LogFormat           string // json or text
	// AllowPrivateURLs lets tenants' URLs (their OpenAI-compatible
	// servers, their sites) name loopback and private addresses.
	AllowPrivateURLs bool
	// WordPressTimeout bounds one request to a WordPress site.
	WordPressTimeout time.Duration
	// BulkInFlight is how many bulk jobs a tenant of each plan may have on
	// the queue at once; the rest wait in PostgreSQL (fair sharing). Empty:
	// no limit.
	BulkInFlight map[string]int
	// Easypanel is the operator's panel, used for tenants without one of
	// their own; empty URL: none.
	Easypanel EasypanelConfig
	// DeployCost is the credits a deploy costs (0: free); DeployPollEvery
	// and DeployWait pace and bound the wait for a deployed app to run.
	DeployCost      int64
	DeployPollEvery time.Duration
	DeployWait      time.Duration
}

// EasypanelConfig is a panel's address and login.
type EasypanelConfig struct {
	URL, Email, Password, Project string
}

// Load reads the configuration from the environment (getenv is os.Getenv
// outside tests) and validates it.
func Load(getenv func(string) string) (Config, error) {
	r := reader{getenv: getenv}
	c := Config{
		DatabaseURL:           r.str("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/presswork?sslmode=disable"),
		DatabaseMaxConns:      int32(r.integer("DATABASE_MAX_CONNS", 20, 2, 1000)),
		RedisURL:              r.str("REDIS_URL", "redis://127.0.0.1:6379/0"),
		APIAddr:               r.str("API_ADDR", "127.0.0.1:8080"),
		AdminAddr:             r.str("ADMIN_ADDR", ""),
		WorkerConcurrency:     r.integer("WORKER_CONCURRENCY", 20, 1, 10000),
		TaskCheckInterval:     r.duration("TASK_CHECK_INTERVAL", 100*time.Millisecond),
		ShutdownTimeout:       r.duration("SHUTDOWN_TIMEOUT", 20*time.Second),
		RetryBaseDelay:        r.duration("RETRY_BASE_DELAY", 15*time.Second),
		RetryMaxDelay:         r.duration("RETRY_MAX_DELAY", time.Hour),
		RetryCheckInterval:    r.duration("RETRY_CHECK_INTERVAL", time.Second),
		ReconcileEvery:        r.duration("RECONCILE_EVERY", 30*time.Second),
		ReconcileGrace:        r.duration("RECONCILE_GRACE", 2*time.Minute),
		SchedulerTick:         r.duration("SCHEDULER_TICK", time.Second),
		SchedulerLeaseTTL:     r.duration("SCHEDULER_LEASE_TTL", 15*time.Second),
		AutomationMinInterval: r.duration("AUTOMATION_MIN_INTERVAL", 5*time.Minute),
		RetainJobs:            r.duration("RETAIN_JOBS", 90*24*time.Hour),
		RetainRuns:            r.duration("RETAIN_RUNS", 30*24*time.Hour),
		RetainArchivedTasks:   r.duration("RETAIN_ARCHIVED_TASKS", 7*24*time.Hour),
		MaintenanceEvery:      r.duration("MAINTENANCE_EVERY", time.Hour),
		MaxImportRows:         r.integer("MAX_IMPORT_ROWS", 100000, 1, 1000000),
		MaxBulkItems:          r.integer("MAX_BULK_ITEMS", 10000, 1, 100000),
		LogFormat:             r.str("LOG_FORMAT", "json"),
		AllowPrivateURLs:      r.boolean("ALLOW_PRIVATE_URLS", false),
		WordPressTimeout:      r.duration("WORDPRESS_TIMEOUT", time.Minute),
		Easypanel: EasypanelConfig{URL: r.str("EASYPANEL_URL", ""), Email: r.str("EASYPANEL_EMAIL", ""),
			Password: r.getenv("EASYPANEL_PASSWORD"), Project: r.str("EASYPANEL_PROJECT", "sites")},
		DeployCost:      int64(r.integer("DEPLOY_COST", 0, 0, 1000000)),
		BulkInFlight:    r.planLimits("BULK_INFLIGHT", "free=4,starter=8,pro=16,agency=32"),
		DeployPollEvery: r.duration("DEPLOY_POLL_EVERY", 2*time.Second),
		DeployWait:      r.duration("DEPLOY_WAIT", 10*time.Minute),
		Costs: Costs{
			KeywordsPerCredit: int64(r.integer("COST_CLUSTER_KEYWORDS_PER_CREDIT", 30, 1, 1000000)),
			Idea:              int64(r.integer("COST_IDEA", 1, 0, 1000000)),
			Draft:             int64(r.integer("COST_DRAFT", 3, 0, 1000000)),
			Image:             int64(r.integer("COST_IMAGE", 1, 0, 1000000)),
		},
	}
	c.SecretKeyID = byte(r.integer("SECRET_KEY_ID", 1, 0, 255))
	c.SecretKeys = r.secretKeys(c.SecretKeyID)
	r.level(&c.LogLevel)
	r.check(c.LogFormat == "json" || c.LogFormat == "text", "LOG_FORMAT", "must be json or text")
	if c.AdminAddr != "" {
		r.hostPort("ADMIN_ADDR", c.AdminAddr)
	}
	r.check(c.SchedulerLeaseTTL >= 3*c.SchedulerTick, "SCHEDULER_LEASE_TTL", "must be at least three SCHEDULER_TICKs")
	if c.Easypanel.URL != "" {
		r.urlScheme("EASYPANEL_URL", c.Easypanel.URL, "https", "http")
		r.check(c.Easypanel.Email != "" && c.Easypanel.Password != "", "EASYPANEL_EMAIL",
			"and EASYPANEL_PASSWORD are required with EASYPANEL_URL")
	}
	r.urlScheme("DATABASE_URL", c.DatabaseURL, "postgres", "postgresql")
	r.urlScheme("REDIS_URL", c.RedisURL, "redis", "rediss")
	return c, errors.Join(r.problems...)
}

// LogValue prints the configuration with secrets masked.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("database_url", maskURL(c.DatabaseURL)),
		slog.String("redis_url", maskURL(c.RedisURL)),
		slog.String("api_addr", c.APIAddr),
		slog.String("admin_addr", c.AdminAddr),
		slog.Int("secret_key_id", int(c.SecretKeyID)),
		slog.Int("secret_keys", len(c.SecretKeys)),
		slog.Int("worker_concurrency", c.WorkerConcurrency),
		slog.Duration("task_check_interval", c.TaskCheckInterval),
		slog.Any("costs", c.Costs),
		slog.Bool("allow_private_urls", c.AllowPrivateURLs),
		slog.String("easypanel_url", maskURL(c.Easypanel.URL)),
	)
}

// SecretBox returns the box for secrets at rest.
func (c Config) SecretBox() (*secret.Box, error) {
	return secret.NewBox(c.SecretKeyID, c.SecretKeys)
}

func maskURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable)"
	}
	if u.Scheme == "" || u.Opaque != "" {
		// Not a URL of the form scheme://user:password@host (a key=value
		// DSN, say): nothing can be told apart from a password.
		return "(not a URL)"
	}
	if _, has := u.User.Password(); has {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	// Drivers also take secrets as parameters (pgx: ?password=, ?sslpassword=).
	if q, err := url.ParseQuery(u.RawQuery); err != nil {
		u.RawQuery = "xxxxx"
	} else if len(q) > 0 {
		masked := false
		for name := range q {
			if n := strings.ToLower(name); strings.Contains(n, "pass") || strings.Contains(n, "secret") || strings.Contains(n, "token") {
				q.Set(name, "xxxxx")
				masked = true
			}
		}
		if masked {
			u.RawQuery = q.Encode()
		}
	}
	return u.String()
}

type reader struct {
	getenv   func(string) string
	problems []error
}

func (r *reader) check(ok bool, name, problem string) {
	if !ok {
		r.problems = append(r.problems, fmt.Errorf("%s %s", name, problem))
	}
}

func (r *reader) str(name, def string) string {
	if v := strings.TrimSpace(r.getenv(name)); v != "" {
		return v
	}
	return def
}

func (r *reader) integer(name string, def, lo, hi int) int {
	v := r.getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(strings.TrimSpace(v))
	r.check(err == nil && n >= lo && n <= hi, name, fmt.Sprintf("must be a whole number from %d to %d, got %q", lo, hi, v))
	return n
}

func (r *reader) boolean(name string, def bool) bool {
	v := strings.TrimSpace(r.getenv(name))
	if v == "" {
		return def
	}
	b, err := strconv.ParseBool(v)
	r.check(err == nil, name, "must be true or false")
	return b && err == nil
}

func (r *reader) duration(name string, def time.Duration) time.Duration {
	v := r.getenv(name)
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	r.check(err == nil && d > 0, name, fmt.Sprintf("must be a positive duration such as 30s, got %q", v))
	return d
}

// planLimits reads "plan=n,plan=n" for the four plans; "off" is none.
func (r *reader) planLimits(name, def string) map[string]int {
	v := r.str(name, def)
	if v == "off" {
		return nil
	}
	out := map[string]int{}
	for _, part := range strings.Split(v, ",") {
		plan, n, ok := strings.Cut(strings.TrimSpace(part), "=")
		limit, err := strconv.Atoi(strings.TrimSpace(n))
		switch plan = strings.TrimSpace(plan); {
		case !ok || err != nil || limit < 1 || limit > 100000:
			r.check(false, name, fmt.Sprintf("must be plan=n pairs such as %q, or off; got %q", def, part))
			return nil
		case plan != "free" && plan != "starter" && plan != "pro" && plan != "agency":
			r.check(false, name, fmt.Sprintf("names an unknown plan %q (free, starter, pro, agency)", plan))
			return nil
		}
		out[plan] = limit
	}
	for _, plan := range []string{"free", "starter", "pro", "agency"} {
		if out[plan] == 0 {
			r.check(false, name, "must give every plan (free, starter, pro, agency) a limit, or be off")
			return nil
		}
	}
	return out
}

func (r *reader) level(l *slog.Level) {
	if v := r.getenv("LOG_LEVEL"); v != "" {
		r.check(l.UnmarshalText([]byte(v)) == nil, "LOG_LEVEL", "must be debug, info, warn or error")
	}
}

// hostPort checks an address to listen on: host:port or :port, the port a
// number from 0 to 65535.
func (r *reader) hostPort(name, addr string) {
	_, port, err := net.SplitHostPort(addr)
	n, perr := strconv.Atoi(port)
	r.check(err == nil && perr == nil && n >= 0 && n <= 65535, name,
		fmt.Sprintf("must be host:port such as 127.0.0.1:9091, got %q", addr))
}

func (r *reader) urlScheme(name, raw string, schemes ...string) {
	u, err := url.Parse(raw)
	ok := err == nil
	if ok {
		ok = false
		for _, s := range schemes {
			ok = ok || u.Scheme == s
		}
	}
	r.check(ok, name, "must be a URL starting with "+strings.Join(schemes, ":// or ")+"://")
}

// secretKeys reads SECRET_KEY (the current key, base64 of 32 bytes) and
// SECRET_KEYS_OLD ("id:base64,id:base64"), the keys older ciphertexts were
// sealed with.
func (r *reader) secretKeys(currentID byte) map[byte][]byte {
	keys := map[byte][]byte{}
	key, err := secret.ParseKey(r.getenv("SECRET_KEY"))
	if err != nil {
		r.check(false, "SECRET_KEY", "must be 32 random bytes in base64 (make one with: openssl rand -base64 32): "+err.Error())
		return keys
	}
	keys[currentID] = key
	for _, entry := range strings.Split(r.getenv("SECRET_KEYS_OLD"), ",") {
		if strings.TrimSpace(entry) == "" {
			continue
		}
		idText, b64, _ := strings.Cut(strings.TrimSpace(entry), ":")
		id, err1 := strconv.ParseUint(idText, 10, 8)
		old, err2 := secret.ParseKey(b64)
		r.check(err1 == nil && err2 == nil, "SECRET_KEYS_OLD", "entries must be id:base64-key")
		if err1 == nil && err2 == nil && byte(id) != currentID {
			keys[byte(id)] = old
		}
	}
	return keys
}

// FromEnv is Load(os.Getenv).
func FromEnv() (Config, error) { return Load(os.Getenv) }

// Logger returns the process logger: JSON (or text) on w at the configured
// level, tagged with the process name.
func (c Config) Logger(w io.Writer, process string) *slog.Logger {
	opts := &slog.HandlerOptions{Level: c.LogLevel}
	var h slog.Handler = slog.NewJSONHandler(w, opts)
	if c.LogFormat == "text" {
		h = slog.NewTextHandler(w, opts)
	}
	return slog.New(h).With("process", process)
}
