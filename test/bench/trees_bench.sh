#!/usr/bin/env bash
# Tree benchmark: mlcycle's gbdt against XGBoost 1.7 (tree_method 'hist'), single thread
# on both sides, on the same generated rows (see test/bench/README.md, "Trees"):
#   training   ml_train gbdt fit time        / XGBClassifier.fit, nthread=1   (target <= 1.5)
#   scoring    sum(ml_predict(...)) in a query / XGBClassifier.predict_proba   (target <= 1.0)
#   memory     the backend's VmHWM            / the python process's ru_maxrss
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
"${psql[@]}" -q <<EOF
SELECT setseed(0.42) \g /dev/null
CREATE TABLE tbench AS
SELECT $feats,
       -- a label drawn from the logistic of a non-linear function of f1..f8
       random() < 1 / (1 + exp(-(0.3 + 2 * f1 - 1.5 * f2 * f3 + CASE WHEN f4 > 0.2 THEN 1 ELSE -1 END
                                 + f5 * f5 - 0.7 * f6 + 0.5 * f7 * f8))) AS yb
FROM (SELECT $draws FROM generate_series(1, $rows) OFFSET 0) s;
VACUUM ANALYZE tbench;
