/*
 * learners.h
 *	  Learner entry points: least squares, ridge and logistic regression on a
 *	  dense, already preprocessed matrix.  No SQL here: callers pass arrays.
 */
#ifndef MLCYCLE_LEARNERS_H
#define MLCYCLE_LEARNERS_H

#include "postgres.h"

#include "model.h"

/*
 * X is n x p, row-major (row i starts at X + i * p).  Coefficients are
 * written as p values followed by the intercept.  All learners fit an
 * intercept, which is never penalized (as scikit-learn does).
 */

/*
 * The rows a least-squares fit reads, in blocks, so that callers can produce
 * them on the fly instead of materializing X: fill writes rows
 * [start, start + nb) as nb x (p + 1) values, the p features then the target.
 */
typedef struct MlcRows
{
	int64		n;
	int			p;
	void		(*fill) (void *arg, int64 start, int nb, double *out);
	void	   *arg;
	const double *X;			/* for mlc_rows_from_arrays */
	const double *y;
} MlcRows;

/* linear.c: rows of a dense, row-major X and its target y */
extern void mlc_rows_from_arrays(MlcRows *rows, const double *X, const double *y,
								 int64 n, int p);

/* linear.c: ordinary least squares; minimum-norm solution when X is rank deficient */
extern void mlc_fit_linear(const MlcRows *rows, double *coef, int *rank);

/* linear.c: ridge regression, minimizes ||y - Xb - c||^2 + alpha ||b||^2 */
extern void mlc_fit_ridge(const MlcRows *rows, double alpha, double *coef);

/*
 * logistic.c: L2-penalized logistic regression, scikit-learn's objective
 * 0.5 ||W||^2 + C * sum_i w_i * loss_i.  y holds class indexes 0..K-1;
 * sample_weight may be NULL.  K == 2 fits one coefficient row (class 1 is
 * the positive class); K > 2 fits K rows (multinomial softmax).  coef has
 * (K == 2 ? 1 : K) * (p + 1) values.  Returns the number of iterations.
 * It stops when the largest gradient component is at most
 * tol * max(1, C * sum_i w_i), i.e. tol is relative to the data term;
 * 1e-10 matches scikit-learn's optimum to ~1e-7, 1e-8 only to ~1e-5 on
 * one-hot data.  Not converging within max_iter is a WARNING.
 */
extern int	mlc_fit_logistic(const double *X, const int32 *y, const double *sample_weight,
							 int64 n, int p, int K, double C, int max_iter, double tol,
							 double *coef);

/*
 * elastic_net.c: lasso (l1_ratio 1) and elastic net by coordinate descent,
 * scikit-learn's ElasticNet objective; coef gets p weights and the intercept.
 * Returns the sweeps made.
 */
extern int	mlc_fit_elastic_net(const double *X, const double *y, int64 n, int p, double alpha,
								double l1_ratio, int max_iter, double tol, double *coef);

/*
 * naive_bayes.c: Gaussian likelihoods for every feature but one-hot text
 * columns, whose category (the feature that is 1) has a smoothed categorical
 * likelihood (scikit-learn's GaussianNB with var_smoothing and CategoricalNB
 * with alpha).  y holds class indexes of m->classes.  learner_params:
 *   K, p, kind[p] (0 Gaussian, 1 one-hot), then per class: log prior,
 *   A[p] (mean, or log probability of the feature's category), B[p]
 *   (variance + epsilon, or 0).
 * The statistics are those of the aggregate ml_naive_bayes_stats.
 */
extern void mlc_fit_naive_bayes(MlcModel *m, const double *X, const int32 *y, int64 n,
								double var_smoothing, double alpha);
extern void mlc_predict_naive_bayes(const MlcModel *m, const double *x, double *out);
extern bytea *mlc_nb_stats_add(bytea *state, int cls, const double *x, int p,
							   const int32 *cats, int q);
extern bytea *mlc_nb_stats_merge(const bytea *a, const bytea *b);

/*
 * knn.c: k nearest neighbors.  learner_params: n, p, k, weights (0 uniform,
 * 1 distance), metric (0 euclidean, 1 manhattan), the n x p preprocessed
 * training rows, then n targets (class index of m->classes, or the value).
 */
#define MLC_KNN_UNIFORM			0
#define MLC_KNN_DISTANCE		1
#define MLC_KNN_EUCLIDEAN		0
#define MLC_KNN_MANHATTAN		1
extern void mlc_fit_knn(MlcModel *m, const double *X, const double *y, int64 n,
						int n_neighbors, int weights, int metric);
extern void mlc_predict_knn(const MlcModel *m, const double *x, double *out);

/*
 * linear_svm.c: hinge-loss linear SVM by dual coordinate descent (liblinear,
 * intercept regularized through intercept_scaling); y holds class indexes of
 * m->classes, class_w a weight per class or NULL; sets m->coef (one row, or one
 * per class: one-vs-rest).
 */
extern int	mlc_fit_linear_svm(MlcModel *m, const double *X, const int32 *y, int64 n,
							   double C, const double *class_w, double intercept_scaling,
							   int max_iter, double tol);

/* defaults a caller may pass to mlc_fit_logistic */
#define MLC_LOGISTIC_DEFAULT_TOL		1e-10
#define MLC_LOGISTIC_DEFAULT_MAX_ITER	1000

/* linalg.c: OpenBLAS thread count follows mlcycle.blas_threads */
extern void mlc_linalg_init(void);

/* linalg.c: OpenBLAS threads, clamped to [1, processors] */
extern void mlc_linalg_set_threads(int nthreads);

/* linalg.c: apply mlcycle.blas_threads; every learner calls it first */
extern void mlc_linalg_prepare(void);

/*
 * linalg.c: solve A x = b, A symmetric positive definite (p x p, row-major,
 * upper triangle read) by Jacobi-scaled Cholesky; false when A is not
 * numerically positive definite or its scaled reciprocal condition number
 * is below min_rcond.
 */
extern bool mlc_spd_solve(const double *A, const double *b, int p,
						  double min_rcond, double *x);

/*
 * linalg.c: minimum-norm least-squares solution of the small m x p system
 * A x ~ b (row-major) by SVD; singular values below rcond times the largest
 * count as zero.  Returns the rank.
 */
extern int	mlc_minnorm_solve(const double *A, int m, int p, const double *b,
							  double rcond, double *x);

/*
 * linalg.c: a centered cross-product accumulator: after n rows z, mean is
 * their mean and M = sum (z - mean)(z - mean)' (w x w, row-major).
 */
typedef struct MlcGram
{
	int			w;
	double		n;
	double	   *mean;
	double	   *M;
	double	   *bmean;			/* scratch */
} MlcGram;

extern void mlc_gram_init(MlcGram *g, int w);
extern void mlc_gram_add_block(MlcGram *g, double *buf, int nb);
extern void mlc_gram_widen(MlcGram *g, int w);
extern void mlc_gram_finish(MlcGram *g);

/*
 * linear.c: least squares from the centered statistics of [X y] (mean and M
 * over p + 1 variables, the target last).  The linear fit returns false when
 * the normal equations are too ill conditioned for Cholesky; the caller then
 * needs the rows (mlc_fit_linear).  Ridge always succeeds.
 */
extern bool mlc_fit_linear_gram(const double *mean, const double *M, int p,
								double *coef, int *rank);
extern void mlc_fit_ridge_gram(const double *mean, const double *M, int p,
							   double alpha, double *coef);

#endif							/* MLCYCLE_LEARNERS_H */
