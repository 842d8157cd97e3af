-- explore_reference.sql: ml_profile, ml_correlations, ml_outliers, ml_duplicates,
-- ml_feature_scores and ml_pca against numpy 1.24 / scipy 1.10 / scikit-learn 1.2.1
-- on the shipped data sets.  Run from the repository root (the \copy and \i paths
-- are relative), e.g.  pg_prove -d DB test/pgtap/explore_reference.sql
--
-- References: test/fixtures/explore_reference.sql, written by
-- test/fixtures/make_explore_fixtures.py (its docstring says what each value is).
-- Tolerances: counts, distinct counts, min, max, exact quartiles and IQR fences equal
-- (|got - want| <= 1e-12 * max(1, |want|)); moments, correlations, F, chi-square,
-- mutual information and PCA variances to 1e-9 * max(1, |want|); p-values to 1e-7
-- relative; PCA loadings to 1e-8 absolute (after mlcycle's sign convention).  The
-- F statistics are compared to 1e-8: sklearn's f_oneway sums raw squares, which for
-- penguins' year (values near 2008) costs it about 9 digits (it gives 0.44717826395,
-- the exact rational value is 0.447178262894289); mlcycle centres the values first
-- and matches the exact value to 1e-15.
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
SELECT plan(20);

CREATE SCHEMA explore_ref;
CREATE FUNCTION explore_ref.near(got float8, want float8, tol float8) RETURNS boolean
LANGUAGE sql IMMUTABLE RETURN (got IS NULL AND want IS NULL)
	OR abs(got - want) <= tol * greatest(1, abs(want));
CREATE FUNCTION explore_ref.rel_near(got float8, want float8, tol float8) RETURNS boolean
LANGUAGE sql IMMUTABLE RETURN (got IS NULL AND want IS NULL)
	OR abs(got - want) <= tol * abs(want) + 1e-300;

CREATE TABLE explore_ref.penguins (
	species text, island text, bill_length_mm float8, bill_depth_mm float8,
	flipper_length_mm int, body_mass_g int, sex text, year int);
\copy explore_ref.penguins FROM 'data/penguins.csv' WITH (FORMAT csv, HEADER true)
CREATE TABLE explore_ref.pima (
	pregnant int, glucose int, pressure int, triceps int, insulin int,
	mass float8, pedigree float8, age int, diabetes text);
\copy explore_ref.pima FROM 'data/pima_diabetes.csv' WITH (FORMAT csv, HEADER true)
CREATE TABLE explore_ref.telco (
	churn text, female int, senior_citizen int, partner int, dependents int, tenure int,
	phone_service int, multiple_lines text, internet_service text, online_security text,
	online_backup text, device_protection text, tech_support text, streaming_tv text,
	streaming_movies text, contract text, paperless_billing int, payment_method text,
	monthly_charges float8, total_charges float8);
\copy explore_ref.telco FROM 'data/telco_churn.csv' WITH (FORMAT csv, HEADER true)

CREATE TABLE explore_ref.profile_num (relation text, col text, rows bigint, nulls bigint, ndistinct bigint,
	mean float8, std float8, min float8, p25 float8, median float8, p75 float8, max float8,
	skewness float8, kurtosis float8, zero_fraction float8);
CREATE TABLE explore_ref.profile_cat (relation text, col text, rows bigint, nulls bigint, ndistinct bigint,
	top_value text, top_count bigint, top3 text);
CREATE TABLE explore_ref.correlations (relation text, col_a text, col_b text, pearson float8, spearman float8, n bigint);
CREATE TABLE explore_ref.outliers (relation text, col text, method text, lower_bound float8, upper_bound float8,
	below bigint, above bigint);
CREATE TABLE explore_ref.duplicates (relation text, rows bigint, distinct_rows bigint);
CREATE TABLE explore_ref.scores (relation text, target text, feature text, n bigint, variance float8,
	correlation float8, f float8, f_p float8, chi2 float8, chi2_p float8, mi float8);
CREATE TABLE explore_ref.pca (relation text, standardize boolean, component int, ev float8, ratio float8,
	loadings float8[]);
CREATE TABLE explore_ref.pca_keep (relation text, variance float8, k int);
\i test/fixtures/explore_reference.sql

CREATE TABLE explore_ref.profile AS
SELECT r.relation, p.* FROM (VALUES ('penguins'), ('pima'), ('telco')) r(relation),
	LATERAL ml_profile('explore_ref.' || r.relation) p;

