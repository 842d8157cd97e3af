/*
 * stream.c
 *	  Single-pass least squares: while the relation is scanned, training rows
 *	  go into a centered cross-product accumulator (features with NULLs as 0,
 *	  a NULL indicator per column that has NULLs, the target), and only the
 *	  rows that may be test rows are kept.  Imputation, scaling and the
 *	  normal equations then follow from the statistics alone.
 */
#include "postgres.h"

#include <float.h>
#include <math.h>

#include "executor/tuptable.h"
#include "miscadmin.h"

#include <cblas.h>

#include "learners.h"
#include "mlcycle.h"
#include "preprocess.h"
#include "profile.h"
#include "split.h"
#include "stream.h"

#define MLC_STREAM_BLOCK 2048

/* Scan state of a single-pass fit */
typedef struct MlcStream
{
	DestReceiver pub;
	MlcDataset *ds;
	MemoryContext cxt;			/* where the state lives (not the executor's) */
	const MlcModel *plan;		/* resolved settings */
	int			p;				/* feature columns */
	int		   *attno;			/* per column: position in the scan's tuple */
	Oid		   *typid;			/* per column: base type */
	uint8	   *kind;			/* per column: MLC_KIND_* */
	int		   *ind;			/* column -> slot of its NULL indicator, or -1 */
	MlcGram		gram;			/* slots: p values (NULL as 0), target, indicators */
	double	   *block;			/* MLC_STREAM_BLOCK rows of gram.w slots */
	int			nblock;
	double	   *row;			/* the current row's raw values, NaN for NULL, then target */
	pg_prng_state rng;
	double		cutoff;			/* rows drawing below it may be test rows */
	int64		nrows;			/* rows with a target */
	int64	   *nnull;			/* per column, over every row with a target */
	/* candidate test rows: raw values and target (p + 1 each), and their draws */
	double	   *cand;
	double	   *cand_u;
	int64		ncand;
	int64		cand_cap;
	MlcProfileAcc *prof;		/* reference profiles of the training rows */
} MlcStream;

/* True when every column's settings can be fitted from cross-products */
static bool
mlc_stream_supported(const MlcModel *plan)
{
	for (int j = 0; j < plan->ncolumns; j++)
	{
		const MlcColumn *c = &plan->columns[j];

		if (c->kind == MLC_KIND_CATEGORICAL || c->transform != MLC_TRANSFORM_NONE)
			return false;
		if (c->impute != MLC_IMPUTE_MEAN && c->impute != MLC_IMPUTE_CONSTANT &&
			c->impute != MLC_IMPUTE_ERROR)
			return false;
		if (c->scale != MLC_SCALE_STANDARD && c->scale != MLC_SCALE_NONE)
			return false;
	}
	return true;
}

/* Accumulate the buffered rows */
static void
mlc_stream_flush(MlcStream *st)
{
	mlc_gram_add_block(&st->gram, st->block, st->nblock);
	st->nblock = 0;
}

/* Give column j a NULL indicator slot (it was 0 in every row so far) */
static void
mlc_stream_add_indicator(MlcStream *st, int j)
{
	mlc_stream_flush(st);
	st->ind[j] = st->gram.w;
	mlc_gram_widen(&st->gram, st->gram.w + 1);
	pfree(st->block);
	st->block = palloc(sizeof(double) * MLC_STREAM_BLOCK * st->gram.w);
}

/* Add one training row (raw values, NaN for NULL, then the target; has_null when any is NULL) */
static void
mlc_stream_add_train(MlcStream *st, const double *raw, bool has_null)
{
	double	   *z;
	int			p = st->p;

	mlc_profile_acc_add(st->prof, raw, has_null);
	if (has_null)
		for (int j = 0; j < p; j++)
			if (isnan(raw[j]) && st->ind[j] < 0)
				mlc_stream_add_indicator(st, j);
	z = st->block + (Size) st->nblock * st->gram.w;
	memcpy(z, raw, sizeof(double) * (p + 1));
	if (st->gram.w > p + 1)
		memset(z + p + 1, 0, sizeof(double) * (st->gram.w - p - 1));
	if (has_null)
		for (int j = 0; j < p; j++)
			if (isnan(raw[j]))
			{
				z[j] = 0.0;
				z[st->ind[j]] = 1.0;
			}
	if (++st->nblock == MLC_STREAM_BLOCK)
		mlc_stream_flush(st);
}

