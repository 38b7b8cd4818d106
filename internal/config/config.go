// Package config reads Presswork's configuration from the environment once,
// at start, and validates it so that bad configuration fails the boot, not
// the first request.
package config

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"regexp"
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
	// RedisURL names a single Redis server; Redis, when it names Sentinels
	// or Cluster nodes, replaces it.
	RedisURL string
	Redis    RedisConfig
	APIAddr  string
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
	// AICallRetryDelay is the first wait before a model call that failed
	// for a passing reason is sent again inside its job (doubling, 4 tries
	// in all) before the attempt fails and the job's retry takes over.
	AICallRetryDelay time.Duration
	// RetryCheckInterval is how often a worker moves retries (and delayed
	// tasks) whose time has come back to their queue.
	RetryCheckInterval time.Duration
	ReconcileEvery     time.Duration
	ReconcileGrace     time.Duration
	// WorkerHeartbeat is how often a worker process records that it is
	// alive; a process silent for WorkerLostAfter is taken for dead and
	// its running jobs are delivered again (#25).
	WorkerHeartbeat time.Duration
	WorkerLostAfter time.Duration
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
	// APIKeyRate and APITenantRate are the API requests per minute one
	// key, and all of one tenant's keys together, may make (0: no limit),
	// counted in Redis so that they hold across API replicas.
	APIKeyRate    int
	APITenantRate int
	LogLevel      slog.Level
	LogFormat     string // json or text
	// AllowPrivateURLs lets tenants' URLs (their OpenAI-compatible
	// servers, their sites) name loopback and private addresses.
	AllowPrivateURLs bool
	// WordPressTimeout bounds one request to a WordPress site.
	WordPressTimeout time.Duration
	// ExtraCAFile (EXTRA_CA_FILE) names a PEM file of certificate
	// authorities trusted beside the system's on the worker's connections
	// to tenants' sites, panels and webhook endpoints: an operator's
	// private CA, or a test's. Empty: the system's only.
	ExtraCAFile string
	// RootCAs is the system's authorities and ExtraCAFile's, read at
	// start; nil (the system's) when ExtraCAFile is empty.
	RootCAs *x509.CertPool
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
	// DeployReservedDomains are domain suffixes no deployment may use
	// (DEPLOY_RESERVED_DOMAINS, lower case, without a leading dot): the
	// operator's own names and those of the panel's services. A domain is
	// reserved when it is one of them or ends in "." and one of them.
	DeployReservedDomains []string
	// Stripe is billing through Stripe (#26); without its keys billing is
	// off and operators grant credits by hand.
	Stripe StripeConfig
}

// StripeConfig is billing through Stripe: STRIPE_SECRET_KEY and
// STRIPE_WEBHOOK_SECRET together turn it on.
type StripeConfig struct {
	SecretKey     secret.Text
	WebhookSecret secret.Text
	// APIBase replaces Stripe's API address (stripe-mock in tests); empty:
	// Stripe's.
	APIBase string
	// ReturnURL is where Checkout and the Customer Portal send the owner
	// back (the web interface's Billing page).
	ReturnURL string
	// GracePeriod is how long a tenant whose payment failed keeps working
	// before it is suspended for new work.
	GracePeriod time.Duration
	// SweepEvery is how often a worker enqueues again the events received
	// that long ago and still not applied.
	SweepEvery time.Duration
}

// Enabled says whether billing through Stripe is on.
func (s StripeConfig) Enabled() bool { return s.SecretKey != "" && s.WebhookSecret != "" }

// RedisMode is how the processes reach Redis.
type RedisMode string

// The Redis modes: one server named by REDIS_URL (the default), a master
// found through Redis Sentinel, or a Redis Cluster.
const (
	RedisSingle   RedisMode = "single"
	RedisSentinel RedisMode = "sentinel"
	RedisCluster  RedisMode = "cluster"
)

