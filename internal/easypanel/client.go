// Package easypanel is a client for Easypanel's tRPC-over-HTTP API (/api/trpc/*), the API of
// panels before version 2.31. It follows the wire contract in
// shared/reference/easypanel-api.md: mutations are POSTed as {"json": input}, queries are GETs
// with ?input={"json": input}, and replies are accepted both as one object and in the batched
// array form.
//
// A Client logs in lazily, carries the token on every call, and logs in again once when a call
// answers 401. The panel's refusals come back as *Error; transport failures come back wrapped
// as they are, so callers can tell "the panel said no" from "the panel could not be reached".
package easypanel

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// maxReplyBytes bounds how much of a reply is read; the largest documented reply is a service.
const maxReplyBytes = 8 << 20

// Client talks to one panel as one user. Safe for concurrent use.
type Client struct {
	baseURL  string
	email    string
	password string
	http     *http.Client

	// loginMu serialises logins so that calls hitting 401 together log in once.
	loginMu sync.Mutex

	mu        sync.Mutex
	plainAuth bool
	token     string
}

// New returns a client for the panel at baseURL (like "https://panel.example.com"; a trailing
// slash is tolerated) that logs in as email. A nil httpClient means one with a 30s timeout.
func New(baseURL, email, password string, httpClient *http.Client) *Client {
	if httpClient == nil {
		httpClient = &http.Client{Timeout: 30 * time.Second}
	}
	return &Client{
		baseURL:  strings.TrimRight(baseURL, "/"),
		email:    email,
		password: password,
		http:     httpClient,
	}
}

// WithPlainAuthorization makes c send "Authorization: <token>", as Easypanel's own plugins do,
// instead of "Authorization: Bearer <token>". It changes c and returns it, for chaining after New.
func (c *Client) WithPlainAuthorization() *Client {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.plainAuth = true
	return c
}

// request is one procedure call.
type request struct {
	procedure string
	method    string // http.MethodGet for queries, http.MethodPost for mutations
	input     any    // nil means no input
	secrets   []string
}

func mutation(procedure string, input any, secrets ...string) request {
	return request{procedure: procedure, method: http.MethodPost, input: input, secrets: secrets}
}

func query(procedure string, input any) request {
	return request{procedure: procedure, method: http.MethodGet, input: input}
}

// Login calls auth.login and stores the token for the calls that follow.
func (c *Client) Login(ctx context.Context) error {
	c.loginMu.Lock()
	defer c.loginMu.Unlock()
	return c.login(ctx)
}

// login must be called with loginMu held.
func (c *Client) login(ctx context.Context) error {
	in := map[string]string{"email": c.email, "password": c.password}
	data, err := c.do(ctx, mutation("auth.login", in, c.password), "")
	if apiErr, ok := errors.AsType[*Error](err); ok && apiErr.refusesLogin() {
		return fmt.Errorf("%w: %w", ErrLoginRefused, err)
	}
	if err != nil {
		return err
	}
	var out struct {
		Token string `json:"token"`
	}
	if err := json.Unmarshal(data, &out); err != nil {
		return fmt.Errorf("easypanel auth.login: decode reply: %w: %w", ErrBadReply, err)
	}
	if out.Token == "" {
		return fmt.Errorf("easypanel auth.login: reply carries no token: %w", ErrBadReply)
	}
	c.mu.Lock()
	c.token = out.Token
	c.mu.Unlock()
	return nil
}

func (c *Client) currentToken() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.token
}

// ensureToken logs in when no token is held yet.
func (c *Client) ensureToken(ctx context.Context) (string, error) {
	if token := c.currentToken(); token != "" {
		return token, nil
	}
	c.loginMu.Lock()
	defer c.loginMu.Unlock()
	if token := c.currentToken(); token != "" {
		return token, nil
	}
	if err := c.login(ctx); err != nil {
		return "", err
	}
	return c.currentToken(), nil
}

