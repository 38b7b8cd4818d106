// Package fallback serves a stage from a chain of models (issue #23): each
// call goes to the first model of the chain whose circuit (package
// internal/breaker, shared through Redis by every worker) is not open, and
// on to the next when that model fails.
//
// # What moves a call on to the next model
//
//   - A passing failure of the provider (a 5xx, a timeout, a refused
//     connection, a broken reply: any error that is neither permanent nor
//     throttling) counts as a failure of the model's circuit and moves on.
//   - A rejection of the account or the model by that provider (HTTP 401,
//     402, 403, 404, or a 429 that says the quota is spent, which the
//     providers classify as permanent) counts as a failure too and moves
//     on: another provider has another key, account and model list, and
//     the open circuit keeps the calls off a key that will not work. Errors
//     say their status with an HTTPStatus() int method (openai.Error has
//     one).
//   - Throttling (*errs.ThrottledError, a 429 or the rate limiter's wait
//     beyond its bound) is returned as it is, so that the job waits for
//     the limit, unless the link (or the chain) says FallbackOnThrottle. It
//     never counts against the circuit: the provider is up.
//   - Any other permanent error (a bad request, an invalid schema) is
//     returned as it is: what one model refuses, the next would too. So is
//     the caller's context ending, and errs.ErrUnavailable (Redis or
//     PostgreSQL down, which is Presswork's failure, not the provider's).
//
// When no model could serve (every circuit open or every model failed),
// the call fails with an *ExhaustedError naming each model and why: a
// retryable error (a *errs.ThrottledError with the shortest wait when a
// throttled model was passed over).
//
// # Usage
//
// What every attempt consumed is in the Usage returned, failed attempts
// included (a failed call is rarely billed, but an embedding that failed
// half way was). Its Model is the model that served the call, as that
// provider reports it, or else the link's Name(); when the call failed,
// the last model tried.
//
// # Embeddings
//
// The vectors of two models are never mixed in one clustering, so an
// embedder chain holds one family only: the same model (the part of Name()
// after the provider's "openai/", "azure-openai/" prefix, compared exactly)
// with the same Dimensions, such as text-embedding-3-small through OpenAI
// and through an Azure deployment of it. NewEmbedder refuses any other
// chain. The chain is named after its first embedder, so the embedding
// cache keeps its key whichever provider served.
//
// Circuits are keyed by the link's Key, by default its model's Name():
// every chain that lists a model shares its circuit.
package fallback

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/presswork/presswork/internal/ai"
	"github.com/presswork/presswork/internal/breaker"
	"github.com/presswork/presswork/internal/errs"
)

// doneTimeout bounds recording a call's outcome after the caller's context
// ended.
const doneTimeout = 2 * time.Second

// Options apply to every link of a chain.
type Options struct {
	// FallbackOnThrottle moves a throttled call on to the next model of
	// every link, instead of returning the throttling for the job to wait.
	FallbackOnThrottle bool
}

// Link is one model of a text chain.
type Link struct {
	Model ai.TextModel
	// Key names the model's circuit; empty means Model.Name(). Name the
	// provider's model exactly when Model sends some stages to another
	// model than the one its Name() says (openai.Config's per-stage
	// models), or one stage's failures open the circuit of all.
	Key string
	// FallbackOnThrottle moves a call this model throttles on to the next.
	FallbackOnThrottle bool
}

// EmbedLink is one embedder of an embedding chain.
type EmbedLink struct {
	Embedder ai.Embedder
	// Key names the embedder's circuit; empty means Embedder.Name().
	Key string
	// FallbackOnThrottle moves a call this embedder throttles on to the
	// next.
	FallbackOnThrottle bool
}

// link is what the chain needs of either kind.
type link struct {
	name, key  string
	onThrottle bool
}

// chain tries its links in order through the breaker.
type chain struct {
	links []link
	b     *breaker.Breaker // nil: no circuits
}

func newChain(names, keys []string, onThrottle []bool, b *breaker.Breaker, opts Options) chain {
	c := chain{b: b}
	for i, name := range names {
		key := keys[i]
		if key == "" {
			key = name
		}
		c.links = append(c.links, link{name: name, key: key, onThrottle: onThrottle[i] || opts.FallbackOnThrottle})
	}
	return c
}

// Text is an ai.TextModel that serves each call from the first model of
// its chain that can. It is safe for concurrent use.
type Text struct {
	c      chain
	models []ai.TextModel
}

var _ ai.TextModel = (*Text)(nil)

