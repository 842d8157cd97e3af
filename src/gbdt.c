/*
 * gbdt.c
 *	  Histogram gradient boosting (algorithm 'gbdt'): squared error,
 *	  logistic and softmax objectives with XGBoost's second-order split gain,
 *	  row and feature subsampling, and early stopping on a seeded validation
 *	  part of the training rows.  The trees are grown by tree.c.
 */
#include "postgres.h"

#include <math.h>

#include "lib/stringinfo.h"
#include "miscadmin.h"

#include "mlcycle.h"
#include "tree_grow.h"

/* Everything a boosting run keeps */
typedef struct MlcBoost
{
	const MlcTreeData *d;
	const MlcTreeParams *p;
	int			K;				/* trees per iteration (classes for softmax, else 1) */
	double	   *F;				/* n x K margins */
	double	   *gp;				/* n x K x 3: gradient, hessian, weight */
	bool	   *valid;			/* rows held out for early stopping, or NULL */
	int64		nvalid;
} MlcBoost;

/* Starting margins: mean target, log-odds of the positive rate, 0 for softmax */
static void
mlc_boost_base(const MlcBoost *bs, double *base)
{
	const MlcTreeData *d = bs->d;
	double		s = 0;
	int64		n = 0;

	for (int k = 0; k < bs->K; k++)
		base[k] = 0.0;
	if (bs->K > 1)
		return;
	for (int64 i = 0; i < d->n; i++)
		if (bs->valid == NULL || !bs->valid[i])
		{
			s += d->y ? d->y[i] : (double) d->cls[i];
			n++;
		}
	s /= (double) Max(n, 1);
	if (d->y)
		base[0] = s;
	else
	{
		s = Min(Max(s, 1e-6), 1 - 1e-6);
		base[0] = log(s / (1 - s));
	}
}

/* Gradient and hessian of every row and class from the margins */
static void
mlc_boost_gradients(MlcBoost *bs)
{
	const MlcTreeData *d = bs->d;
	int			K = bs->K;

	for (int64 i = 0; i < d->n; i++)
	{
		const double *f = bs->F + i * K;
		double	   *g = bs->gp + i * K * 3;

		if ((i & 0xFFFF) == 0xFFFF)
			CHECK_FOR_INTERRUPTS();
		if (d->y)
		{
			g[0] = f[0] - d->y[i];
			g[1] = 1.0;
		}
		else if (K == 1)
		{
			double		pr = 1.0 / (1.0 + exp(-f[0]));

			g[0] = pr - (double) d->cls[i];
			g[1] = Max(pr * (1.0 - pr), 1e-16);
		}
		else
		{
			double		mx = -INFINITY,
						sum = 0;

			for (int k = 0; k < K; k++)
				mx = Max(mx, f[k]);
			for (int k = 0; k < K; k++)
				sum += exp(f[k] - mx);
			for (int k = 0; k < K; k++)
			{
				double		pr = exp(f[k] - mx) / sum;

				g[k * 3] = pr - (d->cls[i] == k ? 1.0 : 0.0);
				g[k * 3 + 1] = Max(2.0 * pr * (1.0 - pr), 1e-16);
			}
		}
		for (int k = 0; k < K; k++)
			g[k * 3 + 2] = 1.0;
	}
}

/* Objective loss on the validation rows: RMSE, log loss or multiclass log loss */
static double
mlc_boost_valid_loss(const MlcBoost *bs)
{
	const MlcTreeData *d = bs->d;
	int			K = bs->K;
	double		s = 0;

	for (int64 i = 0; i < d->n; i++)
	{
		const double *f = bs->F + i * K;

		if (!bs->valid[i])
			continue;
		if (d->y)
			s += (f[0] - d->y[i]) * (f[0] - d->y[i]);
		else if (K == 1)
		{
			/* log(1 + exp(-z)) for the true side, stably */
			double		z = d->cls[i] ? f[0] : -f[0];

			s += z > 0 ? log1p(exp(-z)) : -z + log1p(exp(z));
		}
		else
		{
			double		mx = -INFINITY,
						sum = 0;

			for (int k = 0; k < K; k++)
				mx = Max(mx, f[k]);
			for (int k = 0; k < K; k++)
				sum += exp(f[k] - mx);
			s += log(sum) + mx - f[d->cls[i]];
		}
	}
	s /= (double) Max(bs->nvalid, 1);
	return d->y ? sqrt(s) : s;
}

/* Rows held out for early stopping: a seeded validation_fraction of the training rows */
static void
mlc_boost_holdout(MlcBoost *bs)
{
	pg_prng_state rng;
	int64		n = bs->d->n;

	bs->valid = palloc0(sizeof(bool) * Max(n, 1));
	mlc_tree_prng(&rng, bs->p->seed, 2);
	for (int64 i = 0; i < n; i++)
		if (pg_prng_double(&rng) < bs->p->validation_fraction)
		{
			bs->valid[i] = true;
			bs->nvalid++;
		}
	if (bs->nvalid == 0 || bs->nvalid == n)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("early stopping needs both validation and fitting rows, and " INT64_FORMAT
						" training rows with validation_fraction %g give %s",
						n, bs->p->validation_fraction, bs->nvalid == 0 ? "no validation row" : "no fitting row"),
				 errhint("Train on more rows, change validation_fraction, or set early_stopping_rounds to 0.")));
}

