/*
 * naive_bayes.c
 *	  Naive Bayes: Gaussian likelihoods for numeric features and smoothed
 *	  category counts for one-hot encoded text columns.  Its sufficient
 *	  statistics are one aggregate (ml_naive_bayes_stats, bytea state with a
 *	  combine function); training accumulates exactly that state.
 */
#include "postgres.h"

#include <float.h>
#include <math.h>

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"

#include "learners.h"
#include "projection.h"

PG_FUNCTION_INFO_V1(mlcycle_nb_stats_trans);
PG_FUNCTION_INFO_V1(mlcycle_nb_stats_combine);
PG_FUNCTION_INFO_V1(mlcycle_nb_stats_final);

/*
 * The state is a bytea of float8 values:
 *	 K, p, q, ncat[0..q-1], then per class k: count, sum[p], sumsq[p],
 *	 counts[sum ncat] (the category counts of each text column in turn).
 * It grows when a row brings a new class or a larger category index.
 */
#define NB_MAX_CLASSES		1024
#define NB_MAX_WIDTH		100000
#define NB_MAX_CATEGORY		65536

typedef struct NbDims
{
	int			K;
	int			p;
	int			q;
	const double *ncat;			/* q values */
	int64		ncat_total;
} NbDims;

/* Read the dimensions of a state */
static void
nb_dims(const bytea *s, NbDims *d)
{
	const double *v = (const double *) VARDATA(s);

	d->K = (int) v[0];
	d->p = (int) v[1];
	d->q = (int) v[2];
	d->ncat = v + 3;
	d->ncat_total = 0;
	for (int j = 0; j < d->q; j++)
		d->ncat_total += (int64) d->ncat[j];
}

/* Values in one class block */
static inline int64
nb_block(const NbDims *d)
{
	return 1 + 2 * (int64) d->p + d->ncat_total;
}

/* Pointer to class k's block */
static inline double *
nb_class(bytea *s, const NbDims *d, int k)
{
	return (double *) VARDATA(s) + 3 + d->q + (int64) k * nb_block(d);
}

/* A zeroed state of the given dimensions */
static bytea *
nb_alloc(int K, int p, int q, const int64 *ncat)
{
	int64		total = 0;
	int64		nvals;
	bytea	   *s;
	double	   *v;

	for (int j = 0; j < q; j++)
		total += ncat[j];
	nvals = 3 + q + (int64) K * (1 + 2 * (int64) p + total);
	if (nvals * 8 > (int64) MaxAllocSize - VARHDRSZ)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("naive Bayes statistics would need more than 1 GB"),
				 errhint("Use fewer classes, features or categories.")));
	s = palloc0(VARHDRSZ + nvals * 8);
	SET_VARSIZE(s, VARHDRSZ + nvals * 8);
	v = (double *) VARDATA(s);
	v[0] = K;
	v[1] = p;
	v[2] = q;
	for (int j = 0; j < q; j++)
		v[3 + j] = (double) ncat[j];
	return s;
}

/* Add src's statistics into dst (dst at least as large in every dimension) */
static void
nb_add_into(bytea *dst, const bytea *src)
{
	NbDims		dd,
				sd;

	nb_dims(dst, &dd);
	nb_dims(src, &sd);
	for (int k = 0; k < sd.K; k++)
	{
		double	   *a = nb_class(dst, &dd, k);
		double	   *b = nb_class((bytea *) src, &sd, k);
		int64		ao = 1 + 2 * (int64) dd.p,
					bo = 1 + 2 * (int64) sd.p;

		for (int64 i = 0; i < 1 + 2 * (int64) sd.p; i++)
			a[i] += b[i];
		for (int j = 0; j < sd.q; j++)
		{
			for (int c = 0; c < (int) sd.ncat[j]; c++)
				a[ao + c] += b[bo + c];
			ao += (int64) dd.ncat[j];
			bo += (int64) sd.ncat[j];
		}
	}
}

/* A copy of s widened to K classes and category counts ncat (each at least s's) */
static bytea *
nb_widen(const bytea *s, int K, const int64 *ncat)
{
	NbDims		d;
	bytea	   *w;

	nb_dims(s, &d);
	w = nb_alloc(K, d.p, d.q, ncat);
	nb_add_into(w, s);
	return w;
}

