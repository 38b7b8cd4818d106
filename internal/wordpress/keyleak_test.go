package wordpress_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/presswork/presswork/internal/errs"
	"github.com/presswork/presswork/internal/secret/secrettest"
	"github.com/presswork/presswork/internal/wordpress"
	"github.com/presswork/presswork/internal/wordpress/fakewp"
)

// passwordLeaks names the forms of the fake's application password that
// text shows.
func passwordLeaks(text string) []string {
	forms := secrettest.Forms(fakewp.Password, fakewp.User)
	for name, form := range secrettest.Forms(strings.ReplaceAll(fakewp.Password, " ", ""), fakewp.User) {
		forms[name+" without spaces"] = form
	}
	return secrettest.Leaks(text, forms)
}

// shownBy is everything a caller can read of err: its text, its %+v, and
// the fields of the package's errors found with errors.As.
func shownBy(err error) string {
	parts := []string{err.Error(), fmt.Sprintf("%+v", err)}
	var ae *wordpress.AuthError
	if errors.As(err, &ae) {
		parts = append(parts, ae.Code, ae.Message)
	}
	var fe *wordpress.FieldError
	if errors.As(err, &fe) {
		parts = append(parts, fe.Code, fe.Message)
		for k, v := range fe.Params {
			parts = append(parts, k, v)
		}
	}
	var se *wordpress.StatusError
	if errors.As(err, &se) {
		parts = append(parts, se.Code, se.Message, se.Body)
	}
	return strings.Join(parts, "\n")
}

// TestErrorsNeverShowEchoedCredentials makes the site quote the request's
// credentials (password as sent, without spaces, escaped, in base64, the
// Authorization header) in the code, message and data of its error and in
// a header, for each kind of error answer: neither the error's text nor
// the fields callers read with errors.As show any form of them, and the
// errors keep their kinds.
func TestErrorsNeverShowEchoedCredentials(t *testing.T) {
	t.Parallel()
	cases := []struct {
		status int
		kind   any // a pointer to the error type errors.As must find
	}{
		{http.StatusBadRequest, new(*wordpress.FieldError)},
		{http.StatusUnauthorized, new(*wordpress.AuthError)},
		{http.StatusForbidden, new(*wordpress.AuthError)},
		{http.StatusNotFound, new(*wordpress.StatusError)},
		{http.StatusConflict, new(*wordpress.StatusError)},
		{http.StatusTooManyRequests, new(*errs.ThrottledError)},
		{http.StatusInternalServerError, new(*wordpress.StatusError)},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprint(tc.status), func(t *testing.T) {
			t.Parallel()
			srv, c := newClient(t, fakewp.Config{})
			srv.Inject(http.MethodPost, "/wp/v2/posts", fakewp.Fault{Status: tc.status, EchoAuth: true})
			_, err := c.CreatePost(context.Background(), wordpress.PostInput{Title: "T", Content: "C", Slug: "t"})
			if err == nil {
				t.Fatal("CreatePost succeeded, want an error")
			}
			if !errors.As(err, tc.kind) {
				t.Errorf("err = %#v, want a %T", err, tc.kind)
			}
			shown := shownBy(err)
			if !strings.Contains(shown, "[redacted]") {
				t.Errorf("nothing was redacted; did the site echo the credentials?\n%s", shown)
			}
			if found := passwordLeaks(shown); len(found) > 0 {
				t.Errorf("the error shows the password (as %s):\n%s", strings.Join(found, ", "), shown)
			}
		})
	}
}

// TestCheckNeverShowsEchoedCredentials runs the connection test against a
// site that echoes the credentials while discovering the API and when
// asked who the user is: neither the error nor the unhealthy reason shows
// them.
func TestCheckNeverShowsEchoedCredentials(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, method, route string
		status              int
		quotes              bool // the outcome quotes the site's words
	}{
		{"discovery 503", http.MethodGet, "/", http.StatusServiceUnavailable, true},
		{"users/me 401", http.MethodGet, "/wp/v2/users/me", http.StatusUnauthorized, false}, // answered as anonymous
		{"users/me 403", http.MethodGet, "/wp/v2/users/me", http.StatusForbidden, true},
		{"users/me 400", http.MethodGet, "/wp/v2/users/me", http.StatusBadRequest, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv, c := newClient(t, fakewp.Config{})
			for range 3 { // a GET is tried up to three times
				srv.Inject(tc.method, tc.route, fakewp.Fault{Status: tc.status, EchoAuth: true})
			}
			res, err := c.Check(context.Background())
			shown := res.Reason
			if err != nil {
				shown += "\n" + shownBy(err)
			}
			if res.Healthy || (tc.quotes && !strings.Contains(shown, "[redacted]")) {
				t.Errorf("check: healthy %v, nothing redacted; did the site echo the credentials?\n%s", res.Healthy, shown)
			}
			if found := passwordLeaks(shown); len(found) > 0 {
				t.Errorf("the check shows the password (as %s):\n%s", strings.Join(found, ", "), shown)
			}
		})
	}
}
