-- drift_monitor.sql: ml_drift against the standalone drift aggregates on the
-- same data (KS, PSI, Wasserstein, chi-square, Jensen-Shannon to 1e-12),
-- flagging of a shifted sample but not of a same-distribution one (fixed
-- seeds, both training paths), and row-level security of the drift history.
\unset ECHO
\set QUIET 1
\pset format unaligned
\pset tuples_only true
\pset pager off
\set ON_ERROR_ROLLBACK 1
\set ON_ERROR_STOP true

BEGIN;
SET LOCAL client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS mlcycle;
RESET client_min_messages;
SET LOCAL mlcycle.progress = off;

SELECT plan(23);

CREATE SCHEMA dm;
SELECT setseed(0.42);
-- reference: every row trains (test_size 0), so the profile holds every value
CREATE TABLE dm.ref AS
SELECT i AS id, round((random() * 50)::numeric, 1)::float8 AS x,
	   CASE WHEN random() < 0.1 THEN NULL ELSE round((random() * random() * 20)::numeric, 2)::float8 END AS z,
	   (ARRAY['red', 'green', 'blue', 'grey'])[1 + floor(random() * random() * 4)::int] AS colour
FROM generate_series(1, 3000) i;
ALTER TABLE dm.ref ADD COLUMN y float8;
UPDATE dm.ref SET y = x * 2 + coalesce(z, 0) + length(colour) + random();
-- same distribution, other rows
CREATE TABLE dm.same AS
SELECT i AS id, round((random() * 50)::numeric, 1)::float8 AS x,
	   CASE WHEN random() < 0.1 THEN NULL ELSE round((random() * random() * 20)::numeric, 2)::float8 END AS z,
	   (ARRAY['red', 'green', 'blue', 'grey'])[1 + floor(random() * random() * 4)::int] AS colour
FROM generate_series(1, 2000) i;
-- shifted: x moves by 5, z scales, a new colour appears
CREATE TABLE dm.shifted AS
SELECT i AS id, round((5 + random() * 50)::numeric, 1)::float8 AS x,
	   CASE WHEN random() < 0.1 THEN NULL ELSE round((random() * random() * 26)::numeric, 2)::float8 END AS z,
	   (ARRAY['red', 'green', 'blue', 'grey', 'pink'])[1 + floor(random() * random() * 5)::int] AS colour
FROM generate_series(1, 2000) i;

SELECT is((SELECT count(*)::int FROM ml_train('dm', 'dm.ref', 'y', exclude => '{id}', test_size => 0)), 1,
		  'trained on every row');

CREATE TABLE dm.got AS SELECT * FROM ml_drift('dm', 'dm.shifted');
CREATE TABLE dm.pairs AS
SELECT x, z, colour, true AS is_ref FROM dm.ref UNION ALL
SELECT x, z, colour, false FROM dm.shifted;

CREATE FUNCTION dm.got(c text, m text) RETURNS float8 LANGUAGE sql
	RETURN (SELECT statistic FROM dm.got WHERE column_name = c AND method = m);
CREATE FUNCTION dm.close(got float8, want float8, what text) RETURNS text LANGUAGE sql
	RETURN ok(abs(got - want) <= 1e-12 * greatest(abs(want), 1e-300),
			  format('%s: ml_drift %s, aggregate %s', what, got, want));

SELECT dm.close(dm.got('x', 'ks'), (ml_ks_test(x, is_ref)).statistic, 'x KS statistic') FROM dm.pairs;
SELECT dm.close((SELECT p_value FROM dm.got WHERE column_name = 'x' AND method = 'ks'),
				(ml_ks_test(x, is_ref)).p_value, 'x KS p-value') FROM dm.pairs;
