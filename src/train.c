/*
 * train.c
 *	  ml_train: validates the options, reads the relation, splits the rows,
 *	  fits preprocessing and the learner, computes metrics, stores the model
 *	  in the catalog and deploys it by the chosen strategy, all in one
 *	  transaction so an error leaves nothing behind.
 */
#include "postgres.h"

#include <math.h>

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "common/pg_prng.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/float.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"

#include "importance.h"
#include "ingest.h"
#include "jsonutil.h"
#include "learners.h"
#include "metrics.h"
#include "mlcycle.h"
#include "model.h"
#include "predict.h"
#include "preprocess.h"
#include "projection.h"
#include "select.h"
#include "profile.h"
#include "sampling.h"
#include "split.h"
#include "stream.h"
#include "tree.h"

PG_FUNCTION_INFO_V1(ml_train);

/* algorithm => 'all': never a model's algorithm */
#define MLC_ALGO_ALL			100

/* algorithm => ...: the names ml_train accepts and the MLC_ALGO_* each means (0: auto) */
static const char *const algorithm_names[] = {"auto", "linear", "ridge", "logistic", "lasso", "elastic_net", "all",
"naive_bayes", "knn", "linear_svm", "gbdt", "random_forest", "decision_tree", NULL};
static const int algorithm_ids[] = {0, MLC_ALGO_LINEAR, MLC_ALGO_RIDGE, MLC_ALGO_LOGISTIC, MLC_ALGO_LASSO,
	MLC_ALGO_ELASTIC_NET, MLC_ALGO_ALL, MLC_ALGO_NAIVE_BAYES, MLC_ALGO_KNN, MLC_ALGO_LINEAR_SVM,
	MLC_ALGO_GBDT, MLC_ALGO_RANDOM_FOREST, MLC_ALGO_DECISION_TREE};
static const char *const task_names[] = {"regression", "classification", NULL};
static const char *const split_names[] = {"random", "stratified", "last", NULL};
static const char *const deploy_names[] = {"best_score", "most_recent", "none", NULL};
static const char *const search_names[] = {"grid", "random", NULL};
static const char *const sampling_names[] = {"none", "oversample", "undersample", "smote", NULL};

/* Everything one training run decides and produces */
typedef struct MlcTrainRun
{
	char	   *project;
	char	   *relation;
	char	   *target;
	int			algorithm;		/* MLC_ALGO_* once resolved */
	int			task;			/* MLC_TASK_* */
	Jsonb	   *hyperparams;
	Jsonb	   *preprocess;
	ArrayType  *exclude;
	double		test_size;
	bool		stratified;
	bool		split_last;		/* time-ordered: the last rows by order_by are held out */
	char	   *order_by;		/* column that orders the rows, or NULL */
	int			sampling;		/* MLC_SAMPLING_*: class rebalancing of fit rows */
	int			seed;
	const char *deploy;

	/* learner settings, resolved */
	double		alpha;
	double		l1_ratio;
	double		C;
	bool		balanced;
	int			nclass_weights; /* explicit class_weight: label -> weight */
	char	  **class_weight_labels;
	double	   *class_weight_values;
	int			max_iter;
	double		tol;
	char	   *positive_label;
	char	   *hyperparams_json;
	double		var_smoothing;	/* naive_bayes */
	int			n_neighbors;	/* knn */
	int			knn_weights;	/* MLC_KNN_UNIFORM or MLC_KNN_DISTANCE */
	int			knn_metric;		/* MLC_KNN_EUCLIDEAN or MLC_KNN_MANHATTAN */
	double		intercept_scaling;	/* linear_svm */
	char	   *importance_json;	/* feature importance rows (importance.h) */
	MlcTreeParams tree;			/* tree learners (tree.h) */
	char	   *tree_info;		/* the last tree fit's summary, for the metrics */

	MlcDataset *ds;
	MlcDataset *ds_rows;		/* the relation's dataset while ds holds test rows */
	double	   *baseline;		/* trivial prediction: training mean or class frequencies */
	double	   *eval_out;		/* the model's predictions on the evaluated rows */
	int32	   *y;				/* classification: class index per dataset row */
	int64	   *train_rows;
	int64		ntrain;
	int64	   *test_rows;
	int64		ntest;
	MlcModel   *model;
	char	   *preprocess_json;
	StringInfoData metrics;
	StringInfoData timings;
	double		started;
	double		phase_started;
	int			iterations;
	int			cv;				/* folds of cross-validation, 0 for none */
	int			search;			/* 0, or 1 + index in search_names */
	Jsonb	   *search_params;
	Jsonb	   *search_args;
	char	   *search_json;	/* the search's summary, for the metrics */
	Jsonb	   *select_features;	/* select.c: NULL when not asked */
	char	   *select_json;	/* kept and dropped features, for the metrics */
	char	   *args_json;		/* the arguments as called, for mlcycle.models.train_args */
	MlcPcaSpec	pca;			/* the pca preprocess step (projection.h) */
	char	   *pca_json;		/* the fitted components' summary, for preprocess */
	char	   *trials_json;	/* every trial, for mlcycle.search_trials */
	double		score;			/* the headline metric, once computed */
	bool		quiet;			/* no learner NOTICEs (cross-validation folds) */
} MlcTrainRun;

static void mlc_append_class_weights(MlcTrainRun *run, StringInfo out);
static void mlc_check_class_weights(MlcTrainRun *run);

/*
 * naive_bayes, knn and linear_svm: their hyperparameters (scikit-learn's
 * names), tasks and fits.  NULL keys: not one of these learners.
 */
static const char *const *
mlc_learner_keys(int algorithm)
{
	static const char *const nb_keys[] = {"var_smoothing", "alpha", "positive_class", NULL};
	static const char *const knn_keys[] = {"n_neighbors", "weights", "metric", "p", "positive_class", NULL};
	static const char *const svm_keys[] = {"C", "class_weight", "max_iter", "tol", "intercept_scaling", "positive_class", NULL};

	switch (algorithm)
	{
		case MLC_ALGO_NAIVE_BAYES:
			return nb_keys;
		case MLC_ALGO_KNN:
			return knn_keys;
		case MLC_ALGO_LINEAR_SVM:
			return svm_keys;
	}
	return NULL;
}

/* Defaults of these learners' settings (scikit-learn's) */
static void
mlc_learner_defaults(MlcTrainRun *run)
{
	run->var_smoothing = 1e-9;
	run->n_neighbors = 5;
	run->knn_weights = MLC_KNN_UNIFORM;
	run->knn_metric = MLC_KNN_EUCLIDEAN;
	run->intercept_scaling = 1.0;
	if (run->algorithm == MLC_ALGO_LINEAR_SVM)
	{
		run->max_iter = 1000;
		run->tol = 1e-4;
	}
}

/* Error for a hyperparameter value out of its range */
static void
mlc_learner_range_error(const char *key, const char *value, const char *hint)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("hyperparameter \"%s\" is out of range: %s", key, value),
			 errhint("%s", hint)));
}

/* Parse one of these learners' own hyperparameters; false for the shared ones */
static bool
mlc_learner_hyperparam(MlcTrainRun *run, const char *key, MlcJsonPair *p)
{
	static const char *const weights[] = {"uniform", "distance", NULL};
	static const char *const metrics[] = {"euclidean", "manhattan", "minkowski", NULL};
	double		v;

	if (strcmp(key, "weights") == 0)
	{
		run->knn_weights = mlc_choose(mlc_json_string(p, "hyperparameter"), weights, "weights");
		return true;
	}
	if (strcmp(key, "metric") == 0)
	{
		int			m = mlc_choose(mlc_json_string(p, "hyperparameter"), metrics, "metric");

		/* minkowski keeps the p given (2 by default) */
		if (m < 2)
			run->knn_metric = m;
		return true;
	}
	if (strcmp(key, "var_smoothing") != 0 && strcmp(key, "n_neighbors") != 0 &&
		strcmp(key, "p") != 0 && strcmp(key, "intercept_scaling") != 0 &&
		!(strcmp(key, "alpha") == 0 && run->algorithm == MLC_ALGO_NAIVE_BAYES))
		return false;
	v = mlc_json_number(p, "hyperparameter");
	if (strcmp(key, "var_smoothing") == 0)
	{
		if (!(v >= 0 && v <= 1))
			mlc_learner_range_error(key, psprintf("%g", v), "var_smoothing must be between 0 and 1 (the share of the largest feature variance added to every variance).");
		run->var_smoothing = v;
	}
	else if (strcmp(key, "alpha") == 0)
	{
		if (!(v > 0) || isinf(v))
			mlc_learner_range_error(key, psprintf("%g", v), "alpha (additive smoothing of the category counts) must be above 0.");
		run->alpha = v;
	}
	else if (strcmp(key, "n_neighbors") == 0)
	{
		if (!(v >= 1 && v <= 100000) || v != floor(v))
			mlc_learner_range_error(key, psprintf("%g", v), "n_neighbors must be a whole number between 1 and 100000.");
		run->n_neighbors = (int) v;
	}
	else if (strcmp(key, "p") == 0)
	{
		if (v != 1 && v != 2)
			mlc_learner_range_error(key, psprintf("%g", v), "p must be 1 (manhattan distance) or 2 (euclidean distance).");
		run->knn_metric = v == 1 ? MLC_KNN_MANHATTAN : MLC_KNN_EUCLIDEAN;
	}
	else
	{
		if (!(v > 0) || isinf(v))
			mlc_learner_range_error(key, psprintf("%g", v), "intercept_scaling must be above 0.");
		run->intercept_scaling = v;
	}
	return true;
}

/* The resolved settings of these learners, as the catalog's hyperparams */
static void
mlc_learner_hyperparams_json(MlcTrainRun *run, StringInfo out)
{
	if (run->algorithm == MLC_ALGO_NAIVE_BAYES)
		appendStringInfo(out, "{\"alpha\": %.15g, \"var_smoothing\": %.15g", run->alpha, run->var_smoothing);
	else if (run->algorithm == MLC_ALGO_KNN)
		appendStringInfo(out, "{\"n_neighbors\": %d, \"weights\": \"%s\", \"metric\": \"%s\"", run->n_neighbors,
						 run->knn_weights == MLC_KNN_DISTANCE ? "distance" : "uniform",
						 run->knn_metric == MLC_KNN_MANHATTAN ? "manhattan" : "euclidean");
	else
	{
		appendStringInfo(out, "{\"C\": %.15g, \"class_weight\": ", run->C);
		if (run->nclass_weights > 0)
			mlc_append_class_weights(run, out);
		else
			appendStringInfoString(out, run->balanced ? "\"balanced\"" : "null");
		appendStringInfo(out, ", \"intercept_scaling\": %.15g, \"max_iter\": %d, \"tol\": %.15g",
						 run->intercept_scaling, run->max_iter, run->tol);
	}
}

/* linear_svm: the weight of each class (of m->classes), or NULL when none is set */
static double *
mlc_svm_class_weights(MlcTrainRun *run, const int32 *yc, int64 n)
{
	MlcModel   *m = run->model;
	int			K = m->nclasses;
	double	   *cw;

	if (!run->balanced && run->nclass_weights == 0)
		return NULL;
	cw = palloc(sizeof(double) * K);
	if (run->balanced)
	{
		/* n / (classes x class count), as scikit-learn's "balanced" */
		int64	   *count = palloc0(sizeof(int64) * K);

		for (int64 i = 0; i < n; i++)
			count[yc[i]]++;
		for (int c = 0; c < K; c++)
			cw[c] = count[c] > 0 ? (double) n / ((double) K * (double) count[c]) : 1.0;
		pfree(count);
		return cw;
	}
	mlc_check_class_weights(run);
	for (int c = 0; c < K; c++)
	{
		cw[c] = 1.0;
		for (int i = 0; i < run->nclass_weights; i++)
			if (strcmp(run->class_weight_labels[i], m->classes[c]) == 0)
				cw[c] = run->class_weight_values[i];
	}
	return cw;
}

