/*
 * profile.c
 *	  Reference profiles computed at training time: per raw input column
 *	  (moments, PSI deciles with bin counts, a seeded sample for KS, or the
 *	  most frequent categories) and for the model's output on the test rows.
 */
#include "postgres.h"

#include <math.h>

#include "miscadmin.h"

#include "drift_stats.h"
#include "mlcycle.h"
#include "predict.h"
#include "preprocess.h"
#include "profile.h"
#include "split.h"

int			mlc_reference_sample_size = 10000;

/* Seed the profile PRNG: derived from the training seed, apart from the split's */
void
mlc_profile_rng(pg_prng_state *rng, int seed)
{
	pg_prng_seed(rng, (uint64) (uint32) seed * UINT64CONST(0x9E3779B97F4A7C15) + UINT64CONST(0x70726f66696c6573));
}

/* The score one prediction contributes to the output profile */
double
mlc_profile_score(const MlcModel *m, const double *out)
{
	double		best;

	if (m->task == MLC_TASK_REGRESSION)
		return out[0];
	if (m->nclasses == 2)
		return out[m->positive_class];
	best = out[0];
	for (int k = 1; k < m->nclasses; k++)
		best = Max(best, out[k]);
	return best;
}

/* qsort comparator of doubles */
static int
cmp_double(const void *a, const void *b)
{
	double		x = *(const double *) a;
	double		y = *(const double *) b;

	return x < y ? -1 : (x > y ? 1 : 0);
}

/*
 * Copy k of the n values, chosen uniformly, sorted: a reservoir filled by
 * Algorithm L, which draws random numbers only for the values it takes.
 */
static double *
select_sample(const double *v, int64 n, int64 k, pg_prng_state *rng)
{
	double	   *s = palloc(sizeof(double) * Max(k, 1));
	double		w = 1.0;
	int64		i;

	memcpy(s, v, sizeof(double) * Min(n, k));
	for (i = k; i < n;)
	{
		CHECK_FOR_INTERRUPTS();
		w *= exp(log(1.0 - pg_prng_double(rng)) / (double) k);
		i += (int64) floor(log(1.0 - pg_prng_double(rng)) / log1p(-w));
		if (i < n)
			s[pg_prng_uint64_range(rng, 0, (uint64) k - 1)] = v[i++];
	}
	qsort(s, Min(n, k), sizeof(double), cmp_double);
	return s;
}


/*
 * PSI edges (numpy linear quantiles at k/10, duplicates merged, as
 * mlc_psi_edges computes them on sorted values) and bin counts of the n
 * values v, without sorting them: the order statistics the quantiles need
 * are selected in ascending order, each search starting where the last one
 * left the array partitioned.
 */
static void
profile_bins(MlcProfile *p, double *v, int64 n)
{
	double		edges[MLC_PROFILE_BINS];
	int64		from = 0;
	int			ne = 0;

	p->edges = palloc(sizeof(double) * MLC_PROFILE_BINS);
	p->nedges = 0;
	for (int k = 1; k < MLC_PROFILE_BINS && n > 0; k++)
	{
		double		vi = (double) (n - 1) * (double) k / (double) MLC_PROFILE_BINS;
		int64		i = (int64) floor(vi);
		double		a = mlc_select_kth(v, from, n - 1, i);
		double		b = a;

		if (i + 1 < n && vi > (double) i)
			b = mlc_select_kth(v, i + 1, n - 1, i + 1);
		edges[k - 1] = (vi > (double) i) ? mlc_interpolate_linear(a, b, vi - (double) i) : a;
		from = i;
	}
	for (int k = 0; k < MLC_PROFILE_BINS - 1 && n > 0; k++)
		if (ne == 0 || edges[k] != p->edges[ne - 1])
			p->edges[ne++] = edges[k];
	p->nedges = ne;
	p->bins = palloc0(sizeof(int64) * (ne + 1));
	/* a value's bin is the number of edges strictly below it */
	for (int64 i = 0; i < n; i++)
	{
		int			bin = 0;

		while (bin < ne && p->edges[bin] < v[i])
			bin++;
		p->bins[bin]++;
	}
	p->nbinned = n;
}

