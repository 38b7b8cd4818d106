package easypanel

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// Project is a panel project, the namespace of services.
type Project struct {
	Name string `json:"name"`
}

// ServiceRef names a service and its type ("app", "mariadb", ...).
type ServiceRef struct {
	ProjectName string `json:"projectName"`
	Name        string `json:"name"`
	Type        string `json:"type"`
}

// Inventory is everything the panel holds, as projects.listProjectsAndServices lists it.
type Inventory struct {
	Projects []Project    `json:"projects"`
	Services []ServiceRef `json:"services"`
}

// Has reports whether project holds a service named service, of any type.
func (inv Inventory) Has(project, service string) bool {
	for _, s := range inv.Services {
		if s.ProjectName == project && s.Name == service {
			return true
		}
	}
	return false
}

// ListProjectsAndServices calls projects.listProjectsAndServices.
func (c *Client) ListProjectsAndServices(ctx context.Context) (Inventory, error) {
	var inv Inventory
	err := c.call(ctx, query("projects.listProjectsAndServices", nil), &inv)
	return inv, err
}

// Service is a created or inspected service.
type Service struct {
	ProjectName     string `json:"projectName"`
	Name            string `json:"name"`
	Type            string `json:"type"`
	Enabled         bool   `json:"enabled"`
	PrimaryDomainID string `json:"-"` // from primaryDomainId, a JSON string or number
}

// UnmarshalJSON reads primaryDomainId whether the panel sends it as a string or a number.
func (s *Service) UnmarshalJSON(data []byte) error {
	type plain Service
	var wire struct {
		plain
		PrimaryDomainID json.RawMessage `json:"primaryDomainId"`
	}
	if err := json.Unmarshal(data, &wire); err != nil {
		return err
	}
	*s = Service(wire.plain)
	id, err := scalarString(wire.PrimaryDomainID)
	if err != nil {
		return fmt.Errorf("primaryDomainId: %w", err)
	}
	s.PrimaryDomainID = id
	return nil
}

// scalarString returns a JSON string's value or a JSON number's literal; "" for null or absent.
func scalarString(raw json.RawMessage) (string, error) {
	if isNull(raw) {
		return "", nil
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s, nil
	}
	var n json.Number
	if err := json.Unmarshal(raw, &n); err != nil {
		return "", err
	}
	return n.String(), nil
}

// MariaDB describes a MariaDB service to create.
type MariaDB struct {
	ProjectName  string
	ServiceName  string
	DatabaseName string
	User         string
	Password     string
	RootPassword string
	Image        string // "mariadb:11" when empty
}

// ConnectionURL is the database's address as other services of the same panel see it:
// mariadb://{user}:{password}@{projectName}_{serviceName}:3306/{databaseName}.
func (m MariaDB) ConnectionURL() string {
	u := url.URL{
		Scheme: "mariadb",
		User:   url.UserPassword(m.User, m.Password),
		Host:   m.ProjectName + "_" + m.ServiceName + ":3306",
		Path:   "/" + m.DatabaseName,
	}
	return u.String()
}

func (m MariaDB) validate() error {
	if m.ProjectName == "" || m.ServiceName == "" || m.DatabaseName == "" || m.User == "" {
		return errors.New("project, service, database and user names are required")
	}
	if m.Password == "" || m.RootPassword == "" {
		return errors.New("password and root password are required")
	}
	return nil
}

// CreateMariaDB calls services.mariadb.createService. The panel's reply holds both passwords:
// Mask any Error.Reply before logging it.
func (c *Client) CreateMariaDB(ctx context.Context, m MariaDB) (Service, error) {
	if err := m.validate(); err != nil {
		return Service{}, fmt.Errorf("easypanel services.mariadb.createService: %w", err)
	}
	if m.Image == "" {
		m.Image = "mariadb:11"
	}
	in := map[string]any{
		"projectName": m.ProjectName, "serviceName": m.ServiceName,
		"databaseName": m.DatabaseName, "user": m.User, "image": m.Image, "exposedPort": 0,
		"password": m.Password, "rootPassword": m.RootPassword,
		"resources": map[string]int{"memoryReservation": 0, "memoryLimit": 0, "cpuReservation": 0, "cpuLimit": 0},
		"backup": map[string]any{
			"enabled": false, "schedule": "", "destinationId": "", "prefix": "", "databaseName": "",
		},
		"phpMyAdmin": map[string]any{"enabled": false, "token": ""},
		"dbGate":     map[string]any{"enabled": false, "token": ""},
	}
	var svc Service
	err := c.call(ctx, mutation("services.mariadb.createService", in, m.Password, m.RootPassword), &svc)
	return svc, err
}

