/*
 * preprocess_steps.c
 *	  ml_train's preprocess steps beyond plain impute/scale/encode: the
 *	  is-missing indicator, kNN imputation, clipping, log1p and power
 *	  transforms, bins, row-wise l2, calendar parts, and the top_k, frequency,
 *	  target (out-of-fold), binary and hashing encodings.  Parsing, fitting on
 *	  training rows, and applying one row (training and prediction alike).
 */
#include "postgres.h"

#include <float.h>
#include <math.h>

#include "common/hashfn.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/json.h"

#include "jsonutil.h"
#include "preprocess.h"
#include "transform.h"

static const char *const impute_all_names[] = {"mean", "median", "most_frequent", "constant", "error",
"indicator", "knn", "none", NULL};
static const char *const encode_all_names[] = {"one_hot", "ordinal", "frequency", "target",
"hashing", "binary", NULL};
static const char *const bin_names[] = {"uniform", "quantile", NULL};
static const char *const part_names[] = {"year", "month", "day", "dow", "hour", NULL};

/* ---------- parsing ---------- */

/* Elements of a JSON array value (error naming what when it is not one) */
static List *
mlc_json_array(const JsonbValue *v, const char *what, const char *example)
{
	List	   *out = NIL;
	JsonbIterator *it;
	JsonbValue	e;
	JsonbIteratorToken tok;

	if (v->type != jbvBinary || !JsonContainerIsArray(v->val.binary.data))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must be a JSON array", what),
				 errhint("Write it as %s.", example)));
	it = JsonbIteratorInit(v->val.binary.data);
	while ((tok = JsonbIteratorNext(&it, &e, true)) != WJB_DONE)
		if (tok == WJB_ELEM)
		{
			JsonbValue *copy = palloc(sizeof(JsonbValue));

			*copy = e;
			out = lappend(out, copy);
		}
	return out;
}

/* A positive integer option no larger than max */
static int
mlc_step_int(const MlcJsonPair *p, const char *what, int min, int max)
{
	double		d = mlc_json_number(p, what);

	if (d != floor(d) || d < min || d > max)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s \"%s\" must be an integer between %d and %d", what, p->key, min, max),
				 errhint("Write it as {\"%s\": %d}.", p->key, Max(min, Min(5, max)))));
	return (int) d;
}

/* The method of an object-valued setting, and its other members */
static char *
mlc_step_method(const JsonbValue *v, const char *what, List **rest)
{
	List	   *pairs = mlc_json_pairs(v->val.binary.data, what);
	ListCell   *lc;
	char	   *method = NULL;

	*rest = NIL;
	foreach(lc, pairs)
	{
		MlcJsonPair *p = lfirst(lc);

		if (strcmp(p->key, "method") == 0)
			method = mlc_json_string(p, what);
		else
			*rest = lappend(*rest, p);
	}
	if (method == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s needs a \"method\"", what),
				 errhint("Write it as {\"method\": \"...\", ...}.")));
	return method;
}

/* Options of an object-valued setting: each key must be one of valid */
static void
mlc_step_options(List *rest, const char *const *valid, const char *what,
				 void (*set) (const MlcJsonPair *, int, MlcStepSettings *), MlcStepSettings *st)
{
	ListCell   *lc;

	foreach(lc, rest)
	{
		MlcJsonPair *p = lfirst(lc);

		set(p, mlc_choose(p->key, valid, what), st);
	}
}

/* impute options: indicator (bool), k (knn) */
static void
mlc_set_impute_option(const MlcJsonPair *p, int k, MlcStepSettings *st)
{
	if (k == 0)
	{
		if (p->value.type != jbvBool)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("impute option \"indicator\" must be true or false"),
					 errhint("Write it as {\"method\": \"median\", \"indicator\": true}.")));
		st->indicator = p->value.val.boolean ? 1 : 2;
	}
	else
		st->knn_k = mlc_step_int(p, "impute option", 1, 100);
}

/* encode options: top_k, buckets, smoothing, folds */
static void
mlc_set_encode_option(const MlcJsonPair *p, int k, MlcStepSettings *st)
{
	switch (k)
	{
		case 0:
			st->top_k = mlc_step_int(p, "encode option", 1, MLC_MAX_CATEGORIES);
			break;
		case 1:
			st->buckets = mlc_step_int(p, "encode option", 1, MLC_STEP_MAX_BUCKETS);
			break;
		case 2:
			st->smoothing = mlc_json_number(p, "encode option");
			if (st->smoothing < 0)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("encode option \"smoothing\" must be zero or positive"),
						 errhint("Write it as {\"method\": \"target\", \"smoothing\": 10}.")));
			st->has_smoothing = true;
			break;
		case 3:
			st->folds = mlc_step_int(p, "encode option", 2, 20);
			break;
	}
}

/* bin options: bins */
static void
mlc_set_bin_option(const MlcJsonPair *p, int k, MlcStepSettings *st)
{
	st->nbins = mlc_step_int(p, "bin option", 1, MLC_STEP_MAX_BINS);
}

/* temporal options: parts, cyclical */
static void
mlc_set_temporal_option(const MlcJsonPair *p, int k, MlcStepSettings *st);

