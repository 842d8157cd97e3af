/*
 * gen_seeds.c
 *	  Builds a few valid models (regression, binary, multinomial, with
 *	  one-hot and ordinal categorical columns, some with the reference
 *	  profiles of format v2, one with every column transform of v3, some
 *	  with the feature projection of v4: kept features, PCA components),
 *	  serializes them with
 *	  src/model_io.c and writes them as the fuzzer's seed corpus; with --sql
 *	  prints hex blobs (valid and deliberately broken) for sql/model_io.sql.
 */
#include "postgres.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "model.h"
#include "tree_layout.h"
#include "pg_stubs.h"

#undef fprintf
#undef printf
#undef snprintf
#undef sprintf

/* Fill a column with a numeric-kind step */
static void
set_numeric(MlcColumn *c, const char *name, int kind, int scale,
			double fill, double center, double scale_by)
{
	memset(c, 0, sizeof(*c));
	c->name = (char *) name;
	c->kind = (uint8) kind;
	c->impute = MLC_IMPUTE_MEAN;
	c->scale = (uint8) scale;
	c->encode = MLC_ENCODE_NONE;
	c->fill = fill;
	c->fill_index = -1;
	c->center = center;
	c->scale_by = scale_by;
}

/* Fill a column with a categorical step over sorted categories */
static void
set_categorical(MlcColumn *c, const char *name, int encode, int fill_index,
				const char **cats, int ncats)
{
	memset(c, 0, sizeof(*c));
	c->name = (char *) name;
	c->kind = MLC_KIND_CATEGORICAL;
	c->impute = MLC_IMPUTE_MOST_FREQUENT;
	c->scale = encode == MLC_ENCODE_ORDINAL ? MLC_SCALE_MINMAX : MLC_SCALE_NONE;
	c->encode = (uint8) encode;
	c->fill_index = fill_index;
	c->center = 0.0;
	c->scale_by = encode == MLC_ENCODE_ORDINAL ? Max(ncats - 1, 1) : 1.0;
	c->ncategories = ncats;
	c->categories = (char **) cats;
}

/* Finalize a model and give it deterministic coefficients */
static void
finish(MlcModel *m)
{
	int			n,
				k;

	mlc_model_finalize(m);
	n = m->ncoef_rows * (m->nfeatures + 1);
	m->coef = palloc(sizeof(double) * Max(n, 1));
	for (k = 0; k < n; k++)
		m->coef[k] = (k % 7 - 3) * 0.125 + k * 1e-3;
}

static const char *plans[] = {"basic", "premium", "pro"};
static const char *regions[] = {"", "caf\xc3\xa9", "east", "north", "west"};
static const char *sizes[] = {"L", "M", "S", "XL", "XS"};
static const char *yesno[] = {"no", "yes"};
static const char *species[] = {"Adelie", "Chinstrap", "Gentoo"};

/* Model 0: regression (linear) on numeric, bool and temporal columns */
static MlcModel *
model_regression(void)
{
	MlcModel   *m = palloc0(sizeof(MlcModel));

	m->task = MLC_TASK_REGRESSION;
	m->algorithm = MLC_ALGO_LINEAR;
	m->ncolumns = 3;
	m->columns = palloc0(sizeof(MlcColumn) * 3);
	set_numeric(&m->columns[0], "x1", MLC_KIND_NUMERIC, MLC_SCALE_STANDARD, 2.5, 2.5, 1.75);
	set_numeric(&m->columns[1], "flag", MLC_KIND_BOOL, MLC_SCALE_NONE, 0, 0, 1);
	set_numeric(&m->columns[2], "seen_at", MLC_KIND_TEMPORAL, MLC_SCALE_ROBUST,
				1.6e9, 1.6e9, 8.64e4);
	m->columns[2].impute = MLC_IMPUTE_MEDIAN;
	m->nclasses = 0;
	m->positive_class = -1;
	m->ncoef_rows = 1;
	finish(m);
	return m;
}

