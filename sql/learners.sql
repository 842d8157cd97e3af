-- naive_bayes, knn and linear_svm; feature importance; ml_compare and
-- ml_compare_models: behaviour on small data, and bad input (clear errors,
-- never a crash, nothing stored).
-- a fresh catalog, so that model ids do not depend on the other tests
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS mlcycle CASCADE;
CREATE EXTENSION mlcycle;
RESET client_min_messages;
SET mlcycle.progress = off;
\set SHOW_CONTEXT never
-- learners_try(sql) runs a statement and shows its error as SQLSTATE, message, detail and hint
CREATE FUNCTION learners_try(q text) RETURNS text LANGUAGE plpgsql AS $$
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
-- the little-endian bytes of a float8, as the model format stores it
CREATE FUNCTION learners_le8(x float8) RETURNS bytea LANGUAGE sql IMMUTABLE
RETURN (SELECT string_agg(substr(float8send(x), 9 - i, 1), ''::bytea ORDER BY i) FROM generate_series(1, 8) i);
CREATE TABLE lrn (a float8, b float8, c text, y text, v float8);
INSERT INTO lrn
SELECT a, b, c, CASE WHEN a + b + CASE WHEN c = 'x' THEN 3 ELSE 0 END > 10 THEN 'hi' ELSE 'lo' END, 2 * a + b + i % 7
FROM generate_series(1, 80) i,
	 LATERAL (SELECT (i * 37 % 101) / 10.0 AS a, (i * 53 % 97) / 10.0 AS b, (ARRAY['x', 'y', 'z'])[i % 3 + 1] AS c) s;
CREATE TABLE lrn3 AS SELECT a, b, c, CASE WHEN a < 3.5 THEN 'p' WHEN a < 7 THEN 'q' ELSE 'r' END AS k FROM lrn;
CREATE TABLE lrn_one AS SELECT a, b, 'same'::text AS y FROM lrn;
CREATE TEMP TABLE learners_before AS SELECT (SELECT count(*) FROM mlcycle.models) AS models;

-- the three learners on a binary target, with their resolved hyperparameters
SELECT algorithm, task, metrics->>'score_metric' AS metric, round((metrics->>'score')::numeric, 4) AS score
FROM ml_train('lrn_nb', 'lrn', 'y', algorithm => 'naive_bayes', exclude => '{v}');
SELECT algorithm, round((metrics->>'score')::numeric, 4) AS score
FROM ml_train('lrn_knn', 'lrn', 'y', algorithm => 'knn', exclude => '{v}',
			  hyperparams => '{"n_neighbors": 3, "weights": "distance", "metric": "manhattan"}');
SELECT algorithm, round((metrics->>'score')::numeric, 4) AS score
FROM ml_train('lrn_svm', 'lrn', 'y', algorithm => 'linear_svm', exclude => '{v}', hyperparams => '{"C": 0.5}');
SELECT p.name, m.algorithm, m.hyperparams FROM mlcycle.models m JOIN mlcycle.projects p USING (project_id)
WHERE p.name IN ('lrn_nb', 'lrn_knn', 'lrn_svm') ORDER BY p.name;
-- p selects the metric as scikit-learn's minkowski p does
SELECT algorithm FROM ml_train('lrn_knn_p', 'lrn', 'y', algorithm => 'knn', exclude => '{v}',
							   hyperparams => '{"metric": "minkowski", "p": 1}', deploy => 'none');
SELECT m.hyperparams FROM mlcycle.models m JOIN mlcycle.projects p USING (project_id) WHERE p.name = 'lrn_knn_p';

-- scoring: ml_predict is the positive-class probability, ml_predict_class the label
SELECT round(ml_predict('lrn_nb', l)::numeric, 4) AS nb, round(ml_predict('lrn_knn', l)::numeric, 4) AS knn,
	   round(ml_predict('lrn_svm', l)::numeric, 4) AS svm,
	   ml_predict_class('lrn_nb', l) AS nb_class, ml_predict_class('lrn_knn', l) AS knn_class,
	   ml_predict_class('lrn_svm', l) AS svm_class, l.y
FROM lrn l ORDER BY a, b LIMIT 5;
-- probabilities sum to 1, and the class is the most probable one
SELECT count(*) FILTER (WHERE abs(pr[1] + pr[2] - 1) > 1e-12) AS bad_sum,
	   count(*) FILTER (WHERE ml_predict_class('lrn_nb', l) <> (ml_classes('lrn_nb'))[CASE WHEN pr[2] > 0.5 THEN 2 ELSE 1 END]) AS bad_class
