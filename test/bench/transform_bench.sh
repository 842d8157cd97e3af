#!/usr/bin/env bash
# mlcycle transformer benchmark: fit + apply of a standard scaler against the same done
# by hand with avg()/stddev_pop() and arithmetic, on 1,000,000 rows (setseed 0.42), with
# one worker and with two (target ratio <= 1.2). Also the robust scaler (exact: keeps
# every value) against percentile_cont, the same past mlcycle.transform_exact_limit (set to
# 1000: the quantile sketch) with its rank error, and the one-hot encoder against CASE, for reference.
# Each timing is the best of 3 after a warm-up, in one psql session. Not part of
# scripts/test.sh: run it by hand (as root on a fresh machine it installs what it needs).
#
#   BENCH_ROWS  rows (default 1000000)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
# shellcheck source=scripts/lib.sh
. scripts/lib.sh

rows=${BENCH_ROWS:-1000000}
db=mlc_transform_bench

mlc_ensure_cluster
psql=("${MLC_PSQL[@]}" -d "$db")
export PGOPTIONS="-c client_min_messages=warning"

mlc_header "generating bench ($rows rows: x float8 with 1% NULL, c text of 8 values; setseed 0.42)"
mlc_fresh_db "$db" mlcycle
"${psql[@]}" -q <<SQL
SELECT setseed(0.42) \g /dev/null
CREATE TABLE bench AS
SELECT i AS id, CASE WHEN random() < 0.01 THEN NULL ELSE random() * 100 - 30 END AS x,
	   'c' || floor(random() * 8)::int AS c
FROM generate_series(1, $rows) i;
VACUUM ANALYZE bench;
SQL

declare -A best_ms
# measure KEY WORKERS SQL [SETTINGS]: warm-up + 3 runs in one session; the best time in ms
measure() {
	local key=$1 workers=$2 sql=$3 settings=${4:-} out
	printf '  %-14s %s\n' "$key" "$(tr '\n\t' '  ' <<<"$sql")"
	out=$("${psql[@]}" -q <<SQL
SET max_parallel_workers_per_gather = $workers;
$settings
\o /dev/null
\timing on
$sql;
$sql;
$sql;
$sql;
SQL
	)
	best_ms[$key]=$(awk '/^Time: / { t[++n] = $2 } END { b = t[2]; for (i = 3; i <= n; i++) if (t[i] < b) b = t[i]; print b }' <<<"$out")
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

fit_apply="WITH f AS MATERIALIZED (SELECT ml_fit_scaler(x, 'standard') AS t FROM bench)
SELECT sum(ml_transform(f.t, b.x)) FROM bench b, f"
by_hand="WITH f AS MATERIALIZED (SELECT avg(x) AS m, stddev_pop(x) AS s FROM bench)
SELECT sum((b.x - f.m) / f.s) FROM bench b, f"
robust="WITH f AS MATERIALIZED (SELECT ml_fit_scaler(x, 'robust') AS t FROM bench)
SELECT sum(ml_transform(f.t, b.x)) FROM bench b, f"
robust_hand="WITH f AS MATERIALIZED (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY x) AS m,
	percentile_cont(0.75) WITHIN GROUP (ORDER BY x) - percentile_cont(0.25) WITHIN GROUP (ORDER BY x) AS s FROM bench)
SELECT sum((b.x - f.m) / f.s) FROM bench b, f"
onehot="WITH f AS MATERIALIZED (SELECT ml_fit_encoder(c, 'one_hot') AS t FROM bench)
SELECT sum((ml_transform(f.t, b.c))[1]) FROM bench b, f"
onehot_hand="WITH f AS MATERIALIZED (SELECT array_agg(DISTINCT c ORDER BY c) AS cats FROM bench)
SELECT sum(CASE WHEN b.c = f.cats[1] THEN 1 ELSE 0 END) FROM bench b, f"