/* Model 1: binary logistic with a one-hot column; the SQL test uses it */
static MlcModel *
model_binary(void)
{
	MlcModel   *m = palloc0(sizeof(MlcModel));

	m->task = MLC_TASK_CLASSIFICATION;
	m->algorithm = MLC_ALGO_LOGISTIC;
	m->ncolumns = 2;
	m->columns = palloc0(sizeof(MlcColumn) * 2);
	set_numeric(&m->columns[0], "age", MLC_KIND_NUMERIC, MLC_SCALE_STANDARD, 41, 41, 12);
	set_categorical(&m->columns[1], "plan", MLC_ENCODE_ONE_HOT, 0, plans, 3);
	m->nclasses = 2;
	m->classes = (char **) yesno;
	m->positive_class = 1;
	m->ncoef_rows = 1;
	finish(m);
	return m;
}

/* Model 2: multinomial logistic with one-hot and ordinal columns */
static MlcModel *
model_multinomial(void)
{
	MlcModel   *m = palloc0(sizeof(MlcModel));

	m->task = MLC_TASK_CLASSIFICATION;
	m->algorithm = MLC_ALGO_LOGISTIC;
	m->ncolumns = 4;
	m->columns = palloc0(sizeof(MlcColumn) * 4);
	set_numeric(&m->columns[0], "bill_length_mm", MLC_KIND_NUMERIC, MLC_SCALE_MINMAX,
				43.9, 32.1, 27.5);
	set_categorical(&m->columns[1], "region", MLC_ENCODE_ONE_HOT, -1, regions, 5);
	set_categorical(&m->columns[2], "size", MLC_ENCODE_ORDINAL, 1, sizes, 5);
	set_categorical(&m->columns[3], "empty", MLC_ENCODE_ONE_HOT, -1, NULL, 0);
	m->columns[2].impute = MLC_IMPUTE_CONSTANT;
	m->nclasses = 3;
	m->classes = (char **) species;
	m->positive_class = -1;
	m->ncoef_rows = 3;
	finish(m);
	return m;
}

/* Model 3: ridge regression with no columns at all (intercept only) */
static MlcModel *
model_empty(void)
{
	MlcModel   *m = palloc0(sizeof(MlcModel));

	m->task = MLC_TASK_REGRESSION;
	m->algorithm = MLC_ALGO_RIDGE;
	m->positive_class = -1;
	m->ncoef_rows = 1;
	m->columns = palloc0(sizeof(MlcColumn));
	finish(m);
	return m;
}

/* Model 4: a wider categorical column, to give the hash table collisions */
static MlcModel *
model_wide(void)
{
	MlcModel   *m = palloc0(sizeof(MlcModel));
	int			n = 40;
	char	  **cats = palloc(sizeof(char *) * n);
	int			i;

	for (i = 0; i < n; i++)
	{
		cats[i] = palloc(8);
		sprintf(cats[i], "c%03d", i);
	}
	m->task = MLC_TASK_CLASSIFICATION;
	m->algorithm = MLC_ALGO_LOGISTIC;
	m->ncolumns = 1;
	m->columns = palloc0(sizeof(MlcColumn));
	set_categorical(&m->columns[0], "code", MLC_ENCODE_ONE_HOT, 7, (const char **) cats, n);
	m->nclasses = 2;
	m->classes = (char **) yesno;
	m->positive_class = 0;
	m->ncoef_rows = 1;
	finish(m);
	return m;
}

