#!/usr/bin/python3
"""XGBoost side of test/bench/trees_bench.sh: fit and predict on the CSV it exports.

Usage: trees_bench_xgb.py CSV TREES NFIT.  The CSV holds f1..f20 and the 0/1 label;
the first NFIT rows are fitted (the timing matters, not which rows), prediction
covers every row, best of 3.  Prints fit_s, predict_s and maxrss_kb (the process's
peak RSS, the loaded data included).  Needs Debian's python3-xgboost (1.7).
"""
import resource
import sys
import time

import numpy as np
import xgboost

path, trees, nfit = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
with open(path) as f:
    data = np.array(f.read().replace("\n", ",").rstrip(",").split(","), dtype=np.float64)
data = data.reshape(-1, 21)
X, y = data[:, :20], data[:, 20].astype(int)
model = xgboost.XGBClassifier(tree_method="hist", n_estimators=trees, max_depth=6, learning_rate=0.3,
                              max_bin=255, min_child_weight=1, reg_lambda=1, nthread=1,
                              base_score=float(y[:nfit].mean()))
t = time.perf_counter()
model.fit(X[:nfit], y[:nfit])
print("fit_s %.3f" % (time.perf_counter() - t))
best = None
for _ in range(3):
    t = time.perf_counter()
    model.predict_proba(X)
    best = min(best or 1e9, time.perf_counter() - t)
print("predict_s %.3f" % best)
print("maxrss_kb %d" % resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