mlc_header "timing (best of 3 after a warm-up)"
measure scaler_1 0 "$fit_apply"
measure hand_1 0 "$by_hand"
measure scaler_2 2 "$fit_apply"
measure hand_2 2 "$by_hand"
measure robust_1 0 "$robust"
measure robust_hand_1 0 "$robust_hand"
sketch_limit="SET mlcycle.transform_exact_limit = 1000;"
measure robust_sketch_1 0 "$robust" "$sketch_limit"
measure robust_sketch_2 2 "$robust" "$sketch_limit"
# the sketch's center: its rank error against the recorded bound
sketch_err=$("${psql[@]}" -Atq <<SQL
$sketch_limit
WITH f AS (SELECT ml_transformer_text(ml_fit_scaler(x, 'robust')) AS t FROM bench)
SELECT format('center rank error %s, recorded bound %s',
	round(abs((SELECT count(*) FILTER (WHERE x < (t->>'center')::float8) FROM bench)::numeric / count(x) - 0.5), 6),
	round((t->>'rank_error')::numeric, 6)) FROM bench, f GROUP BY t;
SQL
)
measure onehot_1 0 "$onehot"
measure onehot_hand_1 0 "$onehot_hand"
same=$("${psql[@]}" -Atq -c "SELECT abs(($fit_apply) - ($by_hand)) < 1e-6")

mlc_header "results: $rows rows"
printf '%-66s %12s\n' "measurement" "best (ms)"
printf '%-66s %12.1f\n' "standard scaler: ml_fit_scaler + ml_transform, one worker" "${best_ms[scaler_1]}"
printf '%-66s %12.1f\n' "by hand: avg()/stddev_pop() + (x - m) / s, one worker" "${best_ms[hand_1]}"
printf '%-66s %12.1f\n' "standard scaler, two workers" "${best_ms[scaler_2]}"
printf '%-66s %12.1f\n' "by hand, two workers" "${best_ms[hand_2]}"
printf '%-66s %12.1f\n' "robust scaler (exact: keeps every value), one worker" "${best_ms[robust_1]}"
printf '%-66s %12.1f\n' "by hand: percentile_cont x3 + arithmetic, one worker" "${best_ms[robust_hand_1]}"
printf '%-66s %12.1f\n' "robust scaler past the exact limit (sketch), one worker" "${best_ms[robust_sketch_1]}"
printf '%-66s %12.1f\n' "robust scaler past the exact limit (sketch), two workers" "${best_ms[robust_sketch_2]}"
printf '%-66s %12.1f\n' "one-hot encoder: ml_fit_encoder + ml_transform, one worker" "${best_ms[onehot_1]}"
printf '%-66s %12.1f\n' "by hand: array_agg(DISTINCT) + CASE, one worker" "${best_ms[onehot_hand_1]}"
echo "scaled sums agree (|difference| < 1e-6): $same"
echo "robust scaler from the sketch: $sketch_err"
echo
printf '%-66s %8s  %s\n' "ratio" "value" "target"
printf '%-66s %8s  %s\n' "standard scaler fit + apply / by hand, one worker" "$(ratio "${best_ms[scaler_1]}" "${best_ms[hand_1]}")" "<= 1.2"
printf '%-66s %8s  %s\n' "standard scaler fit + apply / by hand, two workers" "$(ratio "${best_ms[scaler_2]}" "${best_ms[hand_2]}")" "<= 1.2"
printf '%-66s %8s  %s\n' "robust scaler / percentile_cont by hand, one worker" "$(ratio "${best_ms[robust_1]}" "${best_ms[robust_hand_1]}")" "(report)"
printf '%-66s %8s  %s\n' "robust scaler from the sketch / exact, one worker" "$(ratio "${best_ms[robust_sketch_1]}" "${best_ms[robust_1]}")" "(report)"
printf '%-66s %8s  %s\n' "one-hot encoder / CASE by hand, one worker" "$(ratio "${best_ms[onehot_1]}" "${best_ms[onehot_hand_1]}")" "(report)"
