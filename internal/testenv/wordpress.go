package testenv

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
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// WPOptions chooses how a test WordPress is set up.
type WPOptions struct {
	// Pretty selects /%postname%/ permalinks, so the REST API answers under
	// /wp-json/. Without it the site has plain permalinks: REST only at
	// /index.php?rest_route=/..., and /wp-json/ answers 404.
	Pretty bool
	// SEO is "", "yoast" or "rankmath": a must-use plugin then exposes
	// that SEO plugin's post meta keys over REST (the plugin itself is not
	// installed).
	SEO string
	// NoScripts sets DISALLOW_UNFILTERED_HTML: WordPress removes <script>
	// elements from every post, as on sites whose users may not post
	// unfiltered HTML.
	NoScripts bool
}

// WordPressSite is a running test WordPress.
type WordPressSite struct {
	URL         string // http://127.0.0.1:PORT, no trailing slash
	User        string // an administrator's login
	AppPassword string // an Application Password of User, for Basic auth
	Name        string // site name given to scripts/wordpress.sh (database wp_NAME)
}

const (
	wpSource      = "/usr/share/wordpress/wp-settings.php"
	wpUpTimeout   = 2 * time.Minute
	wpDownTimeout = time.Minute
	wpReadyWait   = 15 * time.Second
	wpUpAttempts  = 3 // a freshly picked free port can be taken before php binds it
)

// WordPress starts an isolated WordPress for the test (scripts/wordpress.sh
// up) and stops it when the test ends (down). It skips the test when
// WordPress is not installed (/usr/share/wordpress missing or php missing),
// or fails it under CI=true.
func WordPress(t testing.TB, o WPOptions) WordPressSite {
	t.Helper()
	switch o.SEO {
	case "", "yoast", "rankmath":
	default:
		t.Fatalf("testenv.WordPress: unknown SEO %q (want \"\", \"yoast\" or \"rankmath\")", o.SEO)
	}
	if _, err := os.Stat(wpSource); err != nil {
		wpAbsent(t, "WordPress (/usr/share/wordpress)", err)
	}
	if _, err := exec.LookPath("php"); err != nil {
		wpAbsent(t, "php (php-cli)", err)
	}
	dbAddr := net.JoinHostPort(env("PRESSWORK_WP_DB_HOST", "127.0.0.1"), env("PRESSWORK_WP_DB_PORT", "3306"))
	if c, err := net.DialTimeout("tcp", dbAddr, 2*time.Second); err != nil {
		wpAbsent(t, "MariaDB for WordPress ("+dbAddr+")", err)
	} else {
		c.Close()
	}
	root, err := moduleRoot()
	if err != nil {
		t.Fatalf("testenv.WordPress: %v", err)
	}
	script := filepath.Join(root, "scripts", "wordpress.sh")

	name := siteName(t.Name())
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), wpDownTimeout)
		defer cancel()
		if out, err := runScript(ctx, script, "down", name); err != nil {
			t.Errorf("scripts/wordpress.sh down %s: %v\n%s", name, err, out)
		}
	})

	var site WordPressSite
	for attempt := 1; ; attempt++ {
		port, err := freePort()
		if err != nil {
			t.Fatalf("testenv.WordPress: pick a port: %v", err)
		}
		args := []string{"up", name, strconv.Itoa(port)}
		if o.Pretty {
			args = append(args, "--pretty")
		}
		if o.SEO != "" {
			args = append(args, "--seo", o.SEO)
		}
		if o.NoScripts {
			args = append(args, "--no-scripts")
		}
		ctx, cancel := context.WithTimeout(context.Background(), wpUpTimeout)
		stdout, stderr, err := runScriptSplit(ctx, script, args...)
		cancel()
		if err != nil {
			if attempt < wpUpAttempts && strings.Contains(stderr, "in use") {
				continue
			}
			t.Fatalf("scripts/wordpress.sh %s: %v\n%s", strings.Join(args, " "), err, stderr)
		}
		site, err = parseSite(stdout)
		if err != nil {
			t.Fatalf("scripts/wordpress.sh %s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), err, stdout, stderr)
		}
		site.Name = name
		break
	}
	if err := waitReady(site.URL, wpReadyWait); err != nil {
		t.Fatalf("testenv.WordPress: site %s (%s): %v", name, site.URL, err)
	}
	return site
}

// wpAbsent skips the test, or fails it in CI where WordPress must be there.
func wpAbsent(t testing.TB, what string, err error) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is required under CI=true: %v", what, err)
	}
	t.Skipf("%s is not available (%v); install it with: sudo bash scripts/wordpress.sh install", what, err)
}

// moduleRoot walks up from the working directory to the folder holding
// go.mod.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("go.mod not found above the working directory")
		}
		dir = parent
	}
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

var nonSiteChars = regexp.MustCompile(`[^a-z0-9]+`)

// siteName is a short unique site name ([a-z0-9_]) that hints at the test,
// so a left-over folder or database tells whose it was.
func siteName(testName string) string {
	hint := strings.Trim(nonSiteChars.ReplaceAllString(strings.ToLower(testName), "_"), "_")
	if len(hint) > 16 { // keep the end: the subtest's name
		hint = strings.TrimLeft(hint[len(hint)-16:], "_")
	}
	if hint == "" {
		hint = "t"
	}
	return hint + "_" + randomHex(4)
}

func runScript(ctx context.Context, script string, args ...string) (string, error) {
	stdout, stderr, err := runScriptSplit(ctx, script, args...)
	return stdout + stderr, err
}

func runScriptSplit(ctx context.Context, script string, args ...string) (string, string, error) {
	cmd := exec.CommandContext(ctx, "bash", append([]string{script}, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	// Should a child ever keep our pipes open, do not wait forever.
	cmd.WaitDelay = 10 * time.Second
	err := cmd.Run()
	if ctx.Err() != nil {
		err = fmt.Errorf("%w (%v)", err, ctx.Err())
	}
	return stdout.String(), stderr.String(), err
}

// parseSite reads the WP_URL, WP_USER and WP_APP_PASSWORD lines of `up`.
func parseSite(out string) (WordPressSite, error) {
	var s WordPressSite
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		key, value, ok := strings.Cut(sc.Text(), "=")
		if !ok {
			continue
		}
		switch key {
		case "WP_URL":
			s.URL = strings.TrimRight(value, "/")
		case "WP_USER":
			s.User = value
		case "WP_APP_PASSWORD":
			s.AppPassword = value
		}
	}
	if s.URL == "" || s.User == "" || s.AppPassword == "" {
		return s, errors.New("missing WP_URL, WP_USER or WP_APP_PASSWORD line")
	}
	return s, nil
}

// waitReady polls the REST index until it answers 200, within limit. The
// script already waited for the site; this makes sure it answers us too.
func waitReady(siteURL string, limit time.Duration) error {
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.NewTimer(limit)
	defer deadline.Stop()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	var last error
	for {
		resp, err := client.Get(siteURL + "/index.php?rest_route=/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("GET REST index: %s", resp.Status)
		}
		last = err
		select {
		case <-deadline.C:
			return fmt.Errorf("not ready within %v: %w", limit, last)
		case <-tick.C:
		}
	}
}
