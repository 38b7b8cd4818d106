package httpapi_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"gopkg.in/yaml.v3"

	"github.com/presswork/presswork/internal/auth"
	"github.com/presswork/presswork/internal/httpapi"
)

// openAPIFile is the API's OpenAPI document, from this package's directory.
const openAPIFile = "../../api/openapi.yaml"

// openAPIMethods are the operation keys of an OpenAPI path item.
var openAPIMethods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

// openAPIOp is one operation of the document.
type openAPIOp struct {
	method, path string // upper-case method; path as in the document
	op           map[string]any
}

func (o openAPIOp) String() string { return o.method + " " + o.path }

// loadOpenAPI reads and decodes the document.
func loadOpenAPI(t *testing.T) map[string]any {
	t.Helper()
	raw, err := os.ReadFile(openAPIFile)
	if err != nil {
		t.Fatalf("read the OpenAPI document: %v", err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("%s is not valid YAML: %v", openAPIFile, err)
	}
	return doc
}

// openAPIOps returns the document's operations.
func openAPIOps(t *testing.T, doc map[string]any) []openAPIOp {
	t.Helper()
	paths, ok := doc["paths"].(map[string]any)
	if !ok {
		t.Fatalf("paths: want an object, got %T", doc["paths"])
	}
	var ops []openAPIOp
	for path, item := range paths {
		m, ok := item.(map[string]any)
		if !ok {
			t.Errorf("paths[%s]: want an object, got %T", path, item)
			continue
		}
		for _, method := range openAPIMethods {
			if op, ok := m[method]; ok {
				opm, ok := op.(map[string]any)
				if !ok {
					t.Errorf("%s %s: want an object, got %T", method, path, op)
					continue
				}
				ops = append(ops, openAPIOp{method: strings.ToUpper(method), path: path, op: opm})
			}
		}
	}
	slices.SortFunc(ops, func(a, b openAPIOp) int { return strings.Compare(a.String(), b.String()) })
	return ops
}

// echoParam matches an Echo path parameter (:id).
var echoParam = regexp.MustCompile(`:([A-Za-z_][A-Za-z0-9_]*)`)

// openAPIPath turns an Echo path into an OpenAPI path template.
func openAPIPath(echoPath string) string { return echoParam.ReplaceAllString(echoPath, "{$1}") }

// resolvePointer follows a local JSON pointer ("#/components/...").
func resolvePointer(doc map[string]any, ref string) (any, error) {
	rest, ok := strings.CutPrefix(ref, "#")
	if !ok {
		return nil, fmt.Errorf("only refs within the document are allowed")
	}
	var node any = doc
	if rest == "" {
		return node, nil
	}
	if !strings.HasPrefix(rest, "/") {
		return nil, fmt.Errorf("not a JSON pointer")
	}
	for _, tok := range strings.Split(rest[1:], "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		switch n := node.(type) {
		case map[string]any:
			v, ok := n[tok]
			if !ok {
				return nil, fmt.Errorf("no %q", tok)
			}
			node = v
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(n) {
				return nil, fmt.Errorf("no index %q", tok)
			}
			node = n[i]
		default:
			return nil, fmt.Errorf("%q is inside a %T", tok, node)
		}
	}
	return node, nil
}

// deref returns node, or what its $ref points at (following chains).
func deref(t *testing.T, doc map[string]any, node any) map[string]any {
	t.Helper()
	for range 10 {
		m, ok := node.(map[string]any)
		if !ok {
			return nil
		}
		ref, ok := m["$ref"].(string)
		if !ok {
			return m
		}
		if node, ok = mustResolve(t, doc, ref); !ok {
			return nil
		}
	}
	t.Errorf("$ref chain too long")
	return nil
}

func mustResolve(t *testing.T, doc map[string]any, ref string) (any, bool) {
	t.Helper()
	v, err := resolvePointer(doc, ref)
	if err != nil {
		t.Errorf("$ref %q does not resolve: %v", ref, err)
		return nil, false
	}
	return v, true
}

// opParameters returns an operation's parameters, the path item's included,
// with $refs resolved.
func opParameters(t *testing.T, doc map[string]any, o openAPIOp) []map[string]any {
	t.Helper()
	var out []map[string]any
	item, _ := doc["paths"].(map[string]any)[o.path].(map[string]any)
	for _, src := range []any{item["parameters"], o.op["parameters"]} {
		list, _ := src.([]any)
		for _, p := range list {
			if pm := deref(t, doc, p); pm != nil {
				out = append(out, pm)
			}
		}
	}
	return out
}

