package wordpress_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptrace"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/presswork/presswork/internal/errs"
	"github.com/presswork/presswork/internal/wordpress"
	"github.com/presswork/presswork/internal/wordpress/fakewp"
)

func TestErrorAnswers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		fault  fakewp.Fault
		check  func(t *testing.T, err error)
		inText string // the error message contains it
	}{
		{
			name:  "401 wrong password",
			fault: fakewp.Fault{Status: 401, Body: `{"code":"incorrect_password","message":"<strong>Error:</strong> The provided password is an invalid application password.","data":{"status":401}}`},
			check: func(t *testing.T, err error) {
				var ae *wordpress.AuthError
				if !errors.As(err, &ae) || ae.Status != 401 || ae.Code != "incorrect_password" || ae.Anonymous() {
					t.Errorf("err = %#v, want a non-anonymous 401 *AuthError", err)
				}
			},
			inText: "refused the user name or application password (HTTP 401 Unauthorized incorrect_password: Error: The provided password",
		},
		{
			name:  "401 anonymous",
			fault: fakewp.Fault{Status: 401, Body: `{"code":"rest_cannot_create","message":"Sorry, you are not allowed to create posts as this user.","data":{"status":401}}`},
			check: func(t *testing.T, err error) {
				var ae *wordpress.AuthError
				if !errors.As(err, &ae) || !ae.Anonymous() {
					t.Errorf("err = %#v, want an anonymous *AuthError", err)
				}
			},
			inText: "HTTPS",
		},
		{
			name:  "403",
			fault: fakewp.Fault{Status: 403, Body: `{"code":"rest_cannot_publish","message":"Sorry, you are not allowed to publish posts in this post type.","data":{"status":403}}`},
			check: func(t *testing.T, err error) {
				var ae *wordpress.AuthError
				if !errors.As(err, &ae) || ae.Status != 403 || ae.Code != "rest_cannot_publish" {
					t.Errorf("err = %#v, want a 403 *AuthError", err)
				}
			},
			inText: "not allowed",
		},
		{
			name:  "400 invalid param",
			fault: fakewp.Fault{Status: 400, Body: `{"code":"rest_invalid_param","message":"Invalid parameter(s): content","data":{"status":400,"params":{"content":"Invalid parameter."},"details":{}}}`},
			check: func(t *testing.T, err error) {
				var fe *wordpress.FieldError
				if !errors.As(err, &fe) {
					t.Fatalf("err = %#v, want *FieldError", err)
				}
				if diff := cmp.Diff(map[string]string{"content": "Invalid parameter."}, fe.Params); diff != "" {
					t.Errorf("Params (-want +got):\n%s", diff)
				}
			},
			inText: "WordPress refused the post: content: Invalid parameter. (rest_invalid_param)",
		},
		{
			name:  "404",
			fault: fakewp.Fault{Status: 404, Body: `{"code":"rest_no_route","message":"No route was found matching the URL and request method.","data":{"status":404}}`},
			check: func(t *testing.T, err error) {
				var se *wordpress.StatusError
				if !errors.Is(err, errs.ErrNotFound) || !errors.As(err, &se) || se.Code != "rest_no_route" {
					t.Errorf("err = %#v, want ErrNotFound with code rest_no_route", err)
				}
			},
			inText: "rest_no_route",
		},
		{
			name:  "429",
			fault: fakewp.Fault{Status: 429, Header: map[string]string{"Retry-After": "7"}, Body: `{"code":"too_many","message":"Slow down","data":{"status":429}}`},
			check: func(t *testing.T, err error) {
				var te *errs.ThrottledError
				if !errors.As(err, &te) || te.RetryAfter != 7*time.Second {
					t.Errorf("err = %#v, want *errs.ThrottledError after 7s", err)
				}
			},
			inText: "429",
		},
		{
			name:   "500 with an HTML page",
			fault:  fakewp.Fault{Status: 500, Body: "<html><body><h1>There has been a critical error on this website.</h1>" + strings.Repeat("x", 1000) + "</body></html>"},
			check:  retryable,
			inText: "critical error",
		},
		{
			name:   "502",
			fault:  fakewp.Fault{Status: 502, Body: "bad gateway"},
			check:  retryable,
			inText: "HTTP 502",
		},
		{
			name:   "invalid JSON in a 200",
			fault:  fakewp.Fault{Status: 200, Body: "<br />\n<b>Warning</b>: something in <b>/var/www/wp-includes/x.php</b>" + strings.Repeat("y", 1000)},
			check:  retryable,
			inText: "not the JSON expected",
		},
		{
			name:   "reply cut off",
			fault:  fakewp.Fault{CutOff: true},
			check:  retryable,
			inText: "WordPress accepted the request, so it was probably applied",
		},
		{
			name:   "connection dropped",
			fault:  fakewp.Fault{Drop: true},
			check:  retryable,
			inText: "may or may not have applied the request",
		},
		{
			name:   "a body echoing the credentials",
			fault:  fakewp.Fault{Status: 500, Body: "debug: password=" + fakewp.Password + " auth=" + fakewp.AuthHeader},
			check:  retryable,
			inText: "[redacted]",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, c := newClient(t, fakewp.Config{})
			srv.Inject(http.MethodPost, "/wp/v2/posts", tt.fault)
			_, err := c.CreatePost(context.Background(), wordpress.PostInput{Title: "T", Content: "C", Slug: "t"})
			if err == nil {
				t.Fatal("CreatePost succeeded, want an error")
			}
			t.Logf("error: %v", err)
			tt.check(t, err)
			if !strings.Contains(err.Error(), tt.inText) {
				t.Errorf("error %q does not contain %q", err, tt.inText)
			}
			if len(err.Error()) > 600 {
				t.Errorf("error is %d bytes long: %q", len(err.Error()), err)
			}
			noSecrets(t, err)
			if n := srv.Count(http.MethodPost, "/wp/v2/posts"); n != 1 {
				t.Errorf("the server saw %d POSTs, want 1", n)
			}
		})
	}
}

