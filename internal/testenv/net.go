package testenv

import (
	"fmt"
	"testing"
)

// ClosedURL returns an http:// address on loopback where nothing listens:
// the port was free a moment ago, so a request to it is refused.
func ClosedURL(t testing.TB) string {
	t.Helper()
	port, err := freePort()
	if err != nil {
		t.Fatalf("find a free port: %v", err)
	}
	return fmt.Sprintf("http://127.0.0.1:%d", port)
}