/* Numeric profile of the n non-NULL values v (reordered in place) of count rows */
void
mlc_profile_numeric(MlcProfile *p, double *v, int64 n, int64 count, pg_prng_state *rng)
{
	double		sum = 0.0;
	int64		k = Min(n, (int64) mlc_reference_sample_size);

	memset(p, 0, sizeof(*p));
	p->kind = MLC_PROFILE_NUMERIC;
	p->count = count;
	p->nulls = count - n;
	if (n > 0)
	{
		p->min = p->max = v[0];
		for (int64 i = 0; i < n; i++)
		{
			sum += v[i];
			p->min = Min(p->min, v[i]);
			p->max = Max(p->max, v[i]);
		}
		p->mean = sum / (double) n;
		p->std = mlc_std_population(v, n);
	}
	/* the sample first: the quantile search below reorders v */
	p->nsample = (int32) k;
	p->sample = select_sample(v, n, k, rng);
	profile_bins(p, v, n);
}

/* Category counts sorted most frequent first, ties by value */
static const char *const *cat_sort_dict;
static const int64 *cat_sort_counts;

static int
cmp_category(const void *a, const void *b)
{
	int32		x = *(const int32 *) a;
	int32		y = *(const int32 *) b;

	if (cat_sort_counts[x] != cat_sort_counts[y])
		return cat_sort_counts[x] > cat_sort_counts[y] ? -1 : 1;
	return strcmp(cat_sort_dict[x], cat_sort_dict[y]);
}

/* Categorical profile of the given rows of a raw column */
static void
profile_categorical(MlcProfile *p, const MlcRawColumn *col, const int64 *rows, int64 n)
{
	int64	   *counts = palloc0(sizeof(int64) * Max(col->ndict, 1));
	int32	   *order = palloc(sizeof(int32) * Max(col->ndict, 1));
	int32		nseen = 0;

	memset(p, 0, sizeof(*p));
	p->kind = MLC_PROFILE_CATEGORICAL;
	p->count = n;
	for (int64 i = 0; i < n; i++)
	{
		int32		code = col->codes[rows[i]];

		if (code < 0)
			p->nulls++;
		else
			counts[code]++;
	}
	for (int32 c = 0; c < col->ndict; c++)
		if (counts[c] > 0)
			order[nseen++] = c;
	cat_sort_dict = (const char *const *) col->dict;
	cat_sort_counts = counts;
	qsort(order, nseen, sizeof(int32), cmp_category);
	p->ncats = Min(nseen, MLC_PROFILE_TOP);
	p->cats = palloc(sizeof(char *) * Max(p->ncats, 1));
	p->cat_counts = palloc(sizeof(int64) * Max(p->ncats, 1));
	for (int32 k = 0; k < nseen; k++)
	{
		if (k < p->ncats)
		{
			p->cats[k] = pstrdup(col->dict[order[k]]);
			p->cat_counts[k] = counts[order[k]];
		}
		else
			p->other += counts[order[k]];
	}
	pfree(counts);
	pfree(order);
}

/* Profiles of every column from the training rows of ds */
void
mlc_profile_columns(MlcModel *m, MlcDataset *ds, const int64 *rows, int64 n, int seed)
{
	pg_prng_state rng;
	double	   *v = mlc_alloc_large(sizeof(double) * Max(n, 1));

	mlc_profile_rng(&rng, seed);
	m->profiles = palloc0(sizeof(MlcProfile) * (m->ncolumns + 1));
	for (int j = 0; j < m->ncolumns; j++)
	{
		const MlcRawColumn *col = &ds->cols[j];

		CHECK_FOR_INTERRUPTS();
		if (m->columns[j].kind == MLC_KIND_CATEGORICAL)
			profile_categorical(&m->profiles[j], col, rows, n);
		else
		{
			int64		k = 0;

			for (int64 i = 0; i < n; i++)
				if (!isnan(col->values[rows[i]]))
					v[k++] = col->values[rows[i]];
			mlc_profile_numeric(&m->profiles[j], v, k, n, &rng);
		}
	}
	pfree(v);
}

/* Profile of the model's scores from its n predictions (n x width, as mlc_predict_features writes them) */
void
mlc_profile_output(MlcModel *m, const double *out, int64 n, int seed)
{
	int			width = m->task == MLC_TASK_REGRESSION ? 1 : m->nclasses;
	double	   *scores = mlc_alloc_large(sizeof(double) * Max(n, 1));
	pg_prng_state rng;

	mlc_profile_rng(&rng, seed + 1);
	for (int64 i = 0; i < n; i++)
		scores[i] = mlc_profile_score(m, out + i * width);
	mlc_profile_numeric(&m->profiles[m->ncolumns], scores, n, n, &rng);
	pfree(scores);
}

