-- Data exploration: ml_profile, ml_outliers, ml_duplicates, ml_correlations,
-- ml_feature_scores, ml_pca and the summary aggregates on valid and invalid input.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS mlcycle CASCADE;
CREATE EXTENSION mlcycle;
DROP ROLE IF EXISTS regress_mlc_explorer;
RESET client_min_messages;
CREATE ROLE regress_mlc_explorer;
CREATE SCHEMA explore_t;
GRANT USAGE ON SCHEMA explore_t TO regress_mlc_explorer;
SET extra_float_digits = 0;

-- a small table with every kind of column
CREATE TYPE explore_t.mood AS ENUM ('sad', 'ok', 'happy');
CREATE TABLE explore_t.mixed (id int, score float8, label text, flag boolean, day date, mood explore_t.mood, doc jsonb, nothing int, same int);
INSERT INTO explore_t.mixed VALUES
	(1, 1.5, 'a', true, '2024-01-01', 'sad', '{"k": 1}', NULL, 7),
	(2, 0, 'b', false, '2024-01-02', 'ok', '{"k": 2}', NULL, 7),
	(3, 2.5, 'a', true, '2024-01-03', 'happy', '{"k": 1}', NULL, 7),
	(4, NULL, 'a', NULL, NULL, NULL, NULL, NULL, 7),
	(5, 'NaN', NULL, true, '2024-01-05', 'ok', '{"k": 3}', NULL, 7),
	(6, 'Infinity', 'c', false, '2024-01-06', 'ok', '{"k": 1}', NULL, 7),
	(7, 10, 'b', true, '2024-01-07', 'sad', '{"k": 1}', NULL, 7);
SELECT column_name, type, kind, rows, nulls, round(null_fraction::numeric, 3) AS null_fraction, distinct_count, distinct_exact, nonfinite,
	   round(mean::numeric, 6) AS mean, round(std::numeric, 6) AS std, min, p25, median, p75, max, round(zero_fraction::numeric, 3) AS zeros,
	   quantiles_exact, top_values, constant, likely_id, high_missing, ordinal
FROM ml_profile('explore_t.mixed') ORDER BY ordinal;
-- skewness and kurtosis: NULL with zero variance (the constant column), else defined
SELECT column_name, round(skewness::numeric, 6) AS skewness, round(kurtosis::numeric, 6) AS kurtosis
FROM ml_profile('explore_t.mixed') WHERE kind = 'numeric' ORDER BY ordinal;

-- an empty table
CREATE TABLE explore_t.empty (x float8, t text);
SELECT column_name, rows, nulls, null_fraction, distinct_count, mean, median, top_values, constant, likely_id, high_missing FROM ml_profile('explore_t.empty');
SELECT * FROM ml_outliers('explore_t.empty');
SELECT * FROM ml_duplicates('explore_t.empty');
SELECT * FROM ml_correlations('explore_t.empty');

-- missing, hostile and quoted relation names
SELECT * FROM ml_profile('explore_t.nope');
SELECT * FROM ml_profile('');
SELECT * FROM ml_profile('explore_t.mixed; DROP TABLE explore_t.mixed');
CREATE TABLE explore_t."Robert'); DROP TABLE explore_t.mixed;--" ("a""b" int, "Sel ect" text, "x;y" float8);
INSERT INTO explore_t."Robert'); DROP TABLE explore_t.mixed;--" VALUES (1, 'x', 1), (1, 'x', 1), (2, NULL, 3);
SELECT column_name, kind, rows, distinct_count FROM ml_profile('explore_t."Robert''); DROP TABLE explore_t.mixed;--"') ORDER BY ordinal;
SELECT * FROM ml_duplicates('explore_t."Robert''); DROP TABLE explore_t.mixed;--"');
SELECT * FROM ml_correlations('explore_t."Robert''); DROP TABLE explore_t.mixed;--"');
SELECT column_name, lower_bound, upper_bound, outliers FROM ml_outliers('explore_t."Robert''); DROP TABLE explore_t.mixed;--"');
SELECT count(*) AS still_there FROM explore_t.mixed;
SELECT * FROM ml_profile('pg_catalog.pg_class_oid_index');

