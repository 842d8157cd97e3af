/*
 * sketch.c
 *	  Mergeable column summaries as bytea aggregate states (ml_summary,
 *	  ml_summary_sketch, ml_category_sketch and their readers): counts,
 *	  moments, exact values or a deterministic compactor quantile sketch with a
 *	  tracked rank-error bound, heavy hitters and HyperLogLog distinct counts.
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "fmgr.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/jsonb.h"

#include "drift_stats.h"
#include "mlcycle.h"
#include "sketch.h"

#define ST_SORT mlc_sketch_sort
#define ST_ELEMENT_TYPE double
#define ST_COMPARE(a, b) ((*(a) > *(b)) - (*(a) < *(b)))
#define ST_CHECK_FOR_INTERRUPTS
#define ST_SCOPE static
#define ST_DECLARE
#define ST_DEFINE
#include "lib/sort_template.h"

#define MLC_NS_MAGIC		0x4E534C4D	/* "MLSN" */
#define MLC_FS_MAGIC		0x46534C4D	/* "MLSF" */
#define MLC_SKETCH_VERSION	1

#define MLC_NS_SKETCH		0x0001	/* quantile sketch and HLL, not exact values */
#define MLC_FS_HLL			0x0001	/* HLL registers present */
#define MLC_FS_PRUNED		0x0002	/* counts were decremented: heavy hitters */

#define MLC_NS_MAX_LEVELS	40
#define MLC_NS_LEVEL_CAP	(2 * MLC_SKETCH_K)
#define MLC_NS_INITIAL		64
#define MLC_HLL_M			(1 << MLC_HLL_P)
#define MLC_HLL_MAXRANK		(64 - MLC_HLL_P + 1)

/* categories kept after a heavy-hitter prune; stored bytes of one category */
#define MLC_FREQ_KEEP		(MLC_FREQ_EXACT_MAX / 2)
#define MLC_FREQ_MAX_BYTES	200

/*
 * Numeric summary.  Exact mode: data[] holds the n finite values.  Sketch
 * mode: data[] holds the HLL registers (MLC_HLL_M bytes: every value but those
 * still in level 0), then nlevels levels of MLC_NS_LEVEL_CAP doubles; an item
 * of level h stands for 2^h values.
 */
typedef struct MlcNumSummary
{
	int32		vl_len_;
	uint32		magic;
	uint16		version;
	uint16		flags;
	int32		nlevels;
	int64		rows;
	int64		nulls;
	int64		nan;
	int64		posinf;
	int64		neginf;
	int64		n;
	int64		zeros;
	double		mean;
	double		m2;				/* sums of powers of deviations from the mean */
	double		m3;
	double		m4;
	double		min;
	double		max;
	double		rank_err;		/* sum over compactions of the compacted items' weight */
	int64		capacity;		/* exact mode: length of data[] */
	uint64		toggles;		/* bit h: offset of level h's next compaction */
	int32		level_n[MLC_NS_MAX_LEVELS];
	double		data[FLEXIBLE_ARRAY_MEMBER];
} MlcNumSummary;

#define MLC_NS_HEADER offsetof(MlcNumSummary, data)
StaticAssertDecl(offsetof(MlcNumSummary, data) == 304, "numeric summary header is 304 bytes");

/*
 * Categorical summary: after the header, the HLL registers when MLC_FS_HLL,
 * then int32 slots[nslots] (-1 empty), MlcFreqEntry entries[nslots / 2] and
 * pool_cap bytes of category text.  Categories are identified by a 64-bit
 * hash; the first MLC_FREQ_MAX_BYTES bytes are kept for display.
 */
typedef struct MlcFreqSummary
{
	int32		vl_len_;
	uint32		magic;
	uint16		version;
	uint16		flags;
	uint32		nslots;
	uint32		nentries;
	uint32		pool_cap;
	uint32		pool_used;
	uint32		reserved;
	int64		rows;
	int64		nulls;
	int64		decrement;		/* total subtracted from every count by prunes */
} MlcFreqSummary;

typedef struct MlcFreqEntry
{
	uint64		hash;
	uint32		offset;
	uint32		len;
	int64		count;
} MlcFreqEntry;

StaticAssertDecl(sizeof(MlcFreqSummary) == 56, "categorical summary header is 56 bytes");
StaticAssertDecl(sizeof(MlcFreqEntry) == 24, "categorical entries are 24 bytes");

PG_FUNCTION_INFO_V1(mlc_summary_trans);
PG_FUNCTION_INFO_V1(mlc_summary_combine);
PG_FUNCTION_INFO_V1(mlc_summary_final);
PG_FUNCTION_INFO_V1(mlc_summary_quantiles);
PG_FUNCTION_INFO_V1(mlc_freq_trans);
PG_FUNCTION_INFO_V1(mlc_freq_combine);
PG_FUNCTION_INFO_V1(mlc_sketch_top_values);
PG_FUNCTION_INFO_V1(mlc_sketch_distinct);
PG_FUNCTION_INFO_V1(mlc_sketch_merge_trans);

/* ------------------------------------------------------------------------
 * Shared helpers
 * ------------------------------------------------------------------------
 */

static void
mlc_sketch_corrupt(const char *what)
{
	ereport(ERROR,
			(errcode(ERRCODE_DATA_CORRUPTED),
			 errmsg("invalid summary sketch: %s", what),
			 errhint("Pass only states made by ml_summary_sketch or ml_category_sketch of this mlcycle version.")));
}

/* A state argument, detoasted and 8-byte aligned */
bytea *
mlc_sketch_state_arg(FunctionCallInfo fcinfo, int argno)
{
	struct varlena *v = (struct varlena *) PG_GETARG_POINTER(argno);
	bytea	   *b = VARATT_IS_EXTENDED(v) ? (bytea *) pg_detoast_datum(v) : v;

	if (((uintptr_t) b) % MAXIMUM_ALIGNOF != 0)
	{
		bytea	   *copy = palloc(VARSIZE(b));

		memcpy(copy, b, VARSIZE(b));
		b = copy;
	}
	return b;
}

/* A copy of a state in the current memory context */
static void *
mlc_sketch_copy(const void *s)
{
	void	   *c = palloc(VARSIZE(s));

	memcpy(c, s, VARSIZE(s));
	return c;
}

/* splitmix64's finalizer: a bijective 64-bit mix */
static inline uint64
mlc_mix64(uint64 x)
{
	x ^= x >> 30;
	x *= UINT64CONST(0xbf58476d1ce4e5b9);
	x ^= x >> 27;
	x *= UINT64CONST(0x94d049bb133111eb);
	x ^= x >> 31;
	return x;
}

/* Hash of a finite double; 0 and -0 hash alike */
static inline uint64
mlc_hash_double(double v)
{
	uint64		bits;

	if (v == 0.0)
		v = 0.0;
	memcpy(&bits, &v, sizeof(bits));
	return mlc_mix64(bits + UINT64CONST(0x9E3779B97F4A7C15));
}

/* Record a 64-bit hash in HyperLogLog registers */
static inline void
mlc_hll_add(uint8 *reg, uint64 h)
{
	uint32		idx = (uint32) (h >> (64 - MLC_HLL_P));
	uint64		w = h << MLC_HLL_P;
	uint8		rank = (w == 0) ? MLC_HLL_MAXRANK : (uint8) (__builtin_clzll(w) + 1);

	if (rank > reg[idx])
		reg[idx] = rank;
}

/* Ertl's sigma and tau corrections of the improved HLL estimator */
static double
mlc_hll_sigma(double x)
{
	double		y = 1.0;
	double		z = x;
	double		zprev;

	if (x == 1.0)
		return INFINITY;
	do
	{
		x *= x;
		zprev = z;
		z += x * y;
		y += y;
	} while (z != zprev);
	return z;
}

static double
mlc_hll_tau(double x)
{
	double		y = 1.0;
	double		z;
	double		zprev;

	if (x == 0.0 || x == 1.0)
		return 0.0;
	z = 1.0 - x;
	do
	{
		x = sqrt(x);
		zprev = z;
		y *= 0.5;
		z -= (1.0 - x) * (1.0 - x) * y;
	} while (z != zprev);
	return z / 3.0;
}

