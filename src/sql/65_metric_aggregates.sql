-- 65_metric_aggregates.sql: evaluation metrics as aggregates over the user's
-- own tables (src/metric_agg.c).  Every aggregate is PARALLEL SAFE, has a
-- combine function and keeps a bytea or float8[] state, so parallel query and
-- Citus can aggregate partially.  Argument order is (prediction, truth) for
-- labels and values, (score or probability, truth) for scores.  Rows with a
-- NULL input are skipped.

-- ---------- result row types ----------

CREATE TYPE mlcycle.curve_point AS (threshold float8, x float8, y float8);
COMMENT ON TYPE mlcycle.curve_point IS
'A point of ml_roc_curve (x = false positive rate, y = true positive rate) or ml_pr_curve (x = recall, y = precision) at a score threshold.';

CREATE TYPE mlcycle.calibration_bin AS (
	bin int,
	lower_bound float8,
	upper_bound float8,
	mean_predicted float8,
	observed_frequency float8,
	count bigint);
COMMENT ON TYPE mlcycle.calibration_bin IS
'A probability bin of ml_calibration: lower_bound < p <= upper_bound (bin 1 also holds 0), the mean predicted probability, the share of positive rows and the row count.';

-- ---------- support functions ----------

CREATE FUNCTION mlcycle.metric_cls_trans(state bytea, pred anycompatible, label anycompatible)
RETURNS bytea AS 'MODULE_PATHNAME', 'mlc_agg_cls_trans'
LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION mlcycle.metric_cls_trans(bytea, anycompatible, anycompatible) IS
'Internal: transition function of the classification metric aggregates (counts label pairs).';

CREATE FUNCTION mlcycle.metric_cls_trans(state bytea, pred anycompatible, label anycompatible, average text)
RETURNS bytea AS 'MODULE_PATHNAME', 'mlc_agg_cls_trans'
LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION mlcycle.metric_cls_trans(bytea, anycompatible, anycompatible, text) IS
'Internal: transition function of the classification metric aggregates, with an average.';

CREATE FUNCTION mlcycle.metric_cls_trans(state bytea, pred anycompatible, label anycompatible, average text,
	pos_label anycompatible)
RETURNS bytea AS 'MODULE_PATHNAME', 'mlc_agg_cls_trans'
LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION mlcycle.metric_cls_trans(bytea, anycompatible, anycompatible, text, anycompatible) IS
'Internal: transition function of the classification metric aggregates, with an average and a positive label.';

CREATE FUNCTION mlcycle.metric_score_trans(state internal, score float8, label anycompatible)
RETURNS internal AS 'MODULE_PATHNAME', 'mlc_agg_score_trans'
LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION mlcycle.metric_score_trans(internal, float8, anycompatible) IS
'Internal: transition function of the ranking metric aggregates (keeps the scores of each label).';

CREATE FUNCTION mlcycle.metric_score_trans(state internal, score float8, label anycompatible, pos_label anycompatible)
RETURNS internal AS 'MODULE_PATHNAME', 'mlc_agg_score_trans'
LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION mlcycle.metric_score_trans(internal, float8, anycompatible, anycompatible) IS
'Internal: transition function of the ranking metric aggregates, with a positive label.';

CREATE FUNCTION mlcycle.metric_score_combine(a internal, b internal) RETURNS internal
AS 'MODULE_PATHNAME', 'mlc_agg_score_combine' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION mlcycle.metric_score_combine(internal, internal) IS
'Internal: combine function of the ranking metric aggregates (merges sorted scores).';

CREATE FUNCTION mlcycle.metric_score_serial(state internal) RETURNS bytea
AS 'MODULE_PATHNAME', 'mlc_agg_score_serial' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION mlcycle.metric_score_serial(internal) IS
'Internal: serial function of the ranking metric aggregates (sorts the scores of each label).';

CREATE FUNCTION mlcycle.metric_score_deserial(bytes bytea, unused internal) RETURNS internal
AS 'MODULE_PATHNAME', 'mlc_agg_score_deserial' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION mlcycle.metric_score_deserial(bytea, internal) IS
'Internal: deserial function of the ranking metric aggregates (checks every value).';

CREATE FUNCTION mlcycle.metric_prob_trans(state bytea, prob float8, label anycompatible)
RETURNS bytea AS 'MODULE_PATHNAME', 'mlc_agg_prob_trans'
LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION mlcycle.metric_prob_trans(bytea, float8, anycompatible) IS
'Internal: transition function of ml_log_loss and ml_brier (sums per label).';

