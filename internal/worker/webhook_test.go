package worker_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/presswork/presswork/internal/app/apptest"
	"github.com/presswork/presswork/internal/client"
	"github.com/presswork/presswork/internal/jobs"
	"github.com/presswork/presswork/internal/store"
	"github.com/presswork/presswork/internal/tasks"
	"github.com/presswork/presswork/internal/worker"
)

// verifyWebhook is the README's verification snippet: it checks a
// delivery's signature and its timestamp's age.
func verifyWebhook(secret string, header http.Header, body []byte, now time.Time) error {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		return err
	}
	id, ts := header.Get("webhook-id"), header.Get("webhook-timestamp")
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || now.Sub(time.Unix(sec, 0)).Abs() > 5*time.Minute {
		return errors.New("timestamp missing or too far from now")
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + ts + "."))
	mac.Write(body)
	want := "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
	for _, sig := range strings.Fields(header.Get("webhook-signature")) {
		if hmac.Equal([]byte(sig), []byte(want)) {
			return nil
		}
	}
	return errors.New("no valid signature")
}

// receiver is an HTTPS endpoint on loopback that verifies signatures and
// keeps each webhook-id once.
type receiver struct {
	t      *testing.T
	srv    *httptest.Server
	secret string
	now    func() time.Time

	mu       sync.Mutex
	down     bool           // answer 503
	stall    chan struct{}  // non-nil: hold requests until closed
	seen     []string       // the webhook-id of every request
	accepted map[string]int // webhook-id -> times accepted
	bodies   map[string]worker.WebhookBody
	arrived  chan string // each request's webhook-id, as it arrives
	// abandoned: the webhook-id of each stalled request its sender gave up.
	abandoned chan string
}

