/*
 * transform_math.c
 *	  The arithmetic of column transformers, shared by the SQL fit/apply
 *	  functions (transform.c) and ml_train's preprocess steps: quantiles,
 *	  power-transform lambdas by maximum likelihood, bin edges, calendar parts.
 */
#include "postgres.h"

#include <float.h>
#include <math.h>

#include "miscadmin.h"

#include "transform.h"

/* qsort comparator for doubles */
int
mlc_tf_cmp_double(const void *a, const void *b)
{
	double		x = *(const double *) a;
	double		y = *(const double *) b;

	return (x > y) - (x < y);
}

/* Linear-interpolated quantile of sorted values, with numpy's lerp */
double
mlc_tf_quantile(const double *v, int64 n, double q)
{
	double		pos = q * (double) (n - 1);
	int64		lo = (int64) floor(pos);
	int64		hi = Min(lo + 1, n - 1);
	double		t = pos - (double) lo;
	double		d = v[hi] - v[lo];

	if (lo >= n - 1)
		return v[n - 1];
	return t >= 0.5 ? v[hi] - d * (1.0 - t) : v[lo] + d * t;
}

/* Most frequent of sorted values (smallest among ties) */
double
mlc_tf_mode(const double *v, int64 n)
{
	double		best = v[0];
	int64		bestn = 0;

	for (int64 i = 0; i < n;)
	{
		int64		j = i;

		while (j < n && v[j] == v[i])
			j++;
		if (j - i > bestn)
		{
			bestn = j - i;
			best = v[i];
		}
		i = j;
	}
	return best;
}

/* Yeo-Johnson transform of x */
double
mlc_yeo_johnson(double x, double lambda)
{
	if (x >= 0)
		return fabs(lambda) < DBL_EPSILON ? log1p(x) : (pow(x + 1.0, lambda) - 1.0) / lambda;
	return fabs(lambda - 2.0) > DBL_EPSILON ?
		-(pow(1.0 - x, 2.0 - lambda) - 1.0) / (2.0 - lambda) : -log1p(-x);
}

/* Box-Cox transform of x > 0 */
double
mlc_box_cox(double x, double lambda)
{
	return lambda == 0.0 ? log(x) : (pow(x, lambda) - 1.0) / lambda;
}

/* Error for a non-positive value given to box_cox */
void
mlc_box_cox_domain_error(const char *what, double v)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("box_cox needs strictly positive values, and %s %g", what, v),
			 errhint("Use yeo_johnson, which accepts any value, or shift the column to be positive.")));
}

/* The data of a power-transform likelihood */
typedef struct MlcPowerData
{
	const double *v;
	const double *w;			/* weights, NULL for 1 each */
	int64		n;
	double		wsum;			/* the values' total weight */
	bool		box_cox;
	double		logsum;			/* weighted sum of log x (box_cox) or sign(x) log1p|x| */
} MlcPowerData;

/* The weight of value i (1 without weights: the unweighted sums stay bit for bit) */
static inline double
mlc_power_w(const double *w, int64 i)
{
	return w ? w[i] : 1.0;
}

/* The power transform of x */
static inline double
mlc_power_t(double x, bool box_cox, double lambda)
{
	return box_cox ? mlc_box_cox(x, lambda) : mlc_yeo_johnson(x, lambda);
}

/* Weighted mean and population variance of the transformed values (two passes) */
static void
mlc_power_moments(const MlcPowerData *d, double lambda, double *mean, double *var)
{
	double		m = 0,
				ss = 0;

	for (int64 i = 0; i < d->n; i++)
		m += mlc_power_w(d->w, i) * mlc_power_t(d->v[i], d->box_cox, lambda);
	m /= d->wsum;
	for (int64 i = 0; i < d->n; i++)
	{
		double		t = mlc_power_t(d->v[i], d->box_cox, lambda);

		ss += mlc_power_w(d->w, i) * ((t - m) * (t - m));
	}
	CHECK_FOR_INTERRUPTS();
	*mean = m;
	*var = ss / d->wsum;
}

/* Negative log-likelihood of lambda (up to a constant) */
static double
mlc_power_nll(const MlcPowerData *d, double lambda)
{
	double		mean,
				var;

	mlc_power_moments(d, lambda, &mean, &var);
	if (!(var >= DBL_MIN) || !isfinite(var))
		return INFINITY;
	return -(-d->wsum / 2.0 * log(var) + (lambda - 1.0) * d->logsum);
}

