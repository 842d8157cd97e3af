/*
 * split.c
 *	  The seeded train/test split shared by every training path: per-row
 *	  uniform draws, and selection of the k smallest without a full sort.
 */
#include "postgres.h"

#include <math.h>

#include "miscadmin.h"

#include "split.h"

/* The PRNG of a split */
void
mlc_split_rng(pg_prng_state *rng, int seed)
{
	pg_prng_seed(rng, (uint64) (uint32) seed);
}

/* Number of test rows among n: ceil(test_size * n), as scikit-learn counts */
int64
mlc_split_test_count(double test_size, int64 n)
{
	if (test_size <= 0)
		return 0;
	return Min(n, (int64) ceil(test_size * (double) n));
}

/*
 * Move the k-th smallest of v[lo..hi] (0-based) to v[k], smaller ones before
 * it and larger ones after (quickselect), and return it.
 */
double
mlc_select_kth(double *v, int64 lo, int64 hi, int64 k)
{
	while (lo < hi)
	{
		double		pivot = v[lo + (hi - lo) / 2];
		int64		i = lo,
					j = hi;

		CHECK_FOR_INTERRUPTS();
		while (i <= j)
		{
			while (v[i] < pivot)
				i++;
			while (v[j] > pivot)
				j--;
			if (i <= j)
			{
				double		t = v[i];

				v[i++] = v[j];
				v[j--] = t;
			}
		}
		if (k <= j)
			hi = j;
		else if (k >= i)
			lo = i;
		else
			break;
	}
	return v[k];
}

/* Mark in is_test the k entries of u[0..n) with the smallest draws (ties: first index) */
void
mlc_split_mark(const double *u, int64 n, int64 k, bool *is_test)
{
	double	   *copy;
	double		thr;
	int64		below = 0;

	memset(is_test, 0, sizeof(bool) * n);
	if (k <= 0)
		return;
	copy = palloc(sizeof(double) * n);
	memcpy(copy, u, sizeof(double) * n);
	thr = mlc_select_kth(copy, 0, n - 1, k - 1);
	pfree(copy);
	for (int64 i = 0; i < n; i++)
		if (u[i] < thr)
		{
			is_test[i] = true;
			below++;
		}
	for (int64 i = 0; i < n && below < k; i++)
		if (u[i] == thr)
		{
			is_test[i] = true;
			below++;
		}
}