/* Cardinality estimate of HLL registers (Ertl 2017, no bias tables); checks them */
static double
mlc_hll_estimate(const uint8 *reg)
{
	int			c[MLC_HLL_MAXRANK + 1] = {0};
	double		m = MLC_HLL_M;
	double		z;

	for (int i = 0; i < MLC_HLL_M; i++)
	{
		if (reg[i] > MLC_HLL_MAXRANK)
			mlc_sketch_corrupt("HyperLogLog register out of range");
		c[reg[i]]++;
	}
	if (c[0] == MLC_HLL_M)
		return 0.0;
	z = m * mlc_hll_tau(1.0 - c[MLC_HLL_MAXRANK] / m);
	for (int k = MLC_HLL_MAXRANK - 1; k >= 1; k--)
		z = 0.5 * (z + c[k]);
	z += m * mlc_hll_sigma(c[0] / m);
	return (m * m / (2.0 * log(2.0))) / z;
}

/* Most bytes a summary may take: mlcycle.max_train_memory, at most 1 GB */
static void
mlc_sketch_check_size(Size size)
{
	double		budget = Min((double) mlc_max_train_memory_kb * 1024.0, (double) MaxAllocSize);

	if ((double) size > budget)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("summary sketch would exceed its memory limit"),
				 errdetail("It would take %zu bytes; mlcycle.max_train_memory is %d kB.",
						   size, mlc_max_train_memory_kb),
				 errhint("Raise mlcycle.max_train_memory.")));
}

/* ------------------------------------------------------------------------
 * Numeric summary: layout
 * ------------------------------------------------------------------------
 */

static inline uint8 *
mlc_ns_hll(MlcNumSummary *s)
{
	return (uint8 *) s->data;
}

static inline double *
mlc_ns_level(MlcNumSummary *s, int h)
{
	return s->data + MLC_HLL_M / sizeof(double) + (Size) h * MLC_NS_LEVEL_CAP;
}

static Size
mlc_ns_sketch_size(int nlevels)
{
	return MLC_NS_HEADER + MLC_HLL_M + (Size) nlevels * MLC_NS_LEVEL_CAP * sizeof(double);
}

/* Check that every level's count fits its storage */
static void
mlc_ns_check_levels(const MlcNumSummary *s)
{
	for (int h = 0; h < MLC_NS_MAX_LEVELS; h++)
		if (s->level_n[h] < 0 || s->level_n[h] >= MLC_NS_LEVEL_CAP ||
			(h >= s->nlevels && s->level_n[h] != 0))
			mlc_sketch_corrupt("level out of range");
}

/*
 * Check a numeric summary's header and lengths; full also checks every
 * level's count against n (O(levels): readers and merges, not every row).
 */
static MlcNumSummary *
mlc_ns_check_state(bytea *b, bool full)
{
	MlcNumSummary *s = (MlcNumSummary *) b;
	Size		size = VARSIZE(b);

	if (size < MLC_NS_HEADER)
		mlc_sketch_corrupt("too short");
	if (s->magic != MLC_NS_MAGIC)
		mlc_sketch_corrupt("not a numeric summary");
	if (s->version != MLC_SKETCH_VERSION)
		mlc_sketch_corrupt("unsupported format version");
	if ((s->flags & ~MLC_NS_SKETCH) != 0)
		mlc_sketch_corrupt("unknown flags");
	if (s->n < 0 || s->nulls < 0 || s->nan < 0 || s->posinf < 0 || s->neginf < 0 ||
		s->zeros < 0 || s->zeros > s->n ||
		s->rows != s->n + s->nulls + s->nan + s->posinf + s->neginf)
		mlc_sketch_corrupt("inconsistent counts");
	if (s->flags & MLC_NS_SKETCH)
	{
		int64		w = 0;

		if (s->nlevels < 1 || s->nlevels > MLC_NS_MAX_LEVELS ||
			size != mlc_ns_sketch_size(s->nlevels))
			mlc_sketch_corrupt("length does not match the levels");
		/* a row writes level 0 only; compaction checks the rest first */
		if (s->level_n[0] < 0 || s->level_n[0] >= MLC_NS_LEVEL_CAP)
			mlc_sketch_corrupt("level out of range");
		if (!full)
			return s;
		mlc_ns_check_levels(s);
		for (int h = 0; h < MLC_NS_MAX_LEVELS; h++)
			w += (int64) s->level_n[h] << h;
		if (w != s->n)
			mlc_sketch_corrupt("sketch weight does not match the count");
	}
	else if (s->capacity < s->n || s->capacity > MLC_SKETCH_EXACT_MAX ||
			 size != MLC_NS_HEADER + (Size) s->capacity * sizeof(double))
		mlc_sketch_corrupt("length does not match the capacity");
	return s;
}

static MlcNumSummary *
mlc_ns_check(bytea *b)
{
	return mlc_ns_check_state(b, true);
}

/* A new, empty exact summary with room for capacity values */
static MlcNumSummary *
mlc_ns_new_exact(int64 capacity)
{
	Size		size = MLC_NS_HEADER + (Size) capacity * sizeof(double);
	MlcNumSummary *s = palloc0(size);

	SET_VARSIZE(s, size);
	s->magic = MLC_NS_MAGIC;
	s->version = MLC_SKETCH_VERSION;
	s->capacity = capacity;
	s->min = INFINITY;
	s->max = -INFINITY;
	return s;
}

/* A copy of s's counts and moments with sketch storage of nlevels levels */
static MlcNumSummary *
mlc_ns_new_sketch(const MlcNumSummary *s, int nlevels)
{
	Size		size = mlc_ns_sketch_size(nlevels);
	MlcNumSummary *t;

	mlc_sketch_check_size(size);
	t = palloc0(size);
	memcpy(t, s, MLC_NS_HEADER);
	SET_VARSIZE(t, size);
	t->flags = MLC_NS_SKETCH;
	t->nlevels = nlevels;
	t->capacity = 0;
	return t;
}

/* A sketch state with one more level (levels' contents copied) */
static MlcNumSummary *
mlc_ns_add_level(MlcNumSummary *s)
{
	MlcNumSummary *t;

	if (s->nlevels >= MLC_NS_MAX_LEVELS)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("summary sketch cannot hold more values")));
	t = mlc_ns_new_sketch(s, s->nlevels + 1);
	memcpy(t->data, s->data, VARSIZE(s) - MLC_NS_HEADER);
	return t;
}

/* ------------------------------------------------------------------------
 * Numeric summary: the compactor sketch
 * ------------------------------------------------------------------------
 */

/*
 * Record m values in HLL registers.  A sketch's registers cover every value
 * except those still in level 0: they are hashed in one batch when level 0 is
 * compacted (registers in L1 cache, not one miss per row), and readers add
 * level 0 themselves.  Registers keep maxima, so a value counted twice (a
 * state of an earlier build) changes nothing.
 */
static void
mlc_ns_hll_add_values(uint8 *reg, const double *v, int m)
{
	for (int i = 0; i < m; i++)
		mlc_hll_add(reg, mlc_hash_double(v[i]));
}

/* An unsigned key with the order of a double (finite values and infinities) */
static inline uint64
mlc_double_key(double v)
{
	uint64		b;

	memcpy(&b, &v, sizeof(b));
	return (b & UINT64CONST(0x8000000000000000)) ? ~b : b | UINT64CONST(0x8000000000000000);
}

static inline double
mlc_key_double(uint64 k)
{
	uint64		b = (k & UINT64CONST(0x8000000000000000)) ? k & ~UINT64CONST(0x8000000000000000) : ~k;
	double		v;

	memcpy(&v, &b, sizeof(v));
	return v;
}

