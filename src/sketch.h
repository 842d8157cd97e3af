/*
 * sketch.h
 *	  Mergeable column summaries kept in bytea aggregate states: a numeric
 *	  summary (counts, moments, exact values or a quantile sketch, HyperLogLog)
 *	  and a categorical one (value counts, heavy hitters, HyperLogLog).
 */
#ifndef MLCYCLE_SKETCH_H
#define MLCYCLE_SKETCH_H

#include "postgres.h"

#include "fmgr.h"
#include "utils/jsonb.h"

/* values kept exactly before the quantile sketch takes over */
#define MLC_SKETCH_EXACT_MAX	100000
/* items a sketch level holds before it is compacted */
#define MLC_SKETCH_K			4096
/* distinct categories counted exactly (and heavy hitters kept after) */
#define MLC_FREQ_EXACT_MAX		10000
/* HyperLogLog: 2^14 registers, standard error 1.04 / 128 = 0.81% */
#define MLC_HLL_P				14

/* What a numeric summary says about its column */
typedef struct MlcNumStats
{
	int64		rows;			/* rows seen, NULL included */
	int64		nulls;
	int64		nan;
	int64		posinf;
	int64		neginf;
	int64		n;				/* finite values */
	int64		zeros;
	double		mean;
	double		var_sample;		/* ddof 1 */
	double		var_pop;		/* ddof 0 */
	double		skewness;		/* biased (scipy.stats.skew default) */
	double		kurtosis;		/* excess, biased (scipy.stats.kurtosis default) */
	double		min;
	double		max;
	double		distinct;		/* distinct non-NULL values, NaN and infinities included */
	bool		distinct_exact;
	bool		quantiles_exact;
	double		rank_error;		/* bound on |rank error| / n of a sketch quantile; 0 when exact */
} MlcNumStats;

/* What a categorical summary says about its column */
typedef struct MlcFreqStats
{
	int64		rows;
	int64		nulls;
	double		distinct;
	bool		distinct_exact;
	bool		counts_exact;
	int64		max_undercount; /* bound on how much a top count is too low */
} MlcFreqStats;

/* one category and its count (counts_exact false: a lower bound) */
typedef struct MlcFreqItem
{
	const char *str;
	int			len;
	int64		count;
} MlcFreqItem;

/* a value with a tag (a weight, a row number), sorted by value with mlc_cmp_tagged */
typedef struct MlcTagged
{
	double		v;
	int64		tag;
} MlcTagged;

extern int	mlc_cmp_tagged(const void *a, const void *b);

/* Decode a numeric summary state (checked); quantiles are read with the next */
extern void mlc_num_summary_stats(bytea *state, MlcNumStats *st);

/* Quantiles q[0..nq) of a numeric summary (numpy 'linear' when exact); NaN when empty */
extern void mlc_num_summary_quantiles(bytea *state, const double *q, int nq, double *out);

/* The values of a numeric summary sorted, each tagged with its weight (2^level; 1 when exact) */
extern MlcTagged *mlc_num_summary_items(bytea *state, int64 *nitems);

/* A numeric summary in sketch mode holding the finite values v[0..n) */
extern bytea *mlc_num_sketch_from(const double *v, int64 n);

/* Add a finite value (in place unless the summary must grow: use the result) */
extern bytea *mlc_num_summary_add(bytea *state, double v);

/* Merge two numeric summaries (checked) into a new one */
extern bytea *mlc_num_summary_merge(bytea *a, bytea *b);

/* Decode a categorical summary state (checked) */
extern void mlc_freq_summary_stats(bytea *state, MlcFreqStats *st);

/* The k most frequent categories, most frequent first (ties in byte order) */
extern MlcFreqItem *mlc_freq_summary_top(bytea *state, int k, int *nitems);

/* The top k categories of a categorical summary as jsonb [{"value": v, "count": c}, ...] */
extern Jsonb *mlc_sketch_top_jsonb(bytea *state, int k);

/* The state of an aggregate over no rows, of either kind */
extern bytea *mlc_sketch_empty(bool numeric);

/* A state argument, detoasted and 8-byte aligned */
extern bytea *mlc_sketch_state_arg(FunctionCallInfo fcinfo, int argno);

#endif							/* MLCYCLE_SKETCH_H */