/* A small numeric profile: count rows, one NULL, two edges, three sampled values */
static void
numeric_profile(MlcProfile *p, int64 count, double lo, double hi)
{
	int64		nonnull = count - 1;
	double		mid = (lo + hi) / 2;

	memset(p, 0, sizeof(*p));
	p->kind = MLC_PROFILE_NUMERIC;
	p->count = count;
	p->nulls = 1;
	p->mean = mid;
	p->std = (hi - lo) / 4;
	p->min = lo;
	p->max = hi;
	p->nedges = 2;
	p->edges = palloc(sizeof(double) * 2);
	p->edges[0] = lo + (hi - lo) / 3;
	p->edges[1] = lo + 2 * (hi - lo) / 3;
	p->nbinned = nonnull;
	p->bins = palloc(sizeof(int64) * 3);
	p->bins[0] = nonnull / 3;
	p->bins[1] = nonnull / 3;
	p->bins[2] = nonnull - 2 * (nonnull / 3);
	p->nsample = 3;
	p->sample = palloc(sizeof(double) * 3);
	p->sample[0] = lo;
	p->sample[1] = mid;
	p->sample[2] = hi;
}

/* A categorical profile over the column's first two categories, the rest as other */
static void
categorical_profile(MlcProfile *p, const MlcColumn *c, int64 count)
{
	memset(p, 0, sizeof(*p));
	p->kind = MLC_PROFILE_CATEGORICAL;
	p->count = count;
	p->ncats = Min(c->ncategories, 2);
	p->cats = palloc(sizeof(char *) * 2);
	p->cat_counts = palloc(sizeof(int64) * 2);
	for (int j = 0; j < p->ncats; j++)
	{
		p->cats[p->ncats - 1 - j] = c->categories[j];	/* most frequent first */
		p->cat_counts[p->ncats - 1 - j] = 3 + j;
	}
	p->other = count - (p->ncats == 2 ? 7 : p->ncats == 1 ? 3 : 0);
}

/* Give a model reference profiles (format v2): 10 training rows, 4 output scores */
static MlcModel *
with_profiles(MlcModel *m)
{
	m->profiles = palloc0(sizeof(MlcProfile) * (m->ncolumns + 1));
	for (int j = 0; j < m->ncolumns; j++)
	{
		if (m->columns[j].kind == MLC_KIND_CATEGORICAL)
			categorical_profile(&m->profiles[j], &m->columns[j], 10);
		else
			numeric_profile(&m->profiles[j], 10, 20 + j, 70 + j);
	}
	numeric_profile(&m->profiles[m->ncolumns], 4, 0, 1);
	m->profiles[m->ncolumns].nulls = 0;
	m->profiles[m->ncolumns].nbinned = 4;
	m->profiles[m->ncolumns].bins[2] = 2;
	return m;
}

/* Models 5-7: the regression, binary and multinomial models with profiles */
static MlcModel *
model_regression_v2(void)
{
	return with_profiles(model_regression());
}

static MlcModel *
model_binary_v2(void)
{
	return with_profiles(model_binary());
}

static MlcModel *
model_multinomial_v2(void)
{
	return with_profiles(model_multinomial());
}

/* Give column c a transform with n fitted values */
static void
set_transform(MlcColumn *c, int transform, const double *params, int n)
{
	c->transform = (uint8) transform;
	c->nparams = n;
	c->params = palloc0(sizeof(double) * Max(n, 1));
	if (n > 0)
		memcpy(c->params, params, sizeof(double) * n);
}