/* Parse a list of calendar parts */
static void
mlc_parse_parts(const JsonbValue *v, MlcStepSettings *st)
{
	List	   *elems = mlc_json_array(v, "temporal", "[\"year\", \"month\", \"dow\", \"hour\"]");
	ListCell   *lc;

	if (list_length(elems) < 1 || list_length(elems) > MLC_STEP_MAX_PARTS / 2)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("temporal needs between 1 and %d calendar parts", MLC_STEP_MAX_PARTS / 2),
				 errhint("Valid parts are: %s.", mlc_join_names(part_names))));
	st->nparts = 0;
	foreach(lc, elems)
	{
		JsonbValue *e = lfirst(lc);

		if (e->type != jbvString)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("temporal parts must be strings"),
					 errhint("Valid parts are: %s.", mlc_join_names(part_names))));
		st->parts[st->nparts++] = mlc_choose(pnstrdup(e->val.string.val, e->val.string.len),
											 part_names, "temporal part");
	}
}

static void
mlc_set_temporal_option(const MlcJsonPair *p, int k, MlcStepSettings *st)
{
	if (k == 0)
		mlc_parse_parts(&p->value, st);
	else
	{
		if (p->value.type != jbvBool)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("temporal option \"cyclical\" must be true or false"),
					 errhint("Write it as {\"parts\": [\"month\"], \"cyclical\": true}.")));
		st->cyclical = p->value.val.boolean;
	}
}

/* The method of a setting given as a name or {"method": ..., options}, with its options parsed */
static int
mlc_step_choose(const MlcJsonPair *p, const char *what, const char *const *names,
				const char *label, const char *const *opts, const char *optlabel,
				void (*set) (const MlcJsonPair *, int, MlcStepSettings *), MlcStepSettings *st)
{
	List	   *rest = NIL;
	char	   *name = p->value.type == jbvBinary ? mlc_step_method(&p->value, what, &rest) :
		mlc_json_string(p, what);
	int			k = mlc_choose(name, names, label);

	mlc_step_options(rest, opts, optlabel, set, st);
	return k;
}

/*
 * Parse the settings this file owns: impute and encode (every method, as a
 * name or an object with options), clip, bin and temporal.  Returns false
 * for the keys preprocess.c parses itself.
 */
bool
mlc_steps_parse(const MlcJsonPair *p, const char *what, MlcStepSettings *st,
				int *impute, int *encode)
{
	static const char *const impute_opts[] = {"indicator", "k", NULL};
	static const char *const encode_opts[] = {"top_k", "buckets", "smoothing", "folds", NULL};
	static const char *const bin_opts[] = {"bins", NULL};
	static const char *const temporal_opts[] = {"parts", "cyclical", NULL};
	int			k;

	if (strcmp(p->key, "impute") == 0)
	{
		k = mlc_step_choose(p, what, impute_all_names, "impute strategy", impute_opts,
							"impute option", mlc_set_impute_option, st);
		if (k == 5)
			st->indicator = 1;
		if (k == 6 && st->knn_k == 0)
			st->knn_k = 5;
		if (st->knn_k > 0 && k != 6)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("impute option \"k\" applies to knn only"),
					 errhint("Write it as {\"method\": \"knn\", \"k\": 5}.")));
		*impute = (k == 7) ? MLC_IMPUTE_NONE : (k >= 5) ? MLC_IMPUTE_MEAN : k + 1;
		return true;
	}
	if (strcmp(p->key, "encode") == 0)
	{
		k = mlc_step_choose(p, what, encode_all_names, "encoding", encode_opts,
							"encode option", mlc_set_encode_option, st);
		if ((st->top_k && k != 0) || (st->buckets && k != 4) ||
			((st->has_smoothing || st->folds) && k != 3))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("encode options top_k, buckets, and smoothing/folds apply to one_hot, hashing and target"),
					 errhint("Write {\"method\": \"one_hot\", \"top_k\": 10}, {\"method\": \"hashing\", \"buckets\": 64} or {\"method\": \"target\", \"smoothing\": 10, \"folds\": 5}.")));
		st->encode_ext = (k == 2) ? MLC_TRANSFORM_FREQUENCY : (k == 3) ? MLC_TRANSFORM_TARGET :
			(k == 4) ? MLC_TRANSFORM_HASHING : (k == 5) ? MLC_TRANSFORM_BINARY :
			(k == 0 && st->top_k > 0) ? MLC_TRANSFORM_TOP_K : -1;
		*encode = (k == 0) ? MLC_ENCODE_ONE_HOT : MLC_ENCODE_ORDINAL;
		return true;
	}
	if (strcmp(p->key, "clip") == 0)
	{
		List	   *e = mlc_json_array(&p->value, "clip", "[0.01, 0.99]");
		JsonbValue *lo,
				   *hi;

		if (list_length(e) != 2 || ((JsonbValue *) linitial(e))->type != jbvNumeric ||
			((JsonbValue *) lsecond(e))->type != jbvNumeric)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("clip must be two percentiles [lower, upper]"),
					 errhint("Write it as {\"clip\": [0.01, 0.99]}: fractions between 0 and 1.")));
		lo = linitial(e);
		hi = lsecond(e);
		st->clip_lo = DatumGetFloat8(DirectFunctionCall1(numeric_float8, NumericGetDatum(lo->val.numeric)));
		st->clip_hi = DatumGetFloat8(DirectFunctionCall1(numeric_float8, NumericGetDatum(hi->val.numeric)));
		if (!(st->clip_lo >= 0 && st->clip_lo <= st->clip_hi && st->clip_hi <= 1))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("clip percentiles must satisfy 0 <= lower <= upper <= 1"),
					 errhint("Write it as {\"clip\": [0.01, 0.99]}.")));
		st->has_clip = true;
		return true;
	}
	if (strcmp(p->key, "bin") == 0)
	{
		st->bin_method = mlc_step_choose(p, what, bin_names, "bin method", bin_opts,
										 "bin option", mlc_set_bin_option, st) + 1;
		if (st->nbins == 0)
			st->nbins = 5;
		return true;
	}
	if (strcmp(p->key, "temporal") == 0)
	{
		if (p->value.type == jbvBinary && JsonContainerIsObject(p->value.val.binary.data))
		{
			List	   *pairs = mlc_json_pairs(p->value.val.binary.data, what);

			mlc_step_options(pairs, temporal_opts, "temporal option", mlc_set_temporal_option, st);
			if (st->nparts == 0)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("temporal needs \"parts\""),
						 errhint("Write it as {\"parts\": [\"month\", \"dow\"], \"cyclical\": true}.")));
		}
		else
			mlc_parse_parts(&p->value, st);
		return true;
	}
	return false;
}

