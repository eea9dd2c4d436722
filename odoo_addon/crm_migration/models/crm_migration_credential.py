"""The source systems come from the bridge (``GET /sources``), never from a list in the addon: a
new source needs no addon upgrade. An API source declares the credentials it needs
(``[{name, label, secret, options?}]``); the wizard asks for them and they are kept on the
migration in ``crm.migration.credential`` rows that only Migration Managers may read, their
values never shown back (docs/journey.md, "Sources and credentials")."""

import logging
import threading
import time

import requests

from odoo import api, fields, models
from odoo.exceptions import UserError

from .. import compat
from .crm_migration import MANAGER_GROUP

_logger = logging.getLogger(__name__)

SOURCES_TTL = 60  # seconds the bridge's answer is kept
SOURCES_TIMEOUT = 5  # seconds
# (database, bridge URL) -> (monotonic time, sources): shared by the workers' threads
_sources_cache = {}
_sources_lock = threading.Lock()
SOURCE_INPUTS = {"csv-upload": "csv", "api": "api"}
SECRET_MASK = "••••••••"


def clear_sources_cache():
    with _sources_lock:
        _sources_cache.clear()


class CrmMigration(models.Model):
    _inherit = "crm.migration"

    credential_ids = fields.One2many("crm.migration.credential", "migration_id", string="Credentials",
                                     groups=MANAGER_GROUP, copy=False)
    source_label = fields.Char(compute="_compute_source_label", string="Source System",
                               help="The source as the bridge names it (its name while the bridge does not answer).")

    @api.depends("source_system", "source")
    def _compute_source_label(self):
        labels = {s["name"]: s["label"] for s in self._bridge_sources(raise_if_down=False)} if self else {}
        for migration in self:
            name = migration._source_name()
            migration.source_label = labels.get(name, name) or False

    # ------------------------------------------------------------------ sources
    @api.model
    def _parse_sources(self, payload):
        """The bridge's answer checked: a list of ``{name, label, input, credentials}``; what does
        not fit is left out (and logged), never trusted."""
        sources = []
        for item in payload if isinstance(payload, list) else []:
            if not (isinstance(item, dict) and isinstance(item.get("name"), str) and item["name"].strip()
                    and item.get("input") in SOURCE_INPUTS):
                _logger.warning("crm_migration: the bridge listed a source Odoo cannot use: %r", item)
                continue
            credentials = []
            for spec in item.get("credentials") or []:
                if not (isinstance(spec, dict) and isinstance(spec.get("name"), str) and spec["name"].strip()):
                    continue
                options = spec.get("options")
                credentials.append({
                    "name": spec["name"].strip(),
                    "label": str(spec.get("label") or spec["name"]),
                    "secret": bool(spec.get("secret")),
                    "options": [str(o) for o in options] if isinstance(options, list) else [],
                    "optional": bool(spec.get("optional")),
                })
            sources.append({"name": item["name"].strip(), "label": str(item.get("label") or item["name"]),
                            "input": SOURCE_INPUTS[item["input"]], "credentials": credentials})
        return sources

    @api.model
    def _bridge_sources(self, raise_if_down=True):
        """The bridge's sources (``GET /sources``), kept ``SOURCES_TTL`` seconds. A bridge that does
        not answer: UserError naming its URL, or ``[]`` with ``raise_if_down=False``."""
        url = self._bridge_url()
        key = (self.env.cr.dbname, url)
        with _sources_lock:
            cached = _sources_cache.get(key)
        if cached and time.monotonic() - cached[0] < SOURCES_TTL:
            return cached[1]
        try:
            response = requests.get(f"{url}/sources", headers=self._bridge_headers(), timeout=SOURCES_TIMEOUT)
            response.raise_for_status()
            sources = self._parse_sources(response.json())
        except (requests.RequestException, ValueError) as exc:
            if raise_if_down:
                raise UserError(self._bridge_down_message(url, exc)) from None
            return []
        with _sources_lock:
            _sources_cache[key] = (time.monotonic(), sources)
        return sources

    @api.model
    def _bridge_source(self, name, raise_if_down=True):
        """One source of the bridge by name, or ``None``."""
        return next((s for s in self._bridge_sources(raise_if_down) if s["name"] == name), None)

    def _source_name(self):
        self.ensure_one()
        return (self.source_system or self.source or "").strip()

    def _source_input(self):
        """``csv`` (export files uploaded) or ``api`` (read by the bridge), as the bridge says."""
        self.ensure_one()
        source = self._bridge_source(self._source_name())
        return source["input"] if source else "csv"

    def _credentials_dict(self):
        """``{name: value}`` of the stored credentials (Migration Managers only)."""
        self.ensure_one()
        self._check_manager()
        return {cred.name: cred.value or "" for cred in self.credential_ids}


@compat.sql_constraints
class CrmMigrationCredential(models.Model):
    """One credential of a migration's API source (a key, a region). Only Migration Managers
    read these rows (security/ir.model.access.csv); ``value`` is never shown back in clear."""

    _name = "crm.migration.credential"
    _description = "CRM Migration Source Credential"
    _order = "migration_id, sequence, id"

    migration_id = fields.Many2one("crm.migration", required=True, ondelete="cascade", index=True)
    sequence = fields.Integer(default=10)
    name = fields.Char(required=True, help="The credential's name the bridge asks for.")
    label = fields.Char()
    secret = fields.Boolean(help="A secret (an API key): its value is never shown.")
    value = fields.Char(groups=MANAGER_GROUP, copy=False)
    value_display = fields.Char(compute="_compute_value_display", string="Value")

    _sql_constraints = [
        ("name_uniq", "unique(migration_id, name)", "A credential is given once per migration."),
    ]

    @api.depends("secret")
    @api.depends_context("uid")
    def _compute_value_display(self):
        for cred in self:
            if cred.secret:
                cred.value_display = SECRET_MASK if cred.sudo().value else False
            else:
                cred.value_display = cred.sudo().value or False