-- profile: numeric columns
SELECT is((SELECT count(*) FROM explore_ref.profile_num), 22::bigint, 'fixtures: 22 numeric columns');
SELECT is((SELECT count(*) FROM explore_ref.profile_num e JOIN explore_ref.profile p
		   ON p.relation = e.relation AND p.column_name = e.col
		   WHERE p.kind = 'numeric' AND p.rows = e.rows AND p.nulls = e.nulls
			 AND p.distinct_count = e.ndistinct AND p.distinct_exact AND p.quantiles_exact
			 AND explore_ref.near(p.min, e.min, 1e-12) AND explore_ref.near(p.max, e.max, 1e-12)
			 AND explore_ref.near(p.p25, e.p25, 1e-12) AND explore_ref.near(p.median, e.median, 1e-12)
			 AND explore_ref.near(p.p75, e.p75, 1e-12)
			 AND explore_ref.near(p.zero_fraction, e.zero_fraction, 1e-12)),
		  22::bigint, 'profile: counts, distinct, min, max and quartiles equal numpy''s');
SELECT is((SELECT count(*) FROM explore_ref.profile_num e JOIN explore_ref.profile p
		   ON p.relation = e.relation AND p.column_name = e.col
		   WHERE explore_ref.near(p.mean, e.mean, 1e-9) AND explore_ref.near(p.std, e.std, 1e-9)
			 AND explore_ref.near(p.skewness, e.skewness, 1e-9)
			 AND explore_ref.near(p.kurtosis, e.kurtosis, 1e-9)),
		  22::bigint, 'profile: mean, std, skewness and excess kurtosis match numpy and scipy to 1e-9');
-- profile: categorical columns
SELECT is((SELECT count(*) FROM explore_ref.profile_cat e JOIN explore_ref.profile p
		   ON p.relation = e.relation AND p.column_name = e.col
		   WHERE p.kind = 'categorical' AND p.rows = e.rows AND p.nulls = e.nulls
			 AND p.distinct_count = e.ndistinct AND p.distinct_exact AND p.top_counts_exact
			 AND (SELECT string_agg((v->>'value') || '=' || (v->>'count'), ',' ORDER BY i)
				  FROM jsonb_array_elements(p.top_values) WITH ORDINALITY a(v, i) WHERE i <= 3) = e.top3),
		  (SELECT count(*) FROM explore_ref.profile_cat), 'profile: categorical counts, distinct values and top values');
SELECT results_eq($$SELECT column_name FROM explore_ref.profile WHERE high_missing ORDER BY 1$$,
				  $$VALUES ('insulin')$$, 'profile: insulin (48.7% NULL) is the one column with heavy missingness');
SELECT is((SELECT count(*) FROM explore_ref.profile WHERE constant OR likely_id), 0::bigint,
		  'profile: no constant or identifier column in the shipped data');

-- correlations
SELECT is((SELECT count(*) FROM explore_ref.correlations), 74::bigint, 'fixtures: 74 column pairs');
SELECT is((SELECT count(*) FROM explore_ref.correlations e JOIN
			 (SELECT r.relation, c.* FROM (VALUES ('penguins'), ('pima'), ('telco')) r(relation),
				LATERAL ml_correlations('explore_ref.' || r.relation) c) g
		   ON g.relation = e.relation AND g.col_a = e.col_a AND g.col_b = e.col_b
		   WHERE g.n = e.n AND explore_ref.near(g.pearson, e.pearson, 1e-9)
			 AND explore_ref.near(g.spearman, e.spearman, 1e-9)),
		  74::bigint, 'correlations: Pearson and Spearman match numpy and scipy (pairwise deletion)');

-- outliers
SELECT is((SELECT count(*) FROM explore_ref.outliers e JOIN
			 (SELECT r.relation, o.* FROM (VALUES ('penguins'), ('pima'), ('telco')) r(relation),
				LATERAL ml_outliers('explore_ref.' || r.relation) o) g
		   ON g.relation = e.relation AND g.column_name = e.col AND e.method = 'iqr'
		   WHERE g.below = e.below AND g.above = e.above
			 AND explore_ref.near(g.lower_bound, e.lower_bound, 1e-12)
			 AND explore_ref.near(g.upper_bound, e.upper_bound, 1e-12)),
		  22::bigint, 'outliers iqr: fences and counts match numpy');
SELECT is((SELECT count(*) FROM explore_ref.outliers e JOIN
			 (SELECT r.relation, o.* FROM (VALUES ('penguins'), ('pima'), ('telco')) r(relation),
				LATERAL ml_outliers('explore_ref.' || r.relation, 'zscore') o) g
		   ON g.relation = e.relation AND g.column_name = e.col AND e.method = 'zscore'
		   WHERE g.below = e.below AND g.above = e.above
			 AND explore_ref.near(g.lower_bound, e.lower_bound, 1e-9)
			 AND explore_ref.near(g.upper_bound, e.upper_bound, 1e-9)),
		  22::bigint, 'outliers zscore: bounds and counts match scipy.stats.zscore');

-- duplicates
SELECT is((SELECT count(*) FROM explore_ref.duplicates e,
			 LATERAL ml_duplicates('explore_ref.' || e.relation) d
		   WHERE d.rows = e.rows AND d.distinct_rows = e.distinct_rows
			 AND d.duplicate_rows = e.rows - e.distinct_rows),
		  3::bigint, 'duplicates: telco has 22 repeated rows, the others none');

