/*
 * predict.h
 *	  Scoring: the learner-independent prediction of one preprocessed row,
 *	  and the per-backend cache of deployed models.
 */
#ifndef MLCYCLE_PREDICT_H
#define MLCYCLE_PREDICT_H

#include "postgres.h"

#include "fmgr.h"

#include "catalog.h"
#include "model.h"

/* A query's scoring state for one model (predict.c) */
typedef struct MlcPredictState MlcPredictState;

/*
 * Predict from a preprocessed feature vector x.  out receives one value for
 * regression, else nclasses probabilities in class order.
 */
extern void mlc_predict_features(const MlcModel *m, const double *x, double *out);

/* True when the model scores by its coefficients (linear, ridge, logistic, lasso, elastic_net, linear_svm) */
extern bool mlc_is_linear(const MlcModel *m);
extern bool mlc_algorithm_is_linear(int algorithm);

/*
 * Scoring the row in argument 1 of fcinfo with a state of one's own
 * (routing.c): the state for a cached model, then ml_predict's,
 * ml_predict_class's or ml_predict_proba's result for the row.
 */
extern MlcPredictState *mlc_predict_state_for(FunctionCallInfo fcinfo, const char *project,
											  MlcCachedModel *cm);
/* Read st's rows as columns: names in argument base, values after it */
extern void mlc_predict_state_columns(MlcPredictState *st, int base);
extern Datum mlc_predict_value_with(FunctionCallInfo fcinfo, MlcPredictState *st);
extern Datum mlc_predict_class_with(FunctionCallInfo fcinfo, MlcPredictState *st);
extern Datum mlc_predict_proba_with(FunctionCallInfo fcinfo, MlcPredictState *st);

/* Everything a prediction table stores about one row, scored once */
typedef struct MlcScored
{
	const MlcModel *model;
	bool		has_value;		/* regression or binary: what ml_predict returns */
	double		value;
	const double *proba;		/* multiclass: nclasses probabilities, else NULL */
	int			label;			/* classification: index of the predicted class, else -1 */
} MlcScored;

extern void mlc_predict_all_with(FunctionCallInfo fcinfo, MlcPredictState *st, MlcScored *out);

#endif							/* MLCYCLE_PREDICT_H */