/* The features tree t may use (colsample_bytree), or NULL for all */
static bool *
mlc_boost_features(const MlcTreeParams *p, int nfeat, pg_prng_state *rng, bool *mask)
{
	int			k = (int) floor(p->colsample_bytree * nfeat + 0.5);
	int		   *perm;

	if (p->colsample_bytree >= 1.0 || nfeat == 0)
		return NULL;
	k = Max(k, 1);
	perm = palloc(sizeof(int) * nfeat);
	for (int f = 0; f < nfeat; f++)
		perm[f] = f;
	memset(mask, 0, sizeof(bool) * nfeat);
	for (int i = 0; i < k; i++)
	{
		int			j = i + (int) pg_prng_uint64_range(rng, 0, (uint64) (nfeat - 1 - i));
		int			t = perm[i];

		perm[i] = perm[j];
		perm[j] = t;
		mask[perm[i]] = true;
	}
	pfree(perm);
	return mask;
}

/* Fit gradient-boosted trees; the trees go to m->learner_params */
char *
mlc_fit_gbdt(MlcModel *m, const MlcTreeData *d, const MlcTreeParams *p)
{
	MlcBoost	bs;
	MlcBins    *B;
	MlcGrower	g;
	MlcFlat		fl;
	double	   *base;
	bool	   *mask = palloc(sizeof(bool) * Max(m->nfeatures, 1));
	bool	   *in_tree = palloc(sizeof(bool) * Max(d->n, 1));
	pg_prng_state rng;
	double		best_loss = INFINITY,
				loss = NAN;
	int			best_it = -1,
				it;
	StringInfoData info;

	memset(&bs, 0, sizeof(bs));
	bs.d = d;
	bs.p = p;
	bs.K = (d->y == NULL && d->nclasses > 2) ? d->nclasses : 1;
	if (d->n >= PG_INT32_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("tree learners train on at most %d rows", PG_INT32_MAX - 1),
				 errhint("Train on a sample of the rows.")));
	B = mlc_bins_build(d, p->max_bin, p->seed);
	mlc_check_memory(sizeof(double) * (Size) d->n * bs.K * 4, "boosting margins and gradients");
	bs.F = mlc_alloc_large(sizeof(double) * (Size) Max(d->n, 1) * bs.K);
	bs.gp = mlc_alloc_large(sizeof(double) * (Size) Max(d->n, 1) * bs.K * 3);
	if (p->early_stopping_rounds > 0)
		mlc_boost_holdout(&bs);
	base = palloc(sizeof(double) * bs.K);
	mlc_boost_base(&bs, base);
	for (int64 i = 0; i < d->n; i++)
		for (int k = 0; k < bs.K; k++)
			bs.F[i * bs.K + k] = base[k];

	mlc_grower_init(&g, B, 1, d->n);
	g.gstride = bs.K * 3;
	g.lr = p->learning_rate;
	g.lambda = p->reg_lambda;
	g.alpha = p->reg_alpha;
	g.min_child_weight = p->min_child_weight;
	g.min_samples_leaf = p->min_samples_leaf;
	g.min_gain = p->min_split_gain;
	g.max_depth = p->max_depth;
	g.max_leaves = p->max_leaves;
	g.rng = &rng;
	mlc_flat_init(&fl, 1);
	mlc_tree_prng(&rng, p->seed, 3);

	for (it = 0; it < p->n_estimators; it++)
	{
		CHECK_FOR_INTERRUPTS();
		mlc_boost_gradients(&bs);
		/* the rows of this iteration: fitting rows, subsampled */
		g.nidx = 0;
		for (int64 i = 0; i < d->n; i++)
		{
			in_tree[i] = (bs.valid == NULL || !bs.valid[i]) &&
				(p->subsample >= 1.0 || pg_prng_double(&rng) < p->subsample);
			if (in_tree[i])
				g.idx[g.nidx++] = (int32) i;
		}
		if (g.nidx == 0)
			continue;
		for (int k = 0; k < bs.K; k++)
		{
			g.gp = bs.gp + k * 3;
			g.feat_allowed = mlc_boost_features(p, m->nfeatures, &rng, mask);
			mlc_grow_tree(&g);
			mlc_flat_add(&fl, &g, k);
			/* update the margins: rows in the tree by leaf, the others by traversal */
			for (int l = 0; l < g.nleaves; l++)
				for (int64 i = g.leaf_begin[l]; i < g.leaf_end[l]; i++)
					bs.F[(int64) g.idx[i] * bs.K + k] += g.leafvals[l];
			for (int64 i = 0; i < d->n; i++)
				if (!in_tree[i])
					bs.F[i * bs.K + k] += g.leafvals[mlc_grown_leaf(&g, i)];
		}
		if (bs.valid)
		{
			loss = mlc_boost_valid_loss(&bs);
			if (loss < best_loss)
			{
				best_loss = loss;
				best_it = it;
			}
			else if (it - best_it >= p->early_stopping_rounds)
				break;
		}
	}
	if (bs.valid && best_it >= 0)
		mlc_flat_truncate(&fl, (best_it + 1) * bs.K);
	if (fl.ntrees == 0)
	{
		/* no rows were ever sampled: one leaf of value 0 per class */
		g.nidx = 0;
		for (int k = 0; k < bs.K; k++)
		{
			g.gp = bs.gp;
			mlc_grow_tree(&g);
			mlc_flat_add(&fl, &g, k);
		}
	}
	mlc_flat_store(m, &fl, bs.K, MLC_TREE_COMBINE_SUM, base);
	initStringInfo(&info);
	appendStringInfo(&info, "{\"trees\": %d, \"iterations\": %d", fl.ntrees, fl.ntrees / bs.K);
	if (bs.valid)
		appendStringInfo(&info, ", \"best_iteration\": %d, \"validation_rows\": " INT64_FORMAT
						 ", \"validation_%s\": %.17g", best_it + 1, bs.nvalid,
						 d->y ? "rmse" : "log_loss", best_loss);
	appendStringInfoChar(&info, '}');
	return info.data;
}
