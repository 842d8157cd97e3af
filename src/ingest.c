/*
 * ingest.c
 *	  Reads a training relation into memory with the caller's privileges:
 *	  relation resolution, column kinds, value conversion (also used by
 *	  prediction) and a DestReceiver that stores each row without copying it.
 */
#include "postgres.h"

#include <math.h>

#include "access/htup_details.h"
#include "access/relation.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_enum.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "common/hashfn.h"
#include "utils/regproc.h"
#include "utils/rel.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"
#include "utils/varlena.h"

#include "ingest.h"
#include "mlcycle.h"
#include "model.h"

/* seconds between 1970-01-01 and PostgreSQL's epoch 2000-01-01 */
#define MLC_UNIX_TO_PG_EPOCH_SECONDS 946684800.0

/* hash entry of a categorical dictionary while reading */
typedef struct MlcDictEntry
{
	char	   *key;			/* palloc'd, NUL-terminated; hash key */
	int32		code;
} MlcDictEntry;

/* DestReceiver that appends each row of the scan to a dataset */
typedef struct MlcIngestReceiver
{
	DestReceiver pub;
	MlcDataset *ds;
	MemoryContext cxt;			/* where the dataset lives */
	bool		classification; /* target read as labels */
} MlcIngestReceiver;

/* Resolve a relation name like regclass does, and check SELECT privilege */
Oid
mlc_resolve_relation(const char *relation, bool check_select)
{
	List	   *names;
	RangeVar   *rv;
	Oid			relid;
	char		relkind;

	if (relation == NULL || relation[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("relation name must not be empty"),
				 errhint("Pass a table or view name, optionally schema-qualified.")));
	names = stringToQualifiedNameList(relation);
	rv = makeRangeVarFromNameList(names);
	relid = RangeVarGetRelid(rv, AccessShareLock, true);
	if (!OidIsValid(relid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation \"%s\" does not exist", relation),
				 errhint("Check the name and the search_path; quote mixed-case names, as in '\"My Schema\".\"Customers\"'.")));
	relkind = get_rel_relkind(relid);
	if (relkind != RELKIND_RELATION && relkind != RELKIND_VIEW &&
		relkind != RELKIND_MATVIEW && relkind != RELKIND_PARTITIONED_TABLE &&
		relkind != RELKIND_FOREIGN_TABLE)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not a table, view or materialized view", relation),
				 errhint("Train on a table, a view, a materialized view or a partitioned table.")));
	/* column privileges are checked per column read, in mlc_describe */
	if (check_select &&
		pg_class_aclcheck(relid, GetUserId(), ACL_SELECT) != ACLCHECK_OK &&
		pg_attribute_aclcheck_all(relid, GetUserId(), ACL_SELECT, ACLMASK_ANY) != ACLCHECK_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied for relation %s", relation),
				 errhint("Training reads the relation with your privileges: ask its owner for SELECT.")));
	return relid;
}

/* Column kind of a type (MLC_KIND_*), or 0 when mlcycle cannot use it */
uint8
mlc_type_kind(Oid typid)
{
	Oid			base = getBaseType(typid);

	switch (base)
	{
		case INT2OID:
		case INT4OID:
		case INT8OID:
		case FLOAT4OID:
		case FLOAT8OID:
		case NUMERICOID:
			return MLC_KIND_NUMERIC;
		case BOOLOID:
			return MLC_KIND_BOOL;
		case DATEOID:
		case TIMESTAMPOID:
		case TIMESTAMPTZOID:
			return MLC_KIND_TEMPORAL;
		case TEXTOID:
		case VARCHAROID:
		case BPCHAROID:
		case NAMEOID:
			return MLC_KIND_CATEGORICAL;
		default:
			if (type_is_enum(base))
				return MLC_KIND_CATEGORICAL;
			return 0;
	}
}

/* Numeric-kind datum to double: the types mlc_datum_to_double does not inline */
double
mlc_datum_to_double_slow(Datum d, Oid typid, uint8 kind)
{
	switch (typid)
	{
		case NUMERICOID:
			return DatumGetFloat8(DirectFunctionCall1(numeric_float8_no_overflow, d));
		case DATEOID:
			{
				DateADT		date = DatumGetDateADT(d);

				if (DATE_NOT_FINITE(date))
					return date < 0 ? -INFINITY : INFINITY;
				return (double) date * 86400.0 + MLC_UNIX_TO_PG_EPOCH_SECONDS;
			}
		case TIMESTAMPOID:
		case TIMESTAMPTZOID:
			{
				Timestamp	ts = DatumGetTimestamp(d);

				if (TIMESTAMP_NOT_FINITE(ts))
					return ts < 0 ? -INFINITY : INFINITY;
				return (double) ts / 1000000.0 + MLC_UNIX_TO_PG_EPOCH_SECONDS;
			}
		default:
			elog(ERROR, "mlcycle: type %u is not numeric", typid);
	}
	return 0;					/* keep compiler quiet */
}

