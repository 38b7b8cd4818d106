package httpapi

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/presswork/presswork/internal/errs"
	"github.com/presswork/presswork/internal/secret"
	"github.com/presswork/presswork/internal/store"
)

// Limits of the OpenAI settings.
const (
	maxOpenAIKeyLen  = 200
	maxAIBaseURLLen  = 2000
	minKeyLenForHint = 12 // a shorter key shows none of its characters
)

// aiSettings is what the API shows of a tenant's AI settings: never a key.
type aiSettings struct {
	OpenAI openAISettings `json:"openai"`
}

type openAISettings struct {
	Configured bool       `json:"configured"`
	KeyHint    *string    `json:"key_hint"`
	BaseURL    *string    `json:"base_url"`
	UpdatedAt  *time.Time `json:"updated_at,omitempty"`
}

func aiSettingsOf(st store.TenantAISettings) aiSettings {
	if st.OpenAIKeyEnc == nil {
		return aiSettings{}
	}
	hint, at := st.OpenAIKeyHint, st.UpdatedAt
	return aiSettings{OpenAI: openAISettings{Configured: true, KeyHint: &hint, BaseURL: st.OpenAIBaseURL, UpdatedAt: &at}}
}

func (s *Server) getAISettings(c echo.Context) error {
	st, err := s.store.GetTenantAISettings(c.Request().Context(), principal(c).TenantID)
	if err != nil && !errors.Is(err, errs.ErrNotFound) {
		return err
	}
	return c.JSON(http.StatusOK, aiSettingsOf(st))
}

// openAIKeyRequest is the body of PUT /v1/ai-settings/openai.
type openAIKeyRequest struct {
	APIKey  *string `json:"api_key"`
	BaseURL *string `json:"base_url"`
}

// putOpenAISettings stores the tenant's own OpenAI key, sealed, and the
// OpenAI-compatible server it is for (none: OpenAI's API). From then on the
// tenant's jobs use it instead of the worker's providers.
func (s *Server) putOpenAISettings(c echo.Context) error {
	var req openAIKeyRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	v := &errs.ValidationError{}
	var key string
	if req.APIKey == nil {
		v.Add("api_key", "is required")
	} else {
		key = strings.TrimSpace(*req.APIKey)
		// Problems never quote the key.
		switch {
		case key == "":
			v.Add("api_key", "must not be empty")
		case len(key) > maxOpenAIKeyLen:
			v.Add("api_key", "must be at most %d characters", maxOpenAIKeyLen)
		case strings.ContainsFunc(key, func(r rune) bool { return r <= ' ' || r > '~' }):
			v.Add("api_key", "must be printable ASCII characters without spaces")
		}
	}
	var baseURL *string
	if req.BaseURL != nil && strings.TrimSpace(*req.BaseURL) != "" {
		u, problem := aiBaseURL(*req.BaseURL, s.cfg.AllowPrivateURLs)
		if problem != "" {
			v.Add("base_url", "%s", problem)
		}
		baseURL = &u
	}
	if err := v.OrNil(); err != nil {
		return err
	}
	p := principal(c)
	enc, err := s.box.Seal([]byte(key), secret.OpenAIKeyAD(p.TenantID))
	if err != nil {
		return fmt.Errorf("seal the OpenAI key: %w", err)
	}
	st, err := s.store.SetTenantOpenAIKey(c.Request().Context(), p.TenantID, enc, openAIKeyHint(key), baseURL)
	if err != nil {
		return err
	}
	s.audit(c, "ai_settings.openai.set", "ai_settings:openai")
	return c.JSON(http.StatusOK, aiSettingsOf(st))
}

// deleteOpenAISettings forgets the tenant's OpenAI key: the worker's own
// providers serve it again.
func (s *Server) deleteOpenAISettings(c echo.Context) error {
	if err := s.store.ClearTenantOpenAIKey(c.Request().Context(), principal(c).TenantID); err != nil {
		return err
	}
	s.audit(c, "ai_settings.openai.clear", "ai_settings:openai")
	return c.JSON(http.StatusOK, aiSettings{})
}

// openAIKeyHint shows enough of a key to recognise it: its last four
// characters, after "sk-" when it starts so.
func openAIKeyHint(key string) string {
	prefix := ""
	if strings.HasPrefix(key, "sk-") {
		prefix = "sk-"
	}
	if len(key) < minKeyLenForHint {
		return prefix + "…"
	}
	return prefix + "…" + key[len(key)-4:]
}

// aiBaseURL checks the base URL of an OpenAI-compatible server and returns
// it without a trailing slash, or says what is wrong with it. It must use
// https; plain http is accepted for this machine only (localhost, a
// loopback address), for servers such as Ollama running beside the worker,
// and only when the operator allows private addresses.
func aiBaseURL(raw string, allowPrivate bool) (string, string) {
	if len(raw) > maxAIBaseURLLen {
		return "", fmt.Sprintf("must be at most %d characters", maxAIBaseURLLen)
	}
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Host == "" || u.Opaque != "" {
		return "", "must be an absolute URL such as https://llm.example.com/v1"
	}
	if problem := hostProblem(u.Hostname(), allowPrivate); problem != "" {
		return "", problem
	}
	switch {
	case u.Scheme == "http" && !isLoopbackHost(u.Hostname()):
		return "", "must start with https:// (http:// is accepted for localhost only)"
	case u.Scheme != "https" && u.Scheme != "http":
		return "", "must start with https://"
	case u.User != nil:
		return "", "must not contain a user name or password"
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return "", "must not have a query or fragment"
	}
	return strings.TrimRight(u.String(), "/"), ""
}

func isLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