/* radix sort digits: 6 passes of 11 bits cover a 64-bit key */
#define MLC_RADIX_BITS		11
#define MLC_RADIX_PASSES	6
#define MLC_RADIX_MASK		((1 << MLC_RADIX_BITS) - 1)
/* most items one sort takes: its counters are 16 bits (a merge sorts < 3 levels) */
#define MLC_RADIX_MAX		65535

/*
 * Sort m doubles by an LSD radix sort on their order-preserving keys, 11
 * bits per pass (the six histograms, 24 kB, are made in one pass and stay in
 * L1); passes where every key has the same digit are skipped.  No
 * comparisons, so no mispredicted branches: the sketch's hot path.  With reg,
 * also record the values in HLL registers, once per run of equal values.
 */
static void
mlc_radix_sort_hll(double *a, int m, uint8 *reg)
{
	uint64	   *src;
	uint64	   *dst;
	uint16		counts[MLC_RADIX_PASSES][1 << MLC_RADIX_BITS];

	if (m < 2)
	{
		if (reg != NULL)
			mlc_ns_hll_add_values(reg, a, m);
		return;
	}
	if (m > MLC_RADIX_MAX)
		elog(ERROR, "mlcycle: radix sort of %d items", m);
	src = palloc(2 * (Size) m * sizeof(uint64));
	dst = src + m;
	memset(counts, 0, sizeof(counts));
	/* the registers were likely evicted since the last compaction: fetch them during the sort */
	if (reg != NULL)
		for (int i = 0; i < MLC_HLL_M; i += 64)
			__builtin_prefetch(reg + i, 1);
	for (int i = 0; i < m; i++)
	{
		uint64		k = mlc_double_key(a[i]);

		src[i] = k;
		counts[0][k & MLC_RADIX_MASK]++;
		counts[1][(k >> 11) & MLC_RADIX_MASK]++;
		counts[2][(k >> 22) & MLC_RADIX_MASK]++;
		counts[3][(k >> 33) & MLC_RADIX_MASK]++;
		counts[4][(k >> 44) & MLC_RADIX_MASK]++;
		counts[5][k >> 55]++;
	}
	for (int p = 0; p < MLC_RADIX_PASSES; p++)
	{
		int			shift = MLC_RADIX_BITS * p;
		uint16	   *c = counts[p];
		int			pos = 0;
		uint64	   *t;

		if (c[(src[0] >> shift) & MLC_RADIX_MASK] == m)
			continue;
		for (int d = 0; d <= MLC_RADIX_MASK; d++)
		{
			int			n = c[d];

			c[d] = pos;
			pos += n;
		}
		for (int i = 0; i < m; i++)
			dst[c[(src[i] >> shift) & MLC_RADIX_MASK]++] = src[i];
		t = src;
		src = dst;
		dst = t;
	}
	for (int i = 0; i < m; i++)
		a[i] = mlc_key_double(src[i]);
	/* sorted: a value equal to the one before it hashes alike */
	if (reg != NULL)
		for (int i = 0; i < m; i++)
			if (i == 0 || src[i] != src[i - 1])
				mlc_hll_add(reg, mlc_hash_double(a[i]));
	pfree(Min(src, dst));
}

static inline void
mlc_radix_sort(double *a, int m)
{
	mlc_radix_sort_hll(a, m, NULL);
}

/*
 * Sort m doubles: a level above 0 usually holds two sorted runs (the halves
 * promoted by two compactions below), which one merge pass sorts; anything
 * else goes through the radix sort.
 */
static void
mlc_level_sort(double *a, int m)
{
	int			split = 1;
	double	   *tmp;
	int			i,
				j,
				k;

	while (split < m && a[split - 1] <= a[split])
		split++;
	if (split == m)
		return;
	for (i = split + 1; i < m; i++)
		if (a[i - 1] > a[i])
		{
			mlc_radix_sort(a, m);
			return;
		}
	tmp = palloc(m * sizeof(double));
	/* branch-free merge: which run gives the next item is a coin toss */
	for (i = 0, j = split, k = 0; i < split && j < m; k++)
	{
		double		x = a[i];
		double		y = a[j];
		bool		left = x <= y;

		tmp[k] = left ? x : y;
		i += left;
		j += !left;
	}
	while (i < split)
		tmp[k++] = a[i++];
	while (j < m)
		tmp[k++] = a[j++];
	memcpy(a, tmp, m * sizeof(double));
	pfree(tmp);
}

/*
 * Compact level h: sort it, keep one item when the count is odd (the
 * largest), and promote every other item of the rest (alternating offsets)
 * to level h + 1.  Any rank changes by at most 2^h, which rank_err adds up.
 */
static void
mlc_ns_compact_level(MlcNumSummary *s, int h)
{
	double	   *items = mlc_ns_level(s, h);
	double	   *up = mlc_ns_level(s, h + 1);
	int			m = s->level_n[h];
	int			pairs = m / 2;
	int			off = (int) ((s->toggles >> h) & 1);

	if (h == 0)
		mlc_radix_sort_hll(items, m, mlc_ns_hll(s));
	else
		mlc_level_sort(items, m);
	for (int i = 0; i < pairs; i++)
		up[s->level_n[h + 1] + i] = items[2 * i + off];
	s->level_n[h + 1] += pairs;
	if (m % 2)
		items[0] = items[m - 1];
	s->level_n[h] = m % 2;
	s->toggles ^= UINT64CONST(1) << h;
	s->rank_err += ldexp(1.0, h);
}

/* Compact every level that reached MLC_SKETCH_K items, bottom up */
static MlcNumSummary *
mlc_ns_compact(MlcNumSummary *s)
{
	mlc_ns_check_levels(s);
	for (int h = 0; h < s->nlevels; h++)
	{
		if (s->level_n[h] < MLC_SKETCH_K)
			continue;
		if (h + 1 == s->nlevels)
			s = mlc_ns_add_level(s);
		mlc_ns_compact_level(s, h);
	}
	return s;
}

/* Insert a finite value into the sketch part (level 0; HLL when it is compacted) */
static inline MlcNumSummary *
mlc_ns_sketch_insert(MlcNumSummary *s, double v)
{
	double	   *level0 = mlc_ns_level(s, 0);

	/* the next cache line of level 0, ready when this one is full */
	__builtin_prefetch(level0 + s->level_n[0] + 8, 1);
	level0[s->level_n[0]++] = v;
	if (s->level_n[0] >= MLC_SKETCH_K)
		s = mlc_ns_compact(s);
	return s;
}

/* An exact summary turned into a sketch holding the same values */
static MlcNumSummary *
mlc_ns_to_sketch(const MlcNumSummary *s)
{
	MlcNumSummary *t = mlc_ns_new_sketch(s, 2);

	for (int64 i = 0; i < s->n; i++)
	{
		if ((i & 0xFFFF) == 0)
			CHECK_FOR_INTERRUPTS();
		t = mlc_ns_sketch_insert(t, s->data[i]);
	}
	return t;
}

/* ------------------------------------------------------------------------
 * Numeric summary: adding and merging
 * ------------------------------------------------------------------------
 */

/* Update counts and moments with a finite value (Terriberry's one-pass update) */
static inline void
mlc_ns_moments_add(MlcNumSummary *s, double v)
{
	double		n1 = (double) s->n;
	double		n = n1 + 1.0;
	double		delta = v - s->mean;
	double		dn = delta / n;
	double		dn2 = dn * dn;
	double		term1 = delta * dn * n1;

	s->mean += dn;
	s->m4 += term1 * dn2 * (n * n - 3.0 * n + 3.0) + 6.0 * dn2 * s->m2 - 4.0 * dn * s->m3;
	s->m3 += term1 * dn * (n - 2.0) - 3.0 * dn * s->m2;
	s->m2 += term1;
	if (v < s->min)
		s->min = v;
	if (v > s->max)
		s->max = v;
	if (v == 0.0)
		s->zeros++;
}

