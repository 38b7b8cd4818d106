package worker

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/presswork/presswork/internal/easypanel"
	"github.com/presswork/presswork/internal/store"
)

func TestServiceName(t *testing.T) {
	t.Parallel()
	tests := []struct{ tenant, site, want string }{
		{"acme", "My Blog", "acme-my-blog"},
		{"Acme!!", "  Café & Co ", "acme-caf-co"},
		{"", "!!!", "site"},
		{"tenant", strings.Repeat("ab", 20) + "-more", "tenant-" + strings.Repeat("ab", 16) + "a"},
		{"t", strings.Repeat("x", 37) + "-tail", "t-" + strings.Repeat("x", 37)},
	}
	for _, tt := range tests {
		got := serviceName(tt.tenant, tt.site)
		if got != tt.want || len(got) > 40 {
			t.Errorf("serviceName(%q, %q) = %q, want %q (at most 40 characters)", tt.tenant, tt.site, got, tt.want)
		}
	}
}

func TestRetryable(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"network", errors.New("dial tcp: connection refused"), true},
		{"panel 503", &easypanel.Error{Status: 503}, true},
		{"panel 429", fmt.Errorf("deploy: %w", &easypanel.Error{Status: 429}), true},
		{"panel 400", &easypanel.Error{Status: 400, Code: "BAD_REQUEST"}, false},
		{"login refused", fmt.Errorf("login: %w", easypanel.ErrLoginRefused), false},
		{"unsupported panel", fmt.Errorf("panel: %w", easypanel.ErrUnsupportedPanel), false},
	}
	for _, tt := range tests {
		if got := retryable(tt.err); got != tt.want {
			t.Errorf("%s: retryable = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestAdoptTaken(t *testing.T) {
	t.Parallel()
	if err := adoptTaken(&easypanel.Error{Status: 409}); err != nil {
		t.Errorf("a name taken: %v, want it adopted", err)
	}
	refused := &easypanel.Error{Status: 400, Message: "bad image"}
	if err := adoptTaken(refused); err != refused {
		t.Errorf("a refusal: %v, want it kept", err)
	}
}

func TestUserMessage(t *testing.T) {
	t.Parallel()
	const failure = "Deployment failed: the panel refused the domain"
	const password = "hunter2-secret"
	tests := []struct {
		name, panel string
		err         error
		want        string
	}{
		{"tenant's login refused", "tenant", easypanel.ErrLoginRefused,
			"Deployment failed: the panel refused Presswork's login; correct the email or password with PUT /v1/easypanel"},
		{"operator's login refused", "operator", easypanel.ErrLoginRefused,
			"Deployment failed: the operator's panel refused Presswork's login (EASYPANEL_EMAIL, EASYPANEL_PASSWORD)"},
		{"newer panel", "tenant", easypanel.ErrUnsupportedPanel,
			"Deployment failed: the panel runs a newer Easypanel (2.31 or later) that Presswork does not support yet"},
		{"operator's project missing", "operator", &missingProjectError{project: "wp"},
			`Deployment failed: the operator's panel has no project "wp" (EASYPANEL_PROJECT)`},
		{"tenant's project missing", "tenant", &easypanel.Error{Status: 404, Message: "project not found"},
			`Deployment failed: the panel has no project "wp"; create it on the panel or name another with PUT /v1/easypanel`},
		{"panel's reason, scrubbed", "tenant", &easypanel.Error{Status: 400, Message: "bad password " + password},
			failure + ": bad password ***"},
		{"deploy ended in error, shortened", "tenant", &deployFailedError{reason: strings.Repeat("x", 300)},
			"Deployment failed: the panel's deploy ended in error: " + strings.Repeat("x", maxReasonLen) + "..."},
		{"no words of the panel", "tenant", errors.New("dial tcp: timeout"), failure},
	}
	for _, tt := range tests {
		dp := &deployJob{d: store.Deployment{Panel: tt.panel, Project: "wp"}, secrets: []string{password}}
		if got := dp.userMessage(failure, tt.err); got != tt.want {
			t.Errorf("%s:\n got %q\nwant %q", tt.name, got, tt.want)
		}
	}
}