func newReceiver(t *testing.T, now func() time.Time) *receiver {
	r := &receiver{t: t, now: now, accepted: map[string]int{}, bodies: map[string]worker.WebhookBody{},
		arrived: make(chan string, 100), abandoned: make(chan string, 100)}
	r.srv = httptest.NewTLSServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	id := req.Header.Get("webhook-id")
	r.mu.Lock()
	r.seen = append(r.seen, id)
	stall, down, secret := r.stall, r.down, r.secret
	r.mu.Unlock()
	r.arrived <- id
	if stall != nil {
		select {
		case <-stall:
		case <-req.Context().Done():
			r.abandoned <- id
			return
		}
	}
	if err := verifyWebhook(secret, req.Header, body, r.now()); err != nil {
		r.t.Errorf("delivery %s: %v", id, err)
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if down {
		http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
		return
	}
	var b worker.WebhookBody
	if err := json.Unmarshal(body, &b); err != nil || b.ID != id {
		r.t.Errorf("delivery %s: body %s (%v)", id, body, err)
	}
	r.mu.Lock()
	r.accepted[id]++
	r.bodies[id] = b
	r.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func (r *receiver) set(f func(r *receiver)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	f(r)
}

// clock is the tests' time: the dispatcher and the sender read it, the
// test moves it.
type clock struct {
	mu sync.Mutex
	at time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.at
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.at = c.at.Add(d)
}

// hookEnv is a harness, a tenant with a webhook to a receiver, the
// dispatcher and a webhook worker on their own clock.
type hookEnv struct {
	h        *apptest.Harness
	tenantID int64
	api      *client.Client
	hookID   int64
	clock    *clock
	recv     *receiver
	disp     *jobs.Dispatcher
	sender   *worker.WebhookSender
}

func newHookEnv(t *testing.T, events ...string) *hookEnv {
	h := apptest.Start(t)
	tk, api := h.Tenant(t, "hooks", 1000)
	e := &hookEnv{h: h, tenantID: tk.Tenant.ID, api: api,
		// A little ahead of PostgreSQL's clock, which dates new deliveries.
		clock: &clock{at: time.Now().Add(time.Minute)}}
	e.recv = newReceiver(t, e.clock.now)
	var created struct {
		ID     int64  `json:"id"`
		Secret string `json:"secret"`
	}
	apptest.Must(t, api.Do(t.Context(), "POST", "/v1/webhooks",
		map[string]any{"url": e.recv.srv.URL + "/hooks", "events": events}, &created), "create webhook")
	if !strings.HasPrefix(created.Secret, "whsec_") {
		t.Fatalf("secret %q, want whsec_...", created.Secret)
	}
	e.hookID = created.ID
	e.recv.set(func(r *receiver) { r.secret = created.Secret })
	queue := asynq.NewClient(h.App.Redis)
	t.Cleanup(func() { queue.Close() })
	e.disp = &jobs.Dispatcher{Store: h.App.Store, Client: queue, Log: h.App.Log, Now: e.clock.now}
	e.sender = &worker.WebhookSender{Store: h.App.Store, Box: h.App.Box, HTTP: e.recv.srv.Client(),
		Now: e.clock.now, Log: h.App.Log}
	return e
}

// startWorker runs an asynq server with the webhook sender.
func (e *hookEnv) startWorker(t *testing.T) {
	srv := asynq.NewServer(e.h.App.Redis, asynq.Config{Concurrency: 2, Queues: map[string]int{jobs.QueueDefault: 1},
		TaskCheckInterval: 20 * time.Millisecond, ShutdownTimeout: time.Second, LogLevel: asynq.FatalLevel,
		ErrorHandler: asynq.ErrorHandlerFunc(func(_ context.Context, task *asynq.Task, err error) {
			t.Logf("task %s: %v", task.Payload(), err)
		})})
	mux := asynq.NewServeMux()
	worker.RegisterWebhooks(mux, e.sender)
	apptest.Must(t, srv.Start(mux), "start the webhook worker")
	t.Cleanup(srv.Shutdown)
}

// failJob makes a job.failed event and returns the job id.
func (e *hookEnv) failJob(t *testing.T) string {
	t.Helper()
	job := apptest.FreeJob(t, e.h.App.Store, e.tenantID, tasks.TypeCheck, 0, 0)
	apptest.Must(t, e.h.App.Store.FailJob(t.Context(), e.tenantID, job, store.Failure{Message: "no such host", Code: "dns_not_found"}), "fail job")
	return job
}

func (e *hookEnv) deliveries(t *testing.T) []store.Delivery {
	t.Helper()
	ds, err := e.h.App.Store.ListDeliveries(t.Context(), e.tenantID, e.hookID, store.Page{Limit: 100})
	apptest.Must(t, err, "list deliveries")
	return ds
}

// dispatch runs one dispatcher pass and checks how many it handed out.
func (e *hookEnv) dispatch(t *testing.T, want int) {
	t.Helper()
	n, err := e.disp.Once(t.Context())
	apptest.Must(t, err, "dispatch")
	if n != want {
		t.Fatalf("dispatcher handed out %d deliveries, want %d", n, want)
	}
}

// waitDelivery waits until the only delivery has made attempts sends and
// recorded the last one.
func (e *hookEnv) waitDelivery(t *testing.T, attempts int, status string) store.Delivery {
	t.Helper()
	var d store.Delivery
	apptest.Eventually(t, 10*time.Second, fmt.Sprintf("delivery %s after %d sends", status, attempts), func() (bool, error) {
		ds := e.deliveries(t)
		if len(ds) != 1 {
			return false, fmt.Errorf("%d deliveries, want 1", len(ds))
		}
		d = ds[0]
		return d.Attempts == attempts && d.Status == status && d.LastAttemptAt != nil &&
			!d.LastAttemptAt.Before(e.clock.now().Truncate(time.Microsecond)), nil
	})
	return d
}

// TestWebhookReceiverDownThenUp: an event is signed and sent to an HTTPS
// endpoint; while it answers 503 the delivery is retried with back-off,
// and once it is up the event arrives, accepted once, and is never sent
// again.
func TestWebhookReceiverDownThenUp(t *testing.T) {
	t.Parallel()
	e := newHookEnv(t, store.EventJobFailed)
	e.startWorker(t)
	e.recv.set(func(r *receiver) { r.down = true })
	job := e.failJob(t)

	e.dispatch(t, 1)
	d := e.waitDelivery(t, 1, store.DeliveryPending)
	if d.ResponseCode == nil || *d.ResponseCode != 503 || d.Error == nil || d.NextAttemptAt == nil {
		t.Fatalf("after a 503: %+v", d)
	}
	e.dispatch(t, 0) // not due yet
	e.clock.advance(worker.WebhookFirstRetry + time.Second)
	e.dispatch(t, 1)
	e.waitDelivery(t, 2, store.DeliveryPending)

	e.recv.set(func(r *receiver) { r.down = false })
	e.clock.advance(2*worker.WebhookFirstRetry + time.Second)
	e.dispatch(t, 1)
	d = e.waitDelivery(t, 3, store.DeliveryDelivered)
	if d.ResponseCode == nil || *d.ResponseCode != 204 || d.DeliveredAt == nil || d.Error != nil {
		t.Fatalf("delivered: %+v", d)
	}
	// Delivered is final: no later pass sends it again.
	e.clock.advance(24 * time.Hour)
	e.dispatch(t, 0)

	id := worker.WebhookID(d.EventID)
	e.recv.set(func(r *receiver) {
		if len(r.seen) != 3 || r.seen[0] != id || r.seen[2] != id {
			t.Errorf("requests %v, want three of %s", r.seen, id)
		}
		if len(r.accepted) != 1 || r.accepted[id] != 1 {
			t.Errorf("accepted %v, want %s once", r.accepted, id)
		}
		b := r.bodies[id]
		var data struct {
			JobID string `json:"job_id"`
			Error string `json:"error"`
			Code  string `json:"error_code"`
		}
		_ = json.Unmarshal(b.Data, &data)
		if b.Type != store.EventJobFailed || b.Subject != "job:"+job || data.JobID != job || data.Error != "no such host" ||
			data.Code != "dns_not_found" {
			t.Errorf("body %+v (data %s), want job.failed of %s", b, b.Data, job)
		}
	})
	if ws, err := e.h.App.Store.GetWebhook(t.Context(), e.tenantID, e.hookID); err != nil || ws.FailingSince != nil {
		t.Errorf("webhook after a success: %+v, %v; want no failure record", ws, err)
	}
}

// TestWebhookWorkerKilledMidDelivery: a send interrupted while the
// receiver holds the request records nothing; the dispatcher hands the
// delivery out again when its lease ends and the receiver gets the same
// webhook-id.
func TestWebhookWorkerKilledMidDelivery(t *testing.T) {
	t.Parallel()
	e := newHookEnv(t, store.EventJobFailed)
	stall := make(chan struct{})
	e.recv.set(func(r *receiver) { r.stall = stall })
	e.failJob(t)

	claims, err := e.h.App.Store.ClaimDeliveries(t.Context(), e.clock.now(), jobs.WebhookLease, 10)
	apptest.Must(t, err, "claim")
	if len(claims) != 1 {
		t.Fatalf("claims %+v, want 1", claims)
	}
	task, err := jobs.NewWebhookTask(claims[0])
	apptest.Must(t, err, "task")
	ctx, kill := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- e.sender.ProcessTask(ctx, task) }()
	first := <-e.recv.arrived
	kill() // the worker dies while the receiver holds the request
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted send: %v, want context.Canceled", err)
	}
	select {
	case <-e.recv.abandoned: // the receiver saw the sender go
	case <-time.After(10 * time.Second):
		t.Fatal("the receiver never saw the interrupted request end")
	}
	close(stall)
	e.recv.set(func(r *receiver) { r.stall = nil })
	if d := e.deliveries(t)[0]; d.Status != store.DeliveryPending || d.LastAttemptAt != nil || d.Attempts != 1 {
		t.Fatalf("after the interrupted send: %+v, want pending with nothing recorded", d)
	}

	// The old task, delivered late, sends nothing once the delivery is
	// claimed again.
	e.startWorker(t)
	e.dispatch(t, 0) // leased
	e.clock.advance(jobs.WebhookLease + time.Second)
	e.dispatch(t, 1)
	d := e.waitDelivery(t, 2, store.DeliveryDelivered)
	apptest.Must(t, e.sender.ProcessTask(t.Context(), task), "a stale task")
	e.recv.set(func(r *receiver) {
		if first != worker.WebhookID(d.EventID) || len(r.seen) != 2 || r.seen[1] != first || r.accepted[first] != 1 {
			t.Errorf("requests %v, accepted %v; want %s twice, accepted once", r.seen, r.accepted, first)
		}
	})
}

