-- Standalone transformers: fit aggregates, apply functions, the text form,
-- parallel plans giving the serial result, and every kind of bad input.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS mlcycle CASCADE;
CREATE EXTENSION mlcycle;
RESET client_min_messages;
SET extra_float_digits = 0;
CREATE TABLE tf (id int, x float8, c text, pos float8);
INSERT INTO tf VALUES (1, 1, 'a', 1), (2, 2, 'b', 2), (3, NULL, 'a', 3), (4, 4, NULL, 4), (5, 10, 'c', 5);

-- fitted values and outputs
SELECT m, ml_transformer_text(ml_fit_scaler(x, m)) FROM tf,
	unnest(ARRAY['standard', 'minmax', 'robust', 'maxabs', 'log1p', 'yeo_johnson', 'box_cox']) m GROUP BY m ORDER BY m;
SELECT id, x, round(ml_transform(s, x)::numeric, 6) AS standard, ml_transform(i, x) AS imputed,
	ml_transform(b, x) AS bin, ml_transform(k, x) AS clipped
FROM tf, (SELECT ml_fit_scaler(x, 'standard') s, ml_fit_imputer(x, 'median') i,
				 ml_fit_binner(x, 'uniform', 3) b, ml_fit_clipper(x, 0.25, 0.75) k FROM tf) f ORDER BY id;
SELECT ml_transformer_text(ml_fit_imputer(x, 'constant', -1)) AS constant,
	   ml_transformer_text(ml_fit_binner(x, 'quantile', 2)) AS quantile_bins FROM tf;
SELECT m, ml_transformer_text(ml_fit_encoder(c, m)) FROM tf,
	unnest(ARRAY['one_hot', 'ordinal', 'frequency', 'binary']) m GROUP BY m ORDER BY m;
-- unseen categories: one_hot all zero (or the other bucket with top_k), ordinal -1, frequency 0, binary all zero
SELECT v, ml_transform(o, v) AS one_hot, ml_transform(k, v) AS top_1, ml_transform(r, v) AS ordinal,
	ml_transform(q, v) AS frequency, ml_transform(b, v) AS binary
FROM (SELECT ml_fit_encoder(c, 'one_hot') o, ml_fit_encoder(c, 'one_hot', '{"top_k": 1}') k,
			 ml_fit_encoder(c, 'ordinal') r, ml_fit_encoder(c, 'frequency') q, ml_fit_encoder(c, 'binary') b FROM tf) f,
	unnest(ARRAY['a', 'b', 'c', 'never seen']) v;
-- target encoder: smoothed means, the prior for unseen categories (and NULL x rows count toward the prior)
SELECT ml_transformer_text(ml_fit_target_encoder(c, pos, 2)) AS target FROM tf;
SELECT v, ml_transform(t, v) AS encoded FROM (SELECT ml_fit_target_encoder(c, pos) t FROM tf) f,
	unnest(ARRAY['a', 'c', 'never seen']) v;
SELECT ml_transform(ml_fit_encoder(c, 'hashing', '{"buckets": 4}'), 'a') = ml_transform(ml_fit_encoder(c, 'hashing', '{"buckets": 4}'), 'a') AS hashing_stable,
	   array_length(ml_transform(ml_fit_encoder(c, 'hashing', '{"buckets": 4}'), 'zzz'), 1) AS width FROM tf;
SELECT ml_impute(ml_fit_imputer(c, 'most_frequent'), NULL) AS most_frequent,
	   ml_impute(ml_fit_imputer(c, 'constant', 'missing'), NULL) AS constant,
	   ml_impute(ml_fit_imputer(c, 'constant', 'missing'), 'b') AS given FROM tf;
SELECT ml_temporal_features(timestamp '2024-03-03 10:30', '{year, month, day, dow, hour}') AS parts,
	   ml_temporal_features(date '2024-12-31', '{month, dow}', true) AS cyclical,
	   ml_temporal_features(timestamptz '2024-03-03 10:30+02', '{hour}') AS utc_hour;
