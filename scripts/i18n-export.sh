#!/usr/bin/env bash
# Re-export the translation templates of our addons from a real Odoo 18 and merge them into the
# translations (README, "Translations").
#
#   scripts/i18n-export.sh            fresh database I18N_DB with every addon of odoo_addon/ installed
#                                     (crm_migration, sale_management + account for the glue addons,
#                                     queue_job when ODOO_QUEUE_SRC has it), then for each addon:
#                                     odoo_addon/<addon>/i18n/<addon>.pot exported by Odoo
#                                     (--i18n-export), and every odoo_addon/<addon>/i18n/*.po
#                                     brought up to date with msgmerge (new strings untranslated,
#                                     changed ones marked fuzzy: Odoo ignores fuzzy entries)
#   I18N_REUSE_DB=1 scripts/i18n-export.sh   use I18N_DB as it is (the addons must be up to date in it)
#
# Env: I18N_DB (default crm_migration_i18n), ODOO_SRC, ODOO_QUEUE_SRC, CRM_MIGRATION_RUN_DIR (as
# scripts/odoo.sh). Needs gettext's msgmerge (apt-get install -y gettext).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ODOO_SRC="${ODOO_SRC:-/opt/odoo/18.0}"
ODOO_QUEUE_SRC="${ODOO_QUEUE_SRC:-/opt/odoo/oca-queue}"
RUN_DIR="${CRM_MIGRATION_RUN_DIR:-/var/tmp/crm-migration-odoo}"
DB="${I18N_DB:-crm_migration_i18n}"

if [ ! -f "$ODOO_SRC/odoo-bin" ]; then echo "SKIPPED: no Odoo source (ODOO_SRC)"; exit 3; fi
command -v msgmerge >/dev/null || { echo "msgmerge missing: apt-get install -y gettext" >&2; exit 2; }

ADDONS_PATH="$REPO/odoo_addon,$ODOO_SRC/addons,$ODOO_SRC/odoo/addons"
MODULES="crm_migration,sale_management,account"
if [ -f "$ODOO_QUEUE_SRC/queue_job/__manifest__.py" ]; then
  ADDONS_PATH="$ADDONS_PATH,$ODOO_QUEUE_SRC"; MODULES="$MODULES,queue_job"
fi

if [ "${I18N_REUSE_DB:-0}" != "1" ]; then
  echo "installing $MODULES into $DB..." >&2
  bash "$REPO/scripts/odoo.sh" initdb "$DB" "$MODULES"
fi

# the addons of odoo_addon/ installed in DB (the glue ones install themselves)
ours=$(for m in "$REPO"/odoo_addon/*/__manifest__.py; do basename "$(dirname "$m")"; done | paste -sd, -)
installed=$(psql -h 127.0.0.1 -U postgres -d "$DB" -qtAc "SELECT string_agg(name, ',' ORDER BY name)
  FROM ir_module_module WHERE state = 'installed' AND name = ANY(string_to_array('$ours', ','))")
[ -n "$installed" ] || { echo "none of our addons is installed in $DB" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
log="$RUN_DIR/$DB.i18n.log"
: > "$log"
# one Odoo run for every addon: a .tgz export holds <addon>/i18n/<addon>.pot per module
/usr/bin/python3 "$ODOO_SRC/odoo-bin" --addons-path="$ADDONS_PATH" --db_host=127.0.0.1 --db_port=5432 \
  --db_user=odoo --db_password=odoo --data-dir="$RUN_DIR/data" -d "$DB" --log-level=warn \
  --logfile="$log" --i18n-export="$tmp/pot.tgz" --modules="$installed" --stop-after-init
tar -xzf "$tmp/pot.tgz" -C "$tmp"
# Odoo's extractor (babel) stops at the first f-string inside a _() call and drops the rest of that
# file's terms: say which files, so that their terms are not silently missing from the .pot
if grep -q "Failed to extract terms" "$log"; then
  echo "WARNING: terms missing from the .pot (an f-string inside _() or env._()?):" >&2
  grep -o "Failed to extract terms from .*" "$log" | sed "s#$REPO/##" >&2
fi

for addon in ${installed//,/ }; do
  pot="$tmp/$addon/i18n/$addon.pot"
  [ -f "$pot" ] || { echo "$addon: Odoo exported no template" >&2; exit 1; }
  mkdir -p "$REPO/odoo_addon/$addon/i18n"
  cp "$pot" "$REPO/odoo_addon/$addon/i18n/$addon.pot"
  echo "$addon: $(grep -c '^msgid ' "$pot") msgids (the header included) in i18n/$addon.pot"
  for po in "$REPO/odoo_addon/$addon/i18n/"*.po; do
    [ -f "$po" ] || continue
    msgmerge --quiet --update --backup=none "$po" "$pot"
    echo "  $(basename "$po"): $(msgfmt --statistics -o /dev/null "$po" 2>&1)"
  done
done
