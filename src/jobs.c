/*
 * jobs.c
 *	  Asynchronous jobs: mlcycle.submit_job records a job and starts a dynamic
 *	  background worker for it; the worker connects as the job's role, runs
 *	  the job in one transaction (so an error stores nothing) and records
 *	  the outcome, reporting its phases in pg_stat_activity.
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "storage/ipc.h"
#include "storage/lmgr.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"

#include "jobs.h"

PG_FUNCTION_INFO_V1(mlcycle_submit_job);
PGDLLEXPORT void mlcycle_job_main(Datum main_arg);

/* What a job's worker needs before it can read its job row (in bgw_extra) */
typedef struct MlcJobStart
{
	Oid			roleid;
	Oid			dbid;
	TransactionId xid;
} MlcJobStart;

/* The worker's job, for the progress hook */
static int64 mlc_job_id = 0;
static double mlc_job_progress = 0.05;
static char mlc_job_phase[256] = "starting";
static emit_log_hook_type mlc_prev_log_hook = NULL;

/* Can this role connect (background workers log in as the role)? */
static bool
mlc_role_can_login(Oid roleid)
{
	HeapTuple	tup = SearchSysCache1(AUTHOID, ObjectIdGetDatum(roleid));
	bool		ok;

	if (!HeapTupleIsValid(tup))
		return false;
	ok = ((Form_pg_authid) GETSTRUCT(tup))->rolcanlogin;
	ReleaseSysCache(tup);
	return ok;
}

int
mlc_job_launch(int64 job_id, Oid roleid, Oid dbid, TransactionId xid, char **why)
{
	BackgroundWorker w;
	BackgroundWorkerHandle *handle;
	MlcJobStart start = {roleid, dbid, xid};
	pid_t		pid = 0;
	BgwHandleStatus status;

	*why = NULL;
	if (!mlc_role_can_login(roleid))
	{
		*why = psprintf("role \"%s\" cannot log in, and job %lld runs as it",
						GetUserNameFromId(roleid, true) ? GetUserNameFromId(roleid, true) : "?",
						(long long) job_id);
		return 0;
	}
	memset(&w, 0, sizeof(w));
	w.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	w.bgw_start_time = BgWorkerStart_RecoveryFinished;
	w.bgw_restart_time = BGW_NEVER_RESTART;
	strlcpy(w.bgw_library_name, "mlcycle", BGW_MAXLEN);
	strlcpy(w.bgw_function_name, "mlcycle_job_main", BGW_MAXLEN);
	snprintf(w.bgw_name, BGW_MAXLEN, "mlcycle job %lld", (long long) job_id);
	strlcpy(w.bgw_type, "mlcycle job", BGW_MAXLEN);
	w.bgw_main_arg = Int64GetDatum(job_id);
	memcpy(w.bgw_extra, &start, sizeof(start));
	w.bgw_notify_pid = MyProcPid;
	if (!RegisterDynamicBackgroundWorker(&w, &handle))
	{
		*why = psprintf("no background worker slot is free for job %lld: all max_worker_processes (%d) are in use",
						(long long) job_id, max_worker_processes);
		return 0;
	}
	status = WaitForBackgroundWorkerStartup(handle, &pid);
	if (status == BGWH_POSTMASTER_DIED)
		ereport(ERROR,
				(errcode(ERRCODE_ADMIN_SHUTDOWN),
				 errmsg("the postmaster died while job %lld was starting", (long long) job_id)));
	if (status != BGWH_STARTED)
	{
		*why = psprintf("the background worker of job %lld could not start", (long long) job_id);
		return 0;
	}
	return (int) pid;
}

/* The SPI result's first column of the first row as int64 */
static int64
mlc_spi_int64(void)
{
	bool		isnull;
	Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);

	return isnull ? 0 : DatumGetInt64(d);
}

/*
 * mlcycle.submit_job(kind, project, arguments, trigger): a job of the current
 * role, its worker started (it waits for this transaction to commit), or the
 * job recorded as failed when no worker could start.
 */
