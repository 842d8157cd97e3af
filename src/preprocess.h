/*
 * preprocess.h
 *	  The preprocessing pipeline: parsing the preprocess spec, fitting
 *	  imputation, scaling and encoding on training rows, and applying the
 *	  fitted steps to a dataset or to one row at prediction time.
 */
#ifndef MLCYCLE_PREPROCESS_H
#define MLCYCLE_PREPROCESS_H

#include "postgres.h"

#include <math.h>

#include "utils/jsonb.h"

#include "ingest.h"
#include "jsonutil.h"
#include "lib/stringinfo.h"
#include "model.h"
#include "transform.h"

/*
 * Fit the pipeline on the given training rows of ds.  Returns a model with
 * its columns fitted and finalized (no learner parameters yet) and sets
 * *resolved to the settings actually used, as JSON text.
 */
extern MlcModel *mlc_preprocess_fit(MlcDataset *ds, const int64 *rows, int64 nrows,
									Jsonb *spec, char **resolved);

/* Applies a fitted pipeline to rows of a dataset */
typedef struct MlcTransformer
{
	const MlcModel *m;
	MlcDataset *ds;
	int32	  **maps;			/* per categorical column: dataset code -> category */
	double	   *scratch;		/* ninput values, when the model has a projection */
} MlcTransformer;

extern void mlc_transformer_init(MlcTransformer *t, const MlcModel *m, MlcDataset *ds);

/* Write the learner's features of rows[0..nrows) into out, one row every ld values */
extern void mlc_transform_rows(const MlcTransformer *t, const int64 *rows, int64 nrows,
							   double *out, int ld);

/* The same before the feature projection: ninput preprocessed features per row */
extern void mlc_transform_rows_input(const MlcTransformer *t, const int64 *rows, int64 nrows,
									 double *out, int ld);

/*
 * Finish a row the emit functions wrote into in (ninput values): row-wise
 * steps, then the feature projection into out (nfeatures values; out may be
 * in when the model has no projection)
 */
extern void mlc_finish_row(const MlcModel *m, double *in, double *out);

/*
 * mlc_preprocess_fit with the defaults of tree learners when trees is true:
 * NULLs kept as missing (impute 'none'), no scaling, ordinal text categories
 */
extern MlcModel *mlc_preprocess_fit_for(MlcDataset *ds, const int64 *rows, int64 nrows,
										Jsonb *spec, char **resolved, bool trees);

/* The resolved settings of every column, unfitted; numeric constant fills are set */
extern MlcModel *mlc_preprocess_plan(MlcDataset *ds, Jsonb *spec);

/* The settings a fitted model uses, as JSON text for the catalog */
extern char *mlc_preprocess_describe(const MlcModel *m);

/* Apply the fitted pipeline to rows of ds: a new nrows x nfeatures matrix */
extern double *mlc_preprocess_transform(const MlcModel *m, MlcDataset *ds,
										const int64 *rows, int64 nrows);

/* Names of the learner's features (after the feature projection, projection.c) */
extern char **mlc_feature_names(const MlcModel *m);

/* Feature names after preprocessing: column, or column=category for one-hot */
extern char **mlc_input_feature_names(const MlcModel *m);

/* Readable name of a kind, impute, scale or encode code */
extern const char *mlc_kind_name(uint8 kind);

/* Name of a kind/impute/scale/encode code as the preprocess spec writes it, or NULL */
extern const char *mlc_setting_name(const char *setting, int code);

/* Raise the error for a feature with no values in all rows or in the training rows */
extern void mlc_all_null_error(const char *name, bool all_rows) pg_attribute_noreturn();

/* Raise the error for a NULL in a column whose imputation is 'error' */
extern void mlc_null_not_allowed(const MlcColumn *c) pg_attribute_noreturn();

/* Index of s among a column's sorted categories, or -1 (before hashing) */
extern int32 mlc_category_bsearch(const MlcColumn *c, const char *s);

/* preprocess_steps.c: the steps beyond plain impute/scale/encode */
extern bool mlc_steps_parse(const MlcJsonPair *p, const char *what, MlcStepSettings *st,
							int *impute, int *encode);
extern void mlc_steps_check_kind(const MlcColumn *c, const MlcStepSettings *own);
extern void mlc_steps_resolve(MlcColumn *c, const MlcStepSettings *all,
							  const MlcStepSettings *own, bool own_scale);
extern void mlc_steps_fit_numeric(MlcColumn *c, const MlcRawColumn *raw, const int64 *rows,
								  double *v, int64 n);
extern void mlc_steps_fit_categorical(MlcColumn *c, const MlcDataset *ds, const MlcRawColumn *raw,
									  const int64 *rows, int64 nrows);
extern double *mlc_steps_knn_oof(const MlcColumn *c, const MlcDataset *ds, int j,
								 const int64 *rows, int64 nrows);
extern int32 mlc_hash_bucket(const MlcColumn *c, const char *s, int len);
extern void mlc_emit_numeric_steps(const MlcColumn *c, double v, double *out);
extern void mlc_emit_category_steps(const MlcColumn *c, int32 idx, bool isnull, double *out);
extern void mlc_steps_row(const MlcModel *m, double *out);
extern bool mlc_steps_nonaffine(const MlcModel *m);
extern const char *mlc_steps_encode_name(const MlcColumn *c);
extern void mlc_steps_describe(StringInfo buf, const MlcColumn *c);
extern void mlc_steps_feature_names(const MlcColumn *c, char **names);

/* One numeric-kind value (NaN means NULL) into its feature */
static inline void
mlc_emit_numeric(const MlcColumn *c, double v, double *out)
{
	if (c->transform != MLC_TRANSFORM_NONE)
	{
		mlc_emit_numeric_steps(c, v, out);
		return;
	}
	if (isnan(v))
	{
		if (c->impute == MLC_IMPUTE_ERROR)
			mlc_null_not_allowed(c);
		if (c->impute == MLC_IMPUTE_NONE)
		{
			out[c->out_offset] = NAN;	/* missing, for the trees */
			return;
		}
		v = c->fill;
	}
	out[c->out_offset] = (v - c->center) / c->scale_by;
}

/* One categorical value (category index, -1 unseen; isnull for NULL) into its features */
static inline void
mlc_emit_category(const MlcColumn *c, int32 idx, bool isnull, double *out)
{
	if (c->transform != MLC_TRANSFORM_NONE)
	{
		mlc_emit_category_steps(c, idx, isnull, out);
		return;
	}
	if (isnull)
	{
		if (c->impute == MLC_IMPUTE_ERROR)
			mlc_null_not_allowed(c);
		idx = c->fill_index;
	}
	if (c->encode == MLC_ENCODE_ONE_HOT)
	{
		double	   *o = out + c->out_offset;

		for (int k = 0; k < c->out_width; k++)
			o[k] = 0.0;
		if (idx >= 0)
			o[idx] = 1.0;
	}
	else if (idx < 0 && c->impute == MLC_IMPUTE_NONE)
		out[c->out_offset] = NAN;	/* NULL or unseen: missing, for the trees */
	else
		out[c->out_offset] = ((double) idx - c->center) / c->scale_by;
}

#endif							/* MLCYCLE_PREPROCESS_H */
