#!/usr/bin/env bash
# Make sure the local PostgreSQL and Redis that Presswork's tests and demo use
# are installed, running and reachable, and create test databases.
#
# Usage:
#   scripts/services.sh [postgres] [redis]   # no arguments = both, jq, WordNet and stripe-mock
#   scripts/services.sh createdb NAME        # create database NAME if missing
#   scripts/services.sh statements           # PostgreSQL up with pg_stat_statements
#                                            # loaded (make bench: statements per job)
#
# Idempotent and quiet when all is well: prints "postgres: ready" and/or
# "redis: ready". As root it installs (apt-get), creates a cluster and starts
# whatever is missing or stopped; as any other user it prints the exact
# commands to run as root and exits 1.
#
# Endpoints: PostgreSQL on 127.0.0.1:${PRESSWORK_PG_PORT:-5432} (superuser
# "postgres", trust auth on 127.0.0.1), Redis on
# 127.0.0.1:${PRESSWORK_REDIS_PORT:-6379}.
set -euo pipefail

PG_HOST=127.0.0.1
PG_PORT="${PRESSWORK_PG_PORT:-5432}"
REDIS_HOST=127.0.0.1
REDIS_PORT="${PRESSWORK_REDIS_PORT:-6379}"
WAIT_STEPS=60 # x 0.5 s = 30 s

SELF="$0"
APT_UPDATED=0
FAILED=0       # set to 1 when a service needs root to be fixed
SAY_READY=1    # createdb suppresses the "postgres: ready" line

usage() {
	cat <<EOF
Usage: $SELF [postgres] [redis]   (no arguments = both)
       $SELF createdb NAME
       $SELF statements
EOF
}

say() { printf '%s\n' "$*"; }
warn() { printf '%s\n' "$*" >&2; }
die() {
	warn "services.sh: $*"
	exit 1
}
is_root() { [ "$(id -u)" -eq 0 ]; }

case "$PG_PORT$REDIS_PORT" in
*[!0-9]*) die "PRESSWORK_PG_PORT / PRESSWORK_REDIS_PORT must be numbers" ;;
esac

# wait_until CMD...: run CMD every 0.5 s until it succeeds, for at most 30 s.
wait_until() {
	local i
	for ((i = 0; i < WAIT_STEPS; i++)); do
		if "$@"; then
			return 0
		fi
		sleep 0.5
	done
	"$@"
}

apt_install() {
	export DEBIAN_FRONTEND=noninteractive
	if [ "$APT_UPDATED" -eq 0 ]; then
		say "apt-get update"
		apt-get update -qq
		APT_UPDATED=1
	fi
	say "apt-get install -y $*"
	apt-get install -y -qq --no-install-recommends "$@"
}

# ---------------------------------------------------------------- PostgreSQL

pg_ready() {
	command -v pg_isready >/dev/null 2>&1 &&
		pg_isready -h "$PG_HOST" -p "$PG_PORT" -t 2 -q >/dev/null 2>&1
}

pg_installed() {
	command -v pg_ctlcluster >/dev/null 2>&1 &&
		command -v pg_isready >/dev/null 2>&1 &&
		compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null
}

# Prints "VERSION NAME STATUS" of the cluster configured for $PG_PORT,
# "OTHER" when there are clusters but none uses that port, and nothing when
# there is no cluster at all.
pg_cluster() {
	command -v pg_lsclusters >/dev/null 2>&1 || return 0
	local all
	all="$(pg_lsclusters --no-header 2>/dev/null || true)"
	[ -n "$all" ] || return 0
	awk -v port="$PG_PORT" '
		$3 == port { print $1, $2, $4; found = 1; exit }
		END { if (!found) print "OTHER" }
	' <<<"$all"
}

# Sets the caller's ver/name/status from pg_cluster (empty: no cluster).
pg_lookup() {
	read -r ver name status <<<"$(pg_cluster)" || true
	if [ "$ver" = OTHER ]; then
		warn "services.sh: PostgreSQL is not reachable at $PG_HOST:$PG_PORT and no local cluster is configured for port $PG_PORT:"
		pg_lsclusters >&2 || true
		die "set PRESSWORK_PG_PORT to the port of one of these clusters, or change that cluster's port"
	fi
}

