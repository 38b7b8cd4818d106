package netguard

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
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
		return errs.Permanent(errs.WithCode(errs.CodeTLSInvalid,
			"the TLS certificate is not valid for "+host.Host+"; the address or the certificate is wrong", err))
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