/*
 * Minimize f over a bracket found by golden expansion from (a, b), then by
 * Brent's parabolic/golden-section method to a relative tolerance of 1.48e-8
 * (scipy.optimize.brent's default).
 */
static double
mlc_brent_min(const MlcPowerData *d, double a, double b)
{
	const double gold = 1.618033988749895;
	const double cgold = 0.3819660112501051;
	const double tol = 1.48e-8;
	double		fa = mlc_power_nll(d, a),
				fb = mlc_power_nll(d, b),
				c,
				fc;
	double		x, w, v, fx, fw, fv, e = 0, step = 0, lo, hi;

	if (fa < fb)
	{
		double		t = a;

		a = b;
		b = t;
		t = fa;
		fa = fb;
		fb = t;
	}
	c = b + gold * (b - a);
	fc = mlc_power_nll(d, c);
	for (int it = 0; fc < fb && it < 100; it++)
	{
		a = b;
		fa = fb;
		b = c;
		fb = fc;
		c = b + gold * (b - a);
		fc = mlc_power_nll(d, c);
	}
	lo = Min(a, c);
	hi = Max(a, c);
	x = w = v = b;
	fx = fw = fv = fb;
	for (int it = 0; it < 500; it++)
	{
		double		mid = 0.5 * (lo + hi);
		double		tol1 = tol * fabs(x) + 1e-11;
		double		tol2 = 2.0 * tol1;
		double		u, fu;

		if (fabs(x - mid) <= tol2 - 0.5 * (hi - lo))
			break;
		if (fabs(e) > tol1)
		{
			double		r = (x - w) * (fx - fv);
			double		q = (x - v) * (fx - fw);
			double		p = (x - v) * q - (x - w) * r;
			double		etemp = e;

			q = 2.0 * (q - r);
			if (q > 0)
				p = -p;
			q = fabs(q);
			e = step;
			if (fabs(p) >= fabs(0.5 * q * etemp) || p <= q * (lo - x) || p >= q * (hi - x))
			{
				e = (x >= mid) ? lo - x : hi - x;
				step = cgold * e;
			}
			else
			{
				step = p / q;
				u = x + step;
				if (u - lo < tol2 || hi - u < tol2)
					step = (mid - x >= 0) ? tol1 : -tol1;
			}
		}
		else
		{
			e = (x >= mid) ? lo - x : hi - x;
			step = cgold * e;
		}
		u = (fabs(step) >= tol1) ? x + step : x + (step >= 0 ? tol1 : -tol1);
		fu = mlc_power_nll(d, u);
		if (fu <= fx)
		{
			if (u >= x)
				lo = x;
			else
				hi = x;
			v = w;
			fv = fw;
			w = x;
			fw = fx;
			x = u;
			fx = fu;
		}
		else
		{
			if (u < x)
				lo = u;
			else
				hi = u;
			if (fu <= fw || w == x)
			{
				v = w;
				fv = fw;
				w = u;
				fw = fu;
			}
			else if (fu <= fv || v == x || v == w)
			{
				v = u;
				fv = fu;
			}
		}
	}
	return x;
}

/* Fit lambda, then mean and std of the transformed values */
void
mlc_fit_power(const double *v, int64 n, bool box_cox, const char *what, double *out)
{
	mlc_fit_power_weighted(v, NULL, n, box_cox, what, out);
}

/* mlc_fit_power on values with weights (NULL: 1 each), as if each were repeated */
void
mlc_fit_power_weighted(const double *v, const double *w, int64 n, bool box_cox,
					   const char *what, double *out)
{
	MlcPowerData d = {v, w, n, 0.0, box_cox, 0.0};
	double		mean,
				var,
				lambda;

	for (int64 i = 0; i < n; i++)
	{
		if (box_cox && !(v[i] > 0))
			mlc_box_cox_domain_error(what, v[i]);
		d.wsum += mlc_power_w(w, i);
		d.logsum += mlc_power_w(w, i) * (box_cox ? log(v[i]) : copysign(log1p(fabs(v[i])), v[i]));
	}
	lambda = mlc_brent_min(&d, -2.0, 2.0);
	mlc_power_moments(&d, lambda, &mean, &var);
	out[0] = lambda;
	out[1] = mean;
	out[2] = sqrt(var);
	if (!(out[2] >= 10.0 * DBL_EPSILON) || !isfinite(out[2]))
		out[2] = 1.0;
}

