/*
 * metric_agg.c
 *	  Evaluation metrics as aggregates over the user's own tables: labels
 *	  (accuracy to confusion matrix), scores (ROC AUC, average precision, log
 *	  loss, Brier, curves, calibration) and regression, each parallel safe
 *	  with a combine function and a bytea or float8[] state checked on entry.
 */
#include "postgres.h"

#include <float.h>
#include <math.h>

#include "access/htup_details.h"
#include "catalog/pg_enum.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"
#include "utils/typcache.h"

#include "jsonutil.h"
#include "metric_agg.h"

PG_FUNCTION_INFO_V1(mlc_agg_cls_trans);
PG_FUNCTION_INFO_V1(mlc_agg_score_trans);
PG_FUNCTION_INFO_V1(mlc_agg_prob_trans);
PG_FUNCTION_INFO_V1(mlc_agg_calib_trans);
PG_FUNCTION_INFO_V1(mlc_agg_combine);
PG_FUNCTION_INFO_V1(mlc_agg_score_combine);
PG_FUNCTION_INFO_V1(mlc_agg_score_serial);
PG_FUNCTION_INFO_V1(mlc_agg_score_deserial);
PG_FUNCTION_INFO_V1(mlc_agg_accuracy_final);
PG_FUNCTION_INFO_V1(mlc_agg_precision_final);
PG_FUNCTION_INFO_V1(mlc_agg_recall_final);
PG_FUNCTION_INFO_V1(mlc_agg_f1_final);
PG_FUNCTION_INFO_V1(mlc_agg_mcc_final);
PG_FUNCTION_INFO_V1(mlc_agg_confusion_final);
PG_FUNCTION_INFO_V1(mlc_agg_roc_auc_final);
PG_FUNCTION_INFO_V1(mlc_agg_pr_auc_final);
PG_FUNCTION_INFO_V1(mlc_agg_roc_curve_final);
PG_FUNCTION_INFO_V1(mlc_agg_pr_curve_final);
PG_FUNCTION_INFO_V1(mlc_agg_log_loss_final);
PG_FUNCTION_INFO_V1(mlc_agg_brier_final);
PG_FUNCTION_INFO_V1(mlc_agg_calibration_final);
PG_FUNCTION_INFO_V1(mlc_agg_reg_trans);
PG_FUNCTION_INFO_V1(mlc_agg_reg_combine);
PG_FUNCTION_INFO_V1(mlc_agg_r2_final);
PG_FUNCTION_INFO_V1(mlc_agg_mae_final);
PG_FUNCTION_INFO_V1(mlc_agg_mse_final);
PG_FUNCTION_INFO_V1(mlc_agg_rmse_final);
PG_FUNCTION_INFO_V1(mlc_agg_mape_final);
PG_FUNCTION_INFO_V1(mlc_agg_ev_final);

#define MLC_HDR_SIZE		((uint32) sizeof(MlcMStateHeader))
#define MLC_MAX_COUNT		9007199254740992.0	/* 2^53: counts stay exact in float8 */
#define MLC_LOG_LOSS_EPS	DBL_EPSILON	/* the clip of log loss, scikit-learn 1.2's eps="auto" */
#ifndef MLC_MAX_STATE_BYTES
#define MLC_MAX_STATE_BYTES	MaxAllocSize	/* largest bytea state */
#endif

StaticAssertDecl(sizeof(MlcMStateHeader) == 56, "metric state header is 56 bytes");

/* How a label argument is turned into a key (cached in fn_extra) */
typedef struct MlcLabelReader
{
	Oid			typid;			/* base type of the argument */
	uint8		kind;			/* MLC_LK_* */
	bool		use_output;		/* text form through the type's output function */
	FmgrInfo	output;
} MlcLabelReader;

/* A label key in the state's format; data may point into buf */
typedef struct MlcKey
{
	const char *data;
	uint32		len;
	char		buf[8];
} MlcKey;

/* A bytea state being read or updated: the varlena and a copy of its header */
typedef struct MlcMState
{
	bytea	   *raw;
	MlcMStateHeader h;
} MlcMState;

/* A label of a state: its key and its slot (position in the label area) */
typedef struct MlcLabel
{
	const char *key;
	uint32		len;
	int			slot;
} MlcLabel;

/* Confusion counts arranged by sorted label, with the resolved average */
typedef struct MlcConf
{
	int			K;
	uint8		kind;
	MlcLabel   *lab;			/* sorted */
	double	   *cell;			/* K x K: [truth * K + predicted], sorted order */
	double	   *tp;
	double	   *npred;
	double	   *ntrue;
	double		n;
	double		correct;
} MlcConf;

/*
 * Internal state of the ranking aggregates (ml_roc_auc, ml_pr_auc, the
 * curves): settings and labels in a bytea state of payload MLC_PAY_RANKED
 * holding no payload, and the scores of each label slot.  sorted says every
 * slot is highest first: the serial function sorts, so parallel workers sort
 * their share, and the combine function merges sorted slots.
 */
typedef struct MlcScoreState
{
	MlcMState	ms;
	const char *key[2];			/* label keys in ms, by slot */
	uint32		keylen[2];
	double	   *v[2];			/* scores by slot */
	int64		n[2];
	int64		cap[2];
	bool		sorted;
	bool		in_aggcxt;		/* deserialized into the aggregate context */
} MlcScoreState;

/* Scores split by class, each sorted in descending order */
typedef struct MlcRanking
{
	double	   *pos;
	double	   *neg;
	int64		npos;
	int64		nneg;
} MlcRanking;

/* Walk over distinct thresholds, highest first, with cumulative counts */
typedef struct MlcGroupIter
{
	const MlcRanking *rk;
	int64		i;				/* next positive */
	int64		j;				/* next negative */
	int64		tps;			/* positives with score >= thr */
	int64		fps;			/* negatives with score >= thr */
	int64		dtp;			/* positives with score == thr */
	int64		dfp;			/* negatives with score == thr */
	double		thr;
} MlcGroupIter;

/* Element type of a function's composite-array result (cached in fn_extra) */
typedef struct MlcRowType
{
	Oid			elemtype;
	int16		elmlen;
	bool		elmbyval;
	char		elmalign;
	TupleDesc	tupdesc;
} MlcRowType;

/* ---------- small numeric helpers ---------- */

/* Neumaier's compensated addition of x to (sum, comp) */
static inline void
mlc_kbn_add(double *sum, double *comp, double x)
{
	double		t = *sum + x;

	if (fabs(*sum) >= fabs(x))
		*comp += (*sum - t) + x;
	else
		*comp += (x - t) + *sum;
	*sum = t;
}

/* Read the i-th float8 of an unaligned buffer */
static inline double
mlc_get_f8(const char *p, int64 i)
{
	double		v;

	memcpy(&v, p + i * sizeof(double), sizeof(double));
	return v;
}

/* Write the i-th float8 of an unaligned buffer */
static inline void
mlc_put_f8(char *p, int64 i, double v)
{
	memcpy(p + i * sizeof(double), &v, sizeof(double));
}

/* Read the i-th int64 of an unaligned buffer */
static inline int64
mlc_get_i8(const char *p, int64 i)
{
	int64		v;

	memcpy(&v, p + i * sizeof(int64), sizeof(int64));
	return v;
}

/* Write the i-th int64 of an unaligned buffer */
static inline void
mlc_put_i8(char *p, int64 i, int64 v)
{
	memcpy(p + i * sizeof(int64), &v, sizeof(int64));
}

/* Text of a float8 as PostgreSQL prints it */
static char *
mlc_f8_text(double v)
{
	return DatumGetCString(DirectFunctionCall1(float8out, Float8GetDatum(v)));
}

/* Error for NaN or Infinity in an input column */
static void
mlc_check_finite(double v, const char *what)
{
	if (!isfinite(v))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("%s is %s", what, mlc_f8_text(v)),
				 errhint("Filter the row out, or turn the value into NULL with NULLIF: rows with a NULL are skipped.")));
}

/* Error for a probability outside [0, 1] (or not finite) */
static void
mlc_check_probability(double p)
{
	mlc_check_finite(p, "prob");
	if (p < 0.0 || p > 1.0)
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("prob %s is outside [0, 1]", mlc_f8_text(p)),
				 errhint("Pass the predicted probability of the positive class; rank raw scores with ml_roc_auc or ml_pr_auc.")));
}

/* ---------- labels ---------- */

/* The label reader of argument argno, set up once per call site */
static MlcLabelReader *
mlc_label_reader(FunctionCallInfo fcinfo, int argno)
{
	MlcLabelReader *r = (MlcLabelReader *) fcinfo->flinfo->fn_extra;
	Oid			typid;

	if (r != NULL)
		return r;
	typid = get_fn_expr_argtype(fcinfo->flinfo, argno);
	if (!OidIsValid(typid))
		elog(ERROR, "mlcycle: could not determine the label type");
	r = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(MlcLabelReader));
	r->typid = getBaseType(typid);
	switch (r->typid)
	{
		case BOOLOID:
			r->kind = MLC_LK_BOOL;
			break;
		case INT2OID:
		case INT4OID:
		case INT8OID:
			r->kind = MLC_LK_INT;
			break;
		case FLOAT8OID:
		case NUMERICOID:
			r->kind = MLC_LK_FLOAT8;
			break;
		case FLOAT4OID:
			r->kind = MLC_LK_FLOAT4;
			break;
		case TEXTOID:
		case VARCHAROID:
		case BPCHAROID:
		case NAMEOID:
			r->kind = MLC_LK_TEXT;
			break;
		default:
			r->kind = MLC_LK_TEXT;
			if (!type_is_enum(r->typid))
			{
				Oid			outfn;
				bool		isvarlena;

				getTypeOutputInfo(r->typid, &outfn, &isvarlena);
				fmgr_info_cxt(outfn, &r->output, fcinfo->flinfo->fn_mcxt);
				r->use_output = true;
			}
			break;
	}
	fcinfo->flinfo->fn_extra = r;
	return r;
}

/* Key of a numeric label: a finite float8, -0 stored as 0 */
static void
mlc_float_key(MlcLabelReader *r, Datum d, MlcKey *k, const char *what)
{
	double		v;

	if (r->typid == FLOAT4OID)
		v = DatumGetFloat4(d);
	else if (r->typid == FLOAT8OID)
		v = DatumGetFloat8(d);
	else
		v = DatumGetFloat8(DirectFunctionCall1(numeric_float8_no_overflow, d));
	mlc_check_finite(v, what);
	if (v == 0.0)
		v = 0.0;
	memcpy(k->buf, &v, sizeof(double));
	k->data = k->buf;
	k->len = sizeof(double);
}

/* Key of a label of the text kind: its characters */
static void
mlc_text_key(MlcLabelReader *r, Datum d, MlcKey *k)
{
	const char *s;
	int			len;

	if (r->typid == TEXTOID || r->typid == VARCHAROID || r->typid == BPCHAROID)
	{
		text	   *t = DatumGetTextPP(d);

		s = VARDATA_ANY(t);
		len = VARSIZE_ANY_EXHDR(t);
		if (r->typid == BPCHAROID)
			while (len > 0 && s[len - 1] == ' ')
				len--;
	}
	else if (r->typid == NAMEOID)
	{
		s = NameStr(*DatumGetName(d));
		len = strlen(s);
	}
	else if (!r->use_output)
	{
		HeapTuple	tup = SearchSysCache1(ENUMOID, d);

		if (!HeapTupleIsValid(tup))
			elog(ERROR, "mlcycle: enum value %u not found", DatumGetObjectId(d));
		s = pstrdup(NameStr(((Form_pg_enum) GETSTRUCT(tup))->enumlabel));
		len = strlen(s);
		ReleaseSysCache(tup);
	}
	else
	{
		s = OutputFunctionCall(&r->output, d);
		len = strlen(s);
	}
	if (len > MLC_METRIC_MAX_LABEL_LEN)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("label is longer than %d bytes", MLC_METRIC_MAX_LABEL_LEN),
				 errhint("Labels are class names; map long values to short codes first.")));
	k->data = s;
	k->len = len;
}

