package httpapi_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/presswork/presswork/internal/app/apptest"
	"github.com/presswork/presswork/internal/store"
)

// sseEvent is one event read from a stream.
type sseEvent struct {
	ID, Type string
	Event    store.Event
}

// openStream opens GET /v1/events as an event stream and returns its
// events as they come; it ends with the test.
func openStream(t *testing.T, h *apptest.Harness, key, lastEventID string) <-chan sseEvent {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, err := http.NewRequestWithContext(ctx, "GET", h.URL+"/v1/events", nil)
	apptest.Must(t, err, "request")
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Accept", "text/event-stream")
	if lastEventID != "" {
		req.Header.Set("Last-Event-ID", lastEventID)
	}
	resp, err := http.DefaultClient.Do(req)
	apptest.Must(t, err, "open the stream")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("stream: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	out := make(chan sseEvent, 10)
	go func() {
		defer resp.Body.Close()
		defer close(out)
		sc := bufio.NewScanner(resp.Body)
		var e sseEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "id: "):
				e.ID = strings.TrimPrefix(line, "id: ")
			case strings.HasPrefix(line, "event: "):
				e.Type = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				_ = json.Unmarshal([]byte(strings.TrimPrefix(line, "data: ")), &e.Event)
			case line == "" && e.ID != "":
				out <- e
				e = sseEvent{}
			}
		}
	}()
	return out
}

func nextEvent(t *testing.T, events <-chan sseEvent) sseEvent {
	t.Helper()
	select {
	case e, ok := <-events:
		if !ok {
			t.Fatal("the stream ended")
		}
		return e
	case <-time.After(10 * time.Second):
		t.Fatal("no event within 10 s")
	}
	return sseEvent{}
}

// TestEventStream: GET /v1/events streams the tenant's events as they are
// recorded, only its own, and a stream reopened with Last-Event-ID
// resumes after that event; without the event-stream Accept header it
// answers a page of events.
func TestEventStream(t *testing.T) {
	t.Parallel()
	h := apptest.Start(t)
	a, _ := h.Tenant(t, "stream-a", 100)
	b, _ := h.Tenant(t, "stream-b", 100)
	failJob := func(tenantID int64) string {
		job := apptest.FreeJob(t, h.App.Store, tenantID, "site:check", 0, 0)
		apptest.Must(t, h.App.Store.FailJob(t.Context(), tenantID, job, store.Failure{Message: "no such host", Code: "dns_not_found"}), "fail job")
		return job
	}
	early := failJob(a.Tenant.ID) // before the stream: not sent to a stream opened without a cursor
	aStream := openStream(t, h, a.OwnerKey, "")
	bStream := openStream(t, h, b.OwnerKey, "")
	first := failJob(a.Tenant.ID)
	e := nextEvent(t, aStream)
	if e.Type != store.EventJobFailed || e.Event.Subject != "job:"+first || e.ID != fmt.Sprint(e.Event.ID) {
		t.Fatalf("first event %+v, want job.failed of %s (not %s)", e, first, early)
	}
	second := failJob(a.Tenant.ID)
	// B's stream stays silent while A's events flow; its own arrives.
	bJob := failJob(b.Tenant.ID)
	if e := nextEvent(t, bStream); e.Event.Subject != "job:"+bJob {
		t.Fatalf("B's stream got %+v, want only its own job %s", e, bJob)
	}

	// Reconnecting after the first event gets the second (and nothing
	// earlier).
	resumed := openStream(t, h, a.OwnerKey, e.ID)
	if e := nextEvent(t, resumed); e.Event.Subject != "job:"+second {
		t.Fatalf("resumed stream got %+v, want the job.failed of %s", e, second)
	}

	var page struct {
		Items []store.Event `json:"items"`
	}
	call(t, h, a.OwnerKey, "GET", "/v1/events?after=0", "", nil).must(t, 200, &page)
	if len(page.Items) != 3 || page.Items[0].Subject != "job:"+early || page.Items[2].Subject != "job:"+second {
		t.Fatalf("page of A's events %+v, want its three job.failed", page.Items)
	}
	call(t, h, a.OwnerKey, "GET", "/v1/events", "", nil, "Accept", "text/event-stream", "Last-Event-ID", "x").
		problem(t, 400)
}
