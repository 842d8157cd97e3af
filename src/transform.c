/*
 * transform.c
 *	  Standalone column transformers in SQL: fit aggregates (bytea states with
 *	  combine functions, parallel safe) that return a fitted transformer value,
 *	  its readable text form, and apply functions that cache the parsed
 *	  transformer per query.
 */
#include "postgres.h"

#include <float.h>
#include <math.h>

#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "port/pg_crc32c.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

#include "ingest.h"
#include "jsonutil.h"
#include "model.h"
#include "sketch.h"
#include "transform.h"

PG_FUNCTION_INFO_V1(mlcycle_tf_scaler_trans);
PG_FUNCTION_INFO_V1(mlcycle_tf_imputer_trans);
PG_FUNCTION_INFO_V1(mlcycle_tf_binner_trans);
PG_FUNCTION_INFO_V1(mlcycle_tf_clipper_trans);
PG_FUNCTION_INFO_V1(mlcycle_tf_num_combine);
PG_FUNCTION_INFO_V1(mlcycle_tf_num_final);
PG_FUNCTION_INFO_V1(mlcycle_tf_encoder_trans);
PG_FUNCTION_INFO_V1(mlcycle_tf_text_imputer_trans);
PG_FUNCTION_INFO_V1(mlcycle_tf_target_trans);
PG_FUNCTION_INFO_V1(mlcycle_tf_text_combine);
PG_FUNCTION_INFO_V1(mlcycle_tf_text_final);
PG_FUNCTION_INFO_V1(ml_transform_float8);
PG_FUNCTION_INFO_V1(ml_transform_text);
PG_FUNCTION_INFO_V1(ml_impute_text);
PG_FUNCTION_INFO_V1(ml_transformer_text);
PG_FUNCTION_INFO_V1(ml_normalize);
PG_FUNCTION_INFO_V1(ml_temporal_features);

static const char *const family_names[] = {"", "scaler", "imputer", "imputer", "encoder", "binner", "clipper", NULL};
static const char *const scaler_names[] = {"standard", "minmax", "robust", "maxabs", "log1p", "yeo_johnson", "box_cox", NULL};
static const char *const imputer_names[] = {"mean", "median", "most_frequent", "constant", NULL};
static const char *const text_imputer_names[] = {"most_frequent", "constant", NULL};
static const char *const encoder_names[] = {"one_hot", "ordinal", "frequency", "hashing", "binary", "target", NULL};
static const char *const binner_names[] = {"uniform", "quantile", NULL};
static const char *const clipper_names[] = {"clip", NULL};
static const char *const norm_names[] = {"l2", "l1", "max", NULL};

/* method names of a family */
static const char *const *
mlc_tf_methods(int family)
{
	switch (family)
	{
		case MLC_TF_SCALER:
			return scaler_names;
		case MLC_TF_IMPUTER:
			return imputer_names;
		case MLC_TF_TEXT_IMPUTER:
			return text_imputer_names;
		case MLC_TF_ENCODER:
			return encoder_names;
		case MLC_TF_BINNER:
			return binner_names;
	}
	return clipper_names;
}

/* ---------- fit states ---------- */

#define MLC_TF_NUM_MAGIC	0x4D4C544E	/* numeric fit state */
#define MLC_TF_TEXT_MAGIC	0x4D4C5454	/* text fit state */
#define MLC_TF_MAGIC		0x4D4C5446	/* fitted transformer */
#define MLC_TF_VERSION		1

/*
 * The state of a numeric fit: counts, double-double sums of x and x^2
 * (so that the result does not depend on the order rows are added or
 * states combined), min and max, and when the method needs order
 * statistics every value (up to mlcycle.transform_exact_limit values) or,
 * past that, a mergeable quantile sketch (sketch.c's numeric summary, in
 * sketch mode) stored in values[]: capacity is then its size in doubles.
 */
typedef struct MlcTfNumState
{
	int32		vl_len_;
	uint32		magic;
	uint8		family;
	uint8		method;
	uint8		keep;			/* MLC_TF_KEEP_*: what values[] holds */
	uint8		pad;
	int32		nbins;
	double		opt1;			/* constant fill; clip lower percentile */
	double		opt2;			/* clip upper percentile */
	int64		rows;			/* rows seen, NULLs included */
	int64		n;				/* non-NULL values */
	double		sum_hi,
				sum_lo,
				sq_hi,
				sq_lo;
	double		min,
				max;
	int64		capacity;		/* room in values[] */
	double		values[FLEXIBLE_ARRAY_MEMBER];
} MlcTfNumState;

#define MLC_TF_NUM_HDR offsetof(MlcTfNumState, values)

#define MLC_TF_KEEP_NONE	0	/* moments and extremes only */
#define MLC_TF_KEEP_EXACT	1	/* every non-NULL value */
#define MLC_TF_KEEP_SKETCH	2	/* a quantile sketch of them */

/* The sketch of a state in sketch mode */
#define MLC_TF_SKETCH(s)	((bytea *) (s)->values)

int			mlc_transform_exact_limit = 10000000;

/* Lookup table over a text state's entries: offsets, -1 empty */
typedef struct MlcTfIndex
{
	uint64		nonce;
	int32		ncat;
	int32		size;			/* a power of two, > 2 * ncat */
	int64	   *slots;
} MlcTfIndex;

/* What a transition function remembers across rows (fn_extra) */
typedef struct MlcTfTrans
{
	int			in_agg;			/* 0 not known yet, 1 aggregate, 2 direct call */
	Pointer		method_seen;	/* method argument already checked */
	MlcTfIndex	ix;				/* text fits: the category lookup */
} MlcTfTrans;

/* The transition's memory, allocated on the first row */
static MlcTfTrans *
mlc_tf_trans(FunctionCallInfo fcinfo)
{
	if (fcinfo->flinfo->fn_extra == NULL)
		fcinfo->flinfo->fn_extra = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt,
														  sizeof(MlcTfTrans));
	return (MlcTfTrans *) fcinfo->flinfo->fn_extra;
}

/* Is the function running as an aggregate's transition or combine step? */
static bool
mlc_tf_in_agg(FunctionCallInfo fcinfo)
{
	MlcTfTrans *t = mlc_tf_trans(fcinfo);

	if (t->in_agg == 0)
		t->in_agg = AggCheckCallContext(fcinfo, NULL) != 0 ? 1 : 2;
	return t->in_agg == 1;
}

/* Error for a corrupted fit state */
static void
mlc_tf_bad_state(void)
{
	ereport(ERROR,
			(errcode(ERRCODE_DATA_CORRUPTED),
			 errmsg("invalid transformer fit state"),
			 errhint("Pass only states made by the mlcycle fit aggregates.")));
}

/* Does this method need every value? */
static bool
mlc_tf_keeps_values(int family, int method)
{
	switch (family)
	{
		case MLC_TF_SCALER:
			return method == MLC_TFS_ROBUST || method == MLC_TFS_YEO_JOHNSON ||
				method == MLC_TFS_BOX_COX;
		case MLC_TF_IMPUTER:
			return method == MLC_TFI_MEDIAN || method == MLC_TFI_MOST_FREQUENT;
		case MLC_TF_BINNER:
			return method == MLC_TFB_QUANTILE;
		case MLC_TF_CLIPPER:
			return true;
	}
	return false;
}

/* The numeric state argument, checked */
static MlcTfNumState *
mlc_tf_num_arg(FunctionCallInfo fcinfo, int argno)
{
	Pointer		d = DatumGetPointer(PG_GETARG_DATUM(argno));
	bytea	   *b = VARATT_IS_EXTENDED(d) ? PG_GETARG_BYTEA_P(argno) : (bytea *) d;
	MlcTfNumState *s = (MlcTfNumState *) b;

	/* a value read from a table may be 4-byte aligned: the sketch needs 8 */
	if (((uintptr_t) b) % MAXIMUM_ALIGNOF != 0)
	{
		s = palloc(VARSIZE(b));
		memcpy(s, b, VARSIZE(b));
	}
	if (VARSIZE(s) < MLC_TF_NUM_HDR || s->magic != MLC_TF_NUM_MAGIC ||
		s->family < MLC_TF_SCALER || s->family > MLC_TF_FAMILY_MAX ||
		s->family == MLC_TF_TEXT_IMPUTER || s->family == MLC_TF_ENCODER ||
		s->capacity < 0 || VARSIZE(s) != MLC_TF_NUM_HDR + s->capacity * sizeof(double) ||
		s->n < 0 || s->rows < s->n || s->keep > MLC_TF_KEEP_SKETCH ||
		(s->keep != MLC_TF_KEEP_NONE) != mlc_tf_keeps_values(s->family, s->method) ||
		(s->keep == MLC_TF_KEEP_EXACT && s->n > s->capacity) ||
		(s->keep == MLC_TF_KEEP_SKETCH &&
		 (s->capacity < 1 || VARSIZE(MLC_TF_SKETCH(s)) != s->capacity * sizeof(double))))
		mlc_tf_bad_state();
	return s;
}

/* A new numeric state with room for cap values, in the current context */
static MlcTfNumState *
mlc_tf_num_new(int64 cap)
{
	MlcTfNumState *s = palloc0(MLC_TF_NUM_HDR + cap * sizeof(double));

	SET_VARSIZE(s, MLC_TF_NUM_HDR + cap * sizeof(double));
	s->magic = MLC_TF_NUM_MAGIC;
	s->capacity = cap;
	s->min = INFINITY;
	s->max = -INFINITY;
	return s;
}

/* A copy of s with room for cap values */
static MlcTfNumState *
mlc_tf_num_copy(const MlcTfNumState *s, int64 cap)
{
	MlcTfNumState *t = mlc_tf_num_new(cap);

	memcpy(((char *) t) + VARHDRSZ, ((const char *) s) + VARHDRSZ, MLC_TF_NUM_HDR - VARHDRSZ);
	t->capacity = cap;
	/* while growing, n already counts the value about to be stored */
	if (s->keep == MLC_TF_KEEP_EXACT)
		memcpy(t->values, s->values, Min(s->n, s->capacity) * sizeof(double));
	else if (s->keep == MLC_TF_KEEP_SKETCH)
		memcpy(t->values, s->values, Min(cap, s->capacity) * sizeof(double));
	return t;
}

