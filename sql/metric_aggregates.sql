-- Evaluation metric aggregates: labels of several types, averages, scores,
-- curves, calibration, regression, NULLs, bad input (SQLSTATE, message, hint),
-- damaged states, and a parallel plan that gives the serial results.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS mlcycle CASCADE;
CREATE EXTENSION mlcycle;
RESET client_min_messages;
\set SHOW_CONTEXT never
-- this test's objects live in a schema of their own, dropped at the end
CREATE SCHEMA metric_aggregates;
SET search_path = metric_aggregates, public;
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
-- r(x) rounds a metric for display
CREATE FUNCTION r(x float8) RETURNS numeric LANGUAGE sql IMMUTABLE RETURN round(x::numeric, 12);

-- the binary reference set: y, score, and pred = (score >= 0.5)
CREATE TABLE cls (id int, y int, score float8);
INSERT INTO cls SELECT i, y, s
FROM unnest('{0,0,1,1,0,1,0,1,1,0,1,0}'::int[], '{0.1,0.4,0.35,0.8,0.4,0.8,0.2,0.4,0.9,0.3,0.5,0.5}'::float8[])
	WITH ORDINALITY AS u(y, s, i);
ALTER TABLE cls ADD COLUMN pred int;
UPDATE cls SET pred = (score >= 0.5)::int;

-- classification on integer labels: the positive class is 1 (it reads true)
SELECT r(ml_accuracy(pred, y)) AS accuracy, r(ml_precision(pred, y)) AS precision, r(ml_recall(pred, y)) AS recall,
	   r(ml_f1(pred, y)) AS f1, r(ml_mcc(pred, y)) AS mcc FROM cls;
SELECT r(ml_f1(pred, y, 'binary')) AS binary, r(ml_f1(pred, y, 'macro')) AS macro, r(ml_f1(pred, y, 'micro')) AS micro,
	   r(ml_f1(pred, y, 'weighted')) AS weighted FROM cls;
SELECT r(ml_precision(pred, y, 'macro')) AS p_macro, r(ml_recall(pred, y, 'weighted')) AS r_weighted,
	   r(ml_precision(pred, y, 'binary', 0)) AS p_of_0, r(ml_recall(pred, y, 'binary', 0)) AS r_of_0,
	   r(ml_f1(pred, y, 'binary', 0)) AS f1_of_0 FROM cls;
SELECT ml_confusion_matrix(pred, y) FROM cls;
-- the same labels as text, bool, bigint, numeric and an enum; int and bigint mix
SELECT r(ml_f1(pred::text, y::text)) AS text, r(ml_f1(pred::bool, y::bool)) AS bool, r(ml_f1(pred::bigint, y::bigint)) AS int8,
	   r(ml_f1(pred::numeric, y::numeric)) AS numeric, r(ml_f1(pred::float4, y::float4)) AS float4,
	   r(ml_f1(pred, y::bigint)) AS int4_int8, r(ml_f1(pred::varchar, y::text)) AS varchar_text FROM cls;
CREATE TYPE answer AS ENUM ('yes', 'no');
SELECT r(ml_f1(CASE pred WHEN 1 THEN 'yes' ELSE 'no' END::answer, CASE y WHEN 1 THEN 'yes' ELSE 'no' END::answer)) AS enum_yes_positive,
	   ml_confusion_matrix(CASE pred WHEN 1 THEN 'yes' ELSE 'no' END::answer, CASE y WHEN 1 THEN 'yes' ELSE 'no' END::answer) FROM cls;
