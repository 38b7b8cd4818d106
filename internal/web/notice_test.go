package web_test

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/presswork/presswork/internal/app/apptest"
)

func getPage(t *testing.T, c *http.Client, u string) (*http.Response, string) {
	t.Helper()
	res, err := c.Get(u)
	apptest.Must(t, err, "GET ", u)
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	apptest.Must(t, err, "read ", u)
	return res, string(body)
}

// TestNoticesAreCodes: a page shows a notice only from Presswork's fixed
// set of codes; text in ?notice= is never shown (content spoofing), and the
// password change redirects with its code, not its text.
func TestNoticesAreCodes(t *testing.T) {
	h := apptest.Start(t)
	tk, _ := h.Tenant(t, "notices", 10)
	createUser(t, h, tk.Tenant.ID, "owner@example.com", "owner password 1", "owner")
	c, status, csrf := signIn(t, h.URL, "owner@example.com", "owner password 1")
	if status != http.StatusOK || csrf == "" {
		t.Fatalf("sign in: status %d, csrf %q", status, csrf)
	}

	spoof := "Your account is locked: call +1 555 0100 to unlock it"
	for _, path := range []string{"/ui/", "/ui/account", "/ui/credits", "/ui/jobs", "/ui/automation", "/ui/sites/1", "/ui/drafts/1"} {
		for _, notice := range []string{spoof, "<b>" + spoof + "</b>", "password-changed " + spoof} {
			res, body := getPage(t, c, h.URL+path+"?notice="+url.QueryEscape(notice))
			if res.StatusCode != http.StatusOK {
				t.Fatalf("GET %s: %d", path, res.StatusCode)
			}
			if strings.Contains(body, "555 0100") || strings.Contains(body, `class="notice"`) {
				t.Errorf("GET %s?notice=%q shows the URL's text as a notice", path, notice)
			}
		}
	}

	_, body := getPage(t, c, h.URL+"/ui/account?notice=password-changed")
	if !strings.Contains(body, `<p class="notice" role="status">Password changed. Other sessions were signed out.</p>`) {
		t.Errorf("?notice=password-changed does not show its notice:\n%s", body)
	}

	form := url.Values{"csrf": {csrf}, "current": {"owner password 1"}, "new": {"owner password 2"}, "confirm": {"owner password 2"}}
	res, err := c.PostForm(h.URL+"/ui/account/password", form)
	apptest.Must(t, err, "change password")
	defer res.Body.Close()
	body2, _ := io.ReadAll(res.Body)
	if got := res.Request.URL.RawQuery; got != "notice=password-changed" {
		t.Errorf("password change redirects with query %q, want notice=password-changed", got)
	}
	if !strings.Contains(string(body2), "Password changed. Other sessions were signed out.") {
		t.Errorf("after the password change the account page shows no notice:\n%s", body2)
	}
}
