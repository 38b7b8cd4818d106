package wordpress_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/presswork/presswork/internal/errs"
	"github.com/presswork/presswork/internal/wordpress"
	"github.com/presswork/presswork/internal/wordpress/fakewp"
)

// creds are the fake's credentials for site.
func creds(site string) wordpress.Credentials {
	return wordpress.Credentials{URL: site, User: fakewp.User, AppPassword: fakewp.Password}
}

// newClient starts a fake site and a client of it (style discovered). When
// the test ends it checks that every request carried the Basic credentials
// and no Idempotency-Key header.
func newClient(t *testing.T, cfg fakewp.Config) (*fakewp.Server, *wordpress.Client) {
	t.Helper()
	srv := fakewp.New(t, cfg)
	t.Cleanup(func() { checkHeaders(t, srv) })
	return srv, wordpress.New(srv.Client(), creds(srv.SiteURL()), "")
}

// checkHeaders fails the test for a request without the Authorization
// header or with an idempotency key (which makes Go replay POSTs).
func checkHeaders(t *testing.T, srv *fakewp.Server) {
	t.Helper()
	for _, r := range srv.Requests() {
		if got := r.Header.Get("Authorization"); got != fakewp.AuthHeader {
			t.Errorf("%s %s: Authorization = %q, want the Basic credentials", r.Method, r.Route, got)
		}
		for _, h := range []string{"Idempotency-Key", "X-Idempotency-Key"} {
			if _, ok := r.Header[http.CanonicalHeaderKey(h)]; ok {
				t.Errorf("%s %s: sent %s; Go would replay the request on a dropped connection", r.Method, r.Route, h)
			}
		}
	}
}

// isRetryable reports an error that is neither permanent nor throttled.
func isRetryable(err error) bool {
	var te *errs.ThrottledError
	return err != nil && !errs.IsPermanent(err) && !errors.As(err, &te)
}

// noSecrets fails the test when err's message shows the password or the
// Authorization token.
func noSecrets(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	token := base64.StdEncoding.EncodeToString([]byte(fakewp.User + ":" + fakewp.Password))
	for _, s := range []string{fakewp.Password, strings.ReplaceAll(fakewp.Password, " ", ""), token} {
		if strings.Contains(err.Error(), s) {
			t.Errorf("error shows a secret: %v", err)
		}
	}
}

func TestDiscoverFindsTheStyle(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		cfg       fakewp.Config
		want      wordpress.Style
		wantRoute string // the request URL path of a GetPost after discovery
	}{
		{"pretty permalinks", fakewp.Config{}, wordpress.StylePretty, "/wp-json/wp/v2/posts/"},
		{"plain permalinks: /wp-json/ is a 404 page", fakewp.Config{Plain: true}, wordpress.StyleQuery, "/index.php"},
		{"plain permalinks: /wp-json/ is the home page", fakewp.Config{Plain: true, PlainHome: true}, wordpress.StyleQuery, "/index.php"},
		{"site below a path", fakewp.Config{Prefix: "/blog"}, wordpress.StylePretty, "/blog/wp-json/wp/v2/posts/"},
		{"plain site below a path", fakewp.Config{Prefix: "/blog", Plain: true}, wordpress.StyleQuery, "/blog/index.php"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, c := newClient(t, tt.cfg)
			if got := c.Style(); got != "" {
				t.Fatalf("Style before discovery = %q, want empty", got)
			}
			got, err := c.Discover(context.Background())
			if err != nil {
				t.Fatalf("Discover: %v", err)
			}
			if got != tt.want || c.Style() != tt.want {
				t.Errorf("Discover = %q, Style = %q; want %q", got, c.Style(), tt.want)
			}
			p, err := c.CreatePost(context.Background(), wordpress.PostInput{Title: "Hello", Slug: "hello"})
			if err != nil {
				t.Fatalf("CreatePost: %v", err)
			}
			if _, err := c.GetPost(context.Background(), p.ID); err != nil {
				t.Fatalf("GetPost: %v", err)
			}
			last := srv.Requests()[len(srv.Requests())-1]
			if last.Route != fmt.Sprintf("/wp/v2/posts/%d", p.ID) || last.Query.Get("context") != "edit" {
				t.Errorf("GetPost sent route %q query %v, want /wp/v2/posts/%d with context=edit", last.Route, last.Query, p.ID)
			}
			if wantStyle := map[wordpress.Style]string{wordpress.StylePretty: "pretty", wordpress.StyleQuery: "query"}[tt.want]; last.Style != wantStyle {
				t.Errorf("GetPost used style %q, want %q", last.Style, wantStyle)
			}
		})
	}
}

