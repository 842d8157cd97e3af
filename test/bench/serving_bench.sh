#!/usr/bin/env bash
# mlcycle serving benchmark: ratios against baselines measured in the same run, one worker.
#   (s) ml_score_table over 1,000,000 rows into a new prediction table  vs
#       INSERT INTO t SELECT id, ml_predict(...) FROM bench (target <= 1.2); also vs the
#       same columns written by hand with INSERT (prediction, label, probabilities, model,
#       times), and a same-day rerun (delete of the day's keys, then the load)
#   (r) canary-routed ml_predict(project, row, key) with a 10% canary  vs  ml_predict(project, row)
#       (target <= 1.1)
# The model: binary logistic regression on 10 numeric + 2 text features, trained on 100,000
# rows. Statements compared with each other alternate in one psql session (a warm-up round,
# then ROUNDS rounds, default 3) and each figure is the best of its rounds. Not part of
# scripts/test.sh: run it by hand.
#
#   BENCH_ROWS  rows scored (default 1000000)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
# shellcheck source=scripts/lib.sh
. scripts/lib.sh

rows=${BENCH_ROWS:-1000000}
db=mlc_serving_bench
mlc_ensure_cluster
psql=("${MLC_PSQL[@]}" -d "$db")
export PGOPTIONS="-c client_min_messages=warning -c max_parallel_workers_per_gather=0"
list() { awk -v sep="$1" -v fmt="$2" 'BEGIN { for (k = 1; k <= 10; k++) printf "%s" fmt, (k > 1 ? sep : ""), k }'; }

mlc_header "generating bench ($rows rows: 10 float8 + 2 text features, setseed 0.42) and training"
mlc_fresh_db "$db" mlcycle
"${psql[@]}" -q <<EOF
SELECT setseed(0.42) \g /dev/null
CREATE TABLE bench AS
SELECT i::bigint AS id, $(list ', ' 'random() * 2 - 1 AS f%d'),
	   (ARRAY['red', 'green', 'blue', 'black'])[1 + floor(random() * 4)::int] AS color,
	   'segment ' || floor(random() * 12)::int AS segment
FROM generate_series(1, $rows) i;
ALTER TABLE bench ADD COLUMN won bool;
UPDATE bench SET won = random() < 1 / (1 + exp(-(f1 + 2 * f2 - f3 + CASE color WHEN 'red' THEN 1 ELSE 0 END)));
ALTER TABLE bench ADD PRIMARY KEY (id);
VACUUM ANALYZE bench;
CREATE TABLE train AS SELECT * FROM bench WHERE id <= 100000;
SET mlcycle.progress = off;
SELECT count(*) FROM ml_train('s', 'train', 'won', exclude => '{id}') \g /dev/null
SELECT count(*) FROM ml_train('s', 'train', 'won', exclude => '{id,segment}', deploy => 'none') \g /dev/null
CREATE TABLE base (id bigint, prediction float8);
CREATE TABLE by_hand (id bigint NOT NULL, project text NOT NULL, model_id bigint NOT NULL, prediction float8,
	label text, probabilities float8[], scored_at timestamptz NOT NULL, scored_on date NOT NULL)
	PARTITION BY RANGE (scored_on);
CREATE TABLE by_hand_today PARTITION OF by_hand FOR VALUES FROM (current_date) TO (current_date + 1);
CREATE FUNCTION run_base() RETURNS void LANGUAGE plpgsql AS \$\$
BEGIN
	TRUNCATE base;
	INSERT INTO base SELECT b.id, ml_predict('s', b) FROM bench b;
END \$\$;
CREATE FUNCTION run_by_hand() RETURNS void LANGUAGE plpgsql AS \$\$
BEGIN
	TRUNCATE by_hand;
	INSERT INTO by_hand SELECT b.id, 's', 1, ml_predict('s', b), ml_predict_class('s', b), ml_predict_proba('s', b),
		now(), current_date FROM bench b;
END \$\$;
CREATE FUNCTION run_score_table() RETURNS bigint LANGUAGE plpgsql AS \$\$
BEGIN
	DROP TABLE IF EXISTS scores;
	RETURN ml_score_table('s', 'bench', 'scores', '{id}');
