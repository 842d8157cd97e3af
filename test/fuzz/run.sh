#!/bin/sh
# test/fuzz/run.sh: build the libFuzzer target for the model reader
# (src/model_io.c) with ASan + UBSan, generate a seed corpus of valid models
# and fuzz.  Usage: test/fuzz/run.sh [RUNS] [extra libFuzzer flags...]
# (default 200000 runs).  It first runs the mutation engine of
# mlcycle.fuzz_model_loader on each seed (MUTATIONS=n per seed, default
# 20000).  Crash inputs are written to test/fuzz/crash-*.
set -eu

RUNS=${1:-200000}
[ $# -gt 0 ] && shift

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
WORK=${FUZZ_WORK:-$(mktemp -d /tmp/mlcycle-fuzz.XXXXXX)}
CORPUS="$WORK/corpus"

# clang 14 with its runtime libraries is what Debian 12 ships
if ! command -v clang >/dev/null 2>&1 || \
   ! ls /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a >/dev/null 2>&1; then
	if [ "$(id -u)" = 0 ]; then
		apt-get update -qq
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq clang libclang-rt-dev >/dev/null
	else
		echo "run.sh: clang and libclang-rt-dev are needed (run as root to install them)" >&2
		exit 1
	fi
fi
command -v pg_config >/dev/null 2>&1 || {
	echo "run.sh: pg_config not found (install postgresql-server-dev-15)" >&2
	exit 1
}

PGINC=$(pg_config --includedir-server)
CFLAGS="-std=gnu11 -g -O1 -Wall -Wno-ignored-attributes -Wno-unused-parameter \
	-DMLC_FUZZ_STANDALONE -I$PGINC -I$ROOT/src -I$HERE"
SAN="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"

echo "== building in $WORK"
mkdir -p "$CORPUS"
# shellcheck disable=SC2086
clang $CFLAGS $SAN -fsanitize=fuzzer \
	"$HERE/fuzz_model.c" "$ROOT/src/model_io.c" "$HERE/pg_stubs.c" \
	-lm -o "$HERE/fuzz_model"
# shellcheck disable=SC2086
clang $CFLAGS $SAN \
	"$HERE/gen_seeds.c" "$ROOT/src/model_io.c" "$HERE/pg_stubs.c" \
	-lm -o "$WORK/gen_seeds"

# shellcheck disable=SC2086
clang $CFLAGS $SAN "$HERE/mutate_check.c" "$HERE/pg_stubs.c" -lm -o "$WORK/mutate_check"

echo "== generating the seed corpus"
"$WORK/gen_seeds" "$CORPUS"
ls -l "$CORPUS"

echo "== mutation engine of mlcycle.fuzz_model_loader, ${MUTATIONS:-20000} per seed"
for seed in "$CORPUS"/seed-*.bin; do
	"$WORK/mutate_check" "$seed" "${MUTATIONS:-20000}" 42
done

echo "== fuzzing: $RUNS runs"
"$HERE/fuzz_model" -runs="$RUNS" -max_len=4096 -print_final_stats=1 \
	-artifact_prefix="$HERE/" "$@" "$CORPUS"
echo "== done: no crash (work directory $WORK)"
