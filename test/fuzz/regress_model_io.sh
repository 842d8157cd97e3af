#!/bin/sh
# test/fuzz/regress_model_io.sh: run the pg_regress test sql/model_io.sql
# against src/model_io.c alone, without building the whole extension: a
# stand-in "mlcycle" extension (schema + src/sql/50_model_io.sql) is installed
# into a private copy of the PostgreSQL 15 tree under a temporary directory.
# Usage: test/fuzz/regress_model_io.sh [--accept]  (--accept copies the result
# to expected/model_io.out).  Run as root (pg_regress runs as postgres) or as
# a normal user.
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BINDIR=$(pg_config --bindir)
PKGLIB=$(pg_config --pkglibdir)
SHARE=$(pg_config --sharedir)
PGINC=$(pg_config --includedir-server)
WORK=$(mktemp -d /tmp/mlcycle-regress.XXXXXX)
TREE=$WORK/tree

# PostgreSQL finds share/ and lib/ relative to its binaries, so a copy works
mkdir -p "$TREE$(dirname "$BINDIR")" "$TREE$(dirname "$SHARE")"
cp -a "$(dirname "$BINDIR")/." "$TREE$(dirname "$BINDIR")/"
cp -a "$SHARE" "$TREE$(dirname "$SHARE")/"

cat >"$WORK/magic.c" <<'EOF'
#include "postgres.h"
#include "fmgr.h"
PG_MODULE_MAGIC;
EOF
CFLAGS="-std=gnu11 -O2 -Wall -Wextra -Werror -Wno-unused-parameter \
	-Wno-missing-field-initializers -Wno-sign-compare -fPIC -I$PGINC -I$ROOT/src"
# shellcheck disable=SC2086
gcc $CFLAGS -c "$ROOT/src/model_io.c" -o "$WORK/model_io.o"
# shellcheck disable=SC2086
gcc $CFLAGS -c "$WORK/magic.c" -o "$WORK/magic.o"
gcc -shared -o "$TREE$PKGLIB/mlcycle.so" "$WORK/model_io.o" "$WORK/magic.o"
VERSION=$(sed -n "s/^default_version = '\(.*\)'/\1/p" "$ROOT/mlcycle.control")
cp "$ROOT/mlcycle.control" "$TREE$SHARE/extension/"
{ echo "CREATE SCHEMA mlcycle;"; cat "$ROOT/src/sql/50_model_io.sql"; } \
	>"$TREE$SHARE/extension/mlcycle--$VERSION.sql"

mkdir -p "$WORK/run/sql" "$WORK/run/expected"
cp "$ROOT/sql/model_io.sql" "$WORK/run/sql/"
if [ -f "$ROOT/expected/model_io.out" ]; then
	cp "$ROOT/expected/model_io.out" "$WORK/run/expected/"
else
	: >"$WORK/run/expected/model_io.out"
fi
REGRESS="$PKGLIB/pgxs/src/test/regress/pg_regress --bindir=$TREE$BINDIR \
	--temp-instance=$WORK/run/tmp_check --inputdir=. --outputdir=. \
	--load-extension=mlcycle model_io"
status=0
if [ "$(id -u)" = 0 ]; then
	chown -R postgres "$WORK"
	(cd "$WORK/run" && su postgres -c "$REGRESS") || status=$?
else
	(cd "$WORK/run" && sh -c "$REGRESS") || status=$?
fi
if [ "${1:-}" = "--accept" ]; then
	cp "$WORK/run/results/model_io.out" "$ROOT/expected/model_io.out"
	echo "accepted into expected/model_io.out"
elif [ $status -ne 0 ]; then
	cat "$WORK/run/regression.diffs" 2>/dev/null || true
fi
rm -rf "$WORK"
exit $status
