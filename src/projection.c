/*
 * projection.c
 *	  The feature projection between preprocessing and the learner: the kept
 *	  features of select_features and the pca preprocess step (principal
 *	  components of the preprocessed training rows, decomposed by pca.c), and
 *	  applying both to a preprocessed row at training and scoring time.
 */
#include "postgres.h"

#include <math.h>

#include <cblas.h>

#include "lib/stringinfo.h"
#include "miscadmin.h"

#include "mlcycle.h"
#include "pca.h"
#include "preprocess.h"
#include "projection.h"

/* Is member p of the preprocess spec the pca step (and not a column named "pca")? */
bool
mlc_pca_is_step(const MlcJsonPair *p, const MlcDataset *ds)
{
	ListCell   *lc;

	if (strcmp(p->key, "pca") != 0)
		return false;
	for (int i = 0; i < ds->ncols; i++)
		if (strcmp(ds->cols[i].name, "pca") == 0)
		{
			/* a column named pca: the step only when the object says so */
			if (p->value.type != jbvBinary || !JsonContainerIsObject(p->value.val.binary.data))
				return false;
			foreach(lc, mlc_json_pairs(p->value.val.binary.data, "pca"))
			{
				const char *key = ((MlcJsonPair *) lfirst(lc))->key;

				if (strcmp(key, "n_components") == 0 || strcmp(key, "variance") == 0)
					return true;
			}
			return false;
		}
	return true;
}

/* Parse and check the pca step's object */
static void
mlc_pca_parse(const MlcJsonPair *p, MlcPcaSpec *out)
{
	static const char *const keys[] = {"n_components", "variance", NULL};
	List	   *pairs;
	ListCell   *lc;

	if (p->value.type != jbvBinary || !JsonContainerIsObject(p->value.val.binary.data))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("preprocess step \"pca\" must be a JSON object"),
				 errhint("Write it as {\"pca\": {\"n_components\": 5}} or {\"pca\": {\"variance\": 0.95}}.")));
	pairs = mlc_json_pairs(p->value.val.binary.data, "pca option");
	memset(out, 0, sizeof(*out));
	out->given = true;
	foreach(lc, pairs)
	{
		MlcJsonPair *q = lfirst(lc);
		double		v;

		if (mlc_choose(q->key, keys, "pca option") == 0)
		{
			v = mlc_json_number(q, "pca option");
			if (v != floor(v) || v < 1 || v > MLC_MAX_PCA_INPUTS)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("pca n_components must be an integer between 1 and %d", MLC_MAX_PCA_INPUTS),
						 errhint("Write it as {\"pca\": {\"n_components\": 5}}.")));
			out->n_components = (int) v;
		}
		else
		{
			v = mlc_json_number(q, "pca option");
			if (!(v > 0 && v <= 1))
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("pca variance must be greater than 0 and at most 1"),
						 errhint("Pass the share of the variance the components explain, as in {\"pca\": {\"variance\": 0.95}}; 1 keeps every component.")));
			out->variance = v;
		}
	}
	if (out->n_components > 0 && out->variance > 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("pca takes n_components or variance, not both"),
				 errhint("Keep a number of components, or the fewest that explain a share of the variance.")));
}

/* The pca step of a preprocess spec, checked; false when there is none */
bool
mlc_pca_spec(Jsonb *spec, const MlcDataset *ds, MlcPcaSpec *out)
{
	ListCell   *lc;

	memset(out, 0, sizeof(*out));
	foreach(lc, mlc_jsonb_pairs(spec, "preprocess"))
	{
		MlcJsonPair *p = lfirst(lc);

		if (mlc_pca_is_step(p, ds))
			mlc_pca_parse(p, out);
	}
	return out->given;
}

/* Keep the features drop does not mark; false (no projection) when it drops none */
bool
mlc_projection_keep(MlcModel *m, const bool *drop)
{
	int			n = 0;

	m->kept = palloc(sizeof(int32) * Max(m->ninput, 1));
	for (int j = 0; j < m->ninput; j++)
		if (!drop[j])
			m->kept[n++] = j;
	if (n == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("select_features dropped every feature"),
				 errhint("Lower variance_threshold, or raise max_correlation.")));
	if (n == m->ninput)
	{
		pfree(m->kept);
		m->kept = NULL;
		return false;
	}
	m->nkept = n;
	m->nfeatures = mlc_projected_width(m);
	return true;
}

