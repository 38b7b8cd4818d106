package wordpress

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/presswork/presswork/internal/errs"
)

// errNoAPI says neither REST style answered with WordPress's REST index.
var errNoAPI = errors.New("no WordPress REST API found")

// Discover finds how the site's REST API is addressed: GET {site}/wp-json/
// and, when that is not WordPress's REST index (a 404, an HTML page, a
// refusal), GET {site}/index.php?rest_route=/. The style found is
// remembered. A site that cannot be reached, or answers 5xx or 429, gives a
// retryable error; a site that is not WordPress, or refuses the login, a
// permanent one.
func (c *Client) Discover(ctx context.Context) (Style, error) {
	if c.siteErr != nil {
		return "", errs.Permanent(fmt.Errorf("wordpress: %w", c.siteErr))
	}
	var failures []error
	for _, style := range []Style{StylePretty, StyleQuery} {
		err := c.probe(ctx, style)
		if err == nil {
			c.setStyle(style)
			return style, nil
		}
		if !errs.IsPermanent(err) || connectionFailed(err) {
			return "", c.redact(err)
		}
		failures = append(failures, err)
	}
	return "", c.redact(noAPIError(c.site, failures))
}

// connectionFailed reports whether err is a connection that could not be
// made (a name, a certificate, an address): the other style would meet it
// too.
func connectionFailed(err error) bool {
	switch errs.CodeOf(err) {
	case errs.CodeDNSNotFound, errs.CodeTLSInvalid, errs.CodeUnreachable, errs.CodeTimeout:
		return true
	}
	return false
}

// probe asks for the REST index in style and checks the answer is it.
func (c *Client) probe(ctx context.Context, style Style) error {
	k := call{op: "find the REST API", method: http.MethodGet, route: "/"}
	r, err := c.roundTrip(ctx, style, k)
	if err != nil {
		return err
	}
	if r.url.Scheme != c.site.Scheme || r.url.Host != c.site.Host {
		return c.movedError(style, r.url)
	}
	if err := c.check(k, r); err != nil {
		return err
	}
	var index struct {
		Namespaces []string `json:"namespaces"`
	}
	if json.Unmarshal(r.body, &index) != nil || index.Namespaces == nil {
		return errs.Permanent(fmt.Errorf("%s answered HTTP %d without WordPress's REST index: %s",
			c.endpoint(style, "/", nil), r.status, snippet(r.body, c.scrub)))
	}
	return nil
}

// movedError explains a site that redirects to another scheme or host:
// POSTs would not follow, so the site URL must be changed.
func (c *Client) movedError(style Style, to *url.URL) error {
	from, _ := url.Parse(c.endpoint(style, "/", nil))
	hint := "check the site URL"
	if site, ok := siteOf(to, from, c.site); ok {
		hint = "set the site URL to " + site
	}
	return errs.Permanent(fmt.Errorf("wordpress: the site redirects %s to %s; %s", from.Redacted(), to.Redacted(), hint))
}

// noAPIError reports why neither style worked: the refused login if that
// was the reason, else what each style answered.
func noAPIError(site *url.URL, failures []error) error {
	for i := len(failures) - 1; i >= 0; i-- {
		var ae *AuthError
		if errors.As(failures[i], &ae) {
			return failures[i]
		}
	}
	msgs := make([]string, len(failures))
	for i, f := range failures {
		msgs[i] = f.Error()
	}
	return errs.Permanent(errs.WithCode(errs.CodeRESTDisabled,
		fmt.Sprintf("no WordPress REST API answers at %s (is it a WordPress site, with the REST API enabled and not blocked by a plugin or the web server?): %s",
			site.Redacted(), strings.Join(msgs, "; ")), errNoAPI))
}

// CheckResult is what a connection test found.
type CheckResult struct {
	Style   Style  // the REST style in use
	Healthy bool   // the site can take Presswork's posts and images
	Reason  string // why not, in plain language; a note when healthy but limited
	Code    string // why not, stably (errs.Code*); "" when healthy
	// User is the user's display name, Username their login.
	User, Username string
	// The capabilities the publisher needs: publish_posts, upload_files, and
	// manage_categories (create categories and tags; without it only
	// existing terms can be used).
	CanPublish, CanUpload, CanManageTerms bool
}

