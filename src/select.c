/*
 * select.c
 *	  Feature selection inside ml_train (select_features => ...): variance
 *	  threshold, maximum pairwise correlation and the k best features by
 *	  univariate F score, computed on the preprocessed training rows only.
 *	  The kept features become the model's feature projection (projection.c),
 *	  so the learner, of any kind, sees only them.
 */
#include "postgres.h"

#include <float.h>
#include <math.h>

#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/json.h"

#include "jsonutil.h"
#include "mlcycle.h"
#include "preprocess.h"
#include "projection.h"
#include "select.h"

#define MLC_SELECT_MAX_CORR_FEATURES 2000

/* The parsed select_features spec; negative means not given */
typedef struct MlcSelectSpec
{
	double		variance_threshold;
	double		max_correlation;
	int			k_best;
} MlcSelectSpec;

/* Parse the spec, with errors naming the valid keys */
static bool
mlc_select_parse(Jsonb *spec, MlcSelectSpec *s)
{
	static const char *const keys[] = {"variance_threshold", "max_correlation", "k_best", NULL};
	List	   *pairs = mlc_jsonb_pairs(spec, "select_features");
	ListCell   *lc;

	s->variance_threshold = -1;
	s->max_correlation = -1;
	s->k_best = -1;
	foreach(lc, pairs)
	{
		MlcJsonPair *p = lfirst(lc);
		double		v;

		switch (mlc_choose(p->key, keys, "select_features option"))
		{
			case 0:
				v = mlc_json_number(p, "select_features option");
				if (v < 0)
					ereport(ERROR,
							(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							 errmsg("variance_threshold must be zero or positive"),
							 errhint("Features whose training variance is at most the threshold are dropped; 0 drops constant features.")));
				s->variance_threshold = v;
				break;
			case 1:
				v = mlc_json_number(p, "select_features option");
				if (!(v > 0 && v <= 1))
					ereport(ERROR,
							(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							 errmsg("max_correlation must be greater than 0 and at most 1"),
							 errhint("Of two features whose absolute correlation exceeds it, the later one is dropped; try 0.95.")));
				s->max_correlation = v;
				break;
			case 2:
				v = mlc_json_number(p, "select_features option");
				if (v != floor(v) || v < 1 || v > MLC_MAX_FEATURES)
					ereport(ERROR,
							(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							 errmsg("k_best must be a positive integer"),
							 errhint("Write it as {\"k_best\": 10}.")));
				s->k_best = (int) v;
				break;
		}
	}
	return list_length(pairs) > 0;
}

/* Sums over the training rows: per feature, per class, and the cross-products */
typedef struct MlcSelectStats
{
	int			p;
	int			K;				/* classes (0: regression) */
	double		n;
	double	   *sum;			/* p */
	double	   *ss;				/* p x p cross-products (diagonal only when no correlation) */
	double	   *sy;				/* p: sum x y (regression) */
	double		ysum,
				yss;
	double	   *csum;			/* K x p: per-class sums (classification) */
	double	   *css;			/* K x p: per-class sums of squares */
	double	   *cn;				/* K */
	bool		cross;
} MlcSelectStats;

/*
 * The mean of each preprocessed feature over its present values, or NULL when
 * no column keeps NULL as missing (impute 'none', tree learners): the
 * statistics then see a missing value as its feature's mean
 */
static double *
mlc_select_missing_fill(const MlcModel *m, MlcDataset *ds, const int64 *rows, int64 n, int p)
{
	bool		missing = false;
	int			block = 1024;
	double	   *x,
			   *sum,
			   *cnt;
	MlcTransformer t;

	for (int j = 0; j < m->ncolumns; j++)
		missing |= m->columns[j].impute == MLC_IMPUTE_NONE;
	if (!missing)
		return NULL;
	x = palloc(sizeof(double) * block * Max(p, 1));
	sum = palloc0(sizeof(double) * Max(p, 1));
	cnt = palloc0(sizeof(double) * Max(p, 1));
	mlc_transformer_init(&t, m, ds);
	for (int64 start = 0; start < n; start += block)
	{
		int			nb = (int) Min((int64) block, n - start);

		CHECK_FOR_INTERRUPTS();
		mlc_transform_rows_input(&t, rows + start, nb, x, p);
		for (Size i = 0; i < (Size) nb * p; i++)
			if (!isnan(x[i]))
			{
				sum[i % p] += x[i];
				cnt[i % p] += 1;
			}
	}
	for (int j = 0; j < p; j++)
		sum[j] = cnt[j] > 0 ? sum[j] / cnt[j] : 0.0;
	pfree(x);
	pfree(cnt);
	return sum;
}