// RedisConfig is Redis reached through Sentinel (SentinelAddrs) or as a
// Cluster (ClusterAddrs); with neither, REDIS_URL names a single server
// and the other fields are empty.
type RedisConfig struct {
	// SentinelAddrs (host:port) are the Sentinels that know the master
	// named SentinelMaster; SentinelUsername and SentinelPassword are the
	// Sentinels' own login (requirepass in sentinel.conf).
	SentinelAddrs    []string
	SentinelMaster   string
	SentinelUsername string
	SentinelPassword string
	// ClusterAddrs (host:port) are some of the Cluster's nodes, from which
	// the client learns the rest.
	ClusterAddrs []string
	// Username and Password are the login of the Redis servers (the master
	// and its replicas, or the Cluster's nodes); DB is the logical database
	// (Sentinel only: a Cluster has database 0 only); TLS connects with TLS
	// (to the Sentinels too).
	Username string
	Password string
	DB       int
	TLS      bool
}

// Mode tells which of the three ways to reach Redis r describes.
func (r RedisConfig) Mode() RedisMode {
	switch {
	case len(r.SentinelAddrs) > 0:
		return RedisSentinel
	case len(r.ClusterAddrs) > 0:
		return RedisCluster
	}
	return RedisSingle
}

// EasypanelConfig is a panel's address and login.
type EasypanelConfig struct {
	URL, Email, Password, Project string
}

// Host is the panel's host name in lower case, without its port; "" when
// no panel is configured.
func (e EasypanelConfig) Host() string {
	u, err := url.Parse(e.URL)
	if err != nil {
		return ""
	}
	return strings.ToLower(strings.TrimSuffix(u.Hostname(), "."))
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
		TaskCheckInterval:     r.duration("TASK_CHECK_INTERVAL", 50*time.Millisecond),
		ShutdownTimeout:       r.duration("SHUTDOWN_TIMEOUT", 20*time.Second),
		RetryBaseDelay:        r.duration("RETRY_BASE_DELAY", 15*time.Second),
		RetryMaxDelay:         r.duration("RETRY_MAX_DELAY", time.Hour),
		AICallRetryDelay:      r.duration("AI_CALL_RETRY_DELAY", time.Second),
		RetryCheckInterval:    r.duration("RETRY_CHECK_INTERVAL", time.Second),
		ReconcileEvery:        r.duration("RECONCILE_EVERY", 30*time.Second),
		ReconcileGrace:        r.duration("RECONCILE_GRACE", 2*time.Minute),
		WorkerHeartbeat:       r.duration("WORKER_HEARTBEAT", time.Second),
		WorkerLostAfter:       r.duration("WORKER_LOST_AFTER", 3*time.Second),
		SchedulerTick:         r.duration("SCHEDULER_TICK", time.Second),
		SchedulerLeaseTTL:     r.duration("SCHEDULER_LEASE_TTL", 15*time.Second),
		AutomationMinInterval: r.duration("AUTOMATION_MIN_INTERVAL", 5*time.Minute),
		RetainJobs:            r.duration("RETAIN_JOBS", 90*24*time.Hour),
		RetainRuns:            r.duration("RETAIN_RUNS", 30*24*time.Hour),
		RetainArchivedTasks:   r.duration("RETAIN_ARCHIVED_TASKS", 7*24*time.Hour),
		MaintenanceEvery:      r.duration("MAINTENANCE_EVERY", time.Hour),
		MaxImportRows:         r.integer("MAX_IMPORT_ROWS", 100000, 1, 1000000),
		MaxBulkItems:          r.integer("MAX_BULK_ITEMS", 10000, 1, 100000),
		APIKeyRate:            r.integer("API_RATE_PER_KEY", 1200, 0, 1000000),
		APITenantRate:         r.integer("API_RATE_PER_TENANT", 3000, 0, 1000000),
		LogFormat:             r.str("LOG_FORMAT", "json"),
		AllowPrivateURLs:      r.boolean("ALLOW_PRIVATE_URLS", false),
		WordPressTimeout:      r.duration("WORDPRESS_TIMEOUT", time.Minute),
		Easypanel: EasypanelConfig{URL: r.str("EASYPANEL_URL", ""), Email: r.str("EASYPANEL_EMAIL", ""),
			Password: r.getenv("EASYPANEL_PASSWORD"), Project: r.str("EASYPANEL_PROJECT", "sites")},
		DeployCost:            int64(r.integer("DEPLOY_COST", 0, 0, 1000000)),
		BulkInFlight:          r.planLimits("BULK_INFLIGHT", "free=4,starter=8,pro=16,agency=32"),
		DeployPollEvery:       r.duration("DEPLOY_POLL_EVERY", 2*time.Second),
		DeployWait:            r.duration("DEPLOY_WAIT", 10*time.Minute),
		DeployReservedDomains: r.domainSuffixes("DEPLOY_RESERVED_DOMAINS"),
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
	r.check(c.WorkerLostAfter >= 2*c.WorkerHeartbeat, "WORKER_LOST_AFTER", "must be at least two WORKER_HEARTBEATs")
	if c.Easypanel.URL != "" {
		r.urlScheme("EASYPANEL_URL", c.Easypanel.URL, "https", "http")
		r.check(c.Easypanel.Email != "" && c.Easypanel.Password != "", "EASYPANEL_EMAIL",
			"and EASYPANEL_PASSWORD are required with EASYPANEL_URL")
	}
	r.urlScheme("DATABASE_URL", c.DatabaseURL, "postgres", "postgresql")
	r.urlScheme("REDIS_URL", c.RedisURL, "redis", "rediss")
	if u, err := url.Parse(c.RedisURL); err == nil && (u.Scheme == "redis" || u.Scheme == "rediss") {
		// redis:6379 parses, with no host: asynq would dial its default.
		r.check(u.Host != "", "REDIS_URL", fmt.Sprintf("must name a host, as in redis://host:6379/0, got %q", maskURL(c.RedisURL)))
	}
	c.Redis = r.redis()
	c.Stripe = r.stripe()
	c.ExtraCAFile = r.str("EXTRA_CA_FILE", "")
	c.RootCAs = r.rootCAs("EXTRA_CA_FILE", c.ExtraCAFile)
	return c, errors.Join(r.problems...)
}