/* Model 8: every column transform of format v3 (preprocess steps) */
static MlcModel *
model_steps(void)
{
	MlcModel   *m = palloc0(sizeof(MlcModel));
	static const double chain[] = {MLC_STEP_INDICATOR | MLC_STEP_CLIP | MLC_STEP_YEO_JOHNSON, 1.5, 9.5, 0.42};
	static const double bins[] = {MLC_STEP_BINS | MLC_STEP_ROW_L2, 0, 0, 0, 1.0, 2.5, 2.5, 7.0};
	static const double parts[] = {0, 1 | 8, 3 | 8, 4};
	static const double freq[] = {0.5, 0.25, 0.25};
	static const double target[] = {1.5, 2.5, 3.0, 2.0};
	static const double hashing[] = {8, 3};

	m->task = MLC_TASK_REGRESSION;
	m->algorithm = MLC_ALGO_RIDGE;
	m->ncolumns = 8;
	m->columns = palloc0(sizeof(MlcColumn) * 8);
	set_numeric(&m->columns[0], "x", MLC_KIND_NUMERIC, MLC_SCALE_YEO_JOHNSON, 3, 1.2, 0.8);
	set_transform(&m->columns[0], MLC_TRANSFORM_NUMERIC, chain, 4);
	set_numeric(&m->columns[1], "b", MLC_KIND_NUMERIC, MLC_SCALE_L2, 3, 0, 1);
	set_transform(&m->columns[1], MLC_TRANSFORM_NUMERIC, bins, 8);
	set_numeric(&m->columns[2], "ts", MLC_KIND_TEMPORAL, MLC_SCALE_NONE, 1.6e9, 0, 1);
	set_transform(&m->columns[2], MLC_TRANSFORM_TEMPORAL, parts, 4);
	set_categorical(&m->columns[3], "top", MLC_ENCODE_ONE_HOT, 0, plans, 2);
	set_transform(&m->columns[3], MLC_TRANSFORM_TOP_K, NULL, 0);
	set_categorical(&m->columns[4], "freq", MLC_ENCODE_ORDINAL, 1, plans, 3);
	m->columns[4].scale = MLC_SCALE_NONE;
	m->columns[4].scale_by = 1;
	set_transform(&m->columns[4], MLC_TRANSFORM_FREQUENCY, freq, 3);
	set_categorical(&m->columns[5], "target", MLC_ENCODE_ORDINAL, -1, plans, 3);
	set_transform(&m->columns[5], MLC_TRANSFORM_TARGET, target, 4);
	set_categorical(&m->columns[6], "bits", MLC_ENCODE_ORDINAL, 2, sizes, 5);
	set_transform(&m->columns[6], MLC_TRANSFORM_BINARY, NULL, 0);
	set_categorical(&m->columns[7], "hashed", MLC_ENCODE_ORDINAL, -1, NULL, 0);
	set_transform(&m->columns[7], MLC_TRANSFORM_HASHING, hashing, 2);
	m->positive_class = -1;
	m->ncoef_rows = 1;
	finish(m);
	return m;
}

/*
 * Tree learners (tree_layout.h): "age" numeric and "plan" ordinal, both
 * keeping NULL as missing.  Two trees of one split each; a forest keeps one
 * value per class in each leaf.
 */
