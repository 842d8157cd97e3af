-- A workload over every area of mlcycle, run by test/valgrind/run.sh under valgrind memcheck
-- in a single-user backend: training (both paths, cross-validation, multiclass, class
-- rebalancing, time-ordered split),
-- scoring, canary routing and batch scoring, export/import, explanations, evaluation, data
-- exploration, drift, the aggregates, a model card, the preprocess steps and standalone
-- transformers, the loader fuzz; naive_bayes, knn and linear_svm, feature importance and
-- model comparison.
CREATE EXTENSION mlcycle;
SET mlcycle.progress = off;
CREATE TABLE t AS SELECT i AS id, (i % 97)::float8 / 7 AS a, CASE WHEN i % 11 = 0 THEN NULL ELSE (i * 31 % 101)::float8 END AS b, (ARRAY['x','y','z'])[1 + i % 3] AS c, (i % 5 = 0) AS flag, (i % 97)::float8 / 7 * 2 + (i * 31 % 101) * 0.1 AS y, CASE WHEN i % 3 = 0 THEN 'yes' ELSE 'no' END AS lab FROM generate_series(1, 3000) i;
CREATE TABLE tn AS SELECT id, a, b, flag, y FROM t;
SELECT count(*) FROM ml_train('r', 't', 'y', exclude => '{id,lab}');
SELECT count(*) FROM ml_train('s', 'tn', 'y', exclude => '{id}');
SELECT count(*) FROM ml_train('c', 't', 'lab', exclude => '{id,y}', cv => 3);
SELECT count(*) FROM ml_train('m', 't', 'c', exclude => '{id,lab}');
SELECT count(*) FROM ml_train('sm', 't', 'lab', exclude => '{id,y}', sampling => 'smote', cv => 2);
SELECT count(*) FROM ml_train('ms', 't', 'c', exclude => '{id,lab}', sampling => 'undersample', hyperparams => '{"class_weight": {"x": 2}}');
SELECT count(*) FROM ml_train('tl', 't', 'lab', exclude => '{y}', split => 'last', order_by => 'id', sampling => 'oversample', cv => 3);
SELECT sum(ml_predict('r', t)) FROM t;
SELECT sum(ml_predict('s', t)) FROM t;
SELECT count(ml_predict_class('c', t)), count(ml_predict_proba('m', t)) FROM t;
SELECT count(*) FROM ml_train('c', 't', 'lab', exclude => '{id,y,b}', deploy => 'none');
SELECT ml_deploy('c', 'canary', (SELECT max(model_id) FROM mlcycle.models), traffic => 0.3) > 0;
SELECT count(ml_predict_class('c', t, id)), sum(ml_predict('c', t, id)), count(DISTINCT ml_route('c', id)) FROM t;
SELECT ml_score_table('c', 't', 'c_scores', '{id}', '{"batch_blocks": 5}');
SELECT count(*) FROM ml_evaluate('c', 'c_scores', 't', '{id}');
SELECT count(*) FROM ml_ab_report('c');
SELECT count(*) FROM ml_explain('c', (SELECT t FROM t LIMIT 1));
SELECT count(*) FROM ml_evaluate('c', 't');
SELECT count(*) FROM ml_drift('r', 't');
SELECT count(*) FROM ml_drift('s', 'tn', options => '{"sample_size": 50}');
SELECT (ml_ks_test(a, id % 2 = 0)).statistic, ml_psi(a, id % 2 = 0), ml_js_distance(c, id % 2 = 0) FROM t;
SELECT ml_roc_auc(a / 20, lab), ml_f1(c, c), ml_r2(a, y) FROM t;
SELECT length(ml_model_card('c'));
SELECT count(*) FROM ml_profile('t');
SELECT count(*) FROM ml_correlations('t');
SELECT ml_duplicates('t');
SELECT count(*) FROM ml_outliers('t', 'zscore');
SELECT count(*) FROM ml_feature_scores('t', 'lab');
SELECT count(*) FROM ml_pca('t', '{a,b,y}', 2);
SELECT ml_quantiles(ml_summary_sketch(a), '{0.25,0.5}') FROM t;
SELECT ml_import_model('copy_' || model_id, ml_export_model(model_id)) > 0 FROM mlcycle.models ORDER BY model_id;
SELECT count(*) FROM ml_train('tf', 't', 'y', exclude => '{id,lab}', preprocess => '{"a": {"scale": "yeo_johnson", "clip": [0.01, 0.99]}, "b": {"impute": {"method": "knn", "k": 3}, "bin": "quantile"}, "c": {"encode": {"method": "target", "folds": 3}}}', select_features => '{"max_correlation": 0.99, "k_best": 3}');
SELECT sum(ml_predict('tf', t)) FROM t;
SELECT count(*) FROM ml_train('tf2', 't', 'lab', exclude => '{id,y}', preprocess => '{"*": {"scale": "l2"}, "b": {"impute": "indicator"}, "c": {"encode": {"method": "hashing", "buckets": 4}}}');
SELECT count(ml_predict_class('tf2', t)), count(*) FROM t, ml_explain('tf2', t);
SELECT ml_transformer_text(ml_fit_scaler(b, 'yeo_johnson')), ml_transformer_text(ml_fit_encoder(c, 'one_hot', '{"top_k": 2}')), ml_transformer_text(ml_fit_binner(a, 'quantile', 4)), ml_transformer_text(ml_fit_imputer(c, 'most_frequent')) FROM t;
SELECT sum(ml_transform(s, b)), count(ml_transform(e, c)), count(ml_transform(h, c)) FROM t, (SELECT ml_fit_scaler(b, 'robust') s, ml_fit_encoder(c, 'binary') e, ml_fit_encoder(c, 'hashing') h FROM t) f;
SELECT mlcycle.fuzz_model_loader(model, 2000, 1) FROM mlcycle.models WHERE model_id = 1;
-- transformer fits past the exact limit: the quantile sketch, its merges (exact + sketch, sketch + sketch)
SET mlcycle.transform_exact_limit = 1000;
SELECT ml_transformer_text(ml_fit_scaler((g * 37 % 1013)::float8 / 10, 'robust')), ml_transformer_text(ml_fit_scaler((g * 37 % 1013)::float8 / 10 + 1, 'box_cox')), ml_transformer_text(ml_fit_imputer((g % 13)::float8, 'most_frequent')), ml_transformer_text(ml_fit_binner(g::float8, 'quantile', 7)) FROM generate_series(1, 20000) g;
CREATE AGGREGATE vg_tf_state(float8, text) (SFUNC = mlcycle.tf_scaler_trans, STYPE = bytea);
SELECT ml_transformer_text(mlcycle.tf_num_final(mlcycle.tf_num_combine(mlcycle.tf_num_combine(a, b), mlcycle.tf_num_combine(c, b)))) FROM (SELECT (SELECT vg_tf_state(g, 'yeo_johnson') FROM generate_series(1, 600) g) a, (SELECT vg_tf_state(g, 'yeo_johnson') FROM generate_series(1, 9000) g) b, (SELECT vg_tf_state(-g, 'yeo_johnson') FROM generate_series(1, 700) g) c) s;
RESET mlcycle.transform_exact_limit;
-- naive_bayes, knn (regression and classification), linear_svm with a search; importance and comparison
CREATE TABLE ts AS SELECT * FROM t WHERE id <= 400;
SELECT count(*) FROM ml_train('nb', 't', 'c', exclude => '{id,lab}', algorithm => 'naive_bayes', cv => 2);
SELECT count(*) FROM ml_train('kn', 'ts', 'lab', exclude => '{id,y}', algorithm => 'knn', hyperparams => '{"weights": "distance"}');
SELECT count(*) FROM ml_train('kr', 'ts', 'y', exclude => '{id,lab}', algorithm => 'knn', hyperparams => '{"metric": "manhattan"}');
SELECT count(*) FROM ml_train('sv', 't', 'c', exclude => '{id,lab}', algorithm => 'linear_svm', search => 'grid', search_params => '{"C": [0.1, 1]}');
SELECT count(*) FROM ml_train('c', 't', 'lab', exclude => '{id,y}', algorithm => 'naive_bayes', cv => 3, deploy => 'none');
SELECT sum(ml_predict('kn', t)), count(ml_predict_proba('nb', t)), count(ml_predict_class('sv', t)), sum(ml_predict('kr', t)) FROM ts t;
SELECT count(*) FROM ml_feature_importance('sv');
SELECT count(*) FROM ml_compare('c');
SELECT (ml_compare_models(min(m.model_id), max(m.model_id))).p_value IS NOT NULL FROM mlcycle.models m JOIN mlcycle.projects p USING (project_id) WHERE p.name = 'c';
SELECT ml_naive_bayes_stats(id % 3, ARRAY[a, y], ARRAY[id % 4])->0->'count' FROM t;
SELECT mlcycle.fuzz_model_loader(m.model, 300, 2) FROM mlcycle.models m JOIN mlcycle.projects p USING (project_id) WHERE p.name IN ('nb', 'kn', 'sv');
-- tree learners: boosting with early stopping and subsampling, multiclass, forest, CART, TreeSHAP
SELECT count(*) FROM ml_train('tg', 't', 'lab', algorithm => 'gbdt', exclude => '{id,y}', hyperparams => '{"n_estimators": 12, "early_stopping_rounds": 3, "subsample": 0.8, "colsample_bytree": 0.7, "max_leaves": 6}');
SELECT count(*) FROM ml_train('tgm', 't', 'c', algorithm => 'gbdt', exclude => '{id,lab}', hyperparams => '{"n_estimators": 4, "max_bin": 300}');
SELECT count(*) FROM ml_train('trf', 't', 'c', algorithm => 'random_forest', exclude => '{id,lab}', hyperparams => '{"n_estimators": 4, "max_depth": 8}');
SELECT count(*) FROM ml_train('td', 't', 'y', algorithm => 'decision_tree', exclude => '{id,lab}', hyperparams => '{"max_depth": 5}', cv => 2);
SELECT sum(ml_predict('tg', t)), sum(ml_predict('td', t)), count(ml_predict_proba('tgm', t)), count(ml_predict_class('trf', t)) FROM t;
SELECT count(*) FROM ml_explain('tg', (SELECT t FROM t LIMIT 1));
SELECT count(*) FROM ml_explain('trf', (SELECT t FROM t LIMIT 1));
SELECT mlcycle.fuzz_model_loader(m.model, 500, 2) FROM mlcycle.models m JOIN mlcycle.projects p USING (project_id) WHERE p.name = 'trf';
-- the feature projection: pca step and select_features with every kind of learner, scoring, explain, drift, JSON
SELECT count(*) FROM ml_train('pj', 'ts', 'c', exclude => '{id,lab}', algorithm => 'all', preprocess => '{"pca": {"n_components": 2}}', select_features => '{"k_best": 3}');
SELECT count(*) FROM ml_train('pjs', 't', 'y', exclude => '{id,lab}', algorithm => 'gbdt', hyperparams => '{"n_estimators": 4}', select_features => '{"variance_threshold": 0, "k_best": 2}', cv => 2);
SELECT count(*) FROM ml_train('pjv', 't', 'lab', exclude => '{id,y}', algorithm => 'naive_bayes', preprocess => '{"pca": {"variance": 0.9}}');
SELECT count(ml_predict_proba('pj', t)), sum(ml_predict('pjs', t)), sum(ml_predict('pjv', t)) FROM ts t;
SELECT count(*) FROM ml_train('pjl', 't', 'lab', exclude => '{id,y}', preprocess => '{"pca": {"n_components": 2}}');
SELECT count(*) FROM ml_explain('pjl', (SELECT t FROM t LIMIT 1));
SELECT count(*) FROM ml_explain('pjs', (SELECT t FROM t LIMIT 1));
SELECT count(*) FROM ml_drift('pjv', 't');
SELECT ml_import_model('copy_pj_' || m.model_id, ml_export_model(m.model_id)) > 0 FROM mlcycle.models m JOIN mlcycle.projects p USING (project_id) WHERE p.name IN ('pj', 'pjs', 'pjv');
SELECT mlcycle.fuzz_model_loader(m.model, 200, 3) FROM mlcycle.models m JOIN mlcycle.projects p USING (project_id) WHERE p.name IN ('pjs', 'pjv', 'pjl');
