#!/usr/bin/env bash
# Throw-away WordPress sites on loopback for Presswork's integration tests.
#
# Usage:
#   scripts/wordpress.sh install
#       Install Debian's WordPress 6.1, php-cli, php-mysql, php-gd (and
#       MariaDB if nothing answers on 127.0.0.1:3306) and make sure MariaDB
#       runs. A quick no-op when all is there. Needs root to install.
#   scripts/wordpress.sh up NAME PORT [--pretty] [--seo yoast|rankmath] [--no-scripts]
#       Create (or re-create) the isolated site NAME: database wp_NAME, files
#       in ${WP_ROOT:-/tmp/presswork-wp}/NAME, served by `php -S
#       127.0.0.1:PORT`. Prints exactly three lines to stdout:
#           WP_URL=http://127.0.0.1:PORT
#           WP_USER=presswork
#           WP_APP_PASSWORD=xxxx xxxx xxxx xxxx xxxx xxxx
#       Everything else goes to stderr.
#         --pretty   permalinks /%postname%/ (REST under /wp-json/); without
#                    it, plain permalinks (REST only at
#                    /index.php?rest_route=/..., /wp-json/... answers 404).
#         --seo X    a must-use plugin exposes the Yoast or Rank Math post
#                    meta keys (title, description, focus keyword) over REST.
#         --no-scripts  DISALLOW_UNFILTERED_HTML: no user may publish
#                    <script> (WordPress's kses filter removes it).
#   scripts/wordpress.sh down NAME
#       Stop the site's server, drop its database, remove its folder.
#   scripts/wordpress.sh prune
#       `down` every site whose server is no longer running and whose folder
#       is older than 10 minutes (left over by interrupted test runs).
#
# Site folder layout (${WP_ROOT}/NAME):
#   wordpress/   document root: a copy of /usr/share/wordpress (symlinks
#                resolved; wp-admin and wp-includes hard-linked when possible)
#                with its own wp-config.php and writable wp-content/
#   router.php   php -S router (404 for unknown paths, or pretty permalinks)
#   install.php  the headless installer that was run (kept for debugging)
#   server.pid   pid of the php -S master process
#   server.log   php -S output (access log and PHP errors)
#
# Environment: WP_ROOT (sites folder), PRESSWORK_WP_DB_HOST (127.0.0.1),
# PRESSWORK_WP_DB_PORT (3306). The database user is root without password.
set -euo pipefail

WP_SRC=/usr/share/wordpress          # Debian's read-only WordPress core
WP_VAR_CONTENT=/var/lib/wordpress/wp-content # Debian's writable wp-content
WP_ROOT="${WP_ROOT:-/tmp/presswork-wp}"
DB_HOST="${PRESSWORK_WP_DB_HOST:-127.0.0.1}"
DB_PORT="${PRESSWORK_WP_DB_PORT:-3306}"
WP_LOGIN=presswork
WAIT_STEPS=300 # x 0.1 s = 30 s
SITE_MARK=presswork-site.txt # holds the site's name: tells our server from another on the port

SELF="$0"

usage() {
	cat <<EOF
Usage: $SELF install
       $SELF up NAME PORT [--pretty] [--seo yoast|rankmath] [--no-scripts]
       $SELF down NAME
       $SELF prune
EOF
}

log() { printf '%s\n' "$*" >&2; }
die() {
	log "wordpress.sh: $*"
	exit 1
}
is_root() { [ "$(id -u)" -eq 0 ]; }

# mysql_cmd prints the MariaDB/MySQL client binary.
mysql_cmd() {
	command -v mariadb 2>/dev/null || command -v mysql 2>/dev/null || true
}

# sql STATEMENTS: run SQL as root over TCP (no database selected).
sql() {
	local client
	client="$(mysql_cmd)"
	[ -n "$client" ] || die "no mariadb/mysql client; run: $SELF install"
	"$client" --protocol=TCP -h "$DB_HOST" -P "$DB_PORT" -u root --connect-timeout=5 -e "$1"
}