SELECT ml_temporal_features(timestamp 'infinity', '{year}');
SELECT ml_temporal_features(date '2024-01-01', '{week}');
SELECT ml_temporal_features(date '2024-01-01', '{}');
SELECT ml_normalize(ARRAY[3, 4]::float8[]) AS l2, ml_normalize(ARRAY[3, -1]::float8[], 'l1') AS l1,
	   ml_normalize(ARRAY[0, 0]::float8[]) AS zero_row;
-- a zero-variance column keeps its values (scale 1), as scikit-learn does
SELECT ml_transformer_text(ml_fit_scaler(v, 'standard')) AS zero_variance,
	   ml_transform(ml_fit_scaler(v, 'minmax'), 7) AS minmax_of_constant,
	   ml_transformer_text(ml_fit_binner(v, 'uniform', 4)) AS one_bin
FROM (VALUES (5.0::float8), (5.0)) t(v);
-- an empty input gives NULL
SELECT ml_fit_scaler(x, 'standard') IS NULL AS empty FROM tf WHERE false;

-- bad input
SELECT ml_fit_scaler(x, 'zscore') FROM tf;
SELECT ml_fit_imputer(x, 'knn') FROM tf;
SELECT ml_fit_encoder(c, 'target') FROM tf;
SELECT ml_fit_encoder(c, 'woe') FROM tf;
SELECT ml_fit_target_encoder(c, pos, -1) FROM tf;
SELECT ml_fit_target_encoder(c, v) FROM tf, (VALUES ('NaN'::float8)) t(v);
SELECT ml_fit_binner(x, 'kmeans', 3) FROM tf;
SELECT ml_fit_binner(x, 'uniform', 0) FROM tf;
SELECT ml_fit_clipper(x, 0.9, 0.1) FROM tf;
SELECT ml_fit_imputer(x, 'constant') FROM tf;
SELECT ml_fit_imputer(x, 'mean', 0) FROM tf;
SELECT ml_fit_encoder(c, 'one_hot', '{"buckets": 3}') FROM tf;
SELECT ml_fit_encoder(c, 'one_hot', '{"top_k": 0}') FROM tf;
SELECT ml_fit_encoder(c, 'one_hot', '{"top": 3}') FROM tf;
SELECT ml_fit_scaler(v, 'standard') FROM (VALUES (1::float8), ('NaN')) t(v);
SELECT ml_fit_scaler(v, 'standard') FROM (VALUES (1::float8), ('Infinity')) t(v);
SELECT ml_transform(ml_fit_scaler(x, 'standard'), 'NaN'::float8) FROM tf;
SELECT ml_fit_scaler(v, 'standard') FROM (VALUES (NULL::float8), (NULL)) t(v);
SELECT ml_fit_encoder(v, 'one_hot') FROM (VALUES (NULL::text), (NULL)) t(v);
SELECT ml_fit_scaler(v, 'box_cox') FROM (VALUES (1::float8), (0)) t(v);
SELECT ml_fit_scaler(v, 'log1p') FROM (VALUES (1::float8), (-1)) t(v);
SELECT ml_transform(ml_fit_scaler(x, 'box_cox'), -2) FROM tf;
SELECT ml_fit_scaler(x, m) FROM (VALUES (1::float8, 'standard'), (2, 'minmax')) t(x, m);
-- the wrong kind of value
SELECT ml_transform(ml_fit_scaler(x, 'standard'), 'a'::text) FROM tf;
SELECT ml_transform(ml_fit_encoder(c, 'one_hot'), 1::float8) FROM tf;
SELECT ml_impute(ml_fit_imputer(x, 'mean'), 'a') FROM tf;
SELECT ml_transform(ml_fit_imputer(c, 'most_frequent'), 'a'::text) FROM tf;
SELECT ml_normalize(ARRAY[1, NULL]::float8[]);
SELECT ml_normalize(ARRAY[1, 2]::float8[], 'l3');
-- corrupted transformer bytes: an error, never a crash
SELECT ml_transform('\x00'::bytea, 1::float8);
SELECT ml_transform(overlay(t placing '\xff'::bytea from 40 for 1), 1::float8)
FROM (SELECT ml_fit_scaler(x, 'standard') t FROM tf) f;
SELECT ml_transformer_text(substring(t from 1 for length(t) - 3)) FROM (SELECT ml_fit_encoder(c, 'one_hot') t FROM tf) f;
-- every single-byte change of a fitted encoder is refused (CRC) or still valid; none crashes
CREATE FUNCTION tf_mutants(t bytea) RETURNS TABLE (refused int, accepted int) LANGUAGE plpgsql AS $$
DECLARE
	r int := 0;
	a int := 0;