/* Key of a label datum in the reader's kind */
static void
mlc_read_key(MlcLabelReader *r, Datum d, MlcKey *k, const char *what)
{
	switch (r->kind)
	{
		case MLC_LK_BOOL:
			k->buf[0] = DatumGetBool(d) ? 1 : 0;
			k->data = k->buf;
			k->len = 1;
			break;
		case MLC_LK_INT:
			{
				int64		v;

				if (r->typid == INT2OID)
					v = DatumGetInt16(d);
				else if (r->typid == INT4OID)
					v = DatumGetInt32(d);
				else
					v = DatumGetInt64(d);
				memcpy(k->buf, &v, sizeof(int64));
				k->data = k->buf;
				k->len = sizeof(int64);
				break;
			}
		case MLC_LK_FLOAT8:
		case MLC_LK_FLOAT4:
			mlc_float_key(r, d, k, what);
			break;
		default:
			mlc_text_key(r, d, k);
			break;
	}
}

/* Is a stored key well formed for its kind? */
static bool
mlc_key_valid(uint8 kind, const char *key, uint32 len)
{
	double		v;

	switch (kind)
	{
		case MLC_LK_BOOL:
			return len == 1 && (key[0] == 0 || key[0] == 1);
		case MLC_LK_INT:
			return len == sizeof(int64);
		case MLC_LK_FLOAT8:
		case MLC_LK_FLOAT4:
			if (len != sizeof(double))
				return false;
			memcpy(&v, key, sizeof(double));
			return isfinite(v) && !(v == 0.0 && signbit(v));
		default:
			return memchr(key, '\0', len) == NULL &&
				pg_verify_mbstr(GetDatabaseEncoding(), key, len, true);
	}
}

/* Order of two keys: numbers numerically, false < true, text bytewise */
static int
mlc_key_cmp(uint8 kind, const char *a, uint32 alen, const char *b, uint32 blen)
{
	switch (kind)
	{
		case MLC_LK_BOOL:
			return (a[0] > b[0]) - (a[0] < b[0]);
		case MLC_LK_INT:
			{
				int64		x,
							y;

				memcpy(&x, a, sizeof(int64));
				memcpy(&y, b, sizeof(int64));
				return (x > y) - (x < y);
			}
		case MLC_LK_FLOAT8:
		case MLC_LK_FLOAT4:
			{
				double		x,
							y;

				memcpy(&x, a, sizeof(double));
				memcpy(&y, b, sizeof(double));
				return (x > y) - (x < y);
			}
		default:
			{
				int			c = memcmp(a, b, Min(alen, blen));

				if (c != 0)
					return c;
				return (alen > blen) - (alen < blen);
			}
	}
}

/* Text form of a key: true/false, the number, or the text itself */
static char *
mlc_key_text(uint8 kind, const char *key, uint32 len)
{
	double		v;
	int64		i;

	switch (kind)
	{
		case MLC_LK_BOOL:
			return pstrdup(key[0] ? "true" : "false");
		case MLC_LK_INT:
			memcpy(&i, key, sizeof(int64));
			return psprintf(INT64_FORMAT, i);
		case MLC_LK_FLOAT8:
			memcpy(&v, key, sizeof(double));
			return mlc_f8_text(v);
		case MLC_LK_FLOAT4:
			memcpy(&v, key, sizeof(double));
			return DatumGetCString(DirectFunctionCall1(float4out, Float4GetDatum((float4) v)));
		default:
			return pnstrdup(key, len);
	}
}

/* Append a key as a JSON value: boolean, number or string */
static void
mlc_key_json(StringInfo out, uint8 kind, const char *key, uint32 len)
{
	char	   *s = mlc_key_text(kind, key, len);

	if (kind == MLC_LK_TEXT)
		escape_json(out, s);
	else
		appendStringInfoString(out, s);
}

/* True when a label reads as the positive one: true, 1, yes, y, t or pos */
static bool
mlc_reads_true(const char *s)
{
	static const char *const yes[] = {"true", "1", "yes", "y", "t", "pos", NULL};

	for (int i = 0; yes[i]; i++)
		if (pg_strcasecmp(s, yes[i]) == 0)
			return true;
	return false;
}

/* "a", "b", "c" (at most 10, then ...) for messages */
static char *
mlc_label_list(const MlcLabel *lab, int K, uint8 kind)
{
	StringInfoData buf;

	initStringInfo(&buf);
	for (int k = 0; k < K && k < 10; k++)
		appendStringInfo(&buf, "%s\"%s\"", k > 0 ? ", " : "",
						 mlc_key_text(kind, lab[k].key, lab[k].len));
	if (K > 10)
		appendStringInfo(&buf, " and %d more", K - 10);
	return buf.data;
}

/* ---------- bytea states ---------- */

/* Error for a state that was not made by these aggregates */
static void
pg_attribute_noreturn()
mlc_ms_corrupt(const char *why)
{
	ereport(ERROR,
			(errcode(ERRCODE_DATA_CORRUPTED),
			 errmsg("invalid mlcycle metric state: %s", why),
			 errhint("Metric states are made by the ml_* metric aggregates; do not build or edit them by hand.")));
}

/* Start of the positive-label key */
static inline char *
mlc_ms_pos(const MlcMState *st)
{
	return VARDATA(st->raw) + MLC_HDR_SIZE;
}

/* Start of the label area */
static inline char *
mlc_ms_labels(const MlcMState *st)
{
	return mlc_ms_pos(st) + st->h.pos_len;
}

/* Start of the payload */
static inline char *
mlc_ms_payload(const MlcMState *st)
{
	return mlc_ms_labels(st) + st->h.labels_cap;
}

/* Write the header copy back into the varlena */
static inline void
mlc_ms_sync(MlcMState *st)
{
	memcpy(VARDATA(st->raw), &st->h, MLC_HDR_SIZE);
}

/* Most labels a payload kind holds */
static uint32
mlc_ms_max_labels(uint8 payload)
{
	return payload == MLC_PAY_CONFUSION ? MLC_METRIC_MAX_LABELS : 2;
}

/* Payload bytes a fixed-size payload needs, or 0 for the growing ones */
static uint64
mlc_ms_fixed_cap(const MlcMStateHeader *h)
{
	switch (h->payload)
	{
		case MLC_PAY_CONFUSION:
			return (uint64) h->kcap * h->kcap * sizeof(int64);
		case MLC_PAY_PROB:
			return 2 * MLC_PROB_NVALS * sizeof(double);
		case MLC_PAY_CALIB:
			return (uint64) h->param * MLC_CALIB_NVALS * sizeof(double);
		default:
			return 0;
	}
}

/* Check the header and sizes of a state (constant time) */
static void
mlc_ms_check_header(const MlcMStateHeader *h, Size size)
{
	if (h->magic != MLC_MSTATE_MAGIC)
		mlc_ms_corrupt("bad magic number");
	if (h->version != MLC_MSTATE_VERSION)
		mlc_ms_corrupt("unknown format version");
	if (h->payload < MLC_PAY_CONFUSION || h->payload > MLC_PAY_CALIB)
		mlc_ms_corrupt("unknown payload");
	if (h->kind < MLC_LK_BOOL || h->kind > MLC_LK_TEXT)
		mlc_ms_corrupt("unknown label kind");
	if ((h->flags & ~MLC_MS_HAS_POS) != 0 ||
		(!(h->flags & MLC_MS_HAS_POS) && h->pos_len != 0))
		mlc_ms_corrupt("bad flags");
	if (h->reserved8[0] || h->reserved8[1] || h->reserved8[2] || h->reserved32)
		mlc_ms_corrupt("reserved bytes are set");
	if (h->nlabels < 1 || h->nlabels > mlc_ms_max_labels(h->payload))
		mlc_ms_corrupt("bad label count");
	if (h->pos_len > MLC_METRIC_MAX_LABEL_LEN || h->labels_len > h->labels_cap ||
		h->used > h->cap || h->cap > MaxAllocSize)
		mlc_ms_corrupt("bad lengths");
	if ((uint64) MLC_HDR_SIZE + h->pos_len + h->labels_cap + h->cap != size)
		mlc_ms_corrupt("length does not match its contents");
	if (h->average > (h->payload == MLC_PAY_CONFUSION ? MLC_AVG_WEIGHTED : 0))
		mlc_ms_corrupt("bad average");
	if (h->payload == MLC_PAY_CONFUSION
		? (h->kcap < h->nlabels || h->kcap > MLC_METRIC_MAX_LABELS)
		: h->kcap != 0)
		mlc_ms_corrupt("bad matrix size");
	if (h->payload == MLC_PAY_CALIB
		? (h->param < 1 || h->param > MLC_METRIC_MAX_BINS)
		: h->param != 0)
		mlc_ms_corrupt("bad bin count");
	if (h->payload == MLC_PAY_RANKED
		? (h->used != h->cap || h->cap % sizeof(double) != 0 ||
		   h->cap < (uint64) h->nlabels * sizeof(int64))
		: (h->cap != mlc_ms_fixed_cap(h) || h->used != h->cap))
		mlc_ms_corrupt("bad payload size");
}

/* Step to the next label of the label area; false at its end */
static bool
mlc_ms_next_label(const MlcMState *st, uint32 *off, const char **key, uint32 *len)
{
	const char *area = mlc_ms_labels(st);
	uint32		l;

	if (*off >= st->h.labels_len)
		return false;
	if (st->h.labels_len - *off < sizeof(uint32))
		mlc_ms_corrupt("truncated label");
	memcpy(&l, area + *off, sizeof(uint32));
	if (l > MLC_METRIC_MAX_LABEL_LEN || l > st->h.labels_len - *off - sizeof(uint32))
		mlc_ms_corrupt("truncated label");
	*key = area + *off + sizeof(uint32);
	*len = l;
	*off += sizeof(uint32) + l;
	return true;
}

/* qsort_arg comparator of labels; arg points to the kind */
static int
mlc_label_cmp(const void *a, const void *b, void *arg)
{
	const MlcLabel *x = (const MlcLabel *) a;
	const MlcLabel *y = (const MlcLabel *) b;

	return mlc_key_cmp(*(uint8 *) arg, x->key, x->len, y->key, y->len);
}

/* The labels in sort order, each checked: well formed, counted, distinct */
static MlcLabel *
mlc_ms_sorted_labels(const MlcMState *st)
{
	MlcLabel   *lab = palloc(sizeof(MlcLabel) * st->h.nlabels);
	uint32		off = 0;
	uint32		n = 0;
	const char *key;
	uint32		len;
	uint8		kind = st->h.kind;

	while (mlc_ms_next_label(st, &off, &key, &len))
	{
		if (n >= st->h.nlabels)
			mlc_ms_corrupt("more labels than counted");
		if (!mlc_key_valid(kind, key, len))
			mlc_ms_corrupt("malformed label");
		lab[n].key = key;
		lab[n].len = len;
		lab[n].slot = n;
		n++;
	}
	if (n != st->h.nlabels)
		mlc_ms_corrupt("fewer labels than counted");
	qsort_arg(lab, n, sizeof(MlcLabel), mlc_label_cmp, &kind);
	for (uint32 k = 1; k < n; k++)
		if (mlc_key_cmp(kind, lab[k - 1].key, lab[k - 1].len, lab[k].key, lab[k].len) == 0)
			mlc_ms_corrupt("duplicate label");
	if ((st->h.flags & MLC_MS_HAS_POS) && !mlc_key_valid(kind, mlc_ms_pos(st), st->h.pos_len))
		mlc_ms_corrupt("malformed pos_label");
	return lab;
}

