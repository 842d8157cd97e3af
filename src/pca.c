/*
 * pca.c
 *	  The covariance aggregate (centered cross-products in a bytea state,
 *	  merged with Chan's pairwise update), ml_covariance, and ml_pca: the
 *	  eigen-decomposition of a relation's covariance (LAPACK dsyevd).
 */
#include "postgres.h"

#include <math.h>

#include <cblas.h>
#include <lapacke.h>

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

#include "explore.h"
#include "ingest.h"
#include "mlcycle.h"
#include "model.h"
#include "pca.h"
#include "sketch.h"

#define MLC_COV_MAGIC	0x564F434D	/* "MCOV" */
#define MLC_COV_VERSION 1
#define MLC_COV_MAX_VARS 1000

/*
 * State: n complete rows, their means and the upper triangle (row-major,
 * full storage) of the centered cross-product matrix.
 */
typedef struct MlcCovState
{
	int32		vl_len_;
	uint32		magic;
	uint16		version;
	uint16		flags;
	int32		w;				/* variables */
	int64		n;
	double		data[FLEXIBLE_ARRAY_MEMBER];	/* mean[w], then M[w * w] */
} MlcCovState;

#define MLC_COV_HEADER offsetof(MlcCovState, data)
StaticAssertDecl(offsetof(MlcCovState, data) == 24, "covariance state header is 24 bytes");

PG_FUNCTION_INFO_V1(mlc_cov_trans);
PG_FUNCTION_INFO_V1(mlc_cov_combine);
PG_FUNCTION_INFO_V1(mlc_cov_final);
PG_FUNCTION_INFO_V1(mlc_pca);

static Size
mlc_cov_size(int w)
{
	return MLC_COV_HEADER + ((Size) w + (Size) w * w) * sizeof(double);
}

/* Check a covariance state's header and length */
static MlcCovState *
mlc_cov_check(bytea *b)
{
	MlcCovState *s = (MlcCovState *) b;

	if (VARSIZE(b) < MLC_COV_HEADER || s->magic != MLC_COV_MAGIC ||
		s->version != MLC_COV_VERSION || s->flags != 0 ||
		s->w < 1 || s->w > MLC_COV_MAX_VARS || s->n < 0 || VARSIZE(b) != mlc_cov_size(s->w))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("invalid covariance state"),
				 errhint("Pass only states made by the mlcycle covariance aggregate of this version.")));
	return s;
}

/* A new, empty state over w variables */
static MlcCovState *
mlc_cov_new(int w)
{
	MlcCovState *s = palloc0(mlc_cov_size(w));

	SET_VARSIZE(s, mlc_cov_size(w));
	s->magic = MLC_COV_MAGIC;
	s->version = MLC_COV_VERSION;
	s->w = w;
	return s;
}

/* Transition: one row as a float8 array; rows with a NULL are skipped */
Datum
mlc_cov_trans(PG_FUNCTION_ARGS)
{
	MlcCovState *s = PG_ARGISNULL(0) ? NULL : mlc_cov_check(mlc_sketch_state_arg(fcinfo, 0));
	ArrayType  *a;
	int			w;
	double	   *x;
	double	   *mean;
	double		d[MLC_COV_MAX_VARS];

	if (PG_ARGISNULL(1))
		goto skip;
	a = PG_GETARG_ARRAYTYPE_P(1);
	if (ARR_NDIM(a) != 1 || ARR_HASNULL(a))
	{
		if (ARR_NDIM(a) > 1)
			ereport(ERROR,
					(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
					 errmsg("covariance rows must be one-dimensional arrays")));
		if (ARR_NDIM(a) == 1 && array_contains_nulls(a))
			goto skip;
	}
	w = ARR_NDIM(a) == 1 ? ARR_DIMS(a)[0] : 0;
	if (w < 1 || w > MLC_COV_MAX_VARS)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("covariance rows must have between 1 and %d values, not %d", MLC_COV_MAX_VARS, w)));
	if (s == NULL)
		s = mlc_cov_new(w);
	else if (!AggCheckCallContext(fcinfo, NULL))
	{
		MlcCovState *c = palloc(VARSIZE(s));

		memcpy(c, s, VARSIZE(s));
		s = c;
	}
	if (s->w != w)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("covariance rows must all have %d values, not %d", s->w, w)));
	x = (double *) ARR_DATA_PTR(a);
	for (int j = 0; j < w; j++)
		if (!isfinite(x[j]))
			ereport(ERROR,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("covariance input contains NaN or Infinity"),
					 errhint("Filter those rows out, or turn the values into NULL with NULLIF: rows with a NULL are skipped.")));
	/* Welford: M += (n - 1) / n d d', d the deviation from the old mean */
	mean = s->data;
	s->n++;
	for (int j = 0; j < w; j++)
	{
		d[j] = x[j] - mean[j];
		mean[j] += d[j] / s->n;
	}
	cblas_dsyr(CblasRowMajor, CblasUpper, w, (double) (s->n - 1) / s->n, d, 1, s->data + w, w);
	PG_RETURN_BYTEA_P(s);