/* PCA needs every feature present: no column may keep NULL as missing */
static void
mlc_pca_check_complete(const MlcModel *m)
{
	for (int j = 0; j < m->ncolumns; j++)
		if (m->columns[j].impute == MLC_IMPUTE_NONE)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("pca needs every feature present, and column \"%s\" keeps NULL as missing (impute 'none')",
							m->columns[j].name),
					 errhint("Give the column another impute strategy, such as \"mean\".")));
}

/*
 * Mean and centered cross-products (upper triangle of C) of the p features
 * the model gives the training rows, in blocks: two passes, so that the
 * products are of centered values.
 */
static void
mlc_pca_moments(const MlcModel *m, MlcDataset *ds, const int64 *rows, int64 n,
				double *mean, double *C)
{
	int			p = m->nfeatures;
	int			block = 512;
	double	   *x = palloc(sizeof(double) * (Size) block * p);
	MlcTransformer t;

	mlc_transformer_init(&t, m, ds);
	memset(mean, 0, sizeof(double) * p);
	memset(C, 0, sizeof(double) * (Size) p * p);
	for (int pass = 0; pass < 2; pass++)
	{
		for (int64 start = 0; start < n; start += block)
		{
			int			nb = (int) Min((int64) block, n - start);

			CHECK_FOR_INTERRUPTS();
			mlc_transform_rows(&t, rows + start, nb, x, p);
			for (int i = 0; i < nb; i++)
				for (int j = 0; j < p; j++)
				{
					if (pass == 0)
						mean[j] += x[(Size) i * p + j];
					else
						x[(Size) i * p + j] -= mean[j];
				}
			if (pass == 1)
				cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, p, nb, 1.0, x, p, 1.0, C, p);
		}
		if (pass == 0)
			for (int j = 0; j < p; j++)
				mean[j] /= (double) n;
	}
	pfree(x);
}

/* Number of components the spec keeps, of at most maxk, from the variance ratios */
static int
mlc_pca_components(const MlcPcaSpec *spec, const double *ratio, int maxk, int p, int64 n)
{
	if (spec->n_components > maxk)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("pca n_components is %d, more than the %d components there are", spec->n_components, maxk),
				 errdetail("The preprocessed features number %d and the training rows " INT64_FORMAT "; PCA has at most the smaller of the two components.",
						   p, n),
				 errhint("Ask for at most %d components, or for a share of the variance.", maxk)));
	if (spec->n_components > 0)
		return spec->n_components;
	if (spec->variance > 0 && spec->variance < 1)
		return mlc_pca_count_for_variance(ratio, maxk, spec->variance);
	return maxk;
}

/* Append a JSON array of n numbers */
static void
mlc_pca_numbers(StringInfo b, const double *v, int n)
{
	appendStringInfoChar(b, '[');
	for (int i = 0; i < n; i++)
		appendStringInfo(b, "%s%.17g", i ? ", " : "", v[i]);
	appendStringInfoChar(b, ']');
}

/*
 * Fit the pca step on the training rows of ds through m's fitted pipeline
 * (after the kept features, when any): the covariance (ddof 1) of those
 * features, its eigen-decomposition, and the components the spec keeps.
 * Returns {"n_components", "inputs", "explained_variance",
 * "explained_variance_ratio", "cumulative_variance_ratio", "spec" (the step
 * as asked for, which retraining repeats)} as JSON.
 */
