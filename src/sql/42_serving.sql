-- Serving: canary routing inside queries (ml_predict with a key, ml_route),
-- batch scoring into day-partitioned prediction tables (ml_score_table),
-- evaluation of a prediction table against later labels, and the A/B report
-- that compares a canary with its champion.

-- A table's row routed by key, scored by its columns: what the planner puts in
-- place of ml_predict(project, t, key) and its class and proba forms.
CREATE FUNCTION mlcycle.predict_routed_columns(project text, key "any", names text[], VARIADIC "columns" "any")
	RETURNS float8
	AS 'MODULE_PATHNAME', 'mlcycle_predict_routed_columns'
	LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION mlcycle.predict_routed_columns(text, "any", text[], "any")
	IS 'Internal: ml_predict(project, row, key) of a table''s row given as its column names and values.';

CREATE FUNCTION mlcycle.predict_class_routed_columns(project text, key "any", names text[], VARIADIC "columns" "any")
	RETURNS text
	AS 'MODULE_PATHNAME', 'mlcycle_predict_class_routed_columns'
	LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION mlcycle.predict_class_routed_columns(text, "any", text[], "any")
	IS 'Internal: ml_predict_class(project, row, key) of a table''s row given as its column names and values.';

CREATE FUNCTION mlcycle.predict_proba_routed_columns(project text, key "any", names text[], VARIADIC "columns" "any")
	RETURNS float8[]
	AS 'MODULE_PATHNAME', 'mlcycle_predict_proba_routed_columns'
	LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION mlcycle.predict_proba_routed_columns(text, "any", text[], "any")
	IS 'Internal: ml_predict_proba(project, row, key) of a table''s row given as its column names and values.';

CREATE FUNCTION ml_predict(project text, "row" anyelement, key "any") RETURNS float8
	AS 'MODULE_PATHNAME', 'ml_predict_routed'
	LANGUAGE C STABLE PARALLEL SAFE SUPPORT mlcycle.predict_support;
COMMENT ON FUNCTION ml_predict(text, anyelement, "any")
	IS 'ml_predict with canary routing: the key''s stable hash sends the canary''s traffic share of keys to the canary model, the rest (and NULL keys) to the deployed one.';

CREATE FUNCTION ml_predict_class(project text, "row" anyelement, key "any") RETURNS text
	AS 'MODULE_PATHNAME', 'ml_predict_class_routed'
	LANGUAGE C STABLE PARALLEL SAFE SUPPORT mlcycle.predict_support;
COMMENT ON FUNCTION ml_predict_class(text, anyelement, "any")
	IS 'ml_predict_class with canary routing by key, as ml_predict(project, row, key).';

CREATE FUNCTION ml_predict_proba(project text, "row" anyelement, key "any") RETURNS float8[]
	AS 'MODULE_PATHNAME', 'ml_predict_proba_routed'
	LANGUAGE C STABLE PARALLEL SAFE SUPPORT mlcycle.predict_support;
COMMENT ON FUNCTION ml_predict_proba(text, anyelement, "any")
	IS 'ml_predict_proba with canary routing by key, as ml_predict(project, row, key).';

CREATE FUNCTION ml_route(project text, key "any") RETURNS bigint
	AS 'MODULE_PATHNAME', 'ml_route'
	LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION ml_route(text, "any")
	IS 'The id of the model that ml_predict(project, row, key) uses for this key: the canary for its traffic share of keys, else the deployed model.';

CREATE TYPE mlcycle.score AS (model_id bigint, prediction float8, label text, probabilities float8[]);

CREATE FUNCTION mlcycle.score_row_columns(project text, key "any", names text[], VARIADIC "columns" "any")
	RETURNS mlcycle.score
	AS 'MODULE_PATHNAME', 'mlcycle_score_row_columns'
	LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION mlcycle.score_row_columns(text, "any", text[], "any")
	IS 'Internal: mlcycle.score_row of a table''s row given as its column names and values; the planner calls it in place of score_row(project, t, key).';

CREATE FUNCTION mlcycle.score_row(project text, "row" anyelement, key "any") RETURNS mlcycle.score
	AS 'MODULE_PATHNAME', 'mlcycle_score_row'
	LANGUAGE C STABLE PARALLEL SAFE SUPPORT mlcycle.predict_support;
