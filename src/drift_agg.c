/*
 * drift_agg.c
 *	  The drift aggregates (ml_ks_test, ml_psi, ml_wasserstein, ml_chi2_test,
 *	  ml_chi2_contingency, ml_js_distance): their versioned bytea states,
 *	  checked on entry, and the transition, combine and final functions; also
 *	  the SQL wrappers of a few distributions.  The statistics are in
 *	  drift_stats.c.
 */
#include "postgres.h"

#include <math.h>

#include "common/hashfn.h"
#include "common/int.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"

#include "drift_stats.h"
#include "jsonutil.h"
#include "mlcycle.h"

/* sort_template.h: an inlined sort of float8 values */
#define ST_SORT mlc_sort_float8
#define ST_ELEMENT_TYPE double
#define ST_COMPARE(a, b) ((*(a) > *(b)) - (*(a) < *(b)))
#define ST_CHECK_FOR_INTERRUPTS
#define ST_SCOPE static
#define ST_DECLARE
#define ST_DEFINE
#include "lib/sort_template.h"

#define MLC_DRIFT_NUM_MAGIC 0x4E444C4D	/* "MLDN" */
#define MLC_DRIFT_CAT_MAGIC 0x43444C4D	/* "MLDC" */
#define MLC_DRIFT_VERSION 1

/* numeric state flags: the KS method, a raw (not normalized) Wasserstein */
#define MLC_NUM_KS_EXACT 0x0001
#define MLC_NUM_KS_ASYMP 0x0002
#define MLC_NUM_RAW 0x0004
#define MLC_NUM_ALL_FLAGS 0x0007

/* categorical state flags: the contingency test without Yates' correction */
#define MLC_CAT_NO_CORRECTION 0x0001
#define MLC_CAT_ALL_FLAGS 0x0001

/* initial sizes of new states */
#define MLC_NUM_INITIAL_CAPACITY 64
#define MLC_CAT_INITIAL_SLOTS 16
#define MLC_CAT_INITIAL_POOL 256
#define MLC_CAT_MAX_SLOTS (1 << 26)

/* PSI bins when the two-argument ml_psi is used */
#define MLC_PSI_DEFAULT_BINS 10

/*
 * State of the numeric aggregates: every value of both samples, reference
 * values from the front of values[], current values from the back, so that
 * appending is O(1) and the two samples never mix.  All fields are at
 * offsets that are multiples of their size; values[] starts at offset 40.
 * Integers and values are in the server's native byte order.
 */
typedef struct MlcNumState
{
	int32		vl_len_;		/* varlena header */
	uint32		magic;			/* MLC_DRIFT_NUM_MAGIC */
	uint16		version;		/* MLC_DRIFT_VERSION */
	uint16		flags;			/* MLC_NUM_* */
	int32		bins;			/* PSI bins; 0 when not given */
	int64		capacity;		/* length of values[] */
	int64		nref;			/* values[0 .. nref) */
	int64		ncur;			/* values[capacity - ncur .. capacity) */
	double		values[FLEXIBLE_ARRAY_MEMBER];
} MlcNumState;

#define MLC_NUM_HEADER offsetof(MlcNumState, values)

/*
 * State of the categorical aggregates: an open-addressing hash table of
 * categories with their counts in each sample, flat in one bytea.  After the
 * 32-byte header: int32 slots[nslots] (-1 empty, else an entry index),
 * MlcCatEntry entries[nslots / 2], then the category bytes (pool_cap bytes,
 * pool_used of them in use).
 */
typedef struct MlcCatState
{
	int32		vl_len_;		/* varlena header */
	uint32		magic;			/* MLC_DRIFT_CAT_MAGIC */
	uint16		version;		/* MLC_DRIFT_VERSION */
	uint16		flags;			/* MLC_CAT_* */
	uint32		nslots;			/* a power of two */
	uint32		nentries;		/* categories stored, at most nslots / 2 */
	uint32		pool_cap;
	uint32		pool_used;
	uint32		reserved;		/* 0 */
} MlcCatState;

typedef struct MlcCatEntry
{
	uint32		offset;			/* of the category's bytes in the pool */
	uint32		len;
	int64		nref;
	int64		ncur;
} MlcCatEntry;

StaticAssertDecl(offsetof(MlcNumState, values) == 40, "numeric state header is 40 bytes");
StaticAssertDecl(sizeof(MlcCatState) == 32, "categorical state header is 32 bytes");
StaticAssertDecl(sizeof(MlcCatEntry) == 24, "categorical entries are 24 bytes");

/* A category of a final function: its bytes and counts */
typedef struct MlcCategory
{
	const char *str;
	uint32		len;
	int64		nref;
	int64		ncur;
} MlcCategory;

/* the numeric samples of a state, sorted */
typedef struct MlcSamples
{
	double	   *ref;
	int64		nref;
	double	   *cur;
	int64		ncur;
} MlcSamples;

/* Byte-wise order of categories, shorter first on a common prefix */
static inline int
mlc_category_cmp(const MlcCategory *a, const MlcCategory *b)
{
	int			c = memcmp(a->str, b->str, Min(a->len, b->len));

	if (c != 0)
		return c;
	return (a->len > b->len) - (a->len < b->len);
}

