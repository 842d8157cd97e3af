/*
 * drift.c
 *	  mlcycle.drift_check, the engine of ml_drift: reads a relation with the
 *	  caller's privileges, compares every model column and the model's output
 *	  with the reference profiles stored in the model, and returns one row per
 *	  column and test plus a dataset summary row.
 */
#include "postgres.h"

#include <math.h>

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

#include "catalog.h"
#include "drift_stats.h"
#include "ingest.h"
#include "jsonutil.h"
#include "predict.h"
#include "preprocess.h"
#include "profile.h"

PG_FUNCTION_INFO_V1(mlc_drift_check);

/* distinct unseen categories tracked one by one per column; more share one bucket */
#define MLC_DRIFT_MAX_UNSEEN	1000
#define MLC_DRIFT_KEY_LEN		512
#define MLC_DRIFT_NCOLS			13

static const char *const option_names[] = {
	"ks_p_value", "chi2_p_value", "psi_moderate", "psi_significant", "wasserstein",
	"js_distance", "null_rate_change", "drift_share", "sample_size", "seed", NULL
};

/* Thresholds and sampling of one drift check */
typedef struct DriftOptions
{
	double		v[8];			/* the first eight option_names, in order */
	int			sample_size;
	int			seed;
} DriftOptions;

#define OPT_KS		0
#define OPT_CHI2	1
#define OPT_PSI_MOD 2
#define OPT_PSI_SIG 3
#define OPT_WASS	4
#define OPT_JS		5
#define OPT_NULL	6
#define OPT_SHARE	7

/* Current values of a numeric column or of the output: PSI bins and a reservoir */
typedef struct DriftNum
{
	int64		nonnull;
	int64	   *bins;
	double	   *sample;
	int			cap;
	int			nsample;
	double		w;				/* Algorithm L's weight, once the sample is full */
	int64		next;			/* the next value count the sample takes */
	double		edges[9];		/* the profile's PSI edges, padded with +infinity */
	bool		few_edges;		/* at most 9 edges: edges[] holds them all */
} DriftNum;

/* An unseen category and its current count */
typedef struct DriftUnseen
{
	char		key[MLC_DRIFT_KEY_LEN];
	int64		count;
} DriftUnseen;

/* One model column as found in the relation */
typedef struct DriftCol
{
	const MlcColumn *mc;
	const MlcProfile *prof;
	bool		present;
	int			attno;			/* 1-based in the query's result */
	Oid			typid;
	uint8		kind;
	int64		nulls;
	DriftNum	num;
	int64	   *cat_cur;		/* per profile category */
	int32	   *cat_order;		/* profile category indexes sorted by value */
	int64		other_cur;		/* not among the profile's categories */
	HTAB	   *unseen;
	int64		unseen_overflow;
	bool		drifted;
} DriftCol;

/* The whole check */
typedef struct DriftRun
{
	MlcModel   *m;
	int64		model_id;
	DriftOptions opt;
	DriftCol   *cols;
	int64		rows;
	DriftNum	out;			/* output scores */
	int64		out_skipped;	/* rows without a score (a NULL where imputation is error) */
	bool		score;			/* every column present: score the rows */
	pg_prng_state rng;
	ReturnSetInfo *rsinfo;
	int64		ndrifted;
	StringInfoData drifted_names;
} DriftRun;

