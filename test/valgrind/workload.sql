-- A workload over every area of mlcycle, run by test/valgrind/run.sh under valgrind memcheck
-- in a single-user backend: training (both paths, cross-validation, multiclass, class
-- rebalancing, time-ordered split),
-- scoring, explanations, evaluation, drift, the aggregates, a model card and the loader fuzz.
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
SELECT count(*) FROM ml_explain('c', (SELECT t FROM t LIMIT 1));
SELECT count(*) FROM ml_evaluate('c', 't');
SELECT count(*) FROM ml_drift('r', 't');
SELECT count(*) FROM ml_drift('s', 'tn', options => '{"sample_size": 50}');
SELECT (ml_ks_test(a, id % 2 = 0)).statistic, ml_psi(a, id % 2 = 0), ml_js_distance(c, id % 2 = 0) FROM t;
SELECT ml_roc_auc(a / 20, lab), ml_f1(c, c), ml_r2(a, y) FROM t;
SELECT length(ml_model_card('c'));
SELECT mlcycle.fuzz_model_loader(model, 2000, 1) FROM mlcycle.models WHERE model_id = 1;
-- tree learners: boosting with early stopping and subsampling, multiclass, forest, CART, TreeSHAP
SELECT count(*) FROM ml_train('tg', 't', 'lab', algorithm => 'gbdt', exclude => '{id,y}', hyperparams => '{"n_estimators": 12, "early_stopping_rounds": 3, "subsample": 0.8, "colsample_bytree": 0.7, "max_leaves": 6}');
SELECT count(*) FROM ml_train('tgm', 't', 'c', algorithm => 'gbdt', exclude => '{id,lab}', hyperparams => '{"n_estimators": 4, "max_bin": 300}');
SELECT count(*) FROM ml_train('tf', 't', 'c', algorithm => 'random_forest', exclude => '{id,lab}', hyperparams => '{"n_estimators": 4, "max_depth": 8}');
SELECT count(*) FROM ml_train('td', 't', 'y', algorithm => 'decision_tree', exclude => '{id,lab}', hyperparams => '{"max_depth": 5}', cv => 2);
SELECT sum(ml_predict('tg', t)), sum(ml_predict('td', t)), count(ml_predict_proba('tgm', t)), count(ml_predict_class('tf', t)) FROM t;
SELECT count(*) FROM ml_explain('tg', (SELECT t FROM t LIMIT 1));
SELECT count(*) FROM ml_explain('tf', (SELECT t FROM t LIMIT 1));
SELECT mlcycle.fuzz_model_loader(m.model, 500, 2) FROM mlcycle.models m JOIN mlcycle.projects p USING (project_id) WHERE p.name = 'tf';