FROM lrn l, LATERAL (SELECT ml_predict_proba('lrn_nb', l) AS pr) s;
-- linear_svm: ml_predict is the sigmoid of the decision value, the class its sign
SELECT count(*) FILTER (WHERE (ml_predict('lrn_svm', l) > 0.5) <> (ml_predict_class('lrn_svm', l) = 'lo')) AS disagree
FROM lrn l;

-- a constant feature: the NOTICE says why it cannot help each learner
CREATE TABLE lrn_const AS SELECT a, 7 AS k, y FROM lrn;
SELECT algorithm FROM ml_train('lrn_const', 'lrn_const', 'y', algorithm => 'naive_bayes', deploy => 'none');
SELECT algorithm FROM ml_train('lrn_const', 'lrn_const', 'y', algorithm => 'knn', deploy => 'none');

-- var_smoothing 0 and a feature constant within each class: a row with another value
-- is impossible for every class, and gets the class priors
CREATE TABLE lrn_sep AS SELECT i::float8 AS x, (1 + i % 2)::float8 AS k, CASE WHEN i % 2 = 0 THEN 'a' ELSE 'b' END AS y
FROM generate_series(1, 20) i;
SELECT round((metrics->'train'->>'accuracy')::numeric, 4) AS train_accuracy
FROM ml_train('lrn_sep', 'lrn_sep', 'y', algorithm => 'naive_bayes', hyperparams => '{"var_smoothing": 0}', test_size => 0);
SELECT ml_predict_proba('lrn_sep', r) FROM (SELECT 5::float8 AS x, 5::float8 AS k) r;

-- multiclass, and knn regression
SELECT algorithm, round((metrics->>'score')::numeric, 4) AS f1
FROM ml_train('lrn3', 'lrn3', 'k', algorithm => 'all', test_size => 0.3);
SELECT ml_predict_class('lrn3', l), (SELECT array_agg(round(x::numeric, 4)) FROM unnest(ml_predict_proba('lrn3', l)) x)
FROM lrn3 l ORDER BY a LIMIT 3;
SELECT algorithm, task, round((metrics->>'score')::numeric, 4) AS r2
FROM ml_train('lrn_reg', 'lrn', 'v', algorithm => 'knn', exclude => '{y}', hyperparams => '{"n_neighbors": 4}');
SELECT round(ml_predict('lrn_reg', l)::numeric, 4) FROM lrn l ORDER BY a, b LIMIT 3;
-- algorithm 'all' trains knn for regression too
SELECT algorithm FROM ml_train('lrn_reg_all', 'lrn', 'v', algorithm => 'all', exclude => '{y}', deploy => 'none');
-- a grid search over n_neighbors
SELECT metrics->'search'->'best_params' AS best, metrics->'search'->>'trials' AS trials
FROM ml_train('lrn_knn_search', 'lrn', 'y', algorithm => 'knn', exclude => '{v}', search => 'grid',
			  search_params => '{"n_neighbors": [1, 5, 15]}', deploy => 'none');

