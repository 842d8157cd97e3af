/*
 * predict.c
 *	  Scoring inside queries: ml_predict (row or float8[]), ml_predict_class
 *	  and ml_predict_proba.  The deployed model and the mapping from the row's
 *	  columns to the model's are resolved once per query (fn_extra); each row
 *	  then costs a deform, the stored preprocessing and a dot product.
 */
#include "postgres.h"

#include <math.h>

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "funcapi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/typcache.h"

#include "catalog.h"
#include "ingest.h"
#include "learners.h"
#include "predict.h"
#include "preprocess.h"
#include "tree.h"

PG_FUNCTION_INFO_V1(ml_predict_row);
PG_FUNCTION_INFO_V1(ml_predict_array);
PG_FUNCTION_INFO_V1(ml_predict_class);
PG_FUNCTION_INFO_V1(ml_predict_proba);
PG_FUNCTION_INFO_V1(mlcycle_predict_columns);
PG_FUNCTION_INFO_V1(mlcycle_predict_class_columns);
PG_FUNCTION_INFO_V1(mlcycle_predict_proba_columns);
PG_FUNCTION_INFO_V1(mlcycle_model_predict);
PG_FUNCTION_INFO_V1(mlcycle_model_predict_class);
PG_FUNCTION_INFO_V1(mlcycle_model_predict_proba);
PG_FUNCTION_INFO_V1(ml_explain);

/* Per-query state kept in fn_extra */
typedef struct MlcPredictState
{
	char	   *project;
	char	   *owner_desc;		/* for messages: project "name", or the given model */
	int			project_len;	/* or the length of the model bytes */
	uint32		model_crc;		/* model bytes: their CRC32C trailer */
	MlcCachedModel *cm;
	/* mapping of the row type to the model's columns */
	Oid			tuptype;
	int32		tuptypmod;
	TupleDesc	tupdesc;
	int		   *attmap;			/* model column -> attribute index */
	Oid		   *atttypes;		/* base type of each mapped attribute */
	Datum	   *values;
	bool	   *nulls;
	double	   *v;				/* per column: numeric value, NaN for NULL */
	int32	   *idx;			/* per column: category index, -1 unseen */
	bool	   *isnull;			/* per column: the value is NULL */
	double	   *x;				/* the learner's features */
	double	   *pre;			/* preprocessed features: x, or before the projection */
	double	   *out;			/* prediction: 1 or nclasses values */
	/* single-output models: the linear score with scaling folded in */
	double	   *w;				/* per numeric or ordinal column */
	double		b;
	bool		nonaffine;		/* a column transform: score by the general path */
	int			args_base;		/* 0: the row is argument 1; else the argument
								 * of the column names, the values following */
} MlcPredictState;

/* Predict from a preprocessed feature vector x */
void
mlc_predict_features(const MlcModel *m, const double *x, double *out)
{
	int			p = m->nfeatures;

	/* learners that are not one linear score per output */
	if (m->algorithm == MLC_ALGO_NAIVE_BAYES)
	{
		mlc_predict_naive_bayes(m, x, out);
		return;
	}
	if (m->algorithm == MLC_ALGO_KNN)
	{
		mlc_predict_knn(m, x, out);
		return;
	}
	if (MLC_IS_TREE_ALGO(m->algorithm))
	{
		mlc_tree_predict_features(m, x, out);
		return;
	}
	if (m->task == MLC_TASK_REGRESSION || m->nclasses == 2)
	{
		double		s = m->coef[p];

		for (int j = 0; j < p; j++)
			s += m->coef[j] * x[j];
		if (m->task == MLC_TASK_REGRESSION)
			out[0] = s;
		else
		{
			double		pos = 1.0 / (1.0 + exp(-s));

			out[m->positive_class] = pos;
			out[1 - m->positive_class] = 1.0 - pos;
		}
		return;
	}
	else
	{
		/* multinomial: softmax of one score per class */
		double		mx = -INFINITY,
					sum = 0;

		for (int k = 0; k < m->nclasses; k++)
		{
			const double *w = m->coef + k * (p + 1);
			double		s = w[p];

			for (int j = 0; j < p; j++)
				s += w[j] * x[j];
			out[k] = s;
			mx = Max(mx, s);
		}
		for (int k = 0; k < m->nclasses; k++)
		{
			out[k] = exp(out[k] - mx);
			sum += out[k];
		}
		for (int k = 0; k < m->nclasses; k++)
			out[k] /= sum;
	}
}

