package httpapi

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"

	"github.com/labstack/echo/v4"
	"gopkg.in/yaml.v3"
)

// redocVersion is the version of the vendored Redoc bundle (docs/README.md,
// scripts/vendor-redoc.sh); the page asks for the bundle with it, so a new
// bundle is never taken from a cache.
const redocVersion = "2.5.4"

// docsBundlePath is where the Redoc bundle is served.
const docsBundlePath = "/docs/redoc.standalone.js"

// redocBundle is Redoc's standalone bundle, from npm (docs/README.md).
//
//go:embed docs/redoc.standalone.js
var redocBundle []byte

// docsCSP is the Content-Security-Policy of the /docs page: the bundle and
// the document come from this server, nothing from anywhere else. Redoc
// needs inline styles (styled-components writes <style> elements) and runs
// its search in a worker made from a blob: URL.
const docsCSP = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
	"font-src 'self'; connect-src 'self'; worker-src blob:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// apiDocs is the OpenAPI document rendered once at start: as JSON for
// /openapi.json, and the /docs page that renders it with Redoc.
type apiDocs struct {
	json []byte
	html []byte
}

// newAPIDocs converts the YAML document. It fails only if the embedded
// document is broken, which the tests catch.
func newAPIDocs(spec []byte) (*apiDocs, error) {
	var doc any
	if err := yaml.Unmarshal(spec, &doc); err != nil {
		return nil, fmt.Errorf("parse the OpenAPI document: %w", err)
	}
	doc = jsonCompatible(doc)
	js, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("encode the OpenAPI document as JSON: %w", err)
	}
	m, ok := doc.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("the OpenAPI document is a %T, not an object", doc)
	}
	info, _ := m["info"].(map[string]any)
	title, _ := info["title"].(string)
	var page bytes.Buffer
	err = docsPage.Execute(&page, docsView{Title: title, Bundle: docsBundlePath + "?v=" + redocVersion, Spec: "/openapi.json"})
	if err != nil {
		return nil, fmt.Errorf("render the docs page: %w", err)
	}
	return &apiDocs{json: js, html: page.Bytes()}, nil
}

// jsonCompatible turns the map[any]any YAML gives for non-string keys
// (an unquoted 200) into map[string]any, recursively.
func jsonCompatible(v any) any {
	switch n := v.(type) {
	case map[string]any:
		for k, e := range n {
			n[k] = jsonCompatible(e)
		}
		return n
	case map[any]any:
		out := make(map[string]any, len(n))
		for k, e := range n {
			out[fmt.Sprint(k)] = jsonCompatible(e)
		}
		return out
	case []any:
		for i, e := range n {
			n[i] = jsonCompatible(e)
		}
		return n
	}
	return v
}

type docsView struct {
	Title, Bundle, Spec string
}

// docsPage loads Redoc, which renders the <redoc> element from spec-url
// when its script runs (so the script comes after it). The theme names
// only fonts the reader's system has: nothing is fetched for them.
var docsPage = template.Must(template.New("docs").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
</head>
<body>
<noscript><p>This page needs JavaScript. The OpenAPI document itself is at <a href="{{.Spec}}">{{.Spec}}</a>.</p></noscript>
<redoc spec-url="{{.Spec}}" expand-responses="200,201,202" required-props-first="true"
 theme='{"typography":{"fontFamily":"system-ui, -apple-system, Segoe UI, Roboto, Helvetica, Arial, sans-serif","headings":{"fontFamily":"system-ui, -apple-system, Segoe UI, Roboto, Helvetica, Arial, sans-serif"},"code":{"fontFamily":"ui-monospace, SFMono-Regular, Menlo, Consolas, monospace"}}}'></redoc>
<script src="{{.Bundle}}"></script>
</body>
</html>
`))

func (s *Server) openAPIJSON(c echo.Context) error {
	return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, s.docs.json)
}

func (s *Server) docsHTML(c echo.Context) error {
	c.Response().Header().Set("Content-Security-Policy", docsCSP)
	return c.HTMLBlob(http.StatusOK, s.docs.html)
}

// docsBundle serves the Redoc bundle. The page names it with its version,
// so it may be cached for a year.
func (s *Server) docsBundle(c echo.Context) error {
	h := c.Response().Header()
	h.Set("Cache-Control", "public, max-age=31536000, immutable")
	h.Set("X-Content-Type-Options", "nosniff")
	return c.Blob(http.StatusOK, "text/javascript; charset=utf-8", redocBundle)
}
