package web_test

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strconv"
	"testing"

	"github.com/presswork/presswork/internal/app/apptest"
)

// TestInvitations: an owner makes a one-time link, the person sets a
// password through it and is signed in with the invited role; the link
// does not work twice; a viewer may not invite.
func TestInvitations(t *testing.T) {
	h := apptest.Start(t)
	tk, _ := h.Tenant(t, "invites", 10)
	createUser(t, h, tk.Tenant.ID, "owner@example.com", "owner password 1", "owner")
	createUser(t, h, tk.Tenant.ID, "viewer@example.com", "viewer password 1", "viewer")

	owner, _, csrf := signIn(t, h.URL, "owner@example.com", "owner password 1")
	res, err := owner.PostForm(h.URL+"/ui/people/invite", url.Values{"csrf": {csrf}, "email": {"New@Example.com"}, "role": {"editor"}})
	apptest.Must(t, err)
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	m := regexp.MustCompile(`value="(http[^"]+/ui/invite/[^"]+)"`).FindSubmatch(body)
	if res.StatusCode != http.StatusOK || m == nil {
		t.Fatalf("invite: %d, no link in %s", res.StatusCode, body)
	}
	link := string(m[1])

	jar, _ := cookiejar.New(nil)
	invitee := &http.Client{Jar: jar}
	res, err = invitee.PostForm(link, url.Values{"password": {"new person pw 1"}, "confirm": {"new person pw 1"}})
	apptest.Must(t, err)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || res.Request.URL.Path != "/ui/" {
		t.Fatalf("accept: %d at %s", res.StatusCode, res.Request.URL)
	}
	if got := send(t, invitee, "GET", h.URL+"/v1/sites", "", ""); got != http.StatusOK {
		t.Errorf("invited editor reads sites: %d", got)
	}
	if got := send(t, invitee, "GET", h.URL+"/v1/credits", "", ""); got != http.StatusForbidden {
		t.Errorf("invited editor reads credits: %d, want 403 (editor)", got)
	}
	res, err = http.PostForm(link, url.Values{"password": {"other password 1"}, "confirm": {"other password 1"}})
	apptest.Must(t, err)
	res.Body.Close()
	if res.StatusCode != http.StatusNotFound {
		t.Errorf("second use of the link: %d, want 404", res.StatusCode)
	}
	if _, status, _ := signIn(t, h.URL, "new@example.com", "new person pw 1"); status != http.StatusOK {
		t.Errorf("sign in as the invited person: %d", status)
	}

	viewer, _, vcsrf := signIn(t, h.URL, "viewer@example.com", "viewer password 1")
	res, err = viewer.PostForm(h.URL+"/ui/people/invite", url.Values{"csrf": {vcsrf}, "email": {"x@example.com"}, "role": {"viewer"}})
	apptest.Must(t, err)
	res.Body.Close()
	if res.StatusCode != http.StatusForbidden {
		t.Errorf("viewer invites: %d, want 403", res.StatusCode)
	}
}

// TestOperatorUser: an operator signs in to the tenants page, uses the
// operator routes of the API with the session, and no tenant's routes.
func TestOperatorUser(t *testing.T) {
	h := apptest.Start(t)
	tk, _ := h.Tenant(t, "operated", 10)
	createUser(t, h, 0, "op@example.com", "operator password", "operator")
	op, status, csrf := signIn(t, h.URL, "op@example.com", "operator password")
	if status != http.StatusOK {
		t.Fatalf("operator sign-in: %d", status)
	}
	res, err := op.Get(h.URL + "/ui/sites/1")
	apptest.Must(t, err)
	res.Body.Close()
	if res.Request.URL.Path != "/ui/tenants" {
		t.Errorf("operator on a tenant page lands on %s, want /ui/tenants", res.Request.URL.Path)
	}
	if got := send(t, op, "GET", h.URL+"/v1/admin/tenants", "", ""); got != http.StatusOK {
		t.Errorf("operator lists tenants: %d", got)
	}
	path := h.URL + "/v1/admin/tenants/" + strconv.FormatInt(tk.Tenant.ID, 10)
	if got := send(t, op, "PATCH", path, csrf, `{"status":"suspended"}`); got != http.StatusOK {
		t.Errorf("operator suspends a tenant: %d", got)
	}
	if got := send(t, op, "GET", h.URL+"/v1/tenant", "", ""); got != http.StatusForbidden {
		t.Errorf("operator reads a tenant route: %d, want 403", got)
	}
}