/* True when the model scores by its coefficients (one linear score per output) */
bool
mlc_is_linear(const MlcModel *m)
{
	return mlc_algorithm_is_linear(m->algorithm);
}

/* True when learners of this MLC_ALGO_* score by their coefficients alone */
bool
mlc_algorithm_is_linear(int algorithm)
{
	switch (algorithm)
	{
		case MLC_ALGO_LINEAR:
		case MLC_ALGO_RIDGE:
		case MLC_ALGO_LOGISTIC:
		case MLC_ALGO_LASSO:
		case MLC_ALGO_ELASTIC_NET:
		case MLC_ALGO_LINEAR_SVM:
			return true;
	}
	return false;
}

/*
 * For single-output models, fold each numeric or ordinal column's scaling
 * into its coefficient, so that a row costs one multiply-add per column:
 * coef * (v - center) / scale = (coef / scale) * v - coef * center / scale.
 */
static void
mlc_fold_scaling(MlcPredictState *st)
{
	const MlcModel *m = st->cm->model;

	if (m->ncoef_rows != 1 || MLC_IS_TREE_ALGO(m->algorithm) || m->nkept > 0)
		return;
	st->b = m->coef[m->nfeatures];
	for (int j = 0; j < m->ncolumns; j++)
	{
		const MlcColumn *c = &m->columns[j];
		double		coef = m->coef[c->out_offset];

		st->w[j] = 0.0;
		if (c->kind == MLC_KIND_CATEGORICAL && c->encode == MLC_ENCODE_ONE_HOT)
			continue;
		st->w[j] = coef / c->scale_by;
		st->b -= coef * c->center / c->scale_by;
	}
}

static void mlc_predict_state_setup(FunctionCallInfo fcinfo, MlcPredictState *st, MlcCachedModel *cm);
static Datum mlc_class_of(MlcPredictState *st);
static int	mlc_best_class(const MlcModel *m, const double *out);
static Datum mlc_proba_of(MlcPredictState *st);

/* The query's state, with the deployed model of project resolved */
static MlcPredictState *
mlc_predict_state(FunctionCallInfo fcinfo)
{
	MlcPredictState *st = (MlcPredictState *) fcinfo->flinfo->fn_extra;
	text	   *project = PG_GETARG_TEXT_PP(0);
	int			len = VARSIZE_ANY_EXHDR(project);

	if (st != NULL && st->project_len == len &&
		memcmp(st->project, VARDATA_ANY(project), len) == 0)
		return st;
	if (st == NULL)
		st = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(MlcPredictState));
	st->project = MemoryContextStrdup(fcinfo->flinfo->fn_mcxt, text_to_cstring(project));
	st->owner_desc = MemoryContextStrdup(fcinfo->flinfo->fn_mcxt,
										 psprintf("project \"%s\"", st->project));
	st->project_len = len;
	mlc_predict_state_setup(fcinfo, st, mlc_deployed_model(st->project, fcinfo->flinfo->fn_mcxt));
	return st;
}

/* Point the query's state at a model: buffers, folded weights, no row type mapped yet */
static void
mlc_predict_state_setup(FunctionCallInfo fcinfo, MlcPredictState *st, MlcCachedModel *cm)
{
	st->cm = cm;
	st->tuptype = InvalidOid;
	st->out = MemoryContextAlloc(fcinfo->flinfo->fn_mcxt,
								 sizeof(double) * Max(st->cm->model->nclasses, 1));
	st->x = MemoryContextAlloc(fcinfo->flinfo->fn_mcxt,
							   sizeof(double) * Max(st->cm->model->nfeatures, 1));
	st->pre = st->cm->model->nkept == 0 ? st->x :
		MemoryContextAlloc(fcinfo->flinfo->fn_mcxt, sizeof(double) * Max(st->cm->model->ninput, 1));
	st->v = MemoryContextAlloc(fcinfo->flinfo->fn_mcxt, sizeof(double) * Max(st->cm->model->ncolumns, 1));
	st->idx = MemoryContextAlloc(fcinfo->flinfo->fn_mcxt, sizeof(int32) * Max(st->cm->model->ncolumns, 1));
	st->isnull = MemoryContextAlloc(fcinfo->flinfo->fn_mcxt, sizeof(bool) * Max(st->cm->model->ncolumns, 1));
	st->w = MemoryContextAlloc(fcinfo->flinfo->fn_mcxt, sizeof(double) * Max(st->cm->model->ncolumns, 1));
	mlc_fold_scaling(st);
	/* a feature projection is scored by the general path too */
	st->nonaffine = mlc_steps_nonaffine(cm->model) || cm->model->nkept > 0;
	fcinfo->flinfo->fn_extra = st;
}

