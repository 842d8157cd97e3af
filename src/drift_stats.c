/*
 * drift_stats.c
 *	  The statistics behind drift monitoring, as pure functions over sorted
 *	  samples and category counts: two-sample Kolmogorov-Smirnov with its
 *	  exact and asymptotic p-values, PSI, chi-square, Wasserstein and
 *	  Jensen-Shannon.  They reproduce scipy 1.10 / numpy 1.24.
 */
#include "postgres.h"

#include <float.h>
#include <math.h>

#include "miscadmin.h"

#include "drift_stats.h"

/* exp() of anything below this is 0 (cephes' MINLOG) */
#define MLC_MINLOG (-708.3964185322641)

/* scaling factor of the Durbin matrix power, 2^128 */
#define MLC_SCALE_EXP 128

/* cap on the work of an exact two-sample p-value (lattice points visited) */
#define MLC_KS_EXACT_MAX_WORK 4.0e9

/* smirnov(n, x) approximates beyond this n, as scipy does */
#define MLC_SMIRNOV_MAX_N 1000000

/* ------------------------------------------------------------------------
 * Small helpers
 * ------------------------------------------------------------------------
 */

/* A running sum with Neumaier's compensation */
typedef struct MlcSum
{
	double		sum;
	double		comp;
} MlcSum;

/* Add x to a compensated sum */
static inline void
mlc_sum_add(MlcSum *s, double x)
{
	double		t = s->sum + x;

	if (fabs(s->sum) >= fabs(x))
		s->comp += (s->sum - t) + x;
	else
		s->comp += (x - t) + s->sum;
	s->sum = t;
}

/* The value of a compensated sum */
static inline double
mlc_sum_value(const MlcSum *s)
{
	return s->sum + s->comp;
}

/* Add x to a long double sum with Kahan's compensation comp */
static inline void
mlc_ld_sum_add(long double *sum, long double *comp, long double x)
{
	long double y = x - *comp;
	long double t = *sum + y;

	*comp = (t - *sum) - y;
	*sum = t;
}

/* Clip a probability to [0, 1] */
static inline double
mlc_clip01(double p)
{
	if (p < 0.0)
		return 0.0;
	if (p > 1.0)
		return 1.0;
	return p;
}

/* Greatest common divisor of two positive integers */
static int64
mlc_gcd(int64 a, int64 b)
{
	while (b != 0)
	{
		int64		t = a % b;

		a = b;
		b = t;
	}
	return a;
}

/* floor(a / b) for b > 0 and any sign of a */
static inline int64
mlc_floor_div(int64 a, int64 b)
{
	if (a >= 0)
		return a / b;
	return -((-a + b - 1) / b);
}

/* ceil(a / b) for b > 0 and any sign of a */
static inline int64
mlc_ceil_div(int64 a, int64 b)
{
	if (a >= 0)
		return (a + b - 1) / b;
	return -((-a) / b);
}

/* ------------------------------------------------------------------------
 * Two-sample Kolmogorov-Smirnov: the statistic
 * ------------------------------------------------------------------------
 */

/*
 * D = max |F_ref(x) - F_cur(x)| over every value x of either sample, both
 * ECDFs taken right-continuous (all of a run of tied values counted at once),
 * as scipy's ks_2samp does.  d is the floating difference scipy reports in
 * its asymptotic mode; h the exact difference in units of 1/lcm(n, m).
 */
MlcKsStatistic
mlc_ks_statistic(const double *ref, int64 n, const double *cur, int64 m)
{
	MlcKsStatistic s = {0.0, 0, 0};
	int64		g;
	int64		ng;
	int64		mg;
	int64		i = 0;
	int64		j = 0;

	if (n < 1 || m < 1)
		return s;
	g = mlc_gcd(n, m);
	ng = n / g;
	mg = m / g;
	s.lcm = n * mg;
	while (i < n || j < m)
	{
		double		v;
		double		diff;
		int64		hd;

		if (j >= m || (i < n && ref[i] <= cur[j]))
			v = ref[i];
		else
			v = cur[j];
		while (i < n && ref[i] == v)
			i++;
		while (j < m && cur[j] == v)
			j++;
		diff = fabs((double) i / (double) n - (double) j / (double) m);
		if (diff > s.d)
			s.d = diff;
		hd = i * mg - j * ng;
		if (hd < 0)
			hd = -hd;
		if (hd > s.h)
			s.h = hd;
		if (((i + j) & 0xFFFF) == 0)
			CHECK_FOR_INTERRUPTS();
	}
	return s;
}

/* ------------------------------------------------------------------------
 * Two-sample Kolmogorov-Smirnov: the exact p-value
 * ------------------------------------------------------------------------
 */

/*
 * Equal sample sizes: P(D >= h/n) = 2 sum_{k>=1} (-1)^(k-1) C(2n, n-kh) / C(2n, n),
 * evaluated as 2 A_0 (1 - A_1 (1 - A_2 (1 - ...))) where A_k is the ratio of
 * consecutive binomial coefficients C(2n, n-(k+1)h) / C(2n, n-kh), a product
 * of h simple fractions; no term overflows and the alternation is folded.
 */
static double
mlc_ks_exact_square(int64 n, int64 h)
{
	double		p = 0.0;

	for (int64 k = n / h; k >= 0; k--)
	{
		double		a = 1.0;

		CHECK_FOR_INTERRUPTS();
		for (int64 j = 0; j < h; j++)
			a = (double) (n - k * h - j) * a / (double) (n + k * h + j + 1);
		p = a * (1.0 - p);
	}
	return 2.0 * p;
}

