#!/usr/bin/python3
"""Baseline for test/bench/search_bench.sh: scikit-learn's GridSearchCV over the
same 6 logistic configurations, on the same telco rows and the same 5 folds as
ml_train(..., search => 'grid', search_args => '{"cv": 5}', test_size => 0).

The folds are mlcycle's (src/train.c mlc_cv_folds): the rows in scan (ctid) order,
shuffled by PostgreSQL's pg_prng (xoroshiro128**, seeded with seed + 1), then
dealt round-robin per class.  Each fold refits the preprocessing on its
training part (a Pipeline), as mlcycle does: numeric columns mean-imputed and
standardized, text columns most-frequent-imputed and one-hot encoded.

Prints "key value" lines: fetch_s, search_s (best of --repeat), best_C,
fold_auc_max_diff (per-fold roc_auc of the best C against mlcycle's, when
--mlcycle-folds gives them), and the sklearn settings used.
"""
import argparse
import json
import time

import numpy as np
import psycopg2
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

M64 = (1 << 64) - 1
TEXT = ["multiple_lines", "internet_service", "online_security", "online_backup", "device_protection",
        "tech_support", "streaming_tv", "streaming_movies", "contract", "payment_method"]
NUMERIC = ["female", "senior_citizen", "partner", "dependents", "tenure", "phone_service",
           "paperless_billing", "monthly_charges", "total_charges"]


class PgPrng:
    """PostgreSQL's pg_prng: xoroshiro128** seeded by splitmix64."""

    def __init__(self, seed):
        self.x = seed & M64
        self.s0 = self._splitmix()
        self.s1 = self._splitmix()

    def _splitmix(self):
        self.x = (self.x + 0x9E3779B97F4A7C15) & M64
        v = self.x
        v = ((v ^ (v >> 30)) * 0xBF58476D1CE4E5B9) & M64
        v = ((v ^ (v >> 27)) * 0x94D049BB133111EB) & M64
        return v ^ (v >> 31)

    @staticmethod
    def _rotl(x, b):
        return ((x << b) | (x >> (64 - b))) & M64

    def next(self):
        s0, sx = self.s0, self.s1 ^ self.s0
        val = (self._rotl((s0 * 5) & M64, 7) * 9) & M64
        self.s0 = self._rotl(s0, 24) ^ sx ^ ((sx << 16) & M64)
        self.s1 = self._rotl(sx, 37)
        return val

    def uint64_range(self, lo, hi):
        if hi <= lo:
            return lo
        rng = hi - lo
        shift = 63 - (rng.bit_length() - 1)
        while True:
            v = self.next() >> shift
            if v <= rng:
                return lo + v


def mlcycle_folds(y, k, seed):
    """Fold of each row, as mlc_cv_folds computes it."""
    n = len(y)
    rng = PgPrng(seed + 1)
    order = list(range(n))
    for i in range(n - 1, 0, -1):
        j = rng.uint64_range(0, i)
        order[i], order[j] = order[j], order[i]
    seen = {}
    fold = np.zeros(n, dtype=int)
    for r in order:
        fold[r] = seen.get(y[r], 0) % k
        seen[y[r]] = seen.get(y[r], 0) + 1
    return fold


def fetch(table):
    conn = psycopg2.connect("")
    try:
        cur = conn.cursor()
        # in physical order: the order of the sequential scan ml_train reads
        cur.execute("SELECT %s, churn FROM %s ORDER BY ctid" % (", ".join(NUMERIC + TEXT), table))
        rows = cur.fetchall()
    finally:
        conn.close()
    Xn = np.array([[np.nan if v is None else float(v) for v in r[:len(NUMERIC)]] for r in rows])
    Xt = np.array([["" if v is None else v for v in r[len(NUMERIC):-1]] for r in rows], dtype=object)
    y = np.array([r[-1] == "Yes" for r in rows], dtype=int)
    return Xn, Xt, y


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--table", default="customers")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--tol", type=float, default=1e-4)
    ap.add_argument("--mlcycle-folds", help="JSON array of mlcycle's fold roc_auc for the best C")
    args = ap.parse_args()

    t0 = time.perf_counter()
    Xn, Xt, y = fetch(args.table)
    fetch_s = time.perf_counter() - t0
    X = np.empty((len(y), Xn.shape[1] + Xt.shape[1]), dtype=object)
    X[:, :Xn.shape[1]] = Xn
    X[:, Xn.shape[1]:] = Xt
    fold = mlcycle_folds(list(y), 5, args.seed)
    splits = [(np.where(fold != f)[0], np.where(fold == f)[0]) for f in range(5)]
    num = list(range(Xn.shape[1]))
    txt = list(range(Xn.shape[1], X.shape[1]))
    pre = ColumnTransformer([
        ("num", make_pipeline(SimpleImputer(strategy="mean"), StandardScaler()), num),
        ("txt", make_pipeline(SimpleImputer(strategy="most_frequent", missing_values=""),
                              OneHotEncoder(handle_unknown="ignore")), txt)])
    pipe = Pipeline([("pre", pre), ("lr", LogisticRegression(tol=args.tol, max_iter=1000))])
    grid = {"lr__C": [0.01, 0.03, 0.1, 0.3, 1, 3]}
    best = None
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        gs = GridSearchCV(pipe, grid, scoring="roc_auc", cv=splits, refit=True, n_jobs=1).fit(X, y)
        dt = time.perf_counter() - t0
        best = dt if best is None else min(best, dt)
    print("rows", len(y))
    print("fetch_s", round(fetch_s, 4))
    print("search_s", round(best, 4))
    print("best_C", gs.best_params_["lr__C"])
    print("best_cv_roc_auc", round(gs.best_score_, 6))
    if args.mlcycle_folds:
        ours = np.array(json.loads(args.mlcycle_folds))
        theirs = np.array([gs.cv_results_["split%d_test_score" % f][gs.best_index_] for f in range(5)])
        print("fold_auc_max_diff", "%.2e" % np.max(np.abs(ours - theirs)))


if __name__ == "__main__":
    main()
