package faultproxy_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/presswork/presswork/internal/faultproxy"
)

// TestFailsTheShareEachWay: with share 0 every request reaches the site and
// its answer the client; with share 1 every request fails, and those that
// reach the site (a reply lost, a hang) are counted there.
func TestFailsTheShareEachWay(t *testing.T) {
	var reached atomic.Int64
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reached.Add(1)
		_, _ = io.WriteString(w, "ok")
	}))
	t.Cleanup(site.Close)
	target, _ := url.Parse(site.URL)
	p := faultproxy.New(target, 1)
	front := httptest.NewServer(p)
	t.Cleanup(func() { p.Close(); front.Close() })

	get := func() (int, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, front.URL, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, err
		}
		defer resp.Body.Close()
		return resp.StatusCode, nil
	}
	for range 5 {
		if status, err := get(); err != nil || status != http.StatusOK {
			t.Fatalf("share 0: %d, %v; want 200", status, err)
		}
	}
	p.SetShare(1)
	statuses := map[int]int{}
	for range 30 {
		status, err := get()
		if err != nil {
			status = -1 // the hang, past the client's timeout
		}
		statuses[status]++
	}
	if statuses[http.StatusOK] != 0 || statuses[http.StatusInternalServerError] == 0 || statuses[-1] == 0 {
		t.Errorf("share 1 answered %v; want 500s and hangs only", statuses)
	}
	if p.Requests() != 35 || p.Failures() != 30 {
		t.Errorf("counted %d requests and %d failures, want 35 and 30", p.Requests(), p.Failures())
	}
	// The hangs come after the site applied the request.
	if want := 5 + int64(statuses[-1]); reached.Load() < want {
		t.Errorf("the site saw %d requests, want at least %d", reached.Load(), want)
	}
}