// TestWebhookDisabledAfterADay: an endpoint that fails for a day is
// disabled, its delivery failed, and a webhook.disabled event recorded;
// redelivering needs it enabled again.
func TestWebhookDisabledAfterADay(t *testing.T) {
	t.Parallel()
	e := newHookEnv(t, store.EventJobFailed)
	e.startWorker(t)
	e.recv.set(func(r *receiver) { r.down = true })
	e.failJob(t)
	e.dispatch(t, 1)
	e.waitDelivery(t, 1, store.DeliveryPending)
	e.clock.advance(24*time.Hour + time.Minute)
	e.dispatch(t, 1)
	d := e.waitDelivery(t, 2, store.DeliveryFailed)

	w, err := e.h.App.Store.GetWebhook(t.Context(), e.tenantID, e.hookID)
	apptest.Must(t, err, "webhook")
	if w.Enabled || w.DisabledReason == nil {
		t.Fatalf("webhook after a day of failures: %+v, want disabled with a reason", w)
	}
	evs, err := e.h.App.Store.EventsAfter(t.Context(), e.tenantID, d.EventID, 10)
	apptest.Must(t, err, "events")
	if len(evs) != 1 || evs[0].Type != store.EventWebhookDisabled || evs[0].Subject != fmt.Sprintf("webhook:%d", e.hookID) {
		t.Fatalf("events after the failure: %+v, want one webhook.disabled", evs)
	}
	path := fmt.Sprintf("/v1/webhooks/%d/deliveries/%d/redeliver", e.hookID, d.ID)
	var pe *client.Error
	if err := e.api.Do(t.Context(), "POST", path, nil, nil); !errors.As(err, &pe) || pe.Status != http.StatusConflict {
		t.Fatalf("redeliver to a disabled endpoint: %v, want 409", err)
	}

	// Enabled and redelivered by hand, it is sent again.
	e.recv.set(func(r *receiver) { r.down = false })
	apptest.Must(t, e.api.Do(t.Context(), "PATCH", fmt.Sprintf("/v1/webhooks/%d", e.hookID),
		map[string]any{"enabled": true}, nil), "enable")
	apptest.Must(t, e.api.Do(t.Context(), "POST", path, nil, nil), "redeliver")
	e.clock.advance(time.Minute)
	e.dispatch(t, 1)
	e.waitDelivery(t, 3, store.DeliveryDelivered)
}

