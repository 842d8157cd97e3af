/*
 * preprocess.c
 *	  Fits the preprocessing pipeline (imputation, scaling, encoding) on the
 *	  training rows only, from the user's preprocess spec and per-kind
 *	  defaults, and applies it to datasets; prediction applies the same steps.
 */
#include "postgres.h"

#include <float.h>
#include <math.h>

#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/json.h"

#include "jsonutil.h"
#include "mlcycle.h"
#include "preprocess.h"
#include "projection.h"

static const char *const impute_names[] = {"mean", "median", "most_frequent", "constant", "error", "none", NULL};
static const char *const scale_names[] = {"none", "standard", "minmax", "robust", "maxabs", "log1p", "yeo_johnson", "box_cox", "l2", NULL};
static const char *const encode_names[] = {"one_hot", "ordinal", NULL};
static const char *const setting_names[] = {"impute", "scale", "encode", "fill_value", "clip", "bin", "temporal", NULL};

/* What the spec asks for one column; -1 means not given */
typedef struct MlcSettings
{
	int			impute;
	int			scale;
	int			encode;
	bool		has_fill;
	double		fill_number;
	char	   *fill_text;
	MlcStepSettings steps;		/* preprocess_steps.c */
	bool		pca;			/* "*" only: the spec has the pca step */
} MlcSettings;

/* Readable name of a column kind */
const char *
mlc_kind_name(uint8 kind)
{
	switch (kind)
	{
		case MLC_KIND_NUMERIC:
			return "numeric";
		case MLC_KIND_BOOL:
			return "boolean";
		case MLC_KIND_TEMPORAL:
			return "temporal";
		case MLC_KIND_CATEGORICAL:
			return "categorical";
	}
	return "unknown";
}

/*
 * Name of a column's kind, imputation, scaling or encoding code (setting
 * "kind", "impute", "scale" or "encode") as the preprocess spec writes it;
 * NULL for a code without a name.
 */
const char *
mlc_setting_name(const char *setting, int code)
{
	if (strcmp(setting, "kind") == 0)
		return code >= MLC_KIND_NUMERIC && code <= MLC_KIND_CATEGORICAL ? mlc_kind_name(code) : NULL;
	if (strcmp(setting, "impute") == 0)
		return code >= 1 && code < (int) lengthof(impute_names) ? impute_names[code - 1] : NULL;
	if (strcmp(setting, "scale") == 0)
		return code >= 0 && code < (int) lengthof(scale_names) - 1 ? scale_names[code] : NULL;
	if (strcmp(setting, "encode") == 0)
		return code == MLC_ENCODE_NONE ? "none" :
			code >= 1 && code < (int) lengthof(encode_names) ? encode_names[code - 1] : NULL;
	return NULL;
}

/* Raise the error for a NULL in a column whose imputation is 'error' */
void
mlc_null_not_allowed(const MlcColumn *c)
{
	ereport(ERROR,
			(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
			 errmsg("column \"%s\" is NULL and its imputation is 'error'", c->name),
			 errhint("Filter out rows with NULL in this column, or train with another impute setting.")));
}

/* Parse one column's settings object */
static void
mlc_parse_settings(JsonbValue *v, const char *column, MlcSettings *s)
{
	List	   *pairs;
	ListCell   *lc;
	char	   *what = psprintf("preprocess setting of \"%s\"", column);

	if (v->type != jbvBinary)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("preprocess entry \"%s\" must be a JSON object", column),
				 errhint("Write it as {\"impute\": \"median\", \"scale\": \"robust\"}.")));
	pairs = mlc_json_pairs(v->val.binary.data, what);
	foreach(lc, pairs)
	{
		MlcJsonPair *p = lfirst(lc);

		if (mlc_steps_parse(p, what, &s->steps, &s->impute, &s->encode))
			continue;
		switch (mlc_choose(p->key, setting_names, "preprocess setting"))
		{
			case 0:
				s->impute = mlc_choose(mlc_json_string(p, what), impute_names, "impute strategy") + 1;
				break;
			case 1:
				s->scale = mlc_choose(mlc_json_string(p, what), scale_names, "scale strategy");
				break;
			case 2:
				s->encode = mlc_choose(mlc_json_string(p, what), encode_names, "encoding") + 1;
				break;
			case 3:
				s->has_fill = true;
				if (p->value.type == jbvString)
					s->fill_text = mlc_json_string(p, what);
				else
					s->fill_number = mlc_json_number(p, what);
				break;
		}
	}
}

