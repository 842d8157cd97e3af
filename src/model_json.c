/*
 * model_json.c
 *	  The portable JSON form of a model (ml_export_model / ml_import_model):
 *	  every field of the binary format written as readable JSON, and read back
 *	  into the same model, which the binary reader then validates in full.
 */
#include "postgres.h"

#include <math.h>

#include "fmgr.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/numeric.h"

#include "model.h"
#include "preprocess.h"

PG_FUNCTION_INFO_V1(mlcycle_model_to_json);
PG_FUNCTION_INFO_V1(mlcycle_model_from_json);

/* version of the JSON form (not of the binary format) */
#define MLC_JSON_FORM_VERSION	1

/* Name of the code of an enumerated member: the task, or a column setting as the preprocess spec names it */
static const char *
member_name(const char *key, int code)
{
	if (strcmp(key, "task") == 0)
		return code == MLC_TASK_REGRESSION ? "regression" :
			code == MLC_TASK_CLASSIFICATION ? "classification" : NULL;
	return mlc_setting_name(key, code);
}

/* Error for a JSON form that does not describe a model */
static void
bad_json(const char *what, const char *detail) pg_attribute_noreturn();

static void
bad_json(const char *what, const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid exported model: %s", what),
			 errdetail("%s", detail),
			 errhint("Pass the jsonb that ml_export_model returned, unchanged.")));
}


/* ---------- writing ---------- */

/* Append a finite float8 so that it reads back to the same bits */
static void
put_number(StringInfo buf, double v)
{
	/* jsonb's numeric has no negative zero: write it as the string "-0" */
	if (v == 0.0 && signbit(v))
		appendStringInfoString(buf, "\"-0\"");
	else
		appendStringInfo(buf, "%.17g", v);
}

/* Append "key": followed by the name of code, or the code itself when it has none */
static void
put_enum(StringInfo buf, const char *key, int code)
{
	const char *name = member_name(key, code);

	appendStringInfo(buf, "\"%s\": ", key);
	if (name != NULL)
		escape_json(buf, name);
	else
		appendStringInfo(buf, "%d", code);
}

/* Append a JSON array of n float8 values */
static void
put_numbers(StringInfo buf, const double *v, int64 n)
{
	appendStringInfoChar(buf, '[');
	for (int64 k = 0; k < n; k++)
	{
		if (k > 0)
			appendStringInfoChar(buf, ',');
		put_number(buf, v[k]);
	}
	appendStringInfoChar(buf, ']');
}

/* Append a JSON array of n strings */
static void
put_strings(StringInfo buf, char **s, int n)
{
	appendStringInfoChar(buf, '[');
	for (int k = 0; k < n; k++)
	{
		if (k > 0)
			appendStringInfoString(buf, ", ");
		escape_json(buf, s[k]);
	}
	appendStringInfoChar(buf, ']');
}

/* One column's preprocessing step */
static void
put_column(StringInfo buf, const MlcColumn *c)
{
	appendStringInfoString(buf, "{\"name\": ");
	escape_json(buf, c->name);
	appendStringInfoString(buf, ", ");
	put_enum(buf, "kind", c->kind);
	appendStringInfoString(buf, ", ");
	put_enum(buf, "impute", c->impute);
	appendStringInfoString(buf, ", ");
	put_enum(buf, "scale", c->scale);
	appendStringInfoString(buf, ", ");
	put_enum(buf, "encode", c->encode);
	appendStringInfoString(buf, ", \"fill\": ");
	put_number(buf, c->fill);
	appendStringInfo(buf, ", \"fill_index\": %d, \"center\": ", c->fill_index);
	put_number(buf, c->center);
	appendStringInfoString(buf, ", \"scale_by\": ");
	put_number(buf, c->scale_by);
	appendStringInfoString(buf, ", \"categories\": ");
	put_strings(buf, c->categories, c->ncategories);
	appendStringInfo(buf, ", \"transform\": %d, \"params\": ", c->transform);
	put_numbers(buf, c->params, c->nparams);
	appendStringInfoChar(buf, '}');
}

