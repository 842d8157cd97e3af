-- Moving models between databases: ml_export_model writes a model and its
-- catalog row as documented, versioned JSON; ml_import_model validates such
-- a document in full and stores the model it describes in a project.

CREATE FUNCTION mlcycle.model_to_json(model bytea) RETURNS jsonb
	AS 'MODULE_PATHNAME', 'mlcycle_model_to_json'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION mlcycle.model_to_json(bytea)
	IS 'The JSON form of serialized model bytes: preprocessing, classes, coefficients, learner parameters and reference profiles (see README, "Export and import").';

CREATE FUNCTION mlcycle.model_from_json(model jsonb) RETURNS bytea
	AS 'MODULE_PATHNAME', 'mlcycle_model_from_json'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION mlcycle.model_from_json(jsonb)
	IS 'Model bytes from the JSON form that mlcycle.model_to_json writes; every value is checked as the model reader checks stored models.';

CREATE FUNCTION ml_export_model(model_id bigint) RETURNS jsonb
LANGUAGE plpgsql STABLE STRICT
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v jsonb;
BEGIN
	SELECT jsonb_build_object(
		'mlcycle_export', 1,
		'exported_at', now(),
		'source', jsonb_build_object('database', current_database(), 'project', p.name,
									 'model_id', m.model_id),
		'catalog', jsonb_build_object(
			'algorithm', m.algorithm, 'task', m.task, 'relation', m.relation, 'target', m.target,
			'hyperparams', m.hyperparams, 'preprocess', m.preprocess, 'features', to_jsonb(m.features),
			'feature_kinds', to_jsonb(m.feature_kinds), 'classes', to_jsonb(m.classes),
			'positive_class', m.positive_class, 'metrics', m.metrics, 'split', m.split,
			'rows_read', m.rows_read, 'rows_skipped', m.rows_skipped, 'rows_train', m.rows_train,
			'rows_test', m.rows_test, 'train_ms', m.train_ms, 'timings', m.timings,
			'train_args', m.train_args, 'created_at', m.created_at),
		'model', mlcycle.model_to_json(m.model))
	INTO v
	FROM mlcycle.models m JOIN mlcycle.projects p ON p.project_id = m.project_id
	WHERE m.model_id = ml_export_model.model_id;
	IF v IS NULL THEN
		RAISE EXCEPTION 'model % does not exist', ml_export_model.model_id
			USING ERRCODE = 'undefined_object',
				  HINT = 'List the models you can see in mlcycle.models.';
	END IF;
	RETURN v;
END
$$;
COMMENT ON FUNCTION ml_export_model(bigint)
	IS 'A model and its catalog row as a versioned JSON document (mlcycle_export 1) that ml_import_model reads in another database.';

-- The text array of a jsonb array member, or an error naming it.
CREATE FUNCTION mlcycle.export_text_array(p_doc jsonb, p_key text) RETURNS text[]
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF jsonb_typeof(p_doc->p_key) = 'null' THEN
		RETURN NULL;
	END IF;
	IF jsonb_typeof(p_doc->p_key) IS DISTINCT FROM 'array' THEN
		RAISE EXCEPTION 'invalid exported model: catalog member "%" must be an array', p_key
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Pass the jsonb that ml_export_model returned, unchanged.';
	END IF;
	RETURN ARRAY(SELECT jsonb_array_elements_text(p_doc->p_key));
END
$$;
COMMENT ON FUNCTION mlcycle.export_text_array(jsonb, text) IS 'Internal: a text[] member of an exported model''s catalog part.';

CREATE FUNCTION ml_import_model(project text, model jsonb) RETURNS bigint
LANGUAGE plpgsql VOLATILE STRICT
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	c jsonb := model->'catalog';
	m jsonb := model->'model';
	v_bytes bytea;
	v_features text[];
	v_model_id bigint;
BEGIN
	IF jsonb_typeof(model) IS DISTINCT FROM 'object' OR model->'mlcycle_export' IS DISTINCT FROM '1'::jsonb
	   OR jsonb_typeof(c) IS DISTINCT FROM 'object' OR jsonb_typeof(m) IS DISTINCT FROM 'object' THEN
		RAISE EXCEPTION 'invalid exported model: not an ml_export_model document of version 1'
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = 'An export is an object with "mlcycle_export": 1, "catalog" and "model" members.',
				  HINT = 'Pass the jsonb that ml_export_model returned, unchanged.';
	END IF;
	v_bytes := mlcycle.model_from_json(m);
	v_features := mlcycle.export_text_array(c, 'features');
	IF c->>'task' IS DISTINCT FROM m->>'task' OR c->>'algorithm' IS DISTINCT FROM m->>'algorithm'
	   OR cardinality(v_features) IS DISTINCT FROM (mlcycle.model_info(v_bytes)->>'features')::int
	   OR mlcycle.export_text_array(c, 'classes') IS DISTINCT FROM
		  NULLIF(ARRAY(SELECT jsonb_array_elements_text(m->'classes')), '{}') THEN
		RAISE EXCEPTION 'invalid exported model: the catalog part does not describe the model'
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = 'Its task, algorithm, features or classes differ from the model''s own.',
				  HINT = 'Pass the jsonb that ml_export_model returned, unchanged.';
	END IF;
	BEGIN
		v_model_id := mlcycle.store_model(project, c->>'task', c->>'algorithm', c->>'relation', c->>'target',
			COALESCE(c->'hyperparams', '{}'), COALESCE(c->'preprocess', '{}'), v_features,
			mlcycle.export_text_array(c, 'feature_kinds'), mlcycle.export_text_array(c, 'classes'),
			c->>'positive_class', COALESCE(c->'metrics', '{}'),
			COALESCE(c->'split', '{}') || jsonb_build_object('imported_from', model->'source'),
			(c->>'rows_read')::bigint, (c->>'rows_skipped')::bigint, (c->>'rows_train')::bigint,
			(c->>'rows_test')::bigint, (c->>'train_ms')::float8, COALESCE(c->'timings', '{}'), v_bytes,
			CASE WHEN jsonb_typeof(c->'train_args') = 'object' THEN c->'train_args' END);
	EXCEPTION
		WHEN not_null_violation OR invalid_text_representation OR numeric_value_out_of_range THEN
			RAISE EXCEPTION 'invalid exported model: a catalog member is missing or malformed'
				USING ERRCODE = 'invalid_parameter_value',
					  DETAIL = SQLERRM,
					  HINT = 'Pass the jsonb that ml_export_model returned, unchanged.';
	END;
	INSERT INTO mlcycle.audit_log (project, model_id, action, detail, owner)
	VALUES (project, v_model_id, 'import_model', jsonb_build_object('source', model->'source'), current_user);
	RETURN v_model_id;
END
$$;
COMMENT ON FUNCTION ml_import_model(text, jsonb)
	IS 'Stores the model of an ml_export_model document in project (created on first use), after checking every value; it predicts exactly as the exported model did. Not deployed: call ml_deploy.';