CREATE FUNCTION mlcycle.metric_prob_trans(state bytea, prob float8, label anycompatible, pos_label anycompatible)
RETURNS bytea AS 'MODULE_PATHNAME', 'mlc_agg_prob_trans'
LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION mlcycle.metric_prob_trans(bytea, float8, anycompatible, anycompatible) IS
'Internal: transition function of ml_log_loss and ml_brier, with a positive label.';

CREATE FUNCTION mlcycle.metric_calibration_trans(state bytea, prob float8, label anycompatible)
RETURNS bytea AS 'MODULE_PATHNAME', 'mlc_agg_calib_trans'
LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION mlcycle.metric_calibration_trans(bytea, float8, anycompatible) IS
'Internal: transition function of ml_calibration with 10 bins.';

CREATE FUNCTION mlcycle.metric_calibration_trans(state bytea, prob float8, label anycompatible, bins int)
RETURNS bytea AS 'MODULE_PATHNAME', 'mlc_agg_calib_trans'
LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION mlcycle.metric_calibration_trans(bytea, float8, anycompatible, int) IS
'Internal: transition function of ml_calibration.';

CREATE FUNCTION mlcycle.metric_calibration_trans(state bytea, prob float8, label anycompatible, bins int,
	pos_label anycompatible)
RETURNS bytea AS 'MODULE_PATHNAME', 'mlc_agg_calib_trans'
LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION mlcycle.metric_calibration_trans(bytea, float8, anycompatible, int, anycompatible) IS
'Internal: transition function of ml_calibration, with a positive label.';

CREATE FUNCTION mlcycle.metric_combine(a bytea, b bytea)
RETURNS bytea AS 'MODULE_PATHNAME', 'mlc_agg_combine'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION mlcycle.metric_combine(bytea, bytea) IS
'Internal: combine function of the label-based metric aggregates; checks both states (SQLSTATE XX001 when one is damaged).';

CREATE FUNCTION mlcycle.metric_accuracy_final(state bytea) RETURNS float8
AS 'MODULE_PATHNAME', 'mlc_agg_accuracy_final' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION mlcycle.metric_accuracy_final(bytea) IS 'Internal: final function of ml_accuracy.';

CREATE FUNCTION mlcycle.metric_precision_final(state bytea) RETURNS float8
AS 'MODULE_PATHNAME', 'mlc_agg_precision_final' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION mlcycle.metric_precision_final(bytea) IS 'Internal: final function of ml_precision.';

CREATE FUNCTION mlcycle.metric_recall_final(state bytea) RETURNS float8
AS 'MODULE_PATHNAME', 'mlc_agg_recall_final' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION mlcycle.metric_recall_final(bytea) IS 'Internal: final function of ml_recall.';

CREATE FUNCTION mlcycle.metric_f1_final(state bytea) RETURNS float8
AS 'MODULE_PATHNAME', 'mlc_agg_f1_final' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION mlcycle.metric_f1_final(bytea) IS 'Internal: final function of ml_f1.';

CREATE FUNCTION mlcycle.metric_mcc_final(state bytea) RETURNS float8
AS 'MODULE_PATHNAME', 'mlc_agg_mcc_final' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION mlcycle.metric_mcc_final(bytea) IS 'Internal: final function of ml_mcc.';

CREATE FUNCTION mlcycle.metric_confusion_final(state bytea) RETURNS jsonb
AS 'MODULE_PATHNAME', 'mlc_agg_confusion_final' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION mlcycle.metric_confusion_final(bytea) IS 'Internal: final function of ml_confusion_matrix.';

CREATE FUNCTION mlcycle.metric_roc_auc_final(state internal) RETURNS float8
AS 'MODULE_PATHNAME', 'mlc_agg_roc_auc_final' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION mlcycle.metric_roc_auc_final(internal) IS 'Internal: final function of ml_roc_auc.';

CREATE FUNCTION mlcycle.metric_pr_auc_final(state internal) RETURNS float8
AS 'MODULE_PATHNAME', 'mlc_agg_pr_auc_final' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION mlcycle.metric_pr_auc_final(internal) IS 'Internal: final function of ml_pr_auc.';

