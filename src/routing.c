/*
 * routing.c
 *	  Canary routing: ml_predict(project, row, key) and its class/proba forms
 *	  send a stable, key-hashed share of rows to the project's canary model
 *	  and the rest to the champion; ml_route says which model scores a key.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/typcache.h"

#include "catalog.h"
#include "predict.h"

PG_FUNCTION_INFO_V1(ml_predict_routed);
PG_FUNCTION_INFO_V1(ml_predict_class_routed);
PG_FUNCTION_INFO_V1(ml_predict_proba_routed);
PG_FUNCTION_INFO_V1(ml_route);
PG_FUNCTION_INFO_V1(mlcycle_score_row);

/* seed of the key hash: fixed, so a key's bucket never changes */
#define MLC_ROUTE_SEED	INT64CONST(0x6d6c6379636c65)

/* Per-query routing state kept in fn_extra */
typedef struct MlcRoute
{
	char	   *project;
	int			project_len;	/* bytes of project, to recognize it without a copy */
	MlcCachedModel *champion;
	MlcCachedModel *canary;		/* canary->model NULL: no canary */
	MlcPredictState *champion_st;	/* built on first use */
	MlcPredictState *canary_st;
	Oid			keytype;
	FmgrInfo	hash;			/* the key type's extended hash function */
	TupleDesc	result_desc;	/* mlcycle.score_row: its result type */
} MlcRoute;

/* The query's routing state for project (argument 0) and the key in argument keyarg */
static MlcRoute *
mlc_route_state(FunctionCallInfo fcinfo, int keyarg)
{
	MlcRoute   *r = (MlcRoute *) fcinfo->flinfo->fn_extra;
	text	   *name = PG_GETARG_TEXT_PP(0);
	int			len = VARSIZE_ANY_EXHDR(name);
	char	   *project;

	/* the key's type is fixed by the call site: only the project can change between rows */
	if (r != NULL && r->project_len == len && memcmp(r->project, VARDATA_ANY(name), len) == 0)
		return r;
	project = text_to_cstring(name);
	r = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(MlcRoute));
	r->project = MemoryContextStrdup(fcinfo->flinfo->fn_mcxt, project);
	r->project_len = len;
	r->champion = mlc_deployed_model(project, fcinfo->flinfo->fn_mcxt);
	r->canary = mlc_canary_model(project, fcinfo->flinfo->fn_mcxt);
	r->keytype = get_fn_expr_argtype(fcinfo->flinfo, keyarg);
	if (r->canary->model != NULL)
	{
		TypeCacheEntry *tc = lookup_type_cache(r->keytype, TYPECACHE_HASH_EXTENDED_PROC_FINFO);

		if (!OidIsValid(tc->hash_extended_proc))
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_FUNCTION),
					 errmsg("routing key type %s has no hash function", format_type_be(r->keytype)),
					 errhint("Pass a key of a hashable type, such as the row's id or a text column; for several columns pass ROW(a, b)::text.")));
		fmgr_info_cxt(tc->hash_extended_proc, &r->hash, fcinfo->flinfo->fn_mcxt);
	}
	fcinfo->flinfo->fn_extra = r;
	return r;
}

/*
 * Does the key in argument keyarg go to the canary?  Its 64-bit hash, as a
 * fraction of 2^64 in [0, 1), is below the canary's traffic share; a NULL
 * key goes to the champion.
 */
static bool
mlc_route_to_canary(FunctionCallInfo fcinfo, MlcRoute *r, int keyarg)
{
	Oid			collation = PG_GET_COLLATION();
	uint64		h;

	if (r->canary->model == NULL || PG_ARGISNULL(keyarg))
		return false;
	if (!OidIsValid(collation))
		collation = DEFAULT_COLLATION_OID;
	h = DatumGetUInt64(FunctionCall2Coll(&r->hash, collation, PG_GETARG_DATUM(keyarg),
										 Int64GetDatum(MLC_ROUTE_SEED)));
	return (double) (h >> 11) * (1.0 / 9007199254740992.0) < r->canary->traffic;
}

