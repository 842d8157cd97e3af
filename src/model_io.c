/*
 * model_io.c
 *	  The model format: serializing an MlcModel to a portable, checksummed
 *	  bytea and reading it back with every length, count and value checked,
 *	  the derived fields (feature offsets, category hash tables), and the SQL
 *	  functions that inspect and fuzz stored models.
 *
 * Model format v1 to v4.  Every integer is little-endian and written byte by byte;
 * float8 values are IEEE 754 binary64 bit patterns, little-endian.  A string
 * is a u32 byte length followed by that many bytes (no NUL terminator).
 *
 *	 preamble	magic "MLCY" (4 bytes)
 *				u16 format version (1; 2 with reference profiles; 3 with
 *				column transforms or learner parameters; 4 with a feature
 *				projection)
 *				u16 flags (0: versions 1 to 4 define none)
 *				u32 header length (22)
 *				u32 payload length: bytes after the preamble, CRC excluded
 *	 header		u8 task, u8 algorithm, u32 ncolumns, u32 nfeatures,
 *				u32 nclasses, i32 positive_class, u32 ncoef_rows
 *	 columns	ncolumns times: string name, u8 kind, u8 impute, u8 scale,
 *				u8 encode, f64 fill, i32 fill_index, f64 center, f64 scale_by,
 *				u32 ncategories, ncategories strings (sorted by strcmp);
 *				versions 3 and 4: u8 transform, u32 nparams, nparams f64
 *	 projection	version 4 only: u32 ninput (the features the columns
 *				produce), u32 nkept, nkept u32 strictly increasing indexes
 *				below ninput, u32 ncomponents (0: no PCA, else at most
 *				nkept), then ncomponents f64 explained variances (>= 0),
 *				nkept f64 means, ncomponents * nkept f64 components
 *				(row-major); the header's nfeatures is ncomponents, or nkept
 *				without PCA
 *	 classes	nclasses strings
 *	 coef		ncoef_rows * (nfeatures + 1) f64, row-major, intercept last
 *	 learner	versions 3 and 4: u64 n, n f64 (the algorithm's state beyond coef,
 *				checked by check_learner_params), then u8 1 when profiles follow
 *				or 0 when they do not
 *	 profiles	versions 2 to 4: ncolumns + 1 reference profiles (one per
 *				column, then the model's output), each u8 kind, u64 count,
 *				u64 nulls, then
 *				numeric (1): f64 mean, std, min, max; u32 nedges, nedges
 *				f64 (strictly increasing); u64 nbinned, nedges + 1 u64 bin
 *				counts summing to nbinned; u32 nsample, nsample f64 (sorted)
 *				categorical (2): u32 ncats, ncats times (string, u64 count
 *				>= 1); u64 other; the counts and other sum to count - nulls
 *	 trailer	u32 CRC32C of every byte before it
 *
 * The reader checks magic and version, then lengths and the CRC, then every
 * field against the limits in model.h and against the bytes that remain, so
 * that a truncated, corrupted or hostile blob raises ERRCODE_DATA_CORRUPTED
 * and no allocation is ever sized by an unchecked value.
 */
#include "postgres.h"

#include <math.h>

#include "common/hashfn.h"
#include "common/pg_prng.h"
#include "mb/pg_wchar.h"
#include "port/pg_crc32c.h"
#include "utils/memutils.h"

#include "model.h"
#include "tree_layout.h"

#ifndef MLC_FUZZ_STANDALONE
#include "access/xact.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/resowner.h"
#endif

#define MLC_MAGIC				"MLCY"
#define MLC_FORMAT_VERSION		1
#define MLC_FORMAT_VERSION_PROFILES 2
#define MLC_FORMAT_VERSION_EXT	3
#define MLC_FORMAT_VERSION_PROJECTION 4
#define MLC_PREAMBLE_LEN		16
#define MLC_HEADER_LEN_V1		22
#define MLC_CRC_LEN				4
#define MLC_MIN_MODEL_LEN		(MLC_PREAMBLE_LEN + MLC_HEADER_LEN_V1 + MLC_CRC_LEN)
/* smallest serialized column: 1-byte name, no categories */
#define MLC_MIN_COLUMN_LEN		(4 + 1 + 4 + 8 + 4 + 8 + 8 + 4)

static void limit_error(const char *what, int64 value, int64 limit) pg_attribute_noreturn();
static void bad_field(int colno, const char *field, int64 value) pg_attribute_noreturn();

#define MLC_CORRUPT_HINT \
	errhint("Retrain the model or restore it from a backup.")

/* Output cursor; with buf == NULL it only counts bytes */
typedef struct MlcWriter
{
	uint8	   *buf;
	uint64		pos;
} MlcWriter;

/* Input cursor over the bytes between the preamble and the CRC */
typedef struct MlcReader
{
	const uint8 *p;
	Size		left;
	int			version;		/* format version of the blob */
} MlcReader;


/* ---------- writing ---------- */

/* Append one byte */
static void
put_u8(MlcWriter *w, uint8 v)
{
	if (w->buf)
		w->buf[w->pos] = v;
	w->pos++;
}

/* Append a little-endian u16 */
static void
put_u16(MlcWriter *w, uint16 v)
{
	put_u8(w, (uint8) (v & 0xFF));
	put_u8(w, (uint8) (v >> 8));
}

/* Append a little-endian u32 */
static void
put_u32(MlcWriter *w, uint32 v)
{
	int			i;

	for (i = 0; i < 4; i++)
		put_u8(w, (uint8) ((v >> (8 * i)) & 0xFF));
}

/* Append a little-endian i32 (two's complement) */
static void
put_i32(MlcWriter *w, int32 v)
{
	put_u32(w, (uint32) v);
}

/* Append a little-endian u64 */
static void
put_u64(MlcWriter *w, uint64 v)
{
	put_u32(w, (uint32) (v & 0xFFFFFFFF));
	put_u32(w, (uint32) (v >> 32));
}

/* Append a float8 as its little-endian IEEE 754 bit pattern */
static void
put_f64(MlcWriter *w, double v)
{
	uint64		bits;
	int			i;

	memcpy(&bits, &v, sizeof(bits));
	for (i = 0; i < 8; i++)
		put_u8(w, (uint8) ((bits >> (8 * i)) & 0xFF));
}

/* Append a string: u32 length, then its bytes */
static void
put_string(MlcWriter *w, const char *s)
{
	size_t		len = strlen(s);

	put_u32(w, (uint32) len);
	if (w->buf)
		memcpy(w->buf + w->pos, s, len);
	w->pos += len;
}

/* Raise the error for a model that exceeds a format limit */
static void
limit_error(const char *what, int64 value, int64 limit)
{
	ereport(ERROR,
			(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
			 errmsg("model exceeds a format limit: too many %s", what),
			 errdetail("The model has " INT64_FORMAT " %s; the limit is " INT64_FORMAT ".",
					   value, what, limit)));
}

/* Check a string against the format's length limit before writing it */
static void
check_string_len(const char *s, const char *what)
{
	size_t		len = strlen(s);

	if (len > MLC_MAX_NAME_LEN)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("model exceeds a format limit: %s is too long", what),
				 errdetail("It is %zu bytes long; the limit is %d bytes.",
						   len, MLC_MAX_NAME_LEN),
				 errhint("Exclude the column or shorten its values.")));
}

/* Fail unless every coefficient is finite: a diverged fit must not be saved */
static void
check_coef_finite(const MlcModel *model)
{
	int64		ncoef = (int64) model->ncoef_rows * (model->nfeatures + 1);
	int64		k;

	for (k = 0; k < ncoef; k++)
		if (!isfinite(model->coef[k]))
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("cannot save the model: coefficient " INT64_FORMAT " is not finite", k + 1),
					 errdetail("Training produced an infinite or NaN coefficient."),
					 errhint("Scale the features, or add regularization (ridge, or a smaller C for logistic regression).")));
}

/* Fail unless n values are finite: column colname's transform (or, NULL, the learner) */
static void
check_values_finite(const double *v, int64 n, const char *colname)
{
	int64		k;

	for (k = 0; k < n; k++)
		if (!isfinite(v[k]))
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 colname ?
					 errmsg("cannot save the model: value " INT64_FORMAT " of the transform of column \"%s\" is not finite",
							k + 1, colname) :
					 errmsg("cannot save the model: learner parameter " INT64_FORMAT " is not finite", k + 1),
					 errdetail("Training produced an infinite or NaN value."),
					 errhint("Remove infinite values from the data, or add regularization.")));
}

/* Check the version 3 parts: transform values and learner parameters */
static void
check_params_writable(const MlcModel *model)
{
	int			i;

	for (i = 0; i < model->ncolumns; i++)
	{
		const MlcColumn *col = &model->columns[i];

		if (col->nparams < 0 || col->nparams > MLC_MAX_COLUMN_PARAMS)
			limit_error("fitted values of a column transform", col->nparams, MLC_MAX_COLUMN_PARAMS);
		check_values_finite(col->params, col->nparams, col->name);
	}
	if (model->nlearner_params < 0 || model->nlearner_params > MLC_MAX_LEARNER_PARAMS)
		limit_error("learner parameters", model->nlearner_params, MLC_MAX_LEARNER_PARAMS);
	check_values_finite(model->learner_params, model->nlearner_params, NULL);
}

/* Check the feature projection's counts, indexes and values */
static void
check_projection_writable(const MlcModel *model)
{
	int64		k = model->ncomponents;

	if (model->nkept == 0)
		return;
	if (model->nkept < 0 || model->nkept > model->ninput || k < 0 || k > model->nkept ||
		(k > 0 && model->nkept > MLC_MAX_PCA_INPUTS) ||
		model->nfeatures != mlc_projected_width(model))
		elog(ERROR, "model has an inconsistent feature projection (%d of %d features kept, %d components)",
			 model->nkept, model->ninput, model->ncomponents);
	for (int j = 0; j < model->nkept; j++)
		if (model->kept[j] < 0 || model->kept[j] >= model->ninput ||
			(j > 0 && model->kept[j] <= model->kept[j - 1]))
			elog(ERROR, "model keeps feature index %d out of order or range", model->kept[j]);
	if (k == 0)
		return;
	check_values_finite(model->pca_variance, k, "(PCA)");
	check_values_finite(model->pca_mean, model->nkept, "(PCA)");
	check_values_finite(model->pca_components, k * model->nkept, "(PCA)");
	for (int64 i = 0; i < k; i++)
		if (model->pca_variance[i] < 0)
			elog(ERROR, "model has a negative PCA explained variance");
}