/* Categorical datum to its bytes (not NUL-terminated); buf holds copies when needed */
const char *
mlc_datum_to_text(Datum d, Oid typid, int *len, char *buf, int bufsize)
{
	if (typid == NAMEOID)
	{
		const char *s = NameStr(*DatumGetName(d));

		*len = strlen(s);
		return s;
	}
	if (typid == TEXTOID || typid == VARCHAROID || typid == BPCHAROID)
	{
		struct varlena *v = pg_detoast_datum_packed((struct varlena *) DatumGetPointer(d));
		const char *s = VARDATA_ANY(v);
		int			n = VARSIZE_ANY_EXHDR(v);

		if (typid == BPCHAROID)
			while (n > 0 && s[n - 1] == ' ')
				n--;
		*len = n;
		return s;
	}
	else
	{
		/* enum: its label */
		HeapTuple	tup = SearchSysCache1(ENUMOID, d);
		int			n;

		if (!HeapTupleIsValid(tup))
			elog(ERROR, "mlcycle: enum value %u not found", DatumGetObjectId(d));
		n = strlen(NameStr(((Form_pg_enum) GETSTRUCT(tup))->enumlabel));
		n = Min(n, bufsize);
		memcpy(buf, NameStr(((Form_pg_enum) GETSTRUCT(tup))->enumlabel), n);
		ReleaseSysCache(tup);
		*len = n;
		return buf;
	}
}

/* Text form of a class label: bool as true/false, text as is, else the output function */
static char *
mlc_label_text(Datum d, Oid typid, uint8 kind)
{
	if (kind == MLC_KIND_BOOL)
		return pstrdup(DatumGetBool(d) ? "true" : "false");
	if (kind == MLC_KIND_CATEGORICAL)
	{
		char		buf[NAMEDATALEN * 4];
		int			len;
		const char *s = mlc_datum_to_text(d, typid, &len, buf, sizeof(buf));

		return pnstrdup(s, len);
	}
	else
	{
		Oid			outfn;
		bool		isvarlena;

		getTypeOutputInfo(typid, &outfn, &isvarlena);
		return OidOutputFunctionCall(outfn, d);
	}
}

/* Dictionary code of a categorical value, adding it when new */
static int32
mlc_dict_code(MlcRawColumn *col, const char *s, int len)
{
	char		keybuf[NAMEDATALEN];
	char	   *key;
	MlcDictEntry *e;
	bool		found;

	/* dynahash with HASH_STRINGS wants a NUL-terminated key of keysize */
	if (len < NAMEDATALEN)
	{
		memcpy(keybuf, s, len);
		keybuf[len] = '\0';
		key = keybuf;
	}
	else
		key = pnstrdup(s, len);
	if (strlen(key) != (size_t) len)
		ereport(ERROR,
				(errcode(ERRCODE_CHARACTER_NOT_IN_REPERTOIRE),
				 errmsg("column \"%s\" contains a value with a NUL byte", col->name),
				 errhint("Exclude the column, or train on a view that removes the NUL bytes.")));
	e = (MlcDictEntry *) hash_search(col->dict_hash, &key, HASH_ENTER, &found);
	if (!found)
	{
		if (col->ndict >= MLC_MAX_CATEGORIES)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("column \"%s\" has more than %d distinct values", col->name, MLC_MAX_CATEGORIES),
					 errhint("Exclude the column or group its rare values before training.")));
		e->key = MemoryContextStrdup(GetMemoryChunkContext(col->dict), key);
		e->code = col->ndict;
		if ((col->ndict & (col->ndict - 1)) == 0 && col->ndict >= 16)
			col->dict = repalloc(col->dict, sizeof(char *) * col->ndict * 2);
		col->dict[col->ndict++] = e->key;
	}
	if (key != keybuf)
		pfree(key);
	return e->code;
}

