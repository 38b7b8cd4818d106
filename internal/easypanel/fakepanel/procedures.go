package fakepanel

import (
	"encoding/json"
	"net/http"
	"slices"
)

func decode(in json.RawMessage, into any) *rpcError {
	if err := json.Unmarshal(in, into); err != nil {
		return errorf(http.StatusBadRequest, "invalid input: %v", err)
	}
	return nil
}

func (s *Server) login(in json.RawMessage) (any, *rpcError) {
	var creds struct{ Email, Password string }
	if err := decode(in, &creds); err != nil {
		return nil, err
	}
	if creds.Email != s.email || creds.Password != s.password {
		return nil, errorf(http.StatusUnauthorized, "Invalid credentials")
	}
	return map[string]string{"token": s.newToken()}, nil
}

func (s *Server) listProjectsAndServices(json.RawMessage) (any, *rpcError) {
	projects := []map[string]any{}
	for _, name := range s.projects {
		projects = append(projects, map[string]any{"name": name})
	}
	services := []map[string]any{}
	for _, svc := range s.services {
		services = append(services, map[string]any{
			"projectName": svc.ProjectName, "name": svc.Name, "type": svc.Type, "enabled": svc.Enabled,
		})
	}
	return map[string]any{"projects": projects, "services": services}, nil
}

// claim refuses a name that is taken in project, and a project the panel lacks (as panels have
// been seen answering it: INTERNAL_SERVER_ERROR naming the project).
func (s *Server) claim(project, name string) *rpcError {
	if project == "" || name == "" {
		return errorf(http.StatusBadRequest, "invalid input: projectName and serviceName are required")
	}
	if !s.hasProject(project) {
		return errorf(http.StatusInternalServerError, "Project %s not found", project)
	}
	if _, existing := s.find(project, name, ""); existing != nil {
		return errorf(http.StatusConflict, "Service already exists")
	}
	return nil
}

type mariaDBInput struct {
	ProjectName, ServiceName, DatabaseName, User, Image string
	Password, RootPassword                              string
	ExposedPort                                         *int
	Resources, Backup, PhpMyAdmin, DbGate               map[string]any
}

func (in mariaDBInput) validate() *rpcError {
	if in.DatabaseName == "" || in.User == "" || in.Image == "" || in.Password == "" || in.RootPassword == "" {
		return errorf(http.StatusBadRequest, "invalid input: databaseName, user, image, password and rootPassword are required")
	}
	if in.ExposedPort == nil || in.Resources == nil || in.Backup == nil || in.PhpMyAdmin == nil || in.DbGate == nil {
		return errorf(http.StatusBadRequest, "invalid input: exposedPort, resources, backup, phpMyAdmin and dbGate are required")
	}
	return nil
}

func (s *Server) createMariaDB(raw json.RawMessage) (any, *rpcError) {
	var in mariaDBInput
	if err := decode(raw, &in); err != nil {
		return nil, err
	}
	if err := in.validate(); err != nil {
		return nil, err
	}
	if err := s.claim(in.ProjectName, in.ServiceName); err != nil {
		return nil, err
	}
	svc := &service{FakeService: FakeService{
		ProjectName: in.ProjectName, Name: in.ServiceName, Type: "mariadb", Enabled: true,
		DatabaseName: in.DatabaseName, User: in.User, Password: in.Password,
		RootPassword: in.RootPassword, Image: in.Image, Creates: 1,
	}}
	s.services = append(s.services, svc)
	// The real panel echoes both passwords; callers must mask them.
	return map[string]any{
		"type": "mariadb", "projectName": svc.ProjectName, "name": svc.Name,
		"databaseName": svc.DatabaseName, "user": svc.User, "image": svc.Image,
		"enabled": svc.Enabled, "exposedPort": *in.ExposedPort,
		"password": svc.Password, "rootPassword": svc.RootPassword, "env": "", "command": "",
	}, nil
}

type appInput struct {
	ProjectName, ServiceName string
	Source                   map[string]any
	Build                    map[string]any
	Domains                  []struct {
		Host  string
		HTTPS bool `json:"https"`
	}
	Mounts []map[string]any
	Env    string
}