/* The quantile (a fraction) of edge i of nbins quantile bins */
double
mlc_bin_edge_q(int i, int nbins)
{
	double		pct = (i == nbins) ? 100.0 : (double) i * (100.0 / nbins);

	return pct / 100.0;
}

/*
 * Quantile bin edges from the quantiles qv[i] at mlc_bin_edge_q(i, nbins),
 * i = 0 .. nbins: bins narrower than 1e-8 are dropped (as KBinsDiscretizer),
 * one bin is left when all are.  Returns the number of edges.
 */
int
mlc_bin_edges_from_quantiles(const double *qv, int nbins, double *edges)
{
	int			k = 0;

	for (int i = 0; i <= nbins; i++)
		if (k == 0 || qv[i] - edges[k - 1] > 1e-8)
			edges[k++] = qv[i];
	if (k < 2)
		edges[k++] = qv[nbins];	/* one bin: every value maps to 0 */
	return k;
}

/* Bin edges of sorted values: uniform or quantile; returns their number */
int
mlc_fit_bin_edges(const double *sorted, int64 n, int nbins, bool quantile, double *edges)
{
	int			k = 0;

	if (!quantile)
	{
		double		lo = sorted[0],
					hi = sorted[n - 1];
		double		step = (hi - lo) / nbins;

		for (int i = 0; i < nbins; i++)
			edges[i] = (step == 0.0) ? lo : (double) i * step + lo;
		edges[nbins] = hi;
		if (hi == lo)
		{
			/* a constant column has one bin (KBinsDiscretizer maps it to 0) */
			edges[1] = hi;
			return 2;
		}
		return nbins + 1;
	}
	{
		double	   *qv = palloc(sizeof(double) * (nbins + 1));

		for (int i = 0; i <= nbins; i++)
			qv[i] = mlc_tf_quantile(sorted, n, mlc_bin_edge_q(i, nbins));
		k = mlc_bin_edges_from_quantiles(qv, nbins, edges);
		pfree(qv);
		return k;
	}
}

/* Civil date of a day number since 1970-01-01 (proleptic Gregorian) */
static void
mlc_civil_from_days(int64 z, int64 *y, int *m, int *d)
{
	int64		era,
				doe,
				yoe,
				doy,
				mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int) (doy - (153 * mp + 2) / 5 + 1);
	*m = (int) (mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

/* The value of a calendar part of a time given as epoch seconds */
double
mlc_calendar_part(double epoch_seconds, int part)
{
	double		days = floor(epoch_seconds / 86400.0);
	double		sec = epoch_seconds - days * 86400.0;
	int64		y;
	int			m,
				d;

	switch (part)
	{
		case MLC_PART_DOW:
			return fmod(fmod(days + 4.0, 7.0) + 7.0, 7.0);
		case MLC_PART_HOUR:
			return floor(sec / 3600.0);
	}
	mlc_civil_from_days((int64) days, &y, &m, &d);
	if (part == MLC_PART_YEAR)
		return (double) y;
	return part == MLC_PART_MONTH ? (double) m : (double) d;
}

/*
 * The calendar features of a time: for each part code (MLC_PART_*, +
 * MLC_PART_CYCLIC for sin and cos over its period) one or two values into
 * out; returns how many were written.
 */
int
mlc_calendar_features(double epoch_seconds, const double *codes, int n, double *out)
{
	int			w = 0;

	for (int k = 0; k < n; k++)
	{
		int			part = (int) codes[k] & ~MLC_PART_CYCLIC;
		double		x = mlc_calendar_part(epoch_seconds, part);

		if ((int) codes[k] & MLC_PART_CYCLIC)
		{
			double		a = 2.0 * M_PI * (part == MLC_PART_MONTH || part == MLC_PART_DAY ? x - 1 : x) /
				mlc_calendar_period(part);

			out[w++] = sin(a);
			out[w++] = cos(a);
		}
		else
			out[w++] = x;
	}
	return w;
}

/* Period of a cyclic calendar part */
double
mlc_calendar_period(int part)
{
	switch (part)
	{
		case MLC_PART_MONTH:
			return 12.0;
		case MLC_PART_DAY:
			return 31.0;
		case MLC_PART_DOW:
			return 7.0;
		case MLC_PART_HOUR:
			return 24.0;
	}
	return 1.0;
}
