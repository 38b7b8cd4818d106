package worker

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/hibiken/asynq"

	"github.com/presswork/presswork/internal/config"
	"github.com/presswork/presswork/internal/easypanel"
	"github.com/presswork/presswork/internal/jobs"
	"github.com/presswork/presswork/internal/netguard"
	"github.com/presswork/presswork/internal/secret"
	"github.com/presswork/presswork/internal/tasks"
)

// checkConcurrency is how many checks one worker process runs at once.
const checkConcurrency = 2

// CheckServerConfig is the configuration of the worker's server of
// checks: jobs.QueueChecks only, with a concurrency of its own.
func CheckServerConfig(c config.Config, log *slog.Logger) asynq.Config {
	return asynq.Config{
		Concurrency:       checkConcurrency,
		Queues:            map[string]int{jobs.QueueChecks: 1},
		TaskCheckInterval: c.TaskCheckInterval,
		ShutdownTimeout:   c.ShutdownTimeout,
		Logger:            asynqLogger{log},
		LogLevel:          asynq.WarnLevel,
	}
}

// PanelChecker answers panel checks: it opens the password, checks the
// panel and writes the result for the API that waits for it.
type PanelChecker struct {
	Box *secret.Box
	// AllowPrivateURLs lets checks reach loopback and private addresses.
	AllowPrivateURLs bool
	// RootCAs are the authorities a panel's certificate may come from;
	// nil: the system's.
	RootCAs *x509.CertPool
	Log     *slog.Logger
}

// ProcessTask runs one check. A check's outcome, good or bad, is its
// result; an error means the check could not run.
func (c *PanelChecker) ProcessTask(ctx context.Context, t *asynq.Task) error {
	var p tasks.PanelCheckPayload
	if err := json.Unmarshal(t.Payload(), &p); err != nil {
		return fmt.Errorf("decode the panel check: %w", err)
	}
	password, err := c.Box.Open(p.SealedPassword, tasks.PanelCheckAD(p.TenantID, p.CheckID))
	if err != nil {
		return fmt.Errorf("open the panel check's password: %w", err)
	}
	hc := c.client()
	defer hc.CloseIdleConnections()
	checked := easypanel.Check(ctx, p.URL, p.Email, string(password), p.Project, hc)
	result, err := tasks.PanelCheckResultOf(checked)
	if err != nil {
		return fmt.Errorf("check the panel: %w", err)
	}
	if result.Unavailable != "" {
		c.Log.Warn("panel check: unavailable", "tenant_id", p.TenantID, "check_id", p.CheckID, "error", checked)
	}
	body, err := json.Marshal(result)
	if err != nil {
		return fmt.Errorf("encode the panel check's result: %w", err)
	}
	if _, err := t.ResultWriter().Write(body); err != nil {
		return fmt.Errorf("write the panel check's result: %w", err)
	}
	return nil
}

// client is the HTTP client of one check: it refuses private addresses as
// the worker's clients do, unless the operator allows them.
func (c *PanelChecker) client() *http.Client {
	transport := http.DefaultTransport.(*http.Transport).Clone()
	if !c.AllowPrivateURLs {
		transport = netguard.Transport()
	}
	if c.RootCAs != nil {
		transport.TLSClientConfig = &tls.Config{RootCAs: c.RootCAs}
	}
	transport.DisableKeepAlives = true // one check's client: keep no connection behind
	return &http.Client{Transport: transport, Timeout: easypanel.CheckTimeout}
}