#define ST_SORT mlc_sort_categories
#define ST_ELEMENT_TYPE MlcCategory
#define ST_COMPARE(a, b) mlc_category_cmp(a, b)
#define ST_CHECK_FOR_INTERRUPTS
#define ST_SCOPE static
#define ST_DECLARE
#define ST_DEFINE
#include "lib/sort_template.h"

PG_FUNCTION_INFO_V1(mlc_drift_num_trans);
PG_FUNCTION_INFO_V1(mlc_drift_psi_trans);
PG_FUNCTION_INFO_V1(mlc_drift_ks_trans);
PG_FUNCTION_INFO_V1(mlc_drift_wasserstein_trans);
PG_FUNCTION_INFO_V1(mlc_drift_num_combine);
PG_FUNCTION_INFO_V1(mlc_drift_ks_final);
PG_FUNCTION_INFO_V1(mlc_drift_psi_final);
PG_FUNCTION_INFO_V1(mlc_drift_wasserstein_final);
PG_FUNCTION_INFO_V1(mlc_drift_cat_trans);
PG_FUNCTION_INFO_V1(mlc_drift_contingency_trans);
PG_FUNCTION_INFO_V1(mlc_drift_cat_combine);
PG_FUNCTION_INFO_V1(mlc_drift_chi2_final);
PG_FUNCTION_INFO_V1(mlc_drift_contingency_final);
PG_FUNCTION_INFO_V1(mlc_drift_js_final);
PG_FUNCTION_INFO_V1(mlc_drift_cat_psi_final);
PG_FUNCTION_INFO_V1(mlc_drift_kstwo_sf);
PG_FUNCTION_INFO_V1(mlc_drift_kolmogorov_sf);
PG_FUNCTION_INFO_V1(mlc_drift_chi2_sf);

/* ------------------------------------------------------------------------
 * Shared helpers
 * ------------------------------------------------------------------------
 */

/* An invalid state: always an error, never a crash */
static void
mlc_state_corrupt(const char *what)
{
	ereport(ERROR,
			(errcode(ERRCODE_DATA_CORRUPTED),
			 errmsg("invalid drift aggregate state: %s", what),
			 errhint("Pass only states made by the mlcycle drift aggregates of this version.")));
}

/* Most bytes one drift state may take: mlcycle.max_train_memory, at most 1 GB */
static Size
mlc_state_budget(void)
{
	double		budget = (double) mlc_max_train_memory_kb * 1024.0;

	return (Size) Min(budget, (double) MaxAllocSize);
}

/* The error for a state that would outgrow its budget (detail: what it holds) */
static void
mlc_state_too_big(const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
			 errmsg("drift aggregate state would exceed its memory limit"),
			 errdetail("%s; mlcycle.max_train_memory is %d kB, and a state is at most 1 GB.",
					   detail, mlc_max_train_memory_kb),
			 errhint("Raise mlcycle.max_train_memory, or compare samples of the rows, for example with TABLESAMPLE.")));
}

/*
 * The bytea argument argno, detoasted and 8-byte aligned (a state read from a
 * tuple may sit at a 4-byte boundary): the original pointer when it is both.
 */
static bytea *
mlc_state_arg(FunctionCallInfo fcinfo, int argno)
{
	bytea	   *b = PG_GETARG_BYTEA_P(argno);

	if (((uintptr_t) b) % MAXIMUM_ALIGNOF != 0)
	{
		bytea	   *copy = palloc(VARSIZE(b));

		memcpy(copy, b, VARSIZE(b));
		b = copy;
	}
	return b;
}

/* Is the function running as an aggregate's transition or combine step? */
static bool
mlc_in_aggregate(FunctionCallInfo fcinfo)
{
	return AggCheckCallContext(fcinfo, NULL) != 0;
}

/* The error for a per-row option that changes between rows */
static void
mlc_option_changed(const char *option)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("the %s argument must be the same for every row of a group", option),
			 errhint("Pass a constant.")));
}

/* An error for a non-finite value */
static void
mlc_check_finite(double v)
{
	if (!isfinite(v))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("drift aggregates accept only finite values, not %s",
						isnan(v) ? "NaN" : (v > 0 ? "Infinity" : "-Infinity")),
				 errhint("Filter those rows out, or turn the values into NULL with NULLIF: NULL values are ignored.")));
}

/* ------------------------------------------------------------------------
 * Numeric state
 * ------------------------------------------------------------------------
 */

/* Largest capacity (number of values) a numeric state may have */
static int64
mlc_num_max_capacity(void)
{
	return (int64) ((mlc_state_budget() - MLC_NUM_HEADER) / sizeof(double));
}

