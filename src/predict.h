/*
 * predict.h
 *	  Scoring: the learner-independent prediction of one preprocessed row,
 *	  and the per-backend cache of deployed models.
 */
#ifndef MLCYCLE_PREDICT_H
#define MLCYCLE_PREDICT_H

#include "postgres.h"

#include "model.h"

/*
 * Predict from a preprocessed feature vector x.  out receives one value for
 * regression, else nclasses probabilities in class order.
 */
extern void mlc_predict_features(const MlcModel *m, const double *x, double *out);

/* True when the model scores by its coefficients (linear, ridge, logistic, lasso, elastic_net, linear_svm) */
extern bool mlc_is_linear(const MlcModel *m);

#endif							/* MLCYCLE_PREDICT_H */
