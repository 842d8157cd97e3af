#!/usr/bin/env bash
# mlcycle profile benchmark: ml_profile against the scan floor over the same columns,
# measured in the same run (ratios, not timings, are the result).
#   table: BENCH_ROWS rows (default 1,000,000) x 20 numeric (float8, int, numeric) + 5 text
#          columns, generated with setseed(0.42); text columns from 4 to ~all distinct values
#   scan floor: SELECT count(*), sum(n1), ..., sum(n20), sum(length(t1)), ..., sum(length(t5))
#   ml_profile: SELECT count(*) FROM ml_profile('bench')   (one aggregate query)
#   each with max_parallel_workers_per_gather = 0 (target: profile / scan <= 3) and = 2
# Each timing is the best of 3 after a warm-up, in one psql session. Not part of
# scripts/test.sh: run it by hand (as root on a fresh machine it installs what it needs).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
# shellcheck source=scripts/lib.sh
. scripts/lib.sh

rows=${BENCH_ROWS:-1000000}
db=mlc_profile_bench

mlc_ensure_cluster
psql=("${MLC_PSQL[@]}" -d "$db")
export PGOPTIONS="-c client_min_messages=warning"
list() { awk -v n="$1" -v sep="$2" -v fmt="$3" 'BEGIN { for (k = 1; k <= n; k++) printf "%s" fmt, (k > 1 ? sep : ""), k, k }'; }

mlc_header "generating bench: $rows rows x 20 numeric + 5 text columns (setseed 0.42)"
mlc_fresh_db "$db" mlcycle
"${psql[@]}" -q <<EOF
SELECT setseed(0.42) \g /dev/null
CREATE TABLE bench AS
SELECT $(list 8 ', ' '(random() * 100 - 50)::float8 AS n%d'),
	   $(list 4 ', ' 'floor(random() * 1000)::int AS i%d'),
	   $(list 4 ', ' 'CASE WHEN random() < 0.1 THEN NULL ELSE (random() * random() * 1e4)::float8 END AS s%d'),
	   $(list 4 ', ' 'round((random() * 100)::numeric, 2) AS d%d'),
	   (ARRAY['red', 'green', 'blue', 'grey'])[1 + floor(random() * 4)::int] AS t1,
	   'city ' || floor(random() * 1000)::int AS t2,
	   'customer ' || g AS t3,
	   CASE WHEN random() < 0.3 THEN NULL ELSE 'plan ' || floor(random() * random() * 50)::int END AS t4,
	   'sku-' || floor(random() * 200000)::int AS t5
FROM generate_series(1, $rows) g;
VACUUM ANALYZE bench;
EOF
cols=$("${psql[@]}" -Atq -c "SELECT string_agg(CASE WHEN atttypid = 'text'::regtype THEN format('sum(length(%I))', attname) ELSE format('sum(%I)', attname) END, ', ' ORDER BY attnum) FROM pg_attribute WHERE attrelid = 'bench'::regclass AND attnum > 0")

declare -A best_ms
# measure KEY WORKERS SQL: warm-up + 3 runs in one session; the best time in ms
measure() {
	local key=$1 workers=$2 sql=$3 out
	printf '  %-12s workers=%s  %s\n' "$key" "$workers" "${sql:0:100}"
	out=$("${psql[@]}" -q <<EOF
SET max_parallel_workers_per_gather = $workers;
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

mlc_header "timing (best of 3 after a warm-up)"
measure scan0 0 "SELECT count(*), $cols FROM bench"
measure profile0 0 "SELECT count(*) FROM ml_profile('bench')"
measure scan2 2 "SELECT count(*), $cols FROM bench"
measure profile2 2 "SELECT count(*) FROM ml_profile('bench')"

mlc_header "results: $rows rows x 20 numeric + 5 text columns"
"${psql[@]}" -q -c "SELECT column_name, kind, distinct_count, distinct_exact, round(median::numeric, 3) AS median, quantiles_exact, round(quantile_rank_error::numeric, 5) AS rank_error, top_counts_exact, likely_id FROM ml_profile('bench') ORDER BY ordinal"
printf '%-58s %12s\n' "measurement" "best (ms)"
printf '%-58s %12.1f\n' "scan floor, workers off" "${best_ms[scan0]}"
printf '%-58s %12.1f\n' "ml_profile, workers off" "${best_ms[profile0]}"
printf '%-58s %12.1f\n' "scan floor, 2 workers" "${best_ms[scan2]}"
printf '%-58s %12.1f\n' "ml_profile, 2 workers" "${best_ms[profile2]}"
echo
printf '%-58s %8s  %s\n' "ratio" "value" "target"
printf '%-58s %8s  %s\n' "ml_profile / scan floor, workers off" "$(ratio "${best_ms[profile0]}" "${best_ms[scan0]}")" "<= 3"
printf '%-58s %8s  %s\n' "ml_profile / scan floor, 2 workers" "$(ratio "${best_ms[profile2]}" "${best_ms[scan2]}")" "(report)"
printf '%-58s %8s  %s\n' "ml_profile workers off / 2 workers (speed-up)" "$(ratio "${best_ms[profile0]}" "${best_ms[profile2]}")" "(report)"