static MlcModel *
model_trees(int algorithm, bool multiclass)
{
	MlcModel   *m = palloc0(sizeof(MlcModel));
	int			lw = (multiclass && algorithm != MLC_ALGO_GBDT) ? 3 : 1;
	int			ngroups = (multiclass && algorithm == MLC_ALGO_GBDT) ? 3 : 1;
	int			ntrees = 2 * ngroups;
	int			nout = ngroups * lw;
	int			nnodes = 3 * ntrees;
	int			nleaves = 2 * ntrees;
	int64		n = MLC_TREE_HEADER + nout + 2 * ntrees + MLC_TREE_NODE * nnodes + lw * nleaves;
	double	   *v = palloc0(sizeof(double) * n);
	double	   *nodes = v + MLC_TREE_HEADER + nout + 2 * ntrees;
	double	   *leaves = nodes + MLC_TREE_NODE * nnodes;

	m->task = MLC_TASK_CLASSIFICATION;
	m->algorithm = (uint8) algorithm;
	m->ncolumns = 2;
	m->columns = palloc0(sizeof(MlcColumn) * 2);
	set_numeric(&m->columns[0], "age", MLC_KIND_NUMERIC, MLC_SCALE_NONE, 0, 0, 1);
	m->columns[0].impute = MLC_IMPUTE_NONE;
	set_categorical(&m->columns[1], "plan", MLC_ENCODE_ORDINAL, -1, plans, 3);
	m->columns[1].impute = MLC_IMPUTE_NONE;
	m->columns[1].scale = MLC_SCALE_NONE;
	m->columns[1].scale_by = 1;
	m->nclasses = multiclass ? 3 : 2;
	m->classes = (char **) (multiclass ? species : yesno);
	m->positive_class = multiclass ? -1 : 1;
	m->ncoef_rows = multiclass ? 3 : 1;
	finish(m);
	v[0] = MLC_TREE_LAYOUT;
	v[1] = ntrees;
	v[2] = ngroups;
	v[3] = lw;
	v[4] = nnodes;
	v[5] = nleaves;
	v[6] = algorithm == MLC_ALGO_GBDT ? MLC_TREE_COMBINE_SUM : MLC_TREE_COMBINE_MEAN;
	v[7] = m->nfeatures;
	for (int o = 0; o < nout; o++)
		v[MLC_TREE_HEADER + o] = algorithm == MLC_ALGO_GBDT ? -0.5 : 0.0;
	for (int t = 0; t < ntrees; t++)
	{
		double	   *nd = nodes + 3 * t * MLC_TREE_NODE;

		v[MLC_TREE_HEADER + nout + 2 * t] = 3 * t;
		v[MLC_TREE_HEADER + nout + 2 * t + 1] = t % ngroups;
		/* the split: age <= 40 (t even) or plan <= 0.5 (t odd) */
		nd[MLC_TN_FEATURE] = t % 2;
		nd[MLC_TN_THRESHOLD] = t % 2 ? 0.5 : 40;
		nd[MLC_TN_DEFAULT_LEFT] = t % 2 ? 0 : 1;
		nd[MLC_TN_LEFT] = 3 * t + 1;
		nd[MLC_TN_RIGHT] = 3 * t + 2;
		nd[MLC_TN_LEAF] = -1;
		nd[MLC_TN_GAIN] = 1.5 + t;
		nd[MLC_TN_COVER] = 10;
		for (int c = 1; c <= 2; c++)
		{
			double	   *lf = nd + c * MLC_TREE_NODE;

			lf[MLC_TN_FEATURE] = -1;
			lf[MLC_TN_LEFT] = lf[MLC_TN_RIGHT] = -1;
			lf[MLC_TN_LEAF] = 2 * t + c - 1;
			lf[MLC_TN_COVER] = c == 1 ? 4 : 6;
		}
	}
	for (int l = 0; l < nleaves * lw; l++)
		leaves[l] = lw == 1 ? ((l % 4) - 1.5) * 0.2 : ((l % lw) == (l / lw) % lw ? 0.6 : 0.2);
	m->nlearner_params = n;
	m->learner_params = v;
	return m;
}

/* Models 12-14: gbdt binary, gbdt multiclass, random forest multiclass */
static MlcModel *
model_gbdt(void)
{
	return model_trees(MLC_ALGO_GBDT, false);
}

static MlcModel *
model_gbdt_multi(void)
{
	return model_trees(MLC_ALGO_GBDT, true);
}

static MlcModel *
model_forest_multi(void)
{
	return model_trees(MLC_ALGO_RANDOM_FOREST, true);
}

typedef MlcModel *(*ModelBuilder) (void);

/* Model 9: naive Bayes on model 1's columns: Gaussian age, categorical plan */
static MlcModel *
model_naive_bayes(void)
{
	MlcModel   *m = model_binary();
	int			p = m->nfeatures;
	double	   *lp;

	m->algorithm = MLC_ALGO_NAIVE_BAYES;
	m->nlearner_params = 2 + p + 2 * (1 + 2 * p);
	m->learner_params = lp = palloc0(sizeof(double) * m->nlearner_params);
	lp[0] = 2;
	lp[1] = p;
	for (int f = 1; f < p; f++)
		lp[2 + f] = 1;
	for (int k = 0; k < 2; k++)
	{
		double	   *c = lp + 2 + p + k * (1 + 2 * p);

		c[0] = log(k == 0 ? 0.7 : 0.3);
		c[1] = 0.25 * k - 0.1;
		c[1 + p] = 1.0 + k;
		for (int f = 1; f < p; f++)
			c[1 + f] = log(1.0 / 3);
	}
	return m;
}

