#!/usr/bin/env bash
# Run every test suite of mlcycle against a throwaway PostgreSQL 15 cluster:
# pg_regress, pgTAP, dump/restore round trip, a pg_cron-scheduled drift check, background jobs and their faults
# (test/jobs.sh, on a cluster of its own), the SQL-level model-loader fuzz, the
# libFuzzer target (when clang is there), a valgrind memcheck workload, and a scan of the server log for crashes.
# Installs missing packages (as root), builds and installs the extension first.
# Ends with the line "N passed, N failed" and exits non-zero when a suite failed.
#
#   MLC_FUZZ_ITERATIONS  iterations of mlcycle.fuzz_model_loader (default 100000)
#   MLC_FUZZ_RUNS        libFuzzer runs, test/fuzz/run.sh's argument (default 200000)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib.sh
. scripts/lib.sh

passed=()
failed=()
skipped=()

# run_suite NAME FUNCTION: runs FUNCTION in a subshell with errexit on, records the result.
run_suite() {
	local name=$1 rc start=$SECONDS
	shift
	mlc_header "suite: $name"
	set +e
	(
		set -e
		"$@"
	)
	rc=$?
	set -e
	if [ "$rc" -eq 0 ]; then
		passed+=("$name")
		printf -- '--> %s: PASS (%ss)\n' "$name" "$((SECONDS - start))"
	elif [ "$rc" -eq 77 ]; then
		skipped+=("$name")
		printf -- '--> %s: SKIPPED\n' "$name"
	else
		failed+=("$name")
		printf -- '--> %s: FAIL (exit %s, %ss)\n' "$name" "$rc" "$((SECONDS - start))"
	fi
}

skip() {
	printf 'skip: %s\n' "$*"
	exit 77
}

server_log_lines() {
	wc -l <"$MLC_PGDIR/server.log"
}

# Lines of the server log after line $1 that show a backend crash.
server_crashes_since() {
	tail -n "+$(($1 + 1))" "$MLC_PGDIR/server.log" |
		grep -E 'terminated by signal (4|6|7|8|11)\b|terminated by exception|PANIC:|TRAP:' || true
}

suite_regress() {
	compgen -G 'sql/*.sql' >/dev/null || skip "no sql/*.sql"
	rm -f regression.diffs regression.out
	if ! timeout 900 make installcheck PG_CONFIG="$MLC_PG_CONFIG"; then
		if [ -f regression.diffs ]; then
			mlc_header "regression.diffs"
			head -n 3000 regression.diffs
		fi
		return 1
	fi
}

