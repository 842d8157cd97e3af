#!/usr/bin/env bash
# A five-minute tour of mlcycle: installs what is missing (as root), builds and installs
# the extension, starts a throwaway PostgreSQL 15 cluster, loads data/telco_churn.csv
# into a table customers, and runs scripts/demo.sql with psql: train, compare, deploy,
# score inside queries, roll back. The cluster is stopped and removed at exit.
#
#   MLC_DEMO_SHELL=1  open an interactive psql on the demo database at the end
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib.sh
. scripts/lib.sh

mlc_header "mlcycle demo: setting up (packages, build, cluster)"
mlc_install_deps
mlc_build_install || mlc_die "the build failed"
mlc_start_cluster

mlc_header "loading data/telco_churn.csv into table customers (database demo)"
mlc_fresh_db demo mlcycle
mlc_load_customers demo
echo "loaded $("${MLC_PSQL[@]}" -Atq -d demo -c 'SELECT count(*) FROM customers') rows"

mlc_header "the tour (scripts/demo.sql)"
"${MLC_PSQL[@]}" -d demo -f scripts/demo.sql

if [ -n "${MLC_DEMO_SHELL:-}" ]; then
	mlc_header "your turn: psql on database demo (\\q to quit and stop the cluster)"
	"$MLC_PGBIN/psql" -d demo
fi
mlc_header "done; stopping the cluster"