// NewText returns the chain of links, tried in order; b holds their
// circuits (nil: every model is always tried). It fails when a link has no
// model or there is none.
func NewText(links []Link, b *breaker.Breaker, opts Options) (*Text, error) {
	if len(links) == 0 {
		return nil, errors.New("fallback: a text chain needs a model")
	}
	t := &Text{}
	var names, keys []string
	var onThrottle []bool
	for i, l := range links {
		if l.Model == nil {
			return nil, fmt.Errorf("fallback: link %d of the text chain has no model", i+1)
		}
		t.models = append(t.models, l.Model)
		names, keys, onThrottle = append(names, l.Model.Name()), append(keys, l.Key), append(onThrottle, l.FallbackOnThrottle)
	}
	t.c = newChain(names, keys, onThrottle, b, opts)
	return t, nil
}

// Name is the first model's name (Usage.Model says which model served).
func (t *Text) Name() string { return t.c.links[0].name }

// GenerateJSON asks the first model whose circuit admits the call, and the
// next ones while they fail (see the package comment).
func (t *Text) GenerateJSON(ctx context.Context, req ai.JSONRequest) (ai.JSONResponse, error) {
	var resp ai.JSONResponse
	usage, err := t.c.run(ctx, func(ctx context.Context, i int) (ai.Usage, error) {
		var err error
		resp, err = t.models[i].GenerateJSON(ctx, req)
		return resp.Usage, err
	})
	resp.Usage = usage
	return resp, err
}

// Embedder is an ai.Embedder that serves each call from the first embedder
// of its chain that can; its embedders are of one family. It is safe for
// concurrent use.
type Embedder struct {
	c         chain
	embedders []ai.Embedder
}

var _ ai.Embedder = (*Embedder)(nil)

// NewEmbedder returns the chain of links, tried in order; b holds their
// circuits (nil: every embedder is always tried). It fails when the
// embedders are not all of the first one's family (Family and
// Dimensions), or there is none.
func NewEmbedder(links []EmbedLink, b *breaker.Breaker, opts Options) (*Embedder, error) {
	if len(links) == 0 {
		return nil, errors.New("fallback: an embedding chain needs an embedder")
	}
	e := &Embedder{}
	var names, keys []string
	var onThrottle []bool
	for i, l := range links {
		if l.Embedder == nil {
			return nil, fmt.Errorf("fallback: link %d of the embedding chain has no embedder", i+1)
		}
		first := e.embedders
		if len(first) > 0 {
			f := first[0]
			if Family(l.Embedder.Name()) != Family(f.Name()) || l.Embedder.Dimensions() != f.Dimensions() {
				return nil, fmt.Errorf("fallback: %s (%d dimensions) cannot stand in for %s (%d dimensions): "+
					"an embedding chain holds one model at one size, whose vectors compare",
					l.Embedder.Name(), l.Embedder.Dimensions(), f.Name(), f.Dimensions())
			}
		}
		e.embedders = append(e.embedders, l.Embedder)
		names, keys, onThrottle = append(names, l.Embedder.Name()), append(keys, l.Key), append(onThrottle, l.FallbackOnThrottle)
	}
	e.c = newChain(names, keys, onThrottle, b, opts)
	return e, nil
}

// Family is the model an embedder's (or a text model's) name names,
// without its provider: "azure-openai/text-embedding-3-small" and
// "openai/text-embedding-3-small" are both "text-embedding-3-small". A
// name without a provider is its own family.
func Family(name string) string {
	if _, model, ok := strings.Cut(name, "/"); ok {
		return model
	}
	return name
}

// Name is the first embedder's name, whichever serves: the vectors are
// the same model's.
func (e *Embedder) Name() string { return e.c.links[0].name }

// Dimensions is the embedders' vector length.
func (e *Embedder) Dimensions() int { return e.embedders[0].Dimensions() }

// Embed embeds texts with the first embedder whose circuit admits the
// call, and the next ones while they fail (see the package comment).
func (e *Embedder) Embed(ctx context.Context, texts []string) ([][]float32, ai.Usage, error) {
	var vecs [][]float32
	usage, err := e.c.run(ctx, func(ctx context.Context, i int) (ai.Usage, error) {
		var u ai.Usage
		var err error
		vecs, u, err = e.embedders[i].Embed(ctx, texts)
		return u, err
	})
	if err != nil {
		vecs = nil
	}
	return vecs, usage, err
}

// run calls the links in order until one serves or fails in a way that
// does not move on, and returns the usage of every attempt.
func (c chain) run(ctx context.Context, call func(ctx context.Context, i int) (ai.Usage, error)) (ai.Usage, error) {
	var usage ai.Usage
	var attempts []Attempt
	for i, l := range c.links {
		if err := ctx.Err(); err != nil {
			return usage, fmt.Errorf("fallback: %w", err)
		}
		ticket, recorded, err := c.allow(ctx, l.key)
		if err != nil {
			attempts = append(attempts, Attempt{Model: l.name, Err: err})
			continue
		}
		u, err := call(ctx, i)
		outcome, next := judge(ctx, err, l.onThrottle)
		if recorded {
			c.done(ctx, ticket, outcome)
		}
		if err == nil {
			usage.Add(u)
			usage.Model = u.Model
			if usage.Model == "" {
				usage.Model = l.name
			}
			return usage, nil
		}
		usage.Add(u)
		if !next {
			return usage, err
		}
		attempts = append(attempts, Attempt{Model: l.name, Err: err})
	}
	return usage, exhausted(attempts)
}