func retryable(t *testing.T, err error) {
	t.Helper()
	if !isRetryable(err) {
		t.Errorf("err = %v, want a retryable error", err)
	}
}

func TestAuthAndFieldErrorsArePermanent(t *testing.T) {
	t.Parallel()
	for _, err := range []error{
		&wordpress.AuthError{Status: 401}, &wordpress.AuthError{Status: 403}, &wordpress.FieldError{Code: "rest_invalid_param"},
	} {
		if !errors.Is(err, errs.ErrPermanent) {
			t.Errorf("errors.Is(%T, ErrPermanent) = false", err)
		}
	}
	if errors.Is(&wordpress.StatusError{Status: 503}, errs.ErrPermanent) {
		t.Error("a 503 is permanent")
	}
}

// TestDroppedCreateIsNotReplayed: WordPress applied the create, then the
// connection dropped before the reply. Go's transport re-sends a request on
// a reused connection in that case if the request is idempotent or carries
// an Idempotency-Key; the client must not let it, or the post is doubled.
func TestDroppedCreateIsNotReplayed(t *testing.T) {
	t.Parallel()
	srv, c := newClient(t, fakewp.Config{})
	ctx := context.Background()
	if _, err := c.Discover(ctx); err != nil { // leaves an idle connection to reuse
		t.Fatalf("Discover: %v", err)
	}
	srv.Inject(http.MethodPost, "/wp/v2/posts", fakewp.Fault{Drop: true})
	srv.Inject(http.MethodPost, "/wp/v2/posts", fakewp.Fault{Drop: true})
	var reused atomic.Bool
	ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{GotConn: func(i httptrace.GotConnInfo) { reused.Store(i.Reused) }})
	_, err := c.CreatePost(ctx, wordpress.PostInput{Title: "Once", Slug: "once", Status: "draft"})
	if !isRetryable(err) {
		t.Fatalf("CreatePost = %v, want a retryable error", err)
	}
	if n := srv.Count(http.MethodPost, "/wp/v2/posts"); n != 1 {
		t.Fatalf("the server saw %d creates, want 1", n)
	}
	if !reused.Load() {
		t.Error("the POST went on a new connection; the test needs a reused one (where Go replays)")
	}
	found, err := c.PostsBySlug(ctx, "once")
	if err != nil || len(found) != 1 || found[0].Title != "Once" {
		t.Fatalf("PostsBySlug = %+v, %v; want the post created before the drop", found, err)
	}
}

// TestReplayControl shows the harness detects a replay: the same dropped
// POST, sent with an Idempotency-Key, reaches the server twice.
func TestReplayControl(t *testing.T) {
	t.Parallel()
	srv := fakewp.New(t, fakewp.Config{})
	hc := srv.Client()
	resp, err := hc.Get(srv.URL + "/wp-json/")
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body) // so that the connection is reused
	_ = resp.Body.Close()
	srv.Inject(http.MethodPost, "/wp/v2/posts", fakewp.Fault{Drop: true})
	srv.Inject(http.MethodPost, "/wp/v2/posts", fakewp.Fault{Drop: true})
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/wp-json/wp/v2/posts", strings.NewReader(`{"title":"x"}`))
	req.Header.Set("Authorization", fakewp.AuthHeader)
	req.Header.Set("Idempotency-Key", "k")
	if resp, err := hc.Do(req); err == nil {
		_ = resp.Body.Close()
	}
	if n := srv.Count(http.MethodPost, "/wp/v2/posts"); n != 2 {
		t.Errorf("with an Idempotency-Key the server saw %d POSTs, want 2 (Go's replay)", n)
	}
}

func TestPostRedirectIsPermanent(t *testing.T) {
	t.Parallel()
	srv := fakewp.New(t, fakewp.Config{Prefix: "/blog", RedirectTo: "https://example.com"})
	c := wordpress.New(srv.Client(), creds(srv.SiteURL()), wordpress.StylePretty)
	_, err := c.CreatePost(context.Background(), wordpress.PostInput{Title: "T"})
	if !errs.IsPermanent(err) || !strings.Contains(err.Error(), "set the site URL to https://example.com/blog") {
		t.Fatalf("CreatePost = %v, want a permanent error naming https://example.com/blog", err)
	}
	if n := len(srv.Requests()); n != 1 {
		t.Errorf("%d requests, want 1 (the POST, not followed)", n)
	}
}

func TestContextCanceled(t *testing.T) {
	t.Parallel()
	_, c := newClient(t, fakewp.Config{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.GetPost(ctx, 1); !errors.Is(err, context.Canceled) {
		t.Fatalf("GetPost = %v, want context.Canceled", err)
	}
}

func TestHugeReplyIsRefused(t *testing.T) {
	t.Parallel()
	srv, c := newClient(t, fakewp.Config{})
	srv.Inject(http.MethodGet, "/wp/v2/posts/1", fakewp.Fault{Status: 200, Body: `{"id":1,"content":"` + strings.Repeat("x", 17<<20) + `"}`})
	_, err := c.GetPost(context.Background(), 1)
	if !errs.IsPermanent(err) || !strings.Contains(err.Error(), "larger than") {
		t.Fatalf("GetPost = %v, want a permanent 'larger than' error", err)
	}
}
