-- 80_learners.sql: the naive Bayes statistics aggregate (src/naive_bayes.c),
-- feature importance and model comparison (src/importance.c, src/compare.c).

-- ---------- naive Bayes sufficient statistics ----------

CREATE FUNCTION mlcycle.nb_stats_trans(state bytea, class_index int, numeric_values float8[], categories int[])
RETURNS bytea AS 'MODULE_PATHNAME', 'mlcycle_nb_stats_trans'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION mlcycle.nb_stats_trans(bytea, int, float8[], int[]) IS
'Internal: transition function of ml_naive_bayes_stats (adds one row to its class''s count, sums, sums of squares and category counts).';

CREATE FUNCTION mlcycle.nb_stats_combine(a bytea, b bytea)
RETURNS bytea AS 'MODULE_PATHNAME', 'mlcycle_nb_stats_combine'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION mlcycle.nb_stats_combine(bytea, bytea) IS
'Internal: combine function of ml_naive_bayes_stats (adds two partial states).';

CREATE FUNCTION mlcycle.nb_stats_final(state bytea)
RETURNS jsonb AS 'MODULE_PATHNAME', 'mlcycle_nb_stats_final'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION mlcycle.nb_stats_final(bytea) IS
'Internal: final function of ml_naive_bayes_stats (the statistics as jsonb).';

CREATE AGGREGATE ml_naive_bayes_stats(class_index int, numeric_values float8[], categories int[]) (
	SFUNC = mlcycle.nb_stats_trans,
	STYPE = bytea,
	COMBINEFUNC = mlcycle.nb_stats_combine,
	FINALFUNC = mlcycle.nb_stats_final,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE ml_naive_bayes_stats(int, float8[], int[]) IS
'Naive Bayes sufficient statistics, the ones naive_bayes training accumulates: per class index (0-based) the row count, per numeric value the sum, sum of squares, mean and population variance (NULLs skipped), and per text column the count of each category index (0-based; NULL or -1 counts nowhere). Returns a jsonb array with one object per class.';