BEGIN
	FOR i IN 0 .. length(t) - 1 LOOP
		BEGIN
			PERFORM ml_transformer_text(set_byte(t, i, (get_byte(t, i) + 1) % 256));
			a := a + 1;
		EXCEPTION WHEN data_corrupted THEN
			r := r + 1;
		END;
	END LOOP;
	RETURN QUERY SELECT r, a;
END $$;
SELECT * FROM tf_mutants((SELECT ml_fit_encoder(c, 'frequency') FROM tf));
-- past the CRC: every byte changed to 0, 255 or +1 and the CRC32C recomputed, for each
-- family; the checks after the CRC refuse (or accept a still-valid value), never crash
CREATE FUNCTION tf_crc32c(b bytea) RETURNS bigint LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
	crc bigint := 4294967295;
BEGIN
	FOR i IN 0 .. length(b) - 1 LOOP
		crc := crc # get_byte(b, i);
		FOR k IN 1 .. 8 LOOP
			crc := CASE WHEN crc & 1 = 1 THEN (crc >> 1) # 2197175160 ELSE crc >> 1 END;
		END LOOP;
	END LOOP;
	RETURN crc # 4294967295;
END $$;
CREATE FUNCTION tf_reseal(b bytea) RETURNS bytea LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
	body bytea := substring(b from 1 for length(b) - 4);
	crc bigint := tf_crc32c(body);
BEGIN
	RETURN body || set_byte(set_byte(set_byte(set_byte('\x00000000'::bytea, 0, (crc & 255)::int),
		1, ((crc >> 8) & 255)::int), 2, ((crc >> 16) & 255)::int), 3, ((crc >> 24) & 255)::int);
END $$;
CREATE FUNCTION tf_resealed_mutants(t bytea) RETURNS TABLE (refused int, accepted int) LANGUAGE plpgsql AS $$
DECLARE
	r int := 0;
	a int := 0;
	m bytea;
	v int;
BEGIN
	FOR i IN 0 .. length(t) - 5 LOOP
		FOREACH v IN ARRAY ARRAY[0, 255, (get_byte(t, i) + 1) % 256] LOOP
			m := tf_reseal(set_byte(t, i, v));
			BEGIN
				-- a value that parses is applied to the kind of value its family takes
				CASE ml_transformer_text(m)->>'family'
					WHEN 'encoder' THEN PERFORM ml_transform(m, 'b'::text);
					WHEN 'imputer' THEN PERFORM ml_impute(m, NULL::text), ml_transform(m, NULL::float8);
					ELSE PERFORM ml_transform(m, 3.5::float8);
				END CASE;
				a := a + 1;
			EXCEPTION WHEN data_corrupted THEN
				r := r + 1;
			WHEN datatype_mismatch THEN
				a := a + 1;		/* a valid value of another kind (a numeric imputer) */
			END;
		END LOOP;
	END LOOP;
	RETURN QUERY SELECT r, a;
END $$;
SELECT tf_reseal(ml_fit_scaler(x, 'standard')) = ml_fit_scaler(x, 'standard') AS reseal_is_identity FROM tf;
SELECT f, (tf_resealed_mutants(t)).* FROM (
	SELECT 'scaler' f, ml_fit_scaler(x, 'yeo_johnson') t FROM tf UNION ALL
	SELECT 'binner', ml_fit_binner(x, 'quantile', 3) FROM tf UNION ALL
	SELECT 'one_hot top_k', ml_fit_encoder(c, 'one_hot', '{"top_k": 2}') FROM tf UNION ALL
	SELECT 'frequency', ml_fit_encoder(c, 'frequency') FROM tf UNION ALL
	SELECT 'hashing', ml_fit_encoder(c, 'hashing', '{"buckets": 4}') FROM tf UNION ALL
	SELECT 'target', ml_fit_target_encoder(c, pos) FROM tf UNION ALL
	SELECT 'text imputer', ml_fit_imputer(c, 'constant', 'zz') FROM tf) s;
