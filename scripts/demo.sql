-- A guided tour of mlcycle, run by scripts/demo.sh with psql against a database where
-- the extension is installed and the table customers (data/telco_churn.csv plus an
-- id column) is loaded.

\set ON_ERROR_STOP on
\set QUIET on
\timing off
\pset border 2
\pset linestyle unicode
\pset null ''

\echo
\echo '=== 1. The data ==='
\echo 'One row per telco customer: contract, services, charges, and whether they churned.'
SELECT count(*) AS customers,
       count(*) FILTER (WHERE churn = 'Yes') AS churned,
       round(avg((churn = 'Yes')::int), 3) AS churn_rate
FROM customers;
SELECT id, churn, tenure, contract, internet_service, payment_method, monthly_charges
FROM customers ORDER BY id LIMIT 5;

\echo
\echo '=== 2. Train a model with one call ==='
\echo 'ml_train(project, relation, target): every other column is a feature (we exclude the'
\echo 'row id). The target is text, so the task is classification and algorithm auto picks'
\echo 'logistic regression. Text columns are one-hot encoded, numbers scaled, NULLs imputed,'
\echo 'all inside the model. A quarter of the rows are held out to measure it.'
\x on
SELECT r.project, r.model_id, r.algorithm, r.task, r.deployed,
       r.metrics->>'score_metric' AS score_metric,
       m.test AS test_metrics, m.train AS train_metrics
FROM ml_train('churn', 'customers', 'churn', exclude => '{id}') AS r,
     LATERAL (SELECT (SELECT jsonb_object_agg(key, trim_scale(round(value::text::numeric, 4)))
                        FROM jsonb_each(r.metrics->'test')) AS test,
                     (SELECT jsonb_object_agg(key, trim_scale(round(value::text::numeric, 4)))
                        FROM jsonb_each(r.metrics->'train')) AS train) AS m;
\x off

\echo
\echo '=== 3. Try other settings: a second model in the same project ==='
\echo 'Stronger regularisation (C = 0.01). deploy => best_score (the default) deploys the new'
\echo 'model only if it scores better than the deployed one on its held-out rows.'
SELECT project, model_id, algorithm, deployed,
       metrics->>'score_metric' AS score_metric,
       round((metrics->>'score')::numeric, 4) AS score
FROM ml_train('churn', 'customers', 'churn', algorithm => 'logistic',
              hyperparams => '{"C": 0.01}', exclude => '{id}');

\echo
\echo 'And a regression project: predict monthly_charges with ridge regression.'
SELECT project, model_id, algorithm, task, deployed,
       metrics->>'score_metric' AS score_metric,
       round((metrics->>'score')::numeric, 4) AS score
FROM ml_train('charges', 'customers', 'monthly_charges', algorithm => 'ridge',
              exclude => '{id,churn}');

\echo
\echo '=== 4. What is deployed: mlcycle.overview ==='
SELECT project, task, models, deployed_model_id, algorithm, headline_metric,
       round(headline_value::numeric, 4) AS headline_value, evaluated_on, rows_train, rows_test
FROM mlcycle.overview ORDER BY project;

\echo
\echo '=== 5. Score rows inside ordinary queries ==='
\echo 'ml_predict(project, row) gives the churn probability of each customer, computed by the'
\echo 'deployed model from the row itself; ml_predict_class gives the predicted label.'
SELECT id, contract, tenure,
       round(ml_predict('churn', c)::numeric, 3) AS p_churn,
       ml_predict_class('churn', c) AS predicted,
       churn AS actual
FROM customers c
ORDER BY p_churn DESC, id
LIMIT 10;

\echo
\echo 'Predictions compose with SQL: expected churners per contract type.'
SELECT contract,
       count(*) AS customers,
       count(*) FILTER (WHERE churn = 'Yes') AS churned,
       round(sum(ml_predict('churn', c))::numeric, 1) AS expected_churners,
       count(*) FILTER (WHERE ml_predict_class('churn', c) = 'Yes') AS predicted_churners
FROM customers c
GROUP BY contract
ORDER BY contract;

\echo
\echo 'Per-class probabilities: ml_predict_proba, in the order of ml_classes.'
SELECT ml_classes('churn') AS classes;
SELECT id, churn AS actual,
       (SELECT array_agg(round(p::numeric, 3) ORDER BY i)
          FROM unnest(ml_predict_proba('churn', c)) WITH ORDINALITY AS u(p, i)) AS proba
FROM customers c
ORDER BY id
LIMIT 5;

\echo
\echo 'The regression model scores the same way.'
SELECT id, internet_service, monthly_charges,
       round(ml_predict('charges', c)::numeric, 2) AS predicted_charges
FROM customers c
ORDER BY id
LIMIT 5;

\echo
\echo '=== 6. Deployments: switch, roll back, pin, pick the best ==='
\echo 'ml_deploy(project, strategy) returns the model it deployed, and the next query scores'
\echo 'with it. most_recent deploys the newest model, whatever its score:'
SELECT ml_deploy('churn', 'most_recent') AS deployed_model;

\echo 'rollback undoes the last deployment:'
SELECT ml_deploy('churn', 'rollback') AS deployed_model;

\echo 'specific pins a model by id:'
SELECT ml_deploy('churn', 'specific', max(model_id)) AS deployed_model
FROM mlcycle.models JOIN mlcycle.projects USING (project_id) WHERE name = 'churn';

