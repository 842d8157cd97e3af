#!/usr/bin/python3
"""XGBoost side of test/bench/trees_bench.sh: fit and predict on the CSV it exports.

Usage: trees_bench_xgb.py CSV TREES.  The CSV holds f1..f20, the 0/1 label and a
0/1 "fit" flag (the rows ml_train fitted).  Prints fit_s (one fit), predict_s
(predict_proba on every row, best of 3), auc (on the rows not fitted) and
maxrss_kb (the process's peak RSS, the loaded data included).  Needs Debian's
python3-xgboost (1.7) and python3-sklearn.
"""
import resource
import sys
import time

import numpy as np
import xgboost
from sklearn.metrics import roc_auc_score

path, trees = sys.argv[1], int(sys.argv[2])
with open(path) as f:
    data = np.array(f.read().replace("\n", ",").rstrip(",").split(","), dtype=np.float64).reshape(-1, 22)
X, y, fit = data[:, :20], data[:, 20].astype(int), data[:, 21] == 1
model = xgboost.XGBClassifier(tree_method="hist", n_estimators=trees, max_depth=6, learning_rate=0.3,
                              max_bin=255, min_child_weight=1, reg_lambda=1, nthread=1,
                              base_score=float(y[fit].mean()))
t = time.perf_counter()
model.fit(X[fit], y[fit])
print("fit_s %.3f" % (time.perf_counter() - t))
best = None
for _ in range(3):
    t = time.perf_counter()
    p = model.predict_proba(X)
    best = min(best or 1e9, time.perf_counter() - t)
print("predict_s %.3f" % best)
print("auc %.4f" % roc_auc_score(y[~fit], p[~fit, 1]))
print("maxrss_kb %d" % resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
