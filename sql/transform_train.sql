-- ml_train's preprocess steps beyond impute/scale/encode: fitted on the
-- training rows, stored in the model (format v3) and applied the same way
-- when scoring; the same arithmetic as the standalone transformers.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS mlcycle CASCADE;
CREATE EXTENSION mlcycle;
RESET client_min_messages;
SET mlcycle.progress = off;
SET extra_float_digits = 0;
CREATE TABLE tt (id int, x float8, z float8, w float8, c text, ts timestamp, y float8);
INSERT INTO tt
SELECT i, CASE WHEN i % 7 = 0 THEN NULL ELSE (i % 13) * 1.5 + 1 END,
	   (i % 5) + 0.5, exp((i % 11) / 4.0),
	   (ARRAY['red', 'green', 'blue', 'teal', 'gold'])[1 + i % 5] || CASE WHEN i % 50 = 0 THEN '!' ELSE '' END,
	   timestamp '2024-01-01 00:00' + (i * interval '7 hours 13 minutes'),
	   (i % 13) * 2 + (i % 5) - (i % 11) * 0.5 + CASE (i % 5) WHEN 0 THEN 3 ELSE 0 END
FROM generate_series(1, 400) i;
-- every step at once
SELECT algorithm, deployed FROM ml_train('tt', 'tt', 'y', 'linear', exclude => '{id}', test_size => 0,
	preprocess => '{"x": {"impute": {"method": "median", "indicator": true}, "clip": [0.05, 0.95]},
					"z": {"scale": "yeo_johnson"}, "w": {"scale": "box_cox"},
					"c": {"encode": {"method": "one_hot", "top_k": 3}},
					"ts": {"temporal": {"parts": ["month", "dow", "hour"], "cyclical": true}}}');
SELECT jsonb_pretty(preprocess) FROM mlcycle.models ORDER BY model_id DESC LIMIT 1;
SELECT features FROM mlcycle.models ORDER BY model_id DESC LIMIT 1;
-- the stored steps are those of the standalone transformers on the same rows
SELECT (m.preprocess->'z'->>'lambda')::float8 = (ml_transformer_text(ml_fit_scaler(z, 'yeo_johnson'))->>'lambda')::float8 AS same_yeo_johnson,
	   (m.preprocess->'w'->>'lambda')::float8 = (ml_transformer_text(ml_fit_scaler(w, 'box_cox'))->>'lambda')::float8 AS same_box_cox,
	   m.preprocess->'x'->'clip' = (SELECT ml_transformer_text(ml_fit_clipper(ml_transform(i, x), 0.05, 0.95))->'bounds'
									FROM tt, (SELECT ml_fit_imputer(x, 'median') i FROM tt) f) AS same_clip
FROM tt, mlcycle.models m WHERE m.model_id = (SELECT max(model_id) FROM mlcycle.models) GROUP BY m.preprocess;
-- scoring applies the steps: the explained features of a row equal the hand-applied transformers
SELECT e.feature, round(e.value::numeric, 9) AS value FROM ml_explain('tt', (SELECT t FROM tt t WHERE id = 7)) e;
SELECT round(ml_transform(s, z)::numeric, 9) AS z_by_hand, round(ml_transform(b, w)::numeric, 9) AS w_by_hand
FROM tt, (SELECT ml_fit_scaler(z, 'yeo_johnson') s, ml_fit_scaler(w, 'box_cox') b FROM tt) f WHERE id = 7;
SELECT ml_temporal_features(ts, '{month, dow, hour}', true) AS ts_by_hand FROM tt WHERE id = 7;
-- ml_predict (row) equals the sum of the explained contributions
SELECT abs(ml_predict('tt', t) - (SELECT sum(contribution) FROM ml_explain('tt', t))) < 1e-9 AS predict_matches_explain
FROM tt t WHERE id IN (7, 8) ;
-- a category never seen in training goes to the other bucket of top_k
SELECT feature, value FROM ml_explain('tt', ROW(1, 2.0, 1.0, 1.0, 'never seen', timestamp '2024-03-03 10:00', NULL)::tt) WHERE feature LIKE 'c=%';

-- encodings: frequency, target (out-of-fold), binary, hashing; bins; maxabs; log1p; l2
SELECT algorithm FROM ml_train('tt_enc', 'tt', 'y', 'linear', exclude => '{id, ts}', test_size => 0,
	preprocess => '{"c": {"encode": {"method": "target", "smoothing": 5, "folds": 4}},
					"x": {"bin": {"method": "quantile", "bins": 4}}, "z": {"scale": "maxabs"}, "w": {"scale": "log1p"}}');
