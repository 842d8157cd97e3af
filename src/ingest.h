/*
 * ingest.h
 *	  Reading a training relation into memory: relation resolution, column
 *	  kinds, value conversion (shared with prediction) and the raw dataset.
 */
#ifndef MLCYCLE_INGEST_H
#define MLCYCLE_INGEST_H

#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/tuptable.h"
#include "tcop/dest.h"
#include "utils/array.h"
#include "utils/hsearch.h"

/* One raw column as read: doubles for numeric kinds, dictionary codes for text */
typedef struct MlcRawColumn
{
	char	   *name;
	Oid			typid;			/* base type */
	uint8		kind;			/* MLC_KIND_* */
	int			attno;			/* position in the scan's target list, from 0 */
	double	   *values;			/* numeric kinds: one per row, NaN when NULL */
	int32	   *codes;			/* categorical: dictionary code, -1 when NULL */
	int64		nnull;
	int32		ndict;			/* categorical: distinct values seen */
	char	  **dict;			/* code -> NUL-terminated value */
	HTAB	   *dict_hash;		/* value -> code, while reading */
} MlcRawColumn;

typedef struct MlcDataset
{
	Oid			relid;
	char	   *relname;		/* schema-qualified, quoted: for messages */
	int			ncols;			/* feature columns */
	MlcRawColumn *cols;
	MlcRawColumn target;
	int64		nrows;			/* rows kept (target not NULL) */
	int64		nread;			/* rows read */
	int64		nskipped;		/* rows skipped for a NULL target */
	int64		capacity;
	char	   *query;			/* reads the columns, in this order, target included */
} MlcDataset;

/* Resolve a relation name like regclass does, and check SELECT privilege */
extern Oid	mlc_resolve_relation(const char *relation, bool check_select);

/* Column kind of a type (MLC_KIND_*), or 0 when mlcycle cannot use it */
extern uint8 mlc_type_kind(Oid typid);

extern double mlc_datum_to_double_slow(Datum d, Oid typid, uint8 kind);

/* Numeric-kind datum to double (bool 0/1, temporal seconds since 1970) */
static inline double
mlc_datum_to_double(Datum d, Oid typid, uint8 kind)
{
	switch (typid)
	{
		case FLOAT8OID:
			return DatumGetFloat8(d);
		case INT4OID:
			return (double) DatumGetInt32(d);
		case INT8OID:
			return (double) DatumGetInt64(d);
		case FLOAT4OID:
			return (double) DatumGetFloat4(d);
		case INT2OID:
			return (double) DatumGetInt16(d);
		case BOOLOID:
			return DatumGetBool(d) ? 1.0 : 0.0;
		default:
			return mlc_datum_to_double_slow(d, typid, kind);
	}
}

/* Categorical datum to its bytes (not NUL-terminated); buf holds copies when needed */
extern const char *mlc_datum_to_text(Datum d, Oid typid, int *len, char *buf, int bufsize);

/* The planner's estimate of a relation's rows; 0 when it has none */
extern double mlc_relation_rows_estimate(Oid relid);

/* Describe the relation's feature and target columns, and the query that reads them */
extern MlcDataset *mlc_ingest_describe(Oid relid, const char *target, ArrayType *exclude);

/* Run the dataset's query with the caller's privileges, each row going to dest */
extern void mlc_ingest_run(MlcDataset *ds, DestReceiver *dest);

/* Deform and count a scanned row; false when its target is NULL (it is skipped) */
extern bool mlc_ingest_count_row(MlcDataset *ds, TupleTableSlot *slot);

/* Read the described columns (target as labels for classification) into memory */
extern void mlc_ingest_read(MlcDataset *ds, bool target_as_label);

#endif							/* MLCYCLE_INGEST_H */