/* Refuse a profile whose moments overflowed or whose categories are too long */
static void
check_profile_writable(const MlcProfile *p, const char *name)
{
	int			j;

	if (!isfinite(p->mean) || !isfinite(p->std))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("cannot save the model: the reference profile of \"%s\" is not finite", name),
				 errdetail("The mean or standard deviation of its training values overflows a float8."),
				 errhint("Rescale the column, or exclude it.")));
	for (j = 0; j < p->ncats; j++)
		check_string_len(p->cats[j], "a category value");
}

/* Check the counts, lengths and values the reader refuses, so we never write them */
static void
check_writable(const MlcModel *model)
{
	int			i,
				j;

	if (model->ncolumns < 0 || model->ncolumns > MLC_MAX_COLUMNS)
		limit_error("columns", model->ncolumns, MLC_MAX_COLUMNS);
	if (model->nfeatures < 0 || model->nfeatures > MLC_MAX_FEATURES)
		limit_error("features", model->nfeatures, MLC_MAX_FEATURES);
	if (model->nclasses < 0 || model->nclasses > MLC_MAX_CLASSES)
		limit_error("classes", model->nclasses, MLC_MAX_CLASSES);
	if (model->ncoef_rows < 0 || model->ncoef_rows > Max(model->nclasses, 1))
		elog(ERROR, "model has %d coefficient rows for %d classes",
			 model->ncoef_rows, model->nclasses);
	for (i = 0; i < model->ncolumns; i++)
	{
		const MlcColumn *col = &model->columns[i];

		check_string_len(col->name, "a column name");
		if (col->ncategories < 0 || col->ncategories > MLC_MAX_CATEGORIES)
			limit_error("categories in a column", col->ncategories,
						MLC_MAX_CATEGORIES);
		for (j = 0; j < col->ncategories; j++)
			check_string_len(col->categories[j], "a category value");
		if (!isfinite(col->fill) || !isfinite(col->center) ||
			!isfinite(col->scale_by) || col->scale_by == 0.0)
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("cannot save the model: the preprocessing of column \"%s\" is not finite",
							col->name),
					 errdetail("Its fill value, center or scale divisor is infinite, NaN or a zero divisor."),
					 errhint("Remove infinite values from the column, or exclude it.")));
	}
	for (i = 0; i < model->nclasses; i++)
		check_string_len(model->classes[i], "a class label");
	check_coef_finite(model);
	check_params_writable(model);
	check_projection_writable(model);
	if (model->profiles)
		for (i = 0; i <= model->ncolumns; i++)
			check_profile_writable(&model->profiles[i],
								   i < model->ncolumns ? model->columns[i].name : "the model output");
}

/* Does the model need format version 3 (column transforms or learner parameters)? */
static bool
needs_v3(const MlcModel *model)
{
	int			i;

	if (model->nlearner_params > 0)
		return true;
	for (i = 0; i < model->ncolumns; i++)
		if (model->columns[i].transform != MLC_TRANSFORM_NONE || model->columns[i].nparams > 0)
			return true;
	return false;
}

/* The format version a model is written in: the lowest that holds it */
static int
model_version(const MlcModel *model)
{
	if (model->nkept > 0)
		return MLC_FORMAT_VERSION_PROJECTION;
	if (needs_v3(model))
		return MLC_FORMAT_VERSION_EXT;
	return model->profiles ? MLC_FORMAT_VERSION_PROFILES : MLC_FORMAT_VERSION;
}

/* Write one column's preprocessing step */
static void
write_column(MlcWriter *w, const MlcColumn *col, int version)
{
	int			j;

	put_string(w, col->name);
	put_u8(w, col->kind);
	put_u8(w, col->impute);
	put_u8(w, col->scale);
	put_u8(w, col->encode);
	put_f64(w, col->fill);
	put_i32(w, col->fill_index);
	put_f64(w, col->center);
	put_f64(w, col->scale_by);
	put_u32(w, (uint32) col->ncategories);
	for (j = 0; j < col->ncategories; j++)
		put_string(w, col->categories[j]);
	if (version >= MLC_FORMAT_VERSION_EXT)
	{
		put_u8(w, col->transform);
		put_u32(w, (uint32) col->nparams);
		for (j = 0; j < col->nparams; j++)
			put_f64(w, col->params[j]);
	}
}

/* Write one reference profile */
static void
write_profile(MlcWriter *w, const MlcProfile *p)
{
	int			j;

	put_u8(w, p->kind);
	put_u64(w, (uint64) p->count);
	put_u64(w, (uint64) p->nulls);
	if (p->kind == MLC_PROFILE_NUMERIC)
	{
		put_f64(w, p->mean);
		put_f64(w, p->std);
		put_f64(w, p->min);
		put_f64(w, p->max);
		put_u32(w, (uint32) p->nedges);
		for (j = 0; j < p->nedges; j++)
			put_f64(w, p->edges[j]);
		put_u64(w, (uint64) p->nbinned);
		for (j = 0; j <= p->nedges; j++)
			put_u64(w, (uint64) p->bins[j]);
		put_u32(w, (uint32) p->nsample);
		for (j = 0; j < p->nsample; j++)
			put_f64(w, p->sample[j]);
	}
	else
	{
		put_u32(w, (uint32) p->ncats);
		for (j = 0; j < p->ncats; j++)
		{
			put_string(w, p->cats[j]);
			put_u64(w, (uint64) p->cat_counts[j]);
		}
		put_u64(w, (uint64) p->other);
	}
}

/* Write the version 4 feature projection */
static void
write_projection(MlcWriter *w, const MlcModel *model)
{
	int64		k = model->ncomponents;

	put_u32(w, (uint32) model->ninput);
	put_u32(w, (uint32) model->nkept);
	for (int j = 0; j < model->nkept; j++)
		put_u32(w, (uint32) model->kept[j]);
	put_u32(w, (uint32) k);
	for (int64 i = 0; i < k; i++)
		put_f64(w, model->pca_variance[i]);
	for (int64 i = 0; i < (k > 0 ? model->nkept : 0); i++)
		put_f64(w, model->pca_mean[i]);
	for (int64 i = 0; i < k * model->nkept; i++)
		put_f64(w, model->pca_components[i]);
}

/* Write everything after the preamble and before the CRC */
static void
write_payload(MlcWriter *w, const MlcModel *model, int version)
{
	int64		ncoef = (int64) model->ncoef_rows * (model->nfeatures + 1);
	int64		k;
	int			i;

	put_u8(w, model->task);
	put_u8(w, model->algorithm);
	put_u32(w, (uint32) model->ncolumns);
	put_u32(w, (uint32) model->nfeatures);
	put_u32(w, (uint32) model->nclasses);
	put_i32(w, model->positive_class);
	put_u32(w, (uint32) model->ncoef_rows);
	for (i = 0; i < model->ncolumns; i++)
		write_column(w, &model->columns[i], version);
	if (version >= MLC_FORMAT_VERSION_PROJECTION)
		write_projection(w, model);
	for (i = 0; i < model->nclasses; i++)
		put_string(w, model->classes[i]);
	for (k = 0; k < ncoef; k++)
		put_f64(w, model->coef[k]);
	if (version >= MLC_FORMAT_VERSION_EXT)
	{
		put_u64(w, (uint64) model->nlearner_params);
		for (k = 0; k < model->nlearner_params; k++)
			put_f64(w, model->learner_params[k]);
		put_u8(w, model->profiles ? 1 : 0);
	}
	if (model->profiles)
		for (i = 0; i <= model->ncolumns; i++)
			write_profile(w, &model->profiles[i]);
}

/* Write the preamble for a payload of the given length */
static void
write_preamble(MlcWriter *w, uint32 payload_len, int version)
{
	int			i;

	for (i = 0; i < 4; i++)
		put_u8(w, (uint8) MLC_MAGIC[i]);
	put_u16(w, (uint16) version);
	put_u16(w, 0);
	put_u32(w, MLC_HEADER_LEN_V1);
	put_u32(w, payload_len);
}

/* CRC32C of the first len bytes */
static pg_crc32c
model_crc(const uint8 *data, Size len)
{
	pg_crc32c	crc;

	INIT_CRC32C(crc);
	COMP_CRC32C(crc, data, len);
	FIN_CRC32C(crc);
	return crc;
}

/* Error context line for the read-back check of a freshly written model */
static void
verify_context(void *arg)
{
	errcontext("while checking a model just serialized by mlcycle");
}

/* Read a freshly written model back, so a writer bug fails now, not at scoring */
static void
verify_written(const bytea *blob)
{
	MemoryContext cxt;
	MemoryContext old;
	ErrorContextCallback errcb;

	cxt = AllocSetContextCreate(CurrentMemoryContext, "mlcycle model check",
								ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(cxt);
	errcb.callback = verify_context;
	errcb.arg = NULL;
	errcb.previous = error_context_stack;
	error_context_stack = &errcb;
	(void) mlc_model_deserialize(blob);
	error_context_stack = errcb.previous;
	MemoryContextSwitchTo(old);
	MemoryContextDelete(cxt);
}

/* Serialize a model in the lowest version that holds it; see the top of the file */
bytea *
mlc_model_serialize(const MlcModel *model)
{
	MlcWriter	w = {NULL, 0};
	uint64		payload_len;
	uint64		total;
	bytea	   *blob;
	pg_crc32c	crc;
	int			version;

	check_writable(model);
	version = model_version(model);
	write_payload(&w, model, version);
	payload_len = w.pos;
	total = MLC_PREAMBLE_LEN + payload_len + MLC_CRC_LEN;
	if (total > MaxAllocSize - VARHDRSZ)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("model exceeds a format limit: serialized model is too large"),
				 errdetail("It would take " UINT64_FORMAT " bytes; the limit is %zu bytes.",
						   total, (Size) (MaxAllocSize - VARHDRSZ)),
				 errhint("Exclude high-cardinality categorical columns.")));

	blob = (bytea *) palloc(VARHDRSZ + total);
	SET_VARSIZE(blob, VARHDRSZ + total);
	w.buf = (uint8 *) VARDATA(blob);
	w.pos = 0;
	write_preamble(&w, (uint32) payload_len, version);
	write_payload(&w, model, version);
	Assert(w.pos == MLC_PREAMBLE_LEN + payload_len);
	crc = model_crc(w.buf, w.pos);
	put_u32(&w, crc);

	verify_written(blob);
	return blob;
}