/* Check that every value of a confusion payload is a count */
static void
mlc_ms_check_confusion(const MlcMState *st)
{
	const char *p = mlc_ms_payload(st);
	double		total = 0;

	for (uint64 c = 0; c < (uint64) st->h.kcap * st->h.kcap; c++)
	{
		int64		v = mlc_get_i8(p, c);
		uint64		i = c / st->h.kcap,
					j = c % st->h.kcap;

		if (v < 0 || (double) v >= MLC_MAX_COUNT ||
			((i >= st->h.nlabels || j >= st->h.nlabels) && v != 0))
			mlc_ms_corrupt("bad count");
		total += (double) v;
		if ((c & 0xFFFF) == 0)
			CHECK_FOR_INTERRUPTS();
	}
	if (total >= MLC_MAX_COUNT)
		mlc_ms_corrupt("bad count");
}

/*
 * Check a float8 payload of blocks, each a count then (sum, compensation)
 * pairs; block b belongs to label slot b % 2, and unused slots hold zeros.
 */
static void
mlc_ms_check_sums(const MlcMState *st, int nblocks, int block_len)
{
	const char *p = mlc_ms_payload(st);

	for (int b = 0; b < nblocks; b++)
	{
		int64		base = (int64) b * block_len;
		double		n = mlc_get_f8(p, base);

		if (!(n >= 0 && n < MLC_MAX_COUNT) || n != floor(n))
			mlc_ms_corrupt("bad count");
		for (int v = 1; v < block_len; v++)
		{
			double		x = mlc_get_f8(p, base + v);

			if (!isfinite(x) || (b % 2 >= (int) st->h.nlabels && x != 0))
				mlc_ms_corrupt("bad sum");
		}
		if (b % 2 >= (int) st->h.nlabels && n != 0)
			mlc_ms_corrupt("bad count");
	}
}

/* Check a ranked payload: counts that add up, finite scores, highest first */
static void
mlc_ms_check_ranked(const MlcMState *st)
{
	const char *p = mlc_ms_payload(st);
	uint64		nscores = (st->h.used - (uint64) st->h.nlabels * sizeof(int64)) / sizeof(double);
	uint64		at = st->h.nlabels;

	for (uint32 s = 0; s < st->h.nlabels; s++)
	{
		int64		n = mlc_get_i8(p, s);

		if (n < 0 || (uint64) n > nscores - (at - st->h.nlabels))
			mlc_ms_corrupt("bad count");
		for (int64 i = 0; i < n; i++)
		{
			double		v = mlc_get_f8(p, at + i);

			if (!isfinite(v) || (i > 0 && v > mlc_get_f8(p, at + i - 1)))
				mlc_ms_corrupt("bad score");
			if ((i & 0xFFFF) == 0)
				CHECK_FOR_INTERRUPTS();
		}
		at += n;
	}
	if (at - st->h.nlabels != nscores)
		mlc_ms_corrupt("bad count");
}

/*
 * Open a state for reading: header and sizes always, and with full also every
 * label and payload value.  payload 0 accepts any payload kind.
 */
static void
mlc_ms_open(bytea *raw, uint8 payload, bool full, MlcMState *st)
{
	Size		size = VARSIZE(raw) - VARHDRSZ;

	if (size < MLC_HDR_SIZE)
		mlc_ms_corrupt("too short");
	st->raw = raw;
	memcpy(&st->h, VARDATA(raw), MLC_HDR_SIZE);
	mlc_ms_check_header(&st->h, size);
	if (payload != 0 && st->h.payload != payload)
		mlc_ms_corrupt("state of another kind of aggregate");
	if (!full)
		return;
	pfree(mlc_ms_sorted_labels(st));
	if (st->h.payload == MLC_PAY_CONFUSION)
		mlc_ms_check_confusion(st);
	else if (st->h.payload == MLC_PAY_RANKED)
		mlc_ms_check_ranked(st);
	else if (st->h.payload == MLC_PAY_PROB)
		mlc_ms_check_sums(st, 2, MLC_PROB_NVALS);
	else
		mlc_ms_check_sums(st, st->h.param * 2, MLC_CALIB_NVALS / 2);
}

/*
 * Allocate a state of the given capacities.  New and grown states are built
 * in the current (per-row) context: the executor copies a new pass-by-
 * reference state into the aggregate context and frees the old one; it is
 * the copy in the aggregate context that is later updated in place.
 */
static bytea *
mlc_ms_alloc(uint32 pos_len, uint64 labels_cap, uint64 cap)
{
	uint64		total = (uint64) VARHDRSZ + MLC_HDR_SIZE + pos_len + labels_cap + cap;
	bytea	   *raw;

	if (total > MLC_MAX_STATE_BYTES || labels_cap > PG_UINT32_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("metric state would exceed 1 GB"),
				 errhint("Compute the metric on a sample (TABLESAMPLE) or per group of rows.")));
	raw = palloc0(total);
	SET_VARSIZE(raw, total);
	return raw;
}

/* A new state holding its settings and no label yet */
static void
mlc_ms_create(MlcMState *st, uint8 payload, uint8 kind, uint8 average,
			  const MlcKey *pos, uint32 param)
{
	MlcMStateHeader *h = &st->h;

	memset(h, 0, MLC_HDR_SIZE);
	h->magic = MLC_MSTATE_MAGIC;
	h->version = MLC_MSTATE_VERSION;
	h->payload = payload;
	h->kind = kind;
	h->average = average;
	h->flags = pos ? MLC_MS_HAS_POS : 0;
	h->pos_len = pos ? pos->len : 0;
	h->param = param;
	h->kcap = payload == MLC_PAY_CONFUSION ? 4 : 0;
	h->labels_cap = 32;
	h->cap = mlc_ms_fixed_cap(h);
	h->used = h->cap;
	st->raw = mlc_ms_alloc(h->pos_len, h->labels_cap, h->cap);
	if (pos)
		memcpy(mlc_ms_pos(st), pos->data, pos->len);
	mlc_ms_sync(st);
}

/* Capacity doubled until it holds need (need itself when that is larger) */
static uint64
mlc_grown(uint64 cap, uint64 need)
{
	return need <= cap ? cap : Max(need, cap * 2);
}

/*
 * Copy the state into a new one whose label area and matrix stride hold at
 * least the given sizes; capacities grow geometrically.
 */
static void
mlc_ms_resize(MlcMState *st, uint64 labels_need, uint32 kcap_need)
{
	MlcMState	old = *st;
	uint64		labels_cap = mlc_grown(old.h.labels_cap, Max(labels_need, old.h.labels_len));
	uint32		kcap = old.h.kcap;
	uint64		cap;

	if (old.h.payload == MLC_PAY_CONFUSION)
	{
		kcap = Min(mlc_grown(kcap, kcap_need), MLC_METRIC_MAX_LABELS);
		cap = (uint64) kcap * kcap * sizeof(int64);
	}
	else
		cap = old.h.cap;
	st->raw = mlc_ms_alloc(old.h.pos_len, labels_cap, cap);
	st->h.labels_cap = (uint32) labels_cap;
	st->h.kcap = kcap;
	st->h.cap = cap;
	if (old.h.payload == MLC_PAY_CONFUSION)
		st->h.used = cap;
	mlc_ms_sync(st);
	memcpy(mlc_ms_pos(st), mlc_ms_pos(&old), old.h.pos_len);
	memcpy(mlc_ms_labels(st), mlc_ms_labels(&old), old.h.labels_len);
	if (old.h.payload != MLC_PAY_CONFUSION)
		memcpy(mlc_ms_payload(st), mlc_ms_payload(&old), old.h.used);
	else
		for (uint32 i = 0; i < old.h.nlabels; i++)
			memcpy(mlc_ms_payload(st) + (uint64) i * kcap * sizeof(int64),
				   mlc_ms_payload(&old) + (uint64) i * old.h.kcap * sizeof(int64),
				   old.h.nlabels * sizeof(int64));
}

/* Slot of a label key, or -1 when the state has not seen it */
static int
mlc_ms_find(const MlcMState *st, const MlcKey *k)
{
	uint32		off = 0;
	int			slot = 0;
	const char *key;
	uint32		len;

	while (mlc_ms_next_label(st, &off, &key, &len))
	{
		if (len == k->len && memcmp(key, k->data, len) == 0)
			return slot;
		slot++;
	}
	if (slot != (int) st->h.nlabels)
		mlc_ms_corrupt("label count does not match the labels");
	return -1;
}

/* Error for a third label given to a binary metric */
static void
pg_attribute_noreturn()
mlc_too_many_labels(const MlcMState *st, const MlcKey *k)
{
	MlcLabel   *lab = mlc_ms_sorted_labels(st);

	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("label \"%s\" is a third class, and this metric is binary",
					mlc_key_text(st->h.kind, k->data, k->len)),
			 errdetail("The labels seen before are %s.", mlc_label_list(lab, st->h.nlabels, st->h.kind)),
			 errhint("Score one class against the rest with a boolean label, as in ml_roc_auc(score, label = 'a').")));
}

/* Add a label key (known to be new) and return its slot */
static int
mlc_ms_add_label(MlcMState *st, const MlcKey *k)
{
	uint32		max = mlc_ms_max_labels(st->h.payload);
	char	   *at;

	if (st->h.nlabels >= max)
	{
		if (st->h.payload != MLC_PAY_CONFUSION)
			mlc_too_many_labels(st, k);
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("more than %d distinct labels", MLC_METRIC_MAX_LABELS),
				 errhint("Classification metrics count pairs of class labels; for numeric predictions use the regression metrics, such as ml_mae.")));
	}
	if ((uint64) st->h.labels_len + sizeof(uint32) + k->len > st->h.labels_cap ||
		(st->h.payload == MLC_PAY_CONFUSION && st->h.nlabels + 1 > st->h.kcap))
		mlc_ms_resize(st, (uint64) st->h.labels_len + sizeof(uint32) + k->len,
					  st->h.nlabels + 1);
	at = mlc_ms_labels(st) + st->h.labels_len;
	memcpy(at, &k->len, sizeof(uint32));
	memcpy(at + sizeof(uint32), k->data, k->len);
	st->h.labels_len += sizeof(uint32) + k->len;
	st->h.nlabels++;
	mlc_ms_sync(st);
	return st->h.nlabels - 1;
}

/* Slot of a label key, adding it when new */
static int
mlc_ms_slot(MlcMState *st, const MlcKey *k)
{
	int			slot = mlc_ms_find(st, k);

	return slot >= 0 ? slot : mlc_ms_add_label(st, k);
}

/* Error unless a state has the given settings: label kind, average, pos_label, bins */
static void
mlc_ms_check_settings(const MlcMState *st, uint8 kind, uint8 average, uint8 flags,
					  const char *pos, uint32 pos_len, uint32 param)
{
	static const char *const averages[] = {"(none)", "binary", "macro", "micro", "weighted"};

	if (st->h.kind != kind)
		mlc_ms_corrupt("label kinds differ");
	if (st->h.average != average)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("average must be the same on every row"),
				 errdetail("Got \"%s\" and \"%s\".", averages[st->h.average], averages[average])));
	if (st->h.param != param)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("bins must be the same on every row"),
				 errdetail("Got %u and %u.", st->h.param, param)));
	if (st->h.flags != flags || st->h.pos_len != pos_len ||
		memcmp(mlc_ms_pos(st), pos, pos_len) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("pos_label must be the same on every row")));
}

