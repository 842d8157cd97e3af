/*
 * sampling.c
 *	  Rebalancing a classifier's training rows (sampling.h): each class is
 *	  brought to the size of the largest by drawing its rows again or by
 *	  SMOTE interpolation, or to the size of the smallest by dropping rows.
 */
#include "postgres.h"

#include "common/pg_prng.h"
#include "miscadmin.h"

#include "mlcycle.h"
#include "sampling.h"
#include "split.h"

/* Rows of each class: idx holds them grouped by class, class c at idx[start[c]..start[c+1]) */
static void
mlc_group_by_class(const int32 *y, int64 n, int K, int64 *start, int64 *idx)
{
	int64	   *fill = palloc0(sizeof(int64) * K);

	memset(start, 0, sizeof(int64) * (K + 1));
	for (int64 i = 0; i < n; i++)
		start[y[i] + 1]++;
	for (int c = 0; c < K; c++)
		start[c + 1] += start[c];
	for (int64 i = 0; i < n; i++)
		idx[start[y[i]] + fill[y[i]]++] = i;
	pfree(fill);
}

/* Copy row i of X (and its class) to position o of the output */
static inline void
mlc_copy_row(const double *X, const int32 *y, int p, int64 i, double *Xo, int32 *yo, int64 o)
{
	memcpy(Xo + o * p, X + i * p, sizeof(double) * p);
	yo[o] = y[i];
}

/* Squared Euclidean distance between rows a and b */
static double
mlc_row_dist2(const double *X, int p, int64 a, int64 b)
{
	double		d = 0;

	for (int j = 0; j < p; j++)
	{
		double		t = X[a * p + j] - X[b * p + j];

		d += t * t;
	}
	return d;
}

/* The k nearest rows to row i among rows[0..m) (i itself excluded), into nn */
static int
mlc_nearest(const double *X, int p, int64 i, const int64 *rows, int64 m, int k, int64 *nn)
{
	double		best[MLC_SMOTE_NEIGHBORS];
	int			found = 0;

	for (int64 r = 0; r < m; r++)
	{
		double		d;
		int			pos;

		if (rows[r] == i)
			continue;
		d = mlc_row_dist2(X, p, i, rows[r]);
		if (found == k && d >= best[k - 1])
			continue;
		/* insertion into the sorted list of the k best (ties keep the earlier row) */
		pos = found < k ? found++ : k - 1;
		while (pos > 0 && best[pos - 1] > d)
		{
			best[pos] = best[pos - 1];
			nn[pos] = nn[pos - 1];
			pos--;
		}
		best[pos] = d;
		nn[pos] = rows[r];
	}
	return found;
}

/* SMOTE: need new rows of a class, each between a random row and one of its k nearest */
static void
mlc_smote_class(const double *X, int p, const int64 *rows, int64 m, int64 need,
				pg_prng_state *rng, double *Xo, int32 *yo, int64 o, int32 c)
{
	int64		nn[MLC_SMOTE_NEIGHBORS];
	int			k = (int) Min((int64) MLC_SMOTE_NEIGHBORS, m - 1);

	for (int64 s = 0; s < need; s++)
	{
		int64		i = rows[pg_prng_uint64_range(rng, 0, (uint64) (m - 1))];
		int			found;
		int64		j;
		double		u;

		CHECK_FOR_INTERRUPTS();
		found = mlc_nearest(X, p, i, rows, m, k, nn);
		j = nn[pg_prng_uint64_range(rng, 0, (uint64) (found - 1))];
		u = pg_prng_double(rng);
		for (int f = 0; f < p; f++)
			Xo[(o + s) * p + f] = X[i * p + f] + u * (X[j * p + f] - X[i * p + f]);
		yo[o + s] = c;
	}
}

/* Check every class can be resampled: present, and with 2 rows for SMOTE */
static void
mlc_check_classes(int method, const int64 *start, int K, char **class_names)
{
	for (int c = 0; c < K; c++)
	{
		int64		m = start[c + 1] - start[c];

		if (m == 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("class \"%s\" has no training rows to resample", class_names[c]),
					 errhint("Use a stratified split, or train on more rows of that class.")));
		if (method == MLC_SAMPLING_SMOTE && m < 2)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("sampling 'smote' needs at least 2 training rows of each class, and \"%s\" has 1",
							class_names[c]),
					 errhint("Use sampling => 'oversample', or train on more rows of that class.")));
	}
}

int64
mlc_resample(int method, const double *X, const int32 *y, int64 n, int p, int K, int seed,
			 char **class_names, double **Xout, int32 **yout)
{
	int64	   *start = palloc(sizeof(int64) * (K + 1));
	int64	   *idx = palloc(sizeof(int64) * Max(n, 1));
	int64		lo = PG_INT64_MAX,
				hi = 0,
				total,
				o = 0;
	pg_prng_state rng;

	mlc_group_by_class(y, n, K, start, idx);
	mlc_check_classes(method, start, K, class_names);
	for (int c = 0; c < K; c++)
	{
		lo = Min(lo, start[c + 1] - start[c]);
		hi = Max(hi, start[c + 1] - start[c]);
	}
	total = (method == MLC_SAMPLING_UNDERSAMPLE ? lo : hi) * K;
	mlc_check_memory((Size) total * (sizeof(double) * p + sizeof(int32)), "resampled training rows");
	*Xout = palloc(sizeof(double) * Max(total * p, 1));
	*yout = palloc(sizeof(int32) * Max(total, 1));
	mlc_split_rng(&rng, seed + 3);
	for (int c = 0; c < K; c++)
	{
		int64	   *rows = idx + start[c];
		int64		m = start[c + 1] - start[c];

		if (method == MLC_SAMPLING_UNDERSAMPLE)
		{
			/* a seeded partial shuffle keeps lo rows of the class */
			for (int64 i = 0; i < lo; i++)
			{
				int64		j = i + (int64) pg_prng_uint64_range(&rng, 0, (uint64) (m - 1 - i));
				int64		t = rows[i];

				rows[i] = rows[j];
				rows[j] = t;
				mlc_copy_row(X, y, p, rows[i], *Xout, *yout, o++);
			}
			continue;
		}
		for (int64 i = 0; i < m; i++)
			mlc_copy_row(X, y, p, rows[i], *Xout, *yout, o++);
		if (method == MLC_SAMPLING_SMOTE)
			mlc_smote_class(X, p, rows, m, hi - m, &rng, *Xout, *yout, o, c);
		else
			for (int64 s = 0; s < hi - m; s++)
				mlc_copy_row(X, y, p, rows[pg_prng_uint64_range(&rng, 0, (uint64) (m - 1))],
							 *Xout, *yout, o + s);
		o += hi - m;
	}
	pfree(start);
	pfree(idx);
	return total;
}