/* Error for a step given to a column of a kind it does not apply to */
static void
mlc_step_kind_error(const MlcColumn *c, const char *step, const char *kinds)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("%s does not apply to %s column \"%s\"", step, mlc_kind_name(c->kind), c->name),
			 errhint("It applies to %s columns.", kinds)));
}

/* Errors for impute steps a kind cannot take, before the plain settings are checked */
void
mlc_steps_check_kind(const MlcColumn *c, const MlcStepSettings *own)
{
	if (c->kind == MLC_KIND_CATEGORICAL && (own->indicator == 1 || own->knn_k))
		mlc_step_kind_error(c, own->knn_k ? "impute strategy \"knn\"" : "the missing indicator",
							"numeric, boolean and temporal");
}

/*
 * Resolve a column's steps from "*" (where they fit) and its own settings;
 * sets transform and a params placeholder with what the fit needs.
 */
void
mlc_steps_resolve(MlcColumn *c, const MlcStepSettings *all, const MlcStepSettings *own,
				  bool own_scale)
{
	bool		cat = (c->kind == MLC_KIND_CATEGORICAL);
	bool		num = (c->kind == MLC_KIND_NUMERIC);
	int			flags = 0;
	MlcStepSettings s = *own;

	/* own settings first, then "*" where the kind fits */
	if (!cat && s.indicator == 0)
		s.indicator = all->indicator;
	if (!cat && s.knn_k == 0 && c->impute == MLC_IMPUTE_MEAN)
		s.knn_k = all->knn_k;
	if (num && !s.has_clip && all->has_clip)
	{
		s.has_clip = true;
		s.clip_lo = all->clip_lo;
		s.clip_hi = all->clip_hi;
	}
	if (num && s.bin_method == 0 && all->bin_method)
	{
		s.bin_method = all->bin_method;
		s.nbins = all->nbins;
	}
	if (c->kind == MLC_KIND_TEMPORAL && s.nparts == 0 && all->nparts)
	{
		memcpy(s.parts, all->parts, sizeof(s.parts));
		s.nparts = all->nparts;
		s.cyclical = all->cyclical;
	}
	if (cat && own->encode_ext == 0 && all->encode_ext != 0)
	{
		s.encode_ext = all->encode_ext;
		s.top_k = all->top_k;
		s.buckets = all->buckets;
		s.smoothing = all->smoothing;
		s.has_smoothing = all->has_smoothing;
		s.folds = all->folds;
	}
	mlc_steps_check_kind(c, own);
	if (!num && (own->has_clip || own->bin_method))
		mlc_step_kind_error(c, own->has_clip ? "clip" : "bin", "numeric");
	if (c->kind != MLC_KIND_TEMPORAL && own->nparts)
		mlc_step_kind_error(c, "temporal", "date and timestamp");
	if (cat && c->scale >= MLC_SCALE_LOG1P)
	{
		if (own_scale)
			mlc_step_kind_error(c, "a non-linear or row-wise scale", "numeric, boolean and temporal");
		c->scale = MLC_SCALE_NONE;	/* "*" asked it of the numeric columns */
	}
	c->oof = NULL;
	if (cat)
	{
		if (s.encode_ext > 0)
		{
			c->transform = s.encode_ext;
			c->encode = (s.encode_ext == MLC_TRANSFORM_TOP_K) ? MLC_ENCODE_ONE_HOT : MLC_ENCODE_ORDINAL;
			c->scale = MLC_SCALE_NONE;
			c->nparams = 4;
			c->params = palloc0(sizeof(double) * 4);
			c->params[0] = s.top_k ? s.top_k : s.buckets ? s.buckets : 32;
			c->params[1] = s.has_smoothing ? s.smoothing : 10.0;
			c->params[2] = s.folds ? s.folds : 5;
		}
		return;
	}
	if (s.indicator == 1)
		flags |= MLC_STEP_INDICATOR;
	if (s.has_clip)
		flags |= MLC_STEP_CLIP;
	if (c->scale == MLC_SCALE_LOG1P)
		flags |= MLC_STEP_LOG1P;
	if (c->scale == MLC_SCALE_YEO_JOHNSON)
		flags |= MLC_STEP_YEO_JOHNSON;
	if (c->scale == MLC_SCALE_BOX_COX)
		flags |= MLC_STEP_BOX_COX;
	if (c->scale == MLC_SCALE_L2)
		flags |= MLC_STEP_ROW_L2;
	if (s.bin_method)
	{
		/* a "*" scale gives way to the column's own bins */
		if (!own_scale)
			flags &= ~(MLC_STEP_LOG1P | MLC_STEP_YEO_JOHNSON | MLC_STEP_BOX_COX | MLC_STEP_ROW_L2);
		if (flags & (MLC_STEP_LOG1P | MLC_STEP_YEO_JOHNSON | MLC_STEP_BOX_COX))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("column \"%s\" cannot be both binned and power-transformed", c->name),
					 errhint("Bin it, or scale it with log1p, yeo_johnson or box_cox, not both.")));
		flags |= MLC_STEP_BINS;
		if (!own_scale)
			c->scale = MLC_SCALE_NONE;	/* bin indexes stay as they are unless asked */
	}
	if (s.nparts > 0)
	{
		if (flags)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("temporal column \"%s\" split into calendar parts takes no other step", c->name),
					 errhint("Remove the indicator, clip or scale setting of this column.")));
		c->transform = MLC_TRANSFORM_TEMPORAL;
		c->scale = MLC_SCALE_NONE;
		c->nparams = s.nparts;
		c->params = palloc(sizeof(double) * s.nparts);
		for (int k = 0; k < s.nparts; k++)
			c->params[k] = s.parts[k] | ((s.cyclical && s.parts[k] != MLC_PART_YEAR) ? MLC_PART_CYCLIC : 0);
		return;
	}
	if (s.knn_k > 0)
		flags |= MLC_STEP_KNN;
	if (flags == 0)
		return;
	c->transform = MLC_TRANSFORM_NUMERIC;
	c->nparams = MLC_STEP_HEADER + 2;
	c->params = palloc0(sizeof(double) * c->nparams);
	c->params[0] = flags;
	c->params[1] = s.clip_lo;
	c->params[2] = s.clip_hi;
	c->params[3] = s.nbins;
	c->params[4] = s.bin_method;
	c->params[5] = s.knn_k;
}