/* Check a numeric state's header and lengths: O(1), on every entry */
static MlcNumState *
mlc_num_check(bytea *b)
{
	MlcNumState *s = (MlcNumState *) b;
	Size		size = VARSIZE(b);

	if (size < MLC_NUM_HEADER)
		mlc_state_corrupt("too short");
	if (s->magic != MLC_DRIFT_NUM_MAGIC)
		mlc_state_corrupt("not the state of a numeric drift aggregate");
	if (s->version != MLC_DRIFT_VERSION)
		mlc_state_corrupt("unsupported format version");
	if ((s->flags & ~MLC_NUM_ALL_FLAGS) != 0 ||
		((s->flags & MLC_NUM_KS_EXACT) && (s->flags & MLC_NUM_KS_ASYMP)))
		mlc_state_corrupt("unknown flags");
	if (s->bins != 0 && (s->bins < MLC_PSI_MIN_BINS || s->bins > MLC_PSI_MAX_BINS))
		mlc_state_corrupt("bins out of range");
	if (s->capacity < 0 ||
		s->capacity > (int64) ((MaxAllocSize - MLC_NUM_HEADER) / sizeof(double)) ||
		MLC_NUM_HEADER + (Size) s->capacity * sizeof(double) != size)
		mlc_state_corrupt("length does not match the capacity");
	if (s->nref < 0 || s->ncur < 0 || s->nref > s->capacity - s->ncur)
		mlc_state_corrupt("counts exceed the capacity");
	return s;
}

/* A new, empty numeric state in the current memory context */
static MlcNumState *
mlc_num_new(int64 capacity, int32 bins, uint16 flags)
{
	Size		size = MLC_NUM_HEADER + (Size) capacity * sizeof(double);
	MlcNumState *s = palloc0(size);

	SET_VARSIZE(s, size);
	s->magic = MLC_DRIFT_NUM_MAGIC;
	s->version = MLC_DRIFT_VERSION;
	s->flags = flags;
	s->bins = bins;
	s->capacity = capacity;
	return s;
}

/*
 * A copy of s with room for at least need values, in the current memory
 * context; the capacity doubles, within the budget.  (An aggregate copies a
 * new state into its own context: growing in place with repalloc would
 * leave it a freed pointer.)
 */
static MlcNumState *
mlc_num_resize(const MlcNumState *s, int64 need, bool grow)
{
	int64		maxcap = mlc_num_max_capacity();
	int64		cap = need;
	MlcNumState *t;

	if (need > maxcap)
		mlc_state_too_big(psprintf("It would hold more than " INT64_FORMAT " values, 8 bytes each",
								   maxcap));
	if (grow)
		cap = Min(Max(Max(need, 2 * s->capacity), MLC_NUM_INITIAL_CAPACITY), maxcap);
	t = mlc_num_new(cap, s->bins, s->flags);
	t->nref = s->nref;
	t->ncur = s->ncur;
	memcpy(t->values, s->values, s->nref * sizeof(double));
	memcpy(t->values + (cap - s->ncur), s->values + (s->capacity - s->ncur),
		   s->ncur * sizeof(double));
	return t;
}

/* The state argument of a numeric transition, checked, or NULL */
static MlcNumState *
mlc_num_state_arg(FunctionCallInfo fcinfo, int32 bins, uint16 flags)
{
	MlcNumState *s;

	if (PG_ARGISNULL(0))
		return NULL;
	s = mlc_num_check(mlc_state_arg(fcinfo, 0));
	if (s->bins != bins)
		mlc_option_changed("bins");
	if ((s->flags & (MLC_NUM_KS_EXACT | MLC_NUM_KS_ASYMP)) !=
		(flags & (MLC_NUM_KS_EXACT | MLC_NUM_KS_ASYMP)))
		mlc_option_changed("method");
	if ((s->flags & MLC_NUM_RAW) != (flags & MLC_NUM_RAW))
		mlc_option_changed("normalized");
	return s;
}

/*
 * Add one value to a numeric state.  Inside an aggregate the state is the
 * aggregate's own and grows in place; called directly, the input is copied.
 */
static Datum
mlc_num_add(FunctionCallInfo fcinfo, int32 bins, uint16 flags)
{
	MlcNumState *s = mlc_num_state_arg(fcinfo, bins, flags);
	double		v;

	if (PG_ARGISNULL(1) || PG_ARGISNULL(2))
	{
		if (s == NULL)
			PG_RETURN_NULL();
		PG_RETURN_BYTEA_P(s);
	}
	v = PG_GETARG_FLOAT8(1);
	mlc_check_finite(v);
	if (s == NULL)
		s = mlc_num_new(MLC_NUM_INITIAL_CAPACITY, bins, flags);
	else if (s->nref + s->ncur == s->capacity)
		s = mlc_num_resize(s, s->nref + s->ncur + 1, true);
	else if (!mlc_in_aggregate(fcinfo))
		s = mlc_num_resize(s, s->capacity, false);
	if (PG_GETARG_BOOL(2))
		s->values[s->nref++] = v;
	else
		s->values[s->capacity - 1 - s->ncur++] = v;
	PG_RETURN_BYTEA_P(s);
}

/* Transition of ml_ks_test, ml_psi and ml_wasserstein with two arguments */
Datum
mlc_drift_num_trans(PG_FUNCTION_ARGS)
{
	return mlc_num_add(fcinfo, 0, 0);
}

