package httpapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/presswork/presswork/internal/errs"
	"github.com/presswork/presswork/internal/store"
)

// How often an open event stream looks for new events, and how often it
// writes a comment to keep idle connections (and proxies) open.
var (
	eventPoll      = time.Second
	eventKeepAlive = 15 * time.Second
)

// eventBatch is how many events one read of a stream takes.
const eventBatch = 100

// listEvents answers GET /v1/events: with Accept: text/event-stream, a
// server-sent event stream of the tenant's events as they are recorded
// (resumed after Last-Event-ID or ?after=, else from now); otherwise one
// page of events after ?after=, oldest first.
func (s *Server) listEvents(c echo.Context) error {
	p, err := page(c)
	if err != nil {
		return err
	}
	tenantID := principal(c).TenantID
	if !strings.Contains(c.Request().Header.Get(echo.HeaderAccept), "text/event-stream") {
		evs, err := s.store.EventsAfter(c.Request().Context(), tenantID, p.After, p.Limit)
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, listOf(evs, p, func(e store.Event) int64 { return e.ID }))
	}
	after, err := s.streamStart(c, p.After)
	if err != nil {
		return err
	}
	return s.streamEvents(c, tenantID, after)
}

// streamStart is the id a stream starts after: Last-Event-ID, else
// ?after=, else the tenant's latest event.
func (s *Server) streamStart(c echo.Context, after int64) (int64, error) {
	if last := c.Request().Header.Get("Last-Event-ID"); last != "" {
		id, err := strconv.ParseInt(last, 10, 64)
		if err != nil || id < 0 {
			v := &errs.ValidationError{}
			v.Add("Last-Event-ID", "must be the id of an event")
			return 0, v
		}
		return id, nil
	}
	if c.QueryParam("after") != "" {
		return after, nil
	}
	return s.store.LatestEventID(c.Request().Context(), principal(c).TenantID)
}

func (s *Server) streamEvents(c echo.Context, tenantID, after int64) error {
	ctx := c.Request().Context()
	w := c.Response()
	// The stream outlives the server's write timeout.
	_ = http.NewResponseController(w).SetWriteDeadline(time.Time{})
	w.Header().Set(echo.HeaderContentType, "text/event-stream")
	w.Header().Set(echo.HeaderCacheControl, "no-cache")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	fmt.Fprint(w, "retry: 3000\n\n")
	w.Flush()
	poll, keepAlive := time.NewTicker(eventPoll), time.NewTicker(eventKeepAlive)
	defer poll.Stop()
	defer keepAlive.Stop()
	for {
		evs, err := s.store.EventsAfter(ctx, tenantID, after, eventBatch)
		if err != nil {
			if ctx.Err() == nil {
				s.log.Warn("event stream ended", "tenant", tenantID, "error", err)
			}
			return nil // the answer has begun: the client reconnects with Last-Event-ID
		}
		for _, e := range evs {
			data, _ := json.Marshal(e)
			fmt.Fprintf(w, "id: %d\nevent: %s\ndata: %s\n\n", e.ID, e.Type, data)
			after = e.ID
		}
		if len(evs) > 0 {
			w.Flush()
		}
		if len(evs) == eventBatch {
			continue
		}
		select {
		case <-ctx.Done():
			return nil
		case <-keepAlive.C:
			fmt.Fprint(w, ": keep-alive\n\n")
			w.Flush()
		case <-poll.C:
		}
	}
}
