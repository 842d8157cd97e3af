-- ml_drift: reference profiles stored at training time against the rows of a
-- relation; history in mlcycle.drift_reports / drift_results; NOTIFY
-- mlcycle_drift; and every kind of bad input.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS mlcycle CASCADE;
CREATE EXTENSION mlcycle;
RESET client_min_messages;
SET mlcycle.progress = off;
\set SHOW_CONTEXT never
CREATE TABLE dr_train AS
SELECT i AS id, (i % 100)::float8 AS x, CASE WHEN i % 10 = 0 THEN NULL ELSE i % 7 END AS n,
	   (ARRAY['a', 'b', 'c'])[1 + i % 3] AS cat, i % 2 = 0 AS flag
FROM generate_series(1, 2000) i;
ALTER TABLE dr_train ADD COLUMN y float8;
UPDATE dr_train SET y = 2 * x + coalesce(n, 3) + CASE cat WHEN 'a' THEN 5 ELSE 0 END + (id % 11);
SELECT project, model_id, deployed FROM ml_train('dr', 'dr_train', 'y', exclude => '{id}');
-- the model is format v2 and carries its profiles
SELECT mlcycle.model_info(model)->>'format_version' AS format_version FROM mlcycle.models;

-- the training relation itself: no column drifts
SELECT column_name, kind, method, round(statistic::numeric, 6) AS statistic,
	   round(p_value::numeric, 6) AS p_value, threshold, drifted, severity,
	   reference_rows, current_rows, sampled_rows
FROM ml_drift('dr', 'dr_train');

-- a shifted sample: x moves up, categories change, a new category appears
CREATE TABLE dr_shift AS
SELECT id, x + 30 AS x, n, CASE WHEN id % 5 = 0 THEN 'z' ELSE 'a' END AS cat, flag, y
FROM dr_train WHERE id <= 1000;
SELECT column_name, method, round(statistic::numeric, 6) AS statistic, drifted, severity, details
FROM ml_drift('dr', 'dr_shift') WHERE drifted OR kind = 'dataset';
-- NOTIFY mlcycle_drift, seen by a listener (the PID is masked)
\! psql -X -q -d contrib_regression -c "SET mlcycle.progress = off" -c "LISTEN mlcycle_drift" -c "SELECT count(*) FROM ml_drift('dr', 'dr_shift')" -c "SELECT 1 AS after" | sed -e 's/PID [0-9]*/PID N/' -e 's/"run_id" : [0-9]*/"run_id" : N/'
-- no drift, no notification
\! psql -X -q -d contrib_regression -c "LISTEN mlcycle_drift" -c "SELECT count(*) FROM ml_drift('dr', 'dr_train')" -c "SELECT 1 AS after"

-- history: one report per run, one result per row, and the two views
SELECT run_id, project, model_id, relation, checked_by = current_user AS by_me, reference_rows,
	   current_rows, columns_checked, columns_drifted, round(share_drifted::numeric, 4) AS share,
	   dataset_drift, output_drift, drifted_columns
FROM mlcycle.drift_runs ORDER BY run_id;
SELECT run_id, count(*) AS results, count(*) FILTER (WHERE drifted) AS drifted
FROM mlcycle.drift_history GROUP BY run_id ORDER BY run_id;

-- a current sample smaller than the rows: KS states the sampling error it implies
-- (95% DKW bound: sqrt(ln(40) / 200) = 0.135810 for 100 values)
SELECT column_name, current_rows, sampled_rows, details->>'sampled' AS sampled,
	   round((details->>'statistic_error_95')::numeric, 6) AS statistic_error_95
FROM ml_drift('dr', 'dr_train', options => '{"sample_size": 100}') WHERE method = 'ks';

