/*
 * score_load.c
 *	  Bulk load of scored rows into a prediction table's day partition with
 *	  the table access method's multi-insert (as COPY FROM does): the query
 *	  gives each row's keys and mlcycle.score, the loader adds the rest.
 */
#include "postgres.h"

#include "access/heapam.h"
#include "access/tableam.h"
#include "funcapi.h"
#include "utils/timestamp.h"
#include "utils/typcache.h"
#include "access/xact.h"
#include "executor/executor.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "nodes/params.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/rls.h"

PG_FUNCTION_INFO_V1(mlcycle_score_load);

/* rows handed to the multi-insert at a time (COPY FROM buffers 1000 too) */
#define MLC_LOAD_BATCH	1000

/* The loader's executor state: a range table of the target, for permissions and constraints */
typedef struct MlcLoader
{
	Relation	rel;
	EState	   *estate;
	ResultRelInfo *rri;
	TupleTableSlot *slots[MLC_LOAD_BATCH];
	int			nbuffered;		/* rows in slots[] not yet inserted */
	BulkInsertState bistate;
	CommandId	cid;
	int64		rows;
	/* the row's values after its keys */
	int			nkeys;
	TupleDesc	score_desc;		/* of mlcycle.score */
	Datum		project;
	Datum		scored_at;
	Datum		day;
} MlcLoader;

/* Types of a prediction table's columns after the keys, and of mlcycle.score's fields */
static const Oid mlc_tail_types[] = {TEXTOID, INT8OID, FLOAT8OID, TEXTOID, FLOAT8ARRAYOID,
TIMESTAMPTZOID, DATEOID};
static const Oid mlc_score_types[] = {INT8OID, FLOAT8OID, TEXTOID, FLOAT8ARRAYOID};

#define MLC_TAIL_COLS	lengthof(mlc_tail_types)
#define MLC_SCORE_COLS	lengthof(mlc_score_types)

/* The receiver of the query's rows */
typedef struct MlcLoadDest
{
	DestReceiver pub;
	MlcLoader  *ld;
} MlcLoadDest;

/* Refuse a target that a multi-insert would not serve like INSERT does */
static void
mlc_load_check_target(Relation rel)
{
	const char *why = NULL;

	if (rel->rd_rel->relkind != RELKIND_RELATION)
		why = "it is not a plain table";
	else if (rel->rd_rel->relhastriggers)
		why = "it has triggers";
	else if (RelationGetIndexList(rel) != NIL)
		why = "it has indexes";
	else if (check_enable_rls(RelationGetRelid(rel), InvalidOid, false) == RLS_ENABLED)
		why = "row-level security applies to it";
	if (why != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot bulk-load table \"%s\": %s", RelationGetRelationName(rel), why),
				 errhint("mlcycle.score_load fills a new table without indexes or triggers; use INSERT for others.")));
}

/* Open the target as the single result relation of an executor state */
static void
mlc_load_begin(MlcLoader *ld, Oid relid)
{
	RangeTblEntry *rte = makeNode(RangeTblEntry);
	TupleDesc	desc;

	ld->rel = table_open(relid, RowExclusiveLock);
	mlc_load_check_target(ld->rel);
	rte->rtekind = RTE_RELATION;
	rte->relid = relid;
	rte->relkind = ld->rel->rd_rel->relkind;
	rte->rellockmode = RowExclusiveLock;
	rte->requiredPerms = ACL_INSERT;
	ExecCheckRTPerms(list_make1(rte), true);
	ld->estate = CreateExecutorState();
	ExecInitRangeTable(ld->estate, list_make1(rte));
	ld->rri = makeNode(ResultRelInfo);
	ExecInitResultRelation(ld->estate, ld->rri, 1);
	/* a copy of the row type that is not reference counted: a thousand slots pin nothing */
	desc = CreateTupleDescCopy(RelationGetDescr(ld->rel));
	for (int i = 0; i < MLC_LOAD_BATCH; i++)
		ld->slots[i] = MakeSingleTupleTableSlot(desc, &TTSOpsHeapTuple);
	ld->bistate = GetBulkInsertState();
	ld->cid = GetCurrentCommandId(true);
	ld->nbuffered = 0;
	ld->rows = 0;
}

/* Error for a query or a target that is not shaped as score_load needs */
static void
pg_attribute_noreturn()
mlc_load_shape_error(Relation rel, const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_DATATYPE_MISMATCH),
			 errmsg("the query's columns do not match prediction table \"%s\"", RelationGetRelationName(rel)),
			 errdetail("%s", detail),
			 errhint("The query returns the key columns, then an mlcycle.score; the table has the key columns, then project, model_id, prediction, label, probabilities, scored_at and scored_on.")));
}