/* A copy of s's header around the sketch sk (sketch mode) */
static MlcTfNumState *
mlc_tf_with_sketch(const MlcTfNumState *s, bytea *sk)
{
	MlcTfNumState *t = mlc_tf_num_new(VARSIZE(sk) / sizeof(double));

	Assert(VARSIZE(sk) % sizeof(double) == 0);
	memcpy(((char *) t) + VARHDRSZ, ((const char *) s) + VARHDRSZ, MLC_TF_NUM_HDR - VARHDRSZ);
	t->keep = MLC_TF_KEEP_SKETCH;
	t->capacity = VARSIZE(sk) / sizeof(double);
	memcpy(t->values, sk, VARSIZE(sk));
	return t;
}

/* The sketch of s's values: its own, or one made from the exact values */
static bytea *
mlc_tf_sketch_of(MlcTfNumState *s)
{
	if (s->keep == MLC_TF_KEEP_SKETCH)
		return MLC_TF_SKETCH(s);
	return mlc_num_sketch_from(s->values, s->keep == MLC_TF_KEEP_EXACT ? s->n : 0);
}

/* Add x to the sketch of s (sketch mode); the state moves when the sketch grows */
static MlcTfNumState *
mlc_tf_sketch_add(MlcTfNumState *s, double x)
{
	bytea	   *sk = MLC_TF_SKETCH(s);
	bytea	   *t = mlc_num_summary_add(sk, x);

	return t == sk ? s : mlc_tf_with_sketch(s, t);
}

/* Error for a NaN or infinite input value */
static void
mlc_tf_nonfinite(const char *what)
{
	ereport(ERROR,
			(errcode(ERRCODE_DATA_EXCEPTION),
			 errmsg("%s got NaN or Infinity", what),
			 errhint("Pass NULL for a missing value, or filter the row out.")));
}

/* Add x to the double-double (hi, lo) exactly up to the final rounding */
static inline void
mlc_dd_add(double *hi, double *lo, double x)
{
	double		s = *hi + x;
	double		bb = s - *hi;

	*lo += (*hi - (s - bb)) + (x - bb);
	*hi = s;
}

/* Index of the method text among a family's names, or an error listing them */
static int
mlc_tf_method_arg(FunctionCallInfo fcinfo, int argno, int family)
{
	const char *what[] = {"", "scaler method", "imputer method", "imputer method for text",
	"encoder method", "binner method", "clipper method"};

	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("the method of a %s must not be NULL", family_names[family]),
				 errhint("Valid values are: %s.", mlc_join_names(mlc_tf_methods(family)))));
	return mlc_choose(text_to_cstring(PG_GETARG_TEXT_PP(argno)), mlc_tf_methods(family),
					  what[family]);
}

/* Is the method argument still the one the state was started with? */
static void
mlc_tf_same_method(FunctionCallInfo fcinfo, int argno, int family, int method)
{
	text	   *t;
	const char *name = mlc_tf_methods(family)[method];
	MlcTfTrans *tr = mlc_tf_trans(fcinfo);

	if (PG_ARGISNULL(argno))
		mlc_tf_method_arg(fcinfo, argno, family);
	/* a constant argument is the same pointer on every row: checked once */
	if (DatumGetPointer(PG_GETARG_DATUM(argno)) == tr->method_seen)
		return;
	t = PG_GETARG_TEXT_PP(argno);
	if (VARSIZE_ANY_EXHDR(t) != strlen(name) ||
		memcmp(VARDATA_ANY(t), name, strlen(name)) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the method argument must be the same for every row of a group"),
				 errhint("Pass a constant.")));
	if ((Pointer) t == DatumGetPointer(PG_GETARG_DATUM(argno)))
		tr->method_seen = (Pointer) t;
}

/*
 * Add the row's value to a numeric state: created on the first row, updated
 * in place inside an aggregate, grown (a copy with twice the room) when full.
 */
static MlcTfNumState *
mlc_tf_num_add(FunctionCallInfo fcinfo, int family, int method)
{
	MlcTfNumState *s;
	double		x;

	if (PG_ARGISNULL(0))
	{
		int64		cap = mlc_tf_keeps_values(family, method) ?
			Min(1024, mlc_transform_exact_limit) : 0;

		s = mlc_tf_num_new(cap);
		s->family = family;
		s->method = method;
		s->keep = mlc_tf_keeps_values(family, method) ? MLC_TF_KEEP_EXACT : MLC_TF_KEEP_NONE;
	}
	else
	{
		s = mlc_tf_num_arg(fcinfo, 0);
		if (s->family != family || s->method != method)
			mlc_tf_bad_state();
		if (!mlc_tf_in_agg(fcinfo))
			s = mlc_tf_num_copy(s, s->capacity);
	}
	s->rows++;
	if (PG_ARGISNULL(1))
		return s;
	x = PG_GETARG_FLOAT8(1);
	if (unlikely(!isfinite(x)))
		mlc_tf_nonfinite(psprintf("ml_fit_%s", family_names[family]));
	s->n++;
	mlc_dd_add(&s->sum_hi, &s->sum_lo, x);
	/* each x * x rounds the same whatever the order: the sum stays order-free */
	mlc_dd_add(&s->sq_hi, &s->sq_lo, x * x);
	if (x < s->min)
		s->min = x;
	if (x > s->max)
		s->max = x;
	if (s->keep == MLC_TF_KEEP_SKETCH)
		s = mlc_tf_sketch_add(s, x);
	else if (s->keep == MLC_TF_KEEP_EXACT)
	{
		if (unlikely(s->n > mlc_transform_exact_limit))
		{
			/* past the limit: the values so far go into a sketch, then x */
			s->n--;
			s = mlc_tf_with_sketch(s, mlc_tf_sketch_of(s));
			s->n++;
			s = mlc_tf_sketch_add(s, x);
		}
		else
		{
			if (s->n > s->capacity)
				s = mlc_tf_num_copy(s, Min(s->capacity * 2, (int64) mlc_transform_exact_limit));
			s->values[s->n - 1] = x;
		}
	}
	return s;
}

/* ml_fit_scaler(x, method) transition */
Datum
mlcycle_tf_scaler_trans(PG_FUNCTION_ARGS)
{
	int			method;

	if (PG_ARGISNULL(0))
		method = mlc_tf_method_arg(fcinfo, 2, MLC_TF_SCALER);
	else
	{
		method = mlc_tf_num_arg(fcinfo, 0)->method;
		if (method > MLC_TFS_BOX_COX)
			mlc_tf_bad_state();
		mlc_tf_same_method(fcinfo, 2, MLC_TF_SCALER, method);
	}
	PG_RETURN_BYTEA_P(mlc_tf_num_add(fcinfo, MLC_TF_SCALER, method));
}

/* ml_fit_imputer(x float8, method [, fill_value]) transition */
Datum
mlcycle_tf_imputer_trans(PG_FUNCTION_ARGS)
{
	MlcTfNumState *s;
	int			method;

	if (PG_ARGISNULL(0))
	{
		method = mlc_tf_method_arg(fcinfo, 2, MLC_TF_IMPUTER);
		if ((method == MLC_TFI_CONSTANT) != (PG_NARGS() > 3))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg(method == MLC_TFI_CONSTANT ?
							"the constant imputer needs a fill_value" :
							"fill_value applies to the constant imputer only"),
					 errhint("Write ml_fit_imputer(x, 'constant', 0), or ml_fit_imputer(x, 'mean').")));
		if (PG_NARGS() > 3 && (PG_ARGISNULL(3) || !isfinite(PG_GETARG_FLOAT8(3))))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("the fill_value of an imputer must be a finite number"),
					 errhint("Pass a number such as 0.")));
	}
	else
	{
		method = mlc_tf_num_arg(fcinfo, 0)->method;
		if (method > MLC_TFI_CONSTANT)
			mlc_tf_bad_state();
		mlc_tf_same_method(fcinfo, 2, MLC_TF_IMPUTER, method);
	}
	s = mlc_tf_num_add(fcinfo, MLC_TF_IMPUTER, method);
	if (method == MLC_TFI_CONSTANT)
		s->opt1 = PG_GETARG_FLOAT8(3);
	PG_RETURN_BYTEA_P(s);
}

/* ml_fit_binner(x, method, nbins) transition */
Datum
mlcycle_tf_binner_trans(PG_FUNCTION_ARGS)
{
	MlcTfNumState *s;
	int			method;
	int32		nbins;

	if (PG_ARGISNULL(3) || PG_GETARG_INT32(3) < 1 || PG_GETARG_INT32(3) > MLC_TF_MAX_BINS)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("nbins must be between 1 and %d", MLC_TF_MAX_BINS),
				 errhint("Pass the number of bins, such as 5.")));
	nbins = PG_GETARG_INT32(3);
	if (PG_ARGISNULL(0))
		method = mlc_tf_method_arg(fcinfo, 2, MLC_TF_BINNER);
	else
	{
		method = mlc_tf_num_arg(fcinfo, 0)->method;
		if (method > MLC_TFB_QUANTILE)
			mlc_tf_bad_state();
		mlc_tf_same_method(fcinfo, 2, MLC_TF_BINNER, method);
	}
	s = mlc_tf_num_add(fcinfo, MLC_TF_BINNER, method);
	s->nbins = nbins;
	PG_RETURN_BYTEA_P(s);
}

/* ml_fit_clipper(x, lower, upper) transition: percentiles as fractions */
Datum
mlcycle_tf_clipper_trans(PG_FUNCTION_ARGS)
{
	MlcTfNumState *s;
	double		lo = PG_ARGISNULL(2) ? NAN : PG_GETARG_FLOAT8(2);
	double		hi = PG_ARGISNULL(3) ? NAN : PG_GETARG_FLOAT8(3);

	if (!(lo >= 0.0 && lo <= hi && hi <= 1.0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the clipper percentiles must satisfy 0 <= lower <= upper <= 1"),
				 errhint("Pass fractions, such as ml_fit_clipper(x, 0.01, 0.99).")));
	s = mlc_tf_num_add(fcinfo, MLC_TF_CLIPPER, 0);
	s->opt1 = lo;
	s->opt2 = hi;
	PG_RETURN_BYTEA_P(s);
}

