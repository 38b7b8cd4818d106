package web

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/presswork/presswork/internal/auth"
	"github.com/presswork/presswork/internal/errs"
	"github.com/presswork/presswork/internal/store"
)

// invitationTTL is how long an invitation link works.
const invitationTTL = 7 * 24 * time.Hour

// userRoles are the roles a person may have, highest first.
var userRoles = []string{"owner", "admin", "editor", "viewer"}

// mayInvite reports whether role may invite people: owners and admins (the
// roles that manage API keys), an admin not as owner.
func mayInvite(role, as string) bool {
	if !auth.Allowed(role, auth.PermKeys) || !slices.Contains(userRoles, as) {
		return false
	}
	return as != "owner" || role == "owner"
}

type peopleData struct {
	pageData
	Users      []store.User
	Roles      []string
	InviteLink string
}

func (u *UI) people(w http.ResponseWriter, r *http.Request) {
	s, _, ok := u.session(r)
	if !ok {
		http.Redirect(w, r, "/ui/login", http.StatusSeeOther)
		return
	}
	if s.Role == "operator" {
		http.Redirect(w, r, "/ui/tenants", http.StatusSeeOther)
		return
	}
	u.renderPeople(w, r, s, http.StatusOK, "", "")
}

func (u *UI) renderPeople(w http.ResponseWriter, r *http.Request, s store.Session, status int, link, problem string) {
	users, err := u.store.ListUsers(r.Context(), s.TenantID)
	if err != nil {
		u.log.Error("list users", "error", err)
		http.Error(w, "Listing the people failed.", http.StatusInternalServerError)
		return
	}
	d := peopleData{pageData: pageData{Title: "People", Page: "people", Session: s, Error: problem,
		Can: map[string]bool{"invite": auth.Allowed(s.Role, auth.PermKeys)}}, Users: users, InviteLink: link}
	for _, role := range userRoles {
		if mayInvite(s.Role, role) {
			d.Roles = append(d.Roles, role)
		}
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if err := u.pages["people"].ExecuteTemplate(w, "layout", d); err != nil {
		u.log.Error("render page", "page", "people", "error", err)
	}
}

// invite makes a one-time link for a person to join the tenant; the link
// is shown once to the inviter (Presswork sends no e-mail).
func (u *UI) invite(w http.ResponseWriter, r *http.Request, s store.Session, _ []byte) {
	email, role := normalizeEmail(r.PostFormValue("email")), r.PostFormValue("role")
	if !mayInvite(s.Role, role) {
		u.renderPeople(w, r, s, http.StatusForbidden, "", "Your role ("+s.Role+") may not invite people as "+role+".")
		return
	}
	if at := strings.IndexByte(email, '@'); at < 1 || at == len(email)-1 || len(email) > 254 {
		u.renderPeople(w, r, s, http.StatusBadRequest, "", "Enter a valid e-mail address.")
		return
	}
	token := auth.NewToken()
	err := u.store.CreateInvitation(r.Context(), auth.HashSecret(token),
		store.Invitation{TenantID: s.TenantID, Email: email, Role: role, ExpiresAt: time.Now().Add(invitationTTL)}, s.UserID)
	switch {
	case errors.Is(err, errs.ErrConflict):
		u.renderPeople(w, r, s, http.StatusConflict, "", "That address already has an account.")
		return
	case err != nil:
		u.log.Error("invite", "error", err)
		http.Error(w, "Inviting failed.", http.StatusInternalServerError)
		return
	}
	u.audit(r, s.TenantID, s.Role, "user.invite", "role:"+role)
	scheme := "http"
	if isHTTPS(r) {
		scheme = "https"
	}
	link := (&url.URL{Scheme: scheme, Host: r.Host, Path: "/ui/invite/" + token}).String()
	u.renderPeople(w, r, s, http.StatusOK, link, "")
}

type inviteData struct {
	pageData
	Invitation store.Invitation
}

func (u *UI) inviteForm(w http.ResponseWriter, r *http.Request) {
	inv, err := u.store.PendingInvitation(r.Context(), auth.HashSecret(r.PathValue("token")))
	if err != nil {
		u.renderInvite(w, http.StatusNotFound, inviteData{pageData: pageData{Error: "This invitation is unknown, used or expired: ask for a new one."}})
		return
	}
	u.renderInvite(w, http.StatusOK, inviteData{Invitation: inv})
}

// acceptInvite creates the invited person's account and signs them in.
func (u *UI) acceptInvite(w http.ResponseWriter, r *http.Request) {
	hash := auth.HashSecret(r.PathValue("token"))
	inv, err := u.store.PendingInvitation(r.Context(), hash)
	if err != nil {
		u.renderInvite(w, http.StatusNotFound, inviteData{pageData: pageData{Error: "This invitation is unknown, used or expired: ask for a new one."}})
		return
	}
	password := r.PostFormValue("password")
	if password != r.PostFormValue("confirm") {
		u.renderInvite(w, http.StatusBadRequest, inviteData{pageData: pageData{Error: "The passwords do not match."}, Invitation: inv})
		return
	}
	pwHash, err := HashPassword(password)
	if err != nil {
		u.renderInvite(w, http.StatusBadRequest, inviteData{pageData: pageData{Error: "Use at least 10 characters."}, Invitation: inv})
		return
	}
	user, err := u.store.AcceptInvitation(r.Context(), hash, pwHash)
	if err != nil {
		if !errors.Is(err, errs.ErrNotFound) && !errors.Is(err, errs.ErrConflict) {
			u.log.Error("accept invitation", "error", err)
		}
		u.renderInvite(w, http.StatusConflict, inviteData{pageData: pageData{Error: "This invitation could not be used: ask for a new one."}})
		return
	}
	u.audit(r, user.TenantID, user.Role, "user.create", "user:"+strconv.FormatInt(user.ID, 10))
	u.startSession(w, r, user.ID)
}

// audit records an action on people in the tenant's audit log; a failure
// to record is logged.
func (u *UI) audit(r *http.Request, tenantID int64, actor, action, target string) {
	err := u.store.RecordAudit(r.Context(), store.AuditRecord{TenantID: tenantID, Actor: actor, Action: action, Target: target})
	if err != nil {
		u.log.Warn("audit log write failed", "error", err, "action", action)
	}
}

func (u *UI) renderInvite(w http.ResponseWriter, status int, d inviteData) {
	d.Title = "Join Presswork"
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(status)
	if err := u.pages["invite"].ExecuteTemplate(w, "invite", d); err != nil {
		u.log.Error("render page", "page", "invite", "error", err)
	}
}
