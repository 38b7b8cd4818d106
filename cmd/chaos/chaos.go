package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/presswork/presswork/internal/ai/openai/fakeopenai"
	"github.com/presswork/presswork/internal/ai/replicate/fakereplicate"
	"github.com/presswork/presswork/internal/faultproxy"
)

type options struct {
	tenants, items int
	binDir         string
	keep           bool
}

// chaos is one run: the services it started and what it measured.
type chaos struct {
	opts  options
	dir   string
	start time.Time

	pg      *postgres
	redis   *redisServer
	wp      *wordpressSite
	flaky   *faultproxy.Proxy
	front   *httptest.Server // the flaky proxy's server
	openai  *fakeopenai.Server
	repl    *fakereplicate.Server
	ai      *aiFaults
	env     []string
	api     *process
	workers []*process
	sched   *process
	procs   []*process
	apiURL  string
	cli     string

	probeKey  string
	rec       recorder
	outage    outageProbe
	logMu     sync.Mutex
	killNotes []string
}

// outageProbe is what the API answered while PostgreSQL was down.
type outageProbe struct {
	status       int
	body         string
	readyzStatus int
	readyzBody   string
	took         time.Duration // how long the API took to answer
}

func (c *chaos) logf(format string, args ...any) {
	c.logMu.Lock()
	defer c.logMu.Unlock()
	fmt.Printf("[+%6.1fs] %s\n", time.Since(c.start).Seconds(), fmt.Sprintf(format, args...))
}

func setUp(ctx context.Context, opts options) (*chaos, error) {
	c := &chaos{opts: opts, start: time.Now(), ai: &aiFaults{}}
	dir, err := os.MkdirTemp("", "presswork-chaos-")
	if err != nil {
		return nil, err
	}
	c.dir = dir
	if err := os.Chmod(dir, 0o755); err != nil { // the postgres user enters it
		return c, err
	}
	c.logf("run folder %s", dir)

	bin := opts.binDir
	if bin == "" {
		bin = filepath.Join(dir, "bin")
		c.logf("building ./cmd/api ./cmd/worker ./cmd/scheduler ./cmd/presswork")
		out, err := exec.CommandContext(ctx, "go", "build", "-o", bin+"/", "./cmd/api", "./cmd/worker", "./cmd/scheduler", "./cmd/presswork").CombinedOutput()
		if err != nil {
			return c, fmt.Errorf("go build: %v\n%s", err, out)
		}
	}
	c.cli = filepath.Join(bin, "presswork")

	pgPort, err := freePort()
	if err != nil {
		return c, err
	}
	if c.pg, err = startPostgres(ctx, filepath.Join(dir, "pg"), pgPort); err != nil {
		return c, fmt.Errorf("PostgreSQL: %w", err)
	}
	c.logf("PostgreSQL 15 (own cluster, fsync on) on 127.0.0.1:%d", pgPort)
	redisPort, err := freePort()
	if err != nil {
		return c, err
	}
	if c.redis, err = startRedis(ctx, filepath.Join(dir, "redis"), redisPort); err != nil {
		return c, fmt.Errorf("Redis: %w", err)
	}
	c.logf("redis-server (own, no persistence) on 127.0.0.1:%d", redisPort)
	wpPort, err := freePort()
	if err != nil {
		return c, err
	}
	name := fmt.Sprintf("chaos%d", os.Getpid())
	if c.wp, err = startWordPress(ctx, name, wpPort); err != nil {
		return c, fmt.Errorf("WordPress: %w", err)
	}
	target, err := url.Parse(c.wp.url)
	if err != nil {
		return c, fmt.Errorf("WordPress URL: %w", err)
	}
	c.flaky = faultproxy.New(target, 9)
	c.front = httptest.NewServer(c.flaky)
	c.logf("WordPress %s behind the fault proxy %s", c.wp.url, c.front.URL)

	c.openai = fakeopenai.Start()
	c.openai.ForgetRequests()
	wr := &fakeopenai.Writer{SlugPrefix: "chaos-article-"}
	c.openai.SetContent(wr.Answer)
	c.openai.SetEmbeddings(embed)
	c.openai.SetFallback(c.ai.openAI(c.openai))
	c.repl = fakereplicate.Start()
	c.repl.SetFallback(c.ai.replicate)
	c.logf("fake OpenAI %s, fake Replicate %s", c.openai.URL, c.repl.URL)

	key := make([]byte, 32)
	_, _ = rand.Read(key)
	apiPort, err := freePort()
	if err != nil {
		return c, err
	}
	c.apiURL = fmt.Sprintf("http://127.0.0.1:%d", apiPort)
	c.env = []string{
		"SECRET_KEY=" + base64.StdEncoding.EncodeToString(key),
		"DATABASE_URL=" + c.pg.url(), "REDIS_URL=" + c.redis.url(),
		"API_ADDR=127.0.0.1:" + fmt.Sprint(apiPort),
		"LOG_FORMAT=text", "LOG_LEVEL=info",
		"WORKER_CONCURRENCY=8", "DATABASE_MAX_CONNS=20",
		"TASK_CHECK_INTERVAL=100ms", "RETRY_CHECK_INTERVAL=500ms",
		"RETRY_BASE_DELAY=1s", "RETRY_MAX_DELAY=8s",
		"RECONCILE_EVERY=5s", "RECONCILE_GRACE=20s",
		"SCHEDULER_TICK=500ms", "SCHEDULER_LEASE_TTL=3s",
		"SHUTDOWN_TIMEOUT=5s", "WORDPRESS_TIMEOUT=5s",
		"ALLOW_PRIVATE_URLS=true",
		"OPENAI_API_KEY=sk-chaos", "OPENAI_BASE_URL=" + c.openai.BaseURL(), "OPENAI_MODEL=gpt-4o-mini",
		"OPENAI_EMBEDDING_DIMENSIONS=256", "OPENAI_TIMEOUT=20s",
		"REPLICATE_API_TOKEN=" + fakereplicate.Token, "REPLICATE_BASE_URL=" + c.repl.URL,
		"REPLICATE_POLL_INTERVAL=300ms",
	}
	out, err := c.presswork(ctx, "migrate")
	if err != nil {
		return c, fmt.Errorf("presswork migrate: %v\n%s", err, out)
	}
	mk := func(name, binName string, extra ...string) *process {
		p := &process{name: name, bin: filepath.Join(bin, binName), env: append(append([]string(nil), c.env...), extra...),
			logPath: filepath.Join(dir, name+".log")}
		c.procs = append(c.procs, p)
		return p
	}
	c.api = mk("api", "api")
	c.api.readyURL = c.apiURL + "/readyz"
	for i := 1; i <= 2; i++ {
		port, err := freePort()
		if err != nil {
			return c, err
		}
		w := mk(fmt.Sprintf("worker-%d", i), "worker", fmt.Sprintf("ADMIN_ADDR=127.0.0.1:%d", port))
		w.readyURL = fmt.Sprintf("http://127.0.0.1:%d/readyz", port)
		c.workers = append(c.workers, w)
	}
	port, err := freePort()
	if err != nil {
		return c, err
	}
	c.sched = mk("scheduler", "scheduler", fmt.Sprintf("ADMIN_ADDR=127.0.0.1:%d", port))
	c.sched.readyURL = fmt.Sprintf("http://127.0.0.1:%d/readyz", port)
	for _, p := range c.procs {
		if err := p.start(); err != nil {
			return c, err
		}
	}
	if err := waitFor(ctx, 90*time.Second, "every process's /readyz", func() bool { return c.allReady(ctx) }); err != nil {
		return c, err
	}
	c.logf("api, worker-1, worker-2 and scheduler are ready (logs in %s)", dir)
	return c, nil
}

