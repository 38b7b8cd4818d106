package httpapi_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
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

// docsAssets is the directory of the vendored Redoc bundle.
const docsAssets = "docs"

// scriptSrc finds the page's script elements' src attributes.
var scriptSrc = regexp.MustCompile(`<script src="([^"]+)"></script>`)

// TestDocsPage checks the /docs page: it loads the vendored Redoc bundle
// from this server and points it at /openapi.json, under a
// Content-Security-Policy that allows nothing from elsewhere.
func TestDocsPage(t *testing.T) {
	t.Parallel()
	resp, body := getPublic(t, "/docs")
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Errorf("Content-Type %q, want text/html", ct)
	}
	page := string(body)
	if !strings.Contains(page, `<redoc spec-url="/openapi.json"`) {
		t.Errorf("/docs does not point Redoc at /openapi.json:\n%s", page)
	}
	srcs := scriptSrc.FindAllStringSubmatch(page, -1)
	if len(srcs) != 1 || !strings.HasPrefix(html.UnescapeString(srcs[0][1]), "/docs/redoc.standalone.js?v=") {
		t.Fatalf("/docs: scripts %v, want the one bundle /docs/redoc.standalone.js?v=<version>", srcs)
	}
	if strings.Contains(page, "http://") || strings.Contains(page, "https://") {
		t.Errorf("/docs names another origin; it must load nothing from elsewhere:\n%s", page)
	}
	csp := resp.Header.Get("Content-Security-Policy")
	for _, directive := range []string{"default-src 'none'", "script-src 'self'", "connect-src 'self'", "frame-ancestors 'none'"} {
		if !strings.Contains(csp, directive+";") && !strings.HasSuffix(csp, directive) {
			t.Errorf("Content-Security-Policy %q lacks %q", csp, directive)
		}
	}
	if strings.Contains(csp, "http") || strings.Contains(csp, "unsafe-eval") || strings.Contains(csp, "script-src 'self' 'unsafe-inline'") {
		t.Errorf("Content-Security-Policy %q allows more than the page needs", csp)
	}
}