db_ready() {
	local client
	client="$(mysql_cmd)"
	[ -n "$client" ] &&
		"$client" --protocol=TCP -h "$DB_HOST" -P "$DB_PORT" -u root --connect-timeout=2 -e 'SELECT 1' >/dev/null 2>&1
}

# db_port_open: does anything accept connections on the database port?
db_port_open() {
	(exec 3<>"/dev/tcp/$DB_HOST/$DB_PORT") 2>/dev/null
}

# wait_until CMD...: run CMD every 0.1 s until it succeeds, for at most 30 s.
wait_until() {
	local i
	for ((i = 0; i < WAIT_STEPS; i++)); do
		if "$@"; then
			return 0
		fi
		sleep 0.1
	done
	"$@"
}

# ------------------------------------------------------------------- install

# Checks for what `up` needs; missing_packages maps each failing one to the
# Debian package that provides it.
have_php() { command -v php >/dev/null 2>&1; }
have_wp() { [ -f "$WP_SRC/wp-settings.php" ] && [ -f "$WP_SRC/wp-admin/includes/upgrade.php" ]; }
have_ext() { have_php && php -r "exit(extension_loaded('$1') ? 0 : 1);" 2>/dev/null; }
have_theme() { [ -f "$WP_SRC/wp-content/themes/twentytwentythree/style.css" ]; }
have_client() { [ -n "$(mysql_cmd)" ]; }
have_curl() { command -v curl >/dev/null 2>&1; }

missing_packages() {
	local pkgs=()
	have_wp || pkgs+=(wordpress)
	have_php || pkgs+=(php-cli)
	have_ext mysqli || pkgs+=(php-mysql)
	have_ext gd || pkgs+=(php-gd)
	# The default theme, so that post links render pages (REST works without).
	have_theme || pkgs+=(wordpress-theme-twentytwentythree)
	have_client || pkgs+=(mariadb-client)
	have_curl || pkgs+=(curl)
	if ! db_port_open && [ ! -x /usr/sbin/mariadbd ] && [ ! -x /usr/sbin/mysqld ]; then
		pkgs+=(mariadb-server)
	fi
	[ "${#pkgs[@]}" -eq 0 ] || printf '%s\n' "${pkgs[@]}"
}

# apt_install PKG...: install without starting any service. `wordpress`
# depends on apache2|httpd; policy-rc.d (exit 101 = "action forbidden")
# keeps Apache (and MariaDB) from being started by the packages' scripts.
apt_install() {
	local own_policy=0
	export DEBIAN_FRONTEND=noninteractive
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
		chmod 755 /usr/sbin/policy-rc.d
		own_policy=1
		trap 'rm -f /usr/sbin/policy-rc.d' EXIT
	fi
	log "apt-get update"
	apt-get update -qq >&2
	log "apt-get install -y --no-install-recommends $*"
	apt-get install -y -qq --no-install-recommends "$@" >&2
	if [ "$own_policy" -eq 1 ]; then
		rm -f /usr/sbin/policy-rc.d
		trap - EXIT
	fi
}

start_mariadb() {
	local bin=/usr/sbin/mariadbd
	[ -x "$bin" ] || bin=/usr/sbin/mysqld
	[ -x "$bin" ] || die "no MariaDB server binary (/usr/sbin/mariadbd)"
	mkdir -p /run/mysqld
	chown mysql:mysql /run/mysqld 2>/dev/null || true
	log "wordpress.sh: starting MariaDB ($bin)"
	# --user: mariadbd refuses to run as root unless told whom to become.
	start-stop-daemon --start --oknodo --background --exec "$bin" -- --user=mysql
	wait_until db_port_open || die "MariaDB did not open $DB_HOST:$DB_PORT within 30 s"
}