SELECT ml_confusion_matrix(pred::bool, y::bool) AS bool, ml_confusion_matrix(pred + 0.5, y + 0.5) AS numeric FROM cls;
-- 1.0 and 1.00 are one numeric label; 'a ' and 'a' one char(2) label
SELECT ml_accuracy(p, l) AS numeric_equal, ml_confusion_matrix(p, l) FROM (VALUES (1.0, 1.00), (2.5, 2.50)) v(p, l);
SELECT ml_accuracy(p::char(2), l::char(2)) AS bpchar_equal FROM (VALUES ('a ', 'a'), ('b', 'b ')) v(p, l);
-- default positive class: the label that reads true, else the second in sort order
SELECT r(ml_precision(p, l)) AS yes_no FROM (VALUES ('yes', 'yes'), ('yes', 'no'), ('no', 'no')) v(p, l);
SELECT r(ml_precision(p, l)) AS cat_dog_is_dog FROM (VALUES ('dog', 'dog'), ('dog', 'cat'), ('cat', 'cat')) v(p, l);
SELECT r(ml_precision(p, l)) AS one_two_is_one FROM (VALUES (1, 1), (1, 2), (2, 2), (2, 2)) v(p, l);
SELECT r(ml_precision(p, l)) AS neg1_pos1_is_1 FROM (VALUES (-1, -1), (1, -1), (1, 1)) v(p, l);
SELECT r(ml_precision(p, l)) AS t_true_is_true FROM (VALUES ('t', 't'), ('t', 'true'), ('true', 'true')) v(p, l);
SELECT r(ml_precision(p, l, 'binary', 'cat')) AS pos_label_cat FROM (VALUES ('dog', 'dog'), ('dog', 'cat'), ('cat', 'cat')) v(p, l);
-- one label only: positive when it reads true, else absent (precision and recall 0)
SELECT ml_precision(p, l) AS only_yes, ml_recall(p, l) FROM (VALUES ('yes', 'yes')) v(p, l);
SELECT ml_precision(p, l) AS only_cat, ml_recall(p, l), ml_accuracy(p, l), ml_mcc(p, l) FROM (VALUES ('cat', 'cat')) v(p, l);

-- multiclass: the default average is macro
CREATE TABLE mc (pred text, label text);
INSERT INTO mc SELECT chr(97 + p), chr(97 + l)
FROM unnest('{0,2,2,2,1,0,1,1,1,0}'::int[], '{0,1,2,2,1,0,2,1,0,2}'::int[]) AS u(p, l);
SELECT r(ml_f1(pred, label)) AS default, r(ml_f1(pred, label, 'macro')) AS macro, r(ml_f1(pred, label, 'micro')) AS micro,
	   r(ml_f1(pred, label, 'weighted')) AS weighted, r(ml_mcc(pred, label)) AS mcc FROM mc;
SELECT r(ml_precision(pred, label)) AS precision, r(ml_recall(pred, label)) AS recall, r(ml_accuracy(pred, label)) AS accuracy,
	   ml_confusion_matrix(pred, label) FROM mc;
-- labels are the union of pred and label: 'z' is only predicted
SELECT r(ml_recall(p, l, 'macro')) AS macro_recall, ml_confusion_matrix(p, l) FROM (VALUES ('a', 'a'), ('z', 'b'), ('b', 'b')) v(p, l);

-- scores and probabilities
SELECT r(ml_roc_auc(score, y)) AS roc_auc, r(ml_pr_auc(score, y)) AS pr_auc, r(ml_log_loss(score, y)) AS log_loss,
	   r(ml_brier(score, y)) AS brier FROM cls;
SELECT r(ml_roc_auc(score, y = 1)) AS bool, r(ml_roc_auc(score, CASE y WHEN 1 THEN 'pos' ELSE 'neg' END)) AS pos_neg,
	   r(ml_pr_auc(1 - score, y, 0)) AS pr_auc_of_0, r(ml_brier(score, y, 0)) AS brier_of_0,
	   r(ml_log_loss(1 - score, y, 0)) AS log_loss_of_0 FROM cls;