/* Transition of ml_psi(value, is_reference, bins) */
Datum
mlc_drift_psi_trans(PG_FUNCTION_ARGS)
{
	int32		bins;

	if (PG_ARGISNULL(3))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("bins must not be NULL"),
				 errhint("Pass the number of bins, or leave it out for %d.", MLC_PSI_DEFAULT_BINS)));
	bins = PG_GETARG_INT32(3);
	if (bins < MLC_PSI_MIN_BINS || bins > MLC_PSI_MAX_BINS)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("bins must be between %d and %d, not %d",
						MLC_PSI_MIN_BINS, MLC_PSI_MAX_BINS, bins),
				 errhint("The reference is cut at its quantiles k/bins; %d is the usual choice.",
						 MLC_PSI_DEFAULT_BINS)));
	return mlc_num_add(fcinfo, bins, 0);
}

/* Transition of ml_ks_test(value, is_reference, method) */
Datum
mlc_drift_ks_trans(PG_FUNCTION_ARGS)
{
	static const char *const methods[] = {"auto", "exact", "asymp", NULL};
	static const uint16 method_flags[] = {0, MLC_NUM_KS_EXACT, MLC_NUM_KS_ASYMP};
	char	   *method;

	if (PG_ARGISNULL(3))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("method must not be NULL"),
				 errhint("Valid values are: %s.", mlc_join_names(methods))));
	method = text_to_cstring(PG_GETARG_TEXT_PP(3));
	return mlc_num_add(fcinfo, 0,
					   method_flags[mlc_choose(method, methods, "Kolmogorov-Smirnov method")]);
}

/* Transition of ml_wasserstein(value, is_reference, normalized) */
Datum
mlc_drift_wasserstein_trans(PG_FUNCTION_ARGS)
{
	if (PG_ARGISNULL(3))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("normalized must not be NULL"),
				 errhint("Pass true to divide by the reference standard deviation, false for the raw distance.")));
	return mlc_num_add(fcinfo, 0, PG_GETARG_BOOL(3) ? 0 : MLC_NUM_RAW);
}

/* Combine two numeric states: the values of the second appended to the first */
Datum
mlc_drift_num_combine(PG_FUNCTION_ARGS)
{
	MlcNumState *a = mlc_num_check(mlc_state_arg(fcinfo, 0));
	MlcNumState *b = mlc_num_check(mlc_state_arg(fcinfo, 1));
	int64		need;

	if (a->bins != b->bins)
		mlc_option_changed("bins");
	if (a->flags != b->flags)
		mlc_option_changed(((a->flags ^ b->flags) & MLC_NUM_RAW) ? "normalized" : "method");
	if (b->nref + b->ncur == 0)
		PG_RETURN_BYTEA_P(a);
	need = a->nref + a->ncur + b->nref + b->ncur;
	if (need > a->capacity)
		a = mlc_num_resize(a, need, true);
	else if (!mlc_in_aggregate(fcinfo))
		a = mlc_num_resize(a, need, false);
	memcpy(a->values + a->nref, b->values, b->nref * sizeof(double));
	a->nref += b->nref;
	memcpy(a->values + (a->capacity - a->ncur - b->ncur),
		   b->values + (b->capacity - b->ncur), b->ncur * sizeof(double));
	a->ncur += b->ncur;
	PG_RETURN_BYTEA_P(a);
}

/* Copy n values, check that each is finite, and sort them */
static double *
mlc_sorted_copy(const double *src, int64 n)
{
	double	   *dst = palloc_extended(Max(n, 1) * sizeof(double), MCXT_ALLOC_HUGE);

	for (int64 i = 0; i < n; i++)
	{
		if (!isfinite(src[i]))
			mlc_state_corrupt("a value is not finite");
		dst[i] = src[i];
	}
	mlc_sort_float8(dst, n);
	return dst;
}

/* The state argument of a numeric final function, or NULL */
static MlcNumState *
mlc_num_final_arg(FunctionCallInfo fcinfo)
{
	if (PG_ARGISNULL(0))
		return NULL;
	return mlc_num_check(mlc_state_arg(fcinfo, 0));
}

/* Both samples of a numeric state, sorted (the state is left untouched) */
static MlcSamples
mlc_num_samples(const MlcNumState *s)
{
	MlcSamples x;

	x.nref = s->nref;
	x.ncur = s->ncur;
	x.ref = mlc_sorted_copy(s->values, s->nref);
	x.cur = mlc_sorted_copy(s->values + (s->capacity - s->ncur), s->ncur);
	return x;
}

/* Final of ml_ks_test: (statistic, p_value, n_reference, n_current, method) */
Datum
mlc_drift_ks_final(PG_FUNCTION_ARGS)
{
	MlcNumState *s = mlc_num_final_arg(fcinfo);
	TupleDesc	tupdesc;
	Datum		values[5];
	bool		nulls[5] = {true, true, false, false, true};

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	tupdesc = BlessTupleDesc(tupdesc);
	values[2] = Int64GetDatum(s ? s->nref : 0);
	values[3] = Int64GetDatum(s ? s->ncur : 0);
	if (s != NULL && s->nref > 0 && s->ncur > 0)
	{
		MlcSamples x = mlc_num_samples(s);
		MlcKsMethod method = MLC_KS_AUTO;
		MlcKsResult r;

		if (s->flags & MLC_NUM_KS_EXACT)
			method = MLC_KS_EXACT;
		else if (s->flags & MLC_NUM_KS_ASYMP)
			method = MLC_KS_ASYMP;
		r = mlc_ks_test_sorted(x.ref, x.nref, x.cur, x.ncur, method);
		if (r.exact_failed)
			ereport(WARNING,
					(errmsg("the exact Kolmogorov-Smirnov p-value could not be computed for samples of "
							INT64_FORMAT " and " INT64_FORMAT " values", x.nref, x.ncur),
					 errdetail("The asymptotic p-value is reported instead, as scipy does.")));
		values[0] = Float8GetDatum(r.statistic);
		values[1] = Float8GetDatum(r.p_value);
		values[4] = CStringGetTextDatum(r.method == MLC_KS_EXACT ? "exact" : "asymp");
		nulls[0] = nulls[1] = nulls[4] = false;
	}
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}

