/*
 * tree_params.c
 *	  The hyperparameters of the tree learners (gbdt, random_forest,
 *	  decision_tree): names, ranges and defaults, parsed from ml_train's
 *	  hyperparams and echoed, resolved, for the catalog.
 */
#include "postgres.h"

#include <math.h>

#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/json.h"

#include "jsonutil.h"
#include "tree.h"

/* One numeric hyperparameter: its range and whether it is an integer */
typedef struct MlcTreeKey
{
	const char *name;
	double		lo;
	double		hi;
	bool		lo_open;		/* lo itself is not allowed */
	bool		hi_open;		/* hi itself is not allowed */
	bool		integer;
	const char *range;			/* for the hint */
} MlcTreeKey;

static const MlcTreeKey tree_keys[] = {
	{"n_estimators", 1, 10000, false, false, true, "an integer between 1 and 10000"},
	{"learning_rate", 0, 1, true, false, false, "above 0 and at most 1"},
	{"max_depth", 0, MLC_TREE_MAX_DEPTH, false, false, true, "an integer between 0 (unlimited) and 64"},
	{"max_leaves", 0, 1000000, false, false, true, "0 (unlimited) or an integer between 2 and 1000000"},
	{"min_child_weight", 0, 1e300, false, false, false, "at least 0"},
	{"min_samples_leaf", 1, 1e9, false, false, true, "an integer of at least 1"},
	{"subsample", 0, 1, true, false, false, "above 0 and at most 1"},
	{"colsample_bytree", 0, 1, true, false, false, "above 0 and at most 1"},
	{"max_features", 0, 1, true, false, false, "above 0 and at most 1, or \"sqrt\" or \"log2\""},
	{"reg_lambda", 0, 1e300, false, false, false, "at least 0"},
	{"reg_alpha", 0, 1e300, false, false, false, "at least 0"},
	{"min_split_gain", 0, 1e300, false, false, false, "at least 0"},
	{"max_bin", 2, 65535, false, false, true, "an integer between 2 and 65535"},
	{"early_stopping_rounds", 0, 10000, false, false, true, "an integer between 0 (off) and 10000"},
	{"validation_fraction", 0, 1, true, true, false, "above 0 and below 1"},
	{"seed", PG_INT32_MIN, PG_INT32_MAX, false, false, true, "a 32-bit integer"},
	{NULL}
};

/* The names each learner accepts */
static const char *const gbdt_keys[] = {"n_estimators", "learning_rate", "max_depth", "max_leaves",
	"min_child_weight", "min_samples_leaf", "subsample", "colsample_bytree", "reg_lambda", "reg_alpha",
"min_split_gain", "max_bin", "early_stopping_rounds", "validation_fraction", "seed", "positive_class", NULL};
static const char *const forest_keys[] = {"n_estimators", "max_depth", "max_leaves", "min_samples_leaf",
"max_features", "bootstrap", "min_split_gain", "max_bin", "seed", "positive_class", NULL};
static const char *const dtree_keys[] = {"max_depth", "max_leaves", "min_samples_leaf", "max_features",
"min_split_gain", "max_bin", "seed", "positive_class", NULL};

/* Check a number against key's range, or fail naming the range */
static double
mlc_tree_number(const MlcJsonPair *p, const MlcTreeKey *k)
{
	double		v = mlc_json_number(p, "hyperparameter");

	if (!(v >= k->lo && v <= k->hi) || (k->lo_open && v == k->lo) || (k->hi_open && v == k->hi) ||
		(k->integer && v != floor(v)) ||
		(strcmp(k->name, "max_leaves") == 0 && v == 1))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("hyperparameter \"%s\" is out of range: %g", k->name, v),
				 errhint("%s must be %s.", k->name, k->range)));
	return v;
}

/* Set one parsed value */
static void
mlc_tree_set(MlcTreeParams *tp, const char *name, double v)
{
	if (strcmp(name, "n_estimators") == 0)
		tp->n_estimators = (int) v;
	else if (strcmp(name, "learning_rate") == 0)
		tp->learning_rate = v;
	else if (strcmp(name, "max_depth") == 0)
		tp->max_depth = (int) v;
	else if (strcmp(name, "max_leaves") == 0)
		tp->max_leaves = (int) v;
	else if (strcmp(name, "min_child_weight") == 0)
		tp->min_child_weight = v;
	else if (strcmp(name, "min_samples_leaf") == 0)
		tp->min_samples_leaf = (int) v;
	else if (strcmp(name, "subsample") == 0)
		tp->subsample = v;
	else if (strcmp(name, "colsample_bytree") == 0)
		tp->colsample_bytree = v;
	else if (strcmp(name, "max_features") == 0)
		tp->max_features = v;
	else if (strcmp(name, "reg_lambda") == 0)
		tp->reg_lambda = v;
	else if (strcmp(name, "reg_alpha") == 0)
		tp->reg_alpha = v;
	else if (strcmp(name, "min_split_gain") == 0)
		tp->min_split_gain = v;
	else if (strcmp(name, "max_bin") == 0)
		tp->max_bin = (int) v;
	else if (strcmp(name, "early_stopping_rounds") == 0)
		tp->early_stopping_rounds = (int) v;
	else if (strcmp(name, "validation_fraction") == 0)
		tp->validation_fraction = v;
	else if (strcmp(name, "seed") == 0)
		tp->seed = (int) v;
}

