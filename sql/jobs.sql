-- Background jobs: ml_train_async, ml_job_wait, ml_job_cancel, retraining
-- policies and ml_retrain, the audit log, row-level security on jobs, and
-- every error message.  (The fault cases and the scheduler: test/jobs.sh.)
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS mlcycle CASCADE;
CREATE EXTENSION mlcycle;
RESET client_min_messages;
SET mlcycle.progress = off;
\set SHOW_CONTEXT never
CREATE SCHEMA jb;
SET search_path = jb, public;
CREATE FUNCTION jobs_try(q text) RETURNS text LANGUAGE plpgsql AS $$
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
SET client_min_messages = warning;
DROP ROLE IF EXISTS regress_mlc_jobs_owner;
DROP ROLE IF EXISTS regress_mlc_jobs_other;
DROP ROLE IF EXISTS regress_mlc_jobs_nologin;
RESET client_min_messages;
CREATE ROLE regress_mlc_jobs_owner LOGIN;
CREATE ROLE regress_mlc_jobs_other LOGIN;
CREATE ROLE regress_mlc_jobs_nologin NOLOGIN;
GRANT USAGE ON SCHEMA jb TO regress_mlc_jobs_owner, regress_mlc_jobs_other, regress_mlc_jobs_nologin;
GRANT EXECUTE ON FUNCTION jobs_try(text) TO PUBLIC;
CREATE TABLE pts AS SELECT i AS x, 2.0 * i + 1 + (i % 5) AS y FROM generate_series(1, 200) i;
GRANT SELECT ON pts TO regress_mlc_jobs_owner, regress_mlc_jobs_nologin;
CREATE TABLE jb_rich AS SELECT i AS id, (i % 7)::float8 AS a, (i * 13 % 29)::float8 AS b, (i % 3)::text AS c,
	(i * 7 % 31)::float8 + i % 5 AS y FROM generate_series(1, 300) i;
GRANT SELECT ON jb_rich TO regress_mlc_jobs_owner;
SET ROLE regress_mlc_jobs_owner;

-- bad input is refused and records nothing
SELECT jobs_try($$SELECT ml_train_async(NULL, 'pts', 'y')$$);
SELECT jobs_try($$SELECT ml_train_async('jb', 'nope', 'y')$$);
SELECT jobs_try($$SELECT ml_train_async('jb', 'pts', 'y', deploy => 'sometimes')$$);
SELECT count(*) AS jobs FROM mlcycle.jobs;

-- a job runs ml_train in a background worker, as the calling role
SELECT ml_train_async('jb', 'pts', 'y') AS job \gset
SELECT kind, project, role = current_user AS mine, status IN ('queued', 'running', 'succeeded') AS started,
	   arguments->>'relation' AS relation, arguments->>'deploy' AS deploy
FROM mlcycle.jobs WHERE job_id = :job;
SELECT status, phase, progress, model_id IS NOT NULL AS has_model, result->>'deployed' AS deployed,
	   error_message, finished_at >= started_at AS timed
FROM ml_job_wait(:job);
SELECT m.owner = current_user AS mine, m.relation, m.algorithm
FROM mlcycle.jobs j JOIN mlcycle.models m USING (model_id) WHERE j.job_id = :job;
SELECT round(ml_predict('jb', ARRAY[10]::float8[])::numeric, 1) AS prediction;

-- a failing job records the error with its SQLSTATE and stores nothing
SELECT ml_train_async('jb', 'pts', 'nope') AS bad \gset
SELECT status, error_sqlstate, error_message, model_id FROM ml_job_wait(:bad);
SELECT count(*) AS models FROM mlcycle.models;

-- waiting
SELECT jobs_try(format('SELECT ml_job_wait(%s, %L)', :job, '-1 second'));
SELECT jobs_try(format('SELECT ml_job_wait(%s, NULL)', :job));
SELECT jobs_try('SELECT ml_job_wait(999999)');
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT jobs_try(format('SELECT ml_job_wait(%s)', :job));
ROLLBACK;
BEGIN;
SELECT ml_train_async('jb', 'pts', 'y') AS inner_job \gset
SELECT jobs_try(format('SELECT ml_job_wait(%s, %L)', :inner_job, '5 seconds'));
ROLLBACK;
SELECT count(*) AS rolled_back FROM mlcycle.jobs WHERE job_id = :inner_job;

