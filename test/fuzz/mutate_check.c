/*
 * mutate_check.c
 *	  Runs the mutation engine of mlcycle.fuzz_model_loader (compiled from
 *	  src/model_io.c itself) under the sanitizers: mutates a model file N
 *	  times, loads each copy and round-trips the accepted ones.
 *	  Usage: mutate_check MODEL_FILE ITERATIONS SEED
 */
#ifndef MLC_FUZZ_STANDALONE
#define MLC_FUZZ_STANDALONE
#endif
#define MLC_FUZZ_MUTATOR
#include "../../src/model_io.c"

#include <stdio.h>
#include <stdlib.h>

#include "pg_stubs.h"

#undef fprintf
#undef printf

/* Read a whole file into a palloc'd buffer */
static uint8 *
read_file(const char *path, Size *len)
{
	FILE	   *f = fopen(path, "rb");
	uint8	   *buf;
	long		n;

	if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 ||
		fseek(f, 0, SEEK_SET) != 0)
	{
		perror(path);
		exit(2);
	}
	buf = malloc(n + 1);
	if (buf == NULL || fread(buf, 1, n, f) != (size_t) n)
	{
		perror(path);
		exit(2);
	}
	fclose(f);
	*len = (Size) n;
	return buf;
}

/* Load one mutant; returns 1 when accepted, 0 when rejected as corrupted */
static int
load_mutant(const bytea *mutant)
{
	jmp_buf		jb;
	volatile int phase = 0;
	int			accepted = 0;

	if (setjmp(jb) == 0)
	{
		MlcModel   *m;
		bytea	   *again;

		stub_error_jmp = &jb;
		m = mlc_model_deserialize(mutant);
		phase = 1;
		again = mlc_model_serialize(m);
		if (VARSIZE(again) != VARSIZE(mutant) ||
			memcmp(VARDATA(again), VARDATA(mutant), VARSIZE(mutant) - VARHDRSZ) != 0)
		{
			fprintf(stderr, "mutate_check: round trip changed the bytes\n");
			abort();
		}
		accepted = 1;
	}
	else if (phase != 0 || stub_error_code != ERRCODE_DATA_CORRUPTED)
	{
		fprintf(stderr, "mutate_check: unexpected error: %s\n", stub_error_message);
		abort();
	}
	stub_error_jmp = NULL;
	error_context_stack = NULL;
	return accepted;
}

int
main(int argc, char **argv)
{
	Size		srclen;
	uint8	   *src;
	long		iterations;
	long		i;
	long		accepted = 0;
	pg_prng_state rng;

	if (argc != 4)
	{
		fprintf(stderr, "usage: %s MODEL_FILE ITERATIONS SEED\n", argv[0]);
		return 2;
	}
	src = read_file(argv[1], &srclen);
	iterations = atol(argv[2]);
	pg_prng_seed(&rng, (uint64) atoll(argv[3]));
	for (i = 0; i < iterations; i++)
	{
		accepted += load_mutant(fuzz_mutant(&rng, src, srclen));
		stub_free_all();
	}
	printf("%s: iterations %ld, accepted %ld, rejected %ld\n",
		   argv[1], iterations, accepted, iterations - accepted);
	free(src);
	return 0;
}
