/*
 * explore.c
 *	  Data exploration over any relation, with the caller's privileges:
 *	  ml_profile (one aggregate query of column summaries), ml_outliers,
 *	  ml_duplicates, ml_correlations and ml_feature_scores.
 */
#include "postgres.h"

#include <float.h>
#include <math.h>

#include "access/htup_details.h"
#include "access/relation.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/typcache.h"

#include "drift_stats.h"
#include "explore.h"
#include "ingest.h"
#include "mlcycle.h"
#include "model.h"
#include "sketch.h"

/* top values a profile shows; equal-frequency bins of the mutual information */
#define MLC_PROFILE_TOP_VALUES	10
#define MLC_MI_BINS				10

PG_FUNCTION_INFO_V1(mlc_profile);
PG_FUNCTION_INFO_V1(mlc_outliers);
PG_FUNCTION_INFO_V1(mlc_duplicates);
PG_FUNCTION_INFO_V1(mlc_correlations);
PG_FUNCTION_INFO_V1(mlc_feature_scores);
PG_FUNCTION_INFO_V1(mlc_numeric_float8);

/* ------------------------------------------------------------------------
 * Columns
 * ------------------------------------------------------------------------
 */

/* The relation's schema-qualified, quoted name */
char *
mlc_explore_relname(Oid relid)
{
	return quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)),
									  get_rel_name(relid));
}

/* Resolve a relation like ml_train does; the caller needs SELECT on it or on some columns */
Oid
mlc_explore_resolve(const char *relation)
{
	Oid			relid = mlc_resolve_relation(relation, false);

	if (pg_class_aclcheck(relid, GetUserId(), ACL_SELECT) != ACLCHECK_OK &&
		pg_attribute_aclcheck_all(relid, GetUserId(), ACL_SELECT, ACLMASK_ANY) != ACLCHECK_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied for relation %s", relation),
				 errhint("Exploration reads the relation with your privileges: ask its owner for SELECT.")));
	return relid;
}

/* Kind of a column type, and whether it is an integer */
static MlcExploreKind
mlc_explore_kind(Oid typid, bool *integer)
{
	Oid			base = getBaseType(typid);

	*integer = (base == INT2OID || base == INT4OID || base == INT8OID);
	switch (mlc_type_kind(typid))
	{
		case MLC_KIND_NUMERIC:
			return MLC_EXPLORE_NUMERIC;
		case MLC_KIND_TEMPORAL:
			return MLC_EXPLORE_TEMPORAL;
		case MLC_KIND_CATEGORICAL:
		case MLC_KIND_BOOL:
			return MLC_EXPLORE_CATEGORICAL;
		default:
			return MLC_EXPLORE_OTHER;
	}
}

/*
 * mlcycle.numeric_float8(numeric): the value of numeric::float8 without its
 * numeric_out + strtod when it can be had exactly.  The on-disk numeric
 * format (fixed across releases for pg_upgrade; numeric.c) is a sign, a
 * weight and base-10000 digits, so a finite value is m * 10^e with an
 * integer m.  When m <= 2^53 and either e >= 0 with m * 10^e <= 2^53 (an exact
 * double) or -22 <= e < 0 (m and 10^-e exact doubles, and IEEE division
 * rounds their quotient correctly, as strtod does), the result is the cast's
 * to the bit; anything else (NaN, infinities, more digits) is the cast.
 */
#define MLC_NUMERIC_SIGN_MASK	0xC000
#define MLC_NUMERIC_NEG			0x4000
#define MLC_NUMERIC_SHORT		0x8000
#define MLC_NUMERIC_SPECIAL		0xC000
#define MLC_NUMERIC_SHORT_SIGN	0x2000
#define MLC_NUMERIC_SHORT_WSIGN 0x0040
#define MLC_NUMERIC_SHORT_WMASK 0x003F
#define MLC_NBASE				10000
#define MLC_EXACT_INT_MAX		(UINT64CONST(1) << 53)

