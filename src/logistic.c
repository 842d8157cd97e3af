/*
 * logistic.c
 *	  L2-penalized logistic regression (binary, and multinomial softmax),
 *	  scikit-learn's lbfgs objective 0.5 ||W||^2 + C sum_i w_i loss_i with an
 *	  unpenalized intercept, minimized by our own L-BFGS.
 */
#include "postgres.h"

#include <float.h>
#include <math.h>

#include "miscadmin.h"
#include "utils/memutils.h"

#include <cblas.h>

#include "learners.h"

/* rows per block: a block of X stays in cache between X.W and X'.G */
#define MLC_LOGIT_BLOCK			2048

/* L-BFGS memory, line search constants and evaluation budget */
#define MLC_LBFGS_M				10
#define MLC_LS_C1				1e-4
#define MLC_LS_C2				0.9
#define MLC_LS_MAX_EVALS		40
/* f may rise by this much (relative) from rounding during a line search */
#define MLC_LS_F_NOISE			1e-10

/* The problem: data, shape and scratch space */
typedef struct LogitProblem
{
	const double *X;			/* n x p, row-major */
	const int32 *y;				/* class indexes */
	const double *sw;			/* sample weights, or NULL for all ones */
	int64		n;
	int			p;
	int			K;				/* classes */
	int			rows;			/* coefficient rows: 1 (binary) or K */
	int			d;				/* rows * (p + 1) parameters */
	double		C;
	double	   *z;				/* MLC_LOGIT_BLOCK * rows scratch */
} LogitProblem;

/* L-BFGS history: the last m pairs (s, y) in a ring */
typedef struct LbfgsHistory
{
	int			m;
	int			d;
	int			count;			/* pairs held */
	int			head;			/* slot the next pair goes to */
	double	   *S;				/* m x d */
	double	   *Y;				/* m x d */
	double	   *rho;			/* 1 / (s'y) */
	double	   *alpha;			/* two-loop scratch */
} LbfgsHistory;

/* Scratch vectors the line search owns */
typedef struct LineSearch
{
	double	   *xt;				/* trial point */
	double	   *gt;				/* gradient at the trial point */
	double	   *xlo;			/* best descent point seen */
	double	   *glo;
} LineSearch;

/*
 * Binary loss and residual at margin z for label y (0/1): the loss is
 * log(1 + exp(-z)) when y = 1, log(1 + exp(z)) when y = 0, and *prob gets
 * sigmoid(z).  One exp() of -|z| serves both, without overflow.
 */
static inline double
binary_loss(double z, int y, double *prob)
{
	double		e = exp(-fabs(z));
	double		l1pe = log1p(e);

	*prob = (z >= 0.0) ? 1.0 / (1.0 + e) : e / (1.0 + e);
	/* softplus(z) = max(z, 0) + log1p(exp(-|z|)); softplus(-z) likewise */
	if (y)
		return ((z < 0.0) ? -z : 0.0) + l1pe;
	return ((z > 0.0) ? z : 0.0) + l1pe;
}

/* dot product of two d-vectors */
static double
dotv(const double *a, const double *b, int d)
{
	return cblas_ddot(d, a, 1, b, 1);
}

/* largest absolute component */
static double
norm_inf(const double *a, int d)
{
	double		m = 0.0;
	int			i;

	for (i = 0; i < d; i++)
		m = Max(m, fabs(a[i]));
	return m;
}

/* Add the penalty 0.5 ||W||^2 (intercepts excluded) and scale the loss by C */
static double
finish_objective(const LogitProblem *lp, const double *theta, double loss,
				 double *grad)
{
	int			p1 = lp->p + 1;
	double		pen = 0.0;
	int			k,
				j;

	for (k = 0; k < lp->rows; k++)
	{
		for (j = 0; j < lp->p; j++)
		{
			double		wj = theta[k * p1 + j];

			pen += wj * wj;
			grad[k * p1 + j] = lp->C * grad[k * p1 + j] + wj;
		}
		grad[k * p1 + lp->p] *= lp->C;
	}
	return lp->C * loss + 0.5 * pen;
}

