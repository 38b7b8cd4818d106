package fakeopenai

import (
	"maps"
	"math/rand/v2"
	"net/http"
	"sync"
)

// Fault kinds, as Faults.Counts reports them.
const (
	FaultServerError = "server_error"
	FaultInvalidJSON = "invalid_json"
	FaultTruncated   = "truncated"
	FaultRefusal     = "refusal"
)

// FaultMix is the share of requests answered with each fault, drawn per
// request from a generator seeded with Seed. Embedding requests get only
// server errors; the other faults are chat answers.
type FaultMix struct {
	ServerError float64
	InvalidJSON float64
	Truncated   float64
	Refusal     float64
	Seed        uint64
}

// BadDay is the mix a real provider reaches on a bad day (issue #19): 10%
// server errors, 10% invalid JSON, 5% answers cut off, 5% refusals.
func BadDay(seed uint64) FaultMix {
	return FaultMix{ServerError: 0.10, InvalidJSON: 0.10, Truncated: 0.05, Refusal: 0.05, Seed: seed}
}

// Faults answers requests with the faults of a mix and the server's normal
// answer otherwise. Install it with SetFallback(f.Behave); pushed
// behaviours still come first.
type Faults struct {
	s   *Server
	mix FaultMix

	mu     sync.Mutex
	rng    *rand.Rand
	counts map[string]int
}

// NewFaults returns the faults of mix on s.
func NewFaults(s *Server, mix FaultMix) *Faults {
	return &Faults{s: s, mix: mix, rng: rand.New(rand.NewPCG(mix.Seed, mix.Seed^0x5851f42d4c957f2d)),
		counts: map[string]int{}}
}

// Behave answers req with a fault or normally.
func (f *Faults) Behave(w http.ResponseWriter, req *Request) {
	switch f.draw(req.Endpoint) {
	case FaultServerError:
		ServerError()(w, req)
	case FaultInvalidJSON:
		InvalidJSON()(w, req)
	case FaultTruncated:
		f.truncated(w, req)
	case FaultRefusal:
		Refusal("I'm sorry, but I can't help with that.")(w, req)
	default:
		f.s.Normal(w, req)
	}
}

// Counts returns how many requests got each fault so far.
func (f *Faults) Counts() map[string]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return maps.Clone(f.counts)
}

// draw picks the answer of one request: a fault kind, or "" for normal.
func (f *Faults) draw(endpoint string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	x := f.rng.Float64()
	kind := ""
	for _, k := range []struct {
		name  string
		share float64
	}{{FaultServerError, f.mix.ServerError}, {FaultInvalidJSON, f.mix.InvalidJSON},
		{FaultTruncated, f.mix.Truncated}, {FaultRefusal, f.mix.Refusal}} {
		if x < k.share {
			kind = k.name
			break
		}
		x -= k.share
	}
	if endpoint == EndpointEmbeddings && kind != FaultServerError {
		kind = ""
	}
	if kind != "" {
		f.counts[kind]++
	}
	return kind
}

// truncated answers with the first half of the normal content, cut off at
// the token limit.
func (f *Faults) truncated(w http.ResponseWriter, req *Request) {
	f.s.mu.Lock()
	content := f.s.content
	f.s.mu.Unlock()
	full := []rune(content(req))
	Truncated(string(full[:len(full)/2]))(w, req)
}