// Source is where an app's image comes from.
type Source struct {
	Type  string // "git" or "image"
	Repo  string // git: the repository URL
	Ref   string // git: "main" when empty
	Path  string // git: "/" when empty
	Image string // image: the image reference, like "wordpress:6"
}

func (s Source) wire() (map[string]string, error) {
	switch s.Type {
	case "git":
		if s.Repo == "" {
			return nil, errors.New("a git source needs a repository")
		}
		return map[string]string{"type": "git", "repo": s.Repo, "ref": or(s.Ref, "main"), "path": or(s.Path, "/")}, nil
	case "image":
		if s.Image == "" {
			return nil, errors.New("an image source needs an image")
		}
		return map[string]string{"type": "image", "image": s.Image}, nil
	default:
		return nil, fmt.Errorf("source type %q is neither git nor image", s.Type)
	}
}

// App describes an app service to create.
type App struct {
	ProjectName string
	ServiceName string
	Source      Source
	Dockerfile  string // "Dockerfile" when empty; sent only for a git source
	Domain      string // host to serve; empty leaves the panel's default domain
	HTTPS       bool
	Port        int    // container port the domain routes to; 80 when zero
	Env         string // KEY=value lines
	VolumeName  string // optional volume, mounted at MountPath
	MountPath   string
}

func (a App) input() (map[string]any, error) {
	if a.ProjectName == "" || a.ServiceName == "" {
		return nil, errors.New("project and service names are required")
	}
	source, err := a.Source.wire()
	if err != nil {
		return nil, err
	}
	in := map[string]any{
		"projectName": a.ProjectName, "serviceName": a.ServiceName,
		"source": source, "env": a.Env, "mounts": []any{},
	}
	if a.Source.Type == "git" {
		in["build"] = map[string]string{"type": "dockerfile", "file": or(a.Dockerfile, "Dockerfile")}
	}
	if a.Domain != "" {
		in["domains"] = []any{map[string]any{
			"host": a.Domain, "https": a.HTTPS, "path": "/", "wildcard": false,
			"destinationType":    "service",
			"serviceDestination": destination(a.ProjectName, a.ServiceName, a.Port),
		}}
	}
	if a.VolumeName != "" {
		if a.MountPath == "" {
			return nil, errors.New("a volume needs a mount path")
		}
		in["mounts"] = []any{map[string]string{"type": "volume", "name": a.VolumeName, "mountPath": a.MountPath}}
	}
	return in, nil
}

func destination(project, service string, port int) map[string]any {
	if port == 0 {
		port = 80
	}
	return map[string]any{
		"protocol": "http", "port": port, "path": "/", "projectName": project, "serviceName": service,
	}
}

// CreateApp calls services.app.createService. The app stays disabled until Deploy.
func (c *Client) CreateApp(ctx context.Context, a App) (Service, error) {
	in, err := a.input()
	if err != nil {
		return Service{}, fmt.Errorf("easypanel services.app.createService: %w", err)
	}
	var svc Service
	err = c.call(ctx, mutation("services.app.createService", in), &svc)
	return svc, err
}

func serviceInput(project, service string) map[string]any {
	return map[string]any{"projectName": project, "serviceName": service}
}

// InspectApp calls services.app.inspectService.
func (c *Client) InspectApp(ctx context.Context, project, service string) (Service, error) {
	var svc Service
	err := c.call(ctx, query("services.app.inspectService", serviceInput(project, service)), &svc)
	return svc, err
}

// Deploy calls services.app.updateDeploy, which builds and starts the app.
func (c *Client) Deploy(ctx context.Context, project, service string) error {
	in := serviceInput(project, service)
	in["deploy"] = map[string]any{}
	return c.call(ctx, mutation("services.app.updateDeploy", in), nil)
}

// StopApp calls services.app.stopService.
func (c *Client) StopApp(ctx context.Context, project, service string) error {
	return c.call(ctx, mutation("services.app.stopService", serviceInput(project, service)), nil)
}