COMMENT ON FUNCTION mlcycle.score_row(text, anyelement, "any")
	IS 'Internal: the prediction-table columns of a row (model, value, label, probabilities), scored once by the key''s model.';

CREATE FUNCTION mlcycle.score_load(target regclass, query text, project text, day date) RETURNS bigint
	AS 'MODULE_PATHNAME', 'mlcycle_score_load'
	LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION mlcycle.score_load(regclass, text, text, date)
	IS 'Internal: runs query ($1 project, $2 day), which returns key columns then an mlcycle.score, and adds one prediction-table row per result (keys, project, the score, now(), day) to target, a plain table without indexes, triggers or row security, with the multi-insert that COPY uses; NOT NULL, CHECK and partition constraints are enforced. Returns the rows added.';

-- Create the prediction table (partitioned by day) unless it exists; check the layout of one that does.
-- No SET search_path here: an unqualified target goes where the caller's tables go.
CREATE FUNCTION mlcycle.prediction_table(p_target text, p_source regclass, p_keys text[])
RETURNS regclass
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
	v_parts text[] := parse_ident(p_target);
	v_qualified text;
	v_table regclass;
	v_cols text;
BEGIN
	IF cardinality(v_parts) > 2 THEN
		RAISE EXCEPTION 'target "%" is not a table name', p_target
			USING ERRCODE = 'invalid_name', HINT = 'Write it as table or schema.table.';
	END IF;
	v_qualified := CASE cardinality(v_parts) WHEN 2 THEN format('%I.%I', v_parts[1], v_parts[2])
					ELSE format('%I', v_parts[1]) END;
	v_table := to_regclass(v_qualified);
	IF v_table IS NULL THEN
		SELECT string_agg(format('%I %s NOT NULL', k, format_type(a.atttypid, a.atttypmod)), ', ' ORDER BY o)
		INTO v_cols
		FROM unnest(p_keys) WITH ORDINALITY AS u(k, o)
		JOIN pg_attribute a ON a.attrelid = p_source AND a.attname = u.k AND NOT a.attisdropped;
		EXECUTE format('CREATE TABLE %s (%s, project text NOT NULL, model_id bigint NOT NULL, '
					   'prediction float8, label text, probabilities float8[], '
					   'scored_at timestamptz NOT NULL, scored_on date NOT NULL) PARTITION BY RANGE (scored_on)',
					   v_qualified, v_cols);
		v_table := v_qualified::regclass;
	ELSIF NOT EXISTS (SELECT 1 FROM pg_partitioned_table pt WHERE pt.partrelid = v_table)
		  OR (SELECT count(*) FROM pg_attribute a WHERE a.attrelid = v_table AND NOT a.attisdropped
			  AND a.attname IN ('project', 'model_id', 'prediction', 'label', 'probabilities', 'scored_at', 'scored_on')) <> 7
		  OR (SELECT count(*) FROM unnest(p_keys) k JOIN pg_attribute a
			  ON a.attrelid = v_table AND a.attname = k AND NOT a.attisdropped) <> cardinality(p_keys) THEN
		RAISE EXCEPTION 'table % is not an mlcycle prediction table for these keys', v_table
			USING ERRCODE = 'wrong_object_type',
				  DETAIL = 'A prediction table is partitioned by scored_on and has the key columns, project, model_id, prediction, label, probabilities, scored_at and scored_on.',
				  HINT = 'Pass a new table name, and ml_score_table creates it.';
	END IF;
	RETURN v_table;
END
$$;
COMMENT ON FUNCTION mlcycle.prediction_table(text, regclass, text[])
	IS 'Internal: the prediction table ml_score_table writes to, created on first use.';

-- Error unless the key columns identify the rows of the source: a unique index of the
-- source on some of them proves it, else a query looks for a repeated key.
CREATE FUNCTION mlcycle.check_unique_keys(p_source regclass, p_keys text[])
RETURNS void
LANGUAGE plpgsql STABLE
AS $$
DECLARE
	v_dup text;
	v_keys text := (SELECT string_agg(format('s.%I', k), ', ') FROM unnest(p_keys) k);