Datum
mlcycle_submit_job(PG_FUNCTION_ARGS)
{
	Oid			roleid = GetUserId();
	Oid			types[7] = {INT8OID, TEXTOID, TEXTOID, JSONBOID, INT4OID, TEXTOID, TEXTOID};
	Datum		v[7];
	char		nulls[7] = {' ', ' ', ' ', ' ', ' ', ' ', ' '};
	int64		job_id;
	char	   *why;
	int			pid;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("kind, project and arguments of a job must not be NULL")));
	if (!mlc_role_can_login(roleid))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("role \"%s\" cannot log in, so it cannot run background jobs",
						GetUserNameFromId(roleid, false)),
				 errdetail("A background job connects to the database as the role that started it."),
				 errhint("Start the job as a role with LOGIN, or grant LOGIN to this one.")));
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "mlcycle: SPI_connect failed");
	if (SPI_execute("SELECT mlcycle.reap_jobs()", false, 0) != SPI_OK_SELECT)
		elog(ERROR, "mlcycle: reaping jobs failed");
	if (SPI_execute("SELECT nextval(pg_catalog.pg_get_serial_sequence('mlcycle.jobs', 'job_id'))", false, 1)
		!= SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "mlcycle: no job id");
	job_id = mlc_spi_int64();
	pid = mlc_job_launch(job_id, roleid, MyDatabaseId, GetTopTransactionId(), &why);
	v[0] = Int64GetDatum(job_id);
	v[1] = PG_GETARG_DATUM(0);
	v[2] = PG_GETARG_DATUM(1);
	v[3] = PG_GETARG_DATUM(2);
	v[4] = Int32GetDatum(pid);
	if (pid == 0)
		nulls[4] = 'n';
	v[5] = PG_ARGISNULL(3) ? (Datum) 0 : PG_GETARG_DATUM(3);
	if (PG_ARGISNULL(3))
		nulls[5] = 'n';
	v[6] = why ? CStringGetTextDatum(why) : (Datum) 0;
	if (!why)
		nulls[6] = 'n';
	if (SPI_execute_with_args("INSERT INTO mlcycle.jobs (job_id, kind, project, arguments, pid, trigger, "
							  "status, phase, finished_at, error_message, error_sqlstate) "
							  "VALUES ($1, $2, $3, $4, $5, $6, "
							  "CASE WHEN $7 IS NULL THEN 'queued' ELSE 'failed' END, "
							  "CASE WHEN $7 IS NULL THEN 'queued' ELSE 'not started' END, "
							  "CASE WHEN $7 IS NOT NULL THEN clock_timestamp() END, $7, "
							  "CASE WHEN $7 IS NOT NULL THEN '53400' END)",
							  7, types, v, nulls, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "mlcycle: recording job failed");
	if (why)
	{
		if (SPI_execute_with_args("INSERT INTO mlcycle.audit_log (project, action, detail, reason, owner) "
								  "VALUES ($3, 'job_failed', jsonb_build_object('job_id', $1, 'kind', $2, "
								  "'sqlstate', '53400'), $7, current_user)",
								  7, types, v, nulls, false, 0) != SPI_OK_INSERT)
			elog(ERROR, "mlcycle: recording job failure failed");
		ereport(WARNING,
				(errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
				 errmsg("job %lld failed: %s", (long long) job_id, why),
				 errhint("Raise max_worker_processes (a restart), or run fewer jobs at once.")));
	}
	SPI_finish();
	PG_RETURN_INT64(job_id);
}

/* Show the job's phase and progress in pg_stat_activity.query */
static void
mlc_job_report(const char *phase, double progress)
{
	char		buf[512];

	strlcpy(mlc_job_phase, phase, sizeof(mlc_job_phase));
	mlc_job_progress = progress;
	snprintf(buf, sizeof(buf), "mlcycle job %lld [%.2f] %s", (long long) mlc_job_id, progress, phase);
	pgstat_report_activity(STATE_RUNNING, buf);
}

/*
 * Training's progress NOTICEs ("mlcycle: read ...") become the job's phase;
 * they are not written to the server log.
 */