/* Binary objective and gradient; class 1 is the positive class */
static double
binary_eval(const LogitProblem *lp, const double *theta, double *grad)
{
	int			p = lp->p;
	double		b = theta[p];
	double		loss = 0.0;
	int64		start;

	memset(grad, 0, lp->d * sizeof(double));
	for (start = 0; start < lp->n; start += MLC_LOGIT_BLOCK)
	{
		int			nb = (int) Min((int64) MLC_LOGIT_BLOCK, lp->n - start);
		const double *Xb = lp->X + start * p;
		double		bloss = 0.0;
		double		gb = 0.0;
		int			i;

		CHECK_FOR_INTERRUPTS();
		if (p > 0)
			cblas_dgemv(CblasRowMajor, CblasNoTrans, nb, p, 1.0, Xb, p,
						theta, 1, 0.0, lp->z, 1);
		else
			memset(lp->z, 0, nb * sizeof(double));

		/* loss and residual sw * (sigmoid(z) - y), stored over z */
		for (i = 0; i < nb; i++)
		{
			double		zi = lp->z[i] + b;
			double		s = lp->sw ? lp->sw[start + i] : 1.0;
			int			yi = lp->y[start + i];

			double		prob;

			bloss += s * binary_loss(zi, yi, &prob);
			lp->z[i] = s * (prob - yi);
			gb += lp->z[i];
		}
		loss += bloss;
		grad[p] += gb;
		if (p > 0)
			cblas_dgemv(CblasRowMajor, CblasTrans, nb, p, 1.0, Xb, p,
						lp->z, 1, 1.0, grad, 1);
	}
	return finish_objective(lp, theta, loss, grad);
}

/* Multinomial objective and gradient: K rows, softmax cross-entropy */
static double
multinomial_eval(const LogitProblem *lp, const double *theta, double *grad)
{
	int			p = lp->p;
	int			p1 = p + 1;
	int			K = lp->K;
	double		loss = 0.0;
	int64		start;
	int			k;

	memset(grad, 0, lp->d * sizeof(double));
	for (start = 0; start < lp->n; start += MLC_LOGIT_BLOCK)
	{
		int			nb = (int) Min((int64) MLC_LOGIT_BLOCK, lp->n - start);
		const double *Xb = lp->X + start * p;
		double		bloss = 0.0;
		int			i;

		CHECK_FOR_INTERRUPTS();
		if (p > 0)
			cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, nb, K, p, 1.0,
						Xb, p, theta, p1, 0.0, lp->z, K);
		else
			memset(lp->z, 0, (Size) nb * K * sizeof(double));

		/* loss and residuals sw * (softmax(z) - onehot(y)), stored over z */
		for (i = 0; i < nb; i++)
		{
			double	   *zi = lp->z + (Size) i * K;
			double		s = lp->sw ? lp->sw[start + i] : 1.0;
			int			yi = lp->y[start + i];
			double		zmax = -DBL_MAX;
			double		zy;
			double		sum = 0.0;

			for (k = 0; k < K; k++)
			{
				zi[k] += theta[k * p1 + p];
				zmax = Max(zmax, zi[k]);
			}
			zy = zi[yi];
			for (k = 0; k < K; k++)
			{
				zi[k] = exp(zi[k] - zmax);
				sum += zi[k];
			}
			/* log-sum-exp(z) - z_y */
			bloss += s * ((zmax - zy) + log(sum));
			for (k = 0; k < K; k++)
			{
				zi[k] = s * (zi[k] / sum - (k == yi ? 1.0 : 0.0));
				grad[k * p1 + p] += zi[k];
			}
		}
		loss += bloss;
		if (p > 0)
			cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, K, p, nb, 1.0,
						lp->z, K, Xb, p, 1.0, grad, p1);
	}
	return finish_objective(lp, theta, loss, grad);
}

/* Objective and gradient at theta */
static double
logit_eval(const LogitProblem *lp, const double *theta, double *grad)
{
	return (lp->rows == 1) ? binary_eval(lp, theta, grad)
		: multinomial_eval(lp, theta, grad);
}

