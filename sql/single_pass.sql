-- Single-pass least squares (stream.c): linear and ridge on numeric features
-- are fitted from statistics gathered during the scan.  They must give the
-- model the in-memory path gives, on the same split.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS mlcycle CASCADE;
CREATE EXTENSION mlcycle;
RESET client_min_messages;
SET mlcycle.progress = off;
\set SHOW_CONTEXT never
SELECT setseed(0.3);
CREATE TABLE sp AS
SELECT i AS id, random() * 100 AS a, (random() * 10)::int AS b, random() < 0.4 AS flag,
	   timestamp '2024-01-01' + random() * interval '400 days' AS seen, 7.5 AS k
FROM generate_series(1, 20000) i;
ALTER TABLE sp ADD COLUMN y float8;
UPDATE sp SET y = 3 * a - 2 * b + 5 * flag::int + extract(epoch FROM seen - timestamp '2024-01-01') / 86400 * 0.1 + random() * 10;
UPDATE sp SET a = NULL WHERE id % 13 = 0;
UPDATE sp SET b = NULL WHERE id % 29 = 0;
UPDATE sp SET y = NULL WHERE id % 97 = 0;
-- train each setting twice, in one pass and in memory, and compare
CREATE TABLE pairs (setting text, algorithm text, hyperparams jsonb, preprocess jsonb);
INSERT INTO pairs VALUES
	('default linear', 'linear', '{}', '{}'),
	('ridge', 'ridge', '{"alpha": 3}', '{}'),
	('constant fill, no scaling', 'linear', '{}', '{"*": {"impute": "constant", "fill_value": -1, "scale": "none"}}'),
	('mixed', 'ridge', '{"alpha": 0.1}', '{"a": {"scale": "none"}, "b": {"impute": "constant", "fill_value": 4}}');
CREATE TABLE runs (setting text, single_pass boolean, model_id bigint);
DO $$
DECLARE
	r record;
	sp boolean;
BEGIN
	FOR r IN SELECT * FROM pairs LOOP
		FOREACH sp IN ARRAY ARRAY[true, false] LOOP
			PERFORM set_config('mlcycle.single_pass', sp::text, true);
			INSERT INTO runs
			SELECT r.setting, sp, t.model_id
			FROM ml_train('sp_' || r.setting, 'sp', 'y', algorithm => r.algorithm, hyperparams => r.hyperparams,
						  preprocess => r.preprocess, exclude => '{id}', seed => 11, deploy => 'none') t;
		END LOOP;
	END LOOP;
END
$$;
-- which path ran: the single pass times its read and fit together
SELECT r.setting, r.single_pass, m.timings ? 'read_fit_ms' AS one_pass, m.rows_read, m.rows_skipped, m.rows_train, m.rows_test
FROM runs r JOIN mlcycle.models m USING (model_id) ORDER BY 1, 2;
-- the same coefficients, preprocessing, test metrics and training r2/mse
SELECT a.setting,
	   (SELECT max(abs(ca.coefficient - cb.coefficient) / greatest(1, abs(cb.coefficient)))
		FROM ml_coefficients('sp_' || a.setting, a.model_id) ca
		JOIN ml_coefficients('sp_' || a.setting, b.model_id) cb USING (feature)) < 1e-9 AS same_coefficients,
	   (SELECT bool_and(abs((ma.preprocess->c->>'fill_value')::float8 - (mb.preprocess->c->>'fill_value')::float8)
						<= 1e-9 * greatest(1, abs((mb.preprocess->c->>'fill_value')::float8)))
		FROM jsonb_object_keys(mb.preprocess) c) AS same_fill,
	   (SELECT bool_and(abs((ma.metrics->'test'->>x)::float8 - (mb.metrics->'test'->>x)::float8)
						<= 1e-9 * greatest(1, abs((mb.metrics->'test'->>x)::float8)))
		FROM unnest(ARRAY['r2', 'mae', 'mse', 'rmse', 'rows']) x) AS same_test_metrics,
	   (SELECT bool_and(abs((ma.metrics->'train'->>x)::float8 - (mb.metrics->'train'->>x)::float8)
						<= 1e-9 * greatest(1, abs((mb.metrics->'train'->>x)::float8)))
		FROM unnest(ARRAY['r2', 'mse', 'rmse', 'rows']) x) AS same_train_metrics,
	   ma.metrics->'train' ? 'mae' AS one_pass_train_mae
