#!/usr/bin/env bash
# Background jobs and retraining, on a cluster of its own (it kills and restarts
# the server): asynchronous training as a non-superuser role under row-level
# security, cancel latency, kill -9 of a worker, a restart mid-job, out of
# worker slots, revoked privileges, a dropped source table, concurrent
# ml_retrain, the scheduler starting drift-, new-rows- and interval-triggered
# retraining, a challenger that wins and one that loses, and the dynamic-worker
# path without shared_preload_libraries.  Every wait polls with a timeout.
# Runs under scripts/test.sh (after its build) or alone.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib.sh
. scripts/lib.sh

if [ -z "${MLC_PGDIR:-}" ]; then
	mlc_install_deps
	mlc_build_install
fi
unset MLC_PGDIR
MLC_PRELOAD=mlcycle MLC_PORT=55480 mlc_start_cluster
export PGOPTIONS="-c client_min_messages=warning"
cat >>"$MLC_PGDIR/data/postgresql.conf" <<EOF
max_worker_processes = 4
mlcycle.database = 'mlc_jobs'
mlcycle.naptime = 1
EOF

restart() { # restart [pg_ctl stop mode]
	mlc_as_pg "$MLC_PGBIN/pg_ctl" -D "$MLC_PGDIR/data" -l "$MLC_PGDIR/server.log" -m "${1:-fast}" -w -t 60 restart >/dev/null
}
restart

db=mlc_jobs
failures=0
sql() { "${MLC_PSQL[@]}" -Atq -d "$db" "$@"; }
alice() { PGUSER=alice "${MLC_PSQL[@]}" -Atq -d "$db" "$@"; }

check() { # check NAME VALUE EXPECTED
	if [ "$2" = "$3" ]; then
		printf 'PASS  %s\n' "$1"
	else
		printf 'FAIL  %s: got [%s], expected [%s]\n' "$1" "$2" "$3"
		failures=$((failures + 1))
	fi
}

# wait_for NAME SECONDS SQL: poll (as postgres) until SQL returns t
wait_for() {
	local name=$1 deadline=$((SECONDS + $2)) got
	while :; do
		got=$(sql -c "$3" 2>/dev/null || true)
		[ "$got" = t ] && return 0
		if [ "$SECONDS" -ge "$deadline" ]; then
			printf 'FAIL  %s: not true after %ss\n' "$name" "$2"
			failures=$((failures + 1))
			return 1
		fi
		sleep 0.2
	done
}

wait_ready() {
	local deadline=$((SECONDS + 60))
	until "$MLC_PGBIN/pg_isready" -q -h "$PGHOST" -p "$PGPORT" && sql -c 'SELECT 1' >/dev/null 2>&1; do
		[ "$SECONDS" -lt "$deadline" ] || mlc_die "the server did not come back"
		sleep 0.2
	done
}

mlc_fresh_db "$db" mlcycle
mlc_load_customers "$db"
sql <<'EOF'
SET mlcycle.progress = off;
DROP ROLE IF EXISTS alice;
CREATE ROLE alice LOGIN;
GRANT SELECT ON customers TO alice;
ALTER TABLE customers ENABLE ROW LEVEL SECURITY;
CREATE POLICY no_two_year ON customers TO alice USING (contract <> 'Two year');
CREATE POLICY all_rows ON customers TO postgres USING (true);
-- enough rows that training runs for seconds
CREATE TABLE big AS SELECT c.* FROM customers c, generate_series(1, 60);
GRANT SELECT ON big TO alice;
CREATE TABLE fresh AS SELECT * FROM customers;
GRANT SELECT ON fresh TO alice;
EOF

mlc_header "asynchronous training as alice, under row-level security"
job=$(alice -c "SELECT ml_train_async('churn', 'customers', 'churn', exclude => '{id}')")
wait_for "job $job finishes" 60 "SELECT status = 'succeeded' FROM mlcycle.jobs WHERE job_id = $job"
check "the job ran as alice" "$(sql -c "SELECT role FROM mlcycle.jobs WHERE job_id = $job")" alice
check "the worker read only the rows alice may see" \
	"$(sql -c "SELECT m.rows_read = (SELECT count(*) FROM customers WHERE contract <> 'Two year')
			   FROM mlcycle.jobs j JOIN mlcycle.models m USING (model_id) WHERE j.job_id = $job")" t
