// Package api holds Presswork's OpenAPI document, embedded so the server
// can serve it (internal/httpapi) without reading files at run time.
package api

import _ "embed"

// Spec is api/openapi.yaml, the OpenAPI 3.1 document of the HTTP API.
//
//go:embed openapi.yaml
var Spec []byte