FROM runs a JOIN runs b ON a.setting = b.setting AND a.single_pass AND NOT b.single_pass
JOIN mlcycle.models ma ON ma.model_id = a.model_id
JOIN mlcycle.models mb ON mb.model_id = b.model_id
ORDER BY 1;
-- the reference profiles agree: exact counts and moments on both paths
SELECT a.setting,
	   bool_and((pa->>'count') = (pb->>'count') AND (pa->>'nulls') = (pb->>'nulls')) AS same_counts,
	   bool_and(abs((pa->>k)::float8 - (pb->>k)::float8) <= 1e-9 * greatest(1, abs((pb->>k)::float8))) AS same_moments
FROM runs a JOIN runs b ON a.setting = b.setting AND a.single_pass AND NOT b.single_pass
JOIN mlcycle.models ma ON ma.model_id = a.model_id
JOIN mlcycle.models mb ON mb.model_id = b.model_id,
	 LATERAL jsonb_array_elements(mlcycle.model_info(ma.model)->'profiles') WITH ORDINALITY AS ja(pa, i),
	 LATERAL jsonb_array_elements(mlcycle.model_info(mb.model)->'profiles') WITH ORDINALITY AS jb(pb, i2),
	 LATERAL unnest(ARRAY['mean', 'std', 'min', 'max']) AS k
WHERE ja.i = jb.i2 AND pa->>'column' <> '(output)'
GROUP BY a.setting ORDER BY 1;
-- in memory, the decile edges are numpy's linear quantiles of the training values
SELECT deployed FROM ml_train('sp_edges', 'sp', 'y', exclude => '{id}', test_size => 0, deploy => 'none');
SELECT bool_and(abs(e.edge::float8 - q.v) < 1e-9 * greatest(1, abs(q.v))) AS edges_match
FROM (SELECT mlcycle.model_info(model)->'profiles'->0->'edges' AS edges FROM mlcycle.models ORDER BY model_id DESC LIMIT 1) m,
	 LATERAL jsonb_array_elements_text(m.edges) WITH ORDINALITY AS e(edge, k),
	 LATERAL (SELECT percentile_cont(e.k / 10.0) WITHIN GROUP (ORDER BY a) AS v FROM sp WHERE y IS NOT NULL AND a IS NOT NULL) q;
-- the stored models predict alike
SELECT ml_deploy('sp_default linear', 'specific', (SELECT model_id FROM runs WHERE setting = 'default linear' AND single_pass));
SELECT ml_deploy('sp_ridge', 'specific', (SELECT model_id FROM runs WHERE setting = 'ridge' AND NOT single_pass));
SELECT count(*) FILTER (WHERE ml_predict('sp_default linear', s) IS NULL) AS null_predictions,
	   corr(ml_predict('sp_default linear', s), ml_predict('sp_ridge', s)) > 0.999 AS agree
FROM sp s;

-- settings that need the rows, and collinear columns, fall back to the in-memory path
ALTER TABLE sp ADD COLUMN a2 float8;
UPDATE sp SET a2 = 2 * a;
SELECT deployed FROM ml_train('sp_median', 'sp', 'y', preprocess => '{"a": {"impute": "median"}}', exclude => '{id,a2}', deploy => 'none');
SELECT timings ? 'read_fit_ms' AS one_pass FROM mlcycle.models ORDER BY model_id DESC LIMIT 1;
SELECT deployed FROM ml_train('sp_collinear', 'sp', 'y', exclude => '{id}', deploy => 'none');
SELECT timings ? 'read_fit_ms' AS one_pass, rows_train, rows_test FROM mlcycle.models ORDER BY model_id DESC LIMIT 1;
-- NaN and an all-NULL column are errors on this path too
CREATE TABLE sp_nan AS SELECT i::float8 AS a, i * 2.0 AS y FROM generate_series(1, 100) i;
INSERT INTO sp_nan VALUES ('NaN', 1);
SELECT * FROM ml_train('sp_nan', 'sp_nan', 'y');
CREATE TABLE sp_null AS SELECT i::float8 AS a, NULL::float8 AS b, i * 2.0 AS y FROM generate_series(1, 100) i;
SELECT * FROM ml_train('sp_null', 'sp_null', 'y');
CREATE TABLE sp_err AS SELECT i::float8 AS a, i * 2.0 AS y FROM generate_series(1, 100) i;
INSERT INTO sp_err VALUES (NULL, 1);
SELECT * FROM ml_train('sp_err', 'sp_err', 'y', preprocess => '{"a": {"impute": "error"}}');