/* Model 10: k nearest neighbors (k = 2) keeping three rows of model 1's features */
static MlcModel *
model_knn(void)
{
	MlcModel   *m = model_binary();
	int			p = m->nfeatures,
				n = 3;
	double	   *lp;

	m->algorithm = MLC_ALGO_KNN;
	m->nlearner_params = 5 + n * p + n;
	m->learner_params = lp = palloc0(sizeof(double) * m->nlearner_params);
	lp[0] = n;
	lp[1] = p;
	lp[2] = 2;
	lp[3] = 1;
	lp[4] = 0;
	for (int i = 0; i < n; i++)
	{
		lp[5 + i * p] = i - 1.0;
		lp[5 + i * p + 1 + i] = 1;
		lp[5 + n * p + i] = i % 2;
	}
	return m;
}

/* Model 11: one-vs-rest linear SVM on model 2's columns */
static MlcModel *
model_linear_svm(void)
{
	MlcModel   *m = model_multinomial();

	m->algorithm = MLC_ALGO_LINEAR_SVM;
	return m;
}

/* Give a model with a new projection coefficients for its learner's features */
static void
recoef(MlcModel *m)
{
	int			n;

	m->nfeatures = mlc_projected_width(m);
	n = m->ncoef_rows * (m->nfeatures + 1);
	m->coef = palloc(sizeof(double) * Max(n, 1));
	for (int k = 0; k < n; k++)
		m->coef[k] = (k % 5 - 2) * 0.25 + k * 1e-3;
}

/* Model 15: model 1 with select_features keeping age and two of the plans */
static MlcModel *
model_select(void)
{
	MlcModel   *m = model_binary();

	m->nkept = 3;
	m->kept = palloc(sizeof(int32) * 3);
	m->kept[0] = 0;
	m->kept[1] = 2;
	m->kept[2] = 3;
	recoef(m);
	return m;
}

/* Model 16: model 0 with the pca step: 2 components of its 3 features */
static MlcModel *
model_pca(void)
{
	MlcModel   *m = model_regression();
	static const double comp[] = {0.6, 0.0, 0.8, 0.0, 1.0, 0.0};

	m->nkept = 3;
	m->kept = palloc(sizeof(int32) * 3);
	for (int j = 0; j < 3; j++)
		m->kept[j] = j;
	m->ncomponents = 2;
	m->pca_variance = palloc(sizeof(double) * 2);
	m->pca_variance[0] = 2.5;
	m->pca_variance[1] = 0.5;
	m->pca_mean = palloc0(sizeof(double) * 3);
	m->pca_mean[1] = 0.5;
	m->pca_components = palloc(sizeof(comp));
	memcpy(m->pca_components, comp, sizeof(comp));
	recoef(m);
	return m;
}

/* Model 17: model 2 (multinomial) with select_features, then 1 PCA component */
static MlcModel *
model_select_pca(void)
{
	MlcModel   *m = model_multinomial();

	m->nkept = 2;
	m->kept = palloc(sizeof(int32) * 2);
	m->kept[0] = 0;
	m->kept[1] = m->ninput - 1;
	m->ncomponents = 1;
	m->pca_variance = palloc(sizeof(double));
	m->pca_variance[0] = 1.25;
	m->pca_mean = palloc0(sizeof(double) * 2);
	m->pca_components = palloc(sizeof(double) * 2);
	m->pca_components[0] = M_SQRT1_2;
	m->pca_components[1] = -M_SQRT1_2;
	recoef(m);
	return m;
}

static const ModelBuilder builders[] = {
	model_regression, model_binary, model_multinomial, model_empty, model_wide,
	model_regression_v2, model_binary_v2, model_multinomial_v2, model_steps,
	model_naive_bayes, model_knn, model_linear_svm, model_gbdt, model_gbdt_multi,
	model_forest_multi, model_select, model_pca, model_select_pca
};

/* Serialize a model, or die with the error */
static bytea *
serialize_or_die(const MlcModel *m)
{
	jmp_buf		jb;

	if (setjmp(jb) != 0)
	{
		fprintf(stderr, "gen_seeds: %s\n", stub_error_message);
		exit(1);
	}
	stub_error_jmp = &jb;
	return mlc_model_serialize(m);
}