/* A settings record with nothing given */
static void
mlc_settings_init(MlcSettings *s)
{
	memset(s, 0, sizeof(*s));
	s->impute = s->scale = s->encode = -1;
}

/* Parse the whole spec: "*" into *all, each column into per[i] */
static void
mlc_parse_spec(Jsonb *spec, MlcDataset *ds, MlcSettings *all, MlcSettings *per)
{
	List	   *pairs = mlc_jsonb_pairs(spec, "preprocess");
	ListCell   *lc;

	mlc_settings_init(all);
	for (int i = 0; i < ds->ncols; i++)
		mlc_settings_init(&per[i]);
	foreach(lc, pairs)
	{
		MlcJsonPair *p = lfirst(lc);
		int			i;

		if (strcmp(p->key, "*") == 0)
		{
			mlc_parse_settings(&p->value, p->key, all);
			continue;
		}
		if (mlc_pca_is_step(p, ds))
		{
			/* the whole-vector step after the columns' (projection.c) */
			all->pca = true;
			continue;
		}
		for (i = 0; i < ds->ncols; i++)
			if (strcmp(ds->cols[i].name, p->key) == 0)
				break;
		if (i == ds->ncols)
		{
			const char **names = palloc0(sizeof(char *) * (ds->ncols + 2));

			names[0] = "\"*\", \"pca\"";
			for (int k = 0; k < ds->ncols; k++)
				names[k + 1] = quote_identifier(ds->cols[k].name);
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("preprocess names \"%s\", which is not a feature column", p->key),
					 errhint("Valid keys are: %s.", mlc_join_names(names))));
		}
		mlc_parse_settings(&p->value, p->key, &per[i]);
	}
}

/* Resolve a column's settings: kind defaults, then "*" where it fits, then its own */
static void
mlc_resolve_settings(MlcColumn *c, const MlcSettings *all, const MlcSettings *own, bool trees)
{
	bool		cat = (c->kind == MLC_KIND_CATEGORICAL);

	mlc_steps_check_kind(c, &own->steps);
	c->impute = cat ? MLC_IMPUTE_MOST_FREQUENT : MLC_IMPUTE_MEAN;
	c->scale = cat ? MLC_SCALE_NONE : MLC_SCALE_STANDARD;
	c->encode = cat ? MLC_ENCODE_ONE_HOT : MLC_ENCODE_NONE;
	if (trees && !all->pca)
	{
		/*
		 * trees split on missing values and on category codes themselves; with
		 * the pca step they get the defaults above, as PCA needs complete,
		 * comparably scaled features
		 */
		c->impute = MLC_IMPUTE_NONE;
		c->scale = MLC_SCALE_NONE;
		c->encode = cat ? MLC_ENCODE_ORDINAL : MLC_ENCODE_NONE;
	}
	if (all->impute > 0 && (!cat || all->impute >= MLC_IMPUTE_MOST_FREQUENT))
		c->impute = all->impute;
	if (all->encode > 0 && cat)
		c->encode = all->encode;
	if (all->scale >= 0 && (!cat || c->encode == MLC_ENCODE_ORDINAL))
		c->scale = all->scale;
	if (own->impute > 0)
	{
		if (cat && own->impute < MLC_IMPUTE_MOST_FREQUENT)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("impute strategy \"%s\" does not apply to text column \"%s\"",
							impute_names[own->impute - 1], c->name),
					 errhint("Valid values for text columns are: most_frequent, constant, error, none.")));
		c->impute = own->impute;
	}
	if (own->encode > 0)
	{
		if (!cat)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("encode applies to text columns, and \"%s\" is %s", c->name,
							mlc_kind_name(c->kind)),
					 errhint("Remove the encode setting of this column.")));
		c->encode = own->encode;
	}
	if (own->scale >= 0)
	{
		if (cat && c->encode != MLC_ENCODE_ORDINAL && own->scale != MLC_SCALE_NONE)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("scale does not apply to one-hot encoded column \"%s\"", c->name),
					 errhint("Scale numeric columns, or use \"encode\": \"ordinal\" for this one.")));
		c->scale = own->scale;
	}
	if (cat && c->encode == MLC_ENCODE_ONE_HOT)
		c->scale = MLC_SCALE_NONE;
	mlc_steps_resolve(c, &all->steps, &own->steps, own->scale >= 0);
}

