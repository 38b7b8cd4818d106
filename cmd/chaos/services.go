package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// pgBin is where Debian installs PostgreSQL 15's server programs.
const pgBin = "/usr/lib/postgresql/15/bin"

// postgres is a PostgreSQL cluster of the run's own, in a temporary
// folder, run by the postgres OS user (the server refuses root).
type postgres struct {
	dir  string
	port int
}

// asPostgres runs a PostgreSQL program as the postgres user when we are
// root, as ourselves otherwise.
func asPostgres(ctx context.Context, prog string, args ...string) *exec.Cmd {
	path := filepath.Join(pgBin, prog)
	if os.Geteuid() == 0 {
		return exec.CommandContext(ctx, "runuser", append([]string{"-u", "postgres", "--", path}, args...)...)
	}
	return exec.CommandContext(ctx, path, args...)
}

func startPostgres(ctx context.Context, dir string, port int) (*postgres, error) {
	pg := &postgres{dir: dir, port: port}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	if os.Geteuid() == 0 {
		if out, err := exec.CommandContext(ctx, "chown", "postgres:postgres", dir).CombinedOutput(); err != nil {
			return nil, fmt.Errorf("chown %s: %v: %s", dir, err, out)
		}
	}
	if out, err := asPostgres(ctx, "initdb", "-D", dir, "-U", "postgres", "-A", "trust", "--no-sync").CombinedOutput(); err != nil {
		return nil, fmt.Errorf("initdb: %v: %s", err, out)
	}
	if err := pg.start(ctx); err != nil {
		return nil, err
	}
	if _, err := pg.psqlDB(ctx, "postgres", "CREATE DATABASE presswork"); err != nil {
		return nil, err
	}
	return pg, nil
}

func (pg *postgres) url() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/presswork?sslmode=disable", pg.port)
}

// start starts the server (fsync on, the default) and waits until it
// accepts connections.
func (pg *postgres) start(ctx context.Context) error {
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c max_connections=300 -c fsync=on", pg.port, pg.dir)
	out, err := asPostgres(ctx, "pg_ctl", "-D", pg.dir, "-l", filepath.Join(pg.dir, "server.log"), "-o", opts, "-w", "-t", "60", "start").CombinedOutput()
	if err != nil {
		return fmt.Errorf("pg_ctl start: %v: %s", err, out)
	}
	return nil
}

// stop stops the server; mode immediate is a crash (no checkpoint, every
// connection cut at once).
func (pg *postgres) stop(ctx context.Context, mode string) error {
	out, err := asPostgres(ctx, "pg_ctl", "-D", pg.dir, "-m", mode, "-w", "-t", "60", "stop").CombinedOutput()
	if err != nil {
		return fmt.Errorf("pg_ctl stop: %v: %s", err, out)
	}
	return nil
}

// psql runs SQL on the presswork database and returns the rows, one per
// line, columns separated by '|'. The driver reads PostgreSQL through psql
// so that only internal/store speaks to it from Go.
func (pg *postgres) psql(ctx context.Context, sql string) ([][]string, error) {
	out, err := pg.psqlDB(ctx, "presswork", sql)
	if err != nil {
		return nil, err
	}
	var rows [][]string
	for _, line := range strings.Split(strings.TrimRight(out, "\n"), "\n") {
		if line != "" {
			rows = append(rows, strings.Split(line, "|"))
		}
	}
	return rows, nil
}

func (pg *postgres) psqlDB(ctx context.Context, db, sql string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "psql", "-X", "-q", "-w", "-tA", "-F", "|", "-v", "ON_ERROR_STOP=1",
		"-h", "127.0.0.1", "-p", fmt.Sprint(pg.port), "-U", "postgres", "-d", db, "-c", sql)
	cmd.Env = append(os.Environ(), "PGCONNECT_TIMEOUT=3")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("psql %q: %v: %s", sql, err, strings.TrimSpace(stderr.String()))
	}
	return stdout.String(), nil
}

// one returns the single value of a query ("" when it has no row).
func (pg *postgres) one(ctx context.Context, sql string) (string, error) {
	rows, err := pg.psql(ctx, sql)
	if err != nil || len(rows) == 0 {
		return "", err
	}
	return rows[0][0], nil
}

// redisServer is a redis-server of the run's own, without persistence
// but for an explicit SHUTDOWN SAVE (the restart that keeps the data).
type redisServer struct {
	dir  string
	port int
	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
}

func startRedis(ctx context.Context, dir string, port int) (*redisServer, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	r := &redisServer{dir: dir, port: port}
	return r, r.start(ctx)
}

func (r *redisServer) url() string { return fmt.Sprintf("redis://127.0.0.1:%d/0", r.port) }

func (r *redisServer) start(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	log, err := os.OpenFile(filepath.Join(r.dir, "redis.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	cmd := exec.Command("redis-server", "--port", fmt.Sprint(r.port), "--bind", "127.0.0.1", "--save", "",
		"--appendonly", "no", "--dir", r.dir, "--daemonize", "no")
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		log.Close()
		return fmt.Errorf("start redis-server: %w", err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); log.Close(); close(done) }()
	r.cmd, r.done = cmd, done
	return waitFor(ctx, 30*time.Second, "redis-server to answer", func() bool {
		out, err := r.cli(ctx, "PING")
		return err == nil && out == "PONG"
	})
}