/* naive_bayes and linear_svm classify only */
static void
mlc_learner_check_task(MlcTrainRun *run)
{
	if (run->task == MLC_TASK_REGRESSION &&
		(run->algorithm == MLC_ALGO_NAIVE_BAYES || run->algorithm == MLC_ALGO_LINEAR_SVM))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("algorithm \"%s\" does not do regression", mlc_algorithm_name(run->algorithm)),
				 errhint("Use algorithm => 'linear', 'ridge' or 'knn' for a numeric target, or task => 'classification' for a label target.")));
}

/* k nearest neighbors for regression: the training rows and their values */
static void
mlc_fit_knn_regression(MlcTrainRun *run, const double *X)
{
	double	   *y = palloc(sizeof(double) * Max(run->ntrain, 1));

	for (int64 i = 0; i < run->ntrain; i++)
		y[i] = run->ds->target.values[run->train_rows[i]];
	mlc_fit_knn(run->model, X, y, run->ntrain, run->n_neighbors, run->knn_weights, run->knn_metric);
	pfree(y);
}

/*
 * naive_bayes, knn or linear_svm on the fit rows; y is in the fit coding
 * (binary: 1 for the positive class), these learners take class indexes.
 */
static void
mlc_fit_classifier(MlcTrainRun *run, const double *X, const int32 *y, int64 n)
{
	MlcModel   *m = run->model;
	int32	   *yc = palloc(sizeof(int32) * Max(n, 1));

	for (int64 i = 0; i < n; i++)
		yc[i] = m->nclasses != 2 ? y[i] : y[i] == 1 ? m->positive_class : 1 - m->positive_class;
	if (run->algorithm == MLC_ALGO_NAIVE_BAYES)
		mlc_fit_naive_bayes(m, X, yc, n, run->var_smoothing, run->alpha);
	else if (run->algorithm == MLC_ALGO_KNN)
	{
		double	   *yd = palloc(sizeof(double) * Max(n, 1));

		for (int64 i = 0; i < n; i++)
			yd[i] = yc[i];
		mlc_fit_knn(m, X, yd, n, run->n_neighbors, run->knn_weights, run->knn_metric);
		pfree(yd);
	}
	else
		run->iterations = mlc_fit_linear_svm(m, X, yc, n, run->C, mlc_svm_class_weights(run, yc, n),
											 run->intercept_scaling, run->max_iter, run->tol);
	pfree(yc);
}

/* Milliseconds since the current phase began; starts the next phase */
static double
mlc_phase_ms(MlcTrainRun *run, const char *phase)
{
	double		now = mlc_now_ms();
	double		ms = now - run->phase_started;

	appendStringInfo(&run->timings, "%s\"%s_ms\": %.3f", run->timings.len > 1 ? ", " : "",
					 phase, ms);
	run->phase_started = now;
	return ms;
}

/* Text argument that must not be NULL */
static char *
mlc_text_arg(FunctionCallInfo fcinfo, int n, const char *name)
{
	if (PG_ARGISNULL(n))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be NULL", name),
				 errhint("Only task may be NULL, to have it inferred from the target.")));
	return text_to_cstring(PG_GETARG_TEXT_PP(n));
}

/* class_weight as an object: {"label": weight, ...}, each weight positive and finite */
static void
mlc_parse_class_weights(MlcTrainRun *run, MlcJsonPair *p)
{
	List	   *pairs = mlc_json_pairs(p->value.val.binary.data, "class_weight");
	int			i = 0;
	ListCell   *lc;

	run->nclass_weights = list_length(pairs);
	run->class_weight_labels = palloc(sizeof(char *) * Max(run->nclass_weights, 1));
	run->class_weight_values = palloc(sizeof(double) * Max(run->nclass_weights, 1));
	foreach(lc, pairs)
	{
		MlcJsonPair *w = lfirst(lc);
		double		v = mlc_json_number(w, "class weight");

		if (!(v > 0) || isinf(v))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("class weight of \"%s\" must be positive: %g", w->key, v),
					 errhint("Give each class a weight above 0, as in {\"class_weight\": {\"yes\": 3, \"no\": 1}}; classes left out weigh 1.")));
		run->class_weight_labels[i] = w->key;
		run->class_weight_values[i++] = v;
	}
}

/* The class_weight object as JSON, for the catalog */
static void
mlc_append_class_weights(MlcTrainRun *run, StringInfo out)
{
	appendStringInfoChar(out, '{');
	for (int i = 0; i < run->nclass_weights; i++)
	{
		if (i > 0)
			appendStringInfoString(out, ", ");
		escape_json(out, run->class_weight_labels[i]);
		appendStringInfo(out, ": %.15g", run->class_weight_values[i]);
	}
	appendStringInfoChar(out, '}');
}

/* Parse the hyperparameters valid for the chosen algorithm */
static void
mlc_parse_hyperparams(MlcTrainRun *run)
{
	static const char *const linear_keys[] = {"positive_class", NULL};
	static const char *const ridge_keys[] = {"alpha", "positive_class", NULL};
	static const char *const logistic_keys[] = {"C", "class_weight", "max_iter", "tol", "positive_class", NULL};
	static const char *const lasso_keys[] = {"alpha", "max_iter", "tol", "positive_class", NULL};
	static const char *const enet_keys[] = {"alpha", "l1_ratio", "max_iter", "tol", "positive_class", NULL};
	const char *const *keys = mlc_learner_keys(run->algorithm) ? mlc_learner_keys(run->algorithm) :
		run->algorithm == MLC_ALGO_RIDGE ? ridge_keys :
		run->algorithm == MLC_ALGO_LOGISTIC ? logistic_keys :
		run->algorithm == MLC_ALGO_LASSO ? lasso_keys :
		run->algorithm == MLC_ALGO_ELASTIC_NET ? enet_keys : linear_keys;
	List	   *pairs;
	ListCell   *lc;
	StringInfoData out;

	if (MLC_IS_TREE_ALGO(run->algorithm))
	{
		run->hyperparams_json = mlc_tree_parse_hyperparams(run->hyperparams, run->algorithm, run->task,
														   run->seed, &run->tree, &run->positive_label);
		return;
	}
	pairs = mlc_jsonb_pairs(run->hyperparams, "hyperparams");
	/* every setting starts from its default: a search parses several in turn */
	run->alpha = 1.0;
	run->l1_ratio = run->algorithm == MLC_ALGO_LASSO ? 1.0 : 0.5;
	run->C = 1.0;
	run->balanced = false;
	run->nclass_weights = 0;
	run->max_iter = MLC_LOGISTIC_DEFAULT_MAX_ITER;
	run->tol = MLC_LOGISTIC_DEFAULT_TOL;
	if (run->algorithm == MLC_ALGO_LASSO || run->algorithm == MLC_ALGO_ELASTIC_NET)
	{
		/* coordinate descent: a sweep's largest change relative to the largest weight */
		run->max_iter = 10000;
		run->tol = 1e-6;
	}
	mlc_learner_defaults(run);
	foreach(lc, pairs)
	{
		MlcJsonPair *p = lfirst(lc);
		const char *key = keys[mlc_choose(p->key, keys, psprintf("hyperparameter for %s",
																mlc_algorithm_name(run->algorithm)))];

		if (mlc_learner_hyperparam(run, key, p))
			continue;
		if (strcmp(key, "positive_class") == 0)
			run->positive_label = p->value.type == jbvString ? mlc_json_string(p, "hyperparameter") :
				DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(p->value.val.numeric)));
		else if (strcmp(key, "class_weight") == 0)
		{
			if (p->value.type == jbvNull)
				continue;
			if (p->value.type == jbvBinary)
			{
				mlc_parse_class_weights(run, p);
				continue;
			}
			mlc_choose(mlc_json_string(p, "hyperparameter"), (const char *const[]) {"balanced", NULL},
					   "class_weight");
			run->balanced = true;
		}
		else
		{
			double		v = mlc_json_number(p, "hyperparameter");

			if (strcmp(key, "alpha") == 0 && v >= 0)
				run->alpha = v;
			else if (strcmp(key, "C") == 0 && v > 0)
				run->C = v;
			else if (strcmp(key, "l1_ratio") == 0 && v >= 0 && v <= 1)
				run->l1_ratio = v;
			else if (strcmp(key, "max_iter") == 0 && v >= 1 && v <= 1000000)
				run->max_iter = (int) v;
			else if (strcmp(key, "tol") == 0 && v > 0)
				run->tol = v;
			else
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("hyperparameter \"%s\" is out of range: %g", key, v),
						 errhint("alpha must be >= 0, C and tol > 0, l1_ratio between 0 and 1, max_iter between 1 and 1000000.")));
		}
	}
	initStringInfo(&out);
	if (run->algorithm == MLC_ALGO_RIDGE)
		appendStringInfo(&out, "{\"alpha\": %.15g", run->alpha);
	else if (run->algorithm == MLC_ALGO_LOGISTIC)
	{
		appendStringInfo(&out, "{\"C\": %.15g, \"class_weight\": ", run->C);
		if (run->nclass_weights > 0)
			mlc_append_class_weights(run, &out);
		else
			appendStringInfoString(&out, run->balanced ? "\"balanced\"" : "null");
		appendStringInfo(&out, ", \"max_iter\": %d, \"tol\": %.15g", run->max_iter, run->tol);
	}
	else if (run->algorithm == MLC_ALGO_LASSO || run->algorithm == MLC_ALGO_ELASTIC_NET)
		appendStringInfo(&out, "{\"alpha\": %.15g, \"l1_ratio\": %.15g, \"max_iter\": %d, \"tol\": %.15g",
						 run->alpha, run->l1_ratio, run->max_iter, run->tol);
	else if (mlc_learner_keys(run->algorithm))
		mlc_learner_hyperparams_json(run, &out);
	else
		appendStringInfoString(&out, "{");
	if (run->positive_label)
	{
		appendStringInfoString(&out, out.len > 1 ? ", \"positive_class\": " : "\"positive_class\": ");
		escape_json(&out, run->positive_label);
	}
	appendStringInfoChar(&out, '}');
	run->hyperparams_json = out.data;
}

/* split => 'last' and order_by go together */
static void
mlc_check_order_by(MlcTrainRun *run)
{
	if (run->split_last && run->order_by == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("split 'last' needs an order_by column"),
				 errhint("Name the column that orders the rows in time, as in order_by => 'created_at'.")));
	if (run->order_by != NULL && !run->split_last)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("order_by applies only to split 'last'"),
				 errhint("Add split => 'last' to hold out the latest rows, or remove order_by.")));
}