/* The scoring state of the model the key in argument 2 goes to */
static MlcPredictState *
mlc_routed_state(FunctionCallInfo fcinfo)
{
	MlcRoute   *r = mlc_route_state(fcinfo, 2);

	if (mlc_route_to_canary(fcinfo, r, 2))
	{
		if (r->canary_st == NULL)
			r->canary_st = mlc_predict_state_for(fcinfo, r->project, r->canary);
		return r->canary_st;
	}
	if (r->champion_st == NULL)
		r->champion_st = mlc_predict_state_for(fcinfo, r->project, r->champion);
	return r->champion_st;
}

/* ml_predict(project, row, key): ml_predict with the key's model */
Datum
ml_predict_routed(PG_FUNCTION_ARGS)
{
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		PG_RETURN_NULL();
	return mlc_predict_value_with(fcinfo, mlc_routed_state(fcinfo));
}

/* ml_predict_class(project, row, key): ml_predict_class with the key's model */
Datum
ml_predict_class_routed(PG_FUNCTION_ARGS)
{
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		PG_RETURN_NULL();
	return mlc_predict_class_with(fcinfo, mlc_routed_state(fcinfo));
}

/* ml_predict_proba(project, row, key): ml_predict_proba with the key's model */
Datum
ml_predict_proba_routed(PG_FUNCTION_ARGS)
{
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		PG_RETURN_NULL();
	return mlc_predict_proba_with(fcinfo, mlc_routed_state(fcinfo));
}

/* ml_route(project, key): the model id that scores the key */
Datum
ml_route(PG_FUNCTION_ARGS)
{
	MlcRoute   *r;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	r = mlc_route_state(fcinfo, 1);
	PG_RETURN_INT64(mlc_route_to_canary(fcinfo, r, 1) ? r->canary->model_id : r->champion->model_id);
}

/*
 * mlcycle.score_row(project, row, key): what ml_score_table stores for a
 * row, (model_id, prediction, label, probabilities), from one read of the
 * row by the key's model.
 */
Datum
mlcycle_score_row(PG_FUNCTION_ARGS)
{
	MlcRoute   *r;
	MlcPredictState *st;
	MlcScored	sc;
	Datum		values[4];
	bool		nulls[4] = {false, false, false, false};

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		PG_RETURN_NULL();
	st = mlc_routed_state(fcinfo);
	r = (MlcRoute *) fcinfo->flinfo->fn_extra;
	if (r->result_desc == NULL)
	{
		TupleDesc	desc;
		MemoryContext old = MemoryContextSwitchTo(fcinfo->flinfo->fn_mcxt);

		if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
			elog(ERROR, "mlcycle.score_row must return a composite type");
		r->result_desc = BlessTupleDesc(CreateTupleDescCopy(desc));
		MemoryContextSwitchTo(old);
	}
	mlc_predict_all_with(fcinfo, st, &sc);
	values[0] = Int64GetDatum(st == r->canary_st ? r->canary->model_id : r->champion->model_id);
	values[1] = Float8GetDatum(sc.value);
	nulls[1] = !sc.has_value;
	/* binary: prediction is P(positive), so only multiclass rows store probabilities */
	nulls[2] = sc.proba == NULL;
	nulls[3] = sc.proba == NULL || sc.has_value;
	if (sc.proba != NULL)
		values[2] = CStringGetTextDatum(sc.model->classes[sc.label]);
	if (!nulls[3])
	{
		Datum	   *d = palloc(sizeof(Datum) * sc.model->nclasses);

		for (int k = 0; k < sc.model->nclasses; k++)
			d[k] = Float8GetDatum(sc.proba[k]);
		values[3] = PointerGetDatum(construct_array(d, sc.model->nclasses, FLOAT8OID, 8,
													FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	}
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(r->result_desc, values, nulls)));
}
