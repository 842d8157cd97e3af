-- split => 'last' with order_by: a time-ordered holdout (the latest rows are
-- the test rows, no shuffling) and forward-chaining cross-validation
-- (scikit-learn's TimeSeriesSplit), whatever the physical row order.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS mlcycle CASCADE;
CREATE EXTENSION mlcycle;
RESET client_min_messages;
SET mlcycle.progress = off;
\set SHOW_CONTEXT never
CREATE FUNCTION try_split(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	st text; msg text; hnt text;
BEGIN
	EXECUTE q;
	RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, hnt = PG_EXCEPTION_HINT;
	RETURN st || ': ' || msg || coalesce(nullif(E'\n  HINT: ' || hnt, E'\n  HINT: '), '');
END
$$;
-- y = 2x + 1 until t = 150, then y = 2x + 101; rows stored in a scrambled order
CREATE TABLE shift (t int, x float8, y float8);
INSERT INTO shift
SELECT t, x, CASE WHEN t <= 150 THEN 2 * x + 1 ELSE 2 * x + 101 END
FROM (SELECT t, ((t * 37) % 101)::float8 AS x FROM generate_series(1, 200) t) s
ORDER BY (t * 7919) % 200;
-- the 50 latest rows are held out: the model learns the old regime exactly and misses by 100
SELECT algorithm, (metrics->'test'->>'rows')::int AS test_rows,
	   abs((metrics->'test'->>'mae')::float8 - 100) < 1e-6 AS mae_is_the_shift,
	   (metrics->'train'->>'rmse')::float8 < 1e-6 AS train_exact
FROM ml_train('shift', 'shift', 'y', exclude => '{t}', split => 'last', order_by => 't', deploy => 'none');
SELECT split, rows_train, rows_test FROM mlcycle.models WHERE model_id = 1;
-- a random split mixes both regimes into training: no exact fit
SELECT (metrics->'train'->>'rmse')::float8 > 1 AS random_split_mixes
FROM ml_train('shift_random', 'shift', 'y', exclude => '{t}', deploy => 'none');
-- forward chaining: the shift at t = 141 shows only in the last fold; fold sizes are
-- scikit-learn's TimeSeriesSplit(n_splits=3) on 150 rows: blocks of 150 // 4 = 37,
-- fitted on the first 39, 76 and 113 rows
CREATE TABLE shift_cv AS SELECT t, x, CASE WHEN t <= 140 THEN 2 * x + 1 ELSE 2 * x + 101 END AS y FROM shift;
SELECT f.i, (f.fold->>'fit_rows')::int AS fit_rows, (f.fold->>'rows')::int AS rows,
	   (f.fold->>'mae')::float8 > 1 AS misses
FROM ml_train('shift_cv', 'shift_cv', 'y', exclude => '{t}', split => 'last', order_by => 't', cv => 3, deploy => 'none') m,
	 jsonb_array_elements(m.metrics->'cv'->'folds') WITH ORDINALITY AS f(fold, i)
ORDER BY f.i;
SELECT metrics->'cv'->'forward_chaining' AS forward, metrics->'cv'->'stratified' AS stratified
FROM mlcycle.models WHERE model_id = 3;
-- a hyperparameter search cross-validates each trial on the same forward-chaining folds
SELECT algorithm, metrics->'search'->>'best_params' IS NOT NULL AS searched
FROM ml_train('shift_search', 'shift_cv', 'y', algorithm => 'ridge', exclude => '{t}', split => 'last', order_by => 't',
			  search => 'grid', search_params => '{"alpha": [0.01, 10]}', deploy => 'none');
SELECT count(*) AS trials, bool_and((cv->>'forward_chaining')::bool) AS forward,
	   bool_and(jsonb_array_length(cv->'folds') = 3) AS three_folds
FROM mlcycle.search_trials WHERE model_id = 4;
-- order_by may be an excluded column, a timestamp, quoted; NULL order values sort first (training)
CREATE TABLE "Events" ("Seen At" timestamptz, x float8, label text);
INSERT INTO "Events"
SELECT CASE WHEN i % 10 = 0 THEN NULL ELSE timestamptz '2026-01-01' + i * interval '1 hour' END,
	   i % 7, CASE WHEN i % 7 < 3 THEN 'low' ELSE 'high' END
FROM generate_series(1, 80) i;
SELECT task, (metrics->'test'->>'rows')::int AS test_rows
FROM ml_train('events', '"Events"', 'label', exclude => '{Seen At}', split => 'last', order_by => 'Seen At', test_size => 0.2);
SELECT count(*) AS scored, bool_and(p BETWEEN 0 AND 1) AS probabilities
FROM (SELECT ml_predict('events', e) AS p FROM "Events" e) s;
-- bad input, one per line; none leaves a model behind
SET client_min_messages = warning;
SELECT count(*) AS models_before FROM mlcycle.models;
SELECT try_split($$SELECT ml_train('bad', 'shift', 'y', split => 'last')$$);
SELECT try_split($$SELECT ml_train('bad', 'shift', 'y', order_by => 't')$$);
SELECT try_split($$SELECT ml_train('bad', 'shift', 'y', split => 'stratified', order_by => 't')$$);
SELECT try_split($$SELECT ml_train('bad', 'shift', 'y', split => 'last', order_by => 'when')$$);
SELECT try_split($$SELECT ml_train('bad', 'shift', 'y', split => 'last', order_by => 't"; DROP TABLE shift; --')$$);
SELECT try_split($$SELECT ml_train('bad', 'shift', 'y', split => 'last', order_by => 'y')$$);
SELECT try_split($$SELECT ml_train('bad', 'shift', 'y', split => 'latest', order_by => 't')$$);
SELECT try_split($$SELECT ml_train('bad', '(SELECT 1) s', 'y', split => 'last', order_by => 't')$$);
SELECT try_split($$SELECT ml_train('bad', 'shift', 'y', split => 'last', order_by => 't', test_size => 0.98, cv => 3)$$);
SELECT count(*) AS models_after FROM mlcycle.models;
SELECT count(*) AS shift_rows FROM shift;