/* Refuse rows whose shape differs from the state's, or out-of-range values */
static void
nb_check_row(int cls, int p, int q, const int32 *cats, const NbDims *d)
{
	if (cls < 0 || cls >= NB_MAX_CLASSES)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("class index %d is out of range", cls),
				 errhint("Pass class indexes from 0 to %d.", NB_MAX_CLASSES - 1)));
	if (p > NB_MAX_WIDTH || q > NB_MAX_WIDTH)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("too many features for naive Bayes statistics"),
				 errhint("Pass at most %d numeric features and %d categories.", NB_MAX_WIDTH, NB_MAX_WIDTH)));
	for (int j = 0; j < q; j++)
		if (cats[j] >= NB_MAX_CATEGORY)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("category index %d is out of range", cats[j]),
					 errhint("Pass category indexes from 0 to %d, or NULL or -1 for none.", NB_MAX_CATEGORY - 1)));
	if (d && (d->p != p || d->q != q))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("every row must have the same number of features"),
				 errdetail("A row has %d numeric values and %d categories; earlier rows had %d and %d.",
						   p, q, d->p, d->q),
				 errhint("Pass the same columns in every row.")));
}

/*
 * Add one row: class index cls, p finite numeric values x and q category
 * indexes (-1: none).  Returns the state, grown when needed.
 */
bytea *
mlc_nb_stats_add(bytea *state, int cls, const double *x, int p, const int32 *cats, int q)
{
	NbDims		d;
	double	   *blk;
	bool		grow = false;
	int64		off;

	nb_check_row(cls, p, q, cats, NULL);
	if (state == NULL)
	{
		int64	   *nc = palloc(sizeof(int64) * Max(q, 1));

		for (int j = 0; j < q; j++)
			nc[j] = Max(cats[j] + 1, 0);
		state = nb_alloc(cls + 1, p, q, nc);
		pfree(nc);
	}
	nb_dims(state, &d);
	nb_check_row(cls, p, q, cats, &d);
	grow = cls >= d.K;
	for (int j = 0; j < q && !grow; j++)
		grow = cats[j] >= (int) d.ncat[j];
	if (grow)
	{
		int64	   *nc = palloc(sizeof(int64) * Max(q, 1));
		bytea	   *w;

		for (int j = 0; j < q; j++)
			nc[j] = Max((int64) d.ncat[j], (int64) cats[j] + 1);
		w = nb_widen(state, Max(d.K, cls + 1), nc);
		pfree(nc);
		state = w;
		nb_dims(state, &d);
	}
	blk = nb_class(state, &d, cls);
	blk[0] += 1.0;
	for (int j = 0; j < p; j++)
	{
		blk[1 + j] += x[j];
		blk[1 + p + j] += x[j] * x[j];
	}
	off = 1 + 2 * (int64) p;
	for (int j = 0; j < q; j++)
	{
		if (cats[j] >= 0)
			blk[off + cats[j]] += 1.0;
		off += (int64) d.ncat[j];
	}
	return state;
}

/* Sum of two states (either may be NULL) */
bytea *
mlc_nb_stats_merge(const bytea *a, const bytea *b)
{
	NbDims		da,
				db;
	int64	   *nc;
	bytea	   *out;

	if (a == NULL)
		return b ? (bytea *) b : NULL;
	if (b == NULL)
		return (bytea *) a;
	nb_dims(a, &da);
	nb_dims(b, &db);
	if (da.p != db.p || da.q != db.q)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("every row must have the same number of features"),
				 errhint("Pass the same columns in every row.")));
	nc = palloc(sizeof(int64) * Max(da.q, 1));
	for (int j = 0; j < da.q; j++)
		nc[j] = Max((int64) da.ncat[j], (int64) db.ncat[j]);
	out = nb_widen(a, Max(da.K, db.K), nc);
	nb_add_into(out, b);
	pfree(nc);
	return out;
}

/* A state read from SQL: check that its dimensions agree with its length */
static bytea *
nb_state_arg(FunctionCallInfo fcinfo, int n)
{
	bytea	   *s;
	Size		len;
	const double *v;
	NbDims		d;

	if (PG_ARGISNULL(n))
		return NULL;
	s = PG_GETARG_BYTEA_P(n);
	len = VARSIZE(s) - VARHDRSZ;
	v = (const double *) VARDATA(s);
	if (len < 24 || len % 8 != 0 || !(v[0] >= 1 && v[0] <= NB_MAX_CLASSES) ||
		!(v[1] >= 0 && v[1] <= NB_MAX_WIDTH) || !(v[2] >= 0 && v[2] <= NB_MAX_WIDTH) ||
		len < (3 + (Size) v[2]) * 8)
		goto bad;
	for (int j = 0; j < (int) v[2]; j++)
		if (!(v[3 + j] >= 0 && v[3 + j] <= NB_MAX_CATEGORY))
			goto bad;
	nb_dims(s, &d);
	if ((int64) len != (3 + d.q + (int64) d.K * nb_block(&d)) * 8)
		goto bad;
	return s;
bad:
	ereport(ERROR,
			(errcode(ERRCODE_DATA_CORRUPTED),
			 errmsg("invalid naive Bayes statistics state"),
			 errhint("Pass states made by ml_naive_bayes_stats only.")));
	return NULL;
}

