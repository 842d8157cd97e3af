-- Scoring inside queries, model inspection, and the trigger that tells every
-- backend to drop its cached deployed models when deployments change.

CREATE FUNCTION mlcycle.mlcycle_deployments_changed() RETURNS trigger
	AS 'MODULE_PATHNAME', 'mlcycle_deployments_changed'
	LANGUAGE C;
COMMENT ON FUNCTION mlcycle.mlcycle_deployments_changed()
	IS 'Internal: invalidates the per-backend caches of deployed models.';

CREATE TRIGGER deployments_changed
	AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON mlcycle.deployments
	FOR EACH STATEMENT EXECUTE FUNCTION mlcycle.mlcycle_deployments_changed();
CREATE TRIGGER models_changed
	AFTER UPDATE OR DELETE OR TRUNCATE ON mlcycle.models
	FOR EACH STATEMENT EXECUTE FUNCTION mlcycle.mlcycle_deployments_changed();

-- A table's row, scored by its columns: what the planner puts in place of
-- ml_predict(project, t) and its class and proba forms (mlcycle.predict_support).
CREATE FUNCTION mlcycle.predict_columns(project text, names text[], VARIADIC "columns" "any") RETURNS float8
	AS 'MODULE_PATHNAME', 'mlcycle_predict_columns'
	LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION mlcycle.predict_columns(text, text[], "any")
	IS 'Internal: ml_predict of a table''s row given as its column names and values; the planner calls it in place of ml_predict(project, t), which it equals.';

CREATE FUNCTION mlcycle.predict_class_columns(project text, names text[], VARIADIC "columns" "any") RETURNS text
	AS 'MODULE_PATHNAME', 'mlcycle_predict_class_columns'
	LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION mlcycle.predict_class_columns(text, text[], "any")
	IS 'Internal: ml_predict_class of a table''s row given as its column names and values.';

CREATE FUNCTION mlcycle.predict_proba_columns(project text, names text[], VARIADIC "columns" "any") RETURNS float8[]
	AS 'MODULE_PATHNAME', 'mlcycle_predict_proba_columns'
	LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION mlcycle.predict_proba_columns(text, text[], "any")
	IS 'Internal: ml_predict_proba of a table''s row given as its column names and values.';

CREATE FUNCTION mlcycle.predict_support(internal) RETURNS internal
	AS 'MODULE_PATHNAME', 'mlcycle_predict_support'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION mlcycle.predict_support(internal)
	IS 'Internal: planner support of ml_predict, ml_predict_class and ml_predict_proba: a call on a table''s whole row becomes a call on its columns, so the row is never built.';

CREATE FUNCTION ml_predict(project text, "row" anyelement) RETURNS float8
	AS 'MODULE_PATHNAME', 'ml_predict_row'
	LANGUAGE C STABLE STRICT PARALLEL SAFE SUPPORT mlcycle.predict_support;
COMMENT ON FUNCTION ml_predict(text, anyelement)
	IS 'Scores a row with the deployed model of project: the value (regression) or the probability of the positive class (binary classification).';

CREATE FUNCTION ml_predict(project text, features float8[]) RETURNS float8
	AS 'MODULE_PATHNAME', 'ml_predict_array'
	LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ml_predict(text, float8[])
	IS 'Scores numeric features given in training order with the deployed model of project.';

CREATE FUNCTION ml_predict_class(project text, "row" anyelement) RETURNS text
	AS 'MODULE_PATHNAME', 'ml_predict_class'
	LANGUAGE C STABLE STRICT PARALLEL SAFE SUPPORT mlcycle.predict_support;
COMMENT ON FUNCTION ml_predict_class(text, anyelement)
	IS 'The label the deployed classifier of project predicts for a row, as it was in the data.';

CREATE FUNCTION ml_predict_proba(project text, "row" anyelement) RETURNS float8[]
	AS 'MODULE_PATHNAME', 'ml_predict_proba'
	LANGUAGE C STABLE STRICT PARALLEL SAFE SUPPORT mlcycle.predict_support;
COMMENT ON FUNCTION ml_predict_proba(text, anyelement)
	IS 'Class probabilities for a row from the deployed classifier of project, ordered as ml_classes(project).';

CREATE FUNCTION ml_explain(project text, "row" anyelement)
	RETURNS TABLE (feature text, class text, value float8, contribution float8)
	AS 'MODULE_PATHNAME', 'ml_explain'
	LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ml_explain(text, anyelement)
	IS 'Per-feature contributions (coefficient times preprocessed value, plus the intercept) of the deployed linear model of project for a row; they add up to the raw prediction: the value, or the log-odds of the class.';

CREATE FUNCTION ml_coefficients(project text, model_id bigint DEFAULT NULL)
	RETURNS TABLE (feature text, class text, coefficient float8)
	AS 'MODULE_PATHNAME', 'ml_coefficients'
	LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION ml_coefficients(text, bigint)
	IS 'Coefficients of a linear model of project (the latest when model_id is NULL), per preprocessed feature and class; the intercept is the feature (intercept).';
