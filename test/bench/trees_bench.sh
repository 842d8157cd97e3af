#!/usr/bin/env bash
# Tree benchmark: mlcycle's gbdt against XGBoost 1.7 (tree_method 'hist'), single thread
# on both sides, on the same generated rows (see test/bench/README.md, "Trees"):
#   training   ml_train gbdt fit time          / XGBClassifier.fit, nthread=1   (target <= 1.5)
#   scoring    sum(ml_predict(...)) in a query / XGBClassifier.predict_proba    (target <= 1.0)
#   memory     the backend's VmHWM             / the python process's ru_maxrss
# The XGBoost side runs with Debian's /usr/bin/python3 and python3-xgboost when they are
# installed; otherwise it is skipped with a message.  Not part of scripts/test.sh.
#
#   BENCH_ROWS  rows (default 1000000)     BENCH_TREES  trees (default 100), depth 6
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
# shellcheck source=scripts/lib.sh
. scripts/lib.sh

rows=${BENCH_ROWS:-1000000}
trees=${BENCH_TREES:-100}
db=mlc_trees_bench
python=/usr/bin/python3
hp="{\"n_estimators\": $trees, \"max_depth\": 6, \"learning_rate\": 0.3, \"max_bin\": 255}"

mlc_ensure_cluster
psql=("${MLC_PSQL[@]}" -d "$db")
export PGOPTIONS="-c client_min_messages=warning -c max_parallel_workers_per_gather=0 -c mlcycle.max_train_memory=8GB"

mlc_header "generating tbench: $rows rows x 20 float8 features and a binary label (setseed 0.42)"
mlc_fresh_db "$db" mlcycle
feats=$(awk 'BEGIN { for (k = 1; k <= 20; k++) printf "%sf%d", (k > 1 ? ", " : ""), k }')
draws=$(awk 'BEGIN { for (k = 1; k <= 20; k++) printf "%srandom() * 2 - 1 AS f%d", (k > 1 ? ", " : ""), k }')
"${psql[@]}" -q <<SQL
SELECT setseed(0.42) \g /dev/null
CREATE TABLE tbench AS
SELECT row_number() OVER () AS id, $feats,
       -- a label drawn from the logistic of a non-linear function of f1..f8
       random() < 1 / (1 + exp(-(0.3 + 2 * f1 - 1.5 * f2 * f3 + CASE WHEN f4 > 0.2 THEN 1 ELSE -1 END
                                 + f5 * f5 - 0.7 * f6 + 0.5 * f7 * f8))) AS yb
FROM (SELECT $draws FROM generate_series(1, $rows) OFFSET 0) s;
-- both sides fit the same rows: id % 5 <> 0 (80 %); scoring covers every row
CREATE VIEW tbench_fit AS SELECT * FROM tbench WHERE id % 5 <> 0;
VACUUM ANALYZE tbench;
SQL

# run SQL in one session; print psql's timings and the session's VmHWM (kB)
session() {
	"${psql[@]}" -q <<SQL
SELECT pg_backend_pid() AS bpid \gset
\setenv MLC_BPID :bpid
\o /dev/null
\timing on
$1
\timing off
\o
\! grep VmHWM /proc/\$MLC_BPID/status
SQL
}
best() { awk '/^Time: / { t[++n] = $2 } END { b = t[2]; for (i = 3; i <= n; i++) if (t[i] < b) b = t[i]; print b }'; }

mlc_header "mlcycle: ml_train gbdt on tbench_fit ($hp)"
out=$(session "SELECT * FROM ml_train('tb', 'tbench_fit', 'yb', algorithm => 'gbdt', hyperparams => '$hp', exclude => '{id}', test_size => 0, deploy => 'most_recent');")
train_hwm=$(awk '/^VmHWM:/ { print $2 }' <<<"$out")
read -r fit_ms train_ms <<<"$("${psql[@]}" -Atq -F ' ' -c "SELECT timings->>'fit_ms', round(train_ms) FROM mlcycle.models ORDER BY model_id DESC LIMIT 1")"
auc=$("${psql[@]}" -Atq -c "SELECT round(ml_roc_auc(ml_predict('tb', t), t.yb)::numeric, 4) FROM tbench t WHERE id % 5 = 0")
echo "fit ${fit_ms} ms (whole ml_train ${train_ms} ms), AUC on the held-out 20 % ${auc}, backend VmHWM ${train_hwm} kB"

mlc_header "mlcycle: SELECT sum(ml_predict('tb', t)) FROM tbench t (serial plan; best of 3 after a warm-up)"
q="SELECT sum(ml_predict('tb', t)) FROM tbench t;"
out=$(session "$q $q $q $q")
score_ms=$(best <<<"$out")
score_hwm=$(awk '/^VmHWM:/ { print $2 }' <<<"$out")
out=$(session "SELECT count(*) FROM tbench t; SELECT count(*) FROM tbench t; SELECT count(*) FROM tbench t; SELECT count(*) FROM tbench t;")
scan_ms=$(best <<<"$out")
echo "scoring ${score_ms} ms (a bare scan of the table: ${scan_ms} ms), backend VmHWM ${score_hwm} kB"

xgb_fit=; xgb_pred=; xgb_rss=; xgb_auc=
if "$python" -c 'import xgboost, numpy, sklearn' 2>/dev/null; then
	mlc_header "XGBoost $("$python" -c 'import xgboost; print(xgboost.__version__)'): hist, nthread=1, the same rows"
	csv=$(mktemp /tmp/trees_bench.XXXXXX.csv)
	chmod 666 "$csv"
	"${psql[@]}" -q -c "\copy (SELECT $feats, yb::int, (id % 5 <> 0)::int FROM tbench ORDER BY id) TO '$csv' WITH (FORMAT csv)"
	xgb_out=$("$python" test/bench/trees_bench_xgb.py "$csv" "$trees")
	rm -f "$csv"
	echo "$xgb_out"
	while read -r key value; do
		case $key in
			fit_s) xgb_fit=$value ;;
			predict_s) xgb_pred=$value ;;
			maxrss_kb) xgb_rss=$value ;;
			auc) xgb_auc=$value ;;
		esac
	done <<<"$xgb_out"
else
	echo "skipping XGBoost: $python with python3-xgboost, numpy and scikit-learn is not installed (apt-get install python3-xgboost python3-sklearn)"
fi

mlc_header "results: $rows rows x 20 features, $trees trees of depth 6, one thread each"
ms() { [ -n "$1" ] && awk -v s="$1" 'BEGIN { printf "%.0f", s * 1000 }' || echo -; }
ratio() { [ -n "$2" ] && [ "$2" != - ] && awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }' || echo -; }
printf '%-46s %12s %12s %7s  %s\n' "measurement" "mlcycle" "XGBoost" "ratio" "target"
printf '%-46s %9.0f ms %9s ms %7s  %s\n' "training: fit on 80 % of the rows" "$fit_ms" "$(ms "$xgb_fit")" "$(ratio "$fit_ms" "$(ms "$xgb_fit")")" "<= 1.5"
printf '%-46s %9.0f ms %9s ms %7s  %s\n' "scoring every row (query / in memory)" "$score_ms" "$(ms "$xgb_pred")" "$(ratio "$score_ms" "$(ms "$xgb_pred")")" "<= 1.0"
printf '%-46s %9s MB %9s MB\n' "peak memory while training (VmHWM / maxrss)" "$((train_hwm / 1024))" "${xgb_rss:+$((xgb_rss / 1024))}"
printf '%-46s %12s %12s\n' "AUC on the other 20 %" "$auc" "${xgb_auc:--}"
