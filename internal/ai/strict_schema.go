package ai

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/sashabaranov/go-openai/jsonschema"
)

// strictSchema generates the schema of v's type with jsonschema and makes it
// fit strict structured outputs: $refs are inlined, and every object lists
// all of its properties as required and forbids additional properties.
func strictSchema(v any, extras func(map[string]any)) (json.RawMessage, error) {
	def, err := jsonschema.GenerateSchemaForType(v)
	if err != nil {
		return nil, err
	}
	b, err := json.Marshal(def)
	if err != nil {
		return nil, err
	}
	var root map[string]any
	if err := json.Unmarshal(b, &root); err != nil {
		return nil, err
	}
	defs, _ := root["$defs"].(map[string]any)
	delete(root, "$defs")
	fixed, err := strictNode(root, defs, 0)
	if err != nil {
		return nil, err
	}
	if extras != nil {
		extras(fixed)
	}
	var buf bytes.Buffer
	if err := encodeSchemaNode(&buf, fixed); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// schemaKeyOrder is the order in which encodeSchemaNode writes the keys of a
// schema object; other keys follow, sorted.
var schemaKeyOrder = []string{"type", "description", "enum", "properties", "items", "required", "additionalProperties"}

// encodeSchemaNode writes v as JSON like encoding/json, except that the
// properties of an object schema keep the order of its "required" list (the
// Go field order): models generate properties in schema order, so a title
// comes before the outline or the body it introduces.
func encodeSchemaNode(buf *bytes.Buffer, v any) error {
	switch n := v.(type) {
	case map[string]any:
		var keys []string
		for _, k := range schemaKeyOrder {
			if _, ok := n[k]; ok {
				keys = append(keys, k)
			}
		}
		var rest []string
		for k := range n {
			if !containsString(schemaKeyOrder, k) {
				rest = append(rest, k)
			}
		}
		sort.Strings(rest)
		keys = append(keys, rest...)
		buf.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				buf.WriteByte(',')
			}
			kb, _ := json.Marshal(k)
			buf.Write(kb)
			buf.WriteByte(':')
			if props, ok := n[k].(map[string]any); ok && k == "properties" {
				if err := encodeProperties(buf, props, n["required"]); err != nil {
					return err
				}
				continue
			}
			if err := encodeSchemaNode(buf, n[k]); err != nil {
				return err
			}
		}
		buf.WriteByte('}')
		return nil
	case []any:
		buf.WriteByte('[')
		for i, e := range n {
			if i > 0 {
				buf.WriteByte(',')
			}
			if err := encodeSchemaNode(buf, e); err != nil {
				return err
			}
		}
		buf.WriteByte(']')
		return nil
	default:
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(v); err != nil {
			return err
		}
		buf.Write(bytes.TrimRight(b.Bytes(), "\n"))
		return nil
	}
}

// encodeProperties writes a schema's properties in the order of required,
// then the others sorted.
func encodeProperties(buf *bytes.Buffer, props map[string]any, required any) error {
	var order []string
	if req, ok := required.([]any); ok {
		for _, r := range req {
			if name, ok := r.(string); ok {
				if _, ok := props[name]; ok && !containsString(order, name) {
					order = append(order, name)
				}
			}
		}
	}
	var rest []string
	for name := range props {
		if !containsString(order, name) {
			rest = append(rest, name)
		}
	}
	sort.Strings(rest)
	order = append(order, rest...)
	buf.WriteByte('{')
	for i, name := range order {
		if i > 0 {
			buf.WriteByte(',')
		}
		kb, _ := json.Marshal(name)
		buf.Write(kb)
		buf.WriteByte(':')
		if err := encodeSchemaNode(buf, props[name]); err != nil {
			return err
		}
	}
	buf.WriteByte('}')
	return nil
}

// strictNode returns node with $refs inlined from defs and, for objects,
// every property required and no additional properties allowed.
func strictNode(node map[string]any, defs map[string]any, depth int) (map[string]any, error) {
	if depth > 32 {
		return nil, errors.New("schema nests too deeply (a recursive type?)")
	}
	if ref, ok := node["$ref"].(string); ok {
		target, ok := defs[strings.TrimPrefix(ref, "#/$defs/")].(map[string]any)
		if !ok {
			return nil, fmt.Errorf("unresolved $ref %q", ref)
		}
		// Copy so that one definition used twice is fixed up independently.
		cp := make(map[string]any, len(target))
		for k, v := range target {
			cp[k] = v
		}
		for k, v := range node {
			if k != "$ref" {
				cp[k] = v
			}
		}
		return strictNode(cp, defs, depth+1)
	}
	out := make(map[string]any, len(node))
	for k, v := range node {
		out[k] = v
	}
	if items, ok := node["items"].(map[string]any); ok {
		fixed, err := strictNode(items, defs, depth+1)
		if err != nil {
			return nil, err
		}
		out["items"] = fixed
	}
	if out["type"] == "object" {
		props, _ := node["properties"].(map[string]any)
		fixedProps := make(map[string]any, len(props))
		required := make([]any, 0, len(props))
		// Keep the generator's required order (the Go field order), then
		// add the properties it left optional.
		var names []string
		if req, ok := node["required"].([]any); ok {
			for _, r := range req {
				if name, ok := r.(string); ok && props[name] != nil && !containsString(names, name) {
					names = append(names, name)
				}
			}
		}
		var optional []string
		for name := range props {
			if !containsString(names, name) {
				optional = append(optional, name)
			}
		}
		sort.Strings(optional)
		names = append(names, optional...)
		for _, name := range names {
			p, ok := props[name].(map[string]any)
			if !ok {
				return nil, fmt.Errorf("property %q has no schema", name)
			}
			fixed, err := strictNode(p, defs, depth+1)
			if err != nil {
				return nil, err
			}
			fixedProps[name] = fixed
			required = append(required, name)
		}
		out["properties"] = fixedProps
		out["required"] = required
		out["additionalProperties"] = false
	}
	return out, nil
}

// setKey sets key to value on the schema node at path, where a path element
// is a property name or "[]" for an array's items. Missing nodes are ignored.
func setKey(root map[string]any, key string, value any, path ...string) {
	node := root
	for _, p := range path {
		var next map[string]any
		if p == "[]" {
			next, _ = node["items"].(map[string]any)
		} else {
			props, _ := node["properties"].(map[string]any)
			next, _ = props[p].(map[string]any)
		}
		if next == nil {
			return
		}
		node = next
	}
	node[key] = value
}

// setItems bounds the number of items of the array schema at path (see
// setKey): minItems lo unless it is 0, maxItems hi.
func setItems(root map[string]any, lo, hi int, path ...string) {
	if lo > 0 {
		setKey(root, "minItems", lo, path...)
	}
	setKey(root, "maxItems", hi, path...)
}

// describe sets the description of the schema node at path (see setKey).
func describe(root map[string]any, text string, path ...string) {
	setKey(root, "description", text, path...)
}

// toAnySlice converts ss for a JSON schema enum.
func toAnySlice(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}