/*
 * Unequal sizes: the share of the C(n+m, n) monotone lattice paths from
 * (0, 0) to (m, n) that touch |x/m - y/n| >= h/lcm, i.e. |ng x - mg y| >= h
 * (Hodges' "inside" method).  The share is computed directly rather than as
 * 1 - (share inside), so that tiny p-values keep their relative precision:
 * V(x, y), the probability that a random path to (x, y) has touched the
 * boundary, is 1 outside the band and (x V(x-1, y) + y V(x, y-1)) / (x + y)
 * inside it.  Only the band of each column is stored.  Here m >= n.
 */
static double
mlc_ks_exact_band(int64 m, int64 n, int64 g, int64 h)
{
	int64		mg = m / g;
	int64		ng = n / g;
	double	   *prev = palloc((n + 1) * sizeof(double));
	double	   *col = palloc((n + 1) * sizeof(double));
	int64		plo = 0;
	int64		phi = Min(mlc_ceil_div(h, mg), n + 1);
	double		p;

	for (int64 j = 0; j < phi; j++)
		prev[j] = 0.0;
	for (int64 i = 1; i <= m; i++)
	{
		int64		lo = mlc_floor_div(ng * i - h, mg) + 1;
		int64		hi = Min(mlc_ceil_div(ng * i + h, mg), n + 1);
		double		val;
		double	   *t;

		CHECK_FOR_INTERRUPTS();
		lo = Max(lo, 0);
		lo = Min(lo, n);
		if (hi <= lo)
		{
			pfree(prev);
			pfree(col);
			return 1.0;
		}
		val = (lo == 0) ? 0.0 : 1.0;
		for (int64 j = lo; j < hi; j++)
		{
			double		left = (j >= plo && j < phi) ? prev[j] : 1.0;

			val = (left * (double) i + val * (double) j) / (double) (i + j);
			col[j] = val;
		}
		t = prev;
		prev = col;
		col = t;
		plo = lo;
		phi = hi;
	}
	p = prev[n];
	pfree(prev);
	pfree(col);
	return p;
}

/* Rough count of the lattice points the exact band method visits */
static double
mlc_ks_exact_work(int64 n, int64 m, int64 h)
{
	int64		big = Max(n, m);
	int64		small = Min(n, m);
	int64		g = mlc_gcd(n, m);
	double		band;

	if (n == m)
		return (double) n + (double) h;
	band = Min((double) small + 1.0, 2.0 * (double) h / (double) (big / g) + 2.0);
	return (double) big * band;
}

/*
 * Exact two-sided p-value P(D >= h/lcm(n, m)) of the two-sample statistic
 * under the null hypothesis; NaN when it cannot be computed (too much work,
 * or a value outside [0, 1]), where the caller falls back to the asymptotic
 * form as scipy does.
 */
double
mlc_ks_exact_sf(int64 n, int64 m, int64 h)
{
	int64		g;
	double		p;

	if (n < 1 || m < 1)
		return NAN;
	if (h <= 0)
		return 1.0;
	g = mlc_gcd(n, m);
	/* scipy gives up when lcm(n, m) does not fit a 32-bit integer */
	if ((double) (n / g) * (double) m >= (double) PG_INT32_MAX)
		return NAN;
	if (mlc_ks_exact_work(n, m, h) > MLC_KS_EXACT_MAX_WORK)
		return NAN;
	if (n == m)
		p = mlc_ks_exact_square(n, h);
	else if (m > n)
		p = mlc_ks_exact_band(m, n, g, h);
	else
		p = mlc_ks_exact_band(n, m, g, h);
	if (!(p >= 0.0 && p <= 1.0))
		return NAN;
	return p;
}

/*
 * Asymptotic two-sided p-value, scipy's choice since 1.5: the one-sample
 * Kolmogorov distribution kstwo.sf(d, en) for en = round(nm / (n + m)).
 */
double
mlc_ks_asymp_sf(int64 n, int64 m, double d)
{
	double		big = (double) Max(n, m);
	double		small = (double) Min(n, m);
	double		en = rint(big * small / (big + small));

	if (en < 1.0)
		en = 1.0;
	return mlc_kstwo_sf((int64) en, d);
}

/*
 * The two-sample test on sorted samples: method 'auto' is exact when the
 * larger sample has at most MLC_KS_MAX_EXACT_N values, asymptotic otherwise;
 * an exact computation that fails falls back to the asymptotic form and says
 * so.  The exact method reports D rounded to a multiple of 1/lcm(n, m).
 */
MlcKsResult
mlc_ks_test_sorted(const double *ref, int64 n, const double *cur, int64 m,
				   MlcKsMethod method)
{
	MlcKsStatistic s = mlc_ks_statistic(ref, n, cur, m);
	MlcKsResult r = {s.d, NAN, MLC_KS_ASYMP, false};

	if (method == MLC_KS_AUTO)
		method = (Max(n, m) <= MLC_KS_MAX_EXACT_N) ? MLC_KS_EXACT : MLC_KS_ASYMP;
	if (method == MLC_KS_EXACT)
	{
		double		p = mlc_ks_exact_sf(n, m, s.h);

		if (!isnan(p))
		{
			r.statistic = (double) s.h / (double) s.lcm;
			r.p_value = p;
			r.method = MLC_KS_EXACT;
			return r;
		}
		r.exact_failed = true;
	}
	r.p_value = mlc_clip01(mlc_ks_asymp_sf(n, m, s.d));
	r.method = MLC_KS_ASYMP;
	return r;
}

