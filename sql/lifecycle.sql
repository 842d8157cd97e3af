-- Model lifecycle: retirement (kept for audit, never deployed again), model
-- deletion, project drop, and the audit trail.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS mlcycle CASCADE;
CREATE EXTENSION mlcycle;
RESET client_min_messages;
SET mlcycle.progress = off;
\set SHOW_CONTEXT never
CREATE SCHEMA lc;
SET search_path = lc, public;
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
CREATE TABLE pts AS SELECT i AS x, 2.0 * i + 1 + (i % 5) AS y FROM generate_series(1, 60) i;
CREATE TABLE noisy AS SELECT i AS x, 2.0 * i + 1 + (i % 5) * 9 AS y FROM generate_series(1, 60) i;
SELECT model_id, deployed FROM ml_train('lc', 'pts', 'y');
SELECT model_id, deployed FROM ml_train('lc', 'noisy', 'y', deploy => 'none');
SELECT model_id, deployed FROM ml_train('lc', 'pts', 'y', algorithm => 'ridge', hyperparams => '{"alpha": 50}', deploy => 'none');
-- the deployed model cannot be retired or deleted
SELECT try($$SELECT ml_retire_model(1, 'old')$$);
SELECT try($$SELECT ml_delete_model(1)$$);
SELECT try($$SELECT ml_retire_model(3, '')$$);
SELECT try($$SELECT ml_retire_model(99, 'gone')$$);
-- retire model 3: it stays, and no strategy deploys it
SELECT ml_retire_model(3, 'too much regularization');
SELECT ml_retire_model(3, 'again');
SELECT model_id, retired_at IS NOT NULL AS retired, retired_by = current_user AS by_me, retired_reason
FROM mlcycle.models ORDER BY model_id;
SELECT try($$SELECT ml_deploy('lc', 'specific', 3)$$);
SELECT ml_deploy('lc', 'most_recent');
SELECT ml_deploy('lc', 'best_score');
-- rollback skips retired models
SELECT ml_deploy('lc', 'specific', 2);
SELECT ml_retire_model(1, 'replaced');
SELECT try($$SELECT ml_deploy('lc', 'rollback')$$);
-- deleting a model removes its deployment history and evaluations, and says so
SELECT evaluation_id FROM ml_evaluate('lc', 'pts', 1);
SELECT ml_delete_model(1);
SELECT count(*) AS deployments_left FROM mlcycle.deployments;
SELECT project, model_id, action, detail->>'deployments_removed' AS deployments, detail->>'evaluations_removed' AS evaluations,
	   detail->>'reason' AS reason, actor = current_user AS by_me
FROM mlcycle.audit_log WHERE action IN ('retire', 'delete_model', 'drop_project') ORDER BY audit_id;
-- another role sees none of it and can change none of it
DROP ROLE IF EXISTS regress_mlc_mallory;
CREATE ROLE regress_mlc_mallory;
GRANT USAGE ON SCHEMA lc TO regress_mlc_mallory;
SET ROLE regress_mlc_mallory;
SELECT count(*) AS visible_audit FROM mlcycle.audit_log;
SELECT try($$SELECT ml_retire_model(2, 'mine now')$$);
SELECT try($$SELECT ml_delete_model(2)$$);
SELECT try($$SELECT ml_drop_project('lc')$$);
SELECT try($$UPDATE mlcycle.models SET model = '\x00'$$);
RESET ROLE;
-- dropping the project removes everything of it, recorded in the audit trail
SELECT ml_drop_project('lc');
SELECT (SELECT count(*) FROM mlcycle.projects) AS projects, (SELECT count(*) FROM mlcycle.models) AS models,
	   (SELECT count(*) FROM mlcycle.deployments) AS deployments, (SELECT count(*) FROM mlcycle.evaluations) AS evaluations;
SELECT project, action, detail->>'models_removed' AS models, detail->>'deployments_removed' AS deployments
FROM mlcycle.audit_log WHERE action = 'drop_project';
SELECT try($$SELECT ml_predict('lc', ARRAY[1]::float8[])$$);
SELECT try($$SELECT ml_drop_project('lc')$$);
DROP OWNED BY regress_mlc_mallory;
DROP ROLE regress_mlc_mallory;
RESET search_path;
DROP SCHEMA lc CASCADE;
