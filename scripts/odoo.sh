#!/usr/bin/env bash
# One way to run a real Odoo (17.0, 18.0 or 19.0) for this project: deps, PostgreSQL, databases,
# addon tests, server. Finds the Odoo source through ODOO_SRC, else the fixed place /opt/odoo/18.0
# (see README, "A real Odoo"); the version is read from that source (odoo/release.py).
#
#   scripts/odoo.sh src            print the Odoo source dir, or exit 3 with the SKIPPED line
#   scripts/odoo.sh series         print the source's Odoo series (17, 18, 19)
#   scripts/odoo.sh deps           install Debian's Python packages Odoo needs (once)
#   scripts/odoo.sh pg             make sure PostgreSQL answers and the odoo role exists
#   scripts/odoo.sh initdb DB MODS drop + create DB with MODS (comma list) installed, no demo
#   scripts/odoo.sh test [DB]      install crm_migration with --test-enable (DB), then crm_migration +
#                                 sale_management for the glue addons' tests (DB_apps); non-zero on failure;
#                                 under python3-coverage (CRM_MIGRATION_COVERAGE=0: without), prints the
#                                 addons' line coverage (tests excluded) and writes $RUN_DIR/DB.coverage.txt
#   scripts/odoo.sh serve DB PORT [FILTER]  start Odoo on 127.0.0.1:PORT (databases matching the
#                                 regex FILTER, default exactly DB) in the background, wait for it
#   scripts/odoo.sh stop PORT      stop the server started by serve
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ODOO_SRC="${ODOO_SRC:-/opt/odoo/18.0}"
PY=/usr/bin/python3
DB_HOST=127.0.0.1
DB_USER=odoo
DB_PASSWORD=odoo
RUN_DIR="${CRM_MIGRATION_RUN_DIR:-/var/tmp/crm-migration-odoo}"
ADDONS="$REPO/odoo_addon,$ODOO_SRC/addons,$ODOO_SRC/odoo/addons"
# OCA queue_job (optional, issue #11): its folder joins the addons path when it is there; the
# addon crm_migration_queue then installs itself with it (see README, "Commit on several workers")
ODOO_QUEUE_SRC="${ODOO_QUEUE_SRC:-/opt/odoo/oca-queue}"
if [ -f "$ODOO_QUEUE_SRC/queue_job/__manifest__.py" ]; then ADDONS="$ADDONS,$ODOO_QUEUE_SRC"; fi

skip_line() { echo "SKIPPED: no Odoo source (ODOO_SRC=$ODOO_SRC)"; }

have_src() { [ -f "$ODOO_SRC/odoo-bin" ]; }

# the major version of the source at ODOO_SRC (17, 18, 19)
odoo_series() {
  sed -nE 's/^version_info = \(([0-9]+),.*/\1/p' "$ODOO_SRC/odoo/release.py" | head -n1
}

# 17/18: --without-demo=all; 19 installs no demo data unless --with-demo (and reads the old
# option as a boolean, with a warning)
demo_args() {
  if [ "$(odoo_series)" -lt 19 ]; then echo "--without-demo=all"; fi
}

odoo_bin() {
  # ODOO_EXEC=exec (set by serve) makes the background subshell become Odoo, so $! is Odoo's pid;
  # ODOO_COVERAGE (set by cmd_test) runs it under coverage.py, measuring the addons' own files only
  local cov=()
  if [ -n "${ODOO_COVERAGE:-}" ]; then cov=(-m coverage run --parallel-mode "--source=$REPO/odoo_addon"); fi
  ${ODOO_EXEC:-} "$PY" "${cov[@]}" "$ODOO_SRC/odoo-bin" --addons-path="$ADDONS" --db_host="$DB_HOST" --db_port=5432 \
    --db_user="$DB_USER" --db_password="$DB_PASSWORD" --data-dir="$RUN_DIR/data" "$@"
}

cmd_deps() {
  if "$PY" -c 'import psycopg2, lxml, babel, passlib, werkzeug, reportlab, docutils, zeep, stdnum, rjsmin, num2words, PyPDF2, websocket, jsonschema' 2>/dev/null \
     && command -v psql >/dev/null; then
    return 0
  fi
  echo "installing Debian packages for Odoo (apt-get)..." >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq --no-install-recommends \
    python3-asn1crypto python3-babel python3-cbor2 python3-chardet python3-dateutil \
    python3-decorator python3-docutils python3-freezegun python3-geoip2 python3-pil python3-jinja2 \
    python3-libsass python3-lxml python3-num2words python3-ofxparse python3-openpyxl \
    python3-passlib python3-polib python3-psutil python3-psycopg2 python3-openssl python3-pypdf2 \
    python3-rjsmin python3-qrcode python3-renderpm python3-reportlab python3-requests \
    python3-stdnum python3-tz python3-vobject python3-werkzeug python3-xlsxwriter python3-xlrd \
    python3-zeep python3-gevent python3-greenlet python3-websocket python3-jsonschema postgresql-client postgresql >&2
}

