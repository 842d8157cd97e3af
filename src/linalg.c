/*
 * linalg.c
 *	  Dense linear algebra shared by the learners: the OpenBLAS thread count,
 *	  a Jacobi-scaled Cholesky solve with a conditioning check, and a
 *	  minimum-norm least-squares solve (SVD, LAPACK dgelsd) for small systems.
 */
#include "postgres.h"

#include <float.h>
#include <math.h>

#include "miscadmin.h"

#include <cblas.h>
#include <lapacke.h>

#include "learners.h"
#include "mlcycle.h"

/* thread count OpenBLAS was last told to use */
static int	mlc_current_blas_threads = 0;

/* Set the number of OpenBLAS threads, clamped to [1, number of processors] */
void
mlc_linalg_set_threads(int nthreads)
{
	int			nprocs = openblas_get_num_procs();

	if (nthreads < 1)
		nthreads = 1;
	if (nprocs >= 1 && nthreads > nprocs)
		nthreads = nprocs;
	if (nthreads != mlc_current_blas_threads)
	{
		openblas_set_num_threads(nthreads);
		mlc_current_blas_threads = nthreads;
	}
}

/* Module load: OpenBLAS runs single-threaded inside a backend */
void
mlc_linalg_init(void)
{
	mlc_current_blas_threads = 0;
	mlc_linalg_set_threads(1);
}

/* Before a fit: follow the mlcycle.blas_threads setting */
void
mlc_linalg_prepare(void)
{
	mlc_linalg_set_threads(mlc_blas_threads);
}

/*
 * Solve A x = b for a symmetric positive definite p x p matrix A (full
 * storage, only the upper triangle is read).  The matrix is first scaled to
 * unit diagonal (Jacobi), which makes the reciprocal condition number
 * meaningful when columns have very different scales.  Returns false, and
 * leaves x undefined, when A is not numerically positive definite: a
 * non-positive diagonal, a failed factorization, or an estimated reciprocal
 * condition number (1-norm, scaled matrix) below min_rcond.
 */
bool
mlc_spd_solve(const double *A, const double *b, int p, double min_rcond,
			  double *x)
{
	double	   *S;
	double	   *d;
	double	   *work;
	lapack_int *iwork;
	double		anorm;
	double		rcond = 0.0;
	lapack_int	info;
	bool		ok = false;
	int			i,
				j;

	if (p == 0)
		return true;

	S = palloc((Size) p * p * sizeof(double));
	d = palloc(p * sizeof(double));
	work = palloc(3 * (Size) p * sizeof(double));
	iwork = palloc(p * sizeof(lapack_int));

	for (i = 0; i < p; i++)
	{
		double		aii = A[(Size) i * p + i];

		if (!(aii > 0.0) || !isfinite(aii))
			goto done;
		d[i] = 1.0 / sqrt(aii);
	}

	/* S = D A D, upper triangle in column-major order is the row-major lower */
	for (i = 0; i < p; i++)
		for (j = i; j < p; j++)
			S[(Size) j * p + i] = A[(Size) i * p + j] * d[i] * d[j];

	anorm = LAPACKE_dlansy_work(LAPACK_COL_MAJOR, '1', 'U', p, S, p, work);
	info = LAPACKE_dpotrf_work(LAPACK_COL_MAJOR, 'U', p, S, p);
	if (info != 0)
		goto done;
	info = LAPACKE_dpocon_work(LAPACK_COL_MAJOR, 'U', p, S, p, anorm, &rcond,
							   work, iwork);
	if (info != 0 || !(rcond >= min_rcond))
		goto done;

	/* solve (D A D) z = D b, then x = D z */
	for (i = 0; i < p; i++)
		x[i] = b[i] * d[i];
	info = LAPACKE_dpotrs_work(LAPACK_COL_MAJOR, 'U', p, 1, S, p, x, p);
	if (info != 0)
		elog(ERROR, "LAPACK dpotrs failed with info %d", (int) info);
	for (i = 0; i < p; i++)
		x[i] *= d[i];
	ok = true;

done:
	pfree(S);
	pfree(d);
	pfree(work);
	pfree(iwork);
	return ok;
}

/*
 * Minimum-norm least-squares solution of the m x p system A x ~ b (A
 * row-major, not modified) by a divide-and-conquer SVD.  Singular values
 * below rcond times the largest one count as zero.  m may be smaller than
 * p.  Returns the effective rank.
 */