func (c *chaos) presswork(ctx context.Context, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, c.cli, args...)
	cmd.Env = append(os.Environ(), c.env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func (c *chaos) allReady(ctx context.Context) bool {
	for _, p := range c.procs {
		if !p.ready(ctx) {
			return false
		}
	}
	return true
}

// tearDown stops everything the run started, whatever state it is in.
func (c *chaos) tearDown() {
	for _, p := range c.procs {
		p.stop()
	}
	if c.front != nil {
		c.flaky.Close()
		c.front.Close()
	}
	if c.openai != nil {
		c.openai.Close()
	}
	if c.repl != nil {
		c.repl.Close()
	}
	if c.wp != nil {
		c.wp.down()
	}
	if c.redis != nil {
		_ = c.redis.shutdown(context.Background(), false)
	}
	if c.pg != nil {
		if err := c.pg.stop(context.Background(), "fast"); err != nil {
			fmt.Fprintln(os.Stderr, "chaos:", err)
		}
	}
	if c.dir != "" && !c.opts.keep {
		os.RemoveAll(c.dir)
	} else if c.dir != "" {
		fmt.Printf("kept the run's folder %s\n", c.dir)
	}
}

func (c *chaos) run(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 25*time.Minute)
	defer cancel()
	tenants := make([]*tenant, c.opts.tenants)
	for i := range tenants {
		t, err := c.newTenant(ctx, i)
		if err != nil {
			return err
		}
		tenants[i] = t
	}
	faultsDone, pipelinesDone := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(faultsDone)
		c.faults(ctx, pipelinesDone)
	}()
	var wg sync.WaitGroup
	errs := make([]error, len(tenants))
	for i, t := range tenants {
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case <-time.After(time.Duration(i) * 15 * time.Second):
			case <-ctx.Done():
			}
			errs[i] = t.pipeline(ctx)
		}()
	}
	wg.Wait()
	close(pipelinesDone)
	c.logf("every tenant's pipeline ended; waiting for the fault schedule to end")
	<-faultsDone
	if ctx.Err() != nil {
		return fmt.Errorf("interrupted: %w", ctx.Err())
	}
	if err := errors.Join(errs...); err != nil {
		c.logf("pipeline errors: %v", err)
	}
	c.logf("waiting for the queues to settle (no job queued or running)")
	_ = waitFor(ctx, 3*time.Minute, "no unfinished job", func() bool {
		n, err := c.pg.one(ctx, "SELECT count(*) FROM jobs WHERE state IN ('queued','running','blocked')")
		return err == nil && n == "0"
	})
	res, err := c.check(ctx, tenants)
	if err != nil {
		return err
	}
	c.report(res)
	if !res.ok() {
		return errors.New("a figure is wrong (see above)")
	}
	return errors.Join(errs...)
}

var draftMarkerRe = regexp.MustCompile(`presswork-draft-(\d+)`)

func trimLog(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}
