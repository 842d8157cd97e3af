/*
 * stream.h
 *	  Single-pass least squares: linear and ridge regression on numeric
 *	  features fitted from centered cross-products accumulated while the
 *	  relation is scanned, without holding the training rows.
 */
#ifndef MLCYCLE_STREAM_H
#define MLCYCLE_STREAM_H

#include "postgres.h"

#include "lib/stringinfo.h"
#include "utils/jsonb.h"

#include "ingest.h"
#include "model.h"

/* What a single-pass fit produces */
typedef struct MlcStreamResult
{
	MlcModel   *model;			/* fitted and finalized, coefficients set */
	char	   *preprocess_json;
	int64		ntrain;
	int64		ntest;
	MlcDataset *test;			/* the test rows, for their metrics */
	StringInfoData train_metrics;	/* r2, mse, rmse from the statistics */
	bool	   *constant;		/* per column: constant in the training rows */
	double		train_target_mean;	/* mean target of the training rows */
	int			rank;
} MlcStreamResult;

/*
 * Fit a linear (alpha < 0) or ridge model of ds (described, not read) in one
 * scan.  Returns false when the settings or the data need the in-memory path:
 * non-numeric features, imputation or scaling that needs the rows, too few
 * rows, or normal equations too ill conditioned for Cholesky.
 */
extern bool mlc_stream_least_squares(MlcDataset *ds, Jsonb *spec, int algorithm,
									 double alpha, double test_size, int seed,
									 MlcStreamResult *res);

#endif							/* MLCYCLE_STREAM_H */
