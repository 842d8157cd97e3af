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
'Naive Bayes sufficient statistics, the ones naive_bayes training accumulates: per class index (0-based) the row count, per numeric value the sum, sum of squares, mean and population variance (a NULL numeric value is an error: impute first), and per text column the count of each category index (0-based; NULL or -1 counts nowhere). Returns a jsonb array with one object per class.';

-- ---------- feature importance ----------

-- Feature importance of each model, computed by ml_train on the evaluated rows.
CREATE TABLE mlcycle.feature_importance (
	model_id bigint NOT NULL REFERENCES mlcycle.models ON DELETE CASCADE,
	feature text NOT NULL,
	method text NOT NULL,
	importance float8,
	std float8,
	rank int NOT NULL,
	rows bigint,
	repeats int,
	PRIMARY KEY (model_id, method, feature)
);
COMMENT ON TABLE mlcycle.feature_importance IS
'Feature importance of each model, computed when it was trained: method coefficient (|coefficient| x standard deviation of the preprocessed feature, linear learners), permutation (drop of the headline metric when a raw input column is shuffled on the evaluated rows: mean and std over repeats), and learners'' own methods; rank 1 is the most important within a method.';
ALTER TABLE mlcycle.feature_importance ENABLE ROW LEVEL SECURITY;
CREATE POLICY feature_importance_access ON mlcycle.feature_importance
	USING (EXISTS (SELECT 1 FROM mlcycle.models m WHERE m.model_id = feature_importance.model_id))
	WITH CHECK (EXISTS (SELECT 1 FROM mlcycle.models m WHERE m.model_id = feature_importance.model_id
						AND m.owner = current_user));
GRANT SELECT, INSERT ON mlcycle.feature_importance TO PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('mlcycle.feature_importance', '');

CREATE TYPE mlcycle.importance_row AS (
	model_id bigint,
	feature text,
	method text,
	importance float8,
	std float8,
	rank int);
COMMENT ON TYPE mlcycle.importance_row IS 'A row of ml_feature_importance.';

CREATE FUNCTION ml_feature_importance(model_id bigint) RETURNS SETOF mlcycle.importance_row
LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM mlcycle.models m WHERE m.model_id = $1) THEN
		RAISE EXCEPTION 'model % does not exist', $1
			USING ERRCODE = 'undefined_object',
				  HINT = 'See the model ids of a project with ml_compare(project) or in mlcycle.models.';
	END IF;
	RETURN QUERY
		SELECT f.model_id, f.feature, f.method, f.importance, f.std, f.rank
		FROM mlcycle.feature_importance f
		WHERE f.model_id = $1
		ORDER BY f.method, f.rank;
END
$$;
COMMENT ON FUNCTION ml_feature_importance(bigint) IS
'Feature importance of a model: rows (model_id, feature, method, importance, std, rank) for method coefficient (linear learners: |coefficient| x standard deviation of the preprocessed feature, per one-hot category) and permutation (any learner: drop of the headline metric when a raw input column is shuffled, mean and std over mlcycle.importance_repeats seeded repeats).';

CREATE FUNCTION ml_feature_importance(project text) RETURNS SETOF mlcycle.importance_row
LANGUAGE sql STABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
	SELECT * FROM @extschema@.ml_feature_importance((mlcycle.deployed_model(project)).model_id);
END;
COMMENT ON FUNCTION ml_feature_importance(text) IS
'Feature importance of the deployed model of a project (see ml_feature_importance(bigint)).';

-- ---------- model comparison ----------

CREATE TYPE mlcycle.model_summary AS (
	model_id bigint,
	algorithm text,
	hyperparams jsonb,
	metric text,
	score float8,
	metrics jsonb,
	baseline_score float8,
	lift float8,
	cv_mean float8,
	cv_std float8,
	train_ms float8,
	model_bytes int,
	deployed boolean,
	created_at timestamptz);
COMMENT ON TYPE mlcycle.model_summary IS 'A row of ml_compare.';

CREATE FUNCTION ml_compare(project text) RETURNS SETOF mlcycle.model_summary
LANGUAGE sql STABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
	SELECT m.model_id, m.algorithm, m.hyperparams,
		   m.metrics->>'score_metric',
		   (m.metrics->>'score')::float8,
		   m.metrics->(m.metrics->>'evaluated_on'),
		   (m.metrics->>'baseline_score')::float8,
		   (m.metrics->>'lift')::float8,
		   (m.metrics->'cv'->'mean'->>(m.metrics->>'score_metric'))::float8,
		   (m.metrics->'cv'->'std'->>(m.metrics->>'score_metric'))::float8,
		   m.train_ms,
		   octet_length(m.model),
		   m.model_id IS NOT DISTINCT FROM cd.model_id,
		   m.created_at
	FROM mlcycle.models m
	LEFT JOIN mlcycle.current_deployments cd ON cd.project_id = m.project_id
	WHERE m.project_id = mlcycle.project_id(project)
	ORDER BY (m.metrics->>'score')::float8 DESC NULLS LAST, m.model_id;
END;
COMMENT ON FUNCTION ml_compare(text) IS
'The models of a project, best headline score first: algorithm, hyperparameters, the headline metric and its value, every metric on the evaluated rows, the trivial baseline and the lift over it, cross-validation mean and std of the headline metric (when trained with cv), training time, model size in bytes and whether it is deployed.';

