-- Export and import: every learner's model goes through its JSON form and
-- back to the same bytes and the same predictions; damaged documents are
-- refused with a clear error and store nothing.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS mlcycle CASCADE;
CREATE EXTENSION mlcycle;
RESET client_min_messages;
SET mlcycle.progress = off;
\set SHOW_CONTEXT never
CREATE SCHEMA ex;
SET search_path = ex, public;
SELECT setseed(0.25);
CREATE TABLE obs AS
SELECT i AS id, random() * 10 AS x, (ARRAY['a', 'b', 'c'])[1 + floor(random() * 3)::int] AS g,
	   CASE WHEN i % 7 = 0 THEN NULL ELSE random() END AS z,
	   (DATE '2024-01-01' + i) AS day
FROM generate_series(1, 600) i;
ALTER TABLE obs ADD COLUMN y float8, ADD COLUMN won bool, ADD COLUMN tier text;
UPDATE obs SET y = 2 * x + CASE g WHEN 'a' THEN 1 ELSE 0 END + random(),
			   won = random() < 1 / (1 + exp(-(x - 5))),
			   tier = CASE WHEN x + random() * 3 < 4 THEN 'low' WHEN x + random() * 3 < 9 THEN 'mid' ELSE 'high' END;
-- every learner that applies, for a regression, a binary and a multiclass target
SELECT count(*) > 0 FROM ml_train('ex_reg', 'obs', 'y', 'all', exclude => '{id,won,tier}');
SELECT count(*) > 0 FROM ml_train('ex_bin', 'obs', 'won', 'all', exclude => '{id,y,tier}');
SELECT count(*) > 0 FROM ml_train('ex_multi', 'obs', 'tier', 'all', exclude => '{id,y,won}');
SELECT count(*) > 0 FROM ml_train('ex_bin', 'obs', 'won', 'logistic', exclude => '{id,y,tier}',
	preprocess => '{"g": {"encode": "ordinal", "scale": "robust"}, "x": {"scale": "minmax", "impute": "median"}}');
CREATE TABLE originals AS SELECT m.model_id, p.name AS project FROM mlcycle.models m JOIN mlcycle.projects p USING (project_id);
-- the document: versioned, with the catalog row and the readable model
SELECT d ? 'mlcycle_export', d->'mlcycle_export', d->'model'->>'form', d->'model'->'form_version',
	   jsonb_typeof(d->'model'->'columns'), d->'model'->'columns'->0->>'name', d->'model'->'columns'->0->>'scale',
	   d->'catalog'->>'relation', d->'source'->>'project'
FROM (SELECT ml_export_model(min(model_id)) AS d FROM originals) s;
-- import each into a copy project; same bytes, same predictions
CREATE TABLE copies AS
SELECT o.model_id AS original, ml_import_model(o.project || '_copy', ml_export_model(o.model_id)) AS copy
FROM originals o ORDER BY o.model_id;
SELECT m.algorithm, m.task, a.model = b.model AS same_bytes,
	   b.relation = m.relation AND b.features = m.features AND b.metrics = m.metrics AS same_catalog,
	   b.split->'imported_from'->>'model_id' = c.original::text AS provenance
FROM copies c JOIN mlcycle.models a ON a.model_id = c.original JOIN mlcycle.models b ON b.model_id = c.copy
JOIN mlcycle.models m ON m.model_id = c.original ORDER BY c.original;
SELECT count(*) AS models, bool_and(same) AS all_predict_identically
FROM (SELECT c.original,
			 (SELECT bool_and(mlcycle.model_predict_proba(a.model, o) IS NOT DISTINCT FROM mlcycle.model_predict_proba(b.model, o))
				FROM obs o) AS same
	  FROM copies c JOIN mlcycle.models a ON a.model_id = c.original JOIN mlcycle.models b ON b.model_id = c.copy
	  WHERE a.task = 'classification'
	  UNION ALL
	  SELECT c.original,
			 (SELECT bool_and(mlcycle.model_predict(a.model, o) = mlcycle.model_predict(b.model, o)) FROM obs o)
	  FROM copies c JOIN mlcycle.models a ON a.model_id = c.original JOIN mlcycle.models b ON b.model_id = c.copy
	  WHERE a.task = 'regression') s;
