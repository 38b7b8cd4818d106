package wordpress

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/presswork/presswork/internal/errs"
	"github.com/presswork/presswork/internal/netguard"
	"github.com/presswork/presswork/internal/secret"
)

const (
	// maxBody is the most read of any reply.
	maxBody = 16 << 20
	// maxPages bounds how many pages a list reads (100 items each).
	maxPages = 10
	// perPage is WordPress's largest page size.
	perPage = 100
	// userAgent names the client to the site's logs.
	userAgent = "presswork-wordpress/1"
)

// call is one REST request.
type call struct {
	op          string // what is being done, for errors: "create post"
	what        string // the object, for FieldError: "post"
	method      string
	route       string // e.g. /wp/v2/posts/5
	query       url.Values
	body        []byte
	contentType string
	header      map[string]string
	// repeatable marks a request that may be sent again after a transient
	// failure: a read, or an update that sets the same fields again. A
	// create never is (a replay would make a second object).
	repeatable bool
}

// Transient failures of a repeatable request are tried again at once, a
// few times, before the caller sees them: a flaky site then costs a job
// attempt only for what cannot be repeated.
const (
	repeatTries = 3
	repeatPause = 200 * time.Millisecond
)

// reply is a whole answer.
type reply struct {
	status int
	header http.Header
	body   []byte
	url    *url.URL // where the answer came from, after redirects
}

// do sends k in the site's style (discovering it first if needed), checks
// the answer and decodes its JSON into out (unless out is nil).
func (c *Client) do(ctx context.Context, k call, out any) (*reply, error) {
	repeatable := k.repeatable || k.method == http.MethodGet
	for try := 1; ; try++ {
		r, err := c.doOnce(ctx, k, out)
		if err == nil || !repeatable || try == repeatTries || !transient(err) || ctx.Err() != nil {
			return r, err
		}
		select {
		case <-ctx.Done():
			return nil, err
		case <-time.After(repeatPause << (try - 1)):
		}
	}
}

// transient says whether a failure may pass by itself: not a permanent
// one, and not a 429 (whose wait is the caller's to honour).
func transient(err error) bool {
	var th *errs.ThrottledError
	return !errs.IsPermanent(err) && !errors.As(err, &th)
}

// doOnce sends k once.
func (c *Client) doOnce(ctx context.Context, k call, out any) (*reply, error) {
	style, err := c.ensureStyle(ctx)
	if err != nil {
		return nil, err
	}
	r, err := c.roundTrip(ctx, style, k)
	if err == nil {
		err = c.check(k, r)
	}
	if err == nil && out != nil {
		err = decode(k, r, out, c.scrub)
	}
	if err != nil {
		return nil, c.redact(err)
	}
	return r, nil
}

// ensureStyle returns the known style or discovers it.
func (c *Client) ensureStyle(ctx context.Context) (Style, error) {
	if c.siteErr != nil {
		return "", errs.Permanent(fmt.Errorf("wordpress: %w", c.siteErr))
	}
	if s := c.Style(); s != "" {
		return s, nil
	}
	return c.Discover(ctx)
}

