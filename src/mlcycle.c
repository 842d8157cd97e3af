/*
 * mlcycle.c
 *	  Module entry point: _PG_init, the mlcycle.* GUCs and the helpers every
 *	  area uses (timing, the training memory budget).
 */
#include "postgres.h"

#include <limits.h>
#include <sys/mman.h>

#include "fmgr.h"
#include "portability/instr_time.h"
#include "utils/guc.h"
#include "utils/memutils.h"

#include "importance.h"
#include "jobs.h"
#include "learners.h"
#include "mlcycle.h"
#include "transform.h"
#include "profile.h"

PG_MODULE_MAGIC;

int			mlc_max_train_memory_kb = 1024 * 1024;
int			mlc_blas_threads = 1;
bool		mlc_progress = true;
bool		mlc_single_pass = true;

void		_PG_init(void);

/* Define the GUCs and reserve the mlcycle.* prefix */
void
_PG_init(void)
{
	DefineCustomIntVariable("mlcycle.max_train_memory",
							"Largest amount of memory one training run may hold for its data.",
							"The raw columns and the preprocessed matrix count against it.",
							&mlc_max_train_memory_kb,
							1024 * 1024, 1024, INT_MAX,
							PGC_USERSET, GUC_UNIT_KB,
							NULL, NULL, NULL);
	DefineCustomIntVariable("mlcycle.blas_threads",
							"Number of OpenBLAS threads a backend uses.",
							"1 keeps BLAS single-threaded; parallelism comes from parallel query.",
							&mlc_blas_threads,
							1, 1, 64,
							PGC_USERSET, 0,
							NULL, NULL, NULL);
	DefineCustomBoolVariable("mlcycle.progress",
							 "Report the phases of training as NOTICE messages.",
							 NULL,
							 &mlc_progress,
							 true,
							 PGC_USERSET, 0,
							 NULL, NULL, NULL);
	DefineCustomBoolVariable("mlcycle.single_pass",
							 "Fit linear and ridge models on numeric features in one pass over the relation.",
							 "Off reads the rows into memory first, as the other learners do; the model is the same.",
							 &mlc_single_pass,
							 true,
							 PGC_USERSET, 0,
							 NULL, NULL, NULL);
	DefineCustomIntVariable("mlcycle.reference_sample_size",
							"Most values per column that a model's reference profile keeps for KS tests.",
							"Also the most current values ml_drift samples per column; up to 10000 in both, KS p-values are exact.",
							&mlc_reference_sample_size,
							10000, 10, MLC_MAX_PROFILE_SAMPLE,
							PGC_USERSET, 0,
							NULL, NULL, NULL);
	DefineCustomIntVariable("mlcycle.transform_exact_limit",
							"Most values a quantile-based transformer fit keeps to be exact.",
							"robust, yeo_johnson, box_cox, median, most_frequent, quantile bins and clipping keep every value up to this many per fit, then use a quantile sketch.",
							&mlc_transform_exact_limit,
							10000000, 1000, 100000000,
							PGC_USERSET, 0,
							NULL, NULL, NULL);
	DefineCustomIntVariable("mlcycle.importance_repeats",
							"Repeats of the permutation importance ml_train computes for each model.",
							"0 skips permutation importance; each repeat scores the evaluated rows once per input column.",
							&mlc_importance_repeats,
							5, 0, 100,
							PGC_USERSET, 0,
							NULL, NULL, NULL);
	mlc_jobs_init();
	MarkGUCPrefixReserved("mlcycle");
	mlc_linalg_init();
}

/* Milliseconds on a monotonic clock */
double
mlc_now_ms(void)
{
	instr_time	now;

	INSTR_TIME_SET_CURRENT(now);
	return INSTR_TIME_GET_MILLISEC(now);
}

/* bytes reserved by the current training run */
static double mlc_reserved_bytes = 0;

/* Start counting a new training run's memory */
void
mlc_memory_reset(void)
{
	mlc_reserved_bytes = 0;
}

/* Reserve bytes for training data; refuse when the run would exceed the budget */
void
mlc_check_memory(Size bytes, const char *what)
{
	double		limit = (double) mlc_max_train_memory_kb * 1024.0;

	mlc_reserved_bytes += (double) bytes;
	if (mlc_reserved_bytes > limit)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("training data needs more memory than mlcycle.max_train_memory allows"),
				 errdetail("Holding the %s brings the run to %.1f MB; the limit is %.1f MB.",
						   what, mlc_reserved_bytes / 1048576.0, limit / 1048576.0),
				 errhint("Raise mlcycle.max_train_memory, train on a sample of the rows, or exclude columns.")));
}

/*
 * A large training array in the current memory context.  Transparent huge
 * pages are requested for its 2 MB-aligned interior before the first touch:
 * on virtual machines page faults otherwise cost more than filling the data.
 */
void *
mlc_alloc_large(Size bytes)
{
	char	   *p = MemoryContextAllocHuge(CurrentMemoryContext, bytes);

#ifdef MADV_HUGEPAGE
	if (bytes >= 4 * 1024 * 1024)
	{
		uintptr_t	start = TYPEALIGN(2 * 1024 * 1024, (uintptr_t) p);
		uintptr_t	end = TYPEALIGN_DOWN(2 * 1024 * 1024, (uintptr_t) p + bytes);

		if (end > start)
			(void) madvise((void *) start, end - start, MADV_HUGEPAGE);
	}
#endif
	return p;
}
