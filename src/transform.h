/*
 * transform.h
 *	  Column transformers shared by the standalone SQL fit aggregates and
 *	  apply functions (transform.c) and by ml_train's preprocess steps
 *	  (preprocess.c): power transforms, quantiles, bins, calendar parts.
 */
#ifndef MLCYCLE_TRANSFORM_H
#define MLCYCLE_TRANSFORM_H

#include "postgres.h"

#include <math.h>

/* families of a fitted transformer value */
#define MLC_TF_SCALER			1
#define MLC_TF_IMPUTER			2	/* numeric values */
#define MLC_TF_TEXT_IMPUTER		3
#define MLC_TF_ENCODER			4
#define MLC_TF_BINNER			5
#define MLC_TF_CLIPPER			6
#define MLC_TF_FAMILY_MAX		6

/* scaler methods (the same names as ml_train's "scale") */
#define MLC_TFS_STANDARD		0
#define MLC_TFS_MINMAX			1
#define MLC_TFS_ROBUST			2
#define MLC_TFS_MAXABS			3
#define MLC_TFS_LOG1P			4
#define MLC_TFS_YEO_JOHNSON		5
#define MLC_TFS_BOX_COX			6

/* numeric imputer methods */
#define MLC_TFI_MEAN			0
#define MLC_TFI_MEDIAN			1
#define MLC_TFI_MOST_FREQUENT	2
#define MLC_TFI_CONSTANT		3

/* text imputer methods */
#define MLC_TFT_MOST_FREQUENT	0
#define MLC_TFT_CONSTANT		1

/* encoder methods */
#define MLC_TFE_ONE_HOT			0
#define MLC_TFE_ORDINAL			1
#define MLC_TFE_FREQUENCY		2
#define MLC_TFE_HASHING			3
#define MLC_TFE_BINARY			4
#define MLC_TFE_TARGET			5

/* binner methods */
#define MLC_TFB_UNIFORM			0
#define MLC_TFB_QUANTILE		1

/* limits of the standalone transformers */
#define MLC_TF_MAX_BINS			10000
#define MLC_TF_MAX_BUCKETS		1048576

extern int	mlc_transform_exact_limit;	/* GUC mlcycle.transform_exact_limit */

/* Linear-interpolated quantile of n sorted values (numpy's default) */
extern double mlc_tf_quantile(const double *sorted, int64 n, double q);

/* Most frequent of n sorted values, the smallest among ties */
extern double mlc_tf_mode(const double *sorted, int64 n);

/* qsort comparator for doubles */
extern int	mlc_tf_cmp_double(const void *a, const void *b);

/* Yeo-Johnson and Box-Cox transforms of one value for a given lambda */
extern double mlc_yeo_johnson(double x, double lambda);
extern double mlc_box_cox(double x, double lambda);

/*
 * Fit the lambda of a power transform by maximum likelihood (Brent's method,
 * as scikit-learn's PowerTransformer), then the mean and standard deviation
 * of the transformed values: out[0] lambda, out[1] mean, out[2] std (1 when
 * zero).  box_cox errors on a value <= 0: "box_cox needs strictly positive
 * values, and <what> <value>".
 */
extern void mlc_fit_power(const double *v, int64 n, bool box_cox, const char *what,
						  double *out);

/* The same on weighted values (w NULL: 1 each), as if value i were repeated w[i] times */
extern void mlc_fit_power_weighted(const double *v, const double *w, int64 n, bool box_cox,
								   const char *what, double *out);

/* Error for a non-positive value given to box_cox */
extern void mlc_box_cox_domain_error(const char *what, double v) pg_attribute_noreturn();

/*
 * Bin edges: nbins + 1 uniform edges between min and max, or quantile edges
 * of the sorted values with bins narrower than 1e-8 removed (as
 * KBinsDiscretizer).  Returns the number of edges written to edges.
 */
extern int	mlc_fit_bin_edges(const double *sorted, int64 n, int nbins, bool quantile,
							  double *edges);

/* The quantile (a fraction) at edge i = 0 .. nbins of nbins quantile bins */
extern double mlc_bin_edge_q(int i, int nbins);

/* Quantile bin edges from the quantiles at mlc_bin_edge_q(0 .. nbins): the count written */
extern int	mlc_bin_edges_from_quantiles(const double *qv, int nbins, double *edges);

/* Bin index of x for nedges edges: 0 .. nedges - 2 */
static inline int
mlc_bin_index(const double *edges, int nedges, double x)
{
	int			lo = 0,
				hi = nedges - 2;	/* searchsorted(edges[1:-1], x, 'right') */

	while (lo < hi)
	{
		int			mid = (lo + hi) / 2;

		if (edges[mid + 1] <= x)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* calendar parts of a temporal column (epoch seconds) */
#define MLC_PART_YEAR			0
#define MLC_PART_MONTH			1
#define MLC_PART_DAY			2
#define MLC_PART_DOW			3
#define MLC_PART_HOUR			4
#define MLC_PART_MAX			4
#define MLC_PART_CYCLIC			8	/* flag: sin and cos of the part */

/* The value of a calendar part (year, month 1-12, day 1-31, dow 0=Sunday, hour) */
extern double mlc_calendar_part(double epoch_seconds, int part);

/* Period of a cyclic part, for sin/cos */
extern double mlc_calendar_period(int part);

/* The features of parts codes[0..n) of a time into out; returns their number */
extern int	mlc_calendar_features(double epoch_seconds, const double *codes, int n, double *out);

/*
 * What a preprocess spec asks for beyond impute/scale/encode (0 = not
 * given), parsed and fitted by preprocess_steps.c.
 */
typedef struct MlcStepSettings
{
	int			indicator;		/* 1 yes, 2 explicitly no */
	int			knn_k;
	bool		has_clip;
	double		clip_lo;		/* percentiles as fractions */
	double		clip_hi;
	int			bin_method;		/* 1 uniform, 2 quantile */
	int			nbins;
	int			nparts;
	int			parts[10];
	bool		cyclical;
	int			encode_ext;		/* MLC_TRANSFORM_* of an encoding, -1 plain */
	int			top_k;
	int			buckets;
	bool		has_smoothing;
	double		smoothing;
	int			folds;
} MlcStepSettings;

#endif							/* MLCYCLE_TRANSFORM_H */
