-- 74_transform.sql: standalone column transformers (src/transform.c).  Fit
-- aggregates keep a bytea state with a combine function (PARALLEL SAFE, so
-- parallel query and Citus aggregate partially) and return a fitted
-- transformer: a bytea with a CRC, readable with ml_transformer_text.  The
-- apply functions parse it once per query.  Method names are those of
-- ml_train's preprocess spec.  Fits on order statistics are exact up to
-- mlcycle.transform_exact_limit values, then use a mergeable quantile sketch.

-- ---------- numeric fits: scaler, imputer, binner, clipper ----------

CREATE FUNCTION mlcycle.tf_scaler_trans(state bytea, x float8, method text)
RETURNS bytea AS 'MODULE_PATHNAME', 'mlcycle_tf_scaler_trans'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION mlcycle.tf_scaler_trans(bytea, float8, text) IS
'Internal: transition function of ml_fit_scaler.';

CREATE FUNCTION mlcycle.tf_imputer_trans(state bytea, x float8, method text)
RETURNS bytea AS 'MODULE_PATHNAME', 'mlcycle_tf_imputer_trans'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION mlcycle.tf_imputer_trans(bytea, float8, text) IS
'Internal: transition function of ml_fit_imputer for numbers.';

CREATE FUNCTION mlcycle.tf_imputer_trans(state bytea, x float8, method text, fill_value float8)
RETURNS bytea AS 'MODULE_PATHNAME', 'mlcycle_tf_imputer_trans'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION mlcycle.tf_imputer_trans(bytea, float8, text, float8) IS
'Internal: transition function of ml_fit_imputer for numbers, with a constant fill value.';

CREATE FUNCTION mlcycle.tf_binner_trans(state bytea, x float8, method text, nbins int)
RETURNS bytea AS 'MODULE_PATHNAME', 'mlcycle_tf_binner_trans'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION mlcycle.tf_binner_trans(bytea, float8, text, int) IS
'Internal: transition function of ml_fit_binner.';

CREATE FUNCTION mlcycle.tf_clipper_trans(state bytea, x float8, lower float8, upper float8)
RETURNS bytea AS 'MODULE_PATHNAME', 'mlcycle_tf_clipper_trans'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION mlcycle.tf_clipper_trans(bytea, float8, float8, float8) IS
'Internal: transition function of ml_fit_clipper.';

CREATE FUNCTION mlcycle.tf_num_combine(a bytea, b bytea)
RETURNS bytea AS 'MODULE_PATHNAME', 'mlcycle_tf_num_combine'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION mlcycle.tf_num_combine(bytea, bytea) IS
'Internal: combine function of the numeric transformer fits: sums and extremes merge exactly; kept values concatenate up to mlcycle.transform_exact_limit, and past it merge as quantile sketches.';

CREATE FUNCTION mlcycle.tf_num_final(state bytea)
RETURNS bytea AS 'MODULE_PATHNAME', 'mlcycle_tf_num_final'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION mlcycle.tf_num_final(bytea) IS
'Internal: final function of the numeric transformer fits: the fitted transformer.';

CREATE AGGREGATE ml_fit_scaler(x float8, method text) (
	SFUNC = mlcycle.tf_scaler_trans, STYPE = bytea,
	COMBINEFUNC = mlcycle.tf_num_combine, FINALFUNC = mlcycle.tf_num_final,
	PARALLEL = SAFE);
COMMENT ON AGGREGATE ml_fit_scaler(float8, text) IS
'Fit a scaler on a column: standard, minmax, robust, maxabs, log1p, yeo_johnson or box_cox (lambda by maximum likelihood, then standardized). NULLs are skipped. Apply with ml_transform(t, x).';

CREATE AGGREGATE ml_fit_imputer(x float8, method text) (
	SFUNC = mlcycle.tf_imputer_trans, STYPE = bytea,
	COMBINEFUNC = mlcycle.tf_num_combine, FINALFUNC = mlcycle.tf_num_final,
	PARALLEL = SAFE);
COMMENT ON AGGREGATE ml_fit_imputer(float8, text) IS
'Fit a numeric imputer: mean, median or most_frequent of the non-NULL values. ml_transform(t, x) returns x, or the fill value for NULL.';

CREATE AGGREGATE ml_fit_imputer(x float8, method text, fill_value float8) (
	SFUNC = mlcycle.tf_imputer_trans, STYPE = bytea,
	COMBINEFUNC = mlcycle.tf_num_combine, FINALFUNC = mlcycle.tf_num_final,
	PARALLEL = SAFE);
COMMENT ON AGGREGATE ml_fit_imputer(float8, text, float8) IS
'Fit a constant numeric imputer: ml_fit_imputer(x, ''constant'', fill_value).';

CREATE AGGREGATE ml_fit_binner(x float8, method text, nbins int) (
	SFUNC = mlcycle.tf_binner_trans, STYPE = bytea,
	COMBINEFUNC = mlcycle.tf_num_combine, FINALFUNC = mlcycle.tf_num_final,
	PARALLEL = SAFE);