/* Append a text[] as a JSON array (NULL elements as null) */
static void
mlc_text_array_json(StringInfo b, ArrayType *arr)
{
	Datum	   *elems;
	bool	   *nulls;
	int			n;

	deconstruct_array(arr, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
	appendStringInfoChar(b, '[');
	for (int i = 0; i < n; i++)
	{
		if (i > 0)
			appendStringInfoString(b, ", ");
		if (nulls[i])
			appendStringInfoString(b, "null");
		else
			escape_json(b, TextDatumGetCString(elems[i]));
	}
	appendStringInfoChar(b, ']');
}

/*
 * The arguments of an ml_train call as a JSON object, named as in SQL: those
 * given (not NULL) from algorithm on, except deploy.  A retraining repeats
 * them.
 */
static char *
mlc_args_json(FunctionCallInfo fcinfo)
{
	static const char *const names[] = {"algorithm", "hyperparams", "preprocess", "exclude", "task",
		"test_size", "split", "seed", NULL, "cv", "search", "search_params", "search_args",
	"order_by", "sampling", "select_features"};
	StringInfoData b;

	initStringInfo(&b);
	appendStringInfoChar(&b, '{');
	for (int i = 0; i < (int) lengthof(names) && 3 + i < PG_NARGS(); i++)
	{
		int			a = 3 + i;
		Oid			type = get_fn_expr_argtype(fcinfo->flinfo, a);

		if (names[i] == NULL || PG_ARGISNULL(a))
			continue;
		if (b.len > 1)
			appendStringInfoString(&b, ", ");
		escape_json(&b, names[i]);
		appendStringInfoString(&b, ": ");
		if (type == JSONBOID)
			appendStringInfoString(&b, JsonbToCString(NULL, &PG_GETARG_JSONB_P(a)->root, 0));
		else if (type == TEXTOID)
			escape_json(&b, text_to_cstring(PG_GETARG_TEXT_PP(a)));
		else if (type == INT4OID)
			appendStringInfo(&b, "%d", PG_GETARG_INT32(a));
		else if (type == FLOAT8OID)
			appendStringInfoString(&b, float8out_internal(PG_GETARG_FLOAT8(a)));
		else
			mlc_text_array_json(&b, PG_GETARG_ARRAYTYPE_P(a));
	}
	appendStringInfoChar(&b, '}');
	return b.data;
}

/* Read and check the arguments of ml_train */
static void
mlc_parse_args(FunctionCallInfo fcinfo, MlcTrainRun *run)
{
	char	   *algorithm;

	run->project = mlc_text_arg(fcinfo, 0, "project");
	run->args_json = mlc_args_json(fcinfo);
	run->relation = mlc_text_arg(fcinfo, 1, "relation");
	run->target = mlc_text_arg(fcinfo, 2, "target");
	algorithm = PG_ARGISNULL(3) ? "auto" : text_to_cstring(PG_GETARG_TEXT_PP(3));
	run->hyperparams = PG_ARGISNULL(4) ? NULL : PG_GETARG_JSONB_P(4);
	run->preprocess = PG_ARGISNULL(5) ? NULL : PG_GETARG_JSONB_P(5);
	run->exclude = PG_ARGISNULL(6) ? NULL : PG_GETARG_ARRAYTYPE_P(6);
	run->task = PG_ARGISNULL(7) ? 0 :
		mlc_choose(text_to_cstring(PG_GETARG_TEXT_PP(7)), task_names, "task") + 1;
	run->test_size = PG_ARGISNULL(8) ? 0.25 : PG_GETARG_FLOAT8(8);
	if (!PG_ARGISNULL(9))
	{
		int			split = mlc_choose(text_to_cstring(PG_GETARG_TEXT_PP(9)), split_names, "split");

		run->stratified = split == 1;
		run->split_last = split == 2;
	}
	run->seed = PG_ARGISNULL(10) ? 42 : PG_GETARG_INT32(10);
	run->deploy = PG_ARGISNULL(11) ? "best_score" :
		deploy_names[mlc_choose(text_to_cstring(PG_GETARG_TEXT_PP(11)), deploy_names,
								"deploy strategy")];

	run->cv = (PG_NARGS() > 12 && !PG_ARGISNULL(12)) ? PG_GETARG_INT32(12) : 0;
	run->search = (PG_NARGS() > 13 && !PG_ARGISNULL(13)) ?
		mlc_choose(text_to_cstring(PG_GETARG_TEXT_PP(13)), search_names, "search") + 1 : 0;
	run->search_params = (PG_NARGS() > 14 && !PG_ARGISNULL(14)) ? PG_GETARG_JSONB_P(14) : NULL;
	run->search_args = (PG_NARGS() > 15 && !PG_ARGISNULL(15)) ? PG_GETARG_JSONB_P(15) : NULL;
	run->order_by = (PG_NARGS() > 16 && !PG_ARGISNULL(16)) ?
		text_to_cstring(PG_GETARG_TEXT_PP(16)) : NULL;
	mlc_check_order_by(run);
	run->select_features = (PG_NARGS() > 18 && !PG_ARGISNULL(18) &&
							JB_ROOT_COUNT(PG_GETARG_JSONB_P(18)) > 0) ? PG_GETARG_JSONB_P(18) : NULL;
	run->sampling = (PG_NARGS() > 17 && !PG_ARGISNULL(17)) ?
		mlc_choose(text_to_cstring(PG_GETARG_TEXT_PP(17)), sampling_names, "sampling") : 0;
	if (run->cv != 0 && (run->cv < 2 || run->cv > 100))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("cv must be between 2 and 100 folds"),
				 errhint("Use cv => 5 for five-fold cross-validation, or leave it NULL.")));
	if (strlen(run->project) == 0 || strlen(run->project) > 200)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("project name must have between 1 and 200 characters"),
				 errhint("Pick a non-empty name of at most 200 characters.")));
	if (!(run->test_size >= 0.0 && run->test_size < 1.0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("test_size must be at least 0 and less than 1"),
				 errhint("Use 0.25 to hold out a quarter of the rows, or 0 to evaluate on the training rows.")));
	if (run->exclude && ARR_NDIM(run->exclude) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("exclude must be a one-dimensional array of column names"),
				 errhint("Write it as exclude => '{id,created_at}'.")));
	run->algorithm = algorithm_ids[mlc_choose(algorithm, algorithm_names, "algorithm")];
}

/* The order_by column must be one of the relation's, other than the target */
static void
mlc_check_order_column(MlcTrainRun *run, Oid relid)
{
	if (run->order_by == NULL)
		return;
	if (get_attnum(relid, run->order_by) == InvalidAttrNumber)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("order_by column \"%s\" does not exist in %s", run->order_by, run->relation),
				 errhint("Pass the name of the column that orders the rows, exactly as it is spelled in the relation.")));
	if (strcmp(run->order_by, run->target) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("order_by cannot be the target column \"%s\"", run->target),
				 errhint("Order the rows by a time or sequence column, such as created_at.")));
}

/* Infer or check the task against the target's kind, and resolve 'auto' */
static void
mlc_resolve_task(MlcTrainRun *run, Oid relid)
{
	AttrNumber	attnum = get_attnum(relid, run->target);
	uint8		kind;

	if (attnum == InvalidAttrNumber)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("target column \"%s\" does not exist in %s", run->target, run->relation),
				 errhint("Pass the name of the column to predict, exactly as it is spelled in the relation.")));
	kind = mlc_type_kind(get_atttype(relid, attnum));
	if (run->task == 0)
		run->task = (kind == MLC_KIND_NUMERIC || kind == MLC_KIND_TEMPORAL) ?
			MLC_TASK_REGRESSION : MLC_TASK_CLASSIFICATION;
	if (run->task == MLC_TASK_REGRESSION && kind == MLC_KIND_CATEGORICAL)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("regression needs a numeric target, and \"%s\" is text", run->target),
				 errhint("Use task => 'classification', or cast the target to a number in a view.")));
	if (run->algorithm == 0)
		run->algorithm = run->task == MLC_TASK_REGRESSION ? MLC_ALGO_LINEAR : MLC_ALGO_LOGISTIC;
	mlc_learner_check_task(run);
	if (run->task == MLC_TASK_CLASSIFICATION && run->algorithm != MLC_ALGO_LOGISTIC &&
		!mlc_learner_keys(run->algorithm) && !MLC_IS_TREE_ALGO(run->algorithm))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("algorithm \"%s\" does not do classification", mlc_algorithm_name(run->algorithm)),
				 errhint("Use algorithm => 'logistic' or 'auto' for a classification target.")));
	if (run->sampling != MLC_SAMPLING_NONE && MLC_IS_TREE_ALGO(run->algorithm))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("sampling '%s' is not available for tree learners", sampling_names[run->sampling]),
				 errhint("Remove sampling; trees handle imbalanced classes well, and their probabilities keep the class rates.")));
	if (run->task == MLC_TASK_REGRESSION && run->algorithm == MLC_ALGO_LOGISTIC)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("algorithm \"logistic\" does not do regression"),
				 errhint("Use algorithm => 'linear' or 'ridge', or task => 'classification' for a label target.")));
	if (run->stratified && run->task != MLC_TASK_CLASSIFICATION)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("split 'stratified' needs a classification task"),
				 errhint("Use split => 'random' for regression.")));
	mlc_check_order_column(run, relid);
	if (run->sampling != MLC_SAMPLING_NONE && run->task != MLC_TASK_CLASSIFICATION)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("sampling '%s' needs a classification task", sampling_names[run->sampling]),
				 errhint("Rebalancing applies to class labels; remove sampling for regression.")));
}

/* Sort context for class labels: numerically for numeric targets */
static bool mlc_sort_numeric;
static char **mlc_sort_labels;

static int
mlc_cmp_label(const void *a, const void *b)
{
	const char *x = mlc_sort_labels[*(const int32 *) a];
	const char *y = mlc_sort_labels[*(const int32 *) b];

	if (mlc_sort_numeric)
	{
		double		dx = strtod(x, NULL),
					dy = strtod(y, NULL);

		if (dx != dy)
			return dx < dy ? -1 : 1;
	}
	return strcmp(x, y);
}

/* True when a label reads as the positive one: true, 1, yes, y, t or pos */
static bool
mlc_label_reads_true(const char *s)
{
	static const char *const yes[] = {"true", "1", "yes", "y", "t", "pos", NULL};

	for (int i = 0; yes[i]; i++)
		if (pg_strcasecmp(s, yes[i]) == 0)
			return true;
	return false;
}

/* Sort the class labels, pick the positive class and code y by class index */
static void
mlc_prepare_classes(MlcTrainRun *run, MlcModel *m)
{
	MlcRawColumn *t = &run->ds->target;
	int32		K = t->ndict;
	int32	   *order = palloc(sizeof(int32) * K);
	int32	   *rank = palloc(sizeof(int32) * K);
	int			ntrue = 0;

	if (K < 2)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("target column \"%s\" has only one class: \"%s\"", run->target, t->dict[0]),
				 errhint("Classification needs at least two distinct target values.")));
	if (K > MLC_MAX_CLASSES)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("target column \"%s\" has %d classes, more than %d", run->target, K, MLC_MAX_CLASSES),
				 errhint("Is it a regression target? Use task => 'regression' for numeric targets.")));
	for (int32 k = 0; k < K; k++)
		order[k] = k;
	mlc_sort_numeric = (t->kind == MLC_KIND_NUMERIC);
	mlc_sort_labels = t->dict;
	qsort(order, K, sizeof(int32), mlc_cmp_label);
	m->nclasses = K;
	m->classes = palloc(sizeof(char *) * K);
	for (int32 k = 0; k < K; k++)
	{
		m->classes[k] = pstrdup(t->dict[order[k]]);
		rank[order[k]] = k;
	}
	run->y = palloc(sizeof(int32) * run->ds->nrows);
	for (int64 i = 0; i < run->ds->nrows; i++)
		run->y[i] = rank[t->codes[i]];

	m->positive_class = -1;
	if (K == 2)
	{
		if (run->positive_label)
		{
			for (int32 k = 0; k < K; k++)
				if (strcmp(m->classes[k], run->positive_label) == 0)
					m->positive_class = k;
			if (m->positive_class < 0)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("positive_class \"%s\" is not a label of \"%s\"", run->positive_label, run->target),
						 errhint("The labels are \"%s\" and \"%s\".", m->classes[0], m->classes[1])));
		}
		else
		{
			for (int32 k = 0; k < K; k++)
				if (mlc_label_reads_true(m->classes[k]))
				{
					ntrue++;
					m->positive_class = k;
				}
			if (ntrue != 1)
				m->positive_class = 1;
		}
	}
	else if (run->positive_label)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("positive_class applies to binary classification, and \"%s\" has %d classes",
						run->target, K),
				 errhint("Remove positive_class: a multiclass model scores every class (see ml_predict_proba).")));
}

/* Mark test rows by seeded draws (split.h): the smallest overall, or per class */
static void
mlc_split_drawn(MlcTrainRun *run, bool *is_test)
{
	int64		n = run->ds->nrows;
	double	   *u = palloc(sizeof(double) * n);
	pg_prng_state rng;

	mlc_split_rng(&rng, run->seed);
	for (int64 i = 0; i < n; i++)
		u[i] = pg_prng_double(&rng);
	if (!run->stratified)
		mlc_split_mark(u, n, mlc_split_test_count(run->test_size, n), is_test);
	else if (run->test_size > 0)
	{
		/* per class: the ceil(test_size * count) rows with the smallest draws */
		int32		K = run->model->nclasses;
		double	   *cu = palloc(sizeof(double) * n);
		int64	   *ci = palloc(sizeof(int64) * n);
		bool	   *ct = palloc(sizeof(bool) * n);

		for (int32 c = 0; c < K; c++)
		{
			int64		m = 0;

			for (int64 i = 0; i < n; i++)
				if (run->y[i] == c)
				{
					cu[m] = u[i];
					ci[m++] = i;
				}
			mlc_split_mark(cu, m, mlc_split_test_count(run->test_size, m), ct);
			for (int64 i = 0; i < m; i++)
				is_test[ci[i]] = ct[i];
		}
	}
	pfree(u);
}