/*
 * Check the query's columns (the keys, then an mlcycle.score) against the
 * target's (the same keys, then the seven prediction-table columns), and
 * keep mlcycle.score's row type
 */
static void
mlc_load_check_columns(MlcLoader *ld, TupleDesc qdesc)
{
	TupleDesc	tdesc = RelationGetDescr(ld->rel);
	Oid			score_type;
	TupleDesc	sdesc;

	for (int a = 0; a < tdesc->natts; a++)
		if (TupleDescAttr(tdesc, a)->attisdropped)
			mlc_load_shape_error(ld->rel, "The table has a dropped column.");
	ld->nkeys = qdesc->natts - 1;
	if (ld->nkeys < 1 || tdesc->natts != ld->nkeys + (int) MLC_TAIL_COLS)
		mlc_load_shape_error(ld->rel, psprintf("The query returns %d columns and the table has %d.",
											   qdesc->natts, tdesc->natts));
	for (int a = 0; a < tdesc->natts; a++)
	{
		Oid			want = a < ld->nkeys ? TupleDescAttr(qdesc, a)->atttypid : mlc_tail_types[a - ld->nkeys];

		if (TupleDescAttr(tdesc, a)->atttypid != want)
			mlc_load_shape_error(ld->rel, psprintf("Column %d of the table, \"%s\", is of type %s.", a + 1,
												   NameStr(TupleDescAttr(tdesc, a)->attname),
												   format_type_be(TupleDescAttr(tdesc, a)->atttypid)));
	}
	score_type = TupleDescAttr(qdesc, ld->nkeys)->atttypid;
	if (!type_is_rowtype(score_type) || score_type == RECORDOID)
		mlc_load_shape_error(ld->rel, "The query's last column is not an mlcycle.score.");
	sdesc = lookup_rowtype_tupdesc_copy(score_type, -1);
	if (sdesc->natts != (int) MLC_SCORE_COLS)
		mlc_load_shape_error(ld->rel, "The query's last column is not an mlcycle.score.");
	for (int a = 0; a < sdesc->natts; a++)
		if (TupleDescAttr(sdesc, a)->atttypid != mlc_score_types[a] || TupleDescAttr(sdesc, a)->attisdropped)
			mlc_load_shape_error(ld->rel, "The query's last column is not an mlcycle.score.");
	ld->score_desc = sdesc;
}

/* Insert the buffered rows */
static void
mlc_load_flush(MlcLoader *ld)
{
	if (ld->nbuffered == 0)
		return;
	CHECK_FOR_INTERRUPTS();
	table_multi_insert(ld->rel, ld->slots, ld->nbuffered, ld->cid, 0, ld->bistate);
	for (int i = 0; i < ld->nbuffered; i++)
		ExecClearTuple(ld->slots[i]);
	ld->rows += ld->nbuffered;
	ld->nbuffered = 0;
}

/* DestReceiver startup: the query's columns must fit the table */
static void
mlc_load_startup(DestReceiver *self, int operation, TupleDesc typeinfo)
{
	mlc_load_check_columns(((MlcLoadDest *) self)->ld, typeinfo);
}

/* Fill slot to with the prediction-table row of a query row: keys, then the score's fields */
static void
mlc_load_row(MlcLoader *ld, TupleTableSlot *slot, TupleTableSlot *to)
{
	int			k = ld->nkeys;
	Datum	   *v = to->tts_values;
	bool	   *n = to->tts_isnull;

	slot_getallattrs(slot);
	ExecClearTuple(to);
	memcpy(v, slot->tts_values, sizeof(Datum) * k);
	memcpy(n, slot->tts_isnull, sizeof(bool) * k);
	v[k] = ld->project;
	n[k] = false;
	if (slot->tts_isnull[k])
		memset(n + k + 1, true, MLC_SCORE_COLS);
	else
	{
		HeapTupleHeader td = DatumGetHeapTupleHeader(slot->tts_values[k]);
		HeapTupleData tuple;

		tuple.t_len = HeapTupleHeaderGetDatumLength(td);
		ItemPointerSetInvalid(&tuple.t_self);
		tuple.t_tableOid = InvalidOid;
		tuple.t_data = td;
		heap_deform_tuple(&tuple, ld->score_desc, v + k + 1, n + k + 1);
	}
	v[k + 1 + MLC_SCORE_COLS] = ld->scored_at;
	n[k + 1 + MLC_SCORE_COLS] = false;
	v[k + 2 + MLC_SCORE_COLS] = ld->day;
	n[k + 2 + MLC_SCORE_COLS] = false;
	ExecStoreVirtualTuple(to);
	/* the values point into the query's per-row memory: copy them now */
	ExecMaterializeSlot(to);
}