/* Final of ml_psi on numbers: NULL when a sample is empty */
Datum
mlc_drift_psi_final(PG_FUNCTION_ARGS)
{
	MlcNumState *s = mlc_num_final_arg(fcinfo);
	MlcSamples	x;

	if (s == NULL || s->nref == 0 || s->ncur == 0)
		PG_RETURN_NULL();
	x = mlc_num_samples(s);
	PG_RETURN_FLOAT8(mlc_psi_sorted(x.ref, x.nref, x.cur, x.ncur,
									s->bins != 0 ? s->bins : MLC_PSI_DEFAULT_BINS));
}

/*
 * Final of ml_wasserstein: the distance divided by the reference standard
 * deviation (population, at least MLC_WASSERSTEIN_MIN_SCALE), or raw.
 */
Datum
mlc_drift_wasserstein_final(PG_FUNCTION_ARGS)
{
	MlcNumState *s = mlc_num_final_arg(fcinfo);
	MlcSamples	x;
	double		w;

	if (s == NULL || s->nref == 0 || s->ncur == 0)
		PG_RETURN_NULL();
	x = mlc_num_samples(s);
	w = mlc_wasserstein_sorted(x.ref, x.nref, x.cur, x.ncur);
	if (!(s->flags & MLC_NUM_RAW))
		w /= Max(mlc_std_population(x.ref, x.nref), MLC_WASSERSTEIN_MIN_SCALE);
	PG_RETURN_FLOAT8(w);
}

/* ------------------------------------------------------------------------
 * Categorical state
 * ------------------------------------------------------------------------
 */

/* Where the parts of a categorical state are */
static inline int32 *
mlc_cat_slots(MlcCatState *s)
{
	return (int32 *) ((char *) s + sizeof(MlcCatState));
}

static inline MlcCatEntry *
mlc_cat_entries(MlcCatState *s)
{
	return (MlcCatEntry *) ((char *) s + sizeof(MlcCatState) + sizeof(int32) * (Size) s->nslots);
}

static inline char *
mlc_cat_pool(MlcCatState *s)
{
	return (char *) mlc_cat_entries(s) + sizeof(MlcCatEntry) * (Size) (s->nslots / 2);
}

/* Bytes of a categorical state with these sizes */
static double
mlc_cat_size(double nslots, double pool_cap)
{
	return (double) sizeof(MlcCatState) +
		nslots * (sizeof(int32) + sizeof(MlcCatEntry) / 2.0) + pool_cap;
}

/* The error for a categorical state that would need size bytes */
static void
mlc_cat_too_big(double size)
{
	mlc_state_too_big(psprintf("Its categories and counts would take %.1f MB", size / 1048576.0));
}

/* Check a categorical state's header and lengths: O(1), on every entry */
static MlcCatState *
mlc_cat_check(bytea *b)
{
	MlcCatState *s = (MlcCatState *) b;

	if (VARSIZE(b) < sizeof(MlcCatState))
		mlc_state_corrupt("too short");
	if (s->magic != MLC_DRIFT_CAT_MAGIC)
		mlc_state_corrupt("not the state of a categorical drift aggregate");
	if (s->version != MLC_DRIFT_VERSION)
		mlc_state_corrupt("unsupported format version");
	if ((s->flags & ~MLC_CAT_ALL_FLAGS) != 0 || s->reserved != 0)
		mlc_state_corrupt("unknown flags");
	if (s->nslots < 8 || s->nslots > MLC_CAT_MAX_SLOTS || (s->nslots & (s->nslots - 1)) != 0)
		mlc_state_corrupt("bad hash table size");
	if (s->nentries > s->nslots / 2 || s->pool_used > s->pool_cap)
		mlc_state_corrupt("counts exceed the capacity");
	if (mlc_cat_size(s->nslots, s->pool_cap) != (double) VARSIZE(b))
		mlc_state_corrupt("length does not match the capacity");
	return s;
}

/* An entry's bytes, checked against the pool */
static const char *
mlc_cat_entry_str(MlcCatState *s, const MlcCatEntry *e)
{
	if (e->offset > s->pool_used || e->len > s->pool_used - e->offset)
		mlc_state_corrupt("a category lies outside the state");
	return mlc_cat_pool(s) + e->offset;
}

