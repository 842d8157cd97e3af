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

#endif							/* MLCYCLE_PREDICT_H */