CREATE FUNCTION mlcycle.metric_roc_curve_final(state internal) RETURNS mlcycle.curve_point[]
AS 'MODULE_PATHNAME', 'mlc_agg_roc_curve_final' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION mlcycle.metric_roc_curve_final(internal) IS 'Internal: final function of ml_roc_curve.';

CREATE FUNCTION mlcycle.metric_pr_curve_final(state internal) RETURNS mlcycle.curve_point[]
AS 'MODULE_PATHNAME', 'mlc_agg_pr_curve_final' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION mlcycle.metric_pr_curve_final(internal) IS 'Internal: final function of ml_pr_curve.';

CREATE FUNCTION mlcycle.metric_log_loss_final(state bytea) RETURNS float8
AS 'MODULE_PATHNAME', 'mlc_agg_log_loss_final' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION mlcycle.metric_log_loss_final(bytea) IS 'Internal: final function of ml_log_loss.';

CREATE FUNCTION mlcycle.metric_brier_final(state bytea) RETURNS float8
AS 'MODULE_PATHNAME', 'mlc_agg_brier_final' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION mlcycle.metric_brier_final(bytea) IS 'Internal: final function of ml_brier.';

CREATE FUNCTION mlcycle.metric_calibration_final(state bytea) RETURNS mlcycle.calibration_bin[]
AS 'MODULE_PATHNAME', 'mlc_agg_calibration_final' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION mlcycle.metric_calibration_final(bytea) IS 'Internal: final function of ml_calibration.';

CREATE FUNCTION mlcycle.metric_reg_trans(state float8[], pred float8, y float8) RETURNS float8[]
AS 'MODULE_PATHNAME', 'mlc_agg_reg_trans' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION mlcycle.metric_reg_trans(float8[], float8, float8) IS
'Internal: transition function of the regression metric aggregates (Welford update of counts, means and centered sums of squares).';

CREATE FUNCTION mlcycle.metric_reg_combine(a float8[], b float8[]) RETURNS float8[]
AS 'MODULE_PATHNAME', 'mlc_agg_reg_combine' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION mlcycle.metric_reg_combine(float8[], float8[]) IS
'Internal: combine function of the regression metric aggregates (pairwise merge of Chan, Golub and LeVeque).';

CREATE FUNCTION mlcycle.metric_r2_final(state float8[]) RETURNS float8
AS 'MODULE_PATHNAME', 'mlc_agg_r2_final' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION mlcycle.metric_r2_final(float8[]) IS 'Internal: final function of ml_r2.';

CREATE FUNCTION mlcycle.metric_mae_final(state float8[]) RETURNS float8
AS 'MODULE_PATHNAME', 'mlc_agg_mae_final' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION mlcycle.metric_mae_final(float8[]) IS 'Internal: final function of ml_mae.';

CREATE FUNCTION mlcycle.metric_mse_final(state float8[]) RETURNS float8
AS 'MODULE_PATHNAME', 'mlc_agg_mse_final' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION mlcycle.metric_mse_final(float8[]) IS 'Internal: final function of ml_mse.';

CREATE FUNCTION mlcycle.metric_rmse_final(state float8[]) RETURNS float8
AS 'MODULE_PATHNAME', 'mlc_agg_rmse_final' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION mlcycle.metric_rmse_final(float8[]) IS 'Internal: final function of ml_rmse.';

CREATE FUNCTION mlcycle.metric_mape_final(state float8[]) RETURNS float8
AS 'MODULE_PATHNAME', 'mlc_agg_mape_final' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION mlcycle.metric_mape_final(float8[]) IS 'Internal: final function of ml_mape.';

CREATE FUNCTION mlcycle.metric_explained_variance_final(state float8[]) RETURNS float8
AS 'MODULE_PATHNAME', 'mlc_agg_ev_final' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION mlcycle.metric_explained_variance_final(float8[]) IS 'Internal: final function of ml_explained_variance.';

-- ---------- classification: ml_accuracy, ml_precision, ml_recall, ml_f1, ml_mcc, ml_confusion_matrix ----------

CREATE AGGREGATE ml_accuracy(pred anycompatible, label anycompatible) (
	SFUNC = mlcycle.metric_cls_trans, STYPE = bytea, COMBINEFUNC = mlcycle.metric_combine,
	FINALFUNC = mlcycle.metric_accuracy_final, PARALLEL = SAFE);