char *
mlc_projection_fit_pca(MlcModel *m, MlcDataset *ds, const int64 *rows, int64 n,
					   const MlcPcaSpec *spec)
{
	int			p = m->nfeatures;
	int			maxk = (int) Min((int64) p, n);
	double	   *mean,
			   *C,
			   *ev,
			   *vec,
			   *ratio;
	double		total = 0,
				scale = 0,
				cum = 0;
	int			k;
	StringInfoData b;

	mlc_pca_check_complete(m);
	if (p > MLC_MAX_PCA_INPUTS)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("pca decomposes at most %d features, and preprocessing produces %d", MLC_MAX_PCA_INPUTS, p),
				 errhint("Keep fewer features with select_features (k_best), or encode high-cardinality columns as ordinal or hashing with fewer buckets.")));
	if (n < 2)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("pca needs at least 2 training rows, and there are " INT64_FORMAT, n)));
	mlc_check_memory(sizeof(double) * ((Size) 2 * p * p + (Size) 512 * p), "pca covariance");
	mean = palloc(sizeof(double) * p);
	C = palloc(sizeof(double) * (Size) p * p);
	mlc_pca_moments(m, ds, rows, n, mean, C);
	for (int i = 0; i < p; i++)
	{
		for (int j = i; j < p; j++)
			C[(Size) i * p + j] = C[(Size) j * p + i] = C[(Size) i * p + j] / (double) (n - 1);
		total += C[(Size) i * p + i];
		scale += mean[i] * mean[i];
	}
	if (!(total > 1e-20 * scale) || total == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("pca found no variance: every preprocessed feature is constant on the training rows"),
				 errhint("Remove the pca step, or train on columns that vary.")));
	ev = palloc(sizeof(double) * p);
	vec = palloc(sizeof(double) * (Size) p * p);
	mlc_pca_eigen(C, p, ev, vec);
	ratio = palloc(sizeof(double) * p);
	total = 0;
	for (int i = 0; i < p; i++)
		total += ev[i];
	for (int i = 0; i < p; i++)
		ratio[i] = ev[i] / total;
	k = mlc_pca_components(spec, ratio, maxk, p, n);

	/* a selection-free projection keeps every preprocessed feature */
	if (m->nkept == 0)
	{
		m->nkept = m->ninput;
		m->kept = palloc(sizeof(int32) * m->ninput);
		for (int j = 0; j < m->ninput; j++)
			m->kept[j] = j;
	}
	m->ncomponents = k;
	m->pca_mean = mean;
	m->pca_components = vec;	/* the first k rows */
	m->pca_variance = ev;
	m->nfeatures = mlc_projected_width(m);

	for (int i = 0; i < k; i++)
		cum += ratio[i];
	initStringInfo(&b);
	appendStringInfo(&b, "{\"n_components\": %d, \"inputs\": %d, \"explained_variance\": ", k, p);
	mlc_pca_numbers(&b, ev, k);
	appendStringInfoString(&b, ", \"explained_variance_ratio\": ");
	mlc_pca_numbers(&b, ratio, k);
	appendStringInfo(&b, ", \"cumulative_variance_ratio\": %.17g, \"spec\": ", cum);
	if (spec->n_components > 0)
		appendStringInfo(&b, "{\"n_components\": %d}}", spec->n_components);
	else if (spec->variance > 0)
		appendStringInfo(&b, "{\"variance\": %.15g}}", spec->variance);
	else
		appendStringInfoString(&b, "{}}");
	pfree(C);
	pfree(ratio);
	return b.data;
}

/* Project a preprocessed row in (ninput values) into the learner's features out */
void
mlc_project_row(const MlcModel *m, const double *in, double *out)
{
	const int32 *kept = m->kept;
	int			q = m->nkept;

	if (m->ncomponents == 0)
	{
		for (int j = 0; j < q; j++)
			out[j] = in[kept[j]];
		return;
	}
	for (int i = 0; i < m->ncomponents; i++)
	{
		const double *w = m->pca_components + (Size) i * q;
		double		s = 0;

		for (int j = 0; j < q; j++)
			s += w[j] * (in[kept[j]] - m->pca_mean[j]);
		out[i] = s;
	}
}

/* The learner's labels: the kept ones of input, or pca_label (numbered when asked) */
static char **
mlc_projection_labels(const MlcModel *m, char **input, const char *pca_label, bool numbered)
{
	char	  **out;

	if (m->nkept == 0)
		return input;
	out = palloc(sizeof(char *) * Max(m->nfeatures, 1));
	for (int j = 0; j < m->nfeatures; j++)
		out[j] = m->ncomponents == 0 ? input[m->kept[j]] :
			numbered ? psprintf("%s%d", pca_label, j + 1) : pstrdup(pca_label);
	return out;
}

/* The learner's feature names: the kept ones, or pc1, pc2, ... */
char **
mlc_projection_names(const MlcModel *m, char **input)
{
	return mlc_projection_labels(m, input, "pc", true);
}

/* The learner's feature kinds: those of the kept features, or "pca" */
char **
mlc_projection_kinds(const MlcModel *m, char **input)
{
	return mlc_projection_labels(m, input, "pca", false);
}

/*
 * The learner features [*lo, *lo + *n) that come from the preprocessed
 * features [off, off + w): kept features are ascending, so they are
 * contiguous; none under PCA
 */
void
mlc_projection_span(const MlcModel *m, int off, int w, int *lo, int *n)
{
	int			j = 0;

	*lo = off;
	*n = w;
	if (m->nkept == 0)
		return;
	*n = 0;
	if (m->ncomponents > 0)
		return;
	while (j < m->nkept && m->kept[j] < off)
		j++;
	*lo = j;
	while (j + *n < m->nkept && m->kept[j + *n] < off + w)
		(*n)++;
}