# A freshly installed Debian MariaDB lets root in only over the unix socket
# (unix_socket auth); the sites connect as root without password over TCP.
# Only for a local test database server: run when that login fails.
allow_root_over_tcp() {
	local client
	client="$(mysql_cmd)"
	log "wordpress.sh: allowing root without password over TCP (test database server)"
	"$client" -u root -e "ALTER USER 'root'@'localhost' IDENTIFIED VIA unix_socket OR mysql_native_password USING PASSWORD('');
		CREATE USER IF NOT EXISTS 'root'@'127.0.0.1' IDENTIFIED BY '';
		GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION;
		FLUSH PRIVILEGES;"
}

cmd_install() {
	local pkgs
	mapfile -t pkgs < <(missing_packages)
	if [ "${#pkgs[@]}" -gt 0 ]; then
		if ! is_root; then
			log "wordpress.sh: missing packages: ${pkgs[*]}; as root run:"
			log "  $SELF install"
			exit 1
		fi
		apt_install "${pkgs[@]}"
	fi
	if ! db_port_open; then
		is_root || die "MariaDB is not running on $DB_HOST:$DB_PORT; as root run: $SELF install"
		start_mariadb
	fi
	if ! wait_until db_ready; then
		if is_root && [ -n "$(mysql_cmd)" ] && "$(mysql_cmd)" -u root -e 'SELECT 1' >/dev/null 2>&1; then
			allow_root_over_tcp
		fi
		db_ready || die "cannot log in to MariaDB at $DB_HOST:$DB_PORT as root without password"
	fi
	log "wordpress: ready (PHP $(php -r 'echo PHP_VERSION;'), WordPress $(sed -n "s/^\$wp_version = '\(.*\)';/\1/p" "$WP_SRC/wp-includes/version.php"))"
}

# ------------------------------------------------------------------ up/down

check_name() {
	[[ "$1" =~ ^[a-z0-9_]{1,40}$ ]] || die "invalid site name '$1' (must match ^[a-z0-9_]{1,40}\$)"
}

site_dir() { printf '%s/%s' "$WP_ROOT" "$1"; }

# server_cmdline DIR: the command line (space-separated) of the process in
# DIR/server.pid, or nothing.
server_cmdline() {
	local pid
	pid="$(cat "$1/server.pid" 2>/dev/null || true)"
	[[ "$pid" =~ ^[0-9]+$ ]] || return 0
	tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" || true
}

# stop_server DIR: stop the php -S master recorded in DIR/server.pid and its
# workers (PHP_CLI_SERVER_WORKERS forks children of the master).
stop_server() {
	local dir="$1" pid i
	[ -f "$dir/server.pid" ] || return 0
	pid="$(cat "$dir/server.pid")"
	# Only kill it if it still is our php server (pids get reused).
	if ! [[ "$pid" =~ ^[0-9]+$ ]] || ! server_cmdline "$dir" | grep -q -- "-t $dir/wordpress "; then
		rm -f "$dir/server.pid"
		return 0
	fi
	rm -f "$dir/server.pid"
	pkill -TERM -P "$pid" 2>/dev/null || true
	kill -TERM "$pid" 2>/dev/null || true
	for ((i = 0; i < 50; i++)); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.1
	done
	pkill -KILL -P "$pid" 2>/dev/null || true
	kill -KILL "$pid" 2>/dev/null || true
}