/* Add a finite value; the state may move */
static MlcNumSummary *
mlc_ns_add_finite(MlcNumSummary *s, double v)
{
	if (!(s->flags & MLC_NS_SKETCH))
	{
		if (s->n == s->capacity)
		{
			MlcNumSummary *t;

			if (s->capacity >= MLC_SKETCH_EXACT_MAX)
				s = mlc_ns_to_sketch(s);
			else
			{
				t = mlc_ns_new_exact(Min(Max(2 * s->capacity, MLC_NS_INITIAL), MLC_SKETCH_EXACT_MAX));
				memcpy(t, s, MLC_NS_HEADER);
				t->capacity = Min(Max(2 * s->capacity, MLC_NS_INITIAL), MLC_SKETCH_EXACT_MAX);
				SET_VARSIZE(t, MLC_NS_HEADER + (Size) t->capacity * sizeof(double));
				memcpy(t->data, s->data, s->n * sizeof(double));
				s = t;
			}
		}
		if (!(s->flags & MLC_NS_SKETCH))
			s->data[s->n] = v;
		else
			s = mlc_ns_sketch_insert(s, v);
	}
	else
		s = mlc_ns_sketch_insert(s, v);
	mlc_ns_moments_add(s, v);
	s->n++;
	s->rows++;
	return s;
}

/* Transition of ml_summary and ml_summary_sketch: one value, NULL counted */
Datum
mlc_summary_trans(PG_FUNCTION_ARGS)
{
	MlcNumSummary *s;
	double		v;

	if (PG_ARGISNULL(0))
		s = mlc_ns_new_exact(MLC_NS_INITIAL);
	else
	{
		/* the level counts are checked when the state is read or merged */
		s = mlc_ns_check_state(mlc_sketch_state_arg(fcinfo, 0), false);
		if (!AggCheckCallContext(fcinfo, NULL))
			s = mlc_sketch_copy(mlc_ns_check((bytea *) s));
	}
	if (PG_ARGISNULL(1))
	{
		s->nulls++;
		s->rows++;
		PG_RETURN_BYTEA_P(s);
	}
	v = PG_GETARG_FLOAT8(1);
	if (isnan(v))
		s->nan++;
	else if (isinf(v))
	{
		if (v > 0)
			s->posinf++;
		else
			s->neginf++;
	}
	else
		PG_RETURN_BYTEA_P(mlc_ns_add_finite(s, v));
	s->rows++;
	PG_RETURN_BYTEA_P(s);
}

/* Merge two sketches' levels into a new sketch state with t's counts */
static MlcNumSummary *
mlc_ns_merge_sketches(MlcNumSummary *a, MlcNumSummary *b, const MlcNumSummary *counts)
{
	double	   *lev[MLC_NS_MAX_LEVELS + 1];
	int			nlev[MLC_NS_MAX_LEVELS + 1] = {0};
	double	   *carry = NULL;
	int			ncarry = 0;
	int			top = 0;
	uint64		toggles = a->toggles;
	double		err = 0.0;
	uint8	   *hll0 = palloc0(MLC_HLL_M);	/* level-0 values compacted here */
	MlcNumSummary *t;

	for (int h = 0; h < MLC_NS_MAX_LEVELS; h++)
	{
		int			na = h < a->nlevels ? a->level_n[h] : 0;
		int			nb = h < b->nlevels ? b->level_n[h] : 0;
		int			m = na + nb + ncarry;
		double	   *cur;

		lev[h] = NULL;
		if (m == 0)
			continue;
		cur = palloc(m * sizeof(double));
		if (na)
			memcpy(cur, mlc_ns_level(a, h), na * sizeof(double));
		if (nb)
			memcpy(cur + na, mlc_ns_level(b, h), nb * sizeof(double));
		if (ncarry)
			memcpy(cur + na + nb, carry, ncarry * sizeof(double));
		ncarry = 0;
		if (m >= MLC_SKETCH_K)
		{
			int			off = (int) ((toggles >> h) & 1);

			if (h + 1 >= MLC_NS_MAX_LEVELS)
				ereport(ERROR,
						(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
						 errmsg("summary sketch cannot hold more values")));
			mlc_radix_sort_hll(cur, m, h == 0 ? hll0 : NULL);
			carry = palloc((m / 2) * sizeof(double));
			for (int i = 0; i < m / 2; i++)
				carry[i] = cur[2 * i + off];
			ncarry = m / 2;
			if (m % 2)
				cur[0] = cur[m - 1];
			m = m % 2;
			toggles ^= UINT64CONST(1) << h;
			err += ldexp(1.0, h);
		}
		lev[h] = cur;
		nlev[h] = m;
		if (m > 0 || ncarry > 0)
			top = h + (ncarry > 0 ? 1 : 0);
	}
	t = mlc_ns_new_sketch(counts, Max(top + 1, 2));
	t->toggles = toggles;
	t->rank_err = a->rank_err + b->rank_err + err;
	memset(t->level_n, 0, sizeof(t->level_n));
	for (int h = 0; h < t->nlevels; h++)
	{
		if (nlev[h] > 0)
			memcpy(mlc_ns_level(t, h), lev[h], nlev[h] * sizeof(double));
		t->level_n[h] = nlev[h];
	}
	for (int i = 0; i < MLC_HLL_M; i++)
		mlc_ns_hll(t)[i] = Max(Max(mlc_ns_hll(a)[i], mlc_ns_hll(b)[i]), hll0[i]);
	pfree(hll0);
	return t;
}

/* Counts and moments of a and b together (Chan / Pebay pairwise formulas) */
static void
mlc_ns_merge_moments(MlcNumSummary *r, const MlcNumSummary *a, const MlcNumSummary *b)
{
	double		na = (double) a->n;
	double		nb = (double) b->n;
	double		n = na + nb;

	memcpy(r, a, MLC_NS_HEADER);
	r->rows = a->rows + b->rows;
	r->nulls = a->nulls + b->nulls;
	r->nan = a->nan + b->nan;
	r->posinf = a->posinf + b->posinf;
	r->neginf = a->neginf + b->neginf;
	r->n = a->n + b->n;
	r->zeros = a->zeros + b->zeros;
	r->min = Min(a->min, b->min);
	r->max = Max(a->max, b->max);
	if (b->n == 0)
		return;
	if (a->n == 0)
	{
		r->mean = b->mean;
		r->m2 = b->m2;
		r->m3 = b->m3;
		r->m4 = b->m4;
		return;
	}
	{
		double		d = b->mean - a->mean;
		double		d2 = d * d;

		r->mean = a->mean + d * nb / n;
		r->m2 = a->m2 + b->m2 + d2 * na * nb / n;
		r->m3 = a->m3 + b->m3 + d2 * d * na * nb * (na - nb) / (n * n) +
			3.0 * d * (na * b->m2 - nb * a->m2) / n;
		r->m4 = a->m4 + b->m4 + d2 * d2 * na * nb * (na * na - na * nb + nb * nb) / (n * n * n) +
			6.0 * d2 * (na * na * b->m2 + nb * nb * a->m2) / (n * n) +
			4.0 * d * (na * b->m3 - nb * a->m3) / n;
	}
}

/* Merge two numeric summaries into a new one */
static MlcNumSummary *
mlc_ns_merge(MlcNumSummary *a, MlcNumSummary *b)
{
	MlcNumSummary counts;
	MlcNumSummary *t;

	mlc_ns_merge_moments(&counts, a, b);
	if (!(a->flags & MLC_NS_SKETCH) && !(b->flags & MLC_NS_SKETCH) &&
		a->n + b->n <= MLC_SKETCH_EXACT_MAX)
	{
		int64		cap = Max(a->n + b->n, 1);

		t = mlc_ns_new_exact(cap);
		memcpy(t, &counts, MLC_NS_HEADER);
		SET_VARSIZE(t, MLC_NS_HEADER + (Size) cap * sizeof(double));
		t->flags = 0;
		t->capacity = cap;
		memcpy(t->data, a->data, a->n * sizeof(double));
		memcpy(t->data + a->n, b->data, b->n * sizeof(double));
		return t;
	}
	if (!(a->flags & MLC_NS_SKETCH))
		a = mlc_ns_to_sketch(a);
	if (!(b->flags & MLC_NS_SKETCH))
		b = mlc_ns_to_sketch(b);
	return mlc_ns_merge_sketches(a, b, &counts);
}