/* Recompute the payload length and CRC of a blob, for fuzzing; short blobs are left alone */
void
mlc_model_reseal(bytea *blob)
{
	uint8	   *data = (uint8 *) VARDATA(blob);
	Size		len = VARSIZE(blob) - VARHDRSZ;
	MlcWriter	w;

	if (len < MLC_MIN_MODEL_LEN)
		return;
	w.buf = data;
	w.pos = 12;
	put_u32(&w, (uint32) (len - MLC_PREAMBLE_LEN - MLC_CRC_LEN));
	w.pos = len - MLC_CRC_LEN;
	put_u32(&w, model_crc(data, len - MLC_CRC_LEN));
}


/* ---------- reading ---------- */

/* Little-endian u16 at p */
static inline uint16
le16(const uint8 *p)
{
	return (uint16) (p[0] | (p[1] << 8));
}

/* Little-endian u32 at p */
static inline uint32
le32(const uint8 *p)
{
	return (uint32) p[0] | ((uint32) p[1] << 8) |
		((uint32) p[2] << 16) | ((uint32) p[3] << 24);
}

/* Fail unless n more bytes remain for what */
static void
need(MlcReader *r, Size n, const char *what)
{
	if (n > r->left)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("invalid mlcycle model: truncated %s", what),
				 errdetail("Reading it needs %zu more bytes, but only %zu remain.",
						   n, r->left),
				 MLC_CORRUPT_HINT));
}

/* Consume one byte */
static uint8
get_u8(MlcReader *r, const char *what)
{
	uint8		v;

	need(r, 1, what);
	v = r->p[0];
	r->p++;
	r->left--;
	return v;
}

/* Consume a little-endian u32 */
static uint32
get_u32(MlcReader *r, const char *what)
{
	uint32		v;

	need(r, 4, what);
	v = le32(r->p);
	r->p += 4;
	r->left -= 4;
	return v;
}

/* Consume a little-endian i32 */
static int32
get_i32(MlcReader *r, const char *what)
{
	return (int32) get_u32(r, what);
}

/* Consume a float8 bit pattern */
static double
get_f64(MlcReader *r, const char *what)
{
	uint64		bits;
	double		v;

	need(r, 8, what);
	bits = (uint64) le32(r->p) | ((uint64) le32(r->p + 4) << 32);
	memcpy(&v, &bits, sizeof(v));
	r->p += 8;
	r->left -= 8;
	return v;
}

/* Consume a little-endian u64 */
static uint64
get_u64(MlcReader *r, const char *what)
{
	uint64		lo = get_u32(r, what);

	return lo | ((uint64) get_u32(r, what) << 32);
}

/* Consume a count, checking it against its limit and the bytes it needs */
static int32
get_count(MlcReader *r, const char *what, uint32 limit, Size min_bytes_each)
{
	uint32		n = get_u32(r, what);

	if (n > limit)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("invalid mlcycle model: too many %s", what),
				 errdetail("The model claims %u %s; the limit is %u.",
						   n, what, limit),
				 MLC_CORRUPT_HINT));
	if ((uint64) n * min_bytes_each > r->left)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("invalid mlcycle model: truncated %s", what),
				 errdetail("The model claims %u %s, more than its remaining %zu bytes can hold.",
						   n, what, r->left),
				 MLC_CORRUPT_HINT));
	return (int32) n;
}

/* Consume a string: checked length, no NUL, valid encoding; returns a palloc'd copy */
static char *
get_string(MlcReader *r, const char *what, bool allow_empty)
{
	uint32		len = get_u32(r, what);
	char	   *s;

	if (len > MLC_MAX_NAME_LEN)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("invalid mlcycle model: %s is too long", what),
				 errdetail("Its length is %u bytes; the limit is %d bytes.",
						   len, MLC_MAX_NAME_LEN),
				 MLC_CORRUPT_HINT));
	if (len == 0 && !allow_empty)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("invalid mlcycle model: empty %s", what),
				 MLC_CORRUPT_HINT));
	need(r, len, what);
	if (memchr(r->p, '\0', len) != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("invalid mlcycle model: %s contains a zero byte", what),
				 MLC_CORRUPT_HINT));
	if (!pg_verifymbstr((const char *) r->p, (int) len, true))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("invalid mlcycle model: %s is not valid in the database encoding", what),
				 MLC_CORRUPT_HINT));
	s = palloc(len + 1);
	memcpy(s, r->p, len);
	s[len] = '\0';
	r->p += len;
	r->left -= len;
	return s;
}

/* Fail with "value out of range" for an enum-like or index field */
static void
bad_field(int colno, const char *field, int64 value)
{
	if (colno > 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("invalid mlcycle model: column %d has an invalid %s", colno, field),
				 errdetail("The stored value " INT64_FORMAT " is not allowed there.", value),
				 MLC_CORRUPT_HINT));
	ereport(ERROR,
			(errcode(ERRCODE_DATA_CORRUPTED),
			 errmsg("invalid mlcycle model: invalid %s", field),
			 errdetail("The stored value " INT64_FORMAT " is not allowed there.", value),
			 MLC_CORRUPT_HINT));
}

/* Fail unless a float8 field is finite (and non-zero when asked) */
static void
check_finite(int colno, const char *field, double v, bool nonzero)
{
	if (!isfinite(v) || (nonzero && v == 0.0))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("invalid mlcycle model: column %d has an invalid %s", colno, field),
				 errdetail("The stored value must be finite%s.",
						   nonzero ? " and non-zero" : ""),
				 MLC_CORRUPT_HINT));
}

/* Check the enum fields of column colno (1-based) and their consistency with its kind */
static void
check_column_enums(const MlcColumn *col, int colno)
{
	bool		categorical = (col->kind == MLC_KIND_CATEGORICAL);

	if (col->kind < MLC_KIND_NUMERIC || col->kind > MLC_KIND_CATEGORICAL)
		bad_field(colno, "kind", col->kind);
	if (col->impute < MLC_IMPUTE_MEAN || col->impute > MLC_IMPUTE_NONE)
		bad_field(colno, "imputation", col->impute);
	if (col->scale > MLC_SCALE_MAX)
		bad_field(colno, "scaling", col->scale);
	if (col->transform > MLC_TRANSFORM_MAX)
		bad_field(colno, "transform", col->transform);
	if (categorical ? (col->encode != MLC_ENCODE_ONE_HOT &&
					   col->encode != MLC_ENCODE_ORDINAL)
		: col->encode != MLC_ENCODE_NONE)
		bad_field(colno, "encoding for its kind", col->encode);
}

/* Read the categories of column colno: strictly increasing by strcmp */
static void
read_categories(MlcReader *r, MlcColumn *col, int colno)
{
	int			j;

	col->ncategories = get_count(r, "categories", MLC_MAX_CATEGORIES, 4);
	if (col->ncategories > 0 && col->kind != MLC_KIND_CATEGORICAL)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("invalid mlcycle model: column %d has categories but is not categorical", colno),
				 MLC_CORRUPT_HINT));
	col->categories = palloc(sizeof(char *) * Max(col->ncategories, 1));
	for (j = 0; j < col->ncategories; j++)
	{
		col->categories[j] = get_string(r, "category value", true);
		if (j > 0 && strcmp(col->categories[j - 1], col->categories[j]) >= 0)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("invalid mlcycle model: categories of column %d are not sorted and unique", colno),
					 errdetail("Category %d does not sort strictly after category %d.",
							   j + 1, j),
					 MLC_CORRUPT_HINT));
	}
}

/* Read n finite float8 values; what names them in errors */
static double *
read_finite_values(MlcReader *r, int64 n, const char *what)
{
	double	   *v;
	int64		k;

	need(r, (Size) n * 8, what);
	v = palloc(sizeof(double) * Max(n, 1));
	for (k = 0; k < n; k++)
	{
		v[k] = get_f64(r, what);
		if (!isfinite(v[k]))
			ereport(ERROR,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("invalid mlcycle model: value " INT64_FORMAT " of the %s is not finite", k + 1, what),
					 MLC_CORRUPT_HINT));
	}
	return v;
}

/* A stored float8 as an integer for messages (out-of-range values as -1) */
static int64
stored_int(double v)
{
	return (v > -1e15 && v < 1e15) ? (int64) v : -1;
}

/* Check the numeric steps: flags, clip bounds, lambda and sorted bin edges */
static void
check_numeric_steps(const MlcColumn *col, int colno)
{
	const double *p = col->params;
	int			flags;
	int			shapes;

	if (col->nparams < MLC_STEP_HEADER || col->nparams > MLC_STEP_HEADER + MLC_STEP_MAX_BINS + 1)
		bad_field(colno, "number of transform values", col->nparams);
	if (p[0] != floor(p[0]) || p[0] < 0 || p[0] > MLC_STEP_ALL)
		bad_field(colno, "transform flags", stored_int(p[0]));
	flags = (int) p[0];
	shapes = !!(flags & MLC_STEP_LOG1P) + !!(flags & MLC_STEP_YEO_JOHNSON) +
		!!(flags & MLC_STEP_BOX_COX) + !!(flags & MLC_STEP_BINS);
	if (shapes > 1)
		bad_field(colno, "transform flags", flags);
	if ((flags & MLC_STEP_CLIP) && p[1] > p[2])
		bad_field(colno, "clip bounds", 0);
	if (fabs(p[3]) > 1e6)
		bad_field(colno, "power-transform lambda", stored_int(p[3]));
	if ((flags & MLC_STEP_BINS) ? col->nparams < MLC_STEP_HEADER + 2 : col->nparams != MLC_STEP_HEADER)
		bad_field(colno, "number of transform values", col->nparams);
	for (int k = MLC_STEP_HEADER + 1; k < col->nparams; k++)
		if (p[k] < p[k - 1])
			bad_field(colno, "bin edge order", k);
}