/* ---------- fitting ---------- */

/* Fail unless every value is greater than -1 (log1p) or positive (box_cox) */
static void
mlc_step_domain(const MlcColumn *c, double v, int flags)
{
	if ((flags & MLC_STEP_LOG1P) && !(v > -1.0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("log1p needs values greater than -1, and column \"%s\" has %g", c->name, v),
				 errhint("Use \"scale\": \"yeo_johnson\", which accepts any value.")));
	if ((flags & MLC_STEP_BOX_COX) && !(v > 0))
		mlc_box_cox_domain_error(psprintf("column \"%s\" has", c->name), v);
}

/* The shape step of one value: clip, then log1p / power / bin */
static inline double
mlc_step_shape(const MlcColumn *c, int flags, double v)
{
	const double *p = c->params;

	if (flags & MLC_STEP_CLIP)
		v = Min(Max(v, p[1]), p[2]);
	if (flags & (MLC_STEP_LOG1P | MLC_STEP_BOX_COX))
		mlc_step_domain(c, v, flags);
	if (flags & MLC_STEP_LOG1P)
		return log1p(v);
	if (flags & MLC_STEP_YEO_JOHNSON)
		return mlc_yeo_johnson(v, p[3]);
	if (flags & MLC_STEP_BOX_COX)
		return mlc_box_cox(v, p[3]);
	if (flags & MLC_STEP_BINS)
		return (double) mlc_bin_index(p + MLC_STEP_HEADER, c->nparams - MLC_STEP_HEADER, v);
	return v;
}

/*
 * Fit clip bounds, lambda or bin edges on the imputed training values v,
 * and replace v with the shaped values (the scale is fitted on them next).
 */
