/*
 * model.h
 *	  The in-memory model every area shares: the fitted preprocessing pipeline
 *	  (one step per raw input column), the learner's parameters and the class
 *	  labels.  model_io.c serializes it, preprocess.c fits and applies it.
 */
#ifndef MLCYCLE_MODEL_H
#define MLCYCLE_MODEL_H

#include "postgres.h"

/* task */
#define MLC_TASK_REGRESSION		1
#define MLC_TASK_CLASSIFICATION 2

/* learners */
#define MLC_ALGO_LINEAR			1
#define MLC_ALGO_RIDGE			2
#define MLC_ALGO_LOGISTIC		3
#define MLC_ALGO_LASSO			4
#define MLC_ALGO_ELASTIC_NET	5
/* reserved, each with its learner: */
#define MLC_ALGO_NAIVE_BAYES	6
#define MLC_ALGO_KNN			7
#define MLC_ALGO_LINEAR_SVM		8
#define MLC_ALGO_GBDT			9
#define MLC_ALGO_RANDOM_FOREST	10
#define MLC_ALGO_DECISION_TREE	11

/* kind of a raw input column, as ingest sees its SQL type */
#define MLC_KIND_NUMERIC		1	/* int2/4/8, float4/8, numeric */
#define MLC_KIND_BOOL			2	/* bool -> 0/1 */
#define MLC_KIND_TEMPORAL		3	/* date/timestamp/timestamptz -> epoch seconds */
#define MLC_KIND_CATEGORICAL	4	/* text/varchar/char/enum */

/* imputation */
#define MLC_IMPUTE_MEAN			1
#define MLC_IMPUTE_MEDIAN		2
#define MLC_IMPUTE_MOST_FREQUENT 3
#define MLC_IMPUTE_CONSTANT		4
#define MLC_IMPUTE_ERROR		5
#define MLC_IMPUTE_NONE			6	/* keep NULL as missing (NaN): tree learners */

/* scaling (numeric, bool, temporal and ordinal-encoded columns) */
#define MLC_SCALE_NONE			0
#define MLC_SCALE_STANDARD		1
#define MLC_SCALE_MINMAX		2
#define MLC_SCALE_ROBUST		3
/* non-affine or row-wise scales: the column's transform holds the step */
#define MLC_SCALE_MAXABS		4
#define MLC_SCALE_LOG1P			5
#define MLC_SCALE_YEO_JOHNSON	6
#define MLC_SCALE_BOX_COX		7
#define MLC_SCALE_L2			8
#define MLC_SCALE_MAX			8

/* encoding (categorical columns) */
#define MLC_ENCODE_NONE			0
#define MLC_ENCODE_ONE_HOT		1
#define MLC_ENCODE_ORDINAL		2

/*
 * Further per-column transforms (format v3): each keeps its fitted values in
 * MlcColumn.params; mlc_column_width says how many features it produces.
 */
#define MLC_TRANSFORM_NONE		0
/*
 * Numeric steps (numeric, bool and temporal kinds), in this order: impute,
 * clip, one of log1p / yeo_johnson / box_cox / bins, then (x - center) /
 * scale_by, then the row-wise l2 norm; the indicator adds an is-missing
 * feature.  params: [flags, clip low, clip high, lambda, bin edges...].
 */
#define MLC_TRANSFORM_NUMERIC	1
#define MLC_TRANSFORM_TEMPORAL	2	/* params: calendar parts (MLC_PART_*) */
#define MLC_TRANSFORM_TOP_K		3	/* one-hot of the categories + other bucket */
#define MLC_TRANSFORM_FREQUENCY 4	/* params: share of each category */
#define MLC_TRANSFORM_TARGET	5	/* params: mean target per category, prior */
#define MLC_TRANSFORM_BINARY	6	/* binary digits of category index + 1 */
#define MLC_TRANSFORM_HASHING	7	/* params: buckets, bucket of the NULL fill */
#define MLC_TRANSFORM_MAX		7

/* flags of MLC_TRANSFORM_NUMERIC (params[0]) */
#define MLC_STEP_INDICATOR		1
#define MLC_STEP_CLIP			2
#define MLC_STEP_LOG1P			4
#define MLC_STEP_YEO_JOHNSON	8
#define MLC_STEP_BOX_COX		16
#define MLC_STEP_BINS			32
#define MLC_STEP_ROW_L2			64
#define MLC_STEP_KNN			128 /* training rows were kNN-imputed */
#define MLC_STEP_ALL			255
#define MLC_STEP_HEADER			4	/* params before the bin edges */
#define MLC_STEP_MAX_BINS		10000
#define MLC_STEP_MAX_BUCKETS	65536
#define MLC_STEP_MAX_PARTS		10

/* model format limits: the reader refuses anything larger */
#define MLC_MAX_COLUMNS			4096
#define MLC_MAX_CATEGORIES		65536
#define MLC_MAX_FEATURES		100000
#define MLC_MAX_CLASSES			1024
#define MLC_MAX_NAME_LEN		8192
#define MLC_MAX_COLUMN_PARAMS	1000000 /* fitted values of one column's transform */
#define MLC_MAX_LEARNER_PARAMS	100000000	/* learner values beyond coef (800 MB) */
#define MLC_MAX_PROFILE_EDGES	999		/* PSI bin edges of a numeric profile */
#define MLC_MAX_PROFILE_SAMPLE	1000000 /* sampled values of a numeric profile */
#define MLC_MAX_PROFILE_CATEGORIES 10000	/* categories of a categorical profile */
#define MLC_MAX_PROFILE_COUNT	(INT64CONST(1) << 53)	/* rows a profile counts */
#define MLC_MAX_PCA_INPUTS		2000	/* features PCA decomposes (a p x p covariance) */

