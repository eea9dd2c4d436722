#!/usr/bin/env bash
# Every test of the project, in one command (the README's, and what .ci/run calls):
#   0. the static gates (README, "Quality gates"): type check (tsc), then scripts/lint.sh (eslint, prettier,
#      ruff, pylint), each gate one passed/failed in the closing line; no Odoo needed;
#   1. bridge unit tests (tap, with tap's coverage summary), no Odoo needed;
#   2. the addon's own Odoo tests (odoo-bin --test-enable) in a fresh database;
#   3. end-to-end tests: the bridge (CLI and HTTP) against a real Odoo 18 over XML-RPC;
#   4. the admin's journey in a real browser (Debian's chromium, driven by playwright-core),
#      screenshots under test-artifacts/journey/.
# 2, 3 and 4 need the Odoo 18 source (ODOO_SRC, default /opt/odoo/18.0); without it they print
# one loud SKIPPED line and the rest still runs.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
E2E_PORT="${E2E_PORT:-18069}"
E2E_DB="${E2E_DB:-crm_migration_e2e}"
E2E_DB_FULL="${E2E_DB}_full"
JOURNEY_PORT="${JOURNEY_PORT:-18099}"
JOURNEY_DB="${JOURNEY_DB:-crm_migration_journey}"
CHROMIUM_PATH="${CHROMIUM_PATH:-/usr/bin/chromium}"
passed=0; failed=0; skipped=0
# every fault/input/access case of test/unit/faults and test/e2e/faults-* writes a row here
export FAULTS_TABLE_FILE="${FAULTS_TABLE_FILE:-$(mktemp -t crm-migration-faults.XXXXXX)}"
: > "$FAULTS_TABLE_FILE"
tally() { # parse tap's "# { total: N, pass: P, fail: F, skip: S }"
  local line; line=$(grep -E '^# \{ total:' "$1" | tail -n1)
  local p f s; p=$(sed -nE 's/.*pass: ([0-9]+).*/\1/p' <<<"$line"); f=$(sed -nE 's/.*fail: ([0-9]+).*/\1/p' <<<"$line"); s=$(sed -nE 's/.*skip: ([0-9]+).*/\1/p' <<<"$line")
  passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0})); skipped=$((skipped + ${s:-0}))
}
run_tap() { # name, tap args...
  local name="$1"; shift
  local log; log=$(mktemp)
  echo "== $name"
  npx tap "$@" 2>&1 | tee "$log" | grep -E '^(not ok|# \{|ok [0-9]+ - test/|(Statements|Branches|Functions|Lines) +:)' || true
  local rc=${PIPESTATUS[0]}
  tally "$log"
  if [ "$rc" -ne 0 ]; then grep -B3 -A30 'not ok' "$log" | head -n 120; failed=$((failed > 0 ? failed : 1)); fi
  rm -f "$log"
}

if [ ! -d node_modules ] || [ "${CI:-}" = "true" ]; then npm ci --no-audit --no-fund --loglevel=error; fi
echo "== type check and build (tsc)"
npx tsc -p tsconfig.json || { echo "typescript build failed"; echo "tests: 0 passed, 1 failed"; exit 1; }
passed=$((passed + 1))

echo "== lint (scripts/lint.sh; fix with npm run format)"
lint_log=$(mktemp)
bash scripts/lint.sh | tee "$lint_log"
lint_line=$(grep -E '^lint: [0-9]+ passed' "$lint_log" | tail -n1)
lp=$(sed -nE 's/^lint: ([0-9]+) passed.*/\1/p' <<<"$lint_line"); lf=$(sed -nE 's/.* ([0-9]+) failed.*/\1/p' <<<"$lint_line")
ls_=$(sed -nE 's/.* ([0-9]+) skipped.*/\1/p' <<<"$lint_line")
passed=$((passed + ${lp:-0})); failed=$((failed + ${lf:-1})); skipped=$((skipped + ${ls_:-0})); rm -f "$lint_log"

# coverage of the bridge by its unit tests: reported (tap's text summary), not enforced
run_tap "bridge unit tests" test/unit --no-disable-coverage --allow-incomplete-coverage --coverage-report=text-summary

