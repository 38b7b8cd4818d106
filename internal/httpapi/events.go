package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
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
	watch, err := watchedWork(c)
	if err != nil {
		return err
	}
	return s.streamEvents(c, tenantID, after, watch)
}

// maxWatched bounds the batches and jobs one stream follows.
const maxWatched = 50

// watched is the work a stream reports the progress of (?batch=, ?job=),
// and what it last said of each.
type watched struct {
	batches, jobs []string
	said          map[string]store.Progress
}

// watchedWork reads ?batch= and ?job= (each repeated, or comma-separated):
// the batches and jobs whose progress the stream sends.
func watchedWork(c echo.Context) (*watched, error) {
	w := &watched{said: map[string]store.Progress{}}
	v := &errs.ValidationError{}
	for _, f := range []struct {
		name string
		ids  *[]string
	}{{"batch", &w.batches}, {"job", &w.jobs}} {
		for _, raw := range c.QueryParams()[f.name] {
			for _, id := range strings.Split(raw, ",") {
				if id = strings.TrimSpace(id); id == "" || len(id) > 100 {
					v.Add(f.name, "must be ids of batches or jobs (1-100 characters each)")
					return nil, v
				}
				*f.ids = append(*f.ids, id)
			}
		}
	}
	if len(w.batches)+len(w.jobs) > maxWatched {
		v.Add("batch", "at most %d batches and jobs in all", maxWatched)
		return nil, v
	}
	return w, nil
}

// sendProgress writes batch.progress and job.progress for the watched work
// whose progress changed since the stream last said, and stops watching
// what has finished. These are not events of the outbox: they carry no id
// and a reconnecting client asks for them afresh.
func (s *Server) sendProgress(ctx context.Context, w *echo.Response, tenantID int64, watch *watched) (bool, error) {
	if len(watch.batches)+len(watch.jobs) == 0 {
		return false, nil
	}
	ps, err := s.store.WatchProgress(ctx, tenantID, watch.batches, watch.jobs)
	if err != nil {
		return false, err
	}
	wrote := false
	for _, p := range ps {
		key := p.Kind + ":" + p.ID
		if last, ok := watch.said[key]; ok && sameProgress(last, p) {
			continue
		}
		watch.said[key] = p
		data, _ := json.Marshal(p)
		fmt.Fprintf(w, "event: %s.progress\ndata: %s\n\n", p.Kind, data)
		wrote = true
		if p.Finished() {
			watch.batches = slices.DeleteFunc(watch.batches, func(id string) bool { return p.Kind == "batch" && id == p.ID })
			watch.jobs = slices.DeleteFunc(watch.jobs, func(id string) bool { return p.Kind == "job" && id == p.ID })
		}
	}
	return wrote, nil
}

func sameProgress(a, b store.Progress) bool {
	return a.Done == b.Done && a.Failed == b.Failed && a.Total == b.Total && a.State == b.State && a.Phase == b.Phase
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

func (s *Server) streamEvents(c echo.Context, tenantID, after int64, watch *watched) error {
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
		moved, err := s.sendProgress(ctx, w, tenantID, watch)
		if err != nil {
			if ctx.Err() == nil {
				s.log.Warn("event stream ended", "tenant", tenantID, "error", err)
			}
			return nil
		}
		if len(evs) > 0 || moved {
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
