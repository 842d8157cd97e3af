#!/usr/bin/env bash
# mlcycle search benchmark (issue 4, item 10); not part of scripts/test.sh.
#   (d) 5-fold grid search of 6 logistic configurations on the telco rows
#       vs scikit-learn's GridSearchCV on the same rows and the same folds
#   (e) ml_roc_auc over 1,000,000 (score, label) rows vs the scan floor
# Each SQL timing is the best of 3 runs after a warm-up, in one psql session ((e): the two
# statements alternate, best of 5 rounds, with 2 parallel workers and without); the
# python baseline (test/bench/search_bench.py, Debian's /usr/bin/python3) times
# itself, best of 3. Reuses a running lib.sh cluster, or starts one as bench.sh does.
# Permutation importance is turned off (mlcycle.importance_repeats = 0): GridSearchCV
# does not compute it.
#
#   AUC_ROWS  rows of the ml_roc_auc table (default 1000000)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
# shellcheck source=scripts/lib.sh
. scripts/lib.sh

db=mlc_search_bench
auc_rows=${AUC_ROWS:-1000000}
python=/usr/bin/python3
grid='{"C": [0.01, 0.03, 0.1, 0.3, 1, 3]}'

mlc_ensure_cluster
have_python=true
"$python" -c 'import sklearn, psycopg2, numpy' 2>/dev/null || have_python=false
mlc_fresh_db "$db" mlcycle
mlc_load_customers "$db"
psql=("${MLC_PSQL[@]}" -d "$db")
export PGOPTIONS="-c client_min_messages=warning -c mlcycle.importance_repeats=0"

# best_ms SQL: warm-up + 3 timed runs in one session, the best time in ms
best_ms() {
	printf '\\o /dev/null\n\\timing on\n%s;\n%s;\n%s;\n%s;\n' "$1" "$1" "$1" "$1" | "${psql[@]}" -q |
		awk '/^Time: / { t[++n] = $2 } END { b = t[2]; for (i = 3; i <= n; i++) if (t[i] < b) b = t[i]; print b }'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

mlc_header "(d) grid search: 6 logistic configurations x 5 folds on $("${psql[@]}" -Atq -c "SELECT count(*) FROM customers") telco rows"
search_sql="SELECT * FROM ml_train('search_bench', 'customers', 'churn', algorithm => 'logistic', exclude => '{id}',
	search => 'grid', search_params => '$grid', search_args => '{\"cv\": 5}', test_size => 0, deploy => 'none')"
mlc_ms=$(best_ms "$search_sql")
read -r best_c mlc_auc folds <<<"$("${psql[@]}" -Atq -F ' ' -c "
	SELECT m.metrics->'search'->'best_params'->>'C', round((m.metrics->'search'->>'best_score')::numeric, 6),
	       (SELECT replace(json_agg((f->>'roc_auc')::float8 ORDER BY o)::text, ' ', '')
	        FROM mlcycle.search_trials t, jsonb_array_elements(t.cv->'folds') WITH ORDINALITY x(f, o)
	        WHERE t.model_id = m.model_id AND t.trial = (m.metrics->'search'->>'best_trial')::int)
	FROM mlcycle.models m ORDER BY m.model_id DESC LIMIT 1")"
printf '%-58s %10.1f ms  best C %s, cv roc_auc %s\n' "mlcycle ml_train(search => 'grid', cv 5, 6 configs)" "$mlc_ms" "$best_c" "$mlc_auc"
if $have_python; then
	for tol in 1e-4 1e-10; do
		declare -A sk=()
		while read -r key value; do sk[$key]=$value; done < <(PGDATABASE=$db "$python" test/bench/search_bench.py \
			--repeat 3 --tol "$tol" --mlcycle-folds "$folds")
		sk_ms=$(awk -v s="${sk[search_s]}" 'BEGIN { printf "%.1f", s * 1000 }')
		printf '%-58s %10.1f ms  best C %s, cv roc_auc %s; per-fold roc_auc vs mlcycle: max diff %s\n' \
			"sklearn GridSearchCV (tol $tol), same rows and folds" "$sk_ms" "${sk[best_C]}" "${sk[best_cv_roc_auc]}" \
			"${sk[fold_auc_max_diff]}"
		printf '%-58s %10s     (+ %.1f ms to fetch the rows with psycopg2)\n' "  ratio sklearn / mlcycle" \
			"$(ratio "$sk_ms" "$mlc_ms")" "$(awk -v s="${sk[fetch_s]}" 'BEGIN { print s * 1000 }')"
	done
else
	echo "skipped the scikit-learn baseline: $python lacks sklearn/psycopg2/numpy"
fi

mlc_header "(e) ml_roc_auc over $auc_rows (score, label) rows"
"${psql[@]}" -q -c "SELECT setseed(0.17)" -c "CREATE TABLE auc_rows AS SELECT s AS score, random() < s AS label
	FROM (SELECT random() AS s FROM generate_series(1, $auc_rows) OFFSET 0) r" -c "VACUUM ANALYZE auc_rows" >/dev/null
# auc_pair WORKERS: the best ml_roc_auc and scan-floor times, in ms, with that many parallel
# workers; the two statements alternate (a warm-up round, then 5 rounds), so a change in
# the machine's load hits both
auc_sql="SELECT ml_roc_auc(score, label) FROM auc_rows"
scan_sql="SELECT sum(score), count(*) FILTER (WHERE label) FROM auc_rows"
auc_pair() {
	local times
	times=$(for r in 0 1 2 3 4 5; do printf '%s;\n%s;\n' "$auc_sql" "$scan_sql"; done |
		{ printf 'SET max_parallel_workers_per_gather = %s;\n\\o /dev/null\n\\timing on\n' "$1"; cat; } |
		"${psql[@]}" -q | awk '/^Time: / { print $2 }')
	# lines: ml_roc_auc, scan, ml_roc_auc, scan, ... (the first two are the warm-up)
	awk 'NR > 2 && NR % 2 == 1 && (a == "" || $1 < a) { a = $1 } NR > 2 && NR % 2 == 0 && (b == "" || $1 < b) { b = $1 }
		END { print a, b }' <<<"$times"
}
printf '%s\n' "$("${psql[@]}" -Atq -c "SELECT 'AUC ' || round(ml_roc_auc(score, label)::numeric, 6) FROM auc_rows")"
for workers in 2 0; do
	read -r auc_ms scan_ms < <(auc_pair "$workers")
	printf '%-58s %10.1f ms\n' "ml_roc_auc(score, label), $workers parallel workers" "$auc_ms"
	printf '%-58s %10.1f ms\n' "scan floor: sum(score), count(*) FILTER (WHERE label)" "$scan_ms"
	printf '%-58s %10s  (target <= 2)\n' "  ratio ml_roc_auc / scan" "$(ratio "$auc_ms" "$scan_ms")"
done
