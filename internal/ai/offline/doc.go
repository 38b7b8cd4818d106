// Package offline is the built-in AI provider that needs no network and no
// key: deterministic, clearly named offline, used by make run, the demo and
// the tests. Its embeddings are feature-hashed character n-grams; its text
// model writes real articles from templates and the keyword data.
package offline