/* Keep a row that may be a test row */
static void
mlc_stream_keep(MlcStream *st, const double *raw, double u)
{
	int			w = st->p + 1;

	if (st->ncand == st->cand_cap)
	{
		int64		cap = Max(1024, st->cand_cap * 2);

		mlc_check_memory(sizeof(double) * (w + 1) * (cap - st->cand_cap), "test rows");
		st->cand = st->cand ? repalloc_huge(st->cand, sizeof(double) * w * cap) :
			mlc_alloc_large(sizeof(double) * w * cap);
		st->cand_u = st->cand_u ? repalloc_huge(st->cand_u, sizeof(double) * cap) :
			mlc_alloc_large(sizeof(double) * cap);
		st->cand_cap = cap;
	}
	memcpy(st->cand + st->ncand * w, raw, sizeof(double) * w);
	st->cand_u[st->ncand++] = u;
}

/* Error for a non-finite value */
static void
mlc_stream_nonfinite(const char *name)
{
	ereport(ERROR,
			(errcode(ERRCODE_DATA_EXCEPTION),
			 errmsg("column \"%s\" contains NaN or Infinity", name),
			 errhint("Filter those rows out with a view, or turn them into NULL with NULLIF so they are imputed.")));
}

/* receiveSlot: convert the row, draw its split number, accumulate or keep it */
static bool
mlc_stream_receive(TupleTableSlot *slot, DestReceiver *self)
{
	MlcStream  *st = (MlcStream *) self;
	MlcDataset *ds = st->ds;
	int			p = st->p;
	double		u;
	bool		has_null = false;
	MemoryContext old;

	if (!mlc_ingest_count_row(ds, slot))
		return true;
	for (int j = 0; j < p; j++)
	{
		int			a = st->attno[j];
		double		v;

		if (slot->tts_isnull[a])
		{
			if (st->plan->columns[j].impute == MLC_IMPUTE_ERROR)
				mlc_null_not_allowed(&st->plan->columns[j]);
			st->row[j] = NAN;
			st->nnull[j]++;
			has_null = true;
			continue;
		}
		v = mlc_datum_to_double(slot->tts_values[a], st->typid[j], st->kind[j]);
		if (unlikely(!isfinite(v)))
			mlc_stream_nonfinite(ds->cols[j].name);
		st->row[j] = v;
	}
	st->row[p] = mlc_datum_to_double(slot->tts_values[ds->target.attno], ds->target.typid,
									 ds->target.kind);
	if (!isfinite(st->row[p]))
		mlc_stream_nonfinite(ds->target.name);
	st->nrows++;
	u = pg_prng_double(&st->rng);
	old = MemoryContextSwitchTo(st->cxt);
	if (u < st->cutoff)
		mlc_stream_keep(st, st->row, u);
	else
		mlc_stream_add_train(st, st->row, has_null);
	MemoryContextSwitchTo(old);
	return true;
}

/* Centered statistics of [features y] derived from the raw accumulator: fill and scale columns */
static void
mlc_stream_derive(MlcStream *st, MlcModel *m, double *mean, double *M)
{
	MlcGram    *g = &st->gram;
	int			p = st->p,
				w = g->w,
				p1 = p + 1;
	double		n = g->n;
	double	   *L = palloc0(sizeof(double) * p1 * w);	/* [v y] = L z */
	double	   *LM = palloc(sizeof(double) * p1 * w);

	for (int j = 0; j < p; j++)
	{
		MlcColumn  *c = &m->columns[j];
		double		nulls = st->ind[j] >= 0 ? g->mean[st->ind[j]] * n : 0.0;
		double		nonnull = n - nulls;

		if (nonnull < 0.5)
			mlc_all_null_error(c->name, false);
		if (c->impute == MLC_IMPUTE_MEAN)
			c->fill = g->mean[j] * n / nonnull;
		L[j * w + j] = 1.0;
		if (st->ind[j] >= 0)
			L[j * w + st->ind[j]] = c->fill;
	}
	L[p * w + p] = 1.0;
	/* M_v = L M L', mean_v = L mean */
	cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, p1, w, w, 1.0, L, w, g->M, w, 0.0, LM, w);
	cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, p1, p1, w, 1.0, LM, w, L, w, 0.0, M, p1);
	cblas_dgemv(CblasRowMajor, CblasNoTrans, p1, w, 1.0, L, w, g->mean, 1, 0.0, mean, 1);

	/* scale: f = (v - center) / scale_by */
	for (int j = 0; j < p; j++)
	{
		MlcColumn  *c = &m->columns[j];

		c->center = 0.0;
		c->scale_by = 1.0;
		if (c->scale == MLC_SCALE_STANDARD)
		{
			c->center = mean[j];
			c->scale_by = sqrt(Max(M[j * p1 + j], 0.0) / n);
			if (!(c->scale_by >= 10.0 * DBL_EPSILON) || !isfinite(c->scale_by))
				c->scale_by = 1.0;
		}
		mean[j] = (mean[j] - c->center) / c->scale_by;
	}
	for (int i = 0; i < p1; i++)
		for (int j = 0; j < p1; j++)
			M[i * p1 + j] /= (i < p ? m->columns[i].scale_by : 1.0) *
				(j < p ? m->columns[j].scale_by : 1.0);
	pfree(L);
	pfree(LM);
}

