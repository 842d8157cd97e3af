-- 72_explore.sql: data exploration (src/explore.c, src/sketch.c, src/pca.c).
-- Column summaries are aggregates with bytea states and combine functions, so
-- ml_profile runs one aggregate query that parallel query (and Citus) can
-- split; the states are also values users can store and merge.

-- ---------- column summaries ----------

CREATE TYPE mlcycle.column_summary AS (
	rows bigint,
	nulls bigint,
	nonfinite bigint,
	n bigint,
	mean float8,
	std float8,
	variance float8,
	min float8,
	p25 float8,
	median float8,
	p75 float8,
	max float8,
	skewness float8,
	kurtosis float8,
	zero_fraction float8,
	distinct_count bigint,
	distinct_exact boolean,
	quantiles_exact boolean,
	quantile_rank_error float8
);
COMMENT ON TYPE mlcycle.column_summary IS
'Result of ml_summary: row, NULL and NaN/Infinity counts, then statistics of the n finite values: mean, sample std and variance (ddof 1), min, quartiles, max, skewness and excess kurtosis (biased, as scipy.stats.skew and kurtosis by default), share of zeros, distinct count (exact up to 100000 values, else HyperLogLog), whether quantiles are exact (numpy linear, up to 100000 values) and the bound on a sketch quantile''s rank error as a fraction of n.';

CREATE FUNCTION mlcycle.summary_trans(state bytea, value float8)
	RETURNS bytea
	AS 'MODULE_PATHNAME', 'mlc_summary_trans'
	LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION mlcycle.summary_trans(bytea, float8)
	IS 'Internal: transition function of ml_summary and ml_summary_sketch; adds a value (NULL, NaN and infinities are counted).';

CREATE FUNCTION mlcycle.summary_combine(state bytea, other bytea)
	RETURNS bytea
	AS 'MODULE_PATHNAME', 'mlc_summary_combine'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION mlcycle.summary_combine(bytea, bytea)
	IS 'Internal: combine function of the numeric summary aggregates; merges counts, moments and sketches.';

CREATE FUNCTION mlcycle.summary_final(state bytea)
	RETURNS mlcycle.column_summary
	AS 'MODULE_PATHNAME', 'mlc_summary_final'
	LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION mlcycle.summary_final(bytea)
	IS 'Internal: final function of ml_summary; the statistics of a numeric summary state.';