skip:
	if (s == NULL)
		PG_RETURN_NULL();
	PG_RETURN_BYTEA_P(s);
}

/* Combine: Chan, Golub and LeVeque's pairwise merge */
Datum
mlc_cov_combine(PG_FUNCTION_ARGS)
{
	MlcCovState *a = mlc_cov_check(mlc_sketch_state_arg(fcinfo, 0));
	MlcCovState *b = mlc_cov_check(mlc_sketch_state_arg(fcinfo, 1));
	MlcCovState *r;
	int			w = a->w;
	double		n;
	double	   *delta;

	if (b->w != a->w)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("covariance rows must all have %d values, not %d", a->w, b->w)));
	r = mlc_cov_new(w);
	r->n = a->n + b->n;
	if (b->n == 0 || a->n == 0)
	{
		memcpy(r->data, (a->n ? a : b)->data, ((Size) w + (Size) w * w) * sizeof(double));
		PG_RETURN_BYTEA_P(r);
	}
	n = (double) r->n;
	delta = palloc(w * sizeof(double));
	for (int j = 0; j < w; j++)
	{
		delta[j] = b->data[j] - a->data[j];
		r->data[j] = a->data[j] + delta[j] * b->n / n;
	}
	for (Size i = 0; i < (Size) w * w; i++)
		r->data[w + i] = a->data[w + i] + b->data[w + i];
	cblas_dsyr(CblasRowMajor, CblasUpper, w, (double) a->n * (double) b->n / n, delta, 1, r->data + w, w);
	PG_RETURN_BYTEA_P(r);
}

/* The covariance matrix (ddof 1) of a state, full w x w, row-major */
static double *
mlc_cov_matrix(MlcCovState *s)
{
	int			w = s->w;
	double	   *c = palloc((Size) w * w * sizeof(double));
	double	   *M = s->data + w;

	for (int i = 0; i < w; i++)
		for (int j = i; j < w; j++)
			c[(Size) i * w + j] = c[(Size) j * w + i] = M[(Size) i * w + j] / (double) (s->n - 1);
	return c;
}