-- probabilities 0 and 1 are clipped to machine epsilon in log loss
SELECT r(ml_log_loss(p, l)) AS clipped FROM (VALUES (0.0, 1), (1.0, 1), (0.0, 0)) v(p, l);
-- one class in the truth: ROC AUC and its curve are NULL; average precision needs a positive
SELECT ml_roc_auc(s, l) AS auc_no_neg, ml_roc_curve(s, l) IS NULL AS curve_null, ml_pr_auc(s, l) AS ap_no_neg
FROM (VALUES (0.3, 'yes'), (0.6, 'yes')) v(s, l);
SELECT ml_roc_auc(s, l) AS auc_no_pos, ml_pr_auc(s, l) AS ap_no_pos, ml_pr_curve(s, l) IS NULL AS pr_curve_null,
	   r(ml_log_loss(s, l)) AS log_loss, r(ml_brier(s, l)) AS brier FROM (VALUES (0.3, 0), (0.6, 0)) v(s, l);

-- curves: an array per group, rows with unnest
SELECT * FROM unnest((SELECT ml_roc_curve(score, y) FROM cls));
SELECT * FROM unnest((SELECT ml_pr_curve(score, y) FROM cls));
SELECT * FROM ml_roc_curve(ARRAY[0.1, 0.4, 0.35, 0.8], ARRAY['n', 'n', 'p', 'p']);
SELECT * FROM ml_pr_curve(ARRAY[0.1, 0.4, 0.35, 0.8], ARRAY[false, false, true, true]);
SELECT g, c.* FROM (SELECT id % 2 AS g, ml_roc_curve(score, y) AS pts FROM cls GROUP BY 1) s
	CROSS JOIN LATERAL unnest(s.pts) c ORDER BY g, c.threshold DESC;
-- calibration: every bin, empty ones with NULL means
SELECT bin, lower_bound, upper_bound, r(mean_predicted) AS mean_predicted, r(observed_frequency) AS observed_frequency, count
FROM unnest((SELECT ml_calibration(score, y, 5) FROM cls));
SELECT bin, r(mean_predicted) AS mean_predicted, r(observed_frequency) AS observed_frequency, count
FROM unnest((SELECT ml_calibration(score, y) FROM cls)) WHERE count > 0;
SELECT bin, count FROM ml_calibration(ARRAY[0, 0.1, 0.30000000000000004, 0.3, 1], ARRAY[0, 0, 1, 1, 1]);

-- regression: (prediction, truth)
CREATE TABLE reg (y float8, pred float8);
INSERT INTO reg SELECT * FROM unnest('{3.0,-0.5,2.0,7.0,4.2,1.1,0.0,5.5}'::float8[], '{2.5,0.0,2.1,7.8,3.9,1.5,-0.3,5.0}'::float8[]);
SELECT r(ml_r2(pred, y)) AS r2, r(ml_mae(pred, y)) AS mae, r(ml_mse(pred, y)) AS mse, r(ml_rmse(pred, y)) AS rmse,
	   r(ml_explained_variance(pred, y)) AS explained_variance FROM reg;
SELECT ml_mape(pred, y) > 1e14 AS mape_huge_with_y_0, r(ml_mape(pred, y) FILTER (WHERE y <> 0)) AS mape_without_0 FROM reg;
-- a large offset does not cancel: the same metrics on y + 1e9 (data rounded at 1e-7)
SELECT abs(ml_r2(pred + 1e9, y + 1e9) - 0.9646260577876039) < 1e-6 AS r2_offset,
	   abs(ml_explained_variance(pred + 1e9, y + 1e9) - 0.9647277070468349) < 1e-6 AS ev_offset,
	   abs(ml_mse(pred + 1e9, y + 1e9) - 0.2175) < 1e-6 AS mse_offset FROM reg;
-- constant truth: r2 1 when exact, 0 otherwise; fewer than two rows: r2 NULL
SELECT ml_r2(p, y) AS exact, ml_explained_variance(p, y) AS ev_exact FROM (VALUES (2.0, 2.0), (2.0, 2.0)) v(p, y);
SELECT ml_r2(p, y) AS inexact, ml_explained_variance(p, y) AS ev_inexact FROM (VALUES (1.0, 2.0), (3.0, 2.0)) v(p, y);
SELECT ml_r2(p, y) AS one_row, ml_mae(p, y), ml_explained_variance(p, y) FROM (VALUES (1.0, 2.0)) v(p, y);