-- thresholds in options; unknown or out-of-range options
SELECT column_name, method, drifted, severity, threshold
FROM ml_drift('dr', 'dr_train', options => '{"psi_moderate": 0.000001, "psi_significant": 0.5, "drift_share": 1}')
WHERE method IN ('psi') OR kind = 'dataset';
SELECT * FROM ml_drift('dr', 'dr_train', options => '{"pvalue": 0.01}');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT * FROM ml_drift('dr', 'dr_train', options => '{"ks_p_value": 2}');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT * FROM ml_drift('dr', 'dr_train', options => '{"psi_moderate": 0.3, "psi_significant": 0.2}');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT * FROM ml_drift('dr', 'dr_train', options => '{"seed": "x"}');
\echo SQLSTATE :LAST_ERROR_SQLSTATE

-- a missing column is reported and the rest still drift-checked; no output scores
CREATE VIEW dr_missing AS SELECT x, cat, flag FROM dr_train;
SELECT column_name, method, round(statistic::numeric, 6) AS statistic, drifted, severity, current_rows, details
FROM ml_drift('dr', 'dr_missing') WHERE method IN ('missing_column', 'psi') OR kind = 'dataset';
-- all-NULL column: the distribution tests have no data, the null rate drifts
CREATE VIEW dr_nulls AS SELECT x, NULL::int AS n, cat, flag FROM dr_train;
SELECT column_name, method, round(statistic::numeric, 6) AS statistic, drifted, severity
FROM ml_drift('dr', 'dr_nulls') WHERE column_name = 'n';
-- wrong type, empty relation, missing relation, unknown project, model id
CREATE VIEW dr_types AS SELECT x::text AS x, n, cat, flag FROM dr_train;
SELECT * FROM ml_drift('dr', 'dr_types');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
CREATE TABLE dr_empty (LIKE dr_train);
SELECT * FROM ml_drift('dr', 'dr_empty');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT * FROM ml_drift('dr', 'no_such_table');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT * FROM ml_drift('nope', 'dr_train');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT * FROM ml_drift('dr', 'dr_train', 0);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT * FROM ml_drift('dr', 'dr_train', 999);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT * FROM ml_drift(NULL, 'dr_train');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
-- NaN in a current value
CREATE VIEW dr_nan AS SELECT 'NaN'::float8 AS x, n, cat, flag FROM dr_train;
SELECT * FROM ml_drift('dr', 'dr_nan');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
-- errors record nothing
SELECT count(*) AS runs FROM mlcycle.drift_reports;

-- a model from before reference profiles (format v1, made by test/fuzz/gen_seeds
-- --sql: binary logistic on "age" and "plan") loads and predicts as before, but
-- ml_drift refuses it
INSERT INTO mlcycle.projects (name, task) VALUES ('old', 'classification');
INSERT INTO mlcycle.models (project_id, algorithm, task, relation, target, features,
	feature_kinds, classes, positive_class, rows_read, rows_skipped, rows_train, rows_test,
	train_ms, model)
SELECT project_id, 'logistic', 'classification', 'old_rows', 'label', '{age,plan=basic,plan=premium,plan=pro}',
	   '{numeric,one_hot,one_hot,one_hot}', '{no,yes}', 'yes', 0, 0, 0, 0, 0,
	   '\x4d4c43590100000016000000bd0000000203020000000400000002000000010000000100000003000000616765010101000000000000804440ffffffff000000000080444000000000000028400000000004000000706c616e040300010000000000000000000000000000000000000000000000000000f03f03000000050000006261736963070000007072656d69756d0300000070726f020000006e6f03000000796573000000000000d8bfac1c5a643bdfcfbfb0726891ed7cbfbffa7e6abc7493683f508d976e1283c03f06987a72'::bytea
FROM mlcycle.projects WHERE name = 'old';
SELECT ml_deploy('old', 'most_recent') > 0 AS deployed;
SELECT mlcycle.model_info(model)->>'format_version' AS format_version
FROM mlcycle.models m JOIN mlcycle.projects p USING (project_id) WHERE p.name = 'old';
CREATE TABLE old_rows (age int, plan text);
INSERT INTO old_rows VALUES (30, 'basic'), (50, 'pro');
SELECT round(ml_predict('old', o)::numeric, 6) AS p FROM old_rows o;
SELECT * FROM ml_drift('old', 'old_rows');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