Datum
mlc_numeric_float8(PG_FUNCTION_ARGS)
{
	static const double pow10[] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
		1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
	struct varlena *num = PG_DETOAST_DATUM_PACKED(PG_GETARG_DATUM(0));
	const char *p = VARDATA_ANY(num);
	Size		len = VARSIZE_ANY_EXHDR(num);
	uint16		header;
	int16		weight;
	bool		neg;
	Size		hdr;
	int			ndigits;
	uint64		m = 0;
	int			e;
	double		v;

	if (len < sizeof(uint16))
		PG_RETURN_DATUM(DirectFunctionCall1(numeric_float8, PG_GETARG_DATUM(0)));
	memcpy(&header, p, sizeof(header));
	if ((header & MLC_NUMERIC_SIGN_MASK) == MLC_NUMERIC_SPECIAL)
		PG_RETURN_DATUM(DirectFunctionCall1(numeric_float8, PG_GETARG_DATUM(0)));
	if ((header & MLC_NUMERIC_SIGN_MASK) == MLC_NUMERIC_SHORT)
	{
		hdr = sizeof(uint16);
		neg = (header & MLC_NUMERIC_SHORT_SIGN) != 0;
		weight = (int16) (((header & MLC_NUMERIC_SHORT_WSIGN) ? ~MLC_NUMERIC_SHORT_WMASK : 0) |
						  (header & MLC_NUMERIC_SHORT_WMASK));
	}
	else
	{
		if (len < sizeof(uint16) + sizeof(int16))
			PG_RETURN_DATUM(DirectFunctionCall1(numeric_float8, PG_GETARG_DATUM(0)));
		hdr = sizeof(uint16) + sizeof(int16);
		neg = (header & MLC_NUMERIC_SIGN_MASK) == MLC_NUMERIC_NEG;
		memcpy(&weight, p + sizeof(uint16), sizeof(weight));
	}
	ndigits = (int) ((len - hdr) / sizeof(int16));
	for (int i = 0; i < ndigits; i++)
	{
		int16		d;

		memcpy(&d, p + hdr + i * sizeof(int16), sizeof(d));
		if (d < 0 || d >= MLC_NBASE || m > MLC_EXACT_INT_MAX / MLC_NBASE)
			PG_RETURN_DATUM(DirectFunctionCall1(numeric_float8, PG_GETARG_DATUM(0)));
		m = m * MLC_NBASE + d;
	}
	/* value = m * NBASE^(weight - ndigits + 1) */
	e = 4 * (weight - ndigits + 1);
	if (m == 0)
		PG_RETURN_FLOAT8(0.0);
	if (m > MLC_EXACT_INT_MAX)
		PG_RETURN_DATUM(DirectFunctionCall1(numeric_float8, PG_GETARG_DATUM(0)));
	else if (e >= 0)
	{
		for (; e > 0; e--)
		{
			if (m > MLC_EXACT_INT_MAX / 10)
				PG_RETURN_DATUM(DirectFunctionCall1(numeric_float8, PG_GETARG_DATUM(0)));
			m *= 10;
		}
		v = (double) m;
	}
	else if (e >= -22)
		v = (double) m / pow10[-e];
	else
		PG_RETURN_DATUM(DirectFunctionCall1(numeric_float8, PG_GETARG_DATUM(0)));
	PG_RETURN_FLOAT8(neg ? -v : v);
}

/* Every column of relid the caller may read (an error names the first one not) */
MlcExploreCol *
mlc_explore_columns(Oid relid, int *ncols)
{
	Relation	rel = relation_open(relid, AccessShareLock);
	TupleDesc	desc = RelationGetDescr(rel);
	bool		table_select = pg_class_aclcheck(relid, GetUserId(), ACL_SELECT) == ACLCHECK_OK;
	MlcExploreCol *cols = palloc0(sizeof(MlcExploreCol) * Max(desc->natts, 1));
	int			n = 0;

	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);
		MlcExploreCol *c;
		const char *q;

		if (att->attisdropped)
			continue;
		if (!table_select &&
			pg_attribute_aclcheck(relid, att->attnum, GetUserId(), ACL_SELECT) != ACLCHECK_OK)
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("permission denied for column \"%s\" of relation %s",
							NameStr(att->attname), mlc_explore_relname(relid)),
					 errhint("Exploration reads every column with your privileges: ask for SELECT on it, or explore a view of the columns you may read.")));
		c = &cols[n++];
		c->name = pstrdup(NameStr(att->attname));
		c->typid = att->atttypid;
		c->kind = mlc_explore_kind(att->atttypid, &c->integer);
		q = quote_identifier(c->name);
		if (c->kind == MLC_EXPLORE_NUMERIC && getBaseType(c->typid) == NUMERICOID)
			c->expr = psprintf("mlcycle.numeric_float8(%s)", q);
		else if (c->kind == MLC_EXPLORE_NUMERIC)
			c->expr = psprintf("%s::float8", q);
		else if (c->kind == MLC_EXPLORE_TEMPORAL)
			c->expr = psprintf("extract(epoch FROM %s)::float8", q);
		else
			c->expr = psprintf("%s::text", q);
	}
	relation_close(rel, AccessShareLock);
	if (n == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("relation %s has no columns", mlc_explore_relname(relid))));
	*ncols = n;
	return cols;
}

/* Run a read-only query expected to return one row; it is left in SPI_tuptable */
static void
mlc_explore_query_one(const char *query)
{
	int			ret = SPI_execute(query, true, 0);

	if (ret != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "mlcycle: exploration query failed: %s", SPI_result_code_string(ret));
}

/* A bytea result column of SPI's current row, copied to the upper context; NULL when NULL */
static bytea *
mlc_explore_get_bytea(int col)
{
	bool		isnull;
	Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, col, &isnull);
	bytea	   *b;
	bytea	   *copy;

	if (isnull)
		return NULL;
	b = DatumGetByteaP(d);
	copy = SPI_palloc(VARSIZE(b));
	memcpy(copy, b, VARSIZE(b));
	return copy;
}

static const char *
mlc_explore_kind_name(MlcExploreKind k)
{
	switch (k)
	{
		case MLC_EXPLORE_NUMERIC:
			return "numeric";
		case MLC_EXPLORE_CATEGORICAL:
			return "categorical";
		case MLC_EXPLORE_TEMPORAL:
			return "temporal";
		default:
			return "other";
	}
}

/* Float8 datum, NULL when NaN */
static inline void
mlc_set_float(Datum *values, bool *nulls, int i, double v)
{
	values[i] = Float8GetDatum(v);
	nulls[i] = isnan(v);
}

