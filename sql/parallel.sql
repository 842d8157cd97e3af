-- ml_predict is PARALLEL SAFE: a parallel plan scores rows in the workers,
-- each resolving the same deployed model, and gives the serial result.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS mlcycle CASCADE;
CREATE EXTENSION mlcycle;
RESET client_min_messages;
SET mlcycle.progress = off;
SELECT setseed(0.75);
CREATE TABLE par AS
SELECT i AS id, random() AS x1, random() * 10 AS x2, (ARRAY['a', 'b', 'c'])[1 + floor(random() * 3)::int] AS cat
FROM generate_series(1, 20000) i;
ALTER TABLE par ADD COLUMN y text;
UPDATE par SET y = CASE WHEN random() < 1 / (1 + exp(-(x1 * 4 - 2 + x2 / 5 - 1 + CASE cat WHEN 'a' THEN 1 ELSE 0 END))) THEN 'pos' ELSE 'neg' END;
SELECT algorithm, deployed FROM ml_train('par', 'par', 'y', exclude => '{id}');
CREATE TABLE serial_result AS SELECT sum(ml_predict('par', p)) AS s, count(*) FILTER (WHERE ml_predict_class('par', p) = 'pos') AS npos FROM par p;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
EXPLAIN (costs off) SELECT sum(ml_predict('par', p)), count(*) FILTER (WHERE ml_predict_class('par', p) = 'pos') FROM par p;
SELECT abs(sum(ml_predict('par', p)) - (SELECT s FROM serial_result)) < 1e-9 AS same_sum,
	   count(*) FILTER (WHERE ml_predict_class('par', p) = 'pos') = (SELECT npos FROM serial_result) AS same_classes
FROM par p;
