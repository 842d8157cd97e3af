#!/usr/bin/env bash
# mlcycle benchmark: ratios against baselines measured in the same run (see README).
#   (a) ml_train linear               vs  SELECT sum(f1+...+f20) FROM bench  (target <= 2.0)
#   (b) sum(ml_predict(model, row))   vs  the same model written as SQL      (target <= 1.5)
#   (c) ml_train logistic             vs  psycopg2 fetch + scikit-learn fit  (target: >= 3x faster)
# Each timing is the best of 3 runs after a warm-up, in one psql session; peak backend
# memory is that session's VmHWM. Not part of scripts/test.sh: run it by hand, as root
# on a fresh machine (it installs what is missing), or under a running lib.sh cluster.
#
#   BENCH_ROWS  rows in the generated table (default 1000000)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
# shellcheck source=scripts/lib.sh
. scripts/lib.sh

rows=${BENCH_ROWS:-1000000}
db=mlc_bench
python=/usr/bin/python3 # Debian's, where python3-sklearn lives

mlc_ensure_cluster
if mlc_is_root; then
	mlc_install_packages python3-sklearn python3-psycopg2 python3-numpy
fi
"$python" -c 'import sklearn, psycopg2, numpy' 2>/dev/null ||
	mlc_die "$python lacks sklearn/psycopg2/numpy: apt-get install python3-sklearn python3-psycopg2 python3-numpy"

psql=("${MLC_PSQL[@]}" -d "$db")
export PGOPTIONS="-c client_min_messages=warning" # no progress NOTICEs from ml_train
# list SEP FORMAT: FORMAT (with %d for k) for k = 1..20, joined by SEP
list() { awk -v sep="$1" -v fmt="$2" 'BEGIN { for (k = 1; k <= 20; k++) printf "%s" fmt, (k > 1 ? sep : ""), k }'; }
# lin A M C S: a fixed linear combination of f1..f20, weight ((k*A) mod M - C) / S
lin() { awk -v a="$1" -v m="$2" -v c="$3" -v s="$4" \
	'BEGIN { for (k = 1; k <= 20; k++) printf "%s%g*f%d", (k > 1 ? " + " : ""), ((k * a) % m - c) / s, k }'; }

# ---------------------------------------------------------------- data
mlc_header "generating bench: $rows rows x 20 float8 features (setseed 0.42)"
mlc_fresh_db "$db" mlcycle
start=$SECONDS
"${psql[@]}" -q <<EOF
SELECT setseed(0.42) \g /dev/null
CREATE TABLE bench AS
SELECT $(list ', ' 'f%d'),
       -- regression target: a fixed linear combination plus noise
       1.5 + $(lin 37 11 5 2.5) + 0.5 * (random() - 0.5) AS y,
       -- binary label: drawn from the logistic of another linear combination
       random() < 1 / (1 + exp(-(0.3 + $(lin 13 7 3 4)))) AS yb
FROM (SELECT $(list ', ' 'random() * 2 - 1 AS f%d')
      FROM generate_series(1, $rows) OFFSET 0) AS s;
VACUUM ANALYZE bench;
EOF
echo "generated in $((SECONDS - start))s: $("${psql[@]}" -Atq -c "SELECT pg_size_pretty(pg_table_size('bench'))"), share of yb true $("${psql[@]}" -Atq -c "SELECT round(avg(yb::int), 3) FROM bench")"
workers=$("${psql[@]}" -Atq -c "SHOW max_parallel_workers_per_gather")

# ---------------------------------------------------------------- measuring
declare -A best_ms hwm_kb plan

# measure KEY SQL: warm-up + 3 runs in one session; best time (ms), session VmHWM (kB),
# and whether the plan is parallel.
measure() {
	local key=$1 sql=$2 out
	printf '  %-10s %s\n' "$key" "$sql"
	out=$("${psql[@]}" -q <<EOF
SELECT pg_backend_pid() AS bpid \gset
\setenv MLC_BPID :bpid
\o /dev/null
\timing on
$sql;
$sql;
$sql;
$sql;
\timing off
\o
\! grep VmHWM /proc/\$MLC_BPID/status
EOF
	)
	best_ms[$key]=$(awk '/^Time: / { t[++n] = $2 } END { b = t[2]; for (i = 3; i <= n; i++) if (t[i] < b) b = t[i]; print b }' <<<"$out")
	hwm_kb[$key]=$(awk '/^VmHWM:/ { print $2 }' <<<"$out")
	if [[ $sql == *ml_train* ]]; then
		plan[$key]=- # its scans run inside the call
	elif [[ $("${psql[@]}" -Atq -c "EXPLAIN (COSTS OFF) $sql") == *Gather* ]]; then
		plan[$key]=parallel
	else
		plan[$key]=serial
	fi
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
mb() { awk -v k="$1" 'BEGIN { printf "%.0f MB", k / 1024 }'; }
verdict() { # verdict VALUE OP TARGET
	if awk -v v="$1" -v t="$3" -v op="$2" 'BEGIN { exit !(op == "<=" ? v <= t : v >= t) }'; then
		echo met
	else
		echo MISSED
	fi
}

mlc_header "timing (best of 3 after a warm-up; max_parallel_workers_per_gather = $workers)"
measure scan "SELECT sum($(list '+' 'f%d')) FROM bench"
measure train_lin "SELECT * FROM ml_train('b_lin', 'bench', 'y', algorithm => 'linear', exclude => '{yb}', deploy => 'most_recent')"

# (b) a linear model without scaling, so that it reads as plain SQL
"${psql[@]}" -Atq -o /dev/null -c "SELECT * FROM ml_train('b_lin_raw', 'bench', 'y', algorithm => 'linear',
	exclude => '{yb}', preprocess => '{\"*\": {\"scale\": \"none\"}}', deploy => 'most_recent')"
