package httpapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"
	"gopkg.in/yaml.v3"
)

// apiDocs is the OpenAPI document rendered once at start: as JSON for
// /openapi.json and as a plain HTML page for /docs.
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
	var page bytes.Buffer
	if err := docsPage.Execute(&page, docsData(m)); err != nil {
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

type docsOp struct {
	ID, Method, Path, Summary, Permission string
}

type docsTag struct {
	Name, Description string
	Ops               []docsOp
}

type docsView struct {
	Title, Version string
	Tags           []docsTag
}

var docsMethods = []string{"get", "put", "post", "patch", "delete", "head", "options", "trace"}

// docsData groups the operations by their first tag, in the document's tag
// order; within a tag by path, then method.
func docsData(doc map[string]any) docsView {
	str := func(m map[string]any, k string) string { s, _ := m[k].(string); return s }
	info, _ := doc["info"].(map[string]any)
	v := docsView{Title: str(info, "title"), Version: str(info, "version")}
	index := map[string]int{}
	addTag := func(name, desc string) int {
		if i, ok := index[name]; ok {
			return i
		}
		index[name] = len(v.Tags)
		v.Tags = append(v.Tags, docsTag{Name: name, Description: desc})
		return index[name]
	}
	tags, _ := doc["tags"].([]any)
	for _, t := range tags {
		if tm, ok := t.(map[string]any); ok {
			addTag(str(tm, "name"), str(tm, "description"))
		}
	}
	paths, _ := doc["paths"].(map[string]any)
	for _, path := range slices.Sorted(maps.Keys(paths)) {
		item, _ := paths[path].(map[string]any)
		for _, method := range docsMethods {
			op, ok := item[method].(map[string]any)
			if !ok {
				continue
			}
			tag := "other"
			if ts, _ := op["tags"].([]any); len(ts) > 0 {
				tag = fmt.Sprint(ts[0])
			}
			perm := str(op, "x-permission")
			if perm == "" {
				perm = "public"
			}
			i := addTag(tag, "")
			v.Tags[i].Ops = append(v.Tags[i].Ops, docsOp{ID: str(op, "operationId"), Method: strings.ToUpper(method),
				Path: path, Summary: str(op, "summary"), Permission: perm})
		}
	}
	v.Tags = slices.DeleteFunc(v.Tags, func(t docsTag) bool { return len(t.Ops) == 0 })
	return v
}

var docsPage = template.Must(template.New("docs").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>
body { font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; color: #222; }
table { border-collapse: collapse; width: 100%; margin-bottom: 1.5rem; }
th, td { text-align: left; padding: .3rem .5rem; border-bottom: 1px solid #ddd; vertical-align: top; }
code { font-size: .95em; }
.method { font-weight: bold; width: 5rem; }
</style>
</head>
<body>
<h1>{{.Title}} <small>(version {{.Version}})</small></h1>
<p>The full document: <a href="/openapi.json">/openapi.json</a> (OpenAPI 3.1). Send an API key as
<code>Authorization: Bearer &lt;key&gt;</code>; the permission column names what the key's role needs.</p>
<nav><ul>{{range .Tags}}<li><a href="#tag-{{.Name}}">{{.Name}}</a></li>{{end}}</ul></nav>
{{range .Tags}}
<h2 id="tag-{{.Name}}">{{.Name}}</h2>
{{with .Description}}<p>{{.}}</p>{{end}}
<table>
<thead><tr><th>Method</th><th>Path</th><th>Summary</th><th>Permission</th></tr></thead>
<tbody>
{{range .Ops}}<tr id="{{.ID}}"><td class="method">{{.Method}}</td><td><code>{{.Path}}</code></td><td>{{.Summary}}</td><td>{{.Permission}}</td></tr>
{{end}}</tbody>
</table>
{{end}}
</body>
</html>
`))

func (s *Server) openAPIJSON(c echo.Context) error {
	return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, s.docs.json)
}

func (s *Server) docsHTML(c echo.Context) error {
	return c.HTMLBlob(http.StatusOK, s.docs.html)
}
