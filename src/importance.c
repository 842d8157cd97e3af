/*
 * importance.c
 *	  Feature importance at training time: |coefficient| x standard deviation
 *	  of the preprocessed feature (linear learners), seeded permutation
 *	  importance of every raw input column on the evaluated rows (any
 *	  learner), and the learners' intrinsic importance hook.
 */
#include "postgres.h"

#include <math.h>

#include "common/pg_prng.h"
#include "miscadmin.h"
#include "utils/json.h"

#include "importance.h"
#include "metrics.h"
#include "mlcycle.h"
#include "predict.h"
#include "preprocess.h"
#include "projection.h"
#include "tree.h"

/* most learner multiply-adds a permutation importance may spend before sampling rows */
#define MLC_IMPORTANCE_BUDGET	3e8
#define MLC_IMPORTANCE_MIN_ROWS 200

int			mlc_importance_repeats = 5;

void
mlc_importance_add(MlcImportanceRows *rows, const char *feature, const char *method,
				   double importance, double std)
{
	if (rows->n == rows->cap)
	{
		rows->cap = Max(16, rows->cap * 2);
		rows->feature = rows->feature ? repalloc(rows->feature, sizeof(char *) * rows->cap) :
			palloc(sizeof(char *) * rows->cap);
		rows->method = rows->method ? repalloc(rows->method, sizeof(char *) * rows->cap) :
			palloc(sizeof(char *) * rows->cap);
		rows->importance = rows->importance ? repalloc(rows->importance, sizeof(double) * rows->cap) :
			palloc(sizeof(double) * rows->cap);
		rows->std = rows->std ? repalloc(rows->std, sizeof(double) * rows->cap) :
			palloc(sizeof(double) * rows->cap);
	}
	rows->feature[rows->n] = pstrdup(feature);
	rows->method[rows->n] = pstrdup(method);
	rows->importance[rows->n] = importance;
	rows->std[rows->n] = std;
	rows->n++;
}

static void mlc_tree_importance_rows(const MlcModel *m, MlcImportanceRows *rows);

/*
 * The intrinsic importance of learners that have one.  A learner adds a case
 * calling its own function, which reads the model and calls
 * mlc_importance_add(rows, feature, "gain", value, NAN) per feature (feature
 * names as mlc_feature_names gives them); ranks are assigned afterwards.
 */
void
mlc_intrinsic_importance(const MlcModel *m, MlcImportanceRows *rows)
{
	switch (m->algorithm)
	{
		case MLC_ALGO_GBDT:
		case MLC_ALGO_RANDOM_FOREST:
		case MLC_ALGO_DECISION_TREE:
			mlc_tree_importance_rows(m, rows);
			break;
		default:
			break;
	}
}

/* Trees: total split gain and split count per preprocessed feature */
static void
mlc_tree_importance_rows(const MlcModel *m, MlcImportanceRows *rows)
{
	char	  **names = mlc_feature_names(m);
	double	   *gain = palloc0(sizeof(double) * Max(m->nfeatures, 1));
	double	   *splits = palloc0(sizeof(double) * Max(m->nfeatures, 1));

	mlc_tree_importance(m, true, gain);
	mlc_tree_importance(m, false, splits);
	for (int j = 0; j < m->nfeatures; j++)
		mlc_importance_add(rows, names[j], "gain", gain[j], NAN);
	for (int j = 0; j < m->nfeatures; j++)
		mlc_importance_add(rows, names[j], "split", splits[j], NAN);
	pfree(gain);
	pfree(splits);
}

/*
 * Standardized coefficients: |coef_j| * sd_j, sd_j the population standard
 * deviation of preprocessed feature j over X's n rows (1 for standard-scaled
 * numeric features; sqrt(s (1 - s)) for a one-hot feature present in a share
 * s of the rows).  Multiclass: the mean over the class rows, with their std.
 */
static void
mlc_coefficient_importance(const MlcModel *m, const double *X, int64 n, MlcImportanceRows *rows)
{
	int			p = m->nfeatures;
	char	  **names = mlc_feature_names(m);

	for (int j = 0; j < p; j++)
	{
		double		s = 0,
					ss = 0,
					sd,
					sum = 0,
					sumsq = 0;

		for (int64 i = 0; i < n; i++)
		{
			double		v = X[i * (int64) p + j];

			s += v;
			ss += v * v;
		}
		sd = n > 0 ? sqrt(Max(ss / n - (s / n) * (s / n), 0.0)) : 0;
		for (int r = 0; r < m->ncoef_rows; r++)
		{
			double		v = fabs(m->coef[r * (p + 1) + j]) * sd;

			sum += v;
			sumsq += v * v;
		}
		sum /= m->ncoef_rows;
		mlc_importance_add(rows, names[j], "coefficient", sum,
						   m->ncoef_rows > 1 ? sqrt(Max(sumsq / m->ncoef_rows - sum * sum, 0.0)) : NAN);
	}
}

