package e2e_test

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/presswork/presswork/internal/app/apptest"
	"github.com/presswork/presswork/internal/app/schedulerapp"
)

// walkthroughSection is the README section whose marked shell blocks
// TestREADMEWalkthrough runs; walkthroughMarker precedes each of them.
const (
	walkthroughSection = "## After `make run`"
	walkthroughMarker  = "<!-- walkthrough -->"
)

// TestREADMEWalkthrough runs the shell blocks of README.md's walkthrough as
// written, in one bash -euo pipefail, from a folder laid out like the
// repository (bin/presswork built from this tree, scripts/, testdata/ and a
// .presswork.env naming the test's databases), against a running API,
// worker and scheduler (PW) and a WordPress the blocks start with
// scripts/wordpress.sh (WP_SITE, WP_PORT). It fails when a command fails or
// when the post's WordPress link is not in the output, and logs the
// output (go test -v -run TestREADMEWalkthrough ./internal/e2e/).
func TestREADMEWalkthrough(t *testing.T) {
	t.Parallel()
	root := moduleRootDir(t)
	blocks := walkthroughBlocks(t, filepath.Join(root, "README.md"))
	requireWalkthroughTools(t)

	h := apptest.Start(t)
	h.StartWorker(t)
	runUntilCleanup(t, "scheduler", func(ctx context.Context) error { return schedulerapp.Run(ctx, h.App) })

	dir := walkthroughFolder(t, root, h.Env)
	site := "walkthrough_" + randomName(t)
	port := loopbackPort(t)
	t.Cleanup(func() {
		out, err := exec.Command("bash", filepath.Join(root, "scripts", "wordpress.sh"), "down", site).CombinedOutput()
		if err != nil {
			t.Errorf("scripts/wordpress.sh down %s: %v\n%s", site, err, out)
		}
	})

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-euo", "pipefail", "-c", walkthroughScript(blocks))
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "PW="+h.URL, "WP_SITE="+site, "WP_PORT="+strconv.Itoa(port))
	start := time.Now()
	out, err := cmd.CombinedOutput()
	t.Logf("the walkthrough's output (%.1fs):\n%s", time.Since(start).Seconds(), out)
	if err != nil {
		t.Fatalf("the walkthrough failed: %v", err)
	}
	link := regexp.MustCompile(`"wp_link": "(http://127\.0\.0\.1:` + strconv.Itoa(port) + `/[^"]+)"`).FindSubmatch(out)
	if link == nil {
		t.Fatalf("the walkthrough's output shows no link of a post on the WordPress at port %d", port)
	}
	for _, want := range []string{"<title>", `"balance":`, `"credits_charged":`} {
		if !strings.Contains(string(out), want) {
			t.Errorf("the walkthrough's output lacks %s", want)
		}
	}
}

// walkthroughBlocks reads the marked ```sh blocks of the walkthrough
// section. Every sh block there must be marked, so none is left untested.
func walkthroughBlocks(t *testing.T, readme string) []string {
	t.Helper()
	f, err := os.Open(readme)
	apptest.Must(t, err, "open README.md")
	defer f.Close()
	var blocks []string
	var block []string
	in, marked, inBlock := false, false, false
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		switch {
		case line == walkthroughSection:
			in = true
		case !in:
		case inBlock && line == "```":
			blocks, block, inBlock = append(blocks, strings.Join(block, "\n")), nil, false
		case inBlock:
			block = append(block, line)
		case strings.HasPrefix(line, "## ") || strings.HasPrefix(line, "### "):
			in = false
		case line == walkthroughMarker:
			marked = true
		case line == "```sh":
			if !marked {
				t.Fatalf("README.md:%d: a sh block of %q without %s before it", n, walkthroughSection, walkthroughMarker)
			}
			inBlock, marked = true, false
		}
	}
	apptest.Must(t, sc.Err(), "read README.md")
	if len(blocks) < 5 {
		t.Fatalf("README.md: %d marked sh blocks in %q, want the whole walkthrough", len(blocks), walkthroughSection)
	}
	return blocks
}

