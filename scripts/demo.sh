#!/usr/bin/env bash
# The main job on the bundled sample Kartra export (the README's first command), then the bundled
# crmConnect UI exports (samples/crmconnect/: every object of its spec, several files joined by email).
#  - ODOO_URL set: stage into that Odoo, commit, print the report.
#  - else, an Odoo 18 source present (ODOO_SRC, default /opt/odoo/18.0): install what it needs,
#    create a database with crm + crm_migration, serve it on 127.0.0.1:${DEMO_PORT:-18079},
#    stage, commit, print the report, and leave Odoo running so the Migration menu can be seen.
#  - else: a dry run that writes the staging JSON and profile to staging-out/.
# Ortto too: the demo starts a local STAND-IN for Ortto's API (test/helpers/ortto-standin-serve.ts,
# a small made-up instance; the real service needs a customer's key) and migrates it through the
# `ortto` API source; the bridge it starts reads Ortto from that stand-in (CRM_MIGRATION_ORTTO_URL,
# test and demo only), so Migration → New migration → Ortto works with the key it prints.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
SAMPLES=(samples/kartra/*.csv)
APTO_SAMPLE=(samples/apto/*.zip)
CRMCONNECT=(samples/crmconnect/*.csv)

[ -d node_modules ] || npm ci --no-audit --no-fund --loglevel=error
npx tsc -p tsconfig.json
cli() { node --max-semi-space-size=4 dist/bridge/src/cli.js "$@"; }  # the flag: bridge/src/core/memory.ts

# the Ortto stand-in (not Ortto): a local server answering in Ortto's documented formats
ortto_port="${ORTTO_STANDIN_PORT:-18078}" ortto_run="${CRM_MIGRATION_RUN_DIR:-/var/tmp/crm-migration-odoo}"
mkdir -p "$ortto_run"
[ -f "$ortto_run/ortto-standin-$ortto_port.pid" ] && kill "$(cat "$ortto_run/ortto-standin-$ortto_port.pid")" 2>/dev/null || true
nohup node dist/test/helpers/ortto-standin-serve.js "$ortto_port" >>"$ortto_run/ortto-standin-$ortto_port.log" 2>&1 &
echo $! > "$ortto_run/ortto-standin-$ortto_port.pid"
export CRM_MIGRATION_ORTTO_URL="http://127.0.0.1:$ortto_port/v1" CRM_CREDENTIAL_API_KEY=ortto-standin-key
echo "started a local stand-in for Ortto's API (not Ortto; demo only) on $CRM_MIGRATION_ORTTO_URL"
ortto_spool=$(mktemp -d)
ortto() { cli stage --source ortto --spool "$ortto_spool" --credential region=default --credential plan=pro "$@"; }

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
  echo
  echo "Ortto (from the local stand-in, about 10 s: its activity feed is read at Ortto's 1 request a second)..."
  oid=$(ortto --name "Ortto (stand-in)")
  cli owners "$oid" --fallback admin >/dev/null
  cli commit "$oid" || [ $? -eq 5 ]
  # Apto (a Salesforce org) from its Data Export zip: hierarchy with a loop, the deal pipeline,
  # activities, files; its two owners are not Odoo users here, so the fallback user takes them
  aid=$(cli stage --source apto_export --name "Apto sample (Salesforce Data Export zip)" "${APTO_SAMPLE[@]}")
  echo "Apto sample staged as migration $aid; owners → the fallback user (admin), committing..."
  cli owners "$aid" --fallback admin
  cli commit "$aid" || [ $? -eq 5 ]
  cc_id=$(cli stage --source crmconnect --name "crmConnect sample" "${CRMCONNECT[@]}")
  echo "crmConnect sample (${#CRMCONNECT[@]} exports) staged as migration $cc_id; its owner owner@example.com → admin, committing..."
  cli owners "$cc_id" --assign owner@example.com=admin >/dev/null
  cli commit "$cc_id" >/dev/null || [ $? -eq 5 ]
  echo "its report, with every file's rows reconciled against what was staged:"
  cli report "$cc_id"
  echo
  echo "Open $ODOO_URL (admin/admin on a fresh demo database) → Migration → Migrations → $id (Kartra), $cc_id (crmConnect), $oid (Ortto), $aid (Apto)."
  echo "Undo it with: ODOO_URL=$ODOO_URL ODOO_DB=$ODOO_DB ODOO_USER=$ODOO_USER ODOO_PASSWORD=... node dist/bridge/src/cli.js rollback $id"
  if [ -n "${started_odoo:-}" ]; then
    # the guided journey in Odoo needs the bridge: start it and tell Odoo where it is
    bport="${BRIDGE_PORT:-8787}" run_dir="${CRM_MIGRATION_RUN_DIR:-/var/tmp/crm-migration-odoo}"
    token="demo-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
    [ -f "$run_dir/bridge-$bport.pid" ] && kill "$(cat "$run_dir/bridge-$bport.pid")" 2>/dev/null || true
    BRIDGE_TOKEN="$token" BRIDGE_PORT="$bport" nohup node --max-semi-space-size=4 dist/bridge/src/server.js >>"$run_dir/bridge-$bport.log" 2>&1 &
    echo $! > "$run_dir/bridge-$bport.pid"
    for _ in $(seq 20); do curl -fsS -o /dev/null "http://127.0.0.1:$bport/health" 2>/dev/null && break; sleep 0.5; done
    cli connect "http://127.0.0.1:$bport" --token "$token"
    echo
    echo "The guided journey: in Odoo open Migration → New migration, pick Kartra (samples/kartra/*.csv),"
    echo "crmConnect (samples/crmconnect/*.csv, all files at once), Generic CSV (samples/generic/contacts_fr.csv),"
    echo "Apto (Salesforce Data Export zip: samples/apto/*.zip) or Ortto (API key ortto-standin-key, any"
    echo "region and plan: this bridge reads the local stand-in); upload, confirm the mapping, sample, commit."
    echo "Stop the Ortto stand-in with: kill \$(cat $ortto_run/ortto-standin-$ortto_port.pid)"
    echo "Stop the demo Odoo with: scripts/odoo.sh stop ${DEMO_PORT:-18079}; the bridge with: kill \$(cat $run_dir/bridge-$bport.pid)"
  fi
else
  scripts/odoo.sh src || true
  echo "no Odoo reachable: dry run, staging JSON, profile and inventory written to staging-out/"
  cli stage --source kartra --out staging-out "${SAMPLES[@]}"
  ortto --out staging-out/ortto
  cli stage --source apto_export --out staging-out/apto "${APTO_SAMPLE[@]}"
  cli stage --source crmconnect --out staging-out/crmconnect "${CRMCONNECT[@]}"
fi
if [ -z "${started_odoo:-}" ]; then kill "$(cat "$ortto_run/ortto-standin-$ortto_port.pid")" 2>/dev/null || true; fi
