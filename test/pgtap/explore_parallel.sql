-- explore_parallel.sql: the column-summary and covariance aggregates under a forced
-- parallel plan.  Exact parts (counts, min, max, exact quantiles and distinct
-- counts, HyperLogLog estimates, exact top values) must equal the serial result;
-- moments agree to 1e-9 relative (summation order differs); sketch quantiles must
-- have a true rank within the reported bound (quantile_rank_error * n) of q * (n - 1).
\unset ECHO
\set QUIET 1
\pset format unaligned
\pset tuples_only true
\pset pager off
\set ON_ERROR_ROLLBACK 1
\set ON_ERROR_STOP true

SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS mlcycle;

BEGIN;
SELECT plan(14);

CREATE SCHEMA explore_par;
SELECT setseed(0.25);
-- 300000 rows: past the exact limits (sketch quantiles, HyperLogLog, heavy hitters)
CREATE TABLE explore_par.big AS
SELECT i,
	   CASE WHEN i % 20 = 0 THEN NULL WHEN i % 997 = 0 THEN 'NaN'::float8
			ELSE round((random() * random() * 1000)::numeric, 3)::float8 END AS x,
	   (floor(random() * random() * 500))::int::text AS c,
	   md5(i::text) AS h,
	   date '2020-01-01' + (i % 1000) AS d
FROM generate_series(1, 300000) i;
-- 60000 rows: within the exact limits
CREATE TABLE explore_par.small AS SELECT * FROM explore_par.big WHERE i <= 60000;
ANALYZE explore_par.big;
ANALYZE explore_par.small;

CREATE FUNCTION explore_par.plan_is_parallel(q text) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
	line text;
	partial boolean := false;
	launched boolean := false;
BEGIN
	FOR line IN EXECUTE 'EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) ' || q LOOP
		partial := partial OR line ~ 'Partial Aggregate';
		launched := launched OR line ~ 'Workers Launched: [1-9]';
	END LOOP;
	RETURN partial AND launched;
END
$$;

-- |got - want| <= tol * max(1, |want|), NULLs equal
CREATE FUNCTION explore_par.near(got float8, want float8, tol float8) RETURNS boolean
LANGUAGE sql IMMUTABLE RETURN (got IS NULL AND want IS NULL)
	OR abs(got - want) <= tol * greatest(1, abs(want));

-- Is v a q-quantile of big.x within the rank bound?
CREATE FUNCTION explore_par.rank_ok(v float8, q float8, bound float8) RETURNS boolean LANGUAGE sql STABLE
RETURN (SELECT q * (count(*) - 1) BETWEEN count(*) FILTER (WHERE x < v) - bound * count(*)
										 AND count(*) FILTER (WHERE x <= v) + bound * count(*)
		FROM explore_par.big WHERE x IS NOT NULL AND x <> 'NaN');

SET max_parallel_workers_per_gather = 0;
CREATE TABLE explore_par.serial_big AS SELECT * FROM ml_profile('explore_par.big');
CREATE TABLE explore_par.serial_small AS SELECT * FROM ml_profile('explore_par.small');
CREATE TABLE explore_par.serial_cov AS
SELECT ml_covariance(ARRAY[x, i, extract(epoch FROM d)::float8]) AS cov FROM explore_par.big WHERE x <> 'NaN';

SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;

SELECT ok(explore_par.plan_is_parallel(
	'SELECT count(*), mlcycle.summary_state(x), mlcycle.category_state(c), mlcycle.summary_state(extract(epoch FROM d)::float8) FROM explore_par.big'),
	'the profile''s aggregate query runs as a Partial Aggregate in parallel workers');
SELECT ok(explore_par.plan_is_parallel('SELECT ml_covariance(ARRAY[x, i]) FROM explore_par.big WHERE x <> ''NaN'''),
	'the covariance aggregate runs in parallel workers');

CREATE TABLE explore_par.par_big AS SELECT * FROM ml_profile('explore_par.big');
CREATE TABLE explore_par.par_small AS SELECT * FROM ml_profile('explore_par.small');

SELECT is((SELECT count(*) FROM explore_par.serial_big s JOIN explore_par.par_big p USING (column_name)
		   WHERE p.rows = s.rows AND p.nulls = s.nulls AND p.nonfinite IS NOT DISTINCT FROM s.nonfinite
			 AND p.distinct_count = s.distinct_count AND p.distinct_exact = s.distinct_exact
			 AND p.min IS NOT DISTINCT FROM s.min AND p.max IS NOT DISTINCT FROM s.max
			 AND p.zero_fraction IS NOT DISTINCT FROM s.zero_fraction
			 AND p.constant = s.constant AND p.likely_id = s.likely_id AND p.high_missing = s.high_missing),
		  5::bigint, 'big: counts, min, max, distinct counts (HyperLogLog too) and flags equal the serial profile');