/* Split the rows into training and test rows: random, stratified or the last by order_by */
static void
mlc_split(MlcTrainRun *run)
{
	int64		n = run->ds->nrows;
	bool	   *is_test = palloc0(sizeof(bool) * n);

	if (run->split_last)
	{
		/* rows arrive sorted by order_by: hold out the last ones, no draws */
		for (int64 i = n - mlc_split_test_count(run->test_size, n); i < n; i++)
			is_test[i] = true;
	}
	else
		mlc_split_drawn(run, is_test);
	run->train_rows = palloc(sizeof(int64) * n);
	run->test_rows = palloc(sizeof(int64) * n);
	run->ntrain = run->ntest = 0;
	for (int64 i = 0; i < n; i++)
	{
		if (is_test[i])
			run->test_rows[run->ntest++] = i;
		else
			run->train_rows[run->ntrain++] = i;
	}
	if (run->ntrain < 2)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("only " INT64_FORMAT " training rows after the split", run->ntrain),
				 errhint("Train on more rows or lower test_size.")));
	pfree(is_test);
}

/* Check the data as read: rows present, features not entirely NULL */
static void
mlc_check_dataset(MlcTrainRun *run)
{
	MlcDataset *ds = run->ds;

	if (ds->nread == 0)
		ereport(ERROR,
				(errcode(ERRCODE_NO_DATA_FOUND),
				 errmsg("relation %s has no rows", run->relation),
				 errhint("Load data before training.")));
	if (ds->nrows == 0)
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("target column \"%s\" is NULL in all " INT64_FORMAT " rows", run->target, ds->nread),
				 errhint("Training needs rows with a known target value.")));
	for (int i = 0; i < ds->ncols; i++)
		if (ds->cols[i].nnull == ds->nrows)
			mlc_all_null_error(ds->cols[i].name, true);
}

/* Say that a feature is constant in the training rows */
static void
mlc_notice_constant(MlcTrainRun *run, const char *name)
{
	ereport(NOTICE,
			(errmsg("feature column \"%s\" is constant in the training rows", name),
			 errdetail("It cannot inform the model: %s.",
					   MLC_IS_TREE_ALGO(run->algorithm) ? "no split can use it" :
					   run->algorithm == MLC_ALGO_LINEAR ?
					   "least squares gives it a coefficient of 0 (minimum-norm solution)" :
					   run->algorithm == MLC_ALGO_NAIVE_BAYES ?
					   "its likelihood is the same for every class" :
					   run->algorithm == MLC_ALGO_KNN ?
					   "it adds nothing to the distances between rows" :
					   "the penalty keeps its coefficient at 0")));
}

/* Warn about features that are constant in the training rows */
static void
mlc_note_constant_features(MlcTrainRun *run)
{
	MlcModel   *m = run->model;

	for (int j = 0; j < m->ncolumns; j++)
	{
		MlcColumn  *c = &m->columns[j];
		bool		constant;

		if (c->kind == MLC_KIND_CATEGORICAL)
			constant = c->ncategories <= 1 && c->transform != MLC_TRANSFORM_HASHING;
		else
		{
			MlcRawColumn *raw = &run->ds->cols[j];
			double		first = NAN;

			constant = true;
			for (int64 i = 0; i < run->ntrain && constant; i++)
			{
				double		v = raw->values[run->train_rows[i]];

				if (isnan(v))
					v = c->fill;
				if (i == 0)
					first = v;
				else if (v != first)
					constant = false;
			}
		}
		if (constant)
			mlc_notice_constant(run, c->name);
	}
}

/* Number of one-hot encoded columns the learner sees whole (each sums to 1) */
static int
mlc_one_hot_groups(const MlcModel *m)
{
	int			n = 0;

	for (int j = 0; j < m->ncolumns; j++)
	{
		const MlcColumn *c = &m->columns[j];
		int			lo,
					w;

		mlc_projection_span(m, c->out_offset, c->out_width, &lo, &w);
		if (c->kind == MLC_KIND_CATEGORICAL && c->encode == MLC_ENCODE_ONE_HOT && w == c->out_width)
			n++;
	}
	return n;
}

/* State of the least-squares row source: training rows preprocessed on the fly */
typedef struct MlcTrainRows
{
	MlcTrainRun *run;
	MlcTransformer t;
} MlcTrainRows;

/* MlcRows fill callback: features of training rows, then the target */
static void
mlc_fill_train_rows(void *arg, int64 start, int nb, double *out)
{
	MlcTrainRows *tr = (MlcTrainRows *) arg;
	MlcTrainRun *run = tr->run;
	int			p = run->model->nfeatures;
	const int64 *rows = run->train_rows + start;

	mlc_transform_rows(&tr->t, rows, nb, out, p + 1);
	for (int i = 0; i < nb; i++)
		out[(Size) i * (p + 1) + p] = run->ds->target.values[rows[i]];
}

/* True when the learner iterates over the preprocessed matrix (not least squares) */
static bool
mlc_needs_matrix(const MlcTrainRun *run)
{
	return run->algorithm == MLC_ALGO_LOGISTIC || run->algorithm == MLC_ALGO_LASSO ||
		run->algorithm == MLC_ALGO_ELASTIC_NET || mlc_learner_keys(run->algorithm) != NULL;
}

/* The label of class index c of a fit's y (binary fits use 1 for the positive class) */
static const char *
mlc_fit_class_label(const MlcModel *m, int32 c)
{
	if (m->nclasses == 2)
		return m->classes[c == 1 ? m->positive_class : 1 - m->positive_class];
	return m->classes[c];
}

/* Every label of an explicit class_weight must be a class of the target */
static void
mlc_check_class_weights(MlcTrainRun *run)
{
	for (int i = 0; i < run->nclass_weights; i++)
	{
		bool		found = false;

		for (int c = 0; c < run->model->nclasses && !found; c++)
			found = strcmp(run->model->classes[c], run->class_weight_labels[i]) == 0;
		if (!found)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("class_weight names \"%s\", which is not a class of \"%s\"",
							run->class_weight_labels[i], run->target),
					 errhint("Use the class labels as text, as ml_classes lists them after training (booleans are true and false).")));
	}
}

/* Row weights from an explicit class_weight; classes it leaves out weigh 1 */
static double *
mlc_explicit_weights(MlcTrainRun *run, const int32 *y, int64 n)
{
	int			K = run->model->nclasses;
	double	   *wk = palloc(sizeof(double) * K);
	double	   *w = palloc(sizeof(double) * Max(n, 1));

	/* a search may set class_weight after the early check */
	mlc_check_class_weights(run);
	for (int c = 0; c < K; c++)
	{
		const char *label = mlc_fit_class_label(run->model, c);

		wk[c] = 1.0;
		for (int i = 0; i < run->nclass_weights; i++)
			if (strcmp(run->class_weight_labels[i], label) == 0)
				wk[c] = run->class_weight_values[i];
	}
	for (int64 i = 0; i < n; i++)
		w[i] = wk[y[i]];
	pfree(wk);
	return w;
}

/* Rebalance the classes of the rows a classifier is fitted on (sampling.h) */
static int64
mlc_resample_fit_rows(MlcTrainRun *run, const double **X, int32 **y, int64 n, int p)
{
	MlcModel   *m = run->model;
	char	   *names[2];
	char	  **class_names = m->classes;
	double	   *Xr;
	int32	   *yr;
	int64		nr;

	if (m->nclasses == 2)
	{
		/* binary fits use 1 for the positive class */
		names[1] = (char *) mlc_fit_class_label(m, 1);
		names[0] = (char *) mlc_fit_class_label(m, 0);
		class_names = names;
	}
	nr = mlc_resample(run->sampling, *X, *y, n, p, m->nclasses, run->seed, class_names, &Xr, &yr);
	if (!run->quiet)
		mlc_progress_notice("mlcycle: %s rebalanced " INT64_FORMAT " training rows to " INT64_FORMAT,
							sampling_names[run->sampling], n, nr);
	pfree(*y);
	*X = Xr;
	*y = yr;
	return nr;
}

/* Fit a tree learner on the training rows, read through the fitted preprocessing */
static void
mlc_fit_trees(MlcTrainRun *run)
{
	MlcModel   *m = run->model;
	MlcTransformer t;
	MlcTreeData d;
	int64		n = run->ntrain;

	mlc_transformer_init(&t, m, run->ds);
	memset(&d, 0, sizeof(d));
	d.t = &t;
	d.rows = run->train_rows;
	d.n = n;
	if (run->task == MLC_TASK_REGRESSION)
	{
		double	   *y = mlc_alloc_large(sizeof(double) * Max(n, 1));

		for (int64 i = 0; i < n; i++)
			y[i] = run->ds->target.values[run->train_rows[i]];
		d.y = y;
	}
	else
	{
		int32	   *y = palloc(sizeof(int32) * Max(n, 1));

		for (int64 i = 0; i < n; i++)
		{
			int32		c = run->y[run->train_rows[i]];

			y[i] = m->nclasses == 2 ? (c == m->positive_class ? 1 : 0) : c;
		}
		d.cls = y;
		d.nclasses = m->nclasses;
	}
	run->tree_info = run->algorithm == MLC_ALGO_GBDT ? mlc_fit_gbdt(m, &d, &run->tree) :
		mlc_fit_forest(m, &d, &run->tree);
}

/* Keeping NULLs as missing (impute 'none') is for tree learners only */
static void
mlc_check_impute_none(const MlcTrainRun *run)
{
	if (MLC_IS_TREE_ALGO(run->algorithm))
		return;
	for (int j = 0; j < run->model->ncolumns; j++)
		if (run->model->columns[j].impute == MLC_IMPUTE_NONE)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("impute 'none' of column \"%s\" needs a tree learner", run->model->columns[j].name),
					 errhint("Only gbdt, random_forest and decision_tree split on missing values; pick another impute strategy for %s.",
							 mlc_algorithm_name(run->algorithm))));
}

