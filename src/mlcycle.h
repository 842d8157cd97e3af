/*
 * mlcycle.h
 *	  Module-wide declarations: GUC variables and small shared helpers.
 */
#ifndef MLCYCLE_H
#define MLCYCLE_H

#include "postgres.h"

/* GUCs, defined in mlcycle.c */
extern int	mlc_max_train_memory_kb;
extern int	mlc_blas_threads;
extern bool mlc_progress;
extern bool mlc_single_pass;

/* a NOTICE about training progress, when mlcycle.progress is on */
#define mlc_progress_notice(...) \
	do { \
		if (mlc_progress) \
			ereport(NOTICE, (errmsg(__VA_ARGS__))); \
	} while (0)

/* milliseconds elapsed since start (a value from mlc_now_ms) */
extern double mlc_now_ms(void);

/* a large array for training data (huge pages where the kernel offers them) */
extern void *mlc_alloc_large(Size bytes);

/* training memory budget (mlcycle.max_train_memory), counted per run */
extern void mlc_memory_reset(void);
extern void mlc_check_memory(Size bytes, const char *what);

#endif							/* MLCYCLE_H */
