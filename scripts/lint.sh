#!/usr/bin/env bash
# The project's static gates, no Odoo needed (README, "Quality gates"):
#   eslint     TypeScript of bridge/ and test/, scripts/*.mjs (eslint.config.js; type-aware on bridge/src)
#   prettier   their formatting (.prettierrc.json, printWidth 120)
#   ruff       Python of odoo_addon/ (ruff.toml; scripts/ruff.mjs drives ruff's WebAssembly build)
#   pylint     odoo_addon/: size/complexity limits and three pylint-odoo checks (.pylintrc, scripts/pylint_plugins)
#   sizes      odoo_addon/: no file over 500 lines (.py, .xml, .js, .csv, .scss), no function over 60 (scripts/check-sizes.py)
# The type check (tsc) is the build step of scripts/test-all.sh.
#
#   scripts/lint.sh          run every gate, print one line per gate and "lint: N passed, M failed"
#   scripts/lint.sh --fix    first apply the automatic fixes (eslint --fix, prettier --write, ruff's safe fixes)
# Exit status: non-zero when a gate failed.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PY=/usr/bin/python3  # Debian's python3, where pylint is installed (not a pyenv shim)
TS_PATHS=(bridge test scripts/*.mjs eslint.config.js)
PY_PATHS=(odoo_addon)
passed=0; failed=0; skipped=0; failed_names=()

gate() { # name, command...: run it, show its output only when it fails
  local name="$1"; shift
  local log; log=$(mktemp)
  local start=$SECONDS
  if "$@" >"$log" 2>&1; then
    passed=$((passed + 1)); echo "lint $name: ok ($((SECONDS - start))s)"
  else
    failed=$((failed + 1)); failed_names+=("$name")
    echo "lint $name: FAILED ($((SECONDS - start))s): $*"
    head -n 200 "$log"
    local n; n=$(wc -l <"$log"); [ "$n" -gt 200 ] && echo "... ($n lines; run: $*)"
  fi
  rm -f "$log"
}

if [ "${1:-}" = "--fix" ]; then
  npx eslint --fix "${TS_PATHS[@]}" >/dev/null 2>&1 || true
  # twice: prettier is not always idempotent on long member chains (a second pass settles them)
  npx prettier --write --log-level=warn "${TS_PATHS[@]}" || true
  npx prettier --write --log-level=warn "${TS_PATHS[@]}" || true
  node scripts/ruff.mjs --fix "${PY_PATHS[@]}" >/dev/null || true
fi

gate eslint npx eslint --max-warnings=0 "${TS_PATHS[@]}"
gate prettier npx prettier --check --log-level=warn "${TS_PATHS[@]}"
gate ruff node scripts/ruff.mjs "${PY_PATHS[@]}"
if "$PY" -c 'import pylint' 2>/dev/null; then
  gate pylint env PYTHONPATH=scripts/pylint_plugins "$PY" -m pylint --rcfile=.pylintrc "${PY_PATHS[@]}"
else
  echo "lint pylint: SKIPPED (no pylint for $PY: apt-get install pylint)"; skipped=$((skipped + 1))
fi
gate sizes "$PY" scripts/check-sizes.py
echo "lint: $passed passed, $failed failed, $skipped skipped${failed_names:+ (${failed_names[*]})}"
[ "$failed" -eq 0 ]
