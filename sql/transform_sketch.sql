-- Transformer fits past mlcycle.transform_exact_limit: order statistics come from
-- sketch.c's mergeable quantile sketch, within the rank-error bound the fitted
-- transformer records, in serial and parallel plans; up to the limit they are exact.
SELECT setseed(0.4);
-- a skewed column with ties and NULLs, and one whose mode is 7
CREATE TABLE tfs AS
SELECT i, CASE WHEN i % 29 = 0 THEN NULL ELSE round(exp(random() * 6)::numeric, 2)::float8 END AS x,
	   CASE WHEN random() < 0.3 THEN 7 ELSE floor(random() * 100) END::float8 AS m
FROM generate_series(1, 120000) i;
ANALYZE tfs;

-- the exact q-quantile by percentile_disc, q clamped to [0, 1]
CREATE FUNCTION tfs_disc(q float8) RETURNS float8 LANGUAGE sql STABLE
RETURN (SELECT percentile_disc(least(greatest(q, 0), 1)) WITHIN GROUP (ORDER BY x) FROM tfs);
-- Is v a q-quantile of x within rank error eps?  (the rank of v differs from
-- q (n - 1) by at most eps n; percentile_disc rounds ranks up, hence one more rank)
CREATE FUNCTION tfs_near(v float8, q float8, eps float8) RETURNS boolean LANGUAGE sql STABLE
RETURN (SELECT v BETWEEN tfs_disc(q - eps - 1.0 / count(x)) AND tfs_disc(q + eps + 1.0 / count(x))
			   AND q * (count(x) - 1) BETWEEN count(*) FILTER (WHERE x < v) - eps * count(x)
										  AND count(*) FILTER (WHERE x <= v) - 1 + eps * count(x)
		FROM tfs);
-- The fitted values of one set of fits, checked against the exact quantiles
CREATE FUNCTION tfs_check(r bytea, md bytea, b bytea, c bytea, mf bytea)
RETURNS TABLE (median boolean, robust_center boolean, iqr boolean, bin_edges boolean, clip_bounds boolean,
			   mode boolean, all_approximate boolean, bound_small boolean)
LANGUAGE sql STABLE AS $$
	WITH t AS (SELECT ml_transformer_text(r) r, ml_transformer_text(md) md, ml_transformer_text(b) b,
					  ml_transformer_text(c) c, ml_transformer_text(mf) mf),
	e AS (SELECT (r->>'rank_error')::float8 eps, t.* FROM t),
	edges AS (SELECT array_agg(v::float8 ORDER BY k) v FROM e, jsonb_array_elements_text(b->'edges') WITH ORDINALITY a(v, k))
	SELECT tfs_near((md->>'fill_value')::float8, 0.5, eps),
		   tfs_near((r->>'center')::float8, 0.5, eps),
		   (r->>'scale')::float8 BETWEEN tfs_disc(0.75 - eps - 1e-5) - tfs_disc(0.25 + eps + 1e-5)
									 AND tfs_disc(0.75 + eps + 1e-5) - tfs_disc(0.25 - eps - 1e-5),
		   cardinality(edges.v) = 11 AND edges.v[1] = (SELECT min(x) FROM tfs) AND edges.v[11] = (SELECT max(x) FROM tfs)
			   AND (SELECT bool_and(tfs_near(edges.v[k + 1], k / 10.0, eps)) FROM generate_series(1, 9) k),
		   tfs_near((c->'bounds'->>0)::float8, 0.05, eps) AND tfs_near((c->'bounds'->>1)::float8, 0.95, eps),
		   (mf->>'fill_value')::float8 = 7,
		   NOT ((r->>'exact')::boolean OR (md->>'exact')::boolean OR (b->>'exact')::boolean OR
				(c->>'exact')::boolean OR (mf->>'exact')::boolean),
		   eps > 0 AND eps < 0.005 AND (mf->>'rank_error')::float8 BETWEEN 0 AND 0.005
	FROM e, edges
$$;

-- serial, past the limit: every quantile within the recorded bound
SET mlcycle.transform_exact_limit = 1000;
CREATE TABLE tfs_serial AS
SELECT ml_fit_scaler(x, 'robust') r, ml_fit_imputer(x, 'median') md, ml_fit_binner(x, 'quantile', 10) b,
	   ml_fit_clipper(x, 0.05, 0.95) c, ml_fit_imputer(m, 'most_frequent') mf,
	   ml_fit_scaler(x, 'yeo_johnson') yj, ml_fit_scaler(x, 'box_cox') bc, ml_fit_scaler(x, 'standard') s