/*
 * The state a transition function updates: a new one on the first row, else
 * the argument, checked (header only) and with the same settings.  It is
 * updated in place when the executor owns it, else copied first.
 */
static void
mlc_ms_begin(FunctionCallInfo fcinfo, MlcMState *st, uint8 payload, uint8 kind,
			 uint8 average, const MlcKey *pos, uint32 param)
{
	bytea	   *raw;

	if (PG_ARGISNULL(0))
	{
		mlc_ms_create(st, payload, kind, average, pos, param);
		return;
	}
	raw = PG_GETARG_BYTEA_P(0);
	if (!AggCheckCallContext(fcinfo, NULL) && (Pointer) raw == DatumGetPointer(PG_GETARG_DATUM(0)))
		raw = (bytea *) DatumGetPointer(datumCopy(PointerGetDatum(raw), false, -1));
	mlc_ms_open(raw, payload, false, st);
	mlc_ms_check_settings(st, kind, average, pos ? MLC_MS_HAS_POS : 0,
						  pos ? pos->data : "", pos ? pos->len : 0, param);
}

/* The state argument unchanged (rows with a NULL are skipped) */
static Datum
mlc_ms_unchanged(FunctionCallInfo fcinfo)
{
	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	PG_RETURN_DATUM(PG_GETARG_DATUM(0));
}

/* The optional pos_label argument as a key; false when the call has none */
static bool
mlc_pos_arg(FunctionCallInfo fcinfo, int argno, MlcLabelReader *r, MlcKey *pos)
{
	if (PG_NARGS() <= argno)
		return false;
	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("pos_label must not be null"),
				 errhint("Leave pos_label out to use the default positive class.")));
	mlc_read_key(r, PG_GETARG_DATUM(argno), pos, "pos_label");
	return true;
}

/* The average argument: 1 + its index in binary, macro, micro, weighted */
static uint8
mlc_average_arg(FunctionCallInfo fcinfo, int argno)
{
	static const char *const names[] = {"binary", "macro", "micro", "weighted", NULL};

	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("average must not be null"),
				 errhint("Valid values are: %s.", mlc_join_names(names))));
	return 1 + mlc_choose(text_to_cstring(PG_GETARG_TEXT_PP(argno)), names, "average");
}

/* Open a state argument of a final function, checking every value */
static void
mlc_ms_final_open(FunctionCallInfo fcinfo, uint8 payload, MlcMState *st)
{
	mlc_ms_open(PG_GETARG_BYTEA_P(0), payload, true, st);
}

/*
 * Sorted index of the positive class among K sorted labels, or -1 when it is
 * not among them: pos_label when given; else the label that reads true, 1,
 * yes, y, t or pos when exactly one does; else the second label.
 */
static int
mlc_positive(const MlcMState *st, const MlcLabel *lab, int K)
{
	int			found = -1,
				ntrue = 0;

	if (st->h.flags & MLC_MS_HAS_POS)
	{
		for (int k = 0; k < K; k++)
			if (lab[k].len == st->h.pos_len &&
				memcmp(lab[k].key, mlc_ms_pos(st), st->h.pos_len) == 0)
				return k;
		if (K >= 2)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("pos_label \"%s\" is not one of the labels",
							mlc_key_text(st->h.kind, mlc_ms_pos(st), st->h.pos_len)),
					 errdetail("The labels are %s.", mlc_label_list(lab, K, st->h.kind)),
					 errhint("Pass one of the labels, or leave pos_label out.")));
		return -1;
	}
	for (int k = 0; k < K; k++)
		if (mlc_reads_true(mlc_key_text(st->h.kind, lab[k].key, lab[k].len)))
		{
			ntrue++;
			found = k;
		}
	if (ntrue == 1)
		return found;
	return K >= 2 ? 1 : -1;
}

/* Slot of the positive class, or -1 when no label seen is positive */
static int
mlc_positive_slot(const MlcMState *st)
{
	MlcLabel   *lab = mlc_ms_sorted_labels(st);
	int			k = mlc_positive(st, lab, st->h.nlabels);

	return k < 0 ? -1 : lab[k].slot;
}

/* ---------- ranking states ---------- */

static void mlc_sort_desc(double *a, uint64 n);

/* Most scores a ranking state keeps: its serial form stays under 1 GB */
#define MLC_MAX_SCORES	((int64) ((MLC_MAX_STATE_BYTES - 65536) / sizeof(double)))

/* Point key[] and keylen[] at the state's labels */
static void
mlc_score_keys(MlcScoreState *ss)
{
	uint32		off = 0;
	int			s = 0;
	const char *key;
	uint32		len;

	while (s < 2 && mlc_ms_next_label(&ss->ms, &off, &key, &len))
	{
		ss->key[s] = key;
		ss->keylen[s++] = len;
	}
}

/* Slot of a label, added when new (a third is an error) */
static inline int
mlc_score_slot(MlcScoreState *ss, const MlcKey *k)
{
	int			slot;

	for (uint32 s = 0; s < ss->ms.h.nlabels; s++)
		if (ss->keylen[s] == k->len && memcmp(ss->key[s], k->data, k->len) == 0)
			return s;
	slot = mlc_ms_add_label(&ss->ms, k);
	mlc_score_keys(ss);
	return slot;
}

/* Error unless a state can take n more scores */
static void
mlc_score_check_room(const MlcScoreState *ss, int64 n)
{
	if (n > MLC_MAX_SCORES - ss->n[0] - ss->n[1])
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("metric state would exceed 1 GB"),
				 errhint("Compute the metric on a sample (TABLESAMPLE) or per group of rows.")));
}

/* Append n scores to a slot (unsorted from then on); arrays grow geometrically */
static inline void
mlc_score_append(MlcScoreState *ss, int slot, const double *v, int64 n)
{
	if (unlikely(ss->n[slot] + n > ss->cap[slot]))
	{
		int64		cap;

		mlc_score_check_room(ss, n);
		cap = Min(Max(ss->n[slot] + n, Max(ss->cap[slot] * 2, 256)), MLC_MAX_SCORES);
		ss->v[slot] = ss->v[slot] ? repalloc_huge(ss->v[slot], cap * sizeof(double)) :
			MemoryContextAllocHuge(CurrentMemoryContext, cap * sizeof(double));
		ss->cap[slot] = cap;
	}
	memcpy(ss->v[slot] + ss->n[slot], v, n * sizeof(double));
	ss->n[slot] += n;
	ss->sorted = false;
}

/* Merge n scores, highest first, into a slot of a sorted state */
static void
mlc_score_merge(MlcScoreState *ss, int slot, const double *v, int64 n)
{
	const double *a = ss->v[slot];
	int64		na = ss->n[slot],
				i = 0,
				j = 0,
				k = 0;
	double	   *out;

	mlc_score_check_room(ss, n);
	out = MemoryContextAllocHuge(CurrentMemoryContext, Max(na + n, 1) * sizeof(double));
	while (i < na && j < n)
	{
		out[k++] = a[i] >= v[j] ? a[i++] : v[j++];
		if ((k & 0xFFFF) == 0)
			CHECK_FOR_INTERRUPTS();
	}
	memcpy(out + k, a + i, (na - i) * sizeof(double));
	memcpy(out + k + na - i, v + j, (n - j) * sizeof(double));
	if (ss->v[slot])
		pfree(ss->v[slot]);
	ss->v[slot] = out;
	ss->n[slot] = ss->cap[slot] = na + n;
}

/* Sort every slot highest first, unless done */
static void
mlc_score_sort(MlcScoreState *ss)
{
	if (ss->sorted)
		return;
	for (uint32 s = 0; s < ss->ms.h.nlabels; s++)
		mlc_sort_desc(ss->v[s], ss->n[s]);
	ss->sorted = true;
}

/* Give ss (in the current context) the settings and labels of src, no scores */
static void
mlc_score_init_from(MlcScoreState *ss, const MlcMState *src)
{
	memset(ss, 0, sizeof(MlcScoreState));
	ss->ms.h = src->h;
	ss->ms.h.labels_cap = src->h.labels_len;
	ss->ms.h.cap = ss->ms.h.used = 0;
	ss->ms.raw = mlc_ms_alloc(src->h.pos_len, src->h.labels_len, 0);
	mlc_ms_sync(&ss->ms);
	memcpy(mlc_ms_pos(&ss->ms), mlc_ms_pos(src), src->h.pos_len);
	memcpy(mlc_ms_labels(&ss->ms), mlc_ms_labels(src), src->h.labels_len);
	mlc_score_keys(ss);
	ss->sorted = true;
}

/* ---------- transition and combine functions ---------- */

/*
 * mlcycle.metric_cls_trans(state, pred, label [, average [, pos_label]]):
 * count the (label, pred) pair.  Rows with a NULL pred or label are skipped.
 */
Datum
mlc_agg_cls_trans(PG_FUNCTION_ARGS)
{
	MlcLabelReader *r = mlc_label_reader(fcinfo, 1);
	MlcKey		pos,
				kp,
				kl;
	bool		has_pos = mlc_pos_arg(fcinfo, 4, r, &pos);
	uint8		average = PG_NARGS() > 3 ? mlc_average_arg(fcinfo, 3) : 0;
	MlcMState	st;
	int			ip,
				il;
	char	   *cell;

	if (PG_ARGISNULL(1) || PG_ARGISNULL(2))
		return mlc_ms_unchanged(fcinfo);
	mlc_read_key(r, PG_GETARG_DATUM(1), &kp, "pred");
	mlc_read_key(r, PG_GETARG_DATUM(2), &kl, "label");
	mlc_ms_begin(fcinfo, &st, MLC_PAY_CONFUSION, r->kind, average, has_pos ? &pos : NULL, 0);
	ip = mlc_ms_slot(&st, &kp);
	il = mlc_ms_slot(&st, &kl);
	cell = mlc_ms_payload(&st) + ((uint64) il * st.h.kcap + ip) * sizeof(int64);
	mlc_put_i8(cell, 0, mlc_get_i8(cell, 0) + 1);
	PG_RETURN_BYTEA_P(st.raw);
}

/*
 * mlcycle.metric_score_trans(state, score, label [, pos_label]): keep the
 * score with the scores of its label.  Rows with a NULL are skipped.
 */