/* Error for a feature that has no values to learn from */
void
mlc_all_null_error(const char *name, bool all_rows)
{
	if (all_rows)
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("feature column \"%s\" is NULL in every row", name),
				 errhint("Exclude it with exclude => '{%s}'.", quote_identifier(name))));
	ereport(ERROR,
			(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
			 errmsg("feature column \"%s\" is NULL in every training row", name),
			 errhint("Exclude it, or train with a larger training share so it has values.")));
}

/* Fit center and scale_by on (imputed) values */
static void
mlc_fit_scale(MlcColumn *c, double *v, int64 n)
{
	c->center = 0.0;
	c->scale_by = 1.0;
	if (c->scale == MLC_SCALE_MAXABS)
	{
		double		mx = 0;

		for (int64 i = 0; i < n; i++)
			mx = Max(mx, fabs(v[i]));
		c->scale_by = mx;
	}
	else if (c->scale == MLC_SCALE_STANDARD || c->scale == MLC_SCALE_YEO_JOHNSON ||
			 c->scale == MLC_SCALE_BOX_COX)
	{
		double		mean = 0,
					ss = 0;

		for (int64 i = 0; i < n; i++)
			mean += v[i];
		mean /= (double) n;
		for (int64 i = 0; i < n; i++)
			ss += (v[i] - mean) * (v[i] - mean);
		c->center = mean;
		c->scale_by = sqrt(ss / (double) n);
	}
	else if (c->scale == MLC_SCALE_MINMAX || c->scale == MLC_SCALE_ROBUST)
	{
		qsort(v, n, sizeof(double), mlc_tf_cmp_double);
		if (c->scale == MLC_SCALE_MINMAX)
		{
			c->center = v[0];
			c->scale_by = v[n - 1] - v[0];
		}
		else
		{
			c->center = mlc_tf_quantile(v, n, 0.5);
			c->scale_by = mlc_tf_quantile(v, n, 0.75) - mlc_tf_quantile(v, n, 0.25);
		}
	}
	/* a constant column keeps its scale, as scikit-learn does */
	if (!(fabs(c->scale_by) >= 10.0 * DBL_EPSILON) || !isfinite(c->scale_by))
		c->scale_by = 1.0;
}

/* The fill_value of a numeric column imputed with a constant (default 0) */
static double
mlc_constant_fill(const MlcColumn *c, const MlcSettings *own, const MlcSettings *all)
{
	if ((own->has_fill && own->fill_text) || (!own->has_fill && all->has_fill && all->fill_text))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("fill_value of numeric column \"%s\" must be a number", c->name),
				 errhint("Write it as {\"impute\": \"constant\", \"fill_value\": 0}.")));
	return own->has_fill ? own->fill_number : (all->has_fill ? all->fill_number : 0.0);
}