/* The headline score of predictions of X's rows */
static double
mlc_importance_score(const MlcModel *m, const double *X, int64 n, const int32 *yc, const double *yv,
					 double *out)
{
	int			width = m->task == MLC_TASK_REGRESSION ? 1 : m->nclasses;
	StringInfoData json;
	double		score;

	for (int64 i = 0; i < n; i++)
	{
		if ((i & 255) == 0)
			CHECK_FOR_INTERRUPTS();
		mlc_predict_features(m, X + i * (int64) m->nfeatures, out + i * width);
	}
	initStringInfo(&json);
	if (m->task == MLC_TASK_REGRESSION)
		score = mlc_metrics_regression(yv, out, n, &json);
	else
		score = mlc_metrics_classification(yc, out, n, m->nclasses, m->positive_class, &json);
	pfree(json.data);
	return score;
}

/* Multiply-adds to score one row (kNN scans its training rows), its projection included */
static double
mlc_row_cost(const MlcModel *m)
{
	double		project = (double) m->nkept * Max(m->ncomponents, 1);

	if (m->algorithm == MLC_ALGO_KNN)
		return m->learner_params[0] * (m->nfeatures + 1) + project;
	return (double) (m->nfeatures + 1) * Max(m->ncoef_rows, 1) * 4 + project;
}

/* The learner's features X (n x nfeatures) of the preprocessed rows Xin (n x ninput) */
static void
mlc_importance_project(const MlcModel *m, const double *Xin, int64 n, double *X)
{
	if (X == Xin)
		return;
	for (int64 i = 0; i < n; i++)
		mlc_project_row(m, Xin + i * (int64) m->ninput, X + i * (int64) m->nfeatures);
}

/*
 * Permutation importance: for each raw input column, its preprocessed
 * features are shuffled across the evaluated rows (the same as shuffling the
 * raw values, since preprocessing is per column) and the rows scored again;
 * the importance is the drop of the headline score, mean and population std
 * over the repeats.  When that would cost more than MLC_IMPORTANCE_BUDGET
 * (kNN on many rows), a seeded sample of the rows is used (at least 200).
 * Xin holds the preprocessed rows; with a feature projection, X gets the
 * projection of the permuted ones (else X is Xin).
 */
static void
mlc_permutation_importance(const MlcModel *m, double *Xin, double *X, int64 n, const int32 *yc,
						   const double *yv, double base, int seed, MlcImportanceRows *rows)
{
	int			p = m->ninput;
	int			repeats = mlc_importance_repeats;
	int			width = m->task == MLC_TASK_REGRESSION ? 1 : m->nclasses;
	double	   *out = palloc(sizeof(double) * Max(n, 1) * width);
	double	   *saved = palloc(sizeof(double) * Max(n, 1) * Max(p, 1));
	int64	   *perm = palloc(sizeof(int64) * Max(n, 1));
	double	   *drops = palloc(sizeof(double) * repeats);
	pg_prng_state rng;

	pg_prng_seed(&rng, (uint64) seed * 2654435761u + 3);
	for (int c = 0; c < m->ncolumns; c++)
	{
		const MlcColumn *col = &m->columns[c];
		int			off = col->out_offset,
					w = col->out_width;
		double		sum = 0,
					sumsq = 0;

		/* keep the column's features, to permute from and restore */
		for (int64 i = 0; i < n; i++)
			memcpy(saved + i * w, Xin + i * (int64) p + off, sizeof(double) * w);
		for (int r = 0; r < repeats; r++)
		{
			double		score;

			CHECK_FOR_INTERRUPTS();
			for (int64 i = 0; i < n; i++)
				perm[i] = i;
			for (int64 i = n - 1; i > 0; i--)
			{
				int64		j = (int64) pg_prng_uint64_range(&rng, 0, (uint64) i);
				int64		t = perm[i];

				perm[i] = perm[j];
				perm[j] = t;
			}
			for (int64 i = 0; i < n; i++)
				memcpy(Xin + i * (int64) p + off, saved + perm[i] * w, sizeof(double) * w);
			mlc_importance_project(m, Xin, n, X);
			score = mlc_importance_score(m, X, n, yc, yv, out);
			drops[r] = isfinite(score) && isfinite(base) ? base - score : 0;
			sum += drops[r];
		}
		for (int64 i = 0; i < n; i++)
			memcpy(Xin + i * (int64) p + off, saved + i * w, sizeof(double) * w);
		mlc_importance_project(m, Xin, n, X);
		sum /= repeats;
		for (int r = 0; r < repeats; r++)
			sumsq += (drops[r] - sum) * (drops[r] - sum);
		mlc_importance_add(rows, col->name, "permutation", sum, sqrt(sumsq / repeats));
	}
	pfree(out);
	pfree(saved);
	pfree(perm);
	pfree(drops);
}

/* Append a JSON number, or null */
static void
mlc_importance_number(StringInfo b, double v)
{
	if (isfinite(v))
		appendStringInfo(b, "%.17g", v);
	else
		appendStringInfoString(b, "null");
}