/* ------------------------------------------------------------------------
 * The one-sample Kolmogorov distribution kstwo(n) and its relatives
 * ------------------------------------------------------------------------
 */

/*
 * One-sided Smirnov survival function P(D+_n >= x), from the Birnbaum-Tingey
 * sum x sum_{j=0}^{floor(n(1-x))} C(n,j) (x + j/n)^(j-1) (1 - x - j/n)^(n-j)
 * whose terms are all positive, evaluated in long double and in logarithms
 * so that neither the binomials nor the powers overflow.  The special cases
 * and the approximation beyond MLC_SMIRNOV_MAX_N follow scipy.special.smirnov.
 */
double
mlc_smirnov_sf(int64 n, double x)
{
	double		nx_hi;
	double		nx_lo;
	double		fl;
	double		alpha;
	int64		nxfl;
	int64		nterms;
	long double logc = 0.0L;	/* log C(n, j), with its compensation */
	long double logc_comp = 0.0L;
	long double sum = 0.0L;
	long double last = 0.0L;

	if (n < 1 || isnan(x) || x < 0.0 || x > 1.0)
		return NAN;
	if (n == 1)
		return 1.0 - x;
	if (x == 0.0)
		return 1.0;
	if (x == 1.0)
		return 0.0;

	/* floor(n x) and its remainder, exactly */
	nx_hi = (double) n * x;
	nx_lo = fma((double) n, x, -nx_hi);
	fl = floor(nx_hi);
	if (nx_hi == fl && nx_lo < 0.0)
		fl -= 1.0;
	alpha = (nx_hi - fl) + nx_lo;
	if (alpha >= 1.0)
	{
		fl += 1.0;
		alpha = 0.0;
	}
	nxfl = (int64) fl;

	/* x <= 1/n: closed form */
	if (nxfl == 0 || (nxfl == 1 && alpha == 0.0))
		return mlc_clip01((double) (1.0L - (long double) x *
									powl(1.0L + (long double) x, (long double) (n - 1))));
	if (-2.0 * (double) n * x * x < MLC_MINLOG)
		return 0.0;
	/* x >= 1 - 1/n: closed form */
	if (nxfl >= n - 1)
		return mlc_clip01((double) powl(1.0L - (long double) x, (long double) n));
	if (n > MLC_SMIRNOV_MAX_N)
	{
		double		logp = -pow(6.0 * (double) n * x + 1.0, 2) / 18.0 / (double) n;

		if (logp < -M_LN2)
			return exp(logp);
		return mlc_clip01(1.0 - (-expm1(logp)));
	}

	nterms = n - nxfl;			/* j = 0 .. n - nxfl - 1 */
	for (int64 j = 0; j < nterms; j++)
	{
		long double base1 = ((long double) (nxfl + j) + alpha) / (long double) n;
		long double base2 = ((long double) (n - j - nxfl) - alpha) / (long double) n;
		long double logt = logc + (long double) (j - 1) * logl(base1) +
			(long double) (n - j) * logl(base2);
		long double t = expl(logt);

		sum += t;
		/* past the peak, stop once the rest cannot matter */
		if (t > 0.0L && t < last &&
			4.0L * (long double) (nterms - j) * t < (long double) DBL_EPSILON * sum)
			break;
		last = t;
		mlc_ld_sum_add(&logc, &logc_comp,
					   logl((long double) (n - j)) - logl((long double) (j + 1)));
		if ((j & 0xFFF) == 0)
			CHECK_FOR_INTERRUPTS();
	}
	return mlc_clip01((double) ((long double) x * sum));
}

/* Multiply two k x k matrices: c = a b (c distinct from a and b) */
static void
mlc_matmul(const double *a, const double *b, double *c, int k)
{
	for (int i = 0; i < k; i++)
	{
		for (int j = 0; j < k; j++)
			c[i * k + j] = 0.0;
		for (int l = 0; l < k; l++)
		{
			double		ail = a[i * k + l];

			if (ail == 0.0)
				continue;
			for (int j = 0; j < k; j++)
				c[i * k + j] += ail * b[l * k + j];
		}
	}
}

/* Largest absolute entry of a k x k matrix */
static double
mlc_matmax(const double *a, int k)
{
	double		mx = 0.0;

	for (int i = 0; i < k * k; i++)
		mx = Max(mx, fabs(a[i]));
	return mx;
}

/*
 * P(D_n < d) by Durbin's matrix method as organised by Marsaglia, Tsang and
 * Wang (2003): with d = (k - h)/n, the k-th diagonal element of H^n times
 * n!/n^n, where H is a (2k-1)-square matrix of reciprocal factorials.  The
 * power is taken by squaring, rescaled by 2^128 to stay in range.
 */