/* Fit imputation and scaling of a numeric-kind column */
static void
mlc_fit_numeric(MlcColumn *c, MlcRawColumn *raw, const int64 *rows, int64 nrows,
				const MlcSettings *own, const MlcSettings *all)
{
	double	   *v = palloc(sizeof(double) * nrows);
	int64		nn = 0;

	c->fill_index = -1;
	for (int64 i = 0; i < nrows; i++)
	{
		double		x = raw->values[rows[i]];

		if (!isnan(x))
			v[nn++] = x;
	}
	if (nn == 0)
		mlc_all_null_error(c->name, false);
	if (nn < nrows && c->impute == MLC_IMPUTE_ERROR)
		mlc_null_not_allowed(c);
	switch (c->impute)
	{
		case MLC_IMPUTE_MEAN:
			{
				double		s = 0;

				for (int64 i = 0; i < nn; i++)
					s += v[i];
				c->fill = s / (double) nn;
				break;
			}
		case MLC_IMPUTE_MEDIAN:
		case MLC_IMPUTE_MOST_FREQUENT:
			qsort(v, nn, sizeof(double), mlc_tf_cmp_double);
			c->fill = (c->impute == MLC_IMPUTE_MEDIAN) ?
				mlc_tf_quantile(v, nn, 0.5) : mlc_tf_mode(v, nn);
			break;
		case MLC_IMPUTE_CONSTANT:
			c->fill = mlc_constant_fill(c, own, all);
			break;
		default:
			c->fill = 0.0;
	}
	for (int64 i = nn; i < nrows; i++)
		v[i] = c->fill;
	/* missing values kept as missing do not count in the fits */
	mlc_steps_fit_numeric(c, raw, rows, v, c->impute == MLC_IMPUTE_NONE ? nn : nrows);
	mlc_fit_scale(c, v, c->impute == MLC_IMPUTE_NONE ? nn : nrows);
	pfree(v);
}

/* qsort comparator of dictionary codes by their strings */
static char **mlc_sort_dict;
static int
mlc_cmp_code(const void *a, const void *b)
{
	return strcmp(mlc_sort_dict[*(const int32 *) a], mlc_sort_dict[*(const int32 *) b]);
}

/* Index of s among a column's sorted categories, or -1 (before hashing) */
int32
mlc_category_bsearch(const MlcColumn *c, const char *s)
{
	int32		lo = 0,
				hi = c->ncategories - 1;

	while (lo <= hi)
	{
		int32		mid = lo + (hi - lo) / 2;
		int			cmp = strcmp(c->categories[mid], s);

		if (cmp == 0)
			return mid;
		if (cmp < 0)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return -1;
}

/* Fit imputation and encoding of a text column */
static void
mlc_fit_categorical(MlcColumn *c, MlcRawColumn *raw, const int64 *rows, int64 nrows,
					const MlcSettings *own, const MlcSettings *all)
{
	int64	   *counts = palloc0(sizeof(int64) * (raw->ndict + 1));
	int32	   *order = palloc(sizeof(int32) * (raw->ndict + 1));
	int64		nnull = 0;
	int32		ncat = 0;
	const char *fill_text = NULL;

	for (int64 i = 0; i < nrows; i++)
	{
		int32		code = raw->codes[rows[i]];

		if (code < 0)
			nnull++;
		else
			counts[code]++;
	}
	if (nnull == nrows)
		mlc_all_null_error(c->name, false);
	if (nnull > 0 && c->impute == MLC_IMPUTE_ERROR)
		mlc_null_not_allowed(c);
	for (int32 k = 0; k < raw->ndict; k++)
		if (counts[k] > 0)
			order[ncat++] = k;
	mlc_sort_dict = raw->dict;
	qsort(order, ncat, sizeof(int32), mlc_cmp_code);

	c->fill_index = -1;
	if (c->impute == MLC_IMPUTE_MOST_FREQUENT)
	{
		for (int32 k = 0; k < ncat; k++)
			if (c->fill_index < 0 || counts[order[k]] > counts[order[c->fill_index]])
				c->fill_index = k;
	}
	else if (c->impute == MLC_IMPUTE_CONSTANT)
	{
		const MlcSettings *s = own->has_fill ? own : all;

		if (s->has_fill && s->fill_text == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("fill_value of text column \"%s\" must be a string", c->name),
					 errhint("Write it as {\"impute\": \"constant\", \"fill_value\": \"missing\"}.")));
		fill_text = s->has_fill ? s->fill_text : "missing";
	}

	c->categories = palloc(sizeof(char *) * (ncat + 1));
	for (int32 k = 0; k < ncat; k++)
		c->categories[k] = pstrdup(raw->dict[order[k]]);
	c->ncategories = ncat;
	if (fill_text != NULL)
	{
		int32		pos = 0;

		while (pos < ncat && strcmp(c->categories[pos], fill_text) < 0)
			pos++;
		if (pos < ncat && strcmp(c->categories[pos], fill_text) == 0)
			c->fill_index = pos;
		else if (nnull > 0)
		{
			/* the constant becomes a category of its own, as scikit-learn learns it */
			memmove(&c->categories[pos + 1], &c->categories[pos], sizeof(char *) * (ncat - pos));
			c->categories[pos] = pstrdup(fill_text);
			c->ncategories = ++ncat;
			c->fill_index = pos;
		}
	}
	c->center = 0.0;
	c->scale_by = 1.0;
	if (c->encode == MLC_ENCODE_ORDINAL && c->scale != MLC_SCALE_NONE)
	{
		double	   *v = palloc(sizeof(double) * nrows);
		int64		nv = 0;

		for (int64 i = 0; i < nrows; i++)
		{
			int32		code = raw->codes[rows[i]];

			if (code >= 0 || c->impute != MLC_IMPUTE_NONE)
				v[nv++] = code < 0 ? c->fill_index : mlc_category_bsearch(c, raw->dict[code]);
		}
		mlc_fit_scale(c, v, nv);
		pfree(v);
	}
	pfree(counts);
	pfree(order);
}

