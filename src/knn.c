/*
 * knn.c
 *	  k nearest neighbors (classification and regression) on the preprocessed
 *	  features: the model keeps the preprocessed training rows; scoring is a
 *	  brute-force scan with a bounded max-heap (partial selection of k) that
 *	  abandons a row once its partial distance exceeds the k-th nearest.
 */
#include "postgres.h"

#include <math.h>

#include "miscadmin.h"

#include "learners.h"
#include "mlcycle.h"

/* learner_params header values before the rows (see learners.h) */
#define KNN_HEADER	5

/*
 * Store the training rows: n x p features then n targets (class index or
 * value), behind the header n, p, k, weights, metric.
 */
void
mlc_fit_knn(MlcModel *m, const double *X, const double *y, int64 n, int n_neighbors,
			int weights, int metric)
{
	int			p = m->nfeatures;
	int64		nvals = KNN_HEADER + n * (int64) p + n;
	double	   *lp;

	if (n_neighbors > n)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("n_neighbors %d is more than the " INT64_FORMAT " training rows", n_neighbors, n),
				 errhint("Use n_neighbors of at most " INT64_FORMAT ", or train on more rows (a cross-validation fold holds fewer rows than the training set).", n)));
	if (nvals > MLC_MAX_LEARNER_PARAMS)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("a k-nearest-neighbors model of " INT64_FORMAT " rows with %d features is too large to store", n, p),
				 errdetail("It would hold " INT64_FORMAT " values; a model holds at most %d.", nvals, MLC_MAX_LEARNER_PARAMS),
				 errhint("Train on a sample of the rows, or exclude columns.")));
	mlc_check_memory(sizeof(double) * (Size) nvals, "k-nearest-neighbors model (its preprocessed training rows)");
	m->nlearner_params = nvals;
	m->learner_params = lp = mlc_alloc_large(sizeof(double) * (Size) nvals);
	lp[0] = (double) n;
	lp[1] = p;
	lp[2] = n_neighbors;
	lp[3] = weights;
	lp[4] = metric;
	memcpy(lp + KNN_HEADER, X, sizeof(double) * (Size) n * p);
	memcpy(lp + KNN_HEADER + n * (int64) p, y, sizeof(double) * (Size) n);
}

/* (distance, row) ordering: a before b */
static inline bool
knn_before(double da, int64 ia, double db, int64 ib)
{
	return da < db || (da == db && ia < ib);
}

/* Sift the root of a max-heap of size k down */
static void
knn_sift_down(double *d, int64 *idx, int k)
{
	int			i = 0;

	for (;;)
	{
		int			l = 2 * i + 1,
					r = l + 1,
					top = i;

		if (l < k && knn_before(d[top], idx[top], d[l], idx[l]))
			top = l;
		if (r < k && knn_before(d[top], idx[top], d[r], idx[r]))
			top = r;
		if (top == i)
			return;
		{
			double		td = d[i];
			int64		ti = idx[i];

			d[i] = d[top];
			idx[i] = idx[top];
			d[top] = td;
			idx[top] = ti;
		}
		i = top;
	}
}

/* Sift element i of a max-heap up */
static void
knn_sift_up(double *d, int64 *idx, int i)
{
	while (i > 0)
	{
		int			parent = (i - 1) / 2;

		if (!knn_before(d[parent], idx[parent], d[i], idx[i]))
			return;
		{
			double		td = d[i];
			int64		ti = idx[i];

			d[i] = d[parent];
			idx[i] = idx[parent];
			d[parent] = td;
			idx[parent] = ti;
		}
		i = parent;
	}
}

/*
 * Predict a preprocessed row: the k training rows nearest to x (ties in
 * distance go to the earlier training row), then the (1/distance-)weighted
 * mean, or per class the weighted share.  Cost: n * p per row.
 */
void
mlc_predict_knn(const MlcModel *m, const double *x, double *out)
{
	const double *lp = m->learner_params;
	int64		n = (int64) lp[0];
	int			p = (int) lp[1];
	int			k = (int) lp[2];
	bool		distance = lp[3] != 0;
	bool		manhattan = lp[4] != 0;
	const double *rows = lp + KNN_HEADER;
	const double *y = rows + n * (int64) p;
	double	   *hd = palloc(sizeof(double) * k);
	int64	   *hi = palloc(sizeof(int64) * k);
	int			size = 0;
	bool		exact = false;
	double		wsum = 0;
	int			width = m->task == MLC_TASK_REGRESSION ? 1 : m->nclasses;

	for (int64 i = 0; i < n; i++)
	{
		const double *r = rows + i * (int64) p;
		double		s = 0;

		if ((i & 4095) == 4095)
			CHECK_FOR_INTERRUPTS();

		/*
		 * Sum left to right; once k rows are held, stop as soon as the partial
		 * sum exceeds the farthest of them (the terms are never negative, so
		 * the row could not enter): the same neighbors, fewer operations.
		 */
		for (int j0 = 0; j0 < p; j0 += 8)
		{
			int			j1 = Min(j0 + 8, p);

			if (manhattan)
				for (int j = j0; j < j1; j++)
					s += fabs(x[j] - r[j]);
			else
				for (int j = j0; j < j1; j++)
					s += (x[j] - r[j]) * (x[j] - r[j]);
			if (size == k && s > hd[0])
				break;
		}
		if (size < k)
		{
			hd[size] = s;
			hi[size] = i;
			knn_sift_up(hd, hi, size++);
		}
		else if (s < hd[0])
		{
			hd[0] = s;
			hi[0] = i;
			knn_sift_down(hd, hi, k);
		}
	}
	for (int t = 0; t < k; t++)
	{
		if (!manhattan)
			hd[t] = sqrt(hd[t]);
		if (hd[t] == 0)
			exact = true;
	}
	for (int c = 0; c < width; c++)
		out[c] = 0;
	for (int t = 0; t < k; t++)
	{
		/* with distance weights, neighbors at distance 0 take all the weight (sklearn) */
		double		w = !distance ? 1.0 : exact ? (hd[t] == 0 ? 1.0 : 0.0) : 1.0 / hd[t];

		if (m->task == MLC_TASK_REGRESSION)
			out[0] += w * y[hi[t]];
		else
			out[(int) y[hi[t]]] += w;
		wsum += w;
	}
	for (int c = 0; c < width; c++)
		out[c] /= wsum;
	pfree(hd);
	pfree(hi);
}