// StartApp calls services.app.startService.
func (c *Client) StartApp(ctx context.Context, project, service string) error {
	return c.call(ctx, mutation("services.app.startService", serviceInput(project, service)), nil)
}

// DestroyApp calls services.app.destroyService.
func (c *Client) DestroyApp(ctx context.Context, project, service string) error {
	return c.call(ctx, mutation("services.app.destroyService", serviceInput(project, service)), nil)
}

// DestroyMariaDB calls services.mariadb.destroyService. The reference does not document this
// procedure; its name and input follow services.app.destroyService by analogy.
func (c *Client) DestroyMariaDB(ctx context.Context, project, service string) error {
	return c.call(ctx, mutation("services.mariadb.destroyService", serviceInput(project, service)), nil)
}

// Domain is a service's domain, as domains.updateDomain sets it.
type Domain struct {
	ID          string // the service's primaryDomainId, from InspectApp
	Host        string
	HTTPS       bool
	Port        int // container port; 80 when zero
	ProjectName string
	ServiceName string
}

// UpdateDomain calls domains.updateDomain.
func (c *Client) UpdateDomain(ctx context.Context, d Domain) error {
	if d.ID == "" || d.Host == "" {
		return errors.New("easypanel domains.updateDomain: domain id and host are required")
	}
	in := map[string]any{
		"id": domainID(d.ID), "host": d.Host, "https": d.HTTPS, "path": "/",
		"middlewares": []any{}, "certificateResolver": "letsencrypt", "wildcard": false,
		"destinationType":    "service",
		"serviceDestination": destination(d.ProjectName, d.ServiceName, d.Port),
	}
	return c.call(ctx, mutation("domains.updateDomain", in), nil)
}

// domainID sends the id back as the panel gave it: a number when it was one.
func domainID(id string) any {
	if n, err := strconv.ParseInt(id, 10, 64); err == nil {
		return n
	}
	return id
}

func or(value, fallback string) string {
	if value == "" {
		return fallback
	}
	return value
}

// HasProject reports whether the panel has a project named name.
func (inv Inventory) HasProject(name string) bool {
	for _, p := range inv.Projects {
		if p.Name == name {
			return true
		}
	}
	return false
}

// Action states of the panel's actions (a deploy is one). Any other state is an action still
// under way.
const (
	ActionDone  = "done"
	ActionError = "error"
)

// Action is one thing the panel did or does for a service, like a deploy: the deploy's own
// state, which the service's enabled flag is not (a service is enabled before its first deploy
// has built anything).
type Action struct {
	ID          string `json:"id"`
	Type        string `json:"type"`
	Status      string `json:"status"` // "running" while under way, then "done" or "error"
	Description string `json:"description"`
	CreatedAt   string `json:"createdAt"`
}

// Finished reports whether the action ended, well or not.
func (a Action) Finished() bool { return a.Status == ActionDone || a.Status == ActionError }

// DeployActions calls actions.listActions for the service's deploys, newest first. The
// reference documents no procedure for a deploy's state; this one, its input and its reply
// follow what Easypanel's panel serves (and public clients of it use): a list of actions with
// an id, a type ("deploy"), a status ("running", "done", "error") and createdAt.
func (c *Client) DeployActions(ctx context.Context, project, service string) ([]Action, error) {
	in := serviceInput(project, service)
	in["type"] = "deploy"
	var acts []Action
	if err := c.call(ctx, query("actions.listActions", in), &acts); err != nil {
		return nil, err
	}
	deploys := acts[:0]
	for _, a := range acts {
		if a.Type == "" || a.Type == "deploy" {
			deploys = append(deploys, a)
		}
	}
	slices.SortStableFunc(deploys, func(a, b Action) int { return strings.Compare(b.CreatedAt, a.CreatedAt) })
	return deploys, nil
}

// NewerThan returns the newest action of acts (newest first) that is not before or older than
// it: the deploy that started after before was the newest ("" when there was none).
func NewerThan(acts []Action, before Action) (Action, bool) {
	for _, a := range acts {
		if a.ID == before.ID {
			return Action{}, false
		}
		if before.ID == "" || a.CreatedAt >= before.CreatedAt {
			return a, true
		}
	}
	return Action{}, false
}