/* kind of a reference profile */
#define MLC_PROFILE_NUMERIC		1
#define MLC_PROFILE_CATEGORICAL 2

/*
 * One fitted preprocessing step for one raw input column.  Numeric kinds
 * produce one feature: scale(impute(x)).  Categorical columns produce
 * ncategories one-hot features, or one ordinal feature (category index, -1
 * when unseen, then scaled).  A NULL categorical value becomes the category
 * fill_index (-1: no category, so an all-zero one-hot row / ordinal -1).
 */
typedef struct MlcColumn
{
	char	   *name;			/* column name in the training relation */
	uint8		kind;			/* MLC_KIND_* */
	uint8		impute;			/* MLC_IMPUTE_* */
	uint8		scale;			/* MLC_SCALE_* */
	uint8		encode;			/* MLC_ENCODE_* (categorical only) */
	double		fill;			/* numeric value that replaces NULL */
	int32		fill_index;		/* categorical: category that replaces NULL */
	double		center;			/* feature = (x - center) / scale_by */
	double		scale_by;		/* never 0 */
	int32		ncategories;	/* categorical: sorted distinct values */
	char	  **categories;		/* NUL-terminated, sorted by strcmp */
	uint8		transform;		/* MLC_TRANSFORM_* (format v3) */
	int32		nparams;		/* fitted values of the transform */
	double	   *params;			/* finite; meaning set by transform */
	/* derived when the model is built or loaded, not serialized */
	int32		out_offset;		/* first output feature of this column */
	int32		out_width;		/* number of output features */
	int32	   *hash;			/* open-addressing table of category indexes */
	int32		hash_size;		/* power of two, > 2 * ncategories */
	double	   *oof;			/* training only: out-of-fold target encoding per
								 * dataset row, NaN for rows the fit did not see */
} MlcColumn;

/*
 * The reference profile of one raw input column, or of the model's output,
 * as seen in training (format version 2).  Numeric: moments, PSI bin edges
 * with the reference counts per bin (right-closed bins, outer bins open) and
 * a sorted sample for KS.  Categorical: the most frequent categories with
 * their counts, and the count of every other value.
 */
typedef struct MlcProfile
{
	uint8		kind;			/* MLC_PROFILE_* */
	int64		count;			/* rows profiled, NULLs included */
	int64		nulls;
	/* numeric, over the non-NULL values */
	double		mean;
	double		std;			/* population standard deviation */
	double		min;
	double		max;
	int32		nedges;
	double	   *edges;			/* strictly increasing */
	int64		nbinned;		/* values the bins count: all, or a sample */
	int64	   *bins;			/* nedges + 1 counts, summing to nbinned */
	int32		nsample;
	double	   *sample;			/* sorted */
	/* categorical */
	int32		ncats;
	char	  **cats;			/* most frequent first */
	int64	   *cat_counts;		/* each at least 1 */
	int64		other;			/* non-NULL values of every other category */
} MlcProfile;

typedef struct MlcModel
{
	uint8		task;			/* MLC_TASK_* */
	uint8		algorithm;		/* MLC_ALGO_* */
	int32		ncolumns;
	MlcColumn  *columns;
	int32		nfeatures;		/* derived: sum of out_width */
	int32		nclasses;		/* 0 for regression */
	char	  **classes;		/* class labels as text, sorted */
	int32		positive_class; /* binary: index into classes, else -1 */
	int32		ncoef_rows;		/* 1 (regression, binary) or nclasses */
	double	   *coef;			/* ncoef_rows x (nfeatures + 1), intercept last */
	int64		nlearner_params;	/* format v3: the learner's state beyond coef */
	double	   *learner_params; /* finite; layout set by the algorithm */
	MlcProfile *profiles;		/* ncolumns + 1 (the output last), or NULL */
	/* derived on first use, not serialized: the learner's scoring form (tree.c) */
	void	   *learner_cache;

	/*
	 * Format v4: the feature projection between preprocessing and the
	 * learner (projection.c).  The columns produce ninput features; the
	 * learner sees the kept ones (select_features), or the PCA components of
	 * the kept ones (the pca preprocess step).  nkept 0: no projection, and
	 * nfeatures == ninput.
	 */
	int32		ninput;			/* derived: features the columns produce */
	int32		nkept;			/* kept preprocessed features, 0 for none */
	int32	   *kept;			/* nkept ascending indexes below ninput */
	int32		ncomponents;	/* PCA components of the kept features, 0 for none */
	double	   *pca_mean;		/* nkept training means */
	double	   *pca_components; /* ncomponents x nkept, row-major */
	double	   *pca_variance;	/* ncomponents explained variances (ddof 1) */
} MlcModel;

/* model_io.c */
extern bytea *mlc_model_serialize(const MlcModel *model);
extern MlcModel *mlc_model_deserialize(const bytea *blob);
extern MlcModel *mlc_model_deserialize_for_scoring(const bytea *blob);
extern void mlc_model_finalize(MlcModel *model);
extern int32 mlc_column_width(const MlcColumn *col);
extern const char *mlc_algorithm_name(int algorithm);
extern int32 mlc_category_lookup(const MlcColumn *col, const char *s, int len);
extern void mlc_model_reseal(bytea *blob);	/* fuzzing: fix length and CRC */
extern int32 mlc_projected_width(const MlcModel *model);

#endif							/* MLCYCLE_MODEL_H */