# copy_wordpress DIR: a private, writable copy of Debian's WordPress in DIR.
# Debian splits WordPress: /usr/share/wordpress holds core (with symlinks
# into /usr/share/php, /usr/share/javascript, /etc/ssl and /etc/wordpress)
# and a wp-content with plugins and themes, while its wp-config.php points
# WP_CONTENT_DIR at /var/lib/wordpress/wp-content (uploads, languages,
# symlinks back to the plugins and themes). The copy resolves every symlink
# (cp -L), merges both wp-content folders, and leaves out Debian's
# wp-config.php (which looks up /etc/wordpress/config-HOST.php) and the
# .htaccess link.
copy_wordpress() {
	local dst="$1" entry base
	mkdir -p "$dst/wp-content"
	for entry in "$WP_SRC"/* "$WP_SRC"/.[!.]*; do
		[ -e "$entry" ] || continue
		base="${entry##*/}"
		case "$base" in
		wp-config.php | .htaccess | wp-content) continue ;;
		wp-admin | wp-includes)
			# Read-only core (~2,000 files): hard links are ~10x faster than
			# copies. WordPress never rewrites core files here (updates are
			# off); PRESSWORK_WP_COPY=1 forces real copies, and a copy is
			# made anyway when /tmp is another file system.
			if [ "${PRESSWORK_WP_COPY:-0}" != 1 ] && cp -lRL "$entry" "$dst/" 2>/dev/null; then
				continue
			fi
			rm -rf "${dst:?}/$base"
			;;
		esac
		cp -RL --preserve=mode,timestamps "$entry" "$dst/"
	done
	cp -RL --preserve=mode,timestamps "$WP_SRC/wp-content/." "$dst/wp-content/"
	if [ -d "$WP_VAR_CONTENT" ]; then
		cp -RL --preserve=mode,timestamps "$WP_VAR_CONTENT/." "$dst/wp-content/"
	fi
	mkdir -p "$dst/wp-content/uploads" "$dst/wp-content/upgrade" "$dst/wp-content/mu-plugins"
	# php -S runs as the caller (root in CI), who owns wp-content; keep
	# uploads writable for whoever serves. (No chmod -R: it would change the
	# hard-linked package files too.)
	chmod 0777 "$dst/wp-content/uploads" "$dst/wp-content/upgrade"
}

random_hex() { od -An -tx1 -N"$1" /dev/urandom | tr -d ' \n'; }

write_config() {
	local dir="$1" name="$2" port="$3" scripts="$4" key keys=""
	for key in AUTH_KEY SECURE_AUTH_KEY LOGGED_IN_KEY NONCE_KEY AUTH_SALT SECURE_AUTH_SALT LOGGED_IN_SALT NONCE_SALT; do
		keys+="define('$key', '$(random_hex 32)');"$'\n'
	done
	cat >"$dir/wordpress/wp-config.php" <<EOF
<?php
// Written by scripts/wordpress.sh for the test site "$name". Replaces
// Debian's wp-config.php, so /etc/wordpress is never consulted.
define('DB_NAME', 'wp_$name');
define('DB_USER', 'root');
define('DB_PASSWORD', '');
define('DB_HOST', '$DB_HOST:$DB_PORT');
define('DB_CHARSET', 'utf8mb4');
define('DB_COLLATE', '');
$keys
\$table_prefix = 'wp_';

// "local" makes Application Passwords available over plain http.
define('WP_ENVIRONMENT_TYPE', 'local');
define('WP_HOME', 'http://127.0.0.1:$port');
define('WP_SITEURL', 'http://127.0.0.1:$port');
define('DISABLE_WP_CRON', false);
define('AUTOMATIC_UPDATER_DISABLED', true);
define('WP_AUTO_UPDATE_CORE', false);
define('WP_HTTP_BLOCK_EXTERNAL', true);   // no internet: fail fast
define('WP_ACCESSIBLE_HOSTS', '127.0.0.1');
define('FS_METHOD', 'direct');
define('WP_DEBUG', false);
define('WP_DEBUG_LOG', false);
define('WP_DEBUG_DISPLAY', false);
// --no-scripts: nobody may post unfiltered HTML (kses removes <script>).
define('DISALLOW_UNFILTERED_HTML', $( [ "$scripts" = true ] && echo false || echo true ));
@ini_set('display_errors', '0');   // keep notices out of JSON responses

if (!defined('ABSPATH')) {
	define('ABSPATH', __DIR__ . '/');
}
require_once ABSPATH . 'wp-settings.php';
EOF
}

