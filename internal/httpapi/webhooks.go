package httpapi

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/presswork/presswork/internal/errs"
	"github.com/presswork/presswork/internal/secret"
	"github.com/presswork/presswork/internal/store"
)

// webhookRequest is the body of webhook writes; on update nil fields are
// kept.
type webhookRequest struct {
	URL     *string   `json:"url"`
	Events  *[]string `json:"events"`
	Enabled *bool     `json:"enabled"`
}

func (r webhookRequest) validate(create, allowPrivate bool) error {
	v := &errs.ValidationError{}
	switch {
	case r.URL != nil:
		if problem := webhookURLProblem(*r.URL, allowPrivate); problem != "" {
			v.Add("url", "%s", problem)
		}
	case create:
		v.Add("url", "is required")
	}
	switch {
	case r.Events != nil:
		checkEventTypes(v, *r.Events)
	case create:
		v.Add("events", "is required")
	}
	return v.OrNil()
}

func checkEventTypes(v *errs.ValidationError, events []string) {
	if len(events) == 0 {
		v.Add("events", "must name at least one event type")
	}
	for i, e := range events {
		switch {
		case !store.KnownEventType(e):
			v.Add(fmt.Sprintf("events[%d]", i), "must be one of %s", strings.Join(store.EventTypes, ", "))
		case slices.Index(events, e) < i:
			v.Add(fmt.Sprintf("events[%d]", i), "repeats %s", e)
		}
	}
}

// webhookURLProblem says what is wrong with a webhook endpoint, or "":
// https only (http too when private addresses are allowed, for tests and
// local receivers), a public host.
func webhookURLProblem(raw string, allowPrivate bool) string {
	if len(raw) > 2000 {
		return "must be at most 2000 characters"
	}
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Host == "" {
		return "must be an absolute URL such as https://example.com/hooks/presswork"
	}
	if problem := hostProblem(u.Hostname(), allowPrivate); problem != "" {
		return problem
	}
	switch {
	case u.Scheme != "https" && !(allowPrivate && u.Scheme == "http"):
		return "must start with https://"
	case u.User != nil:
		return "must not contain a user name or password"
	case u.Fragment != "":
		return "must not have a fragment"
	}
	return ""
}

// newWebhookSecret returns a signing secret: "whsec_" and 32 random bytes
// in base64, as Standard Webhooks write them.
func newWebhookSecret() string {
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	return "whsec_" + base64.StdEncoding.EncodeToString(key)
}

// createdWebhook is the answer to POST /v1/webhooks: the only one that
// shows the secret.
type createdWebhook struct {
	store.Webhook
	Secret string `json:"secret"`
}

func (s *Server) createWebhook(c echo.Context) error {
	var req webhookRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if err := req.validate(true, s.cfg.AllowPrivateURLs); err != nil {
		return err
	}
	p := principal(c)
	secretText := newWebhookSecret()
	enc, err := s.box.Seal([]byte(secretText), secret.WebhookSecretAD(p.TenantID))
	if err != nil {
		return err
	}
	u := strings.TrimSpace(*req.URL)
	w, err := s.store.CreateWebhook(c.Request().Context(), p.TenantID,
		store.WebhookFields{URL: &u, Events: *req.Events, Enabled: req.Enabled, SecretEnc: enc})
	if err != nil {
		return err
	}
	s.audit(c, "webhook.create", fmt.Sprintf("webhook:%d", w.ID))
	// A retry with the same Idempotency-Key gets the webhook without its
	// secret: the secret is neither kept in the clear nor shown twice.
	if err := setReplayBody(c, w); err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderLocation, fmt.Sprintf("/v1/webhooks/%d", w.ID))
	return c.JSON(http.StatusCreated, createdWebhook{Webhook: w, Secret: secretText})
}

func (s *Server) listWebhooks(c echo.Context) error {
	p, err := page(c)
	if err != nil {
		return err
	}
	hooks, err := s.store.ListWebhooks(c.Request().Context(), principal(c).TenantID, p)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, listOf(hooks, p, func(w store.Webhook) int64 { return w.ID }))
}

func (s *Server) getWebhook(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	w, err := s.store.GetWebhook(c.Request().Context(), principal(c).TenantID, id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, w)
}

func (s *Server) updateWebhook(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	var req webhookRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if err := req.validate(false, s.cfg.AllowPrivateURLs); err != nil {
		return err
	}
	f := store.WebhookFields{Enabled: req.Enabled}
	if req.URL != nil {
		u := strings.TrimSpace(*req.URL)
		f.URL = &u
	}
	if req.Events != nil {
		f.Events = *req.Events
	}
	w, err := s.store.UpdateWebhook(c.Request().Context(), principal(c).TenantID, id, f)
	if err != nil {
		return err
	}
	s.audit(c, "webhook.update", fmt.Sprintf("webhook:%d", w.ID))
	return c.JSON(http.StatusOK, w)
}

func (s *Server) deleteWebhook(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	if err := s.store.DeleteWebhook(c.Request().Context(), principal(c).TenantID, id); err != nil {
		return err
	}
	s.audit(c, "webhook.delete", fmt.Sprintf("webhook:%d", id))
	return c.NoContent(http.StatusNoContent)
}

func (s *Server) listDeliveries(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	limit, err := queryInt(c, "limit", 50, 1, 500)
	if err != nil {
		return err
	}
	before, err := queryInt(c, "before", 0, 0, 1<<62)
	if err != nil {
		return err
	}
	ds, err := s.store.ListDeliveries(c.Request().Context(), principal(c).TenantID, id,
		store.Page{After: before, Limit: int(limit)})
	if err != nil {
		return err
	}
	l := List[store.Delivery]{Items: ds}
	if len(ds) == int(limit) {
		l.NextBefore = ds[len(ds)-1].ID
	}
	return c.JSON(http.StatusOK, l)
}

// redeliver sends a delivery again, whatever became of it; the dispatcher
// hands it to a worker within a tick.
func (s *Server) redeliver(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	deliveryID, err := pathID(c, "delivery")
	if err != nil {
		return err
	}
	if err := noBody(c); err != nil {
		return err
	}
	d, err := s.store.Redeliver(c.Request().Context(), principal(c).TenantID, id, deliveryID)
	if err != nil {
		return err
	}
	s.audit(c, "webhook.redeliver", fmt.Sprintf("webhook:%d/delivery:%d", id, deliveryID))
	return c.JSON(http.StatusAccepted, d)
}
