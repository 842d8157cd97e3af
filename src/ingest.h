/*
 * ingest.h
 *	  Reading a training relation into memory: relation resolution, column
 *	  kinds, value conversion (shared with prediction) and the raw dataset.
 */
#ifndef MLCYCLE_INGEST_H
#define MLCYCLE_INGEST_H

#include "postgres.h"

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
} MlcDataset;

/* Resolve a relation name like regclass does, and check SELECT privilege */
extern Oid	mlc_resolve_relation(const char *relation, bool check_select);

/* Column kind of a type (MLC_KIND_*), or 0 when mlcycle cannot use it */
extern uint8 mlc_type_kind(Oid typid);

/* Numeric-kind datum to double (bool 0/1, temporal seconds since 1970) */
extern double mlc_datum_to_double(Datum d, Oid typid, uint8 kind);

/* Categorical datum to its bytes (not NUL-terminated); buf holds copies when needed */
extern const char *mlc_datum_to_text(Datum d, Oid typid, int *len, char *buf, int bufsize);

/* Read relation's columns (all but target and exclude) and target into memory */
extern MlcDataset *mlc_ingest(Oid relid, const char *target, ArrayType *exclude,
							  bool target_as_label);

#endif							/* MLCYCLE_INGEST_H */