BEGIN
	IF EXISTS (SELECT 1 FROM pg_catalog.pg_index i
			   WHERE i.indrelid = p_source AND i.indisunique AND i.indisvalid AND i.indimmediate
				 AND i.indpred IS NULL AND i.indexprs IS NULL
				 AND (SELECT bool_and(a.attname = ANY (p_keys))
					  FROM unnest(i.indkey::int2[]) k JOIN pg_catalog.pg_attribute a
					  ON a.attrelid = p_source AND a.attnum = k)) THEN
		RETURN;
	END IF;
	EXECUTE format('SELECT ROW(%1$s)::text FROM %2$s s GROUP BY %1$s HAVING count(*) > 1 LIMIT 1',
				   v_keys, p_source)
	INTO v_dup;
	IF v_dup IS NOT NULL THEN
		RAISE EXCEPTION 'key columns % do not identify the rows of %', p_keys, p_source
			USING ERRCODE = 'unique_violation',
				  DETAIL = format('Two source rows have the key %s, so one prediction row cannot hold both.', v_dup),
				  HINT = 'Pass key columns that are unique in the source, such as its primary key.';
	END IF;
END
$$;
COMMENT ON FUNCTION mlcycle.check_unique_keys(regclass, text[])
	IS 'Internal: error unless key columns identify the rows of a relation (a unique index of it on some of them, else a query for a repeated key).';

-- No SET search_path here: relation names are resolved with the caller's.
CREATE FUNCTION ml_score_table(project text, source text, target text, key_columns text[],
							   options jsonb DEFAULT '{}')
RETURNS bigint
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
	v_src regclass;
	v_table regclass;
	v_part text;
	v_new_part boolean;
	v_bulk boolean;
	v_key text;
	v_keys text;
	v_cols text;
	v_missing text;
	v_sql text;
	v_end text;
	v_stmt text;			-- one batch's statement
	v_batch int := COALESCE((options->>'batch_blocks')::int, 1000);
	v_blocks bigint;
	v_start bigint := 0;
	v_rows bigint;
	v_total bigint := 0;
	v_day date := current_date;
	v_progress boolean := current_setting('mlcycle.progress', true) IS DISTINCT FROM 'off';