pg_newest_server_version() {
	local d v best=""
	for d in /usr/lib/postgresql/*/bin/postgres; do
		[ -x "$d" ] || continue
		v="${d#/usr/lib/postgresql/}"
		v="${v%%/*}"
		if [ -z "$best" ] || [ "$v" -gt "$best" ]; then best="$v"; fi
	done
	printf '%s' "$best"
}

# Make 127.0.0.1 (and ::1) use trust auth. Only for clusters this script
# (or the apt-get install it ran) created: an existing cluster's auth is left
# alone.
PG_HBA_SED='s/^(host[[:space:]]+all[[:space:]]+all[[:space:]]+(127\.0\.0\.1\/32|::1\/128)[[:space:]]+)[^[:space:]]+/\1trust/'
pg_trust_localhost() {
	local ver="$1" name="$2" hba
	hba="/etc/postgresql/$ver/$name/pg_hba.conf"
	[ -f "$hba" ] || die "no $hba to configure"
	if grep -Eq '^host[[:space:]]+all[[:space:]]+all[[:space:]]+127\.0\.0\.1/32[[:space:]]+trust([[:space:]]|$)' "$hba"; then
		return 0
	fi
	say "postgres: setting trust auth for 127.0.0.1 in $hba (new local test cluster)"
	sed -E -i "$PG_HBA_SED" "$hba"
	if ! grep -Eq '^host[[:space:]]+all[[:space:]]+all[[:space:]]+127\.0\.0\.1/32[[:space:]]+trust' "$hba"; then
		printf 'host    all             all             127.0.0.1/32            trust\n' >>"$hba"
	fi
	if pg_ctlcluster "$ver" "$name" status >/dev/null 2>&1; then
		pg_ctlcluster --skip-systemctl-redirect "$ver" "$name" reload
	fi
}

pg_not_ready_as_user() {
	local ver="$1" name="$2"
	warn "PostgreSQL is not reachable at $PG_HOST:$PG_PORT; start it with (as root):"
	if ! pg_installed; then
		warn "  apt-get update && apt-get install -y postgresql"
		warn "  pg_ctlcluster --skip-systemctl-redirect \$(ls /etc/postgresql) main start"
	elif [ -z "$ver" ]; then
		ver="$(pg_newest_server_version)"
		warn "  pg_createcluster -p $PG_PORT $ver main"
		warn "  sed -E -i '$PG_HBA_SED' /etc/postgresql/$ver/main/pg_hba.conf"
		warn "  pg_ctlcluster --skip-systemctl-redirect $ver main start"
	else
		warn "  pg_ctlcluster --skip-systemctl-redirect $ver $name start"
	fi
	warn "or run this script as root: sudo $SELF postgres"
	FAILED=1
}

pg_fail() {
	local ver="$1" name="$2" log
	warn "services.sh: PostgreSQL did not become ready at $PG_HOST:$PG_PORT within 30 s"
	if [ -n "$ver" ]; then
		log="/var/log/postgresql/postgresql-$ver-$name.log"
		if command -v pg_lsclusters >/dev/null 2>&1; then pg_lsclusters >&2 || true; fi
		if [ -r "$log" ]; then
			warn "--- last lines of $log:"
			tail -n 20 "$log" >&2 || true
		fi
	fi
	exit 1
}

ensure_postgres() {
	local ver="" name="" status="" created=0 had_cluster=0

	if pg_ready; then
		[ "$SAY_READY" -eq 0 ] || say "postgres: ready"
		return 0
	fi

	pg_lookup
	[ -z "$ver" ] || had_cluster=1

	# Running (e.g. still starting up or in recovery): waiting needs no root.
	if [ -n "$ver" ] && [ "$status" != down ]; then
		wait_until pg_ready || pg_fail "$ver" "$name"
		[ "$SAY_READY" -eq 0 ] || say "postgres: ready"
		return 0
	fi

	if ! is_root; then
		pg_not_ready_as_user "$ver" "$name"
		return 0
	fi

	if ! pg_installed; then
		say "postgres: installing PostgreSQL"
		apt_install postgresql
		pg_installed || die "postgresql installed but pg_ctlcluster/pg_isready/postgres not found"
		pg_lookup
		# The package's postinst may have created (and started) "main".
		if [ -n "$ver" ] && [ "$had_cluster" -eq 0 ]; then created=1; fi
	fi

	if [ -z "$ver" ]; then
		ver="$(pg_newest_server_version)"
		[ -n "$ver" ] || die "no PostgreSQL server binaries under /usr/lib/postgresql"
		name=main
		say "postgres: creating cluster $ver/$name on port $PG_PORT"
		pg_createcluster -p "$PG_PORT" "$ver" "$name" >/dev/null
		created=1
		pg_lookup
		[ -n "$ver" ] || die "pg_createcluster did not create a cluster"
	fi

	if [ "$created" -eq 1 ]; then
		pg_trust_localhost "$ver" "$name"
	fi

	if ! pg_ctlcluster "$ver" "$name" status >/dev/null 2>&1; then
		say "postgres: starting cluster $ver/$name"
		if ! pg_ctlcluster --skip-systemctl-redirect "$ver" "$name" start; then
			# Someone else may have started it at the same moment.
			pg_ctlcluster "$ver" "$name" status >/dev/null 2>&1 || pg_fail "$ver" "$name"
		fi
	fi

	wait_until pg_ready || pg_fail "$ver" "$name"
	[ "$SAY_READY" -eq 0 ] || say "postgres: ready"
}

# ensure_statements loads pg_stat_statements into PostgreSQL (make bench
# counts the statements and transactions of a job with it): it must be in
# shared_preload_libraries, which takes a restart, so only make bench asks.
ensure_statements() {
	local loaded ver name status
	ensure_postgres
	loaded="$(psql -h "$PG_HOST" -p "$PG_PORT" -U postgres -Atc 'SHOW shared_preload_libraries' 2>/dev/null || true)"
	case ",$loaded," in
	*,pg_stat_statements,* | *", pg_stat_statements,"*)
		say "postgres: pg_stat_statements loaded"
		return 0
		;;
	esac
	if ! is_root; then
		warn "pg_stat_statements is not loaded; as root: psql -h $PG_HOST -U postgres -c \"ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'\" and restart PostgreSQL"
		FAILED=1
		return 0
	fi
	pg_lookup
	[ -n "$ver" ] || die "no PostgreSQL cluster found to restart"
	say "postgres: loading pg_stat_statements (restarting cluster $ver/$name)"
	psql -h "$PG_HOST" -p "$PG_PORT" -U postgres -qc "ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'"
	pg_ctlcluster --skip-systemctl-redirect "$ver" "$name" restart
	wait_until pg_ready || pg_fail "$ver" "$name"
}

# --------------------------------------------------------------------- Redis

redis_ready() {
	command -v redis-cli >/dev/null 2>&1 &&
		[ "$(timeout 5 redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" ping 2>/dev/null)" = PONG ]
}

REDIS_START=(redis-server --daemonize yes --bind 127.0.0.1 -::1 --port "$REDIS_PORT"
	--save "" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log)
REDIS_START_TEXT="redis-server --daemonize yes --bind 127.0.0.1 -::1 --port $REDIS_PORT --save \"\" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log"

ensure_redis() {
	if redis_ready; then
		say "redis: ready"
		return 0
	fi

	if ! is_root; then
		warn "Redis is not reachable at $REDIS_HOST:$REDIS_PORT; start it with (as root):"
		if ! command -v redis-server >/dev/null 2>&1 || ! command -v redis-cli >/dev/null 2>&1; then
			warn "  apt-get update && apt-get install -y redis-server"
		fi
		warn "  $REDIS_START_TEXT"
		warn "or run this script as root: sudo $SELF redis"
		FAILED=1
		return 0
	fi

	if ! command -v redis-server >/dev/null 2>&1 || ! command -v redis-cli >/dev/null 2>&1; then
		say "redis: installing redis-server"
		apt_install redis-server
		# The package may have started its own instance on the default port.
		if redis_ready; then
			say "redis: ready"
			return 0
		fi
	fi

	mkdir -p /var/lib/redis /var/log/redis
	say "redis: starting redis-server on $REDIS_HOST:$REDIS_PORT"
	"${REDIS_START[@]}"
	if ! wait_until redis_ready; then
		warn "services.sh: Redis did not become ready at $REDIS_HOST:$REDIS_PORT within 30 s"
		if [ -r /var/log/redis/ci.log ]; then
			warn "--- last lines of /var/log/redis/ci.log:"
			tail -n 20 /var/log/redis/ci.log >&2 || true
		fi
		exit 1
	fi
	say "redis: ready"
}

# ------------------------------------------------------------------------ jq

# The README's walkthrough reads ids from the API's answers with jq. Its
# absence fails nothing here: as root it is installed, otherwise named.
ensure_jq() {
	if command -v jq >/dev/null 2>&1; then
		return 0
	fi
	if ! is_root; then
		warn "jq is missing (the README's walkthrough uses it); install it with (as root):"
		warn "  apt-get update && apt-get install -y jq"
		return 0
	fi
	say "jq: installing jq (the README's walkthrough uses it)"
	apt_install jq
}

# ------------------------------------------------------------------ WordNet

# The offline embedder groups keywords by meaning with WordNet (Debian's
# wordnet-base, read from ${WORDNET_DIR:-/usr/share/wordnet}); without it it
# groups by spelling only. Its absence fails nothing here: as root it is
# installed, otherwise named.
ensure_wordnet() {
	if [ -f "${WORDNET_DIR:-/usr/share/wordnet}/index.noun" ]; then
		return 0
	fi
	if ! is_root; then
		warn "WordNet is missing (the offline embedder then groups keywords by spelling only); install it with (as root):"
		warn "  apt-get update && apt-get install -y wordnet-base"
		return 0
	fi
	say "wordnet: installing wordnet-base (the offline embedder's semantic signal)"
	apt_install wordnet-base
}

# --------------------------------------------------------------- stripe-mock

# Billing's tests (#26) talk to Stripe's own mock server, a Go program the
# tests start themselves (internal/testenv.StripeMock); it only has to be
# installed. go install needs no root.
STRIPE_MOCK_VERSION=v0.203.0
ensure_stripe_mock() {
	local gobin
	if command -v stripe-mock >/dev/null 2>&1; then
		say "stripe-mock: ready"
		return 0
	fi
	if ! command -v go >/dev/null 2>&1; then
		warn "stripe-mock is missing and go is not on PATH; install it with:"
		warn "  go install github.com/stripe/stripe-mock@$STRIPE_MOCK_VERSION"
		FAILED=1
		return 0
	fi
	gobin="$(go env GOBIN)"
	[ -n "$gobin" ] || gobin="$(go env GOPATH | cut -d: -f1)/bin"
	if [ -x "$gobin/stripe-mock" ]; then
		say "stripe-mock: ready ($gobin/stripe-mock)"
		return 0
	fi
	say "stripe-mock: go install github.com/stripe/stripe-mock@$STRIPE_MOCK_VERSION"
	go install "github.com/stripe/stripe-mock@$STRIPE_MOCK_VERSION" || {
		warn "services.sh: go install github.com/stripe/stripe-mock@$STRIPE_MOCK_VERSION failed"
		FAILED=1
		return 0
	}
	say "stripe-mock: ready ($gobin/stripe-mock)"
}

# ------------------------------------------------------------------ createdb

createdb_if_missing() {
	local db="$1" psql query found
	[[ "$db" =~ ^[a-z_][a-z0-9_]*$ ]] || die "invalid database name '$db' (must match ^[a-z_][a-z0-9_]*\$)"

	SAY_READY=0
	ensure_postgres
	[ "$FAILED" -eq 0 ] || exit 1

	# -w: never prompt for a password (fail instead of hanging).
	psql=(psql -X -q -w -v ON_ERROR_STOP=1 -h "$PG_HOST" -p "$PG_PORT" -U postgres -d postgres)
	query="SELECT 1 FROM pg_database WHERE datname='$db'"

	found="$(PGCONNECT_TIMEOUT=5 "${psql[@]}" -tAc "$query")" ||
		die "cannot connect to PostgreSQL at $PG_HOST:$PG_PORT as user postgres (needs trust auth for 127.0.0.1 in pg_hba.conf, or a PGPASSWORD)"
	if [ "$found" = 1 ]; then
		say "database $db: exists"
		return 0
	fi
	if ! PGCONNECT_TIMEOUT=5 "${psql[@]}" -c "CREATE DATABASE \"$db\""; then
		# Lost a race with a concurrent creator? Then it exists now.
		found="$(PGCONNECT_TIMEOUT=5 "${psql[@]}" -tAc "$query" || true)"
		[ "$found" = 1 ] || die "could not create database $db"
		say "database $db: exists"
		return 0
	fi
	say "database $db: created"
}

# ---------------------------------------------------------------------- main

main() {
	local want_pg=0 want_redis=0 arg

	if [ "${1:-}" = statements ]; then
		ensure_statements
		[ "$FAILED" -eq 0 ] || exit 1
		return 0
	fi

	if [ "${1:-}" = createdb ]; then
		[ "$#" -eq 2 ] || {
			usage >&2
			exit 2
		}
		createdb_if_missing "$2"
		return 0
	fi

	if [ "$#" -eq 0 ]; then
		want_pg=1
		want_redis=1
	fi
	for arg in "$@"; do
		case "$arg" in
		postgres | postgresql | pg) want_pg=1 ;;
		redis) want_redis=1 ;;
		-h | --help | help)
			usage
			return 0
			;;
		*)
			usage >&2
			exit 2
			;;
		esac
	done

	[ "$want_pg" -eq 0 ] || ensure_postgres
	[ "$want_redis" -eq 0 ] || ensure_redis
	[ "$#" -gt 0 ] || ensure_jq
	[ "$#" -gt 0 ] || ensure_wordnet
	[ "$#" -gt 0 ] || ensure_stripe_mock
	[ "$FAILED" -eq 0 ] || exit 1
}

main "$@"
