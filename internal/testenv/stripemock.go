package testenv

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// StripeMockVersion is the stripe-mock that scripts/services.sh installs
// (go install github.com/stripe/stripe-mock@StripeMockVersion).
const StripeMockVersion = "v0.203.0"

// stripeMockBinary finds stripe-mock: STRIPE_MOCK_BIN, then PATH, then
// Go's bin directories.
func stripeMockBinary() (string, error) {
	if p := os.Getenv("STRIPE_MOCK_BIN"); p != "" {
		return p, nil
	}
	if p, err := exec.LookPath("stripe-mock"); err == nil {
		return p, nil
	}
	var dirs []string
	if gobin := os.Getenv("GOBIN"); gobin != "" {
		dirs = append(dirs, gobin)
	}
	if gopath := os.Getenv("GOPATH"); gopath != "" {
		dirs = append(dirs, filepath.Join(strings.Split(gopath, string(os.PathListSeparator))[0], "bin"))
	}
	if home, err := os.UserHomeDir(); err == nil {
		dirs = append(dirs, filepath.Join(home, "go", "bin"))
	}
	for _, d := range dirs {
		p := filepath.Join(d, "stripe-mock")
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p, nil
		}
	}
	return "", fmt.Errorf("stripe-mock is not installed (go install github.com/stripe/stripe-mock@%s)", StripeMockVersion)
}

var stripeMockListening = regexp.MustCompile(`Listening for HTTP at address: (\S+)`)

// StripeMock starts Stripe's own mock server (stripe-mock) for the test on
// a port of its own and returns its base URL (http://127.0.0.1:port); it
// stops when the test ends. stripe-mock keeps no state, so it isolates
// nothing and needs nothing isolated. Without the binary the test is
// skipped, or fails under CI=true.
func StripeMock(t testing.TB) string {
	t.Helper()
	bin, err := stripeMockBinary()
	if err != nil {
		absent(t, "stripe-mock", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "-http-addr", "127.0.0.1:")
	out, err := cmd.StdoutPipe()
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		cancel()
		absent(t, "stripe-mock", err)
	}
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait()
	})
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		sent := false
		for sc.Scan() { // read to the end, so that stripe-mock never blocks on a full pipe
			if m := stripeMockListening.FindStringSubmatch(sc.Text()); m != nil && !sent {
				addr <- m[1]
				sent = true
			}
		}
		close(addr)
	}()
	select {
	case a, ok := <-addr:
		if !ok {
			t.Fatalf("stripe-mock (%s) exited before it listened", bin)
		}
		return "http://" + a
	case <-time.After(30 * time.Second):
		t.Fatalf("stripe-mock (%s) did not listen within 30 s", bin)
	}
	return ""
}
