from odoo.tests import tagged

from .common import MigrationCase


@tagged("post_install", "-at_install")
class TestMatching(MigrationCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.vip = cls.Tag.create({"name": "Mig Existing VIP"})
        cls.ada = cls.Partner.create({"name": "Ada Existing", "email": "ada.match@example.com"})

    def test_match_fill_empty_and_rollback(self):
        partners_before = self.Partner.search_count([])
        tags_before = self.Tag.search_count([])
        mig = self.new_migration()
        mig.api_stage([
            self.contact("ada", "Ada Lovelace", "ADA.Match@Example.com", tags=["Mig Existing VIP", "Mig New Tag"],
                         phone="+44 20 7946 0000"),
            self.tag("Mig Existing VIP"),
            self.tag("Mig New Tag"),
        ])
        report = mig.api_commit()

        # the partner is matched (email, other case), not duplicated
        self.assertEqual(self.Partner.search_count([]), partners_before)
        self.assertEqual(len(self.partner("ada.match@example.com")), 1)
        self.assertEqual(self.ada.phone, "+44 20 7946 0000")  # empty -> filled
        self.assertEqual(self.ada.name, "Ada Existing")  # non-empty -> untouched
        self.assertEqual(self.ada.email, "ada.match@example.com")
        new_tag = self.Tag.search([("name", "=", "Mig New Tag")])
        self.assertEqual(len(new_tag), 1)
        self.assertEqual(self.ada.category_id, self.vip | new_tag)
        self.assertEqual(self.Tag.search_count([]), tags_before + 1)

        ada_link = self.link_of(mig, "testsrc:contact:ada")
        self.assertEqual((ada_link.action, ada_link.res_id), ("updated", self.ada.id))
        self.assertEqual(ada_link.values_before_json, {"phone": False, "category_id": []})
        vip_link = self.link_of(mig, "testsrc:tag:mig existing vip")
        self.assertEqual((vip_link.action, vip_link.res_id), ("matched", self.vip.id))
        self.assertEqual(self.link_of(mig, "testsrc:tag:mig new tag").action, "created")
        self.assertEqual(self.record_of(mig, "testsrc:contact:ada").state, "matched")
        self.assertEqual(report["links"], {"created": 1, "matched": 1, "updated": 1})
        self.assertEqual(report["counts"]["matched"], 2)
        self.assertEqual(report["counts"]["committed"], 1)

        report = mig.api_rollback()
        self.assertEqual(report["state"], "rolled_back")
        self.assertTrue(self.ada.exists())
        self.assertTrue(self.vip.exists())
        self.assertFalse(new_tag.exists())
        self.assertFalse(self.ada.phone)
        self.assertEqual(self.ada.name, "Ada Existing")
        self.assertFalse(self.ada.category_id)
        self.assertEqual(self.Partner.search_count([]), partners_before)
        self.assertEqual(self.Tag.search_count([]), tags_before)

    def test_matched_nothing_to_write(self):
        mig = self.new_migration()
        mig.api_stage([self.contact("ada2", "Someone Else", "ada.match@example.com")])
        mig.api_commit()
        link = self.link_of(mig, "testsrc:contact:ada2")
        self.assertEqual((link.action, link.res_id), ("matched", self.ada.id))
        self.assertEqual(self.ada.name, "Ada Existing")

    def test_ambiguous_match_creates(self):
        self.Partner.create([
            {"name": "Twin One", "email": "twin@example.com"},
            {"name": "Twin Two", "email": "TWIN@example.com"},
        ])
        mig = self.new_migration()
        mig.api_stage([self.contact("twin", "Twin Three", "twin@example.com")])
        mig.api_commit()
        self.assertEqual(len(self.partner("twin@example.com")), 3)
        rec = self.record_of(mig, "testsrc:contact:twin")
        self.assertEqual(rec.state, "committed")
        self.assertEqual(self.link_of(mig, rec.key).action, "created")
        self.assertTrue(any("2 existing" in i["message"] for i in rec.issues_json))

    def test_email_with_like_wildcards_is_exact(self):
        """'_' in an email is not a LIKE wildcard."""
        other = self.Partner.create({"name": "Wild", "email": "aXb@example.com"})
        mig = self.new_migration()
        mig.api_stage([self.contact("wild", "Wild Card", "a_b@example.com")])
        mig.api_commit()
        self.assertEqual(self.link_of(mig, "testsrc:contact:wild").action, "created")
        self.assertEqual(other.name, "Wild")
        self.assertEqual(len(self.Partner.search([("email", "=", "a_b@example.com")])), 1)

    def test_batch_matches_case_insensitive_and_rules(self):
        """One batch, several records per rule: each finds its own partner (emails in any case,
        trimmed), a multi-field rule checks every field, archived partners are never matched."""
        bea, cid = self.Partner.create([
            {"name": "Bea Batch", "email": "Bea.Batch@Example.com"},
            {"name": "Cid Batch", "email": "cid.batch@example.com"},
        ])
        person = self.Partner.create({"name": "Mig Batch Acme", "is_company": False})
        acme = self.Partner.create({"name": "MIG BATCH ACME", "is_company": True})
        archived = self.Partner.create({"name": "Old Batch", "email": "old.batch@example.com", "active": False})
        mig = self.new_migration()
        mig.api_stage([
            self.contact("bea", "B", " bea.batch@EXAMPLE.com "),
            self.contact("cid", "C", "CID.BATCH@example.com"),
            self.contact("old", "Old Batch New", "old.batch@example.com"),
            # rule [name, is_company]: text other than email is exact (other case -> created), and
            # only the company of that name matches, not the person
            self.staged("testsrc:company:acme-lower", "company", "res.partner",
                        {"name": "mig batch acme", "is_company": True}, match=[["name", "is_company"]]),
            self.staged("testsrc:company:acme", "company", "res.partner",
                        {"name": "MIG BATCH ACME", "is_company": True}, match=[["name", "is_company"]]),
        ])
        report = mig.api_commit({"batch_size": 1000})
        self.assertEqual(self.link_of(mig, "testsrc:contact:bea").res_id, bea.id)
        self.assertEqual(self.link_of(mig, "testsrc:contact:cid").res_id, cid.id)
        self.assertEqual(self.link_of(mig, "testsrc:company:acme").res_id, acme.id)
        self.assertEqual(self.link_of(mig, "testsrc:company:acme").action, "matched")
        for key in ("testsrc:contact:old", "testsrc:company:acme-lower"):
            link = self.link_of(mig, key)
            self.assertEqual(link.action, "created")
            self.assertNotIn(link.res_id, (archived.id, person.id, acme.id))
        self.assertEqual(report["counts"]["matched"], 3)
        self.assertEqual(report["counts"]["committed"], 2)

    def test_ambiguous_match_in_batch_with_other_records(self):
        """A rule with several hits warns (issue flags follow) while other records of the batch match."""
        self.Partner.create([
            {"name": "Dup One", "email": "dup.batch@example.com"},
            {"name": "Dup Two", "email": "Dup.Batch@example.com"},
        ])
        mig = self.new_migration()
        mig.api_stage([
            self.contact("dup", "Dup Three", "dup.batch@example.com"),
            self.contact("ada3", "Ada Again", "ada.match@example.com"),
        ])
        dup = self.record_of(mig, "testsrc:contact:dup")
        self.assertEqual((dup.issue_count, dup.has_warning), (0, False))
        mig.api_commit()
        self.assertEqual(dup.state, "committed")
        self.assertEqual((dup.issue_count, dup.has_warning, dup.has_error_issue), (1, True, False))
        self.assertIn("2 existing", dup.issues_json[0]["message"])
        self.assertEqual(self.link_of(mig, "testsrc:contact:ada3").res_id, self.ada.id)
        # committing again does not repeat the warning
        dup.write({"state": "failed"})
        mig.api_commit()
        self.assertEqual(dup.issue_count, 1)
