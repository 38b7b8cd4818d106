// Package netguard keeps requests to addresses that tenants choose (their
// OpenAI-compatible servers, later their WordPress sites) away from the
// private networks Presswork runs in: loopback, private, link-local,
// shared (CGNAT) and unspecified addresses are refused unless the operator
// allows them (ALLOW_PRIVATE_URLS=true; the tests do, their fakes listen on
// loopback). CheckHost refuses such hosts when a URL is saved; Transport
// refuses them again when a connection is made, after DNS resolution, so a
// name that resolves (or is rebound) to a private address is refused too.
package netguard

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"syscall"
	"time"

	"github.com/presswork/presswork/internal/errs"
)

// ErrPrivateAddress is wrapped by every refusal.
var ErrPrivateAddress = errors.New("private or loopback address")

// sharedAddressSpace is 100.64.0.0/10 (RFC 6598, carrier-grade NAT).
var sharedAddressSpace = netip.MustParsePrefix("100.64.0.0/10")

// Forbidden reports whether ip is an address a tenant's URL may not reach.
func Forbidden(ip netip.Addr) bool {
	ip = ip.Unmap()
	return ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() ||
		ip.IsInterfaceLocalMulticast() || ip.IsMulticast() || ip.IsUnspecified() || sharedAddressSpace.Contains(ip)
}

// CheckHost refuses a URL host that names this machine or a forbidden
// address literally. Names are checked again, resolved, by Transport.
func CheckHost(host string) error {
	h := strings.ToLower(strings.TrimSuffix(strings.Trim(host, "[]"), "."))
	if h == "localhost" || strings.HasSuffix(h, ".localhost") {
		return fmt.Errorf("%w: %s", ErrPrivateAddress, host)
	}
	if ip, err := netip.ParseAddr(h); err == nil && Forbidden(ip) {
		return fmt.Errorf("%w: %s", ErrPrivateAddress, host)
	}
	return nil
}

// Transport returns an HTTP transport whose connections to forbidden
// addresses fail with a permanent error wrapping ErrPrivateAddress. It uses
// no proxy from the environment: a proxy would hide the address.
func Transport() *http.Transport {
	dialer := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second, Control: control}
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.Proxy = nil
	t.DialContext = dialer.DialContext
	return t
}

func control(_, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return errs.Permanent(fmt.Errorf("%w: cannot read %q", ErrPrivateAddress, address))
	}
	ip, err := netip.ParseAddr(host)
	if err != nil || Forbidden(ip) {
		return errs.Permanent(fmt.Errorf("%w: %s is not reachable for tenants' URLs "+
			"(the operator can allow it with ALLOW_PRIVATE_URLS=true)", ErrPrivateAddress, host))
	}
	return nil
}
