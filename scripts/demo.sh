#!/usr/bin/env bash
# The main job on the bundled sample Kartra export (the README's first command), then the bundled
# crmConnect UI exports (samples/crmconnect/: every object of its spec, several files joined by email).
#  - ODOO_URL set: stage into that Odoo, commit, print the report.
#  - else, an Odoo 18 source present (ODOO_SRC, default /opt/odoo/18.0): install what it needs,
#    create a database with crm + crm_migration, serve it on 127.0.0.1:${DEMO_PORT:-18079},
#    stage, commit, print the report, and leave Odoo running so the Migration menu can be seen.
#  - else: a dry run that writes the staging JSON and profile to staging-out/.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
SAMPLES=(samples/kartra/*.csv)
CRMCONNECT=(samples/crmconnect/*.csv)

[ -d node_modules ] || npm ci --no-audit --no-fund --loglevel=error
npx tsc -p tsconfig.json
cli() { node dist/bridge/src/cli.js "$@"; }

if [ -z "${ODOO_URL:-}" ] && src=$(scripts/odoo.sh src 2>/dev/null); then
  export ODOO_SRC="$src"
  port="${DEMO_PORT:-18079}" db="${DEMO_DB:-crm_migration_demo}"
  scripts/odoo.sh deps
  echo "creating database $db with crm, sales, calendar + crm_migration (about a minute)..."
  scripts/odoo.sh initdb "$db" crm,contacts,calendar,sale_management,crm_migration
  scripts/odoo.sh serve "$db" "$port"
  export ODOO_URL="http://127.0.0.1:$port" ODOO_DB="$db" ODOO_USER=admin ODOO_PASSWORD=admin
  started_odoo=1
fi

if [ -n "${ODOO_URL:-}" ]; then
  id=$(cli stage --source kartra --name "Kartra sample" "${SAMPLES[@]}")
  echo "staged as migration $id; committing..."
  cli commit "$id" || [ $? -eq 5 ]
  echo
  echo "Owners to reconcile (records owned by people who are not Odoo users wait for them):"
  cli owners "$id"
  echo "  assign one:  node dist/bridge/src/cli.js owners $id --assign jane.sales@example.com=admin && node dist/bridge/src/cli.js commit $id"
  echo
  cc_id=$(cli stage --source crmconnect --name "crmConnect sample" "${CRMCONNECT[@]}")
  echo "crmConnect sample (${#CRMCONNECT[@]} exports) staged as migration $cc_id; its owner owner@example.com → admin, committing..."
  cli owners "$cc_id" --assign owner@example.com=admin >/dev/null
  cli commit "$cc_id" >/dev/null || [ $? -eq 5 ]
  echo "its report, with every file's rows reconciled against what was staged:"
  cli report "$cc_id"
  echo
  echo "Open $ODOO_URL (admin/admin on a fresh demo database) → Migration → Migrations → $id (Kartra), $cc_id (crmConnect)."
  echo "Undo it with: ODOO_URL=$ODOO_URL ODOO_DB=$ODOO_DB ODOO_USER=$ODOO_USER ODOO_PASSWORD=... node dist/bridge/src/cli.js rollback $id"
  if [ -n "${started_odoo:-}" ]; then
    # the guided journey in Odoo needs the bridge: start it and tell Odoo where it is
    bport="${BRIDGE_PORT:-8787}" run_dir="${CRM_MIGRATION_RUN_DIR:-/var/tmp/crm-migration-odoo}"
    token="demo-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
    [ -f "$run_dir/bridge-$bport.pid" ] && kill "$(cat "$run_dir/bridge-$bport.pid")" 2>/dev/null || true
    BRIDGE_TOKEN="$token" BRIDGE_PORT="$bport" nohup node dist/bridge/src/server.js >>"$run_dir/bridge-$bport.log" 2>&1 &
    echo $! > "$run_dir/bridge-$bport.pid"
    for _ in $(seq 20); do curl -fsS -o /dev/null "http://127.0.0.1:$bport/health" 2>/dev/null && break; sleep 0.5; done
    cli connect "http://127.0.0.1:$bport" --token "$token"
    echo
    echo "The guided journey: in Odoo open Migration → New migration, pick Kartra (samples/kartra/*.csv),"
    echo "crmConnect (samples/crmconnect/*.csv, all files at once) or Generic CSV (samples/generic/contacts_fr.csv),"
    echo "upload, confirm the mapping, sample, commit."
    echo "Stop the demo Odoo with: scripts/odoo.sh stop ${DEMO_PORT:-18079}; the bridge with: kill \$(cat $run_dir/bridge-$bport.pid)"
  fi
else
  scripts/odoo.sh src || true
  echo "no Odoo reachable: dry run, staging JSON, profile and inventory written to staging-out/"
  cli stage --source kartra --out staging-out "${SAMPLES[@]}"
  cli stage --source crmconnect --out staging-out/crmconnect "${CRMCONNECT[@]}"
fi