check "the model is owned by alice and deployed" \
	"$(sql -c "SELECT m.owner || ' ' || (d.model_id = m.model_id) FROM mlcycle.jobs j JOIN mlcycle.models m USING (model_id)
			   JOIN mlcycle.current_deployments d ON d.project_id = m.project_id WHERE j.job_id = $job")" "alice true"
champion=$(sql -c "SELECT model_id FROM mlcycle.jobs WHERE job_id = $job")
alice -c "SELECT ml_retrain_policy('churn', 'fresh', on_drift => false)" >/dev/null

# start a long job on big and wait until its worker is training
long_job() { # long_job PROJECT -> job id
	alice -c "SELECT ml_train_async('$1', 'big', 'churn', exclude => '{id}',
				hyperparams => '{\"tol\": 1e-14, \"max_iter\": 1000000}')"
}
wait_training() { # wait_training JOB
	wait_for "job $1 is training" 60 "SELECT status = 'running' AND progress >= 0.3 FROM mlcycle.job_overview WHERE job_id = $1"
}
unchanged() { # unchanged JOB PROJECT: the failed job left nothing and churn's deployment stands
	check "job $1 stored no model" "$(sql -c "SELECT count(*) FROM mlcycle.models m JOIN mlcycle.projects p USING (project_id)
		WHERE p.name = '$2'")" 0
	check "the champion of churn still serves after job $1" \
		"$(sql -c "SELECT model_id FROM mlcycle.current_deployments d JOIN mlcycle.projects p USING (project_id) WHERE p.name = 'churn'")" \
		"$champion"
	check "ml_predict still answers after job $1" \
		"$(alice -c "SELECT count(ml_predict('churn', c)) FROM customers c WHERE c.id <= 5")" 5
}

mlc_header "cancel"
job=$(long_job cancelme)
wait_training "$job"
start=$(date +%s.%N)
check "ml_job_cancel signals the worker" "$(alice -c "SELECT ml_job_cancel($job)")" t
wait_for "job $job is cancelled" 5 "SELECT status = 'cancelled' FROM mlcycle.jobs WHERE job_id = $job"
elapsed=$(echo "$(date +%s.%N) - $start" | bc)
echo "cancelled in ${elapsed}s"
check "cancel took under 2 seconds" "$(echo "$elapsed < 2" | bc)" 1
check "the cancelled job's SQLSTATE" "$(sql -c "SELECT error_sqlstate FROM mlcycle.jobs WHERE job_id = $job")" 57014
check "the cancellation is in the audit log" \
	"$(sql -c "SELECT action || ' ' || (detail->>'sqlstate') FROM mlcycle.audit_log WHERE (detail->>'job_id')::bigint = $job")" \
	"job_cancelled 57014"
unchanged "$job" cancelme

mlc_header "kill -9 of a worker mid-training"
job=$(long_job killed)
wait_training "$job"
pid=$(sql -c "SELECT pid FROM mlcycle.jobs WHERE job_id = $job")
kill -9 "$pid"
sleep 0.5 # let the postmaster notice and restart the backends
wait_ready
wait_for "job $job is marked failed" 30 "SELECT status = 'failed' FROM mlcycle.jobs WHERE job_id = $job"
check "the killed job's error" "$(sql -c "SELECT error_sqlstate || ': ' || error_message FROM mlcycle.jobs WHERE job_id = $job")" \
	"57P02: the background worker of job $job ended without finishing it"
check "the failure is in the audit log" \
	"$(sql -c "SELECT count(*) FROM mlcycle.audit_log WHERE action = 'job_failed' AND (detail->>'job_id')::bigint = $job")" 1
unchanged "$job" killed