/* The summary states of every column, from one aggregate query */
static bytea **
mlc_explore_summaries(Oid relid, MlcExploreCol *cols, int ncols, bool numeric_only)
{
	StringInfoData q;
	bytea	  **states = palloc0(sizeof(bytea *) * ncols);
	int			k = 0;

	initStringInfo(&q);
	appendStringInfoString(&q, "SELECT count(*)");
	for (int i = 0; i < ncols; i++)
	{
		bool		num = cols[i].kind == MLC_EXPLORE_NUMERIC || cols[i].kind == MLC_EXPLORE_TEMPORAL;

		if (numeric_only && cols[i].kind != MLC_EXPLORE_NUMERIC)
			continue;
		appendStringInfo(&q, ", mlcycle.%s(%s)", num ? "summary_state" : "category_state", cols[i].expr);
	}
	appendStringInfo(&q, " FROM %s", mlc_explore_relname(relid));
	mlc_explore_query_one(q.data);
	for (int i = 0; i < ncols; i++)
	{
		if (numeric_only && cols[i].kind != MLC_EXPLORE_NUMERIC)
			continue;
		states[i] = mlc_explore_get_bytea(2 + k++);
		/* an aggregate over no rows */
		if (states[i] == NULL)
			states[i] = mlc_sketch_empty(cols[i].kind == MLC_EXPLORE_NUMERIC ||
										 cols[i].kind == MLC_EXPLORE_TEMPORAL);
	}
	return states;
}

/* ------------------------------------------------------------------------
 * ml_profile
 * ------------------------------------------------------------------------
 */

#define MLC_PROFILE_NCOLS 27

/* One profile row of a numeric or temporal column */
static void
mlc_profile_numeric_row(bytea *state, Datum *values, bool *nulls)
{
	MlcNumStats st;
	double		q[3] = {0.25, 0.5, 0.75};
	double		qv[3];

	mlc_num_summary_stats(state, &st);
	mlc_num_summary_quantiles(state, q, 3, qv);
	values[3] = Int64GetDatum(st.rows);
	values[4] = Int64GetDatum(st.nulls);
	mlc_set_float(values, nulls, 5, st.rows > 0 ? (double) st.nulls / st.rows : NAN);
	values[6] = Int64GetDatum((int64) st.distinct);
	values[7] = BoolGetDatum(st.distinct_exact);
	values[8] = Int64GetDatum(st.nan + st.posinf + st.neginf);
	mlc_set_float(values, nulls, 9, st.mean);
	mlc_set_float(values, nulls, 10, sqrt(st.var_sample));
	mlc_set_float(values, nulls, 11, st.min);
	mlc_set_float(values, nulls, 12, qv[0]);
	mlc_set_float(values, nulls, 13, qv[1]);
	mlc_set_float(values, nulls, 14, qv[2]);
	mlc_set_float(values, nulls, 15, st.max);
	mlc_set_float(values, nulls, 16, st.skewness);
	mlc_set_float(values, nulls, 17, st.kurtosis);
	mlc_set_float(values, nulls, 18, st.n > 0 ? (double) st.zeros / st.n : NAN);
	values[19] = BoolGetDatum(st.quantiles_exact);
	mlc_set_float(values, nulls, 20, st.n > 0 ? st.rank_error : NAN);
	nulls[21] = true;			/* top values and their exactness */
	nulls[22] = true;
}

/* One profile row of a categorical or other column */
static void
mlc_profile_category_row(bytea *state, Datum *values, bool *nulls)
{
	MlcFreqStats st;

	mlc_freq_summary_stats(state, &st);
	values[3] = Int64GetDatum(st.rows);
	values[4] = Int64GetDatum(st.nulls);
	mlc_set_float(values, nulls, 5, st.rows > 0 ? (double) st.nulls / st.rows : NAN);
	values[6] = Int64GetDatum((int64) st.distinct);
	values[7] = BoolGetDatum(st.distinct_exact);
	for (int i = 8; i <= 20; i++)
		nulls[i] = true;
	values[21] = JsonbPGetDatum(mlc_sketch_top_jsonb(state, MLC_PROFILE_TOP_VALUES));
	values[22] = BoolGetDatum(st.counts_exact);
}