// TestDocsBundle checks that the bundle the page names is served, cached
// for good, and is the vendored file whose sha256 docs/README.md and
// scripts/vendor-redoc.sh record, at the version the page asks for.
func TestDocsBundle(t *testing.T) {
	t.Parallel()
	_, page := getPublic(t, "/docs")
	srcs := scriptSrc.FindStringSubmatch(string(page))
	if srcs == nil {
		t.Fatal("/docs has no script")
	}
	src := html.UnescapeString(srcs[1])
	resp, bundle := getPublic(t, src)
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/javascript") {
		t.Errorf("%s: Content-Type %q, want text/javascript", src, ct)
	}
	if cc := resp.Header.Get("Cache-Control"); !strings.Contains(cc, "max-age=31536000") || !strings.Contains(cc, "immutable") {
		t.Errorf("%s: Cache-Control %q, want a year, immutable", src, cc)
	}
	if got := resp.Header.Get("X-Content-Type-Options"); got != "nosniff" {
		t.Errorf("%s: X-Content-Type-Options %q, want nosniff", src, got)
	}
	vendored, err := os.ReadFile(filepath.Join(docsAssets, "redoc.standalone.js"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(bundle, vendored) {
		t.Errorf("%s: %d bytes, not the vendored file (%d bytes)", src, len(bundle), len(vendored))
	}
	// The bundle's licence notice comes from the same package and names its version.
	_, version, _ := strings.Cut(src, "?v=")
	notice, err := os.ReadFile(filepath.Join(docsAssets, "redoc.standalone.js.LICENSE.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(notice, []byte(`Version: "`+version+`"`)) {
		t.Errorf("the page asks for Redoc %q, but the vendored bundle is not that version", version)
	}
	sum := fmt.Sprintf("%x", sha256.Sum256(vendored))
	for _, f := range []struct{ path, want string }{
		{filepath.Join(docsAssets, "README.md"), "sha256 `" + sum + "`"},
		{filepath.Join(docsAssets, "README.md"), "`redoc` " + version + " "},
		{"../../scripts/vendor-redoc.sh", "REDOC_SHA256=" + sum + "\n"},
		{"../../scripts/vendor-redoc.sh", "REDOC_VERSION=" + version + "\n"},
	} {
		text, err := os.ReadFile(f.path)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(text), f.want) {
			t.Errorf("%s does not record %q (the vendored bundle's)", f.path, f.want)
		}
	}
	if _, err := os.Stat(filepath.Join(docsAssets, "LICENSE")); err != nil {
		t.Errorf("Redoc's licence: %v", err)
	}
}

// TestDocsPageInBrowser opens /docs in a headless chromium: Redoc renders
// every operation of the document and their examples, and the page's
// Content-Security-Policy blocks nothing it needs (it loads nothing from
// elsewhere: its policy allows only this server).
func TestDocsPageInBrowser(t *testing.T) {
	ctx := docsBrowser(t)
	ts := httptest.NewServer(httpapi.New(httpapi.Deps{Log: slog.New(slog.DiscardHandler)}).Handler())
	t.Cleanup(ts.Close)
	ops := len(openAPIOps(t, loadOpenAPI(t)))

	_, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{
		Source: `window.cspViolations = [];
			document.addEventListener("securitypolicyviolation", e => window.cspViolations.push(e.violatedDirective + " " + e.blockedURI));`})
	if err != nil {
		t.Fatalf("add the CSP listener: %v", err)
	}
	// Redoc marks each operation's section with data-section-id="operation/<operationId>".
	rendered := `document.querySelectorAll('[data-section-id^="operation/"]').length`
	var count int
	var violations []string
	var text string
	err = chromedp.Do(ctx,
		chromedp.Navigate(ts.URL+"/docs"),
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := chromedp.Poll[any](fmt.Sprintf("%s >= %d", rendered, ops),
				chromedp.WithPollingTimeout(60*time.Second), chromedp.WithPollingInterval(200*time.Millisecond))(ctx, tg)
			return err
		}),
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) (err error) {
			if count, err = chromedp.Evaluate[int](rendered)(ctx, tg); err != nil {
				return err
			}
			if violations, err = chromedp.Evaluate[[]string]("window.cspViolations")(ctx, tg); err != nil {
				return err
			}
			text, err = chromedp.Evaluate[string]("document.body.innerText")(ctx, tg)
			return err
		}),
	)
	if err != nil {
		t.Fatalf("render /docs (operations rendered: %d of %d): %v", count, ops, err)
	}
	// Redoc's menu shows Redocly's logo from their CDN (and hides it when it
	// does not load): the policy blocks it, as it must. Nothing else may be
	// blocked: the page would be missing something.
	for _, v := range violations {
		if v != "img-src https://cdn.redoc.ly/redoc/logo-mini.svg" {
			t.Errorf("the Content-Security-Policy blocked %s", v)
		}
	}
	// The examples are shown (a value only they hold), and the operations'
	// descriptions, which name their permissions.
	for _, want := range []string{"Response samples", "Example Blog", "Needs the content permission"} {
		if !strings.Contains(text, want) {
			t.Errorf("/docs as rendered lacks %q", want)
		}
	}
}

// docsBrowser starts a headless chromium, or skips (fails under CI=true)
// when it is not installed.
func docsBrowser(t *testing.T) context.Context {
	t.Helper()
	const chromium = "/usr/bin/chromium"
	if _, err := os.Stat(chromium); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("chromium not installed (%s)", chromium)
		}
		t.Skipf("chromium not installed (%s): apt-get install -y chromium", chromium)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chromium), chromedp.NoSandbox,
		chromedp.Headless, chromedp.Flag("disable-dev-shm-usage", true))
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(alloc)
	t.Cleanup(func() { cancelCtx(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}