static void
mlc_job_log_hook(ErrorData *edata)
{
	if (edata->elevel == NOTICE && edata->message && strncmp(edata->message, "mlcycle: ", 9) == 0)
	{
		const char *msg = edata->message + 9;
		double		p = mlc_job_progress;

		if (strncmp(msg, "read ", 5) == 0)
			p = Max(p, 0.3);
		else if (strncmp(msg, "fitted preprocessing", 20) == 0)
			p = Max(p, 0.5);
		else if (strncmp(msg, "fitted ", 7) == 0)
			p = Max(p, 0.7);
		else if (strncmp(msg, "computed metrics", 16) == 0)
			p = Max(p, 0.8);
		else if (strncmp(msg, "scoring ", 8) == 0)
			p = Max(p, 0.9);
		mlc_job_report(msg, p);
		edata->output_to_server = false;
	}
	if (mlc_prev_log_hook)
		mlc_prev_log_hook(edata);
}

/* Run one SQL statement with the job id as $1 (and more arguments) */
static void
mlc_job_sql(const char *sql, int nargs, Oid *types, Datum *values, const char *nulls, int expect)
{
	int			ret = SPI_execute_with_args(sql, nargs, types, values, nulls, false, 0);

	if (ret != expect)
		elog(ERROR, "mlcycle: job statement failed: %s", SPI_result_code_string(ret));
}

/* Begin a transaction with SPI and a snapshot */
static void
mlc_job_xact_begin(void)
{
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "mlcycle: SPI_connect failed");
	PushActiveSnapshot(GetTransactionSnapshot());
}

static void
mlc_job_xact_commit(void)
{
	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
}

/* Record the job's outcome (in the current transaction) */
static void
mlc_job_finish(const char *status, int64 model_id, const char *result, ErrorData *edata)
{
	Oid			types[10] = {INT8OID, TEXTOID, TEXTOID, FLOAT8OID, INT8OID, JSONBOID,
	TEXTOID, TEXTOID, TEXTOID, TEXTOID};
	Datum		v[10];
	char		nulls[10];

	memset(nulls, 'n', sizeof(nulls));
	v[0] = Int64GetDatum(mlc_job_id);
	v[1] = CStringGetTextDatum(status);
	v[2] = CStringGetTextDatum(mlc_job_phase);
	v[3] = Float8GetDatum(strcmp(status, "succeeded") == 0 ? 1.0 : mlc_job_progress);
	nulls[0] = nulls[1] = nulls[2] = nulls[3] = ' ';
	if (model_id)
	{
		v[4] = Int64GetDatum(model_id);
		nulls[4] = ' ';
	}
	if (result)
	{
		v[5] = DirectFunctionCall1(jsonb_in, CStringGetDatum(result));
		nulls[5] = ' ';
	}
	if (edata)
	{
		v[6] = CStringGetTextDatum(edata->message ? edata->message : "unknown error");
		v[7] = CStringGetTextDatum(unpack_sql_state(edata->sqlerrcode));
		nulls[6] = nulls[7] = ' ';
		if (edata->detail)
		{
			v[8] = CStringGetTextDatum(edata->detail);
			nulls[8] = ' ';
		}
		if (edata->hint)
		{
			v[9] = CStringGetTextDatum(edata->hint);
			nulls[9] = ' ';
		}
	}
	mlc_job_sql("SELECT mlcycle.job_finish($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
				10, types, v, nulls, SPI_OK_SELECT);
}

/*
 * Take the job (queued -> running) and return its kind, or NULL when it is
 * gone (its transaction rolled back) or was cancelled before it started.
 */
static char *
mlc_job_take(char **arguments)
{
	Oid			types[1] = {INT8OID};
	Datum		v[1] = {Int64GetDatum(mlc_job_id)};
	char	   *kind = NULL;

	mlc_job_xact_begin();
	mlc_job_sql("SELECT * FROM mlcycle.job_begin($1) WHERE kind IS NOT NULL", 1, types, v, NULL, SPI_OK_SELECT);
	if (SPI_processed == 1)
	{
		TupleDesc	td = SPI_tuptable->tupdesc;
		HeapTuple	tup = SPI_tuptable->vals[0];

		kind = MemoryContextStrdup(TopMemoryContext, SPI_getvalue(tup, td, 1));
		*arguments = MemoryContextStrdup(TopMemoryContext, SPI_getvalue(tup, td, 2));
		SetConfigOption("search_path", SPI_getvalue(tup, td, 3), PGC_USERSET, PGC_S_SESSION);
	}
	mlc_job_xact_commit();
	return kind;
}

