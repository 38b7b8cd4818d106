package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/presswork/presswork/internal/errs"
	"github.com/presswork/presswork/internal/store"
)

// Body limits.
const (
	maxJSONBody   = 1 << 20  // 1 MiB: every JSON request but imports
	maxImportBody = 64 << 20 // 64 MiB: a keyword import of 100,000 rows
)

type bodyTooLargeError struct{ limit int64 }

func (e *bodyTooLargeError) Error() string {
	return fmt.Sprintf("the request body is larger than %d MiB", e.limit>>20)
}

// mediaTypeError is a body of a media type the route does not take; want
// lists the ones it does.
type mediaTypeError struct{ want string }

func (e *mediaTypeError) Error() string { return "unsupported media type: send the body as " + e.want }

// readBody reads the whole body, refusing more than limit bytes. A body
// announced as too large is drained (up to the limit) rather than buffered,
// so the client reads the answer instead of a reset connection.
func readBody(c echo.Context, limit int64) ([]byte, error) {
	r := c.Request()
	if r.ContentLength > limit {
		_, _ = io.CopyN(io.Discard, r.Body, limit+1)
		return nil, &bodyTooLargeError{limit: limit}
	}
	var buf bytes.Buffer
	if r.ContentLength > 0 {
		buf.Grow(int(r.ContentLength) + bytes.MinRead) // one allocation for the whole body
	}
	if _, err := buf.ReadFrom(io.LimitReader(r.Body, limit+1)); err != nil {
		return nil, errs.Invalid("body", "could not be read")
	}
	if int64(buf.Len()) > limit {
		return nil, &bodyTooLargeError{limit: limit}
	}
	return buf.Bytes(), nil
}

// mediaType returns the request's media type, lower-cased, without parameters.
func mediaType(c echo.Context) string {
	mt, _, err := mime.ParseMediaType(c.Request().Header.Get(echo.HeaderContentType))
	if err != nil {
		return ""
	}
	return strings.ToLower(mt)
}

// decodeJSON decodes a JSON object body into dst strictly: unknown fields,
// wrong types, trailing data and invalid UTF-8 are errors naming the field.
func decodeJSON(c echo.Context, dst any) error { return decodeJSONBody(c, dst, false) }

// decodeOptionalJSON is decodeJSON for endpoints whose body may be empty
// (with or without a JSON Content-Type).
func decodeOptionalJSON(c echo.Context, dst any) error { return decodeJSONBody(c, dst, true) }

// noBody accepts the empty body (or {}) of an action that takes no fields,
// and refuses any other.
func noBody(c echo.Context) error {
	var req struct{}
	return decodeOptionalJSON(c, &req)
}

func decodeJSONBody(c echo.Context, dst any, optional bool) error {
	if optional && c.Request().ContentLength == 0 && c.Request().Header.Get(echo.HeaderContentType) == "" {
		return nil
	}
	if mt := mediaType(c); mt != "application/json" {
		return &mediaTypeError{want: "application/json"}
	}
	body, err := readBody(c, maxJSONBody)
	if err != nil || (optional && len(bytes.TrimSpace(body)) == 0) {
		return err
	}
	return unmarshalStrict(body, dst)
}

func unmarshalStrict(body []byte, dst any) error {
	if !utf8.Valid(body) {
		return errs.Invalid("body", "is not valid UTF-8")
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return errs.Invalid("body", "is empty; send a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return jsonProblem(err)
	}
	if dec.More() {
		return errs.Invalid("body", "has data after the JSON object")
	}
	return nil
}

func jsonProblem(err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return errs.Invalid("body", "is not valid JSON (at byte %d)", syn.Offset)
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			return errs.Invalid("body", "must be a JSON object")
		}
		if typ.Type == reflect.TypeFor[jsonTime]() {
			return errs.Invalid(field, "must be a time in RFC 3339 form, such as 2026-12-01T09:00:00Z")
		}
		return errs.Invalid(field, "must be %s, not a JSON %s", jsonTypeName(typ.Type.Kind().String()), typ.Value)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return errs.Invalid("body", "ends before the JSON is complete")
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return errs.Invalid(field, "is not a known field")
	}
	return errs.Invalid("body", "is not a valid JSON object")
}