/*
 * Check a column transform's fitted values against what the transform
 * needs.  Every transform adds a case; none (the default) has no values.
 */
static void
check_column_params(const MlcColumn *col, int colno)
{
	bool		categorical = (col->kind == MLC_KIND_CATEGORICAL);
	const double *p = col->params;

	if (col->transform != MLC_TRANSFORM_NONE &&
		(col->transform == MLC_TRANSFORM_NUMERIC || col->transform == MLC_TRANSFORM_TEMPORAL) == categorical)
		bad_field(colno, "transform for its kind", col->transform);
	switch (col->transform)
	{
		case MLC_TRANSFORM_NUMERIC:
			check_numeric_steps(col, colno);
			break;
		case MLC_TRANSFORM_TEMPORAL:
			if (col->kind != MLC_KIND_TEMPORAL)
				bad_field(colno, "transform for its kind", col->transform);
			if (col->nparams < 1 || col->nparams > MLC_STEP_MAX_PARTS)
				bad_field(colno, "number of transform values", col->nparams);
			for (int k = 0; k < col->nparams; k++)
				if (p[k] != floor(p[k]) || p[k] < 0 || p[k] > 12 || ((int) p[k] & ~8) > 4)
					bad_field(colno, "calendar part", stored_int(p[k]));
			break;
		case MLC_TRANSFORM_TOP_K:
		case MLC_TRANSFORM_BINARY:
			if (col->nparams != 0)
				bad_field(colno, "number of transform values", col->nparams);
			if (col->encode != (col->transform == MLC_TRANSFORM_TOP_K ? MLC_ENCODE_ONE_HOT : MLC_ENCODE_ORDINAL))
				bad_field(colno, "encoding for its transform", col->encode);
			break;
		case MLC_TRANSFORM_FREQUENCY:
		case MLC_TRANSFORM_TARGET:
			if (col->nparams != col->ncategories + (col->transform == MLC_TRANSFORM_TARGET))
				bad_field(colno, "number of transform values", col->nparams);
			if (col->encode != MLC_ENCODE_ORDINAL)
				bad_field(colno, "encoding for its transform", col->encode);
			break;
		case MLC_TRANSFORM_HASHING:
			if (col->nparams != 2 || col->ncategories != 0 || col->encode != MLC_ENCODE_ORDINAL)
				bad_field(colno, "number of transform values", col->nparams);
			if (p[0] != floor(p[0]) || p[0] < 1 || p[0] > MLC_STEP_MAX_BUCKETS)
				bad_field(colno, "number of hash buckets", stored_int(p[0]));
			if (p[1] != floor(p[1]) || p[1] < -1 || p[1] >= p[0])
				bad_field(colno, "hash bucket of the NULL fill", stored_int(p[1]));
			break;
		default:
			if (col->nparams != 0)
				bad_field(colno, "number of transform values", col->nparams);
	}
}

/* Read the version 3 transform of column colno */
static void
read_column_params(MlcReader *r, MlcColumn *col, int colno)
{
	col->transform = get_u8(r, "column");
	if (col->transform > MLC_TRANSFORM_MAX)
		bad_field(colno, "transform", col->transform);
	col->nparams = get_count(r, "column transform values", MLC_MAX_COLUMN_PARAMS, 8);
	col->params = read_finite_values(r, col->nparams, "column transform values");
	check_column_params(col, colno);
}

/* Read and check column colno (1-based) */
static void
read_column(MlcReader *r, MlcColumn *col, int colno)
{
	col->name = get_string(r, "column name", false);
	col->kind = get_u8(r, "column");
	col->impute = get_u8(r, "column");
	col->scale = get_u8(r, "column");
	col->encode = get_u8(r, "column");
	col->fill = get_f64(r, "column");
	col->fill_index = get_i32(r, "column");
	col->center = get_f64(r, "column");
	col->scale_by = get_f64(r, "column");
	check_column_enums(col, colno);
	check_finite(colno, "fill value", col->fill, false);
	check_finite(colno, "center", col->center, false);
	check_finite(colno, "scale divisor", col->scale_by, true);
	read_categories(r, col, colno);
	if (col->fill_index < -1 || col->fill_index >= col->ncategories)
		bad_field(colno, "fill category index", col->fill_index);
	if (r->version >= MLC_FORMAT_VERSION_EXT)
		read_column_params(r, col, colno);
}

/* qsort comparator over an array of C strings */
static int
cmp_cstring_ptr(const void *a, const void *b)
{
	return strcmp(*(char *const *) a, *(char *const *) b);
}

/* Fail if two of the n strings are equal */
static void
check_unique(char **strings, int n, const char *what)
{
	char	  **sorted;
	int			i;

	if (n < 2)
		return;
	sorted = palloc(sizeof(char *) * n);
	memcpy(sorted, strings, sizeof(char *) * n);
	qsort(sorted, n, sizeof(char *), cmp_cstring_ptr);
	for (i = 1; i < n; i++)
		if (strcmp(sorted[i - 1], sorted[i]) == 0)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("invalid mlcycle model: duplicate %s", what),
					 MLC_CORRUPT_HINT));
	pfree(sorted);
}

/* Read the columns and check that their names are unique */
static void
read_columns(MlcReader *r, MlcModel *model)
{
	char	  **names;
	int			i;

	model->columns = palloc0(sizeof(MlcColumn) * Max(model->ncolumns, 1));
	names = palloc(sizeof(char *) * Max(model->ncolumns, 1));
	for (i = 0; i < model->ncolumns; i++)
	{
		read_column(r, &model->columns[i], i + 1);
		names[i] = model->columns[i].name;
	}
	check_unique(names, model->ncolumns, "column name");
	pfree(names);
}

/* Read the class labels and check them against the task */
static void
read_classes(MlcReader *r, MlcModel *model)
{
	int			i;

	model->classes = palloc(sizeof(char *) * Max(model->nclasses, 1));
	for (i = 0; i < model->nclasses; i++)
		model->classes[i] = get_string(r, "class label", true);
	check_unique(model->classes, model->nclasses, "class label");
}

/* Check task, algorithm and the class/coefficient-row counts of the header */
static void
check_header(const MlcModel *model)
{
	bool		binary;

	if (model->task != MLC_TASK_REGRESSION &&
		model->task != MLC_TASK_CLASSIFICATION)
		bad_field(0, "task", model->task);
	if (strcmp(mlc_algorithm_name(model->algorithm), "unknown") == 0)
		bad_field(0, "algorithm", model->algorithm);
	if (model->task == MLC_TASK_REGRESSION ? model->nclasses != 0
		: model->nclasses < 2)
		bad_field(0, "number of classes for the task", model->nclasses);
	binary = (model->task == MLC_TASK_CLASSIFICATION && model->nclasses == 2);
	if (binary ? (model->positive_class < 0 || model->positive_class >= 2)
		: model->positive_class != -1)
		bad_field(0, "positive class", model->positive_class);
	if (model->ncoef_rows !=
		(model->task == MLC_TASK_REGRESSION || binary ? 1 : model->nclasses))
		bad_field(0, "number of coefficient rows", model->ncoef_rows);
}

/* Read the header section */
static void
read_header(MlcReader *r, MlcModel *model)
{
	model->task = get_u8(r, "header");
	model->algorithm = get_u8(r, "header");
	model->ncolumns = get_count(r, "columns", MLC_MAX_COLUMNS, 0);
	model->nfeatures = get_count(r, "features", MLC_MAX_FEATURES, 0);
	model->nclasses = get_count(r, "classes", MLC_MAX_CLASSES, 0);
	model->positive_class = get_i32(r, "header");
	model->ncoef_rows = get_count(r, "coefficient rows", MLC_MAX_CLASSES, 0);
	check_header(model);
	/* now that the counts are sane, check they fit in what remains */
	if ((uint64) model->ncolumns * MLC_MIN_COLUMN_LEN +
		(uint64) model->nclasses * 4 +
		(uint64) model->ncoef_rows * (model->nfeatures + 1) * 8 > r->left)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("invalid mlcycle model: truncated model body"),
				 errdetail("The header's counts need more than the remaining %zu bytes.",
						   r->left),
				 MLC_CORRUPT_HINT));
}

/* Number of features the columns produce, without trusting any derived field */
static int64
count_features(const MlcModel *model)
{
	int64		n = 0;
	int			i;

	for (i = 0; i < model->ncolumns; i++)
	{
		const MlcColumn *col = &model->columns[i];

		n += mlc_column_width(col);
	}
	return n;
}

/* Read the coefficient matrix; the header already bounded its size */
static void
read_coef(MlcReader *r, MlcModel *model)
{
	int64		ncoef = (int64) model->ncoef_rows * (model->nfeatures + 1);
	int64		k;

	need(r, (Size) ncoef * 8, "coefficients");
	model->coef = palloc(sizeof(double) * Max(ncoef, 1));
	for (k = 0; k < ncoef; k++)
	{
		model->coef[k] = get_f64(r, "coefficients");
		if (!isfinite(model->coef[k]))
			ereport(ERROR,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("invalid mlcycle model: coefficient " INT64_FORMAT " is not finite", k + 1),
					 MLC_CORRUPT_HINT));
	}
}

/* A learner parameter as an integer for bad_field, clamped so the cast is defined */
static int64
param_i64(double v)
{
	return (int64) Max(Min(v, 1e18), -1e18);
}

/*
 * Naive Bayes (see learners.h): K, p, kind[p], then per class the log prior
 * and two values per feature.  Scoring divides by the variances and indexes
 * nothing, so the checks are the sizes, the kinds and the signs.
 */