/* mlcycle.nb_stats_trans(state, class int, numeric float8[], categories int[]) */
Datum
mlcycle_nb_stats_trans(PG_FUNCTION_ARGS)
{
	MemoryContext aggcxt,
				old;
	bytea	   *state;
	double	   *x = NULL;
	int32	   *cats = NULL;
	int			p = 0,
				q = 0;
	bytea	   *out;

	if (!AggCheckCallContext(fcinfo, &aggcxt))
		elog(ERROR, "mlcycle.nb_stats_trans called in non-aggregate context");
	state = nb_state_arg(fcinfo, 0);
	if (PG_ARGISNULL(1))
		PG_RETURN_POINTER(state);	/* rows without a class are skipped */
	if (!PG_ARGISNULL(2))
	{
		ArrayType  *a = PG_GETARG_ARRAYTYPE_P(2);
		Datum	   *e;
		bool	   *nulls;

		deconstruct_array(a, FLOAT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE, &e, &nulls, &p);
		x = palloc(sizeof(double) * Max(p, 1));
		for (int j = 0; j < p; j++)
		{
			if (nulls[j])
				ereport(ERROR,
						(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
						 errmsg("numeric value %d is NULL", j + 1),
						 errhint("Impute it first (for example with coalesce), or filter such rows out: the means are per class row count.")));
			x[j] = DatumGetFloat8(e[j]);
			if (!isfinite(x[j]))
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("numeric value %d is not finite", j + 1),
						 errhint("Pass finite values.")));
		}
	}
	if (!PG_ARGISNULL(3))
	{
		ArrayType  *a = PG_GETARG_ARRAYTYPE_P(3);
		Datum	   *e;
		bool	   *nulls;

		deconstruct_array(a, INT4OID, 4, true, TYPALIGN_INT, &e, &nulls, &q);
		cats = palloc(sizeof(int32) * Max(q, 1));
		for (int j = 0; j < q; j++)
			cats[j] = nulls[j] ? -1 : Max(DatumGetInt32(e[j]), -1);
	}
	old = MemoryContextSwitchTo(aggcxt);
	out = mlc_nb_stats_add(state, PG_GETARG_INT32(1), x, p, cats, q);
	MemoryContextSwitchTo(old);
	PG_RETURN_POINTER(out);
}

/* mlcycle.nb_stats_combine(a, b) */
Datum
mlcycle_nb_stats_combine(PG_FUNCTION_ARGS)
{
	MemoryContext aggcxt,
				old;
	bytea	   *out;

	if (!AggCheckCallContext(fcinfo, &aggcxt))
		elog(ERROR, "mlcycle.nb_stats_combine called in non-aggregate context");
	old = MemoryContextSwitchTo(aggcxt);
	out = mlc_nb_stats_merge(nb_state_arg(fcinfo, 0), nb_state_arg(fcinfo, 1));
	MemoryContextSwitchTo(old);
	if (out == NULL)
		PG_RETURN_NULL();
	PG_RETURN_POINTER(out);
}

/* Append n numbers as a JSON array */
static void
nb_json_array(StringInfo b, const double *v, int64 n, int64 stride)
{
	appendStringInfoChar(b, '[');
	for (int64 i = 0; i < n; i++)
		appendStringInfo(b, "%s%.17g", i > 0 ? ", " : "", v[i * stride]);
	appendStringInfoChar(b, ']');
}

/*
 * mlcycle.nb_stats_final(state) -> jsonb: per class the count, per numeric
 * feature the count of values, sum, sum of squares, mean and population
 * variance, and per text column the category counts.
 */
