/*
 * linear.c
 *	  Least squares and ridge regression with an intercept, as scikit-learn's
 *	  LinearRegression and Ridge fit them: one blocked pass for the centered
 *	  cross-products, Cholesky when well conditioned, else a streaming QR and
 *	  an SVD for the minimum-norm solution; intercept from the means.
 */
#include "postgres.h"

#include <float.h>
#include <math.h>

#include "miscadmin.h"

#include <cblas.h>
#include <lapacke.h>

#include "learners.h"

/* rows per block: the block stays in cache; wide problems use fewer rows */
#define MLC_LINEAR_BLOCK		2048
#define MLC_LINEAR_MIN_BLOCK	256
/* flops of one block's update, bounding the time between interrupt checks */
#define MLC_LINEAR_BLOCK_FLOPS	2147483648.0

/* widest problem the p x p solvers accept (each p x p copy is 128 MB) */
#define MLC_LINEAR_MAX_FEATURES 4096

/* the Cholesky path needs a (Jacobi-scaled) reciprocal condition at least this */
#define MLC_CHOLESKY_MIN_RCOND	1e-8

/* a column whose centered norm is below this fraction of the largest goes to SVD */
#define MLC_TINY_COLUMN			1e-7

static void check_linear_input(int64 n, int p);
static int	block_rows(int p1);
static int	tsqr_block_rows(int p1);
static void centered_gram(const MlcRows *rows, double *mean, double *M);
static bool solve_normal_equations(const double *M, int p, double *b);
static int	solve_tsqr(const MlcRows *rows, const double *mean, double *b);
static void copy_centered_block(const MlcRows *rows, int64 start, int nb,
								const double *center, double *buf);

/* Refuse inputs no least-squares fit can use */
static void
check_linear_input(int64 n, int p)
{
	if (n < 1)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("no training rows"),
				 errhint("Check that the relation has rows with a non-NULL target.")));
	if (p < 0)
		elog(ERROR, "negative feature count %d", p);
	if (p > MLC_LINEAR_MAX_FEATURES)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("too many features for least squares: %d, the limit is %d",
						p, MLC_LINEAR_MAX_FEATURES),
				 errhint("Exclude columns, or text columns with many distinct values.")));
}

/* Rows per block for p1 columns: at most MLC_LINEAR_BLOCK_FLOPS per update */
static int
block_rows(int p1)
{
	double		rows = MLC_LINEAR_BLOCK_FLOPS / ((double) p1 * p1);

	return (int) Max(MLC_LINEAR_MIN_BLOCK, Min(MLC_LINEAR_BLOCK, rows));
}

/*
 * Rows per TSQR block: at least 4 (p + 1), so re-factoring the carried R
 * costs little next to the new rows, with the stacked block under 256 MB.
 */
static int
tsqr_block_rows(int p1)
{
	int			rows = Max(block_rows(p1), 4 * p1);
	int			fit = (int) ((Size) 32 * 1024 * 1024 / p1) - p1;

	return Max(block_rows(p1), Min(rows, fit));
}

/* Copy rows [start, start + nb) of [X y] into buf, minus center (p + 1 values, or NULL) */
static void
copy_centered_block(const MlcRows *rows, int64 start, int nb,
					const double *center, double *buf)
{
	int			p1 = rows->p + 1;
	int			i,
				j;

	rows->fill(rows->arg, start, nb, buf);
	if (center == NULL)
		return;
	for (i = 0; i < nb; i++)
	{
		double	   *bi = buf + (Size) i * p1;

		for (j = 0; j < p1; j++)
			bi[j] -= center[j];
	}
}

/* MlcRows fill callback over a dense X and y */
static void
fill_from_arrays(void *arg, int64 start, int nb, double *out)
{
	const MlcRows *rows = (const MlcRows *) arg;
	int			p = rows->p;

	for (int i = 0; i < nb; i++)
	{
		memcpy(out + (Size) i * (p + 1), rows->X + (start + i) * p, p * sizeof(double));
		out[(Size) i * (p + 1) + p] = rows->y[start + i];
	}
}

/* Rows of a dense, row-major X and its target y */
void
mlc_rows_from_arrays(MlcRows *rows, const double *X, const double *y, int64 n, int p)
{
	rows->n = n;
	rows->p = p;
	rows->X = X;
	rows->y = y;
	rows->fill = fill_from_arrays;
	rows->arg = rows;
}

/*
 * One pass over [X y]: the column means and the centered cross-product
 * matrix M (p + 1 square, full storage), M = sum (z - mean)(z - mean)'.
 * Each block is centered on its own mean and merged with the pairwise
 * update of Chan, Golub and LeVeque, so no large sums cancel.
 */
