"""Owners to reconcile (docs/staging-contract.md, "Owners: the reconciliation queue") and the
parts of ``crm.migration`` that go with the whole-source additions: owners API, fallback user,
``waiting`` records, kept custom fields, ``deps`` of staged records."""

from collections import defaultdict

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.osv import expression
from odoo.tools.mail import single_email_re

from .. import compat
from ..services import paging
from ..services.custom_fields import field_usage_count
from ..services.rollback import RollbackEngine
from ..services.staging import (
    MODEL_SCHEMA,
    OWNER_MODEL,
    SCHEMA_FIELDS_CONTEXT,
    SCHEMA_MODEL,
    SCHEMA_MODELS_CONTEXT,
    schema_field_pairs,
    schema_model_names,
)
from ..services.text_search import owner_value

OWNER_STATES = [("pending", "Pending"), ("resolved", "Resolved")]


@compat.sql_constraints
class CrmMigrationOwner(models.Model):
    """One source owner value (e.g. the email of a user of the source CRM) that a required
    lookup did not find: the records using it wait until it is resolved to an Odoo user."""

    _name = "crm.migration.owner"
    _description = "CRM Migration Owner to Reconcile"
    _order = "migration_id desc, state, value"
    _rec_name = "value"

    migration_id = fields.Many2one("crm.migration", required=True, ondelete="cascade", index=True, readonly=True)
    model = fields.Char(required=True, readonly=True, default=OWNER_MODEL, string="Odoo Model")
    field = fields.Char(required=True, readonly=True, default="login", string="Looked Up Field")
    value = fields.Char(required=True, readonly=True, help="The source owner (lower-cased), e.g. an email.")
    user_id = fields.Many2one("res.users", string="User", ondelete="set null",
                              help="Proposed (same login or email) or picked Odoo user.")
    state = fields.Selection(OWNER_STATES, required=True, default="pending", index=True)
    record_count = fields.Integer(compute="_compute_record_count", string="Waiting Records",
                                  help="Staged records waiting for this owner.")

    _sql_constraints = [
        ("migration_value_uniq", "unique(migration_id, model, field, value)",
         "An owner value is queued once per migration."),
    ]

    def _compute_record_count(self):
        counts = defaultdict(int)
        migrations = self.migration_id
        if migrations:
            for row in self.env["crm.migration.record"].search_read(
                [("migration_id", "in", migrations.ids), ("state", "=", "waiting")], ["migration_id", "lookups_json"]
            ):
                keys = {
                    (spec.get("model"), spec.get("field"), owner_value(spec.get("value")))
                    for spec in (row["lookups_json"] or {}).values()
                    if isinstance(spec, dict) and spec.get("required") and spec.get("value") not in (None, False, "")
                }
                for key in keys:
                    counts[(row["migration_id"][0], *key)] += 1
        for owner in self:
            owner.record_count = counts.get((owner.migration_id.id, owner.model, owner.field, owner.value), 0)

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if vals.get("value") is not None:
                vals["value"] = owner_value(vals["value"])
        return super().create(vals_list)

    def write(self, vals):
        # picking a user (form, list) resolves the owner; clearing it puts it back to pending
        if "user_id" in vals and "state" not in vals:
            vals = dict(vals, state="resolved" if vals["user_id"] else "pending")
        return super().write(vals)

    def _propose_users(self):
        """{owner id: res.users id} for owners whose value is, case-insensitively, the login or
        the email of exactly one active user."""
        owners = self.filtered(lambda o: o.model == OWNER_MODEL)
        if not owners:
            return {}
        values = {o.value for o in owners}
        Users = self.env["res.users"]
        leaves = [(fname, "=ilike", value) for value in sorted(values) for fname in ("login", "email")]
        domain = ["|"] * (len(leaves) - 1) + leaves
        by_value = defaultdict(set)
        for user in Users.search(domain):  # =ilike treats _ as a wildcard: exact check below
            for candidate in (user.login, user.email):
                if candidate and candidate.strip().lower() in values:
                    by_value[candidate.strip().lower()].add(user.id)
        return {o.id: next(iter(by_value[o.value])) for o in owners if len(by_value.get(o.value, ())) == 1}

    def action_propose_user(self):
        """Find user: propose the user whose login or email is the owner value (pending owners)."""
        pending = self.filtered(lambda o: o.state == "pending")
        proposals = pending._propose_users()
        for owner in pending:
            if proposals.get(owner.id) and owner.user_id.id != proposals[owner.id]:
                owner.write({"user_id": proposals[owner.id], "state": "pending"})
        return True

    def action_resolve(self):
        """Resolve: the picked (or proposed) user becomes the owner; the waiting records commit
        at the next commit of the migration."""
        for owner in self:
            if not owner.user_id:
                raise ValidationError(self.env._("Pick a user for %(value)s first (or use Find user).",
                                                 value=owner.value))
        self.write({"state": "resolved"})
        return True

    def action_invite_user(self):
        """Invite as user: an internal user whose login and email are the owner's (the source
        user's email), named after it; Odoo sends the invitation to set a password. The owner is
        resolved to it. Creating users needs the Administration: Access Rights group."""
        Users = self.env["res.users"]
        for owner in self:
            if owner.model != OWNER_MODEL or owner.user_id:
                continue
            if not single_email_re.match(owner.value or ""):
                raise UserError(self.env._("%(value)s is not an email address: pick an existing user for it.",
                                           value=owner.value))
            name = owner.value.split("@")[0].replace(".", " ").replace("_", " ").replace("-", " ").title()
            user = Users.create({"name": name, "login": owner.value, "email": owner.value})
            owner.write({"user_id": user.id, "state": "resolved"})
        return True

    def action_reset(self):
        self.write({"state": "pending"})
        return True

    def _api_dict(self):
        self.ensure_one()
        return {
            "value": self.value,
            "user_id": self.user_id.id or False,
            "state": self.state,
            "record_count": self.record_count,
        }


