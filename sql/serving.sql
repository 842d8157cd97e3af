-- Serving: canary routing by key, batch scoring into day-partitioned
-- prediction tables, evaluation against later labels, and the A/B report.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS mlcycle CASCADE;
CREATE EXTENSION mlcycle;
RESET client_min_messages;
SET mlcycle.progress = off;
\set SHOW_CONTEXT never
CREATE SCHEMA sv;
SET search_path = sv, public;
SELECT setseed(0.4);
CREATE TABLE cust AS
SELECT i AS id, 'c' || i AS code, random() * 10 AS x, (ARRAY['a', 'b', 'c'])[1 + floor(random() * 3)::int] AS g
FROM generate_series(1, 2000) i;
ALTER TABLE cust ADD COLUMN won bool, ADD COLUMN spend float8;
UPDATE cust SET won = random() < 1 / (1 + exp(-(x - 5))), spend = 3 * x + random();
SELECT model_id FROM ml_train('sv', 'cust', 'won', exclude => '{id,code,spend}');
SELECT model_id FROM ml_train('sv', 'cust', 'won', exclude => '{id,code,spend,g}', deploy => 'none');
-- canary deployments: bad calls, one per line
SELECT ml_deploy('sv', 'canary', 2);
SELECT ml_deploy('sv', 'canary', 2, traffic => 0);
SELECT ml_deploy('sv', 'canary', 2, traffic => 1);
SELECT ml_deploy('sv', 'canary', 2, traffic => 'NaN');
SELECT ml_deploy('sv', 'canary', 1, traffic => 0.2);
SELECT ml_deploy('sv', 'canary', 99, traffic => 0.2);
SELECT ml_deploy('sv', 'best_score', traffic => 0.2);
SELECT ml_deploy('sv', 'promote');
SELECT ml_deploy('sv', 'canary', traffic => 0.2);
-- a canary at 20%: the champion stays deployed
SELECT ml_deploy('sv', 'canary', 2, traffic => 0.2);
SELECT model_id, traffic, champion_model_id FROM mlcycle.current_canaries;
SELECT model_id FROM mlcycle.current_deployments;
SELECT kind, traffic, strategy FROM mlcycle.deployments ORDER BY deployment_id;
-- the canary model is in use: it cannot be retired or deleted
SELECT ml_retire_model(2, 'trying');
SELECT ml_delete_model(2);
-- routing: about 20% of keys, stable, the same model ml_predict uses; NULL keys go to the champion
SELECT ml_route('sv', id) AS model, count(*) BETWEEN 330 AND 470 AS about_20_percent
FROM cust GROUP BY 1 HAVING ml_route('sv', id) = 2;
SELECT bool_and(ml_route('sv', id) = ml_route('sv', id)) AS stable,
	   bool_and(ml_route('sv', code) = ml_route('sv', code)) AS stable_text,
	   count(DISTINCT ml_route('sv', ROW(id, code)::text)) AS composite_keys_route_to
FROM cust;
SELECT bool_and(ml_predict('sv', c, c.id) = mlcycle.model_predict(m.model, c)) AS value,
	   bool_and(ml_predict_class('sv', c, c.id) = mlcycle.model_predict_class(m.model, c)) AS class,
	   bool_and(ml_predict_proba('sv', c, c.id) = mlcycle.model_predict_proba(m.model, c)) AS proba
FROM cust c JOIN mlcycle.models m ON m.model_id = ml_route('sv', c.id);
SELECT ml_route('sv', NULL::int), ml_predict('sv', c, NULL::int) = ml_predict('sv', c) FROM cust c WHERE id = 1;
SELECT ml_predict('sv', NULL::cust, 1) IS NULL;
SELECT ml_route('sv', ARRAY[point(1, 1)]);
SELECT ml_route('sv', ROW(1, 'c1'));
-- batch scoring into a new prediction table; a rerun the same day replaces rows
SELECT ml_score_table('sv', 'cust', 'scores', '{id}', '{"batch_blocks": 3}');
SELECT ml_score_table('sv', 'cust', 'scores', '{id}');
SELECT model_id, count(*), count(label) = count(*) AS labels, count(probabilities) AS probabilities,
	   bool_and(scored_on = current_date) AS today