/* ------------------------------------------------------------------------
 * Categorical summary
 * ------------------------------------------------------------------------
 */

static inline uint8 *
mlc_fs_hll(MlcFreqSummary *s)
{
	return (uint8 *) s + sizeof(MlcFreqSummary);
}

static inline int32 *
mlc_fs_slots(MlcFreqSummary *s)
{
	return (int32 *) ((char *) s + sizeof(MlcFreqSummary) +
					  ((s->flags & MLC_FS_HLL) ? MLC_HLL_M : 0));
}

static inline MlcFreqEntry *
mlc_fs_entries(MlcFreqSummary *s)
{
	return (MlcFreqEntry *) (mlc_fs_slots(s) + s->nslots);
}

static inline char *
mlc_fs_pool(MlcFreqSummary *s)
{
	return (char *) (mlc_fs_entries(s) + s->nslots / 2);
}

static Size
mlc_fs_size(uint32 nslots, uint32 pool_cap, bool hll)
{
	return sizeof(MlcFreqSummary) + (hll ? MLC_HLL_M : 0) + (Size) nslots * sizeof(int32) +
		(Size) (nslots / 2) * sizeof(MlcFreqEntry) + pool_cap;
}

/* Check a categorical summary's header and lengths */
static MlcFreqSummary *
mlc_fs_check(bytea *b)
{
	MlcFreqSummary *s = (MlcFreqSummary *) b;

	if (VARSIZE(b) < sizeof(MlcFreqSummary))
		mlc_sketch_corrupt("too short");
	if (s->magic != MLC_FS_MAGIC)
		mlc_sketch_corrupt("not a categorical summary");
	if (s->version != MLC_SKETCH_VERSION)
		mlc_sketch_corrupt("unsupported format version");
	if ((s->flags & ~(MLC_FS_HLL | MLC_FS_PRUNED)) != 0 ||
		((s->flags & MLC_FS_PRUNED) && !(s->flags & MLC_FS_HLL)))
		mlc_sketch_corrupt("unknown flags");
	if (s->nslots < 16 || s->nslots > (1 << 20) || (s->nslots & (s->nslots - 1)) != 0 ||
		s->nentries > s->nslots / 2 || s->pool_used > s->pool_cap ||
		s->pool_cap > MaxAllocSize ||
		VARSIZE(b) != mlc_fs_size(s->nslots, s->pool_cap, (s->flags & MLC_FS_HLL) != 0))
		mlc_sketch_corrupt("length does not match the table");
	if (s->rows < 0 || s->nulls < 0 || s->nulls > s->rows || s->decrement < 0)
		mlc_sketch_corrupt("inconsistent counts");
	return s;
}

/* Check every entry of a categorical summary (readers and merges) */
static void
mlc_fs_check_entries(MlcFreqSummary *s)
{
	MlcFreqEntry *e = mlc_fs_entries(s);
	int32	   *slots = mlc_fs_slots(s);
	uint32		used = 0;

	for (uint32 i = 0; i < s->nentries; i++)
		if (e[i].count <= 0 || e[i].len > MLC_FREQ_MAX_BYTES ||
			(uint64) e[i].offset + e[i].len > s->pool_used)
			mlc_sketch_corrupt("entry out of range");
	for (uint32 i = 0; i < s->nslots; i++)
	{
		if (slots[i] < -1 || slots[i] >= (int32) s->nentries)
			mlc_sketch_corrupt("slot out of range");
		used += slots[i] >= 0;
	}
	if (used != s->nentries)
		mlc_sketch_corrupt("slots do not match the entries");
	/* texts in entry order without overlap, as appends leave them: copies fit pool_used */
	for (uint32 i = 0, end = 0; i < s->nentries; i++)
	{
		if (e[i].offset < end)
			mlc_sketch_corrupt("entries overlap");
		end = e[i].offset + e[i].len;
	}
}

/* A new categorical summary (counts copied from src when given) */
static MlcFreqSummary *
mlc_fs_new(uint32 nslots, uint32 pool_cap, bool hll, const MlcFreqSummary *src)
{
	Size		size = mlc_fs_size(nslots, pool_cap, hll);
	MlcFreqSummary *s;

	mlc_sketch_check_size(size);
	s = palloc0(size);
	if (src)
		memcpy(s, src, sizeof(MlcFreqSummary));
	SET_VARSIZE(s, size);
	s->magic = MLC_FS_MAGIC;
	s->version = MLC_SKETCH_VERSION;
	s->flags = (src ? src->flags : 0) & ~MLC_FS_HLL;
	if (hll)
		s->flags |= MLC_FS_HLL;
	s->nslots = nslots;
	s->pool_cap = pool_cap;
	s->nentries = 0;
	s->pool_used = 0;
	memset(mlc_fs_slots(s), 0xFF, nslots * sizeof(int32));
	return s;
}

/* The slot of hash h: its entry's, or the empty one where it would go */
static inline uint32
mlc_fs_find(MlcFreqSummary *s, uint64 h)
{
	int32	   *slots = mlc_fs_slots(s);
	MlcFreqEntry *e = mlc_fs_entries(s);
	uint32		mask = s->nslots - 1;
	uint32		i = (uint32) h & mask;

	while (slots[i] >= 0 && e[slots[i]].hash != h)
		i = (i + 1) & mask;
	return i;
}

/* Append an entry known to be absent, with room guaranteed */
static inline void
mlc_fs_append(MlcFreqSummary *s, uint32 slot, uint64 h, const char *str, uint32 len, int64 count)
{
	MlcFreqEntry *e = &mlc_fs_entries(s)[s->nentries];

	e->hash = h;
	e->offset = s->pool_used;
	e->len = len;
	e->count = count;
	memcpy(mlc_fs_pool(s) + s->pool_used, str, len);
	s->pool_used += len;
	mlc_fs_slots(s)[slot] = (int32) s->nentries++;
}

/*
 * A rebuilt copy of s with at least the given room, the HLL registers when
 * hll, and every count lowered by sub (entries left at 0 or less dropped).
 */
static MlcFreqSummary *
mlc_fs_rebuild(MlcFreqSummary *s, uint32 min_entries, uint32 min_pool, bool hll, int64 sub)
{
	uint32		nslots = s->nslots;
	uint32		pool = Max(s->pool_cap, 256);
	MlcFreqSummary *t;
	MlcFreqEntry *e = mlc_fs_entries(s);

	/* a state from the per-row path has had its header checked only */
	mlc_fs_check_entries(s);
	while (nslots / 2 < min_entries)
		nslots *= 2;
	while (pool < min_pool)
		pool *= 2;
	t = mlc_fs_new(nslots, pool, hll, s);
	if ((s->flags & MLC_FS_HLL) && hll)
		memcpy(mlc_fs_hll(t), mlc_fs_hll(s), MLC_HLL_M);
	for (uint32 i = 0; i < s->nentries; i++)
	{
		if (hll && !(s->flags & MLC_FS_HLL))
			mlc_hll_add(mlc_fs_hll(t), e[i].hash);
		if (e[i].count - sub > 0)
			mlc_fs_append(t, mlc_fs_find(t, e[i].hash), e[i].hash,
						  mlc_fs_pool(s) + e[i].offset, e[i].len, e[i].count - sub);
	}
	return t;
}

#define ST_SORT mlc_sort_int64_desc
#define ST_ELEMENT_TYPE int64
#define ST_COMPARE(a, b) ((*(a) < *(b)) - (*(a) > *(b)))
#define ST_CHECK_FOR_INTERRUPTS
#define ST_SCOPE static
#define ST_DECLARE
#define ST_DEFINE
#include "lib/sort_template.h"

/*
 * What mlc_fs_rebuild(s, 16, s->pool_used, true, sub) makes, byte for byte,
 * made in s itself (which has its registers): no allocation and the table
 * stays in cache.  Entries and their text keep their order, so the text
 * moves only towards the start of the pool.
 */