/* Fit the learner; least squares reads the rows in blocks, the others need X */
static void
mlc_fit(MlcTrainRun *run, const double *X)
{
	MlcModel   *m = run->model;
	int			p = m->nfeatures;
	int64		n = run->ntrain;

	m->algorithm = run->algorithm;
	m->task = run->task;
	if (MLC_IS_TREE_ALGO(run->algorithm))
	{
		mlc_fit_trees(run);
		return;
	}
	if (run->task == MLC_TASK_REGRESSION)
	{
		MlcTrainRows tr;
		MlcRows		rows;

		tr.run = run;
		mlc_transformer_init(&tr.t, m, run->ds);
		rows.n = n;
		rows.p = p;
		rows.fill = mlc_fill_train_rows;
		rows.arg = &tr;
		m->ncoef_rows = 1;
		m->coef = palloc0(sizeof(double) * (p + 1));
		if (run->algorithm == MLC_ALGO_KNN)
			mlc_fit_knn_regression(run, X);
		else if (run->algorithm == MLC_ALGO_LINEAR)
		{
			int			rank = 0;

			mlc_fit_linear(&rows, m->coef, &rank);
			/* each one-hot group sums to 1 and so costs one rank with an intercept */
			if (rank < p - mlc_one_hot_groups(m) && !run->quiet)
				ereport(NOTICE,
						(errmsg("mlcycle: the training matrix has rank %d of %d features; using the minimum-norm least-squares solution",
								rank, p)));
		}
		else if (run->algorithm == MLC_ALGO_RIDGE)
			mlc_fit_ridge(&rows, run->alpha, m->coef);
		else
		{
			/* lasso and elastic net: coordinate descent over the matrix */
			double	   *y = palloc(sizeof(double) * Max(n, 1));

			for (int64 i = 0; i < n; i++)
				y[i] = run->ds->target.values[run->train_rows[i]];
			run->iterations = mlc_fit_elastic_net(X, y, n, p, run->alpha, run->l1_ratio,
												  run->max_iter, run->tol, m->coef);
			pfree(y);
		}
	}
	else
	{
		int			K = m->nclasses;
		int32	   *y = palloc(sizeof(int32) * n);
		double	   *w = NULL;

		for (int64 i = 0; i < n; i++)
		{
			int32		c = run->y[run->train_rows[i]];

			y[i] = (K == 2) ? (c == m->positive_class ? 1 : 0) : c;
		}
		if (run->sampling != MLC_SAMPLING_NONE)
			n = mlc_resample_fit_rows(run, &X, &y, n, p);
		if (run->nclass_weights > 0)
			w = mlc_explicit_weights(run, y, n);
		else if (run->balanced)
		{
			int64	   *count = palloc0(sizeof(int64) * K);

			w = palloc(sizeof(double) * n);
			for (int64 i = 0; i < n; i++)
				count[y[i]]++;
			for (int64 i = 0; i < n; i++)
				w[i] = (double) n / ((double) K * (double) count[y[i]]);
		}
		m->ncoef_rows = (K == 2) ? 1 : K;
		m->coef = palloc0(sizeof(double) * m->ncoef_rows * (p + 1));
		if (mlc_learner_keys(run->algorithm))
			mlc_fit_classifier(run, X, y, n);
		else
			run->iterations = mlc_fit_logistic(X, y, w, n, p, K, run->C, run->max_iter, run->tol, m->coef);
		if (run->sampling != MLC_SAMPLING_NONE)
			pfree((void *) X);
	}
}

static double mlc_evaluate_keep(MlcTrainRun *run, const int64 *rows, int64 n, bool baseline,
								StringInfo json, double **keep);

/*
 * Metrics of the model on the given rows, as a JSON object; returns the
 * headline metric.  With baseline, the predictions are run->baseline for
 * every row instead: the training mean or the training class frequencies.
 */
static double
mlc_evaluate(MlcTrainRun *run, const int64 *rows, int64 n, bool baseline, StringInfo json)
{
	return mlc_evaluate_keep(run, rows, n, baseline, json, NULL);
}

/* mlc_evaluate, handing the predictions (n x width) to *keep when it is not NULL */
static double
mlc_evaluate_keep(MlcTrainRun *run, const int64 *rows, int64 n, bool baseline, StringInfo json,
				  double **keep)
{
	MlcModel   *m = run->model;
	int			width = (m->task == MLC_TASK_REGRESSION) ? 1 : m->nclasses;
	double	   *out = mlc_alloc_large(sizeof(double) * n * width);
	int			block = 4096;
	double	   *x = palloc(sizeof(double) * block * Max(m->nfeatures, 1));
	MlcTransformer t;
	double		score;

	/* preprocess a block of rows at a time, then predict each */
	mlc_transformer_init(&t, m, run->ds);
	for (int64 start = 0; start < n && baseline; start++)
		memcpy(out + start * width, run->baseline, sizeof(double) * width);
	for (int64 start = 0; start < n && !baseline; start += block)
	{
		int			nb = (int) Min((int64) block, n - start);

		CHECK_FOR_INTERRUPTS();
		mlc_transform_rows(&t, rows + start, nb, x, m->nfeatures);
		for (int i = 0; i < nb; i++)
			mlc_predict_features(m, x + (Size) i * m->nfeatures, out + (start + i) * width);
	}
	pfree(x);
	if (m->task == MLC_TASK_REGRESSION)
	{
		double	   *y = palloc(sizeof(double) * n);

		for (int64 i = 0; i < n; i++)
			y[i] = run->ds->target.values[rows[i]];
		score = mlc_metrics_regression(y, out, n, json);
	}
	else
	{
		int32	   *y = palloc(sizeof(int32) * n);

		for (int64 i = 0; i < n; i++)
			y[i] = run->y[rows[i]];
		score = mlc_metrics_classification(y, out, n, m->nclasses, m->positive_class, json);
	}
	if (keep)
		*keep = out;
	else
		pfree(out);
	return score;
}

/* Append a number, or null when it is not finite */
static void
mlc_append_number(StringInfo buf, double v)
{
	if (isfinite(v))
		appendStringInfo(buf, "%.17g", v);
	else
		appendStringInfoString(buf, "null");
}

/* The trivial baseline from the training rows: the mean, or the class frequencies */
static void
mlc_set_baseline(MlcTrainRun *run)
{
	MlcModel   *m = run->model;
	int			width = (m->task == MLC_TASK_REGRESSION) ? 1 : m->nclasses;

	run->baseline = palloc0(sizeof(double) * width);
	for (int64 i = 0; i < run->ntrain; i++)
	{
		if (m->task == MLC_TASK_REGRESSION)
			run->baseline[0] += run->ds->target.values[run->train_rows[i]];
		else
			run->baseline[run->y[run->train_rows[i]]] += 1.0;
	}
	for (int k = 0; k < width; k++)
		run->baseline[k] /= (double) run->ntrain;
}

/* Name of the headline metric of a task */
static const char *
mlc_score_metric(const MlcModel *m)
{
	if (m->task == MLC_TASK_REGRESSION)
		return "r2";
	return m->nclasses == 2 ? "roc_auc" : "f1";
}

/*
 * Build the metrics JSON: train and test metrics and the headline score.
 * train_json, when given, holds the training metrics already computed.
 */
static void
mlc_compute_metrics(MlcTrainRun *run, const char *train_json)
{
	StringInfoData train,
				test;
	const char *on = run->ntest > 0 ? "test" : "train";
	double		score = NAN;

	StringInfoData base;
	double		base_score;

	initStringInfo(&train);
	if (train_json)
		appendStringInfoString(&train, train_json);
	else
		score = mlc_evaluate_keep(run, run->train_rows, run->ntrain, false, &train,
								  run->ntest > 0 ? NULL : &run->eval_out);
	initStringInfo(&test);
	if (run->ntest > 0)
		score = mlc_evaluate_keep(run, run->test_rows, run->ntest, false, &test, &run->eval_out);
	else
		appendStringInfoString(&test, train.data);
	/* the trivial baseline on the same evaluated rows */
	initStringInfo(&base);
	if (run->ntest > 0)
		base_score = mlc_evaluate(run, run->test_rows, run->ntest, true, &base);
	else
		base_score = mlc_evaluate(run, run->train_rows, run->ntrain, true, &base);
	run->score = score;
	initStringInfo(&run->metrics);
	appendStringInfo(&run->metrics,
					 "{\"train\": %s, \"test\": %s, \"baseline\": %s, \"evaluated_on\": \"%s\", \"score_metric\": \"%s\", \"score\": ",
					 train.data, test.data, base.data, on, mlc_score_metric(run->model));
	mlc_append_number(&run->metrics, score);
	appendStringInfoString(&run->metrics, ", \"baseline_score\": ");
	mlc_append_number(&run->metrics, base_score);
	appendStringInfoString(&run->metrics, ", \"lift\": ");
	mlc_append_number(&run->metrics, score - base_score);
	appendStringInfoChar(&run->metrics, '}');
	/* feature importance on the same evaluated rows */
	run->importance_json = mlc_importance_json(run->model, run->ds,
											   run->ntest > 0 ? run->test_rows : run->train_rows,
											   run->ntest > 0 ? run->ntest : run->ntrain,
											   run->y, score, run->seed);
}

/* Record a model's feature importance rows (mlcycle.feature_importance) */
static void
mlc_store_importance(int64 model_id, const char *json)
{
	Oid			types[2] = {INT8OID, JSONBOID};
	Datum		v[2];

	if (json == NULL)
		return;
	v[0] = Int64GetDatum(model_id);
	v[1] = DirectFunctionCall1(jsonb_in, CStringGetDatum(json));
	if (SPI_execute_with_args("INSERT INTO mlcycle.feature_importance "
							  "(model_id, feature, method, importance, std, rank, rows, repeats) "
							  "SELECT $1, feature, method, importance, std, rank, rows, repeats "
							  "FROM jsonb_to_recordset($2) AS r(feature text, method text, importance float8, "
							  "std float8, rank int, rows bigint, repeats int)",
							  2, types, v, NULL, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "mlcycle: storing the feature importance failed");
}

/* text[] of n C strings */
static Datum
mlc_text_array(char **items, int n)
{
	Datum	   *d = palloc(sizeof(Datum) * Max(n, 1));

	for (int i = 0; i < n; i++)
		d[i] = CStringGetTextDatum(items[i]);
	return PointerGetDatum(construct_array(d, n, TEXTOID, -1, false, TYPALIGN_INT));
}

/*
 * Kinds of the learner's features, for the catalog: the column's kind, or
 * for text columns their encoding (one_hot, ordinal, frequency, target,
 * binary, hashing); "pca" for principal components
 */
static char **
mlc_feature_kinds(const MlcModel *m)
{
	char	  **kinds = palloc(sizeof(char *) * Max(m->ninput, 1));

	for (int j = 0; j < m->ncolumns; j++)
	{
		const MlcColumn *c = &m->columns[j];
		const char *encoding = mlc_steps_encode_name(c);

		if (encoding == NULL)
			encoding = c->encode == MLC_ENCODE_ONE_HOT ? "one_hot" : "ordinal";
		for (int k = 0; k < c->out_width; k++)
			kinds[c->out_offset + k] = (char *) (c->kind != MLC_KIND_CATEGORICAL ? mlc_kind_name(c->kind) :
												 encoding);
	}
	return mlc_projection_kinds(m, kinds);
}

/* The split settings, for mlcycle.models.split */
static char *
mlc_split_json(MlcTrainRun *run)
{
	StringInfoData b;

	initStringInfo(&b);
	appendStringInfo(&b, "{\"method\": \"%s\", ",
					 run->split_last ? "last" : run->stratified ? "stratified" : "random");
	if (run->order_by)
	{
		appendStringInfoString(&b, "\"order_by\": ");
		escape_json(&b, run->order_by);
		appendStringInfoString(&b, ", ");
	}
	if (run->sampling != MLC_SAMPLING_NONE)
		appendStringInfo(&b, "\"sampling\": \"%s\", ", sampling_names[run->sampling]);
	appendStringInfo(&b, "\"test_size\": %.15g, \"seed\": %d}", run->test_size, run->seed);
	return b.data;
}

/* Store the model (and its project when new) through mlcycle.store_model */
static int64
mlc_store(MlcTrainRun *run, bytea *blob)
{
	Oid			types[21] = {TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, JSONBOID, JSONBOID,
		TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID, TEXTOID, JSONBOID, JSONBOID,
	INT8OID, INT8OID, INT8OID, INT8OID, FLOAT8OID, JSONBOID, BYTEAOID, JSONBOID};
	Datum		v[21];
	char		nulls[21];
	MlcModel   *m = run->model;
	char	   *split;
	bool		isnull;
	int			ret;

	memset(nulls, ' ', sizeof(nulls));
	split = mlc_split_json(run);
	v[0] = CStringGetTextDatum(run->project);
	v[1] = CStringGetTextDatum(task_names[run->task - 1]);
	v[2] = CStringGetTextDatum(mlc_algorithm_name(run->algorithm));
	v[3] = CStringGetTextDatum(run->ds->relname);
	v[4] = CStringGetTextDatum(run->target);
	v[5] = DirectFunctionCall1(jsonb_in, CStringGetDatum(run->hyperparams_json));
	v[6] = DirectFunctionCall1(jsonb_in, CStringGetDatum(run->preprocess_json));
	v[7] = mlc_text_array(mlc_feature_names(m), m->nfeatures);
	v[8] = mlc_text_array(mlc_feature_kinds(m), m->nfeatures);
	if (m->nclasses > 0)
		v[9] = mlc_text_array(m->classes, m->nclasses);
	else
		nulls[9] = 'n';
	if (m->positive_class >= 0)
		v[10] = CStringGetTextDatum(m->classes[m->positive_class]);
	else
		nulls[10] = 'n';
	v[11] = DirectFunctionCall1(jsonb_in, CStringGetDatum(run->metrics.data));
	v[12] = DirectFunctionCall1(jsonb_in, CStringGetDatum(split));
	v[13] = Int64GetDatum(run->ds->nread);
	v[14] = Int64GetDatum(run->ds->nskipped);
	v[15] = Int64GetDatum(run->ntrain);
	v[16] = Int64GetDatum(run->ntest);
	v[17] = Float8GetDatum(mlc_now_ms() - run->started);
	appendStringInfoChar(&run->timings, '}');
	v[18] = DirectFunctionCall1(jsonb_in, CStringGetDatum(run->timings.data));
	v[19] = PointerGetDatum(blob);
	v[20] = DirectFunctionCall1(jsonb_in, CStringGetDatum(run->args_json));
	ret = SPI_execute_with_args("SELECT mlcycle.store_model($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, "
								"$11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21)",
								21, types, v, nulls, false, 1);
	if (ret != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "mlcycle: storing the model failed");
	return DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
}

/* Deploy the stored model by the run's strategy; true when it was deployed */
static bool
mlc_deploy_trained(MlcTrainRun *run, int64 model_id)
{
	Oid			types[2] = {INT8OID, TEXTOID};
	Datum		v[2] = {Int64GetDatum(model_id), CStringGetTextDatum(run->deploy)};
	bool		isnull;

	if (SPI_execute_with_args("SELECT mlcycle.deploy_trained($1, $2)", 2, types, v, NULL, false, 1)
		!= SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "mlcycle: deploying the model failed");
	return DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
}

/* Read, split, preprocess, fit, evaluate */
static void mlc_append_metrics(MlcTrainRun *run, const char *key, const char *json);

/*
 * The feature projection on the run's training rows and fitted pipeline:
 * select_features, then the pca step on the kept features.  Sets
 * run->select_json and run->pca_json.
 */
static void
mlc_run_projection(MlcTrainRun *run)
{
	bool		cls = (run->task == MLC_TASK_CLASSIFICATION);

	run->select_json = mlc_select_features(run->model, run->ds, run->train_rows, run->ntrain,
										   cls ? NULL : run->ds->target.values, cls ? run->y : NULL,
										   run->model->nclasses, run->select_features);
	run->pca_json = run->pca.given ?
		mlc_projection_fit_pca(run->model, run->ds, run->train_rows, run->ntrain, &run->pca) : NULL;
}

/* Accumulated fold metrics: sums and sums of squares per metric name */
typedef struct MlcCvSums
{
	int			n;
	char	   *names[32];
	double		sum[32];
	double		sumsq[32];
	int			count[32];
} MlcCvSums;

/* Add one fold's metrics (a JSON object of numbers) to the sums */
static void
mlc_cv_add(MlcCvSums *s, const char *json)
{
	Jsonb	   *j = DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(json)));
	ListCell   *lc;

	foreach(lc, mlc_jsonb_pairs(j, "fold metrics"))
	{
		MlcJsonPair *p = lfirst(lc);
		double		v;
		int			k;

		if (p->value.type != jbvNumeric || strcmp(p->key, "rows") == 0 ||
			strcmp(p->key, "fit_rows") == 0)
			continue;
		v = mlc_json_number(p, "metric");
		for (k = 0; k < s->n && strcmp(s->names[k], p->key) != 0; k++)
			;
		if (k == s->n && s->n < 32)
			s->names[s->n++] = pstrdup(p->key);
		if (k < 32)
		{
			s->sum[k] += v;
			s->sumsq[k] += v * v;
			s->count[k]++;
		}
	}
}