FROM scores GROUP BY model_id ORDER BY model_id;
SELECT bool_and(s.prediction = ml_predict('sv', c, c.id) AND s.model_id = ml_route('sv', c.id)) FROM scores s JOIN cust c USING (id);
SELECT c.relname, pg_get_partkeydef(c.oid) FROM pg_class c WHERE c.relname = 'scores';
SELECT count(*) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhparent WHERE c.relname = 'scores';
-- a view is scored in one batch; a composite key; a regression project
CREATE VIEW cust_v AS SELECT * FROM cust WHERE id <= 100;
SELECT ml_score_table('sv', 'cust_v', 'scores_v', '{id,code}');
SELECT bool_and(model_id = ml_route('sv', ROW(id, code)::text)) AND count(*) = 100 FROM scores_v;
SELECT model_id FROM ml_train('sv_reg', 'cust', 'spend', exclude => '{id,code,won}');
SELECT ml_score_table('sv_reg', 'cust', 'sv.reg_scores', '{id}');
SELECT count(*), count(prediction), count(label), count(probabilities) FROM reg_scores;
-- bad calls
SELECT ml_score_table('sv', 'cust', 'scores', '{}');
SELECT ml_score_table('sv', 'cust', 'scores', '{nope}');
SELECT ml_score_table('sv', 'nope', 'scores', '{id}');
SELECT ml_score_table('sv', 'cust', 'scores', '{id}', '{"batch": 3}');
SELECT ml_score_table('sv', 'cust', 'scores', '{id}', '{"batch_blocks": 0}');
SELECT ml_score_table('sv', 'cust', 'cust', '{id}');
SELECT ml_score_table('sv', 'cust', 'a.b.c', '{id}');
SELECT ml_score_table('sv', 'cust', 'scores_g', '{g}');
SELECT ml_score_table('nope', 'cust', 'scores', '{id}');
SELECT to_regclass('scores_g') IS NULL AS nothing_left_behind;
-- the prediction table has no index of its own: a new day's partition is filled by
-- multi-insert, then attached; a rerun replaces the day's rows of the source's keys
SELECT count(*) AS indexes FROM pg_index i JOIN pg_inherits h ON h.inhrelid = i.indrelid
WHERE h.inhparent = 'scores'::regclass;
SELECT count(*) = 2000 AND count(DISTINCT id) = 2000 AS one_row_per_key FROM scores;
-- an index the user adds is built on new partitions, and reruns keep it up to date
CREATE UNIQUE INDEX scores_key ON scores (id, scored_on);
SELECT ml_score_table('sv', 'cust', 'scores', '{id}');
SELECT count(*) = 2000 AND count(DISTINCT id) = 2000 AS one_row_per_key FROM scores;
DROP INDEX scores_key;
-- a source whose primary key is the key; a view that repeats a key (named in the error)
CREATE TABLE cust_pk AS SELECT * FROM cust WHERE id <= 50;
ALTER TABLE cust_pk ADD PRIMARY KEY (id);
SELECT ml_score_table('sv', 'cust_pk', 'scores_pk', '{id}');
SELECT ml_score_table('sv', 'cust_pk', 'scores_pk2', '{id,code}');
CREATE VIEW cust_dup AS SELECT * FROM cust UNION ALL SELECT * FROM cust WHERE id = 7;
SELECT ml_score_table('sv', 'cust_dup', 'scores_dup', '{id}');
SELECT to_regclass('scores_dup') IS NULL AS nothing_left_behind;
-- mlcycle.score_load, the bulk loader: good and bad calls, one per line (rows that break a
-- constraint are shown tersely: their detail holds the load's timestamp)
CREATE TABLE load_t (id int NOT NULL, project text NOT NULL, model_id bigint NOT NULL,
	prediction float8 CHECK (prediction >= 0), label text, probabilities float8[],
	scored_at timestamptz NOT NULL, scored_on date NOT NULL);
SELECT mlcycle.score_load('load_t', 'SELECT id, mlcycle.score_row($1, c, id) FROM cust c WHERE id <= 10 AND $2 IS NOT NULL', 'sv', current_date);
SELECT count(*), bool_and(l.project = 'sv' AND l.scored_on = current_date AND l.scored_at <= now()) AS filled,
	   bool_and(l.model_id = ml_route('sv', c.id) AND l.prediction = ml_predict('sv', c, c.id)
				AND l.label = ml_predict_class('sv', c, c.id) AND l.probabilities IS NULL) AS scored
FROM load_t l JOIN cust c USING (id);
\set VERBOSITY terse
SELECT mlcycle.score_load('load_t', 'SELECT NULL::int, mlcycle.score_row($1, c, id) FROM cust c LIMIT 1', 'sv', current_date);
SELECT mlcycle.score_load('load_t', 'SELECT 1, ROW(1, -1.0, NULL, NULL)::mlcycle.score', 'sv', current_date);
SELECT mlcycle.score_load('load_t', 'SELECT 1, NULL::mlcycle.score', 'sv', current_date);
\set VERBOSITY default
SELECT mlcycle.score_load('load_t', 'SELECT id FROM cust', 'sv', current_date);
SELECT mlcycle.score_load('load_t', 'SELECT id::bigint, mlcycle.score_row($1, c, id) FROM cust c', 'sv', current_date);
SELECT mlcycle.score_load('load_t', 'SELECT id, 1 FROM cust', 'sv', current_date);
SELECT mlcycle.score_load('load_t', 'SELECT id, ROW(1, 2.0)::record FROM cust', 'sv', current_date);
SELECT mlcycle.score_load('load_t', 'DELETE FROM load_t RETURNING id, NULL::mlcycle.score', 'sv', current_date);
SELECT mlcycle.score_load('load_t', 'CREATE TABLE load_x ()', 'sv', current_date);
SELECT mlcycle.score_load('load_t', 'SELECT 1; SELECT 2', 'sv', current_date);
SELECT mlcycle.score_load('scores', 'SELECT 1', 'sv', current_date);
SELECT mlcycle.score_load('cust_v', 'SELECT 1', 'sv', current_date);
CREATE TABLE load_p (LIKE load_t) PARTITION BY RANGE (scored_on);
CREATE TABLE load_p1 PARTITION OF load_p FOR VALUES FROM ('2020-01-01') TO ('2020-01-02');
SELECT mlcycle.score_load('load_p1', 'SELECT id, mlcycle.score_row($1, c, id) FROM cust c WHERE id = 1', 'sv', '2020-01-01');
\set VERBOSITY terse
SELECT mlcycle.score_load('load_p1', 'SELECT id, mlcycle.score_row($1, c, id) FROM cust c WHERE id = 1', 'sv', '2020-01-02');
\set VERBOSITY default
SELECT count(*) FROM load_p;
SELECT count(*) FROM load_t;
CREATE INDEX load_t_id ON load_t (id);
SELECT mlcycle.score_load('load_t', 'SELECT id, mlcycle.score_row($1, c, id) FROM cust c', 'sv', current_date);
DROP INDEX load_t_id;
-- privileges and row-level security are those of the caller
CREATE ROLE regress_mlc_loader;
GRANT USAGE ON SCHEMA sv TO regress_mlc_loader;
GRANT SELECT ON load_t TO regress_mlc_loader;
SET ROLE regress_mlc_loader;
SELECT mlcycle.score_load('load_t', 'SELECT 1, NULL::mlcycle.score', 'sv', current_date);
RESET ROLE;
GRANT INSERT ON load_t TO regress_mlc_loader;
ALTER TABLE load_t ENABLE ROW LEVEL SECURITY;
SET ROLE regress_mlc_loader;
SELECT mlcycle.score_load('load_t', 'SELECT 1, NULL::mlcycle.score', 'sv', current_date);
RESET ROLE;
DROP TABLE load_t, load_p;
DROP OWNED BY regress_mlc_loader;
DROP ROLE regress_mlc_loader;
-- labels arrive later for some keys: one evaluation per model that scored them
CREATE TABLE outcomes AS SELECT id, won FROM cust WHERE id % 2 = 0;
SELECT model_id, rows, rows_skipped, metrics->>'source', (metrics->>'accuracy')::float8 BETWEEN 0.5 AND 1
FROM ml_evaluate('sv', 'scores', 'outcomes', '{id}') ORDER BY model_id;
SELECT bool_and(abs((e.metrics->>'accuracy')::float8 - s.acc) < 1e-12) AS accuracy_matches
FROM mlcycle.evaluations e
JOIN (SELECT model_id, avg((label = o.won::text)::int) AS acc FROM scores JOIN outcomes o USING (id) GROUP BY model_id) s
USING (model_id);
SELECT * FROM ml_evaluate('sv', 'scores', 'cust_v', '{id}') WHERE false;
SELECT ml_evaluate('sv', 'cust', 'outcomes', '{id}');
CREATE TABLE no_outcomes AS SELECT id, won FROM cust WHERE false;
SELECT ml_evaluate('sv', 'scores', 'no_outcomes', '{id}');
-- the A/B report: accuracy, two-proportion z-test
SELECT role, rows, metric, round(value::numeric, 6) = round(e.acc::numeric, 6) AS value_ok, significant IS NOT NULL OR role = 'champion'
FROM ml_ab_report('sv') r
JOIN (SELECT model_id, (metrics->>'accuracy')::float8 AS acc FROM mlcycle.evaluations) e USING (model_id);
-- against scipy 1.10 (norm.sf): 640/800 correct for the champion, 140/200 for the canary
INSERT INTO mlcycle.evaluations (project_id, model_id, relation, rows, rows_skipped, metrics)
VALUES (mlcycle.project_id('sv'), 1, 'synthetic', 800, 0, '{"accuracy": 0.8, "source": "prediction table"}'),
	   (mlcycle.project_id('sv'), 2, 'synthetic', 200, 0, '{"accuracy": 0.7, "source": "prediction table"}');
SELECT role, abs(statistic - -3.053524082762299) < 1e-12 AS z, abs(p_value - 0.0022617056754882943) < 1e-12 AS p, significant
FROM ml_ab_report('sv') WHERE role = 'canary';
-- regression: mse, Welch z-test on squared errors (scipy: 2 * norm.sf(2.5))
SELECT model_id FROM ml_train('sv_reg', 'cust', 'spend', exclude => '{id,code,won,g}', deploy => 'none');
SELECT ml_deploy('sv_reg', 'canary', 4, traffic => 0.5);
INSERT INTO mlcycle.evaluations (project_id, model_id, relation, rows, rows_skipped, metrics)
VALUES (mlcycle.project_id('sv_reg'), 3, 'synthetic', 400, 0, '{"mse": 2.0, "sq_error_var": 4.0, "source": "prediction table"}'),
	   (mlcycle.project_id('sv_reg'), 4, 'synthetic', 100, 0, '{"mse": 1.5, "sq_error_var": 3.0, "source": "prediction table"}');
SELECT role, metric, value, difference, abs(statistic - -2.5) < 1e-12 AS z,
	   abs(p_value - 0.012419330651552265) < 1e-12 AS p, significant
FROM ml_ab_report('sv_reg') ORDER BY role;
-- rollback stops the canary; promote makes it the champion
SELECT ml_deploy('sv_reg', 'rollback');
SELECT count(*) FROM mlcycle.current_canaries WHERE model_id = 4;
SELECT count(DISTINCT ml_route('sv_reg', id)) FROM cust;
SELECT ml_deploy('sv', 'promote');
SELECT model_id FROM mlcycle.current_deployments WHERE project_id = mlcycle.project_id('sv');
SELECT count(*) FROM mlcycle.current_canaries WHERE project_id = mlcycle.project_id('sv');
SELECT ml_ab_report('nope');
-- multiclass rows carry the probabilities, in ml_classes order, and no single prediction
SELECT model_id FROM ml_train('sv_multi', 'cust', 'g', exclude => '{id,code}');
SELECT ml_score_table('sv_multi', 'cust', 'multi_scores', '{id}');
SELECT count(prediction), bool_and(cardinality(probabilities) = 3),
	   bool_and(probabilities = ml_predict_proba('sv_multi', c) AND label = ml_predict_class('sv_multi', c))
FROM multi_scores JOIN cust c USING (id);
