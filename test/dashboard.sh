#!/usr/bin/env bash
# The Grafana dashboard cannot rot: populate a database the way a user would (the
# telco churn data, two models, a canary, batch scoring, labels, an evaluation, a drift
# check, a background job, a retraining policy), then run the SQL of every panel,
# annotation and variable of dashboards/mlcycle.json with Grafana's macros expanded
# ($__timeFilter, $__timeGroupAlias, $project, $prediction_table). Every query must
# succeed and return at least one row.
# Runs under scripts/test.sh (reusing its cluster) or alone.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib.sh
. scripts/lib.sh
mlc_ensure_cluster

psql=("${MLC_PSQL[@]}" -Atq)
export PGOPTIONS="-c client_min_messages=warning"

mlc_fresh_db mlc_dash mlcycle
mlc_load_customers mlc_dash
"${psql[@]}" -d mlc_dash <<'SQL' >/dev/null
SET mlcycle.progress = off;
SELECT model_id FROM ml_train('churn', 'customers', 'churn', exclude => '{id}');
SELECT model_id FROM ml_train('churn', 'customers', 'churn', exclude => '{id,total_charges}', deploy => 'none');
SELECT ml_deploy('churn', 'canary', 2, traffic => 0.2);
SELECT ml_score_table('churn', 'customers', 'churn_scores', '{id}');
CREATE TABLE churn_outcomes AS SELECT id, churn FROM customers WHERE id % 3 = 0;
SELECT count(*) FROM ml_evaluate('churn', 'churn_scores', 'churn_outcomes', '{id}');
SELECT count(*) FROM ml_evaluate('churn', 'customers');
CREATE TABLE customers_now AS SELECT * FROM customers;
UPDATE customers_now SET monthly_charges = monthly_charges * 1.5, tenure = tenure / 2;
SELECT count(*) FROM ml_drift('churn', 'customers_now');
SELECT ml_retrain_policy('churn', 'customers', every => interval '1 day');
SELECT ml_train_async('churn_async', 'customers', 'churn', exclude => '{id}', deploy => 'none') AS job \gset
SELECT status FROM ml_job_wait(:job, '2 minutes');
SQL

"${psql[@]}" -d mlc_dash -v dash="$(cat dashboards/mlcycle.json)" <<'SQL'
-- every query of the dashboard, with Grafana's macros and variables expanded
CREATE TEMP TABLE queries AS
SELECT title, sql FROM (
	SELECT p->>'title' AS title, t->>'rawSql' AS sql
	FROM jsonb_array_elements((:'dash')::jsonb->'panels') p, jsonb_array_elements(p->'targets') t
	UNION ALL
	SELECT 'annotation: ' || (a->>'name'), a->'target'->>'rawSql'
	FROM jsonb_array_elements((:'dash')::jsonb->'annotations'->'list') a
	UNION ALL
	SELECT 'variable: ' || (v->>'name'), v->>'query'
	FROM jsonb_array_elements((:'dash')::jsonb->'templating'->'list') v WHERE v->>'type' = 'query') q;
UPDATE queries SET sql =
	replace(replace(replace(
	regexp_replace(regexp_replace(sql,
		'\$__timeFilter\(([^)]+)\)', '\1 BETWEEN now() - interval ''7 days'' AND now() + interval ''1 minute''', 'g'),
		'\$__timeGroupAlias\(([^,]+),[^)]*\)', 'date_trunc(''hour'', \1) AS time', 'g'),
	'${prediction_table}', 'churn_scores'), '$prediction_table', 'churn_scores'), '$project', 'churn');
DO $$
DECLARE
	q record;
	n bigint;
	failed int := 0;
	total int := 0;
BEGIN
	FOR q IN SELECT * FROM queries LOOP
		total := total + 1;
		BEGIN
			EXECUTE format('SELECT count(*) FROM (%s) q', q.sql) INTO n;
			IF n = 0 THEN
				RAISE WARNING 'FAIL  % returned no rows', q.title;
				failed := failed + 1;
			ELSE
				RAISE WARNING 'PASS  % (% rows)', q.title, n;
			END IF;
		EXCEPTION WHEN OTHERS THEN
			RAISE WARNING 'FAIL  %: % (%)', q.title, SQLERRM, SQLSTATE;
			failed := failed + 1;
		END;
	END LOOP;
	IF failed > 0 OR total < 15 THEN
		RAISE EXCEPTION '% of % dashboard queries failed', failed, total;
	END IF;
	RAISE WARNING 'all % dashboard queries ran and returned rows', total;
END
$$;
SQL