-- NULLs are skipped; no rows (or only NULLs) give NULL
SELECT ml_accuracy(p, l) AS acc, ml_roc_auc(s, l) AS auc, ml_mae(s, p) AS mae
FROM (VALUES (1, 1, 0.9), (0, 0, 0.1), (NULL, 1, NULL), (1, NULL, 0.5), (0, 1, NULL)) v(p, l, s);
SELECT ml_accuracy(p, l) AS acc, ml_f1(p, l, 'macro') AS f1, ml_roc_auc(s, l) AS auc, ml_log_loss(s, l) AS ll,
	   ml_r2(s, s) AS r2, ml_confusion_matrix(p, l) AS cm, ml_calibration(s, l) AS cal
FROM (VALUES (NULL::int, NULL::int, NULL::float8)) v(p, l, s);
SELECT ml_accuracy(p, l) AS acc, ml_mse(s, s) AS mse, ml_roc_curve(s, l) AS curve FROM (VALUES (1, 1, 0.5)) v(p, l, s) WHERE false;
-- several aggregates over the same arguments, in one query, by group, and as window functions
SELECT g, ml_accuracy(pred, y) = avg((pred = y)::int) AS same_accuracy, r(ml_f1(pred, y)) AS f1
FROM (SELECT id % 3 AS g, pred, y FROM cls) s GROUP BY g ORDER BY g;
SELECT id, r(ml_accuracy(pred, y) OVER (ORDER BY id)) AS running_accuracy,
	   r(ml_roc_auc(score, y) OVER (ORDER BY id)) AS running_auc FROM cls ORDER BY id;

-- bad input
SELECT try($$SELECT ml_f1(pred, label, 'binary') FROM mc$$);
SELECT try($$SELECT ml_precision(pred, y, 'average') FROM cls$$);
SELECT try($$SELECT ml_precision(pred, y, 'Macro') FROM cls$$);
SELECT try($$SELECT ml_recall(pred, y, NULL) FROM cls$$);
SELECT try($$SELECT ml_recall(pred, y, 'binary', NULL) FROM cls$$);
SELECT try($$SELECT ml_recall(pred, y, 'binary', 7) FROM cls$$);
SELECT try($$SELECT ml_f1(pred, y, CASE WHEN id < 6 THEN 'macro' ELSE 'micro' END) FROM cls$$);
SELECT try($$SELECT ml_f1(pred, y, 'binary', CASE WHEN id < 6 THEN 1 ELSE 0 END) FROM cls$$);
SELECT try($$SELECT ml_accuracy(p, l) FROM (VALUES (1, 'a')) v(p, l)$$);
SELECT try($$SELECT ml_accuracy(p, l) FROM (VALUES ('NaN'::float8, 1.0)) v(p, l)$$);
SELECT try($$SELECT ml_accuracy(p, l) FROM (VALUES (1.0, 'Infinity'::numeric)) v(p, l)$$);
SELECT try($$SELECT ml_accuracy(p, l) FROM (SELECT i, i FROM generate_series(1, 1100) i) v(p, l)$$);
SELECT try($$SELECT ml_accuracy(p, l) FROM (VALUES (repeat('x', 9000), 'a')) v(p, l)$$);
SELECT try($$SELECT ml_roc_auc(s, l) FROM (VALUES (0.1, 'a'), (0.2, 'b'), (0.3, 'c')) v(s, l)$$);
SELECT try($$SELECT ml_roc_auc(s, l, 'z') FROM (VALUES (0.1, 'a'), (0.2, 'b')) v(s, l)$$);
SELECT try($$SELECT ml_roc_auc(s, l) FROM (VALUES ('NaN'::float8, 1)) v(s, l)$$);
SELECT try($$SELECT ml_pr_auc(s, l) FROM (VALUES ('-Infinity'::float8, 1)) v(s, l)$$);
SELECT try($$SELECT ml_log_loss(p, l) FROM (VALUES (1.5, 1)) v(p, l)$$);
SELECT try($$SELECT ml_brier(p, l) FROM (VALUES (-0.1, true)) v(p, l)$$);
SELECT try($$SELECT ml_brier(p, l) FROM (VALUES ('NaN'::float8, true)) v(p, l)$$);
SELECT try($$SELECT ml_calibration(p, l, 0) FROM (VALUES (0.5, 1)) v(p, l)$$);
SELECT try($$SELECT ml_calibration(p, l, NULL) FROM (VALUES (0.5, 1)) v(p, l)$$);
SELECT try($$SELECT ml_calibration(p, l, i) FROM (VALUES (0.5, 1, 5), (0.5, 1, 6)) v(p, l, i)$$);
SELECT try($$SELECT ml_calibration(p, l) FROM (VALUES (2, 1)) v(p, l)$$);
SELECT try($$SELECT ml_r2(p, y) FROM (VALUES ('NaN'::float8, 1.0)) v(p, y)$$);
SELECT try($$SELECT ml_mae(p, y) FROM (VALUES (1.0, '-Infinity'::float8)) v(p, y)$$);
SELECT try($$SELECT ml_mse(p, y) FROM (VALUES (1e308, -1e308)) v(p, y)$$);
SELECT try($$SELECT * FROM ml_roc_curve(ARRAY[0.1, 0.2], ARRAY[1])$$);
SELECT try($$SELECT * FROM ml_calibration(ARRAY[0.1], ARRAY[1, 0], 4)$$);

