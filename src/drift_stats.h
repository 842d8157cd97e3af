/*
 * drift_stats.h
 *	  Statistics that compare a reference sample with a current sample:
 *	  Kolmogorov-Smirnov, PSI, chi-square, Wasserstein, Jensen-Shannon.
 *	  Pure functions over sorted arrays and counts (src/drift_stats.c).
 */
#ifndef DRIFT_STATS_H
#define DRIFT_STATS_H

#include "postgres.h"

/* 'auto' takes the exact KS p-value up to this many values in the larger sample */
#define MLC_KS_MAX_EXACT_N 10000

/* PSI: the proportion an empty bin is given, and the allowed numbers of bins */
#define MLC_PSI_EPSILON 1e-4
#define MLC_PSI_MIN_BINS 2
#define MLC_PSI_MAX_BINS 1000

/* Wasserstein: the smallest reference spread it is divided by */
#define MLC_WASSERSTEIN_MIN_SCALE 0.001

/* chi-square goodness of fit: the reference count given to unseen categories */
#define MLC_CHI2_UNSEEN_COUNT 0.5

typedef enum MlcKsMethod
{
	MLC_KS_AUTO,
	MLC_KS_EXACT,
	MLC_KS_ASYMP
} MlcKsMethod;

/* The two-sample KS statistic of two sorted samples */
typedef struct MlcKsStatistic
{
	double		d;				/* max |F_ref - F_cur| from the floating ECDFs */
	int64		h;				/* the same, exactly, in units of 1/lcm(n, m) */
	int64		lcm;			/* lcm(n, m) */
} MlcKsStatistic;

/* The outcome of a two-sample KS test */
typedef struct MlcKsResult
{
	double		statistic;
	double		p_value;
	MlcKsMethod method;			/* MLC_KS_EXACT or MLC_KS_ASYMP */
	bool		exact_failed;	/* exact was tried and failed: asymptotic instead */
} MlcKsResult;

/* Counts of one category in the two samples */
typedef struct MlcCategoryCounts
{
	int64		nref;
	int64		ncur;
} MlcCategoryCounts;

/* A chi-square test */
typedef struct MlcChi2Result
{
	double		statistic;
	int			df;
	double		p_value;
	int			unseen;			/* categories absent from the reference */
} MlcChi2Result;

/* Kolmogorov-Smirnov */
extern MlcKsStatistic mlc_ks_statistic(const double *ref, int64 n,
									   const double *cur, int64 m);
extern MlcKsResult mlc_ks_test_sorted(const double *ref, int64 n,
									  const double *cur, int64 m,
									  MlcKsMethod method);
extern double mlc_ks_exact_sf(int64 n, int64 m, int64 h);
extern double mlc_ks_asymp_sf(int64 n, int64 m, double d);
extern double mlc_kstwo_sf(int64 n, double d);
extern double mlc_smirnov_sf(int64 n, double d);
extern double mlc_kolmogorov_sf(double x);

/* incomplete gamma and chi-square */
extern double mlc_gamma_p(double a, double x);
extern double mlc_gamma_q(double a, double x);
extern double mlc_chi2_sf(double x, double df);

/* the regularized incomplete beta function I_x(a, b), for the t and F distributions */
extern double mlc_beta_inc(double a, double b, double x);
extern MlcChi2Result mlc_chi2_gof(const MlcCategoryCounts *c, int k);
extern MlcChi2Result mlc_chi2_contingency(const MlcCategoryCounts *c, int k,
										  bool correction);

/* PSI */
extern double mlc_quantile_linear(const double *sorted, int64 n, double q);

/* numpy's linear interpolation between neighbours a <= b at fraction g */
extern double mlc_interpolate_linear(double a, double b, double g);
extern int	mlc_psi_edges(const double *ref, int64 n, int bins, double *edges);
extern void mlc_psi_bin_counts(const double *sorted, int64 n,
							   const double *edges, int nedges, int64 *counts);
extern double mlc_psi_from_counts(const int64 *ref, const int64 *cur, int k,
								  int64 nref, int64 ncur);
extern double mlc_psi_sorted(const double *ref, int64 n, const double *cur,
							 int64 m, int bins);

/* Wasserstein and Jensen-Shannon */
extern double mlc_wasserstein_sorted(const double *ref, int64 n,
									 const double *cur, int64 m);
extern double mlc_std_population(const double *x, int64 n);
extern double mlc_js_distance(const MlcCategoryCounts *c, int k);

#endif							/* DRIFT_STATS_H */