static double
mlc_kolmogorov_cdf_durbin(int64 n, double d)
{
	double		nd = (double) n * d;
	int			k;
	int			m;
	double		h;
	double	   *H;
	double	   *P;
	double	   *T;
	double	   *fact;
	int64		e_h = 0;
	int64		e_p = 0;
	int64		nn = n;
	double		p;

	if (d >= 1.0)
		return 1.0;
	if (nd <= 0.5)
		return 0.0;
	k = (int) ceil(nd);
	h = (double) k - nd;
	m = 2 * k - 1;

	H = palloc0(sizeof(double) * m * m);
	P = palloc0(sizeof(double) * m * m);
	T = palloc(sizeof(double) * m * m);
	fact = palloc(sizeof(double) * (m + 1));	/* 1/i! */
	fact[0] = 1.0;
	for (int i = 1; i <= m; i++)
		fact[i] = fact[i - 1] / (double) i;

	for (int i = 0; i < m; i++)
		for (int j = 0; j < m; j++)
			if (i - j + 1 >= 0)
				H[i * m + j] = fact[i - j + 1];
	for (int i = 0; i < m; i++)
	{
		H[i * m] -= pow(h, i + 1) * fact[i + 1];
		H[(m - 1) * m + i] -= pow(h, m - i) * fact[m - i];
	}
	if (2.0 * h - 1.0 > 0.0)
		H[(m - 1) * m] += pow(2.0 * h - 1.0, m) * fact[m];

	for (int i = 0; i < m; i++)
		P[i * m + i] = 1.0;
	while (nn > 0)
	{
		CHECK_FOR_INTERRUPTS();
		if (nn & 1)
		{
			mlc_matmul(P, H, T, m);
			memcpy(P, T, sizeof(double) * m * m);
			e_p += e_h;
			if (mlc_matmax(P, m) > ldexp(1.0, MLC_SCALE_EXP))
			{
				for (int i = 0; i < m * m; i++)
					P[i] = ldexp(P[i], -MLC_SCALE_EXP);
				e_p += MLC_SCALE_EXP;
			}
		}
		nn >>= 1;
		if (nn == 0)
			break;
		mlc_matmul(H, H, T, m);
		memcpy(H, T, sizeof(double) * m * m);
		e_h *= 2;
		if (mlc_matmax(H, m) > ldexp(1.0, MLC_SCALE_EXP))
		{
			for (int i = 0; i < m * m; i++)
				H[i] = ldexp(H[i], -MLC_SCALE_EXP);
			e_h += MLC_SCALE_EXP;
		}
	}
	p = P[(k - 1) * m + (k - 1)];

	/* times n!/n^n, keeping p away from underflow */
	for (int64 i = 1; i <= n; i++)
	{
		p = (double) i * p / (double) n;
		if (p != 0.0 && fabs(p) < ldexp(1.0, -MLC_SCALE_EXP))
		{
			p = ldexp(p, MLC_SCALE_EXP);
			e_p -= MLC_SCALE_EXP;
		}
	}
	p = ldexp(p, (int) Max(Min(e_p, 100000), -100000));
	pfree(H);
	pfree(P);
	pfree(T);
	pfree(fact);
	return mlc_clip01(p);
}

/*
 * The Pelz-Good (1976) approximation of P(D_n <= x): the Li-Chien /
 * Korolyuk expansion K0(z) + K1(z)/sqrt(n) + K2(z)/n + K3(z)/n^1.5 at
 * z = x sqrt(n), each term rewritten through the Jacobi theta identity into
 * sums over odd m of polynomials in m^2 times exp(-m^2 pi^2 / (8 z^2)), plus
 * two correction sums over all k of k^2 exp(-k^2 pi^2 / (2 z^2)).
 */
static double
mlc_kolmogorov_cdf_pelz_good(int64 n, double x)
{
	const double pi2 = M_PI * M_PI;
	const double pi4 = pi2 * pi2;
	const double pi6 = pi4 * pi2;
	const double sqrt2pi = sqrt(2.0 * M_PI);
	double		z;
	double		z2,
				z3,
				z4,
				z6,
				z7,
				z8,
				z10;
	double		k0 = 0.0,
				k1 = 0.0,
				k2 = 0.0,
				k3 = 0.0;
	double		extra2 = 0.0,
				extra3 = 0.0;
	double		sn = sqrt((double) n);
	int			kmax;

	if (x <= 0.0)
		return 0.0;
	if (x >= 1.0)
		return 1.0;
	z = sn * x;
	z2 = z * z;
	z3 = z2 * z;
	z4 = z2 * z2;
	z6 = z4 * z2;
	z7 = z6 * z;
	z8 = z4 * z4;
	z10 = z8 * z2;
	if (-pi2 / 8.0 / z2 < -708.0)
		return 0.0;
	kmax = (int) ceil(16.0 * z / M_PI);

	for (int k = kmax; k >= 1; k--)
	{
		double		mo = 2.0 * k - 1.0;
		double		m2 = mo * mo;
		double		m4 = m2 * m2;
		double		m6 = m4 * m2;
		double		q = exp(-m2 * pi2 / (8.0 * z2));

		k0 += q;
		k1 += (pi2 * m2 / 4.0 - z2) * q;
		k2 += (6.0 * z6 + 2.0 * z4 + (2.0 * z4 - 5.0 * z2) * pi2 * m2 / 4.0 +
			   pi4 * (1.0 - 2.0 * z2) * m4 / 16.0) * q;
		k3 += (-30.0 * z6 - 90.0 * z8 + pi2 * (135.0 * z4 - 96.0 * z6) * m2 / 4.0 +
			   pi4 * (212.0 * z4 - 60.0 * z2) * m4 / 16.0 +
			   pi6 * (5.0 - 30.0 * z2) * m6 / 64.0) * q;
	}
	for (int k = kmax; k >= 1; k--)
	{
		double		kk = (double) k * k;
		double		q = exp(-kk * pi2 / (2.0 * z2));

		extra2 += kk * q;
		extra3 += (3.0 * z2 - pi2 * kk) * kk * q;
	}
	k0 *= sqrt2pi / z;
	k1 *= sqrt2pi / (6.0 * z4);
	k2 = k2 * sqrt2pi / (72.0 * z7) - extra2 * pi2 * sqrt2pi / (36.0 * z3);
	k3 = k3 * sqrt2pi / (6480.0 * z10) + extra3 * pi2 * sqrt2pi / (216.0 * z6);
	return k0 + k1 / sn + k2 / (double) n + k3 / ((double) n * sn);
}