void
mlc_steps_fit_numeric(MlcColumn *c, const MlcRawColumn *raw, const int64 *rows, double *v, int64 n)
{
	int			flags;
	double		lo_pct,
				hi_pct;
	int			nbins,
				bin_method;
	double	   *sorted;

	if (c->transform != MLC_TRANSFORM_NUMERIC)
		return;
	if (c->oof != NULL)
	{
		/* kNN-imputed training values replace the fill */
		for (int64 i = 0; i < n; i++)
		{
			double		x = raw->values[rows[i]];

			v[i] = !isnan(x) ? x : !isnan(c->oof[rows[i]]) ? c->oof[rows[i]] : c->fill;
		}
	}
	flags = (int) c->params[0];
	lo_pct = c->params[1];
	hi_pct = c->params[2];
	nbins = (int) c->params[3];
	bin_method = (int) c->params[4];
	sorted = palloc(sizeof(double) * n);
	memcpy(sorted, v, sizeof(double) * n);
	qsort(sorted, n, sizeof(double), mlc_tf_cmp_double);
	c->params = palloc0(sizeof(double) * (MLC_STEP_HEADER + nbins + 1));
	c->params[0] = flags;
	c->nparams = MLC_STEP_HEADER;
	if (flags & MLC_STEP_CLIP)
	{
		c->params[1] = mlc_tf_quantile(sorted, n, lo_pct);
		c->params[2] = mlc_tf_quantile(sorted, n, hi_pct);
		for (int64 i = 0; i < n; i++)
			sorted[i] = Min(Max(sorted[i], c->params[1]), c->params[2]);
	}
	if (flags & (MLC_STEP_LOG1P | MLC_STEP_BOX_COX))
		mlc_step_domain(c, sorted[0], flags);
	if (flags & (MLC_STEP_YEO_JOHNSON | MLC_STEP_BOX_COX))
	{
		double		out[3];

		mlc_fit_power(sorted, n, (flags & MLC_STEP_BOX_COX) != 0,
					  psprintf("column \"%s\" has", c->name), out);
		c->params[3] = out[0];
	}
	if (flags & MLC_STEP_BINS)
		c->nparams += mlc_fit_bin_edges(sorted, n, nbins, bin_method == 2,
										c->params + MLC_STEP_HEADER);
	for (int64 i = 0; i < n; i++)
	{
		if ((i & 0xFFFF) == 0xFFFF)
			CHECK_FOR_INTERRUPTS();
		v[i] = mlc_step_shape(c, flags, v[i]);
	}
	pfree(sorted);
}

/* Bucket of a text value for a hashing column */
int32
mlc_hash_bucket(const MlcColumn *c, const char *s, int len)
{
	return (int32) (hash_bytes((const unsigned char *) s, len) % (uint32) c->params[0]);
}

/* Training category of each dataset code (-1 for none) */
static int32 *
mlc_steps_code_index(const MlcColumn *c, const MlcRawColumn *raw)
{
	int32	   *idx = palloc(sizeof(int32) * (raw->ndict + 1));

	for (int32 k = 0; k < raw->ndict; k++)
		idx[k] = mlc_category_bsearch(c, raw->dict[k]);
	return idx;
}

/* For top_k: keep the k most frequent categories (ties: sort order) */
static void
mlc_steps_top_k(MlcColumn *c, const int64 *count, int32 k)
{
	int32	   *keep = palloc(sizeof(int32) * Max(c->ncategories, 1));
	char	  **cats;
	int32		n = 0;
	const char *fill = c->fill_index >= 0 ? c->categories[c->fill_index] : NULL;

	/* selection by repeated maximum: categories are few where top_k matters */
	for (int32 i = 0; i < c->ncategories; i++)
		keep[i] = 0;
	for (int32 r = 0; r < Min(k, c->ncategories); r++)
	{
		int32		best = -1;

		for (int32 i = 0; i < c->ncategories; i++)
			if (!keep[i] && (best < 0 || count[i] > count[best]))
				best = i;
		keep[best] = 1;
	}
	cats = palloc(sizeof(char *) * Max(c->ncategories, 1));
	for (int32 i = 0; i < c->ncategories; i++)
		if (keep[i])
			cats[n++] = c->categories[i];
	c->categories = cats;
	c->ncategories = n;
	c->fill_index = fill ? mlc_category_bsearch(c, fill) : -1;
}

/* 1 when the label sorts last as text among the two (binary target encoding) */
static double
mlc_steps_target_value(const MlcDataset *ds, int64 r, int32 last_code)
{
	if (ds->target.codes == NULL)
		return ds->target.values[r];
	return ds->target.codes[r] == last_code ? 1.0 : 0.0;
}

/*
 * Target encoding: the smoothed mean target per category over all training
 * rows (stored, for test rows and prediction), and for each training row
 * the same computed without its fold (out-of-fold, used to fit the learner).
 */