/* hash and compare functions for the dictionary's char * keys */
static uint32
mlc_dict_hash(const void *key, Size keysize)
{
	return string_hash(*(char *const *) key, NAMEDATALEN * 1024);
}

static int
mlc_dict_match(const void *a, const void *b, Size keysize)
{
	return strcmp(*(char *const *) a, *(char *const *) b);
}

/* Prepare a raw column's storage */
static void
mlc_raw_column_init(MlcRawColumn *col, int64 capacity, bool categorical)
{
	if (categorical)
	{
		HASHCTL		ctl;

		col->codes = mlc_alloc_large(sizeof(int32) * capacity);
		col->dict = palloc(sizeof(char *) * 16);
		ctl.keysize = sizeof(char *);
		ctl.entrysize = sizeof(MlcDictEntry);
		ctl.hash = mlc_dict_hash;
		ctl.match = mlc_dict_match;
		ctl.hcxt = CurrentMemoryContext;
		col->dict_hash = hash_create("mlcycle dictionary", 64, &ctl,
									 HASH_ELEM | HASH_FUNCTION | HASH_COMPARE | HASH_CONTEXT);
	}
	else
		col->values = mlc_alloc_large(sizeof(double) * capacity);
}

/* Bytes one row costs in the dataset */
static Size
mlc_row_bytes(MlcDataset *ds)
{
	return (Size) (ds->ncols + 1) * sizeof(double);
}

/* Double the dataset's capacity */
static void
mlc_dataset_grow(MlcDataset *ds)
{
	int64		newcap = ds->capacity * 2;

	mlc_check_memory(mlc_row_bytes(ds) * ds->capacity, "training rows");
	for (int i = 0; i <= ds->ncols; i++)
	{
		MlcRawColumn *col = (i < ds->ncols) ? &ds->cols[i] : &ds->target;

		if (col->codes)
		{
			int32	   *codes = mlc_alloc_large(sizeof(int32) * newcap);

			memcpy(codes, col->codes, sizeof(int32) * ds->capacity);
			pfree(col->codes);
			col->codes = codes;
		}
		else
		{
			double	   *values = mlc_alloc_large(sizeof(double) * newcap);

			memcpy(values, col->values, sizeof(double) * ds->capacity);
			pfree(col->values);
			col->values = values;
		}
	}
	ds->capacity = newcap;
}

/* Store one value of a column at row r */
static inline void
mlc_store_value(MlcRawColumn *col, int64 r, Datum d, bool isnull, bool label)
{
	if (col->codes)
	{
		if (isnull)
		{
			col->codes[r] = -1;
			col->nnull++;
		}
		else if (label)
		{
			char	   *s = mlc_label_text(d, col->typid, col->kind);

			col->codes[r] = mlc_dict_code(col, s, strlen(s));
			pfree(s);
		}
		else
		{
			char		buf[NAMEDATALEN * 4];
			int			len;
			const char *s = mlc_datum_to_text(d, col->typid, &len, buf, sizeof(buf));

			col->codes[r] = mlc_dict_code(col, s, len);
		}
		return;
	}
	if (isnull)
	{
		col->values[r] = NAN;
		col->nnull++;
		return;
	}
	col->values[r] = mlc_datum_to_double(d, col->typid, col->kind);
	if (!isfinite(col->values[r]))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("column \"%s\" contains NaN or Infinity", col->name),
				 errhint("Filter those rows out with a view, or turn them into NULL with NULLIF so they are imputed.")));
}

/* Deform and count a scanned row; false when its target is NULL (it is skipped) */
bool
mlc_ingest_count_row(MlcDataset *ds, TupleTableSlot *slot)
{
	slot_getallattrs(slot);
	ds->nread++;
	if ((ds->nread & 0xFFFF) == 0)
		CHECK_FOR_INTERRUPTS();
	if (slot->tts_isnull[ds->target.attno])
	{
		ds->nskipped++;
		return false;
	}
	return true;
}

/* receiveSlot: append one row */
static bool
mlc_ingest_receive(TupleTableSlot *slot, DestReceiver *self)
{
	MlcIngestReceiver *rcv = (MlcIngestReceiver *) self;
	MlcDataset *ds = rcv->ds;
	MemoryContext old;
	int64		r = ds->nrows;

	if (!mlc_ingest_count_row(ds, slot))
		return true;
	old = MemoryContextSwitchTo(rcv->cxt);
	if (r >= ds->capacity)
		mlc_dataset_grow(ds);
	for (int i = 0; i < ds->ncols; i++)
	{
		MlcRawColumn *col = &ds->cols[i];

		mlc_store_value(col, r, slot->tts_values[col->attno], slot->tts_isnull[col->attno], false);
	}
	mlc_store_value(&ds->target, r, slot->tts_values[ds->target.attno], false,
					rcv->classification);
	ds->nrows++;
	MemoryContextSwitchTo(old);
	return true;
}

