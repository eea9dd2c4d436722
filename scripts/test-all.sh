#!/usr/bin/env bash
# Every test of the project, in one command (the README's, and what .ci/run calls):
#   0. the static gates (README, "Quality gates"): type check (tsc), then scripts/lint.sh (eslint, prettier,
#      ruff, pylint), each gate one passed/failed in the closing line; no Odoo needed;
#   1. bridge unit tests (tap, with tap's coverage summary), no Odoo needed;
#   2. per Odoo version (ODOO_VERSIONS, default "18 17 19"): the addon's own Odoo tests
#      (odoo-bin --test-enable) in fresh databases;
#   3. end-to-end tests: the bridge (CLI and HTTP) against that real Odoo (XML-RPC; JSON-2 on 19):
#      all of test/e2e on 18, the files of E2E_OTHER_FILES on 17 and 19;
#   4. on 18, the admin's journey in a real browser (Debian's chromium, driven by playwright-core),
#      screenshots under test-artifacts/journey/.
# Sources: ODOO_SRC (18, default /opt/odoo/18.0), ODOO17_SRC (/opt/odoo/17.0), ODOO19_SRC
# (/opt/odoo/19.0); a version without its source prints one loud SKIPPED line, counted as skipped.
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

# TEST_PARTS (default "static unit odoo"): the parts to run, e.g. TEST_PARTS=odoo ODOO_VERSIONS=19 npm test
# while working on one version; anything left out is counted as skipped in the closing line
TEST_PARTS=" ${TEST_PARTS:-static unit odoo} "
part() { case "$TEST_PARTS" in *" $1 "*) return 0 ;; *) echo "SKIPPED: part '$1' (not in TEST_PARTS)"; skipped=$((skipped + 1)); return 1 ;; esac; }

if [ ! -d node_modules ] || [ "${CI:-}" = "true" ]; then npm ci --no-audit --no-fund --loglevel=error; fi
echo "== type check and build (tsc)"
npx tsc -p tsconfig.json || { echo "typescript build failed"; echo "tests: 0 passed, 1 failed"; exit 1; }
passed=$((passed + 1))

if part static; then

echo "== lint (scripts/lint.sh; fix with npm run format)"
lint_log=$(mktemp)
bash scripts/lint.sh | tee "$lint_log"
lint_line=$(grep -E '^lint: [0-9]+ passed' "$lint_log" | tail -n1)
lp=$(sed -nE 's/^lint: ([0-9]+) passed.*/\1/p' <<<"$lint_line"); lf=$(sed -nE 's/.* ([0-9]+) failed.*/\1/p' <<<"$lint_line")
ls_=$(sed -nE 's/.* ([0-9]+) skipped.*/\1/p' <<<"$lint_line")
passed=$((passed + ${lp:-0})); failed=$((failed + ${lf:-1})); skipped=$((skipped + ${ls_:-0})); rm -f "$lint_log"
fi

# coverage of the bridge by its unit tests: reported (tap's text summary), not enforced
if part unit; then
  run_tap "bridge unit tests" test/unit --no-disable-coverage --allow-incomplete-coverage --coverage-report=text-summary
fi

# Odoo versions (issue #13): each whose source is present runs; a missing one prints one loud
# SKIPPED line and counts as skipped. 18 runs everything (addon tests, end-to-end, browser journey);
# 17 and 19 run the addon tests and the end-to-end files of E2E_OTHER_FILES (README, "Odoo versions").
ODOO18_SRC="${ODOO_SRC:-/opt/odoo/18.0}"
ODOO17_SRC="${ODOO17_SRC:-/opt/odoo/17.0}"
ODOO19_SRC="${ODOO19_SRC:-/opt/odoo/19.0}"
ODOO18_QUEUE_SRC="${ODOO_QUEUE_SRC:-/opt/odoo/oca-queue}"
ODOO17_QUEUE_SRC="${ODOO17_QUEUE_SRC:-/opt/odoo/oca-queue-17}"
ODOO19_QUEUE_SRC="${ODOO19_QUEUE_SRC:-/opt/odoo/oca-queue-19}"  # OCA/queue has no 19.0 branch yet
# every version by default (README "Odoo versions"); ODOO_VERSIONS=19 runs one; a version left out, or
# without its source, prints one loud SKIPPED line, counted as skipped
ODOO_VERSIONS="${ODOO_VERSIONS:-18 17 19}"
E2E_OTHER_FILES="${E2E_OTHER_FILES:-test/e2e/json2-transport.e2e.test.ts test/e2e/kartra-contacts.e2e.test.ts test/e2e/kartra-full.e2e.test.ts test/e2e/delta.e2e.test.ts test/e2e/attached.e2e.test.ts test/e2e/faults-security.e2e.test.ts test/e2e/ontraport.e2e.test.ts test/e2e/crmconnect.e2e.test.ts}"