expr=$("${psql[@]}" -Atq -c "
	SELECT string_agg(CASE WHEN feature ~ '^f[0-9]+\$' THEN format('(%s)*%I', coefficient, feature)
	                       ELSE format('(%s)', coefficient) END, ' + ')
	       || '|' || count(*) FILTER (WHERE feature ~ '^f[0-9]+\$') || '|' || count(*)
	FROM ml_coefficients('b_lin_raw')")
IFS='|' read -r expr n_features n_terms <<<"$expr"
if [ "$n_features" != 20 ] || [ "$n_terms" != 21 ]; then
	"${psql[@]}" -c "SELECT * FROM ml_coefficients('b_lin_raw')"
	mlc_die "expected 20 feature coefficients and an intercept from ml_coefficients('b_lin_raw')"
fi
measure predict "SELECT sum(ml_predict('b_lin_raw', t)) FROM bench t"
measure expr "SELECT sum($expr) FROM bench"
agree=$("${psql[@]}" -Atq -c "SELECT abs(a - b) <= 1e-9 * greatest(abs(a), abs(b), 1)
	FROM (SELECT sum(ml_predict('b_lin_raw', t)) AS a, sum($expr) AS b FROM bench t) s")
[ "$agree" = t ] || echo "WARNING: ml_predict and the SQL expression disagree: the comparison (b) is not like for like"

measure train_log "SELECT * FROM ml_train('b_log', 'bench', 'yb', algorithm => 'logistic', exclude => '{y}')"
auc_mlc=$("${psql[@]}" -Atq -c "SELECT round((m.metrics->'test'->>'roc_auc')::numeric, 4)
	FROM mlcycle.models m JOIN mlcycle.projects p USING (project_id)
	WHERE p.name = 'b_log' ORDER BY m.model_id DESC LIMIT 1")

echo "  sklearn    $python test/bench/bench_sklearn.py (fetch + fit, best of 3)"
sk_out=$(PGDATABASE=$db "$python" test/bench/bench_sklearn.py --repeat 3)
declare -A sk
while read -r key value; do sk[$key]=$value; done <<<"$sk_out"

# ---------------------------------------------------------------- report
sk_ms=$(awk -v s="${sk[total_s]}" 'BEGIN { printf "%.1f", s * 1000 }')
r_a=$(ratio "${best_ms[train_lin]}" "${best_ms[scan]}")
r_b=$(ratio "${best_ms[predict]}" "${best_ms[expr]}")
r_b_scan=$(ratio "${best_ms[predict]}" "${best_ms[scan]}")
r_c=$(ratio "$sk_ms" "${best_ms[train_log]}")

mlc_header "results: $rows rows x 20 features, max_parallel_workers_per_gather = $workers"
printf '%-52s %12s  %-8s  %s\n' "measurement" "best (ms)" "plan" "peak backend RSS (VmHWM)"
row() { printf '%-52s %12.1f  %-8s  %s\n' "$1" "$2" "$3" "$4"; }
row "scan: SELECT sum(f1+...+f20) FROM bench" "${best_ms[scan]}" "${plan[scan]}" "$(mb "${hwm_kb[scan]}")"
row "(a) ml_train linear" "${best_ms[train_lin]}" "${plan[train_lin]}" "$(mb "${hwm_kb[train_lin]}")"
row "(b) sum(ml_predict('b_lin_raw', t))" "${best_ms[predict]}" "${plan[predict]}" "$(mb "${hwm_kb[predict]}")"
row "    same model as a SQL expression" "${best_ms[expr]}" "${plan[expr]}" "$(mb "${hwm_kb[expr]}")"
row "(c) ml_train logistic (test roc_auc $auc_mlc)" "${best_ms[train_log]}" "${plan[train_log]}" "$(mb "${hwm_kb[train_log]}")"
row "    sklearn fetch + fit (test roc_auc $(printf '%.4f' "${sk[roc_auc]}"))" "$sk_ms" "python" "$(mb "${sk[peak_rss_kb]}") (python process)"
printf '      of which fetch %.1f ms, standardize + fit %.1f ms\n' \
	"$(awk -v s="${sk[fetch_s]}" 'BEGIN { print s * 1000 }')" "$(awk -v s="${sk[fit_s]}" 'BEGIN { print s * 1000 }')"
echo "(VmHWM counts shared buffers the backend touched, so the scan session is the baseline;"
echo " parallel workers' memory is not included.)"
echo
printf '%-52s %8s  %-8s  %s\n' "ratio" "value" "target" "verdict"
printf '%-52s %8s  %-8s  %s\n' "(a) ml_train linear / scan" "$r_a" "<= 2.0" "$(verdict "$r_a" '<=' 2.0)"
printf '%-52s %8s  %-8s  %s\n' "(b) ml_predict / SQL expression" "$r_b" "<= 1.5" "$(verdict "$r_b" '<=' 1.5)"
printf '%-52s %8s  %-8s  %s\n' "    ml_predict / bare scan" "$r_b_scan" "-" "(for information)"
printf '%-52s %8s  %-8s  %s\n' "(c) sklearn fetch+fit / ml_train logistic" "${r_c}x" ">= 3x" "$(verdict "$r_c" '>=' 3.0)"
