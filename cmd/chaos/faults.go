package main

import (
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/presswork/presswork/internal/ai/openai/fakeopenai"
	"github.com/presswork/presswork/internal/ai/replicate/fakereplicate"
)

// AI fault modes.
const (
	aiNormal int32 = iota
	aiStorm        // 429 storms: most requests answered 429 with Retry-After
	aiSlow         // slow replies
)

// aiFaults switches the fake providers between normal answers, 429 storms
// and slow replies.
type aiFaults struct {
	mode      atomic.Int32
	throttled atomic.Int64
	slowed    atomic.Int64
	served    atomic.Int64
}

// stormShare is the share of requests answered 429 during a storm.
const stormShare = 0.8

func (a *aiFaults) openAI(s *fakeopenai.Server) fakeopenai.Behavior {
	return func(w http.ResponseWriter, req *fakeopenai.Request) {
		switch a.mode.Load() {
		case aiStorm:
			if rand.Float64() < stormShare {
				a.throttled.Add(1)
				fakeopenai.RateLimited(http.Header{"Retry-After": {"2"}, "X-Ratelimit-Remaining-Requests": {"0"},
					"X-Ratelimit-Reset-Requests": {"2s"}})(w, req)
				return
			}
		case aiSlow:
			a.slowed.Add(1)
			time.Sleep(time.Duration(2000+rand.IntN(4000)) * time.Millisecond)
		default: // a model takes a moment even on a good day
			time.Sleep(time.Duration(100+rand.IntN(300)) * time.Millisecond)
		}
		a.served.Add(1)
		s.Normal(w, req)
	}
}

func (a *aiFaults) replicate() fakereplicate.Script {
	switch a.mode.Load() {
	case aiStorm:
		if rand.Float64() < stormShare {
			a.throttled.Add(1)
			return fakereplicate.Script{CreateStatus: http.StatusTooManyRequests, RetryAfter: "2"}
		}
	case aiSlow:
		a.slowed.Add(1)
		return fakereplicate.Script{Delay: time.Duration(2000+rand.IntN(3000)) * time.Millisecond, Polls: 3}
	}
	a.served.Add(1)
	return fakereplicate.Script{Polls: 1}
}

// recovery is what the run measured of one fault.
type recovery struct {
	fault     string
	at        time.Time // when the fault was injected
	cleared   time.Time // when the fault ended (the dependency came back)
	detail    string
	ready     time.Duration // from cleared until every process's /readyz answered 200
	progress  time.Duration // from cleared until a job of the kind named succeeded
	drained   time.Duration // from cleared until every job in flight at the fault had ended (worker kills)
	readyErr  string
	progErr   string
	drainErr  string
	drainJobs int
}

// recorder collects the recoveries, measuring each in the background.
type recorder struct {
	mu   sync.Mutex
	list []*recovery
	wg   sync.WaitGroup
}

func (rc *recorder) add(r *recovery) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.list = append(rc.list, r)
}

func (rc *recorder) all() []*recovery {
	rc.wg.Wait()
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]*recovery(nil), rc.list...)
}
