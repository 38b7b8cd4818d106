package web_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/presswork/presswork/internal/app/apptest"
	"github.com/presswork/presswork/internal/auth"
)

// signIn posts the sign-in form and returns the client holding the
// session cookie, the answer's status and the session's CSRF token.
func signIn(t *testing.T, base, email, password string) (*http.Client, int, string) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	res, err := c.PostForm(base+"/ui/login", url.Values{"email": {email}, "password": {password}})
	apptest.Must(t, err, "sign in")
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	m := regexp.MustCompile(`name="csrf-token" content="([^"]+)"`).FindSubmatch(body)
	if m == nil {
		return c, res.StatusCode, ""
	}
	return c, res.StatusCode, string(m[1])
}

func send(t *testing.T, c *http.Client, method, url, csrf, body string) int {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if csrf != "" {
		req.Header.Set(auth.CSRFHeader, csrf)
	}
	res, err := c.Do(req)
	apptest.Must(t, err, method, " ", url)
	res.Body.Close()
	return res.StatusCode
}

// TestSessionsOnTheAPI checks the web interface's security model: the
// session cookie's flags, the API reached with the cookie under the role's
// permissions, CSRF tokens on writes, cross-origin form posts, sign-out,
// password changes and the sign-in rate limit.
func TestSessionsOnTheAPI(t *testing.T) {
	h := apptest.Start(t)
	tk, _ := h.Tenant(t, "sessions", 100)
	createUser(t, h, tk.Tenant.ID, "Owner@Example.com", "owner password 1", "owner")
	createUser(t, h, tk.Tenant.ID, "viewer@example.com", "viewer password 1", "viewer")

	owner, status, csrf := signIn(t, h.URL, "owner@example.com", "owner password 1")
	if status != http.StatusOK || csrf == "" {
		t.Fatalf("sign in: status %d, csrf %q", status, csrf)
	}
	u, _ := url.Parse(h.URL)
	cookies := owner.Jar.Cookies(u)
	if len(cookies) != 1 || cookies[0].Name != auth.SessionCookie {
		t.Fatalf("cookies after sign-in: %v", cookies)
	}
	// The jar does not keep the flags: read them from a fresh answer.
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := noRedirect.PostForm(h.URL+"/ui/login", url.Values{"email": {"owner@example.com"}, "password": {"owner password 1"}})
	apptest.Must(t, err)
	res.Body.Close()
	if sc := res.Header.Get("Set-Cookie"); !strings.Contains(sc, "HttpOnly") || !strings.Contains(sc, "SameSite=Lax") {
		t.Errorf("Set-Cookie %q: want HttpOnly and SameSite=Lax", sc)
	}

	siteBody := `{"name":"Blog","url":"https://blog.example.com","username":"u","application_password":"abcd efgh ijkl mnop"}`
	for _, tc := range []struct {
		name   string
		c      *http.Client
		method string
		path   string
		csrf   string
		want   int
	}{
		{"read with the cookie", owner, "GET", "/v1/tenant", "", http.StatusOK},
		{"write without the CSRF token", owner, "POST", "/v1/sites", "", http.StatusForbidden},
		{"write with a wrong CSRF token", owner, "POST", "/v1/sites", "nope", http.StatusForbidden},
		{"write with the CSRF token", owner, "POST", "/v1/sites", csrf, http.StatusCreated},
		{"no cookie", http.DefaultClient, "GET", "/v1/tenant", "", http.StatusUnauthorized},
	} {
		if got := send(t, tc.c, tc.method, h.URL+tc.path, tc.csrf, siteBody); got != tc.want {
			t.Errorf("%s: %s %s = %d, want %d", tc.name, tc.method, tc.path, got, tc.want)
		}
	}

	viewer, _, vcsrf := signIn(t, h.URL, "viewer@example.com", "viewer password 1")
	if got := send(t, viewer, "GET", h.URL+"/v1/sites", "", ""); got != http.StatusOK {
		t.Errorf("viewer reads sites: %d", got)
	}
	if got := send(t, viewer, "POST", h.URL+"/v1/sites", vcsrf, siteBody); got != http.StatusForbidden {
		t.Errorf("viewer adds a site: %d, want 403", got)
	}
	if got := send(t, viewer, "GET", h.URL+"/v1/credits", "", ""); got != http.StatusForbidden {
		t.Errorf("viewer reads credits: %d, want 403", got)
	}

	// A form posted from another origin is refused.
	req, _ := http.NewRequest("POST", h.URL+"/ui/login", strings.NewReader("email=owner%40example.com&password=x"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://evil.example")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	res, err = http.DefaultClient.Do(req)
	apptest.Must(t, err)
	res.Body.Close()
	if res.StatusCode != http.StatusForbidden {
		t.Errorf("cross-site sign-in form: %d, want 403", res.StatusCode)
	}

	// A password change needs the current password and the form's CSRF
	// token, and signs out the other sessions.
	second, _, _ := signIn(t, h.URL, "owner@example.com", "owner password 1")
	form := url.Values{"current": {"owner password 1"}, "new": {"owner password 2"}, "confirm": {"owner password 2"}}
	res, err = owner.PostForm(h.URL+"/ui/account/password", form)
	apptest.Must(t, err)
	res.Body.Close()
	if res.StatusCode != http.StatusForbidden {
		t.Errorf("password change without the CSRF token: %d, want 403", res.StatusCode)
	}
	form.Set("csrf", csrf)
	res, err = owner.PostForm(h.URL+"/ui/account/password", form)
	apptest.Must(t, err)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.HasSuffix(res.Request.URL.Path, "/ui/account") {
		t.Errorf("password change: %d at %s", res.StatusCode, res.Request.URL)
	}
	if got := send(t, second, "GET", h.URL+"/v1/tenant", "", ""); got != http.StatusUnauthorized {
		t.Errorf("other session after the password change: %d, want 401", got)
	}
	if _, status, _ := signIn(t, h.URL, "owner@example.com", "owner password 1"); status != http.StatusUnauthorized {
		t.Errorf("sign in with the old password: %d, want 401", status)
	}

	// Signing out ends the session.
	res, err = owner.PostForm(h.URL+"/ui/logout", url.Values{"csrf": {csrf}})
	apptest.Must(t, err)
	res.Body.Close()
	if got := send(t, owner, "GET", h.URL+"/v1/tenant", "", ""); got != http.StatusUnauthorized {
		t.Errorf("after sign-out: %d, want 401", got)
	}

	// Sign-in attempts are limited per address.
	var last int
	for i := range 12 {
		_, last, _ = signIn(t, h.URL, "viewer@example.com", fmt.Sprintf("wrong %d", i))
	}
	if last != http.StatusTooManyRequests {
		t.Errorf("12th wrong password in a minute: %d, want 429", last)
	}
}