# Each version in two steps: prep_version (the addon's own tests, then fresh databases for the
# end-to-end tests) and e2e_version (Odoo serving those databases, the bridge's end-to-end tests,
# on 18 the browser journey). The first version of ODOO_VERSIONS runs alone; the preps of the
# others run side by side (ODOO_PARALLEL_PREP=0: one after the other), each on its own test
# port, its output printed whole when it ends; their end-to-end tests then run one version at a
# time. A 2-core CI machine otherwise waits on one Odoo process at a time (issue #11: CI time).

version_src() { # series [quiet] → sets src, queue; 1: unknown, 2: no source (the loud SKIPPED line
  # printed and counted, unless quiet: e2e_version, after prep_version said it)
  case "$1" in
    17) src="$ODOO17_SRC"; queue="$ODOO17_QUEUE_SRC" ;;
    18) src="$ODOO18_SRC"; queue="$ODOO18_QUEUE_SRC" ;;
    19) src="$ODOO19_SRC"; queue="$ODOO19_QUEUE_SRC" ;;
    *) [ -n "${2:-}" ] || { echo "unknown Odoo version $1 in ODOO_VERSIONS"; failed=$((failed + 1)); }; return 1 ;;
  esac
  if [ ! -f "$src/odoo-bin" ]; then
    [ -z "${2:-}" ] || return 2
    echo "################################################################"
    echo "SKIPPED: no Odoo source (ODOO${1/18/}_SRC): Odoo $1, nothing at $src"
    echo "  its addon tests, end-to-end tests$([ "$1" = 18 ] && echo ' and the browser journey') did NOT run; see README 'A real Odoo'"
    echo "################################################################"
    skipped=$((skipped + 1))
    return 2
  fi
}

version_dbs() { # series → sets sfx, e2e_db, e2e_db_full (18 keeps the databases' historical names)
  sfx=""; [ "$1" = 18 ] || sfx="_v$1"
  e2e_db="${E2E_DB}$sfx"; e2e_db_full="${E2E_DB}${sfx}_full"
}

