// Package modeltest tries a model of the catalogue with a tiny request and
// says what failed in plain words: the key, the model, the network (#23,
// POST /v1/admin/models/:id/test). It calls providers, so it runs in the
// worker (the checks server answers the API's model:test tasks), never in
// the API process (docs/architecture.md).
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
	"github.com/presswork/presswork/internal/ai/anthropic"
	"github.com/presswork/presswork/internal/ai/openai"
	"github.com/presswork/presswork/internal/ai/providers"
	"github.com/presswork/presswork/internal/errs"
	"github.com/presswork/presswork/internal/store"
	"github.com/presswork/presswork/internal/tasks"
)

// Result is what a model test found (the task's contract).
type Result = tasks.ModelTestResult

// Timeout bounds one test's call to the provider; a caller that waits for
// the test waits a little longer, so that a provider that does not answer
// is reported as such.
const Timeout = 10 * time.Second

// Tester tests the catalogue's models as the worker serves them: each is
// built from the worker's credentials (providers.Credentials.Build), with
// its limits, and sent one tiny request. Offline models always pass;
// images are not generated (each costs money).
type Tester struct {
	Credentials providers.Credentials
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
	if m.Provider == "offline" {
		return Result{Message: fmt.Sprintf("%s works: the offline model needs no provider.", m.Name())}
	}
	b, err := p.Credentials.Build(m)
	switch {
	case errors.Is(err, providers.ErrNotServed):
		return notConfigured(m)
	case err != nil:
		// Our own words (a kind the provider has no models of), not the
		// provider's.
		return Result{Problem: tasks.ModelTestUnsupported, Message: fmt.Sprintf("%s cannot be served: %v.", m.Name(), err)}
	}
	ctx, cancel := context.WithTimeout(ctx, Timeout)
	defer cancel()
	switch {
	case b.Text != nil:
		err = testChat(ctx, b.Text)
	case b.Embedder != nil:
		_, _, err = b.Embedder.Embed(ctx, []string{"test"})
	case b.Image != nil:
		return Result{Problem: tasks.ModelTestUnsupported, Message: fmt.Sprintf("Not tested: an image costs money. "+
			"The workers have %s credentials, so %s will be called when an image is made.", m.Provider, m.Name())}
	default:
		return Result{Problem: tasks.ModelTestUnsupported, Message: fmt.Sprintf("This server cannot test %s models yet.", m.Kind)}
	}
	if err != nil {
		return classify(m, err)
	}
	return Result{Message: fmt.Sprintf("%s answered.", m.Name())}
}

// notConfigured is the result of a model whose provider has no
// credentials on the worker.
func notConfigured(m store.AIModel) Result {
	env := map[string]string{
		"openai":    "OPENAI_API_KEY",
		"azure":     "OPENAI_API_KEY with OPENAI_API_TYPE=azure",
		"anthropic": "ANTHROPIC_API_KEY",
		"replicate": "REPLICATE_API_TOKEN",
		"gemini":    "GEMINI_API_KEY",
		"mistral":   "MISTRAL_API_KEY",
		"xai":       "XAI_API_KEY",
	}[m.Provider]
	if env == "" {
		return Result{Problem: tasks.ModelTestUnsupported, Message: fmt.Sprintf("Presswork cannot call %s models.", m.Provider)}
	}
	return Result{Problem: tasks.ModelTestKey, Message: fmt.Sprintf(
		"No %s key is configured on the workers (%s), so %s cannot be called.", m.Provider, env, m.Name())}
}

// testSchema is the tiny structured answer a chat test asks for.
const testSchema = `{"type":"object","properties":{"ok":{"type":"boolean"}},"required":["ok"],"additionalProperties":false}`

func testChat(ctx context.Context, tm ai.TextModel) error {
	_, err := tm.GenerateJSON(ctx, ai.JSONRequest{Stage: ai.StageClusterName, Prompt: `Answer {"ok": true}.`,
		SchemaName: "test", Schema: []byte(testSchema), MaxTokens: 50})
	return err
}

// classify says what a failed test means, without the provider's own
// text (which may quote the key).
func classify(m store.AIModel, err error) Result {
	if status, ok := httpStatus(err); ok {
		return classifyStatus(m, status)
	}
	var te *errs.ThrottledError
	var ue *url.Error
	var ne net.Error
	switch {
	case errors.As(err, &te):
		// Throttled with no answer from the provider: the workers' own
		// limiter, before any request.
		return Result{Problem: tasks.ModelTestQuota, Message: fmt.Sprintf(
			"The workers are at %s's rate limit (AI_LIMITS or the catalogue's rpm/tpm); try again in a minute.", m.Name())}
	case errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()):
		return Result{Problem: tasks.ModelTestNetwork, Message: fmt.Sprintf("No answer from the provider within %s.", Timeout)}
	case errors.As(err, &ue) || errors.As(err, &ne):
		return Result{Problem: tasks.ModelTestNetwork, Message: "The provider could not be reached: check the address and the network."}
	}
	return Result{Problem: tasks.ModelTestProvider, Message: fmt.Sprintf("%s did not answer as expected.", m.Name())}
}

// httpStatus is the status of the provider's answer when err is one.
func httpStatus(err error) (int, bool) {
	var oe *openai.Error
	var ae *anthropic.Error
	switch {
	case errors.As(err, &oe):
		return oe.StatusCode, true
	case errors.As(err, &ae):
		if ae.StatusCode == http.StatusTooManyRequests && ae.ErrorCode() != errs.CodeRateLimited {
			return http.StatusPaymentRequired, true // a spend limit: out of quota
		}
		return ae.StatusCode, true
	}
	return 0, false
}

func classifyStatus(m store.AIModel, s int) Result {
	switch {
	case s == http.StatusUnauthorized || s == http.StatusForbidden:
		return Result{Problem: tasks.ModelTestKey, Message: fmt.Sprintf(
			"The %s key was refused (HTTP %d): check the key configured on the workers.", m.Provider, s)}
	case s == http.StatusNotFound:
		return Result{Problem: tasks.ModelTestModel, Message: fmt.Sprintf(
			"The provider does not know the model %q (HTTP 404): check its name (or the Azure deployment).", m.Model)}
	case s == http.StatusTooManyRequests || s == http.StatusPaymentRequired:
		return Result{Problem: tasks.ModelTestQuota, Message: fmt.Sprintf(
			"The key works, but the account is rate limited or out of quota (HTTP %d).", s)}
	case s >= 500 || s == http.StatusRequestTimeout:
		return Result{Problem: tasks.ModelTestProvider, Message: fmt.Sprintf("The provider failed (HTTP %d); try again later.", s)}
	}
	return Result{Problem: tasks.ModelTestRequest, Message: fmt.Sprintf("The provider refused the test request to %s (HTTP %d).", m.Name(), s)}
}
