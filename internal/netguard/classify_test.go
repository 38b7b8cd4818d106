package netguard_test

import (
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"net"
	"net/http"
	"net/url"
	"testing"

	"github.com/presswork/presswork/internal/errs"
	"github.com/presswork/presswork/internal/netguard"
	"github.com/presswork/presswork/internal/testenv"
)

// TestClassifyNameMismatch: a certificate for another name is a
// permanent tls_invalid failure whose words name the names the
// certificate is for and the host that was asked for.
func TestClassifyNameMismatch(t *testing.T) {
	t.Parallel()
	ip := func(s string) net.IP { return net.ParseIP(s) }
	cases := []struct {
		name string
		cert *x509.Certificate
		host string
		want string
	}{
		{"a name for an IP address", &x509.Certificate{DNSNames: []string{"other.example"}}, "127.0.0.1",
			"the TLS certificate is for other.example, not 127.0.0.1; the address or the certificate is wrong"},
		{"names and addresses", &x509.Certificate{DNSNames: []string{"example.com", "*.example.com"},
			IPAddresses: []net.IP{ip("192.0.2.7")}}, "blog.example.org",
			"the TLS certificate is for example.com, *.example.com, 192.0.2.7, not blog.example.org; the address or the certificate is wrong"},
		{"many names", &x509.Certificate{DNSNames: []string{"a.example", "b.example", "c.example", "d.example",
			"e.example", "f.example", "g.example"}}, "blog.example",
			"the TLS certificate is for a.example, b.example, c.example, d.example, e.example, and 2 more, not blog.example; " +
				"the address or the certificate is wrong"},
		{"no names", &x509.Certificate{Subject: pkix.Name{CommonName: "Acme Ltd"}}, "blog.example",
			"the TLS certificate names no host, so it is not valid for blog.example; the address or the certificate is wrong"},
		{"only a Common Name", &x509.Certificate{Subject: pkix.Name{CommonName: "blog.example"}}, "blog.example",
			"the TLS certificate names its host only in the obsolete Common Name field (blog.example), which is no longer " +
				"accepted; it needs a Subject Alternative Name for blog.example"},
		{"no certificate", nil, "blog.example",
			"the TLS certificate is not valid for blog.example; the address or the certificate is wrong"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := &url.Error{Op: "Get", URL: "https://" + c.host, Err: &tls.CertificateVerificationError{
				Err: x509.HostnameError{Certificate: c.cert, Host: c.host}}}
			checkTLSInvalid(t, netguard.Classify(err), c.want)
		})
	}
}

// TestClassifyNameMismatchHandshake classifies the error of a real
// handshake with a server whose certificate, from an authority the client
// trusts, is for another name.
func TestClassifyNameMismatchHandshake(t *testing.T) {
	t.Parallel()
	ca := testenv.NewCA(t)
	srv := ca.TLSServer(t, http.NotFoundHandler(), "other.example")
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(ca.PEM) {
		t.Fatal("the test CA's PEM does not load")
	}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}}
	resp, err := client.Get(srv.URL)
	if err == nil {
		resp.Body.Close()
		t.Fatal("a certificate for other.example was accepted for 127.0.0.1")
	}
	checkTLSInvalid(t, netguard.Classify(err),
		"the TLS certificate is for other.example, not 127.0.0.1; the address or the certificate is wrong")
}

func checkTLSInvalid(t *testing.T, got error, want string) {
	t.Helper()
	msg, _ := errs.MessageOf(got)
	if errs.CodeOf(got) != errs.CodeTLSInvalid || !errs.IsPermanent(got) || msg != want {
		t.Errorf("Classify: code %q, permanent %v, message %q;\nwant %s, permanent, %q",
			errs.CodeOf(got), errs.IsPermanent(got), msg, errs.CodeTLSInvalid, want)
	}
}