if ODOO_SRC_DIR=$(scripts/odoo.sh src); then
  export ODOO_SRC="$ODOO_SRC_DIR"
  scripts/odoo.sh deps && scripts/odoo.sh pg || { echo "could not prepare Odoo's dependencies"; failed=$((failed + 1)); }
  echo "== addon tests (odoo-bin --test-enable, Odoo at $ODOO_SRC)"
  addon_log=$(mktemp)
  if scripts/odoo.sh test "${ADDON_TEST_DB:-crm_migration_addon_test}" | tee "$addon_log"; then :; else failed=$((failed + 1)); fi
  n=$(grep -oE '[0-9]+ tests' "$addon_log" | tail -n1 | grep -oE '[0-9]+' || echo 0)
  nf=$(grep -oE '[0-9]+ failed, [0-9]+ error' "$addon_log" | tail -n1 | grep -oE '^[0-9]+' || echo 0)
  passed=$((passed + n - nf))
  # a part the addon suite could not run (e.g. no OCA queue_job source) counts as skipped, loudly
  ns=$(grep -c '^SKIPPED:' "$addon_log" || true); skipped=$((skipped + ${ns:-0})); rm -f "$addon_log"

  echo "== end-to-end: bridge → real Odoo 18 on 127.0.0.1:$E2E_PORT"
  # two databases: crm only (fallbacks, missing-app report) and crm + sale + calendar + project (every object)
  if scripts/odoo.sh initdb "$E2E_DB" crm,contacts,crm_migration \
     && scripts/odoo.sh initdb "$E2E_DB_FULL" crm,contacts,calendar,sale_management,project,crm_migration \
     && scripts/odoo.sh initdb "${E2E_DB}_job" crm,contacts,crm_migration \
     && scripts/odoo.sh serve "$E2E_DB" "$E2E_PORT" "^${E2E_DB}(_full)?\$"; then
    trap 'scripts/odoo.sh stop "$E2E_PORT"; scripts/odoo.sh stop "$JOURNEY_PORT"' EXIT
    # faults-commit-restart runs (and kills) its own Odoo on ${E2E_DB}_job, which the server above does not serve
    ODOO_URL="http://127.0.0.1:$E2E_PORT" ODOO_DB="$E2E_DB" ODOO_DB_FULL="$E2E_DB_FULL" ODOO_USER=admin ODOO_PASSWORD=admin \
      FAULTS_ODOO_DB="${E2E_DB}_job" FAULTS_ODOO_PORT=$((E2E_PORT + 3)) FAULTS_BRIDGE_PORT=$((E2E_PORT + 7)) \
      run_tap "end-to-end tests" test/e2e --jobs=1  # one file at a time: files share a database and the sample's records
    scripts/odoo.sh stop "$E2E_PORT"
  else
    echo "could not start Odoo for the end-to-end tests"; failed=$((failed + 1))
  fi

  echo "== browser journey: $CHROMIUM_PATH + playwright-core → Odoo on 127.0.0.1:$JOURNEY_PORT (one cron thread runs the jobs)"
  if [ ! -x "$CHROMIUM_PATH" ]; then
    echo "installing Debian's chromium (apt-get)..."
    DEBIAN_FRONTEND=noninteractive apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
  fi
  if [ ! -x "$CHROMIUM_PATH" ]; then
    echo "no chromium at $CHROMIUM_PATH and apt-get could not install it"; failed=$((failed + 1))
  elif scripts/odoo.sh initdb "$JOURNEY_DB" crm,contacts,crm_migration \
     && CRM_MIGRATION_CRON_THREADS=1 scripts/odoo.sh serve "$JOURNEY_DB" "$JOURNEY_PORT"; then
    rm -rf test-artifacts/journey
    ODOO_URL="http://127.0.0.1:$JOURNEY_PORT" ODOO_DB="$JOURNEY_DB" ODOO_USER=admin ODOO_PASSWORD=admin CHROMIUM_PATH="$CHROMIUM_PATH" \
      run_tap "browser journey" test/browser
    echo "screenshots: $(ls test-artifacts/journey/*.png 2>/dev/null | wc -l) in test-artifacts/journey/"
    scripts/odoo.sh stop "$JOURNEY_PORT"
  else
    echo "could not start Odoo for the browser journey"; failed=$((failed + 1))
  fi
else
  echo "################################################################"
  echo "SKIPPED: no Odoo source (ODOO_SRC)"
  echo "  addon tests, end-to-end tests and the browser journey did NOT run; see README 'A real Odoo'"
  echo "################################################################"
  skipped=$((skipped + 3))
fi

node scripts/fault-table.mjs "$FAULTS_TABLE_FILE"
echo "tests: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
