-- Bad input: each gives a clear error with its SQLSTATE and hint, and leaves
-- no catalog row behind.
-- a fresh catalog, so model ids do not depend on the other tests
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS mlcycle CASCADE;
CREATE EXTENSION mlcycle;
RESET client_min_messages;
SET mlcycle.progress = off;
\set SHOW_CONTEXT never
-- try(sql) runs a statement and shows its error as SQLSTATE, message, detail and hint
CREATE FUNCTION try(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	st text; msg text; det text; hnt text;
BEGIN
	EXECUTE q;
	RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL, hnt = PG_EXCEPTION_HINT;
	RETURN st || ': ' || msg || coalesce(nullif(E'\n  DETAIL: ' || det, E'\n  DETAIL: '), '')
		|| coalesce(nullif(E'\n  HINT: ' || hnt, E'\n  HINT: '), '');
END
$$;
CREATE TEMP TABLE catalog_before AS
SELECT (SELECT count(*) FROM mlcycle.projects) AS projects, (SELECT count(*) FROM mlcycle.models) AS models,
	   (SELECT count(*) FROM mlcycle.deployments) AS deployments;
CREATE SEQUENCE good_seq;
CREATE TABLE good (a float8, b text, c int, y float8, label text);
INSERT INTO good SELECT i, CASE WHEN i % 3 = 0 THEN 'p' ELSE 'q' END, i % 5, 2 * i, CASE WHEN i % 2 = 0 THEN 'even' ELSE 'odd' END
FROM generate_series(1, 40) i;
CREATE TABLE empty_t (a float8, y float8);
CREATE TABLE null_target (a float8, y float8);
INSERT INTO null_target SELECT i, NULL FROM generate_series(1, 10) i;
CREATE TABLE one_class (a float8, label text);
INSERT INTO one_class SELECT i, 'same' FROM generate_series(1, 10) i;
CREATE TABLE all_null_feature (a float8, b float8, y float8);
INSERT INTO all_null_feature SELECT i, NULL, i FROM generate_series(1, 10) i;
CREATE TABLE with_nan (a float8, y float8);
INSERT INTO with_nan SELECT i, i FROM generate_series(1, 10) i;
INSERT INTO with_nan VALUES ('NaN', 1);
CREATE TABLE with_inf (a float8, y float8);
INSERT INTO with_inf SELECT i, i FROM generate_series(1, 10) i;
INSERT INTO with_inf VALUES (1, 'Infinity');
CREATE TABLE odd_type (a float8, p point, y float8);
INSERT INTO odd_type SELECT i, point(i, i), i FROM generate_series(1, 10) i;
CREATE TABLE constant_feature (a float8, k int, y float8);
INSERT INTO constant_feature SELECT i, 7, 3 * i FROM generate_series(1, 20) i;
-- a relation that does not exist, and one that is not a relation
SELECT try($$SELECT * FROM ml_train('e', 'no_such_table', 'y')$$);
SELECT try($$SELECT * FROM ml_train('e', 'pg_catalog.no_such', 'y')$$);
SELECT try($$SELECT * FROM ml_train('e', 'good_seq', 'y')$$);
SELECT try($$SELECT * FROM ml_train('e', '', 'y')$$);
SELECT try($$SELECT * FROM ml_train('e', 'bad"name', 'y')$$);
-- target problems
SELECT try($$SELECT * FROM ml_train('e', 'good', 'missing')$$);
SELECT try($$SELECT * FROM ml_train('e', 'null_target', 'y')$$);
SELECT try($$SELECT * FROM ml_train('e', 'empty_t', 'y')$$);
SELECT try($$SELECT * FROM ml_train('e', 'one_class', 'label')$$);
SELECT try($$SELECT * FROM ml_train('e', 'good', 'label', task => 'regression')$$);
SELECT try($$SELECT * FROM ml_train('e', 'with_inf', 'y')$$);
-- feature problems
SELECT try($$SELECT * FROM ml_train('e', 'all_null_feature', 'y')$$);
SELECT try($$SELECT * FROM ml_train('e', 'with_nan', 'y')$$);
SELECT try($$SELECT * FROM ml_train('e', 'odd_type', 'y')$$);
SELECT try($$SELECT * FROM ml_train('e', 'good', 'y', exclude => '{label,nosuch}')$$);
SELECT try($$SELECT * FROM ml_train('e', 'good', 'y', exclude => '{a,b,c,label}')$$);
SELECT try($$SELECT * FROM ml_train('e', 'good', 'y', exclude => ARRAY['label', NULL])$$);
SELECT try($$SELECT * FROM ml_train('e', 'good', 'y', exclude => '{{label},{b}}')$$);
-- options
SELECT try($$SELECT * FROM ml_train('e', 'good', 'y', algorithm => 'xgboost')$$);
SELECT try($$SELECT * FROM ml_train('e', 'good', 'y', algorithm => 'logistic', exclude => '{label}')$$);
SELECT try($$SELECT * FROM ml_train('e', 'good', 'label', algorithm => 'ridge')$$);
SELECT try($$SELECT * FROM ml_train('e', 'good', 'y', algorithm => 'ridge', hyperparams => '{"lambda": 1}')$$);
SELECT try($$SELECT * FROM ml_train('e', 'good', 'y', algorithm => 'ridge', hyperparams => '{"alpha": -1}')$$);
SELECT try($$SELECT * FROM ml_train('e', 'good', 'y', algorithm => 'ridge', hyperparams => '{"alpha": "big"}')$$);
SELECT try($$SELECT * FROM ml_train('e', 'good', 'label', hyperparams => '{"C": 0}')$$);
SELECT try($$SELECT * FROM ml_train('e', 'good', 'y', algorithm => 'elastic_net', hyperparams => '{"l1_ratio": 1.5}', exclude => '{label}')$$);
SELECT try($$SELECT * FROM ml_train('e', 'good', 'y', algorithm => 'lasso', hyperparams => '{"l1_ratio": 0.5}', exclude => '{label}')$$);
SELECT try($$SELECT * FROM ml_train('e', 'good', 'label', algorithm => 'lasso')$$);
SELECT try($$SELECT * FROM ml_train('e', 'good', 'y', algorithm => 'all', hyperparams => '{"alpha": 1}', exclude => '{label}')$$);
SELECT try($$SELECT * FROM ml_train('e', 'good', 'y', algorithm => 'all', search => 'grid', search_params => '{"alpha": [1]}', exclude => '{label}')$$);
SELECT try($$SELECT * FROM ml_train('e', 'good', 'y', search => 'bayes', exclude => '{label}')$$);
SELECT try($$SELECT * FROM ml_train('e', 'good', 'y', search => 'grid', exclude => '{label}')$$);
SELECT try($$SELECT * FROM ml_train('e', 'good', 'y', algorithm => 'ridge', search => 'grid', search_params => '{"alpha": {"min": 1, "max": 2}}', exclude => '{label}')$$);
SELECT try($$SELECT * FROM ml_train('e', 'good', 'y', algorithm => 'ridge', search => 'grid', search_params => '{"lambda": [1, 2]}', exclude => '{label}')$$);
SELECT try($$SELECT * FROM ml_train('e', 'good', 'y', algorithm => 'ridge', search => 'grid', search_params => '{"alpha": [1, 2]}', search_args => '{"metric": "auc"}', exclude => '{label}')$$);
SELECT try($$SELECT * FROM ml_train('e', 'good', 'y', algorithm => 'ridge', search => 'random', search_params => '{"alpha": {"min": 0, "max": 2, "log": true}}', exclude => '{label}')$$);
SELECT try($$SELECT * FROM ml_train('e', 'good', 'y', algorithm => 'ridge', search => 'random', search_params => '{"alpha": [1, 2]}', search_args => '{"n_iter": 0}', exclude => '{label}')$$);
SELECT try($$SELECT * FROM ml_train('e', 'good', 'label', hyperparams => '{"class_weight": "heavy"}')$$);
SELECT try($$SELECT * FROM ml_train('e', 'good', 'label', hyperparams => '{"positive_class": "maybe"}')$$);
SELECT try($$SELECT * FROM ml_train('e', 'good', 'y', hyperparams => '[1, 2]')$$);
SELECT try($$SELECT * FROM ml_train('e', 'good', 'c', task => 'classification', hyperparams => '{"positive_class": "1"}')$$);
SELECT try($$SELECT * FROM ml_train('e', 'good', 'y', task => 'clustering')$$);
SELECT try($$SELECT * FROM ml_train('e', 'good', 'y', test_size => 1)$$);
SELECT try($$SELECT * FROM ml_train('e', 'good', 'y', cv => 1)$$);
SELECT try($$SELECT * FROM ml_train('e', 'one_class', 'a', cv => 9)$$);
SELECT try($$SELECT * FROM ml_train('e', 'good', 'y', test_size => -0.1)$$);
SELECT try($$SELECT * FROM ml_train('e', 'good', 'y', split => 'time')$$);
SELECT try($$SELECT * FROM ml_train('e', 'good', 'y', split => 'stratified')$$);
SELECT try($$SELECT * FROM ml_train('e', 'good', 'y', deploy => 'always')$$);
SELECT try($$SELECT * FROM ml_train('', 'good', 'y')$$);
SELECT try($$SELECT * FROM ml_train(NULL, 'good', 'y')$$);
-- preprocess spec
SELECT try($$SELECT * FROM ml_train('e', 'good', 'y', preprocess => '{"nosuch": {"impute": "mean"}}', exclude => '{label}')$$);
SELECT try($$SELECT * FROM ml_train('e', 'good', 'y', preprocess => '{"a": {"impute": "magic"}}', exclude => '{label}')$$);
SELECT try($$SELECT * FROM ml_train('e', 'good', 'y', preprocess => '{"a": {"scaling": "standard"}}', exclude => '{label}')$$);
SELECT try($$SELECT * FROM ml_train('e', 'good', 'y', preprocess => '{"a": {"scale": "log"}}', exclude => '{label}')$$);
SELECT try($$SELECT * FROM ml_train('e', 'good', 'y', preprocess => '{"b": {"impute": "median"}}', exclude => '{label}')$$);
SELECT try($$SELECT * FROM ml_train('e', 'good', 'y', preprocess => '{"a": {"encode": "one_hot"}}', exclude => '{label}')$$);
SELECT try($$SELECT * FROM ml_train('e', 'good', 'y', preprocess => '{"b": {"scale": "standard"}}', exclude => '{label}')$$);
SELECT try($$SELECT * FROM ml_train('e', 'good', 'y', preprocess => '{"a": "mean"}', exclude => '{label}')$$);
SELECT try($$SELECT * FROM ml_train('e', 'good', 'y', preprocess => '{"a": {"impute": "constant", "fill_value": "x"}}', exclude => '{label}')$$);
-- the memory budget
SET mlcycle.max_train_memory = '1MB';
CREATE TABLE wide AS SELECT i AS a, i AS b, i AS c, i AS d, i AS y FROM generate_series(1, 40000) i;
SELECT * FROM ml_train('e', 'wide', 'y');
RESET mlcycle.max_train_memory;
-- failing at the top level, too, leaves no catalog row behind
SELECT * FROM ml_train('e', 'one_class', 'label');
SELECT * FROM ml_train('e', 'good', 'y', hyperparams => '{"alpha": 1}');
SELECT (SELECT count(*) FROM mlcycle.projects) AS projects, (SELECT count(*) FROM mlcycle.models) AS models,
	   (SELECT count(*) FROM mlcycle.deployments) AS deployments FROM catalog_before
EXCEPT SELECT * FROM catalog_before;

-- a constant feature is not an error: linear least squares gives it coefficient 0
SET mlcycle.progress = off;
SELECT model_id, deployed FROM ml_train('const', 'constant_feature', 'y', preprocess => '{"*": {"scale": "none"}}');
SELECT feature, round(coefficient::numeric, 6) FROM ml_coefficients('const') ORDER BY feature;
SELECT model_id, deployed FROM ml_train('const_ridge', 'constant_feature', 'y', algorithm => 'ridge');

-- prediction errors
SELECT try($$SELECT ml_predict('no_such_project', g) FROM good g LIMIT 1$$);
SELECT model_id, deployed FROM ml_train('undeployed', 'good', 'y', exclude => '{label}', deploy => 'none');
SELECT try($$SELECT ml_predict('undeployed', g) FROM good g LIMIT 1$$);
SELECT model_id, deployed FROM ml_train('ok', 'good', 'y', exclude => '{label}');
SELECT try($$SELECT * FROM ml_train('ok', 'good', 'label')$$);
SELECT try($$SELECT ml_predict('ok', r) FROM (SELECT 1.0 AS a, 'p' AS b) r$$);
SELECT try($$SELECT ml_predict('ok', r) FROM (SELECT 1.0 AS a, 'p' AS b, 'seven' AS c) r$$);
SELECT try($$SELECT ml_predict('ok', r) FROM (SELECT 'NaN'::float8 AS a, 'p' AS b, 1 AS c) r$$);
SELECT try($$SELECT ml_predict('ok', ARRAY[1, 2, 3]::float8[])$$);
SELECT try($$SELECT ml_predict_class('ok', g) FROM good g LIMIT 1$$);
SELECT try($$SELECT ml_predict_proba('ok', g) FROM good g LIMIT 1$$);
SELECT model_id, deployed FROM ml_train('nums', 'good', 'y', exclude => '{label,b}');
SELECT round(ml_predict('nums', ARRAY[1, 2]::float8[])::numeric, 6);
SELECT try($$SELECT ml_predict('nums', ARRAY[1, 2, 3]::float8[])$$);
SELECT try($$SELECT ml_predict('nums', ARRAY[[1, 2], [3, 4]]::float8[])$$);
SELECT try($$SELECT ml_predict('nums', ARRAY['Infinity', 2]::float8[])$$);
SELECT round(ml_predict('nums', ARRAY[NULL, 2]::float8[])::numeric, 3) AS null_imputed;
-- an 'error' imputation refuses NULL at prediction time too
SELECT model_id, deployed FROM ml_train('strict', 'good', 'y', exclude => '{label}', preprocess => '{"a": {"impute": "error"}}');
SELECT try($$SELECT ml_predict('strict', r) FROM (SELECT NULL::float8 AS a, 'p' AS b, 1 AS c) r$$);

-- corrupted model bytes: an error, never a crash
UPDATE mlcycle.models SET model = overlay(model PLACING '\xdeadbeef'::bytea FROM 20)
WHERE model_id = (SELECT max(model_id) FROM mlcycle.models);
SELECT regexp_replace(try($$SELECT ml_predict('strict', g) FROM good g LIMIT 1$$), '[0-9A-F]{8}', 'XXXXXXXX', 'g');
UPDATE mlcycle.models SET model = substring(model FROM 1 FOR 10)
WHERE model_id = (SELECT max(model_id) FROM mlcycle.models);
SELECT regexp_replace(try($$SELECT ml_predict('strict', g) FROM good g LIMIT 1$$), '[0-9A-F]{8}', 'XXXXXXXX', 'g');
UPDATE mlcycle.models SET model = '\x'
WHERE model_id = (SELECT max(model_id) FROM mlcycle.models);
SELECT regexp_replace(try($$SELECT ml_predict('strict', g) FROM good g LIMIT 1$$), '[0-9A-F]{8}', 'XXXXXXXX', 'g');
SELECT try($$SELECT * FROM ml_coefficients('strict')$$);
SELECT try($$SELECT * FROM ml_coefficients(NULL)$$);
SELECT try($$SELECT * FROM ml_coefficients('strict', 1)$$);

-- statement_timeout and cancel interrupt training, and leave nothing behind
SELECT setseed(0.9);
CREATE TABLE slow AS
SELECT random() AS a, random() AS b, random() AS c, random() AS d, random() < 0.5 AS y
FROM generate_series(1, 400000) i;
CREATE TEMP TABLE models_before AS SELECT count(*) AS n FROM mlcycle.models;
SET statement_timeout = '150ms';
SELECT * FROM ml_train('slow', 'slow', 'y', hyperparams => '{"tol": 1e-14}');
RESET statement_timeout;
SELECT (SELECT count(*) FROM mlcycle.models) = n AS no_model_left FROM models_before;
