// Package fakewp is an in-process fake of the WordPress REST API for tests.
// It speaks WordPress's wire format for what the publisher uses: both REST
// styles (/wp-json/... and /index.php?rest_route=...), application-password
// Basic auth (and the silent fallback to anonymous when application
// passwords are unavailable), capabilities, posts and pages (the edit and
// view contexts, _fields, paging with X-WP-Total and X-WP-TotalPages and
// rest_post_invalid_page_number past the last page),
// raw-body media uploads with their required headers, categories and tags
// with term_exists, and WordPress's error JSON. Faults can be injected per
// route: any error answer (one may quote the request's credentials, see
// Fault.EchoAuth), a connection dropped after the request was applied, or
// a reply cut off mid-body. It records every request.
package fakewp

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// Default credentials of the fake's user.
const (
	User     = "editor"
	Password = "abcd EFGH 1234 ijkl MNOP 5678"
)

// adminCaps are the capabilities the user has unless Config.Caps says.
var adminCaps = []string{"read", "edit_posts", "publish_posts", "upload_files", "manage_categories", "edit_others_posts"}

// Config shapes the fake site. It cannot change once the server runs.
type Config struct {
	// Prefix is the site's path, e.g. "/blog".
	Prefix string
	// Plain is a site with plain permalinks: only ?rest_route= works and
	// /wp-json/ answers a 404 HTML page (or, with PlainHome, the home page).
	Plain, PlainHome bool
	// IgnorePassword makes application passwords unavailable (plain http,
	// no WP_ENVIRONMENT_TYPE=local): every request runs as anonymous.
	IgnorePassword bool
	// RefuseWrongPassword answers a wrong user name or password with 401
	// invalid_username or incorrect_password, as documented. By default the
	// request runs as anonymous instead, which is what WordPress 6.1 does
	// when something asked for the current user before the REST request was
	// known (e.g. kses on init): the error is collected too late.
	RefuseWrongPassword bool
	// Caps are the user's capabilities; nil means an administrator's.
	Caps []string
	// RegisteredMeta are the meta keys posts keep; others are dropped.
	RegisteredMeta []string
	// IgnoreMediaTexts makes uploads ignore title, alt_text and caption.
	IgnoreMediaTexts bool
	// TermIDAsString sends term_exists's term_id as a string.
	TermIDAsString bool
	// RedirectTo answers every request with a 301 to this base URL.
	RedirectTo string
}

// Request is one request as the fake saw it.
type Request struct {
	Method string
	Route  string // the REST route, e.g. /wp/v2/posts/5; "" outside the API
	Style  string // "pretty" or "query"
	Query  url.Values
	Header http.Header
	Body   []byte
}

// Fault replaces the normal handling of one request.
type Fault struct {
	// Status and Body (WordPress error JSON or anything) are answered
	// instead of handling the request, with Header.
	Status int
	Body   string
	Header map[string]string
	// Drop handles the request, then closes the connection with no answer.
	Drop bool
	// CutOff handles the request, then sends half of the answer and closes.
	CutOff bool
	// EchoAuth, with Status, answers a WordPress error that quotes the
	// credentials the request carried (the password as sent, without its
	// spaces, URL- and JSON-escaped, in base64, and the whole
	// Authorization header) in its code, message and data (params and
	// more), and in an X-Request-Id header; Body is not used. A hostile or
	// broken site can do this; clients must show none of it.
	EchoAuth bool
}

// Server is the fake site.
type Server struct {
	*httptest.Server
	cfg Config

	mu       sync.Mutex
	requests []Request
	faults   map[string][]Fault
	nextID   int64
	posts    map[int64]*post
	media    map[int64]*media
	terms    map[string][]*term
}

// New starts a fake site, closed when the test ends.
func New(t testing.TB, cfg Config) *Server {
	t.Helper()
	if cfg.Caps == nil {
		cfg.Caps = adminCaps
	}
	s := &Server{
		cfg:    cfg,
		faults: map[string][]Fault{},
		nextID: 1,
		posts:  map[int64]*post{},
		media:  map[int64]*media{},
		terms:  map[string][]*term{"categories": {{ID: 1, Name: "Uncategorized", Slug: "uncategorized"}}, "tags": nil},
	}
	s.nextID = 2
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

// SiteURL is the address to configure: the server's URL and Prefix.
func (s *Server) SiteURL() string { return s.URL + s.cfg.Prefix }

// Inject makes the next request with this method and route (e.g. "POST",
// "/wp/v2/posts") meet f instead of the normal handling. Faults queue.
func (s *Server) Inject(method, route string, f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := method + " " + route
	s.faults[key] = append(s.faults[key], f)
}

// Requests returns the requests seen so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// Count returns how many requests had this method and route.
func (s *Server) Count(method, route string) int {
	n := 0
	for _, r := range s.Requests() {
		if r.Method == method && r.Route == route {
			n++
		}
	}
	return n
}

// Posts returns how many posts exist.
func (s *Server) Posts() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.posts)
}