-- damaged states: errors with SQLSTATE XX001, never a crash
CREATE TABLE good_state AS SELECT mlcycle.metric_cls_trans(mlcycle.metric_cls_trans(NULL, 'a'::text, 'b'::text), 'b', 'b') AS s;
SELECT length(s) AS state_bytes, mlcycle.metric_accuracy_final(s) AS accuracy_of_state FROM good_state;
SELECT try($$SELECT mlcycle.metric_accuracy_final('\x00')$$);
SELECT try($$SELECT mlcycle.metric_accuracy_final(set_byte(s, 0, 0)) FROM good_state$$);
SELECT try($$SELECT mlcycle.metric_accuracy_final(substr(s, 1, length(s) - 1)) FROM good_state$$);
SELECT try($$SELECT mlcycle.metric_accuracy_final(s || '\x00'::bytea) FROM good_state$$);
SELECT try($$SELECT mlcycle.metric_combine(s, set_byte(s, 16, 200)) FROM good_state$$);
SELECT try($$SELECT mlcycle.metric_cls_trans(set_byte(s, 6, 9), 'a'::text, 'b'::text) FROM good_state$$);
SELECT try($$SELECT mlcycle.metric_r2_final('{1,2,3}')$$);
SELECT try($$SELECT mlcycle.metric_r2_final('{1,0,0,0,0,0,0,0,NaN}')$$);
SELECT try($$SELECT mlcycle.metric_reg_combine('{0,0,0,0,0,0,0,0,0}', '{-1,0,0,0,0,0,0,0,0}')$$);
-- a hand-made aggregate with a bogus initial state
CREATE AGGREGATE bogus_accuracy(text, text) (SFUNC = mlcycle.metric_cls_trans, STYPE = bytea, INITCOND = '\xdeadbeef',
	FINALFUNC = mlcycle.metric_accuracy_final);
SELECT try($$SELECT bogus_accuracy(p, l) FROM (VALUES ('a', 'b')) v(p, l)$$);
-- every byte of real states overwritten with 0x00, 0x7f and 0xff: each an error or a result
CREATE FUNCTION mutate_all(s bytea, final text) RETURNS TABLE (outcome text, n bigint) LANGUAGE plpgsql AS $$
DECLARE
	i int; v int; res text;
	outcomes text[] := '{}';
