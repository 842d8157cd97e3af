#!/usr/bin/env bash
# Dump/restore round trip: train two models in database dump_src, pg_dump -Fc it,
# pg_restore into dump_dst, then check that the catalog (projects, models, deployments)
# came back identical, that every prediction is the same byte for byte, and that a new
# model can still be trained (identity sequences restored past the existing ids).
# Runs under scripts/test.sh (reusing its cluster) or alone (installs, builds and starts
# its own). Prints PASS/FAIL lines; exits non-zero when a check fails.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib.sh
. scripts/lib.sh
mlc_ensure_cluster

work=$(mktemp -d /tmp/mlcycle-dump.XXXXXX)
cleanup_work() { rm -rf "$work"; }
mlc_atexit cleanup_work
psql=("${MLC_PSQL[@]}")
export PGOPTIONS="-c client_min_messages=warning" # no progress NOTICEs
failures=0

check() { # check NAME CONDITION-COMMAND...
	local name=$1
	shift
	if "$@" >/dev/null; then
		printf 'PASS  %s\n' "$name"
	else
		printf 'FAIL  %s\n' "$name"
		failures=$((failures + 1))
	fi
}

same() { [ "$1" = "$2" ]; }
not_listed() { ! grep -qx -- "$1" "$2"; } # not_listed LINE FILE

# One line per catalog table: name, row count, md5 of all rows in text form.
catalog_digest() {
	"${psql[@]}" -Atq -d "$1" <<'EOF'
SELECT 'projects', count(*), md5(coalesce(string_agg(t::text, E'\n' ORDER BY t::text), '')) FROM mlcycle.projects t;
SELECT 'models', count(*), md5(coalesce(string_agg(t::text, E'\n' ORDER BY t::text), '')) FROM mlcycle.models t;
SELECT 'deployments', count(*), md5(coalesce(string_agg(t::text, E'\n' ORDER BY t::text), '')) FROM mlcycle.deployments t;
SELECT 'evaluations', count(*), md5(coalesce(string_agg(t::text, E'\n' ORDER BY t::text), '')) FROM mlcycle.evaluations t;
SELECT 'audit_log', count(*), md5(coalesce(string_agg(t::text, E'\n' ORDER BY t::text), '')) FROM mlcycle.audit_log t;
SELECT 'drift_reports', count(*), md5(coalesce(string_agg(t::text, E'\n' ORDER BY t::text), '')) FROM mlcycle.drift_reports t;
SELECT 'drift_results', count(*), md5(coalesce(string_agg(t::text, E'\n' ORDER BY t::text), '')) FROM mlcycle.drift_results t;
SELECT 'feature_importance', count(*), md5(coalesce(string_agg(t::text, E'\n' ORDER BY t::text), '')) FROM mlcycle.feature_importance t;
EOF
}

# md5 of every serialized model, sorted.
model_bytes_digest() {
	local blob
	blob=$(mlc_model_blob_column "$1")
	[ -n "$blob" ] || { echo "no bytea column in mlcycle.models" >&2; return 1; }
	"${psql[@]}" -Atq -d "$1" -c "SELECT md5($blob) FROM mlcycle.models ORDER BY 1"
}

predictions() {
	PGOPTIONS="$PGOPTIONS -c extra_float_digits=3" "${psql[@]}" -Atq -d "$1" -c "
		SELECT id, ml_predict('churn', c), ml_predict_class('churn', c), ml_predict('charges', c)
		FROM customers c ORDER BY id"
}

mlc_header "dump/restore: training in dump_src"
mlc_dropdb dump_dst
mlc_fresh_db dump_src mlcycle
mlc_load_customers dump_src
"${psql[@]}" -Atq -d dump_src >"$work/src.ids" <<'EOF'
SELECT model_id FROM ml_train('churn', 'customers', 'churn', algorithm => 'logistic', exclude => '{id}');
SELECT model_id FROM ml_train('charges', 'customers', 'monthly_charges', exclude => '{id,churn}');
SELECT model_id FROM ml_train('churn', 'customers', 'churn', algorithm => 'logistic', hyperparams => '{"C": 0.01}', exclude => '{id}', deploy => 'none');
EOF
# an evaluation, a drift report and a retirement, so that every catalog table has rows
"${psql[@]}" -Atq -d dump_src -o /dev/null <<'EOF'
SELECT ml_evaluate('churn', 'customers');
SELECT count(*) FROM ml_drift('churn', 'customers');
SELECT ml_retire_model(max(model_id), 'kept for the round trip') FROM mlcycle.models;
EOF
echo "trained models: $(tr '\n' ' ' <"$work/src.ids")"
predictions dump_src >"$work/src.out"
catalog_digest dump_src >"$work/src.catalog"
model_bytes_digest dump_src >"$work/src.models"

mlc_header "dump/restore: pg_dump -Fc dump_src | pg_restore -d dump_dst"
"$MLC_PGBIN/pg_dump" -Fc -f "$work/dump_src.dump" dump_src
"$MLC_PGBIN/createdb" dump_dst
"$MLC_PGBIN/pg_restore" --exit-on-error -d dump_dst "$work/dump_src.dump"

catalog_digest dump_dst >"$work/dst.catalog"
model_bytes_digest dump_dst >"$work/dst.models"
predictions dump_dst >"$work/dst.out"

mlc_header "dump/restore: checks"
while IFS='|' read -r table n_src md5_src; do
	read -r -a dst <<<"$(grep "^$table|" "$work/dst.catalog" | tr '|' ' ')"
	check "mlcycle.$table: $n_src rows in source, ${dst[1]:-?} after restore" same "$n_src" "${dst[1]:-}"
	check "mlcycle.$table: identical contents" same "$md5_src" "${dst[2]:-}"
done <"$work/src.catalog"
check "at least one model to compare" test -s "$work/src.models"
check "md5 of the serialized models equal" cmp -s "$work/src.models" "$work/dst.models"
check "predictions for $(wc -l <"$work/src.out") rows identical (extra_float_digits=3)" \
	cmp -s "$work/src.out" "$work/dst.out"
if ! cmp -s "$work/src.out" "$work/dst.out"; then
	diff "$work/src.out" "$work/dst.out" >"$work/predictions.diff" || true
	echo "first differences (id|ml_predict churn|class|ml_predict charges; < before, > after):"
	head -n 20 "$work/predictions.diff"
fi

# A new model after the restore gets a fresh id (no duplicate key from a stale sequence).
if new_id=$("${psql[@]}" -Atq -d dump_dst -c "SELECT model_id FROM ml_train('churn', 'customers', 'churn',
		algorithm => 'logistic', hyperparams => '{\"C\": 0.5}', exclude => '{id}', deploy => 'none')"); then
	check "new model trained after restore (model_id $new_id)" test -n "$new_id"
	check "its model_id is not one of the restored ones" not_listed "$new_id" "$work/src.ids"
	check "mlcycle.models has one more row" same \
		"$("${psql[@]}" -Atq -d dump_dst -c "SELECT count(*) FROM mlcycle.models")" \
		"$(($(wc -l <"$work/src.ids") + 1))"
	check "ml_deploy('churn', 'specific', $new_id) works after restore" \
		"${psql[@]}" -Atq -d dump_dst -c "SELECT ml_deploy('churn', 'specific', $new_id)"
else
	check "new model trained after restore" false
fi

if [ "$failures" -eq 0 ]; then
	mlc_dropdb dump_src
	mlc_dropdb dump_dst
	echo "dump/restore: PASS"
else
	echo "dump/restore: FAIL ($failures checks)"
	exit 1
fi
