/*
 * pg_stubs.c
 *	  Minimal stand-ins for the PostgreSQL backend functions model_io.c uses,
 *	  so that it links into the libFuzzer harness and the seed generator
 *	  without a server.  Written from the headers' contracts, not copied.
 */
#include "postgres.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/hashfn.h"
#include "common/pg_prng.h"
#include "mb/pg_wchar.h"
#include "port/pg_crc32c.h"
#include "utils/memutils.h"

#include "pg_stubs.h"

/* port.h redirects these to PostgreSQL's own implementations */
#undef vsnprintf
#undef snprintf
#undef fprintf
#undef printf
#undef qsort

/* ---------- memory: every chunk is linked so it can be freed per input ---------- */

typedef struct StubChunk
{
	struct StubChunk *prev;
	struct StubChunk *next;
	Size		size;
	Size		pad;			/* keeps the payload 16-byte aligned */
} StubChunk;

static StubChunk stub_chunks = {&stub_chunks, &stub_chunks, 0, 0};

MemoryContext CurrentMemoryContext = NULL;
ErrorContextCallback *error_context_stack = NULL;

/* Allocate a tracked chunk; sizes above MaxAllocSize mean an unchecked size reached palloc */
static void *
stub_alloc(Size size, bool zero)
{
	StubChunk  *c;

	if (size > MaxAllocSize)
	{
		fprintf(stderr, "palloc of %zu bytes: unchecked allocation size\n", size);
		abort();
	}
	c = malloc(sizeof(StubChunk) + size);
	if (c == NULL)
	{
		fprintf(stderr, "out of memory allocating %zu bytes\n", size);
		abort();
	}
	if (zero)
		memset(c + 1, 0, size);
	c->size = size;
	c->next = stub_chunks.next;
	c->prev = &stub_chunks;
	stub_chunks.next->prev = c;
	stub_chunks.next = c;
	return c + 1;
}

void *
palloc(Size size)
{
	return stub_alloc(size, false);
}

void *
palloc0(Size size)
{
	return stub_alloc(size, true);
}

void
pfree(void *pointer)
{
	StubChunk  *c = ((StubChunk *) pointer) - 1;

	c->prev->next = c->next;
	c->next->prev = c->prev;
	free(c);
}

void *
repalloc(void *pointer, Size size)
{
	StubChunk  *old = ((StubChunk *) pointer) - 1;
	void	   *p = stub_alloc(size, false);

	memcpy(p, pointer, Min(old->size, size));
	pfree(pointer);
	return p;
}

/* Free everything allocated since the last call */
void
stub_free_all(void)
{
	while (stub_chunks.next != &stub_chunks)
		pfree(stub_chunks.next + 1);
}

static MemoryContextData stub_context;

MemoryContext
AllocSetContextCreateInternal(MemoryContext parent, const char *name,
							  Size minContextSize, Size initBlockSize,
							  Size maxBlockSize)
{
	return &stub_context;
}

void
MemoryContextDelete(MemoryContext context)
{
	/* chunks are released by stub_free_all() */
}

/* ---------- errors: ERROR and above longjmp to the harness ---------- */

jmp_buf    *stub_error_jmp = NULL;
int			stub_error_code = 0;
char		stub_error_message[1024];

static int	stub_elevel;

bool
errstart(int elevel, const char *domain)
{
	stub_elevel = elevel;
	if (elevel < ERROR)
		return false;
	stub_error_code = ERRCODE_INTERNAL_ERROR;
	stub_error_message[0] = '\0';
	return true;
}

bool
errstart_cold(int elevel, const char *domain)
{
	return errstart(elevel, domain);
}

void
errfinish(const char *filename, int lineno, const char *funcname)
{
	if (stub_elevel < ERROR)
		return;
	if (stub_error_jmp == NULL)
	{
		fprintf(stderr, "ERROR outside the harness (%s:%d): %s\n",
				filename, lineno, stub_error_message);
		abort();
	}
	longjmp(*stub_error_jmp, 1);
}

int
errcode(int sqlerrcode)
{
	stub_error_code = sqlerrcode;
	return 0;
}

/* Format into a scratch buffer, so every format string and its arguments are exercised */
static void
stub_format(char *dst, size_t dstlen, const char *fmt, va_list ap)
{
	vsnprintf(dst, dstlen, fmt, ap);
}

int
errmsg(const char *fmt,...)
{
	va_list		ap;

	va_start(ap, fmt);
	stub_format(stub_error_message, sizeof(stub_error_message), fmt, ap);
	va_end(ap);
	return 0;
}

