-- Drift aggregates (ml_ks_test, ml_psi, ml_wasserstein, ml_chi2_test,
-- ml_chi2_contingency, ml_js_distance): results on small samples, edge cases,
-- every error with its SQLSTATE and hint, damaged states (an error, never a
-- crash), and a parallel plan that gives the serial results.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS mlcycle CASCADE;
CREATE EXTENSION mlcycle;
RESET client_min_messages;
\set SHOW_CONTEXT never
-- drift_try(sql) runs a statement and shows its error as SQLSTATE, message, detail and hint
CREATE FUNCTION drift_try(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	st text; msg text; det text; hnt text;
BEGIN
	EXECUTE q;
	RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL, hnt = PG_EXCEPTION_HINT;
	RETURN st || ': ' || msg || coalesce(nullif(E'\n  DETAIL: ' || det, E'\n  DETAIL: '), '')
		|| coalesce(nullif(E'\n  HINT: ' || hnt, E'\n  HINT: '), '');
END
$$;
-- ten significant digits, so that the output does not depend on the last bits
CREATE FUNCTION drift_fmt(x float8) RETURNS text LANGUAGE sql IMMUTABLE
	RETURN ltrim(to_char(x, '9.999999999EEEE'));

-- the small inline sample of the references: 12 reference values, 9 current ones
CREATE TABLE drift_small (x float8, is_ref boolean);
INSERT INTO drift_small
SELECT unnest('{0.61, 0.29, 0.06, 0.59, -1.73, -0.74, 0.51, -0.56, 0.39, 1.64, 0.05, -0.06}'::float8[]), true
UNION ALL
SELECT unnest('{1.46, 0.94, 1.33, 0.87, 0.29, 2.41, 1.20, 0.71, 0.52}'::float8[]), false;
SELECT drift_fmt(statistic) AS d, drift_fmt(p_value) AS p, n_reference, n_current, method
FROM (SELECT (ml_ks_test(x, is_ref)).* FROM drift_small) t;
SELECT m, drift_fmt(statistic) AS d, drift_fmt(p_value) AS p, method
FROM unnest(ARRAY['auto', 'exact', 'asymp']) m,
	LATERAL (SELECT (ml_ks_test(x, is_ref, m)).* FROM drift_small) t;
SELECT drift_fmt(ml_psi(x, is_ref)) AS psi, drift_fmt(ml_psi(x, is_ref, 4)) AS psi_4_bins,
	   drift_fmt(ml_wasserstein(x, is_ref)) AS wasserstein, drift_fmt(ml_wasserstein(x, is_ref, false)) AS wasserstein_raw
FROM drift_small;
-- the order of the rows does not matter
SELECT (SELECT ml_ks_test(x, is_ref) FROM (SELECT * FROM drift_small ORDER BY x) s)
	 = (SELECT ml_ks_test(x, is_ref) FROM (SELECT * FROM drift_small ORDER BY x DESC) s) AS same_ks;

-- categories: A, B, C, D with reference counts 500, 300, 150, 50 and current 230, 170, 60, 40
CREATE TABLE drift_cats (c text, is_ref boolean);
INSERT INTO drift_cats
SELECT c, true FROM (VALUES ('A', 500), ('B', 300), ('C', 150), ('D', 50)) v(c, n), generate_series(1, n)
UNION ALL
SELECT c, false FROM (VALUES ('A', 230), ('B', 170), ('C', 60), ('D', 40)) v(c, n), generate_series(1, n);
SELECT drift_fmt(statistic) AS chi2, df, drift_fmt(p_value) AS p, n_reference, n_current, unseen_categories
FROM (SELECT (ml_chi2_test(c, is_ref)).* FROM drift_cats) t;
SELECT drift_fmt(statistic) AS chi2, df, drift_fmt(p_value) AS p, n_reference, n_current, unseen_categories
FROM (SELECT (ml_chi2_contingency(c, is_ref)).* FROM drift_cats) t;
SELECT drift_fmt(ml_js_distance(c, is_ref)) AS js, drift_fmt(ml_psi(c, is_ref)) AS psi FROM drift_cats;
-- a 2 x 2 table: Yates' correction by default (as scipy), or none
SELECT drift_fmt((ml_chi2_contingency(c, is_ref)).statistic) AS yates,
	   drift_fmt((ml_chi2_contingency(c, is_ref, false)).statistic) AS no_correction
FROM drift_cats WHERE c IN ('A', 'B');

-- edge cases
-- no rows at all: counts 0, the statistics NULL
SELECT (ml_ks_test(x, is_ref)).*, ml_psi(x, is_ref), ml_wasserstein(x, is_ref) FROM drift_small WHERE false;
SELECT (ml_chi2_test(c, is_ref)).*, ml_js_distance(c, is_ref), ml_psi(c, is_ref) FROM drift_cats WHERE false;
-- one sample empty: its count is 0, the statistics NULL
SELECT (ml_ks_test(x, is_ref)).*, ml_psi(x, is_ref), ml_wasserstein(x, is_ref) FROM drift_small WHERE is_ref;
SELECT (ml_ks_test(x, is_ref)).* FROM drift_small WHERE NOT is_ref;
SELECT (ml_chi2_test(c, is_ref)).*, ml_js_distance(c, is_ref) FROM drift_cats WHERE NOT is_ref;
SELECT (ml_chi2_contingency(c, is_ref)).* FROM drift_cats WHERE is_ref;
-- NULL values and rows with a NULL is_reference are ignored
SELECT n_reference, n_current, drift_fmt(statistic) AS d
FROM (SELECT (ml_ks_test(x, is_ref)).* FROM (SELECT * FROM drift_small UNION ALL
	VALUES (NULL::float8, true), (NULL, false), (5.0, NULL)) s) t;
SELECT n_reference, n_current, unseen_categories
FROM (SELECT (ml_chi2_test(c, is_ref)).* FROM (SELECT * FROM drift_cats UNION ALL
	VALUES (NULL::text, true), ('E', NULL)) s) t;
-- identical samples: D = 0, p = 1; PSI, Wasserstein and Jensen-Shannon 0
SELECT (ml_ks_test(g::float8, b)).*, ml_psi(g::float8, b), ml_wasserstein(g::float8, b), ml_js_distance(g::text, b)
FROM generate_series(1, 50) g, (VALUES (true), (false)) v(b);
-- one value in each sample
SELECT (ml_ks_test(x, r)).* FROM (VALUES (1.0::float8, true), (2.0, false)) v(x, r);
-- a constant reference: Wasserstein is divided by 0.001 instead of 0; PSI has one edge
SELECT drift_fmt(ml_wasserstein(x, r)) AS normalized, drift_fmt(ml_wasserstein(x, r, false)) AS raw,
	   drift_fmt(ml_psi(x, r)) AS psi
FROM (VALUES (3.0::float8, true), (3.0, true), (3.0, false), (3.5, false)) v(x, r);
-- more bins than reference values: duplicate edges merge bins
SELECT drift_fmt(ml_psi(x, is_ref, 1000)) AS psi_1000_bins FROM drift_small;
-- a category the reference never saw: counted as 0.5 there, and reported
SELECT drift_fmt(statistic) AS chi2, df, drift_fmt(p_value) AS p, unseen_categories
FROM (SELECT (ml_chi2_test(c, is_ref)).* FROM (SELECT * FROM drift_cats UNION ALL
	SELECT 'E', false FROM generate_series(1, 10)) s) t;
SELECT drift_fmt(statistic) AS chi2, df, drift_fmt(p_value) AS p, unseen_categories
FROM (SELECT (ml_chi2_contingency(c, is_ref)).* FROM (SELECT * FROM drift_cats UNION ALL
	SELECT 'E', false FROM generate_series(1, 10)) s) t;
-- one category only: df 0, statistic 0, p 1
SELECT (ml_chi2_test(c, r)).*, (ml_chi2_contingency(c, r)).* FROM (VALUES ('x', true), ('x', false)) v(c, r);
-- disjoint categories: Jensen-Shannon distance 1
SELECT ml_js_distance(c, r) FROM (VALUES ('x', true), ('y', false)) v(c, r);
-- the empty string is a category; categories compare byte for byte
SELECT df, unseen_categories FROM (SELECT (ml_chi2_test(c, r)).*
	FROM (VALUES ('', true), ('a', true), ('A', false), ('', false)) v(c, r)) t;
-- many and long categories (the hash table grows)
SELECT df, n_reference, n_current, unseen_categories
FROM (SELECT (ml_chi2_contingency(repeat(md5(g::text), 1 + g % 7), g % 3 = 0)).* FROM generate_series(1, 20000) g) t;
-- per group (a hash aggregate), and as a window function
SELECT grp, n_reference, n_current, drift_fmt(statistic) AS d, drift_fmt(p_value) AS p, method
FROM (SELECT g % 3 AS grp, (ml_ks_test(x, g <= 1500)).*
	FROM (SELECT g, (g * 0.618034) % 1 + CASE WHEN g > 1500 THEN (g % 3) * 0.05 ELSE 0 END AS x FROM generate_series(1, 3000) g) s
	GROUP BY g % 3) t ORDER BY grp;
SELECT g, drift_fmt(x) AS x, n_reference, n_current, drift_fmt(statistic) AS d
FROM (SELECT g, x, (ml_ks_test(x, g % 2 = 0) OVER (ORDER BY g)).*
	FROM (SELECT g, (g * 0.618034) % 1 AS x FROM generate_series(1, 6) g) s) t ORDER BY g;
-- above 10000 values in a sample, method auto is asymptotic
SELECT n_reference, n_current, method
FROM (SELECT (ml_ks_test((g * 0.618034) % 1, g % 2 = 0)).* FROM generate_series(1, 20004) g) t;
-- exact on samples whose lcm is too large falls back to asymptotic, with a warning
SELECT n_reference, n_current, method
FROM (SELECT (ml_ks_test((g * 0.618034) % 1, g <= 50000, 'exact')).* FROM generate_series(1, 99999) g) t;
-- a transition function called directly copies its input state
WITH s AS (SELECT mlcycle.drift_num_trans(NULL, 1, true) AS st)
SELECT (mlcycle.drift_ks_final(mlcycle.drift_num_trans(st, 2, false))).n_current AS after_add,
	   (mlcycle.drift_ks_final(st)).n_current AS input_unchanged
FROM s;
-- the distributions
SELECT drift_fmt(mlcycle.kstwo_sf(0.05, 222)) AS kstwo, drift_fmt(mlcycle.kolmogorov_sf(1.0)) AS kolmogorov,
	   drift_fmt(mlcycle.chi2_sf(16.266666666666666, 3)) AS chi2, mlcycle.kstwo_sf(1.5, 10) AS beyond_1,
	   mlcycle.chi2_sf(0, 2) AS at_0;

-- bad input: each an error with its SQLSTATE and hint
SELECT drift_try($$SELECT ml_ks_test(x, r) FROM (VALUES (1.0::float8, true), ('NaN', false)) v(x, r)$$);
SELECT drift_try($$SELECT ml_psi(x, r) FROM (VALUES ('Infinity'::float8, true)) v(x, r)$$);
SELECT drift_try($$SELECT ml_wasserstein(x, r) FROM (VALUES ('-Infinity'::float8, false)) v(x, r)$$);
SELECT drift_try($$SELECT ml_psi(x, is_ref, 1) FROM drift_small$$);
SELECT drift_try($$SELECT ml_psi(x, is_ref, 1001) FROM drift_small$$);
SELECT drift_try($$SELECT ml_psi(x, is_ref, NULL) FROM drift_small$$);
SELECT drift_try($$SELECT ml_psi(x, is_ref, CASE WHEN x > 0 THEN 5 ELSE 10 END) FROM drift_small$$);
SELECT drift_try($$SELECT ml_ks_test(x, is_ref, 'fast') FROM drift_small$$);
SELECT drift_try($$SELECT ml_ks_test(x, is_ref, NULL) FROM drift_small$$);
SELECT drift_try($$SELECT ml_wasserstein(x, is_ref, NULL) FROM drift_small$$);
SELECT drift_try($$SELECT ml_chi2_contingency(c, is_ref, NULL) FROM drift_cats$$);
SELECT drift_try($$SELECT mlcycle.kstwo_sf(0.1, 0)$$);
SELECT drift_try($$SELECT mlcycle.chi2_sf(1, 0)$$);
-- the memory limit (mlcycle.max_train_memory, here 1 MB: 131067 values)
SET mlcycle.max_train_memory = '1MB';
SELECT drift_try($$SELECT ml_ks_test(g, g % 2 = 0) FROM generate_series(1, 140000) g$$);
SELECT drift_try($$SELECT ml_js_distance(repeat(g::text, 20), true) FROM generate_series(1, 30000) g$$);
SELECT n_reference + n_current AS fits FROM (SELECT (ml_ks_test(g, g % 2 = 0)).* FROM generate_series(1, 100000) g) t;
RESET mlcycle.max_train_memory;

-- damaged states: an error (SQLSTATE XX001), never a crash
CREATE TABLE drift_states AS
SELECT mlcycle.drift_num_trans(mlcycle.drift_num_trans(mlcycle.drift_num_trans(NULL, 1, true), 2, false), 3, true) AS num,
	   mlcycle.drift_cat_trans(mlcycle.drift_cat_trans(mlcycle.drift_cat_trans(NULL, 'a', true), 'b', false), 'b', true) AS cat,
	   mlcycle.drift_psi_trans(NULL, 1, true, 5) AS psi5;
SELECT length(num) AS num_bytes, length(cat) AS cat_bytes FROM drift_states;
SELECT (mlcycle.drift_ks_final(num)).n_reference, (mlcycle.drift_ks_final(num)).n_current,
	   (mlcycle.drift_chi2_final(cat)).n_reference AS cat_n_reference, (mlcycle.drift_chi2_final(cat)).n_current AS cat_n_current
FROM drift_states;
SELECT drift_try($$SELECT mlcycle.drift_ks_final('\x')$$);
SELECT drift_try($$SELECT mlcycle.drift_psi_final(decode(repeat('deadbeef', 12), 'hex'))$$);
SELECT drift_try($$SELECT mlcycle.drift_chi2_final(num) FROM drift_states$$);
SELECT drift_try($$SELECT mlcycle.drift_ks_final(cat) FROM drift_states$$);
-- numeric state: magic 0-3, version 4-5, flags 6-7, bins 8-11, capacity 12-19, nref 20-27, ncur 28-35, values from 36
SELECT drift_try($$SELECT mlcycle.drift_ks_final(set_byte(num, 4, 2)) FROM drift_states$$);
SELECT drift_try($$SELECT mlcycle.drift_ks_final(set_byte(num, 6, 64)) FROM drift_states$$);
SELECT drift_try($$SELECT mlcycle.drift_psi_final(set_byte(num, 8, 1)) FROM drift_states$$);
SELECT drift_try($$SELECT mlcycle.drift_ks_final(substring(num FROM 1 FOR length(num) - 8)) FROM drift_states$$);
SELECT drift_try($$SELECT mlcycle.drift_ks_final(set_byte(num, 19, 128)) FROM drift_states$$);
SELECT drift_try($$SELECT mlcycle.drift_ks_final(set_byte(num, 20, 100)) FROM drift_states$$);
SELECT drift_try($$SELECT mlcycle.drift_ks_final(set_byte(num, 27, 255)) FROM drift_states$$);
SELECT drift_try($$SELECT mlcycle.drift_ks_final(overlay(num PLACING '\x000000000000f87f' FROM 37)) FROM drift_states$$);
SELECT drift_try($$SELECT mlcycle.drift_num_trans(set_byte(num, 0, 0), 1, true) FROM drift_states$$);
SELECT drift_try($$SELECT mlcycle.drift_num_combine(num, set_byte(num, 28, 200)) FROM drift_states$$);
SELECT drift_try($$SELECT mlcycle.drift_num_combine(num, psi5) FROM drift_states$$);
-- an aggregate of someone else's with a hostile initial state
CREATE AGGREGATE drift_evil(float8, boolean) (SFUNC = mlcycle.drift_num_trans, STYPE = bytea, INITCOND = '\xdeadbeef');
SELECT drift_try($$SELECT drift_evil(x, is_ref) FROM drift_small$$);
DROP AGGREGATE drift_evil(float8, boolean);
-- categorical state: magic 0-3, version 4-5, flags 6-7, nslots 8-11, nentries 12-15, pool_cap 16-19,
-- pool_used 20-23, reserved 24-27, then 16 slots (int32), 8 entries (offset, len, nref, ncur), the pool
SELECT drift_try($$SELECT mlcycle.drift_chi2_final(set_byte(cat, 8, 12)) FROM drift_states$$);
SELECT drift_try($$SELECT mlcycle.drift_chi2_final(set_byte(cat, 12, 9)) FROM drift_states$$);
SELECT drift_try($$SELECT mlcycle.drift_chi2_final(set_byte(cat, 24, 1)) FROM drift_states$$);
SELECT drift_try($$SELECT mlcycle.drift_js_final(set_byte(cat, 92, 200)) FROM drift_states$$);
SELECT drift_try($$SELECT mlcycle.drift_chi2_final(set_byte(cat, 100 + 7, 128)) FROM drift_states$$);
SELECT drift_try($$SELECT mlcycle.drift_chi2_final(set_byte(cat, 284 + 1, 97)) FROM drift_states$$);
-- every slot points to entry 5 of 2
SELECT drift_try($$SELECT mlcycle.drift_cat_trans(overlay(cat PLACING decode(repeat('05000000', 16), 'hex') FROM 29), 'a', true)
	FROM drift_states$$);
SELECT drift_try($$SELECT mlcycle.drift_cat_combine(cat, set_byte(cat, 16, 255)) FROM drift_states$$);
-- every slot of the table points to entry 0: the lookup of a new category ends with an error
SELECT drift_try($$SELECT mlcycle.drift_cat_trans(overlay(cat PLACING decode(repeat('00000000', 16), 'hex') FROM 29), 'zz', true)
	FROM drift_states$$);

-- a parallel plan gives the serial results
SELECT setseed(0.25);
CREATE TABLE drift_par AS
SELECT random() + CASE WHEN g % 3 = 0 THEN 0.1 ELSE 0 END AS x, g % 3 <> 0 AS is_ref,
	   (ARRAY['a', 'b', 'c', 'd', 'e'])[1 + floor(random() * 5)::int] AS c
FROM generate_series(1, 60000) g;
ANALYZE drift_par;
SET max_parallel_workers_per_gather = 0;
CREATE TABLE drift_serial AS
SELECT ml_ks_test(x, is_ref) AS ks, ml_psi(x, is_ref) AS psi, ml_wasserstein(x, is_ref) AS w,
	   ml_chi2_test(c, is_ref) AS gof, ml_chi2_contingency(c, is_ref) AS cont, ml_js_distance(c, is_ref) AS js
FROM drift_par;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
EXPLAIN (costs off)
SELECT ml_ks_test(x, is_ref), ml_psi(x, is_ref), ml_wasserstein(x, is_ref),
	   ml_chi2_test(c, is_ref), ml_chi2_contingency(c, is_ref), ml_js_distance(c, is_ref)
FROM drift_par;
CREATE FUNCTION drift_near(a float8, b float8) RETURNS boolean LANGUAGE sql IMMUTABLE
	RETURN abs(a - b) <= 1e-12 * abs(b);
SELECT (p.ks).n_reference = (s.ks).n_reference AND (p.ks).n_current = (s.ks).n_current AS same_counts,
	   drift_near((p.ks).statistic, (s.ks).statistic) AND drift_near((p.ks).p_value, (s.ks).p_value)
		   AND (p.ks).method = (s.ks).method AS same_ks,
	   drift_near(p.psi, s.psi) AS same_psi, drift_near(p.w, s.w) AS same_wasserstein,
	   drift_near((p.gof).statistic, (s.gof).statistic) AND drift_near((p.gof).p_value, (s.gof).p_value) AS same_gof,
	   drift_near((p.cont).statistic, (s.cont).statistic) AND drift_near((p.cont).p_value, (s.cont).p_value) AS same_contingency,
	   drift_near(p.js, s.js) AS same_js
FROM drift_serial s,
	(SELECT ml_ks_test(x, is_ref) AS ks, ml_psi(x, is_ref) AS psi, ml_wasserstein(x, is_ref) AS w,
			ml_chi2_test(c, is_ref) AS gof, ml_chi2_contingency(c, is_ref) AS cont, ml_js_distance(c, is_ref) AS js
	 FROM drift_par) p;
SELECT (ks).n_reference, (ks).n_current, (ks).method, (gof).df FROM drift_serial;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;

DROP TABLE drift_small, drift_cats, drift_states, drift_par, drift_serial;
DROP FUNCTION drift_try(text), drift_fmt(float8), drift_near(float8, float8);