BEGIN
	FOR i IN 0 .. length(s) - 1 LOOP
		FOREACH v IN ARRAY ARRAY[0, 127, 255] LOOP
			BEGIN
				EXECUTE format('SELECT mlcycle.%I($1)::text', final) INTO res USING set_byte(s, i, v);
				outcomes := outcomes || 'ok'::text;
			EXCEPTION WHEN OTHERS THEN
				outcomes := outcomes || SQLSTATE;
			END;
			BEGIN
				PERFORM mlcycle.metric_combine(set_byte(s, i, v), s);
			EXCEPTION WHEN OTHERS THEN
				outcomes := outcomes || ('combine ' || SQLSTATE);
			END;
		END LOOP;
	END LOOP;
	RETURN QUERY SELECT o, count(*) FROM unnest(outcomes) o GROUP BY o ORDER BY o;
END
$$;
SELECT * FROM mutate_all((SELECT s FROM good_state), 'metric_confusion_final');
SELECT * FROM mutate_all(mlcycle.metric_prob_trans(NULL, 0.5, true), 'metric_log_loss_final');
SELECT * FROM mutate_all(mlcycle.metric_calibration_trans(NULL, 0.5, 'x'::text, 2), 'metric_calibration_final');
-- the state's text form round-trips (Citus ships partial states as text)
SELECT mlcycle.metric_accuracy_final(s::text::bytea) FROM good_state;

-- a parallel plan gives the serial results
SELECT setseed(0.25);
CREATE TABLE par AS
SELECT i AS id, (ARRAY['a', 'b', 'c'])[1 + floor(random() * 3)::int] AS label, random() AS score, random() * 100 AS y
FROM generate_series(1, 30000) i;
ALTER TABLE par ADD COLUMN pred text, ADD COLUMN yhat float8, ADD COLUMN bin bool;
UPDATE par SET pred = CASE WHEN random() < 0.6 THEN label ELSE (ARRAY['a', 'b', 'c'])[1 + floor(random() * 3)::int] END,
	yhat = y + 1000 * (random() - 0.5) / 100, bin = (label = 'a');
UPDATE par SET label = NULL WHERE id % 1000 = 7;
ANALYZE par;
CREATE TEMP TABLE serial AS
SELECT ml_accuracy(pred, label) AS acc, ml_f1(pred, label) AS f1, ml_f1(pred, label, 'weighted') AS f1w, ml_mcc(pred, label) AS mcc,
	   ml_confusion_matrix(pred, label) AS cm, ml_roc_auc(score, bin) AS auc, ml_pr_auc(score, bin) AS ap,
	   ml_log_loss(score, bin) AS ll, ml_brier(score, bin) AS brier, ml_roc_curve(score, bin) AS roc,
	   ml_calibration(score, bin, 7) AS cal, ml_r2(yhat, y) AS r2, ml_mae(yhat, y) AS mae, ml_rmse(yhat, y) AS rmse,
	   ml_mape(yhat, y) AS mape, ml_explained_variance(yhat, y) AS ev
FROM par;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
-- the same aggregates, compared with a tolerance, in a parallel plan (EXPLAIN shows the Partial Aggregate)
CREATE VIEW par_check AS
WITH p AS (
	SELECT ml_accuracy(pred, label) AS acc, ml_f1(pred, label) AS f1, ml_f1(pred, label, 'weighted') AS f1w,
		   ml_mcc(pred, label) AS mcc, ml_confusion_matrix(pred, label) AS cm, ml_roc_auc(score, bin) AS auc,
		   ml_pr_auc(score, bin) AS ap, ml_log_loss(score, bin) AS ll, ml_brier(score, bin) AS brier,
		   ml_roc_curve(score, bin) AS roc, ml_calibration(score, bin, 7) AS cal, ml_r2(yhat, y) AS r2,
		   ml_mae(yhat, y) AS mae, ml_rmse(yhat, y) AS rmse, ml_mape(yhat, y) AS mape, ml_explained_variance(yhat, y) AS ev
	FROM par)