/* One reference profile */
static void
put_profile(StringInfo buf, const MlcProfile *p)
{
	appendStringInfo(buf, "{\"kind\": \"%s\", \"count\": " INT64_FORMAT ", \"nulls\": " INT64_FORMAT,
					 p->kind == MLC_PROFILE_NUMERIC ? "numeric" : "categorical", p->count, p->nulls);
	if (p->kind == MLC_PROFILE_NUMERIC)
	{
		appendStringInfoString(buf, ", \"mean\": ");
		put_number(buf, p->mean);
		appendStringInfoString(buf, ", \"std\": ");
		put_number(buf, p->std);
		appendStringInfoString(buf, ", \"min\": ");
		put_number(buf, p->min);
		appendStringInfoString(buf, ", \"max\": ");
		put_number(buf, p->max);
		appendStringInfoString(buf, ", \"edges\": ");
		put_numbers(buf, p->edges, p->nedges);
		appendStringInfo(buf, ", \"binned\": " INT64_FORMAT ", \"bins\": [", p->nbinned);
		for (int j = 0; j <= p->nedges; j++)
			appendStringInfo(buf, j ? ", " INT64_FORMAT : INT64_FORMAT, p->bins[j]);
		appendStringInfoString(buf, "], \"sample\": ");
		put_numbers(buf, p->sample, p->nsample);
	}
	else
	{
		appendStringInfoString(buf, ", \"categories\": [");
		for (int j = 0; j < p->ncats; j++)
		{
			appendStringInfoString(buf, j ? ", [" : "[");
			escape_json(buf, p->cats[j]);
			appendStringInfo(buf, ", " INT64_FORMAT "]", p->cat_counts[j]);
		}
		appendStringInfo(buf, "], \"other\": " INT64_FORMAT, p->other);
	}
	appendStringInfoChar(buf, '}');
}

/* The feature projection: kept indexes, then PCA variances, means and component rows */
static void
put_projection(StringInfo buf, const MlcModel *m)
{
	appendStringInfoString(buf, ", \"projection\": {\"kept\": [");
	for (int j = 0; j < m->nkept; j++)
		appendStringInfo(buf, j ? ",%d" : "%d", m->kept[j]);
	appendStringInfoString(buf, "], \"explained_variance\": ");
	put_numbers(buf, m->pca_variance, m->ncomponents);
	appendStringInfoString(buf, ", \"mean\": ");
	put_numbers(buf, m->pca_mean, m->ncomponents > 0 ? m->nkept : 0);
	appendStringInfoString(buf, ", \"components\": [");
	for (int i = 0; i < m->ncomponents; i++)
	{
		if (i > 0)
			appendStringInfoString(buf, ", ");
		put_numbers(buf, m->pca_components + (int64) i * m->nkept, m->nkept);
	}
	appendStringInfoString(buf, "]}");
}

/* The whole model as JSON text */
static char *
model_to_json(const MlcModel *m)
{
	StringInfoData buf;
	int			width = m->nfeatures + 1;

	initStringInfo(&buf);
	appendStringInfo(&buf, "{\"form\": \"mlcycle model\", \"form_version\": %d, ", MLC_JSON_FORM_VERSION);
	put_enum(&buf, "task", m->task);
	appendStringInfoString(&buf, ", \"algorithm\": ");
	escape_json(&buf, mlc_algorithm_name(m->algorithm));
	appendStringInfoString(&buf, ", \"columns\": [");
	for (int i = 0; i < m->ncolumns; i++)
	{
		if (i > 0)
			appendStringInfoString(&buf, ", ");
		put_column(&buf, &m->columns[i]);
	}
	appendStringInfoChar(&buf, ']');
	if (m->nkept > 0)
		put_projection(&buf, m);
	appendStringInfoString(&buf, ", \"classes\": ");
	put_strings(&buf, m->classes, m->nclasses);
	appendStringInfo(&buf, ", \"positive_class\": %d, \"coef\": [", m->positive_class);
	for (int r = 0; r < m->ncoef_rows; r++)
	{
		if (r > 0)
			appendStringInfoString(&buf, ", ");
		put_numbers(&buf, m->coef + (int64) r * width, width);
	}
	appendStringInfoString(&buf, "], \"learner_params\": ");
	put_numbers(&buf, m->learner_params, m->nlearner_params);
	appendStringInfoString(&buf, ", \"profiles\": ");
	if (m->profiles == NULL)
		appendStringInfoString(&buf, "null");
	else
	{
		appendStringInfoChar(&buf, '[');
		for (int i = 0; i <= m->ncolumns; i++)
		{
			if (i > 0)
				appendStringInfoString(&buf, ", ");
			put_profile(&buf, &m->profiles[i]);
		}
		appendStringInfoChar(&buf, ']');
	}
	appendStringInfoChar(&buf, '}');
	return buf.data;
}