static MlcFreqSummary *
mlc_fs_lower_in_place(MlcFreqSummary *s, int64 sub)
{
	MlcFreqEntry *e = mlc_fs_entries(s);
	char	   *pool = mlc_fs_pool(s);
	uint32		old_n = s->nentries;
	uint32		old_used = s->pool_used;
	uint32		n = 0;
	uint32		used = 0;

	memset(mlc_fs_slots(s), 0xFF, s->nslots * sizeof(int32));
	for (uint32 i = 0; i < old_n; i++)
	{
		if (e[i].count - sub <= 0)
			continue;
		memmove(pool + used, pool + e[i].offset, e[i].len);
		e[n] = e[i];
		e[n].offset = used;
		e[n].count -= sub;
		used += e[n].len;
		mlc_fs_slots(s)[mlc_fs_find(s, e[n].hash)] = (int32) n;
		n++;
	}
	memset(&e[n], 0, (old_n - n) * sizeof(MlcFreqEntry));
	memset(pool + used, 0, old_used - used);
	s->nentries = n;
	s->pool_used = used;
	return s;
}

/*
 * Heavy-hitter prune (Misra-Gries, batched): subtract the (KEEP + 1)-th
 * largest count from every count.  Each prune removes at least that much
 * times KEEP + 1 from the total, so the total decrement is at most
 * rows / (KEEP + 1).  HLL takes over the distinct count first.
 */
static MlcFreqSummary *
mlc_fs_prune(MlcFreqSummary *s)
{
	MlcFreqEntry *e = mlc_fs_entries(s);
	int64	   *counts = palloc(s->nentries * sizeof(int64));
	int64		c;
	MlcFreqSummary *t;

	for (uint32 i = 0; i < s->nentries; i++)
		counts[i] = e[i].count;
	mlc_sort_int64_desc(counts, s->nentries);
	c = counts[MLC_FREQ_KEEP];
	pfree(counts);
	if ((s->flags & MLC_FS_HLL) && s->pool_cap >= 256)
	{
		mlc_fs_check_entries(s);
		t = mlc_fs_lower_in_place(s, c);
	}
	else
		t = mlc_fs_rebuild(s, 16, s->pool_used, true, c);
	t->decrement += c;
	t->flags |= MLC_FS_PRUNED;
	return t;
}

/* Count a category (count times) by its hash; the state may move */
static MlcFreqSummary *
mlc_fs_add(MlcFreqSummary *s, uint64 h, const char *str, int len, int64 count)
{
	uint32		slot;
	uint32		keep = (uint32) len;

	slot = mlc_fs_find(s, h);
	if (mlc_fs_slots(s)[slot] >= 0)
	{
		mlc_fs_entries(s)[mlc_fs_slots(s)[slot]].count += count;
		return s;
	}
	/* a category in the table is in the registers already (added with it, or when they began) */
	if (s->flags & MLC_FS_HLL)
		mlc_hll_add(mlc_fs_hll(s), h);
	if (keep > MLC_FREQ_MAX_BYTES)
		keep = pg_mbcliplen(str, len, MLC_FREQ_MAX_BYTES);
	if (s->nentries >= MLC_FREQ_EXACT_MAX)
	{
		s = mlc_fs_prune(s);
		mlc_hll_add(mlc_fs_hll(s), h);
	}
	if (s->nentries + 1 > s->nslots / 2 || s->pool_used + keep > s->pool_cap)
		s = mlc_fs_rebuild(s, s->nentries + 1, s->pool_used + keep, (s->flags & MLC_FS_HLL) != 0, 0);
	mlc_fs_append(s, mlc_fs_find(s, h), h, str, keep, count);
	return s;
}

/* Transition of ml_category_sketch: one value, NULL counted */
Datum
mlc_freq_trans(PG_FUNCTION_ARGS)
{
	MlcFreqSummary *s;
	text	   *t;

	if (PG_ARGISNULL(0))
		s = mlc_fs_new(16, 256, false, NULL);
	else
	{
		s = mlc_fs_check(mlc_sketch_state_arg(fcinfo, 0));
		if (!AggCheckCallContext(fcinfo, NULL))
			s = mlc_sketch_copy(s);
	}
	s->rows++;
	if (PG_ARGISNULL(1))
	{
		s->nulls++;
		PG_RETURN_BYTEA_P(s);
	}
	t = PG_GETARG_TEXT_PP(1);
	s = mlc_fs_add(s, hash_bytes_extended((const unsigned char *) VARDATA_ANY(t),
										  VARSIZE_ANY_EXHDR(t), 0),
				   VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t), 1);
	PG_RETURN_BYTEA_P(s);
}

/* Merge two categorical summaries into a new one */
static MlcFreqSummary *
mlc_fs_merge(MlcFreqSummary *a, MlcFreqSummary *b)
{
	bool		hll = ((a->flags | b->flags) & MLC_FS_HLL) != 0;
	MlcFreqSummary *t;
	MlcFreqEntry *e = mlc_fs_entries(b);

	mlc_fs_check_entries(a);
	mlc_fs_check_entries(b);
	t = mlc_fs_rebuild(a, a->nentries + b->nentries, a->pool_used + b->pool_used, hll, 0);
	t->rows = a->rows + b->rows;
	t->nulls = a->nulls + b->nulls;
	t->decrement = a->decrement + b->decrement;
	t->flags |= (a->flags | b->flags) & MLC_FS_PRUNED;
	if (hll && (b->flags & MLC_FS_HLL))
		for (int i = 0; i < MLC_HLL_M; i++)
			mlc_fs_hll(t)[i] = Max(mlc_fs_hll(t)[i], mlc_fs_hll(b)[i]);
	for (uint32 i = 0; i < b->nentries; i++)
	{
		uint32		slot = mlc_fs_find(t, e[i].hash);

		if (hll && !(b->flags & MLC_FS_HLL))
			mlc_hll_add(mlc_fs_hll(t), e[i].hash);
		if (mlc_fs_slots(t)[slot] >= 0)
			mlc_fs_entries(t)[mlc_fs_slots(t)[slot]].count += e[i].count;
		else
			mlc_fs_append(t, slot, e[i].hash, mlc_fs_pool(b) + e[i].offset, e[i].len, e[i].count);
	}
	if (t->nentries > MLC_FREQ_EXACT_MAX)
		t = mlc_fs_prune(t);
	return t;
}

/* ------------------------------------------------------------------------
 * Combine functions (both kinds) and ml_summary_merge
 * ------------------------------------------------------------------------
 */

/* Merge two states of the same kind */
static bytea *
mlc_sketch_merge(bytea *a, bytea *b)
{
	if (VARSIZE(a) >= VARHDRSZ + sizeof(uint32) && VARSIZE(b) >= VARHDRSZ + sizeof(uint32) &&
		((MlcNumSummary *) a)->magic == MLC_NS_MAGIC)
	{
		if (((MlcNumSummary *) b)->magic != MLC_NS_MAGIC)
			mlc_sketch_corrupt("a numeric and a categorical summary cannot be merged");
		return (bytea *) mlc_ns_merge(mlc_ns_check(a), mlc_ns_check(b));
	}
	return (bytea *) mlc_fs_merge(mlc_fs_check(a), mlc_fs_check(b));
}

Datum
mlc_summary_combine(PG_FUNCTION_ARGS)
{
	PG_RETURN_BYTEA_P(mlc_ns_merge(mlc_ns_check(mlc_sketch_state_arg(fcinfo, 0)),
								   mlc_ns_check(mlc_sketch_state_arg(fcinfo, 1))));
}

Datum
mlc_freq_combine(PG_FUNCTION_ARGS)
{
	PG_RETURN_BYTEA_P(mlc_fs_merge(mlc_fs_check(mlc_sketch_state_arg(fcinfo, 0)),
								   mlc_fs_check(mlc_sketch_state_arg(fcinfo, 1))));
}

