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