/* DestReceiver: buffer the row, check its constraints, insert a full buffer */
static bool
mlc_load_receive(TupleTableSlot *slot, DestReceiver *self)
{
	MlcLoader  *ld = ((MlcLoadDest *) self)->ld;
	TupleTableSlot *to = ld->slots[ld->nbuffered];

	mlc_load_row(ld, slot, to);
	if (ld->rel->rd_att->constr)
		ExecConstraints(ld->rri, to, ld->estate);
	/* a partition loaded directly keeps to its bounds */
	if (ld->rel->rd_rel->relispartition)
		ExecPartitionCheck(ld->rri, to, ld->estate, true);
	if (++ld->nbuffered == MLC_LOAD_BATCH)
		mlc_load_flush(ld);
	return true;
}

/* DestReceiver shutdown: insert what is left */
static void
mlc_load_shutdown(DestReceiver *self)
{
	mlc_load_flush(((MlcLoadDest *) self)->ld);
}

/* DestReceiver destroy: nothing is allocated */
static void
mlc_load_destroy(DestReceiver *self)
{
}

/* Release what mlc_load_begin took; the lock is kept to the end of the transaction */
static void
mlc_load_end(MlcLoader *ld)
{
	FreeBulkInsertState(ld->bistate);
	table_finish_bulk_insert(ld->rel, 0);
	for (int i = 0; i < MLC_LOAD_BATCH; i++)
		ExecDropSingleTupleTableSlot(ld->slots[i]);
	ExecCloseResultRelations(ld->estate);
	ExecCloseRangeTableRelations(ld->estate);
	FreeExecutorState(ld->estate);
	table_close(ld->rel, NoLock);
}

/*
 * mlcycle.score_load(target regclass, query text, project text, day date):
 * run query (its $1 is project, $2 the day), which returns key columns and
 * then an mlcycle.score, and add to target, a plain table without indexes,
 * triggers or row security shaped as a prediction table (the keys, project,
 * model_id, prediction, label, probabilities, scored_at, scored_on), one
 * row per query row, with project, the score's fields, now() and day.  NOT
 * NULL, CHECK and partition constraints are enforced and the caller needs
 * INSERT on target.  Returns the rows added.
 */
Datum
mlcycle_score_load(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	char	   *query = text_to_cstring(PG_GETARG_TEXT_PP(1));
	Oid			argtypes[2] = {TEXTOID, DATEOID};
	Datum		args[2] = {PointerGetDatum(PG_GETARG_TEXT_P(2)), PG_GETARG_DATUM(3)};
	MlcLoader	ld;
	MlcLoadDest dest;
	SPIPlanPtr	plan;
	ParamListInfo params;
	SPIExecuteOptions opts;
	int			rc;

	mlc_load_begin(&ld, relid);
	ld.project = args[0];
	ld.day = args[1];
	ld.scored_at = TimestampTzGetDatum(GetCurrentTransactionStartTimestamp());
	memset(&dest, 0, sizeof(dest));
	dest.pub.receiveSlot = mlc_load_receive;
	dest.pub.rStartup = mlc_load_startup;
	dest.pub.rShutdown = mlc_load_shutdown;
	dest.pub.rDestroy = mlc_load_destroy;
	dest.pub.mydest = DestNone;
	dest.ld = &ld;
	SPI_connect();
	plan = SPI_prepare(query, 2, argtypes);
	if (plan == NULL)
		elog(ERROR, "mlcycle: could not prepare the scoring query: %s", SPI_result_code_string(SPI_result));
	/* one statement that returns rows; read-only execution refuses any that writes */
	if (!SPI_is_cursor_plan(plan))
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("the query of mlcycle.score_load must be one SELECT")));
	params = makeParamList(2);
	for (int i = 0; i < 2; i++)
	{
		params->params[i].value = args[i];
		params->params[i].isnull = false;
		params->params[i].pflags = PARAM_FLAG_CONST;
		params->params[i].ptype = argtypes[i];
	}
	memset(&opts, 0, sizeof(opts));
	opts.params = params;
	opts.read_only = true;
	opts.dest = &dest.pub;
	rc = SPI_execute_plan_extended(plan, &opts);
	if (rc < 0)
		elog(ERROR, "mlcycle: the scoring query failed: %s", SPI_result_code_string(rc));
	SPI_finish();
	mlc_load_end(&ld);
	PG_RETURN_INT64(ld.rows);
}