/*
 * Survival function of kstwo(n), the two-sided one-sample Kolmogorov-Smirnov
 * statistic D_n: P(D_n >= x).  The method is chosen as Simard and L'Ecuyer
 * (2011) recommend and scipy.stats.kstwo does: closed forms at both ends
 * (Ruben-Gambino), twice the one-sided Smirnov tail where the two tails
 * cannot overlap or the overlap is negligible, Durbin's matrix method for
 * small n x^2 (also where scipy uses Pomeranz's recursion: both are exact),
 * and the Pelz-Good expansion for large n.
 */
double
mlc_kstwo_sf(int64 n, double x)
{
	double		t;
	double		nxx;
	double		cdf;

	if (n < 1 || isnan(x))
		return NAN;
	if (x >= 1.0)
		return 0.0;
	if (x <= 0.0)
		return 1.0;
	t = (double) n * x;
	if (t <= 1.0)
	{
		if (t <= 0.5)
			return 1.0;
		if (n <= 140)
		{
			cdf = 1.0;
			for (int64 i = 1; i <= n; i++)
				cdf *= (double) i * (1.0 / (double) n) * (2.0 * t - 1.0);
		}
		else
			cdf = exp(lgamma((double) n + 1.0) - (double) n * log((double) n) +
					  (double) n * log(2.0 * t - 1.0));
		return mlc_clip01(1.0 - cdf);
	}
	if (t >= (double) (n - 1))
		return mlc_clip01(2.0 * pow(1.0 - x, (double) n));
	if (x >= 0.5)
		return mlc_clip01(2.0 * mlc_smirnov_sf(n, x));

	nxx = t * x;
	if (n <= 140)
	{
		if (nxx <= 4.0)
			return mlc_clip01(1.0 - mlc_kolmogorov_cdf_durbin(n, x));
		return mlc_clip01(2.0 * mlc_smirnov_sf(n, x));
	}
	if (nxx >= 370.0)
		return 0.0;
	if (nxx >= 2.2)
		return mlc_clip01(2.0 * mlc_smirnov_sf(n, x));
	if (n <= 100000 && (double) n * pow(x, 1.5) <= 1.4)
		cdf = mlc_kolmogorov_cdf_durbin(n, x);
	else
		cdf = mlc_kolmogorov_cdf_pelz_good(n, x);
	return mlc_clip01(1.0 - cdf);
}

/*
 * Survival function of the limiting Kolmogorov distribution (scipy's
 * kstwobign, scipy.special.kolmogorov): 2 sum (-1)^(k-1) exp(-2 k^2 x^2) for
 * x > 0.82, and 1 - sqrt(2 pi)/x sum exp(-(2k-1)^2 pi^2 / (8 x^2)) below.
 */
double
mlc_kolmogorov_sf(double x)
{
	double		p = 0.0;

	if (isnan(x))
		return NAN;
	if (x <= 0.0)
		return 1.0;
	if (x <= M_PI / sqrt(8.0 * 746.0))
		return 1.0;
	if (x <= 0.82)
	{
		double		w = sqrt(2.0 * M_PI) / x;

		for (int k = 1; k <= 100; k++)
		{
			double		mo = 2.0 * k - 1.0;
			double		term = exp(-mo * mo * M_PI * M_PI / (8.0 * x * x));

			p += term;
			if (term <= p * 1e-18)
				break;
		}
		return mlc_clip01(1.0 - w * p);
	}
	for (int k = 1; k <= 100; k++)
	{
		double		term = exp(-2.0 * k * k * x * x);

		p += (k % 2 == 1) ? term : -term;
		if (term <= fabs(p) * 1e-18)
			break;
	}
	return mlc_clip01(2.0 * p);
}

/* ------------------------------------------------------------------------
 * The regularized incomplete gamma functions and chi-square
 * ------------------------------------------------------------------------
 */

/* u - log(1 + u) for u > -1, without cancellation near 0 */
static double
mlc_u_minus_log1p(double u)
{
	double		t;
	double		t2;
	double		tp;
	double		s = 0.0;

	if (fabs(u) >= 0.5)
		return u - log1p(u);
	/* log1p(u) = 2 atanh(t) with t = u/(2+u), and u - 2t = t u */
	t = u / (2.0 + u);
	t2 = t * t;
	tp = t * t2;
	for (int k = 3; k < 200; k += 2)
	{
		double		term = tp / (double) k;

		s += term;
		if (fabs(term) <= fabs(s) * 1e-17)
			break;
		tp *= t2;
	}
	return t * u - 2.0 * s;
}

/* lgamma(a) - ((a - 0.5) log a - a + log(2 pi)/2), for a >= 10 */
static double
mlc_stirling_error(double a)
{
	double		r = 1.0 / a;
	double		r2 = r * r;

	return r * (1.0 / 12.0 - r2 * (1.0 / 360.0 - r2 * (1.0 / 1260.0 -
													 r2 * (1.0 / 1680.0 - r2 * (1.0 / 1188.0)))));
}

/* log(x^a e^-x / Gamma(a)), accurate also when a and x are large */
static double
mlc_gamma_log_prefactor(double a, double x)
{
	if (a < 10.0)
		return a * log(x) - x - lgamma(a);
	return -a * mlc_u_minus_log1p((x - a) / a) + 0.5 * log(a / (2.0 * M_PI)) -
		mlc_stirling_error(a);
}

