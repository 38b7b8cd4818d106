// Package web is the editors' web interface, served by the API under /ui.
// Its pages are rendered server-side (html/template) as shells whose small
// plain script calls the same /v1 API the integrations use, authenticated
// by the session cookie and the session's CSRF token, so the interface has
// exactly the API's permissions. Sign-in, sign-out and password changes
// are HTML forms handled here.
package web

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/presswork/presswork/internal/auth"
	"github.com/presswork/presswork/internal/errs"
	"github.com/presswork/presswork/internal/store"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Limits of sign-in attempts per minute: per address tried and per client
// address.
const (
	loginPerEmail = 10
	loginPerIP    = 30
	sessionTTL    = 12 * time.Hour
	// MinPasswordLength is the shortest password accepted.
	MinPasswordLength = 10
)

// BcryptCost is bcrypt's work factor for new password hashes. Tests lower
// it: under the race detector one hash at cost 12 takes seconds.
var BcryptCost = 12

// Limiter holds sign-in attempts to a rate (internal/ratelimit's Limiter).
type Limiter interface {
	Allow(ctx context.Context, key string, perMinute int) error
}

// Deps is what the web interface needs.
type Deps struct {
	Store *store.Store
	// Limiter limits sign-in attempts (nil: no limit).
	Limiter Limiter
	Log     *slog.Logger
}

// UI is the web interface's handler.
type UI struct {
	store   *store.Store
	limiter Limiter
	log     *slog.Logger
	pages   map[string]*template.Template
	mux     *http.ServeMux
}

// pageNames are the templates rendered inside the layout.
var pageNames = []string{"sites", "site", "draft", "credits", "jobs", "automation", "account", "people", "tenants", "models",
	"billing", "overview"}

// operatorPages are the pages of operators, who belong to no tenant (and
// have the account page too); tenants' people do not have them.
var operatorPages = map[string]bool{"tenants": true, "models": true, "overview": true}

// New builds the interface's handler.
func New(d Deps) *UI {
	u := &UI{store: d.Store, limiter: d.Limiter, log: d.Log, pages: map[string]*template.Template{}}
	for _, name := range append([]string{"login", "invite"}, pageNames...) {
		files := []string{"templates/layout.html", "templates/" + name + ".html"}
		if name == "login" || name == "invite" {
			files = files[1:]
		}
		u.pages[name] = template.Must(template.ParseFS(templateFS, files...))
	}
	static, _ := fs.Sub(staticFS, "static")
	mux := http.NewServeMux()
	mux.Handle("GET /ui/static/", http.StripPrefix("/ui/static/", http.FileServerFS(static)))
	mux.HandleFunc("GET /ui/login", u.loginForm)
	mux.HandleFunc("POST /ui/login", u.login)
	mux.HandleFunc("POST /ui/logout", u.signedIn(u.logout))
	mux.HandleFunc("GET /ui/{$}", u.page("sites", "Sites"))
	mux.HandleFunc("GET /ui", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/ui/", http.StatusFound) })
	mux.HandleFunc("GET /ui/sites/{id}", u.page("site", "Site"))
	mux.HandleFunc("GET /ui/drafts/{id}", u.page("draft", "Draft"))
	mux.HandleFunc("GET /ui/credits", u.page("credits", "Credits and usage"))
	mux.HandleFunc("GET /ui/jobs", u.page("jobs", "Failed jobs"))
	mux.HandleFunc("GET /ui/automation", u.page("automation", "Automation"))
	mux.HandleFunc("GET /ui/account", u.page("account", "Account"))
	mux.HandleFunc("GET /ui/tenants", u.page("tenants", "Tenants"))
	mux.HandleFunc("GET /ui/models", u.page("models", "Models"))
	mux.HandleFunc("GET /ui/billing", u.page("billing", "Billing"))
	mux.HandleFunc("GET /ui/overview", u.page("overview", "Billing overview"))
	mux.HandleFunc("POST /ui/account/password", u.signedIn(u.changePassword))
	mux.HandleFunc("GET /ui/people", u.people)
	mux.HandleFunc("POST /ui/people/invite", u.signedIn(u.invite))
	mux.HandleFunc("GET /ui/invite/{token}", u.inviteForm)
	mux.HandleFunc("POST /ui/invite/{token}", u.acceptInvite)
	u.mux = mux
	return u
}

// ServeHTTP serves the interface. Cross-origin form posts are refused (the
// sign-in form has no session yet to carry a CSRF token).
func (u *UI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-src 'self'; frame-ancestors 'none'; form-action 'self'")
	http.NewCrossOriginProtection().Handler(u.mux).ServeHTTP(w, r)
}

// HashPassword hashes a password for storage.
func HashPassword(password string) (string, error) {
	if len(password) < MinPasswordLength {
		return "", fmt.Errorf("the password must have at least %d characters", MinPasswordLength)
	}
	h, err := bcrypt.GenerateFromPassword([]byte(password), BcryptCost)
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	return string(h), nil
}

// dummyHash is compared against when the address is unknown, so an unknown
// address takes as long to refuse as a wrong password.
// It is made at the first sign-in, not at start-up.
var dummyHash = sync.OnceValue(func() []byte {
	h, _ := bcrypt.GenerateFromPassword([]byte("presswork-no-such-user"), BcryptCost)
	return h
})

// Notices a redirect may ask a page to show, by code (?notice=CODE). The
// text is always Presswork's own: text in the URL is never shown, so a
// link cannot make a page say what an attacker wrote. An unknown code
// shows nothing.
const noticePasswordChanged = "password-changed"

var notices = map[string]string{
	noticePasswordChanged: "Password changed. Other sessions were signed out.",
}

type pageData struct {
	Title   string
	Page    string
	Session store.Session
	ID      string
	Error   string
	Notice  string
	Email   string
	Can     map[string]bool
}

func (u *UI) render(w http.ResponseWriter, name string, status int, d pageData) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	tmpl := "layout"
	if name == "login" {
		tmpl = "login"
	}
	if err := u.pages[name].ExecuteTemplate(w, tmpl, d); err != nil {
		u.log.Error("render page", "page", name, "error", err)
	}
}

