/*
 * pg_stubs.h
 *	  What the fuzz harness and the seed generator see of the backend stubs:
 *	  the error trap and the per-input memory release.
 */
#ifndef MLCYCLE_PG_STUBS_H
#define MLCYCLE_PG_STUBS_H

#include <setjmp.h>

/* where errfinish() longjmps on ERROR; NULL means abort() */
extern jmp_buf *stub_error_jmp;
/* SQLSTATE and message of the last ERROR */
extern int	stub_error_code;
extern char stub_error_message[1024];

/* free every palloc'd chunk */
extern void stub_free_all(void);

#endif							/* MLCYCLE_PG_STUBS_H */