static void
centered_gram(const MlcRows *rows, double *mean, double *M)
{
	int64		n = rows->n;
	int			p1 = rows->p + 1;
	int			block = block_rows(p1);
	double	   *buf = palloc((Size) block * p1 * sizeof(double));
	MlcGram		g;

	mlc_gram_init(&g, p1);
	for (int64 start = 0; start < n; start += block)
	{
		int			nb = (int) Min((int64) block, n - start);

		CHECK_FOR_INTERRUPTS();
		copy_centered_block(rows, start, nb, NULL, buf);
		mlc_gram_add_block(&g, buf, nb);
	}
	mlc_gram_finish(&g);
	memcpy(mean, g.mean, p1 * sizeof(double));
	memcpy(M, g.M, (Size) p1 * p1 * sizeof(double));
	pfree(buf);
}

/*
 * Fast path: Cholesky of the centered normal equations.  Columns with zero
 * variance get coefficient 0 (as the minimum-norm solution has).  Returns
 * false when a column is tiny but not zero or the system is ill
 * conditioned; the caller then uses the SVD path.
 */
static bool
solve_normal_equations(const double *M, int p, double *b)
{
	int			p1 = p + 1;
	int		   *active = palloc(Max(p, 1) * sizeof(int));
	double	   *G;
	double	   *g;
	double	   *x;
	double		maxdiag = 0.0;
	int			na = 0;
	int			i,
				j;
	bool		ok;

	for (j = 0; j < p; j++)
		maxdiag = Max(maxdiag, M[(Size) j * p1 + j]);
	for (j = 0; j < p; j++)
	{
		double		mjj = M[(Size) j * p1 + j];

		b[j] = 0.0;
		if (mjj == 0.0)
			continue;
		if (mjj < MLC_TINY_COLUMN * MLC_TINY_COLUMN * maxdiag)
		{
			pfree(active);
			return false;
		}
		active[na++] = j;
	}

	G = palloc((Size) Max(na, 1) * Max(na, 1) * sizeof(double));
	g = palloc(Max(na, 1) * sizeof(double));
	x = palloc(Max(na, 1) * sizeof(double));
	for (i = 0; i < na; i++)
	{
		for (j = 0; j < na; j++)
			G[(Size) i * na + j] = M[(Size) active[i] * p1 + active[j]];
		g[i] = M[(Size) active[i] * p1 + p];
	}
	ok = mlc_spd_solve(G, g, na, MLC_CHOLESKY_MIN_RCOND, x);
	if (ok)
		for (i = 0; i < na; i++)
			b[active[i]] = x[i];

	pfree(active);
	pfree(G);
	pfree(g);
	pfree(x);
	return ok;
}

/*
 * Robust path: a streaming (tall-skinny) Householder QR of the centered
 * [X y], block by block, then the minimum-norm solution of R b = Q'y by SVD.
 * R has the singular values of the centered X, so the rank decision is the
 * one an SVD of the whole matrix would make.  Returns the rank.
 */
static int
solve_tsqr(const MlcRows *rows, const double *mean, double *b)
{
	int64		n = rows->n;
	int			p = rows->p;
	int			p1 = p + 1;
	int			block = tsqr_block_rows(p1);
	int			ld = p1 + block;
	double	   *R = palloc0((Size) p1 * p1 * sizeof(double));
	double	   *A = palloc((Size) ld * p1 * sizeof(double));
	double	   *buf = palloc((Size) block * p1 * sizeof(double));
	double	   *tau = palloc(p1 * sizeof(double));
	double	   *Rxx = palloc((Size) Max(p, 1) * Max(p, 1) * sizeof(double));
	double	   *work;
	double		wquery = 0.0;
	double		rcond = DBL_EPSILON * (double) Max(n, (int64) p);
	lapack_int	lwork;
	lapack_int	info;
	int64		start;
	int			rank;
	int			i,
				j;

	info = LAPACKE_dgeqrf_work(LAPACK_COL_MAJOR, ld, p1, A, ld, tau, &wquery, -1);
	if (info != 0)
		elog(ERROR, "LAPACK dgeqrf workspace query failed with info %d", (int) info);
	lwork = (lapack_int) wquery + 1;
	work = palloc(lwork * sizeof(double));

	for (start = 0; start < n; start += block)
	{
		int			nb = (int) Min((int64) block, n - start);
		int			m = p1 + nb;

		CHECK_FOR_INTERRUPTS();
		copy_centered_block(rows, start, nb, mean, buf);

		/* stack R (row-major upper) on the block, column-major, lda = m */
		for (j = 0; j < p1; j++)
		{
			double	   *col = A + (Size) j * m;

			for (i = 0; i < p1; i++)
				col[i] = (i <= j) ? R[(Size) i * p1 + j] : 0.0;
			for (i = 0; i < nb; i++)
				col[p1 + i] = buf[(Size) i * p1 + j];
		}
		info = LAPACKE_dgeqrf_work(LAPACK_COL_MAJOR, m, p1, A, m, tau, work, lwork);
		if (info != 0)
			elog(ERROR, "LAPACK dgeqrf failed with info %d", (int) info);
		for (i = 0; i < p1; i++)
			for (j = i; j < p1; j++)
				R[(Size) i * p1 + j] = A[(Size) j * m + i];
	}

	/* R = [Rxx Qty; 0 r]: solve Rxx b ~ Qty */
	for (i = 0; i < p; i++)
	{
		for (j = 0; j < p; j++)
			Rxx[(Size) i * p + j] = R[(Size) i * p1 + j];
		tau[i] = R[(Size) i * p1 + p];
	}
	rank = mlc_minnorm_solve(Rxx, p, p, tau, rcond, b);

	pfree(R);
	pfree(A);
	pfree(buf);
	pfree(tau);
	pfree(Rxx);
	pfree(work);
	return rank;
}

