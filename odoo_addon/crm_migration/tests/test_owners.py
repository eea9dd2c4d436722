from odoo.exceptions import UserError, ValidationError
from odoo.tests import new_test_user, tagged

from .common import MigrationCase


@tagged("post_install", "-at_install")
class TestOwners(MigrationCase):
    """Required owner lookups: records wait, owners are queued, reconciled, committed."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Lead = cls.env["crm.lead"].with_context(active_test=False)
        cls.Owner = cls.env["crm.migration.owner"]

    def deal(self, key, name, owner):
        return self.staged(f"testsrc:deal:{key}", "deal", "crm.lead", {"name": name},
                           lookups={"user_id": {"model": "res.users", "field": "login", "value": owner,
                                                "alt_fields": ["email"], "required": True}})

    def lead(self, name):
        return self.Lead.search([("name", "=", name)])

    def test_waiting_then_resolved(self):
        mig = self.new_migration()
        mig.api_stage([self.deal("1", "Mig Owned Deal", "Owner.Mig@Example.com"),
                       self.deal("2", "Mig Owned Deal 2", "owner.mig@example.com")])
        report = mig.api_commit()
        rec = self.record_of(mig, "testsrc:deal:1")
        self.assertEqual(rec.state, "waiting")
        self.assertIn("owner.mig@example.com", rec.error_message.lower())
        self.assertFalse(self.lead("Mig Owned Deal"))
        self.assertEqual(report["state"], "partial")
        self.assertEqual(mig.state, "partial")
        self.assertEqual(report["counts"]["waiting"], 2)
        self.assertEqual(mig.waiting_count, 2)
        self.assertEqual(mig.api_owners(), [
            {"value": "owner.mig@example.com", "user_id": False, "state": "pending", "record_count": 2},
        ])
        # committing again without reconciling changes nothing
        self.assertEqual(mig.api_commit()["counts"]["waiting"], 2)
        self.assertEqual(len(self.Owner.search([("migration_id", "=", mig.id)])), 1)

        # the admin creates the user (another login and email), resolves the owner, commits again
        user = new_test_user(self.env, login="mig.jane", email="jane.mig@example.com", groups="base.group_user")
        with self.assertRaises(ValidationError):
            mig.api_resolve_owner("nobody@example.com", user.id)
        entry = mig.api_resolve_owner("OWNER.mig@example.com", user.id)
        self.assertEqual(entry, {"value": "owner.mig@example.com", "user_id": user.id, "state": "resolved",
                                 "record_count": 2})
        report = mig.api_commit()
        self.assertEqual(report["state"], "committed")
        self.assertEqual(report["counts"]["committed"], 2)
        self.assertEqual(report["counts"]["waiting"], 0)
        self.assertEqual(self.lead("Mig Owned Deal").user_id, user)
        self.assertEqual(self.lead("Mig Owned Deal 2").user_id, user)
        self.assertFalse(rec.error_message)
        self.assertEqual(mig.api_owners()[0]["record_count"], 0)

    def test_lookup_finds_user_created_later_and_proposal(self):
        mig = self.new_migration()
        mig.api_stage([self.deal("a", "Mig Deal A", "anna.mig@example.com"),
                       self.deal("b", "Mig Deal B", "bob.mig@example.com")])
        mig.api_commit()
        anna_row, bob_row = self.Owner.search([("migration_id", "=", mig.id)], order="value")
        self.assertEqual((anna_row.state, anna_row.user_id.id), ("pending", False))
        # Bob gets a user whose email (not login) is the value: "Find user" proposes it, still pending
        bob = new_test_user(self.env, login="bob.mig", email="Bob.Mig@example.com", groups="base.group_user")
        bob_row.action_propose_user()
        self.assertEqual((bob_row.user_id, bob_row.state), (bob, "pending"))
        # Anna gets a user whose login is the value: the next commit finds her by the lookup itself
        anna = new_test_user(self.env, login="anna.mig@example.com", groups="base.group_user")
        report = mig.api_commit()
        self.assertEqual(self.lead("Mig Deal A").user_id, anna)
        self.assertEqual((anna_row.user_id, anna_row.state), (anna, "resolved"))
        # Bob was found by the alt field (email) as well
        self.assertEqual(self.lead("Mig Deal B").user_id, bob)
        self.assertEqual(report["state"], "committed")

    def test_fallback_user(self):
        fallback = new_test_user(self.env, login="mig.fallback", groups="base.group_user")
        mig = self.new_migration()
        mig.api_stage([self.deal("x", "Mig Deal X", "x.mig@example.com"),
                       self.deal("y", "Mig Deal Y", "y.mig@example.com")])
        self.assertEqual(mig.api_commit()["counts"]["waiting"], 2)
        owners = mig.api_set_fallback_user(fallback.id)
        self.assertEqual([(o["value"], o["user_id"], o["state"]) for o in owners], [
            ("x.mig@example.com", fallback.id, "resolved"),
            ("y.mig@example.com", fallback.id, "resolved"),
        ])
        self.assertEqual(mig.fallback_user_id, fallback)
        report = mig.api_commit()
        self.assertEqual((report["state"], report["counts"]["committed"]), ("committed", 2))
        self.assertEqual(self.lead("Mig Deal X").user_id, fallback)
        # with the fallback already set, a new unknown owner does not wait: resolved to the fallback
        mig2 = self.new_migration()
        mig2.api_set_fallback_user(fallback.id)
        mig2.api_stage([self.deal("z", "Mig Deal Z", "z.mig@example.com")])
        report = mig2.api_commit()
        self.assertEqual(report["counts"]["committed"], 1)
        self.assertEqual(self.lead("Mig Deal Z").user_id, fallback)
        self.assertEqual(mig2.api_owners(), [
            {"value": "z.mig@example.com", "user_id": fallback.id, "state": "resolved", "record_count": 0},
        ])
        self.assertTrue(self.record_of(mig2, "testsrc:deal:z").has_warning)
        # rollback removes the leads; owners stay as the migration's history
        mig2.api_rollback()
        self.assertFalse(self.lead("Mig Deal Z"))

    def test_rollback_drops_pending_owners(self):
        mig = self.new_migration()
        mig.api_stage([self.deal("p", "Mig Deal P", "p.mig@example.com"), self.tag("Mig Owner Tag")])
        mig.api_commit()
        self.assertEqual(len(mig.api_owners()), 1)
        report = mig.api_rollback()
        self.assertEqual(report["state"], "rolled_back")
        self.assertEqual(report["counts"]["rolled_back"], 2)
        self.assertEqual(mig.api_owners(), [])

    def test_required_only_for_users(self):
        mig = self.new_migration()
        bad = self.contact("c", "Mig Req Country", "req.owner@example.com",
                           lookups={"country_id": {"model": "res.country", "field": "code", "value": "ZZ",
                                                   "required": True}})
        with self.assertRaisesRegex(ValidationError, "required"):
            mig.api_stage([bad])

    def test_owners_queued_when_staging_finishes(self):
        """Unknown owners are queued as soon as staging is done (reconcile before the sample);
        an owner that is the login of one user is not queued; the commit reuses the rows."""
        new_test_user(self.env, login="known.mig@example.com", groups="base.group_user")
        jane = new_test_user(self.env, login="jane.mig", email="jane.stage@example.com", groups="base.group_user")
        mig = self.new_migration()
        mig.api_stage([self.deal("k", "Mig Known Deal", "Known.Mig@example.com"),
                       self.deal("u", "Mig Unknown Deal", "nobody.stage@example.com"),
                       self.deal("e", "Mig Email Deal", "jane.stage@example.com")])
        self.assertFalse(mig.owner_ids, "nothing queued while records are still arriving")
        mig.api_finish_staging()
        self.assertEqual(sorted((o.value, o.state, o.user_id) for o in mig.owner_ids), [
            ("jane.stage@example.com", "pending", jane),   # proposed by email, the admin confirms
            ("nobody.stage@example.com", "pending", self.env["res.users"]),
        ])
        mig.api_finish_staging()
        self.assertEqual(len(mig.owner_ids), 2, "finishing again queues nothing twice")
        mig.owner_ids.filtered(lambda o: o.value == "nobody.stage@example.com").write({"user_id": jane.id})
        report = mig.api_commit()
        self.assertEqual(report["counts"]["waiting"], 0)
        self.assertEqual(report["counts"]["committed"], 3)
        self.assertEqual(self.lead("Mig Unknown Deal").user_id, jane, "the owner the admin picked")
        self.assertEqual(self.lead("Mig Email Deal").user_id, jane, "found by the lookup's alt field (email)")
        self.assertEqual(len(mig.owner_ids), 2, "the commit reused the queued rows")
        self.assertEqual(set(mig.owner_ids.mapped("state")), {"resolved"})

    def test_invite_user(self):
        """Invite as user: a new internal user with the owner's email as login, the owner resolved
        to it, the waiting records committed with it."""
        mig = self.new_migration()
        mig.api_stage([self.deal("inv", "Mig Invited Deal", "mary.ann-smith@example.com")])
        mig.api_finish_staging()
        owner = mig.owner_ids
        owner.action_invite_user()
        user = self.env["res.users"].search([("login", "=", "mary.ann-smith@example.com")])
        self.assertEqual((user.name, user.email), ("Mary Ann Smith", "mary.ann-smith@example.com"))
        self.assertTrue(user._is_internal())
        self.assertEqual((owner.user_id, owner.state), (user, "resolved"))
        mig.api_commit()
        self.assertEqual(self.lead("Mig Invited Deal").user_id, user)
        not_email = self.Owner.create({"migration_id": mig.id, "value": "Bob from sales"})
        with self.assertRaisesRegex(UserError, "not an email"):
            not_email.action_invite_user()

    def test_commit_job_path_waiting_is_partial(self):
        """The UI's commit (the job, through ``_commit``) ends partial while records wait for their
        owner, so the admin can commit again once it is reconciled; a sample stays sampled."""
        mig = self.new_migration()
        mig.api_stage([self.deal("j1", "Mig Job Deal", "nobody.job@example.com"),
                       self.deal("j2", "Mig Job Deal 2", "nobody.job@example.com")])
        mig.api_finish_staging()
        mig._commit(sample=1)
        self.assertEqual(mig.state, "sampled")
        mig._commit()
        self.assertEqual(mig.state, "partial")
        self.assertEqual(mig.waiting_count, 2)