/* ml_profile(relation): one row per column */
Datum
mlc_profile(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Oid			relid = mlc_explore_resolve(text_to_cstring(PG_GETARG_TEXT_PP(0)));
	int			ncols;
	MlcExploreCol *cols = mlc_explore_columns(relid, &ncols);
	bytea	  **states;

	InitMaterializedSRF(fcinfo, 0);
	SPI_connect();
	states = mlc_explore_summaries(relid, cols, ncols, false);
	for (int i = 0; i < ncols; i++)
	{
		Datum		values[MLC_PROFILE_NCOLS];
		bool		nulls[MLC_PROFILE_NCOLS];
		int64		rows,
					nonnull;
		double		distinct;

		CHECK_FOR_INTERRUPTS();
		memset(nulls, 0, sizeof(nulls));
		values[0] = CStringGetTextDatum(cols[i].name);
		values[1] = CStringGetTextDatum(format_type_be(cols[i].typid));
		values[2] = CStringGetTextDatum(mlc_explore_kind_name(cols[i].kind));
		if (cols[i].kind == MLC_EXPLORE_NUMERIC || cols[i].kind == MLC_EXPLORE_TEMPORAL)
			mlc_profile_numeric_row(states[i], values, nulls);
		else
			mlc_profile_category_row(states[i], values, nulls);
		rows = DatumGetInt64(values[3]);
		nonnull = rows - DatumGetInt64(values[4]);
		distinct = (double) DatumGetInt64(values[6]);
		/* constant: at most one distinct non-NULL value */
		values[23] = BoolGetDatum(distinct <= 1);
		/* likely identifier: an integer, text or other column of (nearly) unique values */
		values[24] = BoolGetDatum((cols[i].kind == MLC_EXPLORE_CATEGORICAL ||
								   cols[i].kind == MLC_EXPLORE_OTHER || cols[i].integer) &&
								  nonnull > 1 && distinct >= MLC_ID_SHARE * nonnull);
		values[25] = BoolGetDatum(rows > 0 && (double) (rows - nonnull) >= MLC_HIGH_MISSING * rows);
		values[26] = Int32GetDatum(i + 1);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	SPI_finish();
	return (Datum) 0;
}

/* ------------------------------------------------------------------------
 * ml_outliers
 * ------------------------------------------------------------------------
 */

/* A float8 literal that reads back as the same value */
static char *
mlc_float_literal(double v)
{
	if (isinf(v))
		return v > 0 ? "'Infinity'::float8" : "'-Infinity'::float8";
	return psprintf("'%.17g'::float8", v);
}

/* ml_outliers(relation, method, factor): per numeric column, bounds and counts */
Datum
mlc_outliers(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	char	   *relation;
	char	   *method = PG_ARGISNULL(1) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(1));
	bool		iqr;
	double		factor;
	Oid			relid;
	int			ncols;
	int			nnum = 0;
	MlcExploreCol *cols;
	bytea	  **states;
	double	   *lo;
	double	   *hi;
	int64	   *n;
	StringInfoData q;

	if (method == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("outlier method must not be NULL"),
				 errhint("Valid methods are iqr and zscore.")));
	if (strcmp(method, "iqr") != 0 && strcmp(method, "zscore") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown outlier method \"%s\"", method),
				 errhint("Valid methods are iqr and zscore.")));
	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("relation must not be NULL")));
	relation = text_to_cstring(PG_GETARG_TEXT_PP(0));
	iqr = strcmp(method, "iqr") == 0;
	factor = PG_ARGISNULL(2) ? (iqr ? 1.5 : 3.0) : PG_GETARG_FLOAT8(2);
	if (!(factor > 0) || !isfinite(factor))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("outlier factor must be a positive finite number"),
				 errhint("iqr uses 1.5 (fences at Q1 - 1.5 IQR and Q3 + 1.5 IQR), zscore 3 standard deviations when it is NULL.")));
	relid = mlc_explore_resolve(relation);
	cols = mlc_explore_columns(relid, &ncols);
	InitMaterializedSRF(fcinfo, 0);
	SPI_connect();
	states = mlc_explore_summaries(relid, cols, ncols, true);
	lo = palloc(sizeof(double) * ncols);
	hi = palloc(sizeof(double) * ncols);
	n = palloc0(sizeof(int64) * ncols);
	initStringInfo(&q);
	appendStringInfoString(&q, "SELECT count(*)");
	for (int i = 0; i < ncols; i++)
	{
		MlcNumStats st;

		if (cols[i].kind != MLC_EXPLORE_NUMERIC)
			continue;
		mlc_num_summary_stats(states[i], &st);
		n[i] = st.n;
		if (iqr)
		{
			double		qs[2] = {0.25, 0.75};
			double		qv[2];

			mlc_num_summary_quantiles(states[i], qs, 2, qv);
			lo[i] = qv[0] - factor * (qv[1] - qv[0]);
			hi[i] = qv[1] + factor * (qv[1] - qv[0]);
		}
		else
		{
			/* scipy.stats.zscore: population standard deviation */
			lo[i] = st.mean - factor * sqrt(st.var_pop);
			hi[i] = st.mean + factor * sqrt(st.var_pop);
		}
		if (st.n == 0)
			lo[i] = hi[i] = NAN;
		nnum++;
		/* NaN is no outlier; the infinities are */
		appendStringInfo(&q, ", count(*) FILTER (WHERE %s < %s), count(*) FILTER (WHERE %s > %s AND %s <> 'NaN'::float8)",
						 cols[i].expr, mlc_float_literal(isnan(lo[i]) ? -INFINITY : lo[i]),
						 cols[i].expr, mlc_float_literal(isnan(hi[i]) ? INFINITY : hi[i]), cols[i].expr);
	}
	if (nnum > 0)
	{
		int			k = 0;

		appendStringInfo(&q, " FROM %s", mlc_explore_relname(relid));
		mlc_explore_query_one(q.data);
		for (int i = 0; i < ncols; i++)
		{
			Datum		values[9];
			bool		nulls[9] = {0};
			bool		isnull;
			int64		below,
						above;

			if (cols[i].kind != MLC_EXPLORE_NUMERIC)
				continue;
			below = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2 + 2 * k, &isnull));
			above = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3 + 2 * k, &isnull));
			k++;
			values[0] = CStringGetTextDatum(cols[i].name);
			values[1] = CStringGetTextDatum(method);
			mlc_set_float(values, nulls, 2, lo[i]);
			mlc_set_float(values, nulls, 3, hi[i]);
			values[4] = Int64GetDatum(n[i]);
			values[5] = Int64GetDatum(below);
			values[6] = Int64GetDatum(above);
			values[7] = Int64GetDatum(below + above);
			mlc_set_float(values, nulls, 8, n[i] > 0 ? (double) (below + above) / n[i] : NAN);
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		}
	}
	SPI_finish();
	return (Datum) 0;
}

/* ------------------------------------------------------------------------
 * ml_duplicates
 * ------------------------------------------------------------------------
 */

/* Can GROUP BY compare values of this type (hash or sort)? */
static bool
mlc_type_groupable(Oid typid)
{
	TypeCacheEntry *tc = lookup_type_cache(typid, TYPECACHE_EQ_OPR | TYPECACHE_LT_OPR |
										   TYPECACHE_HASH_PROC);

	return OidIsValid(tc->eq_opr) && (OidIsValid(tc->lt_opr) || OidIsValid(tc->hash_proc));
}