/* Write the seed corpus into dir */
static int
write_corpus(const char *dir)
{
	size_t		i;

	for (i = 0; i < lengthof(builders); i++)
	{
		bytea	   *b = serialize_or_die(builders[i] ());
		char		path[4096];
		FILE	   *f;

		snprintf(path, sizeof(path), "%s/seed-%zu.bin", dir, i);
		f = fopen(path, "wb");
		if (f == NULL || fwrite(VARDATA(b), 1, VARSIZE(b) - VARHDRSZ, f) !=
			VARSIZE(b) - VARHDRSZ || fclose(f) != 0)
		{
			perror(path);
			return 1;
		}
	}
	return 0;
}

/* Print name and hex of a blob, resealed after a patch when asked */
static void
print_blob(const char *name, const bytea *src, int offset, const uint8 *patch,
		   int patchlen, int extra, bool reseal)
{
	int			len = VARSIZE(src) - VARHDRSZ + extra;
	bytea	   *b = palloc0(VARHDRSZ + len);
	int			i;

	memcpy(VARDATA(b), VARDATA(src), Min(len, (int) (VARSIZE(src) - VARHDRSZ)));
	SET_VARSIZE(b, VARHDRSZ + len);
	if (patch)
		memcpy(VARDATA(b) + offset, patch, patchlen);
	if (reseal)
		mlc_model_reseal(b);
	printf("%s \\x", name);
	for (i = 0; i < len; i++)
		printf("%02x", (uint8) VARDATA(b)[i]);
	printf("\n");
}

/*
 * Hex blobs for the SQL test, all from model 1 (binary: columns "age" and
 * "plan" with categories basic/premium/pro).  Offsets follow the v1 layout.
 */
static int
write_sql_blobs(void)
{
	bytea	   *b = serialize_or_die(model_binary());
	bytea	   *b2;
	static const uint8 task7[] = {7};
	static const uint8 v3[] = {3, 0};
	static const uint8 four[8] = {4};
	static const uint8 kind2[] = {2};
	static const uint8 flags1[] = {1, 0};
	static const uint8 zero8[8] = {0};
	static const uint8 nan8[] = {0, 0, 0, 0, 0, 0, 0xF8, 0x7F};
	static const uint8 swapped[] = {'p', 'r', 'o'};
	static const uint8 nf3[] = {3, 0, 0, 0};
	int			len = VARSIZE(b) - VARHDRSZ;
	/* column 1 "age": name length at 38, name at 42, kind at 45 ... */
	int			age_scale_by = 42 + 3 + 4 + 8 + 4 + 8;
	/* column 2 "plan" starts after column 1 (41 bytes + name 3) */
	int			plan = 38 + 4 + 3 + 4 + 8 + 4 + 8 + 8 + 4;
	int			plan_cats = plan + 4 + 4 + 4 + 8 + 4 + 8 + 8 + 4;

	print_blob("valid", b, 0, NULL, 0, 0, false);
	print_blob("bad_task", b, 16, task7, 1, 0, true);
	print_blob("version3", b, 4, v3, 2, 0, false);
	print_blob("flags", b, 6, flags1, 2, 0, true);
	print_blob("zero_scale", b, age_scale_by, zero8, 8, 0, true);
	/* "basic" (4+5 bytes) then "premium": overwrite "basic"'s bytes 0-2 */
	print_blob("unsorted", b, plan_cats + 4, swapped, 3, 0, true);
	print_blob("nfeatures", b, 22, nf3, 4, 0, true);
	print_blob("nan_coef", b, len - 4 - 8, nan8, 8, 0, true);
	print_blob("trailing", b, 0, NULL, 0, 1, true);

	/* v2: the profiles follow the v1 payload; "age" is profile 1 */
	b2 = serialize_or_die(model_binary_v2());
	print_blob("valid_v2", b2, 0, NULL, 0, 0, false);
	print_blob("profile_kind", b2, len - 4, kind2, 1, 0, true);
	/* kind 1, count 8, nulls 8, 4 moments 32, nedges 4, 2 edges 16, nbinned 8 */
	print_blob("profile_bins", b2, len - 4 + 77, four, 8, 0, true);
	print_blob("profile_nan", b2, len - 4 + 105, nan8, 8, 0, true);
	print_blob("profile_cut", b2, 0, NULL, 0, -9, true);
	return 0;
}

