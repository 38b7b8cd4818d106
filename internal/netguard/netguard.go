// Package netguard keeps requests to addresses that tenants choose (their
// OpenAI-compatible servers, their WordPress sites, the sources their
// deployments are built from) away from the private networks Presswork
// runs in: loopback, private, link-local, shared (CGNAT), reserved and
// unspecified addresses are refused, as are IPv6 addresses that carry one
// of those IPv4 addresses inside them (NAT64, 6to4, Teredo,
// IPv4-compatible and -translated forms), unless the operator allows them
// (ALLOW_PRIVATE_URLS=true; the tests do, their fakes listen on
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
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/presswork/presswork/internal/errs"
)

// ErrPrivateAddress is wrapped by every refusal of an address.
var ErrPrivateAddress = errors.New("private or loopback address")

// ErrNumericHost is wrapped by CheckSpelling's refusals.
var ErrNumericHost = errors.New("an IPv4 address not written as four decimal numbers")

var (
	// IPv4 ranges that net/netip has no predicate for.
	sharedAddressSpace = netip.MustParsePrefix("100.64.0.0/10") // RFC 6598, carrier-grade NAT
	thisNetwork        = netip.MustParsePrefix("0.0.0.0/8")     // RFC 791; Linux reaches this machine through it
	benchmarking       = netip.MustParsePrefix("198.18.0.0/15") // RFC 2544, used inside some networks
	reservedIPv4       = netip.MustParsePrefix("240.0.0.0/4")   // RFC 1112, and the broadcast address

	// IPv6 ranges that carry an IPv4 address, or that are local.
	nat64         = netip.MustParsePrefix("64:ff9b::/96")    // RFC 6052, the IPv4 address in the last 32 bits
	nat64Local    = netip.MustParsePrefix("64:ff9b:1::/48")  // RFC 8215: where the IPv4 address sits is the network's choice
	v4Compatible  = netip.MustParsePrefix("::/96")           // RFC 4291, deprecated; holds :: and ::1 too
	v4Translated  = netip.MustParsePrefix("::ffff:0:0:0/96") // RFC 2765 (SIIT)
	sixToFour     = netip.MustParsePrefix("2002::/16")       // RFC 3056, the IPv4 address in bits 16-47
	teredo        = netip.MustParsePrefix("2001::/32")       // RFC 4380, server in bits 32-63, client inverted in the last 32
	siteLocalIPv6 = netip.MustParsePrefix("fec0::/10")       // RFC 3879, deprecated but still routed inside some networks
)

// Forbidden reports whether ip is an address a tenant's URL may not reach.
// An IPv6 address that embeds an IPv4 address is judged by that address.
func Forbidden(ip netip.Addr) bool {
	ip = ip.WithZone("").Unmap()
	if !ip.IsValid() {
		return true
	}
	if ip.Is6() {
		switch {
		case v4Compatible.Contains(ip), nat64Local.Contains(ip), siteLocalIPv6.Contains(ip):
			return true
		}
		for _, inner := range embeddedIPv4(ip) {
			if Forbidden(inner) {
				return true
			}
		}
	}
	return ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() ||
		ip.IsInterfaceLocalMulticast() || ip.IsMulticast() || ip.IsUnspecified() ||
		sharedAddressSpace.Contains(ip) || thisNetwork.Contains(ip) || benchmarking.Contains(ip) || reservedIPv4.Contains(ip)
}

// embeddedIPv4 returns the IPv4 addresses an IPv6 address of a translation
// or tunnelling range sends its packets to.
func embeddedIPv4(ip netip.Addr) []netip.Addr {
	b := ip.As16()
	v4 := func(p []byte) netip.Addr { return netip.AddrFrom4([4]byte(p)) }
	switch {
	case nat64.Contains(ip), v4Translated.Contains(ip):
		return []netip.Addr{v4(b[12:16])}
	case sixToFour.Contains(ip):
		return []netip.Addr{v4(b[2:6])}
	case teredo.Contains(ip):
		client := [4]byte{^b[12], ^b[13], ^b[14], ^b[15]}
		return []netip.Addr{v4(b[4:8]), netip.AddrFrom4(client)}
	}
	return nil
}