/*
 * Forward-chaining folds for split 'last' (scikit-learn's TimeSeriesSplit):
 * the training rows, in order, end in k blocks of n / (k + 1) rows; fold f
 * scores block f after fitting on every row before it.  Earlier rows get -1.
 */
static int *
mlc_cv_forward_folds(MlcTrainRun *run)
{
	int64		n = run->ntrain;
	int64		block = n / (run->cv + 1);
	int64		first = n - block * run->cv;
	int		   *fold = palloc(sizeof(int) * Max(n, 1));

	if (block < 1 || first < 2)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("cv => %d needs more training rows than the " INT64_FORMAT " there are", run->cv, n),
				 errhint("Use fewer folds.")));
	for (int64 i = 0; i < n; i++)
		fold[i] = i < first ? -1 : (int) ((i - first) / block);
	return fold;
}

/* Fold of each training row: shuffled (seed + 1), and round-robin per class when classifying */
static int *
mlc_cv_folds(MlcTrainRun *run)
{
	int64		n = run->ntrain;
	int		   *fold = palloc(sizeof(int) * Max(n, 1));
	int64	   *order = palloc(sizeof(int64) * Max(n, 1));
	int64	   *seen = palloc0(sizeof(int64) * Max(run->model->nclasses, 1));
	pg_prng_state rng;

	mlc_split_rng(&rng, run->seed + 1);
	for (int64 i = 0; i < n; i++)
		order[i] = i;
	for (int64 i = n - 1; i > 0; i--)
	{
		int64		j = (int64) pg_prng_uint64_range(&rng, 0, (uint64) i);
		int64		t = order[i];

		order[i] = order[j];
		order[j] = t;
	}
	for (int64 i = 0; i < n; i++)
	{
		int64		r = order[i];

		if (run->task == MLC_TASK_CLASSIFICATION)
			fold[r] = (int) (seen[run->y[run->train_rows[r]]]++ % run->cv);
		else
			fold[r] = (int) (i % run->cv);
	}
	pfree(order);
	pfree(seen);
	return fold;
}

/*
 * k-fold cross-validation on the training rows (stratified for
 * classification): each fold fits preprocessing and the learner on the other
 * folds and is scored on its own rows.  Adds "cv" (folds, mean, std) to the
 * metrics.
 */
static void
mlc_cv_core(MlcTrainRun *run, StringInfo out, MlcCvSums *sumsp)
{
	MlcModel   *model = run->model;
	int64	   *all = run->train_rows;
	int64		nall = run->ntrain;
	int		   *fold = run->split_last ? mlc_cv_forward_folds(run) : mlc_cv_folds(run);
	int64	   *fit_rows = palloc(sizeof(int64) * Max(nall, 1));
	int64	   *held_rows = palloc(sizeof(int64) * Max(nall, 1));
	StringInfoData cv;
	MlcCvSums	sums;
	char	   *select_json = run->select_json;
	char	   *pca_json = run->pca_json;

	memset(&sums, 0, sizeof(sums));
	initStringInfo(&cv);
	if (run->split_last)
		appendStringInfo(&cv, "{\"k\": %d, \"forward_chaining\": true, \"stratified\": false, \"folds\": [",
						 run->cv);
	else
		appendStringInfo(&cv, "{\"k\": %d, \"stratified\": %s, \"folds\": [", run->cv,
						 run->task == MLC_TASK_CLASSIFICATION ? "true" : "false");
	run->quiet = true;
	for (int f = 0; f < run->cv; f++)
	{
		int64		nfit = 0,
					nheld = 0;
		char	   *ignored;
		double	   *X = NULL;
		StringInfoData fold_json;
		MlcModel   *fitted;

		CHECK_FOR_INTERRUPTS();
		for (int64 i = 0; i < nall; i++)
		{
			if (fold[i] == f)
				held_rows[nheld++] = all[i];
			else if (!run->split_last || fold[i] < f)
				fit_rows[nfit++] = all[i];
		}
		if (nheld == 0 || nfit < 2)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("cv => %d needs more training rows than the " INT64_FORMAT " there are", run->cv, nall),
					 errhint("Use fewer folds.")));
		run->train_rows = fit_rows;
		run->ntrain = nfit;
		fitted = mlc_preprocess_fit_for(run->ds, fit_rows, nfit, run->preprocess, &ignored,
										MLC_IS_TREE_ALGO(run->algorithm));
		fitted->nclasses = model->nclasses;
		fitted->classes = model->classes;
		fitted->positive_class = model->positive_class;
		run->model = fitted;
		mlc_run_projection(run);
		if (mlc_needs_matrix(run))
			X = mlc_preprocess_transform(fitted, run->ds, fit_rows, nfit);
		mlc_fit(run, X);
		if (X)
			pfree(X);
		initStringInfo(&fold_json);
		(void) mlc_evaluate(run, held_rows, nheld, false, &fold_json);
		if (run->split_last && fold_json.len > 0 && fold_json.data[fold_json.len - 1] == '}')
		{
			/* forward chaining: say how many earlier rows each fold was fitted on */
			fold_json.data[--fold_json.len] = '\0';
			appendStringInfo(&fold_json, ", \"fit_rows\": " INT64_FORMAT "}", nfit);
		}
		appendStringInfo(&cv, "%s%s", f > 0 ? ", " : "", fold_json.data);
		mlc_cv_add(&sums, fold_json.data);
	}
	run->quiet = false;
	run->model = model;
	run->train_rows = all;
	run->ntrain = nall;
	run->select_json = select_json;
	run->pca_json = pca_json;

	/* mean and population standard deviation of each metric over the folds */
	appendStringInfoString(&cv, "], \"mean\": {");
	for (int k = 0; k < sums.n; k++)
		appendStringInfo(&cv, "%s\"%s\": %.17g", k > 0 ? ", " : "", sums.names[k],
						 sums.sum[k] / sums.count[k]);
	appendStringInfoString(&cv, "}, \"std\": {");
	for (int k = 0; k < sums.n; k++)
	{
		double		mean = sums.sum[k] / sums.count[k];

		appendStringInfo(&cv, "%s\"%s\": %.17g", k > 0 ? ", " : "", sums.names[k],
						 sqrt(Max(sums.sumsq[k] / sums.count[k] - mean * mean, 0.0)));
	}
	appendStringInfoString(&cv, "}}");
	appendStringInfoString(out, cv.data);
	if (sumsp)
		*sumsp = sums;
}

/* Cross-validate the run's settings and add "cv" to its metrics */
static void
mlc_cross_validate(MlcTrainRun *run)
{
	StringInfoData cv;

	initStringInfo(&cv);
	mlc_cv_core(run, &cv, NULL);
	mlc_append_metrics(run, "cv", cv.data);
}

/* Add "key": json to the metrics object */
static void
mlc_append_metrics(MlcTrainRun *run, const char *key, const char *json)
{
	/* replace the object's closing brace */
	run->metrics.data[--run->metrics.len] = '\0';
	appendStringInfo(&run->metrics, ", \"%s\": %s}", key, json);
}

/* JSON text of a scalar jsonb value (a search candidate) */
static char *
mlc_scalar_text(const JsonbValue *v, const char *key)
{
	StringInfoData b;

	initStringInfo(&b);
	switch (v->type)
	{
		case jbvNull:
			appendStringInfoString(&b, "null");
			break;
		case jbvBool:
			appendStringInfoString(&b, v->val.boolean ? "true" : "false");
			break;
		case jbvNumeric:
			appendStringInfoString(&b, DatumGetCString(DirectFunctionCall1(numeric_out,
																		   NumericGetDatum(v->val.numeric))));
			break;
		case jbvString:
			escape_json(&b, pnstrdup(v->val.string.val, v->val.string.len));
			break;
		default:
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("search values of \"%s\" must be numbers, strings, booleans or null", key),
					 errhint("Write a list, as in {\"%s\": [0.1, 1, 10]}.", key)));
	}
	return b.data;
}