/* mlcycle.model_to_json(bytea): the JSON form of a stored model */
Datum
mlcycle_model_to_json(PG_FUNCTION_ARGS)
{
	MlcModel   *m = mlc_model_deserialize(PG_GETARG_BYTEA_PP(0));

	PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(model_to_json(m))));
}


/* ---------- reading ---------- */

/* Member key of object c, or NULL when absent (an error when required) */
static JsonbValue *
get_member(JsonbContainer *c, const char *key, bool required)
{
	JsonbValue *v = getKeyJsonValueFromContainer(c, key, strlen(key), NULL);

	if (v == NULL && required)
		bad_json(psprintf("member \"%s\" is missing", key),
				 "Every member that ml_export_model writes is needed to rebuild the model.");
	return v;
}

/* The container of an object or array member */
static JsonbContainer *
get_container(JsonbContainer *c, const char *key, bool array)
{
	JsonbValue *v = get_member(c, key, true);

	if (v->type != jbvBinary ||
		(array ? !JsonContainerIsArray(v->val.binary.data) : !JsonContainerIsObject(v->val.binary.data)))
		bad_json(psprintf("member \"%s\" must be %s", key, array ? "an array" : "an object"),
				 "The value has another JSON type.");
	return v->val.binary.data;
}

/* A JSON number as float8; it must be finite */
static double
value_number(JsonbValue *v, const char *what)
{
	double		d;

	if (v != NULL && v->type == jbvString && v->val.string.len == 2 &&
		memcmp(v->val.string.val, "-0", 2) == 0)
		return -0.0;
	if (v == NULL || v->type != jbvNumeric)
		bad_json(psprintf("%s must be a number", what), "The value has another JSON type.");
	/* through the decimal text: 17 significant digits give back the same bits */
	d = strtod(DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(v->val.numeric))), NULL);
	if (!isfinite(d))
		bad_json(psprintf("%s is not finite", what), "Model values are finite float8 numbers.");
	return d;
}

/* A JSON number that must be an integer in [lo, hi] */
static int64
value_int(JsonbValue *v, const char *what, int64 lo, int64 hi)
{
	double		d = value_number(v, what);

	if (d != floor(d) || d < (double) lo || d > (double) hi)
		bad_json(psprintf("%s is out of range", what),
				 psprintf("It must be an integer from " INT64_FORMAT " to " INT64_FORMAT ".", lo, hi));
	return (int64) d;
}

/* A JSON string, palloc'd and NUL-terminated; it must not contain NUL */
static char *
value_string(JsonbValue *v, const char *what)
{
	if (v == NULL || v->type != jbvString)
		bad_json(psprintf("%s must be a string", what), "The value has another JSON type.");
	if (memchr(v->val.string.val, '\0', v->val.string.len) != NULL)
		bad_json(psprintf("%s contains a NUL character", what), "Names and labels are text values.");
	return pnstrdup(v->val.string.val, v->val.string.len);
}

/* An enumerated member: its name, or its code */
static uint8
get_enum(JsonbContainer *c, const char *key)
{
	JsonbValue *v = get_member(c, key, true);

	if (v->type == jbvString)
	{
		char	   *s = value_string(v, key);

		for (int k = 0; k < 256; k++)
			if (member_name(key, k) != NULL && strcmp(member_name(key, k), s) == 0)
				return (uint8) k;
		bad_json(psprintf("unknown %s \"%s\"", key, s), "The name is not one this version of mlcycle writes.");
	}
	return (uint8) value_int(v, key, 0, 255);
}


/* Length of an array container, at most limit */
static int64
json_array_len(JsonbContainer *a, const char *what, int64 limit)
{
	int64		n = JsonContainerSize(a);

	if (n > limit)
		bad_json(psprintf("%s has too many elements", what),
				 psprintf("It has " INT64_FORMAT "; the limit is " INT64_FORMAT ".", n, limit));
	return n;
}

/* An array member of numbers; *n gets its length */
static double *
get_numbers(JsonbContainer *c, const char *key, int64 limit, int64 *n)
{
	JsonbContainer *a = get_container(c, key, true);
	double	   *v;

	*n = json_array_len(a, key, limit);
	v = palloc(sizeof(double) * Max(*n, 1));
	for (int64 k = 0; k < *n; k++)
		v[k] = value_number(getIthJsonbValueFromContainer(a, (uint32) k), key);
	return v;
}

