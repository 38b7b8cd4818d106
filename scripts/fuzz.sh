#!/usr/bin/env bash
# Runs every fuzz test of the module for the given time each (default 20s),
# starting from the seeds in the code and in testdata/fuzz/<FuzzName>/.
# The fuzz tests today: FuzzParseCSV, FuzzParseJSON (internal/kwimport),
# FuzzOfflineDraft, FuzzValidateDraft (internal/ai/offline), FuzzSanitizeHTML,
# FuzzParseModelOutputs (internal/ai), FuzzParseSchedule (internal/schedule).
# New ones are found by name; only packages with a fuzz test are compiled.
set -euo pipefail
cd "$(dirname "$0")/.."
t="${1:-20s}"
n=0
for dir in $(grep -rl --include='*_test.go' '^func Fuzz' . | xargs -n1 dirname | sort -u); do
  for f in $(grep -h --include='*_test.go' -o '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go | sed 's/^func //' | sort -u); do
    echo "== $dir $f ($t)"
    go test -run '^$' -fuzz "^$f\$" -fuzztime "$t" "$dir"
    n=$((n + 1))
  done
done
echo "fuzz: $n targets, $t each"