// TestBatchFinishedOnce: of a batch's jobs ending at once, exactly one
// transaction reports the batch finished, with its counts.
func TestBatchFinishedOnce(t *testing.T) {
	t.Parallel()
	e := newHookEnv(t, store.EventBatchFinished)
	st := e.h.App.Store
	const batches = 5
	var ids [batches][2]string
	for b := range batches {
		batch, err := st.CreateJobs(t.Context(), e.tenantID, fmt.Sprintf("batch-%d", b), []store.NewJob{
			{ID: fmt.Sprintf("b%d-one", b), Type: tasks.TypeCheck, Queue: jobs.QueueDefault, SubjectID: int64(2*b + 1)},
			{ID: fmt.Sprintf("b%d-two", b), Type: tasks.TypeCheck, Queue: jobs.QueueDefault, SubjectID: int64(2*b + 2)}})
		apptest.Must(t, err, "create batch")
		ids[b] = [2]string{batch.Created[0].ID, batch.Created[1].ID}
	}
	var wg sync.WaitGroup
	for b := range batches {
		wg.Go(func() {
			apptest.Must(t, st.FailJob(context.Background(), e.tenantID, ids[b][0], store.Failure{Message: "boom"}), "fail")
		})
		wg.Go(func() {
			_, err := st.CancelJob(context.Background(), e.tenantID, ids[b][1])
			apptest.Must(t, err, "cancel")
		})
	}
	wg.Wait()
	evs, err := st.EventsAfter(t.Context(), e.tenantID, 0, 100)
	apptest.Must(t, err, "events")
	finished := map[string]int{}
	for _, ev := range evs {
		if ev.Type != store.EventBatchFinished {
			continue
		}
		finished[ev.Subject]++
		var c struct{ Total, Succeeded, Failed, Canceled int }
		apptest.Must(t, json.Unmarshal(ev.Data, &c), "counts")
		if c.Total != 2 || c.Failed != 1 || c.Canceled != 1 || c.Succeeded != 0 {
			t.Errorf("%s: counts %+v", ev.Subject, c)
		}
	}
	for b := range batches {
		if n := finished[fmt.Sprintf("batch:batch-%d", b)]; n != 1 {
			t.Errorf("batch-%d reported finished %d times, want once", b, n)
		}
	}
	if ds := e.deliveries(t); len(ds) != batches {
		t.Errorf("%d deliveries, want one per batch finished", len(ds))
	}
}