/* Offset in blob b of learner parameter k of model_gbdt (found by its header) */
static int
tree_param_offset(const bytea *b, int k)
{
	double		head[4] = {MLC_TREE_LAYOUT, 2, 1, 1};
	int			len = VARSIZE(b) - VARHDRSZ;

	for (int i = 0; i + 32 <= len; i++)
		if (memcmp(VARDATA(b) + i, head, 32) == 0)
			return i + 8 * k;
	fprintf(stderr, "gen_seeds: tree header not found\n");
	exit(1);
}

/* Print the tree blob with learner parameter k set to v, resealed */
static void
print_tree_patch(const char *name, const bytea *b, int k, double v)
{
	print_blob(name, b, tree_param_offset(b, k), (const uint8 *) &v, 8, 0, true);
}

/*
 * Hex blobs for sql/trees.sql: the binary gbdt model (2 trees: node 0 splits
 * age, nodes 1-2 leaves; node 3 splits plan, nodes 4-5 leaves) and copies with
 * one tree field broken, resealed.  Learner parameter k of node i field f is
 * 8 + 1 + 2 * 2 + 8 * i + f.
 */
static int
write_sql_tree_blobs(void)
{
	bytea	   *b = serialize_or_die(model_gbdt());
	int			nodes = MLC_TREE_HEADER + 1 + 4;

	print_blob("tree_valid", b, 0, NULL, 0, 0, false);
	print_tree_patch("tree_layout", b, 0, 2);
	print_tree_patch("tree_count", b, 1, 3);
	print_tree_patch("tree_combine", b, 6, MLC_TREE_COMBINE_MEAN);
	print_tree_patch("tree_nfeatures", b, 7, 3);
	print_tree_patch("tree_nodes", b, 4, 7);
	print_tree_patch("tree_start", b, MLC_TREE_HEADER + 1 + 2, 1);
	print_tree_patch("tree_group", b, MLC_TREE_HEADER + 1 + 1, 1);
	print_tree_patch("tree_feature", b, nodes + MLC_TN_FEATURE, 2);
	print_tree_patch("tree_fraction", b, nodes + MLC_TN_FEATURE, 0.5);
	print_tree_patch("tree_cycle", b, nodes + MLC_TN_LEFT, 0);
	print_tree_patch("tree_other_tree", b, nodes + MLC_TN_RIGHT, 4);
	print_tree_patch("tree_shared_child", b, nodes + MLC_TN_RIGHT, 1);
	print_tree_patch("tree_orphan", b, nodes + 3 * MLC_TREE_NODE + MLC_TN_RIGHT, 4);
	print_tree_patch("tree_leaf_index", b, nodes + MLC_TREE_NODE + MLC_TN_LEAF, 4);
	print_tree_patch("tree_leaf_child", b, nodes + MLC_TREE_NODE + MLC_TN_LEFT, 2);
	print_tree_patch("tree_default", b, nodes + MLC_TN_DEFAULT_LEFT, 2);
	print_tree_patch("tree_cover", b, nodes + MLC_TN_COVER, -1);
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "--sql") == 0)
		return write_sql_blobs();
	if (argc == 2 && strcmp(argv[1], "--sql-trees") == 0)
		return write_sql_tree_blobs();
	if (argc != 2)
	{
		fprintf(stderr, "usage: %s CORPUS_DIR | --sql | --sql-trees\n", argv[0]);
		return 2;
	}
	return write_corpus(argv[1]);
}
