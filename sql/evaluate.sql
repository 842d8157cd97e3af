-- Live evaluation: ml_evaluate scores labeled rows with a project's model and
-- records the realized metrics; on the training rows it reproduces the
-- training metrics.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS mlcycle CASCADE;
CREATE EXTENSION mlcycle;
RESET client_min_messages;
SET mlcycle.progress = off;
\set SHOW_CONTEXT never
CREATE SCHEMA ev;
SET search_path = ev, public;
SELECT setseed(0.6);
CREATE TABLE hist AS
SELECT i AS id, random() * 10 AS x, (ARRAY['a', 'b', 'c'])[1 + floor(random() * 3)::int] AS g,
	   CASE WHEN i % 11 = 0 THEN NULL ELSE random() END AS z
FROM generate_series(1, 800) i;
ALTER TABLE hist ADD COLUMN y float8, ADD COLUMN won bool, ADD COLUMN tier text;
UPDATE hist SET y = 2 * x + CASE g WHEN 'a' THEN 1 ELSE 0 END + random(),
				won = random() < 1 / (1 + exp(-(x - 5))),
				tier = CASE WHEN x + random() * 3 < 4 THEN 'low' WHEN x + random() * 3 < 9 THEN 'mid' ELSE 'high' END;
-- a regression, a binary and a multiclass model, each trained on every row
SELECT model_id FROM ml_train('ev_reg', 'hist', 'y', exclude => '{id,won,tier}', test_size => 0);
SELECT model_id FROM ml_train('ev_bin', 'hist', 'won', exclude => '{id,y,tier}', test_size => 0);
SELECT model_id FROM ml_train('ev_multi', 'hist', 'tier', exclude => '{id,y,won}', test_size => 0);
-- evaluated on the same rows, the realized metrics equal the training metrics
CREATE TABLE evals AS
SELECT p.name, e.* FROM mlcycle.projects p, LATERAL ml_evaluate(p.name, 'hist') e ORDER BY p.name;
SELECT e.name, e.rows, e.rows_skipped,
	   (SELECT bool_and(abs((e.metrics->>k)::float8 - (m.metrics->'train'->>k)::float8) < 1e-9)
		FROM jsonb_object_keys(m.metrics->'train') k) AS same_as_training,
	   e.metrics->>'score_metric' AS score_metric, abs((e.metrics->>'score_change')::float8) < 1e-9 AS no_change
FROM evals e JOIN mlcycle.models m USING (model_id) ORDER BY 1;
-- every call is recorded, and the long view serves dashboards
SELECT p.name, count(*) AS evaluations, bool_and(ev.evaluated_by = current_user) AS by_me
FROM mlcycle.evaluations ev JOIN mlcycle.projects p USING (project_id) GROUP BY 1 ORDER BY 1;
SELECT project, metric FROM mlcycle.evaluation_metrics WHERE project = 'ev_reg' ORDER BY metric;
-- later rows with outcomes arriving: unlabeled rows are skipped and counted
CREATE TABLE fresh AS SELECT id, x, g, z, CASE WHEN id % 4 = 0 THEN NULL ELSE y + 0.5 END AS y FROM hist WHERE id <= 200;
SELECT rows, rows_skipped, (metrics->>'score_change')::float8 < 0 AS worse FROM ml_evaluate('ev_reg', 'fresh');
-- a specific, non-deployed model
SELECT model_id, deployed FROM ml_train('ev_reg', 'hist', 'y', algorithm => 'ridge', hyperparams => '{"alpha": 100}',
										exclude => '{id,won,tier}', deploy => 'none');
SELECT model_id, rows FROM ml_evaluate('ev_reg', 'hist', 4);
-- scoring with a model's bytes gives what ml_predict gives
SELECT bool_and(abs(mlcycle.model_predict(m.model, h) - ml_predict('ev_bin', h)) < 1e-12) AS same_proba,
	   bool_and(mlcycle.model_predict_class(m.model, h) = ml_predict_class('ev_bin', h)) AS same_class
FROM hist h, mlcycle.models m WHERE m.model_id = 2;
SELECT ml_classes('ev_multi'), mlcycle.model_predict_proba(m.model, h) = ml_predict_proba('ev_multi', h) AS same
FROM (SELECT * FROM hist LIMIT 1) h, mlcycle.models m WHERE m.model_id = 3;