\echo 'best_score deploys the model with the best held-out score:'
SELECT ml_deploy('churn', 'best_score') AS deployed_model;
SELECT project, deployed_model_id, algorithm, headline_metric,
       round(headline_value::numeric, 4) AS headline_value
FROM mlcycle.overview WHERE project = 'churn';

\echo 'Every deployment is recorded in mlcycle.deployments, with its reason:'
SELECT d.deployment_id, p.name AS project, d.model_id, d.strategy, d.reason,
       d.deployed_at::timestamp(0) AS deployed_at
FROM mlcycle.deployments d
JOIN mlcycle.projects p USING (project_id)
ORDER BY d.deployment_id;

\echo
\echo '=== 7. Every model and its test metrics (mlcycle.model_metrics, for dashboards) ==='
SELECT model_id, project, algorithm,
       round(max(value) FILTER (WHERE metric = 'accuracy')::numeric, 4) AS accuracy,
       round(max(value) FILTER (WHERE metric = 'roc_auc')::numeric, 4) AS roc_auc,
       round(max(value) FILTER (WHERE metric = 'f1')::numeric, 4) AS f1,
       round(max(value) FILTER (WHERE metric = 'log_loss')::numeric, 4) AS log_loss,
       round(max(value) FILTER (WHERE metric = 'r2')::numeric, 4) AS r2,
       round(max(value) FILTER (WHERE metric = 'rmse')::numeric, 4) AS rmse
FROM mlcycle.model_metrics
WHERE split = 'test'
GROUP BY model_id, project, algorithm
ORDER BY model_id;

\echo
\echo '=== 8. Realized performance and drift ==='
\echo 'Newer customers arrive: month-to-month contracts and higher charges. ml_evaluate scores'
\echo 'labeled rows with the deployed model and records the realized metrics:'
CREATE TEMP VIEW new_customers AS
SELECT id, churn, female, senior_citizen, partner, dependents, tenure, phone_service, multiple_lines,
       internet_service, online_security, online_backup, device_protection, tech_support, streaming_tv,
       streaming_movies, 'Month-to-month'::text AS contract, paperless_billing, payment_method,
       monthly_charges * 1.3 AS monthly_charges, total_charges
FROM customers WHERE id % 3 = 0;
SELECT model_id, rows, metrics->>'score_metric' AS metric, round((metrics->>'score')::numeric, 4) AS realized,
       round((metrics->>'training_score')::numeric, 4) AS at_training
FROM ml_evaluate('churn', 'new_customers');
\echo 'ml_drift compares the rows with the reference profiles stored in the model (KS, PSI,'
\echo 'chi-square, ...); here are the tests that fired:'
SELECT column_name, method, round(statistic::numeric, 4) AS statistic, round(p_value::numeric, 4) AS p_value,
       severity
FROM ml_drift('churn', 'new_customers') WHERE drifted ORDER BY column_name, method;
\echo 'Every run is kept for dashboards in mlcycle.drift_runs / mlcycle.drift_history, and'
\echo 'NOTIFY mlcycle_drift tells listeners. A model card sums a model up in Markdown:'
SELECT left(ml_model_card('churn'), 600) AS model_card_start;

\echo
\echo '=== 9. Look before you train, then trees, a canary and batch scoring ==='
\echo 'ml_profile: one row per column (a few of its columns here):'
SELECT column_name, kind, nulls, distinct_count, round(mean::numeric, 2) AS mean, round(median::numeric, 2) AS median,
       likely_id, high_missing
FROM ml_profile('customers') ORDER BY ordinal LIMIT 8;
\echo 'Gradient-boosted trees handle NULLs and text categories themselves:'
SELECT model_id, algorithm, round((metrics->>'score')::numeric, 4) AS roc_auc, deployed
FROM ml_train('churn', 'customers', 'churn', algorithm => 'gbdt', exclude => '{id}', deploy => 'none',
              hyperparams => '{"n_estimators": 200, "max_depth": 3, "learning_rate": 0.1}');
\echo 'Which features drive it (total split gain):'
SELECT feature, round(importance::numeric, 1) AS gain
FROM ml_feature_importance((SELECT max(model_id) FROM mlcycle.models))
WHERE method = 'gain' ORDER BY rank LIMIT 5;
\echo 'Send 10% of customers to it as a canary, score everyone into a prediction table,'
\echo 'and see which model scored how many rows:'
SELECT ml_deploy('churn', 'canary', (SELECT max(model_id) FROM mlcycle.models), traffic => 0.1) AS canary_model;
SELECT ml_score_table('churn', 'customers', 'churn_scores', '{id}') AS rows_scored;
SELECT model_id, count(*) AS rows, round(avg(prediction)::numeric, 4) AS mean_p_churn FROM churn_scores GROUP BY 1 ORDER BY 1;
\echo 'Once outcomes are known: realized metrics per model, and the A/B test:'
SELECT count(*) AS evaluations FROM ml_evaluate('churn', 'churn_scores', 'customers', '{id}');
SELECT role, model_id, rows, metric, round(value::numeric, 4) AS value, round(p_value::numeric, 4) AS p_value
FROM ml_ab_report('churn');
SELECT ml_deploy('churn', 'rollback') AS champion_scores_everyone_again;

\echo
\echo 'That is the loop: train, compare, deploy, score, watch in SQL. README.md covers the rest.'