/*
 * The query's state for a model passed as bytes (mlcycle.model_predict):
 * deserialized once per query, and again only when other bytes come in
 * (told apart by length and CRC32C trailer).
 */
static MlcPredictState *
mlc_model_bytes_state(FunctionCallInfo fcinfo)
{
	MlcPredictState *st = (MlcPredictState *) fcinfo->flinfo->fn_extra;
	bytea	   *blob = PG_GETARG_BYTEA_PP(0);
	int			len = VARSIZE_ANY_EXHDR(blob);
	uint32		crc = 0;
	MlcCachedModel *cm;
	MemoryContext old;

	if (len >= 4)
		memcpy(&crc, VARDATA_ANY(blob) + len - 4, 4);
	if (st != NULL && st->project_len == len && st->model_crc == crc)
		return st;
	if (st == NULL)
		st = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(MlcPredictState));
	st->project = "(model bytes)";
	st->owner_desc = "the given model";
	st->project_len = len;
	st->model_crc = crc;
	old = MemoryContextSwitchTo(fcinfo->flinfo->fn_mcxt);
	cm = palloc0(sizeof(MlcCachedModel));
	cm->model = mlc_model_deserialize_for_scoring(blob);
	cm->cxt = fcinfo->flinfo->fn_mcxt;
	MemoryContextSwitchTo(old);
	mlc_predict_state_setup(fcinfo, st, cm);
	return st;
}

/* Error unless a value of type typid can feed model column c */
static void
mlc_check_column_type(const MlcColumn *c, Oid typid)
{
	uint8		kind = mlc_type_kind(typid);

	if ((kind == MLC_KIND_CATEGORICAL) != (c->kind == MLC_KIND_CATEGORICAL) || kind == 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("column \"%s\" of the row has type %s, and the model expects a %s value",
						c->name, format_type_be(typid), mlc_kind_name(c->kind)),
				 errhint("Cast the column to the type it had when the model was trained.")));
}

/* Error for a model column that the row lacks */
static void
pg_attribute_noreturn()
mlc_missing_column(const MlcPredictState *st, const MlcColumn *c)
{
	ereport(ERROR,
			(errcode(ERRCODE_UNDEFINED_COLUMN),
			 errmsg("the row has no column \"%s\", a feature of %s", c->name, st->owner_desc),
			 errhint("Pass a row with every feature column the model was trained on; extra columns are ignored.")));
}

/*
 * Map the columns passed one by one (argument st->args_base the names, then
 * the values) to the model's columns, once per model
 */
static void
mlc_map_args(MlcPredictState *st, FunctionCallInfo fcinfo)
{
	const MlcModel *m = st->cm->model;
	int			base = st->args_base;
	MemoryContext old;
	Datum	   *names;
	int			n;

	if (OidIsValid(st->tuptype))
		return;
	old = MemoryContextSwitchTo(fcinfo->flinfo->fn_mcxt);
	deconstruct_array(PG_GETARG_ARRAYTYPE_P(base), TEXTOID, -1, false, TYPALIGN_INT, &names, NULL, &n);
	if (n != PG_NARGS() - base - 1)
		elog(ERROR, "mlcycle: %d column names for %d columns", n, PG_NARGS() - base - 1);
	st->attmap = palloc(sizeof(int) * m->ncolumns);
	st->atttypes = palloc(sizeof(Oid) * m->ncolumns);
	for (int j = 0; j < m->ncolumns; j++)
	{
		const MlcColumn *c = &m->columns[j];
		int			a = 0;
		Oid			typid;

		while (a < n && strcmp(TextDatumGetCString(names[a]), c->name) != 0)
			a++;
		if (a == n)
			mlc_missing_column(st, c);
		typid = get_fn_expr_argtype(fcinfo->flinfo, base + 1 + a);
		mlc_check_column_type(c, typid);
		st->attmap[j] = a;
		st->atttypes[j] = getBaseType(typid);
	}
	st->values = palloc(sizeof(Datum) * Max(n, 1));
	st->nulls = palloc(sizeof(bool) * Max(n, 1));
	st->tuptype = RECORDOID;	/* mapped */
	MemoryContextSwitchTo(old);
}

