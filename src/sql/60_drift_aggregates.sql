-- Drift statistics as aggregates over any two samples (src/drift_agg.c,
-- src/drift_stats.c): each row is a value and whether it belongs to the
-- reference sample (true) or the current one (false).  Their states are bytea
-- (never internal) with combine functions, so parallel query and Citus can
-- aggregate partially; the transition, combine and final functions are in
-- schema mlcycle.  NULL values (or a NULL is_reference) are ignored.

CREATE TYPE mlcycle.ks_result AS (
	statistic float8,
	p_value float8,
	n_reference bigint,
	n_current bigint,
	method text
);
COMMENT ON TYPE mlcycle.ks_result IS
'Result of ml_ks_test: the two-sample Kolmogorov-Smirnov statistic D, its two-sided p-value, the sample sizes, and the method of the p-value (exact or asymp). statistic, p_value and method are NULL when a sample is empty.';

CREATE TYPE mlcycle.chi2_result AS (
	statistic float8,
	df integer,
	p_value float8,
	n_reference bigint,
	n_current bigint,
	unseen_categories integer
);
COMMENT ON TYPE mlcycle.chi2_result IS
'Result of ml_chi2_test and ml_chi2_contingency: the chi-square statistic, its degrees of freedom and p-value, the sample sizes, and the number of categories that occur in the current sample only. statistic, df and p_value are NULL when a sample is empty.';

-- numeric samples: every value is kept (8 bytes each) for exact statistics

CREATE FUNCTION mlcycle.drift_num_trans(state bytea, value float8, is_reference boolean)
	RETURNS bytea
	AS 'MODULE_PATHNAME', 'mlc_drift_num_trans'
	LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION mlcycle.drift_num_trans(bytea, float8, boolean)
	IS 'Internal: transition function of ml_ks_test, ml_psi and ml_wasserstein; adds a value of either sample to the state.';

CREATE FUNCTION mlcycle.drift_psi_trans(state bytea, value float8, is_reference boolean, bins integer)
	RETURNS bytea
	AS 'MODULE_PATHNAME', 'mlc_drift_psi_trans'
	LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION mlcycle.drift_psi_trans(bytea, float8, boolean, integer)
	IS 'Internal: transition function of ml_psi(value, is_reference, bins); adds a value and records the number of bins.';

CREATE FUNCTION mlcycle.drift_ks_trans(state bytea, value float8, is_reference boolean, method text)
	RETURNS bytea
	AS 'MODULE_PATHNAME', 'mlc_drift_ks_trans'
	LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION mlcycle.drift_ks_trans(bytea, float8, boolean, text)
	IS 'Internal: transition function of ml_ks_test(value, is_reference, method); adds a value and records the p-value method.';

CREATE FUNCTION mlcycle.drift_wasserstein_trans(state bytea, value float8, is_reference boolean, normalized boolean)
	RETURNS bytea
	AS 'MODULE_PATHNAME', 'mlc_drift_wasserstein_trans'
	LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION mlcycle.drift_wasserstein_trans(bytea, float8, boolean, boolean)
	IS 'Internal: transition function of ml_wasserstein(value, is_reference, normalized); adds a value and records the normalization.';

CREATE FUNCTION mlcycle.drift_num_combine(state bytea, other bytea)
	RETURNS bytea
	AS 'MODULE_PATHNAME', 'mlc_drift_num_combine'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION mlcycle.drift_num_combine(bytea, bytea)
	IS 'Internal: combine function of the numeric drift aggregates; appends the values of the second state to the first.';

CREATE FUNCTION mlcycle.drift_ks_final(state bytea)
	RETURNS mlcycle.ks_result
	AS 'MODULE_PATHNAME', 'mlc_drift_ks_final'
	LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION mlcycle.drift_ks_final(bytea)
	IS 'Internal: final function of ml_ks_test; the two-sample Kolmogorov-Smirnov test of a state.';

CREATE FUNCTION mlcycle.drift_psi_final(state bytea)
	RETURNS float8
	AS 'MODULE_PATHNAME', 'mlc_drift_psi_final'
	LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION mlcycle.drift_psi_final(bytea)
	IS 'Internal: final function of ml_psi on numbers; the population stability index of a state.';

CREATE FUNCTION mlcycle.drift_wasserstein_final(state bytea)
	RETURNS float8
	AS 'MODULE_PATHNAME', 'mlc_drift_wasserstein_final'
	LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION mlcycle.drift_wasserstein_final(bytea)
	IS 'Internal: final function of ml_wasserstein; the 1-Wasserstein distance of a state, normalized or raw as recorded.';