COMMENT ON AGGREGATE ml_fit_binner(float8, text, int) IS
'Fit bins: uniform (equal width between min and max) or quantile (equal counts; bins narrower than 1e-8 removed). ml_transform(t, x) returns the bin index from 0.';

CREATE AGGREGATE ml_fit_clipper(x float8, lower float8, upper float8) (
	SFUNC = mlcycle.tf_clipper_trans, STYPE = bytea,
	COMBINEFUNC = mlcycle.tf_num_combine, FINALFUNC = mlcycle.tf_num_final,
	PARALLEL = SAFE);
COMMENT ON AGGREGATE ml_fit_clipper(float8, float8, float8) IS
'Fit winsorizing bounds at the lower and upper percentiles (fractions in [0, 1], linear interpolation). ml_transform(t, x) clips x to them.';

-- ---------- text fits: encoder, text imputer ----------

CREATE FUNCTION mlcycle.tf_encoder_trans(state bytea, x text, method text)
RETURNS bytea AS 'MODULE_PATHNAME', 'mlcycle_tf_encoder_trans'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION mlcycle.tf_encoder_trans(bytea, text, text) IS
'Internal: transition function of ml_fit_encoder.';

CREATE FUNCTION mlcycle.tf_encoder_trans(state bytea, x text, method text, options jsonb)
RETURNS bytea AS 'MODULE_PATHNAME', 'mlcycle_tf_encoder_trans'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION mlcycle.tf_encoder_trans(bytea, text, text, jsonb) IS
'Internal: transition function of ml_fit_encoder with options.';

CREATE FUNCTION mlcycle.tf_text_imputer_trans(state bytea, x text, method text)
RETURNS bytea AS 'MODULE_PATHNAME', 'mlcycle_tf_text_imputer_trans'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION mlcycle.tf_text_imputer_trans(bytea, text, text) IS
'Internal: transition function of ml_fit_imputer for text.';

CREATE FUNCTION mlcycle.tf_text_imputer_trans(state bytea, x text, method text, fill_value text)
RETURNS bytea AS 'MODULE_PATHNAME', 'mlcycle_tf_text_imputer_trans'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION mlcycle.tf_text_imputer_trans(bytea, text, text, text) IS
'Internal: transition function of ml_fit_imputer for text, with a constant fill value.';

CREATE FUNCTION mlcycle.tf_target_trans(state bytea, x text, y float8)
RETURNS bytea AS 'MODULE_PATHNAME', 'mlcycle_tf_target_trans'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION mlcycle.tf_target_trans(bytea, text, float8) IS
'Internal: transition function of ml_fit_target_encoder.';

CREATE FUNCTION mlcycle.tf_target_trans(state bytea, x text, y float8, smoothing float8)
RETURNS bytea AS 'MODULE_PATHNAME', 'mlcycle_tf_target_trans'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION mlcycle.tf_target_trans(bytea, text, float8, float8) IS
'Internal: transition function of ml_fit_target_encoder with a smoothing.';

CREATE FUNCTION mlcycle.tf_text_combine(a bytea, b bytea)
RETURNS bytea AS 'MODULE_PATHNAME', 'mlcycle_tf_text_combine'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION mlcycle.tf_text_combine(bytea, bytea) IS
'Internal: combine function of the text transformer fits (category counts add up).';

CREATE FUNCTION mlcycle.tf_text_final(state bytea)
RETURNS bytea AS 'MODULE_PATHNAME', 'mlcycle_tf_text_final'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION mlcycle.tf_text_final(bytea) IS
'Internal: final function of the text transformer fits: the fitted transformer.';

CREATE AGGREGATE ml_fit_encoder(x text, method text) (
	SFUNC = mlcycle.tf_encoder_trans, STYPE = bytea,
	COMBINEFUNC = mlcycle.tf_text_combine, FINALFUNC = mlcycle.tf_text_final,
	PARALLEL = SAFE);
COMMENT ON AGGREGATE ml_fit_encoder(text, text) IS
'Fit an encoder on a text column: one_hot, ordinal, frequency, hashing (32 buckets) or binary. Categories are sorted; apply with ml_transform(t, x) -> float8[].';

CREATE AGGREGATE ml_fit_encoder(x text, method text, options jsonb) (
	SFUNC = mlcycle.tf_encoder_trans, STYPE = bytea,
	COMBINEFUNC = mlcycle.tf_text_combine, FINALFUNC = mlcycle.tf_text_final,
	PARALLEL = SAFE);
COMMENT ON AGGREGATE ml_fit_encoder(text, text, jsonb) IS
'Fit an encoder with options: {"top_k": k} keeps the k most frequent categories of one_hot plus an other bucket; {"buckets": b} sets the width of hashing.';

