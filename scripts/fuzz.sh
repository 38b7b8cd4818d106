#!/usr/bin/env bash
# Runs every fuzz test of the module for the given time each (default 20s),
# starting from the seeds in the code and in testdata/fuzz/<FuzzName>/.
# The fuzz tests today: FuzzParseCSV, FuzzParseJSON (internal/kwimport),
# FuzzOfflineDraft, FuzzValidateDraft (internal/ai/offline), FuzzSanitizeHTML (internal/markup),
# FuzzParseModelOutputs (internal/ai), FuzzParseSchedule and
# FuzzNextAcrossDaylightSaving (internal/cronspec).
# New ones are found by name; only packages with a fuzz test are compiled.
set -euo pipefail
cd "$(dirname "$0")/.."
t="${1:-20s}"
n=0

# fuzz_one runs one target. Go 1.26's fuzz coordinator can report a bare
# "context deadline exceeded" when -fuzztime ends while a worker is busy
# (golang/go#75804, fixed in Go 1.27): no input failed, none is written.
# Such a run is tried once more; any other failure, or a failing input
# written to testdata/fuzz, fails at once.
fuzz_one() {
  local dir="$1" f="$2" log
  log="$(mktemp)"
  for try in 1 2; do
    if go test -run '^$' -fuzz "^$f\$" -fuzztime "$t" "$dir" 2>&1 | tee "$log"; then
      rm -f "$log"
      return 0
    fi
    if [ "$try" = 1 ] && grep -q 'context deadline exceeded' "$log" &&
      ! grep -q 'Failing input written' "$log"; then
      echo "fuzz: $f ended on Go's fuzztime race (golang/go#75804), no failing input; once more"
      continue
    fi
    rm -f "$log"
    return 1
  done
}
for dir in $(grep -rl --include='*_test.go' '^func Fuzz' . | xargs -n1 dirname | sort -u); do
  for f in $(grep -h --include='*_test.go' -o '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go | sed 's/^func //' | sort -u); do
    echo "== $dir $f ($t)"
    fuzz_one "$dir" "$f"
    n=$((n + 1))
  done
done
echo "fuzz: $n targets, $t each"