/* Map the row type's columns to the model's columns by name, once per row type */
static void
mlc_map_row_type(MlcPredictState *st, HeapTupleHeader td, MemoryContext cxt)
{
	const MlcModel *m = st->cm->model;
	Oid			tuptype = HeapTupleHeaderGetTypeId(td);
	int32		tuptypmod = HeapTupleHeaderGetTypMod(td);
	TupleDesc	desc;
	MemoryContext old;

	if (tuptype == st->tuptype && tuptypmod == st->tuptypmod && OidIsValid(st->tuptype))
		return;
	old = MemoryContextSwitchTo(cxt);
	desc = lookup_rowtype_tupdesc_copy(tuptype, tuptypmod);
	st->attmap = palloc(sizeof(int) * m->ncolumns);
	st->atttypes = palloc(sizeof(Oid) * m->ncolumns);
	for (int j = 0; j < m->ncolumns; j++)
	{
		const MlcColumn *c = &m->columns[j];
		int			a;

		for (a = 0; a < desc->natts; a++)
			if (!TupleDescAttr(desc, a)->attisdropped &&
				strcmp(NameStr(TupleDescAttr(desc, a)->attname), c->name) == 0)
				break;
		if (a == desc->natts)
			mlc_missing_column(st, c);
		mlc_check_column_type(c, TupleDescAttr(desc, a)->atttypid);
		st->attmap[j] = a;
		st->atttypes[j] = getBaseType(TupleDescAttr(desc, a)->atttypid);
	}
	st->values = palloc(sizeof(Datum) * desc->natts);
	st->nulls = palloc(sizeof(bool) * desc->natts);
	st->tupdesc = desc;
	st->tuptype = tuptype;
	st->tuptypmod = tuptypmod;
	MemoryContextSwitchTo(old);
}

/* Error for a NaN or infinite input value */
static void
mlc_nonfinite_input(const MlcColumn *c)
{
	ereport(ERROR,
			(errcode(ERRCODE_DATA_EXCEPTION),
			 errmsg("column \"%s\" is NaN or Infinity", c->name),
			 errhint("Pass NULL instead (it is imputed as in training), or filter the row out.")));
}

/* Read the model's columns of the composite row into st->v, st->idx and st->isnull */
static MlcPredictState *
mlc_read_row(FunctionCallInfo fcinfo, MlcPredictState *st)
{
	const MlcModel *m = st->cm->model;

	if (st->args_base > 0)
	{
		/* the columns themselves: no row to build, nor to take apart */
		int			first = st->args_base + 1;

		mlc_map_args(st, fcinfo);
		for (int j = 0; j < m->ncolumns; j++)
		{
			int			a = st->attmap[j];

			st->nulls[a] = PG_ARGISNULL(first + a);
			st->values[a] = PG_GETARG_DATUM(first + a);
		}
	}
	else
	{
		HeapTupleHeader td = PG_GETARG_HEAPTUPLEHEADER(1);
		HeapTupleData tuple;

		mlc_map_row_type(st, td, fcinfo->flinfo->fn_mcxt);
		tuple.t_len = HeapTupleHeaderGetDatumLength(td);
		ItemPointerSetInvalid(&tuple.t_self);
		tuple.t_tableOid = InvalidOid;
		tuple.t_data = td;
		heap_deform_tuple(&tuple, st->tupdesc, st->values, st->nulls);
	}
	for (int j = 0; j < m->ncolumns; j++)
	{
		const MlcColumn *c = &m->columns[j];
		int			a = st->attmap[j];

		st->isnull[j] = st->nulls[a];
		if (st->nulls[a])
		{
			if (c->impute == MLC_IMPUTE_ERROR)
				mlc_null_not_allowed(c);
			st->v[j] = NAN;
		}
		else if (c->kind == MLC_KIND_CATEGORICAL)
		{
			char		buf[NAMEDATALEN * 4];
			int			len;
			const char *s = mlc_datum_to_text(st->values[a], st->atttypes[j], &len, buf, sizeof(buf));

			st->idx[j] = (c->transform == MLC_TRANSFORM_HASHING) ? mlc_hash_bucket(c, s, len) :
				mlc_category_lookup(c, s, len);
		}
		else
		{
			st->v[j] = mlc_datum_to_double(st->values[a], st->atttypes[j], c->kind);
			if (unlikely(!isfinite(st->v[j])))
				mlc_nonfinite_input(c);
		}
	}
	return st;
}

