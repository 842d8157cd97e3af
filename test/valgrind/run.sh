#!/usr/bin/env bash
# Runs test/valgrind/workload.sql in a single-user PostgreSQL backend under valgrind
# memcheck (fresh data directory, extension installed from this tree) and fails on any
# memcheck error outside the suppressions in pg.supp. Exit 77 when valgrind is missing.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
# shellcheck source=scripts/lib.sh
. scripts/lib.sh

command -v valgrind >/dev/null || { echo "valgrind is not installed"; exit 77; }
work=$(mktemp -d /tmp/mlcycle-valgrind.XXXXXX)
trap 'rm -rf "$work"' EXIT
chmod 755 "$work"
cp test/valgrind/workload.sql test/valgrind/pg.supp "$work/"
as_pg=()
if mlc_is_root; then
	chown -R postgres "$work"
	as_pg=(runuser -u postgres --)
fi
"${as_pg[@]}" "$MLC_PGBIN/initdb" -D "$work/data" -A trust --no-locale -E UTF8 >/dev/null
"${as_pg[@]}" valgrind --quiet --error-exitcode=42 --leak-check=no \
	--suppressions="$work/pg.supp" --log-file="$work/valgrind.log" \
	"$MLC_PGBIN/postgres" --single -D "$work/data" -c shared_preload_libraries='' postgres \
	<"$work/workload.sql" >"$work/out.txt" 2>&1 || rc=$?
statements=$(grep -c '^backend>' "$work/out.txt" || true)
errors=$(grep -c 'ERROR' "$work/out.txt" || true)
echo "valgrind memcheck: ${rc:-0} (42 means memcheck errors); statements: $statements; SQL errors: $errors"
if [ "${rc:-0}" != 0 ] || [ "$errors" != 0 ]; then
	cat "$work/valgrind.log"
	grep -B2 -A5 'ERROR' "$work/out.txt" || true
	exit 1
fi