// DeletePost deletes post id for good, as an editor emptying the trash
// would; it reports whether the post existed.
func (s *Server) DeletePost(id int64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, found := s.posts[id]
	delete(s.posts, id)
	return found
}

// PostContent returns the raw content of post id ("" when there is none).
func (s *Server) PostContent(id int64) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p := s.posts[id]; p != nil {
		return p.Content
	}
	return ""
}

// Content is a post or page made on the site by someone other than
// Presswork.
type Content struct {
	// Type is post (the default) or page.
	Type string
	// Title is the raw title; Status defaults to publish.
	Title, Status string
	// Link replaces the plain permalink (?p=ID, ?page_id=ID) WordPress
	// would give, e.g. one on another host.
	Link string
}

// Add creates c directly, as an editor of the site would, and returns its
// id.
func (s *Server) Add(c Content) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := &post{ID: s.nextID, Type: cmpOr(c.Type, "post"), Title: c.Title, Status: cmpOr(c.Status, "publish"), Link: c.Link}
	s.nextID++
	s.publishSlug(p)
	s.posts[p.ID] = p
	return p.ID
}

// MediaData returns the bytes stored for media item id.
func (s *Server) MediaData(id int64) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	if m := s.media[id]; m != nil {
		return m.data
	}
	return nil
}

// AddTerm creates a term directly, as a site's editor would; name is
// stored HTML-escaped as WordPress does. It returns the id.
func (s *Server) AddTerm(tax, name, slug string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addTerm(tax, escapeName.Replace(name), slug).ID
}

// serve routes one request.
func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	route, style, ok := s.route(r)
	body, _ := readBody(r)
	s.record(r, route, style, body)
	if s.cfg.RedirectTo != "" {
		http.Redirect(w, r, s.cfg.RedirectTo+r.URL.RequestURI(), http.StatusMovedPermanently)
		return
	}
	if !ok {
		s.notAPI(w)
		return
	}
	f, faulty := s.fault(r.Method, route)
	if faulty && f.Status != 0 {
		for k, v := range f.Header {
			w.Header().Set(k, v)
		}
		if f.EchoAuth {
			echoAuth(w, r, f.Status)
			return
		}
		w.Header().Set("Content-Type", "application/json; charset=UTF-8")
		w.WriteHeader(f.Status)
		fmt.Fprint(w, f.Body)
		return
	}
	res := s.handle(r, route, body)
	for k, v := range res.header {
		w.Header().Set(k, v)
	}
	switch {
	case faulty && f.Drop:
		hangUp(w)
	case faulty && f.CutOff:
		cutOff(w, res.status, res.body)
	default:
		writeJSON(w, res.status, res.body)
	}
}

// route finds the REST route of r and its style; ok is false outside the
// API (e.g. /wp-json/ on a plain-permalink site).
func (s *Server) route(r *http.Request) (route, style string, ok bool) {
	p, inSite := strings.CutPrefix(r.URL.Path, s.cfg.Prefix)
	if !inSite {
		return "", "", false
	}
	if p == "/index.php" || p == "/" {
		if rr := r.URL.Query().Get("rest_route"); rr != "" {
			return rr, "query", true
		}
		return "", "", false
	}
	if rest, found := strings.CutPrefix(p, "/wp-json"); found && !s.cfg.Plain {
		if rest == "" {
			rest = "/"
		}
		return rest, "pretty", true
	}
	return "", "", false
}

// notAPI answers like WordPress outside the REST API: an HTML page.
func (s *Server) notAPI(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/html; charset=UTF-8")
	if s.cfg.PlainHome {
		fmt.Fprint(w, "<!DOCTYPE html><html><head><title>Fake Site</title></head><body>Hello world!</body></html>")
		return
	}
	w.WriteHeader(http.StatusNotFound)
	fmt.Fprint(w, "<!DOCTYPE html><html><head><title>Page not found</title></head><body>Oops</body></html>")
}