/*
 * Ordinary least squares with an intercept.  coef gets p slopes and the
 * intercept; *rank (when not NULL) the rank of the centered X.  Rank
 * deficient problems get the minimum-norm slopes, as scipy's lstsq gives.
 */
void
mlc_fit_linear(const MlcRows *rows, double *coef, int *rank)
{
	int64		n = rows->n;
	int			p = rows->p;
	int			p1 = p + 1;
	double	   *mean;
	double	   *M;
	double		intercept;
	int			r;
	int			j;

	check_linear_input(n, p);
	mlc_linalg_prepare();
	mean = palloc(p1 * sizeof(double));
	M = palloc((Size) p1 * p1 * sizeof(double));
	centered_gram(rows, mean, M);

	if (!mlc_fit_linear_gram(mean, M, p, coef, &r))
	{
		r = solve_tsqr(rows, mean, coef);
		intercept = mean[p];
		for (j = 0; j < p; j++)
			intercept -= mean[j] * coef[j];
		coef[p] = intercept;
	}
	if (rank)
		*rank = r;

	pfree(mean);
	pfree(M);
}

/* Least squares from centered statistics; false when Cholesky cannot be trusted */
bool
mlc_fit_linear_gram(const double *mean, const double *M, int p, double *coef, int *rank)
{
	int			p1 = p + 1;
	double		intercept;
	int			r = 0;
	int			j;

	mlc_linalg_prepare();
	if (!solve_normal_equations(M, p, coef))
		return false;
	for (j = 0; j < p; j++)
		if (M[(Size) j * p1 + j] != 0.0)
			r++;
	intercept = mean[p];
	for (j = 0; j < p; j++)
		intercept -= mean[j] * coef[j];
	coef[p] = intercept;
	if (rank)
		*rank = r;
	return true;
}

/*
 * Ridge regression with an unpenalized intercept: solve
 * (Xc'Xc + alpha I) b = Xc'yc by Cholesky, as scikit-learn's Ridge does.
 */
void
mlc_fit_ridge(const MlcRows *rows, double alpha, double *coef)
{
	int64		n = rows->n;
	int			p = rows->p;
	int			p1 = p + 1;
	double	   *mean;
	double	   *M;

	if (!(alpha >= 0.0) || !isfinite(alpha))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("ridge alpha must be a non-negative number"),
				 errhint("Pass a hyperparameter such as {\"alpha\": 1}.")));
	if (alpha == 0.0)
	{
		mlc_fit_linear(rows, coef, NULL);
		return;
	}

	check_linear_input(n, p);
	mlc_linalg_prepare();
	mean = palloc(p1 * sizeof(double));
	M = palloc((Size) p1 * p1 * sizeof(double));
	centered_gram(rows, mean, M);
	mlc_fit_ridge_gram(mean, M, p, alpha, coef);
	pfree(mean);
	pfree(M);
}

/* Ridge regression from centered statistics of [X y] */
void
mlc_fit_ridge_gram(const double *mean, const double *M, int p, double alpha, double *coef)
{
	int			p1 = p + 1;
	double	   *A;
	double	   *g;
	double		intercept;
	int			i,
				j;

	mlc_linalg_prepare();
	A = palloc((Size) Max(p, 1) * Max(p, 1) * sizeof(double));
	g = palloc(Max(p, 1) * sizeof(double));
	for (i = 0; i < p; i++)
	{
		for (j = 0; j < p; j++)
			A[(Size) i * p + j] = M[(Size) i * p1 + j];
		A[(Size) i * p + i] += alpha;
		g[i] = M[(Size) i * p1 + p];
	}
	/* positive definite for alpha > 0; SVD only if rounding says otherwise */
	if (!mlc_spd_solve(A, g, p, 0.0, coef))
		(void) mlc_minnorm_solve(A, p, p, g, DBL_EPSILON * Max(p, 1), coef);

	intercept = mean[p];
	for (j = 0; j < p; j++)
		intercept -= mean[j] * coef[j];
	coef[p] = intercept;

	pfree(A);
	pfree(g);
}