prep_version() { # series → its addon tests, then its end-to-end databases; "dbs ok" in $PREP_DIR/$series.dbs
  local series="$1" src queue sfx e2e_db e2e_db_full
  version_src "$series" || return 0
  export ODOO_SRC="$src" ODOO_QUEUE_SRC="$queue" ODOO_SERIES="$series"
  version_dbs "$series"
  scripts/odoo.sh deps && scripts/odoo.sh pg || { echo "could not prepare Odoo's dependencies"; failed=$((failed + 1)); }
  # the end-to-end databases are installed while the addon's tests run (no HTTP port: --stop-after-init)
  local dbs_log="$PREP_DIR/$series.initdb.log"
  ( scripts/odoo.sh initdb "$e2e_db" crm,contacts,crm_migration \
      && scripts/odoo.sh initdb "$e2e_db_full" crm,contacts,calendar,sale_management,project,crm_migration \
      && { [ "$series" != 18 ] || scripts/odoo.sh initdb "${e2e_db}_job" crm,contacts,crm_migration; } \
      && { [ "$series" != 18 ] || scripts/odoo.sh initdb "$JOURNEY_DB" crm,contacts,crm_migration; } \
      && echo ok > "$PREP_DIR/$series.dbs" ) >"$dbs_log" 2>&1 &
  local dbs_pid=$!
  echo "== Odoo $series: addon tests (odoo-bin --test-enable, Odoo at $ODOO_SRC)"
  # the addon's line coverage is measured on 18, the main version (python3-coverage slows a run by a
  # third); CRM_MIGRATION_COVERAGE=0 turns it off there too
  local cov="${CRM_MIGRATION_COVERAGE:-1}"; [ "$series" = 18 ] || cov=0
  addon_log=$(mktemp)
  if CRM_MIGRATION_COVERAGE="$cov" scripts/odoo.sh test "${ADDON_TEST_DB:-crm_migration_addon_test}$sfx" | tee "$addon_log"; then :; else failed=$((failed + 1)); fi
  n=$(grep -oE '[0-9]+ tests' "$addon_log" | tail -n1 | grep -oE '[0-9]+' || echo 0)
  nf=$(grep -oE '[0-9]+ failed, [0-9]+ error' "$addon_log" | tail -n1 | grep -oE '^[0-9]+' || echo 0)
  passed=$((passed + n - nf))
  # a part the addon suite could not run (e.g. no OCA queue_job source) counts as skipped, loudly
  ns=$(grep -c '^SKIPPED:' "$addon_log" || true); skipped=$((skipped + ${ns:-0})); rm -f "$addon_log"
  wait "$dbs_pid"
  [ -f "$PREP_DIR/$series.dbs" ] || { echo "could not install the end-to-end databases of Odoo $series:"; tail -n 60 "$dbs_log"; }
}

e2e_version() { # series (after prep_version)
  local series="$1" src queue sfx e2e_db e2e_db_full
  version_src "$series" quiet || return 0  # prep_version said why, and counted it
  export ODOO_SRC="$src" ODOO_QUEUE_SRC="$queue" ODOO_SERIES="$series"
  version_dbs "$series"
  local files=(test/e2e)
  # shellcheck disable=SC2206
  [ "$series" = 18 ] || files=($E2E_OTHER_FILES)
  echo "== Odoo $series: end-to-end: bridge → real Odoo $series on 127.0.0.1:$E2E_PORT (${files[*]})"
  # two databases: crm only (fallbacks, missing-app report) and crm + sale + calendar + project (every object)
  if [ -f "$PREP_DIR/$series.dbs" ] && scripts/odoo.sh serve "$e2e_db" "$E2E_PORT" "^${e2e_db}(_full)?\$"; then
    trap 'scripts/odoo.sh stop "$E2E_PORT"; scripts/odoo.sh stop "$JOURNEY_PORT"' EXIT
    # 19: the bridge speaks JSON-2 with an API key of the test user (E2E_19_JSON2=0: XML-RPC)
    local apikeys=""
    if [ "$series" -ge 19 ] && [ "${E2E_19_JSON2:-1}" = 1 ]; then
      local k1 k2
      if k1=$(node scripts/odoo-apikey.mjs "http://127.0.0.1:$E2E_PORT" "$e2e_db" admin admin) \
         && k2=$(node scripts/odoo-apikey.mjs "http://127.0.0.1:$E2E_PORT" "$e2e_db_full" admin admin); then
        apikeys="{\"$e2e_db\": \"$k1\", \"$e2e_db_full\": \"$k2\"}"
        echo "(Odoo $series: the bridge talks JSON-2, with API keys of admin made through res.users.apikeys)"
      else
        echo "could not create API keys on Odoo $series"; failed=$((failed + 1))
      fi
    fi
    # faults-commit-restart runs (and kills) its own Odoo on ${E2E_DB}_job, which the server above does not serve
    ODOO_URL="http://127.0.0.1:$E2E_PORT" ODOO_DB="$e2e_db" ODOO_DB_FULL="$e2e_db_full" ODOO_USER=admin ODOO_PASSWORD=admin \
      ODOO_API_KEYS="$apikeys" FAULTS_ODOO_DB="${e2e_db}_job" FAULTS_ODOO_PORT=$((E2E_PORT + 3)) FAULTS_BRIDGE_PORT=$((E2E_PORT + 7)) \
      run_tap "Odoo $series: end-to-end tests" "${files[@]}" --jobs=1  # one file at a time: files share a database and the sample's records
    scripts/odoo.sh stop "$E2E_PORT"
  else
    echo "could not start Odoo $series for the end-to-end tests"; failed=$((failed + 1))
  fi

  if [ "$series" = 18 ]; then run_journey; else echo "(browser journey: Odoo 18 only, see README 'Odoo versions')"; fi
}

