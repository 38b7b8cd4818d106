// Package migrations holds Presswork's numbered SQL migrations, embedded so
// every binary can apply them (goose format: -- +goose Up / Down).
package migrations

import "embed"

// FS holds the *.sql migration files.
//
//go:embed *.sql
var FS embed.FS