cmd_pg() {
  if ! pg_isready -h "$DB_HOST" -p 5432 -q; then
    echo "starting PostgreSQL..." >&2
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start >&2
    for _ in $(seq 30); do pg_isready -h "$DB_HOST" -p 5432 -q && break; sleep 1; done
  fi
  psql -h "$DB_HOST" -U postgres -d postgres -qtAc \
    "DO \$\$BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname='$DB_USER') THEN
       CREATE ROLE $DB_USER SUPERUSER LOGIN PASSWORD '$DB_PASSWORD'; END IF; END\$\$;" >/dev/null
  mkdir -p "$RUN_DIR/data"
}

cmd_initdb() {
  local db="$1" mods="$2"
  cmd_pg
  psql -h "$DB_HOST" -U postgres -d postgres -qtAc "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null
  : > "$RUN_DIR/$db.init.log"
  odoo_bin -d "$db" -i "$mods" $(demo_args) --stop-after-init --log-level=warn \
    --logfile="$RUN_DIR/$db.init.log" || { tail -n 60 "$RUN_DIR/$db.init.log" >&2; return 1; }
}

# run_addon_tests DB MODULES TAGS: fresh DB, install MODULES with --test-enable --test-tags TAGS.
# Prints the result lines; returns 1 on failure. Adds to TESTS_TOTAL / TESTS_FAILED.
run_addon_tests() {
  local db="$1" mods="$2" tags="$3"
  psql -h "$DB_HOST" -U postgres -d postgres -qtAc "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null
  local log="$RUN_DIR/$db.test.log"
  : > "$log"  # Odoo appends to --logfile: without this, errors of an earlier run fail this one
  set +e
  # CRM_MIGRATION_TEST_HTTP_PORT: the test server's own port (Odoo's 8069 may be taken by another run)
  odoo_bin -d "$db" -i "$mods" $(demo_args) --test-enable --test-tags "$tags" \
    ${CRM_MIGRATION_TEST_HTTP_PORT:+--http-port=$CRM_MIGRATION_TEST_HTTP_PORT --gevent-port=$((CRM_MIGRATION_TEST_HTTP_PORT + 1))} \
    --stop-after-init --log-level=test --logfile="$log"
  local rc=$?
  set -e
  grep -E "(ERROR|FAIL|Ran [0-9]+ tests|tests? (passed|failed)|crm_migration[a-z_]*: [0-9]+ tests)" "$log" | grep -v "^\s*$" | tail -n 40 || true
  local result
  result=$(grep -oE "[0-9]+ failed, [0-9]+ error\(s\) of [0-9]+ tests" "$log" | tail -n1 || true)
  if [ -n "$result" ]; then
    read -r f e n <<< "$(echo "$result" | grep -oE "[0-9]+" | tr '\n' ' ')"
    TESTS_TOTAL=$((TESTS_TOTAL + n)); TESTS_FAILED=$((TESTS_FAILED + f + e))
  fi
  if [ $rc -ne 0 ] || grep -qE " (ERROR|CRITICAL) " "$log"; then
    echo "addon tests FAILED (log: $log)"; grep -B2 -A30 -E " (ERROR|CRITICAL) " "$log" | head -n 150; return 1
  fi
  echo "addon tests passed (log: $log)"
}

