/*
 * select.h
 *	  Feature selection inside ml_train (select.c): variance threshold,
 *	  maximum correlation and k best by F score, on the training rows.
 */
#ifndef MLCYCLE_SELECT_H
#define MLCYCLE_SELECT_H

#include "postgres.h"

#include "utils/jsonb.h"

#include "ingest.h"
#include "model.h"

/* Keep the selected features (m's feature projection); the JSON record of kept and dropped ones, or NULL */
extern char *mlc_select_features(MlcModel *m, MlcDataset *ds, const int64 *rows, int64 n,
								 const double *yreg, const int32 *ycls, int nclasses,
								 Jsonb *spec);

#endif							/* MLCYCLE_SELECT_H */