static void
check_naive_bayes_params(const MlcModel *model)
{
	const double *lp = model->learner_params;
	int64		p = model->nfeatures;
	int64		K = model->nclasses;

	if (model->task != MLC_TASK_CLASSIFICATION)
		bad_field(0, "task of a naive Bayes model", model->task);
	if (model->nlearner_params != 2 + p + K * (1 + 2 * p))
		bad_field(0, "number of learner parameters", model->nlearner_params);
	if (lp[0] != (double) K)
		bad_field(0, "naive Bayes class count", param_i64(lp[0]));
	if (lp[1] != (double) p)
		bad_field(0, "naive Bayes feature count", param_i64(lp[1]));
	for (int64 f = 0; f < p; f++)
		if (lp[2 + f] != 0 && lp[2 + f] != 1)
			bad_field(0, "naive Bayes feature kind", param_i64(lp[2 + f]));
	for (int64 k = 0; k < K; k++)
	{
		const double *c = lp + 2 + p + k * (1 + 2 * p);

		if (!(c[0] <= 0))
			bad_field(0, "naive Bayes log prior of class", k + 1);
		for (int64 f = 0; f < p; f++)
		{
			if (lp[2 + f] == 0 && !(c[1 + p + f] > 0))
				bad_field(0, "naive Bayes variance of feature", f + 1);
			if (lp[2 + f] == 1 && !(c[1 + f] <= 0))
				bad_field(0, "naive Bayes log probability of feature", f + 1);
		}
	}
}

/*
 * k nearest neighbors (see learners.h): n, p, k, weights, metric, the rows,
 * then one target per row.  Scoring indexes classes by the targets and keeps
 * k of the n rows, so k must be in 1..n and each class index below nclasses.
 */
static void
check_knn_params(const MlcModel *model)
{
	const double *lp = model->learner_params;
	int64		n,
				p = model->nfeatures;

	if (model->nlearner_params < 5)
		bad_field(0, "number of learner parameters", model->nlearner_params);
	if (!(lp[0] >= 1 && lp[0] <= (double) MLC_MAX_LEARNER_PARAMS) || lp[0] != floor(lp[0]))
		bad_field(0, "k-nearest-neighbors row count", param_i64(lp[0]));
	n = (int64) lp[0];
	if (lp[1] != (double) p)
		bad_field(0, "k-nearest-neighbors feature count", param_i64(lp[1]));
	if (model->nlearner_params != 5 + n * p + n)
		bad_field(0, "number of learner parameters", model->nlearner_params);
	if (!(lp[2] >= 1 && lp[2] <= (double) n) || lp[2] != floor(lp[2]))
		bad_field(0, "n_neighbors", param_i64(lp[2]));
	if (lp[3] != 0 && lp[3] != 1)
		bad_field(0, "k-nearest-neighbors weights", param_i64(lp[3]));
	if (lp[4] != 0 && lp[4] != 1)
		bad_field(0, "k-nearest-neighbors metric", param_i64(lp[4]));
	if (model->task == MLC_TASK_CLASSIFICATION)
		for (int64 i = 0; i < n; i++)
		{
			double		c = lp[5 + n * p + i];

			if (!(c >= 0 && c < model->nclasses) || c != floor(c))
				bad_field(0, "k-nearest-neighbors class of row", i + 1);
		}
}

/*
 * Check the learner parameters against the algorithm and the header, so that
 * scoring can index them without checks.  Each algorithm that keeps state
 * beyond coef adds a case; the others have none.
 */
/* An integer-valued tree parameter at index at, within [lo, hi] */
static int64
tree_int(const MlcModel *model, int64 at, int64 lo, int64 hi, const char *what)
{
	double		v = model->learner_params[at];

	if (!(v >= (double) lo && v <= (double) hi) || v != floor(v))
		bad_field(0, what, (v >= -1e18 && v <= 1e18) ? (int64) v : -1);
	return (int64) v;
}

/*
 * The flat trees of gbdt, random_forest and decision_tree (tree_layout.h):
 * counts agree with the header and the length, every tree starts inside the
 * node array, every child lies after its parent within its tree and has one
 * parent (so no cycles), depth is bounded, features and leaves are in range.
 */
static void
check_tree_params(const MlcModel *model)
{
	bool		multi = model->task == MLC_TASK_CLASSIFICATION && model->nclasses > 2;
	bool		gbdt = model->algorithm == MLC_ALGO_GBDT;
	int64		ntrees,
				ngroups,
				lw,
				nnodes,
				nleaves,
				nout,
				tbase,
				nbase,
				lbase;
	uint8	   *parents;
	int16	   *depth;

	if (model->nlearner_params < MLC_TREE_HEADER)
		bad_field(0, "number of learner parameters", model->nlearner_params);
	tree_int(model, 0, MLC_TREE_LAYOUT, MLC_TREE_LAYOUT, "tree layout");
	ntrees = tree_int(model, 1, 1, MLC_TREE_MAX_TREES, "number of trees");
	ngroups = tree_int(model, 2, gbdt && multi ? model->nclasses : 1,
					   gbdt && multi ? model->nclasses : 1, "number of tree groups");
	lw = tree_int(model, 3, !gbdt && multi ? model->nclasses : 1,
				  !gbdt && multi ? model->nclasses : 1, "leaf width");
	nnodes = tree_int(model, 4, 1, MLC_MAX_LEARNER_PARAMS, "number of tree nodes");
	nleaves = tree_int(model, 5, 1, MLC_MAX_LEARNER_PARAMS, "number of tree leaves");
	tree_int(model, 6, gbdt ? MLC_TREE_COMBINE_SUM : MLC_TREE_COMBINE_MEAN,
			 gbdt ? MLC_TREE_COMBINE_SUM : MLC_TREE_COMBINE_MEAN, "tree combination");
	tree_int(model, 7, model->nfeatures, model->nfeatures, "number of tree features");
	nout = ngroups * lw;
	tbase = MLC_TREE_HEADER + nout;
	nbase = tbase + 2 * ntrees;
	lbase = nbase + MLC_TREE_NODE * nnodes;
	if (lbase + lw * nleaves != model->nlearner_params)
		bad_field(0, "number of learner parameters for the trees", model->nlearner_params);
	parents = palloc0(nnodes);
	depth = palloc0(sizeof(int16) * nnodes);
	for (int64 t = 0; t < ntrees; t++)
	{
		int64		start = tree_int(model, tbase + 2 * t, t == 0 ? 0 : 1, nnodes - 1, "tree start");
		double		next = t + 1 < ntrees ? model->learner_params[tbase + 2 * t + 2] : (double) nnodes;
		int64		end = (next > (double) start && next <= (double) nnodes) ? (int64) next : -1;

		if (t > 0 && start <= (int64) model->learner_params[tbase + 2 * t - 2])
			bad_field(0, "tree start", start);
		tree_int(model, tbase + 2 * t + 1, 0, ngroups - 1, "tree group");
		if (end > nnodes || end <= start)
			bad_field(0, "tree end", end);
		for (int64 i = start; i < end; i++)
		{
			int64		at = nbase + i * MLC_TREE_NODE;
			int64		f = tree_int(model, at + MLC_TN_FEATURE, -1, model->nfeatures - 1, "tree node feature");

			if (i > start && parents[i] != 1)
				bad_field(0, "number of parents of a tree node", parents[i]);
			if (f < 0)
			{
				tree_int(model, at + MLC_TN_LEFT, -1, -1, "tree leaf child");
				tree_int(model, at + MLC_TN_RIGHT, -1, -1, "tree leaf child");
				tree_int(model, at + MLC_TN_LEAF, 0, nleaves - 1, "tree leaf index");
				continue;
			}
			tree_int(model, at + MLC_TN_DEFAULT_LEFT, 0, 1, "tree node default direction");
			tree_int(model, at + MLC_TN_LEAF, -1, -1, "tree split leaf index");
			if (!(model->learner_params[at + MLC_TN_COVER] >= 0))
				bad_field(0, "tree node cover", -1);
			for (int side = MLC_TN_LEFT; side <= MLC_TN_RIGHT; side++)
			{
				int64		c = tree_int(model, at + side, i + 1, end - 1, "tree node child");

				if (parents[c] > 0 || depth[i] >= MLC_TREE_MAX_DEPTH)
					bad_field(0, "tree node child", c);
				parents[c] = 1;
				depth[c] = depth[i] + 1;
			}
		}
	}
	pfree(parents);
	pfree(depth);
}

static void
check_learner_params(const MlcModel *model)
{
	switch (model->algorithm)
	{
		case MLC_ALGO_NAIVE_BAYES:
			check_naive_bayes_params(model);
			break;
		case MLC_ALGO_KNN:
			check_knn_params(model);
			break;
		case MLC_ALGO_LINEAR_SVM:
			if (model->task != MLC_TASK_CLASSIFICATION)
				bad_field(0, "task of a linear SVM", model->task);
			if (model->nlearner_params != 0)
				bad_field(0, "number of learner parameters", model->nlearner_params);
			break;
		case MLC_ALGO_GBDT:
		case MLC_ALGO_RANDOM_FOREST:
		case MLC_ALGO_DECISION_TREE:
			check_tree_params(model);
			break;
		default:
			if (model->nlearner_params != 0)
				bad_field(0, "number of learner parameters", model->nlearner_params);
	}
}

/* Read the version 3 learner parameters; true when reference profiles follow */
static bool
read_learner_params(MlcReader *r, MlcModel *model)
{
	uint64		n = get_u64(r, "learner parameters");
	uint8		has_profiles;

	if (n > (uint64) MLC_MAX_LEARNER_PARAMS || n > r->left / 8)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("invalid mlcycle model: impossible number of learner parameters"),
				 errdetail("The model announces " UINT64_FORMAT " values, but only %zu bytes remain.",
						   n, r->left),
				 MLC_CORRUPT_HINT));
	model->nlearner_params = (int64) n;
	model->learner_params = read_finite_values(r, model->nlearner_params, "learner parameters");
	check_learner_params(model);
	has_profiles = get_u8(r, "learner parameters");
	if (has_profiles > 1)
		bad_field(0, "profiles flag", has_profiles);
	return has_profiles == 1;
}