/* Accumulate the preprocessed training rows, a block at a time */
static void
mlc_select_accumulate(MlcSelectStats *st, const MlcModel *m, MlcDataset *ds, const int64 *rows,
					  int64 n, const double *yreg, const int32 *ycls)
{
	int			p = st->p;
	int			block = 1024;
	double	   *x = palloc(sizeof(double) * block * Max(p, 1));
	double	   *fill = mlc_select_missing_fill(m, ds, rows, n, p);
	MlcTransformer t;

	mlc_transformer_init(&t, m, ds);
	for (int64 start = 0; start < n; start += block)
	{
		int			nb = (int) Min((int64) block, n - start);

		CHECK_FOR_INTERRUPTS();
		mlc_transform_rows_input(&t, rows + start, nb, x, p);
		if (fill != NULL)
			for (Size i = 0; i < (Size) nb * p; i++)
				if (isnan(x[i]))
					x[i] = fill[i % p];
		for (int i = 0; i < nb; i++)
		{
			const double *r = x + (Size) i * p;
			int64		row = rows[start + i];

			st->n += 1;
			for (int j = 0; j < p; j++)
			{
				st->sum[j] += r[j];
				if (st->cross)
					for (int k = 0; k <= j; k++)
						st->ss[(Size) j * p + k] += r[j] * r[k];
				else
					st->ss[(Size) j * p + j] += r[j] * r[j];
			}
			if (ycls == NULL)
			{
				double		y = yreg[row];

				st->ysum += y;
				st->yss += y * y;
				for (int j = 0; j < p; j++)
					st->sy[j] += r[j] * y;
			}
			else
			{
				int32		c = ycls[row];

				st->cn[c] += 1;
				for (int j = 0; j < p; j++)
				{
					st->csum[(Size) c * p + j] += r[j];
					st->css[(Size) c * p + j] += r[j] * r[j];
				}
			}
		}
	}
	pfree(x);
}

/* Population variance of feature j */
static double
mlc_select_var(const MlcSelectStats *st, int j)
{
	double		mean = st->sum[j] / st->n;

	return Max(st->ss[(Size) j * st->p + j] / st->n - mean * mean, 0.0);
}

/* Univariate F score of feature j: f_regression or ANOVA F (f_classif) */
static double
mlc_select_f(const MlcSelectStats *st, int j)
{
	double		n = st->n;
	int			p = st->p;

	if (st->K == 0)
	{
		double		sxx = st->ss[(Size) j * p + j] - st->sum[j] * st->sum[j] / n;
		double		syy = st->yss - st->ysum * st->ysum / n;
		double		sxy = st->sy[j] - st->sum[j] * st->ysum / n;
		double		r2;

		if (sxx <= 0 || syy <= 0)
			return 0.0;
		r2 = (sxy * sxy) / (sxx * syy);
		return r2 >= 1.0 ? INFINITY : r2 / (1.0 - r2) * (n - 2.0);
	}
	else
	{
		double		total = st->ss[(Size) j * p + j] - st->sum[j] * st->sum[j] / n;
		double		between = 0;
		int			groups = 0;

		for (int c = 0; c < st->K; c++)
			if (st->cn[c] > 0)
			{
				double		s = st->csum[(Size) c * p + j];

				between += s * s / st->cn[c];
				groups++;
			}
		between -= st->sum[j] * st->sum[j] / n;
		if (groups < 2 || n - groups <= 0)
			return 0.0;
		if (total - between <= 1e-12 * Max(total, 1e-300))
			return between > 0 ? INFINITY : 0.0;
		return (between / (groups - 1)) / ((total - between) / (n - groups));
	}
}

/* Pearson correlation of features a and b (0 when either is constant) */
static double
mlc_select_corr(const MlcSelectStats *st, int a, int b)
{
	int			p = st->p;
	double		n = st->n;
	int			hi = Max(a, b),
				lo = Min(a, b);
	double		cov = st->ss[(Size) hi * p + lo] - st->sum[a] * st->sum[b] / n;
	double		va = st->ss[(Size) a * p + a] - st->sum[a] * st->sum[a] / n;
	double		vb = st->ss[(Size) b * p + b] - st->sum[b] * st->sum[b] / n;

	if (va <= 0 || vb <= 0)
		return 0.0;
	return cov / sqrt(va * vb);
}

/* Append {"feature": name, "reason": why} to the dropped list */
static void
mlc_select_drop(StringInfo dropped, const char *name, const char *why)
{
	appendStringInfoString(dropped, dropped->len > 1 ? ", {\"feature\": " : "{\"feature\": ");
	escape_json(dropped, name);
	appendStringInfo(dropped, ", \"reason\": \"%s\"}", why);
}

