-- ml_train → deploy → ml_predict on generated data (fixed seed) and on the
-- shipped penguins data.  Numbers are compared as booleans with a tolerance.
-- a fresh catalog, so model ids do not depend on the other tests
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS mlcycle CASCADE;
CREATE EXTENSION mlcycle;
RESET client_min_messages;
SET mlcycle.progress = off;
\set SHOW_CONTEXT never
SELECT setseed(0.5);
CREATE TABLE houses AS
SELECT i AS id,
	   round((50 + random() * 150)::numeric, 1) AS area,
	   (1 + floor(random() * 5))::int AS rooms,
	   (ARRAY['north', 'south', 'east'])[1 + floor(random() * 3)::int] AS district,
	   random() < 0.3 AS garage,
	   date '2020-01-01' + (random() * 1000)::int AS listed
FROM generate_series(1, 500) i;
ALTER TABLE houses ADD COLUMN price float8;
UPDATE houses SET price = 1000 * area + 5000 * rooms
	+ CASE district WHEN 'north' THEN 20000 WHEN 'south' THEN 0 ELSE 10000 END
	+ 8000 * garage::int + (listed - date '2020-01-01') * 3 + (random() - 0.5) * 2000;
UPDATE houses SET rooms = NULL WHERE id % 17 = 0;
UPDATE houses SET district = NULL WHERE id % 23 = 0;
UPDATE houses SET price = NULL WHERE id % 50 = 0;

-- regression: auto picks linear; numeric, int, text, bool and date features
SELECT project, algorithm, task, deployed,
	   (metrics->'test'->>'r2')::float8 > 0.98 AS good_r2,
	   metrics->>'evaluated_on' AS evaluated_on, metrics->>'score_metric' AS score_metric
FROM ml_train('price', 'houses', 'price', exclude => '{id}');
SELECT rows_read, rows_skipped, rows_train, rows_test, features, feature_kinds
FROM mlcycle.models WHERE model_id = 1;
SELECT preprocess->'district' AS district, preprocess->'listed'->>'kind' AS listed_kind FROM mlcycle.models WHERE model_id = 1;

-- scoring inside a query: one number per row, no NULLs from NULL features
SELECT count(*), count(ml_predict('price', h)) FROM houses h;
-- predictions reproduce the stored training metrics (test_size 0: metrics on the training rows)
SELECT algorithm, deployed, metrics->>'evaluated_on' AS evaluated_on
FROM ml_train('price_all', 'houses', 'price', algorithm => 'ridge', hyperparams => '{"alpha": 0.5}',
			  exclude => '{id}', test_size => 0);
SELECT abs(1 - sum((price - ml_predict('price_all', h))^2) / sum((price - a.m)^2)
		   - (SELECT (metrics->'train'->>'r2')::float8 FROM mlcycle.models WHERE model_id = 2)) < 1e-9 AS r2_matches
FROM houses h, (SELECT avg(price) AS m FROM houses) a WHERE price IS NOT NULL;
-- every model also scores the trivial baseline (the training mean) on the evaluated rows
SELECT abs((metrics->'baseline'->>'mae')::float8 - (SELECT avg(abs(price - m)) FROM houses, (SELECT avg(price) AS m FROM houses) a)) < 1e-9 AS baseline_mae,
	   abs((metrics->'baseline'->>'r2')::float8) < 1e-12 AS baseline_r2_zero,
	   abs((metrics->>'lift')::float8 - ((metrics->>'score')::float8 - (metrics->>'baseline_score')::float8)) < 1e-12 AS lift
FROM mlcycle.models WHERE model_id = 2;
-- NULL is imputed with the stored fill value; an unseen category scores as all-zero one-hot
SELECT abs(ml_predict('price', r1) - ml_predict('price', r2)) < 1e-9 AS null_imputed
FROM (SELECT 120.0 AS area, NULL::int AS rooms, 'north' AS district, true AS garage, date '2021-06-01' AS listed) r1,
	 (SELECT 120.0 AS area, (SELECT (preprocess->'rooms'->>'fill_value')::float8 FROM mlcycle.models WHERE model_id = 1) AS rooms,
			 'north' AS district, true AS garage, date '2021-06-01' AS listed) r2;