static void
mlc_steps_fit_target(MlcColumn *c, const MlcDataset *ds, const int32 *cidx,
					 const MlcRawColumn *raw, const int64 *rows, int64 nrows)
{
	double		m = c->params[1];
	int			F = (int) c->params[2];
	int32		K = c->ncategories;
	double	   *sum = palloc0(sizeof(double) * (K + 1) * (F + 1));
	double	   *cnt = palloc0(sizeof(double) * (K + 1) * (F + 1));
	int32		last_code = -1;

	if (ds->target.codes != NULL)
	{
		int32		nlabels = 0;

		for (int32 k = 0; k < ds->target.ndict; k++)
		{
			bool		used = false;

			for (int64 i = 0; i < nrows && !used; i++)
				used = (ds->target.codes[rows[i]] == k);
			if (!used)
				continue;
			nlabels++;
			if (last_code < 0 || strcmp(ds->target.dict[k], ds->target.dict[last_code]) > 0)
				last_code = k;
		}
		if (nlabels > 2)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("target encoding of column \"%s\" needs a regression or binary target, and the target has %d classes",
							c->name, nlabels),
					 errhint("Use \"encode\": \"one_hot\" or \"frequency\" for multiclass targets.")));
	}
	/* per (category or K = none, fold or F = all): sums and counts */
	for (int64 i = 0; i < nrows; i++)
	{
		int64		r = rows[i];
		int32		code = raw->codes[r];
		int32		k = code < 0 ? c->fill_index : cidx[code];
		double		y = mlc_steps_target_value(ds, r, last_code);
		int			f = (int) (i % F);

		if (k < 0)
			k = K;
		sum[k * (F + 1) + f] += y;
		cnt[k * (F + 1) + f] += 1;
		sum[k * (F + 1) + F] += y;
		cnt[k * (F + 1) + F] += 1;
	}
	{
		double		ysum = 0,
					n = (double) nrows;
		double	   *fsum = palloc0(sizeof(double) * F);
		double	   *fcnt = palloc0(sizeof(double) * F);

		for (int32 k = 0; k <= K; k++)
		{
			ysum += sum[k * (F + 1) + F];
			for (int f = 0; f < F; f++)
			{
				fsum[f] += sum[k * (F + 1) + f];
				fcnt[f] += cnt[k * (F + 1) + f];
			}
		}
		c->nparams = K + 1;
		c->params = palloc(sizeof(double) * (K + 1));
		c->params[K] = ysum / n;
		for (int32 k = 0; k < K; k++)
			c->params[k] = (sum[k * (F + 1) + F] + m * c->params[K]) / (cnt[k * (F + 1) + F] + m);
		c->oof = palloc(sizeof(double) * Max(ds->nrows, 1));
		for (int64 r = 0; r < ds->nrows; r++)
			c->oof[r] = NAN;
		for (int64 i = 0; i < nrows; i++)
		{
			int64		r = rows[i];
			int32		code = raw->codes[r];
			int32		k = code < 0 ? c->fill_index : cidx[code];
			int			f = (int) (i % F);
			double		prior = (n - fcnt[f] > 0) ? (ysum - fsum[f]) / (n - fcnt[f]) : c->params[K];

			if (k < 0)
				c->oof[r] = prior;
			else
			{
				double		s = sum[k * (F + 1) + F] - sum[k * (F + 1) + f];
				double		nk = cnt[k * (F + 1) + F] - cnt[k * (F + 1) + f];

				c->oof[r] = (nk + m > 0) ? (s + m * prior) / (nk + m) : prior;
			}
		}
	}
}

/* Fit the categorical encodings of this file on the training rows */
void
mlc_steps_fit_categorical(MlcColumn *c, const MlcDataset *ds, const MlcRawColumn *raw,
						  const int64 *rows, int64 nrows)
{
	int32	   *cidx;
	int64	   *count;
	int64		nn = 0;

	if (c->transform < MLC_TRANSFORM_TOP_K)
		return;
	cidx = mlc_steps_code_index(c, raw);
	count = palloc0(sizeof(int64) * (c->ncategories + 1));
	for (int64 i = 0; i < nrows; i++)
	{
		int32		code = raw->codes[rows[i]];

		if (code >= 0 && cidx[code] >= 0)
		{
			count[cidx[code]]++;
			nn++;
		}
	}
	switch (c->transform)
	{
		case MLC_TRANSFORM_TOP_K:
			mlc_steps_top_k(c, count, (int32) c->params[0]);
			c->nparams = 0;
			break;
		case MLC_TRANSFORM_FREQUENCY:
			c->nparams = c->ncategories;
			c->params = palloc(sizeof(double) * Max(c->ncategories, 1));
			for (int32 k = 0; k < c->ncategories; k++)
				c->params[k] = (double) count[k] / (double) Max(nn, 1);
			break;
		case MLC_TRANSFORM_TARGET:
			mlc_steps_fit_target(c, ds, cidx, raw, rows, nrows);
			break;
		case MLC_TRANSFORM_BINARY:
			c->nparams = 0;
			break;
		case MLC_TRANSFORM_HASHING:
			{
				double		buckets = c->params[0];

				c->nparams = 2;
				c->params = palloc(sizeof(double) * 2);
				c->params[0] = buckets;
				c->params[1] = -1;
				if (c->fill_index >= 0)
					c->params[1] = mlc_hash_bucket(c, c->categories[c->fill_index],
												   strlen(c->categories[c->fill_index]));
				c->ncategories = 0;
				c->fill_index = -1;
				break;
			}
	}
}

/*
 * kNN imputation of the training rows (ml_train only): each NULL of column j
 * in a training row becomes the mean of column j over the k nearest training
 * rows that have it, by Euclidean distance on the standardized numeric
 * columns both rows have (scaled up by the share of columns compared, as
 * scikit-learn's nan_euclidean).  The fitted fill (the mean) stays in the
 * model for test rows and prediction.  Returns the imputed values by dataset
 * row (NaN for rows not imputed), or NULL when the column has no kNN setting.
 */