CREATE AGGREGATE ml_fit_target_encoder(x text, y float8) (
	SFUNC = mlcycle.tf_target_trans, STYPE = bytea,
	COMBINEFUNC = mlcycle.tf_text_combine, FINALFUNC = mlcycle.tf_text_final,
	PARALLEL = SAFE);
COMMENT ON AGGREGATE ml_fit_target_encoder(text, float8) IS
'Fit a target encoder: per category (sum of y + 10 * prior) / (count + 10), the prior being the mean of y; rows with a NULL y are skipped. Fit on training rows only. ml_transform(t, x) -> {value}; unseen categories get the prior.';

CREATE AGGREGATE ml_fit_target_encoder(x text, y float8, smoothing float8) (
	SFUNC = mlcycle.tf_target_trans, STYPE = bytea,
	COMBINEFUNC = mlcycle.tf_text_combine, FINALFUNC = mlcycle.tf_text_final,
	PARALLEL = SAFE);
COMMENT ON AGGREGATE ml_fit_target_encoder(text, float8, float8) IS
'Fit a target encoder with the given smoothing (the weight of the prior; 0 gives the plain category means).';

CREATE AGGREGATE ml_fit_imputer(x text, method text) (
	SFUNC = mlcycle.tf_text_imputer_trans, STYPE = bytea,
	COMBINEFUNC = mlcycle.tf_text_combine, FINALFUNC = mlcycle.tf_text_final,
	PARALLEL = SAFE);
COMMENT ON AGGREGATE ml_fit_imputer(text, text) IS
'Fit a text imputer: most_frequent (the smallest among ties). Apply with ml_impute(t, x).';

CREATE AGGREGATE ml_fit_imputer(x text, method text, fill_value text) (
	SFUNC = mlcycle.tf_text_imputer_trans, STYPE = bytea,
	COMBINEFUNC = mlcycle.tf_text_combine, FINALFUNC = mlcycle.tf_text_final,
	PARALLEL = SAFE);
COMMENT ON AGGREGATE ml_fit_imputer(text, text, text) IS
'Fit a constant text imputer: ml_fit_imputer(x, ''constant'', ''missing'').';

-- ---------- apply ----------

CREATE FUNCTION ml_transform(transformer bytea, x float8)
RETURNS float8 AS 'MODULE_PATHNAME', 'ml_transform_float8'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION ml_transform(bytea, float8) IS
'Apply a fitted scaler, numeric imputer, binner or clipper to a value. NULL stays NULL except for an imputer, which returns its fill value; NaN and Infinity are errors.';

CREATE FUNCTION ml_transform(transformer bytea, x text)
RETURNS float8[] AS 'MODULE_PATHNAME', 'ml_transform_text'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ml_transform(bytea, text) IS
'Apply a fitted encoder to a text value: one_hot indicators (unseen: all zero, or the other bucket with top_k), ordinal index (unseen: -1), frequency (unseen: 0), hashing indicators, binary digits of index + 1 (unseen: all zero).';

CREATE FUNCTION ml_impute(transformer bytea, x text)
RETURNS text AS 'MODULE_PATHNAME', 'ml_impute_text'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION ml_impute(bytea, text) IS
'Apply a fitted text imputer: x, or the fill value when x is NULL.';

CREATE FUNCTION ml_transformer_text(transformer bytea)
RETURNS jsonb AS 'MODULE_PATHNAME', 'ml_transformer_text'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ml_transformer_text(bytea) IS
'A fitted transformer as readable JSON: family, method, rows and nulls fitted on, and its fitted values.';

CREATE FUNCTION ml_temporal_features(x timestamptz, parts text[], cyclical bool DEFAULT false)
RETURNS float8[] AS 'MODULE_PATHNAME', 'ml_temporal_features'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ml_temporal_features(timestamptz, text[], bool) IS
'Calendar parts of a time, as ml_train''s temporal step computes them (UTC): year, month (1-12), day (1-31), dow (0 = Sunday), hour; with cyclical, sin and cos of each part over its period (month 12, day 31, dow 7, hour 24) instead, year staying plain.';

CREATE FUNCTION ml_temporal_features(x timestamp, parts text[], cyclical bool DEFAULT false)
RETURNS float8[] AS 'MODULE_PATHNAME', 'ml_temporal_features'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ml_temporal_features(timestamp, text[], bool) IS
'Calendar parts of a timestamp (taken as UTC), as ml_train''s temporal step computes them.';

CREATE FUNCTION ml_temporal_features(x date, parts text[], cyclical bool DEFAULT false)
RETURNS float8[] AS 'MODULE_PATHNAME', 'ml_temporal_features'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ml_temporal_features(date, text[], bool) IS
'Calendar parts of a date (hour 0), as ml_train''s temporal step computes them.';

CREATE FUNCTION ml_normalize(x float8[], norm text DEFAULT 'l2')
RETURNS float8[] AS 'MODULE_PATHNAME', 'ml_normalize'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ml_normalize(float8[], text) IS
'Scale one row of features to unit norm (l2, l1 or max), as scikit-learn''s Normalizer; an all-zero row stays zero.';