SELECT ml_predict('price', r) IS NOT NULL AS unseen_ok
FROM (SELECT 120.0 AS area, 3 AS rooms, 'west' AS district, true AS garage, date '2021-06-01' AS listed, 'extra' AS ignored) r;
-- lasso: a large alpha zeroes every coefficient and predicts the training mean
SELECT algorithm, deployed FROM ml_train('price_lasso', 'houses', 'price', algorithm => 'lasso',
										 hyperparams => '{"alpha": 1e9}', exclude => '{id}', test_size => 0, deploy => 'none');
SELECT count(*) FILTER (WHERE feature <> '(intercept)' AND coefficient <> 0) AS nonzero,
	   abs(max(coefficient) FILTER (WHERE feature = '(intercept)') - (SELECT avg(price) FROM houses)) < 1e-6 AS intercept_is_mean
FROM ml_coefficients('price_lasso');
SELECT algorithm, deployed FROM ml_train('price_enet', 'houses', 'price', algorithm => 'elastic_net',
										 hyperparams => '{"alpha": 0.01, "l1_ratio": 0.9}', exclude => '{id}', deploy => 'none');
SELECT hyperparams, (metrics->'test'->>'r2')::float8 > 0.98 AS good_r2 FROM mlcycle.models ORDER BY model_id DESC LIMIT 1;

-- algorithm => 'all': every regression learner on the same split; the best is deployed
CREATE TEMP TABLE all_run AS
SELECT * FROM ml_train('price_all_learners', 'houses', 'price', algorithm => 'all', exclude => '{id}');
SELECT algorithm, deployed,
	   (metrics->>'score')::float8 = (SELECT max((metrics->>'score')::float8) FROM all_run) AS best,
	   metrics->'test'->>'rows' = (SELECT min(metrics->'test'->>'rows') FROM all_run) AS same_split
FROM all_run ORDER BY model_id;

-- numeric features as an array, in training order
CREATE TABLE lin AS SELECT i AS x1, (i * 7 % 11)::float8 AS x2, 3 * i - 2 * (i * 7 % 11) + 5 AS y
FROM generate_series(1, 40) i;
SELECT algorithm, deployed FROM ml_train('lin', 'lin', 'y', preprocess => '{"*": {"scale": "none"}}');
SELECT round(ml_predict('lin', ARRAY[10, 4]::float8[])::numeric, 6) AS array_form,
	   round(ml_predict('lin', l)::numeric, 6) AS row_form
FROM (SELECT 10 AS x1, 4::float8 AS x2) l;
SELECT feature, round(coefficient::numeric, 6) FROM ml_coefficients('lin') ORDER BY feature;

-- binary classification: positive class, probabilities, labels as in the data
SELECT setseed(0.25);
CREATE TABLE leads AS
SELECT i AS id, random() * 10 AS visits, (ARRAY['web', 'ads', 'mail'])[1 + floor(random() * 3)::int] AS source,
	   random() AS noise
FROM generate_series(1, 600) i;
ALTER TABLE leads ADD COLUMN bought text;
UPDATE leads SET bought = CASE WHEN random() < 1 / (1 + exp(-(visits - 5 + CASE source WHEN 'ads' THEN 1 ELSE 0 END))) THEN 'Yes' ELSE 'No' END;
SELECT project, algorithm, task, deployed, (metrics->'test'->>'roc_auc')::float8 > 0.8 AS good_auc,
	   (metrics->'test'->>'accuracy')::float8 > 0.7 AS good_accuracy, metrics->>'score_metric' AS score_metric