/* Parse the options object; unknown keys list the valid ones */
static void
parse_options(Jsonb *j, DriftOptions *o)
{
	static const double defaults[8] = {0.05, 0.05, 0.1, 0.25, 0.1, 0.1, 0.1, 0.5};
	ListCell   *lc;

	memcpy(o->v, defaults, sizeof(defaults));
	o->sample_size = mlc_reference_sample_size;
	o->seed = 42;
	foreach(lc, mlc_jsonb_pairs(j, "options"))
	{
		MlcJsonPair *p = lfirst(lc);
		int			k = mlc_choose(p->key, option_names, "drift option");
		double		v = mlc_json_number(p, "drift option");

		if (k == 8 ? !(v >= 10 && v <= MLC_MAX_PROFILE_SAMPLE) :
			k == 9 ? !(v >= PG_INT32_MIN && v <= PG_INT32_MAX) :
			(k == OPT_KS || k == OPT_CHI2 || k == OPT_SHARE) ? !(v > 0 && v <= 1) : !(v > 0))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("drift option \"%s\" is out of range: %g", p->key, v),
					 errhint("p-value thresholds and drift_share are in (0, 1], other thresholds above 0, sample_size between 10 and %d.",
							 MLC_MAX_PROFILE_SAMPLE)));
		if (k == 8)
			o->sample_size = (int) v;
		else if (k == 9)
			o->seed = (int) v;
		else
			o->v[k] = v;
	}
	if (o->v[OPT_PSI_SIG] < o->v[OPT_PSI_MOD])
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("psi_significant must not be below psi_moderate"),
				 errhint("The defaults are 0.1 (moderate) and 0.25 (significant).")));
}

/* Load the deployed model (model_id NULL) or the given one, which must have profiles */
static void
load_model(DriftRun *run, const char *project, bool have_id, int64 model_id, MemoryContext qcxt)
{
	if (have_id)
	{
		if (model_id <= 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("model_id must be positive"),
					 errhint("Pass NULL to check the deployed model.")));
		run->m = mlc_load_model(project, model_id, &run->model_id);
	}
	else
	{
		/* the cached deployed model has no profiles: load it whole, by id */
		MlcCachedModel *cm = mlc_deployed_model(project, qcxt);

		run->m = mlc_load_model(project, cm->model_id, &run->model_id);
	}
	if (run->m->profiles == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("model " INT64_FORMAT " was trained before reference profiles existed", run->model_id),
				 errhint("Retrain the project with ml_train: new models store the reference profiles that ml_drift compares against.")));
}

/* Sort context for the profile's categories */
static const MlcProfile *cat_sort_prof;

static int
cmp_prof_cat(const void *a, const void *b)
{
	return strcmp(cat_sort_prof->cats[*(const int32 *) a], cat_sort_prof->cats[*(const int32 *) b]);
}

/* Start the current-value state of a numeric column or of the output */
static void
num_init(DriftNum *n, const MlcProfile *p, int cap)
{
	n->bins = palloc0(sizeof(int64) * (p->nedges + 1));
	n->cap = cap;
	/* mlcycle's profiles have at most 9 inner edges (10 bins); the format allows more */
	n->few_edges = (p->nedges <= 9);
	for (int e = 0; e < 9; e++)
		n->edges[e] = e < p->nedges ? p->edges[e] : INFINITY;
	n->sample = palloc(sizeof(double) * cap);
}