/* Transition of ml_summary_merge: merge stored sketches of either kind */
Datum
mlc_sketch_merge_trans(PG_FUNCTION_ARGS)
{
	if (PG_ARGISNULL(1))
	{
		if (PG_ARGISNULL(0))
			PG_RETURN_NULL();
		PG_RETURN_DATUM(PG_GETARG_DATUM(0));
	}
	if (PG_ARGISNULL(0))
	{
		bytea	   *b = mlc_sketch_state_arg(fcinfo, 1);

		/* checked, and copied out of the input row */
		if (VARSIZE(b) >= VARHDRSZ + sizeof(uint32) && ((MlcNumSummary *) b)->magic == MLC_NS_MAGIC)
			mlc_ns_check(b);
		else
			mlc_fs_check_entries(mlc_fs_check(b));
		PG_RETURN_BYTEA_P(mlc_sketch_copy(b));
	}
	PG_RETURN_BYTEA_P(mlc_sketch_merge(mlc_sketch_state_arg(fcinfo, 0),
									   mlc_sketch_state_arg(fcinfo, 1)));
}

/* ------------------------------------------------------------------------
 * Readers
 * ------------------------------------------------------------------------
 */

/* The state of an aggregate over no rows, of either kind */
bytea *
mlc_sketch_empty(bool numeric)
{
	if (numeric)
		return (bytea *) mlc_ns_new_exact(0);
	return (bytea *) mlc_fs_new(16, 256, false, NULL);
}

/* Decode a numeric summary state (checked) */
void
mlc_num_summary_stats(bytea *state, MlcNumStats *st)
{
	MlcNumSummary *s = mlc_ns_check(state);
	double		n = (double) s->n;
	int			specials = (s->nan > 0) + (s->posinf > 0) + (s->neginf > 0);

	memset(st, 0, sizeof(*st));
	st->rows = s->rows;
	st->nulls = s->nulls;
	st->nan = s->nan;
	st->posinf = s->posinf;
	st->neginf = s->neginf;
	st->n = s->n;
	st->zeros = s->zeros;
	st->mean = s->n > 0 ? s->mean : NAN;
	st->var_pop = s->n > 0 ? Max(s->m2, 0.0) / n : NAN;
	st->var_sample = s->n > 1 ? Max(s->m2, 0.0) / (n - 1.0) : NAN;
	st->skewness = (s->n > 0 && s->m2 > 0) ? sqrt(n) * s->m3 / pow(s->m2, 1.5) : NAN;
	st->kurtosis = (s->n > 0 && s->m2 > 0) ? n * s->m4 / (s->m2 * s->m2) - 3.0 : NAN;
	st->min = s->n > 0 ? s->min : NAN;
	st->max = s->n > 0 ? s->max : NAN;
	if (s->flags & MLC_NS_SKETCH)
	{
		int			top = 0;
		uint8	   *reg = palloc(MLC_HLL_M);

		for (int h = 0; h < s->nlevels; h++)
			if (s->level_n[h] > 0)
				top = h;
		/* the registers, and the values of level 0 not yet in them */
		memcpy(reg, mlc_ns_hll(s), MLC_HLL_M);
		mlc_ns_hll_add_values(reg, mlc_ns_level(s, 0), s->level_n[0]);
		st->distinct = round(mlc_hll_estimate(reg)) + specials;
		pfree(reg);
		st->distinct_exact = false;
		st->quantiles_exact = false;
		/* compaction error plus the weight of one top-level item */
		st->rank_error = (s->rank_err + ldexp(1.0, top)) / n;
	}
	else
	{
		double	   *v = palloc(Max(s->n, 1) * sizeof(double));
		int64		d = 0;

		memcpy(v, s->data, s->n * sizeof(double));
		mlc_sketch_sort(v, s->n);
		for (int64 i = 0; i < s->n; i++)
			if (i == 0 || v[i] != v[i - 1])
				d++;
		pfree(v);
		st->distinct = (double) (d + specials);
		st->distinct_exact = true;
		st->quantiles_exact = true;
		st->rank_error = 0.0;
	}
}

/* qsort order of tagged values: by value */
int
mlc_cmp_tagged(const void *a, const void *b)
{
	double		x = ((const MlcTagged *) a)->v;
	double		y = ((const MlcTagged *) b)->v;

	return (x > y) - (x < y);
}

/* The items of a checked sketch-mode summary, sorted by value, tagged with their weight */
static MlcTagged *
mlc_ns_items(MlcNumSummary *s, int64 *nitems)
{
	int64		m = 0;
	MlcTagged  *items;

	for (int h = 0; h < s->nlevels; h++)
		m += s->level_n[h];
	items = palloc(Max(m, 1) * sizeof(MlcTagged));
	m = 0;
	for (int h = 0; h < s->nlevels; h++)
		for (int i = 0; i < s->level_n[h]; i++)
		{
			items[m].v = mlc_ns_level(s, h)[i];
			items[m++].tag = INT64CONST(1) << h;
		}
	qsort(items, m, sizeof(MlcTagged), mlc_cmp_tagged);
	*nitems = m;
	return items;
}

/*
 * The index of the item holding 0-based rank target: the first whose
 * cumulative weight exceeds it, the last when none does (cum[j] is the
 * weight of items 0..j).
 */
