package store

import (
	"context"
	"errors"
	"sync"

	"github.com/presswork/presswork/internal/errs"
)

// The configuration cache (#24). Besides its subject, a job's stage reads
// its tenant's AI settings, prompt override, model routes and the link
// inventory of its site: four statements per job that almost never change
// between jobs. Each change to those rows bumps a version (config_versions,
// by trigger: the tenant's, or 0's for the model catalogue and the
// operator's routes, shared by all), and a job's start statement returns
// its tenant's version and the shared one into the job's Attempt. A read
// made with that context is kept under the versions and served to the next
// job of the tenant that starts with the same versions; any change makes
// the next job read again.
//
// What a job reads is never older than its start: a value kept under a
// version was read after a job started with that version, so after every
// change that version includes. Reads made without an Attempt (the API's)
// are never cached.

// configVersion is a tenant's configuration version and the shared one,
// as a job's start read them.
type configVersion struct {
	tenantID, tenant, shared int64
}

// configReturning is what a job's start statement returns of its versions
// (the started row is named jobs).
const configReturning = `coalesce((SELECT version FROM config_versions WHERE tenant_id = jobs.tenant_id), 0),
	coalesce((SELECT version FROM config_versions WHERE tenant_id = 0), 0)`

// configCacheSize bounds the entries kept; when full, the cache starts over.
const configCacheSize = 4096

type configCache struct {
	mu      sync.Mutex
	entries map[configKey]configEntry
}

// configKey names a read: which, for which tenant, and its other
// arguments.
type configKey struct {
	read     string
	tenantID int64
	detail   int64
	text     string
}

type configEntry struct {
	version configVersion
	value   any
	err     error // errs.ErrNotFound: there is nothing to read
}

// cachedConfig returns read's value for key: the one kept under the
// versions the context's job started with, else read's, kept if it did not
// fail or found nothing (errs.ErrNotFound, kept too: most tenants have no
// settings or overrides of their own). clone copies a kept value for the
// caller (nil: the callers only read the value).
func cachedConfig[T any](ctx context.Context, c *configCache, key configKey, read func() (T, error), clone func(T) T) (T, error) {
	a := attemptOf(ctx)
	if a == nil {
		return read()
	}
	v := a.config.Load()
	if v == nil || v.tenantID != key.tenantID {
		return read()
	}
	c.mu.Lock()
	e, ok := c.entries[key]
	c.mu.Unlock()
	if !ok || e.version != *v {
		value, err := read()
		if err != nil && !errors.Is(err, errs.ErrNotFound) {
			return value, err
		}
		e = configEntry{version: *v, value: value, err: err}
		c.mu.Lock()
		if c.entries == nil || len(c.entries) >= configCacheSize {
			c.entries = map[configKey]configEntry{}
		}
		c.entries[key] = e
		c.mu.Unlock()
	}
	value := e.value.(T)
	if clone != nil {
		value = clone(value)
	}
	return value, e.err
}