/* Fail because profile no (1-based; ncolumns + 1 is the output) is inconsistent */
static void
bad_profile(int no, const char *what)
{
	ereport(ERROR,
			(errcode(ERRCODE_DATA_CORRUPTED),
			 errmsg("invalid mlcycle model: reference profile %d has %s", no, what),
			 MLC_CORRUPT_HINT));
}

/* Consume a row count of profile no: at most limit */
static int64
get_profile_count(MlcReader *r, int no, int64 limit)
{
	uint64		v = get_u64(r, "reference profile");

	if (v > (uint64) limit)
		bad_profile(no, "an impossible count");
	return (int64) v;
}

/* Read n finite float8 values of profile no; sorted: nondecreasing, strict: increasing */
static double *
read_profile_values(MlcReader *r, int no, int32 n, bool strict)
{
	double	   *v = palloc(sizeof(double) * Max(n, 1));
	int32		j;

	for (j = 0; j < n; j++)
	{
		v[j] = get_f64(r, "reference profile");
		if (!isfinite(v[j]))
			bad_profile(no, "a value that is not finite");
		if (j > 0 && (strict ? v[j] <= v[j - 1] : v[j] < v[j - 1]))
			bad_profile(no, "values out of order");
	}
	return v;
}

/* Read the numeric part of profile no, whose non-NULL values number nonnull */
static void
read_numeric_profile(MlcReader *r, MlcProfile *p, int no, int64 nonnull)
{
	int64		sum = 0;
	int32		j;

	p->mean = get_f64(r, "reference profile");
	p->std = get_f64(r, "reference profile");
	p->min = get_f64(r, "reference profile");
	p->max = get_f64(r, "reference profile");
	if (!isfinite(p->mean) || !isfinite(p->std) || !isfinite(p->min) ||
		!isfinite(p->max) || p->std < 0.0 || p->min > p->max)
		bad_profile(no, "invalid moments");
	p->nedges = get_count(r, "profile bin edges", MLC_MAX_PROFILE_EDGES, 8);
	p->edges = read_profile_values(r, no, p->nedges, true);
	p->nbinned = get_profile_count(r, no, nonnull);
	need(r, (Size) (p->nedges + 1) * 8, "profile bins");
	p->bins = palloc(sizeof(int64) * (p->nedges + 1));
	for (j = 0; j <= p->nedges; j++)
	{
		p->bins[j] = get_profile_count(r, no, p->nbinned);
		sum += p->bins[j];
	}
	if (sum != p->nbinned)
		bad_profile(no, "bin counts that do not add up");
	p->nsample = get_count(r, "profile sample values", MLC_MAX_PROFILE_SAMPLE, 8);
	if (p->nsample > nonnull)
		bad_profile(no, "more sampled values than values");
	p->sample = read_profile_values(r, no, p->nsample, false);
	if (p->nsample > 0 && (p->sample[0] < p->min || p->sample[p->nsample - 1] > p->max))
		bad_profile(no, "sampled values outside its range");
	if (nonnull == 0 && (p->nedges > 0 || p->nbinned > 0))
		bad_profile(no, "bins but no values");
}

/* Read the categorical part of profile no, whose non-NULL values number nonnull */
static void
read_categorical_profile(MlcReader *r, MlcProfile *p, int no, int64 nonnull)
{
	int64		sum;
	int32		j;

	p->ncats = get_count(r, "profile categories", MLC_MAX_PROFILE_CATEGORIES, 12);
	p->cats = palloc(sizeof(char *) * Max(p->ncats, 1));
	p->cat_counts = palloc(sizeof(int64) * Max(p->ncats, 1));
	sum = 0;
	for (j = 0; j < p->ncats; j++)
	{
		p->cats[j] = get_string(r, "profile category", true);
		p->cat_counts[j] = get_profile_count(r, no, nonnull);
		if (p->cat_counts[j] < 1)
			bad_profile(no, "a category that never occurs");
		sum += p->cat_counts[j];
		if (sum > nonnull)
			bad_profile(no, "category counts that do not add up");
	}
	check_unique(p->cats, p->ncats, "profile category");
	p->other = get_profile_count(r, no, nonnull);
	if (sum + p->other != nonnull)
		bad_profile(no, "category counts that do not add up");
}

/* Read the reference profiles of a version 2 model: one per column, then the output */
static void
read_profiles(MlcReader *r, MlcModel *model)
{
	int			i;

	model->profiles = palloc0(sizeof(MlcProfile) * (model->ncolumns + 1));
	for (i = 0; i <= model->ncolumns; i++)
	{
		MlcProfile *p = &model->profiles[i];
		bool		categorical = i < model->ncolumns &&
			model->columns[i].kind == MLC_KIND_CATEGORICAL;

		p->kind = get_u8(r, "reference profile");
		if (p->kind != (categorical ? MLC_PROFILE_CATEGORICAL : MLC_PROFILE_NUMERIC))
			bad_profile(i + 1, "a kind that does not match its column");
		p->count = get_profile_count(r, i + 1, MLC_MAX_PROFILE_COUNT);
		p->nulls = get_profile_count(r, i + 1, p->count);
		if (i > 0 && i < model->ncolumns && p->count != model->profiles[0].count)
			bad_profile(i + 1, "a row count unlike the other columns'");
		if (categorical)
			read_categorical_profile(r, p, i + 1, p->count - p->nulls);
		else
			read_numeric_profile(r, p, i + 1, p->count - p->nulls);
	}
}

/* Check size, magic, version, length and CRC; returns a reader over the payload */
static MlcReader
open_blob(const bytea *blob)
{
	const uint8 *data = (const uint8 *) VARDATA_ANY(blob);
	Size		len = VARSIZE_ANY_EXHDR(blob);
	MlcReader	r;
	uint32		stored;
	pg_crc32c	crc;

	if (VARATT_IS_EXTERNAL(blob) || VARATT_IS_COMPRESSED(blob))
		elog(ERROR, "mlc_model_deserialize needs a detoasted value");
	if (len < 8)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("invalid mlcycle model: too short"),
				 errdetail("A model takes at least %d bytes, but this value has only %zu.",
						   MLC_MIN_MODEL_LEN, len),
				 MLC_CORRUPT_HINT));
	if (memcmp(data, MLC_MAGIC, 4) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("invalid mlcycle model: bad magic number"),
				 errdetail("A model starts with the bytes \"%s\"; this value does not.",
						   MLC_MAGIC),
				 MLC_CORRUPT_HINT));
	if (le16(data + 4) < MLC_FORMAT_VERSION || le16(data + 4) > MLC_FORMAT_VERSION_PROJECTION)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("invalid mlcycle model: unsupported format version %u",
						(unsigned) le16(data + 4)),
				 errdetail("This version of mlcycle reads model format versions %d to %d.",
						   MLC_FORMAT_VERSION, MLC_FORMAT_VERSION_PROJECTION),
				 errhint("Load the model with the mlcycle version that wrote it, or retrain it.")));
	if (len < MLC_MIN_MODEL_LEN)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("invalid mlcycle model: too short"),
				 errdetail("A model takes at least %d bytes, but this value has only %zu.",
						   MLC_MIN_MODEL_LEN, len),
				 MLC_CORRUPT_HINT));
	if (le32(data + 12) != len - MLC_PREAMBLE_LEN - MLC_CRC_LEN)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("invalid mlcycle model: length mismatch"),
				 errdetail("The preamble announces %u payload bytes, but %zu are present.",
						   le32(data + 12), len - MLC_PREAMBLE_LEN - MLC_CRC_LEN),
				 MLC_CORRUPT_HINT));
	stored = le32(data + len - MLC_CRC_LEN);
	crc = model_crc(data, len - MLC_CRC_LEN);
	if (!EQ_CRC32C(stored, crc))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("invalid mlcycle model: checksum mismatch"),
				 errdetail("The stored CRC32C is %08X, but the data's is %08X.",
						   stored, crc),
				 MLC_CORRUPT_HINT));
	if (le16(data + 6) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("invalid mlcycle model: unsupported flags 0x%04X",
						(unsigned) le16(data + 6)),
				 errdetail("Format versions 1 to 4 define no flags."),
				 MLC_CORRUPT_HINT));
	if (le32(data + 8) != MLC_HEADER_LEN_V1)
		bad_field(0, "header length", le32(data + 8));
	r.p = data + MLC_PREAMBLE_LEN;
	r.left = len - MLC_PREAMBLE_LEN - MLC_CRC_LEN;
	r.version = le16(data + 4);
	return r;
}

/*
 * Read the version 4 feature projection over the ninput features the columns
 * produce: kept indexes strictly increasing and in range, at most nkept
 * components over at most MLC_MAX_PCA_INPUTS kept features, finite values and
 * non-negative variances.
 */
static void
read_projection(MlcReader *r, MlcModel *model, int64 ninput)
{
	uint32		stored = get_u32(r, "feature projection");
	int64		k;

	if ((int64) stored != ninput)
		bad_field(0, "number of projection inputs", stored);
	model->nkept = get_count(r, "kept features", MLC_MAX_FEATURES, 4);
	if (model->nkept < 1 || model->nkept > ninput)
		bad_field(0, "number of kept features", model->nkept);
	model->kept = palloc(sizeof(int32) * model->nkept);
	for (int j = 0; j < model->nkept; j++)
	{
		uint32		v = get_u32(r, "kept features");

		if ((int64) v >= ninput || (j > 0 && (int32) v <= model->kept[j - 1]))
			bad_field(0, "kept feature index", v);
		model->kept[j] = (int32) v;
	}
	model->ncomponents = get_count(r, "PCA components", MLC_MAX_FEATURES, 8);
	k = model->ncomponents;
	if (k > model->nkept || (k > 0 && model->nkept > MLC_MAX_PCA_INPUTS))
		bad_field(0, "number of PCA components", k);
	if (k == 0)
		return;
	need(r, (Size) (k + model->nkept + k * model->nkept) * 8, "PCA components");
	model->pca_variance = read_finite_values(r, k, "PCA explained variances");
	for (int64 i = 0; i < k; i++)
		if (model->pca_variance[i] < 0)
			bad_field(0, "PCA explained variance of component", i + 1);
	model->pca_mean = read_finite_values(r, model->nkept, "PCA means");
	model->pca_components = read_finite_values(r, k * model->nkept, "PCA components");
}