// normalHost is host as it is compared: lower case, without the brackets
// of an IPv6 literal or the final dot of a fully qualified name.
func normalHost(host string) string {
	return strings.ToLower(strings.TrimSuffix(strings.Trim(host, "[]"), "."))
}

// CheckHost refuses a URL host that names this machine or a forbidden
// address literally, in any spelling of it that git, curl or a browser
// reads as an address (2130706433, 0x7f000001, 127.1, 0177.0.0.1 are all
// 127.0.0.1 to them). Names are checked again, resolved, by Transport.
func CheckHost(host string) error {
	h := normalHost(host)
	refused := fmt.Errorf("%w: %s", ErrPrivateAddress, host)
	if h == "localhost" || strings.HasSuffix(h, ".localhost") {
		return refused
	}
	if ip, err := netip.ParseAddr(h); err == nil {
		if Forbidden(ip) {
			return refused
		}
		return nil
	}
	// A number that names no address (an overflow, an octal 8) may still
	// mean one to some client: refuse what cannot be judged.
	if ip, numeric, ok := parseNumericIPv4(h); numeric && (!ok || Forbidden(ip)) {
		return refused
	}
	return nil
}

// CheckSpelling refuses a host that is an IPv4 address written other than
// as four decimal numbers (2130706433, 0x7f000001, 127.1, 0177.0.0.1, or
// 127.0.0.01). Clients disagree on such hosts: git, curl and browsers read
// them as addresses, Go's resolver as names; a check made by one cannot
// vouch for the other, so they are refused wherever a URL is saved, even
// when private addresses are allowed.
func CheckSpelling(host string) error {
	h := normalHost(host)
	if _, numeric, _ := parseNumericIPv4(h); !numeric {
		return nil
	}
	if ip, err := netip.ParseAddr(h); err == nil && ip.Is4() {
		return nil
	}
	return fmt.Errorf("%w: %s", ErrNumericHost, host)
}

// parseNumericIPv4 reads host as inet_aton does (and WHATWG URL parsers
// after it): one to four dot-separated numbers, each decimal, octal
// (leading 0) or hexadecimal (leading 0x), the last filling the bytes left.
// numeric says whether host has that shape; ok whether it is an address.
func parseNumericIPv4(host string) (ip netip.Addr, numeric, ok bool) {
	parts := strings.Split(host, ".")
	if len(parts) > 4 {
		return ip, false, false
	}
	for _, p := range parts {
		if !numericPart(p) {
			return ip, false, false
		}
	}
	var v uint64
	for i, p := range parts {
		n, err := parseNumber(p)
		limit := uint64(255)
		if i == len(parts)-1 {
			limit = 1<<(8*(5-len(parts))) - 1
		}
		if err != nil || n > limit {
			return ip, true, false
		}
		if i < len(parts)-1 {
			v |= n << (8 * (3 - i))
		} else {
			v |= n
		}
	}
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}), true, true
}

// numericPart says whether p is a decimal or octal run of digits or a
// hexadecimal number with its 0x prefix.
func numericPart(p string) bool {
	digits, hexa := p, strings.HasPrefix(p, "0x")
	if hexa {
		digits = p[2:]
	} else if p == "" {
		return false
	}
	for _, r := range digits {
		isDigit := r >= '0' && r <= '9'
		if !isDigit && !(hexa && r >= 'a' && r <= 'f') {
			return false
		}
	}
	return true
}

func parseNumber(p string) (uint64, error) {
	switch {
	case p == "0x":
		return 0, nil // WHATWG reads a bare prefix as 0
	case strings.HasPrefix(p, "0x"):
		return strconv.ParseUint(p[2:], 16, 64)
	case len(p) > 1 && p[0] == '0':
		return strconv.ParseUint(p[1:], 8, 64)
	}
	return strconv.ParseUint(p, 10, 64)
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