FROM tfs;
SELECT (tfs_check(r, md, b, c, mf)).* FROM tfs_serial;
-- the bound a serial fit records depends only on the count: (compactions' weight + one top item) / n
SELECT ml_transformer_text(r)->'exact' AS exact, round((ml_transformer_text(r)->>'rank_error')::numeric, 6) AS rank_error,
	   ml_transformer_text(mf)->'rank_error' AS mode_rank_error
FROM tfs_serial;
-- moments, min and max stay exact; the text form of a scaler that keeps no values says exact
SELECT ml_transformer_text(s) = ml_transformer_text(ml_fit_scaler(x, 'standard')) AS standard_unchanged,
	   ml_transformer_text(s)->'exact' AS standard_exact
FROM tfs_serial, tfs GROUP BY s;

-- the same fits exact (the limit above the data): quantiles as percentile_cont
RESET mlcycle.transform_exact_limit;
CREATE TABLE tfs_exact AS
SELECT ml_fit_scaler(x, 'robust') r, ml_fit_imputer(x, 'median') md, ml_fit_binner(x, 'quantile', 10) b,
	   ml_fit_clipper(x, 0.05, 0.95) c, ml_fit_imputer(m, 'most_frequent') mf,
	   ml_fit_scaler(x, 'yeo_johnson') yj, ml_fit_scaler(x, 'box_cox') bc
FROM tfs;
SELECT (ml_transformer_text(r)->>'exact')::boolean AND (ml_transformer_text(b)->>'exact')::boolean AND
	   (ml_transformer_text(yj)->>'exact')::boolean AS exact,
	   ml_transformer_text(r) ? 'rank_error' AS has_rank_error,
	   abs((ml_transformer_text(md)->>'fill_value')::float8 - p[2]) <= 1e-12 * p[2] AS median_is_percentile_cont,
	   abs((ml_transformer_text(r)->>'scale')::float8 - (p[3] - p[1])) <= 1e-12 * p[3] AS iqr_is_percentile_cont,
	   abs((ml_transformer_text(c)->'bounds'->>1)::float8 - p[4]) <= 1e-12 * p[4] AS clip_is_percentile_cont
FROM tfs_exact, (SELECT percentile_cont(ARRAY[0.25, 0.5, 0.75, 0.95]) WITHIN GROUP (ORDER BY x) p FROM tfs) q;
-- power transforms from the sketch's weighted items: lambda and the transformed values
-- close to the exact fit (observed, not a guarantee)
SELECT abs((ml_transformer_text(a.yj)->>'lambda')::float8 - (ml_transformer_text(e.yj)->>'lambda')::float8) < 1e-3 AS yj_lambda_close,
	   abs((ml_transformer_text(a.bc)->>'lambda')::float8 - (ml_transformer_text(e.bc)->>'lambda')::float8) < 1e-3 AS bc_lambda_close,
	   max(abs(ml_transform(a.yj, x) - ml_transform(e.yj, x))) < 0.005 AS yj_values_close,
	   max(abs(ml_transform(a.bc, x) - ml_transform(e.bc, x))) < 0.005 AS bc_values_close,
	   ml_transformer_text(a.yj)->'exact' AS yj_exact
FROM tfs, tfs_serial a, tfs_exact e GROUP BY a.yj, a.bc, e.yj, e.bc;

-- exact up to the limit, inclusive: the limit at the count is exact, one less is not
SELECT set_config('mlcycle.transform_exact_limit', (SELECT count(x) FROM tfs)::text, false) IS NOT NULL AS set;
SELECT ml_fit_scaler(x, 'robust') = (SELECT r FROM tfs_exact) AS at_limit_same_bytes FROM tfs;
SELECT set_config('mlcycle.transform_exact_limit', (SELECT count(x) - 1 FROM tfs)::text, false) IS NOT NULL AS set;
SELECT ml_transformer_text(ml_fit_scaler(x, 'robust'))->'exact' AS one_past_limit_exact FROM tfs;

-- parallel plans: Partial Aggregate in workers, then the combine merges the states
CREATE FUNCTION tfs_plan_is_parallel(q text) RETURNS boolean LANGUAGE plpgsql AS $$
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
END $$;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
SET parallel_leader_participation = off;
SET mlcycle.transform_exact_limit = 1000;
EXPLAIN (COSTS OFF) SELECT ml_fit_scaler(x, 'robust') FROM tfs;
SELECT tfs_plan_is_parallel('SELECT ml_fit_scaler(x, ''robust''), ml_fit_imputer(m, ''most_frequent'') FROM tfs') AS parallel;
-- sketch + sketch merges: within the bound, approximate
SELECT (tfs_check(ml_fit_scaler(x, 'robust'), ml_fit_imputer(x, 'median'), ml_fit_binner(x, 'quantile', 10),
				  ml_fit_clipper(x, 0.05, 0.95), ml_fit_imputer(m, 'most_frequent'))).* FROM tfs;
-- each worker's state exact (about 58,000 values each when the rows split evenly), past the
-- limit once combined: exact + exact merges into a sketch
SET mlcycle.transform_exact_limit = 70000;
SELECT (tfs_check(ml_fit_scaler(x, 'robust'), ml_fit_imputer(x, 'median'), ml_fit_binner(x, 'quantile', 10),
				  ml_fit_clipper(x, 0.05, 0.95), ml_fit_imputer(m, 'most_frequent'))).* FROM tfs;
-- power transforms in parallel, past the limit: close to the exact fit
SELECT max(abs(ml_transform(p.yj, x) - ml_transform(e.yj, x))) < 0.005 AS parallel_yj_close
FROM tfs, (SELECT ml_fit_scaler(x, 'yeo_johnson') yj FROM tfs) p, tfs_exact e GROUP BY p.yj, e.yj;
-- within the limit a parallel plan gives the serial bytes
RESET mlcycle.transform_exact_limit;
SELECT r = ml_fit_scaler(x, 'robust') AS robust, md = ml_fit_imputer(x, 'median') AS median,
	   b = ml_fit_binner(x, 'quantile', 10) AS bins, c = ml_fit_clipper(x, 0.05, 0.95) AS clip,
	   mf = ml_fit_imputer(m, 'most_frequent') AS mode, yj = ml_fit_scaler(x, 'yeo_johnson') AS yeo_johnson,
	   bc = ml_fit_scaler(x, 'box_cox') AS box_cox
FROM tfs, tfs_exact GROUP BY r, md, b, c, mf, yj, bc;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;
RESET parallel_leader_participation;

-- the combine function on states made here: a state aggregate without the final function
CREATE AGGREGATE tfs_state(float8, text) (SFUNC = mlcycle.tf_scaler_trans, STYPE = bytea);
SET mlcycle.transform_exact_limit = 1000;
CREATE TABLE tfs_states AS
SELECT (SELECT tfs_state(x, 'robust') FROM tfs WHERE i <= 500) AS small,
	   (SELECT tfs_state(x, 'robust') FROM tfs WHERE i > 500 AND i <= 1000) AS small2,
	   (SELECT tfs_state(x, 'robust') FROM tfs WHERE i > 1000 AND i <= 1700) AS mid,
	   (SELECT tfs_state(x, 'robust') FROM tfs WHERE i > 1700) AS big;
-- exact + exact within the limit: exact, the bytes of one fit over the same rows
SELECT mlcycle.tf_num_final(mlcycle.tf_num_combine(small, small2)) =
	   (SELECT ml_fit_scaler(x, 'robust') FROM tfs WHERE i <= 1000) AS exact_merge_same_bytes
FROM tfs_states;
-- exact + exact past the limit, exact + sketch, sketch + exact: approximate, within the bound
SELECT ml_transformer_text(mlcycle.tf_num_final(mlcycle.tf_num_combine(small, mid)))->'exact' AS exact_exact_past_limit,
	   tfs_near((t->>'center')::float8, 0.5, (t->>'rank_error')::float8) AS exact_sketch_center,
	   tfs_near((u->>'center')::float8, 0.5, (u->>'rank_error')::float8) AS sketch_exact_center,
	   (t->>'count')::int = (SELECT count(x) FROM tfs) AS counts_add_up
FROM tfs_states,
	 LATERAL ml_transformer_text(mlcycle.tf_num_final(mlcycle.tf_num_combine(mlcycle.tf_num_combine(small, small2),
																			 mlcycle.tf_num_combine(mid, big)))) t,
	 LATERAL ml_transformer_text(mlcycle.tf_num_final(mlcycle.tf_num_combine(mlcycle.tf_num_combine(big, mid),
																			 mlcycle.tf_num_combine(small2, small)))) u;
-- a state is usable again after the final function (it does not change it)
SELECT mlcycle.tf_num_final(big) = mlcycle.tf_num_final(big) AS final_is_repeatable FROM tfs_states;
-- bad states: truncated, a sketch whose size is not the recorded one, a corrupted sketch
-- (the sketch starts at byte 100 of the bytea: its length word, then its magic number)
SELECT mlcycle.tf_num_final(substring(big from 1 for 2000)) FROM tfs_states;
SELECT mlcycle.tf_num_combine(small, set_byte(big, 100, get_byte(big, 100) + 8)) FROM tfs_states;
SELECT mlcycle.tf_num_final(set_byte(big, 104, 0)) FROM tfs_states;
SELECT mlcycle.tf_scaler_trans(set_byte(big, 104, 0), 1, 'robust') FROM tfs_states;
-- box_cox checks the exact minimum, which the sketch may have compacted away
SELECT ml_fit_scaler(CASE WHEN i = 60000 THEN 0 ELSE x END, 'box_cox') FROM tfs;
RESET mlcycle.transform_exact_limit;
-- the limit is a user setting, at least 1000
SET mlcycle.transform_exact_limit = 999;
