"""Fields of services/derived.py: what Odoo derived from a commit, taken back by rollback
(issue #12, "Data" 11)."""

from odoo import fields, models


class CrmMigrationLink(models.Model):
    _inherit = "crm.migration.link"

    derived_json = fields.Json(readonly=True, copy=False, string="Derived by Odoo",
                               help="Matched record: its row before the migration met it, the columns that "
                                    "changed since the commit, and the chatter messages Odoo added "
                                    "(services/derived.py). Rollback gives those columns back.")


class CrmMigration(models.Model):
    _inherit = "crm.migration"

    derived_side_json = fields.Json(readonly=True, copy=False,
                                    help="Side-table rows the commits changed (lead scoring frequencies).")
    derived_message_floor = fields.Integer(readonly=True, copy=False, groups="base.group_system",
                                           help="The newest chatter message id when the running commit started: "
                                                "messages added after it on matched records are Odoo's reaction to "
                                                "the commit. Kept here, never taken from an RPC caller's plan.")
    rollback_remains_json = fields.Json(readonly=True, copy=False,
                                        help="What the rollback could not give back exactly, and why.")

    def api_report(self):
        report = super().api_report()
        if self.state == "rolled_back":
            report["rollback_remains"] = self.rollback_remains_json or []
        return report