/* Combine two numeric states (either may be NULL) */
Datum
mlcycle_tf_num_combine(PG_FUNCTION_ARGS)
{
	MlcTfNumState *a,
			   *b,
			   *r;

	if (PG_ARGISNULL(0) && PG_ARGISNULL(1))
		PG_RETURN_NULL();
	if (PG_ARGISNULL(0))
		PG_RETURN_BYTEA_P(mlc_tf_num_arg(fcinfo, 1));
	a = mlc_tf_num_arg(fcinfo, 0);
	if (PG_ARGISNULL(1))
		PG_RETURN_BYTEA_P(a);
	b = mlc_tf_num_arg(fcinfo, 1);
	if (a->family != b->family || a->method != b->method || a->nbins != b->nbins ||
		a->opt1 != b->opt1 || a->opt2 != b->opt2)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("cannot combine transformer fit states of different methods or options"),
				 errhint("Pass the same method and options in every row.")));
	if (a->keep == MLC_TF_KEEP_SKETCH || b->keep == MLC_TF_KEEP_SKETCH ||
		(a->keep == MLC_TF_KEEP_EXACT && a->n + b->n > mlc_transform_exact_limit))
	{
		/* past the limit in total: merge sketches (exact parts sketched first) */
		r = mlc_tf_with_sketch(a, mlc_num_summary_merge(mlc_tf_sketch_of(a), mlc_tf_sketch_of(b)));
	}
	else
	{
		r = mlc_tf_num_copy(a, a->keep ? a->n + b->n : 0);
		if (a->keep)
			memcpy(r->values + a->n, b->values, b->n * sizeof(double));
	}
	r->rows += b->rows;
	r->n += b->n;
	mlc_dd_add(&r->sum_hi, &r->sum_lo, b->sum_hi);
	r->sum_lo += b->sum_lo;
	mlc_dd_add(&r->sq_hi, &r->sq_lo, b->sq_hi);
	r->sq_lo += b->sq_lo;
	r->min = Min(a->min, b->min);
	r->max = Max(a->max, b->max);
	PG_RETURN_BYTEA_P(r);
}

/* ---------- fitted transformer values ---------- */

/* A fitted transformer, parsed */
typedef struct MlcTf
{
	uint8		family;
	uint8		method;
	int64		n;				/* non-NULL values fitted on */
	int64		nulls;
	bool		approx;			/* order statistics from a sketch */
	double		rank_error;		/* then: bound on |rank error| / n */
	int32		nparams;
	double	   *params;
	int32		ncats;
	char	  **cats;			/* sorted by strcmp */
	int32	   *catlens;
	/* derived */
	int32		width;			/* encoder: features per value */
	int32	   *hash;			/* category hash table (size a power of two) */
	int32		hash_size;
} MlcTf;

/* Header of a fitted transformer (after the varlena header) */
typedef struct MlcTfHeader
{
	uint32		magic;
	uint8		version;
	uint8		family;
	uint8		method;
	uint8		flags;
	int32		nparams;
	int32		ncats;
	int64		n;
	int64		nulls;
} MlcTfHeader;

/* header flag: approximate, a double (the rank-error bound) follows the header */
#define MLC_TF_FLAG_APPROX	0x01

/* Serialize a fitted transformer: header, params, categories, CRC32C */
static bytea *
mlc_tf_serialize(const MlcTf *tf)
{
	StringInfoData buf;
	MlcTfHeader h;
	pg_crc32c	crc;
	bytea	   *out;

	memset(&h, 0, sizeof(h));
	h.magic = MLC_TF_MAGIC;
	h.version = MLC_TF_VERSION;
	h.family = tf->family;
	h.method = tf->method;
	h.nparams = tf->nparams;
	h.ncats = tf->ncats;
	h.n = tf->n;
	h.nulls = tf->nulls;
	h.flags = tf->approx ? MLC_TF_FLAG_APPROX : 0;
	initStringInfo(&buf);
	appendBinaryStringInfo(&buf, (char *) &h, sizeof(h));
	if (tf->approx)
		appendBinaryStringInfo(&buf, (char *) &tf->rank_error, sizeof(double));
	for (int i = 0; i < tf->nparams; i++)
	{
		if (!isfinite(tf->params[i]))
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("the fitted %s has a value that is not finite", family_names[tf->family]),
					 errhint("The input values are too large for this method; scale them down first.")));
		appendBinaryStringInfo(&buf, (char *) &tf->params[i], sizeof(double));
	}
	for (int i = 0; i < tf->ncats; i++)
	{
		int32		len = tf->catlens[i];

		appendBinaryStringInfo(&buf, (char *) &len, sizeof(int32));
		appendBinaryStringInfo(&buf, tf->cats[i], len);
	}
	INIT_CRC32C(crc);
	COMP_CRC32C(crc, buf.data, buf.len);
	FIN_CRC32C(crc);
	appendBinaryStringInfo(&buf, (char *) &crc, sizeof(crc));
	out = palloc(VARHDRSZ + buf.len);
	SET_VARSIZE(out, VARHDRSZ + buf.len);
	memcpy(VARDATA(out), buf.data, buf.len);
	return out;
}

/* Error for a corrupted transformer value */
static void
mlc_tf_corrupt(const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_DATA_CORRUPTED),
			 errmsg("invalid mlcycle transformer"),
			 errdetail("%s", detail),
			 errhint("Pass a value returned by ml_fit_scaler, ml_fit_imputer, ml_fit_encoder, ml_fit_binner or ml_fit_clipper.")));
}

/* The number of params a transformer of this family/method must have */
static int64
mlc_tf_expected_params(const MlcTf *tf)
{
	switch (tf->family)
	{
		case MLC_TF_SCALER:
			if (tf->method == MLC_TFS_LOG1P)
				return 0;
			return (tf->method >= MLC_TFS_YEO_JOHNSON) ? 3 : 2;
		case MLC_TF_IMPUTER:
			return 1;
		case MLC_TF_TEXT_IMPUTER:
			return 0;
		case MLC_TF_ENCODER:
			if (tf->method == MLC_TFE_ONE_HOT || tf->method == MLC_TFE_HASHING)
				return 1;
			if (tf->method == MLC_TFE_TARGET)
				return (int64) tf->ncats + 2;
			return (tf->method == MLC_TFE_FREQUENCY) ? tf->ncats : 0;
		case MLC_TF_CLIPPER:
			return 2;
	}
	return -1;					/* binner: checked by its own rule */
}

/* Check what applying will index or divide by; derive width */
static void
mlc_tf_check(MlcTf *tf)
{
	int64		want = mlc_tf_expected_params(tf);
	double	   *p = tf->params;

	if (tf->family == MLC_TF_BINNER)
	{
		if (tf->nparams < 2 || tf->nparams > MLC_TF_MAX_BINS + 1)
			mlc_tf_corrupt("The number of bin edges is out of range.");
		for (int i = 1; i < tf->nparams; i++)
			if (p[i] < p[i - 1])
				mlc_tf_corrupt("The bin edges are not sorted.");
	}
	else if (tf->nparams != want)
		mlc_tf_corrupt("The number of fitted values does not match the method.");
	if (tf->family != MLC_TF_ENCODER && tf->family != MLC_TF_TEXT_IMPUTER && tf->ncats != 0)
		mlc_tf_corrupt("A numeric transformer has categories.");
	if (tf->family == MLC_TF_TEXT_IMPUTER && tf->ncats != 1)
		mlc_tf_corrupt("A text imputer has exactly one fill value.");
	if (tf->family == MLC_TF_SCALER && tf->nparams >= 2 &&
		p[tf->nparams - 1] == 0.0)
		mlc_tf_corrupt("The scale divisor is zero.");
	if (tf->family == MLC_TF_SCALER && tf->nparams == 3 && fabs(p[0]) > 1e6)
		mlc_tf_corrupt("The power-transform lambda is out of range.");
	if (tf->family == MLC_TF_CLIPPER && p[0] > p[1])
		mlc_tf_corrupt("The clip bounds are reversed.");
	tf->width = 1;
	if (tf->family == MLC_TF_ENCODER)
	{
		switch (tf->method)
		{
			case MLC_TFE_ONE_HOT:
				if (p[0] != 0.0 && p[0] != 1.0)
					mlc_tf_corrupt("The other-bucket flag is not 0 or 1.");
				tf->width = tf->ncats + (int32) p[0];
				break;
			case MLC_TFE_HASHING:
				if (p[0] != floor(p[0]) || p[0] < 1 || p[0] > MLC_TF_MAX_BUCKETS || tf->ncats != 0)
					mlc_tf_corrupt("The number of hash buckets is out of range.");
				tf->width = (int32) p[0];
				break;
			case MLC_TFE_BINARY:
				tf->width = 1;
				while ((1 << tf->width) <= tf->ncats)
					tf->width++;
				break;
			case MLC_TFE_FREQUENCY:
				for (int i = 0; i < tf->ncats; i++)
					if (p[i] < 0 || p[i] > 1)
						mlc_tf_corrupt("A category frequency is outside [0, 1].");
				break;
			case MLC_TFE_TARGET:
				if (p[tf->ncats + 1] < 0)
					mlc_tf_corrupt("The smoothing is negative.");
				break;
		}
		if (tf->width < 1)
			mlc_tf_corrupt("The encoder produces no features.");
	}
}

/* Build the category hash table */
static void
mlc_tf_build_hash(MlcTf *tf)
{
	int32		size = 4;
	uint32		mask;

	while (size <= 2 * tf->ncats)
		size <<= 1;
	mask = size - 1;
	tf->hash = palloc(sizeof(int32) * size);
	memset(tf->hash, 0xFF, sizeof(int32) * size);
	tf->hash_size = size;
	for (int32 j = 0; j < tf->ncats; j++)
	{
		uint32		h = hash_bytes((const unsigned char *) tf->cats[j], tf->catlens[j]) & mask;

		while (tf->hash[h] != -1)
			h = (h + 1) & mask;
		tf->hash[h] = j;
	}
}

/* Index of the category s[0..len), or -1 */
static int32
mlc_tf_lookup(const MlcTf *tf, const char *s, int len)
{
	uint32		mask = tf->hash_size - 1;
	uint32		h = hash_bytes((const unsigned char *) s, len) & mask;

	for (;;)
	{
		int32		j = tf->hash[h];

		if (j < 0)
			return -1;
		if (tf->catlens[j] == len && memcmp(tf->cats[j], s, len) == 0)
			return j;
		h = (h + 1) & mask;
	}
}

