-- Privileges and row-level security: training reads with the caller's
-- privileges, and a role sees and deploys only projects of roles it belongs to.
-- a fresh catalog, so model ids do not depend on the other tests
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS mlcycle CASCADE;
CREATE EXTENSION mlcycle;
DROP ROLE IF EXISTS regress_mlc_alice;
DROP ROLE IF EXISTS regress_mlc_bob;
DROP ROLE IF EXISTS regress_mlc_carol;
RESET client_min_messages;
SET mlcycle.progress = off;
\set SHOW_CONTEXT never
CREATE ROLE regress_mlc_alice;
CREATE ROLE regress_mlc_bob;
CREATE ROLE regress_mlc_carol;
GRANT CREATE ON SCHEMA public TO regress_mlc_alice, regress_mlc_bob;

SET ROLE regress_mlc_alice;
CREATE TABLE alice_data (x float8, region text, y float8);
INSERT INTO alice_data SELECT i, CASE WHEN i % 2 = 0 THEN 'eu' ELSE 'us' END, 3 * i + 1 FROM generate_series(1, 40) i;
SELECT project, deployed FROM ml_train('alice_p', 'alice_data', 'y');
SELECT project, owner FROM mlcycle.overview;

-- bob: no SELECT on alice's table, and alice's project is invisible to him
SET ROLE regress_mlc_bob;
SELECT * FROM ml_train('bob_p', 'alice_data', 'y');
SELECT count(*) AS visible_projects FROM mlcycle.projects;
SELECT count(*) AS visible_models FROM mlcycle.models;
SELECT ml_predict('alice_p', ARRAY[1, 2]::float8[]);
SELECT ml_deploy('alice_p', 'most_recent');
SELECT * FROM ml_coefficients('alice_p');
UPDATE mlcycle.models SET algorithm = 'hacked';
DELETE FROM mlcycle.models;
INSERT INTO mlcycle.deployments (project_id, model_id, strategy, reason) VALUES (1, 1, 'specific', 'hijack');
-- a project name taken by another role
CREATE TABLE bob_data AS SELECT i AS x, 2 * i AS y FROM generate_series(1, 20) i;
SELECT * FROM ml_train('alice_p', 'bob_data', 'y');
SELECT project, deployed FROM ml_train('bob_p', 'bob_data', 'y');
SELECT project, owner FROM mlcycle.overview;

-- column privileges: bob may read x and y of alice's table, not region
SET ROLE regress_mlc_alice;
GRANT SELECT (x, y) ON alice_data TO regress_mlc_bob;
SET ROLE regress_mlc_bob;
SELECT * FROM ml_train('bob_cols', 'alice_data', 'y');
SELECT project, deployed FROM ml_train('bob_cols', 'alice_data', 'y', exclude => '{region}');

-- row-level security on the data applies to training
SET ROLE regress_mlc_alice;
GRANT SELECT ON alice_data TO regress_mlc_bob;
ALTER TABLE alice_data ENABLE ROW LEVEL SECURITY;
CREATE POLICY only_eu ON alice_data FOR SELECT TO regress_mlc_bob USING (region = 'eu');
CREATE POLICY owner_all ON alice_data TO regress_mlc_alice USING (true);
SET ROLE regress_mlc_bob;
SELECT project, deployed FROM ml_train('bob_rls', 'alice_data', 'y');
SELECT m.rows_read FROM mlcycle.models m JOIN mlcycle.projects p USING (project_id) WHERE p.name = 'bob_rls';

-- carol, granted alice's role, sees and deploys alice's project
RESET ROLE;
GRANT regress_mlc_alice TO regress_mlc_carol;
SET ROLE regress_mlc_carol;
SELECT project, owner FROM mlcycle.overview ORDER BY project;
SELECT ml_deploy('alice_p', 'most_recent');
SELECT round(ml_predict('alice_p', r)::numeric, 3) FROM (SELECT 10.0 AS x, 'eu' AS region) r;
RESET ROLE;

-- superuser sees everything
SELECT name, owner FROM mlcycle.projects ORDER BY name;

-- the extension keeps no aggregate without a combine function, nor one with an internal
-- state that lacks serial and deserial functions
SELECT p.oid::regprocedure AS aggregate
FROM pg_aggregate a JOIN pg_proc p ON p.oid = a.aggfnoid
JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'mlcycle'
WHERE a.aggcombinefn = 0 OR (a.aggtranstype = 'internal'::regtype AND (a.aggserialfn = 0 OR a.aggdeserialfn = 0));
-- every function of the extension is documented
SELECT p.oid::regprocedure AS undocumented
FROM pg_proc p
JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'mlcycle'
WHERE obj_description(p.oid, 'pg_proc') IS NULL;
-- the functions users call are SECURITY INVOKER
SELECT p.oid::regprocedure AS definer
FROM pg_proc p
JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'mlcycle'
WHERE p.prosecdef;
-- catalog tables and sequences are dumped by pg_dump
SELECT unnest(extconfig)::regclass AS dumped FROM pg_extension WHERE extname = 'mlcycle' ORDER BY 1;

DROP TABLE alice_data, bob_data;
SET client_min_messages = warning;
DROP EXTENSION mlcycle CASCADE;
CREATE EXTENSION mlcycle;
RESET client_min_messages;
REVOKE CREATE ON SCHEMA public FROM regress_mlc_alice, regress_mlc_bob;
DROP ROLE regress_mlc_alice;
DROP ROLE regress_mlc_bob;
DROP ROLE regress_mlc_carol;