Datum
mlc_agg_score_trans(PG_FUNCTION_ARGS)
{
	MlcLabelReader *r = mlc_label_reader(fcinfo, 2);
	MlcScoreState *ss = PG_ARGISNULL(0) ? NULL : (MlcScoreState *) PG_GETARG_POINTER(0);
	MemoryContext aggcxt,
				old;
	MlcKey		pos,
				kl;
	bool		has_pos;
	double		score;

	if (!AggCheckCallContext(fcinfo, &aggcxt))
		elog(ERROR, "mlcycle: metric_score_trans called outside an aggregate");
	has_pos = mlc_pos_arg(fcinfo, 3, r, &pos);
	if (PG_ARGISNULL(1) || PG_ARGISNULL(2))
	{
		if (ss == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(ss);
	}
	score = PG_GETARG_FLOAT8(1);
	mlc_check_finite(score, "score");
	mlc_read_key(r, PG_GETARG_DATUM(2), &kl, "label");
	old = MemoryContextSwitchTo(aggcxt);
	if (ss == NULL)
	{
		ss = palloc0(sizeof(MlcScoreState));
		mlc_ms_create(&ss->ms, MLC_PAY_RANKED, r->kind, 0, has_pos ? &pos : NULL, 0);
	}
	else if (has_pos || ss->ms.h.flags != 0 || ss->ms.h.kind != r->kind)
		mlc_ms_check_settings(&ss->ms, r->kind, 0, has_pos ? MLC_MS_HAS_POS : 0,
							  has_pos ? pos.data : "", has_pos ? pos.len : 0, 0);
	mlc_score_append(ss, mlc_score_slot(ss, &kl), &score, 1);
	MemoryContextSwitchTo(old);
	PG_RETURN_POINTER(ss);
}

/*
 * mlcycle.metric_prob_trans(state, prob, label [, pos_label]): add the row's
 * log loss and squared error under both readings of its label slot.
 */
Datum
mlc_agg_prob_trans(PG_FUNCTION_ARGS)
{
	MlcLabelReader *r = mlc_label_reader(fcinfo, 2);
	MlcKey		pos,
				kl;
	bool		has_pos = mlc_pos_arg(fcinfo, 3, r, &pos);
	MlcMState	st;
	double		p,
				c,
				v[MLC_PROB_NVALS];
	char	   *at;

	if (PG_ARGISNULL(1) || PG_ARGISNULL(2))
		return mlc_ms_unchanged(fcinfo);
	p = PG_GETARG_FLOAT8(1);
	mlc_check_probability(p);
	mlc_read_key(r, PG_GETARG_DATUM(2), &kl, "label");
	mlc_ms_begin(fcinfo, &st, MLC_PAY_PROB, r->kind, 0, has_pos ? &pos : NULL, 0);
	at = mlc_ms_payload(&st) + mlc_ms_slot(&st, &kl) * MLC_PROB_NVALS * sizeof(double);
	memcpy(v, at, sizeof(v));
	/* scikit-learn 1.2: clip to [eps, 1 - eps], then renormalize the pair */
	c = Min(Max(p, MLC_LOG_LOSS_EPS), 1.0 - MLC_LOG_LOSS_EPS);
	v[MLC_PROB_COUNT] += 1;
	mlc_kbn_add(&v[MLC_PROB_LOSS_POS], &v[MLC_PROB_LOSS_POS + 1], -log(c / ((1.0 - c) + c)));
	mlc_kbn_add(&v[MLC_PROB_LOSS_NEG], &v[MLC_PROB_LOSS_NEG + 1], -log((1.0 - c) / ((1.0 - c) + c)));
	mlc_kbn_add(&v[MLC_PROB_SQ_POS], &v[MLC_PROB_SQ_POS + 1], (1.0 - p) * (1.0 - p));
	mlc_kbn_add(&v[MLC_PROB_SQ_NEG], &v[MLC_PROB_SQ_NEG + 1], p * p);
	memcpy(at, v, sizeof(v));
	PG_RETURN_BYTEA_P(st.raw);
}

/* Bin of a probability: scikit-learn's searchsorted over i / bins, i = 1 .. bins - 1 */
static int
mlc_calib_bin(double p, int bins)
{
	double		step = 1.0 / bins;
	int			b = (int) (p * bins);

	b = Max(0, Min(b, bins - 1));
	while (b > 0 && (double) b * step >= p)
		b--;
	while (b < bins - 1 && (double) (b + 1) * step < p)
		b++;
	return b;
}

/* The bins argument, 10 when the call has none */
static uint32
mlc_bins_arg(FunctionCallInfo fcinfo, int argno)
{
	int32		bins;

	if (PG_NARGS() <= argno)
		return 10;
	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("bins must not be null")));
	bins = PG_GETARG_INT32(argno);
	if (bins < 1 || bins > MLC_METRIC_MAX_BINS)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("bins must be between 1 and %d, not %d", MLC_METRIC_MAX_BINS, bins)));
	return (uint32) bins;
}

/*
 * mlcycle.metric_calibration_trans(state, prob, label [, bins [, pos_label]]):
 * count the row and add its probability in its bin, by label slot.
 */
Datum
mlc_agg_calib_trans(PG_FUNCTION_ARGS)
{
	MlcLabelReader *r = mlc_label_reader(fcinfo, 2);
	MlcKey		pos,
				kl;
	bool		has_pos = mlc_pos_arg(fcinfo, 4, r, &pos);
	uint32		bins = mlc_bins_arg(fcinfo, 3);
	MlcMState	st;
	double		p,
				v[3];
	char	   *at;
	int			slot;

	if (PG_ARGISNULL(1) || PG_ARGISNULL(2))
		return mlc_ms_unchanged(fcinfo);
	p = PG_GETARG_FLOAT8(1);
	mlc_check_probability(p);
	mlc_read_key(r, PG_GETARG_DATUM(2), &kl, "label");
	mlc_ms_begin(fcinfo, &st, MLC_PAY_CALIB, r->kind, 0, has_pos ? &pos : NULL, bins);
	slot = mlc_ms_slot(&st, &kl);
	at = mlc_ms_payload(&st) +
		((int64) mlc_calib_bin(p, bins) * MLC_CALIB_NVALS + slot * 3) * sizeof(double);
	memcpy(v, at, sizeof(v));
	v[0] += 1;
	mlc_kbn_add(&v[1], &v[2], p);
	memcpy(at, v, sizeof(v));
	PG_RETURN_BYTEA_P(st.raw);
}

/* Add b's (sum, compensation) pair at index i into a's */
static void
mlc_merge_pair(char *a, const char *b, int64 i)
{
	double		s = mlc_get_f8(a, i),
				c = mlc_get_f8(a, i + 1);

	mlc_kbn_add(&s, &c, mlc_get_f8(b, i));
	mlc_put_f8(a, i, s);
	mlc_put_f8(a, i + 1, c + mlc_get_f8(b, i + 1));
}

/* Add b's block (a count, then (sum, compensation) pairs) into a's */
static void
mlc_merge_block(char *a, const char *b, int block_len)
{
	mlc_put_f8(a, 0, mlc_get_f8(a, 0) + mlc_get_f8(b, 0));
	for (int v = 1; v < block_len; v += 2)
		mlc_merge_pair(a, b, v);
}

/* Merge b's payload into st, b's slot s being st's slot map[s] */
static void
mlc_ms_merge_payload(MlcMState *st, const MlcMState *b, const int *map)
{
	char	   *pa = mlc_ms_payload(st);
	const char *pb = mlc_ms_payload(b);

	if (st->h.payload == MLC_PAY_CONFUSION)
	{
		for (uint32 i = 0; i < b->h.nlabels; i++)
			for (uint32 j = 0; j < b->h.nlabels; j++)
			{
				int64		c = (int64) map[i] * st->h.kcap + map[j];

				mlc_put_i8(pa, c, mlc_get_i8(pa, c) + mlc_get_i8(pb, (int64) i * b->h.kcap + j));
			}
	}
	else if (st->h.payload == MLC_PAY_PROB)
	{
		for (uint32 s = 0; s < b->h.nlabels; s++)
			mlc_merge_block(pa + (int64) map[s] * MLC_PROB_NVALS * sizeof(double),
							pb + (int64) s * MLC_PROB_NVALS * sizeof(double), MLC_PROB_NVALS);
	}
	else
	{
		for (uint32 g = 0; g < st->h.param; g++)
			for (uint32 s = 0; s < b->h.nlabels; s++)
				mlc_merge_block(pa + ((int64) g * MLC_CALIB_NVALS + map[s] * 3) * sizeof(double),
								pb + ((int64) g * MLC_CALIB_NVALS + s * 3) * sizeof(double), 3);
	}
}

/*
 * mlcycle.metric_combine(a, b): merge two partial states of the same
 * aggregate (labels united, counts, pairs or sums added).  Both are checked
 * in full; the result is a new state.
 */
Datum
mlc_agg_combine(PG_FUNCTION_ARGS)
{
	MlcMState	a,
				b,
				st;
	int		   *map;
	uint32		off = 0;
	int			s = 0;
	const char *key;
	uint32		len;

	mlc_ms_open(PG_GETARG_BYTEA_P(0), 0, true, &a);
	mlc_ms_open(PG_GETARG_BYTEA_P(1), 0, true, &b);
	if (a.h.payload != b.h.payload)
		mlc_ms_corrupt("states of different kinds of aggregates");
	if (a.h.payload == MLC_PAY_RANKED)
		mlc_ms_corrupt("a ranking state is combined by metric_score_combine");
	mlc_ms_check_settings(&a, b.h.kind, b.h.average, b.h.flags, mlc_ms_pos(&b), b.h.pos_len,
						  b.h.param);
	st = a;
	mlc_ms_resize(&st, (uint64) a.h.labels_len + b.h.labels_len,
				  Min(a.h.nlabels + b.h.nlabels, MLC_METRIC_MAX_LABELS));
	map = palloc(sizeof(int) * b.h.nlabels);
	while (mlc_ms_next_label(&b, &off, &key, &len))
	{
		MlcKey		k;

		k.data = key;
		k.len = len;
		map[s++] = mlc_ms_slot(&st, &k);
	}
	mlc_ms_merge_payload(&st, &b, map);
	PG_RETURN_BYTEA_P(st.raw);
}

/*
 * mlcycle.metric_score_combine(a, b): merge two ranking states; sorted
 * slots are merged in linear time, so the leader of a parallel plan does not
 * sort again.
 */