// LogValue prints the configuration with secrets masked.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("database_url", maskURL(c.DatabaseURL)),
		slog.String("redis_url", maskURL(c.RedisURL)),
		slog.String("redis_mode", string(c.Redis.Mode())),
		slog.Any("redis_sentinel_addrs", c.Redis.SentinelAddrs),
		slog.String("redis_sentinel_master", c.Redis.SentinelMaster),
		slog.Any("redis_cluster_addrs", c.Redis.ClusterAddrs),
		slog.String("api_addr", c.APIAddr),
		slog.String("admin_addr", c.AdminAddr),
		slog.Int("secret_key_id", int(c.SecretKeyID)),
		slog.Int("secret_keys", len(c.SecretKeys)),
		slog.Int("worker_concurrency", c.WorkerConcurrency),
		slog.Duration("task_check_interval", c.TaskCheckInterval),
		slog.Duration("worker_heartbeat", c.WorkerHeartbeat),
		slog.Duration("worker_lost_after", c.WorkerLostAfter),
		slog.Any("costs", c.Costs),
		slog.Bool("allow_private_urls", c.AllowPrivateURLs),
		slog.String("easypanel_url", maskURL(c.Easypanel.URL)),
		slog.String("extra_ca_file", c.ExtraCAFile),
		slog.Any("deploy_reserved_domains", c.DeployReservedDomains),
		slog.Bool("stripe_billing", c.Stripe.Enabled()),
		slog.String("stripe_api_base", c.Stripe.APIBase),
	)
}

// SecretBox returns the box for secrets at rest.
func (c Config) SecretBox() (*secret.Box, error) {
	return secret.NewBox(c.SecretKeyID, c.SecretKeys)
}

