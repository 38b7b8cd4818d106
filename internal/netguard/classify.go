package netguard

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"strconv"
	"strings"
	"syscall"

	"github.com/presswork/presswork/internal/errs"
)

// Classify names why a connection to a remote host failed, in words its
// owner can act on, with a code (errs.CodedError); failures no waiting can
// heal (a name that does not exist, a certificate that is not valid for
// the host, an address refused by the guard) are permanent. It returns nil
// for an error it does not recognize.
func Classify(err error) error {
	var dns *net.DNSError
	var host x509.HostnameError
	var authority x509.UnknownAuthorityError
	var invalid x509.CertificateInvalidError
	var record tls.RecordHeaderError
	var timeout interface{ Timeout() bool }
	switch {
	case errors.Is(err, ErrPrivateAddress):
		return errs.Permanent(errs.WithCode(errs.CodeUnreachable,
			"the address is private or loopback, which tenants' URLs may not reach", err))
	case errors.As(err, &dns) && dns.IsNotFound:
		return errs.Permanent(errs.WithCode(errs.CodeDNSNotFound,
			"the name "+dns.Name+" does not exist (DNS); check the address", err))
	case errors.As(err, &dns):
		return errs.WithCode(errs.CodeUnreachable, "the name "+dns.Name+" could not be looked up (DNS)", err)
	case errors.As(err, &host):
		return errs.Permanent(errs.WithCode(errs.CodeTLSInvalid, nameMismatch(host), err))
	case errors.As(err, &authority):
		return errs.Permanent(errs.WithCode(errs.CodeTLSInvalid,
			"the TLS certificate is not signed by a known authority (a self-signed certificate?)", err))
	case errors.As(err, &invalid):
		return errs.Permanent(errs.WithCode(errs.CodeTLSInvalid,
			"the TLS certificate is not valid (expired, or not for this use)", err))
	case errors.As(err, &record):
		return errs.Permanent(errs.WithCode(errs.CodeTLSInvalid,
			"the address does not speak HTTPS (an http:// server on an https:// address?)", err))
	case errors.Is(err, syscall.ECONNREFUSED):
		return errs.WithCode(errs.CodeUnreachable, "the server refused the connection", err)
	case errors.As(err, &timeout) && timeout.Timeout():
		return errs.WithCode(errs.CodeTimeout, "the server did not answer in time", err)
	}
	return nil
}

// namesShown is how many of a certificate's names a message lists.
const namesShown = 5

// nameMismatch says, of a certificate that is not for the host asked for,
// which names it is for: the usual cause is a site served under an address
// its certificate does not cover (a bare IP address, a missing www., a
// shared host's default certificate).
func nameMismatch(h x509.HostnameError) string {
	const wrong = "; the address or the certificate is wrong"
	c := h.Certificate
	if c == nil {
		return "the TLS certificate is not valid for " + h.Host + wrong
	}
	names := append([]string(nil), c.DNSNames...)
	for _, ip := range c.IPAddresses {
		names = append(names, ip.String())
	}
	switch {
	case len(names) == 0 && strings.EqualFold(c.Subject.CommonName, h.Host):
		return "the TLS certificate names its host only in the obsolete Common Name field (" + c.Subject.CommonName +
			"), which is no longer accepted; it needs a Subject Alternative Name for " + h.Host
	case len(names) == 0:
		return "the TLS certificate names no host, so it is not valid for " + h.Host + wrong
	case len(names) > namesShown:
		names = append(names[:namesShown], "and "+strconv.Itoa(len(names)-namesShown)+" more")
	}
	return "the TLS certificate is for " + strings.Join(names, ", ") + ", not " + h.Host + wrong
}
