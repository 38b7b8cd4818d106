// Package faultproxy is a reverse proxy that fails a share of the requests
// it forwards, the ways a remote site fails a client: a 500 before the site
// sees the request, a 500 after the site applied it (its reply is lost),
// and a hang, after the site applied it, until the client gives up. The
// publishing tests and the chaos run put it in front of WordPress.
package faultproxy

import (
	"io"
	"log"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync"
	"sync/atomic"
)

// Proxy forwards to one site and fails Share of the requests, a third each
// way. It is safe for concurrent use; Close releases the requests it holds.
type Proxy struct {
	proxy *httputil.ReverseProxy

	mu    sync.Mutex
	rnd   *rand.Rand
	share float64

	requests atomic.Int64
	failures atomic.Int64
	closing  sync.Once
	closed   chan struct{}
}

// New returns a proxy to target that fails no request until SetShare; seed
// makes the choice of requests repeatable.
func New(target *url.URL, seed uint64) *Proxy {
	proxy := httputil.NewSingleHostReverseProxy(target)
	// A client that gives up mid-request is expected here, not worth a log line.
	proxy.ErrorLog = log.New(io.Discard, "", 0)
	return &Proxy{proxy: proxy, rnd: rand.New(rand.NewPCG(seed, 30)), closed: make(chan struct{})}
}

// SetShare sets the share of requests that fail, from 0 to 1.
func (p *Proxy) SetShare(share float64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.share = share
}

// Requests and Failures count the requests forwarded so far and those of
// them that failed.
func (p *Proxy) Requests() int64 { return p.requests.Load() }
func (p *Proxy) Failures() int64 { return p.failures.Load() }

// Close releases the requests held in a hang.
func (p *Proxy) Close() { p.closing.Do(func() { close(p.closed) }) }

func (p *Proxy) roll() (fail bool, kind int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.rnd.Float64() < p.share, p.rnd.IntN(3)
}

func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.requests.Add(1)
	fail, kind := p.roll()
	if !fail {
		p.proxy.ServeHTTP(w, r)
		return
	}
	p.failures.Add(1)
	switch kind {
	case 0:
		_, _ = io.Copy(io.Discard, r.Body)
		http.Error(w, "fault proxy: failed before the site saw the request", http.StatusInternalServerError)
	case 1:
		p.proxy.ServeHTTP(httptest.NewRecorder(), r)
		http.Error(w, "fault proxy: the site's reply was lost", http.StatusInternalServerError)
	default:
		p.proxy.ServeHTTP(httptest.NewRecorder(), r)
		select { // until the client's timeout
		case <-r.Context().Done():
		case <-p.closed:
		}
	}
}