mlc_header "server restart mid-job"
job=$(long_job restarted)
wait_training "$job"
restart fast
wait_ready
wait_for "job $job is marked failed after the restart" 30 "SELECT status = 'failed' FROM mlcycle.jobs WHERE job_id = $job"
check "the restarted job's error" "$(sql -c "SELECT error_sqlstate FROM mlcycle.jobs WHERE job_id = $job")" 57P02
unchanged "$job" restarted

mlc_header "out of worker slots"
# max_worker_processes = 4: the scheduler and the logical replication launcher hold two
slot1=$(long_job slots1)
slot2=$(long_job slots2)
wait_training "$slot1"
wait_training "$slot2"
job=$(alice -c "SELECT ml_train_async('slots3', 'customers', 'churn', exclude => '{id}')" 2>/dev/null)
check "the third job failed at once" "$(sql -c "SELECT status || ' ' || error_sqlstate FROM mlcycle.jobs WHERE job_id = $job")" \
	"failed 53400"
check "its error names the limit" "$(sql -c "SELECT error_message ~ 'max_worker_processes' FROM mlcycle.jobs WHERE job_id = $job")" t
alice -c "SELECT ml_job_cancel($slot1), ml_job_cancel($slot2)" >/dev/null
wait_for "the two long jobs are cancelled" 10 \
	"SELECT bool_and(status = 'cancelled') FROM mlcycle.jobs WHERE job_id IN ($slot1, $slot2)"
unchanged "$job" slots3

mlc_header "privileges revoked"
sql -c "REVOKE SELECT ON customers FROM alice"
job=$(alice -c "SELECT ml_train_async('churn', 'customers', 'churn', exclude => '{id}')")
wait_for "job $job fails" 30 "SELECT status = 'failed' FROM mlcycle.jobs WHERE job_id = $job"
check "the job failed on alice's privileges" \
	"$(sql -c "SELECT error_sqlstate || ': ' || error_message FROM mlcycle.jobs WHERE job_id = $job")" \
	"42501: permission denied for relation public.customers"
sql -c "GRANT SELECT ON customers TO alice"
unchanged "$job" none

mlc_header "dropped source table"
sql -c "DROP TABLE fresh"
job=$(alice -c "SELECT ml_retrain('churn')")
wait_for "job $job fails" 30 "SELECT status = 'failed' FROM mlcycle.jobs WHERE job_id = $job"
check "the retraining job failed on the dropped table" \
	"$(sql -c "SELECT error_sqlstate || ': ' || error_message FROM mlcycle.jobs WHERE job_id = $job")" \
	'42P01: relation "public.fresh" of the retraining policy of project "churn" does not exist'
unchanged "$job" none

mlc_header "concurrent ml_retrain of one project"
sql -c "CREATE TABLE fresh AS SELECT * FROM customers; GRANT SELECT ON fresh TO alice"
alice -c "SELECT ml_retrain_policy('churn', 'fresh', on_drift => false)" >/dev/null
out1=$MLC_PGDIR/retrain1.out
out2=$MLC_PGDIR/retrain2.out
PGUSER=alice "${MLC_PSQL[@]}" -Atq -d "$db" -c "BEGIN" -c "SELECT ml_retrain('churn')" -c "SELECT pg_sleep(1)" -c "COMMIT" \
	>"$out1" 2>&1 &
first=$!
sleep 0.3
PGUSER=alice "${MLC_PSQL[@]}" -Atq -d "$db" -c "SELECT ml_retrain('churn')" >"$out2" 2>&1 || true
wait "$first" || true
check "the first ml_retrain started a job" "$(grep -cE '^[0-9]+$' "$out1")" 1
check "the concurrent one was refused" \
	"$(grep -c 'project "churn" already has a retraining job' "$out2")" 1
job=$(grep -E '^[0-9]+$' "$out1")
wait_for "job $job finishes" 60 "SELECT status = 'succeeded' FROM mlcycle.jobs WHERE job_id = $job"