func hasParameter(params []map[string]any, in, name string) bool {
	return slices.ContainsFunc(params, func(p map[string]any) bool {
		return p["in"] == in && strings.EqualFold(fmt.Sprint(p["name"]), name)
	})
}

// rolesWith returns the roles that have perm, sorted.
func rolesWith(perm auth.Permission) []string {
	var roles []string
	for role := range auth.Roles {
		if auth.Allowed(role, perm) {
			roles = append(roles, role)
		}
	}
	slices.Sort(roles)
	return roles
}

func stringList(v any) []string {
	list, _ := v.([]any)
	out := make([]string, 0, len(list))
	for _, s := range list {
		out = append(out, fmt.Sprint(s))
	}
	slices.Sort(out)
	return out
}

// TestOpenAPIDocument checks that the document is a well-formed OpenAPI 3.1
// document whose references all resolve.
func TestOpenAPIDocument(t *testing.T) {
	doc := loadOpenAPI(t)
	if v, _ := doc["openapi"].(string); !regexp.MustCompile(`^3\.1\.\d+$`).MatchString(v) {
		t.Errorf("openapi = %q, want 3.1.x (a string)", doc["openapi"])
	}
	info, _ := doc["info"].(map[string]any)
	for _, field := range []string{"title", "version"} {
		if s, _ := info[field].(string); s == "" {
			t.Errorf("info.%s: want a non-empty string, got %v", field, info[field])
		}
	}
	ops := openAPIOps(t, doc)
	if len(ops) == 0 {
		t.Fatal("the document has no operations")
	}

	// Every $ref resolves within the file.
	refs := 0
	var walk func(node any, at string)
	walk = func(node any, at string) {
		switch n := node.(type) {
		case map[string]any:
			if ref, ok := n["$ref"]; ok {
				refs++
				s, _ := ref.(string)
				if _, err := resolvePointer(doc, s); err != nil {
					t.Errorf("%s: $ref %q does not resolve: %v", at, ref, err)
				}
			}
			for k, v := range n {
				walk(v, at+"/"+k)
			}
		case []any:
			for i, v := range n {
				walk(v, at+"/"+strconv.Itoa(i))
			}
		case map[any]any:
			t.Errorf("%s: an object with a non-string key (quote status codes such as \"200\")", at)
		}
	}
	walk(doc, "#")
	if refs == 0 {
		t.Error("found no $ref at all; is the walk broken?")
	}

	templateParam := regexp.MustCompile(`\{([^}]+)\}`)
	operationIDs := map[string]string{}
	for _, o := range ops {
		if id, _ := o.op["operationId"].(string); id == "" {
			t.Errorf("%s: no operationId", o)
		} else if prev, dup := operationIDs[id]; dup {
			t.Errorf("%s: operationId %q is also used by %s", o, id, prev)
		} else {
			operationIDs[id] = o.String()
		}
		if resp, _ := o.op["responses"].(map[string]any); len(resp) == 0 {
			t.Errorf("%s: no responses", o)
		}
		// Path template parameters and in: path parameters match one to one.
		params := opParameters(t, doc, o)
		var inTemplate, declared []string
		for _, m := range templateParam.FindAllStringSubmatch(o.path, -1) {
			inTemplate = append(inTemplate, m[1])
		}
		for _, p := range params {
			if p["in"] == "path" {
				declared = append(declared, fmt.Sprint(p["name"]))
				if p["required"] != true {
					t.Errorf("%s: path parameter %v must be required: true", o, p["name"])
				}
			}
		}
		slices.Sort(inTemplate)
		slices.Sort(declared)
		if !slices.Equal(inTemplate, declared) {
			t.Errorf("%s: path template names %v, path parameters declared %v", o, inTemplate, declared)
		}
	}
}

