package httpapi

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"syscall"
	"time"

	"github.com/presswork/presswork/internal/easypanel"
	"github.com/presswork/presswork/internal/errs"
	"github.com/presswork/presswork/internal/netguard"
	"github.com/presswork/presswork/internal/store"
)

// panelCheckTimeout bounds the checks of PUT /v1/easypanel: a login and a
// listing, inside the request.
const panelCheckTimeout = 15 * time.Second

// maxProjectsNamed bounds the projects a refused project's problem lists.
const maxProjectsNamed = 10

// checkPanel logs in to the panel that PUT /v1/easypanel names and looks
// for its project, so that wrong settings are refused when they are given
// rather than when a deploy fails. The problem names the field at fault:
// email and password for a refused login, project for a missing project,
// url for an address that is no reachable Easypanel; a panel that fails
// (5xx) or does not answer in time is 503.
func (s *Server) checkPanel(ctx context.Context, creds store.PanelCredentials, password string) error {
	ctx, cancel := context.WithTimeout(ctx, panelCheckTimeout)
	defer cancel()
	hc := s.panelCheckClient()
	defer hc.CloseIdleConnections()
	panel := easypanel.New(creds.URL, creds.Email, password, hc)
	if err := panel.Login(ctx); err != nil {
		return panelProblem(err)
	}
	inv, err := panel.ListProjectsAndServices(ctx)
	if err != nil {
		return panelProblem(err)
	}
	if !inv.HasProject(creds.Project) {
		names := make([]string, 0, maxProjectsNamed)
		for _, p := range inv.Projects[:min(len(inv.Projects), maxProjectsNamed)] {
			names = append(names, fmt.Sprintf("%q", p.Name))
		}
		has := "none"
		if len(names) > 0 {
			has = strings.Join(names, ", ")
		}
		return errs.Invalid("project", "the panel has no project %q (it has %s); create it in Easypanel or name one it has",
			creds.Project, has)
	}
	return nil
}

// panelCheckClient is the HTTP client of the checks: it refuses private
// addresses as the worker's does, unless the operator allows them.
func (s *Server) panelCheckClient() *http.Client {
	transport := http.DefaultTransport.(*http.Transport).Clone()
	if !s.cfg.AllowPrivateURLs {
		transport = netguard.Transport()
	}
	transport.DisableKeepAlives = true // one request's client: keep no connection behind
	return &http.Client{Transport: transport, Timeout: panelCheckTimeout}
}

// panelProblem turns a failed check into the answer's problem. The text
// is Presswork's own: the panel's and the network's words (which may quote
// what was sent) stay out of it.
func panelProblem(err error) error {
	var apiErr *easypanel.Error
	var dnsErr *net.DNSError
	var certErr *tls.CertificateVerificationError
	var unknownAuth x509.UnknownAuthorityError
	switch {
	case errors.Is(err, easypanel.ErrLoginRefused):
		const refused = "the panel refused to log in with this email and password"
		return (&errs.ValidationError{}).Add("email", refused).Add("password", refused)
	case errors.Is(err, easypanel.ErrUnsupportedPanel):
		return errs.Invalid("url", "the panel runs Easypanel 2.31 or later (/api/rpc), which Presswork does not support yet")
	case errors.As(err, &apiErr) && (apiErr.Temporary() || apiErr.Status >= 500):
		return errs.Unavailable("the panel", err)
	case errors.As(err, &apiErr) && apiErr.Status == http.StatusUnauthorized:
		return errs.Invalid("password", "the panel refused the token its own login gave")
	case errors.As(err, &apiErr):
		return errs.Invalid("url", "does not answer as an Easypanel (HTTP %d on %s)", apiErr.Status, apiErr.Procedure)
	case errors.Is(err, netguard.ErrPrivateAddress):
		return errs.Invalid("url", "leads to a private or loopback address")
	case errors.Is(err, context.DeadlineExceeded) || isTimeout(err):
		return errs.Unavailable("the panel", err)
	case errors.As(err, &dnsErr):
		return errs.Invalid("url", "could not be reached: its host name does not resolve")
	case errors.Is(err, syscall.ECONNREFUSED):
		return errs.Invalid("url", "could not be reached: the connection was refused")
	case errors.As(err, &certErr), errors.As(err, &unknownAuth):
		return errs.Invalid("url", "could not be reached: its TLS certificate is not valid")
	case errors.Is(err, easypanel.ErrBadReply):
		return errs.Invalid("url", "does not answer as an Easypanel (its reply is not the panel's)")
	}
	return errs.Invalid("url", "could not be reached")
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