// TestWebhookThroughTheWorkerProcess: the worker process as it ships
// (workerapp, offline providers) writes two drafts; each draft.ready and
// the batch's batch.finished reach an endpoint through the dispatcher and
// the process's own webhook sender (plain http on loopback, which
// ALLOW_PRIVATE_URLS allows).
func TestWebhookThroughTheWorkerProcess(t *testing.T) {
	t.Parallel()
	h := apptest.Start(t)
	tk, api := h.Tenant(t, "hooks-e2e", 1000)
	var mu sync.Mutex
	got := map[string]string{} // webhook-id -> type
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var b worker.WebhookBody
		_ = json.NewDecoder(r.Body).Decode(&b)
		mu.Lock()
		got[r.Header.Get("webhook-id")] = b.Type
		mu.Unlock()
	}))
	t.Cleanup(recv.Close)
	apptest.Must(t, api.Do(t.Context(), "POST", "/v1/webhooks", map[string]any{"url": recv.URL,
		"events": []string{store.EventDraftReady, store.EventBatchFinished}}, nil), "create webhook")
	seeded := apptest.SeedIdeas(t, h.App.Store, tk.Tenant.ID, 2, "hooks")
	h.StartWorker(t)
	for _, id := range apptest.DraftJobs(t, api, seeded.Ideas...) {
		apptest.WaitJobState(t, h.App.Store, tk.Tenant.ID, id, store.JobSucceeded)
	}
	queue := asynq.NewClient(h.App.Redis)
	t.Cleanup(func() { queue.Close() })
	disp := &jobs.Dispatcher{Store: h.App.Store, Client: queue, Log: h.App.Log, Now: time.Now}
	apptest.Eventually(t, 10*time.Second, "three events delivered", func() (bool, error) {
		if _, err := disp.Once(t.Context()); err != nil {
			return false, err
		}
		mu.Lock()
		defer mu.Unlock()
		return len(got) == 3, nil
	})
	counts := map[string]int{}
	for _, typ := range got {
		counts[typ]++
	}
	if counts[store.EventDraftReady] != 2 || counts[store.EventBatchFinished] != 1 {
		t.Errorf("received %v, want two draft.ready and one batch.finished", got)
	}
}