func TestTrailingSlashAndGivenStyle(t *testing.T) {
	t.Parallel()
	srv := fakewp.New(t, fakewp.Config{Prefix: "/blog", Plain: true})
	c := wordpress.New(srv.Client(), creds(srv.SiteURL()+"/"), wordpress.StyleQuery)
	if _, err := c.GetPost(context.Background(), 99); !errors.Is(err, errs.ErrNotFound) {
		t.Fatalf("GetPost(99) = %v, want ErrNotFound", err)
	}
	reqs := srv.Requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests, want 1 (no discovery with a given style)", len(reqs))
	}
	if reqs[0].Route != "/wp/v2/posts/99" || reqs[0].Style != "query" || reqs[0].Query.Get("context") != "edit" {
		t.Errorf("request = %+v", reqs[0])
	}
	checkHeaders(t, srv)
}

func TestDiscoverWhenNotWordPress(t *testing.T) {
	t.Parallel()
	srv := fakewp.New(t, fakewp.Config{Prefix: "/blog"})
	c := wordpress.New(srv.Client(), creds(srv.URL+"/elsewhere"), "")
	_, err := c.Discover(context.Background())
	if !errs.IsPermanent(err) || !strings.Contains(err.Error(), "no WordPress REST API") {
		t.Fatalf("Discover = %v, want a permanent 'no WordPress REST API' error", err)
	}
}

func TestDiscoverUnreachableIsRetryable(t *testing.T) {
	t.Parallel()
	srv := fakewp.New(t, fakewp.Config{})
	url := srv.SiteURL()
	srv.Close()
	c := wordpress.New(srv.Client(), creds(url), "")
	_, err := c.Discover(context.Background())
	if !isRetryable(err) {
		t.Fatalf("Discover on a closed server = %v, want a retryable error", err)
	}
	noSecrets(t, err)
}

func TestInvalidCredentialsArePermanent(t *testing.T) {
	t.Parallel()
	for _, cr := range []wordpress.Credentials{
		{URL: "ftp://example.com", User: "u", AppPassword: "p"},
		{URL: "https://example.com/?p=1", User: "u", AppPassword: "p"},
		{URL: "https://example.com", User: "", AppPassword: "p"},
		{URL: "https://example.com", User: "u", AppPassword: ""},
	} {
		c := wordpress.New(nil, cr, "")
		if _, err := c.GetPost(context.Background(), 1); !errs.IsPermanent(err) {
			t.Errorf("GetPost with %v = %v, want a permanent error", cr, err)
		}
		if cr.Validate() == nil {
			t.Errorf("Validate(%v) = nil, want an error", cr)
		}
	}
}

func TestCredentialsNeverShowThePassword(t *testing.T) {
	t.Parallel()
	cr := wordpress.Credentials{URL: "https://example.com", User: "editor", AppPassword: fakewp.Password}
	c := wordpress.New(nil, cr, "")
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("site", "creds", cr, "client", c)
	outputs := []string{
		cr.String(), fmt.Sprintf("%v", cr), fmt.Sprintf("%+v", cr), fmt.Sprintf("%#v", cr),
		fmt.Sprintf("%v", c), fmt.Sprintf("%+v", c), fmt.Sprintf("%#v", c), logged.String(),
	}
	for _, out := range outputs {
		if strings.Contains(out, fakewp.Password) || strings.Contains(out, strings.ReplaceAll(fakewp.Password, " ", "")) {
			t.Errorf("output shows the password: %s", out)
		}
	}
	if !strings.Contains(logged.String(), `"user":"editor"`) {
		t.Errorf("log lacks the user: %s", logged.String())
	}
}