BEGIN
	IF options IS NULL OR jsonb_typeof(options) <> 'object'
	   OR EXISTS (SELECT 1 FROM jsonb_object_keys(options) k WHERE k NOT IN ('batch_blocks')) THEN
		RAISE EXCEPTION 'unknown option in %', options
			USING ERRCODE = 'invalid_parameter_value', HINT = 'Valid options are: batch_blocks.';
	END IF;
	IF v_batch IS NULL OR v_batch < 1 THEN
		RAISE EXCEPTION 'batch_blocks must be a positive integer'
			USING ERRCODE = 'invalid_parameter_value', HINT = 'It is the number of table blocks scored per batch (default 1000).';
	END IF;
	IF key_columns IS NULL OR cardinality(key_columns) = 0 OR array_position(key_columns, NULL) IS NOT NULL THEN
		RAISE EXCEPTION 'key_columns must name at least one column'
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Pass the columns that identify a row, e.g. ''{customer_id}''.';
	END IF;
	v_src := source::regclass;
	SELECT k INTO v_missing FROM unnest(key_columns) k
	WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a
					  WHERE a.attrelid = v_src AND a.attname = k AND a.attnum > 0 AND NOT a.attisdropped)
	LIMIT 1;
	IF v_missing IS NOT NULL THEN
		RAISE EXCEPTION 'key column "%" does not exist in %', v_missing, v_src
			USING ERRCODE = 'undefined_column',
				  HINT = 'Pass column names exactly as they are spelled in the source relation.';
	END IF;
	PERFORM mlcycle.deployed_model(project);
	PERFORM mlcycle.check_unique_keys(v_src, key_columns);
	v_table := mlcycle.prediction_table(target, v_src, key_columns);
	v_keys := (SELECT string_agg(format('s.%I', k), ', ') FROM unnest(key_columns) k);
	v_cols := (SELECT string_agg(format('%I', k), ', ') FROM unnest(key_columns) k);
	-- one key column routes by its value; several by the text of the row of their values
	v_key := CASE cardinality(key_columns) WHEN 1 THEN v_keys ELSE format('ROW(%s)::text', v_keys) END;
	-- the day's partition: a new one is filled on its own, then attached
	v_part := format('%I.%I', (SELECT n.nspname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
								WHERE c.oid = v_table),
					 left((SELECT relname FROM pg_class WHERE oid = v_table), 50) || '_p' || to_char(v_day, 'YYYYMMDD'));
	v_new_part := to_regclass(v_part) IS NULL;
	IF v_new_part THEN
		EXECUTE format('CREATE TABLE %s (LIKE %s INCLUDING DEFAULTS, CHECK (scored_on >= %L AND scored_on < %L))',
					   v_part, v_table, v_day, v_day + 1);
	ELSE
		-- a rerun the same day replaces the rows of the source's keys
		EXECUTE format('DELETE FROM %s p WHERE (%s) IN (SELECT %s FROM %s s)', v_part,
					   (SELECT string_agg(format('p.%I', k), ', ') FROM unnest(key_columns) k), v_keys, v_src);
	END IF;
	-- a partition without indexes or triggers takes the rows by multi-insert, as COPY does
	v_bulk := NOT EXISTS (SELECT 1 FROM pg_catalog.pg_index i WHERE i.indrelid = v_part::regclass)
			  AND NOT (SELECT c.relhastriggers OR c.relrowsecurity FROM pg_catalog.pg_class c WHERE c.oid = v_part::regclass);
	-- the statement of a batch is v_sql, then its WHERE clause, then v_end; the bulk loader
	-- takes the keys and the score, and adds the other columns itself
	IF v_bulk THEN
		v_sql := format('SELECT %s, mlcycle.score_row($1, s, %s) FROM %s s ', v_keys, v_key, v_src);
		v_end := '';
	ELSE
		v_sql := format('INSERT INTO %s (%s, project, model_id, prediction, label, probabilities, scored_at, scored_on) '
						'SELECT %s, $1, (p).model_id, (p).prediction, (p).label, (p).probabilities, now(), $2 '
						'FROM (SELECT %s, mlcycle.score_row($1, s, %s) AS p FROM %s s ',
						v_part, v_cols, v_cols, v_keys, v_key, v_src);
		v_end := ' OFFSET 0) s';
	END IF;
	-- tables are scored in batches of blocks (a TID range scan each); other relations at once
	IF (SELECT relkind FROM pg_catalog.pg_class WHERE oid = v_src) IN ('r', 'm') THEN
		v_blocks := pg_catalog.pg_relation_size(v_src) / current_setting('block_size')::bigint;
	END IF;
	LOOP
		EXIT WHEN v_start > 0 AND (v_blocks IS NULL OR v_start >= v_blocks);
		v_stmt := v_sql || CASE WHEN v_blocks IS NULL THEN ''
							   ELSE format('WHERE s.ctid >= ''(%s,0)''::tid AND s.ctid < ''(%s,0)''::tid',
										   v_start, v_start + v_batch) END || v_end;
		IF v_bulk THEN
			v_rows := mlcycle.score_load(v_part::regclass, v_stmt, project, v_day);
		ELSE
			EXECUTE v_stmt USING project, v_day;
			GET DIAGNOSTICS v_rows = ROW_COUNT;
		END IF;
		v_total := v_total + v_rows;
		v_start := v_start + v_batch;
		IF v_progress AND v_blocks IS NOT NULL THEN
			RAISE NOTICE 'mlcycle: scored % rows into % (% of % blocks)', v_total, v_table,
				least(v_start, v_blocks), v_blocks;
		END IF;
	END LOOP;
	IF v_new_part THEN
		-- indexes of the prediction table are built on the filled partition here
		EXECUTE format('ALTER TABLE %s ATTACH PARTITION %s FOR VALUES FROM (%L) TO (%L)',
					   v_table, v_part, v_day, v_day + 1);
	END IF;
	RETURN v_total;
