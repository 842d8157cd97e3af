/*
 * catalog.c
 *	  Loads models from the catalog tables: the per-backend cache of deployed
 *	  models (invalidated through a relcache callback when mlcycle.deployments
 *	  changes, in any session), loads by id, the deployments trigger and
 *	  ml_coefficients.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

#include "catalog.h"
#include "predict.h"
#include "preprocess.h"

PG_FUNCTION_INFO_V1(mlcycle_deployments_changed);
PG_FUNCTION_INFO_V1(ml_coefficients);

#define MLC_PROJECT_KEY_LEN 256

/* cache key: project name, the role asking (row-level security differs), champion or canary */
typedef struct MlcCacheKey
{
	Oid			userid;
	bool		canary;
	char		project[MLC_PROJECT_KEY_LEN];
} MlcCacheKey;

typedef struct MlcCacheEntry
{
	MlcCacheKey key;
	MlcCachedModel *cm;
	bool		valid;
} MlcCacheEntry;

static HTAB *mlc_cache = NULL;

static MlcCachedModel *mlc_cached_model(const char *project, bool canary, MemoryContext query_cxt);
static Oid	mlc_deployments_relid = InvalidOid;

/* Drop a reference; free the model when nobody holds it */
static void
mlc_release(MlcCachedModel *cm)
{
	if (--cm->refcount == 0)
		MemoryContextDelete(cm->cxt);
}

/* Memory context callback: a query that used the model has ended */
static void
mlc_release_callback(void *arg)
{
	mlc_release((MlcCachedModel *) arg);
}

/* Relcache callback: mlcycle.deployments changed, forget every cached model */
static void
mlc_cache_invalidate(Datum arg, Oid relid)
{
	HASH_SEQ_STATUS status;
	MlcCacheEntry *e;

	if (mlc_cache == NULL ||
		(OidIsValid(relid) && relid != mlc_deployments_relid))
		return;
	hash_seq_init(&status, mlc_cache);
	while ((e = hash_seq_search(&status)) != NULL)
		e->valid = false;
	/* the table may have been dropped with the extension: look it up again */
	mlc_deployments_relid = InvalidOid;
}

/* Create the cache and register the invalidation callback, once per backend */
static void
mlc_cache_init(void)
{
	HASHCTL		ctl;

	if (mlc_cache != NULL)
		return;
	ctl.keysize = sizeof(MlcCacheKey);
	ctl.entrysize = sizeof(MlcCacheEntry);
	ctl.hcxt = CacheMemoryContext;
	mlc_cache = hash_create("mlcycle deployed models", 16, &ctl,
							HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	CacheRegisterRelcacheCallback(mlc_cache_invalidate, (Datum) 0);
}

/* Remember the oid of mlcycle.deployments for the invalidation callback */
static void
mlc_lookup_deployments_relid(void)
{
	Oid			nsp;

	if (OidIsValid(mlc_deployments_relid))
		return;
	nsp = get_namespace_oid("mlcycle", false);
	mlc_deployments_relid = get_relname_relid("deployments", nsp);
}

/*
 * Fetch and deserialize the deployed model of project into a new context:
 * the champion, or (canary) the model of its active canary deployment, with
 * model NULL when there is none.
 */
static MlcCachedModel *
mlc_fetch_deployed(const char *project, bool canary)
{
	Oid			types[1] = {TEXTOID};
	Datum		args[1] = {CStringGetTextDatum(project)};
	MlcCachedModel *cm;
	MemoryContext cxt,
				old;
	bool		isnull;
	int64		model_id;
	bytea	   *blob;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "mlcycle: SPI_connect failed");
	if (SPI_execute_with_args(canary ?
							  "SELECT model_id, model, traffic FROM mlcycle.canary_model($1)" :
							  "SELECT model_id, model, NULL::float8 FROM mlcycle.deployed_model($1)",
							  1, types, args, NULL, true, 1) != SPI_OK_SELECT ||
		(!canary && SPI_processed != 1))
		elog(ERROR, "mlcycle: looking up the deployed model failed");

	cxt = AllocSetContextCreate(CacheMemoryContext, "mlcycle model", ALLOCSET_SMALL_SIZES);
	old = MemoryContextSwitchTo(cxt);
	PG_TRY();
	{
		cm = palloc0(sizeof(MlcCachedModel));
		cm->cxt = cxt;
		if (SPI_processed == 1)
		{
			model_id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
			blob = DatumGetByteaPP(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
			cm->model_id = model_id;
			cm->model = mlc_model_deserialize_for_scoring(blob);
			if (canary)
				cm->traffic = DatumGetFloat8(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3, &isnull));
		}
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(old);
		MemoryContextDelete(cxt);
		PG_RE_THROW();
	}
	PG_END_TRY();
	MemoryContextSwitchTo(old);
	SPI_finish();
	return cm;
}

/* The deployed model of project for the current role, held until query_cxt is reset */
MlcCachedModel *
mlc_deployed_model(const char *project, MemoryContext query_cxt)
{
	return mlc_cached_model(project, false, query_cxt);
}