/* Training metrics from the statistics: r2, mse and rmse of the fit */
static void
mlc_stream_train_metrics(const double *M, int p, double n, const double *coef, StringInfo json)
{
	int			p1 = p + 1;
	double		sse = M[p * p1 + p];	/* centered: the intercept leaves no mean error */
	double		sst = M[p * p1 + p];
	double		r2;

	for (int i = 0; i < p; i++)
	{
		sse -= 2.0 * coef[i] * M[i * p1 + p];
		for (int j = 0; j < p; j++)
			sse += coef[i] * M[i * p1 + j] * coef[j];
	}
	sse = Max(sse, 0.0);
	r2 = sst > 0 ? 1.0 - sse / sst : (sse == 0 ? 1.0 : 0.0);
	initStringInfo(json);
	appendStringInfo(json, "{\"r2\": %.17g, \"mse\": %.17g, \"rmse\": %.17g, \"rows\": %.0f}",
					 r2, sse / n, sqrt(sse / n), n);
}

/*
 * Exact mean and population std of each column's non-NULL training values,
 * from the centered statistics: the NULLs are zeros in the value slot, so
 * their share of the centered sum of squares comes off.
 */
static void
mlc_stream_profile_moments(MlcStream *st)
{
	MlcGram    *g = &st->gram;
	double		n = g->n;

	for (int j = 0; j < st->p; j++)
	{
		double		nulls = st->ind[j] >= 0 ? g->mean[st->ind[j]] * n : 0.0;
		double		nn = n - nulls;
		double		m_all = g->mean[j];
		double		m_nn,
					ss;

		if (nn < 0.5)
			continue;
		m_nn = m_all * n / nn;
		/* sum over non-NULL of (x - m_nn)^2 = M_jj - nulls m_all^2 - nn (m_nn - m_all)^2 */
		ss = g->M[(Size) j * g->w + j] - nulls * m_all * m_all - nn * (m_nn - m_all) * (m_nn - m_all);
		mlc_profile_acc_set_moments(st->prof, j, m_nn, sqrt(Max(ss, 0.0) / nn));
	}
}

/* The test rows as a dataset of raw columns */
static MlcDataset *
mlc_stream_test_dataset(MlcStream *st, const bool *is_test, int64 ntest)
{
	MlcDataset *t = palloc0(sizeof(MlcDataset));
	int			p = st->p;
	int64		r = 0;

	t->ncols = p;
	t->cols = palloc0(sizeof(MlcRawColumn) * Max(p, 1));
	for (int j = 0; j < p; j++)
	{
		t->cols[j] = st->ds->cols[j];
		t->cols[j].values = mlc_alloc_large(sizeof(double) * Max(ntest, 1));
	}
	t->target = st->ds->target;
	t->target.values = mlc_alloc_large(sizeof(double) * Max(ntest, 1));
	for (int64 i = 0; i < st->ncand; i++)
	{
		const double *raw = st->cand + i * (p + 1);

		if (!is_test[i])
			continue;
		for (int j = 0; j < p; j++)
			t->cols[j].values[r] = raw[j];
		t->target.values[r++] = raw[p];
	}
	t->nrows = ntest;
	return t;
}