END
$$;
COMMENT ON FUNCTION ml_score_table(text, text, text, text[], jsonb)
	IS 'Scores every row of source with project''s deployed model (and its canary, by key) into a day-partitioned prediction table, created on first use; rerunning on the same day replaces that day''s rows of the same keys. Returns the rows written.';

-- No SET search_path here: relation names are resolved with the caller's.
CREATE FUNCTION ml_evaluate(project text, predictions text, labels text, key_columns text[])
RETURNS SETOF mlcycle.evaluation_result
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
	ext text := (SELECT n.nspname FROM pg_catalog.pg_extension x JOIN pg_catalog.pg_namespace n
				 ON n.oid = x.extnamespace WHERE x.extname = 'mlcycle');
	v_project_id bigint := mlcycle.project_id(project);
	v_pred regclass := predictions::regclass;
	v_lab regclass := labels::regclass;
	v_join text;
	m mlcycle.models;
	r record;
	res mlcycle.evaluation_result;
BEGIN
	IF key_columns IS NULL OR cardinality(key_columns) = 0 THEN
		RAISE EXCEPTION 'key_columns must name at least one column'
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Pass the columns that join predictions to labels, e.g. ''{customer_id}''.';
	END IF;
	v_join := (SELECT string_agg(format('p.%1$I = l.%1$I', k), ' AND ') FROM unnest(key_columns) k);
	FOR m IN SELECT * FROM mlcycle.models x WHERE x.project_id = v_project_id
			 AND x.model_id IN (SELECT DISTINCT model_id FROM mlcycle.prediction_models(v_pred, project))
			 ORDER BY x.model_id LOOP
		EXECUTE mlcycle.metrics_query(m, format(
			'SELECT l.%1$I::%4$s AS y, p.prediction AS p, p.label AS c, p.probabilities AS pr '
			'FROM %2$s p JOIN %3$s l ON %5$s WHERE p.model_id = $1 AND p.project = $4',
			m.target, v_pred, v_lab, CASE WHEN m.task = 'regression' THEN 'float8' ELSE 'text' END, v_join))
		INTO r USING m.model_id, m.positive_class, m.classes, project;
		IF r.rows = 0 THEN
			CONTINUE;
		END IF;
		INSERT INTO mlcycle.evaluations (project_id, model_id, relation, rows, rows_skipped, metrics)
		VALUES (v_project_id, m.model_id, format('%s JOIN %s', v_pred, v_lab), r.rows, r.skipped,
				r.metrics || jsonb_build_object('score_metric', m.metrics->>'score_metric',
												'score', r.metrics->(m.metrics->>'score_metric'),
												'training_score', m.metrics->'score',
												'source', 'prediction table'))
		RETURNING evaluation_id, model_id, rows, rows_skipped, metrics INTO res;
		RETURN NEXT res;
	END LOOP;
	IF res.evaluation_id IS NULL THEN
		RAISE EXCEPTION 'no prediction of project "%" in % has a label in %', project, v_pred, v_lab
			USING ERRCODE = 'no_data_found',
				  HINT = 'Evaluate once outcomes have arrived for keys that were scored.';
	END IF;
END
$$;
COMMENT ON FUNCTION ml_evaluate(text, text, text, text[])
	IS 'Evaluates the predictions stored in a prediction table (ml_score_table) against labels that arrived later, joined by key: one recorded evaluation per model that scored rows.';

-- The model ids in a prediction table for a project.
CREATE FUNCTION mlcycle.prediction_models(p_table regclass, p_project text) RETURNS SETOF bigint
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = p_table AND a.attname = 'model_id' AND NOT a.attisdropped)
	   OR NOT EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = p_table AND a.attname = 'project' AND NOT a.attisdropped) THEN
		RAISE EXCEPTION 'table % is not an mlcycle prediction table', p_table
			USING ERRCODE = 'wrong_object_type',
				  HINT = 'Pass a table that ml_score_table wrote.';
	END IF;
	RETURN QUERY EXECUTE format('SELECT DISTINCT model_id FROM %s WHERE project = $1', p_table) USING p_project;
END
$$;
COMMENT ON FUNCTION mlcycle.prediction_models(regclass, text) IS 'Internal: the models that scored a project''s rows in a prediction table.';

