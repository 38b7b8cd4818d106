package httpapi

import (
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/presswork/presswork/internal/errs"
	"github.com/presswork/presswork/internal/store"
)

// deployRequest is the body of POST /v1/sites/:id/deployment.
type deployRequest struct {
	Panel  *string             `json:"panel"`
	Source *store.DeploySource `json:"source"`
	Domain *string             `json:"domain"`
	HTTPS  *bool               `json:"https"`
	Env    map[string]string   `json:"env"`
}

// Limits of deployment requests.
const (
	maxEnvVars  = 50
	maxEnvValue = 4096
)

var (
	envKeyPattern   = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,99}$`)
	imagePattern    = regexp.MustCompile(`^[a-z0-9][a-z0-9._/:@-]{0,199}$`)
	refPattern      = regexp.MustCompile(`^[A-Za-z0-9._/-]{1,100}$`)
	hostnamePattern = regexp.MustCompile(`^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$`)
	// reservedEnv are the variables a deploy sets itself.
	reservedEnv = regexp.MustCompile(`^(DATABASE_URL|WORDPRESS_DB_(HOST|NAME|USER|PASSWORD))$`)
)

// checkDeploy validates a deploy request into d.
func (s *Server) checkDeploy(req deployRequest, d *store.Deployment) error {
	v := &errs.ValidationError{}
	if req.Source == nil {
		v.Add("source", "is required: {\"type\":\"git\",\"repo\":\"https://...\"} or {\"type\":\"image\",\"image\":\"wordpress:6\"}")
	} else {
		d.Source = checkSource(v, *req.Source, s.cfg.AllowPrivateURLs)
	}
	if req.Domain == nil {
		v.Add("domain", "is required")
	} else if d.Domain = strings.ToLower(strings.TrimSpace(*req.Domain)); !validHostname(d.Domain) {
		v.Add("domain", "must be a host name such as blog.example.com")
	} else if problem := s.reservedDomainProblem(d.Domain); problem != "" {
		v.Add("domain", "%s", problem)
	}
	if req.HTTPS != nil {
		d.HTTPS = *req.HTTPS
	}
	checkEnv(v, req.Env)
	return v.OrNil()
}

func validHostname(h string) bool { return len(h) <= 253 && hostnamePattern.MatchString(h) }

// specialUseDomains are suffixes no deployment may take on any panel:
// names that resolve on the local machine or network (RFC 6761, RFC 6762,
// ICANN's .internal) or to addresses (reverse DNS), never a public site.
var specialUseDomains = []string{"localhost", "local", "internal", "arpa", "invalid"}

// reservedDomainProblem says why a deployment may not take domain, or "":
// the operator's panel serves its own interface on its host, and the
// operator reserves suffixes (DEPLOY_RESERVED_DOMAINS) for its own names.
func (s *Server) reservedDomainProblem(domain string) string {
	if host := s.cfg.Easypanel.Host(); host != "" && domain == host {
		return "is the address of the deployment panel itself"
	}
	for _, suffixes := range [][]string{specialUseDomains, s.cfg.DeployReservedDomains} {
		for _, suffix := range suffixes {
			if domain == suffix || strings.HasSuffix(domain, "."+suffix) {
				return fmt.Sprintf("is reserved: no deployment may use %s or a name under it", suffix)
			}
		}
	}
	return ""
}

// imageRegistry returns the registry host:port an image reference names,
// or "" for Docker Hub. As in Docker's reference grammar, the first path
// component is a registry only when it contains a '.' or a ':' or is
// localhost (wordpress:6 and library/wordpress are Docker Hub's).
func imageRegistry(ref string) string {
	first, _, hasPath := strings.Cut(ref, "/")
	if !hasPath || (!strings.ContainsAny(first, ".:") && first != "localhost") {
		return ""
	}
	return first
}

// checkImage validates an image reference and its registry's host.
func checkImage(v *errs.ValidationError, image string, allowPrivate bool) {
	if !imagePattern.MatchString(image) {
		v.Add("source.image", "must be an image reference such as wordpress:6")
		return
	}
	registry := imageRegistry(image)
	if registry == "" {
		return
	}
	host := registry
	if strings.Contains(registry, ":") {
		h, port, err := net.SplitHostPort(registry)
		n, perr := strconv.Atoi(port)
		if err != nil || h == "" || perr != nil || n < 1 || n > 65535 {
			v.Add("source.image", "must name its registry as host or host:port (a port from 1 to 65535), "+
				"such as registry.example.com:5000/site:1")
			return
		}
		host = h
	}
	if problem := hostProblem(host, allowPrivate); problem != "" {
		v.Add("source.image", "registry %s", problem)
	}
}

func checkSource(v *errs.ValidationError, src store.DeploySource, allowPrivate bool) store.DeploySource {
	switch src.Type {
	case "git":
		u, err := url.Parse(src.Repo)
		switch {
		case err != nil || u.Scheme != "https" || u.Host == "":
			v.Add("source.repo", "must be an https:// URL of a git repository")
		case u.User != nil:
			v.Add("source.repo", "must not contain credentials")
		default:
			if problem := hostProblem(u.Hostname(), allowPrivate); problem != "" {
				v.Add("source.repo", "%s", problem)
			}
		}
		if src.Ref == "" {
			src.Ref = "main"
		}
		if !refPattern.MatchString(src.Ref) {
			v.Add("source.ref", "must be a branch or tag name")
		}
		if src.Path == "" {
			src.Path = "/"
		}
		if src.Dockerfile == "" {
			src.Dockerfile = "Dockerfile"
		}
		if !refPattern.MatchString(src.Path) || !refPattern.MatchString(src.Dockerfile) {
			v.Add("source.path", "and source.dockerfile must be paths of letters, digits, dots, dashes and slashes")
		}
		if src.Image != "" {
			v.Add("source.image", "is for sources of type image")
		}
	case "image":
		checkImage(v, src.Image, allowPrivate)
		if src.Repo != "" || src.Ref != "" || src.Path != "" || src.Dockerfile != "" {
			v.Add("source", "of type image takes only image")
		}
	default:
		v.Add("source.type", "must be git or image")
	}
	return src
}

// checkEnv validates the user's variables: names, sizes, and no line
// breaks (the panel takes them as KEY=value lines).
func checkEnv(v *errs.ValidationError, env map[string]string) {
	if len(env) > maxEnvVars {
		v.Add("env", "may hold at most %d variables", maxEnvVars)
		return
	}
	for k, val := range env {
		field := "env." + k
		switch {
		case !envKeyPattern.MatchString(k):
			v.Add("env", "variable name %q must be letters, digits and underscores, not starting with a digit", k)
		case reservedEnv.MatchString(k):
			v.Add(field, "is set by the deploy (the site's database)")
		case len(val) > maxEnvValue:
			v.Add(field, "must be at most %d bytes", maxEnvValue)
		case strings.ContainsAny(val, "\r\n\x00"):
			v.Add(field, "must be one line")
		}
	}
}