func maskURL(raw string) string {
	if raw == "" {
		return "(unset)"
	}
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

// stripe reads the STRIPE_* variables: both keys or neither.
func (r *reader) stripe() StripeConfig {
	s := StripeConfig{SecretKey: secret.Text(r.getenv("STRIPE_SECRET_KEY")),
		WebhookSecret: secret.Text(r.getenv("STRIPE_WEBHOOK_SECRET")),
		APIBase:       r.str("STRIPE_API_BASE", ""),
		ReturnURL:     r.str("BILLING_RETURN_URL", "http://127.0.0.1:8080/ui/billing"),
		GracePeriod:   r.duration("STRIPE_GRACE_PERIOD", 72*time.Hour),
		SweepEvery:    r.duration("STRIPE_SWEEP_EVERY", time.Minute)}
	r.check((s.SecretKey == "") == (s.WebhookSecret == ""), "STRIPE_SECRET_KEY",
		"and STRIPE_WEBHOOK_SECRET go together: set both to turn billing on, or neither")
	if s.SecretKey != "" {
		r.check(strings.HasPrefix(string(s.SecretKey), "sk_") || strings.HasPrefix(string(s.SecretKey), "rk_"),
			"STRIPE_SECRET_KEY", "must be a Stripe secret or restricted key (sk_... or rk_...)")
	}
	if s.WebhookSecret != "" {
		r.check(strings.HasPrefix(string(s.WebhookSecret), "whsec_"), "STRIPE_WEBHOOK_SECRET",
			"must be the endpoint's signing secret (whsec_...)")
	}
	if s.APIBase != "" {
		r.urlScheme("STRIPE_API_BASE", s.APIBase, "https", "http")
	}
	r.urlScheme("BILLING_RETURN_URL", s.ReturnURL, "https", "http")
	return s
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

// redis reads the Sentinel and Cluster variables. They are mutually
// exclusive with each other and with REDIS_URL set explicitly; the
// variables of one mode are refused in another, so that a value never goes
// silently unused.
func (r *reader) redis() RedisConfig {
	rc := RedisConfig{
		SentinelAddrs:    r.addrList("REDIS_SENTINEL_ADDRS"),
		SentinelMaster:   r.str("REDIS_SENTINEL_MASTER", ""),
		SentinelUsername: r.str("REDIS_SENTINEL_USERNAME", ""),
		SentinelPassword: r.getenv("REDIS_SENTINEL_PASSWORD"),
		ClusterAddrs:     r.addrList("REDIS_CLUSTER_ADDRS"),
		Username:         r.str("REDIS_USERNAME", ""),
		Password:         r.getenv("REDIS_PASSWORD"),
		DB:               r.integer("REDIS_DB", 0, 0, 1000000),
		TLS:              r.boolean("REDIS_TLS", false),
	}
	sentinel := strings.TrimSpace(r.getenv("REDIS_SENTINEL_ADDRS")) != ""
	cluster := strings.TrimSpace(r.getenv("REDIS_CLUSTER_ADDRS")) != ""
	set := func(name string) bool { return strings.TrimSpace(r.getenv(name)) != "" }
	const single = "with REDIS_URL (a single server) put the login in the URL " +
		"(redis://user:password@host:6379/0), the database in its path and use rediss:// for TLS"
	switch {
	case sentinel && cluster:
		r.check(false, "REDIS_SENTINEL_ADDRS", "and REDIS_CLUSTER_ADDRS are mutually exclusive: set one (Sentinel or Cluster), or neither to use REDIS_URL")
	case sentinel:
		r.check(!set("REDIS_URL"), "REDIS_URL", "must be unset when REDIS_SENTINEL_ADDRS is set (the Sentinels name the master)")
		r.check(rc.SentinelMaster != "", "REDIS_SENTINEL_MASTER", "is required with REDIS_SENTINEL_ADDRS: the name of the master the Sentinels monitor, e.g. mymaster")
	case cluster:
		r.check(!set("REDIS_URL"), "REDIS_URL", "must be unset when REDIS_CLUSTER_ADDRS is set (the Cluster's nodes are named there)")
		r.check(!set("REDIS_DB"), "REDIS_DB", "is not supported by Redis Cluster (database 0 only)")
	default:
		for _, name := range []string{"REDIS_USERNAME", "REDIS_PASSWORD", "REDIS_DB"} {
			r.check(!set(name), name, "is only used with REDIS_SENTINEL_ADDRS or REDIS_CLUSTER_ADDRS; "+single)
		}
		r.check(!rc.TLS, "REDIS_TLS", "is only used with REDIS_SENTINEL_ADDRS or REDIS_CLUSTER_ADDRS; "+single)
	}
	if !sentinel {
		for _, name := range []string{"REDIS_SENTINEL_MASTER", "REDIS_SENTINEL_USERNAME", "REDIS_SENTINEL_PASSWORD"} {
			r.check(!set(name), name, "is only used with REDIS_SENTINEL_ADDRS")
		}
	}
	return rc
}

// addrList reads a comma-separated list of host:port addresses to connect
// to (the host required, the port from 1 to 65535); nil when unset.
func (r *reader) addrList(name string) []string {
	v := strings.TrimSpace(r.getenv(name))
	if v == "" {
		return nil
	}
	var out []string
	for _, part := range strings.Split(v, ",") {
		addr := strings.TrimSpace(part)
		host, port, err := net.SplitHostPort(addr)
		n, perr := strconv.Atoi(port)
		if err != nil || perr != nil || host == "" || n < 1 || n > 65535 {
			r.check(false, name, fmt.Sprintf("must be comma-separated host:port addresses such as redis-a:26379,redis-b:26379, got %q", addr))
			return nil
		}
		out = append(out, addr)
	}
	return out
}

// domainLabel is one label of a domain name.
var domainLabel = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)

// domainSuffixes reads a comma-separated list of domain suffixes such as
// easypanel.host,example.com (a leading "*." or "." and a final "." are
// dropped, case is ignored, empty entries are skipped); nil when unset.
func (r *reader) domainSuffixes(name string) []string {
	var out []string
	for _, part := range strings.Split(r.getenv(name), ",") {
		suffix := strings.ToLower(strings.TrimSpace(part))
		suffix = strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(suffix, "*"), "."), ".")
		if suffix == "" && strings.TrimSpace(part) == "" {
			continue
		}
		ok := len(suffix) <= 253
		for _, label := range strings.Split(suffix, ".") {
			ok = ok && domainLabel.MatchString(label)
		}
		if !ok {
			r.check(false, name, fmt.Sprintf("must be comma-separated domain suffixes such as "+
				"easypanel.host,example.com, got %q", strings.TrimSpace(part)))
			return nil
		}
		out = append(out, suffix)
	}
	return out
}

// rootCAs reads the PEM file at path (nothing when path is empty) and
// returns the system's authorities with its certificates added. A file
// that cannot be read, holds no certificate or holds anything else (a
// private key put there by mistake) is refused: trust that silently
// failed to load would show up only as a site's "unknown authority".
func (r *reader) rootCAs(name, path string) *x509.CertPool {
	if path == "" {
		return nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		r.check(false, name, "must name a readable PEM file of CA certificates: "+err.Error())
		return nil
	}
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool() // no system store here: trust the file's authorities alone
	}
	found := 0
	for block, rest := pem.Decode(data); block != nil; block, rest = pem.Decode(rest) {
		if block.Type != "CERTIFICATE" {
			r.check(false, name, fmt.Sprintf("must hold only CERTIFICATE blocks; %s holds a %s", path, block.Type))
			return nil
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			r.check(false, name, fmt.Sprintf("holds a certificate that cannot be read (%s, number %d): %v", path, found+1, err))
			return nil
		}
		pool.AddCert(cert)
		found++
	}
	if found == 0 {
		r.check(false, name, fmt.Sprintf("must hold PEM certificates (-----BEGIN CERTIFICATE-----); %s holds none", path))
		return nil
	}
	return pool
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
