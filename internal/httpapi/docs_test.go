package httpapi_test

import (
	"encoding/json"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/presswork/presswork/internal/httpapi"
)

// getPublic fetches path from a server that needs no database.
func getPublic(t *testing.T, path string) (*http.Response, []byte) {
	t.Helper()
	ts := httptest.NewServer(httpapi.New(httpapi.Deps{Log: slog.New(slog.DiscardHandler)}).Handler())
	t.Cleanup(ts.Close)
	resp, err := http.Get(ts.URL + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: read: %v", path, err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: status %d, want 200; body: %s", path, resp.StatusCode, clipBody(body))
	}
	return resp, body
}

func TestOpenAPIJSON(t *testing.T) {
	t.Parallel()
	resp, body := getPublic(t, "/openapi.json")
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type %q, want application/json", ct)
	}
	var doc map[string]any
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatalf("/openapi.json is not JSON: %v", err)
	}
	if v, _ := doc["openapi"].(string); !regexp.MustCompile(`^3\.1\.\d+$`).MatchString(v) {
		t.Errorf("openapi = %v, want 3.1.x", doc["openapi"])
	}
	paths := func(d map[string]any) []string {
		p, _ := d["paths"].(map[string]any)
		keys := make([]string, 0, len(p))
		for k := range p {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		return keys
	}
	if diff := cmp.Diff(paths(loadOpenAPI(t)), paths(doc)); diff != "" {
		t.Errorf("paths of /openapi.json differ from %s (-yaml +json):\n%s", openAPIFile, diff)
	}
}

func TestDocsPage(t *testing.T) {
	t.Parallel()
	resp, body := getPublic(t, "/docs")
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Errorf("Content-Type %q, want text/html", ct)
	}
	page := html.UnescapeString(string(body))
	ops := openAPIOps(t, loadOpenAPI(t))
	for _, o := range ops {
		id, _ := o.op["operationId"].(string)
		if !strings.Contains(page, `id="`+id+`"`) || !strings.Contains(page, "<code>"+o.path+"</code>") {
			t.Errorf("/docs lacks %s (%s)", o, id)
		}
	}
	if strings.Contains(page, "<script") {
		t.Error("/docs has a script; it should be plain HTML")
	}
}