/* Rank within each method (1 = largest importance; ties by row order) and write JSON */
static char *
mlc_importance_rows_json(const MlcImportanceRows *rows, const char *extra)
{
	StringInfoData b;

	initStringInfo(&b);
	appendStringInfoChar(&b, '[');
	for (int i = 0; i < rows->n; i++)
	{
		int			rank = 1;

		for (int j = 0; j < rows->n; j++)
			if (j != i && strcmp(rows->method[j], rows->method[i]) == 0 &&
				(rows->importance[j] > rows->importance[i] ||
				 (rows->importance[j] == rows->importance[i] && j < i)))
				rank++;
		appendStringInfo(&b, "%s{\"feature\": ", i > 0 ? ", " : "");
		escape_json(&b, rows->feature[i]);
		appendStringInfoString(&b, ", \"method\": ");
		escape_json(&b, rows->method[i]);
		appendStringInfoString(&b, ", \"importance\": ");
		mlc_importance_number(&b, rows->importance[i]);
		appendStringInfoString(&b, ", \"std\": ");
		mlc_importance_number(&b, rows->std[i]);
		appendStringInfo(&b, ", \"rank\": %d%s}", rank,
						 strcmp(rows->method[i], "permutation") == 0 ? extra : "");
	}
	appendStringInfoChar(&b, ']');
	return b.data;
}

char *
mlc_importance_json(const MlcModel *m, MlcDataset *ds, const int64 *rows, int64 n,
					const int32 *y, double base_score, int seed)
{
	MlcImportanceRows out;
	MlcTransformer t;
	double	   *X;
	double	   *Xin;
	int32	   *yc = NULL;
	double	   *yv = NULL;
	int64	   *use = (int64 *) rows;
	int64		nuse = n;
	double		cost;

	memset(&out, 0, sizeof(out));
	if (n <= 0)
		return "[]";
	/* permutation importance within budget: a seeded sample of the rows when needed */
	cost = mlc_row_cost(m) * (double) n * m->ncolumns * Max(mlc_importance_repeats, 1);
	if (mlc_importance_repeats > 0 && cost > MLC_IMPORTANCE_BUDGET && n > MLC_IMPORTANCE_MIN_ROWS)
	{
		pg_prng_state rng;

		nuse = Max((int64) ((double) n * MLC_IMPORTANCE_BUDGET / cost), MLC_IMPORTANCE_MIN_ROWS);
		use = palloc(sizeof(int64) * n);
		memcpy(use, rows, sizeof(int64) * n);
		pg_prng_seed(&rng, (uint64) seed + 7);
		for (int64 i = 0; i < nuse; i++)
		{
			int64		j = i + (int64) pg_prng_uint64_range(&rng, 0, (uint64) (n - 1 - i));
			int64		tmp = use[i];

			use[i] = use[j];
			use[j] = tmp;
		}
	}
	mlc_check_memory(sizeof(double) * (Size) nuse * (Max(m->nfeatures, 1) + (m->nkept > 0 ? m->ninput : 0)),
					 "feature importance rows");
	X = mlc_alloc_large(sizeof(double) * (Size) nuse * Max(m->nfeatures, 1));
	Xin = X;
	mlc_transformer_init(&t, m, ds);
	if (m->nkept > 0)
	{
		/* the permutations shuffle columns before the feature projection */
		Xin = mlc_alloc_large(sizeof(double) * (Size) nuse * Max(m->ninput, 1));
		mlc_transform_rows_input(&t, use, nuse, Xin, m->ninput);
		mlc_importance_project(m, Xin, nuse, X);
	}
	else
		mlc_transform_rows(&t, use, nuse, X, m->nfeatures);
	if (mlc_is_linear(m))
		mlc_coefficient_importance(m, X, nuse, &out);
	mlc_intrinsic_importance(m, &out);
	if (mlc_importance_repeats > 0)
	{
		int			width = m->task == MLC_TASK_REGRESSION ? 1 : m->nclasses;
		double	   *pred = palloc(sizeof(double) * nuse * width);
		double		base = base_score;

		if (m->task == MLC_TASK_REGRESSION)
		{
			yv = palloc(sizeof(double) * nuse);
			for (int64 i = 0; i < nuse; i++)
				yv[i] = ds->target.values[use[i]];
		}
		else
		{
			yc = palloc(sizeof(int32) * nuse);
			for (int64 i = 0; i < nuse; i++)
				yc[i] = y[use[i]];
		}
		/* the baseline of the drops is the score on the rows used */
		if (nuse != n)
			base = mlc_importance_score(m, X, nuse, yc, yv, pred);
		pfree(pred);
		mlc_permutation_importance(m, Xin, X, nuse, yc, yv, base, seed, &out);
	}
	if (Xin != X)
		pfree(Xin);
	pfree(X);
	return mlc_importance_rows_json(&out, psprintf(", \"rows\": " INT64_FORMAT ", \"repeats\": %d", nuse,
												   mlc_importance_repeats));
}