CREATE FUNCTION mlcycle.paired_ttest(a float8[], b float8[],
	OUT mean_difference float8, OUT t float8, OUT df int, OUT p_value float8)
AS 'MODULE_PATHNAME', 'mlcycle_paired_ttest'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION mlcycle.paired_ttest(float8[], float8[]) IS
'Paired Student t-test of a - b (as scipy.stats.ttest_rel): mean difference, t, degrees of freedom and the two-sided p-value from the exact t distribution.';

CREATE TYPE mlcycle.model_comparison AS (
	model_a bigint,
	model_b bigint,
	metric text,
	folds int,
	mean_a float8,
	mean_b float8,
	mean_difference float8,
	t float8,
	df int,
	p_value float8);
COMMENT ON TYPE mlcycle.model_comparison IS 'The result of ml_compare_models.';

CREATE FUNCTION ml_compare_models(model_a bigint, model_b bigint, metric text DEFAULT NULL)
RETURNS mlcycle.model_comparison
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	a mlcycle.models;
	b mlcycle.models;
	v_metric text;
	v_a float8[];
	v_b float8[];
	v_diff text;
	r mlcycle.model_comparison;
BEGIN
	IF model_a IS NULL OR model_b IS NULL THEN
		RAISE EXCEPTION 'model ids must not be NULL'
			USING ERRCODE = 'null_value_not_allowed', HINT = 'Pass two model ids, as ml_compare lists them.';
	END IF;
	SELECT * INTO a FROM mlcycle.models m WHERE m.model_id = model_a;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'model % does not exist', model_a
			USING ERRCODE = 'undefined_object', HINT = 'See the model ids of a project with ml_compare(project).';
	END IF;
	SELECT * INTO b FROM mlcycle.models m WHERE m.model_id = model_b;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'model % does not exist', model_b
			USING ERRCODE = 'undefined_object', HINT = 'See the model ids of a project with ml_compare(project).';
	END IF;
	IF NOT (a.metrics ? 'cv') OR NOT (b.metrics ? 'cv') THEN
		RAISE EXCEPTION 'model % has no cross-validation fold scores', CASE WHEN a.metrics ? 'cv' THEN model_b ELSE model_a END
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Train both models with the same cv => k (and the same project, relation, split and seed).';
	END IF;
	v_diff := concat_ws(', ',
		CASE WHEN a.project_id <> b.project_id THEN 'project' END,
		CASE WHEN a.relation <> b.relation THEN 'relation' END,
		CASE WHEN a.target <> b.target THEN 'target' END,
		CASE WHEN a.split IS DISTINCT FROM b.split THEN 'split or seed' END,
		CASE WHEN (a.metrics->'cv'->>'k') IS DISTINCT FROM (b.metrics->'cv'->>'k') THEN 'cv folds' END,
		CASE WHEN a.rows_read <> b.rows_read OR a.rows_train <> b.rows_train THEN 'rows' END);
	IF v_diff <> '' THEN
		RAISE EXCEPTION 'models % and % were not cross-validated on the same folds', model_a, model_b
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = 'They differ in: ' || v_diff || '.',
				  HINT = 'Compare models of one project trained on the same relation with the same split, seed and cv.';
	END IF;
	v_metric := coalesce(metric, a.metrics->>'score_metric');
	SELECT array_agg((f->>v_metric)::float8 ORDER BY o) INTO v_a
	FROM jsonb_array_elements(a.metrics->'cv'->'folds') WITH ORDINALITY AS x(f, o);
	SELECT array_agg((f->>v_metric)::float8 ORDER BY o) INTO v_b
	FROM jsonb_array_elements(b.metrics->'cv'->'folds') WITH ORDINALITY AS x(f, o);
	IF array_position(v_a, NULL) IS NOT NULL OR array_position(v_b, NULL) IS NOT NULL THEN
		RAISE EXCEPTION 'metric "%" is not in the fold scores of models % and %', v_metric, model_a, model_b
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Use a metric the folds record: ' || (SELECT string_agg(k, ', ' ORDER BY k)
					  FROM jsonb_object_keys(a.metrics->'cv'->'folds'->0) k WHERE k <> 'rows') || '.';
	END IF;
	r.model_a := model_a;
	r.model_b := model_b;
	r.metric := v_metric;
	r.folds := cardinality(v_a);
	r.mean_a := (SELECT avg(x) FROM unnest(v_a) x);
	r.mean_b := (SELECT avg(x) FROM unnest(v_b) x);
	SELECT s.mean_difference, s.t, s.df, s.p_value INTO r.mean_difference, r.t, r.df, r.p_value
	FROM mlcycle.paired_ttest(v_a, v_b) s;
	RETURN r;
END
$$;
COMMENT ON FUNCTION ml_compare_models(bigint, bigint, text) IS
'Paired t-test of two models'' cross-validation fold scores (the headline metric unless metric is given): they must share project, relation, target, split, seed, row counts and cv folds. Returns the fold means, the mean difference a - b, t, degrees of freedom and the two-sided p-value.';

-- ---------- testing aid ----------

CREATE FUNCTION mlcycle.model_reseal(model bytea) RETURNS bytea
AS 'MODULE_PATHNAME', 'mlcycle_model_reseal'
LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION mlcycle.model_reseal(bytea) IS
'Testing aid: a copy of a serialized model with its payload length and CRC32C recomputed, to craft damaged models that only the loader''s checks can refuse.';
REVOKE ALL ON FUNCTION mlcycle.model_reseal(bytea) FROM PUBLIC;
