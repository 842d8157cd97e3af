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
PG_FUNCTION_INFO_V1(mlcycle_score_row_columns);
PG_FUNCTION_INFO_V1(mlcycle_predict_routed_columns);
PG_FUNCTION_INFO_V1(mlcycle_predict_class_routed_columns);
PG_FUNCTION_INFO_V1(mlcycle_predict_proba_routed_columns);

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

/*
 * The scoring state of the model the key in argument keyarg goes to; with
 * names_arg > 0 the row comes as columns, their names in that argument
 */
static MlcPredictState *
mlc_routed_state_at(FunctionCallInfo fcinfo, int keyarg, int names_arg)
{
	MlcRoute   *r = mlc_route_state(fcinfo, keyarg);
	bool		canary = mlc_route_to_canary(fcinfo, r, keyarg);
	MlcPredictState **st = canary ? &r->canary_st : &r->champion_st;

	if (*st == NULL)
	{
		*st = mlc_predict_state_for(fcinfo, r->project, canary ? r->canary : r->champion);
		if (names_arg > 0)
			mlc_predict_state_columns(*st, names_arg);
	}
	return *st;
}

/* The scoring state of the model the key in argument 2 goes to (the row in argument 1) */
static MlcPredictState *
mlc_routed_state(FunctionCallInfo fcinfo)
{
	return mlc_routed_state_at(fcinfo, 2, 0);
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

/*
 * mlcycle.predict_routed_columns(project, key, names, VARIADIC columns) and
 * its class and proba forms: the routed ml_predict of a table's row given as
 * its columns, which the planner puts in place of ml_predict(project, t, key)
 */
Datum
mlcycle_predict_routed_columns(PG_FUNCTION_ARGS)
{
	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	return mlc_predict_value_with(fcinfo, mlc_routed_state_at(fcinfo, 1, 2));
}

/* mlcycle.predict_class_routed_columns: see mlcycle.predict_routed_columns */
Datum
mlcycle_predict_class_routed_columns(PG_FUNCTION_ARGS)
{
	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	return mlc_predict_class_with(fcinfo, mlc_routed_state_at(fcinfo, 1, 2));
}

/* mlcycle.predict_proba_routed_columns: see mlcycle.predict_routed_columns */
Datum
mlcycle_predict_proba_routed_columns(PG_FUNCTION_ARGS)
{
	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	return mlc_predict_proba_with(fcinfo, mlc_routed_state_at(fcinfo, 1, 2));
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
/*
 * The prediction-table columns (model_id, prediction, label, probabilities)
 * of the row, read once by st, the scoring state of the key's model
 */
static Datum
mlc_score_result(FunctionCallInfo fcinfo, MlcRoute *r, MlcPredictState *st)
{
	MlcScored	sc;
	Datum		values[4];
	bool		nulls[4] = {false, false, false, false};

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
	nulls[2] = sc.label < 0;
	nulls[3] = sc.proba == NULL;
	if (sc.label >= 0)
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

Datum
mlcycle_score_row(PG_FUNCTION_ARGS)
{
	MlcPredictState *st;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		PG_RETURN_NULL();
	st = mlc_routed_state(fcinfo);
	return mlc_score_result(fcinfo, (MlcRoute *) fcinfo->flinfo->fn_extra, st);
}

/*
 * mlcycle.score_row_columns(project, key, names, VARIADIC columns):
 * mlcycle.score_row of a table's row given as its columns; the planner puts
 * it in place of score_row(project, t, key) (src/planner.c).
 */
Datum
mlcycle_score_row_columns(PG_FUNCTION_ARGS)
{
	MlcPredictState *st;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	st = mlc_routed_state_at(fcinfo, 1, 2);
	return mlc_score_result(fcinfo, (MlcRoute *) fcinfo->flinfo->fn_extra, st);
}