/* ml_duplicates(relation): exact duplicate rows (NULLs equal to each other) */
Datum
mlc_duplicates(PG_FUNCTION_ARGS)
{
	Oid			relid = mlc_explore_resolve(text_to_cstring(PG_GETARG_TEXT_PP(0)));
	int			ncols;
	MlcExploreCol *cols = mlc_explore_columns(relid, &ncols);
	StringInfoData q;
	TupleDesc	tupdesc;
	Datum		values[5];
	bool		nulls[5] = {0};
	int64		r[4];

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "mlcycle: ml_duplicates must return a composite type");
	tupdesc = BlessTupleDesc(tupdesc);
	initStringInfo(&q);
	appendStringInfoString(&q, "SELECT coalesce(sum(c), 0)::bigint, count(*), coalesce(sum(c - 1), 0)::bigint, count(*) FILTER (WHERE c > 1) FROM (SELECT count(*) AS c FROM ");
	appendStringInfo(&q, "%s GROUP BY ", mlc_explore_relname(relid));
	for (int i = 0; i < ncols; i++)
	{
		const char *name = quote_identifier(cols[i].name);

		if (i > 0)
			appendStringInfoString(&q, ", ");
		/* types without equality (json, point, ...) compare by their text */
		if (mlc_type_groupable(cols[i].typid))
			appendStringInfoString(&q, name);
		else
			appendStringInfo(&q, "%s::text", name);
	}
	appendStringInfoString(&q, ") g");
	SPI_connect();
	mlc_explore_query_one(q.data);
	for (int i = 0; i < 4; i++)
	{
		bool		isnull;

		r[i] = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, i + 1, &isnull));
	}
	SPI_finish();
	for (int i = 0; i < 4; i++)
		values[i] = Int64GetDatum(r[i]);
	mlc_set_float(values, nulls, 4, r[0] > 0 ? (double) r[2] / r[0] : NAN);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}

/* ------------------------------------------------------------------------
 * Shared numerics
 * ------------------------------------------------------------------------
 */

/* Upper tail of the F distribution with d1 and d2 degrees of freedom */
double
mlc_f_sf(double f, double d1, double d2)
{
	if (isnan(f) || !(d1 > 0) || !(d2 > 0))
		return NAN;
	if (f <= 0)
		return 1.0;
	if (isinf(f))
		return 0.0;
	return mlc_beta_inc(d2 / 2.0, d1 / 2.0, d2 / (d2 + d1 * f));
}

/* Pearson correlation of x and y over n pairs (two-pass); NaN when either is constant */
static double
mlc_pearson(const double *x, const double *y, int64 n)
{
	double		mx = 0,
				my = 0,
				sxx = 0,
				syy = 0,
				sxy = 0;

	if (n < 2)
		return NAN;
	for (int64 i = 0; i < n; i++)
	{
		mx += x[i];
		my += y[i];
	}
	mx /= n;
	my /= n;
	for (int64 i = 0; i < n; i++)
	{
		double		dx = x[i] - mx;
		double		dy = y[i] - my;

		sxx += dx * dx;
		syy += dy * dy;
		sxy += dx * dy;
	}
	if (sxx == 0 || syy == 0)
		return NAN;
	return Max(-1.0, Min(1.0, sxy / sqrt(sxx * syy)));
}

/* Average ranks (1-based, ties averaged) of x[0..n) into r */
static void
mlc_rank_average(const double *x, int64 n, double *r)
{
	MlcTagged  *iv = palloc(Max(n, 1) * sizeof(MlcTagged));
	int64		i = 0;

	for (int64 k = 0; k < n; k++)
	{
		iv[k].v = x[k];
		iv[k].tag = k;
	}
	qsort(iv, n, sizeof(MlcTagged), mlc_cmp_tagged);
	while (i < n)
	{
		int64		j = i;
		double		avg;

		while (j + 1 < n && iv[j + 1].v == iv[i].v)
			j++;
		avg = (i + j) / 2.0 + 1.0;
		for (int64 k = i; k <= j; k++)
			r[iv[k].tag] = avg;
		i = j + 1;
	}
	pfree(iv);
}

static int
mlc_cmp_double(const void *a, const void *b)
{
	double		x = *(const double *) a;
	double		y = *(const double *) b;

	return (x > y) - (x < y);
}

/*
 * Equal-frequency bins of x[0..n): edges at the numpy 'linear' quantiles
 * k / bins (k = 1 .. bins - 1), a value's bin the number of edges below it
 * (numpy.digitize(x, edges, right=True)).
 */
static void
mlc_equal_freq_bins(const double *x, int64 n, int bins, int32 *out)
{
	double	   *s = palloc(Max(n, 1) * sizeof(double));
	double		edges[MLC_MI_BINS];

	memcpy(s, x, n * sizeof(double));
	qsort(s, n, sizeof(double), mlc_cmp_double);
	for (int k = 1; k < bins; k++)
		edges[k - 1] = mlc_quantile_linear(s, n, (double) k / bins);
	for (int64 i = 0; i < n; i++)
	{
		int			b = 0;

		while (b < bins - 1 && edges[b] < x[i])
			b++;
		out[i] = b;
	}
	pfree(s);
}

/*
 * Mutual information (nats) of two labelings a (0..na) and b (0..nb) of n
 * rows, from their contingency table, as sklearn's mutual_info_score.
 */
