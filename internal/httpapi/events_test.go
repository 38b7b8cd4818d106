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
	Data     string // the data line as sent
}

// openStream opens GET /v1/events as an event stream and returns its
// events as they come; it ends with the test.
func openStream(t *testing.T, h *apptest.Harness, key, lastEventID string) <-chan sseEvent {
	return openStreamAt(t, h, key, lastEventID, "/v1/events")
}

func openStreamAt(t *testing.T, h *apptest.Harness, key, lastEventID, path string) <-chan sseEvent {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, err := http.NewRequestWithContext(ctx, "GET", h.URL+path, nil)
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
				e.Data = strings.TrimPrefix(line, "data: ")
				_ = json.Unmarshal([]byte(e.Data), &e.Event)
			case line == "" && e.Type != "":
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

// TestProgressStream: a stream opened with ?batch= and ?job= sends
// batch.progress and job.progress when the watched work moves, once per
// change, until it has finished; only the tenant's own work is reported,
// and bad ids are a 400 naming the parameter.
func TestProgressStream(t *testing.T) {
	t.Parallel()
	h := apptest.Start(t)
	tk, c := h.Tenant(t, "progress", 100)
	other, _ := h.Tenant(t, "progress-other", 100)
	seeded := apptest.SeedIdeas(t, h.App.Store, tk.Tenant.ID, 3, "progress")
	acc := apptest.Post(t, c, "/v1/drafts/generate", map[string]any{"idea_ids": []int64{seeded.Ideas[0].ID, seeded.Ideas[1].ID, seeded.Ideas[2].ID}})
	if acc.BatchID == "" || len(acc.Jobs) != 3 {
		t.Fatalf("accepted %+v, want a batch of 3", acc)
	}
	check := apptest.FreeJob(t, h.App.Store, tk.Tenant.ID, "site:check", seeded.Site.ID, seeded.Site.ID)
	otherSite := apptest.SeedIdeas(t, h.App.Store, other.Tenant.ID, 1, "other").Site
	foreign := apptest.FreeJob(t, h.App.Store, other.Tenant.ID, "site:check", otherSite.ID, otherSite.ID)
	events := openStreamAt(t, h, tk.OwnerKey, "", fmt.Sprintf("/v1/events?batch=%s&job=%s,%s", acc.BatchID, check, foreign))

	next := func() store.Progress {
		t.Helper()
		e := nextEvent(t, events)
		for e.ID != "" { // an event of the outbox (job.failed, batch.finished), read by TestEventStream
			e = nextEvent(t, events)
		}
		var p store.Progress
		if err := json.Unmarshal([]byte(e.Data), &p); err != nil || e.Type != p.Kind+".progress" {
			t.Fatalf("event %s %s: want a progress event (%v)", e.Type, e.Data, err)
		}
		return p
	}
	want := func(got store.Progress, kind, id string, done, failed int, state string) {
		t.Helper()
		if got.Kind != kind || got.ID != id || got.Done != done || got.Failed != failed || got.State != state {
			t.Fatalf("progress %+v, want %s %s with %d done, %d failed, state %q", got, kind, id, done, failed, state)
		}
	}
	want(next(), "batch", acc.BatchID, 0, 0, "")
	want(next(), "job", check, 0, 0, store.JobRunning) // the other tenant's job is not reported

	ctx := t.Context()
	started := apptest.Job(t, h.App.Store, tk.Tenant.ID, acc.Jobs[0].ID)
	_, err := h.App.Store.StartJob(ctx, tk.Tenant.ID, started.ID, "writing")
	apptest.Must(t, err, "start a draft job")
	apptest.Must(t, h.App.Store.FailJob(ctx, tk.Tenant.ID, started.ID, store.Failure{Message: "the model refused", Code: "provider_refused"}), "fail")
	want(next(), "batch", acc.BatchID, 1, 1, "")
	for _, j := range acc.Jobs[1:] {
		call(t, h, tk.OwnerKey, "POST", "/v1/jobs/"+j.ID+"/cancel", "", nil).must(t, 200, nil)
	}
	p := next()
	if p.Done == 2 { // the two cancels fell on either side of a read
		p = next()
	}
	want(p, "batch", acc.BatchID, 3, 1, "")
	apptest.Must(t, h.App.Store.FailJob(ctx, tk.Tenant.ID, check, store.Failure{Message: "no such host", Code: "dns_not_found"}), "fail the check")
	p = next()
	want(p, "job", check, 1, 1, store.JobFailed)
	if apptest.Deref(p.ErrorCode) != "dns_not_found" || apptest.Deref(p.Error) != "no such host" {
		t.Errorf("failed job's progress %+v, want its reason and code", p)
	}

	for _, q := range []string{"batch=", "job=a,,b", "batch=" + strings.Repeat("x", 101),
		"job=" + strings.TrimSuffix(strings.Repeat("j,", 51), ",")} {
		a := call(t, h, tk.OwnerKey, "GET", "/v1/events?"+q, "", nil, "Accept", "text/event-stream")
		a.problem(t, http.StatusBadRequest)
		if !strings.Contains(string(a.Body), `"batch"`) && !strings.Contains(string(a.Body), `"job"`) {
			t.Errorf("?%s: %s, want the parameter named", q, a.Body)
		}
	}
}