/*
 * Select features on the training rows of a fitted pipeline: sets the kept
 * features as m's feature projection and returns the JSON record {"kept":
 * [...], "dropped": [...], "scores": {...}}, or NULL when spec asks for
 * nothing.  yreg (regression) or ycls (class index per dataset row) is the
 * target.  Tree learners keep NULLs as missing: the statistics see a missing
 * value as its feature's mean over the present ones.
 */
char *
mlc_select_features(MlcModel *m, MlcDataset *ds, const int64 *rows, int64 n,
					const double *yreg, const int32 *ycls, int nclasses, Jsonb *spec)
{
	MlcSelectSpec s;
	MlcSelectStats st;
	int			p = m->ninput;
	char	  **names;
	bool	   *drop;
	StringInfoData kept,
				dropped,
				out;
	double	   *score;
	int			nkept = 0;

	if (spec == NULL || !mlc_select_parse(spec, &s))
		return NULL;
	if (s.max_correlation > 0 && p > MLC_SELECT_MAX_CORR_FEATURES)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("max_correlation compares every pair of features, and there are %d, more than %d",
						p, MLC_SELECT_MAX_CORR_FEATURES),
				 errhint("Use variance_threshold or k_best alone, or encode high-cardinality columns with hashing.")));
	memset(&st, 0, sizeof(st));
	st.p = p;
	st.K = ycls ? nclasses : 0;
	st.cross = s.max_correlation > 0;
	mlc_check_memory(sizeof(double) * ((Size) p * p + (Size) (2 * st.K + 3) * p), "feature selection statistics");
	st.sum = palloc0(sizeof(double) * Max(p, 1));
	st.ss = palloc0(sizeof(double) * Max((Size) p * p, 1));
	st.sy = palloc0(sizeof(double) * Max(p, 1));
	st.csum = palloc0(sizeof(double) * Max((Size) st.K * p, 1));
	st.css = palloc0(sizeof(double) * Max((Size) st.K * p, 1));
	st.cn = palloc0(sizeof(double) * Max(st.K, 1));
	mlc_select_accumulate(&st, m, ds, rows, n, yreg, ycls);

	names = mlc_input_feature_names(m);
	drop = palloc0(sizeof(bool) * Max(p, 1));
	initStringInfo(&dropped);
	appendStringInfoChar(&dropped, '[');
	if (s.variance_threshold >= 0)
		for (int j = 0; j < p; j++)
			if (mlc_select_var(&st, j) <= s.variance_threshold)
			{
				drop[j] = true;
				mlc_select_drop(&dropped, names[j], "variance_threshold");
			}
	if (s.max_correlation > 0)
		for (int j = 0; j < p; j++)
			for (int i = 0; i < j && !drop[j]; i++)
				if (!drop[i] && fabs(mlc_select_corr(&st, i, j)) > s.max_correlation)
				{
					drop[j] = true;
					mlc_select_drop(&dropped, names[j], "max_correlation");
				}
	score = palloc(sizeof(double) * Max(p, 1));
	for (int j = 0; j < p; j++)
	{
		score[j] = mlc_select_f(&st, j);
		if (!drop[j])
			nkept++;
	}
	if (s.k_best > 0)
		while (nkept > s.k_best)
		{
			int			worst = -1;

			/* drop the lowest score; among ties the later feature */
			for (int j = 0; j < p; j++)
				if (!drop[j] && (worst < 0 || score[j] <= score[worst]))
					worst = j;
			drop[worst] = true;
			mlc_select_drop(&dropped, names[worst], "k_best");
			nkept--;
		}
	appendStringInfoChar(&dropped, ']');
	initStringInfo(&kept);
	appendStringInfoChar(&kept, '[');
	for (int j = 0; j < p; j++)
		if (!drop[j])
		{
			if (kept.len > 1)
				appendStringInfoString(&kept, ", ");
			escape_json(&kept, names[j]);
		}
	appendStringInfoChar(&kept, ']');
	(void) mlc_projection_keep(m, drop);
	initStringInfo(&out);
	appendStringInfo(&out, "{\"kept\": %s, \"dropped\": %s, \"scores\": {", kept.data, dropped.data);
	for (int j = 0; j < p; j++)
	{
		if (j > 0)
			appendStringInfoString(&out, ", ");
		escape_json(&out, names[j]);
		if (isfinite(score[j]))
			appendStringInfo(&out, ": %.17g", score[j]);
		else
			appendStringInfoString(&out, ": null");
	}
	appendStringInfoString(&out, "}}");
	return out.data;
}