// allow asks the breaker to admit a call on key. recorded is false when
// there is no breaker or Redis failed: the call goes through unrecorded
// (the breaker fails open).
func (c chain) allow(ctx context.Context, key string) (t breaker.Ticket, recorded bool, err error) {
	if c.b == nil {
		return t, false, nil
	}
	t, err = c.b.Allow(ctx, key)
	if errors.Is(err, breaker.ErrOpen) {
		return t, false, err
	}
	return t, err == nil, nil
}

// done records a call's outcome, even after ctx ended, so that a probe's
// lease is given back; a failure only loses the outcome.
func (c chain) done(ctx context.Context, t breaker.Ticket, o breaker.Outcome) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), doneTimeout)
	defer cancel()
	_ = c.b.Done(ctx, t, o)
}

// judge classifies a call's error: the outcome for its circuit, and
// whether the next model is tried.
func judge(ctx context.Context, err error, onThrottle bool) (breaker.Outcome, bool) {
	var th *errs.ThrottledError
	switch {
	case err == nil:
		return breaker.Success, false
	case ctx.Err() != nil || errors.Is(err, context.Canceled):
		return breaker.Neutral, false
	case errors.As(err, &th):
		return breaker.Neutral, onThrottle
	case errs.IsPermanent(err):
		if Rejected(err) {
			return breaker.Failure, true
		}
		return breaker.Neutral, false
	case errors.Is(err, errs.ErrUnavailable):
		return breaker.Neutral, false
	}
	return breaker.Failure, true
}

// Rejected reports whether err says that the provider refuses the account,
// the key or the model (HTTP 401, 402, 403, 404 or 429), rather than the
// request: another provider may serve it.
func Rejected(err error) bool {
	var sc interface{ HTTPStatus() int }
	if !errors.As(err, &sc) {
		return false
	}
	switch sc.HTTPStatus() {
	case http.StatusUnauthorized, http.StatusPaymentRequired, http.StatusForbidden, http.StatusNotFound,
		http.StatusTooManyRequests:
		return true
	}
	return false
}

// Attempt is one model a call was not served by, and why.
type Attempt struct {
	Model string
	Err   error
}

// ExhaustedError is a call no model of the chain could serve: each was
// open or failed. It is retryable; errors.Is and errors.As see the
// attempts' errors that are not permanent (breaker.ErrOpen, an
// *openai.Error with a 5xx).
type ExhaustedError struct {
	Attempts []Attempt
}

func (e *ExhaustedError) Error() string {
	var b strings.Builder
	b.WriteString("fallback: no model could serve the call")
	for i, a := range e.Attempts {
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString("; ")
		}
		b.WriteString(a.Model + ": " + a.Err.Error())
	}
	return b.String()
}

// Unwrap returns the attempts' errors that are not permanent, so that the
// whole stays retryable.
func (e *ExhaustedError) Unwrap() []error {
	var out []error
	for _, a := range e.Attempts {
		if !errs.IsPermanent(a.Err) {
			out = append(out, a.Err)
		}
	}
	return out
}

// ErrorCode is errs.CodeProviderError: the providers failed.
func (e *ExhaustedError) ErrorCode() string { return errs.CodeProviderError }

// UserMessage names each model and what happened to it, in words for a
// user.
func (e *ExhaustedError) UserMessage() string {
	parts := make([]string, 0, len(e.Attempts))
	for _, a := range e.Attempts {
		var um interface{ UserMessage() string }
		var th *errs.ThrottledError
		switch {
		case errors.Is(a.Err, breaker.ErrOpen):
			parts = append(parts, a.Model+" is failing and was skipped (its circuit is open)")
		case errors.As(a.Err, &th):
			parts = append(parts, a.Model+" is rate limiting requests")
		case errors.As(a.Err, &um):
			parts = append(parts, a.Model+": "+um.UserMessage())
		default:
			parts = append(parts, a.Model+" failed")
		}
	}
	return "no AI model of the chain could answer: " + strings.Join(parts, "; ")
}

// exhausted is the error of a call no model served: an *ExhaustedError,
// inside a *errs.ThrottledError with the shortest wait of the throttled
// models when a model was passed over because it throttled.
func exhausted(attempts []Attempt) error {
	err := &ExhaustedError{Attempts: attempts}
	var wait time.Duration
	throttled := false
	for _, a := range attempts {
		var th *errs.ThrottledError
		if errors.As(a.Err, &th) && (!throttled || th.RetryAfter < wait) {
			wait, throttled = th.RetryAfter, true
		}
	}
	if throttled {
		return &errs.ThrottledError{RetryAfter: wait, Err: err}
	}
	return err
}