static void
mlc_ingest_startup(DestReceiver *self, int operation, TupleDesc typeinfo)
{
}

static void
mlc_ingest_shutdown(DestReceiver *self)
{
}

static void
mlc_ingest_destroy(DestReceiver *self)
{
}

/* True when name is in the exclude list */
static bool
mlc_is_excluded(const char *name, Datum *ex, bool *exnull, int nex)
{
	for (int i = 0; i < nex; i++)
		if (!exnull[i] && strcmp(TextDatumGetCString(ex[i]), name) == 0)
			return true;
	return false;
}

/* Check that every excluded name is a column of the relation */
static void
mlc_check_exclude(Relation rel, Datum *ex, bool *exnull, int nex)
{
	for (int i = 0; i < nex; i++)
	{
		char	   *name;

		if (exnull[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("exclude must not contain NULL"),
					 errhint("Remove the NULL element from exclude.")));
		name = TextDatumGetCString(ex[i]);
		if (get_attnum(RelationGetRelid(rel), name) == InvalidAttrNumber)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_COLUMN),
					 errmsg("excluded column \"%s\" does not exist in %s", name,
							RelationGetRelationName(rel)),
					 errhint("List only columns of the training relation in exclude.")));
	}
}

/* Describe the relation's columns into ds and build the scan query */
static char *
mlc_describe(MlcDataset *ds, Relation rel, const char *target, ArrayType *exclude)
{
	TupleDesc	desc = RelationGetDescr(rel);
	StringInfoData q;
	Datum	   *ex = NULL;
	bool	   *exnull = NULL;
	int			nex = 0;
	int			ncols = 0;
	bool		have_target = false;
	bool		table_select = pg_class_aclcheck(RelationGetRelid(rel), GetUserId(), ACL_SELECT) == ACLCHECK_OK;

	if (exclude)
		deconstruct_array(exclude, TEXTOID, -1, false, TYPALIGN_INT, &ex, &exnull, &nex);
	mlc_check_exclude(rel, ex, exnull, nex);
	ds->cols = palloc0(sizeof(MlcRawColumn) * Max(desc->natts, 1));
	initStringInfo(&q);
	appendStringInfoString(&q, "SELECT ");
	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);
		const char *name = NameStr(att->attname);
		MlcRawColumn *col;

		if (att->attisdropped)
			continue;
		if (!table_select && !mlc_is_excluded(name, ex, exnull, nex) &&
			pg_attribute_aclcheck(RelationGetRelid(rel), att->attnum, GetUserId(), ACL_SELECT) != ACLCHECK_OK)
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("permission denied for column \"%s\" of relation %s", name, ds->relname),
					 errhint("Training reads every column it uses with your privileges: exclude this one, or ask for SELECT on it.")));
		if (strcmp(name, target) == 0)
		{
			col = &ds->target;
			have_target = true;
		}
		else if (mlc_is_excluded(name, ex, exnull, nex))
			continue;
		else
			col = &ds->cols[ncols++];
		col->name = pstrdup(name);
		col->typid = getBaseType(att->atttypid);
		col->kind = mlc_type_kind(att->atttypid);
		if (col->kind == 0 && col != &ds->target)
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("column \"%s\" has type %s, which mlcycle cannot use as a feature",
							name, format_type_be(att->atttypid)),
					 errhint("Exclude it with exclude => '{%s}', or train on a view that casts it to a number, boolean, date or text.",
							 quote_identifier(name))));
		if (col->kind == 0)
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("target column \"%s\" has type %s, which mlcycle cannot learn",
							name, format_type_be(att->atttypid)),
					 errhint("Train on a view that casts the target to a number, boolean or text.")));
		if (q.len > 7)
			appendStringInfoString(&q, ", ");
		appendStringInfoString(&q, quote_identifier(name));
	}
	if (!have_target)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("target column \"%s\" does not exist in %s", target, ds->relname),
				 errhint("Pass the name of the column to predict, exactly as it is spelled in the relation.")));
	if (ncols == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s has no feature columns", ds->relname),
				 errhint("Every column except the target and the excluded ones is a feature; exclude fewer columns.")));
	ds->ncols = ncols;
	appendStringInfo(&q, " FROM %s", ds->relname);
	return q.data;
}