-- an imported model is not deployed, and is recorded in the audit trail
SELECT count(*) FROM mlcycle.current_deployments d JOIN copies c ON c.copy = d.model_id;
SELECT action, count(*) FROM mlcycle.audit_log GROUP BY action ORDER BY action;
-- bad documents: clear errors, nothing stored
CREATE TABLE doc AS SELECT ml_export_model(min(model_id)) AS d FROM originals;
CREATE FUNCTION ex_try(p_doc jsonb) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
	PERFORM ml_import_model('ex_bad', p_doc);
	RETURN 'accepted';
EXCEPTION WHEN OTHERS THEN
	RETURN SQLSTATE || ': ' || SQLERRM;
END $$;
SELECT ex_try('{"mlcycle_export": 1}');
SELECT ex_try('[1, 2]');
SELECT ex_try(jsonb_set(d, '{mlcycle_export}', '2')) FROM doc;
SELECT ex_try(jsonb_set(d, '{model,form}', '"other"')) FROM doc;
SELECT ex_try(jsonb_set(d, '{model,form_version}', '9')) FROM doc;
SELECT ex_try(jsonb_set(d, '{model,algorithm}', '"magic"')) FROM doc;
SELECT ex_try(jsonb_set(d, '{model,task}', '"clustering"')) FROM doc;
SELECT ex_try(d #- '{model,columns}') FROM doc;
SELECT ex_try(jsonb_set(d, '{model,columns,0}', '7')) FROM doc;
SELECT ex_try(jsonb_set(d, '{model,columns,0,scale}', '"zzz"')) FROM doc;
SELECT ex_try(jsonb_set(d, '{model,columns,0,scale}', '77')) FROM doc;
SELECT ex_try(jsonb_set(d, '{model,columns,0,kind}', '"categorical"')) FROM doc;
SELECT ex_try(jsonb_set(d, '{model,columns,0,scale_by}', '0')) FROM doc;
SELECT ex_try(jsonb_set(d, '{model,columns,0,center}', '1e400')) FROM doc;
SELECT ex_try(jsonb_set(d, '{model,columns,0,fill_index}', '1.5')) FROM doc;
SELECT ex_try(jsonb_set(d, '{model,columns,0,name}', '"g"')) FROM doc;
SELECT ex_try(jsonb_set(d, '{model,columns,1,categories}', '["b", "a", "c"]')) FROM doc;
SELECT ex_try(jsonb_set(d, '{model,columns,0,params}', '[1]')) FROM doc;
SELECT ex_try(jsonb_set(d, '{model,coef,0,0}', '"a"')) FROM doc;
SELECT ex_try(d #- '{model,coef,0,1}') FROM doc;
SELECT ex_try(jsonb_set(d, '{model,coef}', '[]')) FROM doc;
SELECT ex_try(jsonb_set(d, '{model,classes}', '["x"]')) FROM doc;
SELECT ex_try(jsonb_set(d, '{model,learner_params}', '[1, 2]')) FROM doc;
SELECT ex_try(jsonb_set(d, '{model,profiles}', '[]')) FROM doc;
SELECT ex_try(jsonb_set(d, '{model,profiles,0,bins,0}', '100000')) FROM doc;
SELECT ex_try(jsonb_set(d, '{model,profiles,0,kind}', '"odd"')) FROM doc;
SELECT ex_try(jsonb_set(d, '{catalog,task}', '"classification"')) FROM doc;
SELECT ex_try(jsonb_set(d, '{catalog,features}', '["x"]')) FROM doc;
SELECT ex_try(jsonb_set(d, '{catalog,features}', '"x"')) FROM doc;
SELECT ex_try(jsonb_set(d, '{catalog,rows_read}', '"many"')) FROM doc;
SELECT ex_try(d #- '{catalog,train_ms}') FROM doc;
SELECT count(*) FROM mlcycle.projects WHERE name = 'ex_bad';
-- a model the caller cannot see cannot be exported
SELECT ml_export_model(-1);
SELECT ml_export_model(NULL) IS NULL;