int
errmsg_internal(const char *fmt,...)
{
	va_list		ap;

	va_start(ap, fmt);
	stub_format(stub_error_message, sizeof(stub_error_message), fmt, ap);
	va_end(ap);
	return 0;
}

int
errdetail(const char *fmt,...)
{
	char		buf[1024];
	va_list		ap;

	va_start(ap, fmt);
	stub_format(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return 0;
}

int
errdetail_plural(const char *fmt_singular, const char *fmt_plural,
				 unsigned long n,...)
{
	char		buf[1024];
	va_list		ap;

	va_start(ap, n);
	stub_format(buf, sizeof(buf), n == 1 ? fmt_singular : fmt_plural, ap);
	va_end(ap);
	return 0;
}

int
errhint(const char *fmt,...)
{
	char		buf[1024];
	va_list		ap;

	va_start(ap, fmt);
	stub_format(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return 0;
}

int
set_errcontext_domain(const char *domain)
{
	return 0;
}

int
errcontext_msg(const char *fmt,...)
{
	return 0;
}

/* ---------- hashing, checksums, encodings, sorting ---------- */

/* FNV-1a: any decent hash will do for the lookup tables */
uint32
hash_bytes(const unsigned char *k, int keylen)
{
	uint32		h = 2166136261u;
	int			i;

	for (i = 0; i < keylen; i++)
	{
		h ^= k[i];
		h *= 16777619u;
	}
	return h;
}

static uint32 crc32c_table[256];

/* CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), table-driven */
static pg_crc32c
stub_comp_crc32c(pg_crc32c crc, const void *data, size_t len)
{
	const unsigned char *p = data;
	size_t		i;

	if (crc32c_table[1] == 0)
	{
		for (i = 0; i < 256; i++)
		{
			uint32		c = (uint32) i;
			int			b;

			for (b = 0; b < 8; b++)
				c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
			crc32c_table[i] = c;
		}
	}
	for (i = 0; i < len; i++)
		crc = crc32c_table[(crc ^ p[i]) & 0xFF] ^ (crc >> 8);
	return crc;
}

pg_crc32c	(*pg_comp_crc32c) (pg_crc32c crc, const void *data, size_t len) = stub_comp_crc32c;

/* UTF-8 validation (the harness's "database encoding"); rejects NUL and overlongs loosely */
bool
pg_verifymbstr(const char *mbstr, int len, bool noError)
{
	const unsigned char *s = (const unsigned char *) mbstr;
	int			i = 0;

	while (i < len)
	{
		int			n;
		int			j;

		if (s[i] == 0)
			return false;
		if (s[i] < 0x80)
			n = 1;
		else if (s[i] >= 0xC2 && s[i] <= 0xDF)
			n = 2;
		else if (s[i] >= 0xE0 && s[i] <= 0xEF)
			n = 3;
		else if (s[i] >= 0xF0 && s[i] <= 0xF4)
			n = 4;
		else
			return false;
		if (i + n > len)
			return false;
		for (j = 1; j < n; j++)
			if ((s[i + j] & 0xC0) != 0x80)
				return false;
		i += n;
	}
	return true;
}

void
pg_qsort(void *base, size_t nel, size_t elsize,
		 int (*cmp) (const void *, const void *))
{
	qsort(base, nel, elsize, cmp);
}

/* ---------- pseudo-random numbers: splitmix64, not PostgreSQL's generator ---------- */

void
pg_prng_seed(pg_prng_state *state, uint64 seed)
{
	state->s0 = seed;
	state->s1 = 0;
}

uint64
pg_prng_uint64(pg_prng_state *state)
{
	uint64		z = (state->s0 += UINT64CONST(0x9E3779B97F4A7C15));

	z = (z ^ (z >> 30)) * UINT64CONST(0xBF58476D1CE4E5B9);
	z = (z ^ (z >> 27)) * UINT64CONST(0x94D049BB133111EB);
	return z ^ (z >> 31);
}

uint64
pg_prng_uint64_range(pg_prng_state *state, uint64 rmin, uint64 rmax)
{
	if (rmax <= rmin)
		return rmin;
	if (rmax - rmin == PG_UINT64_MAX)
		return pg_prng_uint64(state);
	return rmin + pg_prng_uint64(state) % (rmax - rmin + 1);
}

uint32
pg_prng_uint32(pg_prng_state *state)
{
	return (uint32) (pg_prng_uint64(state) >> 32);
}

bool
pg_prng_bool(pg_prng_state *state)
{
	return (pg_prng_uint64(state) >> 63) != 0;
}