/* Fit a linear or ridge model of ds in one scan; false when the in-memory path is needed */
bool
mlc_stream_least_squares(MlcDataset *ds, Jsonb *spec, int algorithm, double alpha,
						 double test_size, int seed, MlcStreamResult *res)
{
	MlcStream	st;
	MlcModel   *m;
	int			p = ds->ncols;
	int64		ntest;
	bool	   *is_test;
	double	   *mean,
			   *M;
	double		est = 0;

	m = mlc_preprocess_plan(ds, spec);
	if (!mlc_stream_supported(m) || test_size <= 0)
		return false;

	memset(&st, 0, sizeof(st));
	st.pub.receiveSlot = mlc_stream_receive;
	st.ds = ds;
	st.cxt = CurrentMemoryContext;
	st.plan = m;
	st.p = p;
	st.ind = palloc(sizeof(int) * Max(p, 1));
	st.attno = palloc(sizeof(int) * Max(p, 1));
	st.typid = palloc(sizeof(Oid) * Max(p, 1));
	st.kind = palloc(sizeof(uint8) * Max(p, 1));
	for (int j = 0; j < p; j++)
	{
		st.ind[j] = -1;
		st.attno[j] = ds->cols[j].attno;
		st.typid[j] = ds->cols[j].typid;
		st.kind[j] = ds->cols[j].kind;
	}
	st.nnull = palloc0(sizeof(int64) * Max(p, 1));
	st.row = palloc(sizeof(double) * (p + 1));
	mlc_gram_init(&st.gram, p + 1);
	st.block = palloc(sizeof(double) * MLC_STREAM_BLOCK * st.gram.w);
	mlc_split_rng(&st.rng, seed);
	st.prof = mlc_profile_acc_create(p, seed);
	/* keep enough rows that the test set is among them: a margin of many deviations */
	est = Max(mlc_relation_rows_estimate(ds->relid), 1000.0);
	st.cutoff = Min(1.0, test_size + Max(0.01, 8.0 * sqrt(test_size * (1 - test_size) / est)));
	mlc_ingest_run(ds, (DestReceiver *) &st);

	ds->nrows = st.nrows;
	ntest = mlc_split_test_count(test_size, st.nrows);
	if (st.nrows < 3 || st.ncand < ntest || st.nrows - ntest < 2)
		return false;
	for (int j = 0; j < p; j++)
		if (st.nnull[j] == st.nrows)
			mlc_all_null_error(ds->cols[j].name, true);

	/* the test rows are the kept rows with the smallest draws; the others train */
	is_test = palloc(sizeof(bool) * Max(st.ncand, 1));
	mlc_split_mark(st.cand_u, st.ncand, ntest, is_test);
	for (int64 i = 0; i < st.ncand; i++)
		if (!is_test[i])
			mlc_stream_add_train(&st, st.cand + i * (p + 1), true);
	mlc_stream_flush(&st);
	mlc_gram_finish(&st.gram);

	mean = palloc(sizeof(double) * (p + 1));
	M = palloc(sizeof(double) * (p + 1) * (p + 1));
	mlc_stream_derive(&st, m, mean, M);
	res->constant = palloc(sizeof(bool) * Max(p, 1));
	for (int j = 0; j < p; j++)
		res->constant[j] = (M[j * (p + 1) + j] == 0.0);
	m->task = MLC_TASK_REGRESSION;
	m->algorithm = algorithm;
	m->ncoef_rows = 1;
	m->coef = palloc0(sizeof(double) * (p + 1));
	if (algorithm == MLC_ALGO_RIDGE)
		mlc_fit_ridge_gram(mean, M, p, alpha, m->coef);
	else if (!mlc_fit_linear_gram(mean, M, p, m->coef, &res->rank))
		return false;
	mlc_model_finalize(m);
	mlc_stream_profile_moments(&st);
	mlc_profile_acc_finish(st.prof, m);

	mlc_stream_train_metrics(M, p, st.gram.n, m->coef, &res->train_metrics);
	res->train_target_mean = st.gram.mean[p];
	res->model = m;
	res->preprocess_json = mlc_preprocess_describe(m);
	res->ntrain = (int64) st.gram.n;
	res->ntest = ntest;
	res->test = mlc_stream_test_dataset(&st, is_test, ntest);
	return true;
}