/* Parse and validate a transformer value: ERROR, never a crash, on bad bytes */
static MlcTf *
mlc_tf_parse(const bytea *b)
{
	const char *d = VARDATA_ANY(b);
	Size		len = VARSIZE_ANY_EXHDR(b);
	Size		pos = sizeof(MlcTfHeader);
	MlcTfHeader h;
	pg_crc32c	crc,
				stored;
	MlcTf	   *tf = palloc0(sizeof(MlcTf));

	if (len < sizeof(MlcTfHeader) + sizeof(pg_crc32c))
		mlc_tf_corrupt("The value is too short.");
	memcpy(&h, d, sizeof(h));
	if (h.magic != MLC_TF_MAGIC)
		mlc_tf_corrupt("The value does not start with the transformer magic number.");
	if (h.version != MLC_TF_VERSION)
		mlc_tf_corrupt("The format version is not supported.");
	memcpy(&stored, d + len - sizeof(pg_crc32c), sizeof(pg_crc32c));
	INIT_CRC32C(crc);
	COMP_CRC32C(crc, d, len - sizeof(pg_crc32c));
	FIN_CRC32C(crc);
	if (crc != stored)
		mlc_tf_corrupt("The checksum does not match the contents.");
	len -= sizeof(pg_crc32c);
	if (h.family < MLC_TF_SCALER || h.family > MLC_TF_FAMILY_MAX)
		mlc_tf_corrupt("The transformer family is unknown.");
	{
		const char *const *names = mlc_tf_methods(h.family);
		int			nm = 0;

		while (names[nm] != NULL)
			nm++;
		if (h.method >= nm)
			mlc_tf_corrupt("The method is unknown.");
	}
	if (h.nparams < 0 || h.nparams > MLC_MAX_COLUMN_PARAMS ||
		h.ncats < 0 || h.ncats > MLC_MAX_CATEGORIES || h.n < 0 || h.nulls < 0)
		mlc_tf_corrupt("A count is out of range.");
	tf->family = h.family;
	tf->method = h.method;
	tf->n = h.n;
	tf->nulls = h.nulls;
	tf->nparams = h.nparams;
	tf->ncats = h.ncats;
	if ((h.flags & ~MLC_TF_FLAG_APPROX) != 0)
		mlc_tf_corrupt("The flags are unknown.");
	if (h.flags & MLC_TF_FLAG_APPROX)
	{
		if (len - pos < sizeof(double))
			mlc_tf_corrupt("The value is truncated.");
		memcpy(&tf->rank_error, d + pos, sizeof(double));
		pos += sizeof(double);
		tf->approx = true;
		if (!(tf->rank_error > 0.0 && tf->rank_error <= 1.0) ||
			h.family == MLC_TF_TEXT_IMPUTER || h.family == MLC_TF_ENCODER)
			mlc_tf_corrupt("The rank-error bound is out of range.");
	}
	if ((Size) h.nparams * sizeof(double) > len - pos)
		mlc_tf_corrupt("The value is truncated.");
	tf->params = palloc(sizeof(double) * Max(h.nparams, 1));
	memcpy(tf->params, d + pos, sizeof(double) * h.nparams);
	pos += sizeof(double) * h.nparams;
	for (int i = 0; i < h.nparams; i++)
		if (!isfinite(tf->params[i]))
			mlc_tf_corrupt("A fitted value is not finite.");
	tf->cats = palloc(sizeof(char *) * Max(h.ncats, 1));
	tf->catlens = palloc(sizeof(int32) * Max(h.ncats, 1));
	for (int i = 0; i < h.ncats; i++)
	{
		int32		cl;

		if (len - pos < sizeof(int32))
			mlc_tf_corrupt("The value is truncated.");
		memcpy(&cl, d + pos, sizeof(int32));
		pos += sizeof(int32);
		if (cl < 0 || (Size) cl > len - pos)
			mlc_tf_corrupt("A category length is out of range.");
		tf->cats[i] = pnstrdup(d + pos, cl);
		if ((int32) strlen(tf->cats[i]) != cl)
			mlc_tf_corrupt("A category contains a NUL byte.");
		tf->catlens[i] = cl;
		pos += cl;
		if (i > 0 && tf->family == MLC_TF_ENCODER && strcmp(tf->cats[i - 1], tf->cats[i]) >= 0)
			mlc_tf_corrupt("The categories are not sorted and unique.");
	}
	if (pos != len)
		mlc_tf_corrupt("The value has trailing bytes.");
	mlc_tf_check(tf);
	mlc_tf_build_hash(tf);
	return tf;
}

/* Error for a fit that saw rows but no values */
static void
mlc_tf_all_null(int family)
{
	ereport(ERROR,
			(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
			 errmsg("cannot fit the %s: every value is NULL", family_names[family]),
			 errhint("Fit on a column with at least one non-NULL value.")));
}

/* Center and scale of an affine scaler; a zero scale becomes 1, as scikit-learn does */
static void
mlc_tf_affine(MlcTf *tf, double center, double scale)
{
	tf->nparams = 2;
	tf->params = palloc(sizeof(double) * 2);
	tf->params[0] = center;
	tf->params[1] = (fabs(scale) < 10.0 * DBL_EPSILON || !isfinite(scale)) ? 1.0 : scale;
}

/* Mean and population standard deviation from the double-double sums */
static void
mlc_tf_moments(const MlcTfNumState *s, double *mean, double *std)
{
	double		n = (double) s->n;
	double		m = (s->sum_hi + s->sum_lo) / n;
	/* n var = sq - sum^2 / n, with sum^2 in double-double */
	double		p = s->sum_hi * s->sum_hi;
	double		pe = fma(s->sum_hi, s->sum_hi, -p) + 2.0 * s->sum_hi * s->sum_lo;
	double		q = p / n;
	double		qe = (fma(-q, n, p) + pe) / n;
	double		diff = (s->sq_hi - q) + (s->sq_lo - qe);

	*mean = m;
	*std = sqrt(Max(diff, 0.0) / n);
}

/* Quantiles q[0..nq) of the values of a final state: sorted exact values, or its sketch */
static void
mlc_tf_quantiles(MlcTfNumState *s, const double *q, int nq, double *out)
{
	if (s->keep == MLC_TF_KEEP_SKETCH)
		mlc_num_summary_quantiles(MLC_TF_SKETCH(s), q, nq, out);
	else
		for (int i = 0; i < nq; i++)
			out[i] = mlc_tf_quantile(s->values, s->n, q[i]);
}

/* Most frequent of a sketch's items by total weight (the smallest among ties) */
static double
mlc_tf_sketch_mode(bytea *sk)
{
	int64		m;
	MlcTagged  *items = mlc_num_summary_items(sk, &m);
	double		best = items[0].v;
	int64		bestw = 0;

	for (int64 i = 0; i < m;)
	{
		int64		j = i,
					w = 0;

		while (j < m && items[j].v == items[i].v)
			w += items[j++].tag;
		if (w > bestw)
		{
			bestw = w;
			best = items[i].v;
		}
		i = j;
	}
	pfree(items);
	return best;
}

/* Power-transform parameters from a sketch's items, each weighted as the values it stands for */
static void
mlc_tf_sketch_power(bytea *sk, bool box_cox, double *out)
{
	int64		m;
	MlcTagged  *items = mlc_num_summary_items(sk, &m);
	double	   *v = palloc(sizeof(double) * m);
	double	   *w = palloc(sizeof(double) * m);

	for (int64 i = 0; i < m; i++)
	{
		v[i] = items[i].v;
		w[i] = (double) items[i].tag;
	}
	mlc_fit_power_weighted(v, w, m, box_cox, "the column has", out);
	pfree(items);
	pfree(v);
	pfree(w);
}

/* Quantile bin edges of a final state's values; returns their number */
static int
mlc_tf_quantile_edges(MlcTfNumState *s, double *edges)
{
	double	   *q = palloc(sizeof(double) * (s->nbins + 1));
	double	   *qv = palloc(sizeof(double) * (s->nbins + 1));
	int			k;

	for (int i = 0; i <= s->nbins; i++)
		q[i] = mlc_bin_edge_q(i, s->nbins);
	mlc_tf_quantiles(s, q, s->nbins + 1, qv);
	k = mlc_bin_edges_from_quantiles(qv, s->nbins, edges);
	pfree(q);
	pfree(qv);
	return k;
}

/* Fit a numeric-family transformer from a final state (exact values sorted in place) */
static MlcTf *
mlc_tf_fit_numeric(MlcTfNumState *s)
{
	MlcTf	   *tf = palloc0(sizeof(MlcTf));
	double		mean = 0,
				std = 0;
	bool		sketch = s->keep == MLC_TF_KEEP_SKETCH;

	tf->family = s->family;
	tf->method = s->method;
	tf->n = s->n;
	tf->nulls = s->rows - s->n;
	if (s->n == 0 && !(s->family == MLC_TF_IMPUTER && s->method == MLC_TFI_CONSTANT))
		mlc_tf_all_null(s->family);
	if (s->keep == MLC_TF_KEEP_EXACT)
		qsort(s->values, s->n, sizeof(double), mlc_tf_cmp_double);
	if (sketch)
	{
		MlcNumStats st;

		mlc_num_summary_stats(MLC_TF_SKETCH(s), &st);
		if (st.n != s->n)
			mlc_tf_bad_state();
		tf->approx = true;
		tf->rank_error = st.rank_error;
	}
	if (s->n > 0)
		mlc_tf_moments(s, &mean, &std);
	switch (s->family)
	{
		case MLC_TF_SCALER:
			switch (s->method)
			{
				case MLC_TFS_STANDARD:
					mlc_tf_affine(tf, mean, std);
					break;
				case MLC_TFS_MINMAX:
					mlc_tf_affine(tf, s->min, s->max - s->min);
					break;
				case MLC_TFS_ROBUST:
					{
						double		q[3] = {0.5, 0.75, 0.25};
						double		qv[3];

						mlc_tf_quantiles(s, q, 3, qv);
						mlc_tf_affine(tf, qv[0], qv[1] - qv[2]);
						break;
					}
				case MLC_TFS_MAXABS:
					mlc_tf_affine(tf, 0.0, Max(fabs(s->min), fabs(s->max)));
					break;
				case MLC_TFS_LOG1P:
					if (s->min <= -1.0)
						ereport(ERROR,
								(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
								 errmsg("log1p needs values greater than -1, and the column has %g", s->min),
								 errhint("Use yeo_johnson, which accepts any value.")));
					break;
				default:
					tf->nparams = 3;
					tf->params = palloc(sizeof(double) * 3);
					/* the exact minimum: a sketch may have dropped it */
					if (s->method == MLC_TFS_BOX_COX && !(s->min > 0))
						mlc_box_cox_domain_error("the column has", s->min);
					if (sketch)
						mlc_tf_sketch_power(MLC_TF_SKETCH(s), s->method == MLC_TFS_BOX_COX,
											tf->params);
					else
						mlc_fit_power(s->values, s->n, s->method == MLC_TFS_BOX_COX,
									  "the column has", tf->params);
			}
			break;
		case MLC_TF_IMPUTER:
			tf->nparams = 1;
			tf->params = palloc(sizeof(double));
			if (s->method == MLC_TFI_MEDIAN)
			{
				double		q = 0.5;

				mlc_tf_quantiles(s, &q, 1, tf->params);
			}
			else if (s->method == MLC_TFI_MOST_FREQUENT)
				tf->params[0] = sketch ? mlc_tf_sketch_mode(MLC_TF_SKETCH(s)) :
					mlc_tf_mode(s->values, s->n);
			else
				tf->params[0] = s->method == MLC_TFI_MEAN ? mean : s->opt1;
			break;
		case MLC_TF_BINNER:
			tf->params = palloc(sizeof(double) * (s->nbins + 1));
			if (s->method == MLC_TFB_QUANTILE)
				tf->nparams = mlc_tf_quantile_edges(s, tf->params);
			else
			{
				double		mm[2] = {s->min, s->max};

				tf->nparams = mlc_fit_bin_edges(mm, 2, s->nbins, false, tf->params);
			}
			break;
		case MLC_TF_CLIPPER:
			{
				double		q[2] = {s->opt1, s->opt2};

				tf->nparams = 2;
				tf->params = palloc(sizeof(double) * 2);
				mlc_tf_quantiles(s, q, 2, tf->params);
				break;
			}
	}
	return tf;
}