run_journey() {
  echo "== browser journey: $CHROMIUM_PATH + playwright-core → Odoo on 127.0.0.1:$JOURNEY_PORT (one cron thread runs the jobs)"
  if [ ! -x "$CHROMIUM_PATH" ]; then
    echo "installing Debian's chromium (apt-get)..."
    DEBIAN_FRONTEND=noninteractive apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
  fi
  if [ ! -x "$CHROMIUM_PATH" ]; then
    echo "no chromium at $CHROMIUM_PATH and apt-get could not install it"; failed=$((failed + 1))
  elif [ -f "$PREP_DIR/18.dbs" ] \
     && CRM_MIGRATION_CRON_THREADS=1 scripts/odoo.sh serve "$JOURNEY_DB" "$JOURNEY_PORT"; then  # installed by prep_version
    rm -rf test-artifacts/journey
    ODOO_URL="http://127.0.0.1:$JOURNEY_PORT" ODOO_DB="$JOURNEY_DB" ODOO_USER=admin ODOO_PASSWORD=admin CHROMIUM_PATH="$CHROMIUM_PATH" \
      run_tap "browser journey" test/browser
    echo "screenshots: $(ls test-artifacts/journey/*.png 2>/dev/null | wc -l) in test-artifacts/journey/"
    scripts/odoo.sh stop "$JOURNEY_PORT"
  else
    echo "could not start Odoo for the browser journey"; failed=$((failed + 1))
  fi
}

if part odoo; then
  PREP_DIR=$(mktemp -d -t crm-migration-prep.XXXXXX)
  read -r -a versions <<<"$ODOO_VERSIONS"
  first="${versions[0]:-}"; rest=("${versions[@]:1}")
  if [ -n "$first" ]; then
    t0=$SECONDS; prep_version "$first"; e2e_version "$first"; echo "== Odoo $first: $((SECONDS - t0)) s"
  fi
  if [ "${#rest[@]}" -gt 0 ]; then
    t0=$SECONDS
    if [ "${ODOO_PARALLEL_PREP:-1}" = 1 ] && [ "${#rest[@]}" -gt 1 ]; then
      echo "== Odoo ${rest[*]}: addon tests and databases side by side (output below as each ends)"
      scripts/odoo.sh deps && scripts/odoo.sh pg  # once, before the runs side by side
      i=0
      for series in "${rest[@]}"; do
        # each its own test port: odoo-bin --test-enable serves HTTP for its tests
        ( passed=0; failed=0; skipped=0
          export CRM_MIGRATION_TEST_HTTP_PORT=$((E2E_PORT + 200 + 100 * i))
          prep_version "$series" >"$PREP_DIR/$series.log" 2>&1
          echo "$passed $failed $skipped" >"$PREP_DIR/$series.tally" ) &
        i=$((i + 1))
      done
      wait
      for series in "${rest[@]}"; do
        cat "$PREP_DIR/$series.log"
        if read -r p f s <"$PREP_DIR/$series.tally"; then
          passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
        else
          echo "the addon tests of Odoo $series ended without a count"; failed=$((failed + 1))
        fi
      done
    else
      for series in "${rest[@]}"; do prep_version "$series"; done
    fi
    for series in "${rest[@]}"; do e2e_version "$series"; done
    echo "== Odoo ${rest[*]}: $((SECONDS - t0)) s"
  fi
  rm -rf "$PREP_DIR"
fi
for series in 18 17 19; do
  case " $ODOO_VERSIONS " in *" $series "*) continue ;; esac
  echo "################################################################"
  echo "SKIPPED: Odoo $series: not in ODOO_VERSIONS=\"$ODOO_VERSIONS\" (README 'Odoo versions')"
  echo "################################################################"
  skipped=$((skipped + 1))
done

node scripts/fault-table.mjs "$FAULTS_TABLE_FILE"
echo "tests: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
