-- drift_reference.sql: the drift aggregates and distributions against the
-- scipy 1.10.1 / numpy 1.24.2 references of shared/reference/drift_metrics,
-- copied to test/fixtures/drift/ (reference_values.json and the samples).
-- Run from the repository root (the \copy paths and the `cat` of the JSON
-- file are relative), e.g.
--   pg_prove -d DB test/pgtap/drift_reference.sql
-- A number matches when |got - ref| <= tol * |ref|: tol 1e-12 for statistics
-- (D, PSI, Wasserstein, chi-square statistics, Jensen-Shannon) and 1e-9 for
-- p-values, which come from series.  Each test's description shows the value,
-- the reference and the relative error.
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

SELECT plan(86);

CREATE SCHEMA drift_ref;
\set ref_json `cat test/fixtures/drift/reference_values.json`
CREATE TABLE drift_ref.ref AS SELECT key, value FROM jsonb_each(:'ref_json'::jsonb);

-- a reference number, NULL when the key is missing
CREATE FUNCTION drift_ref.num(k text) RETURNS float8 LANGUAGE sql STABLE
	RETURN (SELECT (value)::float8 FROM drift_ref.ref WHERE key = k);

-- element i (from 1) of a reference array
CREATE FUNCTION drift_ref.elem(k text, i int) RETURNS float8 LANGUAGE sql STABLE
	RETURN (SELECT (value->(i - 1))::float8 FROM drift_ref.ref WHERE key = k);

-- a test: got within relative tolerance tol of the reference want
CREATE FUNCTION drift_ref.close(got float8, want float8, tol float8, what text)
	RETURNS text LANGUAGE sql VOLATILE
	RETURN ok(got IS NOT NULL AND want IS NOT NULL AND abs(got - want) <= tol * abs(want),
			  format('%s = %s (reference %s, relative error %s, tolerance %s)',
					 what, got, want, abs(got - want) / nullif(abs(want), 0), tol));

-- the samples: (name of the case, value, is_reference)
CREATE TABLE drift_ref.pairs (name text, x float8, is_ref boolean);
CREATE TABLE drift_ref.load (x float8);
\copy drift_ref.load FROM 'test/fixtures/drift/ks_ref_n500.csv'
INSERT INTO drift_ref.pairs SELECT c, x, true FROM drift_ref.load,
	unnest(ARRAY['ks_a1_same', 'ks_a2_shift0.3sd', 'ks_a3_sd1.5']) c;
TRUNCATE drift_ref.load;
\copy drift_ref.load FROM 'test/fixtures/drift/ks_cur_same_m400.csv'
INSERT INTO drift_ref.pairs SELECT 'ks_a1_same', x, false FROM drift_ref.load;
TRUNCATE drift_ref.load;
\copy drift_ref.load FROM 'test/fixtures/drift/ks_cur_shift03_m400.csv'
INSERT INTO drift_ref.pairs SELECT 'ks_a2_shift0.3sd', x, false FROM drift_ref.load;
TRUNCATE drift_ref.load;
\copy drift_ref.load FROM 'test/fixtures/drift/ks_cur_sd15_m400.csv'
INSERT INTO drift_ref.pairs SELECT 'ks_a3_sd1.5', x, false FROM drift_ref.load;
TRUNCATE drift_ref.load;
\copy drift_ref.load FROM 'test/fixtures/drift/psi_ref_n10000.csv'
INSERT INTO drift_ref.pairs SELECT 'psi_main.ks', x, true FROM drift_ref.load;
TRUNCATE drift_ref.load;
\copy drift_ref.load FROM 'test/fixtures/drift/psi_cur_n5000.csv'
INSERT INTO drift_ref.pairs SELECT 'psi_main.ks', x, false FROM drift_ref.load;
-- the inline samples, and the heavy-ties sample from its counts of 0..5
INSERT INTO drift_ref.pairs
SELECT 'ks_small', v::float8, true FROM drift_ref.ref, jsonb_array_elements_text(value) v WHERE key = 'ks_small.x'
UNION ALL
SELECT 'ks_small', v::float8, false FROM drift_ref.ref, jsonb_array_elements_text(value) v WHERE key = 'ks_small.y'
UNION ALL
SELECT 'psi_small', v::float8, true FROM drift_ref.ref, jsonb_array_elements_text(value) v WHERE key = 'psi_small.ref'
UNION ALL
SELECT 'psi_small', v::float8, false FROM drift_ref.ref, jsonb_array_elements_text(value) v WHERE key = 'psi_small.cur';
INSERT INTO drift_ref.pairs
SELECT 'ks_ties', c.ord - 1, s.is_ref
FROM (VALUES ('ks_ties.ref_counts_for_values_0..5', true), ('ks_ties.cur_counts_for_values_0..5', false)) s(k, is_ref)
JOIN drift_ref.ref r ON r.key = s.k
CROSS JOIN LATERAL jsonb_array_elements_text(r.value) WITH ORDINALITY c(cnt, ord)
CROSS JOIN LATERAL generate_series(1, c.cnt::int);