static double
mlc_mutual_info(const int32 *a, int na, const int32 *b, int nb, int64 n)
{
	int64	   *t = palloc0((Size) na * nb * sizeof(int64));
	int64	   *ra = palloc0(na * sizeof(int64));
	int64	   *rb = palloc0(nb * sizeof(int64));
	double		mi = 0.0;

	if (n == 0)
		return NAN;
	for (int64 i = 0; i < n; i++)
	{
		t[(Size) a[i] * nb + b[i]]++;
		ra[a[i]]++;
		rb[b[i]]++;
	}
	for (int i = 0; i < na; i++)
		for (int j = 0; j < nb; j++)
		{
			int64		c = t[(Size) i * nb + j];

			if (c > 0)
				mi += ((double) c / n) * (log((double) c) + log((double) n) -
										  log((double) ra[i]) - log((double) rb[j]));
		}
	pfree(t);
	pfree(ra);
	pfree(rb);
	return Max(mi, 0.0);
}

/* Pearson's chi-square of a contingency table of labelings (no correction) */
static void
mlc_chi2_table(const int32 *a, int na, const int32 *b, int nb, int64 n,
			   double *stat, double *p)
{
	int64	   *t = palloc0((Size) na * nb * sizeof(int64));
	int64	   *ra = palloc0(na * sizeof(int64));
	int64	   *rb = palloc0(nb * sizeof(int64));
	int			pa = 0,
				pb = 0;
	double		chi2 = 0.0;

	for (int64 i = 0; i < n; i++)
	{
		t[(Size) a[i] * nb + b[i]]++;
		ra[a[i]]++;
		rb[b[i]]++;
	}
	for (int i = 0; i < na; i++)
		pa += ra[i] > 0;
	for (int j = 0; j < nb; j++)
		pb += rb[j] > 0;
	for (int i = 0; i < na; i++)
		for (int j = 0; j < nb; j++)
		{
			double		e;

			if (ra[i] == 0 || rb[j] == 0)
				continue;
			e = (double) ra[i] * (double) rb[j] / (double) n;
			chi2 += ((double) t[(Size) i * nb + j] - e) * ((double) t[(Size) i * nb + j] - e) / e;
		}
	*stat = chi2;
	*p = (pa > 1 && pb > 1) ? mlc_chi2_sf(chi2, (double) (pa - 1) * (pb - 1)) : 1.0;
	pfree(t);
	pfree(ra);
	pfree(rb);
}

/* ------------------------------------------------------------------------
 * ml_correlations
 * ------------------------------------------------------------------------
 */

/* Read the numeric columns into memory (NaN for NULL and non-finite values) */
static double **
mlc_read_numeric(Oid relid, MlcExploreCol *cols, int ncols, int64 *nrows)
{
	StringInfoData q;
	double	  **v = palloc0(sizeof(double *) * ncols);
	int64		cap = 1024;
	int64		n = 0;
	int			nnum = 0;
	Portal		portal;

	initStringInfo(&q);
	appendStringInfoString(&q, "SELECT ");
	for (int i = 0; i < ncols; i++)
	{
		if (cols[i].kind != MLC_EXPLORE_NUMERIC)
			continue;
		appendStringInfo(&q, "%s%s", nnum++ > 0 ? ", " : "", cols[i].expr);
		v[i] = palloc(cap * sizeof(double));
	}
	appendStringInfo(&q, " FROM %s", mlc_explore_relname(relid));
	portal = SPI_cursor_open_with_args(NULL, q.data, 0, NULL, NULL, NULL, true, 0);
	for (;;)
	{
		SPI_cursor_fetch(portal, true, 10000);
		if (SPI_processed == 0)
			break;
		if (n + (int64) SPI_processed > cap)
		{
			int64		newcap = Max(cap * 2, n + (int64) SPI_processed);

			mlc_check_memory((Size) (newcap - cap) * nnum * sizeof(double), "numeric columns");
			for (int i = 0; i < ncols; i++)
				if (v[i])
					v[i] = repalloc_huge(v[i], newcap * sizeof(double));
			cap = newcap;
		}
		for (uint64 r = 0; r < SPI_processed; r++)
		{
			int			k = 0;

			CHECK_FOR_INTERRUPTS();
			for (int i = 0; i < ncols; i++)
			{
				bool		isnull;
				Datum		d;

				if (!v[i])
					continue;
				d = SPI_getbinval(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, ++k, &isnull);
				v[i][n] = (isnull || !isfinite(DatumGetFloat8(d))) ? NAN : DatumGetFloat8(d);
			}
			n++;
		}
		SPI_freetuptable(SPI_tuptable);
	}
	SPI_cursor_close(portal);
	*nrows = n;
	return v;
}

