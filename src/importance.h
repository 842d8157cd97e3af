/*
 * importance.h
 *	  Feature importance computed when a model is trained: standardized
 *	  coefficients (linear learners), permutation importance (any learner),
 *	  and a hook for a learner's intrinsic importance (trees: gain, split).
 */
#ifndef MLCYCLE_IMPORTANCE_H
#define MLCYCLE_IMPORTANCE_H

#include "postgres.h"

#include "lib/stringinfo.h"

#include "ingest.h"
#include "model.h"

/* GUC mlcycle.importance_repeats (mlcycle.c): permutation repeats, 0 for none */
extern int	mlc_importance_repeats;

/* Rows of one model's importance, collected before ranking */
typedef struct MlcImportanceRows
{
	int			n;
	int			cap;
	char	  **feature;
	char	  **method;
	double	   *importance;
	double	   *std;			/* NaN: none */
} MlcImportanceRows;

/* Append one row (feature, method, importance, std or NaN) */
extern void mlc_importance_add(MlcImportanceRows *rows, const char *feature, const char *method,
							   double importance, double std);

/*
 * A learner's own importance: a switch on model->algorithm that appends rows
 * under its own method names (e.g. 'gain' and 'split' of a tree learner).
 * Learners without one add nothing.
 */
extern void mlc_intrinsic_importance(const MlcModel *m, MlcImportanceRows *rows);

/*
 * Every importance of a trained model as a JSON array of objects (feature,
 * method, importance, std, rank; rank 1 = most important within a method).
 * rows[0..n) of ds are the evaluated rows, y their class per dataset row
 * (classification) or NULL; base_score is the model's headline score on them.
 */
extern char *mlc_importance_json(const MlcModel *m, MlcDataset *ds, const int64 *rows, int64 n,
								 const int32 *y, double base_score, int seed);

#endif							/* MLCYCLE_IMPORTANCE_H */