/* Append a column's resolved settings to the JSON text */
static void
mlc_append_resolved(StringInfo buf, const MlcColumn *c, bool first)
{
	if (!first)
		appendStringInfoString(buf, ", ");
	escape_json(buf, c->name);
	appendStringInfo(buf, ": {\"kind\": \"%s\", \"impute\": \"%s\"",
					 mlc_kind_name(c->kind), impute_names[c->impute - 1]);
	if (c->kind == MLC_KIND_CATEGORICAL)
		appendStringInfo(buf, ", \"encode\": \"%s\", \"categories\": %d",
						 mlc_steps_encode_name(c) ? mlc_steps_encode_name(c) : encode_names[c->encode - 1],
						 c->ncategories);
	if (c->kind != MLC_KIND_CATEGORICAL || c->encode == MLC_ENCODE_ORDINAL)
		appendStringInfo(buf, ", \"scale\": \"%s\"", scale_names[c->scale]);
	if (c->impute == MLC_IMPUTE_CONSTANT || c->impute == MLC_IMPUTE_MEAN ||
		c->impute == MLC_IMPUTE_MEDIAN || c->impute == MLC_IMPUTE_MOST_FREQUENT)
	{
		appendStringInfoString(buf, ", \"fill_value\": ");
		if (c->kind != MLC_KIND_CATEGORICAL)
			appendStringInfo(buf, "%.17g", c->fill);
		else if (c->fill_index >= 0)
			escape_json(buf, c->categories[c->fill_index]);
		else
			appendStringInfoString(buf, "null");
	}
	mlc_steps_describe(buf, c);
	appendStringInfoChar(buf, '}');
}

/* A model whose columns carry the resolved settings of the spec, not yet fitted */
static MlcModel *
mlc_plan(MlcDataset *ds, Jsonb *spec, MlcSettings *all, MlcSettings *per, bool trees)
{
	MlcModel   *m = palloc0(sizeof(MlcModel));

	mlc_parse_spec(spec, ds, all, per);
	m->ncolumns = ds->ncols;
	m->columns = palloc0(sizeof(MlcColumn) * ds->ncols);
	m->positive_class = -1;
	for (int i = 0; i < ds->ncols; i++)
	{
		MlcColumn  *c = &m->columns[i];

		c->name = pstrdup(ds->cols[i].name);
		c->kind = ds->cols[i].kind;
		c->fill_index = -1;
		c->scale_by = 1.0;
		mlc_resolve_settings(c, all, &per[i], trees);
	}
	return m;
}