// wireUser is /wp/v2/users/me in the edit context.
type wireUser struct {
	Name         string         `json:"name"`
	Username     string         `json:"username"`
	Capabilities map[string]any `json:"capabilities"`
}

// Check tests the connection: it discovers the REST style and asks who the
// credentials belong to (GET /wp/v2/users/me?context=edit) and what they
// may do. A site that refuses or ignores the login, is not WordPress, or
// whose user lacks publish_posts or upload_files is unhealthy, with the
// reason. A site that cannot be reached (or answers 5xx or 429) gives an
// error instead, to be retried: it says nothing about the configuration.
func (c *Client) Check(ctx context.Context) (CheckResult, error) {
	style, err := c.ensureStyle(ctx)
	if err != nil {
		return judgeError(CheckResult{}, err)
	}
	res := CheckResult{Style: style}
	var me wireUser
	k := call{op: "check the connection", method: http.MethodGet, route: "/wp/v2/users/me", query: url.Values{"context": {"edit"}}}
	if _, err := c.do(ctx, k, &me); err != nil {
		return judgeError(res, err)
	}
	res.User, res.Username = me.Name, me.Username
	res.CanPublish = truthy(me.Capabilities["publish_posts"])
	res.CanUpload = truthy(me.Capabilities["upload_files"])
	res.CanManageTerms = truthy(me.Capabilities["manage_categories"])
	res.Healthy, res.Reason = judgeCapabilities(res, me.Capabilities != nil)
	if !res.Healthy {
		res.Code = errs.CodePermission
	}
	return res, nil
}

// judgeError turns a permanent failure into an unhealthy result; any other
// failure is returned.
func judgeError(res CheckResult, err error) (CheckResult, error) {
	if !errs.IsPermanent(err) {
		return res, err
	}
	var ae *AuthError
	res.Code = errs.CodeOf(err)
	switch {
	case errors.As(err, &ae) && ae.Anonymous():
		res.Reason = "WordPress answered as if nobody was logged in: " + AnonymousReason + "."
	case errors.As(err, &ae) && ae.Status == http.StatusUnauthorized:
		res.Reason = "WordPress refused the user name or application password (" + wpDetail(ae.Status, ae.Code, ae.Message) + "); create a new application password for this user and save it again."
	case errors.As(err, &ae):
		res.Reason = "WordPress does not let this user see their own profile (" + wpDetail(ae.Status, ae.Code, ae.Message) + "); give the user the Author, Editor or Administrator role."
	default:
		res.Reason = err.Error()
		if msg, ok := errs.MessageOf(err); ok {
			res.Reason = msg
		}
	}
	return res, nil
}

// judgeCapabilities says whether the user can publish, with the reason.
func judgeCapabilities(res CheckResult, gotCaps bool) (bool, string) {
	if !gotCaps {
		return false, "WordPress did not say what the user may do (no capabilities in /wp/v2/users/me?context=edit); a plugin may be filtering the REST API."
	}
	var missing []string
	if !res.CanPublish {
		missing = append(missing, "cannot publish posts (publish_posts)")
	}
	if !res.CanUpload {
		missing = append(missing, "cannot upload images (upload_files)")
	}
	if len(missing) > 0 {
		return false, "The WordPress user " + strings.Join(missing, " and ") + "; give them the Author, Editor or Administrator role."
	}
	if !res.CanManageTerms {
		return true, "Connected, but the WordPress user cannot create categories or tags (manage_categories): only existing ones can be used. The Editor role allows it."
	}
	return true, ""
}

// truthy reads a capability value: true, 1 or "1".
func truthy(v any) bool {
	switch v := v.(type) {
	case bool:
		return v
	case float64:
		return v != 0
	case string:
		return v != "" && v != "0"
	}
	return false
}