/* Final of ml_covariance: a w x w float8 array, NULL below 2 rows */
Datum
mlc_cov_final(PG_FUNCTION_ARGS)
{
	MlcCovState *s;
	double	   *c;
	Datum	   *d;
	int			dims[2];
	int			lbs[2] = {1, 1};

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	s = mlc_cov_check(mlc_sketch_state_arg(fcinfo, 0));
	if (s->n < 2)
		PG_RETURN_NULL();
	c = mlc_cov_matrix(s);
	d = palloc((Size) s->w * s->w * sizeof(Datum));
	for (Size i = 0; i < (Size) s->w * s->w; i++)
		d[i] = Float8GetDatum(c[i]);
	dims[0] = dims[1] = s->w;
	PG_RETURN_ARRAYTYPE_P(construct_md_array(d, NULL, 2, dims, lbs, FLOAT8OID, 8,
											 FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
}

/* ------------------------------------------------------------------------
 * ml_pca
 * ------------------------------------------------------------------------
 */

/* The requested columns, checked: they exist, are numeric, readable and distinct */
static char **
mlc_pca_columns(Oid relid, ArrayType *columns, int *p)
{
	Datum	   *d;
	bool	   *dn;
	int			n;
	char	  **names;
	char	   *relname = mlc_explore_relname(relid);
	bool		table_select = pg_class_aclcheck(relid, GetUserId(), ACL_SELECT) == ACLCHECK_OK;

	deconstruct_array(columns, TEXTOID, -1, false, TYPALIGN_INT, &d, &dn, &n);
	if (n < 1 || n > MLC_COV_MAX_VARS)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("columns must name between 1 and %d columns", MLC_COV_MAX_VARS),
				 errhint("Pass the numeric columns to reduce, as in '{bill_length_mm,bill_depth_mm}'.")));
	names = palloc(n * sizeof(char *));
	for (int i = 0; i < n; i++)
	{
		AttrNumber	att;
		Oid			typid;

		if (dn[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("columns must not contain NULL")));
		names[i] = TextDatumGetCString(d[i]);
		for (int j = 0; j < i; j++)
			if (strcmp(names[i], names[j]) == 0)
				ereport(ERROR,
						(errcode(ERRCODE_DUPLICATE_COLUMN),
						 errmsg("column \"%s\" is listed twice", names[i])));
		att = get_attnum(relid, names[i]);
		if (att == InvalidAttrNumber || att < 0)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_COLUMN),
					 errmsg("column \"%s\" does not exist in %s", names[i], relname),
					 errhint("Name columns exactly as they are spelled in the relation.")));
		if (!table_select &&
			pg_attribute_aclcheck(relid, att, GetUserId(), ACL_SELECT) != ACLCHECK_OK)
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("permission denied for column \"%s\" of relation %s", names[i], relname)));
		typid = get_atttype(relid, att);
		if (mlc_type_kind(typid) != MLC_KIND_NUMERIC)
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("column \"%s\" has type %s, not a numeric type", names[i], format_type_be(typid)),
					 errhint("PCA takes integer, floating-point or numeric columns; encode other columns first.")));
	}
	*p = n;
	return names;
}

/* The covariance state of the columns over the relation's complete rows */
static MlcCovState *
mlc_pca_state(Oid relid, char **names, int p)
{
	StringInfoData q;
	bool		isnull;
	Datum		d;
	MlcCovState *s = NULL;

	initStringInfo(&q);
	appendStringInfoString(&q, "SELECT mlcycle.covariance_state(ARRAY[");
	for (int i = 0; i < p; i++)
		appendStringInfo(&q, "%s%s::float8", i ? ", " : "", quote_identifier(names[i]));
	appendStringInfo(&q, "]) FROM %s", mlc_explore_relname(relid));
	SPI_connect();
	if (SPI_execute(q.data, true, 0) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "mlcycle: covariance query failed");
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	if (!isnull)
	{
		bytea	   *b = DatumGetByteaP(d);

		s = SPI_palloc(VARSIZE(b));
		memcpy(s, b, VARSIZE(b));
		s = mlc_cov_check((bytea *) s);
	}
	SPI_finish();
	return s;
}

/* The fewest of the first maxk components whose cumulative ratio exceeds var, or maxk */
int
mlc_pca_count_for_variance(const double *ratio, int maxk, double var)
{
	double		cum = 0;

	for (int i = 0; i < maxk; i++)
	{
		cum += ratio[i];
		if (cum > var)
			return i + 1;
	}
	return maxk;
}

/* Number of components to keep, as sklearn PCA picks it */
static int
mlc_pca_keep(const double *ratio, int p, int64 n, bool has_k, int k, bool has_var, double var)
{
	int			maxk = (int) Min((int64) p, n);

	if (has_k && has_var)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("pass n_components or variance, not both")));
	if (has_k)
	{
		if (k < 1 || k > maxk)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("n_components must be between 1 and %d, not %d", maxk, k),
					 errhint("At most as many components as columns, and as complete rows.")));
		return k;
	}
	if (has_var)
	{
		if (!(var > 0 && var < 1))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("variance must be between 0 and 1, exclusive"),
					 errhint("Pass the share of the variance to explain, as in 0.95.")));
		return mlc_pca_count_for_variance(ratio, maxk, var);
	}
	return maxk;
}