func (in appInput) validate() *rpcError {
	switch in.Source["type"] {
	case "git":
		if in.Source["repo"] == nil || in.Source["ref"] == nil || in.Source["path"] == nil {
			return errorf(http.StatusBadRequest, "invalid input: a git source needs repo, ref and path")
		}
	case "image":
		if in.Source["image"] == nil {
			return errorf(http.StatusBadRequest, "invalid input: an image source needs image")
		}
	default:
		return errorf(http.StatusBadRequest, "invalid input: source.type must be git or image")
	}
	return nil
}

func (s *Server) createApp(raw json.RawMessage) (any, *rpcError) {
	var in appInput
	if err := decode(raw, &in); err != nil {
		return nil, err
	}
	if err := in.validate(); err != nil {
		return nil, err
	}
	if err := s.claim(in.ProjectName, in.ServiceName); err != nil {
		return nil, err
	}
	svc := &service{FakeService: FakeService{
		ProjectName: in.ProjectName, Name: in.ServiceName, Type: "app", Env: in.Env, Enabled: s.enabledEarly,
		Source: in.Source, PrimaryDomainID: s.nextDomainID(), Creates: 1,
	}}
	if len(in.Domains) > 0 {
		svc.Domain = in.Domains[0].Host
	}
	s.services = append(s.services, svc)
	return appReply(svc), nil
}

func appReply(svc *service) map[string]any {
	return map[string]any{
		"projectName": svc.ProjectName, "name": svc.Name, "type": "app",
		"enabled": svc.Enabled, "token": "deploy-" + svc.PrimaryDomainID,
		"primaryDomainId": svc.PrimaryDomainID, "source": svc.Source, "env": svc.Env,
		"build":  map[string]any{"type": "dockerfile", "file": "Dockerfile"},
		"deploy": map[string]any{"replicas": 1, "command": nil, "zeroDowntime": true},
		"mounts": []any{}, "ports": []any{},
	}
}

type serviceInput struct {
	ProjectName string `json:"projectName"`
	ServiceName string `json:"serviceName"`
}

// app finds the app the input names, or answers as the panel does for a missing one.
func (s *Server) app(raw json.RawMessage) (*service, *rpcError) {
	var in serviceInput
	if err := decode(raw, &in); err != nil {
		return nil, err
	}
	_, svc := s.find(in.ProjectName, in.ServiceName, "app")
	if svc == nil {
		return nil, serviceNotFound()
	}
	return svc, nil
}

// startDeploy starts a deploy action; it ends after deployDelay looks at the service.
func (s *Server) startDeploy(svc *service) {
	svc.deploying = true
	svc.waitLeft = s.deployDelay
	svc.action = s.newAction(svc)
	if len(s.failDeploys) > 0 {
		svc.action.description, s.failDeploys = s.failDeploys[0], s.failDeploys[1:]
		svc.waitLeft = 0
		svc.action.status = "failing"
	}
}

// progress is one look at a deploying service: the deploy moves on, and ends once its looks
// are used up.
func (s *Server) progress(svc *service) {
	if !svc.deploying {
		return
	}
	if svc.waitLeft != 0 {
		if svc.waitLeft > 0 {
			svc.waitLeft--
		}
		return
	}
	svc.deploying = false
	if svc.action.status == "failing" {
		svc.action.status = "error"
		return
	}
	svc.action.status = "done"
	svc.Enabled = true
}

// listActions serves actions.listActions, which the reference does not document: the
// service's actions, newest first, as {id, type, status, description, createdAt}.
func (s *Server) listActions(raw json.RawMessage) (any, *rpcError) {
	var in serviceInput
	if err := decode(raw, &in); err != nil {
		return nil, err
	}
	if _, svc := s.find(in.ProjectName, in.ServiceName, ""); svc != nil {
		s.progress(svc)
	}
	out := []map[string]any{}
	for i := len(s.actions) - 1; i >= 0; i-- {
		a := s.actions[i]
		if a.project == in.ProjectName && a.service == in.ServiceName {
			status := a.status
			if status == "failing" {
				status = "running"
			}
			out = append(out, map[string]any{"id": a.id, "type": "deploy", "status": status,
				"description": a.description, "projectName": a.project, "serviceName": a.service,
				"createdAt": a.createdAt})
		}
	}
	return out, nil
}