COMMENT ON AGGREGATE ml_accuracy(anycompatible, anycompatible) IS
'Share of rows whose prediction equals the label (scikit-learn accuracy_score). Arguments: (prediction, truth) of one type (text, bool, integer, numeric, enum, ...); NULLs are skipped; NULL over no rows.';

CREATE AGGREGATE ml_precision(pred anycompatible, label anycompatible) (
	SFUNC = mlcycle.metric_cls_trans, STYPE = bytea, COMBINEFUNC = mlcycle.metric_combine,
	FINALFUNC = mlcycle.metric_precision_final, PARALLEL = SAFE);
COMMENT ON AGGREGATE ml_precision(anycompatible, anycompatible) IS
'Precision (scikit-learn 1.2 precision_score): of the positive class for at most two labels (positive class: the one that reads true, 1, yes, y, t or pos when exactly one does, else the second in sort order), macro-averaged for more. 0 when undefined; NULLs skipped.';

CREATE AGGREGATE ml_precision(pred anycompatible, label anycompatible, average text) (
	SFUNC = mlcycle.metric_cls_trans, STYPE = bytea, COMBINEFUNC = mlcycle.metric_combine,
	FINALFUNC = mlcycle.metric_precision_final, PARALLEL = SAFE);
COMMENT ON AGGREGATE ml_precision(anycompatible, anycompatible, text) IS
'Precision with an average: binary (the positive class; at most two labels), macro, micro or weighted (by true count), over the labels seen in pred or label, as scikit-learn 1.2 defines them.';

CREATE AGGREGATE ml_precision(pred anycompatible, label anycompatible, average text, pos_label anycompatible) (
	SFUNC = mlcycle.metric_cls_trans, STYPE = bytea, COMBINEFUNC = mlcycle.metric_combine,
	FINALFUNC = mlcycle.metric_precision_final, PARALLEL = SAFE);
COMMENT ON AGGREGATE ml_precision(anycompatible, anycompatible, text, anycompatible) IS
'Precision with an average and the positive class (used by average binary, ignored by the others).';

CREATE AGGREGATE ml_recall(pred anycompatible, label anycompatible) (
	SFUNC = mlcycle.metric_cls_trans, STYPE = bytea, COMBINEFUNC = mlcycle.metric_combine,
	FINALFUNC = mlcycle.metric_recall_final, PARALLEL = SAFE);
COMMENT ON AGGREGATE ml_recall(anycompatible, anycompatible) IS
'Recall (scikit-learn 1.2 recall_score): of the positive class for at most two labels, macro-averaged for more. 0 when undefined; NULLs skipped.';

CREATE AGGREGATE ml_recall(pred anycompatible, label anycompatible, average text) (
	SFUNC = mlcycle.metric_cls_trans, STYPE = bytea, COMBINEFUNC = mlcycle.metric_combine,
	FINALFUNC = mlcycle.metric_recall_final, PARALLEL = SAFE);
COMMENT ON AGGREGATE ml_recall(anycompatible, anycompatible, text) IS
'Recall with an average: binary, macro, micro or weighted, as scikit-learn 1.2 defines them.';

CREATE AGGREGATE ml_recall(pred anycompatible, label anycompatible, average text, pos_label anycompatible) (
	SFUNC = mlcycle.metric_cls_trans, STYPE = bytea, COMBINEFUNC = mlcycle.metric_combine,
	FINALFUNC = mlcycle.metric_recall_final, PARALLEL = SAFE);
COMMENT ON AGGREGATE ml_recall(anycompatible, anycompatible, text, anycompatible) IS
'Recall with an average and the positive class (used by average binary, ignored by the others).';

CREATE AGGREGATE ml_f1(pred anycompatible, label anycompatible) (
	SFUNC = mlcycle.metric_cls_trans, STYPE = bytea, COMBINEFUNC = mlcycle.metric_combine,
	FINALFUNC = mlcycle.metric_f1_final, PARALLEL = SAFE);
COMMENT ON AGGREGATE ml_f1(anycompatible, anycompatible) IS
'F1 score (scikit-learn 1.2 f1_score): of the positive class for at most two labels, macro-averaged for more. 0 when undefined; NULLs skipped.';

CREATE AGGREGATE ml_f1(pred anycompatible, label anycompatible, average text) (
	SFUNC = mlcycle.metric_cls_trans, STYPE = bytea, COMBINEFUNC = mlcycle.metric_combine,
	FINALFUNC = mlcycle.metric_f1_final, PARALLEL = SAFE);