/* An array member of strings; *n gets its length */
static char **
get_strings(JsonbContainer *c, const char *key, int64 limit, int32 *n)
{
	JsonbContainer *a = get_container(c, key, true);
	char	  **s;

	*n = (int32) json_array_len(a, key, limit);
	s = palloc(sizeof(char *) * Max(*n, 1));
	for (int k = 0; k < *n; k++)
		s[k] = value_string(getIthJsonbValueFromContainer(a, k), key);
	return s;
}

/* A numeric member */
static double
get_number(JsonbContainer *c, const char *key)
{
	return value_number(get_member(c, key, true), key);
}

/* Read one column */
static void
read_column(JsonbContainer *c, MlcColumn *col)
{
	int64		n;

	col->name = value_string(get_member(c, "name", true), "name");
	col->kind = get_enum(c, "kind");
	col->impute = get_enum(c, "impute");
	col->scale = get_enum(c, "scale");
	col->encode = get_enum(c, "encode");
	col->fill = get_number(c, "fill");
	col->fill_index = (int32) value_int(get_member(c, "fill_index", true), "fill_index", -1, MLC_MAX_CATEGORIES);
	col->center = get_number(c, "center");
	col->scale_by = get_number(c, "scale_by");
	col->categories = get_strings(c, "categories", MLC_MAX_CATEGORIES, &col->ncategories);
	col->transform = (uint8) value_int(get_member(c, "transform", true), "transform", 0, 255);
	col->params = get_numbers(c, "params", MLC_MAX_COLUMN_PARAMS, &n);
	col->nparams = (int32) n;
	if (col->kind == MLC_KIND_CATEGORICAL &&
		col->encode != MLC_ENCODE_ONE_HOT && col->encode != MLC_ENCODE_ORDINAL)
		bad_json(psprintf("column \"%s\" has no valid encoding", col->name),
				 "A categorical column is encoded one_hot or ordinal.");
}

/* A count member of a profile */
static int64
get_count(JsonbContainer *c, const char *key)
{
	return value_int(get_member(c, key, true), key, 0, MLC_MAX_PROFILE_COUNT);
}

/* Read one reference profile */
static void
read_profile(JsonbContainer *c, MlcProfile *p)
{
	char	   *kind = value_string(get_member(c, "kind", true), "kind");
	int64		n;

	p->count = get_count(c, "count");
	p->nulls = get_count(c, "nulls");
	if (strcmp(kind, "numeric") == 0)
	{
		p->kind = MLC_PROFILE_NUMERIC;
		p->mean = get_number(c, "mean");
		p->std = get_number(c, "std");
		p->min = get_number(c, "min");
		p->max = get_number(c, "max");
		p->edges = get_numbers(c, "edges", MLC_MAX_PROFILE_EDGES, &n);
		p->nedges = (int32) n;
		p->nbinned = get_count(c, "binned");
		{
			JsonbContainer *a = get_container(c, "bins", true);

			if (json_array_len(a, "bins", MLC_MAX_PROFILE_EDGES + 1) != p->nedges + 1)
				bad_json("a profile's bins do not match its edges", "A profile has one more bin than edges.");
			p->bins = palloc(sizeof(int64) * (p->nedges + 1));
			for (int j = 0; j <= p->nedges; j++)
				p->bins[j] = value_int(getIthJsonbValueFromContainer(a, j), "bins", 0, MLC_MAX_PROFILE_COUNT);
		}
		p->sample = get_numbers(c, "sample", MLC_MAX_PROFILE_SAMPLE, &n);
		p->nsample = (int32) n;
	}
	else if (strcmp(kind, "categorical") == 0)
	{
		JsonbContainer *a = get_container(c, "categories", true);

		p->kind = MLC_PROFILE_CATEGORICAL;
		p->ncats = (int32) json_array_len(a, "categories", MLC_MAX_PROFILE_CATEGORIES);
		p->cats = palloc(sizeof(char *) * Max(p->ncats, 1));
		p->cat_counts = palloc(sizeof(int64) * Max(p->ncats, 1));
		for (int j = 0; j < p->ncats; j++)
		{
			JsonbValue *pair = getIthJsonbValueFromContainer(a, j);

			if (pair->type != jbvBinary || !JsonContainerIsArray(pair->val.binary.data) ||
				JsonContainerSize(pair->val.binary.data) != 2)
				bad_json("a profile category must be a [name, count] pair", "The value has another shape.");
			p->cats[j] = value_string(getIthJsonbValueFromContainer(pair->val.binary.data, 0), "category");
			p->cat_counts[j] = value_int(getIthJsonbValueFromContainer(pair->val.binary.data, 1),
										 "category count", 0, MLC_MAX_PROFILE_COUNT);
		}
		p->other = get_count(c, "other");
	}
	else
		bad_json(psprintf("unknown profile kind \"%s\"", kind), "A profile is numeric or categorical.");
}

