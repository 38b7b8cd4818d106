package netguard_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"testing"

	"github.com/presswork/presswork/internal/errs"
	"github.com/presswork/presswork/internal/netguard"
)

func TestForbidden(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1": true, "::1": true, "10.1.2.3": true, "172.16.0.1": true, "192.168.1.1": true,
		"169.254.169.254": true, "fe80::1": true, "fd00::1": true, "0.0.0.0": true, "::": true,
		"100.64.0.1": true, "224.0.0.1": true, "::ffff:127.0.0.1": true,
		"93.184.216.34": false, "8.8.8.8": false, "2606:4700::1111": false, "100.128.0.1": false,
	} {
		if got := netguard.Forbidden(netip.MustParseAddr(addr)); got != want {
			t.Errorf("Forbidden(%s) = %v, want %v", addr, got, want)
		}
	}
}

func TestCheckHost(t *testing.T) {
	for host, refused := range map[string]bool{
		"localhost": true, "LOCALHOST.": true, "api.localhost": true, "127.0.0.1": true, "[::1]": true,
		"10.0.0.5": true, "169.254.169.254": true,
		"api.openai.com": false, "blog.example.com": false, "93.184.216.34": false,
	} {
		err := netguard.CheckHost(host)
		if (err != nil) != refused {
			t.Errorf("CheckHost(%q) = %v, want refused %v", host, err, refused)
		}
		if err != nil && !errors.Is(err, netguard.ErrPrivateAddress) {
			t.Errorf("CheckHost(%q) = %v, want ErrPrivateAddress", host, err)
		}
	}
}

// TestTransportRefusesLoopback dials a real server on loopback, by address
// and by a name that resolves to it.
func TestTransportRefusesLoopback(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		t.Error("the server was reached")
	}))
	defer srv.Close()
	port := srv.Listener.Addr().(interface{ AddrPort() netip.AddrPort }).AddrPort().Port()
	client := &http.Client{Transport: netguard.Transport()}
	for _, u := range []string{srv.URL, "http://localhost:" + strconv.Itoa(int(port))} {
		resp, err := client.Get(u)
		if err == nil {
			resp.Body.Close()
			t.Fatalf("GET %s succeeded, want a refusal", u)
		}
		if !errors.Is(err, netguard.ErrPrivateAddress) || !errs.IsPermanent(err) {
			t.Errorf("GET %s: %v, want a permanent ErrPrivateAddress", u, err)
		}
	}
}

// TestForbiddenEmbeddedIPv4: an IPv6 address that a translator or a tunnel
// turns into a private IPv4 address is as forbidden as that address.
func TestForbiddenEmbeddedIPv4(t *testing.T) {
	for addr, want := range map[string]bool{
		"64:ff9b::7f00:1": true, "64:ff9b::a9fe:a9fe": true, "64:ff9b::10.0.0.5": true, // NAT64
		"64:ff9b::808:808":   false,
		"64:ff9b:1::808:808": true, "64:ff9b:1:ffff::1": true, // local-use NAT64: the IPv4 address may sit anywhere
		"::127.0.0.1": true, "::a00:5": true, "::8.8.8.8": true, // IPv4-compatible, deprecated
		"::ffff:0:127.0.0.1": true, "::ffff:0:8.8.8.8": false, // IPv4-translated
		"::ffff:169.254.169.254": true, "::ffff:10.0.0.5": true, // IPv4-mapped
		"2002:7f00:1::": true, "2002:a9fe:a9fe::1": true, "2002:c0a8:101::": true, "2002:808:808::1": false, // 6to4
		// Teredo: server 65.54.227.120, client 127.0.0.1 inverted; then a public client behind a private server.
		"2001:0:4136:e378:8000:63bf:80ff:fffe": true, "2001:0:a00:5:8000:63bf:f7f7:f7f7": true,
		"2001:0:4136:e378:8000:63bf:f7f7:f7f7": false,
		"fec0::1":                              true, "0.1.2.3": true, "198.18.0.1": true, "240.0.0.1": true, "255.255.255.255": true,
		"2001:db8::1": false, "2606:4700:4700::1111": false,
	} {
		if got := netguard.Forbidden(netip.MustParseAddr(addr)); got != want {
			t.Errorf("Forbidden(%s) = %v, want %v", addr, got, want)
		}
	}
}