SELECT is((SELECT count(*) FROM explore_par.serial_big s JOIN explore_par.par_big p USING (column_name)
		   WHERE explore_par.near(p.mean, s.mean, 1e-9) AND explore_par.near(p.std, s.std, 1e-9)
			 AND explore_par.near(p.skewness, s.skewness, 1e-9) AND explore_par.near(p.kurtosis, s.kurtosis, 1e-9)),
		  5::bigint, 'big: moments agree with the serial profile to 1e-9');
SELECT ok((SELECT NOT quantiles_exact AND quantile_rank_error > 0 AND quantile_rank_error < 0.005
		   FROM explore_par.par_big WHERE column_name = 'x'),
		  'big: x is past the exact limit, its quantiles come from the sketch with a rank bound under 0.5%');
SELECT ok((SELECT explore_par.rank_ok(p25, 0.25, quantile_rank_error) AND explore_par.rank_ok(median, 0.5, quantile_rank_error)
				  AND explore_par.rank_ok(p75, 0.75, quantile_rank_error)
		   FROM explore_par.par_big WHERE column_name = 'x'),
		  'big, parallel: sketch quartiles of x are within the rank bound');
SELECT ok((SELECT explore_par.rank_ok(p25, 0.25, quantile_rank_error) AND explore_par.rank_ok(median, 0.5, quantile_rank_error)
				  AND explore_par.rank_ok(p75, 0.75, quantile_rank_error)
		   FROM explore_par.serial_big WHERE column_name = 'x'),
		  'big, serial: sketch quartiles of x are within the rank bound');
SELECT ok((SELECT p.top_values = s.top_values AND p.top_counts_exact AND p.distinct_exact
		   FROM explore_par.serial_big s JOIN explore_par.par_big p USING (column_name) WHERE column_name = 'c'),
		  'big: exact top values of c equal the serial ones');
SELECT ok((SELECT NOT top_counts_exact AND NOT distinct_exact AND abs(distinct_count - 300000) < 0.03 * 300000 AND likely_id
		   FROM explore_par.par_big WHERE column_name = 'h'),
		  'big: 300000 distinct md5 values, estimated by HyperLogLog within 3%, flagged as an identifier');

SELECT is((SELECT count(*) FROM explore_par.serial_small s JOIN explore_par.par_small p USING (column_name)
		   WHERE p.rows = s.rows AND p.nulls = s.nulls AND p.distinct_count = s.distinct_count
			 AND p.p25 IS NOT DISTINCT FROM s.p25 AND p.median IS NOT DISTINCT FROM s.median
			 AND p.p75 IS NOT DISTINCT FROM s.p75
			 AND (s.top_counts_exact IS NOT TRUE OR p.top_values = s.top_values)),
		  5::bigint, 'small: exact quantiles, distinct counts (h: HyperLogLog) and exact top values equal the serial profile');
SELECT is((SELECT array[p25, median, p75] FROM explore_par.par_small WHERE column_name = 'x'),
		  (SELECT percentile_cont(array[0.25, 0.5, 0.75]) WITHIN GROUP (ORDER BY x)
		   FROM explore_par.small WHERE x <> 'NaN'),
		  'small: exact quartiles equal percentile_cont');

SELECT ok((SELECT bool_and(explore_par.near(a, b, 1e-9))
		   FROM unnest((SELECT ml_covariance(ARRAY[x, i, extract(epoch FROM d)::float8]) FROM explore_par.big WHERE x <> 'NaN'),
					   (SELECT cov FROM explore_par.serial_cov)) u(a, b)),
		  'covariance: the parallel result agrees with the serial one to 1e-9');

-- stored sketches merge: three partial sketches give the whole column's summary
SELECT ok((SELECT (m).rows = s.rows AND (m).nulls = s.nulls AND (m).min = s.min AND (m).max = s.max
				  AND (m).distinct_count = s.distinct_count AND explore_par.near((m).mean, s.mean, 1e-9)
				  AND explore_par.rank_ok((m).median, 0.5, (m).quantile_rank_error)
		   FROM (SELECT ml_summary(ml_summary_merge(sk)) AS m
				 FROM (SELECT ml_summary_sketch(x) AS sk FROM explore_par.big GROUP BY i % 3) g) q,
				explore_par.serial_big s WHERE s.column_name = 'x'),
		  'ml_summary_merge of three stored sketches gives the column''s counts, distinct count and a median within the bound');
SELECT is((SELECT ml_distinct_count(ml_summary_merge(sk))
		   FROM (SELECT ml_category_sketch(h) AS sk FROM explore_par.big GROUP BY i % 7) g),
		  (SELECT distinct_count FROM explore_par.serial_big WHERE column_name = 'h'),
		  'merged HyperLogLog sketches give the same distinct estimate as one pass');

SELECT * FROM finish();
ROLLBACK;