Datum
mlc_agg_score_combine(PG_FUNCTION_ARGS)
{
	MlcScoreState *a = PG_ARGISNULL(0) ? NULL : (MlcScoreState *) PG_GETARG_POINTER(0);
	MlcScoreState *b = PG_ARGISNULL(1) ? NULL : (MlcScoreState *) PG_GETARG_POINTER(1);
	MemoryContext aggcxt,
				old;

	if (!AggCheckCallContext(fcinfo, &aggcxt))
		elog(ERROR, "mlcycle: metric_score_combine called outside an aggregate");
	if (b == NULL)
	{
		if (a == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(a);
	}
	/* a deserialized state lives in the aggregate context: the first is kept as is */
	if (a == NULL && b->in_aggcxt)
		PG_RETURN_POINTER(b);
	old = MemoryContextSwitchTo(aggcxt);
	if (a == NULL)
	{
		a = palloc(sizeof(MlcScoreState));
		mlc_score_init_from(a, &b->ms);
	}
	else
		mlc_ms_check_settings(&a->ms, b->ms.h.kind, 0, b->ms.h.flags, mlc_ms_pos(&b->ms),
							  b->ms.h.pos_len, 0);
	for (uint32 s = 0; s < b->ms.h.nlabels; s++)
	{
		MlcKey		k;
		int			t;

		k.data = b->key[s];
		k.len = b->keylen[s];
		t = mlc_score_slot(a, &k);
		if (a->sorted && b->sorted)
			mlc_score_merge(a, t, b->v[s], b->n[s]);
		else
			mlc_score_append(a, t, b->v[s], b->n[s]);
		if (b->in_aggcxt && b->v[s] != NULL)
			pfree(b->v[s]);
	}
	MemoryContextSwitchTo(old);
	PG_RETURN_POINTER(a);
}

/*
 * mlcycle.metric_score_serial(state): the ranking state as a bytea of
 * payload MLC_PAY_RANKED, each slot sorted (in the worker that made it).
 */
Datum
mlc_agg_score_serial(PG_FUNCTION_ARGS)
{
	MlcScoreState *ss = (MlcScoreState *) PG_GETARG_POINTER(0);
	uint32		nl = ss->ms.h.nlabels;
	MlcMState	st;
	char	   *p;
	uint64		at = (uint64) nl * sizeof(int64);

	mlc_score_sort(ss);
	st.h = ss->ms.h;
	st.h.labels_cap = st.h.labels_len;
	st.h.cap = st.h.used = at + (uint64) (ss->n[0] + ss->n[1]) * sizeof(double);
	st.raw = mlc_ms_alloc(st.h.pos_len, st.h.labels_cap, st.h.cap);
	mlc_ms_sync(&st);
	memcpy(mlc_ms_pos(&st), mlc_ms_pos(&ss->ms), st.h.pos_len);
	memcpy(mlc_ms_labels(&st), mlc_ms_labels(&ss->ms), st.h.labels_len);
	p = mlc_ms_payload(&st);
	for (uint32 s = 0; s < nl; s++)
	{
		mlc_put_i8(p, s, ss->n[s]);
		memcpy(p + at, ss->v[s], ss->n[s] * sizeof(double));
		at += ss->n[s] * sizeof(double);
	}
	PG_RETURN_BYTEA_P(st.raw);
}

/*
 * mlcycle.metric_score_deserial(bytes, internal): a ranking state from its
 * serial form, checked in full (labels, counts, finite and sorted scores).
 */
Datum
mlc_agg_score_deserial(PG_FUNCTION_ARGS)
{
	MlcScoreState *ss;
	MlcMState	st;
	const char *p;
	uint64		at;
	MemoryContext aggcxt,
				old;

	if (!AggCheckCallContext(fcinfo, &aggcxt))
		elog(ERROR, "mlcycle: metric_score_deserial called outside an aggregate");
	mlc_ms_open(PG_GETARG_BYTEA_P(0), MLC_PAY_RANKED, true, &st);
	/* built where the combine function keeps it, so the first one is not copied */
	old = MemoryContextSwitchTo(aggcxt);
	ss = palloc(sizeof(MlcScoreState));
	mlc_score_init_from(ss, &st);
	ss->in_aggcxt = true;
	p = mlc_ms_payload(&st);
	at = (uint64) st.h.nlabels * sizeof(int64);
	for (uint32 s = 0; s < st.h.nlabels; s++)
	{
		int64		n = mlc_get_i8(p, s);

		ss->v[s] = MemoryContextAllocHuge(CurrentMemoryContext, Max(n, 1) * sizeof(double));
		memcpy(ss->v[s], p + at, n * sizeof(double));
		ss->n[s] = ss->cap[s] = n;
		at += n * sizeof(double);
	}
	MemoryContextSwitchTo(old);
	PG_RETURN_POINTER(ss);
}

/* ---------- classification finals ---------- */

/* Confusion counts of a state by sorted label */
static void
mlc_conf_build(FunctionCallInfo fcinfo, MlcMState *st, MlcConf *cf)
{
	int			K;
	const char *p;

	mlc_ms_final_open(fcinfo, MLC_PAY_CONFUSION, st);
	K = cf->K = st->h.nlabels;
	cf->kind = st->h.kind;
	cf->lab = mlc_ms_sorted_labels(st);
	cf->cell = palloc0(sizeof(double) * K * K);
	cf->tp = palloc0(sizeof(double) * K);
	cf->npred = palloc0(sizeof(double) * K);
	cf->ntrue = palloc0(sizeof(double) * K);
	cf->n = cf->correct = 0;
	p = mlc_ms_payload(st);
	for (int i = 0; i < K; i++)
		for (int j = 0; j < K; j++)
		{
			double		c = (double) mlc_get_i8(p, (int64) cf->lab[i].slot * st->h.kcap + cf->lab[j].slot);

			cf->cell[i * K + j] = c;
			cf->ntrue[i] += c;
			cf->npred[j] += c;
			cf->n += c;
			if (i == j)
			{
				cf->tp[i] = c;
				cf->correct += c;
			}
		}
}

/* Precision, recall and F1 from counts, 0 when undefined (scikit-learn 1.2) */
static void
mlc_prf(double tp, double npred, double ntrue, double *p, double *r, double *f)
{
	*p = npred > 0 ? tp / npred : 0.0;
	*r = ntrue > 0 ? tp / ntrue : 0.0;
	*f = (*p + *r) > 0 ? 2.0 * *p * *r / (*p + *r) : 0.0;
}

/* The average a state asks for: binary up to two labels, macro above, unless given */
static int
mlc_conf_average(const MlcMState *st, const MlcConf *cf)
{
	int			avg = st->h.average;

	if (avg == 0)
		avg = cf->K <= 2 ? MLC_AVG_BINARY : MLC_AVG_MACRO;
	if (avg == MLC_AVG_BINARY && cf->K > 2)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("average \"binary\" needs at most two labels, and there are %d", cf->K),
				 errdetail("The labels are %s.", mlc_label_list(cf->lab, cf->K, cf->kind)),
				 errhint("Valid averages for more than two labels are: macro, micro, weighted.")));
	return avg;
}

/* Averaged precision, recall and F1 (scikit-learn 1.2 precision_recall_fscore_support) */
static void
mlc_conf_prf(const MlcMState *st, const MlcConf *cf, double *p, double *r, double *f)
{
	int			avg = mlc_conf_average(st, cf);
	double		sp = 0,
				sr = 0,
				sf = 0,
				sw = 0,
				pk,
				rk,
				fk;

	if (avg == MLC_AVG_BINARY)
	{
		int			pos = mlc_positive(st, cf->lab, cf->K);

		if (pos < 0)
			*p = *r = *f = 0.0;
		else
			mlc_prf(cf->tp[pos], cf->npred[pos], cf->ntrue[pos], p, r, f);
		return;
	}
	if (avg == MLC_AVG_MICRO)
	{
		mlc_prf(cf->correct, cf->n, cf->n, p, r, f);
		return;
	}
	for (int k = 0; k < cf->K; k++)
	{
		double		w = avg == MLC_AVG_WEIGHTED ? cf->ntrue[k] : 1.0;

		mlc_prf(cf->tp[k], cf->npred[k], cf->ntrue[k], &pk, &rk, &fk);
		sp += pk * w;
		sr += rk * w;
		sf += fk * w;
		sw += w;
	}
	if (sw == 0)
		*p = *r = *f = 0.0;
	else
	{
		*p = sp / sw;
		*r = sr / sw;
		*f = sf / sw;
	}
}

/* Final of ml_accuracy: correct predictions over rows */
Datum
mlc_agg_accuracy_final(PG_FUNCTION_ARGS)
{
	MlcMState	st;
	MlcConf		cf;

	mlc_conf_build(fcinfo, &st, &cf);
	if (cf.n == 0)
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(cf.correct / cf.n);
}

/* Precision, recall or F1 (which: 0, 1, 2) of a confusion state */
static Datum
mlc_prf_final(FunctionCallInfo fcinfo, int which)
{
	MlcMState	st;
	MlcConf		cf;
	double		v[3];

	mlc_conf_build(fcinfo, &st, &cf);
	if (cf.n == 0)
		PG_RETURN_NULL();
	mlc_conf_prf(&st, &cf, &v[0], &v[1], &v[2]);
	PG_RETURN_FLOAT8(v[which]);
}

/* Final of ml_precision */
Datum
mlc_agg_precision_final(PG_FUNCTION_ARGS)
{
	return mlc_prf_final(fcinfo, 0);
}

/* Final of ml_recall */
Datum
mlc_agg_recall_final(PG_FUNCTION_ARGS)
{
	return mlc_prf_final(fcinfo, 1);
}

/* Final of ml_f1 */
Datum
mlc_agg_f1_final(PG_FUNCTION_ARGS)
{
	return mlc_prf_final(fcinfo, 2);
}

/* Final of ml_mcc: multiclass Matthews correlation (scikit-learn 1.2), 0 when undefined */
Datum
mlc_agg_mcc_final(PG_FUNCTION_ARGS)
{
	MlcMState	st;
	MlcConf		cf;
	double		tp = 0,
				pp = 0,
				tt = 0,
				cov_ytyp,
				cov_ypyp,
				cov_ytyt;

	mlc_conf_build(fcinfo, &st, &cf);
	if (cf.n == 0)
		PG_RETURN_NULL();
	for (int k = 0; k < cf.K; k++)
	{
		tp += cf.ntrue[k] * cf.npred[k];
		pp += cf.npred[k] * cf.npred[k];
		tt += cf.ntrue[k] * cf.ntrue[k];
	}
	cov_ytyp = cf.correct * cf.n - tp;
	cov_ypyp = cf.n * cf.n - pp;
	cov_ytyt = cf.n * cf.n - tt;
	if (cov_ypyp * cov_ytyt == 0)
		PG_RETURN_FLOAT8(0.0);
	PG_RETURN_FLOAT8(cov_ytyp / sqrt(cov_ytyt * cov_ypyp));
}

/* Final of ml_confusion_matrix: {"labels": [...], "matrix": [[...], ...]}, rows = truth */
Datum
mlc_agg_confusion_final(PG_FUNCTION_ARGS)
{
	MlcMState	st;
	MlcConf		cf;
	StringInfoData out;

	mlc_conf_build(fcinfo, &st, &cf);
	initStringInfo(&out);
	appendStringInfoString(&out, "{\"labels\": [");
	for (int k = 0; k < cf.K; k++)
	{
		if (k > 0)
			appendStringInfoString(&out, ", ");
		mlc_key_json(&out, cf.kind, cf.lab[k].key, cf.lab[k].len);
	}
	appendStringInfoString(&out, "], \"matrix\": [");
	for (int i = 0; i < cf.K; i++)
	{
		appendStringInfoString(&out, i > 0 ? ", [" : "[");
		for (int j = 0; j < cf.K; j++)
			appendStringInfo(&out, "%s%.0f", j > 0 ? ", " : "", cf.cell[i * cf.K + j]);
		appendStringInfoChar(&out, ']');
		CHECK_FOR_INTERRUPTS();
	}
	appendStringInfoString(&out, "]}");
	PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(out.data)));
}

/* ---------- score finals ---------- */

/* Descending order of float8 values */
static int
mlc_cmp_desc(const void *a, const void *b)
{
	double		x = *(const double *) a,
				y = *(const double *) b;

	return (y > x) - (y < x);
}

/*
 * Sort n finite float8 values highest first: qsort for a few, else an LSD
 * radix sort (6 passes of 11 bits, histograms made in one pass) on keys that
 * order like the values, made in place, with passes whose digit is the same
 * for every key skipped.  A million scores sort in a fraction of qsort's
 * time, with one extra buffer.
 */
static void
mlc_sort_desc(double *a, uint64 n)
{
	uint64	   *keys = (uint64 *) a,
			   *src = keys,
			   *dst;
	uint32	   *counts;

	if (n < 2)
		return;
	if (n < 1024)
	{
		qsort(a, n, sizeof(double), mlc_cmp_desc);
		return;
	}
	dst = palloc_extended(n * sizeof(uint64), MCXT_ALLOC_HUGE);
	counts = palloc0(6 * 2048 * sizeof(uint32));
	for (uint64 i = 0; i < n; i++)
	{
		uint64		k = keys[i];

		/* ascending keys for ascending values, then inverted: highest first */
		k = ~((k & UINT64CONST(0x8000000000000000)) ? ~k : k | UINT64CONST(0x8000000000000000));
		keys[i] = k;
		for (int p = 0; p < 6; p++)
			counts[p * 2048 + ((k >> (11 * p)) & 0x7FF)]++;
	}
	for (int p = 0; p < 6; p++)
	{
		uint32	   *c = counts + p * 2048;
		const int	shift = 11 * p;
		uint64		pos = 0;
		uint64	   *t;

		CHECK_FOR_INTERRUPTS();
		if (c[(src[0] >> shift) & 0x7FF] == n)
			continue;
		for (int d = 0; d < 2048; d++)
		{
			uint64		cnt = c[d];

			c[d] = (uint32) pos;
			pos += cnt;
		}
		for (uint64 i = 0; i < n; i++)
		{
			uint64		k = src[i];

			dst[c[(k >> shift) & 0x7FF]++] = k;
		}
		t = src;
		src = dst;
		dst = t;
	}
	for (uint64 i = 0; i < n; i++)
	{
		uint64		k = ~src[i];

		keys[i] = (k & UINT64CONST(0x8000000000000000)) ? k & ~UINT64CONST(0x8000000000000000) : ~k;
	}
	pfree(src == keys ? dst : src);
	pfree(counts);
}