/* A new categorical state with these sizes, in the current memory context */
static MlcCatState *
mlc_cat_new(uint32 nslots, uint32 pool_cap, uint16 flags)
{
	double		size = mlc_cat_size(nslots, pool_cap);
	MlcCatState *s;
	int32	   *slots;

	if (size > (double) mlc_state_budget())
		mlc_cat_too_big(size);
	s = palloc0((Size) size);
	SET_VARSIZE(s, (Size) size);
	s->magic = MLC_DRIFT_CAT_MAGIC;
	s->version = MLC_DRIFT_VERSION;
	s->flags = flags;
	s->nslots = nslots;
	s->pool_cap = pool_cap;
	slots = mlc_cat_slots(s);
	for (uint32 i = 0; i < nslots; i++)
		slots[i] = -1;
	return s;
}

/*
 * The slot of a category: where it is (*found) or where it would go.  Every
 * slot and entry is checked before use, so a damaged table gives an error.
 */
static uint32
mlc_cat_find(MlcCatState *s, const char *str, uint32 len, bool *found)
{
	int32	   *slots = mlc_cat_slots(s);
	MlcCatEntry *entries = mlc_cat_entries(s);
	uint32		mask = s->nslots - 1;
	uint32		pos = hash_bytes((const unsigned char *) str, (int) len) & mask;

	for (uint32 probe = 0; probe < s->nslots; probe++)
	{
		int32		idx = slots[pos];

		if (idx == -1)
		{
			*found = false;
			return pos;
		}
		if (idx < 0 || (uint32) idx >= s->nentries)
			mlc_state_corrupt("a hash slot points outside the table");
		if (entries[idx].len == len &&
			memcmp(mlc_cat_entry_str(s, &entries[idx]), str, len) == 0)
		{
			*found = true;
			return pos;
		}
		pos = (pos + 1) & mask;
	}
	mlc_state_corrupt("the hash table has no free slot");
	return 0;					/* keep compiler quiet */
}

/*
 * A copy of s with room for one more category of len bytes (sizes doubled
 * as needed), in the current memory context; the slots are rebuilt.
 */
static MlcCatState *
mlc_cat_resize(MlcCatState *s, uint32 len)
{
	uint32		nslots = s->nslots;
	double		pool_cap = s->pool_cap;
	MlcCatState *t;
	MlcCatEntry *from = mlc_cat_entries(s);
	MlcCatEntry *to;
	int32	   *slots;

	while (s->nentries + 1 > nslots / 2)
	{
		if (nslots >= MLC_CAT_MAX_SLOTS)
			mlc_cat_too_big(mlc_cat_size(2.0 * nslots, pool_cap));
		nslots *= 2;
	}
	if ((double) s->pool_used + len > pool_cap)
		pool_cap = Max(Max(2.0 * pool_cap, (double) s->pool_used + len),
					   MLC_CAT_INITIAL_POOL);
	if (pool_cap > (double) PG_UINT32_MAX ||
		mlc_cat_size(nslots, pool_cap) > (double) mlc_state_budget())
	{
		pool_cap = Max((double) s->pool_used + len, (double) s->pool_cap);
		if (pool_cap > (double) PG_UINT32_MAX ||
			mlc_cat_size(nslots, pool_cap) > (double) mlc_state_budget())
			mlc_cat_too_big(mlc_cat_size(nslots, pool_cap));
	}
	t = mlc_cat_new(nslots, (uint32) pool_cap, s->flags);
	to = mlc_cat_entries(t);
	slots = mlc_cat_slots(t);
	memcpy(mlc_cat_pool(t), mlc_cat_pool(s), s->pool_used);
	t->pool_used = s->pool_used;
	for (uint32 i = 0; i < s->nentries; i++)
	{
		const char *str = mlc_cat_entry_str(s, &from[i]);
		uint32		pos = hash_bytes((const unsigned char *) str, (int) from[i].len) & (nslots - 1);

		while (slots[pos] != -1)
			pos = (pos + 1) & (nslots - 1);
		slots[pos] = (int32) i;
		to[i] = from[i];
		if ((i & 0xFFFF) == 0)
			CHECK_FOR_INTERRUPTS();
	}
	t->nentries = s->nentries;
	return t;
}

/*
 * Add counts of a category to s, which may be replaced by a larger copy;
 * returns the (possibly new) state.
 */
static MlcCatState *
mlc_cat_add(MlcCatState *s, const char *str, uint32 len, int64 nref, int64 ncur)
{
	bool		found;
	uint32		pos = mlc_cat_find(s, str, len, &found);
	MlcCatEntry *e;

	if (!found)
	{
		if (s->nentries + 1 > s->nslots / 2 || (Size) s->pool_used + len > s->pool_cap)
		{
			s = mlc_cat_resize(s, len);
			pos = mlc_cat_find(s, str, len, &found);
		}
		e = &mlc_cat_entries(s)[s->nentries];
		e->offset = s->pool_used;
		e->len = len;
		e->nref = 0;
		e->ncur = 0;
		memcpy(mlc_cat_pool(s) + s->pool_used, str, len);
		s->pool_used += len;
		mlc_cat_slots(s)[pos] = (int32) s->nentries++;
	}
	e = &mlc_cat_entries(s)[mlc_cat_slots(s)[pos]];
	if (pg_add_s64_overflow(e->nref, nref, &e->nref) ||
		pg_add_s64_overflow(e->ncur, ncur, &e->ncur))
		mlc_state_corrupt("a count overflows");
	return s;
}

