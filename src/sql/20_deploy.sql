-- Deployment: ml_deploy's strategies, and lookups of the deployed model used
-- by prediction and ml_classes.

-- The visible project of a name, or an error.
CREATE FUNCTION mlcycle.project_id(p_project text) RETURNS bigint
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_id bigint;
BEGIN
	SELECT project_id INTO v_id FROM mlcycle.projects WHERE name = p_project;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'project "%" does not exist', p_project
			USING ERRCODE = 'undefined_object',
				  HINT = 'Train it first with ml_train, or check the name in mlcycle.overview.';
	END IF;
	RETURN v_id;
END
$$;
COMMENT ON FUNCTION mlcycle.project_id(text) IS 'Internal: the id of a project the caller may see, or an error.';

-- The deployed model of a project, or an error.
CREATE FUNCTION mlcycle.deployed_model(p_project text, OUT model_id bigint, OUT model bytea)
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	SELECT d.model_id, m.model INTO model_id, model
	FROM mlcycle.current_deployments d JOIN mlcycle.models m ON m.model_id = d.model_id
	WHERE d.project_id = mlcycle.project_id(p_project);
	IF NOT FOUND THEN
		RAISE EXCEPTION 'project "%" has no deployed model', p_project
			USING ERRCODE = 'undefined_object',
				  HINT = 'Deploy one with ml_deploy(''' || p_project || ''', ''most_recent'').';
	END IF;
END
$$;
COMMENT ON FUNCTION mlcycle.deployed_model(text) IS 'Internal: the id and bytes of the deployed model of a project.';

CREATE FUNCTION ml_deploy(project text, strategy text DEFAULT 'best_score', model_id bigint DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_project_id bigint := mlcycle.project_id(project);
	v_current bigint;
	v_target bigint;
	v_reason text;
BEGIN
	IF strategy IS NULL OR strategy NOT IN ('best_score', 'most_recent', 'rollback', 'specific') THEN
		RAISE EXCEPTION 'unknown deploy strategy "%"', strategy
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Valid values are: best_score, most_recent, rollback, specific.';
	END IF;
	IF (strategy = 'specific') <> (ml_deploy.model_id IS NOT NULL) THEN
		RAISE EXCEPTION 'model_id must be given with strategy ''specific'', and only with it'
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Call ml_deploy(project, ''specific'', model_id), or leave model_id out.';
	END IF;
	SELECT d.model_id INTO v_current FROM mlcycle.current_deployments d WHERE d.project_id = v_project_id;
	IF strategy = 'best_score' THEN
		SELECT m.model_id, format('best %s: %s', m.metrics->>'score_metric', round((m.metrics->>'score')::numeric, 6))
		INTO v_target, v_reason
		FROM mlcycle.models m WHERE m.project_id = v_project_id AND m.retired_at IS NULL
		ORDER BY (m.metrics->>'score')::float8 DESC NULLS LAST, m.model_id DESC LIMIT 1;
	ELSIF strategy = 'most_recent' THEN
		SELECT m.model_id, 'most recent model' INTO v_target, v_reason
		FROM mlcycle.models m WHERE m.project_id = v_project_id AND m.retired_at IS NULL
		ORDER BY m.model_id DESC LIMIT 1;
	ELSIF strategy = 'rollback' THEN
		SELECT d.model_id, format('rollback from model %s', v_current) INTO v_target, v_reason
		FROM mlcycle.deployments d JOIN mlcycle.models m ON m.model_id = d.model_id
		WHERE d.project_id = v_project_id AND d.model_id <> v_current AND m.retired_at IS NULL
		ORDER BY d.deployment_id DESC LIMIT 1;
		IF v_target IS NULL THEN
			RAISE EXCEPTION 'project "%" has no earlier deployment to roll back to', project
				USING ERRCODE = 'object_not_in_prerequisite_state',
					  HINT = 'Rollback returns to the model deployed before the current one; deploy another model first.';
		END IF;
	ELSE
		SELECT m.model_id, 'model chosen by id' INTO v_target, v_reason
		FROM mlcycle.models m WHERE m.project_id = v_project_id AND m.model_id = ml_deploy.model_id;
		IF v_target IS NULL THEN
			RAISE EXCEPTION 'model % does not belong to project "%"', ml_deploy.model_id, project
				USING ERRCODE = 'undefined_object',
					  HINT = 'List the project''s models in mlcycle.models.';
		END IF;
		IF EXISTS (SELECT 1 FROM mlcycle.models m WHERE m.model_id = v_target AND m.retired_at IS NOT NULL) THEN
			RAISE EXCEPTION 'model % is retired', v_target
				USING ERRCODE = 'object_not_in_prerequisite_state',
					  HINT = 'Retired models stay for audit and are not deployed; train or pick another model.';
		END IF;
	END IF;
	IF v_target IS NULL THEN
		RAISE EXCEPTION 'project "%" has no models', project
			USING ERRCODE = 'undefined_object', HINT = 'Train one with ml_train.';
	END IF;
	IF v_target IS NOT DISTINCT FROM v_current THEN
		RAISE NOTICE 'model % is already deployed for project "%"', v_target, project;
		RETURN v_target;
	END IF;
	RETURN mlcycle.record_deployment(v_project_id, v_target, strategy, v_reason);
END
$$;
COMMENT ON FUNCTION ml_deploy(text, text, bigint)
	IS 'Deploys a model of project: best_score, most_recent, rollback (the model deployed before the current one) or specific (model_id). Returns the deployed model id.';

CREATE FUNCTION ml_classes(project text) RETURNS text[]
LANGUAGE sql STABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
RETURN (SELECT m.classes FROM mlcycle.models m
		WHERE m.model_id = (mlcycle.deployed_model(project)).model_id);
COMMENT ON FUNCTION ml_classes(text)
	IS 'Class labels of the deployed model of project, in the order ml_predict_proba returns probabilities (NULL for regression).';