cmd_test() {
  local db="${1:-crm_migration_addon_test}" failed=0
  TESTS_TOTAL=0; TESTS_FAILED=0
  cmd_pg
  # Debian's python3-coverage around every odoo-bin run below; the parts are combined at the end
  if [ "${CRM_MIGRATION_COVERAGE:-1}" != "0" ] && "$PY" -c 'import coverage' 2>/dev/null; then
    export ODOO_COVERAGE=1 COVERAGE_FILE="$RUN_DIR/$db.coverage"
    rm -f "$COVERAGE_FILE" "$COVERAGE_FILE".*
  fi
  run_addon_tests "$db" crm_migration /crm_migration || failed=1
  # second DB with sale + account: the glue modules must auto-install and pass their tests
  run_addon_tests "${db}_apps" crm_migration,sale_management /crm_migration_sale,/crm_migration_account || failed=1
  local glue
  glue=$(psql -h "$DB_HOST" -U postgres -d "${db}_apps" -qtAc "SELECT count(*) FROM ir_module_module
    WHERE name IN ('crm_migration_sale', 'crm_migration_account') AND state = 'installed'" 2>/dev/null || echo 0)
  if [ "$glue" != "2" ]; then
    echo "glue modules crm_migration_sale / crm_migration_account were not auto-installed in ${db}_apps"; failed=1
  fi
  # third DB with OCA queue_job (when ODOO_QUEUE_SRC has it): crm_migration_queue installs itself and
  # its tests prove the queued commit equals the serial one (issue #11)
  if [ -f "$ODOO_QUEUE_SRC/queue_job/__manifest__.py" ]; then
    run_addon_tests "${db}_queue" crm_migration,queue_job /crm_migration_queue || failed=1
  else
    echo "SKIPPED: crm_migration_queue tests on Odoo $(odoo_series) (no OCA queue_job in ODOO_QUEUE_SRC=$ODOO_QUEUE_SRC)"
  fi
  if [ -n "${ODOO_COVERAGE:-}" ]; then
    "$PY" -m coverage combine -q >/dev/null 2>&1
    "$PY" -m coverage report --omit='*/tests/*' >"$RUN_DIR/$db.coverage.txt" 2>&1 || true
    echo "addon coverage (python3-coverage, lines, tests excluded): $(grep -E '^TOTAL' "$RUN_DIR/$db.coverage.txt" | awk '{print $NF}')" \
      "(per file: $RUN_DIR/$db.coverage.txt)"
  fi
  # last "N tests" line: the total, read by scripts/test-all.sh
  echo "all addon tests: $TESTS_FAILED failed, 0 error(s) of $TESTS_TOTAL tests"
  return $failed
}

# CRM_MIGRATION_WORKERS=N (default 0: threaded server): N HTTP worker processes, without the
# per-request time/memory limits (a serial commit of 100,000 records is one long request);
# CRM_MIGRATION_SERVER_WIDE (e.g. web,queue_job) for --load
workers_args() {
  local n="${CRM_MIGRATION_WORKERS:-0}"
  if [ "$n" -gt 0 ]; then
    echo "--workers=$n --limit-time-cpu=86400 --limit-time-real=86400 --limit-time-real-cron=86400 --limit-memory-soft=8589934592 --limit-memory-hard=8589934592"
  else
    echo "--workers=0"
  fi
  if [ -n "${CRM_MIGRATION_SERVER_WIDE:-}" ]; then echo "--load=$CRM_MIGRATION_SERVER_WIDE"; fi
}

cmd_serve() {
  local db="$1" port="$2"
  cmd_pg
  local pidfile="$RUN_DIR/odoo-$port.pid"
  if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then kill "$(cat "$pidfile")" || true; sleep 1; fi
  ODOO_EXEC=exec odoo_bin -d "$db" --db-filter="${3:-^$db\$}" --http-interface=127.0.0.1 --http-port="$port" \
    --gevent-port=$((port + 1)) $(workers_args) --max-cron-threads=${CRM_MIGRATION_CRON_THREADS:-1} --log-level="${CRM_MIGRATION_LOG_LEVEL:-warn}" \
    --logfile="$RUN_DIR/odoo-$port.log" </dev/null >>"$RUN_DIR/odoo-$port.out" 2>&1 &
  echo $! > "$pidfile"
  for _ in $(seq 60); do
    if curl -fsS -o /dev/null "http://127.0.0.1:$port/web/login" 2>/dev/null; then return 0; fi
    sleep 1
  done
  echo "Odoo did not answer on 127.0.0.1:$port; log $RUN_DIR/odoo-$port.log" >&2
  tail -n 40 "$RUN_DIR/odoo-$port.log" >&2
  return 1
}

cmd_stop() {
  local pidfile="$RUN_DIR/odoo-$1.pid"
  if [ -f "$pidfile" ]; then kill "$(cat "$pidfile")" 2>/dev/null || true; rm -f "$pidfile"; fi
}

case "${1:-}" in
  src) if have_src; then echo "$ODOO_SRC"; else skip_line; exit 3; fi ;;
  series) odoo_series ;;
  deps) cmd_deps ;;
  pg) cmd_pg ;;
  initdb) shift; cmd_initdb "$@" ;;
  test) shift; cmd_test "$@" ;;
  serve) shift; cmd_serve "$@" ;;
  stop) shift; cmd_stop "$@" ;;
  *) sed -n '2,13p' "$0"; exit 2 ;;
esac
