import base64
import hashlib
from contextlib import contextmanager
from datetime import datetime, timedelta
from unittest.mock import patch

from odoo.exceptions import UserError, ValidationError
from odoo.tests import tagged

from ..services.attached import diff_rows
from .common import MigrationCase

ADA = "testsrc:contact:ada"


@tagged("post_install", "-at_install")
class TestAttached(MigrationCase):
    """Attached records: messages, activities and files on migrated records (docs/staging-contract.md,
    "Attached records")."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.admin = cls.env.ref("base.user_admin")
        cls.author = cls.Partner.create({"name": "Sales Rep", "email": "rep.att@example.com"})

    # ------------------------------------------------------------------ helpers
    def note(self, n, date, body, author_email=None, parent=ADA, **values):
        author = {"model": "res.partner", "field": "email", "value": author_email}
        lookups = {"author_id": author} if author_email else {}
        rec = self.staged(f"testsrc:note:{n}", "note", "mail.message",
                          dict({"message_type": "comment", "body": body, "date": date}, **values), lookups=lookups)
        rec["attach_to"] = parent
        return rec

    def activity(self, n, deadline, summary, done=None, user_login=None):
        values = {"summary": summary, "date_deadline": deadline}
        if done:
            values.update(active=False, date_done=done)
        lookups = {"activity_type_id": {"model": "mail.activity.type", "field": "name", "value": "To-Do"}}
        if user_login:
            lookups["user_id"] = {"model": "res.users", "field": "login", "value": user_login}
        rec = self.staged(f"testsrc:task:{n}", "task", "mail.activity", values, lookups=lookups)
        rec["attach_to"] = ADA
        return rec

    def file(self, n, data, sha1=None, name="contract.pdf"):
        rec = self.staged(f"testsrc:file:{n}", "file", "ir.attachment", {"name": name, "mimetype": "application/pdf"})
        rec["attach_to"] = ADA
        rec["blob"] = {"sha1": sha1 or hashlib.sha1(data).hexdigest(), "size": len(data)}
        return rec

    def upload(self, mig, key, data, chunk=7):
        answer = None
        for offset in range(0, max(len(data), 1), chunk):
            answer = mig.api_stage_blob(key, offset, base64.b64encode(data[offset:offset + chunk]).decode())
        return answer

    def ada(self):
        return self.contact("ada", "Ada Attached", "ada.att@example.com")

    def counts(self):
        return {
            model: self.env[model].sudo().with_context(active_test=False).search_count([])
            for model in ("mail.message", "mail.activity", "ir.attachment", "mail.mail", "mail.notification",
                          "mail.followers", "res.partner")
        } | {"bus (queued)": len(self.env.cr.precommit.data.get("bus.bus.values", []))}

    @contextmanager
    def later(self):
        later = self.env.cr.now() + timedelta(hours=1)
        with patch.object(type(self.env.cr), "now", lambda cr: later):
            yield
        self.env.flush_all()

    # ------------------------------------------------------------------ staging rules
    def test_staging_allowlist(self):
        mig = self.new_migration()
        bad = self.note(1, "2021-03-04 10:11:12", "<p>x</p>")
        bad["values"]["res_id"] = 1
        with self.assertRaisesRegex(ValidationError, "not accepted on attached mail.message"):
            mig.api_stage([self.ada(), bad])
        no_parent = self.note(1, "2021-03-04 10:11:12", "<p>x</p>")
        del no_parent["attach_to"]
        with self.assertRaisesRegex(ValidationError, "attach_to"):
            mig.api_stage([no_parent])
        on_other = self.ada()
        on_other["attach_to"] = "testsrc:contact:x"
        with self.assertRaisesRegex(ValidationError, "only accepted on records of the models"):
            mig.api_stage([on_other])
        wrong_type = self.note(1, "2021-03-04 10:11:12", "<p>x</p>", message_type="user_notification")
        with self.assertRaisesRegex(ValidationError, "message_type"):
            mig.api_stage([wrong_type])
        no_blob = self.file(1, b"abc")
        del no_blob["blob"]
        with self.assertRaisesRegex(ValidationError, "blob"):
            mig.api_stage([no_blob])
        bad_blob = self.file(1, b"abc", sha1="XYZ")
        with self.assertRaisesRegex(ValidationError, "blob"):
            mig.api_stage([bad_blob])
        self.assertFalse(mig.record_ids, "a refused call stages nothing")

    def test_parent_outside_migration_models_is_skipped(self):
        """A key linked to a user (a model this migration does not stage) is no parent."""
        # users are no target model (services/guard.py): a link an earlier version made
        other = self.new_migration("users")
        user = self.env["res.users"].create({"name": "U X", "login": "ux.att"})
        self.env["crm.migration.link"].sudo().create({"migration_id": other.id, "key": "testsrc:user:x",
                                                      "model": "res.users", "res_id": user.id, "action": "matched"})
        mig = self.new_migration()
        mig.api_stage([self.ada(), self.note(1, "2021-03-04 10:11:12", "<p>on a user</p>", parent="testsrc:user:x")])
        mig.api_commit()
        note = self.record_of(mig, "testsrc:note:1")
        self.assertEqual(note.state, "skipped")
        self.assertIn("res.users", note.error_message)
        missing = self.new_migration("missing parent")
        missing.api_stage([self.note(2, "2021-03-04 10:11:12", "<p>x</p>", parent="testsrc:contact:nobody")])
        missing.api_commit()
        self.assertEqual(self.record_of(missing, "testsrc:note:2").state, "skipped")

    # ------------------------------------------------------------------ messages
    def test_messages_date_author_order_quiet(self):
        before = self.counts()
        mig = self.new_migration()
        # staged newest first: the commit creates them oldest first
        mig.api_stage([
            self.ada(),
            self.note(3, "2022-01-05 09:00:03", "<p>third</p>"),
            self.note(1, "2020-06-01 08:30:15", "<p>first</p>", author_email="rep.att@example.com"),
            self.note(2, "2021-12-31 23:59:59", "<p>second</p>", message_type="email", subject="Re: offer",
                      email_from="Ada <ada.att@example.com>"),
        ])
        report = mig.api_commit()
        self.assertEqual(report["objects"]["note"]["committed"], 3, report)
        ada = self.partner("ada.att@example.com")
        messages = self.env["mail.message"].search([("model", "=", "res.partner"), ("res_id", "=", ada.id)], order="id")
        self.assertEqual([m.date for m in messages], [datetime(2020, 6, 1, 8, 30, 15),
                                                      datetime(2021, 12, 31, 23, 59, 59),
                                                      datetime(2022, 1, 5, 9, 0, 3)])
        self.assertEqual([m.body for m in messages], ["<p>first</p>", "<p>second</p>", "<p>third</p>"])
        self.assertEqual(messages[0].author_id, self.author)
        self.assertEqual(messages[1].subject, "Re: offer")
        self.assertEqual(messages[1].message_type, "email")
        self.assertEqual(messages[0].subtype_id, self.env.ref("mail.mt_note"))
        imported = messages[2].author_id
        self.assertEqual(imported.name, "Imported from testsrc")
        self.assertEqual(messages[1].author_id, imported)
        after = self.counts()
        self.assertEqual(after["mail.message"], before["mail.message"] + 3, "only the three imported messages")
        for model in ("mail.mail", "mail.notification", "mail.followers", "bus (queued)"):
            self.assertEqual(after[model], before[model], f"no {model} created")
        # rollback removes exactly what the commit made (messages, Ada, the imported-from author)
        mig.api_rollback()
        self.assertEqual(self.counts(), before)
        self.assertFalse(imported.exists())

    # ------------------------------------------------------------------ activities
    def test_activities_scheduled_and_done(self):
        before = self.counts()
        mig = self.new_migration()
        mig.api_stage([
            self.ada(),
            self.activity(1, "2030-01-15", "Call back", user_login=self.admin.login),
            self.activity(2, "2020-02-01", "Send offer", done="2020-02-03", user_login=self.admin.login),
        ])
        mig.api_commit()
        ada = self.partner("ada.att@example.com")
        Activity = self.env["mail.activity"].with_context(active_test=False)
        acts = Activity.search([("res_model", "=", "res.partner"), ("res_id", "=", ada.id)], order="id")
        self.assertEqual(acts.mapped("summary"), ["Call back", "Send offer"])
        scheduled, done = acts
        self.assertTrue(scheduled.active)
        self.assertEqual(scheduled.state, "planned")
        self.assertEqual(str(scheduled.date_deadline), "2030-01-15")
        self.assertEqual(scheduled.user_id, self.admin)
        self.assertEqual(scheduled.activity_type_id, self.env.ref("mail.mail_activity_data_todo"))
        self.assertFalse(done.active)
        self.assertEqual(done.state, "done")
        self.assertEqual(str(done.date_done), "2020-02-03")
        after = self.counts()
        for model in ("mail.mail", "mail.notification", "mail.followers", "bus (queued)", "mail.message"):
            self.assertEqual(after[model], before[model], f"no {model} created")
        mig.api_rollback()
        self.assertFalse(acts.exists())
        after = self.counts()
        # (removing an activity refreshes its assignee's activity counter through the bus)
        del after["bus (queued)"], before["bus (queued)"]
        self.assertEqual(after, before)

    # ------------------------------------------------------------------ files
    def test_attachment_bytes_and_checksum(self):
        before = self.counts()
        good = bytes(range(256)) * 3 + b"end"
        mig = self.new_migration()
        mig.api_stage([self.ada(), self.file(1, good),
                       self.file(2, b"tampered", sha1=hashlib.sha1(b"other!!!").hexdigest()),
                       self.file(3, b"never sent")])
        answer = self.upload(mig, "testsrc:file:1", good, chunk=100)
        self.assertEqual(answer, {"key": "testsrc:file:1", "received": len(good), "size": len(good), "complete": True})
        self.upload(mig, "testsrc:file:2", b"tampered")
        with self.assertRaisesRegex(ValidationError, "offset"):
            mig.api_stage_blob("testsrc:file:3", 5, base64.b64encode(b"x").decode())
        with self.assertRaisesRegex(ValidationError, "exceed"):
            mig.api_stage_blob("testsrc:file:3", 0, base64.b64encode(b"far too many bytes").decode())
        with self.assertRaisesRegex(ValidationError, "not a staged ir.attachment"):
            mig.api_stage_blob(ADA, 0, "")
        report = mig.api_commit()
        ada = self.partner("ada.att@example.com")
        one = self.record_of(mig, "testsrc:file:1")
        self.assertEqual(one.state, "committed")
        attachment = self.env["ir.attachment"].browse(one.res_id)
        self.assertEqual((attachment.res_model, attachment.res_id), ("res.partner", ada.id))
        self.assertEqual(attachment.raw, good)
        self.assertEqual(attachment.checksum, hashlib.sha1(good).hexdigest())
        self.assertEqual(attachment.name, "contract.pdf")
        failed = {f["key"]: f["error"] for f in report["failed"]}
        self.assertIn("checksum mismatch", failed["testsrc:file:2"])
        self.assertIn("testsrc:file:2", failed["testsrc:file:2"])
        self.assertIn("of 10 bytes uploaded", failed["testsrc:file:3"])
        self.assertEqual(report["state"], "partial")
        on_ada = [("res_model", "=", "res.partner"), ("res_id", "=", ada.id)]
        self.assertEqual(self.env["ir.attachment"].search_count(on_ada), 1, "a failed file leaves no attachment")
        # committed bytes can no longer change
        with self.assertRaises(UserError):
            mig.api_stage_blob("testsrc:file:1", 0, base64.b64encode(b"x").decode())
        # sample-diff-style rows of attached records
        rows = {r["field"]: r for r in diff_rows(self.env, one)}
        self.assertTrue(rows["attach_to"]["match"], rows)
        self.assertEqual(rows["checksum"]["actual"], hashlib.sha1(good).hexdigest())
        mig.api_rollback()
        self.assertFalse(attachment.exists())
        self.assertEqual(self.counts(), before)

    # ------------------------------------------------------------------ conflicts
    def test_later_reply_is_conflict(self):
        mig = self.new_migration()
        mig.api_stage([self.ada(), self.note(1, "2020-06-01 08:30:15", "<p>history</p>")])
        mig.api_commit()
        self.assertEqual(mig.api_rollback_conflicts(), [], "the migration's own messages are no conflict")
        ada = self.partner("ada.att@example.com")
        with self.later():
            ada.with_user(self.admin).message_post(body="A reply written in Odoo", message_type="comment",
                                                   subtype_xmlid="mail.mt_note")
        conflicts = mig.api_rollback_conflicts()
        self.assertEqual([(c["key"], c["kind"]) for c in conflicts], [(ADA, "referenced")])
        self.assertIn("mail.message", conflicts[0]["detail"])
        with self.assertRaises(UserError):
            mig.api_rollback()
        report = mig.api_rollback({"on_conflict": "keep"})
        self.assertEqual(report["state"], "rolled_back")
        self.assertTrue(ada.exists(), "the record with a later reply is kept")
        messages = self.env["mail.message"].search([("model", "=", "res.partner"), ("res_id", "=", ada.id)])
        bodies = messages.mapped("body")
        self.assertNotIn("<p>history</p>", bodies, "the imported history is removed")
        self.assertIn("<p>A reply written in Odoo</p>", bodies)

    def test_sample_takes_parent_and_diffs(self):
        mig = self.new_migration()
        mig.api_stage([self.ada(), self.contact("bob", "Bob Att", "bob.att@example.com"),
                       self.note(1, "2020-06-01 08:30:15", "<p>history</p>")])
        mig.api_commit({"sample": 2})
        sampled = mig.record_ids.filtered("sampled").mapped("key")
        self.assertIn("testsrc:note:1", sampled)
        self.assertIn(ADA, sampled, "the parent comes with its note")
        rows = {(r["key"], r["field"]): r for r in mig.api_sample_diff()}
        self.assertEqual(rows[("testsrc:note:1", "attach_to")]["actual"], "res.partner: Ada Attached")
        self.assertTrue(rows[("testsrc:note:1", "attach_to")]["match"])
        self.assertEqual(rows[("testsrc:note:1", "date")]["actual"], "2020-06-01 08:30:15")
        self.assertTrue(rows[("testsrc:note:1", "body")]["match"], rows[("testsrc:note:1", "body")])
        author = self.Partner.search([("name", "=", "Imported from testsrc")])
        self.assertEqual(len(author), 1)
        mig.api_sample_rollback()
        self.assertFalse(author.exists(), "rolling the sample back removes the author it created")
        self.assertEqual(self.record_of(mig, "testsrc:note:1").state, "staged")
        mig.api_commit()
        self.assertEqual(self.record_of(mig, "testsrc:note:1").state, "committed")
        self.assertTrue(self.Partner.search([("name", "=", "Imported from testsrc")]))