/* Next row (1-based count) Algorithm L takes into the reservoir, updating its weight */
static void
acc_skip(MlcProfileAcc *a)
{
	/* draws in (0, 1]: log of 0 must not happen */
	a->w *= exp(log(1.0 - pg_prng_double(&a->rng)) / (double) a->cap);
	a->next += (int64) floor(log(1.0 - pg_prng_double(&a->rng)) / log1p(-a->w)) + 1;
}

/* A streaming accumulator for p numeric columns */
MlcProfileAcc *
mlc_profile_acc_create(int p, int seed)
{
	MlcProfileAcc *a = palloc0(sizeof(MlcProfileAcc));

	a->p = p;
	a->cap = Max(mlc_reference_sample_size, 1);
	mlc_profile_rng(&a->rng, seed);
	a->nulls = palloc0(sizeof(int64) * Max(p, 1));
	a->mean = palloc0(sizeof(double) * Max(p, 1));
	a->std = palloc0(sizeof(double) * Max(p, 1));
	a->min = palloc(sizeof(double) * Max(p, 1));
	a->max = palloc(sizeof(double) * Max(p, 1));
	for (int j = 0; j < p; j++)
	{
		a->min[j] = INFINITY;
		a->max[j] = -INFINITY;
	}
	a->rows = mlc_alloc_large(sizeof(double) * a->cap * Max(p, 1));
	a->w = 1.0;
	a->next = a->cap;
	acc_skip(a);
	return a;
}

/*
 * Add one training row: exact moments, and a reservoir sample of rows
 * (Algorithm L: random draws only for the rows it takes).
 */
void
mlc_profile_acc_add(MlcProfileAcc *a, const double *raw, bool has_null)
{
	double	   *slot = NULL;

	a->count++;
	if (a->count <= a->cap)
		slot = a->rows + (a->count - 1) * a->p;
	else if (a->count == a->next)
	{
		slot = a->rows + pg_prng_uint64_range(&a->rng, 0, (uint64) a->cap - 1) * a->p;
		acc_skip(a);
	}
	if (slot)
		memcpy(slot, raw, sizeof(double) * a->p);
	if (!has_null)
	{
		/* the common case, without branches: min and max start at +/- infinity */
		for (int j = 0; j < a->p; j++)
		{
			a->min[j] = Min(a->min[j], raw[j]);
			a->max[j] = Max(a->max[j], raw[j]);
		}
		return;
	}
	for (int j = 0; j < a->p; j++)
	{
		if (isnan(raw[j]))
			a->nulls[j]++;
		else
		{
			a->min[j] = Min(a->min[j], raw[j]);
			a->max[j] = Max(a->max[j], raw[j]);
		}
	}
}

/* The exact mean and population std of column j's values, from the caller's statistics */
void
mlc_profile_acc_set_moments(MlcProfileAcc *a, int j, double mean, double std)
{
	a->mean[j] = mean;
	a->std[j] = std;
}

/* The column profiles: exact moments; deciles, bins and the KS sample from the row reservoir */
void
mlc_profile_acc_finish(MlcProfileAcc *a, MlcModel *m)
{
	int64		nrows = Min(a->count, (int64) a->cap);
	double	   *v = palloc(sizeof(double) * Max(nrows, 1));

	m->profiles = palloc0(sizeof(MlcProfile) * (m->ncolumns + 1));
	for (int j = 0; j < a->p; j++)
	{
		MlcProfile *p = &m->profiles[j];
		int64		k = 0;

		for (int64 r = 0; r < nrows; r++)
			if (!isnan(a->rows[r * a->p + j]))
				v[k++] = a->rows[r * a->p + j];
		p->kind = MLC_PROFILE_NUMERIC;
		p->count = a->count;
		p->nulls = a->nulls[j];
		if (a->count - a->nulls[j] > 0)
		{
			p->mean = a->mean[j];
			p->std = a->std[j];
			p->min = a->min[j];
			p->max = a->max[j];
		}
		/* every sampled value is in the sample: it is the reservoir, sorted */
		p->nsample = (int32) k;
		p->sample = palloc(sizeof(double) * Max(k, 1));
		memcpy(p->sample, v, sizeof(double) * k);
		qsort(p->sample, k, sizeof(double), cmp_double);
		profile_bins(p, v, k);
	}
	pfree(v);
}