/* Final function of the numeric fit aggregates: the fitted transformer */
Datum
mlcycle_tf_num_final(PG_FUNCTION_ARGS)
{
	MlcTfNumState *s = mlc_tf_num_arg(fcinfo, 0);

	/* the final function may be called again on the same state: sort a copy */
	if (s->keep == MLC_TF_KEEP_EXACT)
		s = mlc_tf_num_copy(s, s->n);
	PG_RETURN_BYTEA_P(mlc_tf_serialize(mlc_tf_fit_numeric(s)));
}

/* ---------- text fit states (encoders, text imputers) ---------- */

/*
 * A text fit state: distinct values with their counts, each entry
 * [int64 count][f64, f64 double-double sum of the target][int32 len][bytes]
 * padded to 8, in
 * first-seen order.  The
 * fill value of a constant text imputer is an entry with count -1.
 */
typedef struct MlcTfTextState
{
	int32		vl_len_;
	uint32		magic;
	uint8		family;
	uint8		method;
	uint8		pad[2];
	int32		option;			/* top_k (0: none) or buckets */
	int32		ncat;			/* entries with a count >= 0 */
	int64		rows;
	int64		n;
	uint64		nonce;			/* identifies the state for the lookup cache */
	int64		used;			/* bytes of entries */
	int64		capacity;		/* room for entries */
	double		smoothing;		/* target encoder */
	double		ysum[2];		/* target encoder: every row with a target */
	int64		ycount;
	char		entries[FLEXIBLE_ARRAY_MEMBER];
} MlcTfTextState;

#define MLC_TF_TEXT_HDR offsetof(MlcTfTextState, entries)
#define MLC_TF_ENTRY_HDR 28
#define MLC_TF_ENTRY_SIZE(len) MAXALIGN(MLC_TF_ENTRY_HDR + (len))

/* Entry accessors */
static inline int64 *
mlc_entry_count(MlcTfTextState *s, int64 off)
{
	return (int64 *) (s->entries + off);
}
static inline int32
mlc_entry_len(const MlcTfTextState *s, int64 off)
{
	int32		len;

	memcpy(&len, s->entries + off + 24, sizeof(int32));
	return len;
}

/* The target sum of the entry at off: two doubles, high and low part */
static inline double *
mlc_entry_sum(MlcTfTextState *s, int64 off)
{
	return (double *) (s->entries + off + 8);
}

static uint64 mlc_tf_nonce_counter = 0;

/* A new text state with room for cap bytes of entries */
static MlcTfTextState *
mlc_tf_text_new(int64 cap)
{
	MlcTfTextState *s = palloc0(MLC_TF_TEXT_HDR + cap);

	SET_VARSIZE(s, MLC_TF_TEXT_HDR + cap);
	s->magic = MLC_TF_TEXT_MAGIC;
	s->capacity = cap;
	s->nonce = ((uint64) MyProcPid << 32) ^ (++mlc_tf_nonce_counter);
	return s;
}

/* A copy of s with room for cap bytes (a new identity for the cache) */
static MlcTfTextState *
mlc_tf_text_copy(const MlcTfTextState *s, int64 cap)
{
	MlcTfTextState *t = mlc_tf_text_new(cap);
	uint64		nonce = t->nonce;

	memcpy(((char *) t) + VARHDRSZ, ((const char *) s) + VARHDRSZ, MLC_TF_TEXT_HDR - VARHDRSZ);
	memcpy(t->entries, s->entries, s->used);
	t->capacity = cap;
	t->nonce = nonce;
	return t;
}

/* The text state argument, checked entry by entry */
static MlcTfTextState *
mlc_tf_text_arg(FunctionCallInfo fcinfo, int argno, bool walk)
{
	bytea	   *b = PG_GETARG_BYTEA_P(argno);
	MlcTfTextState *s = (MlcTfTextState *) b;
	int64		off = 0,
				ncat = 0;

	if (VARSIZE(b) < MLC_TF_TEXT_HDR || s->magic != MLC_TF_TEXT_MAGIC ||
		(s->family != MLC_TF_ENCODER && s->family != MLC_TF_TEXT_IMPUTER) ||
		s->capacity < 0 || VARSIZE(b) != MLC_TF_TEXT_HDR + s->capacity ||
		s->used < 0 || s->used > s->capacity || s->ncat < 0 ||
		s->method >= (s->family == MLC_TF_ENCODER ? 6 : 2) || s->ycount < 0)
		mlc_tf_bad_state();
	if (!walk)
		return s;
	while (off < s->used)
	{
		int32		len;

		if (s->used - off < MLC_TF_ENTRY_HDR)
			mlc_tf_bad_state();
		len = mlc_entry_len(s, off);
		if (len < 0 || MLC_TF_ENTRY_SIZE(len) > s->used - off)
			mlc_tf_bad_state();
		if (*mlc_entry_count(s, off) >= 0)
			ncat++;
		off += MLC_TF_ENTRY_SIZE(len);
	}
	if (ncat != s->ncat)
		mlc_tf_bad_state();
	return s;
}

/* Insert the entry at off into the index */
static void
mlc_tf_index_put(MlcTfIndex *ix, const MlcTfTextState *s, int64 off)
{
	uint32		mask = ix->size - 1;
	uint32		h = hash_bytes((const unsigned char *) s->entries + off + MLC_TF_ENTRY_HDR,
							   mlc_entry_len(s, off)) & mask;

	while (ix->slots[h] >= 0)
		h = (h + 1) & mask;
	ix->slots[h] = off;
}

/* (Re)build the index over every category entry of s, in cxt */
static void
mlc_tf_index_build(MlcTfIndex *ix, const MlcTfTextState *s, MemoryContext cxt, int32 want)
{
	int32		size = 64;

	while (size <= 2 * Max(want, s->ncat))
		size <<= 1;
	if (ix->slots)
		pfree(ix->slots);
	ix->slots = MemoryContextAlloc(cxt, sizeof(int64) * size);
	memset(ix->slots, 0xFF, sizeof(int64) * size);
	ix->size = size;
	for (int64 off = 0; off < s->used;)
	{
		int32		len = mlc_entry_len(s, off);

		if (*mlc_entry_count((MlcTfTextState *) s, off) >= 0)
			mlc_tf_index_put(ix, s, off);
		off += MLC_TF_ENTRY_SIZE(len);
	}
	ix->nonce = s->nonce;
	ix->ncat = s->ncat;
}

/* Offset of the entry equal to str[0..len), or -1 */
static int64
mlc_tf_index_find(const MlcTfIndex *ix, const MlcTfTextState *s, const char *str, int32 len)
{
	uint32		mask = ix->size - 1;
	uint32		h = hash_bytes((const unsigned char *) str, len) & mask;

	for (;;)
	{
		int64		off = ix->slots[h];

		if (off < 0)
			return -1;
		if (mlc_entry_len(s, off) == len &&
			memcmp(s->entries + off + MLC_TF_ENTRY_HDR, str, len) == 0)
			return off;
		h = (h + 1) & mask;
	}
}

/* Append an entry (growing into a copy when full); returns the state */
static MlcTfTextState *
mlc_tf_text_append(MlcTfTextState *s, const char *str, int32 len, int64 count)
{
	Size		need = MLC_TF_ENTRY_SIZE(len);

	if (s->used + need > s->capacity)
	{
		int64		cap = Max(s->capacity * 2, s->used + need + 256);

		if (cap > MaxAllocSize - MLC_TF_TEXT_HDR)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("the distinct values of the column exceed 1 GB"),
					 errhint("Use the hashing encoder for very high-cardinality columns.")));
		s = mlc_tf_text_copy(s, cap);
	}
	memcpy(s->entries + s->used, &count, sizeof(int64));
	memset(s->entries + s->used + 8, 0, 2 * sizeof(double));
	memcpy(s->entries + s->used + 24, &len, sizeof(int32));
	memcpy(s->entries + s->used + MLC_TF_ENTRY_HDR, str, len);
	s->used += need;
	if (count >= 0)
		s->ncat++;
	return s;
}

/* Error for too many distinct values */
static void
mlc_tf_too_many_categories(void)
{
	ereport(ERROR,
			(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
			 errmsg("the column has more than %d distinct values", MLC_MAX_CATEGORIES),
			 errhint("Use the hashing encoder, or one_hot with a top_k option, for high-cardinality columns.")));
}