/* A copy of a categorical state (same sizes), for calls outside an aggregate */
static MlcCatState *
mlc_cat_copy(MlcCatState *s)
{
	MlcCatState *t = palloc(VARSIZE(s));

	memcpy(t, s, VARSIZE(s));
	return t;
}

/* Add one category to a categorical state (flags: MLC_CAT_*) */
static Datum
mlc_cat_count(FunctionCallInfo fcinfo, uint16 flags)
{
	MlcCatState *s = NULL;
	text	   *t;
	Size		len;

	if (!PG_ARGISNULL(0))
	{
		s = mlc_cat_check(mlc_state_arg(fcinfo, 0));
		if (s->flags != flags)
			mlc_option_changed("correction");
	}
	if (PG_ARGISNULL(1) || PG_ARGISNULL(2))
	{
		if (s == NULL)
			PG_RETURN_NULL();
		PG_RETURN_BYTEA_P(s);
	}
	t = PG_GETARG_TEXT_PP(1);
	len = VARSIZE_ANY_EXHDR(t);
	if (s == NULL)
		s = mlc_cat_new(MLC_CAT_INITIAL_SLOTS, Max(MLC_CAT_INITIAL_POOL, len), flags);
	else if (!mlc_in_aggregate(fcinfo))
		s = mlc_cat_copy(s);
	if (PG_GETARG_BOOL(2))
		s = mlc_cat_add(s, VARDATA_ANY(t), (uint32) len, 1, 0);
	else
		s = mlc_cat_add(s, VARDATA_ANY(t), (uint32) len, 0, 1);
	PG_RETURN_BYTEA_P(s);
}

/* Transition of ml_chi2_test, ml_chi2_contingency, ml_js_distance, ml_psi(text, bool) */
Datum
mlc_drift_cat_trans(PG_FUNCTION_ARGS)
{
	return mlc_cat_count(fcinfo, 0);
}

/* Transition of ml_chi2_contingency(category, is_reference, correction) */
Datum
mlc_drift_contingency_trans(PG_FUNCTION_ARGS)
{
	if (PG_ARGISNULL(3))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("correction must not be NULL"),
				 errhint("Pass true for Yates' correction on 2 x 2 tables (scipy's default), false for none.")));
	return mlc_cat_count(fcinfo, PG_GETARG_BOOL(3) ? 0 : MLC_CAT_NO_CORRECTION);
}

/* Combine two categorical states: the counts of the second added to the first */
Datum
mlc_drift_cat_combine(PG_FUNCTION_ARGS)
{
	MlcCatState *a = mlc_cat_check(mlc_state_arg(fcinfo, 0));
	MlcCatState *b = mlc_cat_check(mlc_state_arg(fcinfo, 1));
	MlcCatEntry *be = mlc_cat_entries(b);

	if (a->flags != b->flags)
		mlc_option_changed("correction");
	if (b->nentries == 0)
		PG_RETURN_BYTEA_P(a);
	if (!mlc_in_aggregate(fcinfo))
		a = mlc_cat_copy(a);
	for (uint32 i = 0; i < b->nentries; i++)
	{
		a = mlc_cat_add(a, mlc_cat_entry_str(b, &be[i]), be[i].len, be[i].nref, be[i].ncur);
		if ((i & 0xFFFF) == 0)
			CHECK_FOR_INTERRUPTS();
	}
	PG_RETURN_BYTEA_P(a);
}

/*
 * The categories of a state, checked in full and sorted byte-wise, as the
 * counts the statistics take (*k of them); also the totals and the number
 * of categories seen only in the current sample.
 */
static MlcCategoryCounts *
mlc_cat_counts(MlcCatState *s, int *k, int64 *nref, int64 *ncur)
{
	MlcCatEntry *e = mlc_cat_entries(s);
	Size		n = Max(s->nentries, 1);
	MlcCategory *cats = palloc_extended(sizeof(MlcCategory) * n, MCXT_ALLOC_HUGE);
	MlcCategoryCounts *c = palloc_extended(sizeof(MlcCategoryCounts) * n, MCXT_ALLOC_HUGE);

	*nref = 0;
	*ncur = 0;
	for (uint32 i = 0; i < s->nentries; i++)
	{
		cats[i].str = mlc_cat_entry_str(s, &e[i]);
		cats[i].len = e[i].len;
		cats[i].nref = e[i].nref;
		cats[i].ncur = e[i].ncur;
		if (e[i].nref < 0 || e[i].ncur < 0 || (e[i].nref == 0 && e[i].ncur == 0))
			mlc_state_corrupt("a category has an impossible count");
		if (pg_add_s64_overflow(*nref, e[i].nref, nref) ||
			pg_add_s64_overflow(*ncur, e[i].ncur, ncur))
			mlc_state_corrupt("a count overflows");
	}
	mlc_sort_categories(cats, s->nentries);
	for (uint32 i = 0; i < s->nentries; i++)
	{
		if (i > 0 && mlc_category_cmp(&cats[i - 1], &cats[i]) == 0)
			mlc_state_corrupt("a category appears twice");
		c[i].nref = cats[i].nref;
		c[i].ncur = cats[i].ncur;
	}
	pfree(cats);
	*k = (int) s->nentries;
	return c;
}

