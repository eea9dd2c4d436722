#!/usr/bin/env bash
# npm run bench: builds, starts a real Odoo 18 in a fresh database (unless ODOO_URL is set) and runs
# test/bench/staging-bench.ts (csv-parse alone vs our staging, peak RSS of the CLI dry run and of an
# upload route run; BENCH_ROWS up to 1,000,000; BENCH_UPLOAD=dry uploads without Odoo), then
# test/bench/bench.ts, then the commit part (run_commit_bench). BENCH_ROWS sets the number of
# contacts (default 5000); BENCH_WORKERS the Odoo worker processes and the chunks committed at a
# time (default 2). BENCH_PARTS=staging runs only the staging half (no Odoo needed when BENCH_UPLOAD=dry).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
[ -d node_modules ] || npm ci --no-audit --no-fund --loglevel=error
npx tsc -p tsconfig.json
if [ -z "${ODOO_URL:-}" ] && ! { [ "${BENCH_PARTS:-all}" = staging ] && [ "${BENCH_UPLOAD:-}" = dry ]; }; then
  ODOO_SRC=$(scripts/odoo.sh src) || exit 1
  export ODOO_SRC
  port="${BENCH_PORT:-18089}" db="${BENCH_DB:-crm_migration_bench}"
  scripts/odoo.sh deps
  scripts/odoo.sh initdb "$db" crm,contacts,crm_migration
  # worker processes: the parallel commit's chunks run side by side on them (issue #11)
  CRM_MIGRATION_WORKERS="${BENCH_WORKERS:-2}" scripts/odoo.sh serve "$db" "$port"
  trap 'scripts/odoo.sh stop '"$port" EXIT
  export ODOO_URL="http://127.0.0.1:$port" ODOO_DB="$db" ODOO_USER=admin ODOO_PASSWORD=admin
fi

# issue #11, commit part: our stage + commit against Odoo's load() for partners and for leads, with 1
# and BENCH_WORKERS chunks at a time, and the rollback (test/bench/commit-bench.ts)
run_commit_bench() {
  BENCH_WORKERS="${BENCH_WORKERS:-2}" node dist/test/bench/commit-bench.js
}

node dist/test/bench/staging-bench.js
if [ "${BENCH_PARTS:-all}" != staging ]; then
  node dist/test/bench/bench.js
  run_commit_bench
fi