/* Parse and validate a serialized model; any defect raises ERRCODE_DATA_CORRUPTED */
static MlcModel *deserialize(const bytea *blob, bool profiles);

MlcModel *
mlc_model_deserialize(const bytea *blob)
{
	return deserialize(blob, true);
}

/*
 * What scoring needs: everything but the reference profiles, which are left
 * unparsed (the checksum still covers them).  Prediction loads models in
 * every backend and parallel worker; profiles are most of a model's bytes.
 */
MlcModel *
mlc_model_deserialize_for_scoring(const bytea *blob)
{
	return deserialize(blob, false);
}

/* Read a model, with or without its profiles */
static MlcModel *
deserialize(const bytea *blob, bool profiles)
{
	MlcReader	r = open_blob(blob);
	MlcModel   *model = palloc0(sizeof(MlcModel));
	int64		nfeatures;
	bool		has_profiles;

	read_header(&r, model);
	read_columns(&r, model);
	nfeatures = count_features(model);
	if (r.version >= MLC_FORMAT_VERSION_PROJECTION)
	{
		read_projection(&r, model, nfeatures);
		nfeatures = model->ncomponents > 0 ? model->ncomponents : model->nkept;
	}
	if (nfeatures != model->nfeatures)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("invalid mlcycle model: feature count mismatch"),
				 errdetail("The header says %d features, but the columns (and projection) produce " INT64_FORMAT ".",
						   model->nfeatures, nfeatures),
				 MLC_CORRUPT_HINT));
	read_classes(&r, model);
	read_coef(&r, model);
	has_profiles = r.version == MLC_FORMAT_VERSION_PROFILES;
	if (r.version >= MLC_FORMAT_VERSION_EXT)
		has_profiles = read_learner_params(&r, model);
	else
		check_learner_params(model);	/* none: fails for learners that need some */
	if (has_profiles)
	{
		if (!profiles)
			r.left = 0;
		else
			read_profiles(&r, model);
	}
	if (r.left != 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("invalid mlcycle model: trailing bytes"),
				 errdetail_plural("%zu byte follows the model's last section.",
								  "%zu bytes follow the model's last section.",
								  r.left, r.left),
				 MLC_CORRUPT_HINT));
	mlc_model_finalize(model);
	return model;
}


/* ---------- derived fields and category lookup ---------- */

/* Build the open-addressing hash table of a categorical column */
static void
build_category_hash(MlcColumn *col)
{
	uint32		size = 4;
	uint32		mask;
	int			j;

	while (size <= (uint32) col->ncategories * 2)
		size <<= 1;
	mask = size - 1;
	col->hash = palloc(sizeof(int32) * size);
	memset(col->hash, 0xFF, sizeof(int32) * size);	/* every slot -1 */
	col->hash_size = (int32) size;
	for (j = 0; j < col->ncategories; j++)
	{
		const char *c = col->categories[j];
		uint32		h = hash_bytes((const unsigned char *) c, (int) strlen(c)) & mask;

		while (col->hash[h] != -1)
			h = (h + 1) & mask;
		col->hash[h] = j;
	}
}

/*
 * Features one column produces, from its kind, encoding and transform only
 * (the reader calls it before trusting any derived field).  Transforms that
 * widen a column add a case.
 */
int32
mlc_column_width(const MlcColumn *col)
{
	int32		w = 0;

	switch (col->transform)
	{
		case MLC_TRANSFORM_NUMERIC:
			return ((int) col->params[0] & MLC_STEP_INDICATOR) ? 2 : 1;
		case MLC_TRANSFORM_TEMPORAL:
			for (int k = 0; k < col->nparams; k++)
				w += ((int) col->params[k] & 8) ? 2 : 1;
			return w;
		case MLC_TRANSFORM_TOP_K:
			return col->ncategories + 1;
		case MLC_TRANSFORM_BINARY:
			w = 1;
			while ((1 << w) <= col->ncategories)
				w++;
			return w;
		case MLC_TRANSFORM_HASHING:
			return (int32) col->params[0];
		case MLC_TRANSFORM_FREQUENCY:
		case MLC_TRANSFORM_TARGET:
			return 1;
	}
	if (col->kind == MLC_KIND_CATEGORICAL && col->encode == MLC_ENCODE_ONE_HOT)
		return col->ncategories;
	return 1;
}

/* SQL name of an algorithm; "unknown" for a number no learner has */
const char *
mlc_algorithm_name(int algorithm)
{
	switch (algorithm)
	{
		case MLC_ALGO_LINEAR:
			return "linear";
		case MLC_ALGO_RIDGE:
			return "ridge";
		case MLC_ALGO_LOGISTIC:
			return "logistic";
		case MLC_ALGO_LASSO:
			return "lasso";
		case MLC_ALGO_ELASTIC_NET:
			return "elastic_net";
		case MLC_ALGO_NAIVE_BAYES:
			return "naive_bayes";
		case MLC_ALGO_KNN:
			return "knn";
		case MLC_ALGO_LINEAR_SVM:
			return "linear_svm";
		case MLC_ALGO_GBDT:
			return "gbdt";
		case MLC_ALGO_RANDOM_FOREST:
			return "random_forest";
		case MLC_ALGO_DECISION_TREE:
			return "decision_tree";
	}
	return "unknown";
}

/* Features the learner sees: the PCA components, the kept features, or all of ninput */
int32
mlc_projected_width(const MlcModel *model)
{
	if (model->nkept <= 0)
		return model->ninput;
	return model->ncomponents > 0 ? model->ncomponents : model->nkept;
}

/* Compute out_offset/out_width, ninput, nfeatures and the category hash tables */
void
mlc_model_finalize(MlcModel *model)
{
	int64		offset = 0;
	int			i;

	for (i = 0; i < model->ncolumns; i++)
	{
		MlcColumn  *col = &model->columns[i];

		col->hash = NULL;
		col->hash_size = 0;
		if (col->kind != MLC_KIND_CATEGORICAL)
			col->out_width = mlc_column_width(col);
		else
		{
			if (col->ncategories < 0 || col->ncategories > MLC_MAX_CATEGORIES)
				ereport(ERROR,
						(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
						 errmsg("too many categories in column \"%s\"", col->name),
						 errdetail("It has %d distinct values; the limit is %d.",
								   col->ncategories, MLC_MAX_CATEGORIES),
						 errhint("Exclude the column from training.")));
			if (col->encode != MLC_ENCODE_ONE_HOT && col->encode != MLC_ENCODE_ORDINAL)
				elog(ERROR, "categorical column \"%s\" has encoding %d",
					 col->name, col->encode);
			col->out_width = mlc_column_width(col);
			build_category_hash(col);
		}
		col->out_offset = (int32) offset;
		offset += col->out_width;
		if (offset > MLC_MAX_FEATURES)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("too many features after preprocessing"),
					 errdetail("The columns up to \"%s\" already produce " INT64_FORMAT " features; the limit is %d.",
							   col->name, offset, MLC_MAX_FEATURES),
					 errhint("Exclude high-cardinality categorical columns or encode them as ordinal.")));
	}
	model->ninput = (int32) offset;
	model->nfeatures = mlc_projected_width(model);
}

/* Does NUL-terminated c equal the len bytes at s?  Never reads past c's NUL */
static inline bool
category_equals(const char *c, const char *s, int len)
{
	int			i;

	for (i = 0; i < len; i++)
		if (c[i] != s[i] || c[i] == '\0')
			return false;
	return c[len] == '\0';
}

/* Index of the category equal to s[0..len), or -1; no allocation */
int32
mlc_category_lookup(const MlcColumn *col, const char *s, int len)
{
	uint32		mask;
	uint32		h;
	int32		idx;

	if (col->hash == NULL || col->hash_size <= 0 || len < 0)
		return -1;
	mask = (uint32) col->hash_size - 1;
	h = hash_bytes((const unsigned char *) s, len) & mask;
	while ((idx = col->hash[h]) != -1)
	{
		if (category_equals(col->categories[idx], s, len))
			return idx;
		h = (h + 1) & mask;
	}
	return -1;
}


/* ---------- mutations for fuzz_model_loader (and test/fuzz/mutate_check.c) ---------- */

#if !defined(MLC_FUZZ_STANDALONE) || defined(MLC_FUZZ_MUTATOR)

#define FUZZ_MAX_GROWTH 64

/* Random integer in [lo, hi] */
static inline uint64
fuzz_range(pg_prng_state *rng, uint64 lo, uint64 hi)
{
	return pg_prng_uint64_range(rng, lo, hi);
}

