"""The commit job as queue_job jobs gives exactly the records, links and rollback of the serial
commit; a chunk job refused by concurrent transactions is retried by queue_job without doubling
records; a stopped job's chunks do nothing."""

from unittest.mock import patch

import psycopg2.errors

from odoo.addons.crm_migration.services.commit import CommitEngine
from odoo.addons.crm_migration.tests import test_parallel
from odoo.addons.queue_job.exception import RetryableJobError
from odoo.addons.queue_job.tests.common import trap_jobs


def perform_all(trap):
    """Every job queue_job would run, until none is left: a wave's chunks (last first: any order
    must do) before the job that depends on them."""
    performed = 0
    while trap.enqueued_jobs:
        jobs, trap.enqueued_jobs = trap.enqueued_jobs, []
        chunks = [j for j in jobs if j.method_name == "_queue_commit_chunk"]
        for job in list(reversed(chunks)) + [j for j in jobs if j not in chunks]:
            job.perform()
            performed += 1
    return performed


class TestQueueCommit(test_parallel.TestParallelCommit):
    """Reuses the parallel tests' dataset and snapshot (the parallel tests run again here too,
    with queue_job installed)."""

    def queue_commit(self, migration, trap):
        """What the Commit button does, then every job queue_job would run (the chunks of a wave
        last first), until none is left."""
        migration.action_commit()
        migration._run_job(commit=False)
        self.assertEqual(migration.job_state, "running")
        self.assertIn("waves on queue_job", migration.commit_queue_info)  # the form's progress line
        return perform_all(trap)

    def test_queued_commit_equals_serial(self):
        baseline = self.counts()
        serial = self.new_migration("Queue serial")
        serial.api_stage(self.dataset())
        self.env["ir.config_parameter"].sudo().set_param("crm_migration.queue_commit", "0")
        serial.action_commit()
        serial._run_job(commit=False)
        self.assertEqual(serial.job_state, "done")
        expected = self.snapshot(serial)
        serial_state = serial.state
        after_serial = self.counts()
        serial.api_rollback({"on_conflict": "undo"})
        self.assertEqual(self.counts(), baseline)

        self.env["ir.config_parameter"].sudo().set_param("crm_migration.queue_commit", "1")
        queued = self.new_migration("Queue queued")
        queued.api_stage(self.dataset())
        with trap_jobs() as trap:
            performed = self.queue_commit(queued, trap)
        self.assertGreater(performed, 5)
        self.assertEqual(queued.job_state, "done", queued.job_message)
        self.assertIn("Commit done", queued.job_message)
        self.assertFalse(queued.sudo().commit_plan_json)
        self.assertEqual(self.snapshot(queued), expected)
        self.assertEqual(self.counts(), after_serial)
        self.assertEqual(queued.state, serial_state)
        queued.api_rollback({"on_conflict": "undo"})
        self.assertEqual(self.counts(), baseline)

    def test_refused_chunk_is_retried_by_queue_job(self):
        baseline = self.counts()
        mig = self.new_migration()
        mig.api_stage([self.company("q", "Queue Retry Co"),
                       self.contact("q1", "Queue Retry 1", "queue.r1@example.com", company="q")])

        def refused(engine, items):
            raise psycopg2.errors.SerializationFailure("could not serialize access")

        with trap_jobs() as trap:
            mig.action_commit()
            mig._run_job(commit=False)
            chunk_job = next(j for j in trap.enqueued_jobs if j.method_name == "_queue_commit_chunk")
            with patch.object(CommitEngine, "commit_batch", refused), self.assertRaises(RetryableJobError):
                chunk_job.perform()
            self.assertEqual(self.counts(), baseline)  # nothing of the refused tries is left
            chunk_job.perform()  # queue_job's next try
            trap.enqueued_jobs.remove(chunk_job)
            perform_all(trap)
        self.assertEqual(mig.job_state, "done", mig.job_message)
        self.assertEqual(self.counts()[0], baseline[0] + 2)
        self.assertEqual(len(mig.link_ids), 2)
        self.assertEqual(self.partner("queue.r1@example.com").parent_id.name, "Queue Retry Co")

    def test_stopped_job_chunks_do_nothing(self):
        baseline = self.counts()
        mig = self.new_migration()
        mig.api_stage([self.tag("Queue Stop")])
        with trap_jobs() as trap:
            mig.action_commit()
            mig._run_job(commit=False)
            mig.action_reset_job()
            for job in trap.enqueued_jobs:
                self.assertIn("stopped", job.perform())
        self.assertEqual(self.counts(), baseline)
        self.assertEqual(mig.record_ids.state, "staged")
        # committing again plans what is left
        with trap_jobs() as trap:
            self.queue_commit(mig, trap)
        self.assertEqual(mig.job_state, "done", mig.job_message)
        self.assertEqual(self.counts()[1], baseline[1] + 1)