/* The state argument of a categorical final function, or NULL */
static MlcCatState *
mlc_cat_final_arg(FunctionCallInfo fcinfo)
{
	if (PG_ARGISNULL(0))
		return NULL;
	return mlc_cat_check(mlc_state_arg(fcinfo, 0));
}

/*
 * A chi-square result row: (statistic, df, p_value, n_reference, n_current,
 * unseen_categories); the test's fields are NULL when a sample is empty.
 */
static Datum
mlc_chi2_row(FunctionCallInfo fcinfo, bool contingency)
{
	MlcCatState *s = mlc_cat_final_arg(fcinfo);
	TupleDesc	tupdesc;
	Datum		values[6];
	bool		nulls[6] = {true, true, true, false, false, false};
	int64		nref = 0;
	int64		ncur = 0;
	int			unseen = 0;

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	tupdesc = BlessTupleDesc(tupdesc);
	if (s != NULL)
	{
		int			k;
		MlcCategoryCounts *c = mlc_cat_counts(s, &k, &nref, &ncur);

		for (int i = 0; i < k; i++)
			if (c[i].nref == 0)
				unseen++;
		if (nref > 0 && ncur > 0)
		{
			MlcChi2Result r = contingency ?
				mlc_chi2_contingency(c, k, !(s->flags & MLC_CAT_NO_CORRECTION)) :
				mlc_chi2_gof(c, k);

			values[0] = Float8GetDatum(r.statistic);
			values[1] = Int32GetDatum(r.df);
			values[2] = Float8GetDatum(r.p_value);
			nulls[0] = nulls[1] = nulls[2] = false;
		}
	}
	values[3] = Int64GetDatum(nref);
	values[4] = Int64GetDatum(ncur);
	values[5] = Int32GetDatum(unseen);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}

/* Final of ml_chi2_test: goodness of fit of the current sample */
Datum
mlc_drift_chi2_final(PG_FUNCTION_ARGS)
{
	return mlc_chi2_row(fcinfo, false);
}

/* Final of ml_chi2_contingency: the 2 x k contingency test */
Datum
mlc_drift_contingency_final(PG_FUNCTION_ARGS)
{
	return mlc_chi2_row(fcinfo, true);
}

/* Final of ml_js_distance: NULL when a sample is empty */
Datum
mlc_drift_js_final(PG_FUNCTION_ARGS)
{
	MlcCatState *s = mlc_cat_final_arg(fcinfo);
	MlcCategoryCounts *c;
	int			k;
	int64		nref;
	int64		ncur;

	if (s == NULL)
		PG_RETURN_NULL();
	c = mlc_cat_counts(s, &k, &nref, &ncur);
	if (nref == 0 || ncur == 0)
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(mlc_js_distance(c, k));
}

/* Final of ml_psi on categories: one bin per category; NULL when a sample is empty */
Datum
mlc_drift_cat_psi_final(PG_FUNCTION_ARGS)
{
	MlcCatState *s = mlc_cat_final_arg(fcinfo);
	MlcCategoryCounts *c;
	int64	   *rc;
	int64	   *cc;
	int			k;
	int64		nref;
	int64		ncur;

	if (s == NULL)
		PG_RETURN_NULL();
	c = mlc_cat_counts(s, &k, &nref, &ncur);
	if (nref == 0 || ncur == 0)
		PG_RETURN_NULL();
	rc = palloc_extended(sizeof(int64) * Max(k, 1), MCXT_ALLOC_HUGE);
	cc = palloc_extended(sizeof(int64) * Max(k, 1), MCXT_ALLOC_HUGE);
	for (int i = 0; i < k; i++)
	{
		rc[i] = c[i].nref;
		cc[i] = c[i].ncur;
	}
	PG_RETURN_FLOAT8(mlc_psi_from_counts(rc, cc, k, nref, ncur));
}

/* ------------------------------------------------------------------------
 * Distributions, for SQL
 * ------------------------------------------------------------------------
 */

/* mlcycle.kstwo_sf(statistic, n): scipy.stats.kstwo.sf */
Datum
mlc_drift_kstwo_sf(PG_FUNCTION_ARGS)
{
	double		d = PG_GETARG_FLOAT8(0);
	int64		n = PG_GETARG_INT64(1);

	if (n < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("n must be at least 1, not " INT64_FORMAT, n),
				 errhint("n is the sample size of the one-sample statistic.")));
	PG_RETURN_FLOAT8(mlc_kstwo_sf(n, d));
}

/* mlcycle.kolmogorov_sf(x): scipy.stats.kstwobign.sf */
Datum
mlc_drift_kolmogorov_sf(PG_FUNCTION_ARGS)
{
	PG_RETURN_FLOAT8(mlc_kolmogorov_sf(PG_GETARG_FLOAT8(0)));
}

/* mlcycle.chi2_sf(x, df): scipy.stats.chi2.sf */
Datum
mlc_drift_chi2_sf(PG_FUNCTION_ARGS)
{
	double		x = PG_GETARG_FLOAT8(0);
	double		df = PG_GETARG_FLOAT8(1);

	if (!(df > 0.0) || !isfinite(df))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("degrees of freedom must be a positive finite number"),
				 errhint("Pass df > 0.")));
	PG_RETURN_FLOAT8(mlc_chi2_sf(x, df));
}