Datum
mlcycle_nb_stats_final(PG_FUNCTION_ARGS)
{
	bytea	   *s = nb_state_arg(fcinfo, 0);
	NbDims		d;
	StringInfoData b;

	if (s == NULL)
		PG_RETURN_NULL();
	nb_dims(s, &d);
	initStringInfo(&b);
	appendStringInfoString(&b, "[");
	for (int k = 0; k < d.K; k++)
	{
		double	   *blk = nb_class(s, &d, k);
		double	   *mean = palloc(sizeof(double) * Max(d.p, 1));
		double	   *var = palloc(sizeof(double) * Max(d.p, 1));
		int64		off = 1 + 2 * (int64) d.p;

		for (int j = 0; j < d.p; j++)
		{
			mean[j] = blk[0] > 0 ? blk[1 + j] / blk[0] : 0;
			var[j] = blk[0] > 0 ? Max(blk[1 + d.p + j] / blk[0] - mean[j] * mean[j], 0.0) : 0;
		}
		appendStringInfo(&b, "%s{\"class\": %d, \"count\": %.17g, \"sum\": ", k > 0 ? ", " : "", k, blk[0]);
		nb_json_array(&b, blk + 1, d.p, 1);
		appendStringInfoString(&b, ", \"sum_sq\": ");
		nb_json_array(&b, blk + 1 + d.p, d.p, 1);
		appendStringInfoString(&b, ", \"mean\": ");
		nb_json_array(&b, mean, d.p, 1);
		appendStringInfoString(&b, ", \"var\": ");
		nb_json_array(&b, var, d.p, 1);
		appendStringInfoString(&b, ", \"category_counts\": [");
		for (int j = 0; j < d.q; j++)
		{
			if (j > 0)
				appendStringInfoString(&b, ", ");
			nb_json_array(&b, blk + off, (int64) d.ncat[j], 1);
			off += (int64) d.ncat[j];
		}
		appendStringInfoString(&b, "]}");
	}
	appendStringInfoChar(&b, ']');
	PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(b.data)));
}

/*
 * Fit: the statistics of the training rows (category of a one-hot column:
 * its feature that is 1, or none), then per class the log prior, and per
 * feature the mean and variance (Gaussian) or the log probability of that
 * category (one-hot).  See learners.h for the stored layout.
 */