/* The candidates of a search parameter given as a JSON array */
static List *
mlc_search_list(const MlcJsonPair *p)
{
	JsonbIterator *it;
	JsonbValue	v;
	JsonbIteratorToken tok;
	List	   *out = NIL;

	if (p->value.type != jbvBinary || !JsonContainerIsArray(p->value.val.binary.data))
		return NIL;
	it = JsonbIteratorInit(p->value.val.binary.data);
	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
		if (tok == WJB_ELEM)
			out = lappend(out, mlc_scalar_text(&v, p->key));
	if (out == NIL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("search parameter \"%s\" has no candidates", p->key),
				 errhint("Give at least one value.")));
	return out;
}

/* A random draw for a search parameter given as {"min", "max", "log", "int"} */
static char *
mlc_search_draw(const MlcJsonPair *p, pg_prng_state *rng)
{
	double		lo = NAN,
				hi = NAN,
				x;
	bool		log_scale = false,
				integer = false;
	ListCell   *lc;

	if (p->value.type != jbvBinary || !JsonContainerIsObject(p->value.val.binary.data))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("search parameter \"%s\" must be a list or a range", p->key),
				 errhint("Write [0.1, 1, 10], or for a random search {\"min\": 0.001, \"max\": 10, \"log\": true}.")));
	foreach(lc, mlc_json_pairs(p->value.val.binary.data, "search range"))
	{
		MlcJsonPair *q = lfirst(lc);
		static const char *const keys[] = {"min", "max", "log", "int", NULL};

		switch (mlc_choose(q->key, keys, "range key"))
		{
			case 0:
				lo = mlc_json_number(q, "range");
				break;
			case 1:
				hi = mlc_json_number(q, "range");
				break;
			case 2:
				log_scale = q->value.type == jbvBool && q->value.val.boolean;
				break;
			case 3:
				integer = q->value.type == jbvBool && q->value.val.boolean;
				break;
		}
	}
	if (!(lo <= hi) || (log_scale && !(lo > 0)))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("search range of \"%s\" needs min <= max (and min > 0 on a log scale)", p->key),
				 errhint("Write {\"min\": 0.001, \"max\": 10, \"log\": true}.")));
	if (log_scale)
		x = exp(log(lo) + pg_prng_double(rng) * (log(hi) - log(lo)));
	else if (integer)
		x = floor(lo + pg_prng_double(rng) * (floor(hi) - lo + 1));
	else
		x = lo + pg_prng_double(rng) * (hi - lo);
	return psprintf(integer ? "%.0f" : "%.15g", x);
}

/* The trials' parameter sets, as JSON object texts */
static List *
mlc_search_trials(MlcTrainRun *run, int n_iter, int seed)
{
	List	   *pairs = mlc_jsonb_pairs(run->search_params, "search_params");
	List	   *trials = NIL;
	ListCell   *lc;

	if (pairs == NIL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a search needs search_params"),
				 errhint("Write search_params => '{\"C\": [0.01, 0.1, 1, 10]}'.")));
	if (run->search == 1)
	{
		/* grid: every combination, the last parameter varying fastest */
		int64		total = 1;
		List	  **cands = palloc(sizeof(List *) * list_length(pairs));
		int			k = 0;

		foreach(lc, pairs)
		{
			cands[k] = mlc_search_list(lfirst(lc));
			if (cands[k] == NIL)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("grid search parameter \"%s\" must be a list of values",
								((MlcJsonPair *) lfirst(lc))->key),
						 errhint("Ranges are for search => 'random'.")));
			total *= list_length(cands[k++]);
			if (total > 1000)
				ereport(ERROR,
						(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
						 errmsg("the grid has more than 1000 combinations"),
						 errhint("Use fewer values, or search => 'random' with n_iter.")));
		}
		for (int64 t = 0; t < total; t++)
		{
			StringInfoData b;
			int64		rest = t;

			initStringInfo(&b);
			appendStringInfoChar(&b, '{');
			for (int j = list_length(pairs) - 1; j >= 0; j--)
			{
				int			n = list_length(cands[j]);
				char	   *v = list_nth(cands[j], (int) (rest % n));

				rest /= n;
				appendStringInfo(&b, "%s\"%s\": %s", b.len > 1 ? ", " : "",
								 ((MlcJsonPair *) list_nth(pairs, j))->key, v);
			}
			appendStringInfoChar(&b, '}');
			trials = lappend(trials, b.data);
		}
	}
	else
	{
		pg_prng_state rng;

		mlc_split_rng(&rng, seed + 2);
		for (int t = 0; t < n_iter; t++)
		{
			StringInfoData b;

			initStringInfo(&b);
			appendStringInfoChar(&b, '{');
			foreach(lc, pairs)
			{
				MlcJsonPair *p = lfirst(lc);
				List	   *list = mlc_search_list(p);
				char	   *v = list ? list_nth(list, (int) pg_prng_uint64_range(&rng, 0, list_length(list) - 1)) :
					mlc_search_draw(p, &rng);

				appendStringInfo(&b, "%s\"%s\": %s", b.len > 1 ? ", " : "", p->key, v);
			}
			appendStringInfoChar(&b, '}');
			trials = lappend(trials, b.data);
		}
	}
	return trials;
}

/* True for metrics where lower is better */
static bool
mlc_lower_is_better(const char *metric)
{
	return strcmp(metric, "log_loss") == 0 || strcmp(metric, "mae") == 0 ||
		strcmp(metric, "mse") == 0 || strcmp(metric, "rmse") == 0;
}

/*
 * Hyperparameter search on the training rows: each trial's settings are
 * cross-validated on the same folds, the best (by search_args.metric, the
 * task's headline metric by default) become the run's hyperparameters, and
 * every trial is kept for mlcycle.search_trials.
 */
static void
mlc_search(MlcTrainRun *run)
{
	static const char *const arg_names[] = {"n_iter", "cv", "metric", "seed", NULL};
	int			n_iter = 10,
				folds = 3,
				seed = run->seed,
				saved_cv = run->cv,
				best = -1,
				t = 0;
	const char *metric = run->task == MLC_TASK_REGRESSION ? "r2" :
		run->model->nclasses == 2 ? "roc_auc" : "f1";
	Jsonb	   *base = run->hyperparams ? run->hyperparams :
		DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum("{}")));
	Jsonb	   *best_hp = NULL;
	double		best_score = NAN;
	StringInfoData trials;
	ListCell   *lc;
	List	   *candidates;

	foreach(lc, mlc_jsonb_pairs(run->search_args, "search_args"))
	{
		MlcJsonPair *p = lfirst(lc);
		double		v = 0;

		switch (mlc_choose(p->key, arg_names, "search argument"))
		{
			case 0:
				v = mlc_json_number(p, "search argument");
				if (v < 1 || v > 1000)
					ereport(ERROR,
							(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							 errmsg("n_iter must be between 1 and 1000"),
							 errhint("n_iter is the number of random trials.")));
				n_iter = (int) v;
				break;
			case 1:
				v = mlc_json_number(p, "search argument");
				if (v < 2 || v > 20)
					ereport(ERROR,
							(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							 errmsg("search cv must be between 2 and 20 folds"),
							 errhint("Each trial is cross-validated on the training rows.")));
				folds = (int) v;
				break;
			case 2:
				metric = mlc_json_string(p, "search argument");
				break;
			case 3:
				seed = (int) mlc_json_number(p, "search argument");
				break;
		}
	}
	candidates = mlc_search_trials(run, n_iter, seed);
	initStringInfo(&trials);
	appendStringInfoChar(&trials, '[');
	run->cv = folds;
	foreach(lc, candidates)
	{
		char	   *params = lfirst(lc);
		Jsonb	   *hp = DatumGetJsonbP(DirectFunctionCall2(jsonb_concat, JsonbPGetDatum(base),
															DirectFunctionCall1(jsonb_in, CStringGetDatum(params))));
		StringInfoData cv;
		MlcCvSums	sums;
		double		started = mlc_now_ms(),
					mean,
					sd;
		int			k;

		CHECK_FOR_INTERRUPTS();
		run->hyperparams = hp;
		mlc_parse_hyperparams(run);
		initStringInfo(&cv);
		mlc_cv_core(run, &cv, &sums);
		for (k = 0; k < sums.n && strcmp(sums.names[k], metric) != 0; k++)
			;
		if (k == sums.n)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("search metric \"%s\" is not a metric of this task", metric),
					 errhint("Use one of the names in the model's test metrics, such as %s.",
							 run->task == MLC_TASK_REGRESSION ? "r2, mae or rmse" : "roc_auc, accuracy, f1 or log_loss")));
		mean = sums.sum[k] / sums.count[k];
		sd = sqrt(Max(sums.sumsq[k] / sums.count[k] - mean * mean, 0.0));
		appendStringInfo(&trials, "%s{\"params\": %s, \"score\": %.17g, \"score_std\": %.17g, \"cv\": %s, \"ms\": %.3f}",
						 t > 0 ? ", " : "", params, mean, sd, cv.data, mlc_now_ms() - started);
		if (isfinite(mean) && (best < 0 || (mlc_lower_is_better(metric) ? mean < best_score : mean > best_score)))
		{
			best = t;
			best_score = mean;
			best_hp = hp;
		}
		t++;
	}
	appendStringInfoChar(&trials, ']');
	run->cv = saved_cv;
	if (best < 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("no search trial produced a finite %s", metric),
				 errhint("Check the candidates and the data.")));
	run->hyperparams = best_hp;
	mlc_parse_hyperparams(run);
	run->trials_json = trials.data;
	run->search_json = psprintf("{\"method\": \"%s\", \"metric\": \"%s\", \"cv\": %d, \"trials\": %d, "
								"\"best_trial\": %d, \"best_params\": %s, \"best_score\": %.17g}",
								search_names[run->search - 1], metric, folds, t, best + 1,
								(char *) list_nth(candidates, best), best_score);
}