/* Count the row's text value (argument 1) into the state, adding y to its target sum */
static MlcTfTextState *
mlc_tf_text_add(FunctionCallInfo fcinfo, MlcTfTextState *s, double y)
{
	MlcTfIndex *ix = &mlc_tf_trans(fcinfo)->ix;
	text	   *t;
	const char *str;
	int32		len;
	int64		off;

	s->rows++;
	if (PG_ARGISNULL(1))
		return s;
	s->n++;
	if (s->family == MLC_TF_ENCODER && s->method == MLC_TFE_HASHING)
		return s;
	t = PG_GETARG_TEXT_PP(1);
	str = VARDATA_ANY(t);
	len = VARSIZE_ANY_EXHDR(t);
	if (ix->nonce != s->nonce || ix->ncat != s->ncat)
		mlc_tf_index_build(ix, s, fcinfo->flinfo->fn_mcxt, 0);
	off = mlc_tf_index_find(ix, s, str, len);
	if (off >= 0)
	{
		(*mlc_entry_count(s, off))++;
		mlc_dd_add(mlc_entry_sum(s, off), mlc_entry_sum(s, off) + 1, y);
		return s;
	}
	if (s->ncat >= MLC_MAX_CATEGORIES)
		mlc_tf_too_many_categories();
	if (memchr(str, '\0', len) != NULL)
		elog(ERROR, "text value contains a NUL byte");
	{
		uint64		old = s->nonce;

		s = mlc_tf_text_append(s, str, len, 1);
		s->nonce = old;			/* offsets are relative: the index stays valid */
		mlc_entry_sum(s, s->used - MLC_TF_ENTRY_SIZE(len))[0] = y;
	}
	if (2 * (s->ncat + 1) >= ix->size)
		mlc_tf_index_build(ix, s, fcinfo->flinfo->fn_mcxt, 2 * s->ncat);
	else
	{
		mlc_tf_index_put(ix, s, s->used - MLC_TF_ENTRY_SIZE(len));
		ix->ncat = s->ncat;
	}
	return s;
}

/* The state of a text transition: the argument (copied outside an aggregate) or a new one */
static MlcTfTextState *
mlc_tf_text_state(FunctionCallInfo fcinfo, int family, int *method)
{
	MlcTfTextState *s;

	if (PG_ARGISNULL(0))
	{
		*method = mlc_tf_method_arg(fcinfo, 2, family);
		s = mlc_tf_text_new(1024);
		s->family = family;
		s->method = *method;
		return s;
	}
	s = mlc_tf_text_arg(fcinfo, 0, false);
	if (s->family != family)
		mlc_tf_bad_state();
	*method = s->method;
	mlc_tf_same_method(fcinfo, 2, family, *method);
	if (!mlc_tf_in_agg(fcinfo))
	{
		s = mlc_tf_text_arg(fcinfo, 0, true);
		s = mlc_tf_text_copy(s, s->capacity);
	}
	return s;
}

/* Parse the encoder options: top_k (one_hot) or buckets (hashing) */
static int32
mlc_tf_encoder_option(Jsonb *opts, int method)
{
	static const char *const keys[] = {"top_k", "buckets", NULL};
	List	   *pairs = mlc_jsonb_pairs(opts, "encoder options");
	ListCell   *lc;
	int32		opt = (method == MLC_TFE_HASHING) ? 32 : 0;

	foreach(lc, pairs)
	{
		MlcJsonPair *p = lfirst(lc);
		int			k = mlc_choose(p->key, keys, "encoder option");
		double		v = mlc_json_number(p, "encoder option");

		if ((k == 0 && method != MLC_TFE_ONE_HOT) || (k == 1 && method != MLC_TFE_HASHING))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("encoder option \"%s\" applies to the %s encoder only", p->key,
							k == 0 ? "one_hot" : "hashing"),
					 errhint("Remove the option, or use that method.")));
		if (v != floor(v) || v < 1 || v > (k == 0 ? MLC_MAX_CATEGORIES : MLC_TF_MAX_BUCKETS))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("encoder option \"%s\" must be an integer between 1 and %d", p->key,
							k == 0 ? MLC_MAX_CATEGORIES : MLC_TF_MAX_BUCKETS),
					 errhint("Write it as {\"%s\": 10}.", p->key)));
		opt = (int32) v;
	}
	return opt;
}

/* ml_fit_encoder(x text, method [, options jsonb]) transition */
Datum
mlcycle_tf_encoder_trans(PG_FUNCTION_ARGS)
{
	bool		fresh = PG_ARGISNULL(0);
	int			method;
	MlcTfTextState *s = mlc_tf_text_state(fcinfo, MLC_TF_ENCODER, &method);

	if (method == MLC_TFE_TARGET)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the target encoder needs the target values"),
				 errhint("Use ml_fit_target_encoder(x, y [, smoothing]).")));
	if (fresh)
		s->option = (PG_NARGS() > 3 && !PG_ARGISNULL(3)) ?
			mlc_tf_encoder_option(PG_GETARG_JSONB_P(3), method) :
			(method == MLC_TFE_HASHING ? 32 : 0);
	PG_RETURN_BYTEA_P(mlc_tf_text_add(fcinfo, s, 0.0));
}

/* ml_fit_imputer(x text, method [, fill_value text]) transition */
Datum
mlcycle_tf_text_imputer_trans(PG_FUNCTION_ARGS)
{
	bool		fresh = PG_ARGISNULL(0);
	int			method;
	MlcTfTextState *s = mlc_tf_text_state(fcinfo, MLC_TF_TEXT_IMPUTER, &method);

	if (fresh)
	{
		if ((method == MLC_TFT_CONSTANT) != (PG_NARGS() > 3) ||
			(PG_NARGS() > 3 && PG_ARGISNULL(3)))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg(method == MLC_TFT_CONSTANT ?
							"the constant imputer needs a non-NULL fill_value" :
							"fill_value applies to the constant imputer only"),
					 errhint("Write ml_fit_imputer(x, 'constant', 'missing'), or ml_fit_imputer(x, 'most_frequent').")));
		if (method == MLC_TFT_CONSTANT)
		{
			text	   *f = PG_GETARG_TEXT_PP(3);
			uint64		nonce = s->nonce;

			s = mlc_tf_text_append(s, VARDATA_ANY(f), VARSIZE_ANY_EXHDR(f), -1);
			s->nonce = nonce;
		}
	}
	PG_RETURN_BYTEA_P(mlc_tf_text_add(fcinfo, s, 0.0));
}

/* ml_fit_target_encoder(x text, y float8 [, smoothing float8]) transition */
Datum
mlcycle_tf_target_trans(PG_FUNCTION_ARGS)
{
	MlcTfTextState *s;
	double		y;
	double		smoothing = (PG_NARGS() > 3) ? (PG_ARGISNULL(3) ? -1 : PG_GETARG_FLOAT8(3)) : 10.0;

	if (!(smoothing >= 0) || !isfinite(smoothing))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("smoothing must be a finite number, zero or more"),
				 errhint("Pass the weight of the prior, such as 10.")));
	if (PG_ARGISNULL(0))
	{
		s = mlc_tf_text_new(1024);
		s->family = MLC_TF_ENCODER;
		s->method = MLC_TFE_TARGET;
		s->smoothing = smoothing;
	}
	else
	{
		s = mlc_tf_text_arg(fcinfo, 0, false);
		if (s->family != MLC_TF_ENCODER || s->method != MLC_TFE_TARGET)
			mlc_tf_bad_state();
		if (s->smoothing != smoothing)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("the smoothing argument must be the same for every row of a group"),
					 errhint("Pass a constant.")));
		if (!mlc_tf_in_agg(fcinfo))
			s = mlc_tf_text_copy(mlc_tf_text_arg(fcinfo, 0, true), s->capacity);
	}
	/* rows without a target teach nothing */
	if (PG_ARGISNULL(2))
		PG_RETURN_BYTEA_P(s);
	y = PG_GETARG_FLOAT8(2);
	if (!isfinite(y))
		mlc_tf_nonfinite("ml_fit_target_encoder");
	mlc_dd_add(&s->ysum[0], &s->ysum[1], y);
	s->ycount++;
	PG_RETURN_BYTEA_P(mlc_tf_text_add(fcinfo, s, y));
}

/* Combine two text states: counts of equal values add up */
Datum
mlcycle_tf_text_combine(PG_FUNCTION_ARGS)
{
	MlcTfTextState *a,
			   *b,
			   *r;
	MlcTfIndex	ix = {0};

	if (PG_ARGISNULL(0) && PG_ARGISNULL(1))
		PG_RETURN_NULL();
	if (PG_ARGISNULL(0))
		PG_RETURN_BYTEA_P(mlc_tf_text_arg(fcinfo, 1, true));
	a = mlc_tf_text_arg(fcinfo, 0, true);
	if (PG_ARGISNULL(1))
		PG_RETURN_BYTEA_P(a);
	b = mlc_tf_text_arg(fcinfo, 1, true);
	if (a->family != b->family || a->method != b->method || a->option != b->option ||
		a->smoothing != b->smoothing)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("cannot combine transformer fit states of different methods or options"),
				 errhint("Pass the same method and options in every row.")));
	r = mlc_tf_text_copy(a, a->used + b->used);
	r->rows += b->rows;
	r->n += b->n;
	mlc_dd_add(&r->ysum[0], &r->ysum[1], b->ysum[0]);
	r->ysum[1] += b->ysum[1];
	r->ycount += b->ycount;
	mlc_tf_index_build(&ix, r, CurrentMemoryContext, a->ncat + b->ncat);
	for (int64 off = 0; off < b->used;)
	{
		int32		len = mlc_entry_len(b, off);
		int64		cnt = *mlc_entry_count(b, off);

		CHECK_FOR_INTERRUPTS();
		if (cnt >= 0)
		{
			const char *str = b->entries + off + MLC_TF_ENTRY_HDR;
			int64		at = mlc_tf_index_find(&ix, r, str, len);

			if (at >= 0)
			{
				double	   *rs = mlc_entry_sum(r, at);

				*mlc_entry_count(r, at) += cnt;
				mlc_dd_add(&rs[0], &rs[1], mlc_entry_sum(b, off)[0]);
				rs[1] += mlc_entry_sum(b, off)[1];
			}
			else
			{
				if (r->ncat >= MLC_MAX_CATEGORIES)
					mlc_tf_too_many_categories();
				r = mlc_tf_text_append(r, str, len, cnt);
				at = r->used - MLC_TF_ENTRY_SIZE(len);
				memcpy(mlc_entry_sum(r, at), mlc_entry_sum(b, off), 2 * sizeof(double));
				mlc_tf_index_put(&ix, r, at);
			}
		}
		off += MLC_TF_ENTRY_SIZE(len);
	}
	PG_RETURN_BYTEA_P(r);
}

