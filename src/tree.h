/*
 * tree.h
 *	  Tree learners (gbdt, random_forest, decision_tree): hyperparameters, the
 *	  flat tree layout stored in MlcModel.learner_params, and the entry points
 *	  for fitting, scoring, importance and TreeSHAP.
 */
#ifndef MLCYCLE_TREE_H
#define MLCYCLE_TREE_H

#include "postgres.h"

#include "model.h"
#include "preprocess.h"
#include "tree_layout.h"

/* True for the tree learners */
#define MLC_IS_TREE_ALGO(a) \
	((a) == MLC_ALGO_GBDT || (a) == MLC_ALGO_RANDOM_FOREST || (a) == MLC_ALGO_DECISION_TREE)

/* Hyperparameters of the three tree learners (names as XGBoost/LightGBM/scikit-learn) */
typedef struct MlcTreeParams
{
	int			algorithm;		/* MLC_ALGO_GBDT, _RANDOM_FOREST or _DECISION_TREE */
	int			n_estimators;
	double		learning_rate;
	int			max_depth;		/* 0: unlimited (MLC_TREE_MAX_DEPTH) */
	int			max_leaves;		/* 0: unlimited */
	double		min_child_weight;	/* hessian sum per child */
	int			min_samples_leaf;
	double		subsample;		/* gbdt: row fraction per tree */
	double		colsample_bytree;	/* gbdt: feature fraction per tree */
	double		max_features;	/* forests: feature fraction per split */
	double		reg_lambda;
	double		reg_alpha;
	double		min_split_gain;
	int			max_bin;
	int			early_stopping_rounds;	/* gbdt: 0 for none */
	double		validation_fraction;	/* gbdt with early stopping */
	bool		bootstrap;		/* random_forest */
	int			seed;
} MlcTreeParams;

/* What a tree fit reads: the training rows, through the fitted preprocessing */
typedef struct MlcTreeData
{
	const MlcTransformer *t;
	const int64 *rows;
	int64		n;
	const double *y;			/* regression target, or NULL */
	const int32 *cls;			/* class index per row (binary: 1 positive), or NULL */
	int			nclasses;		/* 0 for regression */
} MlcTreeData;

/* tree_params.c: parse hyperparams; returns the resolved settings as JSON */
extern char *mlc_tree_parse_hyperparams(Jsonb *hp, int algorithm, int task, int seed,
										MlcTreeParams *tp, char **positive);

/* tree.c: defaults of an algorithm */
extern void mlc_tree_defaults(MlcTreeParams *p, int algorithm, int task);

/*
 * Fit and store the trees in m->learner_params (m's preprocessing is
 * fitted, task and classes set).  Returns a JSON object for the metrics
 * ("learner": trees, best iteration, out-of-bag score ...).
 */
extern char *mlc_fit_gbdt(MlcModel *m, const MlcTreeData *d, const MlcTreeParams *p);
extern char *mlc_fit_forest(MlcModel *m, const MlcTreeData *d, const MlcTreeParams *p);

/* tree.c: scoring of a preprocessed row (NaN = missing) */
extern void mlc_tree_raw(const MlcModel *m, const double *x, double *raw);
extern void mlc_tree_predict_features(const MlcModel *m, const double *x, double *out);

/* tree.c: number of raw outputs (margins per class, or the forest's values) */
extern int	mlc_tree_nout(const MlcModel *m);

/*
 * tree.c: per-feature importance of a tree model: total split gain when gain
 * is true, else the number of splits on each feature; per_feature has
 * m->nfeatures values.
 */
extern void mlc_tree_importance(const MlcModel *m, bool gain, double *per_feature);

/*
 * tree.c: exact path-dependent TreeSHAP (Lundberg et al. 2018, algorithm 2).
 * phi receives nout x (nfeatures + 1) values: per output, the contribution of
 * each feature then the expected value; each row of phi sums to raw[o].
 */
extern void mlc_tree_shap(const MlcModel *m, const double *x, double *phi);

#endif							/* MLCYCLE_TREE_H */