/* dir = -H g by the two-loop recursion (H0 scaled by s'y / y'y) */
static void
lbfgs_direction(LbfgsHistory *h, const double *g, double *dir)
{
	int			d = h->d;
	int			i,
				j;

	for (j = 0; j < d; j++)
		dir[j] = -g[j];
	for (i = 0; i < h->count; i++)
	{
		int			slot = (h->head - 1 - i + 2 * h->m) % h->m;

		h->alpha[slot] = h->rho[slot] * dotv(h->S + (Size) slot * d, dir, d);
		cblas_daxpy(d, -h->alpha[slot], h->Y + (Size) slot * d, 1, dir, 1);
	}
	if (h->count > 0)
	{
		int			newest = (h->head - 1 + h->m) % h->m;
		const double *yn = h->Y + (Size) newest * d;

		cblas_dscal(d, 1.0 / (h->rho[newest] * dotv(yn, yn, d)), dir, 1);
	}
	for (i = h->count - 1; i >= 0; i--)
	{
		int			slot = (h->head - 1 - i + 2 * h->m) % h->m;
		double		beta = h->rho[slot] * dotv(h->Y + (Size) slot * d, dir, d);

		cblas_daxpy(d, h->alpha[slot] - beta, h->S + (Size) slot * d, 1, dir, 1);
	}
}

/* Remember the pair (s, y) = (x1 - x0, g1 - g0) when its curvature is positive */
static void
lbfgs_push(LbfgsHistory *h, const double *x0, const double *x1,
		   const double *g0, const double *g1)
{
	int			d = h->d;
	double	   *s = h->S + (Size) h->head * d;
	double	   *y = h->Y + (Size) h->head * d;
	double		sy;
	int			j;

	for (j = 0; j < d; j++)
	{
		s[j] = x1[j] - x0[j];
		y[j] = g1[j] - g0[j];
	}
	sy = dotv(s, y, d);
	if (!(sy > DBL_EPSILON * sqrt(dotv(s, s, d) * dotv(y, y, d))))
		return;
	h->rho[h->head] = 1.0 / sy;
	h->head = (h->head + 1) % h->m;
	h->count = Min(h->count + 1, h->m);
}

/* Next trial step inside the bracket [lo, hi] from the directional derivatives */
static double
next_step(double lo, double dlo, double hi, double dhi)
{
	double		w = hi - lo;
	double		t;

	if (!isfinite(dhi) || !(dhi > dlo))
		return lo + 0.5 * w;
	/* secant on phi': where the derivative would cross zero */
	t = lo - dlo * w / (dhi - dlo);
	return Min(Max(t, lo + 0.1 * w), hi - 0.1 * w);
}

/*
 * Line search along dir from x (value f0, gradient g0), for a convex
 * objective.  Accepts a step meeting the weak Wolfe conditions, or, when f
 * no longer changes beyond rounding, one whose directional derivative has
 * fallen to within c2 of its start (an approximate Wolfe step, which keeps
 * progressing where the value is all noise).  On success x, f and g hold
 * the new point.  Returns false when no step made progress.
 */