/* A category with its count, for sorting */
typedef struct MlcTfCat
{
	const char *s;
	int32		len;
	int64		count;
	double		sum;			/* of the target */
} MlcTfCat;

/* qsort: by string */
static int
mlc_tf_cmp_cat(const void *a, const void *b)
{
	return strcmp(((const MlcTfCat *) a)->s, ((const MlcTfCat *) b)->s);
}

/* qsort: most frequent first, then by string */
static int
mlc_tf_cmp_freq(const void *a, const void *b)
{
	const MlcTfCat *x = a,
			   *y = b;

	if (x->count != y->count)
		return (x->count < y->count) ? 1 : -1;
	return strcmp(x->s, y->s);
}

/* Final function of the text fit aggregates */
Datum
mlcycle_tf_text_final(PG_FUNCTION_ARGS)
{
	MlcTfTextState *s = mlc_tf_text_arg(fcinfo, 0, true);
	MlcTf	   *tf = palloc0(sizeof(MlcTf));
	MlcTfCat   *cats = palloc(sizeof(MlcTfCat) * Max(s->ncat, 1));
	int32		k = 0;
	const char *fill = NULL;
	int32		fill_len = 0;

	tf->family = s->family;
	tf->method = s->method;
	tf->n = s->n;
	tf->nulls = s->rows - s->n;
	for (int64 off = 0; off < s->used;)
	{
		int32		len = mlc_entry_len(s, off);
		int64		cnt = *mlc_entry_count(s, off);

		if (cnt >= 0)
		{
			cats[k].s = pnstrdup(s->entries + off + MLC_TF_ENTRY_HDR, len);
			cats[k].len = len;
			cats[k].sum = mlc_entry_sum(s, off)[0] + mlc_entry_sum(s, off)[1];
			cats[k++].count = cnt;
		}
		else
		{
			fill = s->entries + off + MLC_TF_ENTRY_HDR;
			fill_len = len;
		}
		off += MLC_TF_ENTRY_SIZE(len);
	}
	if (s->n == 0 && !(s->family == MLC_TF_TEXT_IMPUTER && s->method == MLC_TFT_CONSTANT) &&
		!(s->family == MLC_TF_ENCODER && s->method == MLC_TFE_HASHING))
		mlc_tf_all_null(s->family);
	if (s->family == MLC_TF_TEXT_IMPUTER)
	{
		tf->ncats = 1;
		tf->cats = palloc(sizeof(char *));
		tf->catlens = palloc(sizeof(int32));
		if (s->method == MLC_TFT_MOST_FREQUENT)
		{
			qsort(cats, k, sizeof(MlcTfCat), mlc_tf_cmp_freq);
			fill = cats[0].s;
			fill_len = cats[0].len;
		}
		tf->cats[0] = pnstrdup(fill, fill_len);
		tf->catlens[0] = fill_len;
		PG_RETURN_BYTEA_P(mlc_tf_serialize(tf));
	}
	if (s->method == MLC_TFE_ONE_HOT && s->option > 0 && k > s->option)
	{
		qsort(cats, k, sizeof(MlcTfCat), mlc_tf_cmp_freq);
		k = s->option;
	}
	qsort(cats, k, sizeof(MlcTfCat), mlc_tf_cmp_cat);
	if (s->method == MLC_TFE_HASHING)
		k = 0;
	tf->ncats = k;
	tf->cats = palloc(sizeof(char *) * Max(k, 1));
	tf->catlens = palloc(sizeof(int32) * Max(k, 1));
	for (int32 i = 0; i < k; i++)
	{
		tf->cats[i] = (char *) cats[i].s;
		tf->catlens[i] = cats[i].len;
	}
	switch (s->method)
	{
		case MLC_TFE_ONE_HOT:
			tf->nparams = 1;
			tf->params = palloc(sizeof(double));
			tf->params[0] = s->option > 0 ? 1.0 : 0.0;
			break;
		case MLC_TFE_HASHING:
			tf->nparams = 1;
			tf->params = palloc(sizeof(double));
			tf->params[0] = s->option;
			break;
		case MLC_TFE_FREQUENCY:
			tf->nparams = k;
			tf->params = palloc(sizeof(double) * Max(k, 1));
			for (int32 i = 0; i < k; i++)
				tf->params[i] = (double) cats[i].count / (double) s->n;
			break;
		case MLC_TFE_TARGET:
			{
				/* smoothed mean: (sum + m * prior) / (count + m); then prior, m */
				double		prior = (s->ysum[0] + s->ysum[1]) / (double) s->ycount;

				tf->nparams = k + 2;
				tf->params = palloc(sizeof(double) * (k + 2));
				for (int32 i = 0; i < k; i++)
					tf->params[i] = (cats[i].sum + s->smoothing * prior) /
						((double) cats[i].count + s->smoothing);
				tf->params[k] = prior;
				tf->params[k + 1] = s->smoothing;
				break;
			}
	}
	PG_RETURN_BYTEA_P(mlc_tf_serialize(tf));
}

/* ---------- apply ---------- */

/* Per-query cache of the parsed transformer */
typedef struct MlcTfCache
{
	int32		len;
	uint32		crc;
	MlcTf	   *tf;
	int32		nbuf;
	Datum	   *buf;			/* encoder output */
} MlcTfCache;

/* The parsed transformer of argument 0, cached in fn_extra by length and CRC */
static MlcTf *
mlc_tf_cached(FunctionCallInfo fcinfo, MlcTfCache **cachep)
{
	MlcTfCache *c = (MlcTfCache *) fcinfo->flinfo->fn_extra;
	bytea	   *b = PG_GETARG_BYTEA_PP(0);
	int32		len = VARSIZE_ANY_EXHDR(b);
	uint32		crc = 0;
	MemoryContext old;

	if (len >= 4)
		memcpy(&crc, VARDATA_ANY(b) + len - 4, 4);
	if (c != NULL && c->tf != NULL && c->len == len && c->crc == crc)
	{
		*cachep = c;
		return c->tf;
	}
	if (c == NULL)
		c = fcinfo->flinfo->fn_extra = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt,
															  sizeof(MlcTfCache));
	c->tf = NULL;
	old = MemoryContextSwitchTo(fcinfo->flinfo->fn_mcxt);
	c->tf = mlc_tf_parse(b);
	c->buf = palloc(sizeof(Datum) * c->tf->width);
	c->nbuf = c->tf->width;
	MemoryContextSwitchTo(old);
	c->len = len;
	c->crc = crc;
	*cachep = c;
	return c->tf;
}

/* Error for a transformer applied to the wrong kind of value */
static void
mlc_tf_wrong_kind(const MlcTf *tf, const char *given, const char *hint)
{
	ereport(ERROR,
			(errcode(ERRCODE_DATATYPE_MISMATCH),
			 errmsg("a %s %s cannot be applied to a %s value",
					mlc_tf_methods(tf->family)[tf->method], family_names[tf->family], given),
			 errhint("%s", hint)));
}

/* Apply a numeric transformer to x */
static double
mlc_tf_apply_numeric(const MlcTf *tf, double x)
{
	const double *p = tf->params;

	switch (tf->family)
	{
		case MLC_TF_SCALER:
			switch (tf->method)
			{
				case MLC_TFS_LOG1P:
					if (!(x > -1.0))
						ereport(ERROR,
								(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
								 errmsg("log1p needs values greater than -1, and got %g", x),
								 errhint("Use yeo_johnson, which accepts any value.")));
					return log1p(x);
				case MLC_TFS_YEO_JOHNSON:
					return (mlc_yeo_johnson(x, p[0]) - p[1]) / p[2];
				case MLC_TFS_BOX_COX:
					if (!(x > 0))
						mlc_box_cox_domain_error("got", x);
					return (mlc_box_cox(x, p[0]) - p[1]) / p[2];
			}
			return (x - p[0]) / p[1];
		case MLC_TF_IMPUTER:
			return x;
		case MLC_TF_BINNER:
			return (double) mlc_bin_index(p, tf->nparams, x);
		case MLC_TF_CLIPPER:
			return Min(Max(x, p[0]), p[1]);
	}
	mlc_tf_wrong_kind(tf, "float8", "Apply encoders and text imputers to text values: ml_transform(t, x::text) or ml_impute(t, x).");
	return 0;
}

/* ml_transform(transformer, x float8) -> float8 */
Datum
ml_transform_float8(PG_FUNCTION_ARGS)
{
	MlcTfCache *c;
	MlcTf	   *tf;
	double		x;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	tf = mlc_tf_cached(fcinfo, &c);
	if (PG_ARGISNULL(1))
	{
		if (tf->family == MLC_TF_IMPUTER)
			PG_RETURN_FLOAT8(tf->params[0]);
		if (tf->family == MLC_TF_ENCODER || tf->family == MLC_TF_TEXT_IMPUTER)
			mlc_tf_apply_numeric(tf, 0);
		PG_RETURN_NULL();
	}
	x = PG_GETARG_FLOAT8(1);
	if (unlikely(!isfinite(x)))
		mlc_tf_nonfinite("ml_transform");
	PG_RETURN_FLOAT8(mlc_tf_apply_numeric(tf, x));
}

