-- ml_train and the catalog functions it calls: storing a model (creating its
-- project on first use) and deploying it by the chosen strategy.

-- Owner of a project whatever row-level security hides, so that ml_train can
-- tell "taken by another role" from "new".  Reveals only the owner's name.
CREATE FUNCTION mlcycle.project_owner(project text) RETURNS name
	LANGUAGE sql STABLE STRICT PARALLEL SAFE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	RETURN (SELECT p.owner FROM mlcycle.projects p WHERE p.name = project);
COMMENT ON FUNCTION mlcycle.project_owner(text) IS 'The role owning a project, whether or not the caller may see it.';

CREATE FUNCTION mlcycle.store_model(
	p_project text, p_task text, p_algorithm text, p_relation text, p_target text,
	p_hyperparams jsonb, p_preprocess jsonb, p_features text[], p_feature_kinds text[],
	p_classes text[], p_positive_class text, p_metrics jsonb, p_split jsonb,
	p_rows_read bigint, p_rows_skipped bigint, p_rows_train bigint, p_rows_test bigint,
	p_train_ms float8, p_timings jsonb, p_model bytea, p_train_args jsonb DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_project_id bigint;
	v_task text;
	v_model_id bigint;
BEGIN
	SELECT project_id, task INTO v_project_id, v_task
	FROM mlcycle.projects WHERE name = p_project;
	IF NOT FOUND THEN
		IF mlcycle.project_owner(p_project) IS NOT NULL THEN
			RAISE EXCEPTION 'project "%" belongs to another role', p_project
				USING ERRCODE = 'insufficient_privilege',
					  HINT = 'Pick another project name, or ask its owner to grant you their role.';
		END IF;
		-- a concurrent first training of the same project: use the one that won
		INSERT INTO mlcycle.projects (name, task) VALUES (p_project, p_task)
		ON CONFLICT (name) DO NOTHING
		RETURNING project_id, task INTO v_project_id, v_task;
		IF v_project_id IS NULL THEN
			SELECT project_id, task INTO v_project_id, v_task
			FROM mlcycle.projects WHERE name = p_project;
			IF NOT FOUND THEN
				RAISE EXCEPTION 'project "%" belongs to another role', p_project
					USING ERRCODE = 'insufficient_privilege',
						  HINT = 'Pick another project name, or ask its owner to grant you their role.';
			END IF;
		END IF;
	END IF;
	IF v_task <> p_task THEN
		RAISE EXCEPTION 'project "%" is a % project, and this training is %', p_project, v_task, p_task
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'A project keeps one task: train this one under another project name.';
	END IF;
	INSERT INTO mlcycle.models (project_id, algorithm, task, relation, target, hyperparams,
		preprocess, features, feature_kinds, classes, positive_class, metrics, split,
		rows_read, rows_skipped, rows_train, rows_test, train_ms, timings, model, train_args)
	VALUES (v_project_id, p_algorithm, p_task, p_relation, p_target, p_hyperparams,
		p_preprocess, p_features, p_feature_kinds, p_classes, p_positive_class, p_metrics, p_split,
		p_rows_read, p_rows_skipped, p_rows_train, p_rows_test, p_train_ms, p_timings, p_model, p_train_args)
	RETURNING model_id INTO v_model_id;
	RETURN v_model_id;
END
$$;
COMMENT ON FUNCTION mlcycle.store_model(text, text, text, text, text, jsonb, jsonb, text[], text[], text[], text, jsonb, jsonb, bigint, bigint, bigint, bigint, float8, jsonb, bytea, jsonb)
	IS 'Internal: stores a trained model, creating its project on first use.';

-- Hyperparameter search trials of a model (ml_train's search => 'grid' | 'random').
CREATE TABLE mlcycle.search_trials (
	model_id bigint NOT NULL REFERENCES mlcycle.models ON DELETE CASCADE,
	trial int NOT NULL,
	params jsonb NOT NULL,
	score float8,
	score_std float8,
	cv jsonb NOT NULL,
	ms float8 NOT NULL,
	PRIMARY KEY (model_id, trial)
);
COMMENT ON TABLE mlcycle.search_trials IS 'Every trial of a hyperparameter search: its parameters, cross-validated score (mean and std of the search metric), fold metrics and time.';
ALTER TABLE mlcycle.search_trials ENABLE ROW LEVEL SECURITY;
CREATE POLICY search_trials_access ON mlcycle.search_trials
	USING (EXISTS (SELECT 1 FROM mlcycle.models m WHERE m.model_id = search_trials.model_id))
	WITH CHECK (EXISTS (SELECT 1 FROM mlcycle.models m WHERE m.model_id = search_trials.model_id
						AND m.owner = current_user));
GRANT SELECT, INSERT ON mlcycle.search_trials TO PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('mlcycle.search_trials', '');

-- Record a deployment.
CREATE FUNCTION mlcycle.record_deployment(p_project_id bigint, p_model_id bigint, p_strategy text, p_reason text)
RETURNS bigint
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
	INSERT INTO mlcycle.deployments (project_id, model_id, strategy, reason)
	VALUES (p_project_id, p_model_id, p_strategy, p_reason)
	RETURNING model_id;
END;
COMMENT ON FUNCTION mlcycle.record_deployment(bigint, bigint, text, text) IS 'Internal: appends a row to the deployment history.';

-- Deploy a freshly trained model by ml_train's deploy strategy.
CREATE FUNCTION mlcycle.deploy_trained(p_model_id bigint, p_strategy text) RETURNS boolean
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	m record;
	cur record;
BEGIN
	SELECT model_id, project_id, metrics INTO m FROM mlcycle.models WHERE model_id = p_model_id;
	IF p_strategy = 'none' THEN
		RETURN false;
	END IF;
	SELECT d.model_id, (c.metrics->>'score')::float8 AS score INTO cur
	FROM mlcycle.current_deployments d JOIN mlcycle.models c ON c.model_id = d.model_id
	WHERE d.project_id = m.project_id;
	IF p_strategy = 'most_recent' THEN
		PERFORM mlcycle.record_deployment(m.project_id, m.model_id, 'most_recent', 'trained with deploy => most_recent');
		RETURN true;
	END IF;
	IF cur.model_id IS NULL THEN
		PERFORM mlcycle.record_deployment(m.project_id, m.model_id, 'best_score', 'first model of the project');
		RETURN true;
	END IF;
	IF (m.metrics->>'score')::float8 > cur.score OR (cur.score IS NULL AND m.metrics->>'score' IS NOT NULL) THEN
		PERFORM mlcycle.record_deployment(m.project_id, m.model_id, 'best_score',
			format('%s %s beats %s of model %s', m.metrics->>'score_metric',
				   round((m.metrics->>'score')::numeric, 6), round(cur.score::numeric, 6), cur.model_id));
		RETURN true;
	END IF;
	RETURN false;
END
$$;
COMMENT ON FUNCTION mlcycle.deploy_trained(bigint, text) IS 'Internal: deploys a new model when its strategy says so.';

CREATE FUNCTION ml_train(
	project text,
	relation text,
	target text,
	algorithm text DEFAULT 'auto',
	hyperparams jsonb DEFAULT '{}',
	preprocess jsonb DEFAULT '{}',
	exclude text[] DEFAULT '{}',
	task text DEFAULT NULL,
	test_size float8 DEFAULT 0.25,
	split text DEFAULT 'random',
	seed int DEFAULT 42,
	deploy text DEFAULT 'best_score',
	cv int DEFAULT NULL,
	search text DEFAULT NULL,
	search_params jsonb DEFAULT '{}',
	search_args jsonb DEFAULT '{}',
	order_by text DEFAULT NULL,
	sampling text DEFAULT NULL,
	select_features jsonb DEFAULT '{}')
RETURNS SETOF mlcycle.train_result
AS 'MODULE_PATHNAME', 'ml_train'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION ml_train(text, text, text, text, jsonb, jsonb, text[], text, float8, text, int, text, int, text, jsonb, jsonb, text, text, jsonb)
	IS 'Trains a model of project on relation to predict target, stores it in mlcycle.models and deploys it by the deploy strategy.';
