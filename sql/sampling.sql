-- sampling => 'oversample' | 'undersample' | 'smote': class rebalancing of the
-- rows a classifier is fitted on (seeded), never of the test or held-out rows.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS mlcycle CASCADE;
CREATE EXTENSION mlcycle;
RESET client_min_messages;
SET mlcycle.progress = off;
\set SHOW_CONTEXT never
CREATE FUNCTION try_sampling(q text) RETURNS text LANGUAGE plpgsql AS $$
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
-- 1 in 10 rows is a fraud; fraud shifts both features (fixed seed)
SELECT setseed(0.42);
CREATE TABLE tx AS
SELECT i, fraud, (random() + random() + random() - 1.5) * 2 + CASE WHEN fraud THEN 1.5 ELSE 0 END AS amount,
	   (random() + random() + random() - 1.5) * 2 + CASE WHEN fraud THEN 1.0 ELSE 0 END AS velocity,
	   CASE WHEN random() < 0.5 THEN 'web' ELSE 'store' END AS channel
FROM (SELECT i, i % 10 = 0 AS fraud FROM generate_series(1, 2000) i) s;
-- the same split for every method; the test rows are never resampled
SELECT m.method, r.metrics->'test'->>'rows' AS test_rows, r.metrics->'train'->>'rows' AS train_rows,
	   (r.metrics->'test'->>'recall')::float8 AS recall
INTO TEMP results
FROM (VALUES ('none'), ('oversample'), ('undersample'), ('smote')) m(method),
	 LATERAL ml_train('tx_' || m.method, 'tx', 'fraud', exclude => '{i}', split => 'stratified',
					  sampling => m.method, deploy => 'none') r;
SELECT method, test_rows, train_rows FROM results ORDER BY method;
-- rebalancing lifts the recall of the rare class well above the unbalanced fit
SELECT bool_and(recall > (SELECT recall FROM results WHERE method = 'none') + 0.2) AS recall_lifted
FROM results WHERE method <> 'none';
SELECT p.name, m.split->>'sampling' AS sampling
FROM mlcycle.models m JOIN mlcycle.projects p USING (project_id) ORDER BY m.model_id;
-- SMOTE interpolates between a row and a neighbour of its class: when every rare
-- row is the same point, it makes that point again, so it fits exactly what
-- oversampling fits
CREATE TABLE same AS
SELECT i, i % 10 = 0 AS rare, CASE WHEN i % 10 = 0 THEN 1.0 ELSE (i % 7) / 3.0 END AS a,
	   CASE WHEN i % 10 = 0 THEN -1.0 ELSE (i % 5) / 2.0 END AS b
FROM generate_series(1, 300) i;
SELECT count(*) FROM ml_train('same_over_none', 'same', 'rare', exclude => '{i}', deploy => 'none');
SELECT count(*) FROM ml_train('same_over', 'same', 'rare', exclude => '{i}', sampling => 'oversample', deploy => 'none');
SELECT count(*) FROM ml_train('same_smote', 'same', 'rare', exclude => '{i}', sampling => 'smote', deploy => 'none');
SELECT array_agg(coefficient ORDER BY feature) = (SELECT array_agg(coefficient ORDER BY feature) FROM ml_coefficients('same_smote'))
	   AS smote_equals_oversample,
	   (SELECT array_agg(coefficient ORDER BY feature) FROM ml_coefficients('same_smote'))
	   <> (SELECT array_agg(coefficient ORDER BY feature) FROM ml_coefficients('same_over_none')) AS differs_from_none
FROM ml_coefficients('same_over');
-- cross-validation rebalances only each fold's fit rows: held-out fold sizes add up to the training rows
SELECT (SELECT sum((f->>'rows')::int) FROM jsonb_array_elements(metrics->'cv'->'folds') f) = (metrics->'train'->>'rows')::int
	   AS folds_cover_training