-- privileges: none, then one column
SET ROLE regress_mlc_explorer;
SELECT * FROM ml_profile('explore_t.mixed');
SELECT * FROM ml_duplicates('explore_t.mixed');
SELECT * FROM ml_pca('explore_t.mixed', '{score}');
RESET ROLE;
GRANT SELECT (id, score) ON explore_t.mixed TO regress_mlc_explorer;
SET ROLE regress_mlc_explorer;
SELECT * FROM ml_profile('explore_t.mixed');
SELECT * FROM ml_pca('explore_t.mixed', '{label}');
SELECT component, round(explained_variance::numeric, 6) AS explained_variance FROM ml_pca('explore_t.mixed', '{id}');
RESET ROLE;

-- outliers: methods, factors, NaN and Infinity
SELECT * FROM ml_outliers('explore_t.mixed', 'mad');
SELECT * FROM ml_outliers('explore_t.mixed', NULL);
SELECT * FROM ml_outliers('explore_t.mixed', 'iqr', -1);
SELECT * FROM ml_outliers('explore_t.mixed', 'iqr', 'Infinity');
SELECT column_name, method, lower_bound, upper_bound, n, below, above, outliers FROM ml_outliers('explore_t.mixed');
SELECT column_name, method, round(lower_bound::numeric, 6) AS lower_bound, round(upper_bound::numeric, 6) AS upper_bound, n, outliers FROM ml_outliers('explore_t.mixed', 'zscore', 1);

-- duplicates: NULLs equal each other; jsonb and types without equality compare as text
CREATE TABLE explore_t.dups (a int, b text, p point);
INSERT INTO explore_t.dups VALUES (1, NULL, '(1,2)'), (1, NULL, '(1,2)'), (1, NULL, '(1,2)'), (2, 'x', NULL), (2, 'x', NULL), (3, 'y', '(0,0)');
SELECT * FROM ml_duplicates('explore_t.dups');

-- correlations: constant and all-NULL columns give NULL, pairs count complete rows
SELECT col_a, col_b, round(pearson::numeric, 6) AS pearson, round(spearman::numeric, 6) AS spearman, n FROM ml_correlations('explore_t.mixed');

-- feature scores
CREATE TABLE explore_t.fs (y text, x float8, k float8, c text, allnull float8, r float8);
INSERT INTO explore_t.fs SELECT CASE WHEN i % 3 = 0 THEN 'p' ELSE 'n' END, i, 5, CASE WHEN i % 2 = 0 THEN 'e' ELSE 'o' END, NULL, i * 2.0 + (i % 3)
FROM generate_series(1, 30) i;
INSERT INTO explore_t.fs VALUES (NULL, 1, 1, 'e', NULL, 1);
SELECT feature, kind, n, round(variance::numeric, 6) AS variance, round(f_statistic::numeric, 6) AS f, round(f_p_value::numeric, 6) AS p,
	   round(chi2::numeric, 6) AS chi2, round(chi2_p_value::numeric, 6) AS chi2_p, round(mutual_info::numeric, 6) AS mi
FROM ml_feature_scores('explore_t.fs', 'y');
SELECT feature, n, round(correlation::numeric, 6) AS r, round(f_statistic::numeric, 6) AS f, f_p_value, round(mutual_info::numeric, 6) AS mi
FROM ml_feature_scores('explore_t.fs', 'r', exclude => '{y}');
SELECT * FROM ml_feature_scores('explore_t.fs', 'y', task => 'clustering');
SELECT * FROM ml_feature_scores('explore_t.fs', 'y', task => 'regression');
SELECT * FROM ml_feature_scores('explore_t.fs', 'nope');
SELECT * FROM ml_feature_scores('explore_t.fs', NULL);
SELECT * FROM ml_feature_scores('explore_t.mixed', 'label');
SELECT * FROM ml_feature_scores('explore_t.mixed', 'label', exclude => '{doc,score}') LIMIT 0;
SELECT * FROM ml_feature_scores('explore_t.empty', 't');

-- PCA
SELECT component, round(explained_variance::numeric, 6) AS ev, round(explained_variance_ratio::numeric, 6) AS ratio, round(cumulative_variance_ratio::numeric, 6) AS cum
FROM ml_pca('explore_t.fs', '{x,r,k}');
SELECT component, round(explained_variance::numeric, 6) AS ev FROM ml_pca('explore_t.fs', '{x,r,k}', standardize => true);
SELECT count(*) AS kept FROM ml_pca('explore_t.fs', '{x,r,k}', variance => 0.999);
SELECT * FROM ml_pca('explore_t.fs', '{x,nope}');
SELECT * FROM ml_pca('explore_t.fs', '{x,c}');
SELECT * FROM ml_pca('explore_t.fs', '{x,x}');
SELECT * FROM ml_pca('explore_t.fs', '{}');
SELECT * FROM ml_pca('explore_t.fs', '{x,r}', n_components => 3);
SELECT * FROM ml_pca('explore_t.fs', '{x,r}', n_components => 1, variance => 0.5);
SELECT * FROM ml_pca('explore_t.fs', '{x,r}', variance => 1);
SELECT * FROM ml_pca('explore_t.fs', '{x,allnull}');
SELECT * FROM ml_pca('explore_t.mixed', '{score}');

