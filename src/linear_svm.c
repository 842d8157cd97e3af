/*
 * linear_svm.c
 *	  Linear support vector classifier with the hinge loss, liblinear's dual
 *	  coordinate descent (scikit-learn's LinearSVC(loss='hinge', dual=True)):
 *	  the intercept is a feature of constant value intercept_scaling and is
 *	  regularized like liblinear's; multiclass is one-vs-rest.
 */
#include "postgres.h"

#include <math.h>

#include "common/pg_prng.h"
#include "miscadmin.h"

#include "learners.h"

/*
 * One binary problem: minimize 0.5 ||w||^2 + C sum_i max(0, 1 - y_i w'z_i)
 * over w in R^(p+1), z_i = (x_i, B), by coordinate descent on the dual
 * 0 <= alpha_i <= upper_i (C, times the class weight), in a random order each sweep, with liblinear's
 * shrinking: a variable at a bound whose gradient points outward by more
 * than the last sweep's extreme projected gradient leaves the active set.
 * Stops when the projected gradient's spread max PG - min PG over a sweep
 * of the whole set is at most tol (liblinear's test).  w gets p weights and
 * the intercept w[p] * B.  Returns the sweeps made, or -1 when max_iter
 * sweeps did not converge.
 */
static int
svm_fit_binary(const double *X, const double *sign, const double *qd, int64 n, int p,
			   const double *upper, double B, int max_iter, double tol, int64 *order,
			   double *alpha, double *w)
{
	pg_prng_state rng;
	int			iter;
	int64		active = n;
	double		pgmax_old = INFINITY,
				pgmin_old = -INFINITY;

	pg_prng_seed(&rng, 0);
	memset(alpha, 0, sizeof(double) * n);
	memset(w, 0, sizeof(double) * (p + 1));
	for (int64 i = 0; i < n; i++)
		order[i] = i;
	for (iter = 0; iter < max_iter; iter++)
	{
		double		pgmax = -INFINITY,
					pgmin = INFINITY;

		CHECK_FOR_INTERRUPTS();
		for (int64 i = 0; i < active - 1; i++)
		{
			int64		j = i + (int64) pg_prng_uint64_range(&rng, 0, (uint64) (active - 1 - i));
			int64		t = order[i];

			order[i] = order[j];
			order[j] = t;
		}
		for (int64 s = 0; s < active; s++)
		{
			int64		i = order[s];
			const double *x = X + i * (int64) p;
			double		g = w[p] * B;
			double		pg = 0;

			for (int j = 0; j < p; j++)
				g += w[j] * x[j];
			g = sign[i] * g - 1.0;
			if (alpha[i] == 0)
			{
				if (g > pgmax_old)
				{
					/* shrink: swap out of the active set and look at the same slot again */
					order[s--] = order[--active];
					order[active] = i;
					continue;
				}
				pg = Min(g, 0.0);
			}
			else if (alpha[i] == upper[i])
			{
				if (g < pgmin_old)
				{
					order[s--] = order[--active];
					order[active] = i;
					continue;
				}
				pg = Max(g, 0.0);
			}
			else
				pg = g;
			pgmax = Max(pgmax, pg);
			pgmin = Min(pgmin, pg);
			if (fabs(pg) > 1e-12)
			{
				double		old = alpha[i];
				double		d;

				alpha[i] = Min(Max(old - g / qd[i], 0.0), upper[i]);
				d = (alpha[i] - old) * sign[i];
				for (int j = 0; j < p; j++)
					w[j] += d * x[j];
				w[p] += d * B;
			}
		}
		if (pgmax - pgmin <= tol)
		{
			if (active == n)
				break;
			/* converged on the active set: check every variable once more */
			active = n;
			pgmax_old = INFINITY;
			pgmin_old = -INFINITY;
			continue;
		}
		pgmax_old = pgmax > 0 ? pgmax : INFINITY;
		pgmin_old = pgmin < 0 ? pgmin : -INFINITY;
	}
	w[p] *= B;
	return iter < max_iter ? iter + 1 : -1;
}

/*
 * Fit: y holds class indexes of m->classes; class_w (NULL: all 1) weighs C
 * per class as liblinear does: binary, each row's bound is C times its class's
 * weight; K > 2, problem k bounds its positive rows by C times class k's
 * weight and every other row by C.  Binary: one problem, +1 for the positive
 * class, coef row 0.  K > 2: one row per class against the rest.
 * Returns the largest number of sweeps; a problem that did not converge is a
 * WARNING, like scikit-learn's ConvergenceWarning.
 */
int
mlc_fit_linear_svm(MlcModel *m, const double *X, const int32 *y, int64 n, double C,
				   const double *class_w, double intercept_scaling, int max_iter, double tol)
{
	int			p = m->nfeatures;
	int			K = m->nclasses;
	int			rows = K == 2 ? 1 : K;
	double	   *sign = palloc(sizeof(double) * Max(n, 1));
	double	   *qd = palloc(sizeof(double) * Max(n, 1));
	double	   *alpha = palloc(sizeof(double) * Max(n, 1));
	double	   *upper = palloc(sizeof(double) * Max(n, 1));
	int64	   *order = palloc(sizeof(int64) * Max(n, 1));
	int			most = 0;
	bool		converged = true;

	for (int64 i = 0; i < n; i++)
	{
		const double *x = X + i * (int64) p;
		double		s = intercept_scaling * intercept_scaling;

		for (int j = 0; j < p; j++)
			s += x[j] * x[j];
		qd[i] = s;
	}
	m->ncoef_rows = rows;
	m->coef = palloc0(sizeof(double) * rows * (p + 1));
	for (int r = 0; r < rows; r++)
	{
		int			cls = K == 2 ? m->positive_class : r;
		int			it;

		for (int64 i = 0; i < n; i++)
		{
			sign[i] = y[i] == cls ? 1.0 : -1.0;
			upper[i] = C;
			if (class_w && (K == 2 || y[i] == cls))
				upper[i] = C * class_w[y[i]];
		}
		it = svm_fit_binary(X, sign, qd, n, p, upper, intercept_scaling, max_iter, tol, order, alpha,
							m->coef + r * (p + 1));
		if (it < 0)
			converged = false;
		most = Max(most, it < 0 ? max_iter : it);
	}
	if (!converged)
		ereport(WARNING,
				(errmsg("linear_svm did not converge in %d iterations", max_iter),
				 errhint("Raise max_iter or tol, or lower C.")));
	pfree(sign);
	pfree(qd);
	pfree(alpha);
	pfree(upper);
	pfree(order);
	return most;
}