/* Read the coefficient rows: ncoef_rows arrays of nfeatures + 1 numbers */
static void
read_coef(JsonbContainer *c, MlcModel *m)
{
	JsonbContainer *rows = get_container(c, "coef", true);
	int			width = m->nfeatures + 1;

	m->ncoef_rows = (int32) json_array_len(rows, "coef", MLC_MAX_CLASSES);
	if (m->ncoef_rows != (m->task == MLC_TASK_REGRESSION || m->nclasses == 2 ? 1 : m->nclasses))
		bad_json("the number of coefficient rows does not match the task",
				 "Regression and binary models have one row; multiclass models one per class.");
	m->coef = palloc(sizeof(double) * (int64) m->ncoef_rows * width);
	for (int r = 0; r < m->ncoef_rows; r++)
	{
		JsonbValue *row = getIthJsonbValueFromContainer(rows, r);

		if (row->type != jbvBinary || !JsonContainerIsArray(row->val.binary.data) ||
			JsonContainerSize(row->val.binary.data) != (uint32) width)
			bad_json("a coefficient row has the wrong length",
					 psprintf("Each row has one value per feature (%d) and the intercept.", m->nfeatures));
		for (int j = 0; j < width; j++)
			m->coef[(int64) r * width + j] =
				value_number(getIthJsonbValueFromContainer(row->val.binary.data, j), "coef");
	}
}

/*
 * Read the optional feature projection of a model whose columns are
 * finalized; sets nfeatures.  Shapes are checked here, the rest by the
 * binary reader.
 */
static void
read_projection(JsonbContainer *c, MlcModel *m)
{
	JsonbValue *v = get_member(c, "projection", false);
	JsonbContainer *p,
			   *a,
			   *rows;
	int64		n;

	if (v == NULL || v->type == jbvNull)
		return;
	p = get_container(c, "projection", false);
	a = get_container(p, "kept", true);
	m->nkept = (int32) json_array_len(a, "kept", MLC_MAX_FEATURES);
	if (m->nkept < 1)
		bad_json("a projection keeps no feature", "A projection keeps at least one feature.");
	m->kept = palloc(sizeof(int32) * m->nkept);
	for (int j = 0; j < m->nkept; j++)
	{
		m->kept[j] = (int32) value_int(getIthJsonbValueFromContainer(a, j), "kept", 0, m->ninput - 1);
		if (j > 0 && m->kept[j] <= m->kept[j - 1])
			bad_json("kept features are not in ascending order", "Each kept feature index is larger than the one before.");
	}
	m->pca_variance = get_numbers(p, "explained_variance", MLC_MAX_PCA_INPUTS, &n);
	m->ncomponents = (int32) n;
	for (int i = 0; i < m->ncomponents; i++)
		if (m->pca_variance[i] < 0)
			bad_json("an explained variance is negative", "Explained variances are zero or positive.");
	m->pca_mean = get_numbers(p, "mean", MLC_MAX_PCA_INPUTS, &n);
	rows = get_container(p, "components", true);
	if (m->ncomponents > m->nkept || (m->ncomponents > 0 && n != m->nkept) ||
		(m->ncomponents == 0 && n != 0) ||
		json_array_len(rows, "components", MLC_MAX_PCA_INPUTS) != m->ncomponents)
		bad_json("the projection's PCA arrays do not match",
				 "A projection has as many variances as component rows, at most one per kept feature, and one mean per kept feature.");
	m->pca_components = palloc(sizeof(double) * Max((int64) m->ncomponents * m->nkept, 1));
	for (int i = 0; i < m->ncomponents; i++)
	{
		JsonbValue *row = getIthJsonbValueFromContainer(rows, i);

		if (row->type != jbvBinary || !JsonContainerIsArray(row->val.binary.data) ||
			JsonContainerSize(row->val.binary.data) != (uint32) m->nkept)
			bad_json("a component row has the wrong length", "Each component has one loading per kept feature.");
		for (int j = 0; j < m->nkept; j++)
			m->pca_components[(int64) i * m->nkept + j] =
				value_number(getIthJsonbValueFromContainer(row->val.binary.data, j), "components");
	}
	m->nfeatures = mlc_projected_width(m);
}