-- bad input
CREATE FUNCTION try(q text) RETURNS text LANGUAGE plpgsql AS $$
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
SELECT try($$SELECT ml_evaluate('nope', 'hist')$$);
SELECT try($$SELECT ml_evaluate('ev_reg', 'no_such_table')$$);
SELECT try($$SELECT ml_evaluate('ev_reg', 'hist', 2)$$);
CREATE TABLE nolabel AS SELECT id, x, g, z FROM hist;
SELECT try($$SELECT ml_evaluate('ev_reg', 'nolabel')$$);
CREATE TABLE unlabeled AS SELECT id, x, g, z, NULL::float8 AS y FROM hist LIMIT 5;
SELECT try($$SELECT ml_evaluate('ev_reg', 'unlabeled')$$);
CREATE TABLE missing_feature AS SELECT id, g, z, y FROM hist;
SELECT try($$SELECT ml_evaluate('ev_reg', 'missing_feature')$$);
SELECT model_id, deployed FROM ml_train('ev_none', 'hist', 'y', exclude => '{id,won,tier}', deploy => 'none');
SELECT try($$SELECT ml_evaluate('ev_none', 'hist')$$);
SELECT try($$SELECT mlcycle.model_predict('\x00'::bytea, h) FROM hist h LIMIT 1$$);
-- a role evaluates with its own privileges and sees only its projects' evaluations
DROP ROLE IF EXISTS regress_mlc_eve;
CREATE ROLE regress_mlc_eve;
GRANT USAGE ON SCHEMA ev TO regress_mlc_eve;
SET ROLE regress_mlc_eve;
SELECT count(*) AS visible_evaluations FROM mlcycle.evaluations;
SELECT try($$SELECT ml_evaluate('ev_reg', 'hist')$$);
RESET ROLE;
DROP OWNED BY regress_mlc_eve;
DROP ROLE regress_mlc_eve;
-- performance drift: the latest evaluation's headline metric against training's
CREATE TABLE h AS SELECT i AS x, 2.0 * i + (i % 7) AS y FROM generate_series(1, 300) i;
SELECT model_id FROM ml_train('pd', 'h', 'y', test_size => 0);
SELECT try($$SELECT * FROM ml_performance_drift('pd')$$);
SELECT evaluation_id FROM ml_evaluate('pd', 'h');
SELECT metric, round(drop::numeric, 9) AS drop, threshold, drifted FROM ml_performance_drift('pd');
CREATE TABLE later AS SELECT x, CASE WHEN x % 2 = 0 THEN y + 300 ELSE y - 300 END AS y FROM h;
SELECT evaluation_id FROM ml_evaluate('pd', 'later');
SELECT metric, drop > 0.05 AS big_drop, drifted, relation FROM ml_performance_drift('pd');
SELECT drifted FROM ml_performance_drift('pd', 0.9);
SELECT try($$SELECT * FROM ml_performance_drift('pd', -1)$$);
-- fairness: per group of a sensitive column, with the disparate-impact ratio
CREATE TABLE fair AS SELECT h.*, CASE WHEN id % 7 = 0 THEN NULL ELSE g END AS grp FROM hist h;
SELECT group_value, rows, round(positive_rate::numeric, 4) AS positive_rate, round(disparate_impact::numeric, 4) AS di,
	   passes_80_rule FROM ml_fairness('ev_bin', 'fair', 'grp');
SELECT bool_and(abs(f.accuracy - s.acc) < 1e-12 AND abs(f.positive_rate - s.pr) < 1e-12) AS matches_sql,
	   sum(f.rows) = (SELECT count(*) FROM fair WHERE won IS NOT NULL) AS every_row_once,
	   bool_and(abs(f.disparate_impact - f.positive_rate / (SELECT max(positive_rate) FROM ml_fairness('ev_bin', 'fair', 'grp', record => false)))
				< 1e-12) AS di_against_most_favored
FROM ml_fairness('ev_bin', 'fair', 'grp', record => false) f
JOIN (SELECT coalesce(grp, '(null)') AS g, avg((ml_predict_class('ev_bin', t) = won::text)::int) AS acc,
			 avg((ml_predict_class('ev_bin', t) = 'true')::int) AS pr
	  FROM fair t GROUP BY 1) s ON s.g = f.group_value;
SELECT count(*) AS recorded, bool_and(sensitive_column = 'grp') AS column_kept FROM mlcycle.fairness_reports;
SELECT try($$SELECT * FROM ml_fairness('ev_reg', 'fair', 'grp')$$);
SELECT try($$SELECT * FROM ml_fairness('ev_bin', 'fair', 'gender')$$);
SELECT try($$SELECT * FROM ml_fairness('ev_bin', 'nolabel', 'g')$$);

-- a model card, from the catalog
SELECT c LIKE '# Model card: ev_bin, model 2%' AS title, c LIKE '%- **Status**: deployed%' AS status,
	   c LIKE '%| roc_auc |%' AS metrics_table, c LIKE '%## Realized performance%' AS evaluations,
	   c LIKE '%| x | Yes |%' OR c LIKE '%| x | true |%' AS coefficients, c LIKE '%## Deployment history%' AS history,
	   c LIKE '%evaluated on its own training rows%' AS says_optimistic
FROM ml_model_card('ev_bin') c;
SELECT try($$SELECT ml_model_card('ev_bin', 999)$$);
RESET search_path;
DROP SCHEMA ev CASCADE;

