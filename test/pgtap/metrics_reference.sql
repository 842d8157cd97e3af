-- metrics_reference.sql: the metric aggregates against scikit-learn 1.2.
-- Run from the repository root, e.g.  pg_prove -d DB test/pgtap/metrics_reference.sql
--
-- References: section (e) of the shared reference values (numpy 1.24.2, scipy
-- 1.10.1, scikit-learn 1.2.1), copied here; and, marked "sklearn 1.2.1" below,
-- further values computed with the same scikit-learn 1.2.1 (Debian 12 package
-- python3-sklearn 1.2.1+dfsg-1) on the same data by the snippet at the end.
-- A value matches when |got - want| <= 1e-12 * max(1, |want|).
--
-- Every value is checked twice: on the reference rows with a serial plan, and
-- on the reference rows repeated 2000 times (which leaves every metric
-- unchanged) with a parallel plan, where two workers and the leader each build
-- a partial state and the combine function merges them.
\unset ECHO
\set QUIET 1
\pset format unaligned
\pset tuples_only true
\pset pager off
\set ON_ERROR_ROLLBACK 1
\set ON_ERROR_STOP true

SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS mlcycle;

BEGIN;
SELECT plan(110);

CREATE SCHEMA metrics_ref;

-- |got - want| <= 1e-12 * max(1, |want|)
CREATE FUNCTION metrics_ref.near(got float8, want float8) RETURNS boolean
LANGUAGE sql IMMUTABLE RETURN abs(got - want) <= 1e-12 * greatest(1, abs(want));

-- Every point of a curve near the reference arrays (a NULL threshold past their end)
CREATE FUNCTION metrics_ref.curve_near(got mlcycle.curve_point[], p_thr float8[], p_x float8[], p_y float8[])
RETURNS boolean LANGUAGE sql IMMUTABLE
RETURN cardinality(got) = cardinality(p_x) AND (
	SELECT bool_and(CASE WHEN g.i > cardinality(p_thr) THEN g.threshold IS NULL
						 ELSE metrics_ref.near(g.threshold, p_thr[g.i]) END
					AND metrics_ref.near(g.x, p_x[g.i]) AND metrics_ref.near(g.y, p_y[g.i]))
	FROM unnest(got) WITH ORDINALITY AS g(threshold, x, y, i));

-- The non-empty bins of a calibration table near calibration_curve's (prob_true, prob_pred)
CREATE FUNCTION metrics_ref.calibration_near(got mlcycle.calibration_bin[], p_true float8[], p_pred float8[])
RETURNS boolean LANGUAGE sql IMMUTABLE
RETURN (SELECT count(*) = cardinality(p_true)
			   AND bool_and(metrics_ref.near(b.observed_frequency, p_true[b.i])
							AND metrics_ref.near(b.mean_predicted, p_pred[b.i]))
		FROM (SELECT c.*, row_number() OVER (ORDER BY c.bin) AS i
			  FROM unnest(got) c WHERE c.count > 0) b);

-- Does the query run with a Partial Aggregate in parallel workers?
CREATE FUNCTION metrics_ref.runs_in_parallel(q text) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
	line text;
	partial boolean := false;
	launched boolean := false;
BEGIN
	FOR line IN EXECUTE 'EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) ' || q LOOP
		partial := partial OR line ~ 'Partial Aggregate';
		launched := launched OR line ~ 'Workers Launched: [1-9]';
	END LOOP;
	RETURN partial AND launched;
END
$$;

-- the reference rows, repeated 2000 times; metrics_ref.copies picks how many copies to read
CREATE TABLE metrics_ref.cls_rows (copy int, y int, score float8, pred int);
INSERT INTO metrics_ref.cls_rows
SELECT c, y, s, (s >= 0.5)::int
FROM generate_series(1, 2000) c,
	 unnest('{0, 0, 1, 1, 0, 1, 0, 1, 1, 0, 1, 0}'::int[],
			'{0.1, 0.4, 0.35, 0.8, 0.4, 0.8, 0.2, 0.4, 0.9, 0.3, 0.5, 0.5}'::float8[]) AS u(y, s);
CREATE TABLE metrics_ref.mc_rows (copy int, y int, pred int);
INSERT INTO metrics_ref.mc_rows
SELECT c, y, p
FROM generate_series(1, 2000) c,
	 unnest('{0, 1, 2, 2, 1, 0, 2, 1, 0, 2}'::int[], '{0, 2, 2, 2, 1, 0, 1, 1, 1, 0}'::int[]) AS u(y, p);
