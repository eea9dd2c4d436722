"""Issue #11, the faster paths of commit and rollback give what the slower ones gave:

- a lead's sales team, given per batch (services/prefill.py), is the team Odoo's own create
  computes for the same values, per salesperson and type;
- the set-based check of a rollback's links (``RollbackEngine._check_links``) lets a clean
  migration through and still refuses a forged link, with the guard's own message;
- a rollback reports where its time went (``timings``)."""

from odoo.exceptions import UserError

from ..compat import USER_GROUPS_FIELD as USER_GROUPS
from ..services import prefill
from ..services.rollback import RollbackEngine
from .common import MigrationCase


class TestCommitSpeed(MigrationCase):

    def commit(self, records):
        migration = self.new_migration()
        migration.api_stage(records)
        migration.api_commit({"batch_size": 100})
        return migration

    def test_lead_team_as_odoo_computes_it(self):
        Team = self.env["crm.team"]
        other = self.env["res.users"].create({
            "name": "Speed Seller", "login": "speed.seller@example.com",
            USER_GROUPS: [(6, 0, [self.env.ref("sales_team.group_sale_salesman").id])]})
        # teams by type and by member: the admin's leads and opportunities, and the seller's, land
        # in different teams only if the team is chosen per salesperson and per type
        Team.create({"name": "Speed Opps", "sequence": 1, "use_leads": False, "use_opportunities": True,
                     "member_ids": [(6, 0, [self.env.user.id])]})
        Team.create({"name": "Speed Leads", "sequence": 2, "use_leads": True, "use_opportunities": False,
                     "member_ids": [(6, 0, [self.env.user.id])]})
        Team.create({"name": "Speed Seller Team", "sequence": 3, "use_leads": True, "use_opportunities": True,
                     "member_ids": [(6, 0, [other.id])]})
        self.env["res.users"].browse(self.env.user.id).invalidate_recordset()
        cases = [
            ({"name": "Speed opp", "type": "opportunity"}, None),
            ({"name": "Speed lead", "type": "lead"}, None),
            ({"name": "Speed opp of seller", "type": "opportunity"}, other),
            ({"name": "Speed lead of seller", "type": "lead"}, other),
        ]
        records = [self.staged(f"testsrc:deal:{i}", "deal", "crm.lead", values, lookups={"user_id": {
            "model": "res.users", "field": "login", "value": user.login, "required": True}} if user else None)
            for i, (values, user) in enumerate(cases)]
        migration = self.commit(records)
        Lead = self.env["crm.lead"].with_context(tracking_disable=True)
        teams = []
        for i, (values, user) in enumerate(cases):
            link = migration.link_ids.filtered(lambda lk, i=i: lk.key == f"testsrc:deal:{i}")
            self.assertEqual(link.action, "created", migration.record_ids.mapped("error_message"))
            ours = Lead.browse(link.res_id)
            odoos = Lead.create(dict(values, **({"user_id": user.id} if user else {})))  # Odoo's own compute
            for fname in ("team_id", "stage_id", "company_id", "user_id"):
                self.assertEqual(ours[fname], odoos[fname], f"{values['name']}: {fname}")
            teams.append(ours.team_id.name)
        # per salesperson and per type (the admin is also in the database's own "Sales" team: which
        # of the admin's teams wins is Odoo's choice, checked above against its own create)
        self.assertEqual(teams[1], "Speed Leads")
        self.assertNotEqual(teams[0], teams[1])
        self.assertEqual(teams[2:], ["Speed Seller Team", "Speed Seller Team"])
        # the team is the one Odoo computes, not a value the migration wrote: the link keeps what was staged
        link = migration.link_ids.filtered(lambda lk: lk.key == "testsrc:deal:0")
        self.assertNotIn("team_id", link.values_after_json)
        # no salesperson: Odoo computes no team, and none is given
        vals_list = [{"name": "Speed nobody", "type": "lead", "user_id": False}]
        prefill.batch_values(Lead, vals_list)
        self.assertNotIn("team_id", vals_list[0])
        self.assertFalse(Lead.create(vals_list).team_id)

    def test_rollback_checks_links_set_based(self):
        migration = self.commit([self.tag("Speed Tag"), self.company("sp", "Speed Co"),
                                 self.contact("sp1", "Speed One", "speed.one@example.com", company="sp",
                                              tags=("Speed Tag",))])
        partner_ids = migration.link_ids.filtered(lambda lk: lk.model == "res.partner").mapped("res_id")
        self.assertEqual(len(partner_ids), 2)
        # a link whose values name a field a migration never writes: refused, nothing undone
        link = migration.link_ids.filtered(lambda lk: lk.key == "testsrc:contact:sp1")
        self.env.cr.execute("UPDATE crm_migration_link "
                            "SET values_after_json = values_after_json || '{\"password\": \"x\"}'::jsonb "
                            "WHERE id = %s", [link.id])
        link.invalidate_recordset()
        with self.assertRaisesRegex(UserError, r"testsrc:contact:sp1: res\.partner\.password is not a field"):
            migration.api_rollback({"on_conflict": "undo"})
        self.assertEqual(len(self.Partner.browse(partner_ids).exists()), 2)
        # values that are not a JSON object: refused by the guard too, not an SQL error
        self.env.cr.execute("UPDATE crm_migration_link SET values_after_json = '[\"password\"]'::jsonb WHERE id = %s",
                            [link.id])
        link.invalidate_recordset()
        with self.assertRaises(UserError):
            migration.api_rollback({"on_conflict": "undo"})
        # put back: the set-based check lets it through and the rollback is exact, with its timings
        self.env.cr.execute("UPDATE crm_migration_link SET values_after_json = '{}'::jsonb WHERE id = %s", [link.id])
        link.invalidate_recordset()
        engine = RollbackEngine(migration)
        engine.run(on_conflict="undo")
        self.assertFalse(self.Partner.browse(partner_ids).exists())
        self.assertEqual(migration.state, "rolled_back")
        self.assertIn("links", engine.timings)
        self.assertIn("created res.partner", engine.timings)
        self.assertGreaterEqual(engine.timings["total"], engine.timings["created res.partner"])