FROM ml_train('tx_cv', 'tx', 'fraud', exclude => '{i}', sampling => 'smote', cv => 3, deploy => 'none');
-- the same seed gives the same model
SELECT a.metrics = b.metrics AS reproducible
FROM ml_train('tx_r1', 'tx', 'fraud', exclude => '{i}', sampling => 'smote', seed => 7, deploy => 'none') a,
	 ml_train('tx_r2', 'tx', 'fraud', exclude => '{i}', sampling => 'smote', seed => 7, deploy => 'none') b;
-- explicit class_weight: weighing a class 2 is fitting on its rows twice (same
-- objective), so the coefficients agree with a table where those rows are duplicated
-- (no scaling, so both fits see the same features)
SELECT setseed(0.1);
CREATE TABLE cw AS
SELECT i, i % 4 = 0 AS yes, random() + CASE WHEN i % 4 = 0 THEN 0.4 ELSE 0 END AS a, random() AS b
FROM generate_series(1, 400) i;
CREATE TABLE cw_dup AS SELECT * FROM cw UNION ALL SELECT * FROM cw WHERE yes;
SELECT m.hyperparams->'class_weight' AS class_weight
FROM ml_train('cw_weighted', 'cw', 'yes', exclude => '{i}', test_size => 0, preprocess => '{"*": {"scale": "none"}}',
			  hyperparams => '{"class_weight": {"true": 2}, "tol": 1e-12}', deploy => 'none') r
JOIN mlcycle.models m USING (model_id);
SELECT count(*) FROM ml_train('cw_duplicated', 'cw_dup', 'yes', exclude => '{i}', test_size => 0,
							  preprocess => '{"*": {"scale": "none"}}', hyperparams => '{"tol": 1e-12}', deploy => 'none');
SELECT feature, abs(w.coefficient - d.coefficient) < 1e-9 AS same_as_duplicated
FROM ml_coefficients('cw_weighted') w JOIN ml_coefficients('cw_duplicated') d USING (feature, class)
ORDER BY feature;
-- bad input, one per line; none leaves a model behind
SET client_min_messages = warning;
-- the one rare row is the latest, so a time-ordered split leaves no rare training row
CREATE TABLE lonely AS SELECT i, i = 1 AS rare, i::float8 AS x, -i AS neg FROM generate_series(1, 40) i;
SELECT count(*) AS models_before FROM mlcycle.models;
SELECT try_sampling($$SELECT ml_train('bad', 'tx', 'amount', sampling => 'smote')$$);
SELECT try_sampling($$SELECT ml_train('bad', 'tx', 'fraud', sampling => 'adasyn')$$);
SELECT try_sampling($$SELECT ml_train('bad', 'lonely', 'rare', exclude => '{i}', test_size => 0, sampling => 'smote')$$);
SELECT try_sampling($$SELECT ml_train('bad', 'lonely', 'rare', exclude => '{i,neg}', sampling => 'oversample', test_size => 0.5, split => 'last', order_by => 'x DESC')$$);
SELECT try_sampling($$SELECT ml_train('bad', 'lonely', 'rare', exclude => '{i,neg}', sampling => 'oversample', test_size => 0.5, split => 'last', order_by => 'neg')$$);
SELECT try_sampling($$SELECT ml_train('bad', 'cw', 'yes', hyperparams => '{"class_weight": {"maybe": 2}}')$$);
SELECT try_sampling($$SELECT ml_train('bad', 'cw', 'yes', hyperparams => '{"class_weight": {"true": 0}}')$$);
SELECT try_sampling($$SELECT ml_train('bad', 'cw', 'yes', hyperparams => '{"class_weight": {"true": -1}}')$$);
SELECT try_sampling($$SELECT ml_train('bad', 'cw', 'yes', hyperparams => '{"class_weight": {"true": "heavy"}}')$$);
SELECT try_sampling($$SELECT ml_train('bad', 'cw', 'yes', hyperparams => '{"class_weight": [2, 1]}')$$);
SELECT try_sampling($$SELECT ml_train('bad', 'cw', 'yes', hyperparams => '{"class_weight": "even"}')$$);
SELECT count(*) AS models_after FROM mlcycle.models;