func (r *redisServer) cli(ctx context.Context, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "redis-cli", append([]string{"-p", fmt.Sprint(r.port)}, args...)...).CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

// shutdown stops the server, saving its data to dump.rdb first when save
// is true (the next start loads it).
func (r *redisServer) shutdown(ctx context.Context, save bool) error {
	how := "NOSAVE"
	if save {
		how = "SAVE"
	}
	_, _ = r.cli(ctx, "SHUTDOWN", how)
	r.mu.Lock()
	done := r.done
	r.mu.Unlock()
	select {
	case <-done:
		return nil
	case <-time.After(20 * time.Second):
		_ = r.cmd.Process.Kill()
		<-done
		return errors.New("redis-server did not stop on SHUTDOWN; killed")
	}
}

// wordpressSite is a local WordPress started with scripts/wordpress.sh.
type wordpressSite struct {
	name, url, user, appPassword string
}

func startWordPress(ctx context.Context, name string, port int) (*wordpressSite, error) {
	if out, err := exec.CommandContext(ctx, "bash", "scripts/wordpress.sh", "install").CombinedOutput(); err != nil {
		return nil, fmt.Errorf("scripts/wordpress.sh install (as root, or run make wordpress first): %v\n%s", err, out)
	}
	cmd := exec.CommandContext(ctx, "bash", "scripts/wordpress.sh", "up", name, fmt.Sprint(port))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("scripts/wordpress.sh up: %v\n%s", err, stderr.String())
	}
	wp := &wordpressSite{name: name}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		k, v, _ := strings.Cut(sc.Text(), "=")
		switch k {
		case "WP_URL":
			wp.url = v
		case "WP_USER":
			wp.user = v
		case "WP_APP_PASSWORD":
			wp.appPassword = v
		}
	}
	if wp.url == "" || wp.appPassword == "" {
		return nil, fmt.Errorf("scripts/wordpress.sh up printed no site: %s", out)
	}
	return wp, nil
}

func (wp *wordpressSite) down() {
	_ = exec.Command("bash", "scripts/wordpress.sh", "down", wp.name).Run()
}

// process is one of Presswork's binaries, supervised: an exit the driver
// did not cause is recorded (a crash) and the process is started again,
// as an orchestrator would.
type process struct {
	name, bin string
	env       []string
	logPath   string
	readyURL  string

	mu      sync.Mutex
	cmd     *exec.Cmd
	done    chan struct{}
	killing bool
	crashes []string
	stopped bool
	starts  int
}

func (p *process) start() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopped {
		return nil
	}
	log, err := os.OpenFile(p.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	fmt.Fprintf(log, "----- chaos: start %d of %s at %s\n", p.starts+1, p.name, time.Now().Format(time.RFC3339Nano))
	cmd := exec.Command(p.bin)
	cmd.Env = append(os.Environ(), p.env...)
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		log.Close()
		return fmt.Errorf("start %s: %w", p.name, err)
	}
	p.starts++
	done := make(chan struct{})
	p.cmd, p.done, p.killing = cmd, done, false
	go func() {
		err := cmd.Wait()
		log.Close()
		close(done)
		p.mu.Lock()
		crashed := !p.killing && !p.stopped
		if crashed {
			p.crashes = append(p.crashes, fmt.Sprintf("%s exited by itself at %s: %v", p.name, time.Now().Format(time.TimeOnly), err))
		}
		p.mu.Unlock()
		if crashed {
			time.Sleep(time.Second)
			_ = p.start()
		}
	}()
	return nil
}

// kill sends SIGKILL and waits for the process to die.
func (p *process) kill() {
	p.mu.Lock()
	cmd, done := p.cmd, p.done
	p.killing = true
	p.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Kill()
	<-done
}

// signal sends sig to the process, if it runs.
func (p *process) signal(sig syscall.Signal) {
	p.mu.Lock()
	cmd := p.cmd
	p.mu.Unlock()
	if cmd != nil {
		_ = cmd.Process.Signal(sig)
	}
}

// stop ends the process for good with SIGTERM (SIGKILL after 30 s).
func (p *process) stop() {
	p.mu.Lock()
	p.stopped = true
	cmd, done := p.cmd, p.done
	p.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		<-done
	}
}

func (p *process) crashList() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.crashes...)
}

// ready says whether the process's /readyz answers 200.
func (p *process) ready(ctx context.Context) bool {
	if p.readyURL == "" {
		return true
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.readyURL, nil)
	if err != nil {
		return false
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// freePort asks the kernel for a free loopback port.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// waitFor polls cond every 200 ms until it holds, for at most d.
func waitFor(ctx context.Context, d time.Duration, what string, cond func() bool) error {
	deadline := time.Now().Add(d)
	for {
		if cond() {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("timed out after %v waiting for %s", d, what)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}
