package fakepanel_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/presswork/presswork/internal/easypanel/fakepanel"
)

// post sends body to procedure with the given Authorization header.
func post(t *testing.T, panel *fakepanel.Server, procedure, auth, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, panel.URL+"/api/trpc/"+procedure, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	return send(t, req)
}

func send(t *testing.T, req *http.Request) (int, string) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(body)
}

func login(t *testing.T, panel *fakepanel.Server) string {
	t.Helper()
	status, body := post(t, panel, "auth.login", "",
		`{"json":{"email":"`+fakepanel.Email+`","password":"`+fakepanel.Password+`"}}`)
	var reply struct {
		Result struct {
			Data struct {
				JSON struct{ Token string } `json:"json"`
			} `json:"data"`
		} `json:"result"`
	}
	if err := json.Unmarshal([]byte(body), &reply); err != nil || status != http.StatusOK {
		t.Fatalf("login: %d %s", status, body)
	}
	return reply.Result.Data.JSON.Token
}

func TestQueryAcceptsPlainParameters(t *testing.T) {
	t.Parallel()
	panel := fakepanel.New(t)
	panel.AddProject("database")
	token := login(t, panel)
	status, body := post(t, panel, "services.app.createService", token,
		`{"json":{"projectName":"database","serviceName":"acme-blog","source":{"type":"image","image":"wordpress:6"}}}`)
	if status != http.StatusOK {
		t.Fatalf("create: %d %s", status, body)
	}
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet,
		panel.URL+"/api/trpc/services.app.inspectService?projectName=database&serviceName=acme-blog", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if status, body := send(t, req); status != http.StatusOK || !strings.Contains(body, `"primaryDomainId":"dom_1"`) {
		t.Errorf("inspect with plain parameters: %d %s", status, body)
	}
	if got := panel.AuthForms(); got["plain"] != 1 || got["bearer"] != 1 {
		t.Errorf("auth forms %v", got)
	}
}

func TestMutationRequiresJSONEnvelope(t *testing.T) {
	t.Parallel()
	panel := fakepanel.New(t)
	token := login(t, panel)
	status, body := post(t, panel, "services.app.stopService", token, `{"projectName":"a","serviceName":"b"}`)
	if status != http.StatusBadRequest || !strings.Contains(body, `"BAD_REQUEST"`) {
		t.Errorf("bare input: %d %s", status, body)
	}
}

func TestUnauthenticatedCallIsRefused(t *testing.T) {
	t.Parallel()
	panel := fakepanel.New(t)
	status, body := post(t, panel, "services.app.stopService", "Bearer forged", `{"json":{"projectName":"a","serviceName":"b"}}`)
	if status != http.StatusUnauthorized || !strings.Contains(body, `"UNAUTHORIZED"`) {
		t.Errorf("forged token: %d %s", status, body)
	}
}