# write_router DIR PRETTY: the php -S router. php -S alone would run the
# docroot index.php for any unknown path (its index.php fallback), so
# /wp-json/ would answer the home page with 200. The router serves existing
# files and directories as php -S would (return false), and otherwise sends
# the request to WordPress's index.php (pretty permalinks, like Apache's
# mod_rewrite rules from .htaccess) or answers 404 (plain permalinks, like
# Apache without rewrite rules).
write_router() {
	local dir="$1" pretty="$2"
	cat >"$dir/router.php" <<EOF
<?php
// php -S router written by scripts/wordpress.sh.
\$pretty = $pretty;
\$root = rtrim(\$_SERVER['DOCUMENT_ROOT'], '/');
\$path = rawurldecode(parse_url(\$_SERVER['REQUEST_URI'], PHP_URL_PATH) ?? '/');
\$file = realpath(\$root . \$path);
if (\$file !== false && (\$file === \$root || strpos(\$file, \$root . '/') === 0)) {
	if (is_file(\$file)) {
		return false; // static file or PHP script: php -S serves it
	}
	if (is_dir(\$file) && (is_file(\$file . '/index.php') || is_file(\$file . '/index.html'))) {
		return false; // e.g. / and /wp-admin/
	}
}
if (!\$pretty) {
	http_response_code(404);
	header('Content-Type: text/plain; charset=utf-8');
	echo "Not Found\n";
	return true;
}
\$_SERVER['SCRIPT_NAME'] = '/index.php';
\$_SERVER['PHP_SELF'] = '/index.php';
\$_SERVER['SCRIPT_FILENAME'] = \$root . '/index.php';
unset(\$_SERVER['PATH_INFO'], \$_SERVER['ORIG_PATH_INFO']);
chdir(\$root);
require \$root . '/index.php';
return true;
EOF
}

# write_seo_plugin DIR yoast|rankmath: a must-use plugin registering the SEO
# plugin's post meta keys for REST (the real plugins are not installed).
write_seo_plugin() {
	local dir="$1" seo="$2" keys
	case "$seo" in
	yoast) keys="'_yoast_wpseo_title', '_yoast_wpseo_metadesc', '_yoast_wpseo_focuskw'" ;;
	rankmath) keys="'rank_math_title', 'rank_math_description', 'rank_math_focus_keyword'" ;;
	*) die "unknown --seo '$seo' (yoast or rankmath)" ;;
	esac
	cat >"$dir/wordpress/wp-content/mu-plugins/presswork-seo-meta.php" <<EOF
<?php
/*
 * Plugin Name: Presswork test SEO meta ($seo)
 * Description: Written by scripts/wordpress.sh: exposes the $seo post meta keys over REST.
 */
add_action('init', function () {
	foreach ([$keys] as \$key) {
		register_post_meta('post', \$key, [
			'show_in_rest'  => true,
			'single'        => true,
			'type'          => 'string',
			'auth_callback' => fn() => current_user_can('edit_posts'),
		]);
	}
});
EOF
}