SELECT abs(p.acc - s.acc) < 1e-12 AS acc, abs(p.f1 - s.f1) < 1e-12 AS f1, abs(p.f1w - s.f1w) < 1e-12 AS f1w,
	   abs(p.mcc - s.mcc) < 1e-12 AS mcc, p.cm = s.cm AS cm, abs(p.auc - s.auc) < 1e-12 AS auc,
	   abs(p.ap - s.ap) < 1e-12 AS ap, abs(p.ll - s.ll) < 1e-12 AS ll, abs(p.brier - s.brier) < 1e-12 AS brier,
	   p.roc = s.roc AS roc,
	   (SELECT bool_and(abs(a.mean_predicted - b.mean_predicted) < 1e-12
						AND a.observed_frequency = b.observed_frequency AND a.count = b.count)
		FROM unnest(p.cal) a JOIN unnest(s.cal) b USING (bin)) AS cal,
	   abs(p.r2 - s.r2) < 1e-12 AS r2, abs(p.mae - s.mae) < 1e-12 AS mae, abs(p.rmse - s.rmse) < 1e-12 AS rmse,
	   abs(p.mape / s.mape - 1) < 1e-12 AS mape, abs(p.ev - s.ev) < 1e-12 AS ev
FROM p, serial s;
EXPLAIN (costs off) SELECT * FROM par_check;
SELECT * FROM par_check;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;

-- the metric aggregates: every one parallel safe, with a combine function, and a bytea or
-- float8[] state, or an internal one (the ranking metrics) with serial and deserial functions
SELECT count(*) AS aggregates, bool_and(p.proparallel = 's') AS parallel_safe, bool_and(a.aggcombinefn <> 0) AS combine,
	   bool_and(a.aggtranstype IN ('bytea'::regtype, 'float8[]'::regtype) OR
				(a.aggtranstype = 'internal'::regtype AND a.aggserialfn <> 0 AND a.aggdeserialfn <> 0)) AS state,
	   bool_and(obj_description(p.oid, 'pg_proc') IS NOT NULL) AS documented
FROM pg_aggregate a JOIN pg_proc p ON p.oid = a.aggfnoid
JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'mlcycle'
WHERE p.proname ~ '^ml_(accuracy|precision|recall|f1|mcc|confusion_matrix|roc_auc|pr_auc|log_loss|brier|roc_curve|pr_curve|calibration|r2|mae|mse|rmse|mape|explained_variance)$';

-- past 1024 scores per class the ranking sorts by radix: equal to the rank-sum (Mann-Whitney)
-- AUC computed in SQL, with ties, negative scores and both zeros
CREATE TABLE auc_big AS
SELECT CASE WHEN i % 97 = 0 THEN (CASE WHEN i % 2 = 0 THEN '-0'::float8 ELSE '0'::float8 END)
			ELSE round((sin(i) * 1000)::numeric, 1)::float8 END AS s,
	   (i * 7919) % 10 < 3 + (i % 4) AS l
FROM generate_series(1, 20000) i;
SELECT abs(ml_roc_auc(s, l) - (
	SELECT (sum(r) FILTER (WHERE l) - np * (np + 1) / 2) / (np * nn)
	FROM (SELECT l, (2 * rank() OVER (ORDER BY s) + count(*) OVER (PARTITION BY s) - 1) / 2.0 AS r,
				 count(*) FILTER (WHERE l) OVER () AS np, count(*) FILTER (WHERE NOT l) OVER () AS nn
		  FROM auc_big) q GROUP BY np, nn)) < 1e-12 AS radix_matches_rank_sum,
	   abs(ml_roc_auc(-s, l) - (1 - ml_roc_auc(s, l))) < 1e-12 AS reversed
FROM auc_big;
SET client_min_messages = warning;
RESET search_path;
DROP SCHEMA metric_aggregates CASCADE;
RESET client_min_messages;
