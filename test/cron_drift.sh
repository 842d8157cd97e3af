#!/usr/bin/env bash
# pg_cron schedules ml_drift: a job created in the cron database ('postgres',
# cron.database_name) with cron.schedule_in_database runs SELECT ... FROM
# ml_drift(...) in database mlc_cron every minute (pg_cron 1.4 has no seconds
# syntax); the test waits at most 90 s for a succeeded run in
# cron.job_run_details and a new row in mlcycle.drift_reports, then unschedules.
# Runs under scripts/test.sh (reusing its cluster) or alone.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib.sh
. scripts/lib.sh
mlc_ensure_cluster

psql=("${MLC_PSQL[@]}" -Atq)
export PGOPTIONS="-c client_min_messages=warning"
job=mlcycle_drift_test

mlc_fresh_db mlc_cron mlcycle
"${psql[@]}" -d mlc_cron <<'SQL'
SET mlcycle.progress = off;
CREATE TABLE cron_rows AS
SELECT i AS id, (i % 50)::float8 AS x, (ARRAY['a', 'b'])[1 + i % 2] AS cat, (i % 50) * 2.0 + i % 3 AS y
FROM generate_series(1, 500) i;
SELECT count(*) FROM ml_train('cron', 'cron_rows', 'y', exclude => '{id}');
SQL
cron_db=$("${psql[@]}" -d postgres -c "SHOW cron.database_name")
"${psql[@]}" -d "$cron_db" -c "CREATE EXTENSION IF NOT EXISTS pg_cron"
unschedule() {
	"${psql[@]}" -d "$cron_db" -c "SELECT cron.unschedule(jobid) FROM cron.job WHERE jobname = '$job'" >/dev/null || true
}
mlc_atexit unschedule
unschedule
jobid=$("${psql[@]}" -d "$cron_db" -c "SELECT cron.schedule_in_database('$job', '* * * * *',
	\$\$SELECT count(*) FROM ml_drift('cron', 'cron_rows')\$\$, 'mlc_cron')")
echo "scheduled job $jobid in $cron_db for database mlc_cron; waiting for its first run (at most 90 s)"

status=
for _ in $(seq 1 90); do
	status=$("${psql[@]}" -d "$cron_db" -c "SELECT status FROM cron.job_run_details
		WHERE jobid = $jobid AND status IN ('succeeded', 'failed') ORDER BY runid LIMIT 1")
	[ -n "$status" ] && break
	sleep 1
done
"${psql[@]}" -d "$cron_db" -c "SELECT runid, status, return_message FROM cron.job_run_details WHERE jobid = $jobid"
unschedule
left=$("${psql[@]}" -d "$cron_db" -c "SELECT count(*) FROM cron.job WHERE jobname = '$job'")
runs=$("${psql[@]}" -d mlc_cron -c "SELECT count(*) FROM mlcycle.drift_runs WHERE project = 'cron' AND relation = 'cron_rows'")
echo "job status: ${status:-none}; drift runs recorded: $runs; jobs left: $left"
[ "$status" = succeeded ] && [ "$runs" -ge 1 ] && [ "$left" = 0 ]