mlc_header "a challenger that loses is kept undeployed"
sql -c "ALTER ROLE alice SET mlcycle.challenger_margin = 0.5"
job=$(alice -c "SELECT ml_retrain('churn')")
wait_for "job $job finishes" 60 "SELECT status = 'succeeded' FROM mlcycle.jobs WHERE job_id = $job"
check "the challenger was not deployed" "$(sql -c "SELECT result->>'deployed' FROM mlcycle.jobs WHERE job_id = $job")" false
check "the reason is recorded" \
	"$(sql -c "SELECT reason ~ 'not better by more than the margin 0.5: kept undeployed' FROM mlcycle.audit_log
			   WHERE action = 'challenger' AND (detail->>'job_id')::bigint = $job")" t
check "both scored on the same holdout rows" \
	"$(sql -c "SELECT (result->>'holdout_rows')::int > 1000 FROM mlcycle.jobs WHERE job_id = $job")" t
unchanged "$job" none
sql -c "ALTER ROLE alice RESET mlcycle.challenger_margin"

mlc_header "scheduler: drift triggers a retrain whose challenger wins"
sql <<'EOF'
-- the rows arriving now follow another pattern: churn is the long contracts
CREATE TABLE shifted AS
SELECT id, CASE WHEN contract = 'Month-to-month' THEN 'No' ELSE 'Yes' END AS churn, female, senior_citizen,
	   partner, dependents, tenure, phone_service, multiple_lines, internet_service, online_security,
	   online_backup, device_protection, tech_support, streaming_tv, streaming_movies, contract,
	   paperless_billing, payment_method, monthly_charges * 2 AS monthly_charges, total_charges
FROM customers;
GRANT SELECT ON shifted TO alice;
EOF
alice -c "SELECT count(*) FROM ml_train('drifty', 'customers', 'churn', exclude => '{id}')" >/dev/null
drift_champion=$(sql -c "SELECT d.model_id FROM mlcycle.current_deployments d JOIN mlcycle.projects p USING (project_id) WHERE p.name = 'drifty'")
alice -c "SELECT ml_retrain_policy('drifty', 'shifted')" >/dev/null
sleep 1.5 # a scheduler pass without drift
check "no retrain before drift" "$(sql -c "SELECT count(*) FROM mlcycle.jobs WHERE project = 'drifty'")" 0
check "ml_drift finds drift" "$(alice -c "SELECT bool_or(drifted) FROM ml_drift('drifty', 'shifted') WHERE kind = 'dataset'")" t
wait_for "the scheduler starts a drift retrain" 15 \
	"SELECT count(*) = 1 FROM mlcycle.jobs WHERE project = 'drifty' AND kind = 'retrain' AND trigger = 'drift'"
job=$(sql -c "SELECT job_id FROM mlcycle.jobs WHERE project = 'drifty' AND trigger = 'drift'")
wait_for "drift job $job finishes" 60 "SELECT status = 'succeeded' FROM mlcycle.jobs WHERE job_id = $job"
check "the drift job ran as alice" "$(sql -c "SELECT role FROM mlcycle.jobs WHERE job_id = $job")" alice
check "the decision names the drift report" \
	"$(sql -c "SELECT detail->'figures'->'drift'->>'run_id' = (SELECT max(run_id)::text FROM mlcycle.drift_reports)
			   FROM mlcycle.audit_log WHERE action = 'retrain_decision' AND (detail->>'job_id')::bigint = $job")" t
check "the challenger beat the champion on the holdout and was deployed" \
	"$(sql -c "SELECT (result->>'deployed')::boolean AND (result->>'challenger_score')::float8 > (result->>'champion_score')::float8
			   AND (result->>'champion_model_id')::bigint = $drift_champion
			   AND model_id = (SELECT d.model_id FROM mlcycle.current_deployments d JOIN mlcycle.projects p USING (project_id)
							   WHERE p.name = 'drifty')
			   FROM mlcycle.jobs WHERE job_id = $job")" t
sleep 1.5
check "one drift report starts one retrain" "$(sql -c "SELECT count(*) FROM mlcycle.jobs WHERE project = 'drifty'")" 1
alice -c "SELECT ml_drop_retrain_policy('drifty')" >/dev/null