/* Preprocess the row read into st->x and predict every output into st->out */
static void
mlc_predict_generic(MlcPredictState *st)
{
	const MlcModel *m = st->cm->model;

	for (int j = 0; j < m->ncolumns; j++)
	{
		const MlcColumn *c = &m->columns[j];

		if (c->kind == MLC_KIND_CATEGORICAL)
			mlc_emit_category(c, st->isnull[j] ? -1 : st->idx[j], st->isnull[j], st->pre);
		else
			mlc_emit_numeric(c, st->isnull[j] ? NAN : st->v[j], st->pre);
	}
	mlc_finish_row(m, st->pre, st->x);
	mlc_predict_features(m, st->x, st->out);
}

/* The single output of the row read: regression value or positive-class probability */
static double
mlc_predict_single(MlcPredictState *st)
{
	const MlcModel *m = st->cm->model;
	double		s = st->b;

	if (st->nonaffine || !mlc_is_linear(m))
	{
		/* column transforms or a non-linear learner: full preprocessing, then its scoring */
		mlc_predict_generic(st);
		return m->task == MLC_TASK_REGRESSION ? st->out[0] : st->out[m->positive_class];
	}
	for (int j = 0; j < m->ncolumns; j++)
	{
		const MlcColumn *c = &m->columns[j];

		if (c->kind != MLC_KIND_CATEGORICAL)
			s += st->w[j] * (st->isnull[j] ? c->fill : st->v[j]);
		else
		{
			int32		k = st->isnull[j] ? c->fill_index : st->idx[j];

			if (c->encode == MLC_ENCODE_ONE_HOT)
				s += (k >= 0) ? m->coef[c->out_offset + k] : 0.0;
			else
				s += st->w[j] * (double) k;
		}
	}
	return m->task == MLC_TASK_REGRESSION ? s : 1.0 / (1.0 + exp(-s));
}

/* Error for ml_predict on a multiclass model */
static void
mlc_check_single_output(const MlcPredictState *st)
{
	if (st->cm->model->task == MLC_TASK_CLASSIFICATION && st->cm->model->nclasses > 2)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("%s is a multiclass classifier with %d classes; ml_predict returns one number",
						st->owner_desc, st->cm->model->nclasses),
				 errhint("Use ml_predict_class for the label or ml_predict_proba for the probabilities, ordered as ml_classes('%s').",
						 st->project)));
}

/* Error for a classification-only function on a regression model */
static void
mlc_check_classifier(const MlcPredictState *st, const char *fn)
{
	if (st->cm->model->task != MLC_TASK_CLASSIFICATION)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("%s needs a classification model, and %s does regression", fn, st->owner_desc),
				 errhint("Use ml_predict for the predicted value.")));
}

/* ml_predict(project, row): regression value or positive-class probability */
Datum
ml_predict_row(PG_FUNCTION_ARGS)
{
	MlcPredictState *st = mlc_read_row(fcinfo, mlc_predict_state(fcinfo));

	mlc_check_single_output(st);
	PG_RETURN_FLOAT8(mlc_predict_single(st));
}

/* The state of a call of mlcycle.predict_columns and its class and proba forms */
static MlcPredictState *
mlc_columns_state(FunctionCallInfo fcinfo)
{
	MlcPredictState *st = mlc_predict_state(fcinfo);

	st->args_base = 1;
	return mlc_read_row(fcinfo, st);
}

/*
 * mlcycle.predict_columns(project, names, VARIADIC columns): ml_predict of
 * a table's row given as its columns; the planner puts it in place of
 * ml_predict(project, t) (src/planner.c), so the row is never built.
 */
Datum
mlcycle_predict_columns(PG_FUNCTION_ARGS)
{
	MlcPredictState *st;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	st = mlc_columns_state(fcinfo);
	mlc_check_single_output(st);
	PG_RETURN_FLOAT8(mlc_predict_single(st));
}

/* mlcycle.predict_class_columns: ml_predict_class of a row given as its columns */
Datum
mlcycle_predict_class_columns(PG_FUNCTION_ARGS)
{
	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	return mlc_class_of(mlc_columns_state(fcinfo));
}

