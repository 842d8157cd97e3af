/*
 * fuzz_model.c
 *	  libFuzzer target for the model reader (src/model_io.c).  Each input is
 *	  loaded twice: as is, and with its length and CRC recomputed so that the
 *	  structural checks are reached.  Accepted models must round-trip exactly.
 */
#include "postgres.h"

#include <stdio.h>
#include <stdlib.h>

#include "model.h"
#include "pg_stubs.h"

#undef fprintf

int			LLVMFuzzerTestOneInput(const uint8 *data, size_t size);

/* Abort with a message: the fuzzer records the input as a crash */
static void
fail(const char *what)
{
	fprintf(stderr, "fuzz_model: %s\n", what);
	abort();
}

/* Check the derived fields and the category lookup of an accepted model */
static void
check_derived(const MlcModel *m)
{
	int32		offset = 0;
	int			i,
				j;

	for (i = 0; i < m->ncolumns; i++)
	{
		const MlcColumn *col = &m->columns[i];

		if (col->out_offset != offset || col->out_width < 0)
			fail("bad out_offset/out_width");
		offset += col->out_width;
		for (j = 0; j < col->ncategories; j++)
		{
			const char *c = col->categories[j];
			int			len = (int) strlen(c);
			int32		k;

			if (mlc_category_lookup(col, c, len) != j)
				fail("category lookup missed a stored category");
			if (len > 0)
			{
				/* a proper prefix is either absent or another category */
				k = mlc_category_lookup(col, c, len - 1);
				if (k != -1 && (strlen(col->categories[k]) != (size_t) len - 1 ||
								memcmp(col->categories[k], c, len - 1) != 0))
					fail("category lookup returned a wrong category");
			}
		}
		if (col->kind != MLC_KIND_CATEGORICAL && mlc_category_lookup(col, "x", 1) != -1)
			fail("lookup on a non-categorical column");
	}
	if (offset != m->ninput)
		fail("ninput differs from the sum of out_width");
	if (m->nfeatures != mlc_projected_width(m))
		fail("nfeatures differs from the projection's width");
	for (j = 0; j < m->nkept; j++)
		if (m->kept[j] < 0 || m->kept[j] >= m->ninput || (j > 0 && m->kept[j] <= m->kept[j - 1]))
			fail("a kept feature index is out of order or range");
	if (m->ncomponents < 0 || m->ncomponents > m->nkept)
		fail("more PCA components than kept features");
}

/* Serialize an accepted model again: the bytes must be identical */
static void
check_roundtrip(const bytea *blob, const MlcModel *m)
{
	bytea	   *again = mlc_model_serialize(m);

	if (VARSIZE(again) != VARSIZE(blob) ||
		memcmp(VARDATA(again), VARDATA(blob), VARSIZE(blob) - VARHDRSZ) != 0)
		fail("round trip changed the bytes");
}

/* Load one blob; errors must be ERRCODE_DATA_CORRUPTED and only from the reader */
static void
load_one(const uint8 *data, size_t size, bool reseal)
{
	jmp_buf		jb;
	volatile int phase = 0;
	bytea	   *blob = palloc(VARHDRSZ + size);

	memcpy(VARDATA(blob), data, size);
	SET_VARSIZE(blob, VARHDRSZ + size);
	if (reseal)
		mlc_model_reseal(blob);
	if (setjmp(jb) == 0)
	{
		MlcModel   *m;

		stub_error_jmp = &jb;
		m = mlc_model_deserialize(blob);
		phase = 1;
		check_derived(m);
		check_roundtrip(blob, m);
	}
	else
	{
		if (phase != 0)
		{
			fprintf(stderr, "error after an accepted load: %s\n", stub_error_message);
			fail("an accepted model failed to serialize");
		}
		if (stub_error_code != ERRCODE_DATA_CORRUPTED)
		{
			fprintf(stderr, "unexpected error: %s\n", stub_error_message);
			fail("reader raised an error other than data_corrupted");
		}
	}
	stub_error_jmp = NULL;
	error_context_stack = NULL;

	/* the scoring reader (no profiles) must reject or accept without a crash too */
	if (setjmp(jb) == 0)
	{
		MlcModel   *m;

		stub_error_jmp = &jb;
		m = mlc_model_deserialize_for_scoring(blob);
		check_derived(m);
	}
	else if (stub_error_code != ERRCODE_DATA_CORRUPTED)
	{
		fprintf(stderr, "unexpected error: %s\n", stub_error_message);
		fail("scoring reader raised an error other than data_corrupted");
	}
	stub_error_jmp = NULL;
	error_context_stack = NULL;
}

int
LLVMFuzzerTestOneInput(const uint8 *data, size_t size)
{
	if (size > 4 * 1024 * 1024)
		return 0;
	load_one(data, size, false);
	load_one(data, size, true);
	stub_free_all();
	return 0;
}