COMMENT ON AGGREGATE ml_f1(anycompatible, anycompatible, text) IS
'F1 score with an average: binary, macro, micro or weighted, as scikit-learn 1.2 defines them.';

CREATE AGGREGATE ml_f1(pred anycompatible, label anycompatible, average text, pos_label anycompatible) (
	SFUNC = mlcycle.metric_cls_trans, STYPE = bytea, COMBINEFUNC = mlcycle.metric_combine,
	FINALFUNC = mlcycle.metric_f1_final, PARALLEL = SAFE);
COMMENT ON AGGREGATE ml_f1(anycompatible, anycompatible, text, anycompatible) IS
'F1 score with an average and the positive class (used by average binary, ignored by the others).';

CREATE AGGREGATE ml_mcc(pred anycompatible, label anycompatible) (
	SFUNC = mlcycle.metric_cls_trans, STYPE = bytea, COMBINEFUNC = mlcycle.metric_combine,
	FINALFUNC = mlcycle.metric_mcc_final, PARALLEL = SAFE);
COMMENT ON AGGREGATE ml_mcc(anycompatible, anycompatible) IS
'Matthews correlation coefficient, binary or multiclass (scikit-learn 1.2 matthews_corrcoef); 0 when undefined; NULLs skipped.';

CREATE AGGREGATE ml_confusion_matrix(pred anycompatible, label anycompatible) (
	SFUNC = mlcycle.metric_cls_trans, STYPE = bytea, COMBINEFUNC = mlcycle.metric_combine,
	FINALFUNC = mlcycle.metric_confusion_final, PARALLEL = SAFE);
COMMENT ON AGGREGATE ml_confusion_matrix(anycompatible, anycompatible) IS
'Confusion matrix as jsonb {"labels": [...], "matrix": [[...], ...]}: labels sorted (numbers numerically, false before true, text bytewise), matrix[i][j] = rows with truth labels[i] predicted labels[j] (scikit-learn confusion_matrix).';

-- ---------- scores: ml_roc_auc, ml_pr_auc, ml_log_loss, ml_brier ----------

CREATE AGGREGATE ml_roc_auc(score float8, label anycompatible) (
	SFUNC = mlcycle.metric_score_trans, STYPE = internal, COMBINEFUNC = mlcycle.metric_score_combine,
	SERIALFUNC = mlcycle.metric_score_serial, DESERIALFUNC = mlcycle.metric_score_deserial,
	FINALFUNC = mlcycle.metric_roc_auc_final, PARALLEL = SAFE);
COMMENT ON AGGREGATE ml_roc_auc(float8, anycompatible) IS
'Area under the ROC curve of a score for the positive class (ties count one half; scikit-learn roc_auc_score). Binary: a third label is an error. NULL unless both classes occur in label. Keeps every score, 8 bytes a row, 1 GB at most; parallel workers sort their share.';

CREATE AGGREGATE ml_roc_auc(score float8, label anycompatible, pos_label anycompatible) (
	SFUNC = mlcycle.metric_score_trans, STYPE = internal, COMBINEFUNC = mlcycle.metric_score_combine,
	SERIALFUNC = mlcycle.metric_score_serial, DESERIALFUNC = mlcycle.metric_score_deserial,
	FINALFUNC = mlcycle.metric_roc_auc_final, PARALLEL = SAFE);
COMMENT ON AGGREGATE ml_roc_auc(float8, anycompatible, anycompatible) IS
'Area under the ROC curve with the positive class given.';

CREATE AGGREGATE ml_pr_auc(score float8, label anycompatible) (
	SFUNC = mlcycle.metric_score_trans, STYPE = internal, COMBINEFUNC = mlcycle.metric_score_combine,
	SERIALFUNC = mlcycle.metric_score_serial, DESERIALFUNC = mlcycle.metric_score_deserial,
	FINALFUNC = mlcycle.metric_pr_auc_final, PARALLEL = SAFE);
COMMENT ON AGGREGATE ml_pr_auc(float8, anycompatible) IS
'Average precision of a score (scikit-learn 1.2 average_precision_score: sum of (R_k - R_k-1) P_k over thresholds, no interpolation). NULL when no positive occurs.';