# write_installer DIR PORT PRETTY: the headless installer, run with php-cli.
# Prints the application password on its last line.
write_installer() {
	local dir="$1" port="$2" pretty="$3"
	cat >"$dir/install.php" <<EOF
<?php
// Headless WordPress install, written by scripts/wordpress.sh.
\$_SERVER['HTTP_HOST'] = '127.0.0.1:$port';
\$_SERVER['SERVER_NAME'] = '127.0.0.1';
\$_SERVER['SERVER_PORT'] = '$port';
\$_SERVER['REQUEST_URI'] = '/wp-admin/install.php';
\$_SERVER['REQUEST_METHOD'] = 'GET';
\$_SERVER['HTTPS'] = 'off';
define('WP_INSTALLING', true);
// Pluggable: do not try to mail the admin (there is no MTA).
function wp_new_blog_notification(\$blog_title, \$blog_url, \$user_id, \$password) {}
require '$dir/wordpress/wp-load.php';
require_once ABSPATH . 'wp-admin/includes/upgrade.php';
// wp_install() probes pretty permalinks over HTTP; the server is not up yet.
add_filter('pre_http_request', fn() => new WP_Error('offline', 'no HTTP during install'));

\$result = wp_install('Presswork test', '$WP_LOGIN', '$WP_LOGIN@example.com', false, '', wp_generate_password(24, false));
if (is_wp_error(\$result) || empty(\$result['user_id'])) {
	fwrite(STDERR, "wp_install failed\n");
	exit(1);
}
\$user_id = (int) \$result['user_id'];

global \$wp_rewrite;
\$wp_rewrite->set_permalink_structure($pretty ? '/%postname%/' : '');
\$wp_rewrite->flush_rules(false); // soft: no .htaccess
update_option('blogdescription', 'Presswork integration test site');
update_option('timezone_string', 'UTC');

if (!wp_is_application_passwords_available()) {
	fwrite(STDERR, "application passwords are not available\n");
	exit(1);
}
\$created = WP_Application_Passwords::create_new_application_password(\$user_id, ['name' => 'presswork-tests']);
if (is_wp_error(\$created)) {
	fwrite(STDERR, 'create_new_application_password: ' . \$created->get_error_message() . "\n");
	exit(1);
}
echo WP_Application_Passwords::chunk_password(\$created[0]), "\n";
EOF
}

# site_answers URL NAME: the REST API at URL answers and the server there is
# site NAME's own. Another site's server can hold the port: a port picked
# free by the caller can be taken by someone else before php binds it, and
# then our php -S fails while theirs answers (a client would meet the other
# site's users and be refused with 401).
site_answers() {
	local url="$1" name="$2"
	[ "$(curl -s -o /dev/null -m 2 -w '%{http_code}' "$url/index.php?rest_route=/")" = 200 ] &&
		[ "$(curl -s -m 2 "$url/$SITE_MARK")" = "$name" ]
}

# port_taken DIR: php -S of the site in DIR could not bind its port.
port_taken() {
	grep -q -i "address already in use" "$1/server.log" 2>/dev/null
}