// roundTrip sends k and reads the whole answer, whatever its status.
func (c *Client) roundTrip(ctx context.Context, style Style, k call) (*reply, error) {
	var body io.Reader
	if k.body != nil {
		body = bytes.NewReader(k.body) // lets a redirect or a safe retry rewind it
	}
	req, err := http.NewRequestWithContext(ctx, k.method, c.endpoint(style, k.route, k.query), body)
	if err != nil {
		return nil, errs.Permanent(fmt.Errorf("wordpress: %s: %w", k.op, err))
	}
	req.SetBasicAuth(c.creds.User, strings.TrimSpace(c.creds.AppPassword))
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", userAgent)
	if k.contentType != "" {
		req.Header.Set("Content-Type", k.contentType)
	}
	for name, v := range k.header {
		req.Header.Set(name, v)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, sendError(ctx, k, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return nil, readError(ctx, k, resp.StatusCode, len(data), err)
	}
	if len(data) > maxBody {
		return nil, errs.Permanent(fmt.Errorf("wordpress: %s: the reply is larger than %d MiB", k.op, maxBody>>20))
	}
	return &reply{status: resp.StatusCode, header: resp.Header, body: data, url: resp.Request.URL}, nil
}

// check turns a reply that is not a success into an error.
func (c *Client) check(k call, r *reply) error {
	switch {
	case r.status >= 200 && r.status < 300:
		return nil
	case r.status >= 300 && r.status < 400:
		return c.redirectError(k, r, r.url)
	}
	return classify(k, r, c.now(), c.scrub)
}

// mayHaveApplied is added to failures of requests that change things:
// status is the answer's, 0 when there was none.
func mayHaveApplied(k call, status int) string {
	switch {
	case k.method == http.MethodGet || k.method == http.MethodHead:
		return ""
	case status >= 200 && status < 300:
		return "; WordPress accepted the request, so it was probably applied"
	}
	return "; WordPress may or may not have applied the request"
}

// sendError explains a request that got no answer.
func sendError(ctx context.Context, k call, err error) error {
	if cerr := ctx.Err(); cerr != nil {
		return fmt.Errorf("wordpress: %s: %w", k.op, cerr)
	}
	detail := fmt.Errorf("wordpress: %s: %w", k.op, err)
	if coded := netguard.Classify(err); coded != nil {
		var ce *errs.CodedError
		errors.As(coded, &ce)
		return errs.WithCode(ce.Code, ce.Msg+mayHaveApplied(k, 0), wrapKind(coded, detail))
	}
	return errs.WithCode(errs.CodeUnreachable, "no answer from the site"+mayHaveApplied(k, 0), detail)
}

// wrapKind returns detail, permanent when coded is.
func wrapKind(coded, detail error) error {
	if errs.IsPermanent(coded) {
		return errs.Permanent(detail)
	}
	return detail
}

// readError explains an answer that was cut off.
func readError(ctx context.Context, k call, status, n int, err error) error {
	if cerr := ctx.Err(); cerr != nil {
		return fmt.Errorf("wordpress: %s: reading the reply: %w", k.op, cerr)
	}
	return fmt.Errorf("wordpress: %s: the reply (HTTP %d) was cut off after %d bytes%s: %w", k.op, status, n, mayHaveApplied(k, status), err)
}

// decode reads a success's JSON into out.
func decode(k call, r *reply, out any, scrub func(string) string) error {
	if err := json.Unmarshal(r.body, out); err != nil {
		return fmt.Errorf("wordpress: %s: the reply (HTTP %d) is not the JSON expected (%v)%s: %s",
			k.op, r.status, err, mayHaveApplied(k, r.status), snippet(r.body, scrub))
	}
	return nil
}

// list reads up to maxPages pages of a collection into a slice.
func list[T any](ctx context.Context, c *Client, k call) ([]T, error) {
	return listPages[T](ctx, c, k, maxPages)
}

// listPages reads up to limit pages of a collection into a slice, a page
// after another while X-WP-TotalPages says there are more.
func listPages[T any](ctx context.Context, c *Client, k call, limit int) ([]T, error) {
	var all []T
	if k.query == nil {
		k.query = url.Values{}
	}
	for page := 1; page <= limit; page++ {
		k.query.Set("per_page", strconv.Itoa(perPage))
		k.query.Set("page", strconv.Itoa(page))
		var items []T
		r, err := c.do(ctx, k, &items)
		if err != nil {
			return nil, err
		}
		all = append(all, items...)
		pages, _ := strconv.Atoi(r.header.Get("X-WP-TotalPages"))
		if len(items) < perPage || page >= pages {
			break
		}
	}
	return all, nil
}

// redact makes sure err's message shows the password in none of its forms,
// whatever text the site sent back (a last line of defence: classify
// already scrubs what it keeps of an answer).
func (c *Client) redact(err error) error { return secret.ScrubError(err, c.secrets()...) }

// scrub removes the application password from text the site sent, in each
// form secret.Scrub knows, with and without its spaces, and inside the
// Basic authorization of the user.
func (c *Client) scrub(text string) string {
	return secret.Scrub(text, c.secrets()...)
}

// secrets are the strings no error may show.
func (c *Client) secrets() []string {
	p := strings.TrimSpace(c.creds.AppPassword)
	if len(p) < 4 {
		return nil
	}
	bare := strings.ReplaceAll(p, " ", "")
	return []string{c.creds.User + ":" + p, c.creds.User + ":" + bare, p, bare}
}
