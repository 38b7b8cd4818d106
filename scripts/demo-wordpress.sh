#!/usr/bin/env bash
# Runs `presswork demo` against a local WordPress started with
# scripts/wordpress.sh (site presswork_demo on DEMO_WP_PORT, default 8089),
# so the demo ends with posts published there. The site stays up for a look
# unless --down is given; stop it with: bash scripts/wordpress.sh down presswork_demo
# Expects bin/presswork built and .presswork.env written (make demo-wordpress).
set -euo pipefail
cd "$(dirname "$0")/.."

down=false
[[ "${1:-}" == "--down" ]] && down=true
port="${DEMO_WP_PORT:-8089}"

bash scripts/wordpress.sh install >&2
# The script prints WP_URL=, WP_USER= and WP_APP_PASSWORD= lines; the
# password has spaces, so read them rather than eval them.
while IFS='=' read -r key value; do
	case "$key" in
	WP_URL) export DEMO_WP_URL="$value" ;;
	WP_USER) export DEMO_WP_USER="$value" ;;
	WP_APP_PASSWORD) export DEMO_WP_APP_PASSWORD="$value" ;;
	esac
done < <(bash scripts/wordpress.sh up presswork_demo "$port")
if $down; then
	trap 'bash scripts/wordpress.sh down presswork_demo >&2' EXIT
fi

set -a
# shellcheck disable=SC1091
source .presswork.env
set +a
# The demo's own databases (the Makefile's DEMO_DATABASE_URL, DEMO_REDIS_URL), not make run's.
[ -z "${DEMO_DATABASE_URL:-}" ] || export DATABASE_URL="$DEMO_DATABASE_URL"
[ -z "${DEMO_REDIS_URL:-}" ] || export REDIS_URL="$DEMO_REDIS_URL"
# The site is on this machine: let the worker reach loopback.
export ALLOW_PRIVATE_URLS=true
bin/presswork demo
$down || echo "WordPress stays up at $DEMO_WP_URL (user $DEMO_WP_USER); stop it with: bash scripts/wordpress.sh down presswork_demo"