CREATE AGGREGATE ml_pr_auc(score float8, label anycompatible, pos_label anycompatible) (
	SFUNC = mlcycle.metric_score_trans, STYPE = internal, COMBINEFUNC = mlcycle.metric_score_combine,
	SERIALFUNC = mlcycle.metric_score_serial, DESERIALFUNC = mlcycle.metric_score_deserial,
	FINALFUNC = mlcycle.metric_pr_auc_final, PARALLEL = SAFE);
COMMENT ON AGGREGATE ml_pr_auc(float8, anycompatible, anycompatible) IS
'Average precision with the positive class given.';

CREATE AGGREGATE ml_log_loss(prob float8, label anycompatible) (
	SFUNC = mlcycle.metric_prob_trans, STYPE = bytea, COMBINEFUNC = mlcycle.metric_combine,
	FINALFUNC = mlcycle.metric_log_loss_final, PARALLEL = SAFE);
COMMENT ON AGGREGATE ml_log_loss(float8, anycompatible) IS
'Binary log loss of the probability of the positive class, clipped to [1e-15, 1 - 1e-15] (scikit-learn 1.2 log_loss). prob must be in [0, 1].';

CREATE AGGREGATE ml_log_loss(prob float8, label anycompatible, pos_label anycompatible) (
	SFUNC = mlcycle.metric_prob_trans, STYPE = bytea, COMBINEFUNC = mlcycle.metric_combine,
	FINALFUNC = mlcycle.metric_log_loss_final, PARALLEL = SAFE);
COMMENT ON AGGREGATE ml_log_loss(float8, anycompatible, anycompatible) IS
'Binary log loss with the positive class given.';

CREATE AGGREGATE ml_brier(prob float8, label anycompatible) (
	SFUNC = mlcycle.metric_prob_trans, STYPE = bytea, COMBINEFUNC = mlcycle.metric_combine,
	FINALFUNC = mlcycle.metric_brier_final, PARALLEL = SAFE);
COMMENT ON AGGREGATE ml_brier(float8, anycompatible) IS
'Brier score: mean of (outcome - prob)^2, outcome 1 for the positive class (scikit-learn brier_score_loss). prob must be in [0, 1].';

CREATE AGGREGATE ml_brier(prob float8, label anycompatible, pos_label anycompatible) (
	SFUNC = mlcycle.metric_prob_trans, STYPE = bytea, COMBINEFUNC = mlcycle.metric_combine,
	FINALFUNC = mlcycle.metric_brier_final, PARALLEL = SAFE);
COMMENT ON AGGREGATE ml_brier(float8, anycompatible, anycompatible) IS
'Brier score with the positive class given.';

-- ---------- curves and calibration ----------

CREATE AGGREGATE ml_roc_curve(score float8, label anycompatible) (
	SFUNC = mlcycle.metric_score_trans, STYPE = internal, COMBINEFUNC = mlcycle.metric_score_combine,
	SERIALFUNC = mlcycle.metric_score_serial, DESERIALFUNC = mlcycle.metric_score_deserial,
	FINALFUNC = mlcycle.metric_roc_curve_final, PARALLEL = SAFE);
COMMENT ON AGGREGATE ml_roc_curve(float8, anycompatible) IS
'ROC curve as an array of (threshold, x = false positive rate, y = true positive rate), as scikit-learn 1.2 roc_curve: first (max score + 1, 0, 0), then the distinct scores, highest first, without collinear intermediate points. Rows: SELECT * FROM unnest((SELECT ml_roc_curve(score, label) FROM t)). NULL unless both classes occur.';

CREATE AGGREGATE ml_roc_curve(score float8, label anycompatible, pos_label anycompatible) (
	SFUNC = mlcycle.metric_score_trans, STYPE = internal, COMBINEFUNC = mlcycle.metric_score_combine,
	SERIALFUNC = mlcycle.metric_score_serial, DESERIALFUNC = mlcycle.metric_score_deserial,
	FINALFUNC = mlcycle.metric_roc_curve_final, PARALLEL = SAFE);
COMMENT ON AGGREGATE ml_roc_curve(float8, anycompatible, anycompatible) IS
'ROC curve with the positive class given.';

CREATE AGGREGATE ml_pr_curve(score float8, label anycompatible) (
	SFUNC = mlcycle.metric_score_trans, STYPE = internal, COMBINEFUNC = mlcycle.metric_score_combine,
	SERIALFUNC = mlcycle.metric_score_serial, DESERIALFUNC = mlcycle.metric_score_deserial,
	FINALFUNC = mlcycle.metric_pr_curve_final, PARALLEL = SAFE);
