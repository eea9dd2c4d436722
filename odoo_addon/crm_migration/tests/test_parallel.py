"""Parallel / chunked commit (issue #11): the chunks of a plan, run in any order within a wave, give
exactly the records, links, audit and rollback of the serial commit; a chunk refused by a
concurrent transaction is tried again without doubling records; a chunk that fails for good
leaves its records to commit again."""

import json
from unittest.mock import patch

import psycopg2.errors

from odoo.exceptions import ValidationError

from ..services import paging, parallel
from ..services.commit import CommitEngine
from .common import MigrationCase


class TestParallelCommit(MigrationCase):

    def dataset(self):
        """Tags, a company tree (same-object passes), contacts (one email twice: the second
        matches the first), a record Odoo refuses and its dependant, deals on contacts."""
        s = self.staged
        records = [self.tag("Par VIP", row=1), self.tag("Par Webinar", row=2),
                   self.company("root", "Par Root Co", row=3),
                   self.company("sub", "Par Sub Co", parent="root", row=4),
                   self.company("leaf", "Par Leaf Co", parent="sub", row=5),
                   self.company("bad", "Par Bad Co", type="bogus", row=6)]
        for i in range(14):
            company = ("root", "sub", "leaf")[i % 3]
            records.append(self.contact(str(i), f"Par Contact {i}", f"par.{i}@example.com", company=company,
                                        tags=("Par VIP",) if i % 2 else ("Par VIP", "Par Webinar"), row=10 + i,
                                        city=f"City {i}"))
        records.append(self.contact("dup", "Par Contact Dup", "PAR.3@example.com", row=30, phone="+3312345678"))
        records.append(self.contact("orphan", "Par Orphan", "par.orphan@example.com", company="bad", row=31))
        for i in range(8):
            records.append(s(f"testsrc:deal:{i}", "deal", "crm.lead",
                             {"name": f"Par Deal {i}", "type": "opportunity", "expected_revenue": 100.0 * i},
                             refs={"partner_id": f"testsrc:contact:{i}"}, row=40 + i))
        return records

    def snapshot(self, migration):
        """What the commit did, independent of ids: per key the record state and error, the link
        action, and the target's values (relations by the key of the record they point to)."""
        links = migration.link_ids
        key_of = {(link.model, link.res_id): link.key for link in links}

        def ref(model, record):
            return sorted(key_of.get((model, r.id), f"existing:{r.id}") for r in record)

        result = {}
        for record in migration.record_ids:
            result[record.key] = {"state": record.state, "error": bool(record.error_message)}
        for link in links:
            target = self.env[link.model].browse(link.res_id)
            row = {"action": link.action, "model": link.model, "before": link.values_before_json or {},
                   "after": {k: v for k, v in (link.values_after_json or {}).items()
                             if k not in ("parent_id", "category_id", "partner_id")}}
            if link.model == "res.partner":
                row.update(name=target.name, email=target.email, phone=target.phone, city=target.city,
                           is_company=target.is_company, parent=ref("res.partner", target.parent_id),
                           tags=ref("res.partner.category", target.category_id))
            elif link.model == "crm.lead":
                row.update(name=target.name, revenue=target.expected_revenue,
                           partner=ref("res.partner", target.partner_id),
                           stage=target.stage_id.id, team=target.team_id.id, type=target.type)
            else:
                row.update(name=target.display_name)
            result[link.key] = dict(result.get(link.key, {}), **row)
        audit = sorted((a.key, a.action) for a in self.env["crm.migration.audit"].search(
            [("migration_id", "=", migration.id)]))
        # the order rollback walks: the keys by link sequence
        order = [link.key for link in links.sorted(lambda link: (link.sequence, link.id))]
        return result, audit, order

    def counts(self):
        return (self.Partner.search_count([]), self.Tag.search_count([]),
                self.env["crm.lead"].with_context(active_test=False).search_count([]))

    def run_plan(self, migration, batch_size, reverse=True):
        """api_commit_plan, every chunk through api_commit_chunk (a wave's chunks last first: any
        order must do), api_commit_finish."""
        plan = migration.api_commit_plan({"batch_size": batch_size})
        for wave in plan["waves"]:
            for chunk in (reversed(wave) if reverse else wave):
                answer = migration.api_commit_chunk(chunk)
                self.assertEqual(answer["attempts"], 1)
        return plan, migration.api_commit_finish(plan)

    def test_chunks_equal_serial(self):
        baseline = self.counts()
        serial = self.new_migration("Par serial")
        serial.api_stage(self.dataset())
        serial_report = serial.api_commit({"batch_size": 4})
        expected = self.snapshot(serial)
        self.assertEqual(serial_report["counts"]["failed"], 1)  # the bogus type
        self.assertEqual(serial_report["counts"]["skipped"], 1)  # its contact
        self.assertEqual(expected[0]["testsrc:contact:dup"]["action"], "updated")  # matched on the email
        self.assertEqual(expected[0]["testsrc:contact:dup"]["before"], {"phone": False})
        after_serial = self.counts()
        serial.api_rollback({"on_conflict": "undo"})
        self.assertEqual(self.counts(), baseline)

        chunked = self.new_migration("Par chunked")
        chunked.api_stage(self.dataset())
        plan, report = self.run_plan(chunked, batch_size=4)
        self.assertGreater(max(len(wave) for wave in plan["waves"]), 1)  # something ran side by side
        self.assertEqual(plan["total"], len(self.dataset()))
        self.assertEqual(self.snapshot(chunked), expected)
        self.assertEqual(self.counts(), after_serial)
        self.assertEqual((report["counts"], report["links"], report["state"]),
                         (serial_report["counts"], serial_report["links"], serial_report["state"]))
        chunked.api_rollback({"on_conflict": "undo"})
        self.assertEqual(self.counts(), baseline)
        self.assertFalse(chunked.link_ids)
        self.assertEqual(set(chunked.record_ids.mapped("state")), {"rolled_back"})

    def test_plan_read_in_pages(self):
        """The plan reads the staged records page by page (a million of them do not fit in one
        Odoo process) and gives the same waves as one page; the staged JSON leaves the cache."""
        mig = self.new_migration("Par pages")
        mig.api_stage(self.dataset())
        with patch.object(paging, "PAGE_SIZE", 1_000_000):
            whole = CommitEngine(mig, batch_size=4).plan()
        with patch.object(paging, "PAGE_SIZE", 3), patch.object(paging, "pages", wraps=paging.pages) as pages:
            paged = CommitEngine(mig, batch_size=4).plan()
        pages.assert_called_once()
        self.assertEqual(paged["waves"], whole["waves"])
        self.assertEqual(paged["total"], len(self.dataset()))
        # dependants after what they point to: the company tree in three passes, deals last
        wave_of = {rid: n for n, wave in enumerate(paged["waves"]) for chunk in wave for rid in chunk["ids"]}
        self.assertLess(wave_of[self.record_of(mig, "testsrc:company:root").id],
                        wave_of[self.record_of(mig, "testsrc:company:sub").id])
        self.assertLess(wave_of[self.record_of(mig, "testsrc:company:sub").id],
                        wave_of[self.record_of(mig, "testsrc:company:leaf").id])
        self.assertLess(wave_of[self.record_of(mig, "testsrc:contact:3").id],
                        wave_of[self.record_of(mig, "testsrc:contact:dup").id], "same email: matched after")
        self.assertLess(wave_of[self.record_of(mig, "testsrc:contact:0").id],
                        wave_of[self.record_of(mig, "testsrc:deal:0").id])
        mig.record_ids.invalidate_recordset()
        with patch.object(paging, "PAGE_SIZE", 3):
            CommitEngine(mig, batch_size=4).plan()
        self.assertFalse([r.key for r in mig.record_ids if "values_json" in r._cache],
                         "the pages' staged values stay out of the cache")
        report = self.run_plan(mig, batch_size=4)[1]
        self.assertEqual((report["counts"]["failed"], report["counts"]["skipped"]), (1, 1))

    def test_leads_moving_scoring_run_alone(self):
        """Leads created won or lost move Odoo's lead scoring rows, which two transactions cannot
        update at once: their chunks run one at a time, after the other leads of their pass."""
        s = self.staged
        records = [s("testsrc:stage:won", "stage", "crm.stage", {"name": "Par Won", "is_won": True}, row=1),
                   s("testsrc:stage:open", "stage", "crm.stage", {"name": "Par Open", "is_won": False}, row=2)]
        for i in range(7):
            values = {"name": f"Par Lead {i}", "type": "opportunity"}
            if i == 4:
                values["active"] = False  # lost
            refs = {"stage_id": ("testsrc:stage:won", "testsrc:stage:open", "testsrc:stage:open")[i % 3]}
            if i == 6:
                refs = {}  # no stage: Odoo's default, never won
            records.append(s(f"testsrc:lead:{i}", "deal", "crm.lead", values, refs=refs, row=10 + i))
        mig = self.new_migration("Par scoring")
        mig.api_stage(records)
        key_of = {r.id: r.key for r in mig.record_ids}
        plan = mig.api_commit_plan({"batch_size": 2})
        waves = [[sorted(key_of[i] for i in chunk["ids"]) for chunk in wave]
                 for wave in plan["waves"] if wave[0]["object"] == "deal"]
        self.assertEqual(waves, [
            [["testsrc:lead:1", "testsrc:lead:2"], ["testsrc:lead:5", "testsrc:lead:6"]],  # side by side
            [["testsrc:lead:0", "testsrc:lead:3"]],  # won
            [["testsrc:lead:4"]],  # lost
        ])
        report = self.run_plan(mig, batch_size=2)[1]
        self.assertEqual(report["counts"]["committed"], 9)
        Lead = self.env["crm.lead"].with_context(active_test=False)
        won = Lead.search([("name", "in", ["Par Lead 0", "Par Lead 3"])])
        self.assertEqual([lead.stage_id.is_won for lead in won], [True, True])
        self.assertEqual(won.mapped("probability"), [100.0, 100.0])

    def test_chunks_after_an_earlier_run(self):
        """Refs to records an earlier run committed: the deals of one (committed) stage are not
        one chunk (its model is not theirs); the contacts of one (committed) company share
        chunks, and more of them than a chunk holds run as pieces one after the other."""
        s = self.staged
        mig = self.new_migration("Par resumed")
        mig.api_stage([s("testsrc:stage:open", "stage", "crm.stage", {"name": "Par Open 2", "is_won": False}),
                       self.company("big", "Par Big Co")])
        mig.api_commit({})
        later = [s(f"testsrc:lead:r{i}", "deal", "crm.lead", {"name": f"Par R Lead {i}", "type": "opportunity"},
                   refs={"stage_id": "testsrc:stage:open"}, row=10 + i) for i in range(5)]
        later += [self.contact(f"r{i}", f"Par R Contact {i}", f"par.r{i}@example.com", company="big", row=20 + i)
                  for i in range(5)]
        mig.api_stage(later)
        key_of = {r.id: r.key for r in mig.record_ids}
        plan = mig.api_commit_plan({"batch_size": 2})
        shapes = {wave[0]["object"]: [] for wave in plan["waves"]}
        for wave in plan["waves"]:
            shapes[wave[0]["object"]].append([len(chunk["ids"]) for chunk in wave])
        self.assertEqual(shapes["deal"], [[2, 2, 1]], "the deals side by side, two a chunk")
        self.assertEqual(shapes["contact"], [[2], [2], [1]], "one company's five contacts: pieces in turn")
        contact_ids = [key_of[i] for wave in plan["waves"] for chunk in wave for i in chunk["ids"]
                       if wave[0]["object"] == "contact"]
        self.assertEqual(contact_ids, [f"testsrc:contact:r{i}" for i in range(5)])
        report = self.run_plan(mig, batch_size=2)[1]
        self.assertEqual(report["counts"]["committed"], 12)
        big = self.partner("par.r0@example.com").parent_id
        self.assertEqual(big.name, "Par Big Co")
        self.assertEqual(len(big.child_ids), 5)

    def test_chunk_run_twice_is_noop(self):
        """A chunk whose transaction committed, run again (a retried job, a bridge that resent it),
        does nothing."""
        mig = self.new_migration()
        mig.api_stage(self.dataset())
        plan = mig.api_commit_plan({"batch_size": 50})
        first = plan["waves"][0][0]
        self.assertGreater(mig.api_commit_chunk(first)["done"], 0)
        before = self.counts(), len(mig.link_ids)
        self.assertEqual(mig.api_commit_chunk(first)["done"], 0)
        self.assertEqual((self.counts(), len(mig.link_ids)), before)

    def test_chunk_retried_after_concurrent_refusal(self):
        """The first try creates its records, then PostgreSQL refuses the transaction: the try is
        undone and the chunk done again: each record once."""
        baseline = self.counts()
        mig = self.new_migration()
        mig.api_stage([self.tag("Par Retry"), self.company("r", "Par Retry Co"),
                       self.contact("r1", "Par Retry 1", "par.r1@example.com", company="r", tags=("Par Retry",))])
        original = CommitEngine.commit_batch
        calls = []

        def flaky(engine, items):
            original(engine, items)
            calls.append(len(items))
            if len(calls) == 2:  # the company's chunk, once its partner was created
                raise psycopg2.errors.SerializationFailure("could not serialize access")

        retries = []
        plan = mig.api_commit_plan({"batch_size": 10})
        with patch.object(CommitEngine, "commit_batch", flaky):
            answers = [parallel.run_chunk(mig, chunk, 10, may_rollback=False,
                                          on_retry=lambda exc, n: retries.append(n))
                       for wave in plan["waves"] for chunk in wave]
        mig.api_commit_finish(plan)
        self.assertEqual(retries, [1])
        self.assertEqual([a["attempts"] for a in answers], [1, 2, 1])
        self.assertEqual(self.counts(), (baseline[0] + 2, baseline[1] + 1, baseline[2]))
        self.assertEqual(len(mig.link_ids), 3)
        self.assertEqual(len(self.env["crm.migration.audit"].search([("migration_id", "=", mig.id)])), 3)
        self.assertEqual(self.partner("par.r1@example.com").parent_id.name, "Par Retry Co")
        self.assertEqual(mig.state, "committed")

    def test_chunk_failing_for_good(self):
        """A chunk refused on every try: its records stay staged (nothing half-written), the
        migration is partial, and committing again finishes the job exactly."""
        baseline = self.counts()
        mig = self.new_migration()
        mig.api_stage([self.company("f", "Par Fail Co"),
                       self.contact("f1", "Par Fail 1", "par.f1@example.com", company="f")])
        plan = mig.api_commit_plan({"batch_size": 10})

        def refused(engine, items):
            raise psycopg2.errors.DeadlockDetected("deadlock detected")

        with patch.object(CommitEngine, "commit_batch", refused), self.assertRaises(psycopg2.errors.DeadlockDetected):
            parallel.run_chunk(mig, plan["waves"][0][0], 10, may_rollback=False, attempts=3)
        report = mig.api_commit_finish(plan)
        self.assertEqual(report["state"], "partial")
        self.assertEqual(report["counts"]["staged"], 2)
        self.assertEqual(self.counts(), baseline)
        self.assertFalse(mig.link_ids)
        report = mig.api_commit({"batch_size": 10})
        self.assertEqual((report["state"], report["counts"]["committed"]), ("committed", 2))
        self.assertEqual(self.counts()[0], baseline[0] + 2)

    def test_plan_checks(self):
        mig = self.new_migration()
        mig.api_stage([self.tag("Par Check")])
        with self.assertRaises(ValidationError):
            mig.api_commit_chunk({"ids": [], "seq": 1})
        with self.assertRaises(ValidationError):
            mig.api_commit_finish({"since": "yesterday"})
        other = self.new_migration("other")
        other.api_stage([self.tag("Par Other")])
        plan = other.api_commit_plan({})
        # another migration's records are not committed through this one
        self.assertEqual(mig.api_commit_chunk(plan["waves"][0][0])["done"], 0)
        self.assertEqual(set(other.record_ids.mapped("state")), {"staged"})
        for workers in (0, True, "2", 65):
            with self.assertRaises(ValidationError):
                mig.api_commit_plan({"workers": workers})

    def test_plan_for_workers(self):
        """A plan made for 2 workers cuts a wave of one chunk in two (no worker waits); for 1
        worker it stays whole; never below MIN_SPLIT records a chunk; the commit is the same."""
        mig = self.new_migration("Par workers")
        mig.api_stage([self.tag(f"Par W{i}", row=i) for i in range(250)])
        one = mig.api_commit_plan({"batch_size": 1000})
        self.assertEqual([len(chunk["ids"]) for wave in one["waves"] for chunk in wave], [250])
        two = mig.api_commit_plan({"batch_size": 1000, "workers": 2})
        self.assertEqual([[len(chunk["ids"]) for chunk in wave] for wave in two["waves"]], [[125, 125]])
        self.assertEqual(sorted(i for chunk in two["waves"][0] for i in chunk["ids"]), sorted(mig.record_ids.ids))
        # three workers: 83 records a chunk would be below MIN_SPLIT (100): two chunks still
        three = mig.api_commit_plan({"batch_size": 1000, "workers": 3})
        self.assertEqual([len(chunk["ids"]) for wave in three["waves"] for chunk in wave], [125, 125])
        # batches already in whole rounds are left as they are
        self.assertEqual([len(c["ids"]) for w in mig.api_commit_plan({"batch_size": 50, "workers": 5})["waves"]
                          for c in w], [50] * 5)
        for wave in two["waves"]:
            for chunk in reversed(wave):
                mig.api_commit_chunk(chunk)
        report = mig.api_commit_finish(two)
        self.assertEqual((report["state"], report["counts"]["committed"]), ("committed", 250))
        self.assertEqual(self.Tag.search_count([("name", "=like", "Par W%")]), 250)

    def test_plan_for_workers_keeps_families_whole(self):
        """Cut for 2 workers, the contacts of one company still share a chunk, even when they are
        more than the smaller chunks hold (160 of 250: a chunk of their own, not pieces run one
        after the other)."""
        mig = self.new_migration("Par families")
        records = [self.company("big", "Par Big Co", row=1), self.company("small", "Par Small Co", row=2)]
        records += [self.contact(f"b{i}", f"Par B{i}", f"par.b{i}@example.com", company="big", row=10 + i)
                    for i in range(160)]
        records += [self.contact(f"s{i}", f"Par S{i}", f"par.s{i}@example.com", company="small", row=200 + i)
                    for i in range(90)]
        mig.api_stage(records)
        plan = mig.api_commit_plan({"batch_size": 1000, "workers": 2})
        contact_waves = [w for w in plan["waves"] if w[0]["object"] == "contact"]
        self.assertEqual([sorted(len(c["ids"]) for c in w) for w in contact_waves], [[90, 160]])

    def test_batches_keep_their_order(self):
        """Two staging calls of one upload may run at the same time (the bridge sends two at a
        time): the commit takes the records in the order of the calls' numbers, not of their
        arrival. Contact "dup" (batch 2) shares an email with contact 3 (batch 1): staged in
        order, the second one matches the first; batch 2 arriving first changes nothing."""
        records = self.dataset()
        first, second = records[:10], records[10:]
        self.assertIn("testsrc:contact:3", [r["key"] for r in first])
        self.assertIn("testsrc:contact:dup", [r["key"] for r in second])
        baseline = self.counts()
        in_order = self.new_migration("Par in order")
        in_order.api_stage(first, 1)
        in_order.api_stage(second, 2)
        in_order.api_commit({"batch_size": 4})
        expected = self.snapshot(in_order)
        self.assertEqual(expected[0]["testsrc:contact:dup"]["action"], "updated")
        in_order.api_rollback({"on_conflict": "undo"})
        self.assertEqual(self.counts(), baseline)

        reversed_ = self.new_migration("Par second batch first")
        reversed_.api_stage_json(json.dumps(second), 2)
        reversed_.api_stage_json(json.dumps(first), 1)
        self.assertEqual(set(reversed_.record_ids.filtered(lambda r: r.key in {x["key"] for x in first})
                             .mapped("stage_batch")), {1})
        self.assertLess(min(reversed_.record_ids.filtered(lambda r: r.stage_batch == 2).ids),
                        min(reversed_.record_ids.filtered(lambda r: r.stage_batch == 1).ids))
        _plan, _report = self.run_plan(reversed_, batch_size=4)
        self.assertEqual(self.snapshot(reversed_), expected)
        reversed_.api_rollback({"on_conflict": "undo"})

        # without numbers, arrival decides: the test above could fail
        unnumbered = self.new_migration("Par unnumbered")
        unnumbered.api_stage(second)
        unnumbered.api_stage(first)
        unnumbered.api_commit({"batch_size": 4})
        self.assertEqual(self.snapshot(unnumbered)[0]["testsrc:contact:dup"]["action"], "created")
        unnumbered.api_rollback({"on_conflict": "undo"})
        self.assertEqual(self.counts(), baseline)

    def test_stage_batch_checked(self):
        mig = self.new_migration("Par batch checks")
        for batch in (-1, True, 1.5, "2", 2**31):
            with self.assertRaises(ValidationError):
                mig.api_stage([self.tag("Par B")], batch)
        # the context is the caller's too: checked again there
        with self.assertRaises(ValidationError):
            mig.with_context(crm_migration_stage_batch="x")._stage_records([self.tag("Par B")])
        self.assertFalse(mig.record_ids)
        mig.api_stage([self.tag("Par B")], 7)
        self.assertEqual(mig.record_ids.stage_batch, 7)
