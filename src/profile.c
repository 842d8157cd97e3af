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

/* Copy k of the n sorted values, chosen uniformly (Knuth's selection sampling), kept sorted */
static double *
select_sample(const double *v, int64 n, int64 k, pg_prng_state *rng)
{
	double	   *s = palloc(sizeof(double) * Max(k, 1));
	int64		taken = 0;

	for (int64 i = 0; i < n && taken < k; i++)
	{
		if ((i & 0xFFFF) == 0)
			CHECK_FOR_INTERRUPTS();
		if ((double) (n - i) * pg_prng_double(rng) < (double) (k - taken))
			s[taken++] = v[i];
	}
	Assert(taken == k);
	return s;
}

/* PSI edges and bin counts of sorted values */
static void
profile_bins(MlcProfile *p, const double *sorted, int64 n)
{
	p->edges = palloc(sizeof(double) * MLC_PROFILE_BINS);
	p->nedges = n > 0 ? mlc_psi_edges(sorted, n, MLC_PROFILE_BINS, p->edges) : 0;
	p->bins = palloc0(sizeof(int64) * (p->nedges + 1));
	if (n > 0)
		mlc_psi_bin_counts(sorted, n, p->edges, p->nedges, p->bins);
	p->nbinned = n;
}

/* Numeric profile of the n non-NULL values v (sorted in place) of count rows */
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
		qsort(v, n, sizeof(double), cmp_double);
		for (int64 i = 0; i < n; i++)
			sum += v[i];
		p->mean = sum / (double) n;
		p->std = mlc_std_population(v, n);
		p->min = v[0];
		p->max = v[n - 1];
	}
	profile_bins(p, v, n);
	p->nsample = (int32) k;
	if (k == n)
	{
		p->sample = palloc(sizeof(double) * Max(n, 1));
		memcpy(p->sample, v, sizeof(double) * n);
	}
	else
		p->sample = select_sample(v, n, k, rng);
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

/* Profile of the model's scores on rows of ds */
void
mlc_profile_output(MlcModel *m, MlcDataset *ds, const int64 *rows, int64 n, int seed)
{
	int			width = m->task == MLC_TASK_REGRESSION ? 1 : m->nclasses;
	int			block = 1024;
	double	   *x = palloc(sizeof(double) * block * Max(m->nfeatures, 1));
	double	   *out = palloc(sizeof(double) * width);
	double	   *scores = mlc_alloc_large(sizeof(double) * Max(n, 1));
	MlcTransformer t;
	pg_prng_state rng;

	mlc_profile_rng(&rng, seed + 1);
	mlc_transformer_init(&t, m, ds);
	for (int64 start = 0; start < n; start += block)
	{
		int			nb = (int) Min((int64) block, n - start);

		CHECK_FOR_INTERRUPTS();
		mlc_transform_rows(&t, rows + start, nb, x, m->nfeatures);
		for (int i = 0; i < nb; i++)
		{
			mlc_predict_features(m, x + (Size) i * m->nfeatures, out);
			scores[start + i] = mlc_profile_score(m, out);
		}
	}
	mlc_profile_numeric(&m->profiles[m->ncolumns], scores, n, n, &rng);
	pfree(x);
	pfree(out);
	pfree(scores);
}

/* A streaming accumulator for p numeric columns */
MlcProfileAcc *
mlc_profile_acc_create(int p, int seed)
{
	MlcProfileAcc *a = palloc0(sizeof(MlcProfileAcc));

	a->p = p;
	a->cap = mlc_reference_sample_size;
	mlc_profile_rng(&a->rng, seed);
	a->nulls = palloc0(sizeof(int64) * Max(p, 1));
	a->nonnull = palloc0(sizeof(int64) * Max(p, 1));
	a->mean = palloc0(sizeof(double) * Max(p, 1));
	a->m2 = palloc0(sizeof(double) * Max(p, 1));
	a->min = palloc0(sizeof(double) * Max(p, 1));
	a->max = palloc0(sizeof(double) * Max(p, 1));
	a->reservoir = palloc(sizeof(double *) * Max(p, 1));
	for (int j = 0; j < p; j++)
		a->reservoir[j] = mlc_alloc_large(sizeof(double) * a->cap);
	return a;
}

/* Add one training row: exact moments, and a reservoir sample per column */
void
mlc_profile_acc_add(MlcProfileAcc *a, const double *raw)
{
	a->count++;
	for (int j = 0; j < a->p; j++)
	{
		double		v = raw[j];
		int64		k;
		double		d;

		if (isnan(v))
		{
			a->nulls[j]++;
			continue;
		}
		k = ++a->nonnull[j];
		d = v - a->mean[j];
		a->mean[j] += d / (double) k;
		a->m2[j] += d * (v - a->mean[j]);
		if (k == 1 || v < a->min[j])
			a->min[j] = v;
		if (k == 1 || v > a->max[j])
			a->max[j] = v;
		if (k <= a->cap)
			a->reservoir[j][k - 1] = v;
		else
		{
			uint64		r = pg_prng_uint64_range(&a->rng, 0, (uint64) k - 1);

			if (r < (uint64) a->cap)
				a->reservoir[j][r] = v;
		}
	}
}

/* The column profiles: exact moments, deciles and bins from the (sorted) reservoir */
void
mlc_profile_acc_finish(MlcProfileAcc *a, MlcModel *m)
{
	m->profiles = palloc0(sizeof(MlcProfile) * (m->ncolumns + 1));
	for (int j = 0; j < a->p; j++)
	{
		MlcProfile *p = &m->profiles[j];
		int64		k = Min(a->nonnull[j], (int64) a->cap);

		p->kind = MLC_PROFILE_NUMERIC;
		p->count = a->count;
		p->nulls = a->nulls[j];
		if (a->nonnull[j] > 0)
		{
			p->mean = a->mean[j];
			p->std = sqrt(Max(a->m2[j], 0.0) / (double) a->nonnull[j]);
			p->min = a->min[j];
			p->max = a->max[j];
		}
		qsort(a->reservoir[j], k, sizeof(double), cmp_double);
		profile_bins(p, a->reservoir[j], k);
		p->nsample = (int32) k;
		p->sample = a->reservoir[j];
	}
}