suite_pgtap() {
	local files
	files=(test/pgtap/*.sql)
	[ -e "${files[0]}" ] || skip "no test/pgtap/*.sql"
	mlc_fresh_db mlc_pgtap pgtap mlcycle
	# from the repo root, so that \copy 'data/...' in the tests finds its files
	timeout 900 pg_prove --psql-bin "$MLC_PGBIN/psql" --nocolor --failures -d mlc_pgtap "${files[@]}"
}

suite_dump() {
	timeout 900 bash test/dump_roundtrip.sh
}

suite_valgrind() {
	timeout 900 bash test/valgrind/run.sh
}

suite_cron() {
	timeout 300 bash test/cron_drift.sh
}

suite_jobs() {
	timeout 600 bash test/jobs.sh
}

suite_dashboard() {
	timeout 300 bash test/dashboard.sh
}

suite_sql_fuzz() {
	local iterations=${MLC_FUZZ_ITERATIONS:-100000} blob result before crashes
	export PGOPTIONS="-c client_min_messages=warning" # this subshell only
	mlc_fresh_db mlc_fuzz mlcycle
	if [ -z "$("${MLC_PSQL[@]}" -Atq -d mlc_fuzz -c "SELECT to_regproc('mlcycle.fuzz_model_loader')")" ]; then
		echo "function mlcycle.fuzz_model_loader does not exist"
		return 1
	fi
	mlc_load_customers mlc_fuzz
	"${MLC_PSQL[@]}" -q -d mlc_fuzz -c "SELECT project, model_id, algorithm FROM ml_train('fuzz', 'customers', 'churn', algorithm => 'logistic', exclude => '{id}')"
	blob=$(mlc_model_blob_column mlc_fuzz)
	[ -n "$blob" ] || { echo "mlcycle.models has no bytea column"; return 1; }
	before=$(server_log_lines)
	if ! result=$(timeout 900 "${MLC_PSQL[@]}" -Atq -d mlc_fuzz -c "
		SELECT mlcycle.fuzz_model_loader(
			(SELECT $blob FROM mlcycle.models LIMIT 1), $iterations, 1)"); then
		echo "the fuzz_model_loader call failed"
		result=
		sleep 2 # let the postmaster log a crash, if that is what happened
	fi
	crashes=$(server_crashes_since "$before")
	if [ -n "$crashes" ]; then
		echo "the server log shows a crash during the fuzz run:"
		echo "$crashes"
		return 1
	fi
	[ -n "$result" ] || return 1
	echo "fuzz_model_loader: $result"
	"${MLC_PSQL[@]}" -Atq -d mlc_fuzz -c "SELECT 'server still up'"
	# the summary must account for every iteration
	local it acc rej
	read -r it acc rej < <("${MLC_PSQL[@]}" -Atq -F ' ' -d mlc_fuzz -v r="$result" <<<"
		SELECT r->>'iterations', r->>'accepted', r->>'rejected' FROM (SELECT :'r'::jsonb AS r) s")
	if [ "$it" != "$iterations" ] || [ "$((acc + rej))" -ne "$iterations" ]; then
		echo "unexpected summary: iterations=$it accepted=$acc rejected=$rej (wanted $iterations)"
		return 1
	fi
}

suite_libfuzzer() {
	local log=$MLC_PGDIR/libfuzzer.log
	command -v clang >/dev/null 2>&1 || skip "clang not installed"
	[ -f test/fuzz/run.sh ] || skip "test/fuzz/run.sh not present"
	echo "test/fuzz/run.sh ${MLC_FUZZ_RUNS:-200000} (output in $log)"
	# FUZZ_WORK: its build and corpus go in the cluster directory, removed at exit
	if ! FUZZ_WORK=$MLC_PGDIR/libfuzzer timeout 900 bash test/fuzz/run.sh "${MLC_FUZZ_RUNS:-200000}" \
		>"$log" 2>&1; then
		tail -n 80 "$log"
		return 1
	fi
	tail -n 8 "$log"
}

suite_server_log() {
	local crashes
	crashes=$(server_crashes_since 0)
	if [ -n "$crashes" ]; then
		echo "the server log shows crashes:"
		echo "$crashes"
		return 1
	fi
	echo "no backend crash in $MLC_PGDIR/server.log"
}

mlc_install_deps
if ! mlc_build_install; then
	echo "build failed"
	echo "0 passed, 1 failed"
	exit 1
fi
mlc_start_cluster

run_suite "pg_regress" suite_regress
run_suite "pgTAP" suite_pgtap
run_suite "dump/restore" suite_dump
run_suite "pg_cron drift schedule" suite_cron
run_suite "background jobs and retraining (test/jobs.sh)" suite_jobs
run_suite "Grafana dashboard queries (test/dashboard.sh)" suite_dashboard
run_suite "SQL fuzz (fuzz_model_loader)" suite_sql_fuzz
run_suite "libFuzzer (test/fuzz/run.sh)" suite_libfuzzer
run_suite "valgrind memcheck (test/valgrind/run.sh)" suite_valgrind
run_suite "server log" suite_server_log

mlc_header "summary (${SECONDS}s)"
for s in "${passed[@]}"; do printf '  PASS  %s\n' "$s"; done
for s in "${failed[@]}"; do printf '  FAIL  %s\n' "$s"; done
for s in "${skipped[@]}"; do printf '  SKIP  %s\n' "$s"; done
printf '%d passed, %d failed\n' "${#passed[@]}" "${#failed[@]}"
[ "${#failed[@]}" -eq 0 ]