/* Run the job and record success, all in one transaction */
static void
mlc_job_run(const char *kind, const char *arguments)
{
	Oid			types[1];
	Datum		v[1];
	int64		model_id;
	char	   *result;

	mlc_job_xact_begin();
	mlc_job_report("training", 0.1);
	if (strcmp(kind, "train") == 0)
	{
		types[0] = JSONBOID;
		v[0] = DirectFunctionCall1(jsonb_in, CStringGetDatum(arguments));
		mlc_job_sql("SELECT model_id, result FROM mlcycle.run_train($1)", 1, types, v, NULL, SPI_OK_SELECT);
	}
	else
	{
		types[0] = INT8OID;
		v[0] = Int64GetDatum(mlc_job_id);
		mlc_job_sql("SELECT model_id, result FROM mlcycle.run_retrain($1)", 1, types, v, NULL, SPI_OK_SELECT);
	}
	model_id = mlc_spi_int64();
	result = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2);
	mlc_job_report("done", 1.0);
	mlc_job_finish("succeeded", model_id, result, NULL);
	mlc_job_xact_commit();
}

/* Record why the job ended without success, in a new transaction */
static void
mlc_job_failed(ErrorData *edata)
{
	const char *status = edata->sqlerrcode == ERRCODE_QUERY_CANCELED ? "cancelled" : "failed";

	mlc_job_xact_begin();
	mlc_job_finish(status, 0, NULL, edata);
	mlc_job_xact_commit();
}

/* Entry point of a job's dynamic background worker */
void
mlcycle_job_main(Datum main_arg)
{
	MlcJobStart start;
	char	   *kind;
	char	   *arguments = NULL;
	char		appname[64];

	mlc_job_id = DatumGetInt64(main_arg);
	memcpy(&start, MyBgworkerEntry->bgw_extra, sizeof(start));
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnectionByOid(start.dbid, start.roleid, 0);
	snprintf(appname, sizeof(appname), "mlcycle job %lld", (long long) mlc_job_id);
	SetConfigOption("application_name", appname, PGC_USERSET, PGC_S_SESSION);
	/* progress NOTICEs reach the log hook, which keeps them out of the log */
	SetConfigOption("mlcycle.progress", "on", PGC_USERSET, PGC_S_SESSION);
	SetConfigOption("log_min_messages", "notice", PGC_SUSET, PGC_S_SESSION);
	mlc_prev_log_hook = emit_log_hook;
	emit_log_hook = mlc_job_log_hook;

	/* cancel (ml_job_cancel) acts only while the job runs */
	HOLD_CANCEL_INTERRUPTS();
	mlc_job_report("waiting for the submitting transaction", 0.0);
	StartTransactionCommand();
	XactLockTableWait(start.xid, NULL, NULL, XLTW_None);
	CommitTransactionCommand();

	kind = mlc_job_take(&arguments);
	if (kind == NULL)
		proc_exit(0);
	PG_TRY();
	{
		RESUME_CANCEL_INTERRUPTS();
		mlc_job_run(kind, arguments);
		HOLD_CANCEL_INTERRUPTS();
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		HOLD_INTERRUPTS();
		QueryCancelHoldoffCount = 0;
		HOLD_CANCEL_INTERRUPTS();
		MemoryContextSwitchTo(TopMemoryContext);
		EmitErrorReport();
		edata = CopyErrorData();
		FlushErrorState();
		AbortCurrentTransaction();
		RESUME_INTERRUPTS();
		mlc_job_failed(edata);
	}
	PG_END_TRY();
	pgstat_report_activity(STATE_IDLE, NULL);
	proc_exit(0);
}
