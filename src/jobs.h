/*
 * jobs.h
 *	  Background jobs: starting a job's dynamic background worker, the
 *	  worker's entry point, and the scheduler's launcher and GUCs.
 */
#ifndef MLCYCLE_JOBS_H
#define MLCYCLE_JOBS_H

#include "postgres.h"

/* GUCs, defined in scheduler.c */
extern bool mlc_scheduler_enabled;
extern char *mlc_scheduler_database;
extern int	mlc_scheduler_naptime;
extern double mlc_challenger_margin;

/*
 * Start the worker of job job_id, connected to database dbid as roleid, that
 * waits for transaction xid (the one recording the job) to end.  Returns its
 * pid, or 0 with *why set when no worker could be started.
 */
extern int	mlc_job_launch(int64 job_id, Oid roleid, Oid dbid, TransactionId xid, char **why);

/* The GUCs of jobs and the scheduler, and the launcher when preloaded (from _PG_init) */
extern void mlc_jobs_init(void);

#endif							/* MLCYCLE_JOBS_H */
