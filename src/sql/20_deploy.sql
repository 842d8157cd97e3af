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

CREATE FUNCTION ml_deploy(project text, strategy text DEFAULT 'best_score', model_id bigint DEFAULT NULL,
						  traffic float8 DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_project_id bigint := mlcycle.project_id(project);
	v_current bigint;
	v_canary mlcycle.current_canaries;
	v_target bigint;
	v_reason text;
BEGIN
	IF strategy IS NULL OR strategy NOT IN ('best_score', 'most_recent', 'rollback', 'specific', 'canary', 'promote') THEN
		RAISE EXCEPTION 'unknown deploy strategy "%"', strategy
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Valid values are: best_score, most_recent, rollback, specific, canary, promote.';
	END IF;
	IF (strategy IN ('specific', 'canary')) <> (ml_deploy.model_id IS NOT NULL) THEN
		RAISE EXCEPTION 'model_id must be given with strategies ''specific'' and ''canary'', and only with them'
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Call ml_deploy(project, ''specific'', model_id), or leave model_id out.';
	END IF;
	IF (strategy = 'canary') <> (traffic IS NOT NULL) THEN
		RAISE EXCEPTION 'traffic must be given with strategy ''canary'', and only with it'
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Call ml_deploy(project, ''canary'', model_id, traffic => 0.1) to send 10% of keys to the model.';
	END IF;
	IF strategy = 'canary' AND NOT (traffic > 0 AND traffic < 1) THEN
		RAISE EXCEPTION 'traffic must be greater than 0 and less than 1, not %', traffic
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'It is the share of keys the canary scores; stop a canary with ml_deploy(project, ''rollback'').';
	END IF;
	SELECT d.model_id INTO v_current FROM mlcycle.current_deployments d WHERE d.project_id = v_project_id;
	SELECT * INTO v_canary FROM mlcycle.current_canaries c WHERE c.project_id = v_project_id;
	IF strategy = 'canary' THEN
		RETURN mlcycle.deploy_canary(project, v_project_id, v_current, ml_deploy.model_id, traffic);
	ELSIF strategy = 'promote' THEN
		IF v_canary.model_id IS NULL THEN
			RAISE EXCEPTION 'project "%" has no active canary to promote', project
				USING ERRCODE = 'object_not_in_prerequisite_state',
					  HINT = 'Start one with ml_deploy(''' || project || ''', ''canary'', model_id, traffic => 0.1).';
		END IF;
		v_target := v_canary.model_id;
		v_reason := format('canary promoted after serving %s of keys beside model %s', v_canary.traffic, v_current);
	ELSIF strategy = 'best_score' THEN
		SELECT m.model_id, format('best %s: %s', m.metrics->>'score_metric', round((m.metrics->>'score')::numeric, 6))
		INTO v_target, v_reason
		FROM mlcycle.models m WHERE m.project_id = v_project_id AND m.retired_at IS NULL
		ORDER BY (m.metrics->>'score')::float8 DESC NULLS LAST, m.model_id DESC LIMIT 1;
	ELSIF strategy = 'most_recent' THEN
		SELECT m.model_id, 'most recent model' INTO v_target, v_reason
		FROM mlcycle.models m WHERE m.project_id = v_project_id AND m.retired_at IS NULL
		ORDER BY m.model_id DESC LIMIT 1;
	ELSIF strategy = 'rollback' AND v_canary.model_id IS NOT NULL THEN
		-- with a canary running, rollback stops it and the champion scores every key
		INSERT INTO mlcycle.deployments (project_id, model_id, strategy, reason, kind, traffic)
		VALUES (v_project_id, v_canary.model_id, 'rollback',
				format('canary of model %s stopped', v_canary.model_id), 'canary', 0);
		RETURN v_current;
	ELSIF strategy = 'rollback' THEN
		SELECT d.model_id, format('rollback from model %s', v_current) INTO v_target, v_reason
		FROM mlcycle.deployments d JOIN mlcycle.models m ON m.model_id = d.model_id
		WHERE d.project_id = v_project_id AND d.kind = 'champion' AND d.model_id <> v_current AND m.retired_at IS NULL
		ORDER BY d.deployment_id DESC LIMIT 1;
		IF v_target IS NULL THEN
			RAISE EXCEPTION 'project "%" has no earlier deployment to roll back to', project
				USING ERRCODE = 'object_not_in_prerequisite_state',
					  HINT = 'Rollback returns to the model deployed before the current one; deploy another model first.';
		END IF;
	ELSE
		v_target := mlcycle.deployable_model(project, v_project_id, ml_deploy.model_id);
		v_reason := 'model chosen by id';
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
COMMENT ON FUNCTION ml_deploy(text, text, bigint, float8)
	IS 'Deploys a model of project: best_score, most_recent, rollback (stops an active canary, else returns to the model deployed before the current one), specific (model_id), canary (model_id scores the traffic share of keys beside the champion) or promote (the canary becomes the champion). Returns the model id now deployed (the canary''s for canary).';

-- A model of the project that may be deployed (not retired), or an error.
CREATE FUNCTION mlcycle.deployable_model(p_project text, p_project_id bigint, p_model_id bigint) RETURNS bigint
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM mlcycle.models m WHERE m.project_id = p_project_id AND m.model_id = p_model_id) THEN
		RAISE EXCEPTION 'model % does not belong to project "%"', p_model_id, p_project
			USING ERRCODE = 'undefined_object',
				  HINT = 'List the project''s models in mlcycle.models.';
	END IF;
	IF EXISTS (SELECT 1 FROM mlcycle.models m WHERE m.model_id = p_model_id AND m.retired_at IS NOT NULL) THEN
		RAISE EXCEPTION 'model % is retired', p_model_id
			USING ERRCODE = 'object_not_in_prerequisite_state',
				  HINT = 'Retired models stay for audit and are not deployed; train or pick another model.';
	END IF;
	RETURN p_model_id;
END
$$;
COMMENT ON FUNCTION mlcycle.deployable_model(text, bigint, bigint) IS 'Internal: checks that a model of the project may be deployed.';

-- Start (or change the traffic of) a canary beside the champion.
CREATE FUNCTION mlcycle.deploy_canary(p_project text, p_project_id bigint, p_champion bigint,
									  p_model_id bigint, p_traffic float8) RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF p_champion IS NULL THEN
		RAISE EXCEPTION 'project "%" has no deployed model for a canary to run beside', p_project
			USING ERRCODE = 'object_not_in_prerequisite_state',
				  HINT = 'Deploy a champion first, e.g. ml_deploy(''' || p_project || ''', ''best_score'').';
	END IF;
	PERFORM mlcycle.deployable_model(p_project, p_project_id, p_model_id);
	IF p_model_id = p_champion THEN
		RAISE EXCEPTION 'model % is already the deployed model of project "%"', p_model_id, p_project
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'A canary is another model that scores a share of the keys beside the deployed one.';
	END IF;
	INSERT INTO mlcycle.deployments (project_id, model_id, strategy, reason, kind, traffic)
	VALUES (p_project_id, p_model_id, 'canary',
			format('canary scoring %s of keys beside model %s', p_traffic, p_champion), 'canary', p_traffic);
	RETURN p_model_id;
END
$$;
COMMENT ON FUNCTION mlcycle.deploy_canary(text, bigint, bigint, bigint, float8) IS 'Internal: records a canary deployment.';

-- The active canary of a project: no row when there is none.
CREATE FUNCTION mlcycle.canary_model(p_project text)
RETURNS TABLE (model_id bigint, model bytea, traffic float8)
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
	SELECT c.model_id, m.model, c.traffic
	FROM mlcycle.current_canaries c JOIN mlcycle.models m ON m.model_id = c.model_id
	WHERE c.project_id = mlcycle.project_id(p_project);
END;
COMMENT ON FUNCTION mlcycle.canary_model(text) IS 'Internal: the id, bytes and traffic share of the active canary of a project.';

CREATE FUNCTION ml_classes(project text) RETURNS text[]
LANGUAGE sql STABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
RETURN (SELECT m.classes FROM mlcycle.models m
		WHERE m.model_id = (mlcycle.deployed_model(project)).model_id);
COMMENT ON FUNCTION ml_classes(text)
	IS 'Class labels of the deployed model of project, in the order ml_predict_proba returns probabilities (NULL for regression).';