/* P(a, x) by its power series, for x < a + 1 */
static double
mlc_gamma_p_series(double a, double x)
{
	double		ap = a;
	double		term = 1.0 / a;
	double		sum = term;

	for (int i = 0; i < 100000; i++)
	{
		ap += 1.0;
		term *= x / ap;
		sum += term;
		if (fabs(term) < fabs(sum) * 1e-17)
			break;
	}
	return sum * exp(mlc_gamma_log_prefactor(a, x));
}

/* Q(a, x) by its continued fraction (modified Lentz), for x >= a + 1 */
static double
mlc_gamma_q_fraction(double a, double x)
{
	const double tiny = 1e-300;
	double		b = x + 1.0 - a;
	double		c = 1.0 / tiny;
	double		d = 1.0 / b;
	double		f = d;

	for (int i = 1; i < 100000; i++)
	{
		double		an = -(double) i * ((double) i - a);
		double		delta;

		b += 2.0;
		d = an * d + b;
		if (fabs(d) < tiny)
			d = tiny;
		c = b + an / c;
		if (fabs(c) < tiny)
			c = tiny;
		d = 1.0 / d;
		delta = d * c;
		f *= delta;
		if (fabs(delta - 1.0) < 1e-16)
			break;
	}
	return f * exp(mlc_gamma_log_prefactor(a, x));
}

/* The regularized lower incomplete gamma function P(a, x) */
double
mlc_gamma_p(double a, double x)
{
	if (isnan(a) || isnan(x) || a <= 0.0 || x < 0.0)
		return NAN;
	if (x == 0.0)
		return 0.0;
	if (isinf(x))
		return 1.0;
	if (x < a + 1.0)
		return mlc_clip01(mlc_gamma_p_series(a, x));
	return mlc_clip01(1.0 - mlc_gamma_q_fraction(a, x));
}

/* The regularized upper incomplete gamma function Q(a, x) = 1 - P(a, x) */
double
mlc_gamma_q(double a, double x)
{
	if (isnan(a) || isnan(x) || a <= 0.0 || x < 0.0)
		return NAN;
	if (x == 0.0)
		return 1.0;
	if (isinf(x))
		return 0.0;
	if (x < a + 1.0)
		return mlc_clip01(1.0 - mlc_gamma_p_series(a, x));
	return mlc_clip01(mlc_gamma_q_fraction(a, x));
}

/* Survival function of the chi-square distribution with df degrees of freedom */
double
mlc_chi2_sf(double x, double df)
{
	if (isnan(x) || isnan(df) || df <= 0.0)
		return NAN;
	if (x <= 0.0)
		return 1.0;
	return mlc_gamma_q(df / 2.0, x / 2.0);
}

/* Continued fraction of the incomplete beta function (modified Lentz) */
static double
mlc_betacf(double a, double b, double x)
{
	const double tiny = 1e-300;
	double		c = 1.0;
	double		d = 1.0 - (a + b) * x / (a + 1.0);
	double		h;

	if (fabs(d) < tiny)
		d = tiny;
	d = 1.0 / d;
	h = d;
	for (int m = 1; m <= 10000; m++)
	{
		double		m2 = 2.0 * m;
		double		aa = m * (b - m) * x / ((a + m2 - 1.0) * (a + m2));
		double		del;

		d = 1.0 + aa * d;
		d = fabs(d) < tiny ? tiny : d;
		c = 1.0 + aa / c;
		c = fabs(c) < tiny ? tiny : c;
		d = 1.0 / d;
		h *= d * c;
		aa = -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1.0));
		d = 1.0 + aa * d;
		d = fabs(d) < tiny ? tiny : d;
		c = 1.0 + aa / c;
		c = fabs(c) < tiny ? tiny : c;
		d = 1.0 / d;
		del = d * c;
		h *= del;
		if (fabs(del - 1.0) < 1e-16)
			break;
	}
	return h;
}

/* The regularized incomplete beta function I_x(a, b) */
double
mlc_beta_inc(double a, double b, double x)
{
	double		lbt;

	if (x <= 0.0)
		return 0.0;
	if (x >= 1.0)
		return 1.0;
	lbt = lgamma(a + b) - lgamma(a) - lgamma(b) + a * log(x) + b * log1p(-x);
	if (x < (a + 1.0) / (a + b + 2.0))
		return exp(lbt) * mlc_betacf(a, b, x) / a;
	return 1.0 - exp(lbt) * mlc_betacf(b, a, 1.0 - x) / b;
}

/*
 * Goodness of fit of the current counts to the reference proportions, as
 * scipy.stats.chisquare(cur, f_exp = ref * (n_cur / n_ref)); df = k - 1.  A
 * category absent from the reference would make the statistic infinite: it
 * counts MLC_CHI2_UNSEEN_COUNT observations there instead (the expected
 * counts are renormalized to the current total) and is reported in unseen.
 */
