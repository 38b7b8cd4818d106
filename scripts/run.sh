#!/usr/bin/env bash
# Runs the API, the worker and the scheduler in the foreground; Ctrl-C stops
# all three gracefully.
set -euo pipefail
cd "$(dirname "$0")/.."
set -a; source .presswork.env; set +a
export LOG_FORMAT="${LOG_FORMAT:-text}"
export API_ADDR="${API_ADDR:-127.0.0.1:8080}"
bin/presswork migrate
pids=()
for p in api worker scheduler; do
  bin/$p 2> >(sed -u "s/^/[$p] /" >&2) &
  pids+=($!)
done
trap 'kill -TERM "${pids[@]}" 2>/dev/null; wait' INT TERM
cat <<MSG

Presswork is running (offline AI provider):
  API        http://$API_ADDR   (health: /healthz, readiness: /readyz)
  walkthrough  README.md, "After \`make run\`" (tenant to a published post; start with
               ALLOW_PRIVATE_URLS=true make run to publish to the local WordPress)
  first key    set -a; source .presswork.env; set +a
               bin/presswork tenant create -name "My Media" -slug my-media -plan pro -credits 500
               (-plan: free, starter (the default), pro or agency; -h lists the flags)
Ctrl-C stops everything.

MSG
wait -n "${pids[@]}" || true
kill -TERM "${pids[@]}" 2>/dev/null || true
wait
