/*
 * projection.h
 *	  The feature projection between preprocessing and the learner
 *	  (projection.c): the features select_features keeps, and the principal
 *	  components of the pca preprocess step, stored in the model (format v4).
 */
#ifndef MLCYCLE_PROJECTION_H
#define MLCYCLE_PROJECTION_H

#include "postgres.h"

#include "utils/jsonb.h"

#include "ingest.h"
#include "jsonutil.h"
#include "model.h"

/* The pca preprocess step as the spec asks for it */
typedef struct MlcPcaSpec
{
	bool		given;			/* the spec has a pca step */
	int			n_components;	/* 0: not given */
	double		variance;		/* 0: not given; else in (0, 1] */
} MlcPcaSpec;

/* Is member p of the preprocess spec the pca step (and not a column named "pca")? */
extern bool mlc_pca_is_step(const MlcJsonPair *p, const MlcDataset *ds);

/* The pca step of a preprocess spec, checked; false when there is none */
extern bool mlc_pca_spec(Jsonb *spec, const MlcDataset *ds, MlcPcaSpec *out);

/* Keep the features drop does not mark; false (no projection) when it drops none */
extern bool mlc_projection_keep(MlcModel *m, const bool *drop);

/*
 * Fit the pca step on the training rows of ds through m's fitted pipeline
 * (after the kept features, when any); returns its JSON summary.
 */
extern char *mlc_projection_fit_pca(MlcModel *m, MlcDataset *ds, const int64 *rows, int64 n,
									const MlcPcaSpec *spec);

/* Project a preprocessed row in (ninput values) into the learner's features out */
extern void mlc_project_row(const MlcModel *m, const double *in, double *out);

/*
 * The learner's feature names (pc1, pc2, ... under PCA) or kinds ("pca"),
 * from those of the preprocessed features
 */
extern char **mlc_projection_names(const MlcModel *m, char **input);
extern char **mlc_projection_kinds(const MlcModel *m, char **input);

/*
 * The learner features [*lo, *lo + *n) that come from the preprocessed
 * features [off, off + w) (kept features are contiguous); *n is 0 under PCA
 */
extern void mlc_projection_span(const MlcModel *m, int off, int w, int *lo, int *n);

#endif							/* MLCYCLE_PROJECTION_H */