COMMENT ON AGGREGATE ml_pr_curve(float8, anycompatible) IS
'Precision-recall curve as an array of (threshold, x = recall, y = precision), as scikit-learn 1.2 precision_recall_curve: the distinct scores, lowest first, then (NULL, 0, 1). NULL when no positive occurs.';

CREATE AGGREGATE ml_pr_curve(score float8, label anycompatible, pos_label anycompatible) (
	SFUNC = mlcycle.metric_score_trans, STYPE = internal, COMBINEFUNC = mlcycle.metric_score_combine,
	SERIALFUNC = mlcycle.metric_score_serial, DESERIALFUNC = mlcycle.metric_score_deserial,
	FINALFUNC = mlcycle.metric_pr_curve_final, PARALLEL = SAFE);
COMMENT ON AGGREGATE ml_pr_curve(float8, anycompatible, anycompatible) IS
'Precision-recall curve with the positive class given.';

CREATE AGGREGATE ml_calibration(prob float8, label anycompatible) (
	SFUNC = mlcycle.metric_calibration_trans, STYPE = bytea, COMBINEFUNC = mlcycle.metric_combine,
	FINALFUNC = mlcycle.metric_calibration_final, PARALLEL = SAFE);
COMMENT ON AGGREGATE ml_calibration(float8, anycompatible) IS
'Reliability table in 10 equal-width probability bins: an array of (bin, lower_bound, upper_bound, mean_predicted, observed_frequency, count), every bin included (empty ones with NULL means), binned as scikit-learn 1.2 calibration_curve (strategy uniform).';

CREATE AGGREGATE ml_calibration(prob float8, label anycompatible, bins int) (
	SFUNC = mlcycle.metric_calibration_trans, STYPE = bytea, COMBINEFUNC = mlcycle.metric_combine,
	FINALFUNC = mlcycle.metric_calibration_final, PARALLEL = SAFE);
COMMENT ON AGGREGATE ml_calibration(float8, anycompatible, int) IS
'Reliability table in the given number of equal-width probability bins (1 to 10000).';

CREATE AGGREGATE ml_calibration(prob float8, label anycompatible, bins int, pos_label anycompatible) (
	SFUNC = mlcycle.metric_calibration_trans, STYPE = bytea, COMBINEFUNC = mlcycle.metric_combine,
	FINALFUNC = mlcycle.metric_calibration_final, PARALLEL = SAFE);
COMMENT ON AGGREGATE ml_calibration(float8, anycompatible, int, anycompatible) IS
'Reliability table with the positive class given.';

-- Set-returning forms over arrays, for data already in arrays or for plotting tools.
CREATE FUNCTION ml_roc_curve(scores float8[], labels anycompatiblearray)
RETURNS SETOF mlcycle.curve_point
LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF cardinality(scores) <> cardinality(labels) THEN
		RAISE EXCEPTION 'scores has % elements and labels has %', cardinality(scores), cardinality(labels)
			USING ERRCODE = 'array_subscript_error', HINT = 'Pass one label per score.';
	END IF;
	RETURN QUERY SELECT p.* FROM unnest((SELECT @extschema@.ml_roc_curve(u.s, u.l)
		FROM unnest(scores, labels) AS u(s, l))) AS p;
END
$$;
COMMENT ON FUNCTION ml_roc_curve(float8[], anycompatiblearray) IS
'Rows (threshold, x = false positive rate, y = true positive rate) of the ROC curve of paired arrays of scores and labels; see the aggregate ml_roc_curve.';

CREATE FUNCTION ml_pr_curve(scores float8[], labels anycompatiblearray)
RETURNS SETOF mlcycle.curve_point
LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF cardinality(scores) <> cardinality(labels) THEN
		RAISE EXCEPTION 'scores has % elements and labels has %', cardinality(scores), cardinality(labels)
			USING ERRCODE = 'array_subscript_error', HINT = 'Pass one label per score.';
	END IF;
	RETURN QUERY SELECT p.* FROM unnest((SELECT @extschema@.ml_pr_curve(u.s, u.l)
		FROM unnest(scores, labels) AS u(s, l))) AS p;
END
$$;
COMMENT ON FUNCTION ml_pr_curve(float8[], anycompatiblearray) IS
'Rows (threshold, x = recall, y = precision) of the precision-recall curve of paired arrays of scores and labels; see the aggregate ml_pr_curve.';