MlcChi2Result
mlc_chi2_gof(const MlcCategoryCounts *c, int k)
{
	MlcChi2Result r = {NAN, 0, NAN, 0};
	double		ref_seen = 0.0;
	double		ref_total = 0.0;
	double		cur_total = 0.0;
	double		scale;
	MlcSum		stat = {0.0, 0.0};

	for (int i = 0; i < k; i++)
	{
		double		rc = (double) c[i].nref;

		ref_seen += rc;
		if (c[i].nref == 0)
		{
			rc = MLC_CHI2_UNSEEN_COUNT;
			if (c[i].ncur > 0)
				r.unseen++;
		}
		ref_total += rc;
		cur_total += (double) c[i].ncur;
	}
	if (k < 1 || cur_total <= 0.0 || ref_seen <= 0.0)
		return r;
	scale = cur_total / ref_total;
	for (int i = 0; i < k; i++)
	{
		double		rc = c[i].nref > 0 ? (double) c[i].nref : MLC_CHI2_UNSEEN_COUNT;
		double		e = rc * scale;
		double		o = (double) c[i].ncur;

		mlc_sum_add(&stat, (o - e) * (o - e) / e);
	}
	r.df = k - 1;
	r.statistic = mlc_sum_value(&stat);
	r.p_value = (r.df == 0) ? 1.0 : mlc_chi2_sf(r.statistic, (double) r.df);
	return r;
}

/*
 * The 2 x k contingency test of reference against current counts, as
 * scipy.stats.chi2_contingency: expected counts from the margins, df = k - 1,
 * and with correction Yates' continuity correction when df = 1 (each
 * observed count moved by up to 0.5 towards its expected count).
 */
MlcChi2Result
mlc_chi2_contingency(const MlcCategoryCounts *c, int k, bool correction)
{
	MlcChi2Result r = {NAN, 0, NAN, 0};
	double		rows[2] = {0.0, 0.0};
	double		total;
	MlcSum		stat = {0.0, 0.0};

	for (int i = 0; i < k; i++)
	{
		rows[0] += (double) c[i].nref;
		rows[1] += (double) c[i].ncur;
		if (c[i].nref == 0 && c[i].ncur > 0)
			r.unseen++;
	}
	total = rows[0] + rows[1];
	if (k < 1 || rows[0] <= 0.0 || rows[1] <= 0.0)
		return r;
	r.df = k - 1;
	if (r.df == 0)
	{
		r.statistic = 0.0;
		r.p_value = 1.0;
		return r;
	}
	for (int i = 0; i < k; i++)
	{
		double		col = (double) c[i].nref + (double) c[i].ncur;

		for (int s = 0; s < 2; s++)
		{
			double		o = (double) (s == 0 ? c[i].nref : c[i].ncur);
			double		e = rows[s] * col / total;

			if (correction && r.df == 1)
			{
				double		diff = e - o;
				double		mag = Min(0.5, fabs(diff));

				o += (diff > 0.0) ? mag : ((diff < 0.0) ? -mag : 0.0);
			}
			mlc_sum_add(&stat, (o - e) * (o - e) / e);
		}
	}
	r.statistic = mlc_sum_value(&stat);
	r.p_value = mlc_chi2_sf(r.statistic, (double) r.df);
	return r;
}

/* ------------------------------------------------------------------------
 * Population Stability Index
 * ------------------------------------------------------------------------
 */

/*
 * numpy's default ('linear', Hyndman-Fan type 7) quantile of a sorted
 * sample, with numpy's exact arithmetic: virtual index (n-1) q, and the
 * interpolation taken from the upper neighbour when the weight is >= 0.5.
 */
double
mlc_quantile_linear(const double *sorted, int64 n, double q)
{
	double		vi = (double) (n - 1) * q;
	double		below;
	double		g;
	double		a;
	double		b;
	int64		i;

	if (vi >= (double) (n - 1))
		return sorted[n - 1];
	if (vi < 0.0)
		return sorted[0];
	below = floor(vi);
	i = (int64) below;
	g = vi - below;
	a = sorted[i];
	b = sorted[i + 1];
	return mlc_interpolate_linear(a, b, g);
}

/* numpy's linear interpolation between neighbours a <= b at fraction g */
double
mlc_interpolate_linear(double a, double b, double g)
{
	double		diff = b - a;

	if (g >= 0.5)
		return b - diff * (1.0 - g);
	return a + diff * g;
}

/* qsort comparator for doubles */
static int
mlc_cmp_double(const void *a, const void *b)
{
	double		x = *(const double *) a;
	double		y = *(const double *) b;

	return (x > y) - (x < y);
}

/*
 * The inner bin edges of PSI: the reference quantiles at k/bins for
 * k = 1 .. bins-1, sorted, duplicates removed (ties in the reference merge
 * bins).  edges must hold bins - 1 values; returns how many there are.
 */
int
mlc_psi_edges(const double *ref, int64 n, int bins, double *edges)
{
	int			ne = 0;

	for (int k = 1; k < bins; k++)
		edges[k - 1] = mlc_quantile_linear(ref, n, (double) k / (double) bins);
	qsort(edges, bins - 1, sizeof(double), mlc_cmp_double);
	for (int k = 0; k < bins - 1; k++)
		if (ne == 0 || edges[k] != edges[ne - 1])
			edges[ne++] = edges[k];
	return ne;
}

/*
 * Count sorted values into the nedges + 1 right-closed bins
 * (-inf, e0], (e0, e1], ..., (e_last, +inf): a value's bin is the number of
 * edges strictly below it (numpy's searchsorted(edges, v, side='left')).
 */
void
mlc_psi_bin_counts(const double *sorted, int64 n, const double *edges,
				   int nedges, int64 *counts)
{
	int			bin = 0;

	for (int k = 0; k <= nedges; k++)
		counts[k] = 0;
	for (int64 i = 0; i < n; i++)
	{
		while (bin < nedges && edges[bin] < sorted[i])
			bin++;
		counts[bin]++;
		if ((i & 0xFFFF) == 0)
			CHECK_FOR_INTERRUPTS();
	}
}