// session returns the request's live session, if any.
func (u *UI) session(r *http.Request) (store.Session, []byte, bool) {
	c, err := r.Cookie(auth.SessionCookie)
	if err != nil || c.Value == "" {
		return store.Session{}, nil, false
	}
	hash := auth.HashSecret(c.Value)
	s, err := u.store.SessionByTokenHash(r.Context(), hash)
	if err != nil {
		if !errors.Is(err, errs.ErrNotFound) {
			u.log.Error("session lookup", "error", err)
		}
		return store.Session{}, nil, false
	}
	return s, hash, true
}

type sessionHandler func(w http.ResponseWriter, r *http.Request, s store.Session, hash []byte)

// signedIn runs h for a signed-in user whose form carries the session's
// CSRF token.
func (u *UI) signedIn(h sessionHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s, hash, ok := u.session(r)
		if !ok {
			http.Redirect(w, r, "/ui/login", http.StatusSeeOther)
			return
		}
		if !auth.CSRFMatches(r.PostFormValue("csrf"), s.CSRFToken) {
			http.Error(w, "The form has expired: reload the page and try again.", http.StatusForbidden)
			return
		}
		h(w, r, s, hash)
	}
}

func (u *UI) page(name, title string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s, _, ok := u.session(r)
		if !ok {
			http.Redirect(w, r, "/ui/login", http.StatusSeeOther)
			return
		}
		operator := s.Role == "operator"
		if operator && !operatorPages[name] && name != "account" {
			http.Redirect(w, r, "/ui/tenants", http.StatusSeeOther)
			return
		}
		if !operator && operatorPages[name] {
			http.Redirect(w, r, "/ui/", http.StatusSeeOther)
			return
		}
		id := r.PathValue("id")
		if id != "" {
			if _, err := strconv.ParseInt(id, 10, 64); err != nil {
				http.NotFound(w, r)
				return
			}
		}
		can := map[string]bool{}
		for _, p := range []auth.Permission{auth.PermContent, auth.PermSites, auth.PermBilling, auth.PermPay} {
			can[string(p)] = auth.Allowed(s.Role, p)
		}
		d := pageData{Title: title, Page: name, Session: s, ID: id, Can: can, Notice: notices[r.URL.Query().Get("notice")]}
		u.render(w, name, http.StatusOK, d)
	}
}

func (u *UI) loginForm(w http.ResponseWriter, r *http.Request) {
	if _, _, ok := u.session(r); ok {
		http.Redirect(w, r, "/ui/", http.StatusSeeOther)
		return
	}
	u.render(w, "login", http.StatusOK, pageData{Title: "Sign in"})
}