// walkthroughScript joins the blocks, each shown before it runs.
func walkthroughScript(blocks []string) string {
	var b strings.Builder
	for i, block := range blocks {
		fmt.Fprintf(&b, "cat <<'WALKTHROUGH_BLOCK_%d'\n", i)
		for _, line := range strings.Split(block, "\n") {
			fmt.Fprintf(&b, "$ %s\n", line)
		}
		fmt.Fprintf(&b, "WALKTHROUGH_BLOCK_%d\n%s\n", i, block)
	}
	return b.String()
}

// walkthroughFolder lays out a folder as the walkthrough expects the
// repository: bin/presswork (built from this tree, with -race when the test
// is), scripts/ and testdata/, and .presswork.env naming the test's
// databases and secret key.
func walkthroughFolder(t *testing.T, root string, env map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	args := []string{"build", "-o", filepath.Join(dir, "bin", "presswork")}
	if raceBuild() {
		args = append(args, "-race")
	}
	build := exec.Command("go", append(args, "./cmd/presswork")...)
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	for _, d := range []string{"scripts", "testdata"} {
		apptest.Must(t, os.Symlink(filepath.Join(root, d), filepath.Join(dir, d)), "link ", d)
	}
	var file strings.Builder
	for _, k := range []string{"DATABASE_URL", "REDIS_URL", "SECRET_KEY"} {
		fmt.Fprintf(&file, "%s=%s\n", k, env[k])
	}
	apptest.Must(t, os.WriteFile(filepath.Join(dir, ".presswork.env"), []byte(file.String()), 0o600), "write .presswork.env")
	return dir
}

// requireWalkthroughTools skips the test when what the walkthrough needs
// besides the system is missing (WordPress, php, MariaDB, jq, curl), or
// fails it under CI=true, where .ci/run installs all of it.
func requireWalkthroughTools(t *testing.T) {
	t.Helper()
	var missing []string
	if _, err := os.Stat("/usr/share/wordpress/wp-settings.php"); err != nil {
		missing = append(missing, "WordPress (/usr/share/wordpress)")
	}
	for _, tool := range []string{"php", "jq", "curl"} {
		if _, err := exec.LookPath(tool); err != nil {
			missing = append(missing, tool)
		}
	}
	if c, err := net.DialTimeout("tcp", "127.0.0.1:3306", 2*time.Second); err != nil {
		missing = append(missing, "MariaDB on 127.0.0.1:3306")
	} else {
		c.Close()
	}
	switch {
	case len(missing) == 0:
	case os.Getenv("CI") == "true":
		t.Fatalf("the README walkthrough needs %s (CI=true)", strings.Join(missing, ", "))
	default:
		t.Skipf("the README walkthrough needs %s: as root run bash scripts/wordpress.sh install and bash scripts/services.sh",
			strings.Join(missing, ", "))
	}
}

// moduleRootDir is the repository's folder: go test runs a test in its
// package's folder, two below it.
func moduleRootDir(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	apptest.Must(t, err, "working directory")
	root := filepath.Join(dir, "..", "..")
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("no go.mod two folders above %s: %v", dir, err)
	}
	return root
}

// raceBuild reports whether the test binary was built with -race, so that
// bin/presswork reuses the packages it compiled.
func raceBuild() bool {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return false
	}
	for _, s := range info.Settings {
		if s.Key == "-race" {
			return s.Value == "true"
		}
	}
	return false
}

// loopbackPort is a loopback TCP port that was free a moment ago.
func loopbackPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	apptest.Must(t, err, "pick a port")
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func randomName(t *testing.T) string {
	t.Helper()
	b := make([]byte, 4)
	_, err := rand.Read(b)
	apptest.Must(t, err, "random name")
	return hex.EncodeToString(b)
}