-- bad hyperparameters: unknown names list the valid ones; values out of range
SELECT learners_try($$SELECT * FROM ml_train('e', 'lrn', 'y', algorithm => 'knn', hyperparams => '{"n_neighbours": 3}')$$);
SELECT learners_try($$SELECT * FROM ml_train('e', 'lrn', 'y', algorithm => 'naive_bayes', hyperparams => '{"C": 1}')$$);
SELECT learners_try($$SELECT * FROM ml_train('e', 'lrn', 'y', algorithm => 'linear_svm', hyperparams => '{"penalty": "l1"}')$$);
SELECT learners_try($$SELECT * FROM ml_train('e', 'lrn', 'y', algorithm => 'knn', hyperparams => '{"n_neighbors": 0}')$$);
SELECT learners_try($$SELECT * FROM ml_train('e', 'lrn', 'y', algorithm => 'knn', hyperparams => '{"n_neighbors": 2.5}')$$);
SELECT learners_try($$SELECT * FROM ml_train('e', 'lrn', 'y', algorithm => 'knn', hyperparams => '{"weights": "gaussian"}')$$);
SELECT learners_try($$SELECT * FROM ml_train('e', 'lrn', 'y', algorithm => 'knn', hyperparams => '{"metric": "cosine"}')$$);
SELECT learners_try($$SELECT * FROM ml_train('e', 'lrn', 'y', algorithm => 'knn', hyperparams => '{"p": 3}')$$);
SELECT learners_try($$SELECT * FROM ml_train('e', 'lrn', 'y', algorithm => 'naive_bayes', hyperparams => '{"var_smoothing": -1}')$$);
SELECT learners_try($$SELECT * FROM ml_train('e', 'lrn', 'y', algorithm => 'naive_bayes', hyperparams => '{"alpha": 0}')$$);
SELECT learners_try($$SELECT * FROM ml_train('e', 'lrn', 'y', algorithm => 'linear_svm', hyperparams => '{"intercept_scaling": 0}')$$);
SELECT learners_try($$SELECT * FROM ml_train('e', 'lrn', 'y', algorithm => 'linear_svm', hyperparams => '{"C": -1}')$$);
-- n_neighbors larger than the training rows (60 of 80 after the split; fewer in a fold)
SELECT learners_try($$SELECT * FROM ml_train('e', 'lrn', 'y', algorithm => 'knn', hyperparams => '{"n_neighbors": 61}')$$);
SELECT learners_try($$SELECT * FROM ml_train('e', 'lrn', 'y', algorithm => 'knn', hyperparams => '{"n_neighbors": 50}', cv => 5)$$);
-- classification-only learners on a numeric target
SELECT learners_try($$SELECT * FROM ml_train('e', 'lrn', 'v', algorithm => 'naive_bayes')$$);
SELECT learners_try($$SELECT * FROM ml_train('e', 'lrn', 'v', algorithm => 'linear_svm')$$);
-- a target with one class
SELECT learners_try($$SELECT * FROM ml_train('e', 'lrn_one', 'y', algorithm => 'naive_bayes')$$);
SELECT learners_try($$SELECT * FROM ml_train('e', 'lrn_one', 'y', algorithm => 'knn')$$);
SELECT learners_try($$SELECT * FROM ml_train('e', 'lrn_one', 'y', algorithm => 'linear_svm')$$);
-- the training rows a knn model keeps count against mlcycle.max_train_memory
CREATE TABLE lrn_big AS SELECT i::float8 AS a, (i % 7)::float8 AS b, (i % 3)::float8 AS d, (i % 2 = 0) AS y
FROM generate_series(1, 14000) i;
SET mlcycle.max_train_memory = '1MB';
SELECT learners_try($$SELECT * FROM ml_train('e', 'lrn_big', 'y', algorithm => 'knn', test_size => 0)$$);
RESET mlcycle.max_train_memory;
-- no coefficients to show or explain for naive_bayes and knn
SELECT learners_try($$SELECT * FROM ml_coefficients('lrn_nb')$$);
SELECT learners_try($$SELECT * FROM ml_explain('lrn_knn', (SELECT l FROM lrn l LIMIT 1))$$);
SELECT count(*) AS svm_coefficients FROM ml_coefficients('lrn_svm');

-- corrupted learner parameters in a stored model: an ERROR, never a crash
CREATE TEMP TABLE lrn_blobs AS
SELECT p.name, m.model AS b FROM mlcycle.models m JOIN mlcycle.projects p USING (project_id)
JOIN mlcycle.current_deployments d ON d.model_id = m.model_id
WHERE p.name IN ('lrn_nb', 'lrn_knn', 'lrn3');
-- knn: the header n, p, k = 60 training rows, 5 features (a, b, c=x, c=y, c=z), 3 neighbors
SELECT name, position(learners_le8(60) || learners_le8(5) || learners_le8(3) IN b) > 0 AS header_found
FROM lrn_blobs WHERE name = 'lrn_knn';
CREATE TEMP TABLE lrn_bad AS
SELECT 'k above n' AS what, mlcycle.model_reseal(overlay(b PLACING learners_le8(61)
	FROM position(learners_le8(60) || learners_le8(5) || learners_le8(3) IN b) + 16 FOR 8)) AS b
FROM lrn_blobs WHERE name = 'lrn_knn'
UNION ALL
SELECT 'row count', mlcycle.model_reseal(overlay(b PLACING learners_le8(1e12)
	FROM position(learners_le8(60) || learners_le8(5) || learners_le8(3) IN b) FOR 8))
FROM lrn_blobs WHERE name = 'lrn_knn'
UNION ALL
SELECT 'weights', mlcycle.model_reseal(overlay(b PLACING learners_le8(7)
	FROM position(learners_le8(60) || learners_le8(5) || learners_le8(3) IN b) + 24 FOR 8))