/* The active canary of project (model NULL when none), held until query_cxt is reset */
MlcCachedModel *
mlc_canary_model(const char *project, MemoryContext query_cxt)
{
	return mlc_cached_model(project, true, query_cxt);
}

/* The champion or canary of project, from the backend cache or the catalog */
static MlcCachedModel *
mlc_cached_model(const char *project, bool canary, MemoryContext query_cxt)
{
	MlcCacheKey key;
	MlcCacheEntry *e;
	bool		found;
	MemoryContextCallback *cb;

	if (strlen(project) >= MLC_PROJECT_KEY_LEN)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("project \"%s\" does not exist", project),
				 errhint("Train it first with ml_train, or check the name in mlcycle.overview.")));
	mlc_cache_init();
	mlc_lookup_deployments_relid();
	memset(&key, 0, sizeof(key));
	key.userid = GetUserId();
	key.canary = canary;
	strlcpy(key.project, project, MLC_PROJECT_KEY_LEN);
	e = hash_search(mlc_cache, &key, HASH_FIND, &found);
	if (!found || !e->valid)
	{
		MlcCachedModel *cm = mlc_fetch_deployed(project, canary);

		e = hash_search(mlc_cache, &key, HASH_ENTER, &found);
		if (found && e->cm)
			mlc_release(e->cm);
		e->cm = cm;
		e->cm->refcount = 1;
		e->valid = true;
	}
	/* the query keeps its own reference, whatever happens to the cache */
	e->cm->refcount++;
	cb = MemoryContextAlloc(query_cxt, sizeof(MemoryContextCallback));
	cb->func = mlc_release_callback;
	cb->arg = e->cm;
	MemoryContextRegisterResetCallback(query_cxt, cb);
	return e->cm;
}

/* A model by id, or the latest model of project when model_id is 0 */
MlcModel *
mlc_load_model(const char *project, int64 model_id, int64 *found_id)
{
	Oid			types[2] = {TEXTOID, INT8OID};
	Datum		args[2] = {CStringGetTextDatum(project), Int64GetDatum(model_id)};
	MemoryContext caller = CurrentMemoryContext;
	bool		isnull;
	bytea	   *blob;
	MlcModel   *m;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "mlcycle: SPI_connect failed");
	if (SPI_execute_with_args("SELECT m.model_id, m.model FROM mlcycle.models m "
							  "WHERE m.project_id = mlcycle.project_id($1) "
							  "AND ($2 = 0 OR m.model_id = $2) ORDER BY m.model_id DESC LIMIT 1",
							  2, types, args, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "mlcycle: looking up the model failed");
	if (SPI_processed != 1)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 model_id ? errmsg("model " INT64_FORMAT " does not belong to project \"%s\"", model_id, project) :
				 errmsg("project \"%s\" has no models", project),
				 errhint("List the project's models in mlcycle.models.")));
	*found_id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	blob = DatumGetByteaPP(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
	MemoryContextSwitchTo(caller);
	m = mlc_model_deserialize(blob);
	SPI_finish();
	return m;
}

/*
 * Trigger on mlcycle.deployments and mlcycle.models: every backend drops its
 * cached deployed models (a relcache invalidation of mlcycle.deployments
 * reaches all sessions when the transaction commits).
 */
Datum
mlcycle_deployments_changed(PG_FUNCTION_ARGS)
{
	if (!CALLED_AS_TRIGGER(fcinfo))
		elog(ERROR, "mlcycle_deployments_changed: not called by trigger manager");
	mlc_lookup_deployments_relid();
	CacheInvalidateRelcacheByRelid(mlc_deployments_relid);
	return PointerGetDatum(NULL);
}

/* ml_coefficients(project, model_id): one row per feature (and class) */
Datum
ml_coefficients(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	char	   *project;
	int64		model_id = PG_ARGISNULL(1) ? 0 : PG_GETARG_INT64(1);
	int64		found_id;
	MlcModel   *m;
	char	  **names;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("project must not be NULL"),
				 errhint("Pass the name of a project.")));
	project = text_to_cstring(PG_GETARG_TEXT_PP(0));
	InitMaterializedSRF(fcinfo, 0);
	m = mlc_load_model(project, model_id, &found_id);
	if (!mlc_is_linear(m))
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("model " INT64_FORMAT " of project \"%s\" is %s, which has no coefficients",
						found_id, project, mlc_algorithm_name(m->algorithm)),
				 errhint("See ml_feature_importance for the permutation importance of any model.")));
	names = mlc_feature_names(m);
	for (int r = 0; r < m->ncoef_rows; r++)
	{
		const double *row = m->coef + r * (m->nfeatures + 1);
		const char *cls = m->task != MLC_TASK_CLASSIFICATION ? NULL :
			m->nclasses == 2 ? m->classes[m->positive_class] : m->classes[r];

		for (int j = 0; j <= m->nfeatures; j++)
		{
			Datum		values[3];
			bool		nulls[3] = {false, cls == NULL, false};

			values[0] = CStringGetTextDatum(j < m->nfeatures ? names[j] : "(intercept)");
			values[1] = cls ? CStringGetTextDatum(cls) : (Datum) 0;
			values[2] = Float8GetDatum(row[j]);
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		}
	}
	PG_RETURN_VOID();
}