/* Positions of the columns in the scan's target list, in table order */
static void
mlc_assign_attnos(MlcDataset *ds, Relation rel, const char *target)
{
	TupleDesc	desc = RelationGetDescr(rel);
	int			pos = 0;
	int			f = 0;

	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		if (att->attisdropped)
			continue;
		if (strcmp(NameStr(att->attname), target) == 0)
			ds->target.attno = pos++;
		else if (f < ds->ncols && strcmp(NameStr(att->attname), ds->cols[f].name) == 0)
			ds->cols[f++].attno = pos++;
	}
}

/* The planner's estimate of a relation's rows; 0 when it has none (views, partitioned tables) */
double
mlc_relation_rows_estimate(Oid relid)
{
	double		reltuples = 0;
	HeapTuple	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));

	if (HeapTupleIsValid(tup))
	{
		reltuples = ((Form_pg_class) GETSTRUCT(tup))->reltuples;
		ReleaseSysCache(tup);
	}
	return Max(reltuples, 0);
}

/* Rows to allocate for at first: the planner's estimate, within the memory budget */
static int64
mlc_initial_capacity(MlcDataset *ds, Oid relid)
{
	double		reltuples = mlc_relation_rows_estimate(relid);
	double		budget_rows = (double) mlc_max_train_memory_kb * 1024.0 / (double) mlc_row_bytes(ds);

	/* partitioned tables and views have no estimate of their own */
	if (!(reltuples > 0))
		return 1024;
	return (int64) Max(1024.0, Min(reltuples * 1.05 + 1024.0, budget_rows / 2));
}

/* Describe the relation's feature and target columns, and the query that reads them */
MlcDataset *
mlc_ingest_describe(Oid relid, const char *target, ArrayType *exclude)
{
	MlcDataset *ds = palloc0(sizeof(MlcDataset));
	Relation	rel;

	ds->relid = relid;
	ds->relname = quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)),
											 get_rel_name(relid));
	rel = relation_open(relid, AccessShareLock);
	ds->query = mlc_describe(ds, rel, target, exclude);
	mlc_assign_attnos(ds, rel, target);
	relation_close(rel, AccessShareLock);
	return ds;
}

/* Run the dataset's query with the caller's privileges, each row going to dest */
void
mlc_ingest_run(MlcDataset *ds, DestReceiver *dest)
{
	SPIExecuteOptions opts;
	MemoryContext cxt = CurrentMemoryContext;
	int			ret;

	dest->rStartup = mlc_ingest_startup;
	dest->rShutdown = mlc_ingest_shutdown;
	dest->rDestroy = mlc_ingest_destroy;
	dest->mydest = DestNone;
	memset(&opts, 0, sizeof(opts));
	opts.read_only = true;
	opts.dest = dest;
	ret = SPI_execute_extended(ds->query, &opts);
	/* SPI leaves its own procedure context current */
	MemoryContextSwitchTo(cxt);
	/* SPI says UTILITY when the rows went to a receiver of ours */
	if (ret != SPI_OK_SELECT && ret != SPI_OK_UTILITY)
		elog(ERROR, "mlcycle: reading %s failed: %s", ds->relname, SPI_result_code_string(ret));
}

/* Read the described columns into memory */
void
mlc_ingest_read(MlcDataset *ds, bool target_as_label)
{
	MlcIngestReceiver rcv;

	ds->capacity = mlc_initial_capacity(ds, ds->relid);
	mlc_check_memory(mlc_row_bytes(ds) * ds->capacity, "training rows");
	for (int i = 0; i < ds->ncols; i++)
		mlc_raw_column_init(&ds->cols[i], ds->capacity,
							ds->cols[i].kind == MLC_KIND_CATEGORICAL);
	mlc_raw_column_init(&ds->target, ds->capacity, target_as_label);

	memset(&rcv, 0, sizeof(rcv));
	rcv.pub.receiveSlot = mlc_ingest_receive;
	rcv.ds = ds;
	rcv.cxt = CurrentMemoryContext;
	rcv.classification = target_as_label;
	mlc_ingest_run(ds, (DestReceiver *) &rcv);
}