cmd_up() {
	local name="" port="" pretty=false seo="" scripts=true
	# stdout carries only the three result lines: keep it on fd 3 and send
	# everything else (including any child's output) to stderr.
	exec 3>&1 1>&2
	while [ "$#" -gt 0 ]; do
		case "$1" in
		--pretty) pretty=true ;;
		--no-scripts) scripts=false ;;
		--seo)
			[ "$#" -ge 2 ] || die "--seo needs yoast or rankmath"
			seo="$2"
			shift
			;;
		--seo=*) seo="${1#--seo=}" ;;
		-*) die "unknown option $1" ;;
		*)
			if [ -z "$name" ]; then
				name="$1"
			elif [ -z "$port" ]; then
				port="$1"
			else
				die "too many arguments"
			fi
			;;
		esac
		shift
	done
	if [ -z "$name" ] || [ -z "$port" ]; then
		usage >&2
		exit 2
	fi
	check_name "$name"
	if ! [[ "$port" =~ ^[0-9]+$ ]] || [ "$port" -lt 1 ] || [ "$port" -gt 65535 ]; then
		die "invalid port '$port'"
	fi
	case "$seo" in "" | yoast | rankmath) ;; *) die "unknown --seo '$seo' (yoast or rankmath)" ;; esac

	if ! { have_php && have_wp && have_ext mysqli && have_client && have_curl; }; then
		die "WordPress, php-cli, php-mysql, a mariadb client or curl is missing; run: $SELF install"
	fi
	db_ready || die "MariaDB does not answer on $DB_HOST:$DB_PORT (root, no password); run: $SELF install"

	local dir url
	dir="$(site_dir "$name")"
	url="http://127.0.0.1:$port"
	if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
		# Our own earlier server of this site is fine (it gets replaced).
		if ! server_cmdline "$dir" | grep -q -- "127.0.0.1:$port "; then
			die "port $port is already in use"
		fi
	fi

	log "wordpress.sh: creating site $name at $url in $dir"
	stop_server "$dir"
	rm -rf "$dir"
	mkdir -p "$dir"
	copy_wordpress "$dir/wordpress"
	sql "DROP DATABASE IF EXISTS \`wp_$name\`; CREATE DATABASE \`wp_$name\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;"
	write_config "$dir" "$name" "$port" "$scripts"
	write_router "$dir" "$pretty"
	[ -z "$seo" ] || write_seo_plugin "$dir" "$seo"
	write_installer "$dir" "$port" "$pretty"
	printf '%s' "$name" >"$dir/wordpress/$SITE_MARK"

	local out app_password
	out="$(cd "$dir/wordpress" && php -d display_errors=stderr "$dir/install.php")" ||
		die "installing WordPress failed (see above; installer: $dir/install.php)"
	app_password="$(printf '%s\n' "$out" | tail -n 1)"
	[[ "$app_password" =~ ^[A-Za-z0-9\ ]{24,}$ ]] || die "installer printed no application password: $out"

	# Serve it. nohup + all three streams redirected: the server must not
	# hold the caller's pipes open (a Go test reading our stdout would hang).
	(
		cd "$dir/wordpress"
		PHP_CLI_SERVER_WORKERS=4 nohup php -S "127.0.0.1:$port" -t "$dir/wordpress" "$dir/router.php" \
			</dev/null >>"$dir/server.log" 2>&1 3>&- &
		echo $! >"$dir/server.pid"
	)
	local pid
	pid="$(cat "$dir/server.pid")"
	local i
	for ((i = 0; i < WAIT_STEPS; i++)); do
		if site_answers "$url" "$name"; then
			break
		fi
		kill -0 "$pid" 2>/dev/null || {
			tail -n 20 "$dir/server.log" >&2 || true
			# testenv picks another port when told "in use".
			! port_taken "$dir" || die "port $port is already in use (php -S could not bind it)"
			die "php -S exited (log: $dir/server.log)"
		}
		sleep 0.1
	done
	site_answers "$url" "$name" || {
		tail -n 20 "$dir/server.log" >&2 || true
		die "site $url did not answer within 30 s (log: $dir/server.log)"
	}
	log "wordpress.sh: site $name is up (pid $pid, log $dir/server.log)"
	printf 'WP_URL=%s\nWP_USER=%s\nWP_APP_PASSWORD=%s\n' "$url" "$WP_LOGIN" "$app_password" >&3
}

cmd_down() {
	[ "$#" -eq 1 ] || {
		usage >&2
		exit 2
	}
	local name="$1" dir
	check_name "$name"
	dir="$(site_dir "$name")"
	stop_server "$dir"
	if db_ready; then
		sql "DROP DATABASE IF EXISTS \`wp_$name\`;"
	else
		log "wordpress.sh: MariaDB not reachable; database wp_$name not dropped"
	fi
	rm -rf "$dir"
	log "wordpress.sh: site $name removed"
}

# prune: remove sites left behind by test runs that were killed before
# their cleanup ran (their php -S is gone). Sites younger than 10 minutes
# are kept: another process may be creating them right now.
cmd_prune() {
	local dir name
	[ -d "$WP_ROOT" ] || return 0
	while IFS= read -r -d '' dir; do
		name="${dir##*/}"
		[[ "$name" =~ ^[a-z0-9_]{1,40}$ ]] || continue
		if server_cmdline "$dir" | grep -q -- "-t $dir/wordpress "; then
			continue
		fi
		cmd_down "$name"
	done < <(find "$WP_ROOT" -mindepth 1 -maxdepth 1 -type d -mmin +10 -print0)
}

main() {
	local cmd="${1:-}"
	[ "$#" -eq 0 ] || shift
	case "$cmd" in
	install) cmd_install ;;
	up) cmd_up "$@" ;;
	down) cmd_down "$@" ;;
	prune) cmd_prune ;;
	-h | --help | help) usage ;;
	*)
		usage >&2
		exit 2
		;;
	esac
}

main "$@"
