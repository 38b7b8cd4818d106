package fakepanel

import (
	"encoding/json"
	"net/http"
)

// procedure is one tRPC procedure of the fake.
type procedure struct {
	method string
	public bool // callable without a token
	handle func(s *Server, in json.RawMessage) (any, *rpcError)
}

var procedures = map[string]procedure{
	"auth.login":                       {method: http.MethodPost, public: true, handle: (*Server).login},
	"projects.listProjectsAndServices": {method: http.MethodGet, handle: (*Server).listProjectsAndServices},
	"services.mariadb.createService":   {method: http.MethodPost, handle: (*Server).createMariaDB},
	"services.mariadb.destroyService":  {method: http.MethodPost, handle: (*Server).destroyMariaDB},
	"services.app.createService":       {method: http.MethodPost, handle: (*Server).createApp},
	"services.app.updateDeploy":        {method: http.MethodPost, handle: (*Server).updateDeploy},
	"services.app.inspectService":      {method: http.MethodGet, handle: (*Server).inspectApp},
	"services.app.stopService":         {method: http.MethodPost, handle: (*Server).stopApp},
	"services.app.startService":        {method: http.MethodPost, handle: (*Server).startApp},
	"services.app.destroyService":      {method: http.MethodPost, handle: (*Server).destroyApp},
	"domains.updateDomain":             {method: http.MethodPost, handle: (*Server).updateDomain},
	"actions.listActions":              {method: http.MethodGet, handle: (*Server).listActions},
}

func (s *Server) serveTRPC(w http.ResponseWriter, r *http.Request) {
	s.answer(r).write(w)
}

// answer runs one call under the lock.
func (s *Server) answer(r *http.Request) reply {
	name := r.PathValue("procedure")
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls[name]++
	form, token := authForm(r)
	if form != "" {
		s.authForms[form]++
	}
	if s.newerAPI {
		return newerReply(r)
	}
	p, ok := procedures[name]
	if !ok {
		return s.failure(name, errorf(http.StatusNotFound, "No procedure on path %q", name))
	}
	if r.Method != p.method {
		return s.failure(name, errorf(http.StatusMethodNotAllowed, "Unsupported %s on %q", r.Method, name))
	}
	armed := s.armed(name)
	if armed {
		if f, ok := s.popFailure(name, false); ok {
			return s.failure(name, f)
		}
	}
	if !p.public && !s.tokens[token] {
		return s.failure(name, errorf(http.StatusUnauthorized, "Unauthorized"))
	}
	in, inErr := readInput(r)
	if inErr != nil {
		return s.failure(name, inErr)
	}
	var lost *rpcError
	lose := false
	if armed {
		lost, lose = s.popFailure(name, true)
	}
	data, err := p.handle(s, in)
	switch {
	case lose:
		return s.failure(name, lost)
	case err != nil:
		return s.failure(name, err)
	}
	return s.result(data)
}

// armed reports whether the next injected failure of procedure applies to this call, counting
// down the calls it lets pass first.
func (s *Server) armed(name string) bool {
	queue := s.failures[name]
	if len(queue) > 0 && queue[0].skip > 0 {
		queue[0].skip--
		return false
	}
	return true
}

// popFailure takes the next injected failure of procedure when it is of the asked kind.
func (s *Server) popFailure(name string, afterApply bool) (*rpcError, bool) {
	queue := s.failures[name]
	if len(queue) == 0 || queue[0].afterApply != afterApply {
		return nil, false
	}
	s.failures[name] = queue[1:]
	return &rpcError{status: queue[0].status, message: queue[0].message}, true
}