CREATE FUNCTION ml_calibration(probs float8[], labels anycompatiblearray, bins int DEFAULT 10)
RETURNS SETOF mlcycle.calibration_bin
LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF cardinality(probs) <> cardinality(labels) THEN
		RAISE EXCEPTION 'probs has % elements and labels has %', cardinality(probs), cardinality(labels)
			USING ERRCODE = 'array_subscript_error', HINT = 'Pass one label per probability.';
	END IF;
	RETURN QUERY SELECT c.* FROM unnest((SELECT @extschema@.ml_calibration(u.p, u.l, bins)
		FROM unnest(probs, labels) AS u(p, l))) AS c;
END
$$;
COMMENT ON FUNCTION ml_calibration(float8[], anycompatiblearray, int) IS
'Rows (bin, lower_bound, upper_bound, mean_predicted, observed_frequency, count) of the reliability table of paired arrays of probabilities and labels; see the aggregate ml_calibration.';

-- ---------- regression: (prediction, truth) ----------

CREATE AGGREGATE ml_r2(pred float8, y float8) (
	SFUNC = mlcycle.metric_reg_trans, STYPE = float8[], INITCOND = '{0,0,0,0,0,0,0,0,0}',
	COMBINEFUNC = mlcycle.metric_reg_combine, FINALFUNC = mlcycle.metric_r2_final, PARALLEL = SAFE);
COMMENT ON AGGREGATE ml_r2(float8, float8) IS
'Coefficient of determination 1 - SSE/SST of predictions pred against true values y (note the order: prediction first). scikit-learn 1.2 r2_score: 1 for a perfect fit of a constant y, 0 for an imperfect one; NULL with fewer than two rows.';

CREATE AGGREGATE ml_mae(pred float8, y float8) (
	SFUNC = mlcycle.metric_reg_trans, STYPE = float8[], INITCOND = '{0,0,0,0,0,0,0,0,0}',
	COMBINEFUNC = mlcycle.metric_reg_combine, FINALFUNC = mlcycle.metric_mae_final, PARALLEL = SAFE);
COMMENT ON AGGREGATE ml_mae(float8, float8) IS 'Mean absolute error of pred against y (compensated sum).';

CREATE AGGREGATE ml_mse(pred float8, y float8) (
	SFUNC = mlcycle.metric_reg_trans, STYPE = float8[], INITCOND = '{0,0,0,0,0,0,0,0,0}',
	COMBINEFUNC = mlcycle.metric_reg_combine, FINALFUNC = mlcycle.metric_mse_final, PARALLEL = SAFE);
COMMENT ON AGGREGATE ml_mse(float8, float8) IS 'Mean squared error of pred against y.';

CREATE AGGREGATE ml_rmse(pred float8, y float8) (
	SFUNC = mlcycle.metric_reg_trans, STYPE = float8[], INITCOND = '{0,0,0,0,0,0,0,0,0}',
	COMBINEFUNC = mlcycle.metric_reg_combine, FINALFUNC = mlcycle.metric_rmse_final, PARALLEL = SAFE);
COMMENT ON AGGREGATE ml_rmse(float8, float8) IS 'Root mean squared error of pred against y.';

CREATE AGGREGATE ml_mape(pred float8, y float8) (
	SFUNC = mlcycle.metric_reg_trans, STYPE = float8[], INITCOND = '{0,0,0,0,0,0,0,0,0}',
	COMBINEFUNC = mlcycle.metric_reg_combine, FINALFUNC = mlcycle.metric_mape_final, PARALLEL = SAFE);
COMMENT ON AGGREGATE ml_mape(float8, float8) IS
'Mean absolute percentage error as a fraction: mean of |y - pred| / max(|y|, 2.220446049250313e-16) (scikit-learn 1.2 mean_absolute_percentage_error; a y of 0 gives a huge value).';

CREATE AGGREGATE ml_explained_variance(pred float8, y float8) (
	SFUNC = mlcycle.metric_reg_trans, STYPE = float8[], INITCOND = '{0,0,0,0,0,0,0,0,0}',
	COMBINEFUNC = mlcycle.metric_reg_combine, FINALFUNC = mlcycle.metric_explained_variance_final, PARALLEL = SAFE);
COMMENT ON AGGREGATE ml_explained_variance(float8, float8) IS
'Explained variance 1 - Var(y - pred)/Var(y) (scikit-learn 1.2 explained_variance_score, force_finite).';
