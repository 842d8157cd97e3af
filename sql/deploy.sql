-- Deployment strategies, the deployment history, and the prediction cache:
-- after ml_deploy, the next query in any session scores with the new model.
-- a fresh catalog, so model ids do not depend on the other tests
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS mlcycle CASCADE;
CREATE EXTENSION mlcycle;
RESET client_min_messages;
SET mlcycle.progress = off;
\set SHOW_CONTEXT never
CREATE TABLE pts AS SELECT i AS x, 2.0 * i + 1 AS y FROM generate_series(1, 20) i;
CREATE TABLE pts2 AS SELECT i AS x, 5.0 * i AS y FROM generate_series(1, 20) i;
-- model 1 (y = 2x + 1) is deployed: first model of the project
SELECT model_id, deployed FROM ml_train('dep', 'pts', 'y');
SELECT round(ml_predict('dep', ARRAY[10]::float8[])::numeric, 6) AS model1;
-- model 2 (y = 5x) fits as well: best_score keeps model 1 (not strictly better)
SELECT model_id, deployed FROM ml_train('dep', 'pts2', 'y');
SELECT round(ml_predict('dep', ARRAY[10]::float8[])::numeric, 6) AS still_model1;
-- most_recent deploys model 2, in this session's next query
SELECT ml_deploy('dep', 'most_recent');
SELECT round(ml_predict('dep', ARRAY[10]::float8[])::numeric, 6) AS model2;
-- rollback returns to model 1
SELECT ml_deploy('dep', 'rollback');
SELECT round(ml_predict('dep', ARRAY[10]::float8[])::numeric, 6) AS model1_again;
-- specific model by id
SELECT ml_deploy('dep', 'specific', 2);
-- deploying the deployed model again records nothing
SELECT ml_deploy('dep', 'specific', 2);
-- a deploy => 'none' model is stored but not deployed
SELECT model_id, deployed FROM ml_train('dep', 'pts', 'y', deploy => 'none');
SELECT round(ml_predict('dep', ARRAY[10]::float8[])::numeric, 6) AS model2_still;
SELECT deployment_id, model_id, strategy, reason, deployed_by = current_user AS by_me
FROM mlcycle.deployments ORDER BY deployment_id;
SELECT project, deployed_model_id, algorithm, headline_metric, models FROM mlcycle.overview;
SELECT model_id, split, metric FROM mlcycle.model_metrics WHERE model_id = 1 ORDER BY split, metric;

-- another session deploys; this session's cached model is replaced at its next query
SELECT round(ml_predict('dep', ARRAY[10]::float8[])::numeric, 6) AS before_other_session;
\! psql -X -q -d contrib_regression -c "SELECT ml_deploy('dep', 'specific', 1)" -o /dev/null
SELECT round(ml_predict('dep', ARRAY[10]::float8[])::numeric, 6) AS after_other_session;

-- within one query the model does not change, even if it deploys another one
SELECT round(ml_predict('dep', ARRAY[10]::float8[])::numeric, 6) AS p,
	   CASE WHEN i = 1 THEN ml_deploy('dep', 'specific', 2) END AS deployed_mid_query
FROM generate_series(1, 3) i;
SELECT round(ml_predict('dep', ARRAY[10]::float8[])::numeric, 6) AS next_query;

-- a rolled-back transaction leaves the deployment as it was
BEGIN;
SELECT ml_deploy('dep', 'specific', 1);
SELECT round(ml_predict('dep', ARRAY[10]::float8[])::numeric, 6) AS inside;
ROLLBACK;
SELECT round(ml_predict('dep', ARRAY[10]::float8[])::numeric, 6) AS after_rollback;

-- strategy errors
SELECT ml_deploy('dep', 'newest');
SELECT ml_deploy('dep', 'specific');
SELECT ml_deploy('dep', 'best_score', 1);
SELECT ml_deploy('dep', 'specific', 999);
SELECT ml_deploy('nope', 'best_score');
CREATE TABLE pts3 AS SELECT * FROM pts;
SELECT model_id, deployed FROM ml_train('solo', 'pts3', 'y');
SELECT ml_deploy('solo', 'rollback');