/* mlcycle.predict_proba_columns: ml_predict_proba of a row given as its columns */
Datum
mlcycle_predict_proba_columns(PG_FUNCTION_ARGS)
{
	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	return mlc_proba_of(mlc_columns_state(fcinfo));
}

/* ml_predict(project, float8[]): numeric features in training order */
Datum
ml_predict_array(PG_FUNCTION_ARGS)
{
	MlcPredictState *st = mlc_predict_state(fcinfo);
	ArrayType  *arr = PG_GETARG_ARRAYTYPE_P(1);
	const MlcModel *m = st->cm->model;
	Datum	   *elems;
	bool	   *enulls;
	int			n;

	mlc_check_single_output(st);
	if (ARR_NDIM(arr) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("features must be a one-dimensional array"),
				 errhint("Pass ARRAY[x1, x2, ...]::float8[] in training order.")));
	deconstruct_array(arr, FLOAT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE, &elems, &enulls, &n);
	if (n != m->ncolumns)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("project \"%s\" has %d features, and the array has %d values", st->project, m->ncolumns, n),
				 errhint("Pass the feature values in training order, as in the features of mlcycle.models, or pass the row.")));
	for (int j = 0; j < m->ncolumns; j++)
	{
		const MlcColumn *c = &m->columns[j];
		double		v = enulls[j] ? NAN : DatumGetFloat8(elems[j]);

		if (c->kind == MLC_KIND_CATEGORICAL)
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("feature \"%s\" of project \"%s\" is text and cannot come from a float8 array", c->name, st->project),
					 errhint("Pass the whole row: ml_predict('%s', t) FROM my_table t.", st->project)));
		if (!enulls[j] && !isfinite(v))
			mlc_nonfinite_input(c);
		if (enulls[j] && c->impute == MLC_IMPUTE_ERROR)
			mlc_null_not_allowed(c);
		st->v[j] = v;
		st->isnull[j] = enulls[j];
	}
	pfree(elems);
	pfree(enulls);
	PG_RETURN_FLOAT8(mlc_predict_single(st));
}

/* ml_predict_class(project, row): the most probable label */
Datum
ml_predict_class(PG_FUNCTION_ARGS)
{
	return mlc_class_of(mlc_read_row(fcinfo, mlc_predict_state(fcinfo)));
}

/* The most probable label of the row read */
static Datum
mlc_class_of(MlcPredictState *st)
{
	const MlcModel *m = st->cm->model;

	mlc_check_classifier(st, "ml_predict_class");
	mlc_predict_generic(st);
	PG_RETURN_TEXT_P(cstring_to_text(m->classes[mlc_best_class(m, st->out)]));
}

/* Index of the predicted class from the probabilities out */
static int
mlc_best_class(const MlcModel *m, const double *out)
{
	int			best = 0;

	if (m->nclasses == 2)
		return out[m->positive_class] > 0.5 ? m->positive_class : 1 - m->positive_class;
	for (int k = 1; k < m->nclasses; k++)
		if (out[k] > out[best])
			best = k;
	return best;
}

/* ml_predict_proba(project, row): probabilities in ml_classes order */
Datum
ml_predict_proba(PG_FUNCTION_ARGS)
{
	return mlc_proba_of(mlc_read_row(fcinfo, mlc_predict_state(fcinfo)));
}