SELECT dm.close(dm.got('x', 'psi'), ml_psi(x, is_ref), 'x PSI') FROM dm.pairs;
SELECT dm.close(dm.got('x', 'wasserstein'), ml_wasserstein(x, is_ref), 'x Wasserstein') FROM dm.pairs;
SELECT dm.close(dm.got('z', 'ks'), (ml_ks_test(z, is_ref)).statistic, 'z KS statistic (with NULLs)') FROM dm.pairs;
SELECT dm.close(dm.got('z', 'psi'), ml_psi(z, is_ref), 'z PSI (with NULLs)') FROM dm.pairs;
SELECT dm.close(dm.got('colour', 'chi_square'), (ml_chi2_test(colour, is_ref)).statistic,
				'colour chi-square statistic (an unseen category)') FROM dm.pairs;
SELECT dm.close((SELECT p_value FROM dm.got WHERE column_name = 'colour' AND method = 'chi_square'),
				(ml_chi2_test(colour, is_ref)).p_value, 'colour chi-square p-value') FROM dm.pairs;
SELECT dm.close(dm.got('colour', 'psi'), ml_psi(colour, is_ref), 'colour PSI') FROM dm.pairs;
SELECT dm.close(dm.got('colour', 'jensen_shannon'), ml_js_distance(colour, is_ref), 'colour Jensen-Shannon') FROM dm.pairs;
SELECT is((SELECT (details->>'unseen_categories')::int FROM dm.got WHERE column_name = 'colour' AND method = 'chi_square'),
		  (SELECT (ml_chi2_test(colour, is_ref)).unseen_categories FROM dm.pairs), 'unseen categories counted');

-- flagged when shifted, not when the same distribution
SELECT ok((SELECT bool_and(drifted) FROM dm.got WHERE column_name IN ('x', 'colour') AND method IN ('ks', 'chi_square')),
		  'the shifted sample drifts in KS and chi-square');
SELECT ok((SELECT drifted FROM dm.got WHERE kind = 'dataset'), 'the shifted sample is dataset drift');
SELECT ok((SELECT NOT bool_or(drifted) FROM ml_drift('dm', 'dm.same')), 'a same-distribution sample does not drift');

-- the single-pass path: profiles from the statistics and a reservoir sample
CREATE VIEW dm.ref_num AS SELECT x, z, y FROM dm.ref;
SELECT is((SELECT count(*)::int FROM ml_train('dm_sp', 'dm.ref_num', 'y')), 1, 'single-pass training');
SELECT ok((SELECT bool_and(drifted) FROM ml_drift('dm_sp', 'dm.shifted') WHERE column_name = 'x' AND method IN ('ks', 'psi')),
		  'single-pass profile: the shifted x drifts');
SELECT ok((SELECT NOT bool_or(drifted) FROM ml_drift('dm_sp', 'dm.same')),
		  'single-pass profile: a same-distribution sample does not drift');
SET LOCAL mlcycle.reference_sample_size = 500;
SELECT is((SELECT count(*)::int FROM ml_train('dm_sp', 'dm.ref_num', 'y', deploy => 'most_recent')), 1,
		  'single-pass training with a 500-value reservoir');
SELECT is((SELECT reference_rows FROM ml_drift('dm_sp', 'dm.same') WHERE column_name = 'x' AND method = 'ks'), 500::bigint,
		  'single-pass profile: KS uses the reservoir of mlcycle.reference_sample_size values');
RESET mlcycle.reference_sample_size;

-- history and its row-level security
SELECT ok((SELECT count(*) FROM mlcycle.drift_runs WHERE project = 'dm') >= 2, 'runs are recorded');
SELECT is((SELECT count(*)::int FROM mlcycle.drift_history h JOIN mlcycle.drift_runs r USING (run_id)
		   WHERE r.project = 'dm' AND r.relation = 'dm.shifted'),
		  (SELECT count(*)::int FROM dm.got), 'one history row per result row');
CREATE ROLE dm_other;
SET LOCAL ROLE dm_other;
SELECT is((SELECT count(*)::int FROM mlcycle.drift_runs), 0, 'another role sees no runs');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
