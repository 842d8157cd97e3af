/*
 * catalog.h
 *	  Loading models from the catalog: the deployed model of a project, held
 *	  in a per-backend cache that mlcycle.deployments changes invalidate, and
 *	  any model by id.
 */
#ifndef MLCYCLE_CATALOG_H
#define MLCYCLE_CATALOG_H

#include "postgres.h"

#include "model.h"

/* A deserialized model shared by the backend cache and running queries */
typedef struct MlcCachedModel
{
	int64		model_id;
	MlcModel   *model;			/* NULL: the project has no active canary */
	double		traffic;		/* canary: share of keys it scores */
	MemoryContext cxt;			/* holds this struct and the model */
	int			refcount;		/* cache entry + queries using it */
} MlcCachedModel;

/*
 * The deployed model of project for the current role.  The caller holds a
 * reference until the end of the query whose memory context is query_cxt.
 */
extern MlcCachedModel *mlc_deployed_model(const char *project, MemoryContext query_cxt);

/*
 * The model of project's active canary deployment and its traffic share;
 * model is NULL when there is none.  Held like mlc_deployed_model's.
 */
extern MlcCachedModel *mlc_canary_model(const char *project, MemoryContext query_cxt);

/* A model by id, or the latest model of project when model_id is 0, in the current context */
extern MlcModel *mlc_load_model(const char *project, int64 model_id, int64 *found_id);

#endif							/* MLCYCLE_CATALOG_H */