static bool
line_search(const LogitProblem *lp, LineSearch *ls, double *x, double *f,
			double *g, const double *dir, double step)
{
	int			d = lp->d;
	double		f0 = *f;
	double		d0 = dotv(g, dir, d);
	double		fnoise = MLC_LS_F_NOISE * Max(fabs(f0), 1.0);
	double		lo = 0.0,
				dlo = d0,
				flo = f0;
	double		hi = INFINITY,
				dhi = INFINITY;
	int			eval;

	for (eval = 0; eval < MLC_LS_MAX_EVALS; eval++)
	{
		double		ft;
		double		dt;
		bool		curvature;
		bool		armijo;
		int			j;

		for (j = 0; j < d; j++)
			ls->xt[j] = x[j] + step * dir[j];
		ft = logit_eval(lp, ls->xt, ls->gt);
		dt = dotv(ls->gt, dir, d);
		if (!isfinite(ft) || !isfinite(dt))
		{
			hi = step;
			dhi = INFINITY;
			step = next_step(lo, dlo, hi, dhi);
			continue;
		}

		armijo = ft <= f0 + MLC_LS_C1 * step * d0;
		curvature = dt >= MLC_LS_C2 * d0;
		if (curvature &&
			(armijo || (ft <= f0 + fnoise && dt <= -MLC_LS_C2 * d0)))
		{
			memcpy(x, ls->xt, d * sizeof(double));
			memcpy(g, ls->gt, d * sizeof(double));
			*f = ft;
			return true;
		}

		if (!curvature && ft <= f0 + fnoise)
		{
			/* still descending steeply: the step is too short */
			lo = step;
			dlo = dt;
			flo = ft;
			memcpy(ls->xlo, ls->xt, d * sizeof(double));
			memcpy(ls->glo, ls->gt, d * sizeof(double));
			step = isinf(hi) ? 4.0 * step : next_step(lo, dlo, hi, dhi);
		}
		else
		{
			/* past the minimum along dir, or the value went up */
			hi = step;
			dhi = dt;
			step = next_step(lo, dlo, hi, dhi);
		}
	}

	/* out of evaluations: keep the best short step, if any */
	if (lo > 0.0 && flo <= f0)
	{
		memcpy(x, ls->xlo, d * sizeof(double));
		memcpy(g, ls->glo, d * sizeof(double));
		*f = flo;
		return true;
	}
	return false;
}

/* Refuse parameters and data the fit cannot use; returns sum of weights */
static double
check_logistic_input(const int32 *y, const double *sw, int64 n, int p, int K,
					 double C, int max_iter, double tol)
{
	double	   *classw;
	double		total = 0.0;
	int64		i;
	int			k;

	if (n < 1)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("no training rows"),
				 errhint("Check that the relation has rows with a non-NULL target.")));
	if (K < 2 || p < 0)
		elog(ERROR, "logistic regression needs at least 2 classes, got %d", K);
	if (!(C > 0.0) || !isfinite(C))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("logistic regression C must be a positive number"),
				 errhint("Pass a hyperparameter such as {\"C\": 1}.")));
	/* L-BFGS holds 2 * MLC_LBFGS_M + 8 vectors of K * (p + 1) values */
	if ((double) K * (p + 1) * (2 * MLC_LBFGS_M + 8) * sizeof(double) >
		(double) MaxAllocSize)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("too many features times classes for logistic regression"),
				 errhint("Exclude columns, or text columns with many distinct values.")));
	if (max_iter < 1 || !(tol > 0.0) || !isfinite(tol))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("logistic regression needs max_iter >= 1 and a positive tol"),
				 errhint("Omit max_iter and tol to use the defaults.")));

	classw = palloc0(K * sizeof(double));
	for (i = 0; i < n; i++)
	{
		double		s = sw ? sw[i] : 1.0;

		if ((i & 65535) == 0)
			CHECK_FOR_INTERRUPTS();
		if (y[i] < 0 || y[i] >= K)
			elog(ERROR, "class index %d out of range [0, %d)", (int) y[i], K);
		if (!(s >= 0.0) || !isfinite(s))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("sample weights must be finite and non-negative")));
		classw[y[i]] += s;
	}
	for (k = 0; k < K; k++)
	{
		if (!(classw[k] > 0.0))
			ereport(ERROR,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("a class has no training rows with positive weight"),
					 errhint("Every class of the target must occur among the training rows.")));
		total += classw[k];
	}
	pfree(classw);
	return total;
}

