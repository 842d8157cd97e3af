#!/usr/bin/env bash
# mlcycle drift benchmark: ratios against baselines measured in the same run.
#   (d) ml_drift over 1,000,000 rows x 20 features  vs  SELECT sum(f1+...+f20) over the
#       same rows, both with one worker (max_parallel_workers_per_gather = 0)  (target <= 3)
#   (e) ml_ks_test on 1,000,000 vs 10,000 values  vs  scipy's ks_2samp on the same values,
#       fetched with psycopg2 (reported with and without the fetch)
# Each SQL timing is the best of 3 after a warm-up, in one psql session. Not part of
# scripts/test.sh: run it by hand (as root on a fresh machine it installs what it needs).
#
#   BENCH_ROWS  rows of the current table (default 1000000); the model trains on 100,000
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
# shellcheck source=scripts/lib.sh
. scripts/lib.sh

rows=${BENCH_ROWS:-1000000}
db=mlc_drift_bench
python=/usr/bin/python3

mlc_ensure_cluster
if mlc_is_root; then
	mlc_install_packages python3-scipy python3-psycopg2
fi
"$python" -c 'import scipy, psycopg2' 2>/dev/null ||
	mlc_die "$python lacks scipy/psycopg2: apt-get install python3-scipy python3-psycopg2"
psql=("${MLC_PSQL[@]}" -d "$db")
export PGOPTIONS="-c client_min_messages=warning -c max_parallel_workers_per_gather=0"
list() { awk -v sep="$1" -v fmt="$2" 'BEGIN { for (k = 1; k <= 20; k++) printf "%s" fmt, (k > 1 ? sep : ""), k }'; }
ks_query="SELECT (ml_ks_test(v, r)).* FROM (SELECT f1 AS v, false AS r FROM bench UNION ALL (SELECT f1, true FROM bench_ref ORDER BY id LIMIT 10000)) s"

mlc_header "generating bench_ref (100,000 rows) and bench ($rows rows, shifted), 20 float8 features (setseed 0.42)"
mlc_fresh_db "$db" mlcycle
"${psql[@]}" -q <<EOF
SELECT setseed(0.42) \g /dev/null
CREATE TABLE bench_ref AS
SELECT i AS id, $(list ', ' 'random() * 2 - 1 AS f%d') FROM generate_series(1, 100000) i;
ALTER TABLE bench_ref ADD COLUMN y float8;
UPDATE bench_ref SET y = f1 + 2 * f2 - f3 + random();
CREATE TABLE bench AS
SELECT i AS id, $(list ', ' 'random() * 2 - 0.9 AS f%d') FROM generate_series(1, $rows) i;
ALTER TABLE bench ADD COLUMN y float8;
UPDATE bench SET y = f1 + 2 * f2 - f3 + random();
VACUUM ANALYZE bench_ref;
VACUUM ANALYZE bench;
SET mlcycle.progress = off;
SELECT count(*) FROM ml_train('d', 'bench_ref', 'y', exclude => '{id}') \g /dev/null
EOF

declare -A best_ms
# measure KEY SQL: warm-up + 3 runs in one session; the best time in ms
measure() {
	local key=$1 sql=$2 out
	printf '  %-10s %s\n' "$key" "$sql"
	out=$("${psql[@]}" -q <<EOF
\o /dev/null
\timing on
$sql;
$sql;
$sql;
$sql;
EOF
	)
	best_ms[$key]=$(awk '/^Time: / { t[++n] = $2 } END { b = t[2]; for (i = 3; i <= n; i++) if (t[i] < b) b = t[i]; print b }' <<<"$out")
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

mlc_header "timing (best of 3 after a warm-up; one worker)"
measure scan "SELECT sum($(list '+' 'f%d')) FROM bench"
measure drift "SELECT count(*) FROM ml_drift('d', 'bench')"
measure ks "$ks_query"
drifted=$("${psql[@]}" -Atq -c "SELECT count(*) FILTER (WHERE drifted) || ' of ' || count(*) FROM ml_drift('d', 'bench') WHERE kind = 'numeric'")
ks_sql=$("${psql[@]}" -Atq -c "SELECT 'D = ' || statistic || ', p = ' || p_value || ' (' || method || ')' FROM ($ks_query) k")

echo "  scipy      $python test/bench/ks_scipy.py (fetch + ks_2samp, best of 3)"
declare -A sp
while read -r key value; do sp[$key]=$value; done < <(PGDATABASE=$db "$python" test/bench/ks_scipy.py --repeat 3)
sp_total=$(awk -v a="${sp[fetch_s]}" -v b="${sp[ks_s]}" 'BEGIN { printf "%.1f", (a + b) * 1000 }')
sp_ks=$(awk -v b="${sp[ks_s]}" 'BEGIN { printf "%.1f", b * 1000 }')

mlc_header "results: $rows current rows x 20 features, model trained on 100,000"
printf '%-62s %12s\n' "measurement" "best (ms)"
printf '%-62s %12.1f\n' "scan: SELECT sum(f1+...+f20) FROM bench (one worker)" "${best_ms[scan]}"
printf '%-62s %12.1f\n' "(d) ml_drift('d', 'bench') ($drifted numeric tests drifted)" "${best_ms[drift]}"
printf '%-62s %12.1f\n' "(e) ml_ks_test, 1,000,000 vs 10,000 values" "${best_ms[ks]}"
printf '%-62s %12.1f\n' "    scipy ks_2samp, fetch with psycopg2 + test" "$sp_total"
printf '%-62s %12.1f\n' "    scipy ks_2samp, the test alone (values in memory)" "$sp_ks"
echo "ml_ks_test: $ks_sql"
echo "scipy:      D = ${sp[statistic]}, p = ${sp[pvalue]}"
echo
printf '%-62s %8s  %s\n' "ratio" "value" "target"
printf '%-62s %8s  %s\n' "(d) ml_drift / scan, one worker" "$(ratio "${best_ms[drift]}" "${best_ms[scan]}")" "<= 3"
printf '%-62s %8s  %s\n' "(e) scipy fetch + test / ml_ks_test" "$(ratio "$sp_total" "${best_ms[ks]}")x" "(report)"
printf '%-62s %8s  %s\n' "    scipy test alone / ml_ks_test" "$(ratio "$sp_ks" "${best_ms[ks]}")x" "(report)"