/* Scores of a ranking state by class, each sorted highest first */
static void
mlc_ranking_build(FunctionCallInfo fcinfo, MlcRanking *rk)
{
	MlcScoreState *ss = (MlcScoreState *) PG_GETARG_POINTER(0);
	int			pos,
				neg = -1;

	mlc_score_sort(ss);
	pos = mlc_positive_slot(&ss->ms);
	for (uint32 s = 0; s < ss->ms.h.nlabels; s++)
		if ((int) s != pos)
			neg = s;
	rk->pos = pos >= 0 ? ss->v[pos] : NULL;
	rk->npos = pos >= 0 ? ss->n[pos] : 0;
	rk->neg = neg >= 0 ? ss->v[neg] : NULL;
	rk->nneg = neg >= 0 ? ss->n[neg] : 0;
}

/* Advance to the next distinct score, highest first; false past the last */
static bool
mlc_next_group(MlcGroupIter *it)
{
	const MlcRanking *rk = it->rk;
	double		t;

	if (it->i >= rk->npos && it->j >= rk->nneg)
		return false;
	CHECK_FOR_INTERRUPTS();
	if (it->j >= rk->nneg || (it->i < rk->npos && rk->pos[it->i] >= rk->neg[it->j]))
		t = rk->pos[it->i];
	else
		t = rk->neg[it->j];
	it->dtp = it->dfp = 0;
	while (it->i < rk->npos && rk->pos[it->i] == t)
	{
		it->i++;
		it->dtp++;
	}
	while (it->j < rk->nneg && rk->neg[it->j] == t)
	{
		it->j++;
		it->dfp++;
	}
	it->tps += it->dtp;
	it->fps += it->dfp;
	it->thr = t;
	return true;
}

/* Start a walk over the distinct scores of a ranking */
static void
mlc_group_start(MlcGroupIter *it, const MlcRanking *rk)
{
	memset(it, 0, sizeof(MlcGroupIter));
	it->rk = rk;
}

/*
 * Final of ml_roc_auc: trapezoidal area (ties count one half), NULL unless
 * both classes occur.  Each negative outranks the positives above it and
 * half of those tied with it; one pass over both sorted arrays.
 */
Datum
mlc_agg_roc_auc_final(PG_FUNCTION_ARGS)
{
	MlcRanking	rk;
	uint64		twice_area = 0;
	int64		above = 0,		/* positives above the current negative */
				tied = 0;		/* positives equal to it */

	mlc_ranking_build(fcinfo, &rk);
	if (rk.npos == 0 || rk.nneg == 0)
		PG_RETURN_NULL();
	for (int64 j = 0; j < rk.nneg; j++)
	{
		double		v = rk.neg[j];

		if (j == 0 || v != rk.neg[j - 1])
		{
			while (above < rk.npos && rk.pos[above] > v)
				above++;
			for (tied = 0; above + tied < rk.npos && rk.pos[above + tied] == v;)
				tied++;
		}
		twice_area += (uint64) (2 * above + tied);
		if ((j & 0xFFFF) == 0)
			CHECK_FOR_INTERRUPTS();
	}
	PG_RETURN_FLOAT8((double) twice_area / (2.0 * (double) rk.npos * (double) rk.nneg));
}

/* Final of ml_pr_auc: average precision, sum of (R_k - R_k-1) P_k; NULL without positives */
Datum
mlc_agg_pr_auc_final(PG_FUNCTION_ARGS)
{
	MlcRanking	rk;
	MlcGroupIter it;
	double		sum = 0,
				comp = 0;

	mlc_ranking_build(fcinfo, &rk);
	if (rk.npos == 0)
		PG_RETURN_NULL();
	mlc_group_start(&it, &rk);
	while (mlc_next_group(&it))
		if (it.dtp > 0)
			mlc_kbn_add(&sum, &comp, ((double) it.tps / rk.npos - (double) (it.tps - it.dtp) / rk.npos) *
						((double) it.tps / (double) (it.tps + it.fps)));
	PG_RETURN_FLOAT8(sum + comp);
}

/* The composite element type of this function's array result */
static MlcRowType *
mlc_row_type(FunctionCallInfo fcinfo, int natts, const Oid *types)
{
	MlcRowType *rt = (MlcRowType *) fcinfo->flinfo->fn_extra;
	MemoryContext old;

	if (rt != NULL)
		return rt;
	old = MemoryContextSwitchTo(fcinfo->flinfo->fn_mcxt);
	rt = palloc0(sizeof(MlcRowType));
	rt->elemtype = get_element_type(get_func_rettype(fcinfo->flinfo->fn_oid));
	if (!OidIsValid(rt->elemtype))
		elog(ERROR, "mlcycle: metric function does not return an array");
	rt->tupdesc = lookup_rowtype_tupdesc_copy(rt->elemtype, -1);
	if (rt->tupdesc->natts != natts)
		elog(ERROR, "mlcycle: unexpected row type of a metric result");
	for (int i = 0; i < natts; i++)
		if (TupleDescAttr(rt->tupdesc, i)->atttypid != types[i])
			elog(ERROR, "mlcycle: unexpected row type of a metric result");
	rt->tupdesc = BlessTupleDesc(rt->tupdesc);
	get_typlenbyvalalign(rt->elemtype, &rt->elmlen, &rt->elmbyval, &rt->elmalign);
	MemoryContextSwitchTo(old);
	fcinfo->flinfo->fn_extra = rt;
	return rt;
}

/* An array of curve points (threshold, x, y) */
typedef struct MlcCurve
{
	Datum	   *rows;
	int			n;
	int			cap;
	MlcRowType *rt;
} MlcCurve;

/* Start a curve of at most max points */
static void
mlc_curve_start(FunctionCallInfo fcinfo, MlcCurve *cv, int64 max)
{
	static const Oid types[] = {FLOAT8OID, FLOAT8OID, FLOAT8OID};

	if (max > MLC_METRIC_MAX_POINTS)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("the curve would have " INT64_FORMAT " points, more than %d", max, MLC_METRIC_MAX_POINTS),
				 errhint("Round the scores first, as in round(score::numeric, 4)::float8, to get fewer thresholds.")));
	cv->rt = mlc_row_type(fcinfo, 3, types);
	cv->cap = (int) max;
	cv->rows = palloc(sizeof(Datum) * Max(cv->cap, 1));
	cv->n = 0;
}

/* Append a point; a NaN threshold is stored as NULL */
static void
mlc_curve_add(MlcCurve *cv, double thr, double x, double y)
{
	Datum		v[3];
	bool		nulls[3] = {isnan(thr), false, false};

	Assert(cv->n < cv->cap);
	v[0] = Float8GetDatum(isnan(thr) ? 0 : thr);
	v[1] = Float8GetDatum(x);
	v[2] = Float8GetDatum(y);
	cv->rows[cv->n++] = HeapTupleGetDatum(heap_form_tuple(cv->rt->tupdesc, v, nulls));
}

/* The curve as an array */
static Datum
mlc_curve_array(MlcCurve *cv)
{
	return PointerGetDatum(construct_array(cv->rows, cv->n, cv->rt->elemtype,
										   cv->rt->elmlen, cv->rt->elmbyval, cv->rt->elmalign));
}

/*
 * Final of ml_roc_curve: scikit-learn 1.2 roc_curve (drop_intermediate): a
 * first point (max score + 1, 0, 0), then (threshold, fpr, tpr) at the
 * distinct scores, highest first, keeping the corners.  NULL unless both
 * classes occur.
 */
Datum
mlc_agg_roc_curve_final(PG_FUNCTION_ARGS)
{
	MlcRanking	rk;
	MlcGroupIter it;
	MlcCurve	cv;
	int64		G = 0,
				g = 0;
	double	   *thr;
	int64	   *tps,
			   *fps;

	mlc_ranking_build(fcinfo, &rk);
	if (rk.npos == 0 || rk.nneg == 0)
		PG_RETURN_NULL();
	mlc_group_start(&it, &rk);
	while (mlc_next_group(&it))
		G++;
	mlc_curve_start(fcinfo, &cv, G + 1);
	thr = palloc(sizeof(double) * G);
	tps = palloc(sizeof(int64) * G);
	fps = palloc(sizeof(int64) * G);
	mlc_group_start(&it, &rk);
	while (mlc_next_group(&it))
	{
		thr[g] = it.thr;
		tps[g] = it.tps;
		fps[g] = it.fps;
		g++;
	}
	mlc_curve_add(&cv, thr[0] + 1, 0.0, 0.0);
	for (g = 0; g < G; g++)
	{
		/* keep the ends, and the points where either count changes slope */
		if (G > 2 && g > 0 && g < G - 1 &&
			fps[g + 1] - 2 * fps[g] + fps[g - 1] == 0 &&
			tps[g + 1] - 2 * tps[g] + tps[g - 1] == 0)
			continue;
		mlc_curve_add(&cv, thr[g], (double) fps[g] / rk.nneg, (double) tps[g] / rk.npos);
	}
	PG_RETURN_DATUM(mlc_curve_array(&cv));
}

/*
 * Final of ml_pr_curve: scikit-learn 1.2 precision_recall_curve: (threshold,
 * recall, precision) at the distinct scores, lowest first, then (NULL, 0, 1).
 * NULL without positives.
 */
Datum
mlc_agg_pr_curve_final(PG_FUNCTION_ARGS)
{
	MlcRanking	rk;
	MlcGroupIter it;
	MlcCurve	cv;
	int64		G = 0;

	mlc_ranking_build(fcinfo, &rk);
	if (rk.npos == 0)
		PG_RETURN_NULL();
	mlc_group_start(&it, &rk);
	while (mlc_next_group(&it))
		G++;
	mlc_curve_start(fcinfo, &cv, G + 1);
	cv.n = G;
	mlc_group_start(&it, &rk);
	while (mlc_next_group(&it))
	{
		Datum		v[3];
		bool		nulls[3] = {false, false, false};

		v[0] = Float8GetDatum(it.thr);
		v[1] = Float8GetDatum((double) it.tps / rk.npos);
		v[2] = Float8GetDatum((double) it.tps / (double) (it.tps + it.fps));
		cv.rows[--G] = HeapTupleGetDatum(heap_form_tuple(cv.rt->tupdesc, v, nulls));
	}
	mlc_curve_add(&cv, NAN, 0.0, 1.0);
	PG_RETURN_DATUM(mlc_curve_array(&cv));
}

/* ---------- probability finals ---------- */

/* Sum over label slots of one (sum, compensation) pair, chosen by each slot's class */
static double
mlc_prob_total(FunctionCallInfo fcinfo, int pos_off, int neg_off, double *n)
{
	MlcMState	st;
	const char *p;
	int			pos;
	double		sum = 0,
				comp = 0;

	mlc_ms_final_open(fcinfo, MLC_PAY_PROB, &st);
	pos = mlc_positive_slot(&st);
	p = mlc_ms_payload(&st);
	*n = 0;
	for (uint32 s = 0; s < st.h.nlabels; s++)
	{
		const char *v = p + (int64) s * MLC_PROB_NVALS * sizeof(double);
		int			off = ((int) s == pos) ? pos_off : neg_off;

		*n += mlc_get_f8(v, MLC_PROB_COUNT);
		mlc_kbn_add(&sum, &comp, mlc_get_f8(v, off));
		comp += mlc_get_f8(v, off + 1);
	}
	return sum + comp;
}