/* Eigenvalues (descending) and sign-fixed components (rows) of a symmetric matrix */
void
mlc_pca_eigen(double *cov, int p, double *values, double *vectors)
{
	double	   *ev = palloc(sizeof(double) * p);
	lapack_int	info;

	for (Size i = 0; i < (Size) p * p; i++)
		if (!isfinite(cov[i]))
			ereport(ERROR,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("the covariance of the columns is not finite"),
					 errhint("Values are too large for double precision; rescale the columns.")));
	info = LAPACKE_dsyevd(LAPACK_ROW_MAJOR, 'V', 'U', p, cov, p, ev);
	if (info != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("the eigen-decomposition of the covariance failed (LAPACK dsyevd info %d)", (int) info)));
	/* eigenvalues ascend: component i is column p - 1 - i of cov */
	for (int i = 0; i < p; i++)
	{
		int			col = p - 1 - i;
		int			big = 0;
		double		sign;

		CHECK_FOR_INTERRUPTS();
		values[i] = Max(ev[col], 0.0);
		/* sign: the loading of largest magnitude is positive */
		for (int j = 1; j < p; j++)
			if (fabs(cov[(Size) j * p + col]) > fabs(cov[(Size) big * p + col]))
				big = j;
		sign = cov[(Size) big * p + col] < 0 ? -1.0 : 1.0;
		for (int j = 0; j < p; j++)
			vectors[(Size) i * p + j] = sign * cov[(Size) j * p + col];
	}
	pfree(ev);
}

/* ml_pca(relation, columns, n_components, variance, standardize) */
Datum
mlc_pca(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Oid			relid;
	char	  **names;
	int			p;
	MlcCovState *s;
	double	   *c;
	double	   *ev;
	double	   *vec;
	double	   *ratio;
	double		total = 0;
	double		cum = 0;
	int			k;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("relation and columns must not be NULL")));
	relid = mlc_explore_resolve(text_to_cstring(PG_GETARG_TEXT_PP(0)));
	names = mlc_pca_columns(relid, PG_GETARG_ARRAYTYPE_P(1), &p);
	s = mlc_pca_state(relid, names, p);
	if (s == NULL || s->n < 2)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("PCA needs at least 2 rows without NULL in the columns, %s has " INT64_FORMAT,
						mlc_explore_relname(relid), s ? s->n : 0)));
	c = mlc_cov_matrix(s);
	/* standardize: as StandardScaler (population std; a constant column keeps scale 1) */
	if (!PG_ARGISNULL(4) && PG_GETARG_BOOL(4))
	{
		double	   *sd = palloc(p * sizeof(double));

		for (int i = 0; i < p; i++)
		{
			sd[i] = sqrt(s->data[p + (Size) i * p + i] / (double) s->n);
			if (!(sd[i] > 0))
				sd[i] = 1.0;
		}
		for (int i = 0; i < p; i++)
			for (int j = 0; j < p; j++)
				c[(Size) i * p + j] /= sd[i] * sd[j];
	}
	ev = palloc(p * sizeof(double));
	vec = palloc((Size) p * p * sizeof(double));
	mlc_pca_eigen(c, p, ev, vec);
	ratio = palloc(p * sizeof(double));
	for (int i = 0; i < p; i++)
		total += ev[i];
	for (int i = 0; i < p; i++)
		ratio[i] = total > 0 ? ev[i] / total : 0.0;
	k = mlc_pca_keep(ratio, p, s->n, !PG_ARGISNULL(2), PG_ARGISNULL(2) ? 0 : PG_GETARG_INT32(2),
					 !PG_ARGISNULL(3), PG_ARGISNULL(3) ? 0 : PG_GETARG_FLOAT8(3));
	InitMaterializedSRF(fcinfo, 0);
	for (int i = 0; i < k; i++)
	{
		Datum	   *ld = palloc(p * sizeof(Datum));
		Datum		values[5];
		bool		nulls[5] = {0};

		for (int j = 0; j < p; j++)
			ld[j] = Float8GetDatum(vec[(Size) i * p + j]);
		cum += ratio[i];
		values[0] = Int32GetDatum(i + 1);
		values[1] = Float8GetDatum(ev[i]);
		values[2] = Float8GetDatum(ratio[i]);
		values[3] = Float8GetDatum(cum);
		values[4] = PointerGetDatum(construct_array(ld, p, FLOAT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}
