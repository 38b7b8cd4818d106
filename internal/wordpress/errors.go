package wordpress

import (
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/presswork/presswork/internal/errs"
)

// maxSnippet bounds the server text kept in errors.
const maxSnippet = 200

// retryAfter bounds a 429's wait: 30s when Retry-After names none.
var retryAfter = errs.RetryAfterBounds{Default: 30 * time.Second, Min: time.Second, Max: 15 * time.Minute}

// AnonymousReason explains a 401 that shows WordPress ran a request as
// anonymous although credentials were sent. WordPress 6.1 answers a wrong
// application password this way too (rest_not_logged_in rather than
// incorrect_password, when the user was looked up before the REST request
// was known), so the wrong password comes first.
const AnonymousReason = "the site ignored the application password: the user name or application password " +
	"is wrong, or the site is not on HTTPS (WordPress accepts application passwords only over HTTPS or with " +
	"WP_ENVIRONMENT_TYPE set to local), or the web server drops the Authorization header before PHP sees it"

// loginCodes are the 401 codes WordPress gives for a wrong user name or
// application password (as opposed to ignoring the password).
var loginCodes = map[string]bool{
	"invalid_username":   true,
	"incorrect_password": true,
	"invalid_email":      true,
}

// AuthError is a 401 (not logged in, or the login was refused) or 403
// (logged in, but the user's role does not allow it) answer. It is
// permanent: errors.Is(err, errs.ErrPermanent) holds.
type AuthError struct {
	Op      string // what the client was doing, e.g. "create post"
	Status  int    // 401 or 403
	Code    string // WordPress's error code, e.g. rest_cannot_create
	Message string // WordPress's message
}

func (e *AuthError) Error() string {
	detail := wpDetail(e.Status, e.Code, e.Message)
	switch {
	case e.Status == http.StatusForbidden:
		return fmt.Sprintf("wordpress: %s: the WordPress user is not allowed to do this (%s); give the user a role that can, such as Editor", e.Op, detail)
	case loginCodes[e.Code]:
		return fmt.Sprintf("wordpress: %s: WordPress refused the user name or application password (%s); check them in the site settings", e.Op, detail)
	}
	return fmt.Sprintf("wordpress: %s: WordPress handled the request as anonymous (%s): %s", e.Op, detail, AnonymousReason)
}

// Unwrap makes the error permanent.
func (e *AuthError) Unwrap() error { return errs.ErrPermanent }

// ErrorCode is errs.CodeAuthRejected.
func (e *AuthError) ErrorCode() string { return errs.CodeAuthRejected }

// Anonymous reports whether WordPress ran the request without a user,
// although credentials were sent: application passwords are unavailable or
// the Authorization header did not reach WordPress.
func (e *AuthError) Anonymous() bool {
	return e.Status == http.StatusUnauthorized && !loginCodes[e.Code]
}

// FieldError is a 400 answer: WordPress refused the input. Params names
// the invalid fields (from data.params); for a term_exists answer TermID is
// the existing term. It is permanent: errors.Is(err, errs.ErrPermanent).
type FieldError struct {
	Op      string            // what the client was doing, e.g. "create post"
	What    string            // the object refused, e.g. "post", "media", "category"
	Code    string            // e.g. rest_invalid_param, term_exists
	Message string            // WordPress's message
	Params  map[string]string // field -> problem, from data.params
	TermID  int64             // data.term_id of a term_exists answer
}

func (e *FieldError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "wordpress: %s: WordPress refused the %s: ", e.Op, e.What)
	if len(e.Params) == 0 {
		b.WriteString(e.Message)
	} else {
		fields := make([]string, 0, len(e.Params))
		for f := range e.Params {
			fields = append(fields, f)
		}
		sort.Strings(fields)
		for i, f := range fields {
			if i > 0 {
				b.WriteString("; ")
			}
			b.WriteString(f + ": " + e.Params[f])
		}
	}
	if e.Code != "" {
		b.WriteString(" (" + e.Code + ")")
	}
	return b.String()
}

// Unwrap makes the error permanent.
func (e *FieldError) Unwrap() error { return errs.ErrPermanent }

// ErrorCode is errs.CodeSiteRejected.
func (e *FieldError) ErrorCode() string { return errs.CodeSiteRejected }

// StatusError is any other error answer: 404 (errors.Is(err,
// errs.ErrNotFound) holds), 429 (inside an *errs.ThrottledError), 5xx and
// the rarer 4xx.
type StatusError struct {
	Op      string
	Status  int
	Code    string // WordPress's error code, "" when the body is not a WordPress error
	Message string
	Body    string // the start of a body that is not a WordPress error
}

func (e *StatusError) Error() string {
	s := fmt.Sprintf("wordpress: %s: %s", e.Op, wpDetail(e.Status, e.Code, e.Message))
	if e.Code == "" && e.Body != "" {
		s += ": " + e.Body
	}
	return s
}

// ErrorCode is errs.CodeSiteError for a 5xx, errs.CodeSiteRejected for a
// 4xx other than 404 and 429 (whose meaning depends on what was asked).
func (e *StatusError) ErrorCode() string {
	switch {
	case e.Status >= 500:
		return errs.CodeSiteError
	case e.Status != http.StatusNotFound && e.Status != http.StatusTooManyRequests:
		return errs.CodeSiteRejected
	}
	return ""
}