/* Apply one random mutation to buf[0..*len), growing it by at most 8 bytes */
static void
fuzz_mutate_once(pg_prng_state *rng, uint8 *buf, Size *len, Size cap)
{
	static const uint32 nasty32[] = {
		0xFFFFFFFF, 0x80000000, 0x7FFFFFFF, 0xFFFFFFFE, 0x00010001,
		0x00100000, MLC_MAX_FEATURES + 1, MLC_MAX_CATEGORIES + 1, 0
	};
	static const uint64 nasty64[] = {
		UINT64CONST(0x7FF0000000000000),	/* +Inf */
		UINT64CONST(0x7FF8000000000000),	/* NaN */
		UINT64CONST(0x0000000000000000),	/* 0.0 */
		UINT64CONST(0x8000000000000000),	/* -0.0 */
	};
	Size		n = *len;
	Size		pos;
	Size		k;
	Size		i;
	uint64		v;

	switch (fuzz_range(rng, 0, 6))
	{
		case 0:					/* flip one bit */
			if (n > 0)
				buf[fuzz_range(rng, 0, n - 1)] ^= (uint8) (1 << fuzz_range(rng, 0, 7));
			break;
		case 1:					/* set a byte to 0, 0xFF or a random value */
			if (n > 0)
			{
				uint8		vals[3] = {0, 0xFF, (uint8) pg_prng_uint32(rng)};

				buf[fuzz_range(rng, 0, n - 1)] = vals[fuzz_range(rng, 0, 2)];
			}
			break;
		case 2:					/* truncate */
			if (n > 0)
				*len = fuzz_range(rng, 0, n - 1);
			break;
		case 3:					/* insert 1-8 random bytes */
			k = fuzz_range(rng, 1, 8);
			if (n + k > cap)
				break;
			pos = fuzz_range(rng, 0, n);
			memmove(buf + pos + k, buf + pos, n - pos);
			for (i = 0; i < k; i++)
				buf[pos + i] = (uint8) pg_prng_uint32(rng);
			*len = n + k;
			break;
		case 4:					/* delete 1-8 bytes */
			if (n == 0)
				break;
			pos = fuzz_range(rng, 0, n - 1);
			k = fuzz_range(rng, 1, 8);	/* not inside Min(): it evaluates twice */
			k = Min(k, n - pos);
			memmove(buf + pos, buf + pos + k, n - pos - k);
			*len = n - k;
			break;
		case 5:					/* overwrite a 4-byte field with a huge or negative value */
			if (n < 4)
				break;
			pos = fuzz_range(rng, 0, n - 4);
			v = nasty32[fuzz_range(rng, 0, lengthof(nasty32) - 1)];
			for (k = 0; k < 4; k++)
				buf[pos + k] = (uint8) (v >> (8 * k));
			break;
		default:				/* overwrite an 8-byte field with Inf, NaN or zero */
			if (n < 8)
				break;
			pos = fuzz_range(rng, 0, n - 8);
			v = nasty64[fuzz_range(rng, 0, lengthof(nasty64) - 1)];
			for (k = 0; k < 8; k++)
				buf[pos + k] = (uint8) (v >> (8 * k));
			break;
	}
}

/* A mutated copy of the model: 1-3 mutations, CRC recomputed half the time */
static bytea *
fuzz_mutant(pg_prng_state *rng, const uint8 *src, Size srclen)
{
	Size		cap = srclen + FUZZ_MAX_GROWTH;
	bytea	   *out = palloc(VARHDRSZ + cap);
	uint8	   *buf = (uint8 *) VARDATA(out);
	Size		len = srclen;
	int			nmut = (int) fuzz_range(rng, 1, 3);
	int			i;

	memcpy(buf, src, srclen);
	for (i = 0; i < nmut; i++)
		fuzz_mutate_once(rng, buf, &len, cap);
	SET_VARSIZE(out, VARHDRSZ + len);
	if (pg_prng_bool(rng))
		mlc_model_reseal(out);
	return out;
}

#endif


#ifndef MLC_FUZZ_STANDALONE

/* ---------- SQL: model_info ---------- */

PG_FUNCTION_INFO_V1(mlc_model_info);
PG_FUNCTION_INFO_V1(mlc_fuzz_model_loader);

/* SQL name of a task */
static const char *
task_name(int task)
{
	return task == MLC_TASK_REGRESSION ? "regression" : "classification";
}


/* Build a jsonb value from JSON text */
static Datum
jsonb_from_text(const char *json)
{
	return DirectFunctionCall1(jsonb_in, CStringGetDatum(json));
}

/* A finite number, or null */
static void
info_number(StringInfo buf, double v)
{
	if (isfinite(v))
		appendStringInfo(buf, "%.17g", v);
	else
		appendStringInfoString(buf, "null");
}

/* Summary of one reference profile: counts, moments, decile edges, sample size */
static void
info_profile(StringInfo buf, const MlcProfile *p, const char *name, bool first)
{
	if (!first)
		appendStringInfoString(buf, ", ");
	appendStringInfoString(buf, "{\"column\": ");
	escape_json(buf, name);
	appendStringInfo(buf, ", \"count\": " INT64_FORMAT ", \"nulls\": " INT64_FORMAT, p->count, p->nulls);
	if (p->kind == MLC_PROFILE_NUMERIC)
	{
		appendStringInfoString(buf, ", \"kind\": \"numeric\", \"mean\": ");
		info_number(buf, p->mean);
		appendStringInfoString(buf, ", \"std\": ");
		info_number(buf, p->std);
		appendStringInfoString(buf, ", \"min\": ");
		info_number(buf, p->min);
		appendStringInfoString(buf, ", \"max\": ");
		info_number(buf, p->max);
		appendStringInfoString(buf, ", \"edges\": [");
		for (int k = 0; k < p->nedges; k++)
		{
			if (k > 0)
				appendStringInfoString(buf, ", ");
			info_number(buf, p->edges[k]);
		}
		appendStringInfo(buf, "], \"sample\": %d}", p->nsample);
	}
	else
		appendStringInfo(buf, ", \"kind\": \"categorical\", \"categories\": %d, \"other\": " INT64_FORMAT "}",
						 p->ncats, p->other);
}

/* mlcycle.model_info(bytea): validate a stored model and summarize it */
Datum
mlc_model_info(PG_FUNCTION_ARGS)
{
	bytea	   *blob = PG_GETARG_BYTEA_PP(0);
	MlcModel   *model = mlc_model_deserialize(blob);
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfo(&buf,
					 "{\"format_version\": %d, \"task\": \"%s\", \"algorithm\": \"%s\", "
					 "\"columns\": %d, \"features\": %d, \"classes\": %d",
					 (int) le16((const uint8 *) VARDATA_ANY(blob) + 4), task_name(model->task),
					 mlc_algorithm_name(model->algorithm), model->ncolumns,
					 model->nfeatures, model->nclasses);
	if (model->nkept > 0)
		appendStringInfo(&buf, ", \"projection\": {\"inputs\": %d, \"kept\": %d, \"components\": %d}",
						 model->ninput, model->nkept, model->ncomponents);
	if (model->profiles)
	{
		appendStringInfoString(&buf, ", \"profiles\": [");
		for (int j = 0; j <= model->ncolumns; j++)
			info_profile(&buf, &model->profiles[j],
						 j < model->ncolumns ? model->columns[j].name : "(output)", j == 0);
		appendStringInfoChar(&buf, ']');
	}
	appendStringInfoChar(&buf, '}');
	PG_RETURN_DATUM(jsonb_from_text(buf.data));
}


/* ---------- SQL: fuzz_model_loader ---------- */

/* An accepted model must serialize back to exactly the same bytes */
static void
fuzz_check_roundtrip(const bytea *blob, const MlcModel *model)
{
	bytea	   *again = mlc_model_serialize(model);

	if (VARSIZE_ANY_EXHDR(again) != VARSIZE_ANY_EXHDR(blob) ||
		memcmp(VARDATA_ANY(again), VARDATA_ANY(blob), VARSIZE_ANY_EXHDR(blob)) != 0)
		elog(ERROR, "model round trip changed the serialized bytes");
}

/*
 * Try to load one blob inside a subtransaction.  Returns true when accepted,
 * false when rejected as corrupted; any other error is re-thrown.
 */
static bool
fuzz_try_load(bytea *blob, MemoryContext itercxt)
{
	MemoryContext oldcontext = CurrentMemoryContext;
	ResourceOwner oldowner = CurrentResourceOwner;
	volatile bool accepted = false;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(itercxt);
	PG_TRY();
	{
		fuzz_check_roundtrip(blob, mlc_model_deserialize(blob));
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcontext);
		CurrentResourceOwner = oldowner;
		accepted = true;
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(oldcontext);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcontext);
		CurrentResourceOwner = oldowner;
		if (edata->sqlerrcode != ERRCODE_DATA_CORRUPTED)
			ReThrowError(edata);
		FreeErrorData(edata);
	}
	PG_END_TRY();
	return accepted;
}

/* mlcycle.fuzz_model_loader(model, iterations, seed): load mutated copies, count outcomes */
Datum
mlc_fuzz_model_loader(PG_FUNCTION_ARGS)
{
	bytea	   *model = PG_GETARG_BYTEA_PP(0);
	int32		iterations = PG_GETARG_INT32(1);
	int32		seed = PG_GETARG_INT32(2);
	const uint8 *src = (const uint8 *) VARDATA_ANY(model);
	Size		srclen = VARSIZE_ANY_EXHDR(model);
	MemoryContext itercxt;
	pg_prng_state rng;
	int64		accepted = 0;
	int64		rejected = 0;
	int32		i;
	char		json[128];

	if (iterations < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("iterations must not be negative")));
	if (srclen > MaxAllocSize - VARHDRSZ - FUZZ_MAX_GROWTH)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("model is too large to fuzz")));
	pg_prng_seed(&rng, (uint64) (int64) seed);
	itercxt = AllocSetContextCreate(CurrentMemoryContext, "mlcycle fuzz iteration",
									ALLOCSET_DEFAULT_SIZES);
	for (i = 0; i < iterations; i++)
	{
		MemoryContext old;
		bytea	   *mutant;

		CHECK_FOR_INTERRUPTS();
		MemoryContextReset(itercxt);
		old = MemoryContextSwitchTo(itercxt);
		mutant = fuzz_mutant(&rng, src, srclen);
		MemoryContextSwitchTo(old);
		if (fuzz_try_load(mutant, itercxt))
			accepted++;
		else
			rejected++;
	}
	MemoryContextDelete(itercxt);
	snprintf(json, sizeof(json),
			 "{\"iterations\": %d, \"accepted\": " INT64_FORMAT ", \"rejected\": " INT64_FORMAT "}",
			 iterations, accepted, rejected);
	PG_RETURN_DATUM(jsonb_from_text(json));
}

PG_FUNCTION_INFO_V1(mlcycle_model_reseal);

/*
 * mlcycle.model_reseal(model bytea): a copy with its payload length and
 * CRC32C recomputed, so that tests can craft damaged models the checksum
 * does not catch (the loader must still refuse them).
 */
Datum
mlcycle_model_reseal(PG_FUNCTION_ARGS)
{
	bytea	   *copy = PG_GETARG_BYTEA_P_COPY(0);

	mlc_model_reseal(copy);
	PG_RETURN_BYTEA_P(copy);
}

#endif							/* !MLC_FUZZ_STANDALONE */