// jsonTime is a time in a request body. encoding/json names no field when
// time.Time refuses a value; jsonTime's error is one it names, so the
// problem says which field is wrong.
type jsonTime struct{ time.Time }

func (t *jsonTime) UnmarshalJSON(b []byte) error {
	if err := t.Time.UnmarshalJSON(b); err != nil {
		return &json.UnmarshalTypeError{Value: "value", Type: reflect.TypeFor[jsonTime]()}
	}
	return nil
}

func jsonTypeName(kind string) string {
	switch {
	case strings.HasPrefix(kind, "int"), strings.HasPrefix(kind, "uint"):
		return "a whole number in range"
	case strings.HasPrefix(kind, "float"):
		return "a number"
	case kind == "string":
		return "a string"
	case kind == "bool":
		return "true or false"
	case kind == "slice":
		return "an array"
	}
	return "an object"
}

// pathID reads a positive integer path parameter. A malformed id cannot
// name anything, so it is not found.
func pathID(c echo.Context, name string) (int64, error) {
	id, err := strconv.ParseInt(c.Param(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, notFoundID(c, c.Param(name))
	}
	return id, nil
}

// maxTextID bounds a text id (jobs and batches have UUIDs).
const maxTextID = 100

// validTextID reports whether s can be a text id. Anything else names
// nothing, and must not reach PostgreSQL, where invalid UTF-8 or a NUL is
// an error rather than a miss.
func validTextID(s string) bool {
	return s != "" && len(s) <= maxTextID && utf8.ValidString(s) && !strings.ContainsFunc(s, unicode.IsControl)
}

// textID reads a text id path parameter; a malformed one is not found.
func textID(c echo.Context, name string) (string, error) {
	id := c.Param(name)
	if !validTextID(id) {
		return "", notFoundID(c, id)
	}
	return id, nil
}

// notFoundID is the answer for an id that names nothing: "no site with id
// "abc"", the kind taken from the route (/v1/sites/:id...).
func notFoundID(c echo.Context, id string) error {
	kind := "row"
	if before, _, ok := strings.Cut(c.Path(), "/:"); ok {
		kind = strings.ReplaceAll(strings.TrimSuffix(before[strings.LastIndexByte(before, '/')+1:], "s"), "-", " ")
	}
	if !validTextID(id) {
		return errs.Public(errs.ErrNotFound, "no %s has that id", kind)
	}
	return errs.Public(errs.ErrNotFound, "no %s with id %q", kind, id)
}

// queryTextID reads an optional text id query parameter.
func queryTextID(c echo.Context, name string) (string, error) {
	v := c.QueryParam(name)
	if v != "" && !validTextID(v) {
		return "", errs.Invalid(name, "must be an id of at most %d characters", maxTextID)
	}
	return v, nil
}

// queryInt reads an optional integer query parameter within [lo, hi].
func queryInt(c echo.Context, name string, def, lo, hi int64) (int64, error) {
	v := c.QueryParam(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < lo || n > hi {
		return 0, errs.Invalid(name, "must be a whole number from %d to %d", lo, hi)
	}
	return n, nil
}

// queryBool reads an optional boolean query parameter.
func queryBool(c echo.Context, name string) (bool, error) {
	v := c.QueryParam(name)
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, errs.Invalid(name, "must be true or false")
	}
	return b, nil
}

// page reads ?limit= (1..500, default 50) and ?after= (an id cursor).
func page(c echo.Context) (store.Page, error) {
	limit, err := queryInt(c, "limit", 50, 1, 500)
	if err != nil {
		return store.Page{}, err
	}
	after, err := queryInt(c, "after", 0, 0, 1<<62)
	if err != nil {
		return store.Page{}, err
	}
	return store.Page{After: after, Limit: int(limit)}, nil
}

// List is the envelope of every listing; NextAfter (NextBefore for the
// listings newest first by time) is the cursor of the next page, absent on
// the last.
type List[T any] struct {
	Items      []T `json:"items"`
	NextAfter  any `json:"next_after,omitempty"`
	NextBefore any `json:"next_before,omitempty"`
}

func listOf[T any](items []T, p store.Page, idOf func(T) int64) List[T] {
	l := List[T]{Items: items}
	if len(items) == p.Limit && len(items) > 0 {
		l.NextAfter = idOf(items[len(items)-1])
	}
	return l
}

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }
