// Package fakepanel is an in-process Easypanel that speaks the tRPC wire contract of
// shared/reference/easypanel-api.md over real HTTP, for tests of code that drives a panel.
//
// It keeps projects and services in memory, accepts both Authorization forms, and lets a test
// expire tokens, inject failures (before or after a call does its work), switch to batched
// replies, or pretend to be a newer panel that no longer serves /api/trpc. A new fake has one
// project, DefaultProject; creating a service in a project it lacks is refused as a real panel
// refuses it. Every updateDeploy and startService starts a deploy action (actions.listActions)
// that ends "done" after SetDeployDelay looks, or never (NeverFinishDeploys), or in "error"
// (FailNextDeploy); SetEnabledWhileDeploying makes apps report enabled whatever their deploys
// do, as Easypanel does.
package fakepanel

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"
)

// The credentials a new fake accepts (SetLogin changes them).
const (
	Email    = "admin@example.com"
	Password = "panel-secret"
)

// DefaultProject is the project a new fake has.
const DefaultProject = "sites"

// FakeService is a service as the fake holds it.
type FakeService struct {
	ProjectName     string
	Name            string
	Type            string // "app" or "mariadb"
	Enabled         bool
	Env             string
	Source          map[string]any
	Domain          string // the app's host
	PrimaryDomainID string // the app's domain id, like "dom_1"
	DatabaseName    string
	User            string
	Password        string
	RootPassword    string
	Image           string
	Creates         int // how many createService calls created it (must stay 1)
}

// service is a FakeService plus its deploy progress.
type service struct {
	FakeService
	deploying bool
	waitLeft  int     // looks that still report the deploy under way (-1: for ever)
	action    *action // the deploy under way or last finished
}

// action is a deploy action as actions.listActions shows it.
type action struct {
	id, project, service, status, description string
	createdAt                                 string
}

type failure struct {
	status     int
	message    string
	afterApply bool
	skip       int // calls that pass before this failure applies
}

// Server is a running fake panel.
type Server struct {
	URL string

	srv *httptest.Server

	mu           sync.Mutex
	email        string // the login accepted
	password     string
	tokens       map[string]bool // issued tokens; false once expired
	projects     []string
	services     []*service
	failures     map[string][]failure
	calls        map[string]int
	authForms    map[string]int
	batch        bool
	newerAPI     bool
	deployDelay  int
	domainSeq    int
	actions      []*action
	failDeploys  []string // reasons the next deploys end in "error" with
	enabledEarly bool
}

// New starts a fake panel that is closed when the test ends.
func New(t testing.TB) *Server {
	t.Helper()
	s := Start()
	t.Cleanup(s.Close)
	return s
}

// Start starts a fake panel that lives until Close, for a fixture shared by the tests of a
// package; a test's own panel comes from New.
func Start() *Server {
	s := &Server{
		email:       Email,
		password:    Password,
		tokens:      map[string]bool{},
		failures:    map[string][]failure{},
		calls:       map[string]int{},
		authForms:   map[string]int{},
		deployDelay: 1,
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/api/trpc/{procedure}", s.serveTRPC)
	mux.HandleFunc("GET /api/openapi.json", s.serveOpenAPI)
	s.projects = []string{DefaultProject}
	s.srv = httptest.NewServer(mux)
	s.URL = s.srv.URL
	return s
}

// Close stops the panel.
func (s *Server) Close() { s.srv.Close() }

// SetLogin makes the panel accept email and password, and no longer the ones before.
func (s *Server) SetLogin(email, password string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.email, s.password = email, password
}

// ExpireTokens makes every token issued so far answer 401.
func (s *Server) ExpireTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for token := range s.tokens {
		s.tokens[token] = false
	}
}

// FailNext makes the next call of procedure fail with status and message before doing
// anything. Failures queue up: two FailNext calls fail the next two calls.
func (s *Server) FailNext(procedure string, status int, message string) {
	s.addFailure(procedure, failure{status: status, message: message})
}

// FailNextAfterApply makes the next call of procedure do its work, then answer the error: a
// reply lost on the way back.
func (s *Server) FailNextAfterApply(procedure string, status int, message string) {
	s.addFailure(procedure, failure{status: status, message: message, afterApply: true})
}

// FailCall makes the n-th call of procedure from now (1 for the next) fail with status and
// message before doing anything; the calls before it pass. Use it alone for a procedure.
func (s *Server) FailCall(procedure string, n int, status int, message string) {
	s.addFailure(procedure, failure{status: status, message: message, skip: n - 1})
}

func (s *Server) addFailure(procedure string, f failure) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures[procedure] = append(s.failures[procedure], f)
}

// UseBatchReplies makes the fake answer with the batched array envelope.
func (s *Server) UseBatchReplies(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.batch = on
}

// UseNewerAPI makes the fake behave like a panel of version 2.31 or later: /api/trpc/* answers
// 404 (400 "Input validation failed" for calls with input) and /api/openapi.json is served.
func (s *Server) UseNewerAPI(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.newerAPI = on
}

// SetDeployDelay sets how many inspections report enabled:false after updateDeploy or
// startService before the app reports enabled:true (1 by default).
func (s *Server) SetDeployDelay(inspections int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.deployDelay = inspections
}

// NeverFinishDeploys makes every deploy started from now on stay under way: the app never runs.
func (s *Server) NeverFinishDeploys() { s.SetDeployDelay(-1) }

// FailNextDeploy makes the next deploy end in "error" with reason (the app does not run).
func (s *Server) FailNextDeploy(reason string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failDeploys = append(s.failDeploys, reason)
}

// SetEnabledWhileDeploying makes apps enabled from their creation on, whatever their deploys do
// (an app under deploy or whose deploy failed reports enabled:true), as Easypanel reports them.
func (s *Server) SetEnabledWhileDeploying(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.enabledEarly = on
}

// AddProject adds an empty project.
func (s *Server) AddProject(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ensureProject(name)
}

// RemoveProject removes a project and its services.
func (s *Server) RemoveProject(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.projects = slices.DeleteFunc(s.projects, func(p string) bool { return p == name })
	s.services = slices.DeleteFunc(s.services, func(svc *service) bool { return svc.ProjectName == name })
}

// DeployActions returns how many deploys the panel started for project's service name.
func (s *Server) DeployActions(project, name string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, a := range s.actions {
		if a.project == project && a.service == name {
			n++
		}
	}
	return n
}

// AddService adds a service that already exists, as if created outside the test.
func (s *Server) AddService(project, name, typ string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ensureProject(project)
	s.services = append(s.services, &service{FakeService: FakeService{
		ProjectName: project, Name: name, Type: typ, Enabled: true,
	}})
}

// Services returns a copy of the current services, in creation order.
func (s *Server) Services() []FakeService {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]FakeService, 0, len(s.services))
	for _, svc := range s.services {
		copied := svc.FakeService
		copied.Source = maps.Clone(svc.Source)
		out = append(out, copied)
	}
	return out
}

// Calls returns how many requests named procedure, whatever their outcome.
func (s *Server) Calls(procedure string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[procedure]
}

// AuthForms returns how many requests carried each Authorization form: "bearer" and "plain".
func (s *Server) AuthForms() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.authForms)
}

func (s *Server) ensureProject(name string) {
	for _, p := range s.projects {
		if p == name {
			return
		}
	}
	s.projects = append(s.projects, name)
}

func (s *Server) find(project, name, typ string) (int, *service) {
	for i, svc := range s.services {
		if svc.ProjectName == project && svc.Name == name && (typ == "" || svc.Type == typ) {
			return i, svc
		}
	}
	return -1, nil
}

func (s *Server) newToken() string {
	token := randomHex()
	s.tokens[token] = true
	return token
}

func randomHex() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return hex.EncodeToString(b)
}

// hasProject reports whether the panel has project name.
func (s *Server) hasProject(name string) bool { return slices.Contains(s.projects, name) }

// actionEpoch dates the fake's actions: one millisecond apart, in creation order.
var actionEpoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func (s *Server) newAction(svc *service) *action {
	n := len(s.actions) + 1
	a := &action{id: fmt.Sprintf("act_%d", n), project: svc.ProjectName, service: svc.Name, status: "running",
		description: "Deploy service", createdAt: actionEpoch.Add(time.Duration(n) * time.Millisecond).Format("2006-01-02T15:04:05.000Z")}
	s.actions = append(s.actions, a)
	return a
}

func (s *Server) nextDomainID() string {
	s.domainSeq++
	return fmt.Sprintf("dom_%d", s.domainSeq)
}