class CrmMigrationRecordDeps(models.Model):
    _inherit = "crm.migration.record"

    deps_json = fields.Json(string="Deps", readonly=True,
                            help="Keys committed first although no field refers to them (custom fields).")


class CrmMigration(models.Model):
    _inherit = "crm.migration"

    fallback_user_id = fields.Many2one(
        "res.users", string="Fallback Owner", copy=False,
        help="Owner given to every record whose source owner has no Odoo user: setting it resolves all "
             "pending owners of the migration.")
    owner_ids = fields.One2many("crm.migration.owner", "migration_id", string="Owners", readonly=True)
    owner_count = fields.Integer(compute="_compute_owner_counts", string="Owner Count")
    owner_pending_count = fields.Integer(compute="_compute_owner_counts", string="Owners to Reconcile")
    waiting_count = fields.Integer(compute="_compute_counts", string="Waiting")

    @api.depends("owner_ids.state")
    def _compute_owner_counts(self):
        for migration in self:
            migration.owner_count = len(migration.owner_ids)
            migration.owner_pending_count = len(migration.owner_ids.filtered(lambda o: o.state == "pending"))

    def write(self, vals):
        res = super().write(vals)
        if vals.get("fallback_user_id"):
            self.env["crm.migration.owner"].search([
                ("migration_id", "in", self.ids), ("state", "=", "pending"), ("model", "=", OWNER_MODEL),
            ]).write({"user_id": vals["fallback_user_id"], "state": "resolved"})
        return res

    # ------------------------------------------------------------------ staging: schema fields
    def _stage_records(self, records):
        """Staged records may use in ``values`` the custom fields that schema records of this
        migration (this call or an earlier one) create."""
        pairs = set()
        models_ = set()
        if isinstance(records, list):
            pairs = schema_field_pairs(r.get("values") for r in records
                                       if isinstance(r, dict) and r.get("model") == SCHEMA_MODEL)
            pairs |= schema_field_pairs(row["values_json"] for row in self.env["crm.migration.record"].search_read(
                [("migration_id", "=", self.id), ("model", "=", SCHEMA_MODEL)], ["values_json"]))
            # custom models: declared by this migration's ir.model schema records (any batch)
            models_ = schema_model_names(r.get("values") for r in records
                                         if isinstance(r, dict) and r.get("model") == MODEL_SCHEMA)
            models_ |= schema_model_names(row["values_json"] for row in self.env["crm.migration.record"].search_read(
                [("migration_id", "=", self.id), ("model", "=", MODEL_SCHEMA)], ["values_json"]))
        ctx = {}
        if pairs:
            ctx[SCHEMA_FIELDS_CONTEXT] = sorted(pairs)
        if models_:
            ctx[SCHEMA_MODELS_CONTEXT] = sorted(models_)
        this = self.with_context(**ctx) if ctx else self
        return super(CrmMigration, this)._stage_records(records)

    # ------------------------------------------------------------------ owners known at staging
    def api_finish_staging(self):
        self._queue_unknown_owners()
        return super().api_finish_staging()

    def _queue_unknown_owners(self):
        """Queue, right after staging, the source owners no Odoo user matches (pending, with a
        proposed user when one has that login or email), so the admin reconciles them before the
        sample instead of after the first commit. The commit then uses the same rows."""
        Owner = self.env["crm.migration.owner"]
        for migration in self:
            keys = set()
            # page by page: a million staged records are never in memory at once (issue #11)
            for page in paging.pages(self.env["crm.migration.record"], [
                    ("migration_id", "=", migration.id), ("state", "in", ("staged", "waiting"))], ["lookups_json"]):
                for record in page:
                    for spec in (record.lookups_json or {}).values():
                        if (isinstance(spec, dict) and spec.get("required") and spec.get("model") == OWNER_MODEL
                                and spec.get("value") not in (None, False, "")):
                            keys.add((spec["model"], spec.get("field") or "login", owner_value(spec["value"])))
            queued = {(o.model, o.field, o.value) for o in migration.owner_ids}
            keys -= queued
            if not keys:
                continue
            known = defaultdict(int)
            by_field = defaultdict(set)
            for model, fname, value in keys:
                by_field[(model, fname)].add(value)
            for (model, fname), values in by_field.items():
                leaves = [[(fname, "=ilike", value)] for value in sorted(values)]
                # active records only, as the commit's lookup finds them
                for record in self.env[model].search(expression.OR(leaves)):
                    found = record[fname]
                    if isinstance(found, str):
                        known[(model, fname, found.strip().lower())] += 1
            new = sorted(k for k in keys if known.get(k) != 1)
            if new:
                Owner.create([{"migration_id": migration.id, "model": model, "field": fname, "value": value,
                               "state": "pending"} for model, fname, value in new]).action_propose_user()

    # ------------------------------------------------------------------ commit / report
    def api_rollback(self, options=None):
        report = super().api_rollback(options)
        # a rolled-back migration commits nothing any more: its pending owners are moot
        self.env["crm.migration.owner"].search([("migration_id", "=", self.id), ("state", "=", "pending")]).unlink()
        return report

    def api_report(self):
        """The report; a rolled-back migration's report also lists ``kept_fields``: custom fields
        its rollback kept because records use them ``[{"model", "name", "records_using"}]``."""
        report = super().api_report()
        if self.state == "rolled_back":
            report["kept_fields"] = self._kept_fields()
        return report

    def _kept_fields(self):
        records = self.env["crm.migration.record"].search([
            ("migration_id", "=", self.id), ("model", "=", SCHEMA_MODEL),
            ("state", "=", "rolled_back"), ("res_id", "!=", 0),
        ], order="id")
        fields_ = self.env[SCHEMA_MODEL].sudo().browse(records.mapped("res_id")).exists()
        return [
            {"model": f.model, "name": f.name, "records_using": field_usage_count(self.env, f)}
            for f in fields_.sorted(lambda f: (f.model, f.name))
        ]

    def api_remove_unused_fields(self):
        """Remove the custom fields the rollback of this migration kept, once no record has a
        value in them (and no other migration links them). Returns the report, with
        ``removed_fields: [{"model", "name"}]``."""
        self.ensure_one()
        self._check_manager()
        removed = RollbackEngine(self).remove_unused_fields() if self.state == "rolled_back" else []
        report = self.api_report()
        report["removed_fields"] = removed
        return report

    # ------------------------------------------------------------------ owners API
    def _owner_rows(self, value=None):
        domain = [("migration_id", "=", self.id)]
        if value is not None:
            domain.append(("value", "=", owner_value(value)))
        owners = self.env["crm.migration.owner"].search(domain, order="value, id")
        owners.invalidate_recordset(["record_count"])  # not stored: follows the records' states
        return owners

    def api_owners(self):
        """``[{"value", "user_id" (int or False), "state", "record_count"}]`` of the migration."""
        self.ensure_one()
        self._check_manager()
        return [owner._api_dict() for owner in self._owner_rows()]

    def api_resolve_owner(self, value, user_id):
        """Resolve the queued owner ``value`` to the user ``user_id`` (int). Returns its entry."""
        self.ensure_one()
        self._check_manager()
        if not isinstance(value, str) or not value.strip():
            raise ValidationError(self.env._("api_resolve_owner: value must be a non-empty string."))
        user = self._api_user(user_id, "api_resolve_owner")
        if not user:
            raise ValidationError(self.env._("api_resolve_owner: user_id must be the id of a user."))
        owners = self._owner_rows(value)
        if not owners:
            raise ValidationError(self.env._("api_resolve_owner: no owner %(value)r is queued in migration "
                                             "%(name)s.", value=value, name=self.display_name))
        owners.write({"user_id": user.id, "state": "resolved"})
        return owners[0]._api_dict()

    def api_set_fallback_user(self, user_id):
        """Set (int) or clear (False) the fallback owner; setting it resolves every pending owner.
        Returns ``api_owners()``."""
        self.ensure_one()
        self._check_manager()
        user = self._api_user(user_id, "api_set_fallback_user")
        self.write({"fallback_user_id": user.id or False})
        return self.api_owners()

    def _api_user(self, user_id, method):
        if user_id in (False, None):
            return self.env["res.users"]
        if isinstance(user_id, bool) or not isinstance(user_id, int):
            raise ValidationError(self.env._("%(method)s: user_id must be an integer.", method=method))
        user = self.env["res.users"].with_context(active_test=False).browse(user_id).exists()
        if not user:
            raise ValidationError(self.env._("%(method)s: there is no user %(id)s.", method=method, id=user_id))
        return user

    # ------------------------------------------------------------------ UI
    def _notify(self, title, report):
        action = super()._notify(title, report)
        waiting = report["counts"].get("waiting", 0)
        if waiting:
            params = action["params"]
            params["type"] = "warning"
            params["message"] = " ".join([params["message"], self.env._(
                "%(count)s waiting for their owner (Migration > Owners to reconcile).", count=waiting)])
        return action

    def action_view_owners(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("crm_migration.action_crm_migration_owner")
        action.update(domain=[("migration_id", "=", self.id)], context={"default_migration_id": self.id})
        return action

    def action_remove_unused_fields(self):
        self.ensure_one()
        report = self.api_remove_unused_fields()
        removed = ", ".join(f"{f['model']}.{f['name']}" for f in report["removed_fields"]) or self.env._("none")
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": self.env._("Unused custom fields"),
                "message": self.env._("Removed: %(removed)s", removed=removed),
                "type": "success",
                "next": {"type": "ir.actions.client", "tag": "soft_reload"},
            },
        }