CREATE TABLE metrics_ref.reg_rows (copy int, y float8, pred float8);
INSERT INTO metrics_ref.reg_rows
SELECT c, y, p
FROM generate_series(1, 2000) c,
	 unnest('{3.0, -0.5, 2.0, 7.0, 4.2, 1.1, 0.0, 5.5}'::float8[],
			'{2.5, 0.0, 2.1, 7.8, 3.9, 1.5, -0.3, 5.0}'::float8[]) AS u(y, p);
ANALYZE metrics_ref.cls_rows;
ANALYZE metrics_ref.mc_rows;
ANALYZE metrics_ref.reg_rows;

CREATE VIEW metrics_ref.cls AS
SELECT ml_roc_auc(score, y) AS roc_auc, ml_pr_auc(score, y) AS ap, ml_log_loss(score, y) AS log_loss,
	   ml_brier(score, y) AS brier, ml_accuracy(pred, y) AS accuracy, ml_precision(pred, y) AS precision,
	   ml_recall(pred, y) AS recall, ml_f1(pred, y) AS f1, ml_f1(pred, y, 'macro') AS f1_macro,
	   ml_f1(pred, y, 'weighted') AS f1_weighted, ml_f1(pred, y, 'micro') AS f1_micro, ml_mcc(pred, y) AS mcc,
	   ml_precision(pred, y, 'macro') AS precision_macro, ml_recall(pred, y, 'macro') AS recall_macro,
	   ml_precision(pred, y, 'micro') AS precision_micro, ml_recall(pred, y, 'micro') AS recall_micro,
	   ml_precision(pred, y, 'weighted') AS precision_weighted, ml_recall(pred, y, 'weighted') AS recall_weighted,
	   ml_precision(pred, y, 'binary', 0) AS precision_0, ml_recall(pred, y, 'binary', 0) AS recall_0,
	   ml_f1(pred, y, 'binary', 0) AS f1_0, ml_pr_auc(1 - score, y, 0) AS ap_0,
	   ml_log_loss(1 - score, y = 0) AS log_loss_0, ml_brier(score, y, 0) AS brier_0,
	   ml_f1(CASE pred WHEN 1 THEN 'yes' ELSE 'no' END, CASE y WHEN 1 THEN 'yes' ELSE 'no' END) AS f1_text,
	   ml_roc_auc(score, y::bool) AS roc_auc_bool, ml_confusion_matrix(pred, y) AS cm,
	   ml_roc_curve(score, y) AS roc, ml_pr_curve(score, y) AS pr, ml_calibration(score, y, 5) AS cal5,
	   ml_calibration(score, y) AS cal10
FROM metrics_ref.cls_rows WHERE copy <= current_setting('metrics_ref.copies')::int;

CREATE VIEW metrics_ref.mc AS
SELECT ml_f1(pred, y, 'macro') AS f1_macro, ml_f1(pred, y, 'micro') AS f1_micro,
	   ml_f1(pred, y, 'weighted') AS f1_weighted, ml_precision(pred, y, 'macro') AS precision_macro,
	   ml_recall(pred, y, 'macro') AS recall_macro, ml_f1(pred = 0, y = 0) AS f1_class_0,
	   ml_f1(pred = 1, y = 1) AS f1_class_1, ml_f1(pred = 2, y = 2) AS f1_class_2, ml_accuracy(pred, y) AS accuracy,
	   ml_mcc(pred, y) AS mcc, ml_precision(pred, y, 'micro') AS precision_micro,
	   ml_recall(pred, y, 'micro') AS recall_micro, ml_precision(pred, y, 'weighted') AS precision_weighted,
	   ml_recall(pred, y, 'weighted') AS recall_weighted, ml_f1(pred, y) AS f1_default,
	   ml_confusion_matrix(pred, y) AS cm
FROM metrics_ref.mc_rows WHERE copy <= current_setting('metrics_ref.copies')::int;

CREATE VIEW metrics_ref.reg AS
SELECT ml_r2(pred, y) AS r2, ml_mae(pred, y) AS mae, ml_mse(pred, y) AS mse, ml_rmse(pred, y) AS rmse,
	   ml_explained_variance(pred, y) AS explained_variance, ml_mape(pred, y) AS mape
FROM metrics_ref.reg_rows WHERE copy <= current_setting('metrics_ref.copies')::int;