func (s *Server) updateDeploy(raw json.RawMessage) (any, *rpcError) {
	var in struct {
		Deploy map[string]any `json:"deploy"`
	}
	if err := decode(raw, &in); err != nil {
		return nil, err
	}
	if in.Deploy == nil {
		return nil, errorf(http.StatusBadRequest, "invalid input: deploy is required")
	}
	svc, err := s.app(raw)
	if err != nil {
		return nil, err
	}
	s.startDeploy(svc)
	return nil, nil
}

// inspectApp reports a deploying app disabled (or enabled, with SetEnabledWhileDeploying) until
// its deploy ends.
func (s *Server) inspectApp(raw json.RawMessage) (any, *rpcError) {
	svc, err := s.app(raw)
	if err != nil {
		return nil, err
	}
	s.progress(svc)
	reply := appReply(svc)
	if svc.deploying && !s.enabledEarly {
		reply["enabled"] = false
	}
	return reply, nil
}

func (s *Server) stopApp(raw json.RawMessage) (any, *rpcError) {
	svc, err := s.app(raw)
	if err != nil {
		return nil, err
	}
	svc.Enabled, svc.deploying = false, false
	return nil, nil
}

func (s *Server) startApp(raw json.RawMessage) (any, *rpcError) {
	svc, err := s.app(raw)
	if err != nil {
		return nil, err
	}
	s.startDeploy(svc)
	return nil, nil
}

func (s *Server) destroyApp(raw json.RawMessage) (any, *rpcError) {
	return s.destroy(raw, "app")
}

// destroyMariaDB serves services.mariadb.destroyService, which the reference does not document;
// it mirrors services.app.destroyService.
func (s *Server) destroyMariaDB(raw json.RawMessage) (any, *rpcError) {
	return s.destroy(raw, "mariadb")
}

func (s *Server) destroy(raw json.RawMessage, typ string) (any, *rpcError) {
	var in serviceInput
	if err := decode(raw, &in); err != nil {
		return nil, err
	}
	i, svc := s.find(in.ProjectName, in.ServiceName, typ)
	if svc == nil {
		return nil, serviceNotFound()
	}
	s.services = slices.Delete(s.services, i, i+1)
	return nil, nil
}

type domainInput struct {
	ID                  json.RawMessage `json:"id"`
	Host                string          `json:"host"`
	HTTPS               *bool           `json:"https"`
	Path                *string         `json:"path"`
	Middlewares         []any           `json:"middlewares"`
	CertificateResolver *string         `json:"certificateResolver"`
	Wildcard            *bool           `json:"wildcard"`
	DestinationType     string          `json:"destinationType"`
	ServiceDestination  *struct {
		Protocol    string `json:"protocol"`
		Port        int    `json:"port"`
		Path        string `json:"path"`
		ProjectName string `json:"projectName"`
		ServiceName string `json:"serviceName"`
	} `json:"serviceDestination"`
}

func (in domainInput) validate() *rpcError {
	complete := in.ID != nil && in.Host != "" && in.HTTPS != nil && in.Path != nil &&
		in.Middlewares != nil && in.CertificateResolver != nil && in.Wildcard != nil &&
		in.DestinationType == "service" && in.ServiceDestination != nil &&
		in.ServiceDestination.Protocol != "" && in.ServiceDestination.Port != 0
	if !complete {
		return errorf(http.StatusBadRequest, "invalid input: incomplete domain")
	}
	return nil
}

func (s *Server) updateDomain(raw json.RawMessage) (any, *rpcError) {
	var in domainInput
	if err := decode(raw, &in); err != nil {
		return nil, err
	}
	if err := in.validate(); err != nil {
		return nil, err
	}
	dest := in.ServiceDestination
	_, svc := s.find(dest.ProjectName, dest.ServiceName, "app")
	if svc == nil {
		return nil, serviceNotFound()
	}
	var id string
	if json.Unmarshal(in.ID, &id) != nil || id != svc.PrimaryDomainID {
		return nil, errorf(http.StatusNotFound, "Domain not found")
	}
	svc.Domain = in.Host
	return map[string]any{
		"id": id, "host": in.Host, "https": *in.HTTPS, "path": *in.Path,
		"middlewares": in.Middlewares, "certificateResolver": *in.CertificateResolver,
		"wildcard": *in.Wildcard, "destinationType": in.DestinationType, "serviceDestination": dest,
	}, nil
}