func (s *Server) record(r *http.Request, route, style string, body []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = append(s.requests, Request{
		Method: r.Method, Route: route, Style: style, Query: r.URL.Query(), Header: r.Header.Clone(), Body: body,
	})
}

// fault takes the next fault queued for this request.
func (s *Server) fault(method, route string) (Fault, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := method + " " + route
	q := s.faults[key]
	if len(q) == 0 {
		return Fault{}, false
	}
	s.faults[key] = q[1:]
	return q[0], true
}

// user is who the request runs as: ok is false for anonymous; a non-nil
// error answer means the login was refused.
func (s *Server) user(r *http.Request) (bool, *wpError) {
	name, pass, has := r.BasicAuth()
	if !has || s.cfg.IgnorePassword {
		return false, nil
	}
	var refusal *wpError
	switch {
	case name != User:
		refusal = &wpError{401, "invalid_username", "<strong>Error:</strong> Unknown username. Check again or try your email address."}
	case strings.ReplaceAll(pass, " ", "") != strings.ReplaceAll(Password, " ", ""):
		refusal = &wpError{401, "incorrect_password", "The provided password is an invalid application password."}
	default:
		return true, nil
	}
	if !s.cfg.RefuseWrongPassword {
		refusal = nil
	}
	return false, refusal
}

// can reports whether the user has capability cap.
func (s *Server) can(cap string) bool {
	for _, c := range s.cfg.Caps {
		if c == cap {
			return true
		}
	}
	return false
}

// wpError is an error answer in WordPress's format.
type wpError struct {
	status  int
	code    string
	message string
}

func (e *wpError) answer() answer {
	return answer{status: e.status, body: map[string]any{"code": e.code, "message": e.message, "data": map[string]any{"status": e.status}}}
}

// answer is a reply to write.
type answer struct {
	status int
	body   any
	header map[string]string
}

// ok answers 200 with v.
func ok(v any) answer { return answer{status: http.StatusOK, body: v} }

// fail answers a WordPress error.
func fail(status int, code, msg string) answer {
	e := &wpError{status, code, msg}
	return e.answer()
}

// invalidParam is WordPress's rest_invalid_param answer.
func invalidParam(field, problem string) answer {
	return answer{status: http.StatusBadRequest, body: map[string]any{
		"code":    "rest_invalid_param",
		"message": "Invalid parameter(s): " + field,
		"data":    map[string]any{"status": 400, "params": map[string]string{field: problem}, "details": map[string]any{}},
	}}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// hangUp closes the connection without an answer.
func hangUp(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err == nil {
		_ = conn.Close()
	}
}

// cutOff sends half of the answer, announced whole, and closes.
func cutOff(w http.ResponseWriter, status int, v any) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.Header().Set("Content-Length", fmt.Sprint(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b[:len(b)/2])
	rc := http.NewResponseController(w)
	_ = rc.Flush()
	if conn, _, err := rc.Hijack(); err == nil {
		_ = conn.Close()
	}
}

// echoAuth answers status with a WordPress error quoting r's credentials
// in every field.
func echoAuth(w http.ResponseWriter, r *http.Request, status int) {
	user, pass, _ := r.BasicAuth()
	auth := r.Header.Get("Authorization")
	bare := strings.ReplaceAll(pass, " ", "")
	js, _ := json.Marshal(pass)
	w.Header().Set("X-Request-Id", bare)
	quoted := fmt.Sprintf("user %s password %s (%s, in a URL %s, in JSON %s, base64 %s) from %q",
		user, pass, bare, url.QueryEscape(pass), strings.Trim(string(js), `"`),
		base64.StdEncoding.EncodeToString([]byte(pass)), auth)
	writeJSON(w, status, map[string]any{
		"code":    "rest_" + bare,
		"message": "<strong>Error:</strong> Refused " + quoted,
		"data": map[string]any{
			"status":  status,
			"params":  map[string]string{"author": quoted, bare: pass},
			"details": map[string]any{"authorization": auth},
		},
	})
}

// basic is the Authorization header of the default credentials.
func basic() string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(User+":"+Password))
}

// AuthHeader is the Authorization header the client should send.
var AuthHeader = basic()
