/*
 * elastic_net.c
 *	  Lasso and elastic net regression by cyclic coordinate descent, with
 *	  scikit-learn's objective: (1 / 2n) ||y - Xw - b||^2 + alpha l1_ratio ||w||_1
 *	  + (alpha (1 - l1_ratio) / 2) ||w||^2, the intercept unpenalized.
 */
#include "postgres.h"

#include <math.h>

#include "miscadmin.h"

#include "learners.h"
#include "mlcycle.h"

/* Soft thresholding: sign(x) max(|x| - t, 0) */
static inline double
soft_threshold(double x, double t)
{
	if (x > t)
		return x - t;
	if (x < -t)
		return x + t;
	return 0.0;
}

/* Centered copy of X in column-major order, the column means and the squared norms */
static double *
centered_columns(const double *X, int64 n, int p, double *mean, double *norm2)
{
	double	   *Z = mlc_alloc_large(sizeof(double) * Max(n, 1) * Max(p, 1));

	for (int j = 0; j < p; j++)
	{
		double	   *z = Z + (Size) j * n;
		double		s = 0.0,
					ss = 0.0;

		for (int64 i = 0; i < n; i++)
			s += X[i * p + j];
		mean[j] = s / (double) n;
		for (int64 i = 0; i < n; i++)
		{
			z[i] = X[i * p + j] - mean[j];
			ss += z[i] * z[i];
		}
		norm2[j] = ss;
	}
	return Z;
}

/*
 * Fit the elastic net (lasso when l1_ratio is 1).  coef gets p weights and
 * the intercept.  Stops when no weight moved by more than tol times the
 * largest weight in a sweep; returns the sweeps made (a WARNING when
 * max_iter ran out first).
 */
int
mlc_fit_elastic_net(const double *X, const double *y, int64 n, int p, double alpha,
					double l1_ratio, int max_iter, double tol, double *coef)
{
	double	   *mean = palloc(sizeof(double) * Max(p, 1));
	double	   *norm2 = palloc(sizeof(double) * Max(p, 1));
	double	   *r = mlc_alloc_large(sizeof(double) * Max(n, 1));
	double	   *Z;
	double		ymean = 0.0;
	double		l1 = (double) n * alpha * l1_ratio;
	double		l2 = (double) n * alpha * (1.0 - l1_ratio);
	int			iter;

	mlc_check_memory(sizeof(double) * (Size) n * (Size) Max(p, 1), "column-major training matrix");
	Z = centered_columns(X, n, p, mean, norm2);
	for (int64 i = 0; i < n; i++)
		ymean += y[i];
	ymean /= (double) n;
	for (int64 i = 0; i < n; i++)
		r[i] = y[i] - ymean;
	memset(coef, 0, sizeof(double) * (p + 1));

	for (iter = 1; iter <= max_iter; iter++)
	{
		double		max_dw = 0.0,
					max_w = 0.0;

		CHECK_FOR_INTERRUPTS();
		for (int j = 0; j < p; j++)
		{
			const double *z = Z + (Size) j * n;
			double		w_old = coef[j];
			double		rho = 0.0;

			if (norm2[j] == 0.0)
				continue;
			/* rho = z'(r + z w_old): the fit of column j to the residual without it */
			for (int64 i = 0; i < n; i++)
				rho += z[i] * r[i];
			rho += norm2[j] * w_old;
			coef[j] = soft_threshold(rho, l1) / (norm2[j] + l2);
			if (coef[j] != w_old)
			{
				double		d = coef[j] - w_old;

				for (int64 i = 0; i < n; i++)
					r[i] -= z[i] * d;
				max_dw = Max(max_dw, fabs(d));
			}
			max_w = Max(max_w, fabs(coef[j]));
		}
		if (max_w == 0.0 || max_dw <= tol * max_w)
			break;
	}
	if (iter > max_iter)
		ereport(WARNING,
				(errmsg("coordinate descent did not converge in %d sweeps", max_iter),
				 errhint("Raise max_iter or tol, or standardize the features.")));
	coef[p] = ymean;
	for (int j = 0; j < p; j++)
		coef[p] -= mean[j] * coef[j];
	pfree(Z);
	pfree(r);
	pfree(mean);
	pfree(norm2);
	return Min(iter, max_iter);
}