double *
mlc_steps_knn_oof(const MlcColumn *c, const MlcDataset *ds, int j, const int64 *rows, int64 nrows)
{
	int			k;
	int			ncols = 0;
	int		   *use;
	double	   *mu,
			   *sd;
	double	   *out;
	double	   *bestd;
	int64	   *besti;

	if (c->transform != MLC_TRANSFORM_NUMERIC || c->nparams < MLC_STEP_HEADER + 2 || c->params[5] <= 0)
		return NULL;
	k = (int) c->params[5];
	use = palloc(sizeof(int) * ds->ncols);
	mu = palloc0(sizeof(double) * ds->ncols);
	sd = palloc0(sizeof(double) * ds->ncols);
	for (int q = 0; q < ds->ncols; q++)
	{
		double		s = 0,
					ss = 0,
					n = 0;

		if (ds->cols[q].kind == MLC_KIND_CATEGORICAL || q == j)
			continue;
		for (int64 i = 0; i < nrows; i++)
		{
			double		x = ds->cols[q].values[rows[i]];

			if (!isnan(x))
			{
				s += x;
				ss += x * x;
				n++;
			}
		}
		if (n < 1)
			continue;
		mu[q] = s / n;
		sd[q] = sqrt(Max(ss / n - mu[q] * mu[q], 0.0));
		if (sd[q] < 10.0 * DBL_EPSILON)
			sd[q] = 1.0;
		use[ncols++] = q;
	}
	out = palloc(sizeof(double) * Max(ds->nrows, 1));
	for (int64 r = 0; r < ds->nrows; r++)
		out[r] = NAN;
	bestd = palloc(sizeof(double) * k);
	besti = palloc(sizeof(int64) * k);
	for (int64 i = 0; i < nrows; i++)
	{
		double		v = ds->cols[j].values[rows[i]];
		int			nb = 0;

		if (!isnan(v))
			continue;
		CHECK_FOR_INTERRUPTS();
		for (int64 t = 0; t < nrows; t++)
		{
			double		d = 0;
			int			shared = 0;
			int			pos;

			if (isnan(ds->cols[j].values[rows[t]]))
				continue;
			for (int u = 0; u < ncols; u++)
			{
				double		a = ds->cols[use[u]].values[rows[i]];
				double		b = ds->cols[use[u]].values[rows[t]];

				if (isnan(a) || isnan(b))
					continue;
				d += ((a - b) / sd[use[u]]) * ((a - b) / sd[use[u]]);
				shared++;
			}
			if (shared == 0)
				continue;
			d *= (double) ncols / shared;
			/* insert into the k best, kept sorted by distance then row order */
			if (nb == k && d >= bestd[k - 1])
				continue;
			pos = (nb < k) ? nb++ : k - 1;
			while (pos > 0 && bestd[pos - 1] > d)
			{
				bestd[pos] = bestd[pos - 1];
				besti[pos] = besti[pos - 1];
				pos--;
			}
			bestd[pos] = d;
			besti[pos] = t;
		}
		if (nb > 0)
		{
			double		s = 0;

			for (int b = 0; b < nb; b++)
				s += ds->cols[j].values[rows[besti[b]]];
			out[rows[i]] = s / nb;
		}
	}
	return out;
}

/* ---------- applying ---------- */

/* A numeric-kind value (NaN for NULL) through the column's steps into its features */
void
mlc_emit_numeric_steps(const MlcColumn *c, double v, double *out)
{
	bool		missing = isnan(v);
	double	   *o = out + c->out_offset;

	if (missing)
	{
		if (c->impute == MLC_IMPUTE_ERROR)
			mlc_null_not_allowed(c);
		v = c->fill;
	}
	if (c->transform == MLC_TRANSFORM_TEMPORAL)
	{
		(void) mlc_calendar_features(v, c->params, c->nparams, o);
		return;
	}
	o[0] = (mlc_step_shape(c, (int) c->params[0], v) - c->center) / c->scale_by;
	if ((int) c->params[0] & MLC_STEP_INDICATOR)
		o[1] = missing ? 1.0 : 0.0;
}

/* A category index (-1 unseen; isnull for NULL) through the column's encoding */
void
mlc_emit_category_steps(const MlcColumn *c, int32 idx, bool isnull, double *out)
{
	double	   *o = out + c->out_offset;
	int			w = c->out_width;

	if (isnull)
	{
		if (c->impute == MLC_IMPUTE_ERROR)
			mlc_null_not_allowed(c);
		idx = (c->transform == MLC_TRANSFORM_HASHING) ? (int32) c->params[1] : c->fill_index;
	}
	switch (c->transform)
	{
		case MLC_TRANSFORM_TOP_K:
		case MLC_TRANSFORM_HASHING:
			for (int k = 0; k < w; k++)
				o[k] = 0.0;
			if (idx >= 0 && idx < w)
				o[idx] = 1.0;
			else if (c->transform == MLC_TRANSFORM_TOP_K && !(isnull && idx < 0))
				o[w - 1] = 1.0; /* the other bucket */
			break;
		case MLC_TRANSFORM_FREQUENCY:
			o[0] = idx >= 0 ? c->params[idx] : 0.0;
			break;
		case MLC_TRANSFORM_TARGET:
			o[0] = idx >= 0 ? c->params[idx] : c->params[c->ncategories];
			break;
		case MLC_TRANSFORM_BINARY:
			for (int k = 0; k < w; k++)
				o[k] = (double) (((idx + 1) >> (w - 1 - k)) & 1);
			break;
	}
}

