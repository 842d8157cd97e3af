/*
 * metrics.h
 *	  Model quality metrics computed on the held-out (or training) rows at
 *	  training time, written as JSON members.
 */
#ifndef MLCYCLE_METRICS_H
#define MLCYCLE_METRICS_H

#include "postgres.h"

#include "lib/stringinfo.h"

/* r2, mae, mse, rmse as JSON object text; returns r2 */
extern double mlc_metrics_regression(const double *y, const double *pred, int64 n,
								   StringInfo json);

/*
 * accuracy, precision, recall, f1, log_loss, and roc_auc for binary tasks.
 * y holds class indexes; proba is n x K.  Binary tasks score the positive
 * class; multiclass precision/recall/f1 are macro averages.  Returns the
 * headline metric: roc_auc (binary) or f1 (multiclass).
 */
extern double mlc_metrics_classification(const int32 *y, const double *proba, int64 n,
									   int K, int positive, StringInfo json);

/* Area under the ROC curve of scores for the positive (label true) rows; ties count one half */
extern double mlc_roc_auc(const double *score, const bool *label, int64 n);

#endif							/* MLCYCLE_METRICS_H */
