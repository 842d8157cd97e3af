-- Model cards: a Markdown document per model, built from the catalog, for
-- people who review, approve or inherit a model.

CREATE FUNCTION mlcycle.card_metrics_table(metrics jsonb) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
RETURN (
	SELECT string_agg(format('| %s | %s | %s | %s |', k,
							 coalesce(round((metrics->'train'->>k)::numeric, 4)::text, ''),
							 coalesce(round((metrics->'test'->>k)::numeric, 4)::text, ''),
							 coalesce(round((metrics->'baseline'->>k)::numeric, 4)::text, '')),
					  E'\n' ORDER BY k)
	FROM (SELECT jsonb_object_keys(metrics->'test') AS k) s
	WHERE k <> 'rows');
COMMENT ON FUNCTION mlcycle.card_metrics_table(jsonb) IS 'Internal: the metrics rows of a model card.';

CREATE FUNCTION ml_model_card(project text, model_id bigint DEFAULT NULL) RETURNS text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_project_id bigint := mlcycle.project_id(project);
	p mlcycle.projects;
	m mlcycle.models;
	deployed bigint;
	card text;
	section text;
BEGIN
	SELECT * INTO p FROM mlcycle.projects WHERE project_id = v_project_id;
	SELECT d.model_id INTO deployed FROM mlcycle.current_deployments d WHERE d.project_id = v_project_id;
	SELECT * INTO m FROM mlcycle.models x
	WHERE x.project_id = v_project_id AND x.model_id = coalesce(ml_model_card.model_id, deployed,
		(SELECT max(y.model_id) FROM mlcycle.models y WHERE y.project_id = v_project_id));
	IF NOT FOUND THEN
		RAISE EXCEPTION 'project "%" has no model %', project, coalesce(ml_model_card.model_id::text, '')
			USING ERRCODE = 'undefined_object',
				  HINT = 'List the project''s models in mlcycle.models.';
	END IF;

	card := format(E'# Model card: %s, model %s\n\n', p.name, m.model_id)
		|| format(E'- **Status**: %s\n', CASE WHEN m.model_id = deployed THEN 'deployed' ELSE 'not deployed' END)
		|| format(E'- **Task**: %s; **algorithm**: %s; hyperparameters `%s`\n', m.task, m.algorithm, m.hyperparams)
		|| format(E'- **Owner**: %s; trained %s in %s ms\n', m.owner, to_char(m.created_at, 'YYYY-MM-DD HH24:MI:SS TZ'),
				  round(m.train_ms::numeric))
		|| format(E'- **Data**: `%s`, target `%s`; %s rows read, %s skipped (NULL target), %s for training, %s held out (%s split, seed %s)\n',
				  m.relation, m.target, m.rows_read, m.rows_skipped, m.rows_train, m.rows_test,
				  m.split->>'method', m.split->>'seed')
		|| CASE WHEN m.classes IS NOT NULL
				THEN format(E'- **Classes**: %s%s\n', array_to_string(m.classes, ', '),
							coalesce('; positive class `' || m.positive_class || '`', ''))
				ELSE '' END;

	card := card || E'\n## Metrics\n\n'
		|| format(E'Headline: %s = %s on the %s rows; the trivial baseline scores %s (lift %s).\n\n',
				  m.metrics->>'score_metric', round((m.metrics->>'score')::numeric, 4), m.metrics->>'evaluated_on',
				  round((m.metrics->>'baseline_score')::numeric, 4), round((m.metrics->>'lift')::numeric, 4))
		|| E'| metric | train | test | baseline |\n|---|---|---|---|\n'
		|| coalesce(mlcycle.card_metrics_table(m.metrics), '') || E'\n';

	SELECT string_agg(format('| %s | %s | %s | %s | %s |', e.evaluated_at::date, e.relation, e.rows,
							 round((e.metrics->>'score')::numeric, 4), round((e.metrics->>'score_change')::numeric, 4)),
					  E'\n' ORDER BY e.evaluation_id DESC)
	INTO section
	FROM (SELECT * FROM mlcycle.evaluations e WHERE e.model_id = m.model_id ORDER BY e.evaluation_id DESC LIMIT 10) e;
	IF section IS NOT NULL THEN
		card := card || E'\n## Realized performance (latest evaluations)\n\n'
			|| E'| date | relation | rows | score | change vs training |\n|---|---|---|---|---|\n' || section || E'\n';
	END IF;

	SELECT string_agg(format('| %s | %s | %s |', f, k, coalesce(m.preprocess->split_part(f, '=', 1)->>'impute', '')),
					  E'\n' ORDER BY o)
	INTO section
	FROM unnest(m.features, m.feature_kinds) WITH ORDINALITY AS u(f, k, o);
	card := card || format(E'\n## Features (%s after preprocessing)\n\n', cardinality(m.features))
		|| E'| feature | kind | imputation |\n|---|---|---|\n' || coalesce(section, '') || E'\n'
		|| format(E'\nPreprocessing, fitted on the training rows: `%s`\n', m.preprocess);

	IF m.algorithm IN ('linear', 'ridge', 'logistic') THEN
		SELECT string_agg(format('| %s | %s | %s |', c.feature, coalesce(c.class, ''), round(c.coefficient::numeric, 6)),
						  E'\n' ORDER BY abs(c.coefficient) DESC)
		INTO section
		FROM (SELECT * FROM @extschema@.ml_coefficients(p.name, m.model_id) x WHERE x.feature <> '(intercept)'
			  ORDER BY abs(x.coefficient) DESC LIMIT 15) c;
		card := card || E'\n## Largest coefficients (standardized features)\n\n'
			|| E'| feature | class | coefficient |\n|---|---|---|\n' || coalesce(section, '') || E'\n';
	END IF;

	SELECT string_agg(format('| %s | %s | %s | %s | %s |', to_char(d.deployed_at, 'YYYY-MM-DD HH24:MI'), d.model_id,
							 d.strategy, d.reason, d.deployed_by), E'\n' ORDER BY d.deployment_id DESC)
	INTO section
	FROM (SELECT * FROM mlcycle.deployments d WHERE d.project_id = v_project_id ORDER BY d.deployment_id DESC LIMIT 10) d;
	card := card || E'\n## Deployment history (latest first)\n\n'
		|| E'| when | model | strategy | reason | by |\n|---|---|---|---|---|\n' || coalesce(section, '') || E'\n';

	card := card || E'\n## Known limits\n\n'
		|| E'- Metrics come from one split of the data it was trained on; they say nothing about rows unlike those.\n'
		|| CASE WHEN m.metrics->>'evaluated_on' = 'train'
				THEN E'- It was evaluated on its own training rows (test_size 0): the metrics are optimistic.\n' ELSE '' END
		|| E'- Categories unseen in training score as all-zero one-hot features; NULLs are imputed with training values.\n'
		|| CASE WHEN m.algorithm IN ('linear', 'ridge', 'logistic')
				THEN E'- A linear model: it captures no interactions or non-linear effects it was not given as features.\n' ELSE '' END;
	RETURN card;
END
$$;
COMMENT ON FUNCTION ml_model_card(text, bigint)
	IS 'A Markdown model card for a model of project (the deployed one, else the latest): data, features, preprocessing, algorithm, metrics with baseline lift, realized performance, coefficients, deployment history and known limits.';
