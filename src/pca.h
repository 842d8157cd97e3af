/*
 * pca.h
 *	  Principal components (pca.c): the covariance aggregate, ml_pca, and the
 *	  eigen-decomposition that ml_pca and the pca preprocess step share.
 */
#ifndef MLCYCLE_PCA_H
#define MLCYCLE_PCA_H

#include "postgres.h"

/*
 * Eigen-decomposition of the symmetric p x p row-major matrix cov
 * (overwritten): values gets the p eigenvalues in descending order, negative
 * round-off clamped to 0; vectors (p x p, row-major) gets component i in row
 * i, signed so that its loading of largest magnitude is positive.
 */
extern void mlc_pca_eigen(double *cov, int p, double *values, double *vectors);

/* The fewest of the first maxk components whose cumulative variance ratio exceeds var, or maxk */
extern int	mlc_pca_count_for_variance(const double *ratio, int maxk, double var);

#endif							/* MLCYCLE_PCA_H */
