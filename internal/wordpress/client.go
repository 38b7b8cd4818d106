// Package wordpress is a client of the WordPress REST API (WordPress 5.6+,
// Debian's 6.1) for the publisher: posts, media and terms, authenticated
// with an application password.
//
// It finds by itself whether a site answers at /wp-json/ (pretty
// permalinks) or only at /index.php?rest_route= (plain permalinks, the
// default of a fresh install) and remembers it.
//
// Errors follow Presswork's vocabulary (package errs): 401 and 403 are
// *AuthError and 400 is *FieldError, both permanent; 404 wraps
// errs.ErrNotFound; 429 is *errs.ThrottledError; 5xx, network errors and
// unreadable replies are plain, retryable errors. A create that fails after
// it was sent may still have been applied by WordPress: the client never
// sends a POST twice (no Idempotency-Key header, no retries of its own), so
// the caller decides, by looking the post up by slug.
package wordpress

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/presswork/presswork/internal/errs"
)

// Style is how a site's REST routes are addressed.
type Style string

// The two REST styles of WordPress.
const (
	// StylePretty addresses routes as {site}/wp-json/wp/v2/posts.
	StylePretty Style = "pretty"
	// StyleQuery addresses routes as {site}/index.php?rest_route=/wp/v2/posts;
	// it works whatever the permalink settings.
	StyleQuery Style = "query"
)

// defaultTimeout bounds each request when New is given no HTTP client.
const defaultTimeout = time.Minute

// maxRedirects is how many redirects a GET follows.
const maxRedirects = 10

// Credentials name a site and the application password of one of its
// users. Their String, GoString and LogValue mask the password.
type Credentials struct {
	// URL is the site's address, e.g. https://example.com or
	// https://example.com/blog (the WordPress address, not /wp-admin).
	URL string
	// User is the WordPress user name (login) the password belongs to.
	User string
	// AppPassword is an application password of User (Users > Profile >
	// Application Passwords); its spaces may be kept.
	AppPassword string
}

// String describes the credentials without the password.
func (c Credentials) String() string {
	return fmt.Sprintf("wordpress.Credentials{URL: %q, User: %q, AppPassword: %s}", c.URL, c.User, maskPassword(c.AppPassword))
}

// GoString is String, so that %#v does not print the password either.
func (c Credentials) GoString() string { return c.String() }

// LogValue logs the credentials with the password masked.
func (c Credentials) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("url", c.URL),
		slog.String("user", c.User),
		slog.String("app_password", maskPassword(c.AppPassword)),
	)
}

// Validate reports what is wrong with c.
func (c Credentials) Validate() error {
	_, err := parseSite(c.URL)
	var problems []error
	if err != nil {
		problems = append(problems, err)
	}
	if strings.TrimSpace(c.User) == "" {
		problems = append(problems, errors.New("the WordPress user name is empty"))
	}
	if strings.TrimSpace(c.AppPassword) == "" {
		problems = append(problems, errors.New("the application password is empty"))
	}
	return errors.Join(problems...)
}

// maskPassword says whether a password is set, never what it is.
func maskPassword(p string) string {
	if p == "" {
		return "(unset)"
	}
	return "xxxxx"
}

// parseSite parses a site URL: http(s), a host, no query or fragment. The
// path loses its trailing slash and user info is dropped.
func parseSite(raw string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("the site URL must be an http(s) URL such as https://example.com, got %q", redactURL(raw))
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("the site URL must not have a query or fragment, got %q", redactURL(raw))
	}
	u.User = nil
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = ""
	return u, nil
}

// redactURL drops user info from a URL that did not parse as a site.
func redactURL(raw string) string {
	if u, err := url.Parse(raw); err == nil && u.User != nil {
		u.User = nil
		return u.String()
	}
	if at := strings.LastIndex(raw, "@"); at >= 0 {
		return "..." + raw[at:]
	}
	return raw
}

// Client talks to one WordPress site as one user. It is safe for
// concurrent use.
type Client struct {
	hc      *http.Client
	creds   *Credentials // a pointer, so that printing a Client value shows no password
	site    *url.URL     // nil when creds.URL is invalid
	siteErr error

	mu    sync.Mutex
	style Style

	now func() time.Time
}

// New returns a client of the site in c. hc sends the requests (pass one
// whose transport refuses private addresses; nil means a plain client with
// a one-minute timeout); it is copied, not changed. style "" means the
// style is discovered on first use. Invalid credentials are reported by
// every call as a permanent error.
func New(hc *http.Client, c Credentials, style Style) *Client {
	copied := &http.Client{Timeout: defaultTimeout}
	if hc != nil {
		*copied = *hc
	}
	copied.CheckRedirect = checkRedirect(copied.CheckRedirect)
	cl := &Client{hc: copied, creds: &c, style: style, now: time.Now}
	cl.site, cl.siteErr = parseSite(c.URL)
	if cl.siteErr == nil {
		cl.siteErr = c.Validate()
	}
	return cl
}

// String names the site and user, never the password.
func (c *Client) String() string {
	return fmt.Sprintf("wordpress.Client{URL: %q, User: %q}", c.creds.URL, c.creds.User)
}

// GoString is String, so that %#v does not print the password.
func (c *Client) GoString() string { return c.String() }

// LogValue logs the site and user, never the password.
func (c *Client) LogValue() slog.Value { return c.creds.LogValue() }

// Style returns the REST style in use, "" before it is discovered.
func (c *Client) Style() Style {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.style
}

func (c *Client) setStyle(s Style) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.style = s
}

// checkRedirect follows redirects of GET and HEAD only (and never from
// https to http, which would send the password in clear). Other methods get
// the redirect itself, which do turns into an error: Go would re-send a
// 301'd POST as a GET without its body.
func checkRedirect(next func(*http.Request, []*http.Request) error) func(*http.Request, []*http.Request) error {
	return func(req *http.Request, via []*http.Request) error {
		first := via[0]
		if first.Method != http.MethodGet && first.Method != http.MethodHead {
			return http.ErrUseLastResponse
		}
		if via[len(via)-1].URL.Scheme == "https" && req.URL.Scheme != "https" {
			return errs.Permanent(fmt.Errorf("refused a redirect from https to %s", req.URL.Redacted()))
		}
		if next != nil {
			return next(req, via)
		}
		if len(via) >= maxRedirects {
			return fmt.Errorf("stopped after %d redirects", maxRedirects)
		}
		return nil
	}
}

// endpoint returns the URL of route (e.g. "/wp/v2/posts/5") with query q
// in the given style.
func (c *Client) endpoint(style Style, route string, q url.Values) string {
	base := c.site.String()
	enc := q.Encode()
	if style == StyleQuery {
		s := base + "/index.php?rest_route=" + escapeRoute(route)
		if enc != "" {
			s += "&" + enc
		}
		return s
	}
	s := base + "/wp-json" + route
	if enc != "" {
		s += "?" + enc
	}
	return s
}

// escapeRoute escapes a route for a query value, keeping its slashes.
func escapeRoute(route string) string {
	return strings.ReplaceAll(url.QueryEscape(route), "%2F", "/")
}