FROM ml_train('leads', 'leads', 'bought', exclude => '{id}', split => 'stratified');
SELECT classes, positive_class FROM mlcycle.models WHERE project_id = (SELECT project_id FROM mlcycle.projects WHERE name = 'leads');
-- the baseline predicts the training class frequencies: ROC AUC one half, accuracy the majority share
SELECT (metrics->'baseline'->>'roc_auc')::float8 = 0.5 AS baseline_auc,
	   (metrics->'baseline'->>'accuracy')::float8 BETWEEN 0.4 AND 0.6 AS baseline_accuracy,
	   (metrics->>'lift')::float8 > 0.3 AS lift
FROM mlcycle.models WHERE project_id = (SELECT project_id FROM mlcycle.projects WHERE name = 'leads');
SELECT ml_classes('leads');
SELECT bool_and(abs(ml_predict('leads', l) - (ml_predict_proba('leads', l))[2]) < 1e-12) AS proba_matches,
	   bool_and(ml_predict_class('leads', l) = CASE WHEN ml_predict('leads', l) > 0.5 THEN 'Yes' ELSE 'No' END) AS class_matches,
	   bool_and(abs((ml_predict_proba('leads', l))[1] + (ml_predict_proba('leads', l))[2] - 1) < 1e-12) AS sums_to_one
FROM leads l;
-- the positive class can be chosen
SELECT deployed FROM ml_train('leads_no', 'leads', 'bought', exclude => '{id}', hyperparams => '{"positive_class": "No"}');
SELECT positive_class, hyperparams FROM mlcycle.models ORDER BY model_id DESC LIMIT 1;
-- class_weight balanced and C are accepted and stored
SELECT deployed FROM ml_train('leads_bal', 'leads', 'bought', exclude => '{id}', algorithm => 'logistic',
							  hyperparams => '{"C": 0.5, "class_weight": "balanced"}');
SELECT hyperparams FROM mlcycle.models ORDER BY model_id DESC LIMIT 1;
-- same seed, same split, same model
SELECT deployed FROM ml_train('leads_seed', 'leads', 'bought', exclude => '{id}', seed => 7, deploy => 'none');
SELECT deployed FROM ml_train('leads_seed', 'leads', 'bought', exclude => '{id}', seed => 7, deploy => 'none');
SELECT deployed FROM ml_train('leads_seed', 'leads', 'bought', exclude => '{id}', seed => 8, deploy => 'none');
SELECT a.model = b.model AS same_seed_same_model, a.metrics = b.metrics AS same_metrics, a.model <> c.model AS other_seed_differs
FROM mlcycle.models a, mlcycle.models b, mlcycle.models c
WHERE a.model_id = (SELECT max(model_id) - 2 FROM mlcycle.models) AND b.model_id = a.model_id + 1 AND c.model_id = a.model_id + 2;

-- cross-validation on the training rows: k folds, stratified for classification
SELECT deployed FROM ml_train('leads_cv', 'leads', 'bought', exclude => '{id}', cv => 4, deploy => 'none');
SELECT metrics->'cv'->>'k' AS k, metrics->'cv'->>'stratified' AS stratified,
	   (SELECT sum((f->>'rows')::int) FROM jsonb_array_elements(metrics->'cv'->'folds') f) = rows_train AS folds_cover_training_rows,
	   (SELECT bool_and(abs(avg - (metrics->'cv'->'mean'->>k)::float8) < 1e-12
						AND abs(sd - (metrics->'cv'->'std'->>k)::float8) < 1e-9)
		FROM (SELECT e.key AS k, avg(e.value::float8) AS avg, stddev_pop(e.value::float8) AS sd
			  FROM jsonb_array_elements(metrics->'cv'->'folds') a(f), jsonb_each_text(a.f) e
			  WHERE e.key <> 'rows' GROUP BY e.key) s) AS mean_and_std,
	   (metrics->'cv'->'mean'->>'roc_auc')::float8 > 0.8 AS good_cv_auc