-- serial: the reference rows once
SET LOCAL max_parallel_workers_per_gather = 0;
SET LOCAL metrics_ref.copies = 1;
SELECT * FROM metrics_ref.cls \gset s_cls_
SELECT * FROM metrics_ref.mc \gset s_mc_
SELECT * FROM metrics_ref.reg \gset s_reg_

-- parallel: 2000 copies, partial states combined
SET LOCAL parallel_setup_cost = 0;
SET LOCAL parallel_tuple_cost = 0;
SET LOCAL min_parallel_table_scan_size = 0;
SET LOCAL max_parallel_workers_per_gather = 2;
SET LOCAL metrics_ref.copies = 2000;
SELECT ok(metrics_ref.runs_in_parallel('SELECT * FROM metrics_ref.cls'), 'classification and score metrics run in parallel workers');
SELECT ok(metrics_ref.runs_in_parallel('SELECT * FROM metrics_ref.mc'), 'multiclass metrics run in parallel workers');
SELECT ok(metrics_ref.runs_in_parallel('SELECT * FROM metrics_ref.reg'), 'regression metrics run in parallel workers');
SELECT * FROM metrics_ref.cls \gset p_cls_
SELECT * FROM metrics_ref.mc \gset p_mc_
SELECT * FROM metrics_ref.reg \gset p_reg_

-- every scalar, serial and parallel
SELECT ok(metrics_ref.near(m.got, v.want),
		  format('%s (%s): %s, want %s, tolerance 1e-12', v.name, m.mode, m.got, v.want))
FROM (VALUES
	-- section (e) of the shared reference values
	('cls.roc_auc', :'s_cls_roc_auc', :'p_cls_roc_auc', 0.8472222222222222),
	('cls.average_precision', :'s_cls_ap', :'p_cls_ap', 0.8486111111111111),
	('cls.log_loss', :'s_cls_log_loss', :'p_cls_log_loss', 0.46757375785181),
	('cls.brier', :'s_cls_brier', :'p_cls_brier', 0.15270833333333336),
	('cls.accuracy', :'s_cls_accuracy', :'p_cls_accuracy', 0.75),
	('cls.precision', :'s_cls_precision', :'p_cls_precision', 0.8),
	('cls.recall', :'s_cls_recall', :'p_cls_recall', 0.6666666666666666),
	('cls.f1_binary', :'s_cls_f1', :'p_cls_f1', 0.7272727272727272),
	('cls.f1_macro(binary labels)', :'s_cls_f1_macro', :'p_cls_f1_macro', 0.7482517482517481),
	('cls.f1_weighted(binary labels)', :'s_cls_f1_weighted', :'p_cls_f1_weighted', 0.7482517482517482),
	('mc.f1_per_class[0]', :'s_mc_f1_class_0', :'p_mc_f1_class_0', 0.6666666666666666),
	('mc.f1_per_class[1]', :'s_mc_f1_class_1', :'p_mc_f1_class_1', 0.5714285714285715),
	('mc.f1_per_class[2]', :'s_mc_f1_class_2', :'p_mc_f1_class_2', 0.5714285714285715),
	('mc.f1_macro', :'s_mc_f1_macro', :'p_mc_f1_macro', 0.6031746031746033),
	('mc.f1_macro (default average)', :'s_mc_f1_default', :'p_mc_f1_default', 0.6031746031746033),
	('mc.f1_micro(=accuracy)', :'s_mc_f1_micro', :'p_mc_f1_micro', 0.6),
	('mc.f1_weighted', :'s_mc_f1_weighted', :'p_mc_f1_weighted', 0.6),
	('mc.precision_macro', :'s_mc_precision_macro', :'p_mc_precision_macro', 0.611111111111111),
	('mc.recall_macro', :'s_mc_recall_macro', :'p_mc_recall_macro', 0.611111111111111),
	('reg.r2', :'s_reg_r2', :'p_reg_r2', 0.9646260577876039),
	('reg.mae', :'s_reg_mae', :'p_reg_mae', 0.42500000000000004),
	('reg.mse', :'s_reg_mse', :'p_reg_mse', 0.21749999999999997),
	('reg.rmse', :'s_reg_rmse', :'p_reg_rmse', 0.4663689526544407),
	('reg.explained_variance', :'s_reg_explained_variance', :'p_reg_explained_variance', 0.9647277070468349),
	-- sklearn 1.2.1, same data
	('cls.f1_binary, labels no/yes as text', :'s_cls_f1_text', :'p_cls_f1_text', 0.7272727272727272),
	('cls.roc_auc, labels as bool', :'s_cls_roc_auc_bool', :'p_cls_roc_auc_bool', 0.8472222222222222),
	('cls.f1_micro', :'s_cls_f1_micro', :'p_cls_f1_micro', 0.75),
	('cls.mcc', :'s_cls_mcc', :'p_cls_mcc', 0.50709255283711),
	('cls.precision_macro', :'s_cls_precision_macro', :'p_cls_precision_macro', 0.7571428571428571),
	('cls.recall_macro', :'s_cls_recall_macro', :'p_cls_recall_macro', 0.75),
	('cls.precision_micro', :'s_cls_precision_micro', :'p_cls_precision_micro', 0.75),
	('cls.recall_micro', :'s_cls_recall_micro', :'p_cls_recall_micro', 0.75),
	('cls.precision_weighted', :'s_cls_precision_weighted', :'p_cls_precision_weighted', 0.7571428571428571),
	('cls.recall_weighted', :'s_cls_recall_weighted', :'p_cls_recall_weighted', 0.75),
	('cls.precision(pos_label=0)', :'s_cls_precision_0', :'p_cls_precision_0', 0.7142857142857143),
	('cls.recall(pos_label=0)', :'s_cls_recall_0', :'p_cls_recall_0', 0.8333333333333334),
	('cls.f1(pos_label=0)', :'s_cls_f1_0', :'p_cls_f1_0', 0.7692307692307692),
	('cls.average_precision(1 - score, pos_label=0)', :'s_cls_ap_0', :'p_cls_ap_0', 0.8492063492063492),
	('cls.log_loss(y == 0, 1 - score)', :'s_cls_log_loss_0', :'p_cls_log_loss_0', 0.46757375785181),
	('cls.brier(pos_label=0)', :'s_cls_brier_0', :'p_cls_brier_0', 0.46104166666666674),
	('mc.accuracy', :'s_mc_accuracy', :'p_mc_accuracy', 0.6),
	('mc.mcc', :'s_mc_mcc', :'p_mc_mcc', 0.4090909090909091),
	('mc.precision_micro', :'s_mc_precision_micro', :'p_mc_precision_micro', 0.6),
	('mc.recall_micro', :'s_mc_recall_micro', :'p_mc_recall_micro', 0.6),
	('mc.precision_weighted', :'s_mc_precision_weighted', :'p_mc_precision_weighted', 0.6166666666666666),
	('mc.recall_weighted', :'s_mc_recall_weighted', :'p_mc_recall_weighted', 0.6),
	('reg.mape', :'s_reg_mape', :'p_reg_mape', 168884986026393.8)
) AS v(name, s, p, want)
CROSS JOIN LATERAL (VALUES (1, 'serial', v.s::float8), (2, 'parallel, 2000 copies', v.p::float8)) AS m(k, mode, got);

