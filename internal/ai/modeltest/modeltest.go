// Package modeltest tries a model of the catalogue with a tiny request and
// says what failed in plain words: the key, the model, the network (#23,
// POST /v1/admin/models/:id/test). It calls providers, so it runs in the
// worker, never in the API process (docs/architecture.md).
package modeltest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/presswork/presswork/internal/ai"
	"github.com/presswork/presswork/internal/ai/openai"
	"github.com/presswork/presswork/internal/store"
)

// Problems a Result names (the same words as httpapi's).
const (
	TestProblemKey         = "key"         // no key, or the key was refused (401/403)
	TestProblemModel       = "model"       // the provider does not know the model (404)
	TestProblemNetwork     = "network"     // no connection, or no answer in time
	TestProblemQuota       = "quota"       // rate limited or out of quota (429)
	TestProblemProvider    = "provider"    // the provider failed (5xx) or answered nonsense
	TestProblemRequest     = "request"     // the provider refused the request (another 4xx)
	TestProblemUnsupported = "unsupported" // this server cannot test the model's provider or kind
)

// Result is what a model test found, in plain words. It has the fields of
// httpapi.Result, so one converts to the other.
type Result struct {
	OK bool `json:"ok"`
	// Problem is one of the TestProblem* values; "" when OK.
	Problem   string `json:"problem,omitempty"`
	Message   string `json:"message"`
	LatencyMS int64  `json:"latency_ms"`
}

// modelTestTimeout bounds one test.
const modelTestTimeout = 20 * time.Second

// Tester tests offline models (always fine) and OpenAI and Azure
// OpenAI models, chat and embeddings, with the server's own configuration.
// Other providers are reported as not testable.
type Tester struct {
	// OpenAI and Azure are the configurations of the server's keys (nil:
	// none), for the models of provider "openai" and "azure".
	OpenAI, Azure *openai.Config
	// Options are passed to the OpenAI client (tests: a transport).
	Options []openai.Option
}

// Test calls the model's provider with a tiny request.
func (p Tester) Test(ctx context.Context, m store.AIModel) Result {
	start := time.Now()
	r := p.test(ctx, m)
	r.OK = r.Problem == ""
	r.LatencyMS = time.Since(start).Milliseconds()
	return r
}

func (p Tester) test(ctx context.Context, m store.AIModel) Result {
	var cfg *openai.Config
	switch m.Provider {
	case "offline":
		return Result{Message: fmt.Sprintf("%s works: the offline model needs no provider.", m.Name())}
	case "openai":
		cfg = p.OpenAI
	case "azure":
		cfg = p.Azure
	default:
		return Result{Problem: TestProblemUnsupported,
			Message: fmt.Sprintf("This server cannot test %s models yet.", m.Provider)}
	}
	if cfg == nil {
		return Result{Problem: TestProblemKey,
			Message: fmt.Sprintf("No %s key is configured on this server (OPENAI_API_KEY), so %s cannot be called.", m.Provider, m.Name())}
	}
	ctx, cancel := context.WithTimeout(ctx, modelTestTimeout)
	defer cancel()
	var err error
	switch m.Kind {
	case store.ModelKindChat:
		err = p.testChat(ctx, *cfg, m.Model)
	case store.ModelKindEmbeddings:
		err = p.testEmbeddings(ctx, *cfg, m.Model)
	default:
		return Result{Problem: TestProblemUnsupported, Message: fmt.Sprintf("This server cannot test %s models yet.", m.Kind)}
	}
	if err != nil {
		return classifyTestError(m, err)
	}
	return Result{Message: fmt.Sprintf("%s answered.", m.Name())}
}

// testSchema is the tiny structured answer a chat test asks for.
const testSchema = `{"type":"object","properties":{"ok":{"type":"boolean"}},"required":["ok"],"additionalProperties":false}`

func (p Tester) testChat(ctx context.Context, cfg openai.Config, model string) error {
	cfg.Model, cfg.StageModels = model, nil
	tm, err := openai.NewTextModel(cfg, p.Options...)
	if err != nil {
		return err
	}
	_, err = tm.GenerateJSON(ctx, ai.JSONRequest{Stage: ai.StageClusterName, Prompt: `Answer {"ok": true}.`,
		SchemaName: "test", Schema: []byte(testSchema), MaxTokens: 50})
	return err
}

func (p Tester) testEmbeddings(ctx context.Context, cfg openai.Config, model string) error {
	cfg.EmbeddingModel = model
	e, err := openai.NewEmbedder(cfg, p.Options...)
	if err != nil {
		return err
	}
	_, _, err = e.Embed(ctx, []string{"test"})
	return err
}

// classifyTestError says what a failed test means, without the provider's
// own text (which may quote the key).
func classifyTestError(m store.AIModel, err error) Result {
	var oe *openai.Error
	var ue *url.Error
	var ne net.Error
	name := m.Name()
	switch {
	case errors.As(err, &oe):
		switch s := oe.StatusCode; {
		case s == http.StatusUnauthorized || s == http.StatusForbidden:
			return Result{Problem: TestProblemKey, Message: fmt.Sprintf("The %s key was refused (HTTP %d): check the key configured on this server.", m.Provider, s)}
		case s == http.StatusNotFound:
			return Result{Problem: TestProblemModel, Message: fmt.Sprintf("The provider does not know the model %q (HTTP 404): check its name (or the Azure deployment).", m.Model)}
		case s == http.StatusTooManyRequests:
			return Result{Problem: TestProblemQuota, Message: "The key works, but the account is rate limited or out of quota (HTTP 429)."}
		case s >= 500 || s == http.StatusRequestTimeout:
			return Result{Problem: TestProblemProvider, Message: fmt.Sprintf("The provider failed (HTTP %d); try again later.", s)}
		default:
			return Result{Problem: TestProblemRequest, Message: fmt.Sprintf("The provider refused the test request to %s (HTTP %d).", name, s)}
		}
	case errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()):
		return Result{Problem: TestProblemNetwork, Message: fmt.Sprintf("No answer from the provider within %s.", modelTestTimeout)}
	case errors.As(err, &ue) || errors.As(err, &ne):
		return Result{Problem: TestProblemNetwork, Message: "The provider could not be reached: check the address and the network."}
	}
	return Result{Problem: TestProblemProvider, Message: fmt.Sprintf("%s did not answer as expected.", name)}
}