void
mlc_fit_naive_bayes(MlcModel *m, const double *X, const int32 *y, int64 n,
					double var_smoothing, double alpha)
{
	int			p = m->nfeatures;
	int			K = m->nclasses;
	uint8	   *kind = palloc0(sizeof(uint8) * Max(p, 1));
	int		   *num = palloc(sizeof(int) * Max(p, 1));
	int		   *cat_col = palloc(sizeof(int) * Max(m->ncolumns, 1));
	int		   *cat_lo = palloc(sizeof(int) * Max(m->ncolumns, 1));
	int		   *cat_w = palloc(sizeof(int) * Max(m->ncolumns, 1));
	int		   *cat_n = palloc(sizeof(int) * Max(m->ncolumns, 1));
	int			pn = 0,
				q = 0;
	double	   *xn = palloc(sizeof(double) * Max(p, 1));
	int32	   *cats = palloc(sizeof(int32) * Max(m->ncolumns, 1));
	bytea	   *state = NULL;
	NbDims		d;
	double		maxvar = 0,
				eps,
			   *lp;

	/*
	 * one-hot text columns are categorical, every other feature Gaussian;
	 * under select_features a column's kept features (lo, w of them, the
	 * first n its categories), under PCA none
	 */
	for (int j = 0; j < m->ncolumns; j++)
	{
		const MlcColumn *c = &m->columns[j];
		int			lo,
					w;

		mlc_projection_span(m, c->out_offset, c->out_width, &lo, &w);
		if (c->kind == MLC_KIND_CATEGORICAL && c->encode == MLC_ENCODE_ONE_HOT && w > 0)
		{
			int			ncat;

			mlc_projection_span(m, c->out_offset, c->ncategories, &lo, &ncat);
			cat_col[q] = j;
			cat_lo[q] = lo;
			cat_w[q] = w;
			cat_n[q++] = ncat;
			for (int k = 0; k < w; k++)
				kind[lo + k] = 1;
		}
	}
	for (int f = 0; f < p; f++)
		if (!kind[f])
			num[pn++] = f;

	/* the sufficient statistics: exactly the aggregate's state */
	{
		int64	   *nc = palloc(sizeof(int64) * Max(q, 1));

		for (int j = 0; j < q; j++)
			nc[j] = cat_n[j];
		state = nb_alloc(K, pn, q, nc);
	}
	for (int64 i = 0; i < n; i++)
	{
		const double *row = X + (Size) i * p;

		CHECK_FOR_INTERRUPTS();
		for (int f = 0; f < pn; f++)
			xn[f] = row[num[f]];
		for (int j = 0; j < q; j++)
		{
			cats[j] = -1;
			for (int k = 0; k < cat_w[j]; k++)
				if (row[cat_lo[j] + k] > 0.5)
					cats[j] = k;
		}
		state = mlc_nb_stats_add(state, y[i], xn, pn, cats, q);
	}
	nb_dims(state, &d);

	/* epsilon = var_smoothing * the largest variance of any feature (sklearn) */
	for (int f = 0; f < pn; f++)
	{
		double		s = 0,
					ss = 0,
					cnt = 0;

		for (int k = 0; k < K; k++)
		{
			double	   *blk = nb_class(state, &d, k);

			cnt += blk[0];
			s += blk[1 + f];
			ss += blk[1 + pn + f];
		}
		if (cnt > 0)
			maxvar = Max(maxvar, ss / cnt - (s / cnt) * (s / cnt));
	}
	eps = var_smoothing * maxvar;

	m->nlearner_params = 2 + p + (int64) K * (1 + 2 * (int64) p);
	m->learner_params = lp = palloc0(sizeof(double) * m->nlearner_params);
	lp[0] = K;
	lp[1] = p;
	for (int f = 0; f < p; f++)
		lp[2 + f] = kind[f];
	for (int k = 0; k < K; k++)
	{
		double	   *blk = nb_class(state, &d, k);
		double	   *out = lp + 2 + p + (int64) k * (1 + 2 * (int64) p);
		double		cnt = blk[0];
		int64		off = 1 + 2 * (int64) pn;

		/* a class absent from the training rows gets prior 0 (a huge negative log) */
		out[0] = cnt > 0 ? log(cnt / (double) n) : -1e300;
		for (int f = 0; f < pn; f++)
		{
			double		mean = cnt > 0 ? blk[1 + f] / cnt : 0;
			double		var = cnt > 0 ? Max(blk[1 + pn + f] / cnt - mean * mean, 0.0) : 0;

			out[1 + num[f]] = mean;
			out[1 + p + num[f]] = var + eps;
			if (!(var + eps > 0))
				out[1 + p + num[f]] = DBL_MIN;	/* constant feature, var_smoothing 0 */
		}
		for (int j = 0; j < q; j++)
		{
			double		tot = 0;

			for (int cc = 0; cc < cat_n[j]; cc++)
				tot += blk[off + cc];
			for (int cc = 0; cc < cat_n[j]; cc++)
				out[1 + cat_lo[j] + cc] = log((blk[off + cc] + alpha) / (tot + alpha * cat_n[j]));
			/* the statistics may hold one more slot: a top_k column's (other) bucket */
			off += (int64) d.ncat[j];
		}
	}
	pfree(state);
}

/* Class probabilities of a preprocessed row (softmax of the joint log likelihoods) */
void
mlc_predict_naive_bayes(const MlcModel *m, const double *x, double *out)
{
	const double *lp = m->learner_params;
	int			p = m->nfeatures;
	int			K = m->nclasses;
	const double *kind = lp + 2;
	double		mx = -INFINITY,
				sum = 0;

	for (int k = 0; k < K; k++)
	{
		const double *c = lp + 2 + p + (int64) k * (1 + 2 * (int64) p);
		double		jll = c[0];

		for (int f = 0; f < p; f++)
		{
			if (kind[f] == 0)
			{
				double		dx = x[f] - c[1 + f];

				jll -= 0.5 * log(2.0 * M_PI * c[1 + p + f]) + 0.5 * dx * dx / c[1 + p + f];
			}
			else if (x[f] > 0.5)
				jll += c[1 + f];
		}
		out[k] = jll;
		mx = Max(mx, jll);
	}
	/* every class impossible (a zero variance with var_smoothing 0): the priors */
	if (!isfinite(mx))
		for (int k = 0; k < K; k++)
			out[k] = lp[2 + p + (int64) k * (1 + 2 * (int64) p)];
	mx = -INFINITY;
	for (int k = 0; k < K; k++)
		mx = Max(mx, out[k]);
	for (int k = 0; k < K; k++)
	{
		out[k] = exp(out[k] - mx);
		sum += out[k];
	}
	for (int k = 0; k < K; k++)
		out[k] /= sum;
}