/* Rebuild a model from its JSON form; the binary reader checks the rest */
static MlcModel *
model_from_json(Jsonb *j)
{
	JsonbContainer *c = &j->root;
	JsonbContainer *cols;
	MlcModel   *m = palloc0(sizeof(MlcModel));
	JsonbValue *v;
	char	   *algorithm;
	int64		n;

	if (!JsonContainerIsObject(c))
		bad_json("not a JSON object", "An exported model is the object ml_export_model returns.");
	v = get_member(c, "form", true);
	if (v->type != jbvString || strcmp(value_string(v, "form"), "mlcycle model") != 0)
		bad_json("not an mlcycle model", "Its \"form\" member is not \"mlcycle model\".");
	if (value_int(get_member(c, "form_version", true), "form_version", 0, 1000) != MLC_JSON_FORM_VERSION)
		bad_json("unsupported form_version", "This version of mlcycle reads form_version 1.");
	m->task = get_enum(c, "task");
	if (m->task != MLC_TASK_REGRESSION && m->task != MLC_TASK_CLASSIFICATION)
		bad_json("unknown task", "A model does regression or classification.");
	algorithm = value_string(get_member(c, "algorithm", true), "algorithm");
	for (int a = 1; a < 256 && m->algorithm == 0; a++)
		if (strcmp(mlc_algorithm_name(a), algorithm) == 0)
			m->algorithm = (uint8) a;
	if (m->algorithm == 0)
		bad_json(psprintf("unknown algorithm \"%s\"", algorithm), "The algorithm is not one this version of mlcycle has.");
	cols = get_container(c, "columns", true);
	m->ncolumns = (int32) json_array_len(cols, "columns", MLC_MAX_COLUMNS);
	m->columns = palloc0(sizeof(MlcColumn) * Max(m->ncolumns, 1));
	for (int i = 0; i < m->ncolumns; i++)
	{
		v = getIthJsonbValueFromContainer(cols, i);
		if (v->type != jbvBinary || !JsonContainerIsObject(v->val.binary.data))
			bad_json("a column must be an object", "The value has another JSON type.");
		read_column(v->val.binary.data, &m->columns[i]);
	}
	m->classes = get_strings(c, "classes", MLC_MAX_CLASSES, &m->nclasses);
	m->positive_class = (int32) value_int(get_member(c, "positive_class", true), "positive_class", -1, MLC_MAX_CLASSES);
	mlc_model_finalize(m);
	read_projection(c, m);
	read_coef(c, m);
	m->learner_params = get_numbers(c, "learner_params", MLC_MAX_LEARNER_PARAMS, &n);
	m->nlearner_params = n;
	v = get_member(c, "profiles", true);
	if (v->type != jbvNull)
	{
		JsonbContainer *a = get_container(c, "profiles", true);

		if (json_array_len(a, "profiles", MLC_MAX_COLUMNS + 1) != m->ncolumns + 1)
			bad_json("the number of profiles does not match the columns",
					 "A model has one profile per column and one for its output, or none.");
		m->profiles = palloc0(sizeof(MlcProfile) * (m->ncolumns + 1));
		for (int i = 0; i <= m->ncolumns; i++)
		{
			v = getIthJsonbValueFromContainer(a, i);
			if (v->type != jbvBinary || !JsonContainerIsObject(v->val.binary.data))
				bad_json("a profile must be an object", "The value has another JSON type.");
			read_profile(v->val.binary.data, &m->profiles[i]);
		}
	}
	return m;
}

/*
 * mlcycle.model_from_json(jsonb): the model bytes of a JSON form.  The JSON
 * reader checks shapes and lengths; serializing runs the binary reader over
 * the result, which checks every value as it does for stored models.
 */
Datum
mlcycle_model_from_json(PG_FUNCTION_ARGS)
{
	MlcModel   *m = model_from_json(PG_GETARG_JSONB_P(0));

	PG_RETURN_BYTEA_P(mlc_model_serialize(m));
}