// TestOpenAPIMatchesRoutes checks the document against the server's route
// table: the same paths and methods, the same permissions, and the
// Idempotency-Key header on the POSTs that take it.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	doc := loadOpenAPI(t)
	ops := openAPIOps(t, doc)
	// Building the route table needs no database.
	srv := httpapi.New(httpapi.Deps{Log: slog.New(slog.DiscardHandler)})

	routes := map[string]httpapi.Route{} // "METHOD /openapi/{path}"
	for _, rt := range srv.Routes() {
		routes[rt.Method+" "+openAPIPath(rt.Path)] = rt
	}
	documented := map[string]bool{}
	for _, o := range ops {
		documented[o.String()] = true
	}
	for key := range routes {
		if !documented[key] {
			t.Errorf("route %s is not in %s", key, openAPIFile)
		}
	}
	for _, o := range ops {
		rt, registered := routes[o.String()]
		if !registered {
			t.Errorf("%s is in the document but the server has no such route", o)
			continue
		}
		perm := rt.Permission

		gotPerm, _ := o.op["x-permission"].(string)
		if gotPerm != string(perm) {
			t.Errorf("%s: x-permission %q, the route needs %q", o, gotPerm, perm)
		}
		if perm != "" {
			if got, want := stringList(o.op["x-roles"]), rolesWith(perm); !slices.Equal(got, want) {
				t.Errorf("%s: x-roles %v, want %v (the roles with %s)", o, got, want, perm)
			}
		}

		// Security: public routes none, operator routes the operator key,
		// the rest the document's default (a tenant key).
		sec, hasSec := o.op["security"].([]any)
		switch {
		case perm == "":
			if !hasSec || len(sec) != 0 {
				t.Errorf("%s: a public route needs security: []", o)
			}
		case perm == auth.PermOperator:
			if len(sec) != 1 || deref(t, doc, sec[0])["operatorKey"] == nil {
				t.Errorf("%s: an operator route needs security: [operatorKey: []]", o)
			}
		case hasSec:
			t.Errorf("%s: a tenant route should use the document's default security", o)
		}

		// The server makes tenant POSTs idempotent; operator POSTs are not.
		if o.method == http.MethodPost && perm != "" {
			has := hasParameter(opParameters(t, doc, o), "header", "Idempotency-Key")
			operator := perm == auth.PermOperator || strings.HasPrefix(o.path, "/v1/admin/")
			// The credit grant handles the key itself (a ledger row per key).
			keyedOperatorRoute := o.path == "/v1/admin/tenants/{id}/credits"
			switch {
			case keyedOperatorRoute && !has:
				t.Errorf("%s: the credit grant takes Idempotency-Key; document it", o)
			case operator && has && !keyedOperatorRoute:
				t.Errorf("%s: operator routes ignore Idempotency-Key; do not document it", o)
			case !operator && !has:
				t.Errorf("%s: a POST needs the Idempotency-Key header parameter", o)
			}
		}
	}
}

// exampleNotNeeded reports whether a media type's bodies are binary, which
// no example in the document can show (images).
func exampleNotNeeded(mediaType string) bool { return strings.HasPrefix(mediaType, "image/") }

// jsonMediaType reports whether a media type's bodies are JSON.
func jsonMediaType(mediaType string) bool {
	return mediaType == "application/json" || strings.HasSuffix(mediaType, "+json")
}

// pointerToken escapes one JSON pointer token.
func pointerToken(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}

// derefAt is deref that also returns the JSON pointer ("#/...") of the node
// it ends at.
func derefAt(t *testing.T, doc map[string]any, node any, at string) (map[string]any, string) {
	t.Helper()
	for range 10 {
		m, ok := node.(map[string]any)
		if !ok {
			return nil, at
		}
		ref, ok := m["$ref"].(string)
		if !ok {
			return m, at
		}
		if node, ok = mustResolve(t, doc, ref); !ok {
			return nil, at
		}
		at = ref
	}
	t.Errorf("$ref chain too long at %s", at)
	return nil, at
}

// mediaExamples returns the example values of a media type object (its
// example, or the values of its examples, $refs resolved) by name.
func mediaExamples(t *testing.T, doc map[string]any, media map[string]any) map[string]any {
	t.Helper()
	out := map[string]any{}
	if v, ok := media["example"]; ok {
		out["example"] = v
	}
	examples, _ := media["examples"].(map[string]any)
	for name, e := range examples {
		em, at := derefAt(t, doc, e, "")
		if em == nil {
			t.Errorf("examples.%s: want an Example object, got %T", name, e)
			continue
		}
		v, ok := em["value"]
		if !ok {
			t.Errorf("examples.%s (%s): no value", name, at)
			continue
		}
		out[name] = v
	}
	return out
}

