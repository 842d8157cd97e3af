/*
 * profile.h
 *	  Reference profiles: what each raw input column and the model's output
 *	  looked like in training, stored in the model for drift checks.
 */
#ifndef MLCYCLE_PROFILE_H
#define MLCYCLE_PROFILE_H

#include "postgres.h"

#include "common/pg_prng.h"

#include "ingest.h"
#include "model.h"

/* PSI bins of a numeric profile, and the categories a categorical one keeps */
#define MLC_PROFILE_BINS		10
#define MLC_PROFILE_TOP			100

/* mlcycle.reference_sample_size, defined in mlcycle.c */
extern int	mlc_reference_sample_size;

/* Streaming accumulator of numeric column profiles (single-pass training) */
typedef struct MlcProfileAcc
{
	int			p;				/* columns */
	int			cap;			/* reservoir size */
	pg_prng_state rng;
	int64		count;
	int64	   *nulls;
	double	   *mean;			/* set by mlc_profile_acc_set_moments */
	double	   *std;
	double	   *min;
	double	   *max;
	double	   *rows;			/* reservoir of cap rows, p values each (NaN = NULL) */
	double		w;				/* Algorithm L's weight */
	int64		next;			/* the next row count the reservoir takes */
} MlcProfileAcc;

/* The score a prediction's output profiles: value, P(positive) or top probability */
extern double mlc_profile_score(const MlcModel *m, const double *out);

/* Numeric profile of n non-NULL values v (reordered in place) out of count rows */
extern void mlc_profile_numeric(MlcProfile *p, double *v, int64 n, int64 count,
								pg_prng_state *rng);

/* Profiles of every column from training rows of ds (in-memory path) */
extern void mlc_profile_columns(MlcModel *m, MlcDataset *ds, const int64 *rows,
								int64 n, int seed);

/* Profile of the model's output from its n predictions (n x width) */
extern void mlc_profile_output(MlcModel *m, const double *out, int64 n, int seed);

/* Single-pass: start, add one training row (NaN = NULL), finish into m->profiles */
extern MlcProfileAcc *mlc_profile_acc_create(int p, int seed);
extern void mlc_profile_acc_add(MlcProfileAcc *a, const double *raw, bool has_null);
extern void mlc_profile_acc_set_moments(MlcProfileAcc *a, int j, double mean, double std);
extern void mlc_profile_acc_finish(MlcProfileAcc *a, MlcModel *m);

/* A seeded PRNG for profile sampling, independent of the split's */
extern void mlc_profile_rng(pg_prng_state *rng, int seed);

#endif							/* MLCYCLE_PROFILE_H */