func (u *UI) login(w http.ResponseWriter, r *http.Request) {
	email, password := r.PostFormValue("email"), r.PostFormValue("password")
	fail := func(status int, msg string) {
		u.render(w, "login", status, pageData{Title: "Sign in", Error: msg, Email: email})
	}
	if !u.allowLogin(r, email) {
		fail(http.StatusTooManyRequests, "Too many sign-in attempts. Wait a minute and try again.")
		return
	}
	user, err := u.store.UserByEmail(r.Context(), email)
	if err != nil && !errors.Is(err, errs.ErrNotFound) {
		u.log.Error("sign-in", "error", err)
		fail(http.StatusInternalServerError, "Signing in failed. Try again later.")
		return
	}
	hash := []byte(user.PasswordHash)
	if err != nil {
		hash = dummyHash()
	}
	if bcrypt.CompareHashAndPassword(hash, []byte(password)) != nil || user.ID == 0 {
		fail(http.StatusUnauthorized, "The e-mail address or the password is wrong.")
		return
	}
	u.startSession(w, r, user.ID)
}

// startSession signs the user in: a new session, its cookie, and on to the
// sites.
func (u *UI) startSession(w http.ResponseWriter, r *http.Request, userID int64) {
	token, csrf := auth.NewToken(), auth.NewToken()
	expires := time.Now().Add(sessionTTL)
	if err := u.store.CreateSession(r.Context(), auth.HashSecret(token), userID, csrf, expires); err != nil {
		u.log.Error("create session", "error", err)
		http.Error(w, "Signing in failed. Try again later.", http.StatusInternalServerError)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: auth.SessionCookie, Value: token, Path: "/", Expires: expires,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: isHTTPS(r)})
	http.Redirect(w, r, "/ui/", http.StatusSeeOther)
}

// allowLogin applies the sign-in rate limits; when Redis cannot be asked
// the attempt goes through (and is logged), as for the API's limits.
func (u *UI) allowLogin(r *http.Request, email string) bool {
	if u.limiter == nil {
		return true
	}
	ip := r.RemoteAddr
	if host, _, ok := cutLast(ip, ":"); ok {
		ip = host
	}
	err := u.limiter.Allow(r.Context(), "login-ip:"+ip, loginPerIP)
	if err == nil {
		err = u.limiter.Allow(r.Context(), "login-email:"+normalizeEmail(email), loginPerEmail)
	}
	var th *errs.ThrottledError
	if errors.As(err, &th) {
		return false
	}
	if err != nil {
		u.log.Warn("sign-in rate limit not checked", "error", err)
	}
	return true
}

func (u *UI) logout(w http.ResponseWriter, r *http.Request, _ store.Session, hash []byte) {
	if err := u.store.DeleteSession(r.Context(), hash); err != nil {
		u.log.Error("sign out", "error", err)
	}
	http.SetCookie(w, &http.Cookie{Name: auth.SessionCookie, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: isHTTPS(r)})
	http.Redirect(w, r, "/ui/login", http.StatusSeeOther)
}

func (u *UI) changePassword(w http.ResponseWriter, r *http.Request, s store.Session, hash []byte) {
	d := pageData{Title: "Account", Page: "account", Session: s, Can: map[string]bool{}}
	user, err := u.store.GetUser(r.Context(), s.UserID)
	if err != nil {
		u.log.Error("change password", "error", err)
		http.Error(w, "Changing the password failed.", http.StatusInternalServerError)
		return
	}
	if bcrypt.CompareHashAndPassword([]byte(user.PasswordHash), []byte(r.PostFormValue("current"))) != nil {
		d.Error = "The current password is wrong."
		u.render(w, "account", http.StatusBadRequest, d)
		return
	}
	next := r.PostFormValue("new")
	if next != r.PostFormValue("confirm") {
		d.Error = "The new passwords do not match."
		u.render(w, "account", http.StatusBadRequest, d)
		return
	}
	newHash, err := HashPassword(next)
	if err != nil {
		d.Error = "The new password is too short: use at least " + strconv.Itoa(MinPasswordLength) + " characters."
		u.render(w, "account", http.StatusBadRequest, d)
		return
	}
	if err := u.store.SetUserPassword(r.Context(), s.UserID, newHash, hash); err != nil {
		u.log.Error("change password", "error", err)
		http.Error(w, "Changing the password failed.", http.StatusInternalServerError)
		return
	}
	http.Redirect(w, r, "/ui/account?notice="+noticePasswordChanged, http.StatusSeeOther)
}

func isHTTPS(r *http.Request) bool {
	return r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https"
}