/*
 * PSI = sum over bins of (cur - ref) ln(cur / ref) on the proportions, an
 * empty bin's proportion replaced by MLC_PSI_EPSILON.
 */
double
mlc_psi_from_counts(const int64 *ref, const int64 *cur, int k,
					int64 nref, int64 ncur)
{
	MlcSum		psi = {0.0, 0.0};

	if (nref <= 0 || ncur <= 0)
		return NAN;
	for (int i = 0; i < k; i++)
	{
		double		rp = (double) ref[i] / (double) nref;
		double		cp = (double) cur[i] / (double) ncur;

		if (rp == 0.0)
			rp = MLC_PSI_EPSILON;
		if (cp == 0.0)
			cp = MLC_PSI_EPSILON;
		mlc_sum_add(&psi, (cp - rp) * log(cp / rp));
	}
	return mlc_sum_value(&psi);
}

/* PSI of two sorted samples with bins cut at the reference quantiles */
double
mlc_psi_sorted(const double *ref, int64 n, const double *cur, int64 m, int bins)
{
	double	   *edges;
	int64	   *rc;
	int64	   *cc;
	int			ne;
	double		psi;

	if (n < 1 || m < 1 || bins < MLC_PSI_MIN_BINS || bins > MLC_PSI_MAX_BINS)
		return NAN;
	edges = palloc(sizeof(double) * (bins - 1));
	rc = palloc(sizeof(int64) * bins);
	cc = palloc(sizeof(int64) * bins);
	ne = mlc_psi_edges(ref, n, bins, edges);
	mlc_psi_bin_counts(ref, n, edges, ne, rc);
	mlc_psi_bin_counts(cur, m, edges, ne, cc);
	psi = mlc_psi_from_counts(rc, cc, ne + 1, n, m);
	pfree(edges);
	pfree(rc);
	pfree(cc);
	return psi;
}

/* ------------------------------------------------------------------------
 * Wasserstein and Jensen-Shannon
 * ------------------------------------------------------------------------
 */

/*
 * The 1-Wasserstein distance of two empirical distributions, the area
 * between their ECDFs: sum over consecutive distinct values of
 * |F_ref - F_cur| times the gap (scipy.stats.wasserstein_distance).
 */
double
mlc_wasserstein_sorted(const double *ref, int64 n, const double *cur, int64 m)
{
	MlcSum		area = {0.0, 0.0};
	int64		i = 0;
	int64		j = 0;

	if (n < 1 || m < 1)
		return NAN;
	while (i < n || j < m)
	{
		double		v;
		double		next;

		if (j >= m || (i < n && ref[i] <= cur[j]))
			v = ref[i];
		else
			v = cur[j];
		while (i < n && ref[i] == v)
			i++;
		while (j < m && cur[j] == v)
			j++;
		if (i >= n && j >= m)
			break;
		if (j >= m || (i < n && ref[i] <= cur[j]))
			next = ref[i];
		else
			next = cur[j];
		mlc_sum_add(&area, fabs((double) i / (double) n - (double) j / (double) m) *
					(next - v));
		if (((i + j) & 0xFFFF) == 0)
			CHECK_FOR_INTERRUPTS();
	}
	return mlc_sum_value(&area);
}

/* Population standard deviation (ddof 0), two passes, compensated */
double
mlc_std_population(const double *x, int64 n)
{
	MlcSum		s = {0.0, 0.0};
	MlcSum		ss = {0.0, 0.0};
	double		mean;

	if (n < 1)
		return NAN;
	for (int64 i = 0; i < n; i++)
		mlc_sum_add(&s, x[i]);
	mean = mlc_sum_value(&s) / (double) n;
	for (int64 i = 0; i < n; i++)
	{
		double		d = x[i] - mean;

		mlc_sum_add(&ss, d * d);
		if ((i & 0xFFFF) == 0)
			CHECK_FOR_INTERRUPTS();
	}
	return sqrt(mlc_sum_value(&ss) / (double) n);
}

/* x log(x / y), 0 when x is 0 (scipy.special.rel_entr) */
static double
mlc_rel_entr(double x, double y)
{
	if (x == 0.0)
		return 0.0;
	return x * log(x / y);
}

/*
 * Jensen-Shannon distance in base 2 (in [0, 1]) between the category
 * proportions of the two samples: the square root of the mean of the
 * Kullback-Leibler divergences to the midpoint distribution, as
 * scipy.spatial.distance.jensenshannon(p, q, base=2).
 */
double
mlc_js_distance(const MlcCategoryCounts *c, int k)
{
	double		rt = 0.0;
	double		ct = 0.0;
	MlcSum		left = {0.0, 0.0};
	MlcSum		right = {0.0, 0.0};
	double		js;

	for (int i = 0; i < k; i++)
	{
		rt += (double) c[i].nref;
		ct += (double) c[i].ncur;
	}
	if (rt <= 0.0 || ct <= 0.0)
		return NAN;
	for (int i = 0; i < k; i++)
	{
		double		p = (double) c[i].nref / rt;
		double		q = (double) c[i].ncur / ct;
		double		mid = (p + q) / 2.0;

		mlc_sum_add(&left, mlc_rel_entr(p, mid));
		mlc_sum_add(&right, mlc_rel_entr(q, mid));
	}
	js = (mlc_sum_value(&left) + mlc_sum_value(&right)) / M_LN2;
	if (js < 0.0)
		js = 0.0;
	return sqrt(js / 2.0);
}