/* Row-wise steps after every column is emitted: the l2 norm of the l2 columns */
void
mlc_steps_row(const MlcModel *m, double *out)
{
	double		ss = 0;
	bool		any = false;

	for (int j = 0; j < m->ncolumns; j++)
	{
		const MlcColumn *c = &m->columns[j];

		if (c->transform == MLC_TRANSFORM_NUMERIC && ((int) c->params[0] & MLC_STEP_ROW_L2))
		{
			ss += out[c->out_offset] * out[c->out_offset];
			any = true;
		}
	}
	if (!any || ss == 0.0)
		return;
	ss = sqrt(ss);
	for (int j = 0; j < m->ncolumns; j++)
	{
		const MlcColumn *c = &m->columns[j];

		if (c->transform == MLC_TRANSFORM_NUMERIC && ((int) c->params[0] & MLC_STEP_ROW_L2))
			out[c->out_offset] /= ss;
	}
}

/* Does any column need the general (non-affine) prediction path? */
bool
mlc_steps_nonaffine(const MlcModel *m)
{
	for (int j = 0; j < m->ncolumns; j++)
		if (m->columns[j].transform != MLC_TRANSFORM_NONE)
			return true;
	return false;
}

/* ---------- describing ---------- */

/* The encoding name of a categorical transform, or NULL */
const char *
mlc_steps_encode_name(const MlcColumn *c)
{
	switch (c->transform)
	{
		case MLC_TRANSFORM_TOP_K:
			return "one_hot";
		case MLC_TRANSFORM_FREQUENCY:
			return "frequency";
		case MLC_TRANSFORM_TARGET:
			return "target";
		case MLC_TRANSFORM_BINARY:
			return "binary";
		case MLC_TRANSFORM_HASHING:
			return "hashing";
	}
	return NULL;
}

/* Append the fitted steps of a column to its resolved-settings JSON */
void
mlc_steps_describe(StringInfo buf, const MlcColumn *c)
{
	const double *p = c->params;

	switch (c->transform)
	{
		case MLC_TRANSFORM_NUMERIC:
			{
				int			flags = (int) p[0];

				if (flags & MLC_STEP_INDICATOR)
					appendStringInfoString(buf, ", \"indicator\": true");
				if (flags & MLC_STEP_KNN)
					appendStringInfoString(buf, ", \"knn\": true");
				if (c->nparams > MLC_STEP_HEADER + 1 && !(flags & MLC_STEP_BINS))
					break;		/* not fitted yet */
				if (flags & MLC_STEP_CLIP)
					appendStringInfo(buf, ", \"clip\": [%.17g, %.17g]", p[1], p[2]);
				if (flags & (MLC_STEP_YEO_JOHNSON | MLC_STEP_BOX_COX))
					appendStringInfo(buf, ", \"lambda\": %.17g", p[3]);
				if (flags & MLC_STEP_BINS)
				{
					appendStringInfoString(buf, ", \"bin_edges\": [");
					for (int k = MLC_STEP_HEADER; k < c->nparams; k++)
						appendStringInfo(buf, "%s%.17g", k > MLC_STEP_HEADER ? ", " : "", p[k]);
					appendStringInfoChar(buf, ']');
				}
				break;
			}
		case MLC_TRANSFORM_TEMPORAL:
			appendStringInfoString(buf, ", \"temporal\": [");
			for (int k = 0; k < c->nparams; k++)
				appendStringInfo(buf, "%s\"%s%s\"", k ? ", " : "", part_names[(int) p[k] & ~MLC_PART_CYCLIC],
								 ((int) p[k] & MLC_PART_CYCLIC) ? "_sin_cos" : "");
			appendStringInfoChar(buf, ']');
			break;
		case MLC_TRANSFORM_TOP_K:
			appendStringInfoString(buf, ", \"other_bucket\": true");
			break;
		case MLC_TRANSFORM_HASHING:
			appendStringInfo(buf, ", \"buckets\": %d", (int) p[0]);
			break;
	}
}

/* Feature names of a column with a transform, into names[out_offset..] */
void
mlc_steps_feature_names(const MlcColumn *c, char **names)
{
	char	  **o = names + c->out_offset;
	int			w = 0;

	switch (c->transform)
	{
		case MLC_TRANSFORM_NUMERIC:
			o[0] = pstrdup(c->name);
			if (c->out_width > 1)
				o[1] = psprintf("%s (missing)", c->name);
			return;
		case MLC_TRANSFORM_TEMPORAL:
			for (int k = 0; k < c->nparams; k++)
			{
				const char *part = part_names[(int) c->params[k] & ~MLC_PART_CYCLIC];

				if ((int) c->params[k] & MLC_PART_CYCLIC)
				{
					o[w++] = psprintf("%s:%s_sin", c->name, part);
					o[w++] = psprintf("%s:%s_cos", c->name, part);
				}
				else
					o[w++] = psprintf("%s:%s", c->name, part);
			}
			return;
		case MLC_TRANSFORM_TOP_K:
			for (int k = 0; k < c->ncategories; k++)
				o[k] = psprintf("%s=%s", c->name, c->categories[k]);
			o[c->ncategories] = psprintf("%s=(other)", c->name);
			return;
		case MLC_TRANSFORM_HASHING:
			for (int k = 0; k < c->out_width; k++)
				o[k] = psprintf("%s#%d", c->name, k);
			return;
		case MLC_TRANSFORM_BINARY:
			for (int k = 0; k < c->out_width; k++)
				o[k] = psprintf("%s:bit%d", c->name, c->out_width - 1 - k);
			return;
	}
	o[0] = pstrdup(c->name);
}