-- feature scores
CREATE TABLE explore_ref.got_scores AS
SELECT 'penguins' AS relation, 'species' AS target, s.* FROM ml_feature_scores('explore_ref.penguins', 'species') s
UNION ALL SELECT 'pima', 'mass', s.* FROM ml_feature_scores('explore_ref.pima', 'mass') s
UNION ALL SELECT 'pima', 'diabetes', s.* FROM ml_feature_scores('explore_ref.pima', 'diabetes') s
UNION ALL SELECT 'telco', 'churn', s.* FROM ml_feature_scores('explore_ref.telco', 'churn') s;
SELECT is((SELECT count(*) FROM explore_ref.scores), 42::bigint, 'fixtures: 42 feature scores');
SELECT is((SELECT count(*) FROM explore_ref.scores e JOIN explore_ref.got_scores g
		   USING (relation, target) WHERE g.feature = e.feature AND g.n = e.n
			 AND explore_ref.near(g.variance, e.variance, 1e-9)
			 AND explore_ref.near(g.correlation, e.correlation, 1e-9)),
		  42::bigint, 'scores: rows, variance (ddof 0) and r_regression');
SELECT is((SELECT count(*) FROM explore_ref.scores e JOIN explore_ref.got_scores g
		   USING (relation, target) WHERE g.feature = e.feature
			 AND explore_ref.near(g.f_statistic, e.f, 1e-8) AND explore_ref.rel_near(g.f_p_value, e.f_p, 1e-7)),
		  42::bigint, 'scores: f_classif and f_regression statistics and p-values');
SELECT is((SELECT count(*) FROM explore_ref.scores e JOIN explore_ref.got_scores g
		   USING (relation, target) WHERE g.feature = e.feature
			 AND explore_ref.near(g.chi2, e.chi2, 1e-9) AND explore_ref.rel_near(g.chi2_p_value, e.chi2_p, 1e-7)),
		  42::bigint, 'scores: chi-square = sum of sklearn chi2 over one-hot columns, p-value of chi2_contingency');
SELECT is((SELECT count(*) FROM explore_ref.scores e JOIN explore_ref.got_scores g
		   USING (relation, target) WHERE g.feature = e.feature AND explore_ref.near(g.mutual_info, e.mi, 1e-9)),
		  42::bigint, 'scores: mutual information (exact on categories, 10 equal-frequency bins on numbers)');

-- PCA
CREATE TABLE explore_ref.got_pca AS
SELECT 'penguins' AS relation, s AS standardize, p.*
FROM unnest('{false,true}'::boolean[]) s,
	 LATERAL ml_pca('explore_ref.penguins', '{bill_length_mm,bill_depth_mm,flipper_length_mm,body_mass_g}', standardize => s) p
UNION ALL
SELECT 'pima', s, p.*
FROM unnest('{false,true}'::boolean[]) s,
	 LATERAL ml_pca('explore_ref.pima', '{pregnant,glucose,pressure,mass,pedigree,age}', standardize => s) p;
SELECT is((SELECT count(*) FROM explore_ref.pca e JOIN explore_ref.got_pca g
		   ON g.relation = e.relation AND g.standardize = e.standardize AND g.component = e.component
		   WHERE explore_ref.near(g.explained_variance, e.ev, 1e-9)
			 AND explore_ref.near(g.explained_variance_ratio, e.ratio, 1e-9)),
		  20::bigint, 'pca: explained variance and ratio match sklearn PCA, raw and standardized');
SELECT is((SELECT count(*) FROM explore_ref.pca e JOIN explore_ref.got_pca g
		   ON g.relation = e.relation AND g.standardize = e.standardize AND g.component = e.component
		   WHERE (SELECT bool_and(abs(a - b) <= 1e-8) FROM unnest(g.loadings, e.loadings) u(a, b))),
		  20::bigint, 'pca: components match sklearn up to sign');
SELECT is((SELECT count(*) FROM explore_ref.pca_keep e
		   WHERE (SELECT count(*) FROM ml_pca('explore_ref.' || e.relation,
				  CASE e.relation WHEN 'pima' THEN '{pregnant,glucose,pressure,mass,pedigree,age}'::text[]
				  ELSE '{bill_length_mm,bill_depth_mm,flipper_length_mm,body_mass_g}' END,
				  variance => e.variance)) = e.k),
		  6::bigint, 'pca: variance => v keeps as many components as sklearn PCA(n_components=v)');
SELECT is((SELECT array_agg(round(explained_variance_ratio::numeric, 12) ORDER BY component)
		   FROM ml_pca('explore_ref.pima', '{pregnant,glucose,pressure,mass,pedigree,age}', n_components => 2)),
		  (SELECT array_agg(round(ratio::numeric, 12) ORDER BY component) FROM explore_ref.pca
		   WHERE relation = 'pima' AND NOT standardize AND component <= 2),
		  'pca: n_components => 2 returns the first two components');

SELECT * FROM finish();
ROLLBACK;
