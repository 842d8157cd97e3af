/*
 * scheduler.c
 *	  The scheduler: a launcher background worker, registered when mlcycle is
 *	  in shared_preload_libraries, that marks abandoned jobs failed and starts
 *	  a retraining job for every due policy every mlcycle.naptime seconds.
 *	  Also defines the GUCs of jobs and the scheduler.
 */
#include "postgres.h"


#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"

#include "jobs.h"

PGDLLEXPORT void mlcycle_scheduler_main(Datum main_arg);

bool		mlc_scheduler_enabled = true;
char	   *mlc_scheduler_database = NULL;
int			mlc_scheduler_naptime = 60;
double		mlc_challenger_margin = 0.0;

void
mlc_jobs_init(void)
{
	BackgroundWorker w;

	DefineCustomRealVariable("mlcycle.challenger_margin",
							 "How much better a retrained challenger must score than the deployed model to replace it.",
							 "Compared on the same holdout rows with the deployed model's headline metric.",
							 &mlc_challenger_margin,
							 0.0, 0.0, 1.0,
							 PGC_USERSET, 0,
							 NULL, NULL, NULL);
	DefineCustomBoolVariable("mlcycle.scheduler",
							 "Start retraining jobs when retraining policies are due.",
							 "Needs mlcycle in shared_preload_libraries; off leaves only the reaping of abandoned jobs.",
							 &mlc_scheduler_enabled,
							 true,
							 PGC_SIGHUP, 0,
							 NULL, NULL, NULL);
	DefineCustomStringVariable("mlcycle.database",
							   "Database whose retraining policies the scheduler checks.",
							   NULL,
							   &mlc_scheduler_database,
							   "postgres",
	/* a library loaded after startup cannot define PGC_POSTMASTER variables */
							   process_shared_preload_libraries_in_progress ? PGC_POSTMASTER : PGC_SIGHUP, 0,
							   NULL, NULL, NULL);
	DefineCustomIntVariable("mlcycle.naptime",
							"Seconds between two checks of the retraining policies.",
							NULL,
							&mlc_scheduler_naptime,
							60, 1, 86400,
							PGC_SIGHUP, GUC_UNIT_S,
							NULL, NULL, NULL);
	if (!process_shared_preload_libraries_in_progress)
		return;
	memset(&w, 0, sizeof(w));
	w.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	w.bgw_start_time = BgWorkerStart_RecoveryFinished;
	w.bgw_restart_time = 10;
	strlcpy(w.bgw_library_name, "mlcycle", BGW_MAXLEN);
	strlcpy(w.bgw_function_name, "mlcycle_scheduler_main", BGW_MAXLEN);
	strlcpy(w.bgw_name, "mlcycle scheduler", BGW_MAXLEN);
	strlcpy(w.bgw_type, "mlcycle scheduler", BGW_MAXLEN);
	RegisterBackgroundWorker(&w);
}

/* Is the extension installed in this database? */
static bool
mlc_extension_here(void)
{
	return SPI_execute("SELECT 1 FROM pg_catalog.pg_extension WHERE extname = 'mlcycle'", true, 1)
		== SPI_OK_SELECT && SPI_processed == 1;
}

/* Start the workers of the jobs that scheduler_tick recorded */
static void
mlc_start_due_jobs(void)
{
	SPITupleTable *due;
	uint64		n;

	if (SPI_execute("SELECT job_id, role_oid FROM mlcycle.scheduler_tick()", false, 0) != SPI_OK_SELECT)
		elog(ERROR, "mlcycle: scheduler_tick failed");
	due = SPI_tuptable;
	n = SPI_processed;
	for (uint64 i = 0; i < n; i++)
	{
		bool		isnull;
		int64		job_id = DatumGetInt64(SPI_getbinval(due->vals[i], due->tupdesc, 1, &isnull));
		Oid			roleid = DatumGetObjectId(SPI_getbinval(due->vals[i], due->tupdesc, 2, &isnull));
		char	   *why;
		int			pid;
		Oid			types[3] = {INT8OID, INT4OID, TEXTOID};
		Datum		v[3];
		char		nulls[3] = {' ', ' ', ' '};

		CHECK_FOR_INTERRUPTS();
		pid = isnull ? 0 : mlc_job_launch(job_id, roleid, MyDatabaseId, GetTopTransactionId(), &why);
		if (isnull)
			why = psprintf("the role of job %lld no longer exists", (long long) job_id);
		v[0] = Int64GetDatum(job_id);
		v[1] = Int32GetDatum(pid);
		v[2] = why ? CStringGetTextDatum(why) : (Datum) 0;
		if (!why)
			nulls[2] = 'n';
		if (SPI_execute_with_args("SELECT mlcycle.job_launched($1, $2, $3)", 3, types, v, nulls, false, 0)
			!= SPI_OK_SELECT)
			elog(ERROR, "mlcycle: recording a started job failed");
		elog(LOG, "mlcycle scheduler: job %lld %s", (long long) job_id, why ? why : "started");
	}
}

/* One pass: reap abandoned jobs, then start the due retraining jobs */
static void
mlc_scheduler_pass(bool *warned)
{
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "mlcycle: SPI_connect failed");
	PushActiveSnapshot(GetTransactionSnapshot());
	pgstat_report_activity(STATE_RUNNING, "mlcycle scheduler: checking jobs and retraining policies");
	if (mlc_extension_here())
	{
		*warned = false;
		if (SPI_execute("SELECT mlcycle.reap_jobs()", false, 0) != SPI_OK_SELECT)
			elog(ERROR, "mlcycle: reap_jobs failed");
		if (mlc_scheduler_enabled)
			mlc_start_due_jobs();
	}
	else if (!*warned)
	{
		ereport(LOG,
				(errmsg("mlcycle scheduler: extension mlcycle is not installed in database \"%s\"",
						mlc_scheduler_database),
				 errhint("CREATE EXTENSION mlcycle there, or point mlcycle.database at the database that has it.")));
		*warned = true;
	}
	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
	pgstat_report_activity(STATE_IDLE, NULL);
}

/* Entry point of the launcher */
void
mlcycle_scheduler_main(Datum main_arg)
{
	MemoryContext loopcxt;
	bool		warned = false;

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnection(mlc_scheduler_database, NULL, 0);
	loopcxt = AllocSetContextCreate(TopMemoryContext, "mlcycle scheduler loop", ALLOCSET_DEFAULT_SIZES);
	elog(LOG, "mlcycle scheduler started on database \"%s\"", mlc_scheduler_database);
	for (;;)
	{
		MemoryContext old = MemoryContextSwitchTo(loopcxt);

		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}
		mlc_scheduler_pass(&warned);
		MemoryContextSwitchTo(old);
		MemoryContextReset(loopcxt);
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 mlc_scheduler_naptime * 1000L, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}
}
