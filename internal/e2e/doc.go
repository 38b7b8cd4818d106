// Package e2e holds Presswork's end-to-end tests: they boot the real
// processes through internal/app/apptest (the API on an httptest server,
// workers and schedulers in the test or as child processes of the test
// binary) on databases of their own, and drive them through the HTTP API
// against fakes of WordPress, Easypanel and the AI providers. The package
// has no code of its own; the benchmarks of `make bench` and
// `make bench-table` live here too, skipped unless PRESSWORK_BENCH is set.
package e2e