/* The class probabilities of the row read */
static Datum
mlc_proba_of(MlcPredictState *st)
{
	const MlcModel *m = st->cm->model;
	Datum	   *d;

	mlc_check_classifier(st, "ml_predict_proba");
	mlc_predict_generic(st);
	d = palloc(sizeof(Datum) * m->nclasses);
	for (int k = 0; k < m->nclasses; k++)
		d[k] = Float8GetDatum(st->out[k]);
	PG_RETURN_ARRAYTYPE_P(construct_array(d, m->nclasses, FLOAT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
}

/* mlcycle.model_predict(model, row): ml_predict with a model given as bytes */
Datum
mlcycle_model_predict(PG_FUNCTION_ARGS)
{
	MlcPredictState *st = mlc_read_row(fcinfo, mlc_model_bytes_state(fcinfo));

	mlc_check_single_output(st);
	PG_RETURN_FLOAT8(mlc_predict_single(st));
}

/* mlcycle.model_predict_class(model, row): ml_predict_class with a model given as bytes */
Datum
mlcycle_model_predict_class(PG_FUNCTION_ARGS)
{
	return mlc_class_of(mlc_read_row(fcinfo, mlc_model_bytes_state(fcinfo)));
}

/* mlcycle.model_predict_proba(model, row): ml_predict_proba with a model given as bytes */
Datum
mlcycle_model_predict_proba(PG_FUNCTION_ARGS)
{
	return mlc_proba_of(mlc_read_row(fcinfo, mlc_model_bytes_state(fcinfo)));
}

/*
 * A scoring state for project's cached model cm that is not the query's
 * fn_extra: routing.c keeps one per model a query routes rows to.
 */
MlcPredictState *
mlc_predict_state_for(FunctionCallInfo fcinfo, const char *project, MlcCachedModel *cm)
{
	void	   *saved = fcinfo->flinfo->fn_extra;
	MlcPredictState *st = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(MlcPredictState));

	st->project = MemoryContextStrdup(fcinfo->flinfo->fn_mcxt, project);
	st->owner_desc = MemoryContextStrdup(fcinfo->flinfo->fn_mcxt,
										 psprintf("model " INT64_FORMAT " of project \"%s\"", cm->model_id, project));
	st->project_len = strlen(project);
	mlc_predict_state_setup(fcinfo, st, cm);
	fcinfo->flinfo->fn_extra = saved;
	return st;
}

/*
 * Read st's rows as columns: argument base holds their names, and their
 * values follow (the columns forms that the planner puts in place of a row)
 */
void
mlc_predict_state_columns(MlcPredictState *st, int base)
{
	st->args_base = base;
}

/* What ml_predict returns for the row in argument 1, scored with st */
Datum
mlc_predict_value_with(FunctionCallInfo fcinfo, MlcPredictState *st)
{
	mlc_read_row(fcinfo, st);
	mlc_check_single_output(st);
	PG_RETURN_FLOAT8(mlc_predict_single(st));
}

/* What ml_predict_class returns for the row in argument 1, scored with st */
Datum
mlc_predict_class_with(FunctionCallInfo fcinfo, MlcPredictState *st)
{
	return mlc_class_of(mlc_read_row(fcinfo, st));
}

/*
 * Score the row in argument 1 with st once, for a prediction table: the
 * value ml_predict returns (regression and binary; *has_value false for
 * multiclass), for classifiers the index of the label ml_predict_class
 * returns, and for multiclass the class probabilities.  The row is read and
 * scored once.
 */
void
mlc_predict_all_with(FunctionCallInfo fcinfo, MlcPredictState *st, MlcScored *out)
{
	const MlcModel *m = st->cm->model;

	mlc_read_row(fcinfo, st);
	out->model = m;
	out->has_value = m->task == MLC_TASK_REGRESSION || m->nclasses == 2;
	if (out->has_value)
		out->value = mlc_predict_single(st);
	out->proba = NULL;
	out->label = -1;
	if (m->task != MLC_TASK_CLASSIFICATION)
		return;
	if (m->nclasses == 2)
	{
		/* the label follows from P(positive), as mlc_best_class decides it */
		out->label = out->value > 0.5 ? m->positive_class : 1 - m->positive_class;
		return;
	}
	mlc_predict_generic(st);
	out->proba = st->out;
	out->label = mlc_best_class(m, st->out);
}

/* What ml_predict_proba returns for the row in argument 1, scored with st */
Datum
mlc_predict_proba_with(FunctionCallInfo fcinfo, MlcPredictState *st)
{
	return mlc_proba_of(mlc_read_row(fcinfo, st));
}

/*
 * ml_explain for tree learners: TreeSHAP contributions per feature and the
 * expected value (as "(intercept)"); per output they add up to the raw
 * prediction: the margin (gbdt: value, log-odds or class score) or the
 * forest's value or class probability.  A missing value shows as NULL.
 */
static void
mlc_explain_trees(ReturnSetInfo *rsinfo, const MlcModel *m, const double *x, char **names)
{
	int			nout = mlc_tree_nout(m);
	double	   *phi = palloc(sizeof(double) * nout * (m->nfeatures + 1));

	mlc_tree_shap(m, x, phi);
	for (int o = 0; o < nout; o++)
	{
		const char *cls = m->task != MLC_TASK_CLASSIFICATION ? NULL :
			m->nclasses == 2 ? m->classes[m->positive_class] : m->classes[o];

		for (int j = 0; j <= m->nfeatures; j++)
		{
			Datum		values[4];
			bool		nulls[4] = {false, cls == NULL, j < m->nfeatures && isnan(x[j]), false};

			values[0] = CStringGetTextDatum(j < m->nfeatures ? names[j] : "(intercept)");
			values[1] = cls ? CStringGetTextDatum(cls) : (Datum) 0;
			values[2] = Float8GetDatum(j < m->nfeatures ? x[j] : 1.0);
			values[3] = Float8GetDatum(phi[o * (m->nfeatures + 1) + j]);
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		}
	}
	pfree(phi);
}

/* One row of ml_explain: feature, class (NULL for regression), value, contribution */
static void
mlc_explain_put(ReturnSetInfo *rsinfo, const char *feature, const char *cls, double value,
				double contribution)
{
	Datum		values[4];
	bool		nulls[4] = {false, cls == NULL, false, false};

	values[0] = CStringGetTextDatum(feature);
	values[1] = cls ? CStringGetTextDatum(cls) : (Datum) 0;
	values[2] = Float8GetDatum(value);
	values[3] = Float8GetDatum(contribution);
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
}

/*
 * ml_explain rows of a linear model over principal components, in terms of
 * the decomposed features: the score sum_i coef_i z_i with
 * z_i = sum_j W_ij (x_j - mean_j) is sum_j (sum_i coef_i W_ij) (x_j - mean_j),
 * so feature j contributes its term, exactly; then the intercept.
 */
static void
mlc_explain_through_pca(ReturnSetInfo *rsinfo, const MlcModel *m, const double *pre,
						const double *coef, const char *cls)
{
	char	  **input = mlc_input_feature_names(m);

	for (int j = 0; j < m->nkept; j++)
	{
		double		w = 0;

		for (int i = 0; i < m->ncomponents; i++)
			w += coef[i] * m->pca_components[(Size) i * m->nkept + j];
		mlc_explain_put(rsinfo, input[m->kept[j]], cls, pre[m->kept[j]],
						w * (pre[m->kept[j]] - m->pca_mean[j]));
	}
	mlc_explain_put(rsinfo, "(intercept)", cls, 1.0, coef[m->nfeatures]);
}

/*
 * ml_explain(project, row): per-feature contributions coef * x of the
 * deployed linear model, plus the intercept; they add up to the raw
 * prediction (the value, or the log-odds of a class).  The features are the
 * learner's, the kept ones under select_features; under the pca step, the
 * features the components were made from (each contributes through every
 * component, exactly).  Trees are explained by TreeSHAP over their own
 * features (the components under pca).
 */
Datum
ml_explain(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	MlcPredictState *st = mlc_read_row(fcinfo, mlc_predict_state(fcinfo));
	const MlcModel *m = st->cm->model;
	char	  **names;

	if (!mlc_is_linear(m) && !MLC_IS_TREE_ALGO(m->algorithm))
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("ml_explain needs a linear or tree model, and project \"%s\" deploys %s", st->project,
						mlc_algorithm_name(m->algorithm)),
				 errhint("See ml_feature_importance('%s') for the permutation importance of any model.", st->project)));
	InitMaterializedSRF(fcinfo, 0);
	mlc_predict_generic(st);
	names = mlc_feature_names(m);
	if (MLC_IS_TREE_ALGO(m->algorithm))
	{
		mlc_explain_trees(rsinfo, m, st->x, names);
		PG_RETURN_VOID();
	}
	for (int r = 0; r < m->ncoef_rows; r++)
	{
		const double *coef = m->coef + r * (m->nfeatures + 1);
		const char *cls = m->task != MLC_TASK_CLASSIFICATION ? NULL :
			m->nclasses == 2 ? m->classes[m->positive_class] : m->classes[r];

		if (m->ncomponents > 0)
		{
			mlc_explain_through_pca(rsinfo, m, st->pre, coef, cls);
			continue;
		}
		for (int j = 0; j <= m->nfeatures; j++)
			mlc_explain_put(rsinfo, j < m->nfeatures ? names[j] : "(intercept)", cls,
							j < m->nfeatures ? st->x[j] : 1.0,
							coef[j] * (j < m->nfeatures ? st->x[j] : 1.0));
	}
	PG_RETURN_VOID();
}
