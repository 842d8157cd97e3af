-- The planner passes a table's columns to ml_predict, ml_predict_class and
-- ml_predict_proba in place of its whole row (mlcycle.predict_support): the
-- same results, where a whole row and its columns mean the same.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS mlcycle CASCADE;
CREATE EXTENSION mlcycle;
RESET client_min_messages;
SET mlcycle.progress = off;
\set SHOW_CONTEXT never
CREATE SCHEMA pc;
SET search_path = pc, public;
SELECT setseed(0.21);
CREATE TABLE pc_rows AS
SELECT i AS id, CASE WHEN i % 13 = 0 THEN NULL ELSE random() * 10 END AS x,
	   (i % 7)::int AS n, (ARRAY['red', 'green', 'blue'])[1 + i % 3] AS color, i % 4 = 0 AS flag
FROM generate_series(1, 600) i;
ALTER TABLE pc_rows ADD COLUMN gone int, ADD COLUMN y float8, ADD COLUMN won bool, ADD COLUMN kind text;
ALTER TABLE pc_rows DROP COLUMN gone;
ALTER TABLE pc_rows ADD PRIMARY KEY (id);
UPDATE pc_rows SET y = coalesce(x, 5) * 2 + n - (color = 'red')::int + random(),
	won = coalesce(x, 5) + random() * 4 > 7, kind = (ARRAY['a', 'b', 'c'])[1 + (n + (x > 5)::int) % 3];
SELECT count(*) FROM ml_train('pc_reg', 'pc_rows', 'y', exclude => '{id,won,kind}');
SELECT count(*) FROM ml_train('pc_bin', 'pc_rows', 'won', exclude => '{id,y,kind}');
SELECT count(*) FROM ml_train('pc_multi', 'pc_rows', 'kind', exclude => '{id,y,won}', algorithm => 'gbdt',
							  hyperparams => '{"n_estimators": 5}');
