#!/usr/bin/env bash
# `npm run faults`: every fault, hostile-input and access-probe case, and one table of them:
# fault or input | expected outcome | observed outcome. The same cases run inside `npm test`
# (which prints the same table at its end); this runs only them:
#   test/unit/faults/         no Odoo needed (the CLI as a real process, the dry-run upload route,
#                             an Odoo that never answers);
#   test/e2e/faults-*.e2e.*   against a real Odoo 18 started here (the upload route into Odoo,
#                             access probes as a Migration Manager, processes killed by pid).
# Without the Odoo source the second part prints one loud SKIPPED line.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PORT="${FAULTS_PORT:-18089}"
DB="${FAULTS_DB:-crm_migration_faults}"
export FAULTS_TABLE_FILE="${FAULTS_TABLE_FILE:-$(mktemp -t crm-migration-faults.XXXXXX)}"
: > "$FAULTS_TABLE_FILE"
rc=0
[ -d node_modules ] || npm ci --no-audit --no-fund --loglevel=error
npx tsc -p tsconfig.json || exit 1
npx tap test/unit/faults || rc=1
if ODOO_SRC_DIR=$(scripts/odoo.sh src); then
  export ODOO_SRC="$ODOO_SRC_DIR"
  scripts/odoo.sh deps && scripts/odoo.sh pg || exit 1
  # faults-commit-restart runs (and kills) its own Odoo on ${DB}_job, which the server here does not serve
  if scripts/odoo.sh initdb "$DB" crm,contacts,crm_migration && scripts/odoo.sh initdb "${DB}_job" crm,contacts,crm_migration \
     && scripts/odoo.sh serve "$DB" "$PORT" "^${DB}\$"; then
    trap 'scripts/odoo.sh stop "$PORT"' EXIT
    ODOO_URL="http://127.0.0.1:$PORT" ODOO_DB="$DB" ODOO_USER=admin ODOO_PASSWORD=admin \
      FAULTS_ODOO_DB="${DB}_job" FAULTS_ODOO_PORT=$((PORT + 3)) FAULTS_BRIDGE_PORT=$((PORT + 7)) \
      npx tap --jobs=1 test/e2e/faults-*.e2e.test.ts || rc=1
  else
    echo "could not start Odoo for the fault cases"; rc=1
  fi
else
  echo "SKIPPED: no Odoo source (ODOO_SRC): the fault cases against a real Odoo did NOT run"
fi
node scripts/fault-table.mjs "$FAULTS_TABLE_FILE"
exit "$rc"
