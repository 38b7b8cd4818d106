package worker

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/hibiken/asynq"

	"github.com/presswork/presswork/internal/errs"
	"github.com/presswork/presswork/internal/secret"
	"github.com/presswork/presswork/internal/store"
	"github.com/presswork/presswork/internal/tasks"
)

// WebhookStore is what the webhook sender needs of the store.
type WebhookStore interface {
	OutgoingDelivery(ctx context.Context, id int64) (store.OutgoingDelivery, error)
	RecordDeliveryResult(ctx context.Context, r store.DeliveryResult) error
}

// Webhook retry schedule: the first retry after WebhookFirstRetry, each
// next one twice as late up to WebhookMaxRetry apart, for a day (the
// delivery's retry_until); an endpoint failing for WebhookDisableAfter is
// disabled.
const (
	WebhookFirstRetry   = 30 * time.Second
	WebhookMaxRetry     = 2 * time.Hour
	WebhookDisableAfter = 24 * time.Hour
	// WebhookRequestTimeout bounds one request, within the task's time
	// limit (jobs.WebhookTimeout), so that an endpoint that never answers
	// is a failed send, recorded and retried like any other.
	WebhookRequestTimeout = 20 * time.Second
)

// WebhookSender makes one send of a webhook delivery: the event as JSON,
// signed as Standard Webhooks sign (webhook-id, webhook-timestamp and
// webhook-signature "v1,<base64 HMAC-SHA256 of id.timestamp.body>").
// A delivery that moved on since the task was made (delivered, claimed
// again, its endpoint disabled) is not sent.
type WebhookSender struct {
	Store WebhookStore
	Box   *secret.Box
	// HTTP sends the requests; it must refuse private addresses unless the
	// operator allows them (app.WordPressClient's transport does).
	HTTP *http.Client
	Now  func() time.Time
	Log  *slog.Logger
	// RequestTimeout bounds each request; zero means WebhookRequestTimeout.
	RequestTimeout time.Duration
}

// RegisterWebhooks adds the webhook sender to mux.
func RegisterWebhooks(mux *asynq.ServeMux, s *WebhookSender) {
	mux.HandleFunc(tasks.TypeWebhook, s.ProcessTask)
}

// WebhookBody is the JSON a webhook receives.
type WebhookBody struct {
	ID        string          `json:"id"`
	Type      string          `json:"type"`
	Subject   string          `json:"subject"`
	Timestamp time.Time       `json:"timestamp"`
	Data      json.RawMessage `json:"data"`
}

// WebhookID is the webhook-id header of an event: the same for every send
// of the event, so a receiver keeps each event once.
func WebhookID(eventID int64) string { return "evt_" + strconv.FormatInt(eventID, 10) }

// SignWebhook returns the webhook-signature header value of body sent as
// id at timestamp with secret ("whsec_" and the base64 key).
func SignWebhook(secretText, id string, timestamp int64, body []byte) (string, error) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secretText, "whsec_"))
	if err != nil {
		return "", fmt.Errorf("webhook secret: %w", err)
	}
	mac := hmac.New(sha256.New, key)
	fmt.Fprintf(mac, "%s.%d.", id, timestamp)
	mac.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil)), nil
}

// ProcessTask sends the delivery a webhook:deliver task names.
func (s *WebhookSender) ProcessTask(ctx context.Context, t *asynq.Task) error {
	var p tasks.WebhookPayload
	if err := json.Unmarshal(t.Payload(), &p); err != nil {
		return fmt.Errorf("%w: webhook payload: %w", asynq.SkipRetry, err)
	}
	d, err := s.Store.OutgoingDelivery(ctx, p.DeliveryID)
	if errors.Is(err, errs.ErrNotFound) {
		return nil // its webhook was deleted
	}
	if err != nil {
		return err
	}
	if d.Status != store.DeliveryPending || d.Attempts != p.Attempt || !d.Enabled {
		return nil
	}
	code, sendErr := s.send(ctx, d)
	if ctx.Err() != nil {
		// Interrupted (the worker is stopping, or the task's time limit
		// passed; a request that timed out by itself is a failed send):
		// nothing is recorded, and the dispatcher hands the delivery out
		// again when its lease ends.
		return ctx.Err()
	}
	return s.record(ctx, d, p.Attempt, code, sendErr)
}

func (s *WebhookSender) record(ctx context.Context, d store.OutgoingDelivery, attempt, code int, sendErr error) error {
	now := s.Now()
	r := store.DeliveryResult{ID: d.ID, Attempt: attempt, At: now, Code: code, DisableAfter: WebhookDisableAfter}
	if sendErr == nil {
		r.Delivered = true
	} else {
		r.Error = sendErr.Error()
		if now.Before(d.RetryUntil) {
			r.RetryAt = now.Add(webhookBackoff(attempt))
			if r.RetryAt.After(d.RetryUntil) {
				r.RetryAt = d.RetryUntil
			}
		}
		s.Log.Info("webhook delivery failed", "delivery", d.ID, "webhook", d.WebhookID, "attempt", attempt,
			"code", code, "error", sendErr, "retry_at", r.RetryAt)
	}
	return s.Store.RecordDeliveryResult(context.WithoutCancel(ctx), r)
}

// webhookBackoff is the wait after the attempt-th send failed.
func webhookBackoff(attempt int) time.Duration {
	d := WebhookFirstRetry
	for i := 1; i < attempt && d < WebhookMaxRetry; i++ {
		d *= 2
	}
	return min(d, WebhookMaxRetry)
}

// send POSTs the event and returns the response's status; the error says
// why the send failed (a non-2xx status included).
func (s *WebhookSender) send(ctx context.Context, d store.OutgoingDelivery) (int, error) {
	secretText, err := s.Box.Open(d.SecretEnc, secret.WebhookSecretAD(d.TenantID))
	if err != nil {
		return 0, fmt.Errorf("open the webhook's secret: %w", err)
	}
	id := WebhookID(d.Event.ID)
	body, err := json.Marshal(WebhookBody{ID: id, Type: d.Event.Type, Subject: d.Event.Subject,
		Timestamp: d.Event.CreatedAt.UTC(), Data: d.Event.Data})
	if err != nil {
		return 0, err
	}
	ts := s.Now().Unix()
	sig, err := SignWebhook(string(secretText), id, ts, body)
	if err != nil {
		return 0, err
	}
	timeout := s.RequestTimeout
	if timeout <= 0 {
		timeout = WebhookRequestTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.URL, bytes.NewReader(body))
	if err != nil {
		return 0, fmt.Errorf("webhook request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Presswork-Webhooks/1")
	req.Header.Set("webhook-id", id)
	req.Header.Set("webhook-timestamp", strconv.FormatInt(ts, 10))
	req.Header.Set("webhook-signature", sig)
	resp, err := s.HTTP.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL is the tenant's own; the reason is enough
		}
		return 0, fmt.Errorf("send: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, fmt.Errorf("the endpoint answered %s", resp.Status)
	}
	return resp.StatusCode, nil
}