SELECT preprocess->'c' AS target_encoding, preprocess->'x'->'bin_edges' AS bin_edges, preprocess->'z'->>'scale' AS z_scale
FROM mlcycle.models ORDER BY model_id DESC LIMIT 1;
-- the stored target means (for test rows and scoring) are the smoothed means over all training
-- rows: (sum of y + smoothing * mean y) / (count + smoothing); the learner saw out-of-fold ones
SELECT c, round(value::numeric, 6) AS encoded,
	   round((((SELECT sum(y) FROM tt u WHERE u.c = r.c) + 5 * (SELECT avg(y) FROM tt)) /
			  ((SELECT count(*) FROM tt u WHERE u.c = r.c) + 5))::numeric, 6) AS by_hand
FROM (SELECT DISTINCT ON (c) c, t FROM tt t ORDER BY c, id) r,
	LATERAL ml_explain('tt_enc', r.t) e WHERE e.feature = 'c' ORDER BY c;
SELECT algorithm FROM ml_train('tt_bin', 'tt', 'c', 'logistic', exclude => '{id, ts}',
	preprocess => '{"*": {"scale": "l2"}}');
SELECT algorithm FROM ml_train('tt_hash', 'tt', 'y', 'ridge', exclude => '{id, ts}',
	preprocess => '{"c": {"encode": {"method": "hashing", "buckets": 4}}}');
SELECT count(DISTINCT feature) AS hashed_features FROM ml_explain('tt_hash', (SELECT t FROM tt t LIMIT 1)) WHERE feature LIKE 'c#%';
SELECT algorithm FROM ml_train('tt_binary', 'tt', 'y', 'ridge', exclude => '{id, ts}',
	preprocess => '{"c": {"encode": "binary"}, "x": {"impute": "knn"}}');
SELECT feature, value FROM ml_explain('tt_binary', (SELECT t FROM tt t WHERE id = 1)) WHERE feature LIKE 'c:%';
SELECT preprocess->'x' AS knn FROM mlcycle.models ORDER BY model_id DESC LIMIT 1;
-- a "*" scale gives way to a column's own bins
SELECT algorithm FROM ml_train('tt_star', 'tt', 'y', 'ridge', exclude => '{id, ts}',
	preprocess => '{"*": {"scale": "yeo_johnson"}, "x": {"bin": "uniform"}}');
SELECT preprocess->'x'->>'scale' AS x_scale, preprocess->'x'->'bin_edges' AS x_bins, preprocess->'z'->>'scale' AS z_scale
FROM mlcycle.models ORDER BY model_id DESC LIMIT 1;
-- a stored model round-trips through its bytes and scores the same
SELECT abs(mlcycle.model_predict(m.model, t) - ml_predict('tt', t)) < 1e-12 AS same_after_reload
FROM tt t, mlcycle.models m WHERE m.model_id = (SELECT min(model_id) FROM mlcycle.models) AND t.id = 3;

