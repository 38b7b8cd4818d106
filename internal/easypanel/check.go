package easypanel

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

	"github.com/presswork/presswork/internal/errs"
	"github.com/presswork/presswork/internal/netguard"
)

// CheckTimeout bounds a Check: a login and a listing.
const CheckTimeout = 15 * time.Second

// maxProjectsNamed bounds the projects a refused project's problem lists.
const maxProjectsNamed = 10

// Check logs in to the panel at url and looks for its project, so that
// wrong settings are refused when they are given rather than when a deploy
// fails. Its error is a *errs.ValidationError naming the field at fault
// (email and password for a refused login, project for a missing project,
// url for an address that is no reachable Easypanel) or an
// *errs.UnavailableError for a panel that fails (5xx) or does not answer
// within CheckTimeout. hc carries the requests.
func Check(ctx context.Context, url, email, password, project string, hc *http.Client) error {
	ctx, cancel := context.WithTimeout(ctx, CheckTimeout)
	defer cancel()
	panel := New(url, email, password, hc)
	if err := panel.Login(ctx); err != nil {
		return checkProblem(err)
	}
	inv, err := panel.ListProjectsAndServices(ctx)
	if err != nil {
		return checkProblem(err)
	}
	if !inv.HasProject(project) {
		return missingProject(project, inv.Projects)
	}
	return nil
}

// missingProject is the problem of a project the panel lacks, naming the
// first projects it has.
func missingProject(project string, has []Project) error {
	names := make([]string, 0, maxProjectsNamed)
	for _, p := range has[:min(len(has), maxProjectsNamed)] {
		names = append(names, fmt.Sprintf("%q", p.Name))
	}
	listed := "none"
	if len(names) > 0 {
		listed = strings.Join(names, ", ")
	}
	return errs.Invalid("project", "the panel has no project %q (it has %s); create it in Easypanel or name one it has",
		project, listed)
}

// checkProblem turns a failed check into its problem. The text is
// Presswork's own: the panel's and the network's words (which may quote
// what was sent) stay out of it.
func checkProblem(err error) error {
	var apiErr *Error
	var dnsErr *net.DNSError
	var certErr *tls.CertificateVerificationError
	var unknownAuth x509.UnknownAuthorityError
	switch {
	case errors.Is(err, ErrLoginRefused):
		const refused = "the panel refused to log in with this email and password"
		return (&errs.ValidationError{}).Add("email", refused).Add("password", refused)
	case errors.Is(err, ErrUnsupportedPanel):
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
	case errors.Is(err, ErrBadReply):
		return errs.Invalid("url", "does not answer as an Easypanel (its reply is not the panel's)")
	}
	return errs.Invalid("url", "could not be reached")
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