int
mlc_minnorm_solve(const double *A, int m, int p, const double *b,
				  double rcond, double *x)
{
	double	   *a;
	double	   *rhs;
	double	   *s;
	double	   *work;
	lapack_int *iwork;
	double		wquery = 0.0;
	lapack_int	iwquery = 0;
	lapack_int	rank = 0;
	lapack_int	ldb = Max(Max(m, p), 1);
	lapack_int	lwork;
	lapack_int	info;
	int			i,
				j;

	if (p == 0)
		return 0;
	if (m == 0)
	{
		memset(x, 0, p * sizeof(double));
		return 0;
	}

	/* LAPACK wants column-major storage; rhs holds max(m, p) values */
	a = palloc((Size) m * p * sizeof(double));
	for (i = 0; i < m; i++)
		for (j = 0; j < p; j++)
			a[(Size) j * m + i] = A[(Size) i * p + j];
	rhs = palloc0(ldb * sizeof(double));
	memcpy(rhs, b, m * sizeof(double));
	s = palloc(Min(m, p) * sizeof(double));

	info = LAPACKE_dgelsd_work(LAPACK_COL_MAJOR, m, p, 1, a, m, rhs, ldb, s,
							   rcond, &rank, &wquery, -1, &iwquery);
	if (info != 0)
		elog(ERROR, "LAPACK dgelsd workspace query failed with info %d", (int) info);
	lwork = (lapack_int) wquery + 1;
	work = palloc(lwork * sizeof(double));
	iwork = palloc(Max(iwquery, 1) * sizeof(lapack_int));

	info = LAPACKE_dgelsd_work(LAPACK_COL_MAJOR, m, p, 1, a, m, rhs, ldb, s,
							   rcond, &rank, work, lwork, iwork);
	if (info != 0)
		elog(ERROR, "LAPACK dgelsd failed with info %d", (int) info);
	memcpy(x, rhs, p * sizeof(double));

	pfree(a);
	pfree(rhs);
	pfree(s);
	pfree(work);
	pfree(iwork);
	return (int) rank;
}

/* Start a centered cross-product accumulator over w variables */
void
mlc_gram_init(MlcGram *g, int w)
{
	g->w = w;
	g->n = 0.0;
	g->mean = palloc0(Max(w, 1) * sizeof(double));
	g->M = palloc0((Size) Max(w, 1) * Max(w, 1) * sizeof(double));
	g->bmean = palloc(Max(w, 1) * sizeof(double));
}

/*
 * Add nb rows (buf, nb x w, row-major; centered in place).  The block is
 * centered on its own mean and merged with the pairwise update of Chan,
 * Golub and LeVeque, so no large sums cancel.  Only M's upper triangle is
 * kept until mlc_gram_finish.
 */
void
mlc_gram_add_block(MlcGram *g, double *buf, int nb)
{
	int			w = g->w;
	double	   *bmean = g->bmean;
	double		total = g->n + nb;
	int			i,
				j;

	if (nb <= 0)
		return;
	memset(bmean, 0, w * sizeof(double));
	for (i = 0; i < nb; i++)
		for (j = 0; j < w; j++)
			bmean[j] += buf[(Size) i * w + j];
	for (j = 0; j < w; j++)
		bmean[j] /= nb;
	for (i = 0; i < nb; i++)
		for (j = 0; j < w; j++)
			buf[(Size) i * w + j] -= bmean[j];

	/* M += B'B, then the between-means term; bmean becomes the shift */
	cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, w, nb, 1.0, buf, w, 1.0, g->M, w);
	for (j = 0; j < w; j++)
		bmean[j] -= g->mean[j];
	cblas_dsyr(CblasRowMajor, CblasUpper, w, g->n * nb / total, bmean, 1, g->M, w);
	for (j = 0; j < w; j++)
		g->mean[j] += bmean[j] * nb / total;
	g->n = total;
}

/* Add variables that were 0 in every row so far: the accumulator grows to w */
void
mlc_gram_widen(MlcGram *g, int w)
{
	double	   *M = palloc0((Size) w * w * sizeof(double));
	double	   *mean = palloc0(w * sizeof(double));

	Assert(w >= g->w);
	for (int i = 0; i < g->w; i++)
		memcpy(M + (Size) i * w, g->M + (Size) i * g->w, g->w * sizeof(double));
	memcpy(mean, g->mean, g->w * sizeof(double));
	pfree(g->M);
	pfree(g->mean);
	pfree(g->bmean);
	g->M = M;
	g->mean = mean;
	g->bmean = palloc(w * sizeof(double));
	g->w = w;
}

/* Mirror the upper triangle and check that every entry is finite */
void
mlc_gram_finish(MlcGram *g)
{
	int			w = g->w;

	for (int i = 0; i < w; i++)
		for (int j = 0; j < i; j++)
			g->M[(Size) i * w + j] = g->M[(Size) j * w + i];
	for (Size i = 0; i < (Size) w * w; i++)
		if (!isfinite(g->M[i]))
			ereport(ERROR,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("training data contains infinite or NaN values"),
					 errhint("Remove or impute infinite values before training.")));
}