-- the Kolmogorov-Smirnov cases, each with the three p-value methods
CREATE TABLE drift_ref.ks AS
SELECT name, ml_ks_test(x, is_ref) AS auto, ml_ks_test(x, is_ref, 'exact') AS exact,
	   ml_ks_test(x, is_ref, 'asymp') AS asymp,
	   sqrt(count(*) FILTER (WHERE is_ref)::float8 * count(*) FILTER (WHERE NOT is_ref) / count(*)) AS sqrt_en
FROM drift_ref.pairs
WHERE name IN ('ks_a1_same', 'ks_a2_shift0.3sd', 'ks_a3_sd1.5', 'ks_small', 'ks_ties', 'psi_main.ks')
GROUP BY name;

-- sample sizes and the method auto picks (exact: at most 10000 values)
SELECT is(ARRAY[(auto).n_reference, (auto).n_current, (exact).n_reference, (asymp).n_current],
		  ARRAY[drift_ref.elem(name || '.n_m', 1), drift_ref.elem(name || '.n_m', 2),
				drift_ref.elem(name || '.n_m', 1), drift_ref.elem(name || '.n_m', 2)]::bigint[],
		  name || ': sample sizes')
FROM (SELECT * FROM drift_ref.ks ORDER BY name OFFSET 0) k;
SELECT is((auto).method || '/' || (exact).method || '/' || (asymp).method, 'exact/exact/asymp',
		  name || ': methods auto, exact, asymp')
FROM (SELECT * FROM drift_ref.ks ORDER BY name OFFSET 0) k;

-- D (exact: a multiple of 1/lcm(n, m)), and D of the asymptotic mode
SELECT drift_ref.close((auto).statistic, drift_ref.num(name || '.D'), 1e-12, name || ': D')
FROM (SELECT * FROM drift_ref.ks ORDER BY name OFFSET 0) k;
SELECT drift_ref.close((asymp).statistic, drift_ref.num(name || '.D'), 1e-12, name || ': D (asymp)')
FROM (SELECT * FROM drift_ref.ks ORDER BY name OFFSET 0) k;

-- p-values: exact, asymptotic (kstwo.sf(D, round(nm/(n+m)))), auto
SELECT drift_ref.close((exact).p_value, drift_ref.num(name || '.p_exact'), 1e-9, name || ': exact p')
FROM (SELECT * FROM drift_ref.ks ORDER BY name OFFSET 0) k;
SELECT drift_ref.close((asymp).p_value, drift_ref.num(name || '.p_asymp_scipy(kstwo.sf(D,round(nm/(n+m))))'),
					   1e-9, name || ': asymptotic p')
FROM (SELECT * FROM drift_ref.ks ORDER BY name OFFSET 0) k;
SELECT drift_ref.close((auto).p_value, drift_ref.num(name || '.p_auto'), 1e-9, name || ': auto p')
FROM (SELECT * FROM drift_ref.ks ORDER BY name OFFSET 0) k;

-- the limiting Kolmogorov distribution at sqrt(en) D, plain and with Stephens' correction
SELECT drift_ref.close(mlcycle.kolmogorov_sf(sqrt_en * (auto).statistic),
					   drift_ref.num(name || '.p_kstwobign(sqrt(en)*D)'), 1e-9,
					   name || ': kstwobign.sf(sqrt(en) D)')