/* ml_transform(transformer, x text) -> float8[]: the encoder's features */
Datum
ml_transform_text(PG_FUNCTION_ARGS)
{
	MlcTfCache *c;
	MlcTf	   *tf = mlc_tf_cached(fcinfo, &c);
	text	   *t = PG_GETARG_TEXT_PP(1);
	const char *s = VARDATA_ANY(t);
	int32		len = VARSIZE_ANY_EXHDR(t);
	int32		w = tf->width;
	int32		idx;

	if (tf->family != MLC_TF_ENCODER)
		mlc_tf_wrong_kind(tf, "text", tf->family == MLC_TF_TEXT_IMPUTER ?
						  "Use ml_impute(t, x) for a text imputer." :
						  "Apply it to a number: ml_transform(t, x::float8).");
	for (int i = 0; i < w; i++)
		c->buf[i] = Float8GetDatum(0.0);
	if (tf->method == MLC_TFE_HASHING)
	{
		c->buf[hash_bytes((const unsigned char *) s, len) % (uint32) w] = Float8GetDatum(1.0);
		goto done;
	}
	idx = mlc_tf_lookup(tf, s, len);
	switch (tf->method)
	{
		case MLC_TFE_ONE_HOT:
			if (idx >= 0)
				c->buf[idx] = Float8GetDatum(1.0);
			else if (tf->params[0] == 1.0)
				c->buf[w - 1] = Float8GetDatum(1.0);	/* the other bucket */
			break;
		case MLC_TFE_ORDINAL:
			c->buf[0] = Float8GetDatum((double) idx);
			break;
		case MLC_TFE_FREQUENCY:
			c->buf[0] = Float8GetDatum(idx >= 0 ? tf->params[idx] : 0.0);
			break;
		case MLC_TFE_TARGET:
			c->buf[0] = Float8GetDatum(tf->params[idx >= 0 ? idx : tf->ncats]);
			break;
		case MLC_TFE_BINARY:
			/* index + 1 in binary, most significant bit first; 0 for unseen */
			for (int i = 0; i < w; i++)
				c->buf[i] = Float8GetDatum((double) (((idx + 1) >> (w - 1 - i)) & 1));
			break;
	}
done:
	PG_RETURN_ARRAYTYPE_P(construct_array(c->buf, w, FLOAT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
}

/* ml_impute(transformer, x text) -> text: the fill value for NULL */
Datum
ml_impute_text(PG_FUNCTION_ARGS)
{
	MlcTfCache *c;
	MlcTf	   *tf;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	tf = mlc_tf_cached(fcinfo, &c);
	if (tf->family != MLC_TF_TEXT_IMPUTER)
		mlc_tf_wrong_kind(tf, "text", tf->family == MLC_TF_IMPUTER ?
						  "Use ml_transform(t, x) for a numeric imputer." :
						  "ml_impute takes a text imputer from ml_fit_imputer(x text, method).");
	if (!PG_ARGISNULL(1))
		PG_RETURN_DATUM(PG_GETARG_DATUM(1));
	PG_RETURN_TEXT_P(cstring_to_text_with_len(tf->cats[0], tf->catlens[0]));
}

/* Append key: value (%.17g) to a JSON object under construction */
static void
mlc_json_num(StringInfo buf, const char *key, double v)
{
	appendStringInfo(buf, ", \"%s\": %.17g", key, v);
}

/* ml_transformer_text(transformer) -> jsonb: a readable form */
Datum
ml_transformer_text(PG_FUNCTION_ARGS)
{
	MlcTf	   *tf = mlc_tf_parse(PG_GETARG_BYTEA_PP(0));
	StringInfoData buf;
	const double *p = tf->params;

	initStringInfo(&buf);
	appendStringInfo(&buf, "{\"family\": \"%s\", \"method\": \"%s\", \"count\": " INT64_FORMAT ", \"nulls\": " INT64_FORMAT,
					 family_names[tf->family], mlc_tf_methods(tf->family)[tf->method], tf->n, tf->nulls);
	appendStringInfo(&buf, ", \"exact\": %s", tf->approx ? "false" : "true");
	if (tf->approx)
		mlc_json_num(&buf, "rank_error", tf->rank_error);
	switch (tf->family)
	{
		case MLC_TF_SCALER:
			if (tf->nparams == 2)
			{
				mlc_json_num(&buf, "center", p[0]);
				mlc_json_num(&buf, "scale", p[1]);
			}
			else if (tf->nparams == 3)
			{
				mlc_json_num(&buf, "lambda", p[0]);
				mlc_json_num(&buf, "mean", p[1]);
				mlc_json_num(&buf, "std", p[2]);
			}
			break;
		case MLC_TF_IMPUTER:
			mlc_json_num(&buf, "fill_value", p[0]);
			break;
		case MLC_TF_TEXT_IMPUTER:
			appendStringInfoString(&buf, ", \"fill_value\": ");
			escape_json(&buf, tf->cats[0]);
			break;
		case MLC_TF_BINNER:
		case MLC_TF_CLIPPER:
			appendStringInfoString(&buf, tf->family == MLC_TF_BINNER ? ", \"edges\": [" : ", \"bounds\": [");
			for (int i = 0; i < tf->nparams; i++)
				appendStringInfo(&buf, "%s%.17g", i ? ", " : "", p[i]);
			appendStringInfoChar(&buf, ']');
			break;
		case MLC_TF_ENCODER:
			appendStringInfo(&buf, ", \"width\": %d", tf->width);
			if (tf->method == MLC_TFE_HASHING)
				appendStringInfo(&buf, ", \"buckets\": %d", tf->width);
			else
			{
				appendStringInfoString(&buf, ", \"categories\": [");
				for (int i = 0; i < tf->ncats; i++)
				{
					if (i)
						appendStringInfoString(&buf, ", ");
					escape_json(&buf, tf->cats[i]);
				}
				appendStringInfoChar(&buf, ']');
			}
			if (tf->method == MLC_TFE_ONE_HOT)
				appendStringInfo(&buf, ", \"other_bucket\": %s", p[0] == 1.0 ? "true" : "false");
			if (tf->method == MLC_TFE_TARGET)
			{
				appendStringInfoString(&buf, ", \"means\": [");
				for (int i = 0; i < tf->ncats; i++)
					appendStringInfo(&buf, "%s%.17g", i ? ", " : "", p[i]);
				appendStringInfoChar(&buf, ']');
				mlc_json_num(&buf, "prior", p[tf->ncats]);
				mlc_json_num(&buf, "smoothing", p[tf->ncats + 1]);
			}
			if (tf->method == MLC_TFE_FREQUENCY)
			{
				appendStringInfoString(&buf, ", \"frequencies\": [");
				for (int i = 0; i < tf->ncats; i++)
					appendStringInfo(&buf, "%s%.17g", i ? ", " : "", p[i]);
				appendStringInfoChar(&buf, ']');
			}
			break;
	}
	appendStringInfoChar(&buf, '}');
	PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(buf.data)));
}

/* ml_normalize(x float8[], norm) -> float8[]: each row scaled to unit norm */
Datum
ml_normalize(PG_FUNCTION_ARGS)
{
	ArrayType  *a = PG_GETARG_ARRAYTYPE_P(0);
	int			norm = mlc_choose(text_to_cstring(PG_GETARG_TEXT_PP(1)), norm_names, "norm");
	Datum	   *el;
	bool	   *nulls;
	int			n;
	double		s = 0;

	if (ARR_NDIM(a) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("ml_normalize takes a one-dimensional array"),
				 errhint("Pass one row's features as ARRAY[x1, x2, ...].")));
	deconstruct_array(a, FLOAT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE, &el, &nulls, &n);
	for (int i = 0; i < n; i++)
	{
		double		v;

		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("ml_normalize got a NULL element"),
					 errhint("Impute the features first.")));
		v = DatumGetFloat8(el[i]);
		if (!isfinite(v))
			mlc_tf_nonfinite("ml_normalize");
		s = norm == 0 ? s + v * v : norm == 1 ? s + fabs(v) : Max(s, fabs(v));
	}
	if (norm == 0)
		s = sqrt(s);
	if (s == 0.0)
		s = 1.0;				/* a zero row stays zero, as Normalizer does */
	for (int i = 0; i < n; i++)
		el[i] = Float8GetDatum(DatumGetFloat8(el[i]) / s);
	PG_RETURN_ARRAYTYPE_P(construct_array(el, n, FLOAT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
}

/* Parts of ml_temporal_features, parsed once per query */
typedef struct MlcTemporalCache
{
	Pointer		parts_seen;		/* the parts argument parsed */
	bool		cyclical;
	int			n;
	double		codes[MLC_PART_MAX + 1];
	int			width;
} MlcTemporalCache;

/* Parse the parts array (names of MLC_PART_*) into codes */
static void
mlc_temporal_parts(MlcTemporalCache *c, ArrayType *a, bool cyclical)
{
	static const char *const part_names[] = {"year", "month", "day", "dow", "hour", NULL};
	Datum	   *el;
	bool	   *nulls;
	int			n;

	deconstruct_array(a, TEXTOID, -1, false, TYPALIGN_INT, &el, &nulls, &n);
	if (ARR_NDIM(a) > 1 || n < 1 || n > MLC_PART_MAX + 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("parts must name between 1 and %d calendar parts", MLC_PART_MAX + 1),
				 errhint("Valid parts are: %s.", mlc_join_names(part_names))));
	c->n = n;
	c->width = 0;
	for (int k = 0; k < n; k++)
	{
		int			part;

		if (nulls[k])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("parts must not contain NULL"),
					 errhint("Valid parts are: %s.", mlc_join_names(part_names))));
		part = mlc_choose(TextDatumGetCString(el[k]), part_names, "temporal part");
		c->codes[k] = part | ((cyclical && part != MLC_PART_YEAR) ? MLC_PART_CYCLIC : 0);
		c->width += ((int) c->codes[k] & MLC_PART_CYCLIC) ? 2 : 1;
	}
}

/*
 * ml_temporal_features(x date | timestamp | timestamptz, parts text[], cyclical)
 * -> float8[]: the calendar parts of ml_train's temporal step (UTC for
 * timestamptz), with sin and cos of each periodic part when cyclical.
 */
Datum
ml_temporal_features(PG_FUNCTION_ARGS)
{
	MlcTemporalCache *c = (MlcTemporalCache *) fcinfo->flinfo->fn_extra;
	Oid			typid = get_fn_expr_argtype(fcinfo->flinfo, 0);
	ArrayType  *a = PG_GETARG_ARRAYTYPE_P(1);
	bool		cyclical = PG_GETARG_BOOL(2);
	double		v;
	double		out[2 * (MLC_PART_MAX + 1)];
	Datum		d[2 * (MLC_PART_MAX + 1)];
	int			w;

	if (c == NULL)
		c = fcinfo->flinfo->fn_extra = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt,
															  sizeof(MlcTemporalCache));
	if (c->parts_seen != (Pointer) a || c->cyclical != cyclical)
	{
		mlc_temporal_parts(c, a, cyclical);
		c->cyclical = cyclical;
		c->parts_seen = (Pointer) a == DatumGetPointer(PG_GETARG_DATUM(1)) ? (Pointer) a : NULL;
	}
	v = mlc_datum_to_double(PG_GETARG_DATUM(0), typid, MLC_KIND_TEMPORAL);
	if (!isfinite(v))
		mlc_tf_nonfinite("ml_temporal_features");
	w = mlc_calendar_features(v, c->codes, c->n, out);
	for (int k = 0; k < w; k++)
		d[k] = Float8GetDatum(out[k]);
	PG_RETURN_ARRAYTYPE_P(construct_array(d, w, FLOAT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
}