-- confusion matrices: rows are the truth, columns the prediction; cls.tp_fp_fn_tn = (4, 1, 2, 5)
SELECT is(:'s_cls_cm'::jsonb, '{"labels": [0, 1], "matrix": [[5, 1], [2, 4]]}', 'cls.tp_fp_fn_tn = (4, 1, 2, 5) as a confusion matrix (serial)');
SELECT is(:'p_cls_cm'::jsonb, '{"labels": [0, 1], "matrix": [[10000, 2000], [4000, 8000]]}', 'cls confusion matrix counts every copy (parallel, 2000 copies)');
SELECT is(:'s_mc_cm'::jsonb, '{"labels": [0, 1, 2], "matrix": [[2, 1, 0], [0, 2, 1], [1, 1, 2]]}', 'mc confusion matrix, sklearn 1.2.1 (serial)');
SELECT is(:'p_mc_cm'::jsonb, '{"labels": [0, 1, 2], "matrix": [[4000, 2000, 0], [0, 4000, 2000], [2000, 2000, 4000]]}', 'mc confusion matrix (parallel, 2000 copies)');

-- curves and calibration tables, sklearn 1.2.1: roc_curve, precision_recall_curve, calibration_curve
SELECT ok(metrics_ref.curve_near(m.got::mlcycle.curve_point[],
		ARRAY[1.9, 0.9, 0.8, 0.5, 0.4, 0.35, 0.1],
		ARRAY[0.0, 0.0, 0.0, 0.16666666666666666, 0.5, 0.5, 1.0],
		ARRAY[0.0, 0.16666666666666666, 0.5, 0.6666666666666666, 0.8333333333333334, 1.0, 1.0]),
		  format('cls roc_curve: (threshold, fpr, tpr) points (%s), tolerance 1e-12', m.mode))
