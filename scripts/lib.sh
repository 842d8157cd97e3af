# shellcheck shell=bash
# Shared helpers for scripts/test.sh, scripts/demo.sh and the test/ drivers.
# Source it; it defines functions and a few variables and runs nothing by itself.
#
#   mlc_install_deps    apt-get install what is missing (root), or explain and exit 1
#   mlc_build_install   make + make install against PostgreSQL 15
#   mlc_start_cluster   throwaway cluster as the postgres user, stopped and removed on exit
#   mlc_ensure_cluster  reuse the cluster of a calling script, or start one
#
# Environment knobs: MLC_PGBIN (PostgreSQL 15 bin directory), MLC_PORT (first port
# tried, default 54329), MLC_PRELOAD (shared_preload_libraries, default
# 'mlcycle,pg_cron'), MLC_KEEP=1 (keep the cluster directory at exit).

MLC_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
MLC_PGBIN=${MLC_PGBIN:-/usr/lib/postgresql/15/bin}
MLC_PG_CONFIG=$MLC_PGBIN/pg_config
MLC_PACKAGES=(
	postgresql-15 postgresql-server-dev-15 libopenblas-dev liblapacke-dev
	postgresql-15-pgtap libtap-parser-sourcehandler-pgtap-perl postgresql-15-cron valgrind
	make gcc
)
export MLC_ROOT MLC_PGBIN MLC_PG_CONFIG

# psql for scripts: no ~/.psqlrc, stop at the first error.
MLC_PSQL=("$MLC_PGBIN/psql" -X -v ON_ERROR_STOP=1)

mlc_header() {
	printf '\n==== %s ====\n' "$*"
}

mlc_die() {
	printf 'error: %s\n' "$*" >&2
	exit 1
}

mlc_is_root() {
	[ "$(id -u)" -eq 0 ]
}