FROM mlcycle.models ORDER BY model_id DESC LIMIT 1;
SELECT deployed FROM ml_train('lin_cv', 'lin', 'y', cv => 3, preprocess => '{"*": {"scale": "none"}}', deploy => 'none');
SELECT metrics->'cv'->>'stratified' AS stratified, round((metrics->'cv'->'mean'->>'r2')::numeric, 6) AS cv_r2,
	   timings ? 'read_fit_ms' AS one_pass
FROM mlcycle.models ORDER BY model_id DESC LIMIT 1;

-- hyperparameter search: every trial cross-validated on the same folds, the best refitted
SELECT deployed FROM ml_train('leads_grid', 'leads', 'bought', exclude => '{id}', deploy => 'none', search => 'grid',
							  search_params => '{"C": [0.001, 0.1, 10], "class_weight": [null, "balanced"]}');
SELECT m.metrics->'search'->>'method' AS method, m.metrics->'search'->>'trials' AS trials,
	   (SELECT count(*) FROM mlcycle.search_trials t WHERE t.model_id = m.model_id) AS recorded,
	   (m.metrics->'search'->>'best_score')::float8 = (SELECT max(score) FROM mlcycle.search_trials t WHERE t.model_id = m.model_id) AS best_is_max,
	   m.hyperparams->'C' = m.metrics->'search'->'best_params'->'C'
	   AND m.hyperparams->'class_weight' = m.metrics->'search'->'best_params'->'class_weight' AS refitted_with_best,
	   (SELECT bool_and(jsonb_array_length(t.cv->'folds') = 3) FROM mlcycle.search_trials t WHERE t.model_id = m.model_id) AS three_folds
FROM mlcycle.models m ORDER BY model_id DESC LIMIT 1;
SELECT deployed FROM ml_train('lin_random', 'lin', 'y', algorithm => 'ridge', deploy => 'none', search => 'random',
							  search_params => '{"alpha": {"min": 0.001, "max": 1000, "log": true}}',
							  search_args => '{"n_iter": 5, "metric": "rmse", "seed": 3}');
SELECT deployed FROM ml_train('lin_random', 'lin', 'y', algorithm => 'ridge', deploy => 'none', search => 'random',
							  search_params => '{"alpha": {"min": 0.001, "max": 1000, "log": true}}',
							  search_args => '{"n_iter": 5, "metric": "rmse", "seed": 3}');
SELECT (SELECT array_agg(params ORDER BY trial) FROM mlcycle.search_trials WHERE model_id = a.model_id)
	   = (SELECT array_agg(params ORDER BY trial) FROM mlcycle.search_trials WHERE model_id = b.model_id) AS same_trials,
	   (a.metrics->'search'->>'best_score')::float8 = (SELECT min(score) FROM mlcycle.search_trials t WHERE t.model_id = a.model_id) AS rmse_lowest_wins,
	   (SELECT bool_and((params->>'alpha')::float8 BETWEEN 0.001 AND 1000) FROM mlcycle.search_trials t WHERE t.model_id = a.model_id) AS in_range
FROM mlcycle.models a, mlcycle.models b
WHERE a.model_id = (SELECT max(model_id) - 1 FROM mlcycle.models) AND b.model_id = a.model_id + 1;

-- multiclass on the shipped penguins data (NULLs in numeric and text columns)
CREATE TABLE penguins (species text, island text, bill_length_mm float8, bill_depth_mm float8,
					   flipper_length_mm int, body_mass_g int, sex text, year int);
\copy penguins FROM 'data/penguins.csv' WITH (FORMAT csv, HEADER true)
SELECT algorithm, task, deployed, (metrics->'test'->>'accuracy')::float8 > 0.95 AS good_accuracy,
	   (metrics->'test'->>'log_loss')::float8 < 0.2 AS good_log_loss, metrics->>'score_metric' AS score_metric
