/*
 * split.h
 *	  The train/test split: each row (in scan order, rows with a target) draws
 *	  a uniform number from a PRNG seeded with the run's seed; the test rows
 *	  are the ceil(test_size * n) rows with the smallest draws (per class for
 *	  a stratified split).  Streaming and in-memory training share it.
 */
#ifndef MLCYCLE_SPLIT_H
#define MLCYCLE_SPLIT_H

#include "postgres.h"

#include "common/pg_prng.h"

/* The PRNG of a split */
extern void mlc_split_rng(pg_prng_state *rng, int seed);

/* Number of test rows among n */
extern int64 mlc_split_test_count(double test_size, int64 n);

/* Move the k-th smallest of v[lo..hi] to v[k] (quickselect) and return it */
extern double mlc_select_kth(double *v, int64 lo, int64 hi, int64 k);

/* Mark in is_test the k entries of u[0..n) with the smallest draws (ties: first index) */
extern void mlc_split_mark(const double *u, int64 n, int64 k, bool *is_test);

#endif							/* MLCYCLE_SPLIT_H */