// relogin replaces the rejected token, unless another call already did.
func (c *Client) relogin(ctx context.Context, rejected string) (string, error) {
	c.loginMu.Lock()
	defer c.loginMu.Unlock()
	if token := c.currentToken(); token != "" && token != rejected {
		return token, nil
	}
	if err := c.login(ctx); err != nil {
		return "", err
	}
	return c.currentToken(), nil
}

// call runs r with the token, logs in again once on 401, and decodes the reply's json into out
// (nil to ignore it).
func (c *Client) call(ctx context.Context, r request, out any) error {
	token, err := c.ensureToken(ctx)
	if err != nil {
		return err
	}
	data, err := c.do(ctx, r, token)
	if apiErr, ok := errors.AsType[*Error](err); ok && apiErr.Status == http.StatusUnauthorized {
		if token, err = c.relogin(ctx, token); err != nil {
			return err
		}
		data, err = c.do(ctx, r, token)
	}
	if err != nil {
		return err
	}
	if out == nil || isNull(data) {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("easypanel %s: decode reply: %w: %w", r.procedure, ErrBadReply, err)
	}
	return nil
}

// do sends r once and returns the reply's json payload.
func (c *Client) do(ctx context.Context, r request, token string) (json.RawMessage, error) {
	req, err := c.newHTTPRequest(ctx, r, token)
	if err != nil {
		return nil, err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("easypanel %s: %w", r.procedure, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxReplyBytes))
	if err != nil {
		return nil, fmt.Errorf("easypanel %s: read reply: %w", r.procedure, err)
	}
	data, apiErr := parseReply(r.procedure, resp.StatusCode, body)
	if apiErr == nil {
		return data, nil
	}
	apiErr.Message = maskText(apiErr.Message, append([]string{c.password, c.email + ":" + c.password, token}, r.secrets...)...)
	if looksLikeNewerPanel(apiErr) && c.speaksNewerAPI(ctx) {
		return nil, fmt.Errorf("easypanel %s: %s: %w", r.procedure, c.baseURL, ErrUnsupportedPanel)
	}
	return nil, apiErr
}

func (c *Client) newHTTPRequest(ctx context.Context, r request, token string) (*http.Request, error) {
	endpoint := c.baseURL + "/api/trpc/" + r.procedure
	var body io.Reader
	if r.input != nil {
		payload, err := json.Marshal(map[string]any{"json": r.input})
		if err != nil {
			return nil, fmt.Errorf("easypanel %s: encode input: %w", r.procedure, err)
		}
		if r.method == http.MethodGet {
			endpoint += "?" + url.Values{"input": {string(payload)}}.Encode()
		} else {
			body = bytes.NewReader(payload)
		}
	}
	req, err := http.NewRequestWithContext(ctx, r.method, endpoint, body)
	if err != nil {
		return nil, fmt.Errorf("easypanel %s: %w", r.procedure, err)
	}
	req.Header.Set("Accept", "application/json")
	if r.method == http.MethodPost {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", c.authorization(token))
	}
	return req, nil
}

func (c *Client) authorization(token string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.plainAuth {
		return token
	}
	return "Bearer " + token
}

// looksLikeNewerPanel reports the symptoms of a panel that moved to /api/rpc: the tRPC path is
// gone (404), or every call with input is refused as invalid.
func looksLikeNewerPanel(e *Error) bool {
	if e.Status == http.StatusNotFound {
		return true
	}
	return e.Status == http.StatusBadRequest &&
		(e.Message == "Input validation failed" || bytes.Contains(e.Reply, []byte("Input validation failed")))
}

// speaksNewerAPI probes /api/openapi.json, which only panels of version 2.31 or later serve.
func (c *Client) speaksNewerAPI(ctx context.Context) bool {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.baseURL+"/api/openapi.json", nil)
	if err != nil {
		return false
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return false
	}
	tok, err := json.NewDecoder(io.LimitReader(resp.Body, maxReplyBytes)).Token()
	return err == nil && tok == json.Delim('{')
}

func isNull(data json.RawMessage) bool {
	trimmed := bytes.TrimSpace(data)
	return len(trimmed) == 0 || bytes.Equal(trimmed, []byte("null"))
}