/* ml_correlations(relation): Pearson and Spearman of every pair of numeric columns */
Datum
mlc_correlations(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Oid			relid = mlc_explore_resolve(text_to_cstring(PG_GETARG_TEXT_PP(0)));
	int			ncols;
	MlcExploreCol *cols = mlc_explore_columns(relid, &ncols);
	double	  **v;
	double	  **rank;
	bool	   *complete;
	int64		n;
	double	   *x,
			   *y,
			   *rx,
			   *ry;

	InitMaterializedSRF(fcinfo, 0);
	mlc_memory_reset();
	SPI_connect();
	v = mlc_read_numeric(relid, cols, ncols, &n);
	rank = palloc0(sizeof(double *) * ncols);
	complete = palloc0(sizeof(bool) * ncols);
	/* columns without a missing value are ranked once */
	for (int i = 0; i < ncols; i++)
	{
		if (!v[i])
			continue;
		complete[i] = true;
		for (int64 r = 0; r < n && complete[i]; r++)
			complete[i] = !isnan(v[i][r]);
		if (complete[i])
		{
			rank[i] = palloc(Max(n, 1) * sizeof(double));
			mlc_rank_average(v[i], n, rank[i]);
		}
	}
	x = palloc(Max(n, 1) * sizeof(double));
	y = palloc(Max(n, 1) * sizeof(double));
	rx = palloc(Max(n, 1) * sizeof(double));
	ry = palloc(Max(n, 1) * sizeof(double));
	for (int i = 0; i < ncols; i++)
		for (int j = i + 1; j < ncols; j++)
		{
			Datum		values[5];
			bool		nulls[5] = {0};
			int64		m = 0;
			double		sp;

			if (!v[i] || !v[j])
				continue;
			CHECK_FOR_INTERRUPTS();
			for (int64 r = 0; r < n; r++)
				if (!isnan(v[i][r]) && !isnan(v[j][r]))
				{
					x[m] = v[i][r];
					y[m++] = v[j][r];
				}
			if (complete[i] && complete[j])
				sp = mlc_pearson(rank[i], rank[j], n);
			else
			{
				mlc_rank_average(x, m, rx);
				mlc_rank_average(y, m, ry);
				sp = mlc_pearson(rx, ry, m);
			}
			values[0] = CStringGetTextDatum(cols[i].name);
			values[1] = CStringGetTextDatum(cols[j].name);
			mlc_set_float(values, nulls, 2, mlc_pearson(x, y, m));
			mlc_set_float(values, nulls, 3, sp);
			values[4] = Int64GetDatum(m);
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		}
	SPI_finish();
	return (Datum) 0;
}

/* ------------------------------------------------------------------------
 * ml_feature_scores
 * ------------------------------------------------------------------------
 */

/* Scores of one feature, NaN where they do not apply */
typedef struct MlcFeatureScore
{
	int64		n;
	double		variance;
	double		correlation;
	double		f;
	double		f_p;
	double		chi2;
	double		chi2_p;
	double		mi;
} MlcFeatureScore;

/* One-way ANOVA F of x grouped by class (sklearn f_classif) */
static void
mlc_anova_f(const double *x, const int32 *cls, int ncls, int64 n, double *f, double *p)
{
	double	   *sum = palloc0(ncls * sizeof(double));
	int64	   *cnt = palloc0(ncls * sizeof(int64));
	double		mean = 0,
				sstot = 0,
				ssbn = 0,
				sswn;
	int			k = 0;

	for (int64 i = 0; i < n; i++)
		mean += x[i];
	mean /= n;
	for (int64 i = 0; i < n; i++)
	{
		double		d = x[i] - mean;

		sstot += d * d;
		sum[cls[i]] += d;
		cnt[cls[i]]++;
	}
	for (int c = 0; c < ncls; c++)
		if (cnt[c] > 0)
		{
			ssbn += sum[c] * sum[c] / cnt[c];
			k++;
		}
	sswn = sstot - ssbn;
	*f = NAN;
	*p = NAN;
	if (k >= 2 && n > k && sswn > 0)
	{
		*f = (ssbn / (k - 1)) / (sswn / (n - k));
		*p = mlc_f_sf(*f, k - 1, n - k);
	}
	else if (k >= 2 && n > k && ssbn > 0)
	{
		*f = INFINITY;
		*p = 0.0;
	}
	pfree(sum);
	pfree(cnt);
}

/* The target of row r into position n of c (classes) or y (values) */
static inline void
mlc_copy_target(MlcDataset *ds, int64 r, bool cls, int32 *c, double *y, int64 n)
{
	if (cls)
		c[n] = ds->target.codes[r];
	else
		y[n] = ds->target.values[r];
}

/* Scores of a numeric feature over the rows where it is not NULL */
static void
mlc_score_numeric(MlcRawColumn *col, MlcDataset *ds, bool cls, MlcFeatureScore *sc)
{
	int64		n = 0;
	double	   *x = palloc(Max(ds->nrows, 1) * sizeof(double));
	double	   *y = palloc(Max(ds->nrows, 1) * sizeof(double));
	int32	   *c = palloc(Max(ds->nrows, 1) * sizeof(int32));
	int32	   *bx = palloc(Max(ds->nrows, 1) * sizeof(int32));
	int32	   *by = palloc(Max(ds->nrows, 1) * sizeof(int32));
	double		mean = 0,
				ss = 0;

	for (int64 r = 0; r < ds->nrows; r++)
	{
		if (isnan(col->values[r]))
			continue;
		x[n] = col->values[r];
		mlc_copy_target(ds, r, cls, c, y, n++);
	}
	sc->n = n;
	if (n == 0)
		return;
	for (int64 i = 0; i < n; i++)
		mean += x[i];
	mean /= n;
	for (int64 i = 0; i < n; i++)
		ss += (x[i] - mean) * (x[i] - mean);
	sc->variance = ss / n;
	mlc_equal_freq_bins(x, n, MLC_MI_BINS, bx);
	if (cls)
	{
		mlc_anova_f(x, c, ds->target.ndict, n, &sc->f, &sc->f_p);
		sc->mi = mlc_mutual_info(bx, MLC_MI_BINS, c, ds->target.ndict, n);
		return;
	}
	sc->correlation = mlc_pearson(x, y, n);
	if (n > 2)
	{
		double		r2 = sc->correlation * sc->correlation;

		/* sklearn f_regression, force_finite: a constant feature scores F 0, p 1 */
		if (isnan(sc->correlation))
		{
			sc->f = 0.0;
			sc->f_p = 1.0;
		}
		else
		{
			sc->f = r2 >= 1.0 ? INFINITY : r2 / (1.0 - r2) * (n - 2);
			sc->f_p = mlc_f_sf(sc->f, 1, n - 2);
		}
	}
	mlc_equal_freq_bins(y, n, MLC_MI_BINS, by);
	sc->mi = mlc_mutual_info(bx, MLC_MI_BINS, by, MLC_MI_BINS, n);
}