-- a state that is not one
SELECT mlcycle.tf_num_combine('\x00'::bytea, '\x00'::bytea);
SELECT mlcycle.tf_text_final('\x0102030405'::bytea);
-- past the exact limit a quantile sketch (sql/transform_sketch.sql): approximate, with its bound
SET mlcycle.transform_exact_limit = 1000;
SELECT ml_transformer_text(ml_fit_scaler(g::float8, 'robust')) FROM generate_series(1, 1001) g;
SELECT f, (tf_resealed_mutants(t)).* FROM (
	SELECT 'approximate robust' f, ml_fit_scaler(g::float8, 'robust') t FROM generate_series(1, 5000) g) s;
SELECT ml_transformer_text(ml_fit_scaler(g::float8, 'standard'))->>'count' AS moments_need_no_values FROM generate_series(1, 1001) g;
RESET mlcycle.transform_exact_limit;

-- parallel plans give the serial result: same bytes
SELECT setseed(0.25);
CREATE TABLE tfp AS SELECT i, CASE WHEN i % 17 = 0 THEN NULL ELSE random() * 100 - 20 END AS x,
	(ARRAY['red', 'green', 'blue', 'teal', NULL])[1 + floor(random() * 5)::int] AS c
FROM generate_series(1, 60000) i;
ANALYZE tfp;
CREATE TABLE tf_serial AS
SELECT ml_fit_scaler(x, 'standard') s, ml_fit_scaler(x, 'robust') r, ml_fit_scaler(x, 'yeo_johnson') y,
	   ml_fit_imputer(x, 'median') m, ml_fit_binner(x, 'quantile', 7) q, ml_fit_clipper(x, 0.01, 0.99) k,
	   ml_fit_encoder(c, 'one_hot') o, ml_fit_encoder(c, 'frequency') f, ml_fit_imputer(c, 'most_frequent') t,
	   ml_fit_target_encoder(c, x) g
FROM tfp;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
EXPLAIN (costs off) SELECT ml_fit_scaler(x, 'standard'), ml_fit_encoder(c, 'one_hot') FROM tfp;
SELECT s = ml_fit_scaler(x, 'standard') AS standard, r = ml_fit_scaler(x, 'robust') AS robust,
	   y = ml_fit_scaler(x, 'yeo_johnson') AS yeo_johnson, m = ml_fit_imputer(x, 'median') AS median,
	   q = ml_fit_binner(x, 'quantile', 7) AS quantile_bins, k = ml_fit_clipper(x, 0.01, 0.99) AS clipper,
	   o = ml_fit_encoder(c, 'one_hot') AS one_hot, f = ml_fit_encoder(c, 'frequency') AS frequency,
	   t = ml_fit_imputer(c, 'most_frequent') AS text_imputer, g = ml_fit_target_encoder(c, x) AS target
FROM tfp, tf_serial GROUP BY s, r, y, m, q, k, o, f, t, g;
SELECT abs(sum(ml_transform(s, x))) < 1e-8 AS standardized_sum_zero FROM tfp, tf_serial;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;
-- the fit aggregates: parallel safe, each with a combine function and a bytea state
SELECT count(*) AS aggregates, bool_and(p.proparallel = 's') AS parallel_safe,
	   bool_and(a.aggcombinefn <> 0) AS combine, bool_and(a.aggtranstype = 'bytea'::regtype) AS bytea_state
FROM pg_aggregate a JOIN pg_proc p ON p.oid = a.aggfnoid WHERE p.proname LIKE 'ml\_fit\_%';