FROM (SELECT * FROM drift_ref.ks ORDER BY name OFFSET 0) k;
SELECT drift_ref.close(mlcycle.kolmogorov_sf((sqrt_en + 0.12 + 0.11 / sqrt_en) * (auto).statistic),
					   drift_ref.num(name || '.p_kstwobign_stephens((sqrt(en)+0.12+0.11/sqrt(en))*D)'), 1e-9,
					   name || ': kstwobign.sf((sqrt(en) + 0.12 + 0.11/sqrt(en)) D)')
FROM (SELECT * FROM drift_ref.ks ORDER BY name OFFSET 0) k;

-- distribution spot values
SELECT drift_ref.close(mlcycle.kolmogorov_sf(x), drift_ref.num(format('kstwobign.sf(%s)', x)), 1e-9,
					   format('kolmogorov_sf(%s)', x))
FROM unnest(ARRAY['0.5', '0.8', '1.0', '1.2239', '1.36', '1.6', '2.0']::numeric[]) x;
SELECT drift_ref.close(mlcycle.kstwo_sf(0.1, 100), drift_ref.num('kstwo.sf(0.1,100)'), 1e-9, 'kstwo_sf(0.1, 100)');
SELECT drift_ref.close(mlcycle.kstwo_sf(0.05, 222), drift_ref.num('kstwo.sf(0.05,222)'), 1e-9, 'kstwo_sf(0.05, 222)');

-- PSI: 10 bins at the reference deciles, right-closed, outer bins open, empty bins 1e-4
SELECT drift_ref.close(ml_psi(x, is_ref), drift_ref.num('psi_main.right_closed.PSI'), 1e-12, 'psi_main: PSI')
FROM drift_ref.pairs WHERE name = 'psi_main.ks';
SELECT drift_ref.close(ml_psi(x, is_ref, 10), drift_ref.num('psi_main.right_closed.PSI'), 1e-12, 'psi_main: PSI, bins => 10')
FROM drift_ref.pairs WHERE name = 'psi_main.ks';
SELECT drift_ref.close(ml_psi(x, is_ref), drift_ref.num('psi_small.right_closed.PSI'), 1e-12, 'psi_small: PSI')
FROM drift_ref.pairs WHERE name = 'psi_small';
SELECT ok(abs(ml_psi(x, is_ref) - drift_ref.num('psi_small.left_closed.PSI')) > 0.5,
		  'psi_small: the bins are right-closed (the left-closed PSI differs)')
FROM drift_ref.pairs WHERE name = 'psi_small';

-- Wasserstein: raw, and divided by the reference population standard deviation
SELECT drift_ref.close(ml_wasserstein(x, is_ref, false), drift_ref.num('psi_main.wasserstein'), 1e-12,
					   'psi_main: Wasserstein distance')
FROM drift_ref.pairs WHERE name = 'psi_main.ks';
SELECT drift_ref.close(ml_wasserstein(x, is_ref), drift_ref.num('psi_main.wasserstein_normed_by_std_ref_ddof0(evidently)'),
					   1e-12, 'psi_main: Wasserstein distance / std(reference)')
FROM drift_ref.pairs WHERE name = 'psi_main.ks';
SELECT drift_ref.close(ml_wasserstein(x, is_ref, true), drift_ref.num('psi_main.wasserstein_normed_by_std_ref_ddof0(evidently)'),
					   1e-12, 'psi_main: Wasserstein distance, normalized => true')
FROM drift_ref.pairs WHERE name = 'psi_main.ks';

-- categories: A, B, C, D with the reference and current counts
CREATE TABLE drift_ref.cats AS
SELECT c.cat, s.is_ref
FROM (VALUES ('chi.ref_counts', true), ('chi.cur_counts', false)) s(k, is_ref)
JOIN drift_ref.ref r ON r.key = s.k
CROSS JOIN LATERAL jsonb_array_elements_text(r.value) WITH ORDINALITY n(cnt, ord)
CROSS JOIN LATERAL (SELECT (SELECT value->>(n.ord::int - 1) FROM drift_ref.ref WHERE key = 'chi.categories') AS cat) c
CROSS JOIN LATERAL generate_series(1, n.cnt::int);
CREATE TABLE drift_ref.chi AS
SELECT ml_chi2_test(cat, is_ref) AS gof, ml_chi2_contingency(cat, is_ref) AS cont,
	   ml_psi(cat, is_ref) AS psi, ml_js_distance(cat, is_ref) AS js