/* Map the model's columns to the relation's; builds the query that reads them */
static char *
map_columns(DriftRun *run, Oid relid)
{
	StringInfoData q;
	int			pos = 0;

	initStringInfo(&q);
	appendStringInfoString(&q, "SELECT ");
	run->cols = palloc0(sizeof(DriftCol) * Max(run->m->ncolumns, 1));
	run->score = true;
	for (int j = 0; j < run->m->ncolumns; j++)
	{
		DriftCol   *c = &run->cols[j];
		AttrNumber	att;
		Oid			typ;

		c->mc = &run->m->columns[j];
		c->prof = &run->m->profiles[j];
		att = get_attnum(relid, c->mc->name);
		if (att == InvalidAttrNumber || att < 0)
		{
			run->score = false;
			continue;
		}
		typ = get_atttype(relid, att);
		c->kind = mlc_type_kind(typ);
		c->typid = getBaseType(typ);
		if (c->kind != c->mc->kind)
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("column \"%s\" has type %s, but the model was trained on a %s column",
							c->mc->name, format_type_be(typ), mlc_kind_name(c->mc->kind)),
					 errhint("Check the relation with a view that casts \"%s\" to the type used in training.",
							 c->mc->name)));
		c->present = true;
		c->attno = ++pos;
		appendStringInfo(&q, "%s%s", pos > 1 ? ", " : "", quote_identifier(c->mc->name));
		if (c->kind == MLC_KIND_CATEGORICAL)
		{
			HASHCTL		ctl;

			c->cat_cur = palloc0(sizeof(int64) * Max(c->prof->ncats, 1));
			c->cat_order = palloc(sizeof(int32) * Max(c->prof->ncats, 1));
			for (int32 k = 0; k < c->prof->ncats; k++)
				c->cat_order[k] = k;
			cat_sort_prof = c->prof;
			qsort(c->cat_order, c->prof->ncats, sizeof(int32), cmp_prof_cat);
			memset(&ctl, 0, sizeof(ctl));
			ctl.keysize = MLC_DRIFT_KEY_LEN;
			ctl.entrysize = sizeof(DriftUnseen);
			ctl.hcxt = CurrentMemoryContext;
			c->unseen = hash_create("mlcycle unseen categories", 64, &ctl,
									HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
		}
		else
			num_init(&c->num, c->prof, run->opt.sample_size);
	}
	if (pos == 0)
		appendStringInfoString(&q, "NULL");
	appendStringInfo(&q, " FROM %s",
					 quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)),
												get_rel_name(relid)));
	if (run->score)
		num_init(&run->out, &run->m->profiles[run->m->ncolumns], run->opt.sample_size);
	return q.data;
}

/*
 * Algorithm L: the count of the next value the full reservoir takes, so
 * that random numbers are drawn only for the values it keeps.
 */
static void
num_skip(DriftRun *run, DriftNum *n)
{
	n->w *= exp(log(1.0 - pg_prng_double(&run->rng)) / (double) n->cap);
	n->next = n->nonnull + (int64) floor(log(1.0 - pg_prng_double(&run->rng)) / log1p(-n->w)) + 1;
}

/* Count a current value into its PSI bin and the seeded reservoir */
static inline void
num_add(DriftRun *run, DriftNum *n, const MlcProfile *p, double v)
{
	const double *e = n->edges;
	int64		k;

	/* the bin is the number of edges strictly below v, counted without branches */
	if (likely(n->few_edges))
		n->bins[(e[0] < v) + (e[1] < v) + (e[2] < v) + (e[3] < v) + (e[4] < v) +
				(e[5] < v) + (e[6] < v) + (e[7] < v) + (e[8] < v)]++;
	else
	{
		int			bin = 0;

		for (int j = 0; j < p->nedges; j++)
			bin += (p->edges[j] < v);
		n->bins[bin]++;
	}
	k = ++n->nonnull;
	if (k <= n->cap)
	{
		n->sample[n->nsample++] = v;
		if (k == n->cap)
		{
			n->w = 1.0;
			num_skip(run, n);
		}
	}
	else if (k == n->next)
	{
		n->sample[pg_prng_uint64_range(&run->rng, 0, (uint64) n->cap - 1)] = v;
		num_skip(run, n);
	}
}