// TestContentEvents: saving a draft, holding it for review and recording
// it published each record their event with the change; a save that
// loses to a duplicate delivery (the job already finished) records none.
func TestContentEvents(t *testing.T) {
	t.Parallel()
	h := apptest.Start(t)
	st := h.App.Store
	tk, _ := h.Tenant(t, "content-events", 100)
	tid := tk.Tenant.ID
	seeded := apptest.SeedIdeas(t, st, tid, 1, "events")
	idea := seeded.Ideas[0]
	draftJob := apptest.FreeJob(t, st, tid, tasks.TypeDraft, seeded.Site.ID, idea.ID)
	draft := store.Draft{Title: "Grinders", Slug: "grinders", BodyHTML: "<p>x</p>", WordCount: 1}
	apptest.Must(t, st.SaveDraft(t.Context(), store.Outcome{TenantID: tid, JobID: draftJob}, idea, draft), "save draft")
	if err := st.SaveDraft(t.Context(), store.Outcome{TenantID: tid, JobID: draftJob}, idea, draft); err == nil {
		t.Fatal("a second save of a finished job: no error")
	}
	drafts, err := st.ListDrafts(t.Context(), tid, seeded.Site.ID, store.Page{Limit: 10})
	apptest.Must(t, err, "drafts")
	id := drafts[0].ID
	_, err = st.HoldForReview(t.Context(), tid, []int64{id}, json.RawMessage(`{"status":"publish"}`))
	apptest.Must(t, err, "hold")
	pubJob := apptest.FreeJob(t, st, tid, tasks.TypePublish, seeded.Site.ID, id)
	apptest.Must(t, st.FinishPublish(t.Context(), store.Outcome{TenantID: tid, JobID: pubJob}, id,
		store.WPPost{ID: 77, Slug: "grinders", Link: "https://seed.example.com/grinders/", Status: "publish"}, nil), "publish")

	evs, err := st.EventsAfter(t.Context(), tid, 0, 100)
	apptest.Must(t, err, "events")
	subject := fmt.Sprintf("draft:%d", id)
	want := []string{store.EventDraftReady, store.EventDraftAwaitingReview, store.EventPostPublished}
	var got []string
	for _, e := range evs {
		if e.Subject != subject {
			t.Errorf("event %+v about another subject", e)
		}
		got = append(got, e.Type)
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("events %v, want %v", got, want)
	}
	var published struct {
		Link   string `json:"link"`
		PostID int64  `json:"post_id"`
	}
	apptest.Must(t, json.Unmarshal(evs[2].Data, &published), "data")
	if published.Link != "https://seed.example.com/grinders/" || published.PostID != 77 {
		t.Errorf("post.published data %s", evs[2].Data)
	}
}

// TestWebhookEndpointThatNeverAnswers: a request that times out is a
// failed send, recorded and retried, not an interrupted one made again
// forever.
func TestWebhookEndpointThatNeverAnswers(t *testing.T) {
	t.Parallel()
	e := newHookEnv(t, store.EventJobFailed)
	stall := make(chan struct{})
	t.Cleanup(func() { close(stall) })
	e.recv.set(func(r *receiver) { r.stall = stall })
	e.sender.RequestTimeout = 100 * time.Millisecond
	e.startWorker(t)
	e.failJob(t)
	e.dispatch(t, 1)
	d := e.waitDelivery(t, 1, store.DeliveryPending)
	if d.Error == nil || !strings.Contains(*d.Error, "deadline") || d.ResponseCode != nil || d.NextAttemptAt == nil {
		t.Fatalf("after a request that timed out: %+v", d)
	}
	if w, _ := e.h.App.Store.GetWebhook(t.Context(), e.tenantID, e.hookID); w.FailingSince == nil {
		t.Errorf("webhook %+v, want its failure recorded", w)
	}
}