/* Final of ml_log_loss: mean binary cross-entropy, probabilities clipped to machine epsilon */
Datum
mlc_agg_log_loss_final(PG_FUNCTION_ARGS)
{
	double		n,
				total = mlc_prob_total(fcinfo, MLC_PROB_LOSS_POS, MLC_PROB_LOSS_NEG, &n);

	if (n == 0)
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(total / n);
}

/* Final of ml_brier: mean squared difference between probability and outcome */
Datum
mlc_agg_brier_final(PG_FUNCTION_ARGS)
{
	double		n,
				total = mlc_prob_total(fcinfo, MLC_PROB_SQ_POS, MLC_PROB_SQ_NEG, &n);

	if (n == 0)
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(total / n);
}

/*
 * Final of ml_calibration: per bin (1-based; bin b holds (b-1)/bins < p <=
 * b/bins, p = 0 in bin 1) its edges, mean probability, share of positives
 * and row count; empty bins have NULL means.
 */
Datum
mlc_agg_calibration_final(PG_FUNCTION_ARGS)
{
	static const Oid types[] = {INT4OID, FLOAT8OID, FLOAT8OID, FLOAT8OID, FLOAT8OID, INT8OID};
	MlcMState	st;
	MlcRowType *rt = mlc_row_type(fcinfo, 6, types);
	const char *p;
	int			pos;
	uint32		bins;
	Datum	   *rows;

	mlc_ms_final_open(fcinfo, MLC_PAY_CALIB, &st);
	pos = mlc_positive_slot(&st);
	p = mlc_ms_payload(&st);
	bins = st.h.param;
	rows = palloc(sizeof(Datum) * bins);
	for (uint32 b = 0; b < bins; b++)
	{
		const char *g = p + (int64) b * MLC_CALIB_NVALS * sizeof(double);
		double		n = mlc_get_f8(g, 0) + mlc_get_f8(g, 3),
					npos = pos < 0 ? 0 : mlc_get_f8(g, pos * 3),
					sum = mlc_get_f8(g, 1),
					comp = mlc_get_f8(g, 2) + mlc_get_f8(g, 5);
		Datum		v[6];
		bool		nulls[6] = {false, false, false, n == 0, n == 0, false};

		mlc_kbn_add(&sum, &comp, mlc_get_f8(g, 4));
		v[0] = Int32GetDatum(b + 1);
		v[1] = Float8GetDatum((double) b * (1.0 / bins));
		v[2] = Float8GetDatum(b + 1 == bins ? 1.0 : (double) (b + 1) * (1.0 / bins));
		v[3] = Float8GetDatum(n > 0 ? (sum + comp) / n : 0);
		v[4] = Float8GetDatum(n > 0 ? npos / n : 0);
		v[5] = Int64GetDatum((int64) n);
		rows[b] = HeapTupleGetDatum(heap_form_tuple(rt->tupdesc, v, nulls));
	}
	PG_RETURN_DATUM(PointerGetDatum(construct_array(rows, bins, rt->elemtype, rt->elmlen,
													rt->elmbyval, rt->elmalign)));
}

/* ---------- regression ---------- */

/* The float8[] regression state, checked; corrupt ones are an error */
static float8 *
mlc_reg_values(ArrayType *a)
{
	float8	   *v;

	if (ARR_NDIM(a) != 1 || ARR_DIMS(a)[0] != MLC_REG_NVALS || ARR_HASNULL(a) ||
		ARR_ELEMTYPE(a) != FLOAT8OID)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("invalid mlcycle regression metric state: expected %d float8 values", MLC_REG_NVALS),
				 errhint("Metric states are made by the ml_* metric aggregates; do not build or edit them by hand.")));
	v = (float8 *) ARR_DATA_PTR(a);
	for (int i = 0; i < MLC_REG_NVALS; i++)
		if (!isfinite(v[i]))
			ereport(ERROR,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("invalid mlcycle regression metric state: value %d is not finite", i + 1)));
	if (v[MLC_REG_N] < 0 || v[MLC_REG_N] >= MLC_MAX_COUNT || v[MLC_REG_N] != floor(v[MLC_REG_N]) ||
		v[MLC_REG_M2_Y] < 0 || v[MLC_REG_M2_E] < 0 ||
		(v[MLC_REG_N] == 0 && (v[MLC_REG_MEAN_Y] != 0 || v[MLC_REG_MEAN_E] != 0 ||
							   v[MLC_REG_M2_Y] != 0 || v[MLC_REG_M2_E] != 0)))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("invalid mlcycle regression metric state: inconsistent counts")));
	return v;
}

/* The state argument as a writable array: in place when the executor owns it */
static ArrayType *
mlc_reg_arg(FunctionCallInfo fcinfo, int argno)
{
	ArrayType  *a = PG_GETARG_ARRAYTYPE_P(argno);

	if (!AggCheckCallContext(fcinfo, NULL) && (Pointer) a == DatumGetPointer(PG_GETARG_DATUM(argno)))
		a = (ArrayType *) DatumGetPointer(datumCopy(PointerGetDatum(a), false, -1));
	return a;
}

/* Error when an update overflowed the state */
static void
mlc_reg_check_overflow(const float8 *v)
{
	for (int i = 0; i < MLC_REG_NVALS; i++)
		if (!isfinite(v[i]))
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("regression metric sums overflow float8"),
					 errhint("Rescale pred and y, for example to thousands.")));
}

/* mlcycle.metric_reg_trans(state, pred, y): Welford update of one row */
Datum
mlc_agg_reg_trans(PG_FUNCTION_ARGS)
{
	ArrayType  *a = mlc_reg_arg(fcinfo, 0);
	float8	   *v = mlc_reg_values(a);
	double		pred = PG_GETARG_FLOAT8(1),
				y = PG_GETARG_FLOAT8(2),
				e,
				n,
				d;

	mlc_check_finite(pred, "pred");
	mlc_check_finite(y, "y");
	e = y - pred;
	n = v[MLC_REG_N] + 1;
	d = y - v[MLC_REG_MEAN_Y];
	v[MLC_REG_MEAN_Y] += d / n;
	v[MLC_REG_M2_Y] += d * (y - v[MLC_REG_MEAN_Y]);
	d = e - v[MLC_REG_MEAN_E];
	v[MLC_REG_MEAN_E] += d / n;
	v[MLC_REG_M2_E] += d * (e - v[MLC_REG_MEAN_E]);
	mlc_kbn_add(&v[MLC_REG_ABS], &v[MLC_REG_ABS_C], fabs(e));
	/* scikit-learn: |y - pred| / max(|y|, machine epsilon) */
	mlc_kbn_add(&v[MLC_REG_APE], &v[MLC_REG_APE_C], fabs(e) / Max(fabs(y), DBL_EPSILON));
	v[MLC_REG_N] = n;
	mlc_reg_check_overflow(v);
	PG_RETURN_ARRAYTYPE_P(a);
}

/* Chan et al.'s merge of (n, mean, m2) b into a */
static void
mlc_chan_merge(double na, double nb, double *mean_a, double *m2_a, double mean_b, double m2_b)
{
	double		n = na + nb,
				d = mean_b - *mean_a;

	*mean_a += d * (nb / n);
	*m2_a += m2_b + d * d * (na * nb / n);
}

/* mlcycle.metric_reg_combine(a, b): merge two regression states */
Datum
mlc_agg_reg_combine(PG_FUNCTION_ARGS)
{
	ArrayType  *a = mlc_reg_arg(fcinfo, 0);
	float8	   *va = mlc_reg_values(a);
	float8	   *vb = mlc_reg_values(PG_GETARG_ARRAYTYPE_P(1));

	if (vb[MLC_REG_N] == 0)
		PG_RETURN_ARRAYTYPE_P(a);
	if (va[MLC_REG_N] == 0)
		memcpy(va, vb, sizeof(float8) * MLC_REG_NVALS);
	else
	{
		mlc_chan_merge(va[MLC_REG_N], vb[MLC_REG_N], &va[MLC_REG_MEAN_Y], &va[MLC_REG_M2_Y],
					   vb[MLC_REG_MEAN_Y], vb[MLC_REG_M2_Y]);
		mlc_chan_merge(va[MLC_REG_N], vb[MLC_REG_N], &va[MLC_REG_MEAN_E], &va[MLC_REG_M2_E],
					   vb[MLC_REG_MEAN_E], vb[MLC_REG_M2_E]);
		mlc_kbn_add(&va[MLC_REG_ABS], &va[MLC_REG_ABS_C], vb[MLC_REG_ABS]);
		va[MLC_REG_ABS_C] += vb[MLC_REG_ABS_C];
		mlc_kbn_add(&va[MLC_REG_APE], &va[MLC_REG_APE_C], vb[MLC_REG_APE]);
		va[MLC_REG_APE_C] += vb[MLC_REG_APE_C];
		va[MLC_REG_N] += vb[MLC_REG_N];
		mlc_reg_check_overflow(va);
	}
	PG_RETURN_ARRAYTYPE_P(a);
}

/* The values of a regression state for a final function; NULL when it saw no row */
static float8 *
mlc_reg_final_values(FunctionCallInfo fcinfo)
{
	float8	   *v = mlc_reg_values(PG_GETARG_ARRAYTYPE_P(0));

	return v[MLC_REG_N] > 0 ? v : NULL;
}

/* Sum of squared residuals: centered part plus n times the squared mean */
static double
mlc_reg_sse(const float8 *v)
{
	return v[MLC_REG_M2_E] + v[MLC_REG_N] * v[MLC_REG_MEAN_E] * v[MLC_REG_MEAN_E];
}

/* 1 - num / den with scikit-learn's rule for a zero denominator (force_finite) */
static double
mlc_one_minus_ratio(double num, double den)
{
	if (den == 0)
		return num == 0 ? 1.0 : 0.0;
	return 1.0 - num / den;
}

/* Final of ml_r2: 1 - SSE / SST; NULL with fewer than two rows */
Datum
mlc_agg_r2_final(PG_FUNCTION_ARGS)
{
	float8	   *v = mlc_reg_final_values(fcinfo);

	if (v == NULL || v[MLC_REG_N] < 2)
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(mlc_one_minus_ratio(mlc_reg_sse(v), v[MLC_REG_M2_Y]));
}

/* Final of ml_mae */
Datum
mlc_agg_mae_final(PG_FUNCTION_ARGS)
{
	float8	   *v = mlc_reg_final_values(fcinfo);

	if (v == NULL)
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8((v[MLC_REG_ABS] + v[MLC_REG_ABS_C]) / v[MLC_REG_N]);
}

/* Final of ml_mse */
Datum
mlc_agg_mse_final(PG_FUNCTION_ARGS)
{
	float8	   *v = mlc_reg_final_values(fcinfo);

	if (v == NULL)
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(mlc_reg_sse(v) / v[MLC_REG_N]);
}

/* Final of ml_rmse */
Datum
mlc_agg_rmse_final(PG_FUNCTION_ARGS)
{
	float8	   *v = mlc_reg_final_values(fcinfo);

	if (v == NULL)
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(sqrt(mlc_reg_sse(v) / v[MLC_REG_N]));
}

/* Final of ml_mape: mean of |y - pred| / max(|y|, epsilon), as a fraction */
Datum
mlc_agg_mape_final(PG_FUNCTION_ARGS)
{
	float8	   *v = mlc_reg_final_values(fcinfo);

	if (v == NULL)
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8((v[MLC_REG_APE] + v[MLC_REG_APE_C]) / v[MLC_REG_N]);
}

/* Final of ml_explained_variance: 1 - Var(y - pred) / Var(y) */
Datum
mlc_agg_ev_final(PG_FUNCTION_ARGS)
{
	float8	   *v = mlc_reg_final_values(fcinfo);

	if (v == NULL)
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(mlc_one_minus_ratio(v[MLC_REG_M2_E], v[MLC_REG_M2_Y]));
}