/* Index of s among the profile's categories, or -1 */
static int32
prof_cat_lookup(const DriftCol *c, const char *s)
{
	int			lo = 0,
				hi = c->prof->ncats - 1;

	while (lo <= hi)
	{
		int			mid = (lo + hi) / 2;
		int			cmp = strcmp(c->prof->cats[c->cat_order[mid]], s);

		if (cmp == 0)
			return c->cat_order[mid];
		if (cmp < 0)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return -1;
}

/* Count a current category: a profile category, 'other', or unseen */
static void
cat_add(DriftCol *c, const char *s)
{
	int32		k = prof_cat_lookup(c, s);
	DriftUnseen *u;
	bool		found;
	char		key[MLC_DRIFT_KEY_LEN];

	if (k >= 0)
	{
		c->cat_cur[k]++;
		return;
	}
	c->other_cur++;
	if (c->prof->other > 0)
		return;					/* cannot tell unseen from a rare training category */
	strlcpy(key, s, sizeof(key));
	if (hash_get_num_entries(c->unseen) >= MLC_DRIFT_MAX_UNSEEN)
	{
		u = hash_search(c->unseen, key, HASH_FIND, NULL);
		if (u)
			u->count++;
		else
			c->unseen_overflow++;
		return;
	}
	u = hash_search(c->unseen, key, HASH_ENTER, &found);
	if (!found)
		u->count = 0;
	u->count++;
}

/* Error for NaN or Infinity in a current value */
static void
nonfinite_error(const char *name)
{
	ereport(ERROR,
			(errcode(ERRCODE_DATA_EXCEPTION),
			 errmsg("column \"%s\" contains NaN or Infinity", name),
			 errhint("Check a view that turns them into NULL with NULLIF, as training requires.")));
}

/* One scanned row: every present column, then the model's score when it can be computed */
static void
add_row(DriftRun *run, const Datum *values, const bool *nulls, double *x, double *out)
{
	const MlcModel *m = run->m;
	bool		scorable = run->score;

	run->rows++;
	for (int j = 0; j < m->ncolumns; j++)
	{
		DriftCol   *c = &run->cols[j];
		bool		isnull;
		Datum		d;

		if (!c->present)
			continue;
		d = values[c->attno - 1];
		isnull = nulls[c->attno - 1];
		if (isnull)
		{
			c->nulls++;
			if (c->mc->impute == MLC_IMPUTE_ERROR)
				scorable = false;
			else if (scorable && c->kind == MLC_KIND_CATEGORICAL)
				mlc_emit_category(c->mc, -1, true, x);
			else if (scorable)
				mlc_emit_numeric(c->mc, NAN, x);
			continue;
		}
		if (c->kind == MLC_KIND_CATEGORICAL)
		{
			char		buf[NAMEDATALEN * 2];
			int			len;
			const char *s = mlc_datum_to_text(d, c->typid, &len, buf, sizeof(buf));
			char	   *z = pnstrdup(s, len);

			cat_add(c, z);
			if (scorable)
				mlc_emit_category(c->mc, mlc_category_lookup(c->mc, s, len), false, x);
		}
		else
		{
			double		v = mlc_datum_to_double(d, c->typid, c->kind);

			if (!isfinite(v))
				nonfinite_error(c->mc->name);
			num_add(run, &c->num, c->prof, v);
			if (scorable)
				mlc_emit_numeric(c->mc, v, x);
		}
	}
	if (scorable)
	{
		/* x holds ninput values; the learner's features come first after the projection */
		mlc_finish_row(m, x, x + (m->nkept > 0 ? m->ninput : 0));
		mlc_predict_features(m, x + (m->nkept > 0 ? m->ninput : 0), out);
		num_add(run, &run->out, &m->profiles[m->ncolumns], mlc_profile_score(m, out));
	}
	else if (run->score)
		run->out_skipped++;
}

/* DestReceiver that feeds each scanned row to add_row, without copying it */
typedef struct DriftReceiver
{
	DestReceiver pub;
	DriftRun   *run;
	MemoryContext rowcxt;		/* reset after every row */
	double	   *x;
	double	   *out;
} DriftReceiver;

static bool
drift_receive(TupleTableSlot *slot, DestReceiver *self)
{
	DriftReceiver *r = (DriftReceiver *) self;
	MemoryContext old;

	CHECK_FOR_INTERRUPTS();
	slot_getallattrs(slot);
	old = MemoryContextSwitchTo(r->rowcxt);
	add_row(r->run, slot->tts_values, slot->tts_isnull, r->x, r->out);
	MemoryContextSwitchTo(old);
	MemoryContextReset(r->rowcxt);
	return true;
}

static void
drift_startup(DestReceiver *self, int operation, TupleDesc typeinfo)
{
}

static void
drift_shutdown(DestReceiver *self)
{
}

static void
drift_destroy(DestReceiver *self)
{
}

/* Scan the relation once, with the caller's privileges, each row to add_row */
static void
scan(DriftRun *run, const char *query)
{
	DriftReceiver r;
	SPIExecuteOptions opts;
	MemoryContext cxt = CurrentMemoryContext;
	int			ret;

	memset(&r, 0, sizeof(r));
	r.pub.receiveSlot = drift_receive;
	r.pub.rStartup = drift_startup;
	r.pub.rShutdown = drift_shutdown;
	r.pub.rDestroy = drift_destroy;
	r.pub.mydest = DestNone;
	r.run = run;
	r.rowcxt = AllocSetContextCreate(CurrentMemoryContext, "mlcycle drift rows", ALLOCSET_DEFAULT_SIZES);
	r.x = palloc(sizeof(double) * Max(run->m->ninput + (run->m->nkept > 0 ? run->m->nfeatures : 0), 1));
	r.out = palloc(sizeof(double) * Max(run->m->nclasses, 1));
	memset(&opts, 0, sizeof(opts));
	opts.read_only = true;
	opts.dest = (DestReceiver *) &r;
	ret = SPI_execute_extended(query, &opts);
	MemoryContextSwitchTo(cxt);
	if (ret != SPI_OK_SELECT && ret != SPI_OK_UTILITY)
		elog(ERROR, "mlcycle: reading the relation failed: %s", SPI_result_code_string(ret));
	MemoryContextDelete(r.rowcxt);
}

/* Severity of a threshold test: moderate at the threshold, significant at 2.5 times it */
static const char *
severity_above(double stat, double moderate, double significant)
{
	if (stat >= significant)
		return "significant";
	return stat >= moderate ? "moderate" : "none";
}

/* Severity of a p-value test: moderate below alpha, significant below alpha / 50 */
static const char *
severity_p(double p, double alpha)
{
	if (p < alpha / 50.0)
		return "significant";
	return p < alpha ? "moderate" : "none";
}

/* Append one result row; a NaN statistic means the test had no data */
static void
emit(DriftRun *run, DriftCol *c, const char *name, const char *kind, const char *method,
	 double stat, double p, double threshold, const char *severity,
	 int64 ref_rows, int64 cur_rows, int64 sampled, const char *details)
{
	Datum		v[MLC_DRIFT_NCOLS];
	bool		n[MLC_DRIFT_NCOLS] = {false};
	bool		nodata = isnan(stat);
	bool		drifted = !nodata && strcmp(severity, "none") != 0;

	v[0] = Int64GetDatum(run->model_id);
	v[1] = CStringGetTextDatum(name);
	v[2] = CStringGetTextDatum(kind);
	v[3] = CStringGetTextDatum(method);
	v[4] = Float8GetDatum(stat);
	n[4] = nodata;
	v[5] = Float8GetDatum(p);
	n[5] = isnan(p);
	v[6] = Float8GetDatum(threshold);
	n[6] = isnan(threshold);
	v[7] = BoolGetDatum(drifted);
	n[7] = nodata;
	v[8] = CStringGetTextDatum(nodata ? "no_data" : severity);
	v[9] = Int64GetDatum(ref_rows);
	n[9] = ref_rows < 0;
	v[10] = Int64GetDatum(cur_rows);
	n[10] = cur_rows < 0;
	v[11] = Int64GetDatum(sampled);
	n[11] = sampled < 0;
	v[12] = details ? DirectFunctionCall1(jsonb_in, CStringGetDatum(details)) : (Datum) 0;
	n[12] = details == NULL;
	if (drifted && c)
		c->drifted = true;
	tuplestore_putvalues(run->rsinfo->setResult, run->rsinfo->setDesc, v, n);
}

/* qsort comparator of doubles */
static int
cmp_double(const void *a, const void *b)
{
	double		x = *(const double *) a;
	double		y = *(const double *) b;

	return x < y ? -1 : (x > y ? 1 : 0);
}

/*
 * How far, with 95% confidence, the ECDF of a uniform sample of m of n
 * values can be from the ECDF of all n (Dvoretzky-Kiefer-Wolfowitz-Massart):
 * 0 when the sample is everything.  The sampled KS statistic is within the
 * sum of the two sides' bounds of the statistic on all the rows.
 */
static double
ks_sampling_error(int64 m, int64 n)
{
	if (m <= 0 || m >= n)
		return 0.0;
	return sqrt(log(2.0 / 0.05) / (2.0 * (double) m));
}

/* KS, PSI and (for columns) Wasserstein of current values against a numeric profile */
static void
numeric_tests(DriftRun *run, DriftCol *c, const char *name, const char *kind,
			  const MlcProfile *p, DriftNum *n, bool wasserstein)
{
	double	   *o = run->opt.v;
	double		stat = NAN,
				pv = NAN;
	char	   *details = NULL;

	qsort(n->sample, n->nsample, sizeof(double), cmp_double);
	if (p->nsample > 0 && n->nsample > 0)
	{
		MlcKsResult ks = mlc_ks_test_sorted(p->sample, p->nsample, n->sample, n->nsample, MLC_KS_AUTO);

		stat = ks.statistic;
		pv = ks.p_value;
		details = psprintf("{\"p_value_method\": \"%s\", \"sampled\": %s, \"statistic_error_95\": %.6g}",
						   ks.method == MLC_KS_EXACT ? "exact" : "asymp",
						   (p->nsample < p->count - p->nulls || n->nsample < n->nonnull) ? "true" : "false",
						   ks_sampling_error(p->nsample, p->count - p->nulls) +
						   ks_sampling_error(n->nsample, n->nonnull));
	}
	emit(run, c, name, kind, "ks", stat, pv, o[OPT_KS], isnan(pv) ? "none" : severity_p(pv, o[OPT_KS]),
		 p->nsample, n->nonnull, n->nsample, details);
	stat = mlc_psi_from_counts(p->bins, n->bins, p->nedges + 1, p->nbinned, n->nonnull);
	emit(run, c, name, kind, "psi", stat, NAN, o[OPT_PSI_MOD],
		 severity_above(stat, o[OPT_PSI_MOD], o[OPT_PSI_SIG]), p->nbinned, n->nonnull, -1, NULL);
	if (!wasserstein)
		return;
	stat = mlc_wasserstein_sorted(p->sample, p->nsample, n->sample, n->nsample) /
		Max(p->std, MLC_WASSERSTEIN_MIN_SCALE);
	emit(run, c, name, kind, "wasserstein", stat, NAN, o[OPT_WASS],
		 severity_above(stat, o[OPT_WASS], 2.5 * o[OPT_WASS]), p->nsample, n->nonnull, n->nsample, NULL);
}

/* Chi-square, PSI and Jensen-Shannon of current categories against the profile */
static void
categorical_tests(DriftRun *run, DriftCol *c)
{
	const MlcProfile *p = c->prof;
	int			nunseen = (int) hash_get_num_entries(c->unseen);
	int			k = 0;
	MlcCategoryCounts *cc = palloc(sizeof(MlcCategoryCounts) * (p->ncats + nunseen + 2));
	int64	   *rc = palloc(sizeof(int64) * (p->ncats + nunseen + 2));
	int64	   *cu = palloc(sizeof(int64) * (p->ncats + nunseen + 2));
	int64		cur_total = 0;
	double	   *o = run->opt.v;
	MlcChi2Result chi;
	HASH_SEQ_STATUS hs;
	DriftUnseen *u;
	StringInfoData det;
	int			listed = 0;
	double		stat;

	initStringInfo(&det);
	appendStringInfoString(&det, "{\"unseen\": [");
	for (int32 i = 0; i < p->ncats; i++, k++)
	{
		cc[k].nref = p->cat_counts[i];
		cc[k].ncur = c->cat_cur[i];
	}
	if (p->other > 0)
	{
		cc[k].nref = p->other;
		cc[k++].ncur = c->other_cur;
	}
	hash_seq_init(&hs, c->unseen);
	while ((u = hash_seq_search(&hs)) != NULL)
	{
		cc[k].nref = 0;
		cc[k++].ncur = u->count;
		if (listed++ < 10)
		{
			if (listed > 1)
				appendStringInfoString(&det, ", ");
			escape_json(&det, u->key);
		}
	}
	if (c->unseen_overflow > 0)
	{
		cc[k].nref = 0;
		cc[k++].ncur = c->unseen_overflow;
	}
	for (int i = 0; i < k; i++)
	{
		rc[i] = cc[i].nref;
		cu[i] = cc[i].ncur;
		cur_total += cc[i].ncur;
	}
	chi = mlc_chi2_gof(cc, k);
	appendStringInfo(&det, "], \"unseen_categories\": %d, \"unseen_rows\": " INT64_FORMAT ", \"df\": %d}",
					 chi.unseen, c->other_cur, chi.df);
	if (p->other > 0)
	{
		/* values outside the stored top categories are compared as one bucket */
		resetStringInfo(&det);
		appendStringInfo(&det, "{\"df\": %d, \"other_rows\": " INT64_FORMAT "}", chi.df, c->other_cur);
	}
	emit(run, c, c->mc->name, "categorical", "chi_square", chi.statistic, chi.p_value, o[OPT_CHI2],
		 isnan(chi.p_value) ? "none" : severity_p(chi.p_value, o[OPT_CHI2]),
		 p->count - p->nulls, cur_total, -1, det.data);
	stat = mlc_psi_from_counts(rc, cu, k, p->count - p->nulls, cur_total);
	emit(run, c, c->mc->name, "categorical", "psi", stat, NAN, o[OPT_PSI_MOD],
		 severity_above(stat, o[OPT_PSI_MOD], o[OPT_PSI_SIG]), p->count - p->nulls, cur_total, -1, NULL);
	stat = mlc_js_distance(cc, k);
	emit(run, c, c->mc->name, "categorical", "jensen_shannon", stat, NAN, o[OPT_JS],
		 severity_above(stat, o[OPT_JS], 2.5 * o[OPT_JS]), p->count - p->nulls, cur_total, -1, NULL);
}

/* Name of a column's kind in the result */
static const char *
kind_label(const DriftCol *c)
{
	return c->mc->kind == MLC_KIND_CATEGORICAL ? "categorical" : "numeric";
}

/* Every test of one model column */
static void
column_tests(DriftRun *run, DriftCol *c)
{
	double		ref_rate,
				cur_rate,
				change;
	double		t = run->opt.v[OPT_NULL];

	if (!c->present)
	{
		emit(run, c, c->mc->name, kind_label(c), "missing_column", 1.0, NAN, NAN, "significant",
			 c->prof->count, -1, -1, "{\"reason\": \"the relation has no column of this name\"}");
		return;
	}
	if (c->mc->kind == MLC_KIND_CATEGORICAL)
		categorical_tests(run, c);
	else
		numeric_tests(run, c, c->mc->name, "numeric", c->prof, &c->num, true);
	ref_rate = c->prof->count > 0 ? (double) c->prof->nulls / (double) c->prof->count : 0.0;
	cur_rate = (double) c->nulls / (double) run->rows;
	change = cur_rate - ref_rate;
	emit(run, c, c->mc->name, kind_label(c), "null_rate", change, NAN, t,
		 severity_above(fabs(change), t, 2.5 * t), c->prof->count, run->rows, -1,
		 psprintf("{\"reference_null_rate\": %.17g, \"current_null_rate\": %.17g}", ref_rate, cur_rate));
}

/* The output tests and the dataset summary row */
static void
summary(DriftRun *run)
{
	const MlcModel *m = run->m;
	int			ncol = m->ncolumns;
	double		share;
	StringInfoData det;

	if (run->score)
		numeric_tests(run, NULL, "(output)", "output", &m->profiles[ncol], &run->out, false);
	else
		emit(run, NULL, "(output)", "output", "psi", NAN, NAN, run->opt.v[OPT_PSI_MOD], "none",
			 m->profiles[ncol].nbinned, -1, -1,
			 "{\"reason\": \"the relation lacks columns the model needs\"}");
	initStringInfo(&det);
	appendStringInfoString(&det, "{\"drifted_columns\": [");
	run->ndrifted = 0;
	for (int j = 0; j < ncol; j++)
		if (run->cols[j].drifted)
		{
			if (run->ndrifted++ > 0)
				appendStringInfoString(&det, ", ");
			escape_json(&det, run->cols[j].mc->name);
		}
	share = (double) run->ndrifted / (double) Max(ncol, 1);
	appendStringInfo(&det, "], \"columns\": %d, \"scored_rows\": " INT64_FORMAT ", \"unscored_rows\": " INT64_FORMAT "}",
					 ncol, run->score ? run->out.nonnull : 0, run->score ? run->out_skipped : run->rows);
	emit(run, NULL, "(dataset)", "dataset", "share_of_drifted_columns", share, NAN,
		 run->opt.v[OPT_SHARE], share >= run->opt.v[OPT_SHARE] ? "significant" : "none",
		 m->profiles[0].count, run->rows, -1, det.data);
}

/* mlcycle.drift_check(project, relation, model_id, options) */
Datum
mlc_drift_check(PG_FUNCTION_ARGS)
{
	DriftRun	run;
	char	   *project;
	char	   *relation;
	Oid			relid;
	char	   *query;
	MemoryContext cxt,
				old;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("project and relation must not be NULL"),
				 errhint("Pass the project's name and the relation holding the current rows.")));
	memset(&run, 0, sizeof(run));
	project = text_to_cstring(PG_GETARG_TEXT_PP(0));
	relation = text_to_cstring(PG_GETARG_TEXT_PP(1));
	parse_options(PG_ARGISNULL(3) ? NULL : PG_GETARG_JSONB_P(3), &run.opt);
	InitMaterializedSRF(fcinfo, 0);
	run.rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	pg_prng_seed(&run.rng, (uint64) (uint32) run.opt.seed * UINT64CONST(0x9E3779B97F4A7C15) + 1);

	cxt = AllocSetContextCreate(CurrentMemoryContext, "mlcycle drift", ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(cxt);
	load_model(&run, project, !PG_ARGISNULL(2), PG_ARGISNULL(2) ? 0 : PG_GETARG_INT64(2),
			   run.rsinfo->econtext->ecxt_per_query_memory);
	relid = mlc_resolve_relation(relation, true);
	query = map_columns(&run, relid);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "mlcycle: SPI_connect failed");
	MemoryContextSwitchTo(cxt);
	scan(&run, query);
	if (run.rows == 0)
		ereport(ERROR,
				(errcode(ERRCODE_NO_DATA_FOUND),
				 errmsg("relation %s has no rows", relation),
				 errhint("A drift check compares current rows with the training profile: load rows first.")));
	for (int j = 0; j < run.m->ncolumns; j++)
		column_tests(&run, &run.cols[j]);
	summary(&run);
	if (SPI_finish() != SPI_OK_FINISH)
		elog(ERROR, "mlcycle: SPI_finish failed");
	MemoryContextSwitchTo(old);
	MemoryContextDelete(cxt);
	return (Datum) 0;
}