// Unwrap gives errs.ErrNotFound for a 404.
func (e *StatusError) Unwrap() error {
	if e.Status == http.StatusNotFound {
		return errs.ErrNotFound
	}
	return nil
}

// wpDetail formats a status with WordPress's code and message.
func wpDetail(status int, code, msg string) string {
	s := fmt.Sprintf("HTTP %d %s", status, http.StatusText(status))
	if code != "" {
		s += " " + code
	}
	if msg != "" {
		s += ": " + msg
	}
	return s
}

// wpError is WordPress's error body.
type wpError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Data    struct {
		Status int             `json:"status"`
		Params json.RawMessage `json:"params"`
		TermID flexInt         `json:"term_id"`
	} `json:"data"`
}

// flexInt reads a JSON number or a numeric string: term_exists carries
// term_id as either, depending on the WordPress version.
type flexInt int64

// UnmarshalJSON accepts 5, "5" and null.
func (f *flexInt) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	if s == "null" || s == "" {
		return nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return fmt.Errorf("not an id: %s", b)
	}
	*f = flexInt(n)
	return nil
}

// params reads data.params, an object of field -> message (values that are
// not strings are kept as JSON), each passed through scrub.
func (w *wpError) params(scrub func(string) string) map[string]string {
	var raw map[string]json.RawMessage
	if len(w.Data.Params) == 0 || json.Unmarshal(w.Data.Params, &raw) != nil || len(raw) == 0 {
		return nil
	}
	out := make(map[string]string, len(raw))
	for k, v := range raw {
		var s string
		if json.Unmarshal(v, &s) != nil {
			s = string(v)
		}
		out[scrub(k)] = truncate(scrub(s), maxSnippet)
	}
	return out
}

// classify turns an error answer into the package's error kinds. Every
// field taken from the answer (code, message, data.params, the body) goes
// through scrub first, so that the structured errors callers unwrap with
// errors.As hold no credentials the site echoed either.
func classify(k call, r *reply, now time.Time, scrub func(string) string) error {
	var w wpError
	if json.Unmarshal(r.body, &w) != nil {
		w = wpError{}
	}
	w.Code = truncate(scrub(w.Code), maxSnippet)
	w.Message = truncate(scrub(plainText(w.Message)), maxSnippet)
	switch r.status {
	case http.StatusUnauthorized, http.StatusForbidden:
		return &AuthError{Op: k.op, Status: r.status, Code: w.Code, Message: w.Message}
	case http.StatusBadRequest:
		return &FieldError{Op: k.op, What: k.what, Code: w.Code, Message: w.Message, Params: w.params(scrub), TermID: int64(w.Data.TermID)}
	}
	se := &StatusError{Op: k.op, Status: r.status, Code: w.Code, Message: w.Message}
	if w.Code == "" {
		se.Body = snippet(r.body, scrub)
	}
	switch {
	case r.status == http.StatusTooManyRequests:
		return &errs.ThrottledError{RetryAfter: retryAfter.Header(r.header, now), Err: se}
	case r.status == http.StatusRequestTimeout:
		return se
	case r.status == http.StatusInternalServerError && w.Code == "rest_upload_sideload_error":
		// WordPress reports a refused file type or an unwritable uploads
		// folder this way: a retry gives the same answer.
		return errs.Permanent(se)
	case r.status >= 500 || r.status == http.StatusNotFound:
		return se
	}
	return errs.Permanent(se)
}

// redirectError explains a redirect of a request that may not be
// redirected (a POST): the configured URL is not the site's address.
func (c *Client) redirectError(k call, r *reply, reqURL *url.URL) error {
	loc, err := reqURL.Parse(r.header.Get("Location"))
	if err != nil || r.header.Get("Location") == "" {
		return errs.Permanent(fmt.Errorf("wordpress: %s: the site answered HTTP %d without a usable Location; check the site URL", k.op, r.status))
	}
	loc.User = nil
	hint := "check the site URL"
	if site, ok := siteOf(loc, reqURL, c.site); ok {
		hint = "set the site URL to " + site
	}
	return errs.Permanent(fmt.Errorf("wordpress: %s: the site redirected the %s request to %s (HTTP %d); %s",
		k.op, k.method, loc.Redacted(), r.status, hint))
}

// siteOf derives the site URL to configure from where a request to reqURL
// was redirected: the same route below another base.
func siteOf(loc, reqURL, site *url.URL) (string, bool) {
	route, ok := strings.CutPrefix(reqURL.Path, site.Path)
	if !ok {
		return "", false
	}
	base, ok := strings.CutSuffix(loc.Path, route)
	if !ok {
		return "", false
	}
	u := url.URL{Scheme: loc.Scheme, Host: loc.Host, Path: strings.TrimRight(base, "/")}
	return u.String(), true
}

// reTag matches an HTML tag in a WordPress message ("<strong>Error:</strong> ...").
var reTag = regexp.MustCompile(`<[^>]*>`)

// plainText strips tags and entities from a WordPress message.
func plainText(msg string) string {
	return strings.TrimSpace(html.UnescapeString(reTag.ReplaceAllString(msg, "")))
}

// snippet is the start of a body for an error message, on one line,
// scrubbed before it is cut.
func snippet(body []byte, scrub func(string) string) string {
	s := scrub(strings.Join(strings.Fields(string(body)), " "))
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "?")
	}
	return truncate(s, maxSnippet)
}

// truncate cuts s to at most n bytes, on a rune boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}