FROM drift_ref.cats;

SELECT drift_ref.close((gof).statistic, drift_ref.num('chi.evidently_gof.stat'), 1e-12, 'chi-square goodness of fit: statistic') FROM drift_ref.chi;
SELECT is((gof).df, drift_ref.num('chi.evidently_gof.df')::int, 'chi-square goodness of fit: df') FROM drift_ref.chi;
SELECT drift_ref.close((gof).p_value, drift_ref.num('chi.evidently_gof.p'), 1e-9, 'chi-square goodness of fit: p') FROM drift_ref.chi;
SELECT is((gof).unseen_categories, 0, 'chi-square goodness of fit: no unseen category') FROM drift_ref.chi;
SELECT drift_ref.close((cont).statistic, drift_ref.num('chi.contingency_2xK.stat'), 1e-12, 'chi-square 2xK contingency: statistic') FROM drift_ref.chi;
SELECT is((cont).df, drift_ref.num('chi.contingency_2xK.df')::int, 'chi-square 2xK contingency: df') FROM drift_ref.chi;
SELECT drift_ref.close((cont).p_value, drift_ref.num('chi.contingency_2xK.p'), 1e-9, 'chi-square 2xK contingency: p') FROM drift_ref.chi;
SELECT drift_ref.close(psi, drift_ref.num('chi.psi_categories'), 1e-12, 'PSI of the categories') FROM drift_ref.chi;
SELECT drift_ref.close(js, drift_ref.num('chi.js_distance_base_2'), 1e-12, 'Jensen-Shannon distance, base 2') FROM drift_ref.chi;
-- base e is base 2 times sqrt(ln 2)
SELECT drift_ref.close(js * sqrt(ln(2)), drift_ref.num('chi.js_distance_base_e'), 1e-12, 'Jensen-Shannon distance, base e') FROM drift_ref.chi;

-- the 2 x 2 table [[90, 10], [80, 20]]: Yates' correction by default, and without
CREATE TABLE drift_ref.two AS
SELECT c, is_ref FROM (VALUES ('a', true, 90), ('b', true, 10), ('a', false, 80), ('b', false, 20)) t(c, is_ref, n),
	generate_series(1, n);
SELECT drift_ref.close((ml_chi2_contingency(c, is_ref)).statistic, drift_ref.elem('chi.2x2[[90,10],[80,20]].yates.stat_p', 1),
					   1e-12, '2x2 with Yates: statistic') FROM drift_ref.two;
SELECT drift_ref.close((ml_chi2_contingency(c, is_ref)).p_value, drift_ref.elem('chi.2x2[[90,10],[80,20]].yates.stat_p', 2),
					   1e-9, '2x2 with Yates: p') FROM drift_ref.two;
SELECT drift_ref.close((ml_chi2_contingency(c, is_ref, true)).statistic, drift_ref.elem('chi.2x2[[90,10],[80,20]].yates.stat_p', 1),
					   1e-12, '2x2, correction => true: statistic') FROM drift_ref.two;
SELECT drift_ref.close((ml_chi2_contingency(c, is_ref, false)).statistic, drift_ref.elem('chi.2x2[[90,10],[80,20]].no_yates.stat_p', 1),
					   1e-12, '2x2 without Yates: statistic') FROM drift_ref.two;
SELECT drift_ref.close((ml_chi2_contingency(c, is_ref, false)).p_value, drift_ref.elem('chi.2x2[[90,10],[80,20]].no_yates.stat_p', 2),
					   1e-9, '2x2 without Yates: p') FROM drift_ref.two;
SELECT is((ml_chi2_contingency(c, is_ref)).df, 1, '2x2: df') FROM drift_ref.two;

SELECT * FROM finish();
ROLLBACK;