END \$\$;
EOF

declare -A best_ms
# measure KEY SQL [KEY SQL ...]: in one session, a warm-up round then $ROUNDS rounds, each
# running every statement once in turn (so a change in the machine's load hits all of
# them alike); the best time of each, in ms
ROUNDS=${ROUNDS:-3}
measure() {
	local -a keys=() sqls=()
	local out i
	while [ $# -gt 0 ]; do
		keys+=("$1")
		sqls+=("$2")
		printf '  %-12s %s\n' "$1" "$2"
		shift 2
	done
	out=$({
		printf 'SET mlcycle.progress = off;\n\\o /dev/null\n\\timing on\n'
		for ((r = 0; r <= ROUNDS; r++)); do
			for i in "${!sqls[@]}"; do printf '%s;\n' "${sqls[$i]}"; done
		done
	} | "${psql[@]}" -q)
	for i in "${!keys[@]}"; do
		best_ms[${keys[$i]}]=$(awk -v k="${#keys[@]}" -v j="$i" '/^Time: / { n++; if (n > k && (n - 1) % k == j && (b == "" || $2 < b)) b = $2 } END { print b }' <<<"$out")
	done
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

mlc_header "timing without a canary (best of $ROUNDS rounds after a warm-up; one worker)"
measure base "SELECT run_base()" score "SELECT run_score_table()" by_hand "SELECT run_by_hand()"
measure rerun "SELECT ml_score_table('s', 'bench', 'scores', '{id}')"
measure plain "SELECT sum(ml_predict('s', b)) FROM bench b"
"${psql[@]}" -q -c "SELECT ml_deploy('s', 'canary', 2, traffic => 0.1)" >/dev/null
mlc_header "timing with a 10% canary"
measure routed "SELECT sum(ml_predict('s', b, b.id)) FROM bench b" plain_c "SELECT sum(ml_predict('s', b)) FROM bench b"
measure score_c "SELECT run_score_table()"
share=$("${psql[@]}" -Atq -c "SELECT round(avg((model_id = 2)::int), 4) FROM scores")

mlc_header "results: $rows rows, binary logistic model (10 numeric + 2 text features)"
printf '%-72s %12s\n' "measurement" "best (ms)"
printf '%-72s %12.1f\n' "INSERT INTO base SELECT id, ml_predict('s', b) FROM bench b" "${best_ms[base]}"
printf '%-72s %12.1f\n' "the same columns as a prediction table, written by hand (3 calls/row)" "${best_ms[by_hand]}"
printf '%-72s %12.1f\n' "ml_score_table into a new prediction table" "${best_ms[score]}"
printf '%-72s %12.1f\n' "ml_score_table rerun the same day (every row replaced)" "${best_ms[rerun]}"
printf '%-72s %12.1f\n' "ml_score_table with a 10% canary (canary share $share)" "${best_ms[score_c]}"
printf '%-72s %12.1f\n' "SELECT sum(ml_predict('s', b)) (no canary)" "${best_ms[plain]}"
printf '%-72s %12.1f\n' "SELECT sum(ml_predict('s', b)) (canary deployed, unrouted)" "${best_ms[plain_c]}"
printf '%-72s %12.1f\n' "SELECT sum(ml_predict('s', b, b.id)) (10% canary)" "${best_ms[routed]}"
echo
printf '%-72s %8s  %s\n' "ratio" "value" "target"
printf '%-72s %8s  %s\n' "(s) ml_score_table / INSERT ... SELECT id, ml_predict(...)" "$(ratio "${best_ms[score]}" "${best_ms[base]}")" "<= 1.2"
printf '%-72s %8s  %s\n' "    ml_score_table / the same columns by hand" "$(ratio "${best_ms[score]}" "${best_ms[by_hand]}")" "(report)"
printf '%-72s %8s  %s\n' "    same-day rerun / first run" "$(ratio "${best_ms[rerun]}" "${best_ms[score]}")" "(report)"
printf '%-72s %8s  %s\n' "(r) routed ml_predict / plain ml_predict" "$(ratio "${best_ms[routed]}" "${best_ms[plain_c]}")" "<= 1.1"