/* The resolved settings of every column, unfitted; numeric constant fills are set */
MlcModel *
mlc_preprocess_plan(MlcDataset *ds, Jsonb *spec)
{
	MlcSettings all;
	MlcSettings *per = palloc(sizeof(MlcSettings) * Max(ds->ncols, 1));
	MlcModel   *m = mlc_plan(ds, spec, &all, per, false);

	for (int i = 0; i < m->ncolumns; i++)
		if (m->columns[i].kind != MLC_KIND_CATEGORICAL &&
			m->columns[i].impute == MLC_IMPUTE_CONSTANT)
			m->columns[i].fill = mlc_constant_fill(&m->columns[i], &per[i], &all);
	return m;
}

/* The settings a fitted model uses, as JSON text for the catalog */
char *
mlc_preprocess_describe(const MlcModel *m)
{
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfoChar(&buf, '{');
	for (int i = 0; i < m->ncolumns; i++)
		mlc_append_resolved(&buf, &m->columns[i], i == 0);
	appendStringInfoChar(&buf, '}');
	return buf.data;
}

/* Fit the pipeline on the given training rows of ds */
MlcModel *
mlc_preprocess_fit(MlcDataset *ds, const int64 *rows, int64 nrows, Jsonb *spec,
				   char **resolved)
{
	return mlc_preprocess_fit_for(ds, rows, nrows, spec, resolved, false);
}

/* mlc_preprocess_fit, with the defaults of tree learners when trees is true */
MlcModel *
mlc_preprocess_fit_for(MlcDataset *ds, const int64 *rows, int64 nrows, Jsonb *spec,
					   char **resolved, bool trees)
{
	MlcSettings all;
	MlcSettings *per = palloc(sizeof(MlcSettings) * Max(ds->ncols, 1));
	MlcModel   *m = mlc_plan(ds, spec, &all, per, trees);

	for (int i = 0; i < m->ncolumns; i++)
	{
		MlcColumn  *c = &m->columns[i];
		MlcRawColumn *raw = &ds->cols[i];

		CHECK_FOR_INTERRUPTS();
		if (c->kind == MLC_KIND_CATEGORICAL)
		{
			mlc_fit_categorical(c, raw, rows, nrows, &per[i], &all);
			mlc_steps_fit_categorical(c, ds, raw, rows, nrows);
		}
		else
		{
			c->oof = mlc_steps_knn_oof(c, ds, i, rows, nrows);
			mlc_fit_numeric(c, raw, rows, nrows, &per[i], &all);
		}
	}
	*resolved = mlc_preprocess_describe(m);
	mlc_model_finalize(m);
	return m;
}

/* Map each dictionary code of a raw column to the model's category index */
static int32 *
mlc_code_map(const MlcColumn *c, const MlcRawColumn *raw)
{
	int32	   *map = palloc(sizeof(int32) * (raw->ndict + 1));

	for (int32 k = 0; k < raw->ndict; k++)
		map[k] = (c->transform == MLC_TRANSFORM_HASHING) ?
			mlc_hash_bucket(c, raw->dict[k], strlen(raw->dict[k])) :
			mlc_category_lookup(c, raw->dict[k], strlen(raw->dict[k]));
	return map;
}

/* Prepare to apply a fitted pipeline to rows of ds */
void
mlc_transformer_init(MlcTransformer *t, const MlcModel *m, MlcDataset *ds)
{
	t->m = m;
	t->ds = ds;
	t->scratch = m->nkept > 0 ? palloc(sizeof(double) * Max(m->ninput, 1)) : NULL;
	t->maps = palloc0(sizeof(int32 *) * Max(m->ncolumns, 1));
	for (int j = 0; j < m->ncolumns; j++)
		if (m->columns[j].kind == MLC_KIND_CATEGORICAL)
			t->maps[j] = mlc_code_map(&m->columns[j], &ds->cols[j]);
}

/*
 * Write the preprocessed features of rows[0..nrows) into out, one row every
 * ld values; with project, the learner's features (after the model's
 * feature projection) instead
 */