-- the aggregates on their own
SELECT (ml_summary(v)).* FROM unnest('{1, 2, 3, 4, NULL, NaN}'::float8[]) v;
SELECT (ml_summary(v)).* FROM unnest('{}'::float8[]) v;
SELECT ml_quantiles(ml_summary_sketch(v), '{0, 0.1, 0.5, 1}') FROM generate_series(1, 11) v;
SELECT ml_quantiles(ml_summary_sketch(v), '{0.5, 1.5}') FROM generate_series(1, 11) v;
SELECT ml_quantiles(ml_summary_sketch(v), '{}') FROM generate_series(1, 11) v;
SELECT ml_top_values(ml_category_sketch(v), 2), ml_distinct_count(ml_category_sketch(v)) FROM unnest('{b, a, b, NULL, c, a, b}'::text[]) v;
SELECT ml_top_values(ml_category_sketch(v), 0) FROM unnest('{a}'::text[]) v;
SELECT ml_summary('\x0102'::bytea);
SELECT ml_summary(ml_category_sketch(v)) FROM unnest('{a}'::text[]) v;
SELECT ml_summary_merge(s) FROM (SELECT ml_summary_sketch(1) UNION ALL SELECT ml_category_sketch('a')) q(s);
SELECT ml_covariance(ARRAY[a, b]) FROM (VALUES (1.0, 2.0), (2.0, 4.5), (3.0, NULL), (4.0, 7.0)) q(a, b);
SELECT ml_covariance(r) FROM (VALUES ('{1,2}'::float8[]), ('{1,2,3}')) q(r);
SELECT ml_covariance(ARRAY[a]) FROM (VALUES ('Infinity'::float8)) q(a);

-- exploration reads numeric columns through mlcycle.numeric_float8: numeric::float8 to the
-- bit, by its exact path (at most 2^53 scaled by 10^-22..) or by the cast (the rest)
SELECT setseed(0.25);
SELECT count(*) AS n, count(*) FILTER (WHERE mlcycle.numeric_float8(x)::text IS DISTINCT FROM x::float8::text) AS differ
FROM (SELECT round(((random() - 0.5) * 10 ^ (floor(random() * 40) - 20))::numeric, floor(random() * 30)::int)
	  FROM generate_series(1, 20000)
	  UNION ALL
	  SELECT unnest('{0, -0.000, 1, -1, 0.1, 0.3, -0.0001, 10000, 1e22, -2.5e22, 1e23, 1e-22, 1e-23, 1.5e-30,
					  9007199254740991, 9007199254740992, 9007199254740993, 4503599627370497.5, 99999999999999999,
					  12345678.12345678, 123456789012345678901234567890, 1e308, 1e-308, NaN, Infinity, -Infinity}'::numeric[])) q(x);
SELECT mlcycle.numeric_float8(NULL) AS null_in, mlcycle.numeric_float8(-12.5) AS neg, mlcycle.numeric_float8(0.1) AS tenth, mlcycle.numeric_float8('-Infinity') AS neg_inf;

-- every aggregate of the extension has a combine function and a bytea or float8[] state
SELECT p.proname, a.aggtranstype::regtype, a.aggcombinefn
FROM pg_aggregate a JOIN pg_proc p ON p.oid = a.aggfnoid
JOIN pg_depend d ON d.objid = p.oid AND d.deptype = 'e'
JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'mlcycle'
WHERE p.proname IN ('ml_summary', 'ml_summary_sketch', 'ml_category_sketch', 'ml_summary_merge', 'ml_covariance', 'summary_state', 'category_state', 'covariance_state')
  AND (a.aggcombinefn = 0 OR a.aggtranstype NOT IN ('bytea'::regtype, 'float8[]'::regtype) OR p.proparallel <> 's');

DROP SCHEMA explore_t CASCADE;
DROP ROLE regress_mlc_explorer;
