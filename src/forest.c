/*
 * forest.c
 *	  Random forests (bootstrap rows, max_features drawn per split, out-of-bag
 *	  score) and single CART decision trees, on tree.c's histograms: the
 *	  split gain is the weighted decrease of the squared error (regression) or
 *	  of the Gini impurity (classification, as the squared error of one-hot
 *	  class indicators), and the leaves hold the mean value or class shares.
 */
#include "postgres.h"

#include <math.h>

#include "lib/stringinfo.h"
#include "miscadmin.h"

#include "mlcycle.h"
#include "tree_grow.h"

/* Features drawn per split: a fraction of p, or sqrt (-1) / log2 (-2) as scikit-learn */
static int
mlc_forest_split_features(const MlcTreeParams *p, int nfeat)
{
	int			k;

	if (p->max_features == -1.0)
		k = (int) floor(sqrt((double) nfeat));
	else if (p->max_features == -2.0)
		k = (int) floor(log2((double) Max(nfeat, 1)));
	else
		k = (int) floor(p->max_features * nfeat + 0.5);
	return Min(Max(k, 1), Max(nfeat, 1));
}

/* Out-of-bag score: R^2 (regression) or accuracy (classification), NaN when no row is out of bag */
static double
mlc_forest_oob_score(const MlcTreeData *d, const double *sum, const int32 *cnt, int lw)
{
	int64		n = 0;
	double		mean = 0,
				ss = 0,
				se = 0,
				right = 0;

	for (int64 i = 0; i < d->n; i++)
		if (cnt[i] > 0)
		{
			n++;
			if (d->y)
				mean += d->y[i];
		}
	if (n == 0)
		return NAN;
	mean /= n;
	for (int64 i = 0; i < d->n; i++)
	{
		const double *s = sum + i * lw;

		if (cnt[i] == 0)
			continue;
		if (d->y)
		{
			double		e = d->y[i] - s[0] / cnt[i];

			se += e * e;
			ss += (d->y[i] - mean) * (d->y[i] - mean);
		}
		else if (lw == 1)
			right += ((s[0] / cnt[i] > 0.5) == (d->cls[i] == 1)) ? 1 : 0;
		else
		{
			int			best = 0;

			for (int k = 1; k < lw; k++)
				if (s[k] > s[best])
					best = k;
			right += best == d->cls[i] ? 1 : 0;
		}
	}
	if (d->y)
		return ss > 0 ? 1.0 - se / ss : NAN;
	return right / n;
}

/* Fit a random forest or a decision tree; the trees go to m->learner_params */
char *
mlc_fit_forest(MlcModel *m, const MlcTreeData *d, const MlcTreeParams *p)
{
	bool		multi = d->y == NULL && d->nclasses > 2;
	int			lw = multi ? d->nclasses : 1;
	MlcBins    *B;
	MlcGrower	g;
	MlcFlat		fl;
	double	   *gp = NULL,
			   *w,
			   *oob_sum = NULL,
			   *base = palloc0(sizeof(double) * lw);
	int32	   *oob_cnt = NULL;
	int32	   *bag = palloc(sizeof(int32) * Max(d->n, 1));
	pg_prng_state rng;
	StringInfoData info;
	double		oob = NAN;

	if (d->n >= PG_INT32_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("tree learners train on at most %d rows", PG_INT32_MAX - 1),
				 errhint("Train on a sample of the rows.")));
	B = mlc_bins_build(d, p->max_bin, p->seed);
	mlc_grower_init(&g, B, lw, d->n);
	mlc_check_memory(sizeof(double) * (Size) d->n * 4, "forest row weights");
	w = mlc_alloc_large(sizeof(double) * (Size) Max(d->n, 1));
	if (multi)
	{
		g.cls = d->cls;
		g.w = w;
	}
	else
	{
		gp = mlc_alloc_large(sizeof(double) * (Size) Max(d->n, 1) * 3);
		g.gp = gp;
		g.gstride = 3;
	}
	if (p->bootstrap)
	{
		mlc_check_memory(sizeof(double) * (Size) d->n * lw + sizeof(int32) * d->n, "out-of-bag predictions");
		oob_sum = mlc_alloc_large(sizeof(double) * (Size) Max(d->n, 1) * lw);
		oob_cnt = palloc0(sizeof(int32) * Max(d->n, 1));
		memset(oob_sum, 0, sizeof(double) * (Size) d->n * lw);
	}
	g.lr = 1.0;
	g.lambda = 0.0;
	g.min_child_weight = 0.0;
	g.min_samples_leaf = p->min_samples_leaf;
	g.min_gain = p->min_split_gain;
	g.max_depth = p->max_depth;
	g.max_leaves = p->max_leaves;
	g.split_features = mlc_forest_split_features(p, m->nfeatures);
	g.rng = &rng;
	mlc_flat_init(&fl, lw);
	mlc_tree_prng(&rng, p->seed, 4);

	for (int t = 0; t < p->n_estimators; t++)
	{
		CHECK_FOR_INTERRUPTS();
		/* bootstrap: n draws with replacement, as per-row counts */
		if (p->bootstrap)
		{
			memset(bag, 0, sizeof(int32) * d->n);
			for (int64 i = 0; i < d->n; i++)
				bag[pg_prng_uint64_range(&rng, 0, (uint64) (d->n - 1))]++;
		}
		g.nidx = 0;
		for (int64 i = 0; i < d->n; i++)
		{
			double		wi = p->bootstrap ? bag[i] : 1.0;

			w[i] = wi;
			if (!multi)
			{
				gp[i * 3] = -wi * (d->y ? d->y[i] : (double) d->cls[i]);
				gp[i * 3 + 1] = wi;
				gp[i * 3 + 2] = wi;
			}
			if (wi > 0)
				g.idx[g.nidx++] = (int32) i;
		}
		mlc_grow_tree(&g);
		mlc_flat_add(&fl, &g, 0);
		if (p->bootstrap)
			for (int64 i = 0; i < d->n; i++)
				if (bag[i] == 0)
				{
					const double *lv = g.leafvals + (int64) mlc_grown_leaf(&g, i) * lw;

					for (int k = 0; k < lw; k++)
						oob_sum[i * lw + k] += lv[k];
					oob_cnt[i]++;
				}
	}
	mlc_flat_store(m, &fl, 1, MLC_TREE_COMBINE_MEAN, base);
	initStringInfo(&info);
	appendStringInfo(&info, "{\"trees\": %d, \"max_features\": %d", fl.ntrees, g.split_features);
	if (p->bootstrap)
	{
		oob = mlc_forest_oob_score(d, oob_sum, oob_cnt, lw);
		appendStringInfo(&info, ", \"oob_%s\": ", d->y ? "r2" : "accuracy");
		if (isfinite(oob))
			appendStringInfo(&info, "%.17g", oob);
		else
			appendStringInfoString(&info, "null");
	}
	appendStringInfoChar(&info, '}');
	return info.data;
}