FROM (VALUES ('serial', :'s_cls_roc'), ('parallel, 2000 copies', :'p_cls_roc')) AS m(mode, got);
SELECT ok(metrics_ref.curve_near(m.got::mlcycle.curve_point[],
		ARRAY[0.1, 0.2, 0.3, 0.35, 0.4, 0.5, 0.8, 0.9],
		ARRAY[1.0, 1.0, 1.0, 1.0, 0.8333333333333334, 0.6666666666666666, 0.5, 0.16666666666666666, 0.0],
		ARRAY[0.5, 0.5454545454545454, 0.6, 0.6666666666666666, 0.625, 0.8, 1.0, 1.0, 1.0]),
		  format('cls precision_recall_curve: (threshold, recall, precision) points (%s), tolerance 1e-12', m.mode))
FROM (VALUES ('serial', :'s_cls_pr'), ('parallel, 2000 copies', :'p_cls_pr')) AS m(mode, got);
SELECT ok(metrics_ref.calibration_near(m.got::mlcycle.calibration_bin[],
		ARRAY[0.0, 0.4, 0.5, 1.0, 1.0], ARRAY[0.15000000000000002, 0.37, 0.5, 0.8, 0.9]),
		  format('cls calibration_curve(n_bins=5) (%s), tolerance 1e-12', m.mode))
FROM (VALUES ('serial', :'s_cls_cal5'), ('parallel, 2000 copies', :'p_cls_cal5')) AS m(mode, got);
SELECT ok(metrics_ref.calibration_near(m.got::mlcycle.calibration_bin[],
		ARRAY[0.0, 0.0, 0.0, 0.5, 0.5, 1.0, 1.0], ARRAY[0.1, 0.2, 0.3, 0.38749999999999996, 0.5, 0.8, 0.9]),
		  format('cls calibration_curve(n_bins=10) (%s), tolerance 1e-12', m.mode))
FROM (VALUES ('serial', :'s_cls_cal10'), ('parallel, 2000 copies', :'p_cls_cal10')) AS m(mode, got);

-- log loss clips probabilities to [eps, 1 - eps] with eps the float64 machine epsilon,
-- sklearn 1.2.1's default log_loss(..., eps="auto")
SELECT ok(metrics_ref.near(ml_log_loss(p, y), 12.014551129705717),
		  format('log_loss([1, 1, 0], [0, 1, 0]) (eps auto): %s, want 12.014551129705717, tolerance 1e-12', ml_log_loss(p, y)))
FROM (VALUES (0.0, 1), (1.0, 1), (0.0, 0)) AS v(p, y);

SELECT * FROM finish();
ROLLBACK;

-- The "sklearn 1.2.1" values above come from:
--   import numpy as np; from sklearn import metrics; from sklearn.calibration import calibration_curve
--   yt = np.array([0, 0, 1, 1, 0, 1, 0, 1, 1, 0, 1, 0])
--   ys = np.array([0.1, 0.4, 0.35, 0.8, 0.4, 0.8, 0.2, 0.4, 0.9, 0.3, 0.5, 0.5]); yp = (ys >= 0.5).astype(int)
--   t3 = np.array([0, 1, 2, 2, 1, 0, 2, 1, 0, 2]); p3 = np.array([0, 2, 2, 2, 1, 0, 1, 1, 1, 0])
--   yr = np.array([3.0, -0.5, 2.0, 7.0, 4.2, 1.1, 0.0, 5.5]); pr = np.array([2.5, 0.0, 2.1, 7.8, 3.9, 1.5, -0.3, 5.0])
--   metrics.matthews_corrcoef(yt, yp); metrics.precision_score(yt, yp, average='macro')  # micro, weighted; recall_score alike
--   metrics.precision_score(yt, yp, pos_label=0); metrics.recall_score(...); metrics.f1_score(...)
--   metrics.average_precision_score(yt, 1 - ys, pos_label=0); metrics.log_loss(yt == 0, 1 - ys)
--   metrics.brier_score_loss(yt, ys, pos_label=0); metrics.log_loss([1, 1, 0], [0.0, 1.0, 0.0])
--   metrics.accuracy_score(t3, p3); metrics.matthews_corrcoef(t3, p3); metrics.precision_score(t3, p3, average='micro')  # ...
--   metrics.confusion_matrix(t3, p3); metrics.mean_absolute_percentage_error(yr, pr)
--   metrics.roc_curve(yt, ys); metrics.precision_recall_curve(yt, ys); calibration_curve(yt, ys, n_bins=5)  # and 10