-- cancelling: a finished job, a job that has not started, an unknown job
SELECT ml_job_cancel(:job);
BEGIN;
SELECT ml_train_async('jb', 'pts', 'y') AS queued \gset
SELECT ml_job_cancel(:queued);
COMMIT;
SELECT status, error_sqlstate, error_message ~ 'was cancelled by regress_mlc_jobs_owner before it started' AS why
FROM ml_job_wait(:queued);
SELECT action, detail->>'sqlstate' AS sqlstate, actor = current_user AS by_me FROM mlcycle.audit_log
WHERE (detail->>'job_id')::bigint = :queued;
SELECT jobs_try('SELECT ml_job_cancel(999999)');

-- a role that cannot log in cannot run background jobs
RESET ROLE;
SET ROLE regress_mlc_jobs_nologin;
SELECT jobs_try($$SELECT ml_train_async('jb2', 'pts', 'y')$$);
RESET ROLE;
SET ROLE regress_mlc_jobs_owner;

-- retraining policies
SELECT jobs_try($$SELECT ml_retrain_policy('nope', 'pts')$$);
SELECT jobs_try($$SELECT ml_retrain_policy('jb', NULL)$$);
SELECT jobs_try($$SELECT ml_retrain_policy('jb', 'nope')$$);
SELECT jobs_try($$SELECT ml_retrain_policy('jb', 'pts', every => '0 seconds')$$);
SELECT jobs_try($$SELECT ml_retrain_policy('jb', 'pts', on_drift => NULL)$$);
SELECT jobs_try($$SELECT ml_retrain_policy('jb', 'pts', min_new_rows => 0)$$);
SELECT jobs_try($$SELECT ml_retrain_policy('jb', 'pts', max_metric_drop => -0.1)$$);
SELECT jobs_try($$SELECT ml_retrain_policy('jb', 'pts', max_metric_drop => 'NaN')$$);
SELECT jobs_try($$SELECT ml_retrain_policy('jb', 'pts', deploy => 'always')$$);
SELECT jobs_try($$SELECT ml_retrain('jb')$$);
SELECT jobs_try($$SELECT ml_drop_retrain_policy('jb')$$);
SELECT count(*) AS policies FROM mlcycle.retrain_policies;
SELECT project, relation, every, on_drift, min_new_rows, max_metric_drop, deploy, owner = current_user AS mine
FROM ml_retrain_policy('jb', 'pts', on_drift => false);
SELECT project, relation, every, on_drift, deploy
FROM ml_retrain_policy('jb', 'pts', every => '1 day', on_drift => false, deploy => 'challenger');

-- ml_retrain starts a job; a second one of the project is refused while it runs
SELECT ml_retrain('jb') AS retrain \gset
SELECT regexp_replace(jobs_try($$SELECT ml_retrain('jb')$$), '\(job \d+, \w+\)|\(\d+\)', '(N)', 'g');
SELECT kind, trigger, status, result->>'deploy' AS deploy, (result->>'champion_model_id')::bigint = :'job'::bigint AS vs_champion,
	   (result->>'holdout_rows')::int + (result->>'fit_rows')::int AS rows_split, error_message
FROM ml_job_wait(:retrain);
SELECT relation FROM mlcycle.models m JOIN mlcycle.jobs j USING (model_id) WHERE j.job_id = :retrain;
SELECT project, deploy, last_trigger, last_job_status, last_row_count FROM mlcycle.policy_overview;

-- the audit log: training, deployment, policy changes, decisions, the challenger, the failure
SELECT action, model_id IS NOT NULL AS has_model, actor = current_user AS by_me,
	   CASE action WHEN 'job_failed' THEN reason WHEN 'policy' THEN reason WHEN 'deploy' THEN reason
				   WHEN 'retrain_decision' THEN reason END AS reason