/* The minimizer: L-BFGS from theta = 0; returns the iterations used */
static int
lbfgs_minimize(const LogitProblem *lp, double *x, int max_iter, double gtol,
			   double *gmax_out)
{
	int			d = lp->d;
	LbfgsHistory h;
	LineSearch	ls;
	double	   *g = palloc(d * sizeof(double));
	double	   *dir = palloc(d * sizeof(double));
	double	   *xold = palloc(d * sizeof(double));
	double	   *gold = palloc(d * sizeof(double));
	double		f;
	double		gmax;
	int			iter = 0;

	h.m = MLC_LBFGS_M;
	h.d = d;
	h.count = 0;
	h.head = 0;
	h.S = palloc((Size) h.m * d * sizeof(double));
	h.Y = palloc((Size) h.m * d * sizeof(double));
	h.rho = palloc(h.m * sizeof(double));
	h.alpha = palloc(h.m * sizeof(double));
	ls.xt = palloc(d * sizeof(double));
	ls.gt = palloc(d * sizeof(double));
	ls.xlo = palloc(d * sizeof(double));
	ls.glo = palloc(d * sizeof(double));

	memset(x, 0, d * sizeof(double));
	f = logit_eval(lp, x, g);
	gmax = norm_inf(g, d);
	if (!isfinite(f) || !isfinite(gmax))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("training data contains infinite or NaN values"),
				 errhint("Remove or impute infinite values before training.")));

	while (gmax > gtol && iter < max_iter)
	{
		double		step;

		CHECK_FOR_INTERRUPTS();
		iter++;
		lbfgs_direction(&h, g, dir);
		if (!(dotv(g, dir, d) < 0.0))
		{
			/* not a descent direction: forget the curvature pairs */
			h.count = 0;
			lbfgs_direction(&h, g, dir);
		}
		step = (h.count > 0) ? 1.0 : 1.0 / sqrt(dotv(g, g, d));
		memcpy(xold, x, d * sizeof(double));
		memcpy(gold, g, d * sizeof(double));
		if (!line_search(lp, &ls, x, &f, g, dir, step))
		{
			if (h.count == 0)
				break;			/* steepest descent cannot progress either */
			h.count = 0;
			continue;
		}
		lbfgs_push(&h, xold, x, gold, g);
		gmax = norm_inf(g, d);
	}
	*gmax_out = gmax;

	pfree(g);
	pfree(dir);
	pfree(xold);
	pfree(gold);
	pfree(h.S);
	pfree(h.Y);
	pfree(h.rho);
	pfree(h.alpha);
	pfree(ls.xt);
	pfree(ls.gt);
	pfree(ls.xlo);
	pfree(ls.glo);
	return iter;
}

/*
 * L2-penalized logistic regression; see learners.h.  Stops when the largest
 * gradient component is at most tol * max(1, C * sum of weights), i.e. tol
 * relative to the scale of the data term.  Not converging is a WARNING.
 */
int
mlc_fit_logistic(const double *X, const int32 *y, const double *sample_weight,
				 int64 n, int p, int K, double C, int max_iter, double tol,
				 double *coef)
{
	LogitProblem lp;
	double		wsum;
	double		gtol;
	double		gmax = 0.0;
	int			iter;

	wsum = check_logistic_input(y, sample_weight, n, p, K, C, max_iter, tol);
	mlc_linalg_prepare();

	lp.X = X;
	lp.y = y;
	lp.sw = sample_weight;
	lp.n = n;
	lp.p = p;
	lp.K = K;
	lp.rows = (K == 2) ? 1 : K;
	lp.d = lp.rows * (p + 1);
	lp.C = C;
	lp.z = palloc((Size) MLC_LOGIT_BLOCK * lp.rows * sizeof(double));

	gtol = tol * Max(1.0, C * wsum);
	iter = lbfgs_minimize(&lp, coef, max_iter, gtol, &gmax);

	/* multinomial intercepts are defined up to a shift: center them */
	if (lp.rows > 1)
	{
		double		mean = 0.0;
		int			k;

		for (k = 0; k < K; k++)
			mean += coef[k * (p + 1) + p];
		mean /= K;
		for (k = 0; k < K; k++)
			coef[k * (p + 1) + p] -= mean;
	}

	if (gmax > gtol)
		ereport(WARNING,
				(errmsg("logistic regression did not converge in %d iterations", iter),
				 errdetail("The largest gradient component is %g; the tolerance is %g.",
						   gmax, gtol),
				 errhint("Raise the max_iter hyperparameter, raise tol, or lower C.")));

	pfree(lp.z);
	return iter;
}
