-- The feature projection between preprocessing and the learner: the pca preprocess
-- step and select_features, for every learner, stored in the model (format v4),
-- applied by ml_predict / ml_predict_proba / ml_score_table / ml_explain / ml_drift,
-- exported and imported as JSON.  Numbers against scikit-learn are in
-- test/pgtap/projection_reference.sql.
SET mlcycle.progress = off;
CREATE TABLE pj_penguins (species text, island text, bill_length_mm float8, bill_depth_mm float8,
  flipper_length_mm float8, body_mass_g float8, sex text, year int);
\copy pj_penguins FROM 'data/penguins.csv' WITH (FORMAT csv, HEADER true)
ALTER TABLE pj_penguins ADD COLUMN id int GENERATED ALWAYS AS IDENTITY;
CREATE FUNCTION pj_try(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE q;
	RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
	RETURN SQLSTATE || ': ' || SQLERRM;
END $$;

-- pca with a number of components: the learner sees pc1..pc3 (kind pca)
SELECT algorithm, round((metrics->>'score')::numeric, 4) AS f1
FROM ml_train('pj_pca3', 'pj_penguins', 'species', 'logistic', exclude => '{id}',
              preprocess => '{"pca": {"n_components": 3}}');
SELECT features, feature_kinds, preprocess->'pca'->'n_components' AS k, preprocess->'pca'->'inputs' AS inputs,
       round((preprocess->'pca'->>'cumulative_variance_ratio')::numeric, 4) AS cumulative,
       mlcycle.model_info(model)->'projection' AS projection,
       mlcycle.model_info(model)->'format_version' AS format
FROM mlcycle.models WHERE project_id = mlcycle.project_id('pj_pca3');
-- ml_predict_proba = the proba of mlcycle.model_predict_proba on the same bytes; labels agree
SELECT count(*) AS rows, bool_and(ml_predict_proba('pj_pca3', p) = mlcycle.model_predict_proba(m.model, p)) AS same,
       bool_and(ml_predict_class('pj_pca3', p) = (ml_classes('pj_pca3'))[
                (SELECT i FROM unnest(ml_predict_proba('pj_pca3', p)) WITH ORDINALITY u(v, i) ORDER BY v DESC LIMIT 1)]) AS argmax
FROM pj_penguins p, mlcycle.models m WHERE m.project_id = mlcycle.project_id('pj_pca3');
-- ml_explain of a linear model speaks of the decomposed features (each contributes through
-- every component); per class the contributions add up to the class score, so the
-- difference of two classes' sums is the log of the ratio of their probabilities
SELECT feature, class, round(value::numeric, 6) AS value FROM ml_explain('pj_pca3', (SELECT p FROM pj_penguins p WHERE id = 1)) ORDER BY class, feature;
SELECT bool_and(abs((e.adelie - e.gentoo) - ln(pr[1] / pr[3])) < 1e-9) AS explain_adds_up
FROM pj_penguins p,
	 LATERAL (SELECT sum(contribution) FILTER (WHERE class = 'Adelie') AS adelie,
					 sum(contribution) FILTER (WHERE class = 'Gentoo') AS gentoo FROM ml_explain('pj_pca3', p)) e,
	 LATERAL (SELECT ml_predict_proba('pj_pca3', p) AS pr) q
WHERE (ml_classes('pj_pca3'))[1] = 'Adelie' AND (ml_classes('pj_pca3'))[3] = 'Gentoo';

-- pca by explained variance (binary target: ml_predict, ml_score_table, explain sums)
SELECT algorithm FROM ml_train('pj_var', 'pj_penguins', 'sex', 'logistic', exclude => '{id}',
                               preprocess => '{"pca": {"variance": 0.8}}');
SELECT features, (preprocess->'pca'->>'cumulative_variance_ratio')::float8 > 0.8 AS explains_80
FROM mlcycle.models WHERE project_id = mlcycle.project_id('pj_var');
SELECT bool_and(abs(e.s - ln(ml_predict('pj_var', p) / (1 - ml_predict('pj_var', p)))) < 1e-9) AS explain_adds_up
FROM pj_penguins p, LATERAL (SELECT sum(contribution) AS s FROM ml_explain('pj_var', p)) e;
SELECT ml_score_table('pj_var', 'pj_penguins', 'pj_scores', '{id}');
SELECT count(*) AS rows, bool_and(abs(s.prediction - ml_predict('pj_var', p)) < 1e-12) AS same
FROM pj_scores s JOIN pj_penguins p USING (id);
-- drift checks score rows through the projection too (the output profile is compared)
SELECT count(*) FILTER (WHERE kind = 'output') AS output_tests
FROM ml_drift('pj_var', 'pj_penguins');
-- retraining repeats the step as it was asked for (not the fitted component count)
SELECT mlcycle.retrain_arguments(m, 'pj_penguins'::regclass)->'preprocess'->'pca' AS retrain_pca
FROM mlcycle.models m WHERE project_id = mlcycle.project_id('pj_var');
-- variance 1 keeps every component (min(features, rows))
SELECT algorithm FROM ml_train('pj_all', 'pj_penguins', 'body_mass_g', 'linear', exclude => '{id}',
                               preprocess => '{"pca": {"variance": 1}}');
SELECT array_length(features, 1) AS components FROM mlcycle.models WHERE project_id = mlcycle.project_id('pj_all');

-- export / import: the projection round-trips (same bytes, same predictions)
SELECT ml_export_model(model_id)->'model'->'projection'->'kept' AS kept,
       jsonb_array_length(ml_export_model(model_id)->'model'->'projection'->'components') AS components
FROM mlcycle.models WHERE project_id = mlcycle.project_id('pj_pca3');
SELECT ml_import_model('pj_pca3_copy', ml_export_model(model_id)) IS NOT NULL AS imported FROM mlcycle.models WHERE project_id = mlcycle.project_id('pj_pca3');
SELECT a.model = b.model AS same_bytes FROM mlcycle.models a, mlcycle.models b
WHERE a.project_id = mlcycle.project_id('pj_pca3') AND b.project_id = mlcycle.project_id('pj_pca3_copy');

-- every learner takes the pca step; trees get the linear learners' defaults (imputed, scaled)
SELECT algorithm, deployed FROM ml_train('pj_allpca', 'pj_penguins', 'species', 'all', exclude => '{id}',
              preprocess => '{"pca": {"n_components": 4}}') ORDER BY model_id;
SELECT algorithm, features, feature_kinds FROM mlcycle.models
WHERE project_id = mlcycle.project_id('pj_allpca') ORDER BY model_id;
SELECT preprocess->'bill_length_mm'->>'impute' AS impute, preprocess->'bill_length_mm'->>'scale' AS scale,
       preprocess->'island'->>'encode' AS encode
FROM mlcycle.models WHERE project_id = mlcycle.project_id('pj_allpca') AND algorithm = 'gbdt';
SELECT count(*) AS shap_rows, count(DISTINCT feature) AS features FROM ml_explain('pj_allpca', (SELECT p FROM pj_penguins p WHERE id = 5));
SELECT count(*) AS rows FROM pj_penguins p WHERE ml_predict_class('pj_allpca', p) IS NULL;
-- cross-validation fits the projection inside each fold
SELECT jsonb_array_length(metrics->'cv'->'folds') AS folds
FROM ml_train('pj_cv', 'pj_penguins', 'species', 'knn', exclude => '{id}', cv => 3,
              preprocess => '{"pca": {"n_components": 2}}');

-- select_features works with every learner ('all' no longer filters them); the model keeps
-- only the kept features, which the metrics record with the dropped ones
SELECT algorithm, metrics->'select'->'kept' AS kept, metrics->'select'->'dropped' @> '[{"feature": "year"}]' AS year_dropped
FROM ml_train('pj_sel', 'pj_penguins', 'species', 'all', exclude => '{id}',
              select_features => '{"k_best": 4}') ORDER BY model_id;
SELECT algorithm, features, mlcycle.model_info(model)->'projection' AS projection FROM mlcycle.models
WHERE project_id = mlcycle.project_id('pj_sel') ORDER BY model_id;
SELECT count(*) AS rows, bool_and(ml_predict_class('pj_sel', p) IS NOT NULL) AS scored FROM pj_penguins p;
SELECT algorithm, metrics->'select'->'kept' AS kept FROM ml_train('pj_sel_nb', 'pj_penguins', 'species', 'naive_bayes',
       exclude => '{id}', select_features => '{"k_best": 5}');
SELECT algorithm, metrics->'select'->'kept' AS kept FROM ml_train('pj_sel_tree', 'pj_penguins', 'body_mass_g', 'decision_tree',
       exclude => '{id}', select_features => '{"variance_threshold": 0.5, "k_best": 3}');
SELECT features, feature_kinds, mlcycle.model_info(model)->'projection' AS projection
FROM mlcycle.models WHERE project_id = mlcycle.project_id('pj_sel_tree');
SELECT count(*) AS rows, count(ml_predict('pj_sel_tree', p)) AS predicted FROM pj_penguins p;

-- select_features, then pca on the kept features
SELECT metrics->'select'->'kept' AS kept
FROM ml_train('pj_selpca', 'pj_penguins', 'species', 'logistic', exclude => '{id}',
              select_features => '{"k_best": 5}', preprocess => '{"pca": {"n_components": 2}}');
SELECT features, preprocess->'pca'->'inputs' AS pca_inputs, mlcycle.model_info(model)->'projection' AS projection
FROM mlcycle.models WHERE project_id = mlcycle.project_id('pj_selpca');

-- feature_kinds name the encoding of text columns
SELECT algorithm FROM ml_train('pj_kinds', 'pj_penguins', 'body_mass_g', 'ridge', exclude => '{id}',
    preprocess => '{"species": {"encode": "frequency"}, "island": {"encode": "binary"}, "sex": {"encode": {"method": "hashing", "buckets": 2}}}');
SELECT algorithm FROM ml_train('pj_kinds2', 'pj_penguins', 'body_mass_g', 'ridge', exclude => '{id}',
    preprocess => '{"species": {"encode": "target"}, "island": {"encode": "ordinal"}, "sex": {"encode": {"method": "one_hot", "top_k": 1}}}');
SELECT features, feature_kinds FROM mlcycle.models
WHERE project_id IN (mlcycle.project_id('pj_kinds'), mlcycle.project_id('pj_kinds2')) ORDER BY model_id;

-- a column named pca keeps its settings; the step is then written with its options
CREATE TABLE pj_named (pca float8, x float8, y float8);
INSERT INTO pj_named SELECT i % 7, (i * 37) % 11, i % 7 + 0.5 * ((i * 37) % 11) FROM generate_series(1, 60) i;
SELECT algorithm FROM ml_train('pj_named', 'pj_named', 'y', 'linear', preprocess => '{"pca": {"scale": "minmax"}}');
SELECT algorithm FROM ml_train('pj_named2', 'pj_named', 'y', 'linear', preprocess => '{"pca": {"n_components": 1}}');
SELECT features, preprocess->'pca'->>'scale' AS pca_column_scale FROM mlcycle.models
WHERE project_id IN (mlcycle.project_id('pj_named'), mlcycle.project_id('pj_named2')) ORDER BY model_id;

-- bad input
SELECT pj_try($$SELECT * FROM ml_train('pj_bad', 'pj_penguins', 'species', exclude => '{id}', preprocess => '{"pca": {"n_components": 11}}')$$);
SELECT pj_try($$SELECT * FROM ml_train('pj_bad', 'pj_penguins', 'species', preprocess => '{"pca": {"n_components": 0}}')$$);
SELECT pj_try($$SELECT * FROM ml_train('pj_bad', 'pj_penguins', 'species', preprocess => '{"pca": {"n_components": 2.5}}')$$);
SELECT pj_try($$SELECT * FROM ml_train('pj_bad', 'pj_penguins', 'species', preprocess => '{"pca": {"variance": 0}}')$$);
SELECT pj_try($$SELECT * FROM ml_train('pj_bad', 'pj_penguins', 'species', preprocess => '{"pca": {"variance": 1.5}}')$$);
SELECT pj_try($$SELECT * FROM ml_train('pj_bad', 'pj_penguins', 'species', preprocess => '{"pca": {"variance": 0.9, "n_components": 2}}')$$);
SELECT pj_try($$SELECT * FROM ml_train('pj_bad', 'pj_penguins', 'species', preprocess => '{"pca": {"components": 2}}')$$);
SELECT pj_try($$SELECT * FROM ml_train('pj_bad', 'pj_penguins', 'species', preprocess => '{"pca": 3}')$$);
SELECT pj_try($$SELECT * FROM ml_train('pj_bad', 'pj_penguins', 'species', preprocess => '{"pca": {}, "*": {"impute": "none"}}')$$);
SELECT pj_try($$SELECT * FROM ml_train('pj_bad', 'pj_penguins', 'species', select_features => '{"variance_threshold": 1e9}')$$);
CREATE TABLE pj_flat (a float8, b float8, y float8);
INSERT INTO pj_flat SELECT 1, 2, i FROM generate_series(1, 20) i;
SELECT pj_try($$SELECT * FROM ml_train('pj_bad', 'pj_flat', 'y', preprocess => '{"pca": {"n_components": 1}}')$$);
-- fewer training rows than features: at most that many components
CREATE VIEW pj_four AS SELECT * FROM pj_penguins WHERE body_mass_g IS NOT NULL ORDER BY id LIMIT 4;
SELECT pj_try($$SELECT * FROM ml_train('pj_bad', 'pj_four', 'body_mass_g', test_size => 0, exclude => '{id}', preprocess => '{"pca": {"n_components": 5}}')$$);
SELECT count(*) AS bad_models FROM mlcycle.projects WHERE name IN ('pj_bad', 'pj_badjson');

-- damaged projection bytes are refused as corrupted (the checksum resealed over them)
CREATE TABLE pj_blob AS
SELECT model AS b, position('\x0a0000000a0000000000000001000000'::bytea IN model) - 1 AS at
FROM mlcycle.models WHERE project_id = mlcycle.project_id('pj_pca3');
SELECT at > 0 AS found FROM pj_blob;
SELECT pj_try(format('SELECT mlcycle.model_info(%L::bytea)', mlcycle.model_reseal(set_byte(b, at, 11)))) FROM pj_blob;
SELECT pj_try(format('SELECT mlcycle.model_info(%L::bytea)', mlcycle.model_reseal(set_byte(b, at + 4, 0)))) FROM pj_blob;
SELECT pj_try(format('SELECT mlcycle.model_info(%L::bytea)', mlcycle.model_reseal(set_byte(b, at + 12, 0)))) FROM pj_blob;
SELECT pj_try(format('SELECT mlcycle.model_info(%L::bytea)', mlcycle.model_reseal(set_byte(b, at + 8 + 9 * 4, 10)))) FROM pj_blob;
SELECT pj_try(format('SELECT mlcycle.model_info(%L::bytea)', mlcycle.model_reseal(set_byte(b, at + 8 + 10 * 4, 11)))) FROM pj_blob;
-- the first explained variance made negative (its sign bit)
SELECT pj_try(format('SELECT mlcycle.model_info(%L::bytea)', mlcycle.model_reseal(set_byte(b, at + 8 + 10 * 4 + 4 + 7,
       get_byte(b, at + 8 + 10 * 4 + 4 + 7) | 128)))) FROM pj_blob;
SELECT pj_try(format('SELECT mlcycle.model_info(%L::bytea)', mlcycle.model_reseal(substring(b FROM 1 FOR at + 60)))) FROM pj_blob;
SELECT (mlcycle.fuzz_model_loader(b, 3000, 7)->>'iterations')::int AS fuzzed FROM pj_blob;
-- the JSON form refuses an inconsistent projection
SELECT pj_try(format('SELECT ml_import_model(%L, %L::jsonb)', 'pj_badjson',
       jsonb_set(ml_export_model(model_id), '{model,projection,kept}', '[0, 2, 1, 3, 4, 5, 6, 7, 8, 9]')))
FROM mlcycle.models WHERE project_id = mlcycle.project_id('pj_pca3');
SELECT pj_try(format('SELECT ml_import_model(%L, %L::jsonb)', 'pj_badjson',
       jsonb_set(ml_export_model(model_id), '{model,projection,mean}', '[0]')))
FROM mlcycle.models WHERE project_id = mlcycle.project_id('pj_pca3');
SELECT count(*) AS bad_projects FROM mlcycle.projects WHERE name IN ('pj_bad', 'pj_badjson');
