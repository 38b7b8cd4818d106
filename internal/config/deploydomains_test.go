package config_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/presswork/presswork/internal/config"
)

func TestDeployReservedDomains(t *testing.T) {
	c := load(t, map[string]string{"DEPLOY_RESERVED_DOMAINS": " Easypanel.Host, *.ops.example.com,.internal.example., ,panel.example.net"})
	want := []string{"easypanel.host", "ops.example.com", "internal.example", "panel.example.net"}
	if !reflect.DeepEqual(c.DeployReservedDomains, want) {
		t.Errorf("DeployReservedDomains = %q, want %q", c.DeployReservedDomains, want)
	}
	for _, bad := range []string{"exa mple.com", "-bad.example", "a..b", "*.", "example.com/x", "ex_ample.com",
		strings.Repeat("a", 64) + ".com"} {
		msg := loadErr(t, map[string]string{"DEPLOY_RESERVED_DOMAINS": "ok.example," + bad})
		if !strings.Contains(msg, "DEPLOY_RESERVED_DOMAINS") {
			t.Errorf("DEPLOY_RESERVED_DOMAINS=%q: error %q does not name the variable", bad, msg)
		}
	}
}

func TestEasypanelHost(t *testing.T) {
	for raw, want := range map[string]string{
		"":                                 "",
		"https://Panel.Example.com":        "panel.example.com",
		"https://panel.example.com:3000/x": "panel.example.com",
		"http://panel.example.com.":        "panel.example.com",
	} {
		if got := (config.EasypanelConfig{URL: raw}).Host(); got != want {
			t.Errorf("Host of %q = %q, want %q", raw, got, want)
		}
	}
}