// TestCheckHostNumericSpellings: the spellings of an address that git,
// curl and browsers read as that address are judged by it.
func TestCheckHostNumericSpellings(t *testing.T) {
	for host, refused := range map[string]bool{
		"2130706433": true, "0x7f000001": true, "0X7F000001": true, "127.1": true, "0177.0.0.1": true,
		"0x7f.1": true, "0x7f.0.0.1": true, "127.0.0.1.": true, "017700000001": true, "0xa9fea9fe": true,
		"2852039166": true, "10.5": true, "0": true, "0x": true, "127.0.1": true,
		"4294967296": true, "08.1.1.1": true, "1.2.3.999": true, // not addresses, but numbers some client may read
		"[64:ff9b::7f00:1]": true, "[::127.0.0.1]": true, "[2002:a9fe:a9fe::]": true, "[fe80::1%eth0]": true,
		"134744072": false, "0x08080808": false, "8.8.2056": false, // 8.8.8.8
		"1e100.net": false, "0xcafe.example": false, "123.example.com": false, "[64:ff9b::808:808]": false,
	} {
		err := netguard.CheckHost(host)
		if (err != nil) != refused {
			t.Errorf("CheckHost(%q) = %v, want refused %v", host, err, refused)
		}
		if err != nil && !errors.Is(err, netguard.ErrPrivateAddress) {
			t.Errorf("CheckHost(%q) = %v, want ErrPrivateAddress", host, err)
		}
	}
}

// TestCheckSpelling: only four decimal numbers spell an IPv4 address.
func TestCheckSpelling(t *testing.T) {
	for host, refused := range map[string]bool{
		"2130706433": true, "0x7f000001": true, "127.1": true, "0177.0.0.1": true, "0x7f.1": true,
		"134744072": true, "0x08080808": true, "8.8.2056": true, "1.2.3.04": true, "4294967296": true,
		"8.8.8.8": false, "8.8.8.8.": false, "127.0.0.1": false, "[::1]": false, "blog.example.com": false,
		"1e100.net": false, "0xcafe.example": false, "localhost": false,
	} {
		err := netguard.CheckSpelling(host)
		if (err != nil) != refused {
			t.Errorf("CheckSpelling(%q) = %v, want refused %v", host, err, refused)
		}
		if err != nil && !errors.Is(err, netguard.ErrNumericHost) {
			t.Errorf("CheckSpelling(%q) = %v, want ErrNumericHost", host, err)
		}
	}
}

// TestDialRefusesEmbeddedIPv4: the dialer's check refuses, before any
// packet leaves, addresses that reach a private IPv4 address through
// NAT64, 6to4 or the IPv4-compatible form.
func TestDialRefusesEmbeddedIPv4(t *testing.T) {
	for _, addr := range []string{"[64:ff9b::7f00:1]:80", "[64:ff9b::a9fe:a9fe]:80", "[::7f00:1]:443",
		"[2002:a00:5::1]:80", "[::ffff:0:a00:5]:80"} {
		err := netguard.Control("tcp6", addr, nil)
		if !errors.Is(err, netguard.ErrPrivateAddress) || !errs.IsPermanent(err) {
			t.Errorf("dial %s: control = %v, want a permanent ErrPrivateAddress", addr, err)
		}
	}
	if err := netguard.Control("tcp6", "[64:ff9b::808:808]:443", nil); err != nil {
		t.Errorf("dial a public address through NAT64: control = %v, want nil", err)
	}
}