FROM lrn_blobs WHERE name = 'lrn_knn'
UNION ALL
SELECT 'naive Bayes kind', mlcycle.model_reseal(overlay(b PLACING learners_le8(2)
	FROM position(learners_le8(2) || learners_le8(5) IN b) + 16 FOR 8))
FROM lrn_blobs WHERE name = 'lrn_nb'
UNION ALL
SELECT 'naive Bayes variance', mlcycle.model_reseal(overlay(b PLACING learners_le8(-1)
	FROM position(learners_le8(2) || learners_le8(5) IN b) + 16 + 5 * 8 + 8 + 5 * 8 FOR 8))
FROM lrn_blobs WHERE name = 'lrn_nb';
SELECT what, learners_try(format('SELECT mlcycle.model_info(%L::bytea)', b)) FROM lrn_bad ORDER BY what;
SELECT what, learners_try(format('SELECT mlcycle.model_predict(%L::bytea, l) FROM lrn l', b)) FROM lrn_bad ORDER BY what;
-- a knn class index out of range: the first row's target, after the 60 x 5 feature values
SELECT learners_try(format('SELECT mlcycle.model_info(%L::bytea)',
	mlcycle.model_reseal(overlay(b PLACING learners_le8(9)
		FROM position(learners_le8(60) || learners_le8(5) || learners_le8(3) IN b) + 40 + 60 * 5 * 8 FOR 8))))
FROM lrn_blobs WHERE name = 'lrn_knn';
-- random damage, half of it resealed: every copy is either refused or loads back to the same bytes
SELECT name, (r->>'iterations')::int = (r->>'accepted')::int + (r->>'rejected')::int AS accounted
FROM (SELECT name, mlcycle.fuzz_model_loader(b, 300, 11) AS r FROM lrn_blobs) s ORDER BY name;

-- ml_naive_bayes_stats: the statistics naive_bayes is fitted from
SELECT jsonb_pretty(ml_naive_bayes_stats(c, ARRAY[a, b], ARRAY[(b > 5)::int])) FROM (VALUES
	(0, 1.0, 2.0), (0, 3.0, 6.0), (1, 5.0, 1.0), (2, 0.5, 9.0)) v(c, a, b);
SELECT learners_try($$SELECT ml_naive_bayes_stats(0, ARRAY[1, NULL]::float8[], NULL) FROM generate_series(1, 2)$$);
SELECT learners_try($$SELECT ml_naive_bayes_stats(g, CASE WHEN g = 0 THEN ARRAY[1.0] ELSE ARRAY[1.0, 2.0] END, NULL) FROM generate_series(0, 1) g$$);
SELECT learners_try($$SELECT ml_naive_bayes_stats(-1, ARRAY[1.0], NULL)$$);
SELECT learners_try($$SELECT ml_naive_bayes_stats(0, ARRAY['Infinity'::float8], NULL)$$);
SELECT learners_try($$SELECT ml_naive_bayes_stats(0, NULL, ARRAY[70000])$$);
-- a parallel plan gives the serial result (integer data: exact sums)
CREATE TABLE lrn_par AS SELECT i % 3 AS c, (i % 11)::float8 AS a, (i % 13)::float8 AS b, i % 4 AS k
FROM generate_series(1, 60000) i;
ANALYZE lrn_par;
CREATE TEMP TABLE lrn_serial AS SELECT ml_naive_bayes_stats(c, ARRAY[a, b], ARRAY[k]) AS s FROM lrn_par;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
EXPLAIN (COSTS OFF) SELECT ml_naive_bayes_stats(c, ARRAY[a, b], ARRAY[k]) FROM lrn_par;
SELECT ml_naive_bayes_stats(c, ARRAY[a, b], ARRAY[k]) = (SELECT s FROM lrn_serial) AS same FROM lrn_par;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;
SELECT a.aggfnoid::regprocedure, a.aggcombinefn <> 0 AS has_combine, a.aggtranstype::regtype
FROM pg_aggregate a WHERE a.aggfnoid = 'ml_naive_bayes_stats'::regproc;