CREATE AGGREGATE ml_ks_test(value float8, is_reference boolean) (
	SFUNC = mlcycle.drift_num_trans,
	STYPE = bytea,
	COMBINEFUNC = mlcycle.drift_num_combine,
	FINALFUNC = mlcycle.drift_ks_final,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE ml_ks_test(float8, boolean) IS
'Two-sample Kolmogorov-Smirnov test of the reference values against the current ones, as scipy.stats.ks_2samp (two-sided, method auto): exact p-value when the larger sample has at most 10000 values, else kstwo.sf(D, round(nm/(n+m))). Returns (statistic, p_value, n_reference, n_current, method).';

CREATE AGGREGATE ml_ks_test(value float8, is_reference boolean, method text) (
	SFUNC = mlcycle.drift_ks_trans,
	STYPE = bytea,
	COMBINEFUNC = mlcycle.drift_num_combine,
	FINALFUNC = mlcycle.drift_ks_final,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE ml_ks_test(float8, boolean, text) IS
'Two-sample Kolmogorov-Smirnov test with the p-value method chosen as in scipy.stats.ks_2samp: auto, exact (falls back to asymp with a warning when it cannot be computed) or asymp.';

CREATE AGGREGATE ml_psi(value float8, is_reference boolean) (
	SFUNC = mlcycle.drift_num_trans,
	STYPE = bytea,
	COMBINEFUNC = mlcycle.drift_num_combine,
	FINALFUNC = mlcycle.drift_psi_final,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE ml_psi(float8, boolean) IS
'Population stability index of the current values against the reference, with 10 bins cut at the reference deciles (numpy linear quantiles), right-closed, the outer bins open; an empty bin counts as proportion 1e-4.';

CREATE AGGREGATE ml_psi(value float8, is_reference boolean, bins integer) (
	SFUNC = mlcycle.drift_psi_trans,
	STYPE = bytea,
	COMBINEFUNC = mlcycle.drift_num_combine,
	FINALFUNC = mlcycle.drift_psi_final,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE ml_psi(float8, boolean, integer) IS
'Population stability index with bins (2 to 1000) cut at the reference quantiles k/bins; ties in the reference merge bins.';

CREATE AGGREGATE ml_wasserstein(value float8, is_reference boolean) (
	SFUNC = mlcycle.drift_num_trans,
	STYPE = bytea,
	COMBINEFUNC = mlcycle.drift_num_combine,
	FINALFUNC = mlcycle.drift_wasserstein_final,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE ml_wasserstein(float8, boolean) IS
'1-Wasserstein distance between the reference and current values (scipy.stats.wasserstein_distance) divided by the reference population standard deviation, or by 0.001 when that is smaller.';

CREATE AGGREGATE ml_wasserstein(value float8, is_reference boolean, normalized boolean) (
	SFUNC = mlcycle.drift_wasserstein_trans,
	STYPE = bytea,
	COMBINEFUNC = mlcycle.drift_num_combine,
	FINALFUNC = mlcycle.drift_wasserstein_final,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE ml_wasserstein(float8, boolean, boolean) IS
'1-Wasserstein distance between the reference and current values: normalized as ml_wasserstein(value, is_reference) when normalized is true, in the units of the values when false.';

-- categorical samples: one count per category and sample

CREATE FUNCTION mlcycle.drift_cat_trans(state bytea, category text, is_reference boolean)
	RETURNS bytea
	AS 'MODULE_PATHNAME', 'mlc_drift_cat_trans'
	LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION mlcycle.drift_cat_trans(bytea, text, boolean)
	IS 'Internal: transition function of the categorical drift aggregates; counts a category in its sample.';

CREATE FUNCTION mlcycle.drift_contingency_trans(state bytea, category text, is_reference boolean, correction boolean)
	RETURNS bytea
	AS 'MODULE_PATHNAME', 'mlc_drift_contingency_trans'
	LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION mlcycle.drift_contingency_trans(bytea, text, boolean, boolean)
	IS 'Internal: transition function of ml_chi2_contingency(category, is_reference, correction); counts a category and records the correction.';

CREATE FUNCTION mlcycle.drift_cat_combine(state bytea, other bytea)
	RETURNS bytea
	AS 'MODULE_PATHNAME', 'mlc_drift_cat_combine'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION mlcycle.drift_cat_combine(bytea, bytea)
	IS 'Internal: combine function of the categorical drift aggregates; adds the counts of the second state to the first.';

CREATE FUNCTION mlcycle.drift_chi2_final(state bytea)
	RETURNS mlcycle.chi2_result
	AS 'MODULE_PATHNAME', 'mlc_drift_chi2_final'
	LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION mlcycle.drift_chi2_final(bytea)
	IS 'Internal: final function of ml_chi2_test; the chi-square goodness of fit of the current counts to the reference proportions.';

CREATE FUNCTION mlcycle.drift_contingency_final(state bytea)
	RETURNS mlcycle.chi2_result
	AS 'MODULE_PATHNAME', 'mlc_drift_contingency_final'
	LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION mlcycle.drift_contingency_final(bytea)
	IS 'Internal: final function of ml_chi2_contingency; the chi-square test of the 2 x k table of counts.';

CREATE FUNCTION mlcycle.drift_js_final(state bytea)
	RETURNS float8
	AS 'MODULE_PATHNAME', 'mlc_drift_js_final'
	LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION mlcycle.drift_js_final(bytea)
	IS 'Internal: final function of ml_js_distance; the base-2 Jensen-Shannon distance of the category proportions.';

CREATE FUNCTION mlcycle.drift_cat_psi_final(state bytea)
	RETURNS float8
	AS 'MODULE_PATHNAME', 'mlc_drift_cat_psi_final'
	LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION mlcycle.drift_cat_psi_final(bytea)
	IS 'Internal: final function of ml_psi on categories; the population stability index with one bin per category.';

CREATE AGGREGATE ml_chi2_test(category text, is_reference boolean) (
	SFUNC = mlcycle.drift_cat_trans,
	STYPE = bytea,
	COMBINEFUNC = mlcycle.drift_cat_combine,
	FINALFUNC = mlcycle.drift_chi2_final,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE ml_chi2_test(text, boolean) IS
'Chi-square goodness of fit of the current category counts to the reference proportions, as scipy.stats.chisquare(cur, ref * n_cur / n_ref), df = categories - 1. A category absent from the reference counts as 0.5 there (and is reported in unseen_categories) instead of making the statistic infinite.';

CREATE AGGREGATE ml_chi2_contingency(category text, is_reference boolean) (
	SFUNC = mlcycle.drift_cat_trans,
	STYPE = bytea,
	COMBINEFUNC = mlcycle.drift_cat_combine,
	FINALFUNC = mlcycle.drift_contingency_final,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE ml_chi2_contingency(text, boolean) IS
'Chi-square test of the 2 x k contingency table of reference and current category counts, as scipy.stats.chi2_contingency: df = categories - 1, Yates correction when df = 1.';

CREATE AGGREGATE ml_chi2_contingency(category text, is_reference boolean, correction boolean) (
	SFUNC = mlcycle.drift_contingency_trans,
	STYPE = bytea,
	COMBINEFUNC = mlcycle.drift_cat_combine,
	FINALFUNC = mlcycle.drift_contingency_final,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE ml_chi2_contingency(text, boolean, boolean) IS
'Chi-square test of the 2 x k contingency table, with (true) or without (false) Yates correction when df = 1.';

CREATE AGGREGATE ml_js_distance(category text, is_reference boolean) (
	SFUNC = mlcycle.drift_cat_trans,
	STYPE = bytea,
	COMBINEFUNC = mlcycle.drift_cat_combine,
	FINALFUNC = mlcycle.drift_js_final,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE ml_js_distance(text, boolean) IS
'Jensen-Shannon distance, base 2 (0 = same proportions, 1 = disjoint), between the category proportions of the reference and current samples, as scipy.spatial.distance.jensenshannon(p, q, base=2).';

CREATE AGGREGATE ml_psi(category text, is_reference boolean) (
	SFUNC = mlcycle.drift_cat_trans,
	STYPE = bytea,
	COMBINEFUNC = mlcycle.drift_cat_combine,
	FINALFUNC = mlcycle.drift_cat_psi_final,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE ml_psi(text, boolean) IS
'Population stability index of a categorical column: one bin per category, an empty category counting as proportion 1e-4.';

-- the distributions behind the p-values

CREATE FUNCTION mlcycle.kstwo_sf(statistic float8, n bigint)
	RETURNS float8
	AS 'MODULE_PATHNAME', 'mlc_drift_kstwo_sf'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION mlcycle.kstwo_sf(float8, bigint)
	IS 'P(D_n >= statistic) for the two-sided one-sample Kolmogorov-Smirnov statistic of n values (scipy.stats.kstwo.sf); ml_ks_test''s asymptotic p-value is kstwo_sf(D, round(nm/(n+m))).';

CREATE FUNCTION mlcycle.kolmogorov_sf(x float8)
	RETURNS float8
	AS 'MODULE_PATHNAME', 'mlc_drift_kolmogorov_sf'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION mlcycle.kolmogorov_sf(float8)
	IS 'Survival function of the limiting Kolmogorov distribution, 2 sum (-1)^(k-1) exp(-2 k^2 x^2) (scipy.stats.kstwobign.sf).';

CREATE FUNCTION mlcycle.chi2_sf(x float8, df float8)
	RETURNS float8
	AS 'MODULE_PATHNAME', 'mlc_drift_chi2_sf'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION mlcycle.chi2_sf(float8, float8)
	IS 'Survival function of the chi-square distribution with df degrees of freedom (scipy.stats.chi2.sf), the regularized upper incomplete gamma Q(df/2, x/2).';
