#!/usr/bin/env python3
"""Baseline for test/bench/bench.sh: the same logistic regression as
ml_train('b_log', 'bench', 'yb', algorithm => 'logistic', exclude => '{y}'), done the
usual way outside the database: fetch the rows with psycopg2, standardize, split 75/25,
fit scikit-learn's LogisticRegression(solver='lbfgs'), score the held-out rows.
Connection settings come from the libpq environment (PGHOST, PGPORT, PGUSER, PGDATABASE).

Prints "key value" lines: rows, fetch_s, fit_s, total_s (best of --repeat end-to-end
runs, each fetch + fit), roc_auc, peak_rss_kb.
"""
import argparse
import resource
import time

import numpy as np
import psycopg2
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

FEATURES = [f"f{i}" for i in range(1, 21)]


def fetch(table):
    conn = psycopg2.connect("")
    try:
        with conn.cursor(name="bench_fetch") as cur:  # server-side cursor, streamed
            cur.itersize = 50000
            cur.execute(f"SELECT {', '.join(FEATURES)}, yb::int FROM {table}")
            chunks = []
            while True:
                rows = cur.fetchmany(cur.itersize)
                if not rows:
                    break
                chunks.append(np.asarray(rows, dtype=np.float64))
    finally:
        conn.close()
    data = np.concatenate(chunks)
    return data[:, :-1], data[:, -1].astype(np.int64)


def run(table, seed):
    t0 = time.perf_counter()
    X, y = fetch(table)
    t1 = time.perf_counter()
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, random_state=seed)
    scaler = StandardScaler().fit(X_train)
    model = LogisticRegression(solver="lbfgs", max_iter=1000)
    model.fit(scaler.transform(X_train), y_train)
    t2 = time.perf_counter()
    auc = roc_auc_score(y_test, model.predict_proba(scaler.transform(X_test))[:, 1])
    return {"rows": len(y), "fetch_s": t1 - t0, "fit_s": t2 - t1,
            "total_s": t2 - t0, "roc_auc": auc}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--table", default="bench")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--seed", type=int, default=42)
    args = ap.parse_args()
    best = min((run(args.table, args.seed) for _ in range(args.repeat)),
               key=lambda r: r["total_s"])
    best["peak_rss_kb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    for key, value in best.items():
        print(key, value)


if __name__ == "__main__":
    main()
