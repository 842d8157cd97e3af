/*
 * sampling.h
 *	  Class rebalancing of the rows a classifier is fitted on: random
 *	  oversampling, random undersampling and SMOTE, seeded, applied to the
 *	  preprocessed training matrix only (never to test or held-out rows).
 */
#ifndef MLCYCLE_SAMPLING_H
#define MLCYCLE_SAMPLING_H

#include "postgres.h"

#define MLC_SAMPLING_NONE 0
#define MLC_SAMPLING_OVERSAMPLE 1
#define MLC_SAMPLING_UNDERSAMPLE 2
#define MLC_SAMPLING_SMOTE 3

/* neighbours SMOTE interpolates towards, as imbalanced-learn's default */
#define MLC_SMOTE_NEIGHBORS 5

/*
 * Resample the n x p row-major X and its class indexes y (0..K-1) so that
 * every class has as many rows as the largest (oversample, smote) or the
 * smallest (undersample).  Returns the new row count; *Xout and *yout are
 * new palloc'd arrays.  class_names name the classes in errors.
 */
extern int64 mlc_resample(int method, const double *X, const int32 *y, int64 n, int p,
						  int K, int seed, char **class_names,
						  double **Xout, int32 **yout);

#endif							/* MLCYCLE_SAMPLING_H */