/* max_features as a string: sqrt or log2 of the number of features */
static void
mlc_tree_max_features_name(const MlcJsonPair *p, MlcTreeParams *tp)
{
	static const char *const names[] = {"sqrt", "log2", NULL};

	tp->max_features = -1.0 - mlc_choose(mlc_json_string(p, "hyperparameter"), names, "max_features");
}

/* The resolved settings as JSON */
static char *
mlc_tree_describe(const MlcTreeParams *tp, const char *const *keys, const char *positive)
{
	StringInfoData b;

	initStringInfo(&b);
	appendStringInfoChar(&b, '{');
	for (int i = 0; keys[i]; i++)
	{
		const char *k = keys[i];

		if (strcmp(k, "positive_class") == 0)
			continue;
		appendStringInfo(&b, "%s\"%s\": ", b.len > 1 ? ", " : "", k);
		if (strcmp(k, "bootstrap") == 0)
			appendStringInfoString(&b, tp->bootstrap ? "true" : "false");
		else if (strcmp(k, "max_features") == 0 && tp->max_features < 0)
			appendStringInfoString(&b, tp->max_features == -1.0 ? "\"sqrt\"" : "\"log2\"");
		else
		{
			double		v = strcmp(k, "n_estimators") == 0 ? tp->n_estimators :
				strcmp(k, "learning_rate") == 0 ? tp->learning_rate :
				strcmp(k, "max_depth") == 0 ? tp->max_depth :
				strcmp(k, "max_leaves") == 0 ? tp->max_leaves :
				strcmp(k, "min_child_weight") == 0 ? tp->min_child_weight :
				strcmp(k, "min_samples_leaf") == 0 ? tp->min_samples_leaf :
				strcmp(k, "subsample") == 0 ? tp->subsample :
				strcmp(k, "colsample_bytree") == 0 ? tp->colsample_bytree :
				strcmp(k, "max_features") == 0 ? tp->max_features :
				strcmp(k, "reg_lambda") == 0 ? tp->reg_lambda :
				strcmp(k, "reg_alpha") == 0 ? tp->reg_alpha :
				strcmp(k, "min_split_gain") == 0 ? tp->min_split_gain :
				strcmp(k, "max_bin") == 0 ? tp->max_bin :
				strcmp(k, "early_stopping_rounds") == 0 ? tp->early_stopping_rounds :
				strcmp(k, "validation_fraction") == 0 ? tp->validation_fraction : tp->seed;

			appendStringInfo(&b, "%.15g", v);
		}
	}
	if (positive)
	{
		appendStringInfoString(&b, ", \"positive_class\": ");
		escape_json(&b, positive);
	}
	appendStringInfoChar(&b, '}');
	return b.data;
}

/*
 * Parse hyperparams for a tree learner into tp (defaults first, the run's
 * seed unless "seed" is given); returns the resolved settings as JSON.
 * *positive receives positive_class when given.
 */
char *
mlc_tree_parse_hyperparams(Jsonb *hp, int algorithm, int task, int seed, MlcTreeParams *tp,
						   char **positive)
{
	const char *const *keys = algorithm == MLC_ALGO_GBDT ? gbdt_keys :
		algorithm == MLC_ALGO_RANDOM_FOREST ? forest_keys : dtree_keys;
	ListCell   *lc;

	mlc_tree_defaults(tp, algorithm, task);
	tp->seed = seed;
	foreach(lc, mlc_jsonb_pairs(hp, "hyperparams"))
	{
		MlcJsonPair *p = lfirst(lc);
		const char *key = keys[mlc_choose(p->key, keys, psprintf("hyperparameter for %s",
																mlc_algorithm_name(algorithm)))];

		if (strcmp(key, "positive_class") == 0)
			*positive = p->value.type == jbvString ? mlc_json_string(p, "hyperparameter") :
				DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(p->value.val.numeric)));
		else if (strcmp(key, "bootstrap") == 0)
		{
			if (p->value.type != jbvBool)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("hyperparameter \"bootstrap\" must be true or false"),
						 errhint("Write {\"bootstrap\": false} to fit every tree on all training rows.")));
			tp->bootstrap = p->value.val.boolean;
		}
		else if (strcmp(key, "max_features") == 0 && p->value.type == jbvString)
			mlc_tree_max_features_name(p, tp);
		else
		{
			const MlcTreeKey *k = tree_keys;

			while (strcmp(k->name, key) != 0)
				k++;
			mlc_tree_set(tp, key, mlc_tree_number(p, k));
		}
	}
	return mlc_tree_describe(tp, keys, *positive);
}