static int64
mlc_items_at_rank(const int64 *cum, int64 m, double target)
{
	int64		lo = 0,
				hi = m - 1;

	while (lo < hi)
	{
		int64		mid = lo + (hi - lo) / 2;

		if ((double) cum[mid] > target)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

/* Quantiles q[0..nq) of a numeric summary (numpy 'linear' when exact); NaN when empty */
void
mlc_num_summary_quantiles(bytea *state, const double *q, int nq, double *out)
{
	MlcNumSummary *s = mlc_ns_check(state);

	if (s->n == 0)
	{
		for (int i = 0; i < nq; i++)
			out[i] = NAN;
		return;
	}
	if (!(s->flags & MLC_NS_SKETCH))
	{
		double	   *v = palloc(s->n * sizeof(double));

		memcpy(v, s->data, s->n * sizeof(double));
		mlc_sketch_sort(v, s->n);
		for (int i = 0; i < nq; i++)
			out[i] = mlc_quantile_linear(v, s->n, q[i]);
		pfree(v);
		return;
	}
	else
	{
		int64		m;
		MlcTagged  *items = mlc_ns_items(s, &m);
		int64	   *cum = palloc(Max(m, 1) * sizeof(int64));

		for (int64 j = 0; j < m; j++)
			cum[j] = (j > 0 ? cum[j - 1] : 0) + items[j].tag;
		for (int i = 0; i < nq; i++)
		{
			if (q[i] <= 0.0)
				out[i] = s->min;
			else if (q[i] >= 1.0)
				out[i] = s->max;
			else
				out[i] = items[mlc_items_at_rank(cum, m, q[i] * (double) (s->n - 1))].v;
		}
		pfree(cum);
		pfree(items);
	}
}

/* The values a numeric summary holds, sorted, each tagged with its weight (1 when exact) */
MlcTagged *
mlc_num_summary_items(bytea *state, int64 *nitems)
{
	MlcNumSummary *s = mlc_ns_check(state);
	MlcTagged  *items;

	if (s->flags & MLC_NS_SKETCH)
		return mlc_ns_items(s, nitems);
	items = palloc(Max(s->n, 1) * sizeof(MlcTagged));
	for (int64 i = 0; i < s->n; i++)
	{
		items[i].v = s->data[i];
		items[i].tag = 1;
	}
	qsort(items, s->n, sizeof(MlcTagged), mlc_cmp_tagged);
	*nitems = s->n;
	return items;
}

/* A numeric summary in sketch mode holding the finite values v[0..n) */
bytea *
mlc_num_sketch_from(const double *v, int64 n)
{
	MlcNumSummary *s = mlc_ns_new_sketch(mlc_ns_new_exact(0), 2);

	for (int64 i = 0; i < n; i++)
	{
		if ((i & 0xFFFF) == 0)
			CHECK_FOR_INTERRUPTS();
		s = mlc_ns_add_finite(s, v[i]);
	}
	return (bytea *) s;
}

/* Add a finite value to a numeric summary (updated in place unless it must grow) */
bytea *
mlc_num_summary_add(bytea *state, double v)
{
	return (bytea *) mlc_ns_add_finite(mlc_ns_check_state(state, false), v);
}

/* Merge two numeric summaries into a new one */
bytea *
mlc_num_summary_merge(bytea *a, bytea *b)
{
	return (bytea *) mlc_ns_merge(mlc_ns_check(a), mlc_ns_check(b));
}

/* Decode a categorical summary state (checked) */
void
mlc_freq_summary_stats(bytea *state, MlcFreqStats *st)
{
	MlcFreqSummary *s = mlc_fs_check(state);

	mlc_fs_check_entries(s);
	memset(st, 0, sizeof(*st));
	st->rows = s->rows;
	st->nulls = s->nulls;
	st->counts_exact = !(s->flags & MLC_FS_PRUNED);
	st->max_undercount = s->decrement;
	if (s->flags & MLC_FS_HLL)
	{
		st->distinct = round(mlc_hll_estimate(mlc_fs_hll(s)));
		st->distinct_exact = false;
	}
	else
	{
		st->distinct = (double) s->nentries;
		st->distinct_exact = true;
	}
}

static int
mlc_cmp_item(const void *a, const void *b)
{
	const MlcFreqItem *x = a;
	const MlcFreqItem *y = b;
	int			c;

	if (x->count != y->count)
		return (x->count < y->count) - (x->count > y->count);
	c = memcmp(x->str, y->str, Min(x->len, y->len));
	if (c != 0)
		return c;
	return (x->len > y->len) - (x->len < y->len);
}

/* The k most frequent categories, most frequent first (ties in byte order) */
MlcFreqItem *
mlc_freq_summary_top(bytea *state, int k, int *nitems)
{
	MlcFreqSummary *s = mlc_fs_check(state);
	MlcFreqEntry *e = mlc_fs_entries(s);
	MlcFreqItem *items = palloc(Max(s->nentries, 1) * sizeof(MlcFreqItem));

	mlc_fs_check_entries(s);
	for (uint32 i = 0; i < s->nentries; i++)
	{
		items[i].str = mlc_fs_pool(s) + e[i].offset;
		items[i].len = e[i].len;
		items[i].count = e[i].count;
	}
	qsort(items, s->nentries, sizeof(MlcFreqItem), mlc_cmp_item);
	*nitems = Min((int) s->nentries, k);
	return items;
}

/* ------------------------------------------------------------------------
 * SQL-callable readers
 * ------------------------------------------------------------------------
 */

/* Final function of ml_summary and the function ml_summary(sketch) */
Datum
mlc_summary_final(PG_FUNCTION_ARGS)
{
	TupleDesc	tupdesc;
	MlcNumStats st;
	double		q[3] = {0.25, 0.5, 0.75};
	double		qv[3];
	Datum		values[19];
	bool		nulls[19];
	bytea	   *state;

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "mlcycle: ml_summary must return a composite type");
	tupdesc = BlessTupleDesc(tupdesc);
	/* an aggregate over no rows summarizes nothing */
	state = PG_ARGISNULL(0) ? mlc_sketch_empty(true) : mlc_sketch_state_arg(fcinfo, 0);
	mlc_num_summary_stats(state, &st);
	mlc_num_summary_quantiles(state, q, 3, qv);
	{
		double		f[] = {st.mean, sqrt(st.var_sample), st.var_sample, st.min, qv[0], qv[1], qv[2],
			st.max, st.skewness, st.kurtosis,
		st.n > 0 ? (double) st.zeros / st.n : NAN};

		values[0] = Int64GetDatum(st.rows);
		values[1] = Int64GetDatum(st.nulls);
		values[2] = Int64GetDatum(st.nan + st.posinf + st.neginf);
		values[3] = Int64GetDatum(st.n);
		memset(nulls, 0, sizeof(nulls));
		for (int i = 0; i < 11; i++)
		{
			values[4 + i] = Float8GetDatum(f[i]);
			nulls[4 + i] = isnan(f[i]);
		}
		values[15] = Int64GetDatum((int64) st.distinct);
		values[16] = BoolGetDatum(st.distinct_exact);
		values[17] = BoolGetDatum(st.quantiles_exact);
		values[18] = Float8GetDatum(st.rank_error);
	}
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}

/* ml_quantiles(sketch, q[]): quantiles of a numeric summary */
Datum
mlc_summary_quantiles(PG_FUNCTION_ARGS)
{
	ArrayType  *qa = PG_GETARG_ARRAYTYPE_P(1);
	Datum	   *qd;
	bool	   *qn;
	int			nq;
	double	   *q;
	double	   *out;
	Datum	   *res;
	bool	   *resnull;
	int			dims[1];
	int			lbs[1] = {1};

	if (ARR_NDIM(qa) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("quantiles must be a one-dimensional array")));
	deconstruct_array(qa, FLOAT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE, &qd, &qn, &nq);
	q = palloc(Max(nq, 1) * sizeof(double));
	out = palloc(Max(nq, 1) * sizeof(double));
	for (int i = 0; i < nq; i++)
	{
		if (qn[i] || !(DatumGetFloat8(qd[i]) >= 0.0 && DatumGetFloat8(qd[i]) <= 1.0))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("quantiles must be between 0 and 1"),
					 errhint("Pass fractions, as in '{0.25,0.5,0.75}'.")));
		q[i] = DatumGetFloat8(qd[i]);
	}
	mlc_num_summary_quantiles(mlc_sketch_state_arg(fcinfo, 0), q, nq, out);
	res = palloc(Max(nq, 1) * sizeof(Datum));
	resnull = palloc(Max(nq, 1) * sizeof(bool));
	for (int i = 0; i < nq; i++)
	{
		res[i] = Float8GetDatum(out[i]);
		resnull[i] = isnan(out[i]);
	}
	dims[0] = nq;
	PG_RETURN_ARRAYTYPE_P(construct_md_array(res, resnull, nq > 0 ? 1 : 0, dims, lbs,
											 FLOAT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
}

/* The top categories of a categorical summary as jsonb [{"value": v, "count": c}, ...] */
Jsonb *
mlc_sketch_top_jsonb(bytea *state, int k)
{
	int			nitems;
	MlcFreqItem *items = mlc_freq_summary_top(state, k, &nitems);
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfoChar(&buf, '[');
	for (int i = 0; i < nitems; i++)
	{
		if (i > 0)
			appendStringInfoString(&buf, ", ");
		appendStringInfoString(&buf, "{\"value\": ");
		escape_json(&buf, pnstrdup(items[i].str, items[i].len));
		appendStringInfo(&buf, ", \"count\": " INT64_FORMAT "}", items[i].count);
	}
	appendStringInfoChar(&buf, ']');
	return DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(buf.data)));
}

/* ml_top_values(sketch, k) */
Datum
mlc_sketch_top_values(PG_FUNCTION_ARGS)
{
	int32		k = PG_GETARG_INT32(1);

	if (k < 1 || k > MLC_FREQ_KEEP)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("k must be between 1 and %d, not %d", MLC_FREQ_KEEP, k)));
	PG_RETURN_JSONB_P(mlc_sketch_top_jsonb(mlc_sketch_state_arg(fcinfo, 0), k));
}

/* ml_distinct_count(sketch): exact or HyperLogLog distinct count of either kind */
Datum
mlc_sketch_distinct(PG_FUNCTION_ARGS)
{
	bytea	   *b = mlc_sketch_state_arg(fcinfo, 0);

	if (VARSIZE(b) >= VARHDRSZ + sizeof(uint32) && ((MlcNumSummary *) b)->magic == MLC_NS_MAGIC)
	{
		MlcNumStats st;

		mlc_num_summary_stats(b, &st);
		PG_RETURN_INT64((int64) st.distinct);
	}
	else
	{
		MlcFreqStats st;

		mlc_freq_summary_stats(b, &st);
		PG_RETURN_INT64((int64) st.distinct);
	}
}