// TestOpenAPIExamples checks that every operation's request body and every
// answer with a body of a 2xx status has a schema and an example (binary
// bodies need no example), and that each example in the operations (of any
// status) validates against its schema. It also checks that each example
// of components/examples is used.
func TestOpenAPIExamples(t *testing.T) {
	doc := loadOpenAPI(t)
	raw, err := json.Marshal(doc)
	if err != nil {
		t.Fatalf("encode the document as JSON: %v", err)
	}
	jsonDoc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("decode the document for the validator: %v", err)
	}
	// OpenAPI 3.1's schemas are JSON Schema 2020-12 (its extra keywords, such as
	// example, are ignored). Formats are asserted: a date-time must be one.
	compiler := jsonschema.NewCompiler()
	compiler.DefaultDraft(jsonschema.Draft2020)
	compiler.AssertFormat()
	const docURL = "https://presswork.test/openapi.json"
	if err := compiler.AddResource(docURL, jsonDoc); err != nil {
		t.Fatalf("add the document to the validator: %v", err)
	}

	// checkBody checks the content of a request body or an answer, found at
	// the pointer at.
	checkBody := func(o openAPIOp, what string, content any, at string, required bool) {
		t.Helper()
		cm, _ := content.(map[string]any)
		if len(cm) == 0 && required {
			t.Errorf("%s: %s has no content", o, what)
		}
		for mediaType, mt := range cm {
			where := fmt.Sprintf("%s: %s %s", o, what, mediaType)
			media, _ := mt.(map[string]any)
			if _, ok := media["schema"]; !ok {
				t.Errorf("%s: no schema", where)
				continue
			}
			examples := mediaExamples(t, doc, media)
			if len(examples) == 0 && required && !exampleNotNeeded(mediaType) {
				t.Errorf("%s: no example (add examples: {name: {$ref: \"#/components/examples/...\"}})", where)
			}
			if !jsonMediaType(mediaType) {
				for name, v := range examples {
					if s, ok := v.(string); !ok || s == "" {
						t.Errorf("%s: example %s: want a non-empty string (a %s body), got %T", where, name, mediaType, v)
					}
				}
				continue
			}
			loc := docURL + strings.ReplaceAll(at+"/content/"+pointerToken(mediaType)+"/schema", "%", "%25")
			schema, err := compiler.Compile(loc)
			if err != nil {
				t.Errorf("%s: compile the schema: %v", where, err)
				continue
			}
			for name, v := range examples {
				// The validator wants JSON's values (json.Number for numbers).
				b, err := json.Marshal(v)
				if err != nil {
					t.Errorf("%s: example %s: %v", where, name, err)
					continue
				}
				jv, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
				if err != nil {
					t.Errorf("%s: example %s: %v", where, name, err)
					continue
				}
				if err := schema.Validate(jv); err != nil {
					t.Errorf("%s: example %s does not match the schema:\n%v", where, name, err)
				}
			}
		}
	}

	for _, o := range openAPIOps(t, doc) {
		opAt := "#/paths/" + pointerToken(o.path) + "/" + strings.ToLower(o.method)
		if rb, ok := o.op["requestBody"]; ok {
			body, at := derefAt(t, doc, rb, opAt+"/requestBody")
			checkBody(o, "request", body["content"], at, true)
		}
		responses, _ := o.op["responses"].(map[string]any)
		for code, r := range responses {
			resp, at := derefAt(t, doc, r, opAt+"/responses/"+pointerToken(code))
			checkBody(o, "answer "+code, resp["content"], at, strings.HasPrefix(code, "2") && resp["content"] != nil)
		}
	}

	// Every example of components/examples is used somewhere.
	used := map[string]bool{}
	for _, m := range regexp.MustCompile(`"\$ref":"#/components/examples/([^"]+)"`).FindAllStringSubmatch(string(raw), -1) {
		used[m[1]] = true
	}
	components, _ := doc["components"].(map[string]any)
	examples, _ := components["examples"].(map[string]any)
	for name := range examples {
		if !used[name] {
			t.Errorf("components/examples/%s is not used by any operation", name)
		}
	}
}