CREATE AGGREGATE mlcycle.summary_state(float8) (
	SFUNC = mlcycle.summary_trans,
	STYPE = bytea,
	COMBINEFUNC = mlcycle.summary_combine,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE mlcycle.summary_state(float8) IS
'Internal: the numeric summary state of a column, as ml_profile reads it.';

CREATE AGGREGATE ml_summary(value float8) (
	SFUNC = mlcycle.summary_trans,
	STYPE = bytea,
	COMBINEFUNC = mlcycle.summary_combine,
	FINALFUNC = mlcycle.summary_final,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE ml_summary(float8) IS
'Summary statistics of a numeric column in one pass (mlcycle.column_summary): counts, moments, quartiles (exact up to 100000 values, then a mergeable sketch with a stated rank-error bound) and distinct count.';

CREATE AGGREGATE ml_summary_sketch(value float8) (
	SFUNC = mlcycle.summary_trans,
	STYPE = bytea,
	COMBINEFUNC = mlcycle.summary_combine,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE ml_summary_sketch(float8) IS
'The mergeable summary of a numeric column as a bytea value: store it, merge it with ml_summary_merge, read it with ml_summary, ml_quantiles and ml_distinct_count.';

CREATE FUNCTION ml_summary(sketch bytea)
	RETURNS mlcycle.column_summary
	AS 'MODULE_PATHNAME', 'mlc_summary_final'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ml_summary(bytea)
	IS 'The statistics of a numeric summary made by ml_summary_sketch.';

CREATE FUNCTION ml_quantiles(sketch bytea, quantiles float8[])
	RETURNS float8[]
	AS 'MODULE_PATHNAME', 'mlc_summary_quantiles'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ml_quantiles(bytea, float8[])
	IS 'Quantiles of a numeric summary made by ml_summary_sketch: numpy linear interpolation while exact (up to 100000 values), else sketch items whose rank is within quantile_rank_error * n of q * (n - 1); NULL for an empty column.';

CREATE FUNCTION mlcycle.numeric_float8(value numeric)
	RETURNS float8
	AS 'MODULE_PATHNAME', 'mlc_numeric_float8'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION mlcycle.numeric_float8(numeric)
	IS 'Internal: value::float8 (the same double), without strtod for decimals of up to 15 significant digits; how exploration reads numeric columns.';

CREATE FUNCTION mlcycle.category_trans(state bytea, value text)
	RETURNS bytea
	AS 'MODULE_PATHNAME', 'mlc_freq_trans'
	LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION mlcycle.category_trans(bytea, text)
	IS 'Internal: transition function of ml_category_sketch; counts a value (NULL counted apart).';

CREATE FUNCTION mlcycle.category_combine(state bytea, other bytea)
	RETURNS bytea
	AS 'MODULE_PATHNAME', 'mlc_freq_combine'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION mlcycle.category_combine(bytea, bytea)
	IS 'Internal: combine function of ml_category_sketch; adds counts, prunes to heavy hitters past 10000 categories, merges HyperLogLog registers.';

CREATE AGGREGATE mlcycle.category_state(text) (
	SFUNC = mlcycle.category_trans,
	STYPE = bytea,
	COMBINEFUNC = mlcycle.category_combine,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE mlcycle.category_state(text) IS
'Internal: the categorical summary state of a column, as ml_profile reads it.';

CREATE AGGREGATE ml_category_sketch(value text) (
	SFUNC = mlcycle.category_trans,
	STYPE = bytea,
	COMBINEFUNC = mlcycle.category_combine,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE ml_category_sketch(text) IS
'The mergeable summary of a categorical column as a bytea value: exact counts up to 10000 distinct values, then heavy hitters (Misra-Gries, each count at most rows/5001 too low) and a HyperLogLog distinct count. Read it with ml_top_values and ml_distinct_count.';

CREATE FUNCTION ml_top_values(sketch bytea, k integer DEFAULT 10)
	RETURNS jsonb
	AS 'MODULE_PATHNAME', 'mlc_sketch_top_values'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ml_top_values(bytea, integer)
	IS 'The k most frequent values of a summary made by ml_category_sketch, as [{"value": ..., "count": ...}], most frequent first, ties in byte order.';

CREATE FUNCTION ml_distinct_count(sketch bytea)
	RETURNS bigint
	AS 'MODULE_PATHNAME', 'mlc_sketch_distinct'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ml_distinct_count(bytea)
	IS 'Distinct non-NULL values of a summary made by ml_summary_sketch or ml_category_sketch: exact while the summary is, else a HyperLogLog estimate (2^14 registers, standard error 0.81%).';

CREATE FUNCTION mlcycle.sketch_merge_trans(state bytea, sketch bytea)
	RETURNS bytea
	AS 'MODULE_PATHNAME', 'mlc_sketch_merge_trans'
	LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION mlcycle.sketch_merge_trans(bytea, bytea)
	IS 'Internal: transition function of ml_summary_merge; merges a stored summary into the state.';

CREATE FUNCTION mlcycle.sketch_merge_combine(state bytea, other bytea)
	RETURNS bytea
	AS 'MODULE_PATHNAME', 'mlc_sketch_merge_trans'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION mlcycle.sketch_merge_combine(bytea, bytea)
	IS 'Internal: combine function of ml_summary_merge.';

CREATE AGGREGATE ml_summary_merge(sketch bytea) (
	SFUNC = mlcycle.sketch_merge_trans,
	STYPE = bytea,
	COMBINEFUNC = mlcycle.sketch_merge_combine,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE ml_summary_merge(bytea) IS
'Merges stored summaries of one kind (ml_summary_sketch or ml_category_sketch), for example daily sketches into a monthly one; NULL inputs are ignored.';

-- ---------- profile ----------

CREATE FUNCTION ml_profile(relation text)
	RETURNS TABLE (
		column_name text,
		type text,
		kind text,
		rows bigint,
		nulls bigint,
		null_fraction float8,
		distinct_count bigint,
		distinct_exact boolean,
		nonfinite bigint,
		mean float8,
		std float8,
		min float8,
		p25 float8,
		median float8,
		p75 float8,
		max float8,
		skewness float8,
		kurtosis float8,
		zero_fraction float8,
		quantiles_exact boolean,
		quantile_rank_error float8,
		top_values jsonb,
		top_counts_exact boolean,
		constant boolean,
		likely_id boolean,
		high_missing boolean,
		ordinal integer)
	AS 'MODULE_PATHNAME', 'mlc_profile'
	LANGUAGE C STABLE STRICT PARALLEL RESTRICTED;
COMMENT ON FUNCTION ml_profile(text)
	IS 'Data-quality profile of a table or view, one row per column, from one parallel-safe aggregate query with your privileges. kind is numeric, categorical (text, enum, boolean), temporal (date and timestamps; statistics in epoch seconds) or other (statistics of the text form). Numeric statistics are over finite values; see ml_summary. constant: at most one distinct value; likely_id: an integer, text or other column whose distinct values are at least 95% of its non-NULL values; high_missing: at least 40% NULL.';

-- ---------- outliers, duplicates, correlations ----------

CREATE FUNCTION ml_outliers(relation text, method text DEFAULT 'iqr', factor float8 DEFAULT NULL)
	RETURNS TABLE (
		column_name text,
		method text,
		lower_bound float8,
		upper_bound float8,
		n bigint,
		below bigint,
		above bigint,
		outliers bigint,
		outlier_fraction float8)
	AS 'MODULE_PATHNAME', 'mlc_outliers'
	LANGUAGE C STABLE PARALLEL RESTRICTED;
COMMENT ON FUNCTION ml_outliers(text, text, float8)
	IS 'Outliers of every numeric column: iqr (fences Q1 - factor IQR and Q3 + factor IQR, factor 1.5 by default) or zscore (mean -/+ factor population standard deviations, factor 3 by default). n counts finite values; NaN is never an outlier, infinities always are.';

CREATE TYPE mlcycle.duplicates_result AS (
	rows bigint,
	distinct_rows bigint,
	duplicate_rows bigint,
	duplicated_groups bigint,
	duplicate_fraction float8
);
COMMENT ON TYPE mlcycle.duplicates_result IS
'Result of ml_duplicates: rows, distinct rows, rows that repeat an earlier one (rows - distinct_rows), distinct rows that occur more than once, and duplicate_rows / rows.';

CREATE FUNCTION ml_duplicates(relation text)
	RETURNS mlcycle.duplicates_result
	AS 'MODULE_PATHNAME', 'mlc_duplicates'
	LANGUAGE C STABLE STRICT PARALLEL RESTRICTED;
COMMENT ON FUNCTION ml_duplicates(text)
	IS 'Counts exact duplicate rows over all columns (as pandas DataFrame.duplicated: NULLs equal each other); types without an equality operator compare by their text.';

CREATE FUNCTION ml_correlations(relation text)
	RETURNS TABLE (col_a text, col_b text, pearson float8, spearman float8, n bigint)
	AS 'MODULE_PATHNAME', 'mlc_correlations'
	LANGUAGE C STABLE STRICT PARALLEL RESTRICTED;
COMMENT ON FUNCTION ml_correlations(text)
	IS 'Pearson and Spearman (average ranks for ties) correlation of every pair of numeric columns, in table order, over the n rows where both are finite (as pandas DataFrame.corr); NULL when either column is constant there.';

-- ---------- feature scores ----------

CREATE FUNCTION ml_feature_scores(relation text, target text, task text DEFAULT NULL,
								  exclude text[] DEFAULT '{}')
	RETURNS TABLE (
		feature text,
		kind text,
		n bigint,
		variance float8,
		correlation float8,
		f_statistic float8,
		f_p_value float8,
		chi2 float8,
		chi2_p_value float8,
		mutual_info float8)
	AS 'MODULE_PATHNAME', 'mlc_feature_scores'
	LANGUAGE C STABLE PARALLEL RESTRICTED;
COMMENT ON FUNCTION ml_feature_scores(text, text, text, text[])
	IS 'Per-feature scores against the target over rows with a known target and feature: population variance, Pearson correlation (regression), ANOVA F (sklearn f_classif) or F-regression (f_regression) with p-values for numeric features, chi-square of the category x class table (= the sum of sklearn chi2 over the one-hot columns) for categorical ones, and mutual information in nats (exact for categories, 10 equal-frequency bins for numbers).';

-- ---------- covariance and PCA ----------

CREATE FUNCTION mlcycle.covariance_trans(state bytea, row_values float8[])
	RETURNS bytea
	AS 'MODULE_PATHNAME', 'mlc_cov_trans'
	LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION mlcycle.covariance_trans(bytea, float8[])
	IS 'Internal: transition function of ml_covariance; adds a row (skipped when it has a NULL).';

CREATE FUNCTION mlcycle.covariance_combine(state bytea, other bytea)
	RETURNS bytea
	AS 'MODULE_PATHNAME', 'mlc_cov_combine'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION mlcycle.covariance_combine(bytea, bytea)
	IS 'Internal: combine function of ml_covariance (Chan, Golub and LeVeque''s pairwise update).';

CREATE FUNCTION mlcycle.covariance_final(state bytea)
	RETURNS float8[]
	AS 'MODULE_PATHNAME', 'mlc_cov_final'
	LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION mlcycle.covariance_final(bytea)
	IS 'Internal: final function of ml_covariance.';

CREATE AGGREGATE mlcycle.covariance_state(float8[]) (
	SFUNC = mlcycle.covariance_trans,
	STYPE = bytea,
	COMBINEFUNC = mlcycle.covariance_combine,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE mlcycle.covariance_state(float8[]) IS
'Internal: the covariance state (count, means, centered cross-products) ml_pca reads.';

CREATE AGGREGATE ml_covariance(row_values float8[]) (
	SFUNC = mlcycle.covariance_trans,
	STYPE = bytea,
	COMBINEFUNC = mlcycle.covariance_combine,
	FINALFUNC = mlcycle.covariance_final,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE ml_covariance(float8[]) IS
'Sample covariance matrix (ddof 1, as numpy.cov) of rows given as arrays, over the rows without NULL; NULL below 2 rows.';

CREATE FUNCTION ml_pca(relation text, columns text[], n_components integer DEFAULT NULL,
					   variance float8 DEFAULT NULL, standardize boolean DEFAULT false)
	RETURNS TABLE (
		component integer,
		explained_variance float8,
		explained_variance_ratio float8,
		cumulative_variance_ratio float8,
		loadings float8[])
	AS 'MODULE_PATHNAME', 'mlc_pca'
	LANGUAGE C STABLE PARALLEL RESTRICTED;
COMMENT ON FUNCTION ml_pca(text, text[], integer, float8, boolean)
	IS 'Principal components of numeric columns over the rows without NULL, from the covariance aggregate and LAPACK dsyevd, as sklearn PCA up to sign (the largest loading of each component is positive): n_components, or the fewest components explaining more than variance, or all. standardize scales columns as StandardScaler first.';