/* Scores of a categorical feature over the rows where it is not NULL */
static void
mlc_score_categorical(MlcRawColumn *col, MlcDataset *ds, bool cls, MlcFeatureScore *sc)
{
	int64		n = 0;
	int32	   *a = palloc(Max(ds->nrows, 1) * sizeof(int32));
	int32	   *c = palloc(Max(ds->nrows, 1) * sizeof(int32));
	double	   *y = palloc(Max(ds->nrows, 1) * sizeof(double));

	for (int64 r = 0; r < ds->nrows; r++)
	{
		if (col->codes[r] < 0)
			continue;
		a[n] = col->codes[r];
		mlc_copy_target(ds, r, cls, c, y, n++);
	}
	sc->n = n;
	if (n == 0)
		return;
	if (cls)
	{
		mlc_chi2_table(a, Max(col->ndict, 1), c, ds->target.ndict, n, &sc->chi2, &sc->chi2_p);
		sc->mi = mlc_mutual_info(a, Max(col->ndict, 1), c, ds->target.ndict, n);
	}
	else
	{
		mlc_equal_freq_bins(y, n, MLC_MI_BINS, c);
		sc->mi = mlc_mutual_info(a, Max(col->ndict, 1), c, MLC_MI_BINS, n);
	}
}

/* ml_feature_scores(relation, target, task, exclude) */
Datum
mlc_feature_scores(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	char	   *relation;
	char	   *target;
	char	   *task = PG_ARGISNULL(2) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(2));
	ArrayType  *exclude = PG_ARGISNULL(3) ? NULL : PG_GETARG_ARRAYTYPE_P(3);
	Oid			relid;
	MlcDataset *ds;
	bool		cls;
	MemoryContext scratch;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("relation and target must not be NULL")));
	relation = text_to_cstring(PG_GETARG_TEXT_PP(0));
	target = text_to_cstring(PG_GETARG_TEXT_PP(1));
	if (task && strcmp(task, "classification") != 0 && strcmp(task, "regression") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown task \"%s\"", task),
				 errhint("Valid tasks are classification and regression, or NULL to infer it from the target.")));
	relid = mlc_explore_resolve(relation);
	ds = mlc_ingest_describe(relid, target, exclude);
	if (task)
		cls = strcmp(task, "classification") == 0;
	else
		cls = ds->target.kind == MLC_KIND_CATEGORICAL || ds->target.kind == MLC_KIND_BOOL;
	if (!cls && (ds->target.kind == MLC_KIND_CATEGORICAL))
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("target column \"%s\" is not numeric, so its task cannot be regression", target),
				 errhint("Use task => 'classification', or a numeric target.")));
	InitMaterializedSRF(fcinfo, 0);
	mlc_memory_reset();
	SPI_connect();
	mlc_ingest_read(ds, cls);
	if (ds->nrows == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s has no rows with a non-NULL target", ds->relname),
				 errhint("Feature scores need rows whose target \"%s\" is known.", target)));
	/* each feature's scratch arrays live in a context reset after it */
	scratch = AllocSetContextCreate(CurrentMemoryContext, "mlcycle feature scores", ALLOCSET_DEFAULT_SIZES);
	for (int j = 0; j < ds->ncols; j++)
	{
		MlcRawColumn *col = &ds->cols[j];
		MlcFeatureScore sc = {0, NAN, NAN, NAN, NAN, NAN, NAN, NAN};
		Datum		values[10];
		bool		nulls[10] = {0};
		MemoryContext old;

		CHECK_FOR_INTERRUPTS();
		old = MemoryContextSwitchTo(scratch);
		if (col->kind == MLC_KIND_CATEGORICAL)
			mlc_score_categorical(col, ds, cls, &sc);
		else
			mlc_score_numeric(col, ds, cls, &sc);
		values[0] = CStringGetTextDatum(col->name);
		values[1] = CStringGetTextDatum(col->kind == MLC_KIND_CATEGORICAL ? "categorical" :
										col->kind == MLC_KIND_TEMPORAL ? "temporal" :
										col->kind == MLC_KIND_BOOL ? "boolean" : "numeric");
		values[2] = Int64GetDatum(sc.n);
		mlc_set_float(values, nulls, 3, sc.variance);
		mlc_set_float(values, nulls, 4, sc.correlation);
		mlc_set_float(values, nulls, 5, sc.f);
		mlc_set_float(values, nulls, 6, sc.f_p);
		mlc_set_float(values, nulls, 7, sc.chi2);
		mlc_set_float(values, nulls, 8, sc.chi2_p);
		mlc_set_float(values, nulls, 9, sc.mi);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		MemoryContextSwitchTo(old);
		MemoryContextReset(scratch);
	}
	SPI_finish();
	return (Datum) 0;
}