FROM ml_train('penguins', 'penguins', 'species');
SELECT ml_classes('penguins');
SELECT species, ml_predict_class('penguins', p) AS predicted, count(*)
FROM penguins p GROUP BY 1, 2 HAVING species = ml_predict_class('penguins', p) ORDER BY 1;
SELECT ml_predict('penguins', p) FROM penguins p LIMIT 1;
SELECT abs((SELECT sum(x) FROM unnest(ml_predict_proba('penguins', p)) x) - 1) < 1e-12 AS sums_to_one
FROM penguins p LIMIT 1;

-- ml_explain: per-feature contributions add up to the raw prediction
SELECT bool_and(abs(s - ml_predict('price', h)) < 1e-9) AS regression_sums
FROM houses h, LATERAL (SELECT sum(contribution) AS s FROM ml_explain('price', h)) e;
SELECT bool_and(abs(s - ln(ml_predict('leads', l) / (1 - ml_predict('leads', l)))) < 1e-9) AS binary_sums_to_logit
FROM leads l, LATERAL (SELECT sum(contribution) AS s FROM ml_explain('leads', l)) e;
SELECT bool_and(abs(e.p - (ml_predict_proba('penguins', g))[array_position(ml_classes('penguins'), e.class)]) < 1e-12) AS softmax_of_sums
FROM penguins g, LATERAL (SELECT class, exp(sum(contribution)) / sum(exp(sum(contribution))) OVER () AS p
						  FROM ml_explain('penguins', g) GROUP BY class) e;
SELECT e.feature, e.class, round(e.value::numeric, 6) AS value, round(e.contribution::numeric, 6) AS contribution FROM (SELECT 10 AS x1, 4::float8 AS x2) r, ml_explain('lin', r) e;
-- quoted, schema-qualified names with semicolons, quotes and unicode
CREATE SCHEMA "My Schema";
CREATE TABLE "My Schema"."Cust; ""omers"" é" ("Größe" float8, "a;b" text, "y""" float8);
INSERT INTO "My Schema"."Cust; ""omers"" é"
SELECT i, CASE WHEN i % 2 = 0 THEN 'x' ELSE 'y' END, 2 * i + CASE WHEN i % 2 = 0 THEN 1 ELSE 0 END FROM generate_series(1, 30) i;
SELECT project, algorithm, (metrics->'test'->>'r2')::float8 > 0.99 AS good_r2
FROM ml_train('proj ''; DROP TABLE houses; --', '"My Schema"."Cust; ""omers"" é"', 'y"');
SELECT features FROM mlcycle.models m JOIN mlcycle.projects p USING (project_id) WHERE p.name = 'proj ''; DROP TABLE houses; --';
SELECT round(ml_predict('proj ''; DROP TABLE houses; --', c)::numeric, 3) FROM "My Schema"."Cust; ""omers"" é" c LIMIT 2;
SELECT count(*) FROM houses;

-- views, partitioned tables and materialized views are relations too
CREATE VIEW houses_v AS SELECT area, rooms, price FROM houses;
CREATE MATERIALIZED VIEW houses_mv AS SELECT area, rooms, price FROM houses;
CREATE TABLE houses_p (area numeric, rooms int, price float8) PARTITION BY RANGE (rooms);
CREATE TABLE houses_p1 PARTITION OF houses_p FOR VALUES FROM (0) TO (3);
CREATE TABLE houses_p2 PARTITION OF houses_p DEFAULT;
INSERT INTO houses_p SELECT area, rooms, price FROM houses;
SELECT project, deployed FROM ml_train('v', 'houses_v', 'price', deploy => 'none');
SELECT project, deployed FROM ml_train('mv', 'public.houses_mv', 'price', deploy => 'none');
SELECT project, deployed FROM ml_train('p', 'houses_p', 'price', deploy => 'none');
SELECT relation, rows_read, rows_skipped FROM mlcycle.models ORDER BY model_id DESC LIMIT 3;