-- feature importance: coefficient (linear learners) and permutation (any)
SELECT method, count(*) AS features, min(rank) AS first, max(rank) AS last
FROM ml_feature_importance('lrn_svm') GROUP BY method ORDER BY method;
SELECT feature, method, rank, importance > 0 AS positive FROM ml_feature_importance('lrn_knn') ORDER BY rank;
SELECT feature, rank FROM ml_feature_importance('lrn_svm') WHERE method = 'coefficient' ORDER BY rank;
SET mlcycle.importance_repeats = 0;
SELECT algorithm FROM ml_train('lrn_noimp', 'lrn', 'y', algorithm => 'logistic', exclude => '{v}');
SELECT count(*) FILTER (WHERE method = 'permutation') AS permutation_rows, count(*) AS all_rows
FROM ml_feature_importance('lrn_noimp');
RESET mlcycle.importance_repeats;
-- the same seed gives the same permutation importance
SELECT algorithm FROM ml_train('lrn_imp2', 'lrn', 'y', algorithm => 'knn', exclude => '{v}',
							   hyperparams => '{"n_neighbors": 3, "weights": "distance", "metric": "manhattan"}');
SELECT count(*) AS differing FROM (
	SELECT feature, importance FROM ml_feature_importance('lrn_imp2')
	EXCEPT
	SELECT feature, importance FROM ml_feature_importance('lrn_knn')) d;
SELECT learners_try($$SELECT * FROM ml_feature_importance('no_such_project')$$);
SELECT learners_try($$SELECT * FROM ml_feature_importance(-5)$$);

-- ml_compare: every model of a project, best first
SELECT algorithm, metric, score IS NOT NULL AS scored, lift IS NOT NULL AS lift, cv_mean IS NULL AS no_cv,
	   model_bytes > 0 AS sized, deployed
FROM ml_compare('lrn3');
SELECT learners_try($$SELECT * FROM ml_compare('no_such_project')$$);

-- ml_compare_models: a paired t-test over the same cross-validation folds
CREATE TEMP TABLE lrn_cv AS
SELECT t.algorithm, t.model_id FROM ml_train('lrn_cv', 'lrn', 'y', algorithm => 'all', exclude => '{v}', cv => 5) t;
SELECT c.metric, c.folds, c.df, round(c.mean_a::numeric, 4) AS mean_a, round(c.mean_b::numeric, 4) AS mean_b,
	   round(c.mean_difference::numeric, 4) AS diff, round(c.t::numeric, 4) AS t, round(c.p_value::numeric, 4) AS p
FROM ml_compare_models((SELECT model_id FROM lrn_cv WHERE algorithm = 'logistic'),
					   (SELECT model_id FROM lrn_cv WHERE algorithm = 'naive_bayes')) c;
SELECT c.metric, c.folds FROM ml_compare_models((SELECT model_id FROM lrn_cv WHERE algorithm = 'knn'),
												(SELECT model_id FROM lrn_cv WHERE algorithm = 'linear_svm'), 'accuracy') c;
SELECT model_id AS other_seed FROM ml_train('lrn_cv', 'lrn', 'y', algorithm => 'logistic', exclude => '{v}', cv => 5,
											seed => 7, deploy => 'none') \gset
SELECT learners_try(format('SELECT * FROM ml_compare_models(%s, %s)',
	(SELECT model_id FROM lrn_cv WHERE algorithm = 'logistic'), :other_seed));
SELECT learners_try(format('SELECT * FROM ml_compare_models(%s, %s)',
	(SELECT model_id FROM lrn_cv WHERE algorithm = 'logistic'),
	(SELECT model_id FROM mlcycle.models m JOIN mlcycle.projects p USING (project_id) WHERE p.name = 'lrn_nb')));
SELECT learners_try(format('SELECT * FROM ml_compare_models(%s, %s, %L)',
	(SELECT model_id FROM lrn_cv WHERE algorithm = 'logistic'),
	(SELECT model_id FROM lrn_cv WHERE algorithm = 'knn'), 'r2'));
SELECT learners_try($$SELECT * FROM ml_compare_models(-1, -2)$$);
SELECT learners_try($$SELECT * FROM ml_compare_models(NULL, 1)$$);
SELECT learners_try($$SELECT * FROM mlcycle.paired_ttest('{1,2,3}', '{1,2}')$$);
SELECT learners_try($$SELECT * FROM mlcycle.paired_ttest('{1}', '{2}')$$);
SELECT learners_try($$SELECT * FROM mlcycle.paired_ttest('{1,NULL}', '{2,3}')$$);
SELECT * FROM mlcycle.paired_ttest('{1,2,3}', '{0,1,2}');

-- the failed calls stored nothing
SELECT (SELECT count(*) FROM mlcycle.models) - models AS models_added,
	   (SELECT count(*) FROM mlcycle.projects WHERE name = 'e') AS project_e
FROM learners_before;
DROP FUNCTION learners_try(text), learners_le8(float8);