-- a table's row is passed as its columns (the dropped one is not among them)
EXPLAIN (VERBOSE, COSTS OFF)
SELECT ml_predict('pc_reg', t), ml_predict_class('pc_bin', t), ml_predict_proba('pc_multi', t) FROM pc_rows t;
-- the same values as scoring the whole row (a subquery's row is not rewritten)
SELECT count(*) AS rows,
	   bool_and(ml_predict('pc_reg', t) = (SELECT ml_predict('pc_reg', s) FROM (SELECT * FROM pc_rows OFFSET 0) s WHERE s.id = t.id)) AS value,
	   bool_and(ml_predict('pc_bin', t) = (SELECT ml_predict('pc_bin', s) FROM (SELECT * FROM pc_rows OFFSET 0) s WHERE s.id = t.id)) AS probability,
	   bool_and(ml_predict_class('pc_bin', t) = (SELECT ml_predict_class('pc_bin', s) FROM (SELECT * FROM pc_rows OFFSET 0) s WHERE s.id = t.id)) AS class,
	   bool_and(ml_predict_proba('pc_multi', t) = (SELECT ml_predict_proba('pc_multi', s) FROM (SELECT * FROM pc_rows OFFSET 0) s WHERE s.id = t.id)) AS proba
FROM pc_rows t;
SELECT bool_and(ml_predict('pc_reg', t) = mlcycle.model_predict(m.model, t)) AS same_as_the_bytes
FROM pc_rows t, mlcycle.models m WHERE m.project_id = mlcycle.project_id('pc_reg');
-- ml_score_table's scoring of a row (mlcycle.score_row, routed by key) takes the columns too,
-- with a canary the same model for each key
SELECT model_id AS challenger FROM ml_train('pc_bin', 'pc_rows', 'won', exclude => '{id,y,kind,n}', deploy => 'none') \gset
SELECT ml_deploy('pc_bin', 'canary', :challenger, traffic => 0.3) > 0 AS canary;
EXPLAIN (VERBOSE, COSTS OFF) SELECT mlcycle.score_row('pc_bin', t, t.id) FROM pc_rows t;
SELECT count(*) AS rows, count(DISTINCT (mlcycle.score_row('pc_bin', t, t.id)).model_id) AS models,
	   bool_and(mlcycle.score_row('pc_bin', t, t.id) =
				(SELECT mlcycle.score_row('pc_bin', s, s.id) FROM (SELECT * FROM pc_rows OFFSET 0) s WHERE s.id = t.id)) AS same
FROM pc_rows t;
EXPLAIN (VERBOSE, COSTS OFF)
SELECT ml_predict('pc_bin', t, t.id), ml_predict_class('pc_bin', t, t.id), ml_predict_proba('pc_bin', t, t.id) FROM pc_rows t;
SELECT bool_and(ml_predict('pc_bin', t, t.id) = (SELECT ml_predict('pc_bin', s, s.id) FROM (SELECT * FROM pc_rows OFFSET 0) s WHERE s.id = t.id)) AS value,
	   bool_and(ml_predict_class('pc_bin', t, t.id) = (SELECT ml_predict_class('pc_bin', s, s.id) FROM (SELECT * FROM pc_rows OFFSET 0) s WHERE s.id = t.id)) AS class,
	   bool_and(ml_predict_proba('pc_bin', t, t.id) = (SELECT ml_predict_proba('pc_bin', s, s.id) FROM (SELECT * FROM pc_rows OFFSET 0) s WHERE s.id = t.id)) AS proba,
	   count(DISTINCT ml_predict('pc_bin', t, t.id) = ml_predict('pc_bin', t)) AS both_models_used
FROM pc_rows t;
SELECT ml_score_table('pc_bin', 'pc_rows', 'pc_scores', '{id}');
SELECT bool_and(s.model_id = ml_route('pc_bin', t.id) AND s.prediction = ml_predict('pc_bin', t, t.id)) AS stored
FROM pc_scores s JOIN pc_rows t USING (id);
-- left as a whole row: the nullable side of an outer join (a missing row scores NULL),
-- GROUP BY
EXPLAIN (VERBOSE, COSTS OFF)
SELECT ml_predict('pc_reg', t) FROM (VALUES (1), (1000)) v(id) LEFT JOIN pc_rows t USING (id);
SELECT v.id, ml_predict('pc_reg', t) IS NULL AS is_null
FROM (VALUES (1), (1000)) v(id) LEFT JOIN pc_rows t USING (id) ORDER BY v.id;
EXPLAIN (VERBOSE, COSTS OFF) SELECT t.id, ml_predict('pc_reg', t) FROM pc_rows t GROUP BY t.id;
SELECT count(*) FROM (SELECT t.id, ml_predict('pc_reg', t) FROM pc_rows t GROUP BY t.id) g;
-- a generic plan prepared before another model (on fewer columns) is deployed scores with
-- the new one: every column of the table is passed, whatever the model reads
SET plan_cache_mode = force_generic_plan;
PREPARE pc_q AS SELECT round(ml_predict('pc_reg', t)::numeric, 10) AS v FROM pc_rows t WHERE id = $1;
EXECUTE pc_q(5) \gset first_
SELECT count(*) FROM ml_train('pc_reg', 'pc_rows', 'y', exclude => '{id,won,kind,color,x}', deploy => 'most_recent');
EXECUTE pc_q(5) \gset second_
SELECT :'first_v' <> :'second_v' AS changed,
	   :'second_v' = round(mlcycle.model_predict(m.model, t)::numeric, 10)::text AS new_model
FROM pc_rows t, mlcycle.models m
WHERE t.id = 5 AND m.model_id = (SELECT model_id FROM mlcycle.current_deployments
								 WHERE project_id = mlcycle.project_id('pc_reg'));
RESET plan_cache_mode;
-- errors are those of the whole row: a missing feature column, one of another type
CREATE TABLE pc_short AS SELECT id, n, color, flag FROM pc_rows;
SELECT ml_predict('pc_bin', t) FROM pc_short t LIMIT 1;
CREATE TABLE pc_typed AS SELECT id, x::text AS x, n, color, flag FROM pc_rows;
SELECT ml_predict('pc_bin', t) FROM pc_typed t LIMIT 1;
SELECT ml_predict(NULL, t) FROM pc_rows t LIMIT 1;
-- a table with more columns than a call takes is scored as a whole row
SELECT format('CREATE TABLE pc_wide AS SELECT id, x, n, color, flag, %s FROM pc_rows',
			  string_agg(format('%s AS c%s', i, i), ', ')) FROM generate_series(1, 100) i \gexec
EXPLAIN (VERBOSE, COSTS OFF) SELECT ml_predict('pc_bin', t) IS NOT NULL FROM pc_wide t LIMIT 1;
SELECT bool_and(ml_predict('pc_bin', w) = ml_predict('pc_bin', t)) AS wide_same
FROM pc_wide w JOIN pc_rows t USING (id);
DROP SCHEMA pc CASCADE;