FROM mlcycle.audit_log WHERE project = 'jb' ORDER BY audit_id;
SELECT project, action, events FROM mlcycle.audit_daily WHERE project = 'jb' ORDER BY action;
-- append-only, and jobs can only be marked cancelled
SELECT jobs_try($$UPDATE mlcycle.audit_log SET reason = 'nothing happened'$$);
SELECT jobs_try($$DELETE FROM mlcycle.audit_log$$);
SELECT jobs_try(format('UPDATE mlcycle.jobs SET status = %L WHERE job_id = %s', 'succeeded', :bad));
SELECT jobs_try(format('UPDATE mlcycle.jobs SET model_id = 1 WHERE job_id = %s', :bad));
SELECT jobs_try($$INSERT INTO mlcycle.jobs (kind, project, arguments, role) VALUES ('train', 'jb', '{}', 'postgres')$$);
SELECT project, kind, jobs, succeeded, failed, cancelled, active FROM mlcycle.job_stats ORDER BY project, kind;

-- a retraining repeats the training as it was asked for (mlcycle.models.train_args): the
-- preprocessing steps, cross-validation and feature selection, not only impute/scale/encode
SELECT model_id AS rich FROM ml_train('jb_rich', 'jb_rich', 'y', exclude => '{id}', test_size => 0.2,
	preprocess => '{"a": {"clip": [0.05, 0.95]}, "b": {"bin": {"method": "quantile", "bins": 4}}}',
	cv => 3, select_features => '{"k_best": 3}') \gset
SELECT train_args FROM mlcycle.models WHERE model_id = :rich;
SELECT a->'preprocess' AS preprocess, a->'cv' AS cv, a->'select_features' AS select_features, a->'exclude' AS exclude
FROM mlcycle.retrain_arguments((SELECT m FROM mlcycle.models m WHERE model_id = :rich), 'jb_rich') a;
SELECT model_id AS again FROM mlcycle.retrain_fit('jb_rich', 'jb_rich',
	mlcycle.retrain_arguments((SELECT m FROM mlcycle.models m WHERE model_id = :rich), 'jb_rich'), 'none') \gset
SELECT m.preprocess->'a'->'clip' AS clip, m.preprocess->'b'->'bin_edges' AS bin_edges, m.metrics ? 'cv' AS cross_validated,
	   m.metrics->'select'->'kept' AS kept, m.metrics->'select'->'kept' = o.metrics->'select'->'kept' AS same_features,
	   m.train_args->'cv' AS cv
FROM mlcycle.models m, mlcycle.models o WHERE m.model_id = :again AND o.model_id = :rich;

-- another role sees none of it and can cancel none of it
RESET ROLE;
SET ROLE regress_mlc_jobs_other;
SELECT (SELECT count(*) FROM mlcycle.jobs) AS jobs, (SELECT count(*) FROM mlcycle.retrain_policies) AS policies,
	   (SELECT count(*) FROM mlcycle.audit_log) AS audit_rows;
SELECT jobs_try(format('SELECT ml_job_cancel(%s)', :job));
SELECT jobs_try($$SELECT ml_retrain('jb')$$);
RESET ROLE;

-- the settings
SHOW mlcycle.challenger_margin;
SHOW mlcycle.scheduler;
SELECT jobs_try($$SET mlcycle.challenger_margin = 2$$);
SELECT jobs_try($$SET mlcycle.naptime = 5$$);

SET ROLE regress_mlc_jobs_owner;
SELECT ml_drop_retrain_policy('jb');
SELECT count(*) AS policies FROM mlcycle.retrain_policies;
RESET ROLE;
DROP OWNED BY regress_mlc_jobs_owner, regress_mlc_jobs_other, regress_mlc_jobs_nologin;
DROP ROLE regress_mlc_jobs_owner;
DROP ROLE regress_mlc_jobs_other;
DROP ROLE regress_mlc_jobs_nologin;
RESET search_path;
DROP SCHEMA jb CASCADE;
