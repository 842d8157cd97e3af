#!/usr/bin/python3
"""Baseline for test/bench/drift_bench.sh: scipy's ks_2samp on the values ml_ks_test sees.

Fetches the reference values (f1 of the first 10,000 rows of bench_ref) and the current
values (f1 of every row of bench) with psycopg2, runs scipy.stats.ks_2samp, and prints
"key value" lines: fetch_s, ks_s (best of --repeat), statistic, pvalue.
"""
import argparse
import time

import psycopg2
from scipy import stats


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    conn = psycopg2.connect("")
    best_fetch = best_ks = None
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        with conn.cursor() as cur:
            cur.execute("SELECT f1 FROM bench_ref ORDER BY id LIMIT 10000")
            ref = [r[0] for r in cur.fetchall()]
            cur.execute("SELECT f1 FROM bench")
            current = [r[0] for r in cur.fetchall()]
        t1 = time.perf_counter()
        res = stats.ks_2samp(ref, current)
        t2 = time.perf_counter()
        best_fetch = t1 - t0 if best_fetch is None else min(best_fetch, t1 - t0)
        best_ks = t2 - t1 if best_ks is None else min(best_ks, t2 - t1)
    print("fetch_s", best_fetch)
    print("ks_s", best_ks)
    print("statistic", repr(res.statistic))
    print("pvalue", repr(res.pvalue))


if __name__ == "__main__":
    main()