-- bad specs
SELECT * FROM ml_train('tt_bad', 'tt', 'y', preprocess => '{"x": {"scale": "zscore"}}');
SELECT * FROM ml_train('tt_bad', 'tt', 'y', preprocess => '{"c": {"encode": "woe"}}');
SELECT * FROM ml_train('tt_bad', 'tt', 'y', preprocess => '{"x": {"impute": "nearest"}}');
SELECT * FROM ml_train('tt_bad', 'tt', 'y', preprocess => '{"x": {"bin": "kmeans"}}');
SELECT * FROM ml_train('tt_bad', 'tt', 'y', preprocess => '{"x": {"clip": 0.05}}');
SELECT * FROM ml_train('tt_bad', 'tt', 'y', preprocess => '{"x": {"clip": [0.9, 0.1]}}');
SELECT * FROM ml_train('tt_bad', 'tt', 'y', preprocess => '{"c": {"clip": [0.1, 0.9]}}');
SELECT * FROM ml_train('tt_bad', 'tt', 'y', preprocess => '{"x": {"temporal": ["year"]}}');
SELECT * FROM ml_train('tt_bad', 'tt', 'y', preprocess => '{"ts": {"temporal": ["week"]}}');
SELECT * FROM ml_train('tt_bad', 'tt', 'y', preprocess => '{"c": {"encode": {"method": "ordinal", "top_k": 2}}}');
SELECT * FROM ml_train('tt_bad', 'tt', 'y', preprocess => '{"c": {"encode": {"top_k": 2}}}');
SELECT * FROM ml_train('tt_bad', 'tt', 'y', preprocess => '{"c": {"encode": {"method": "one_hot", "top_k": 0}}}');
SELECT * FROM ml_train('tt_bad', 'tt', 'y', preprocess => '{"c": {"encode": {"method": "one_hot", "top": 2}}}');
SELECT * FROM ml_train('tt_bad', 'tt', 'y', preprocess => '{"x": {"impute": {"method": "mean", "k": 3}}}');
SELECT * FROM ml_train('tt_bad', 'tt', 'y', preprocess => '{"c": {"impute": "indicator"}}');
SELECT * FROM ml_train('tt_bad', 'tt', 'y', preprocess => '{"c": {"encode": "ordinal", "scale": "yeo_johnson"}}');
SELECT * FROM ml_train('tt_bad', 'tt', 'y', preprocess => '{"x": {"bin": "uniform", "scale": "box_cox"}}');
SELECT * FROM ml_train('tt_bad', 'tt', 'y', preprocess => '{"y2": {"scale": "box_cox"}}');
UPDATE tt SET z = -z WHERE id = 3;
SELECT * FROM ml_train('tt_bad', 'tt', 'y', exclude => '{id}', preprocess => '{"z": {"scale": "box_cox"}}');
CREATE TABLE tt2 AS SELECT c, CASE WHEN id % 2 = 0 THEN 'even' ELSE 'odd' END AS c2, x FROM tt;
SELECT * FROM ml_train('tt_bad', 'tt2', 'c', preprocess => '{"c2": {"encode": "target"}}');
SELECT count(*) AS no_partial_rows FROM mlcycle.projects WHERE name = 'tt_bad';
-- scoring: box_cox of a non-positive value and log1p below -1 are errors, NULLs are imputed
SELECT abs(ml_predict('tt', ROW(1, NULL, 1.0, 1.0, 'red', NULL, NULL)::tt) - ml_predict('tt', ROW(1, 10, 1.0, 1.0, 'red', NULL, NULL)::tt)
		   - (SELECT contribution FROM ml_explain('tt', ROW(1, NULL, 1.0, 1.0, 'red', NULL, NULL)::tt) WHERE feature = 'x (missing)')) < 1e-9
	   AS null_is_median_plus_indicator;
SELECT ml_predict('tt', ROW(1, 2.0, 1.0, -1.0, 'red', timestamp '2024-03-03', NULL)::tt);
SELECT ml_predict('tt_enc', ROW(1, 2.0, 1.0, -1.5, 'red', timestamp '2024-03-03', NULL)::tt);

-- select_features: applied on the training rows after preprocessing; the model keeps only
-- the kept features (its learner sees nothing else), the kept and dropped ones are in metrics->'select'
ALTER TABLE tt2 ADD COLUMN x2 float8, ADD COLUMN k float8 DEFAULT 1, ADD COLUMN y float8;
UPDATE tt2 SET x2 = 2 * x + 1, y = coalesce(x, 0) * 3 + length(c);
SELECT metrics->'select'->'kept' AS kept, metrics->'select'->'dropped' AS dropped
FROM ml_train('tt_sel', 'tt2', 'y', 'ridge', select_features => '{"variance_threshold": 0, "max_correlation": 0.99, "k_best": 3}');
SELECT e.feature, count(*) AS rows FROM tt2 t, ml_explain('tt_sel', t) e GROUP BY e.feature ORDER BY e.feature;
SELECT features, feature_kinds FROM mlcycle.models WHERE project_id = mlcycle.project_id('tt_sel');
SELECT * FROM ml_train('tt_bad', 'tt2', 'y', select_features => '{"k": 3}');
SELECT * FROM ml_train('tt_bad', 'tt2', 'y', select_features => '{"k_best": 0}');
SELECT * FROM ml_train('tt_bad', 'tt2', 'y', select_features => '{"max_correlation": 1.5}');
SELECT * FROM ml_train('tt_bad', 'tt2', 'y', select_features => '{"variance_threshold": -1}');
SELECT * FROM ml_train('tt_bad', 'tt2', 'y', select_features => '[1]');