# Packages from the list (or from the arguments) that dpkg does not show as installed.
mlc_missing_packages() {
	local p
	for p in "$@"; do
		if [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" != "install ok installed" ]; then
			printf '%s\n' "$p"
		fi
	done
}

# The build and test dependencies.
mlc_install_deps() {
	mlc_install_packages "${MLC_PACKAGES[@]}"
}

# Install those of the given packages that are missing: apt-get when root (one
# `apt-get update` per run), else print what to install and exit 1.
mlc_install_packages() {
	local -a missing
	command -v dpkg-query >/dev/null 2>&1 ||
		mlc_die "dpkg-query not found: these scripts expect Debian 12 (bookworm)"
	mapfile -t missing < <(mlc_missing_packages "$@")
	((${#missing[@]})) || return 0
	if ! mlc_is_root; then
		printf 'error: missing packages: %s\n' "${missing[*]}" >&2
		printf 'Run this script as root, or install them first:\n  sudo apt-get install -y %s\n' \
			"${missing[*]}" >&2
		exit 1
	fi
	mlc_header "installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	if [ -z "${MLC_APT_UPDATED:-}" ]; then
		apt-get update -q || return 1
		MLC_APT_UPDATED=1
	fi
	apt-get install -y -q --no-install-recommends "${missing[@]}" || return 1
}

mlc_build_install() {
	mlc_header "building mlcycle"
	make -C "$MLC_ROOT" -j2 PG_CONFIG="$MLC_PG_CONFIG" || return 1
	if ! mlc_is_root && [ ! -w "$("$MLC_PG_CONFIG" --pkglibdir)" ]; then
		mlc_die "make install needs write access to $("$MLC_PG_CONFIG" --pkglibdir): run as root"
	fi
	make -C "$MLC_ROOT" install PG_CONFIG="$MLC_PG_CONFIG" || return 1
}

# Run a command as the postgres user (or as ourselves when not root), from a directory
# that user can enter.
mlc_as_pg() {
	if mlc_is_root; then
		(cd "${MLC_PGDIR:-/tmp}" && runuser -u postgres -- "$@")
	else
		(cd "${MLC_PGDIR:-/tmp}" && "$@")
	fi
}

# Is a TCP listener or a socket file already using this port?
mlc_port_busy() {
	local port=$1 hex
	hex=$(printf ':%04X ' "$port")
	if [ -e "/tmp/.s.PGSQL.$port" ] || [ -e "/var/run/postgresql/.s.PGSQL.$port" ] ||
		compgen -G "/tmp/mlcycle.*/.s.PGSQL.$port" >/dev/null; then
		return 0
	fi
	# /proc/net/tcp{,6}: local_address is field 2, state 0A is LISTEN
	awk -v p="$hex" 'index($2 " ", p) && $4 == "0A" { found = 1 } END { exit !found }' \
		/proc/net/tcp /proc/net/tcp6 2>/dev/null
}

mlc_cluster_running() {
	[ -n "${MLC_PGDIR:-}" ] && [ -n "${PGPORT:-}" ] && [ -S "$MLC_PGDIR/.s.PGSQL.$PGPORT" ] &&
		"$MLC_PGBIN/pg_isready" -q -h "$MLC_PGDIR" -p "$PGPORT"
}

# Exit handling: functions registered with mlc_atexit run first (in order), then the
# cluster this shell started (if any) is stopped; its directory is removed on success.
MLC_ATEXIT=()
MLC_OWN_CLUSTER=

mlc_atexit() {
	MLC_ATEXIT+=("$@")
	mlc_trap_exit
}

mlc_trap_exit() {
	trap mlc_on_exit EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
}

mlc_on_exit() {
	local rc=$? fn
	trap - EXIT INT TERM
	for fn in "${MLC_ATEXIT[@]}"; do "$fn" || true; done
	if [ -n "$MLC_OWN_CLUSTER" ]; then mlc_stop_cluster "$rc"; fi
	exit "$rc"
}

# mlc_stop_cluster [STATUS]: stop the server; with a non-zero STATUS print the log's tail
# and keep the log.
mlc_stop_cluster() {
	local rc=${1:-0}
	[ -n "${MLC_PGDIR:-}" ] && [ -d "$MLC_PGDIR" ] || return 0
	if [ -f "$MLC_PGDIR/data/postmaster.pid" ]; then
		mlc_as_pg "$MLC_PGBIN/pg_ctl" -D "$MLC_PGDIR/data" -m fast -w -t 60 stop >/dev/null 2>&1 ||
			mlc_as_pg "$MLC_PGBIN/pg_ctl" -D "$MLC_PGDIR/data" -m immediate -w stop >/dev/null 2>&1 ||
			true
	fi
	if [ "$rc" -ne 0 ] && [ -f "$MLC_PGDIR/server.log" ]; then
		printf '\n==== last 60 lines of the server log (%s) ====\n' "$MLC_PGDIR/server.log" >&2
		tail -n 60 "$MLC_PGDIR/server.log" >&2 || true
	fi
	if [ "$rc" -ne 0 ] || [ -n "${MLC_KEEP:-}" ]; then
		# keep the logs (and, with MLC_KEEP, everything) for a post-mortem
		[ -n "${MLC_KEEP:-}" ] ||
			find "$MLC_PGDIR" -mindepth 1 -maxdepth 1 ! -name '*.log' -exec rm -rf {} +
		printf 'cluster directory kept: %s\n' "$MLC_PGDIR" >&2
	else
		rm -rf "$MLC_PGDIR"
	fi
	MLC_OWN_CLUSTER=
}

mlc_start_cluster() {
	local port
	mlc_header "starting a throwaway PostgreSQL 15 cluster"
	if mlc_is_root; then
		id postgres >/dev/null 2>&1 || mlc_die "user postgres does not exist (is postgresql-15 installed?)"
	fi
	MLC_PGDIR=$(mktemp -d /tmp/mlcycle.XXXXXX)
	export MLC_PGDIR
	MLC_OWN_CLUSTER=1
	mlc_trap_exit
	if mlc_is_root; then chown postgres: "$MLC_PGDIR"; fi

	port=${MLC_PORT:-54329}
	while mlc_port_busy "$port"; do port=$((port + 1)); done

	mlc_as_pg "$MLC_PGBIN/initdb" -D "$MLC_PGDIR/data" -A trust -U postgres \
		--encoding UTF8 --no-locale >"$MLC_PGDIR/initdb.log" 2>&1 || {
		cat "$MLC_PGDIR/initdb.log" >&2
		mlc_die "initdb failed"
	}
	cat >>"$MLC_PGDIR/data/postgresql.conf" <<EOF

# --- mlcycle throwaway test cluster ---
port = $port
listen_addresses = ''
unix_socket_directories = '$MLC_PGDIR'
shared_preload_libraries = '${MLC_PRELOAD-mlcycle,pg_cron}'
cron.database_name = 'postgres'
cron.use_background_workers = on
max_worker_processes = 16
max_parallel_workers_per_gather = 2
fsync = off
synchronous_commit = off
full_page_writes = off
EOF
	if ! mlc_as_pg "$MLC_PGBIN/pg_ctl" -D "$MLC_PGDIR/data" -l "$MLC_PGDIR/server.log" \
		-w -t 60 start >/dev/null; then
		mlc_die "the server did not start (log: $MLC_PGDIR/server.log)"
	fi
	export PGHOST=$MLC_PGDIR PGPORT=$port PGUSER=postgres PGDATABASE=postgres
	printf 'cluster up: PGHOST=%s PGPORT=%s (log: %s/server.log)\n' "$PGHOST" "$PGPORT" "$MLC_PGDIR"
}

# For scripts that can run alone or under another one: reuse the caller's cluster
# (exported MLC_PGDIR/PGHOST/PGPORT) when it is up, else install, build and start one.
mlc_ensure_cluster() {
	if mlc_cluster_running; then
		export PGHOST=$MLC_PGDIR PGUSER=postgres
		return 0
	fi
	unset MLC_PGDIR
	mlc_install_deps || exit 1
	mlc_build_install || exit 1
	mlc_start_cluster
}

mlc_dropdb() {
	PGOPTIONS="-c client_min_messages=warning" "$MLC_PGBIN/dropdb" --if-exists "$1"
}

# Fresh database with the given extensions.
mlc_fresh_db() {
	local db=$1 ext
	shift
	mlc_dropdb "$db"
	"$MLC_PGBIN/createdb" "$db"
	for ext in "$@"; do
		"${MLC_PSQL[@]}" -q -d "$db" -c "CREATE EXTENSION IF NOT EXISTS $ext"
	done
}

# Table customers (id identity + the columns of data/telco_churn.csv), loaded client-side.
mlc_load_customers() {
	local db=$1
	(cd "$MLC_ROOT" && "${MLC_PSQL[@]}" -q -d "$db") <<'EOF'
CREATE TABLE customers (
    id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    churn text, female int, senior_citizen int, partner int, dependents int,
    tenure int, phone_service int, multiple_lines text, internet_service text,
    online_security text, online_backup text, device_protection text,
    tech_support text, streaming_tv text, streaming_movies text, contract text,
    paperless_billing int, payment_method text, monthly_charges float8,
    total_charges float8
);
\copy customers (churn, female, senior_citizen, partner, dependents, tenure, phone_service, multiple_lines, internet_service, online_security, online_backup, device_protection, tech_support, streaming_tv, streaming_movies, contract, paperless_billing, payment_method, monthly_charges, total_charges) from 'data/telco_churn.csv' with (format csv, header true)
ANALYZE customers;
EOF
}

# Name of the bytea column holding the serialized model in mlcycle.models.
mlc_model_blob_column() {
	"${MLC_PSQL[@]}" -Atq -d "$1" -c "SELECT quote_ident(attname) FROM pg_attribute
		WHERE attrelid = 'mlcycle.models'::regclass AND atttypid = 'bytea'::regtype
		  AND attnum > 0 AND NOT attisdropped ORDER BY attnum LIMIT 1"
}