static void
mlc_transform_rows_to(const MlcTransformer *t, const int64 *rows, int64 nrows,
					  double *out, int ld, bool project)
{
	const MlcModel *m = t->m;

	project = project && m->nkept > 0;
	for (int64 i = 0; i < nrows; i++)
	{
		double	   *o = project ? t->scratch : out + i * ld;
		int64		r = rows[i];

		if ((i & 0xFFFF) == 0xFFFF)
			CHECK_FOR_INTERRUPTS();
		for (int j = 0; j < m->ncolumns; j++)
		{
			const MlcColumn *c = &m->columns[j];

			if (c->kind == MLC_KIND_CATEGORICAL)
			{
				int32		code = t->ds->cols[j].codes[r];

				mlc_emit_category(c, code < 0 ? -1 : t->maps[j][code], code < 0, o);
				/* target encoding of a training row: out of its fold */
				if (c->oof != NULL && !isnan(c->oof[r]))
					o[c->out_offset] = c->oof[r];
			}
			else
			{
				double		v = t->ds->cols[j].values[r];

				/* kNN imputation of a training row */
				if (c->oof != NULL && isnan(v) && !isnan(c->oof[r]))
					v = c->oof[r];
				mlc_emit_numeric(c, v, o);
			}
		}
		mlc_steps_row(m, o);
		if (project)
			mlc_project_row(m, o, out + i * ld);
	}
}

/* Write the learner's features of rows[0..nrows) into out, one row every ld values */
void
mlc_transform_rows(const MlcTransformer *t, const int64 *rows, int64 nrows,
				   double *out, int ld)
{
	mlc_transform_rows_to(t, rows, nrows, out, ld, true);
}

/* The same before the feature projection: ninput preprocessed features per row */
void
mlc_transform_rows_input(const MlcTransformer *t, const int64 *rows, int64 nrows,
						 double *out, int ld)
{
	mlc_transform_rows_to(t, rows, nrows, out, ld, false);
}

/*
 * Finish a preprocessed row in (ninput values, written by the columns'
 * emit functions): the row-wise steps, then the feature projection into out
 * (nfeatures values; out may be in when the model has no projection)
 */
void
mlc_finish_row(const MlcModel *m, double *in, double *out)
{
	mlc_steps_row(m, in);
	if (m->nkept > 0)
		mlc_project_row(m, in, out);
	else if (out != in)
		memcpy(out, in, sizeof(double) * m->nfeatures);
}

/* Apply the fitted pipeline to rows of ds: a new nrows x nfeatures matrix */
double *
mlc_preprocess_transform(const MlcModel *m, MlcDataset *ds, const int64 *rows, int64 nrows)
{
	Size		bytes = sizeof(double) * (Size) nrows * (Size) Max(m->nfeatures, 1);
	MlcTransformer t;
	double	   *X;

	mlc_check_memory(bytes, "preprocessed matrix");
	X = mlc_alloc_large(bytes);
	mlc_transformer_init(&t, m, ds);
	mlc_transform_rows(&t, rows, nrows, X, m->nfeatures);
	return X;
}

/* Names of the learner's features: after preprocessing and the feature projection */
char **
mlc_feature_names(const MlcModel *m)
{
	return mlc_projection_names(m, mlc_input_feature_names(m));
}

/* Feature names after preprocessing: column, or column=category for one-hot */
char **
mlc_input_feature_names(const MlcModel *m)
{
	char	  **names = palloc(sizeof(char *) * Max(m->ninput, 1));

	for (int j = 0; j < m->ncolumns; j++)
	{
		const MlcColumn *c = &m->columns[j];

		if (c->transform != MLC_TRANSFORM_NONE)
			mlc_steps_feature_names(c, names);
		else if (c->kind == MLC_KIND_CATEGORICAL && c->encode == MLC_ENCODE_ONE_HOT)
			for (int k = 0; k < c->ncategories; k++)
				names[c->out_offset + k] = psprintf("%s=%s", c->name, c->categories[k]);
		else
			names[c->out_offset] = pstrdup(c->name);
	}
	return names;
}