-- Champion against canary on their latest realized metrics.
CREATE FUNCTION ml_ab_report(project text)
RETURNS TABLE (model_id bigint, role text, evaluated_at timestamptz, rows bigint, metric text, value float8,
			   difference float8, statistic float8, p_value float8, significant boolean)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_project_id bigint := mlcycle.project_id(project);
	v_task text := (SELECT p.task FROM mlcycle.projects p WHERE p.project_id = v_project_id);
	v_champion bigint := (SELECT d.model_id FROM mlcycle.current_deployments d WHERE d.project_id = v_project_id);
	v_canary bigint := (SELECT c.model_id FROM mlcycle.current_canaries c WHERE c.project_id = v_project_id);
	a mlcycle.evaluations;
	b mlcycle.evaluations;
	n1 float8; n2 float8; p1 float8; p2 float8; pooled float8; se float8;
BEGIN
	IF v_canary IS NULL THEN
		-- the most recent canary of the project, even if stopped or promoted since
		SELECT d.model_id INTO v_canary FROM mlcycle.deployments d
		WHERE d.project_id = v_project_id AND d.kind = 'canary' AND d.model_id <> v_champion
		ORDER BY d.deployment_id DESC LIMIT 1;
	END IF;
	IF v_canary IS NULL THEN
		RAISE EXCEPTION 'project "%" has no canary to compare', project
			USING ERRCODE = 'object_not_in_prerequisite_state',
				  HINT = 'Start one with ml_deploy(''' || project || ''', ''canary'', model_id, traffic => 0.1).';
	END IF;
	SELECT * INTO a FROM mlcycle.evaluations e WHERE e.model_id = v_champion AND e.metrics->>'source' = 'prediction table'
	ORDER BY e.evaluation_id DESC LIMIT 1;
	SELECT * INTO b FROM mlcycle.evaluations e WHERE e.model_id = v_canary AND e.metrics->>'source' = 'prediction table'
	ORDER BY e.evaluation_id DESC LIMIT 1;
	IF a.evaluation_id IS NULL OR b.evaluation_id IS NULL THEN
		RAISE EXCEPTION 'project "%" has no realized metrics for both the champion (model %) and the canary (model %)',
			project, v_champion, v_canary
			USING ERRCODE = 'no_data_found',
				  HINT = 'Score with ml_score_table, then run ml_evaluate(project, predictions, labels, key_columns) once labels arrive.';
	END IF;
	n1 := a.rows; n2 := b.rows;
	IF v_task = 'classification' THEN
		-- two-proportion z-test on accuracy (pooled), two-sided
		metric := 'accuracy';
		p1 := (a.metrics->>'accuracy')::float8; p2 := (b.metrics->>'accuracy')::float8;
		pooled := (p1 * n1 + p2 * n2) / (n1 + n2);
		se := sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2));
	ELSE
		-- Welch's test on squared errors (normal approximation), two-sided; lower mse is better
		metric := 'mse';
		p1 := (a.metrics->>'mse')::float8; p2 := (b.metrics->>'mse')::float8;
		se := sqrt(COALESCE((a.metrics->>'sq_error_var')::float8, 0) / n1 + COALESCE((b.metrics->>'sq_error_var')::float8, 0) / n2);
	END IF;
	model_id := v_champion; role := 'champion'; evaluated_at := a.evaluated_at; rows := a.rows; value := p1;
	difference := NULL; statistic := NULL; p_value := NULL; significant := NULL;
	RETURN NEXT;
	model_id := v_canary; role := 'canary'; evaluated_at := b.evaluated_at; rows := b.rows; value := p2;
	difference := p2 - p1;
	statistic := CASE WHEN se > 0 THEN (p2 - p1) / se END;
	p_value := CASE WHEN se > 0 THEN mlcycle.chi2_sf(statistic * statistic, 1) WHEN p1 = p2 THEN 1 ELSE 0 END;
	significant := p_value < 0.05;
	RETURN NEXT;
END
$$;
COMMENT ON FUNCTION ml_ab_report(text)
	IS 'Compares the canary with the champion on their latest realized metrics from prediction tables: accuracy (two-proportion z-test) for classification, mse (Welch z-test on squared errors) for regression; two-sided p-values.';