mlc_header "scheduler: new rows and a schedule"
sql -c "CREATE TABLE growing AS SELECT * FROM customers WHERE id <= 3000; GRANT SELECT, INSERT ON growing TO alice"
alice -c "SELECT count(*) FROM ml_train('growing', 'growing', 'churn', exclude => '{id}')" >/dev/null
alice -c "SELECT ml_retrain_policy('growing', 'growing', on_drift => false, min_new_rows => 500, deploy => 'best_score')" >/dev/null
sql -c "INSERT INTO growing SELECT * FROM customers WHERE id BETWEEN 3001 AND 3400"
sleep 1.5
check "400 new rows are not enough" "$(sql -c "SELECT count(*) FROM mlcycle.jobs WHERE project = 'growing'")" 0
sql -c "INSERT INTO growing SELECT * FROM customers WHERE id BETWEEN 3401 AND 3600"
wait_for "600 new rows start a retrain" 15 \
	"SELECT count(*) = 1 FROM mlcycle.jobs WHERE project = 'growing' AND trigger = 'new_rows'"
job=$(sql -c "SELECT job_id FROM mlcycle.jobs WHERE project = 'growing' AND trigger = 'new_rows'")
check "the decision's figures" \
	"$(sql -c "SELECT detail->'figures'->'rows'->>'new_rows' FROM mlcycle.audit_log
			   WHERE action = 'retrain_decision' AND (detail->>'job_id')::bigint = $job")" 600
wait_for "new-rows job $job finishes" 60 "SELECT status = 'succeeded' FROM mlcycle.jobs WHERE job_id = $job"
check "the retrained model read the grown table" \
	"$(sql -c "SELECT m.rows_read FROM mlcycle.jobs j JOIN mlcycle.models m USING (model_id) WHERE j.job_id = $job")" 3600
alice -c "SELECT ml_retrain_policy('growing', 'growing', every => '2 seconds', on_drift => false, deploy => 'most_recent')" >/dev/null
wait_for "the schedule starts a retrain" 15 \
	"SELECT count(*) >= 1 FROM mlcycle.jobs WHERE project = 'growing' AND trigger = 'schedule' AND status = 'succeeded'"
check "the scheduled model was deployed (most_recent)" \
	"$(sql -c "SELECT j.model_id = d.model_id FROM mlcycle.jobs j, mlcycle.current_deployments d JOIN mlcycle.projects p USING (project_id)
			   WHERE p.name = 'growing' AND j.job_id = (SELECT min(job_id) FROM mlcycle.jobs WHERE project = 'growing' AND trigger = 'schedule')")" t
alice -c "SELECT ml_drop_retrain_policy('growing')" >/dev/null
check "never two retrains of one project at once" \
	"$(sql -c "SELECT count(*) FROM (SELECT a.job_id FROM mlcycle.jobs a JOIN mlcycle.jobs b ON a.project = b.project AND a.job_id < b.job_id
			   AND a.kind = 'retrain' AND b.kind = 'retrain' AND b.started_at < a.finished_at) o")" 0

mlc_header "without shared_preload_libraries: dynamic workers only"
sed -i "s/^shared_preload_libraries = .*/shared_preload_libraries = ''/" "$MLC_PGDIR/data/postgresql.conf"
restart fast
wait_ready
check "no scheduler is running" "$(sql -c "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'mlcycle scheduler'")" 0
job=$(alice -c "SELECT ml_train_async('nopreload', 'customers', 'churn', exclude => '{id}')")
check "ml_job_wait returns the finished job" "$(alice -c "SELECT status FROM ml_job_wait($job, '60 seconds')")" succeeded
job=$(alice -c "SELECT ml_retrain('churn')")
check "ml_retrain works too" "$(alice -c "SELECT status FROM ml_job_wait($job, '60 seconds')")" succeeded

crashes=$(grep -E 'terminated by signal (4|6|7|8|11)\b|PANIC:|TRAP:' "$MLC_PGDIR/server.log" || true)
check "no crash in the server log" "$crashes" ""
echo "$failures failure(s)"
[ "$failures" -eq 0 ]