/* Record a search's trials for the stored model */
static void
mlc_store_trials(int64 model_id, const char *trials_json)
{
	Oid			types[2] = {INT8OID, JSONBOID};
	Datum		v[2] = {Int64GetDatum(model_id),
	DirectFunctionCall1(jsonb_in, CStringGetDatum(trials_json))};

	if (SPI_execute_with_args("INSERT INTO mlcycle.search_trials (model_id, trial, params, score, score_std, cv, ms) "
							  "SELECT $1, o, t->'params', (t->>'score')::float8, (t->>'score_std')::float8, t->'cv', "
							  "(t->>'ms')::float8 FROM jsonb_array_elements($2) WITH ORDINALITY AS a(t, o)",
							  2, types, v, NULL, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "mlcycle: storing the search trials failed");
}

/*
 * Linear and ridge regression on numeric features: one pass, from the
 * statistics (stream.c).  False when the rows must be read into memory.
 */
static bool
mlc_train_single_pass(MlcTrainRun *run)
{
	MlcStreamResult res;
	double		ms;

	if (!mlc_single_pass || run->task != MLC_TASK_REGRESSION ||
		(run->algorithm != MLC_ALGO_LINEAR && run->algorithm != MLC_ALGO_RIDGE) ||
		run->test_size <= 0 || run->cv > 0 || run->search || run->split_last ||
		run->select_features || run->pca.given)
		return false;
	memset(&res, 0, sizeof(res));
	if (!mlc_stream_least_squares(run->ds, run->preprocess, run->algorithm,
								  run->algorithm == MLC_ALGO_RIDGE ? run->alpha : -1.0,
								  run->test_size, run->seed, &res))
	{
		/* start over with the rows in memory */
		run->ds->nread = run->ds->nskipped = run->ds->nrows = 0;
		mlc_memory_reset();
		return false;
	}
	ms = mlc_phase_ms(run, "read_fit");
	mlc_progress_notice("mlcycle: read " INT64_FORMAT " rows with %d features from %s and fitted %s in one pass in %.0f ms (" INT64_FORMAT " skipped: NULL target)",
						run->ds->nread, run->ds->ncols, run->ds->relname,
						mlc_algorithm_name(run->algorithm), ms, run->ds->nskipped);
	for (int j = 0; j < res.model->ncolumns; j++)
		if (res.constant[j])
			mlc_notice_constant(run, res.model->columns[j].name);
	run->model = res.model;
	run->preprocess_json = res.preprocess_json;
	run->ntrain = res.ntrain;
	run->ntest = res.ntest;
	/* test metrics from the kept test rows */
	run->test_rows = palloc(sizeof(int64) * run->ntest);
	for (int64 i = 0; i < run->ntest; i++)
		run->test_rows[i] = i;
	run->ds_rows = run->ds;
	run->ds = res.test;
	run->baseline = palloc(sizeof(double));
	run->baseline[0] = res.train_target_mean;
	mlc_compute_metrics(run, res.train_metrics.data);
	mlc_profile_output(run->model, run->eval_out, run->ntest, run->seed);
	run->ds = run->ds_rows;
	ms = mlc_phase_ms(run, "metrics");
	mlc_progress_notice("mlcycle: computed metrics on the test rows in %.0f ms", ms);
	return true;
}

/* Read, split, preprocess, fit, evaluate */
static void
mlc_train_model(MlcTrainRun *run, Oid relid)
{
	double	   *X = NULL;
	double		ms;

	run->ds = mlc_ingest_describe(relid, run->target, run->exclude);
	(void) mlc_pca_spec(run->preprocess, run->ds, &run->pca);
	if (run->order_by)
		run->ds->query = psprintf("%s ORDER BY %s NULLS FIRST", run->ds->query,
								  quote_identifier(run->order_by));
	if (mlc_train_single_pass(run))
		return;
	mlc_ingest_read(run->ds, run->task == MLC_TASK_CLASSIFICATION);
	ms = mlc_phase_ms(run, "read");
	mlc_progress_notice("mlcycle: read " INT64_FORMAT " rows with %d features from %s in %.0f ms (" INT64_FORMAT " skipped: NULL target)",
					run->ds->nread, run->ds->ncols, run->ds->relname, ms, run->ds->nskipped);
	mlc_check_dataset(run);
	run->model = palloc0(sizeof(MlcModel));
	run->model->positive_class = -1;
	if (run->task == MLC_TASK_CLASSIFICATION)
	{
		mlc_prepare_classes(run, run->model);
		mlc_check_class_weights(run);
	}
	mlc_split(run);
	if (run->search)
		mlc_search(run);
	{
		MlcModel   *fitted = mlc_preprocess_fit_for(run->ds, run->train_rows, run->ntrain,
													run->preprocess, &run->preprocess_json,
													MLC_IS_TREE_ALGO(run->algorithm));

		fitted->nclasses = run->model->nclasses;
		fitted->classes = run->model->classes;
		fitted->positive_class = run->model->positive_class;
		run->model = fitted;
		mlc_run_projection(run);
		if (run->pca_json)
		{
			/* the resolved settings end with the pca step's fit */
			run->preprocess_json[strlen(run->preprocess_json) - 1] = '\0';
			run->preprocess_json = psprintf("%s%s\"pca\": %s}", run->preprocess_json,
											run->model->ncolumns > 0 ? ", " : "", run->pca_json);
		}
	}
	mlc_check_impute_none(run);
	/* least squares reads preprocessed rows in blocks; logistic iterates over X */
	if (mlc_needs_matrix(run))
		X = mlc_preprocess_transform(run->model, run->ds, run->train_rows, run->ntrain);
	ms = mlc_phase_ms(run, "preprocess");
	mlc_progress_notice("mlcycle: fitted preprocessing on " INT64_FORMAT " training rows (" INT64_FORMAT " held out): %d features in %.0f ms",
					run->ntrain, run->ntest, run->model->nfeatures, ms);
	mlc_note_constant_features(run);
	mlc_fit(run, X);
	ms = mlc_phase_ms(run, "fit");
	if (mlc_needs_matrix(run))
		mlc_progress_notice("mlcycle: fitted %s in %.0f ms (%d iterations)",
						mlc_algorithm_name(run->algorithm), ms, run->iterations);
	else
		mlc_progress_notice("mlcycle: fitted %s in %.0f ms", mlc_algorithm_name(run->algorithm), ms);
	if (X)
		pfree(X);
	mlc_set_baseline(run);
	mlc_compute_metrics(run, NULL);
	if (run->tree_info)
		mlc_append_metrics(run, "learner", run->tree_info);
	if (run->cv > 0)
		mlc_cross_validate(run);
	if (run->search_json)
		mlc_append_metrics(run, "search", run->search_json);
	if (run->select_json)
		mlc_append_metrics(run, "select", run->select_json);
	mlc_profile_columns(run->model, run->ds, run->train_rows, run->ntrain, run->seed);
	mlc_profile_output(run->model, run->eval_out, run->ntest > 0 ? run->ntest : run->ntrain, run->seed);
	ms = mlc_phase_ms(run, "metrics");
	mlc_progress_notice("mlcycle: computed metrics on the %s rows in %.0f ms",
					run->ntest > 0 ? "test" : "training", ms);
}

/* Put one row of ml_train's result (in the caller's memory) */
static void
mlc_put_result(ReturnSetInfo *rsinfo, MlcTrainRun *run, int64 model_id, bool deployed,
			   MemoryContext resultcxt)
{
	MemoryContext old = MemoryContextSwitchTo(resultcxt);
	Datum		values[6];
	bool		nulls[6] = {false};

	values[0] = CStringGetTextDatum(run->project);
	values[1] = Int64GetDatum(model_id);
	values[2] = CStringGetTextDatum(mlc_algorithm_name(run->algorithm));
	values[3] = CStringGetTextDatum(task_names[run->task - 1]);
	values[4] = DirectFunctionCall1(jsonb_in, CStringGetDatum(run->metrics.data));
	values[5] = BoolGetDatum(deployed);
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	MemoryContextSwitchTo(old);
}

/*
 * algorithm => 'all': every learner of the task on the same split (same
 * seed), each stored undeployed; then the best headline score is deployed by
 * the run's strategy.  One result row per model.
 */
static void
mlc_train_all(MlcTrainRun *tmpl, Oid relid, ReturnSetInfo *rsinfo, MemoryContext cxt)
{
	static const int regression[] = {MLC_ALGO_LINEAR, MLC_ALGO_RIDGE, MLC_ALGO_LASSO, MLC_ALGO_ELASTIC_NET,
		MLC_ALGO_KNN, MLC_ALGO_GBDT, MLC_ALGO_RANDOM_FOREST, MLC_ALGO_DECISION_TREE};
	static const int classification[] = {MLC_ALGO_LOGISTIC, MLC_ALGO_NAIVE_BAYES, MLC_ALGO_KNN,
		MLC_ALGO_LINEAR_SVM, MLC_ALGO_GBDT, MLC_ALGO_RANDOM_FOREST, MLC_ALGO_DECISION_TREE};
	const int  *algos;
	int			nalgos;
	int64		ids[12] = {0};
	double		scores[12];
	MlcTrainRun runs[12];
	int			best = -1;
	bool		deployed;
	List	   *pairs;

	tmpl->algorithm = 0;
	if (tmpl->search)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("algorithm 'all' cannot be combined with a hyperparameter search"),
				 errhint("Search the hyperparameters of one algorithm at a time.")));
	mlc_resolve_task(tmpl, relid);
	/* only positive_class applies to every learner */
	pairs = mlc_jsonb_pairs(tmpl->hyperparams, "hyperparams");
	if (list_length(pairs) > 1 ||
		(list_length(pairs) == 1 && strcmp(((MlcJsonPair *) linitial(pairs))->key, "positive_class") != 0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("algorithm 'all' takes no hyperparameters but positive_class"),
				 errhint("Each learner uses its defaults; train one algorithm to set its hyperparameters.")));
	/* every learner, with select_features and the pca step too (projection.c) */
	algos = tmpl->task == MLC_TASK_REGRESSION ? regression : classification;
	nalgos = tmpl->task == MLC_TASK_REGRESSION ? lengthof(regression) : lengthof(classification);
	for (int a = 0; a < nalgos; a++)
	{
		MlcTrainRun *run = &runs[a];
		MemoryContext itcxt = AllocSetContextCreate(cxt, "mlcycle training, one learner",
													ALLOCSET_DEFAULT_SIZES);
		char	   *metrics;

		/* each learner's data lives in its own context, freed once it is stored */
		MemoryContextSwitchTo(itcxt);
		*run = *tmpl;
		run->algorithm = algos[a];
		run->deploy = "none";
		run->started = run->phase_started = mlc_now_ms();
		initStringInfo(&run->timings);
		appendStringInfoChar(&run->timings, '{');
		mlc_memory_reset();
		mlc_parse_hyperparams(run);
		mlc_train_model(run, relid);
		ids[a] = mlc_store(run, mlc_model_serialize(run->model));
		mlc_store_importance(ids[a], run->importance_json);
		scores[a] = run->score;
		metrics = MemoryContextStrdup(cxt, run->metrics.data);
		MemoryContextSwitchTo(cxt);
		MemoryContextDelete(itcxt);
		run->metrics.data = metrics;
		run->ds = NULL;
		run->model = NULL;
		if (isfinite(scores[a]) && (best < 0 || !isfinite(scores[best]) || scores[a] > scores[best]))
			best = a;
	}
	if (best < 0)
		best = 0;
	runs[best].deploy = tmpl->deploy;
	deployed = mlc_deploy_trained(&runs[best], ids[best]);
	MemoryContextSwitchTo(cxt);
	for (int a = 0; a < nalgos; a++)
		mlc_put_result(rsinfo, &runs[a], ids[a], a == best && deployed, rsinfo->econtext->ecxt_per_query_memory);
}

/* ml_train(project, relation, target, algorithm, hyperparams, preprocess, exclude, task, test_size, split, seed, deploy) */
Datum
ml_train(PG_FUNCTION_ARGS)
{
	MlcTrainRun run;
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Oid			relid;
	bytea	   *blob;
	int64		model_id;
	bool		deployed;
	Datum		values[6];
	bool		nulls[6] = {false};
	MemoryContext cxt,
				old;

	memset(&run, 0, sizeof(run));
	run.started = run.phase_started = mlc_now_ms();
	initStringInfo(&run.timings);
	appendStringInfoChar(&run.timings, '{');
	mlc_parse_args(fcinfo, &run);
	InitMaterializedSRF(fcinfo, 0);

	/* training data lives in its own context, freed before returning */
	cxt = AllocSetContextCreate(CurrentMemoryContext, "mlcycle training", ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(cxt);
	mlc_memory_reset();
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "mlcycle: SPI_connect failed");
	MemoryContextSwitchTo(cxt);
	relid = mlc_resolve_relation(run.relation, true);
	if (run.algorithm == MLC_ALGO_ALL)
	{
		mlc_train_all(&run, relid, rsinfo, cxt);
		MemoryContextSwitchTo(cxt);
		if (SPI_finish() != SPI_OK_FINISH)
			elog(ERROR, "mlcycle: SPI_finish failed");
		MemoryContextSwitchTo(old);
		MemoryContextDelete(cxt);
		return (Datum) 0;
	}
	mlc_resolve_task(&run, relid);
	mlc_parse_hyperparams(&run);
	mlc_train_model(&run, relid);
	blob = mlc_model_serialize(run.model);
	model_id = mlc_store(&run, blob);
	mlc_store_importance(model_id, run.importance_json);
	if (run.trials_json)
		mlc_store_trials(model_id, run.trials_json);
	deployed = mlc_deploy_trained(&run, model_id);
	MemoryContextSwitchTo(cxt);
	if (SPI_finish() != SPI_OK_FINISH)
		elog(ERROR, "mlcycle: SPI_finish failed");

	MemoryContextSwitchTo(old);
	values[0] = CStringGetTextDatum(run.project);
	values[1] = Int64GetDatum(model_id);
	values[2] = CStringGetTextDatum(mlc_algorithm_name(run.algorithm));
	values[3] = CStringGetTextDatum(task_names[run.task - 1]);
	values[4] = DirectFunctionCall1(jsonb_in, CStringGetDatum(run.metrics.data));
	values[5] = BoolGetDatum(deployed);
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	MemoryContextDelete(cxt);
	return (Datum) 0;
}
