package testenv_test

import (
	"errors"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"

	"github.com/presswork/presswork/internal/testenv"
)

func TestClosedURLRefuses(t *testing.T) {
	u := testenv.ClosedURL(t)
	_, err := http.Get(u)
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("GET %s: %v, want connection refused", u, err)
	}
	// Nobody else can take the port while the test runs.
	if l, err := net.Listen("tcp", strings.TrimPrefix(u, "http://")); err == nil {
		l.Close()
		t.Fatalf("listen on %s succeeded: the port is not held", u)
	}
}
