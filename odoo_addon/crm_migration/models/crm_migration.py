import json
from collections import defaultdict

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError

from ..services import bulk, guard, planner_stats
from ..services.commit import TODO_STATES, CommitEngine
from ..services.rollback import RollbackEngine
from ..services.staging import MAX_RECORDS_PER_CALL, normalize_record
from .crm_migration_link import LINK_ACTIONS
from .crm_migration_record import RECORD_STATES

# docs/journey.md (the state bar)
MIGRATION_STATES = [
    ("draft", "Draft"),
    ("uploaded", "Uploaded"),
    ("mapped", "Mapped"),
    ("sampled", "Sampled"),
    ("committed", "Committed"),
    ("partial", "Partially Committed"),
    ("rolled_back", "Rolled Back"),
]
# states api_finish_staging may move (re-uploads included); later states are left as they are
STAGING_STATES = ("draft", "uploaded", "mapped")
DEFAULT_BATCH_SIZE = 500
MAX_BATCH_SIZE = 10000
MANAGER_GROUP = "crm_migration.group_crm_migration_manager"
# the staging call's number (api_stage's ``batch``), kept in context on its way to the records
STAGE_BATCH_CONTEXT = "crm_migration_stage_batch"
MAX_STAGE_BATCH = 2**31 - 1
ROLLBACK_CONFLICT_OPTIONS = ("stop", "keep", "undo")


class CrmMigration(models.Model):
    """One run of moving a source CRM into Odoo. The ``api_*`` methods are the XML-RPC
    contract (docs/staging-contract.md); the ``action_*`` methods are the UI buttons."""

    _name = "crm.migration"
    _description = "CRM Migration"
    _order = "id desc"

    name = fields.Char(required=True)
    source = fields.Char(help="Free label of where the data comes from.")
    source_system = fields.Char(string="Source CRM", index=True,
                                help="The bridge's name of the source the data comes from (GET /sources).")
    upload_attachment_ids = fields.Many2many("ir.attachment", "crm_migration_upload_attachment_rel",
                                             "migration_id", "attachment_id", string="Export Files", copy=False,
                                             readonly=True, help="The export files sent to the bridge.")
    mapping_confirmed = fields.Boolean(copy=False, readonly=True,
                                       help="The admin confirmed the column mapping of this migration.")
    upload_mapping_json = fields.Text(copy=False,
                                      help="Decisions (JSON list) the bridge applies on the next upload.")
    state = fields.Selection(MIGRATION_STATES, required=True, default="draft", readonly=True, copy=False,
                             index=True)
    record_ids = fields.One2many("crm.migration.record", "migration_id", string="Staged Records", readonly=True)
    link_ids = fields.One2many("crm.migration.link", "migration_id", string="Links", readonly=True)
    commit_date = fields.Datetime(readonly=True, copy=False, string="Last Commit")
    rollback_date = fields.Datetime(readonly=True, copy=False, string="Rolled Back On")

    record_count = fields.Integer(compute="_compute_counts", string="Records")
    staged_count = fields.Integer(compute="_compute_counts", string="Staged")
    error_count = fields.Integer(compute="_compute_counts", string="Errors")
    committed_count = fields.Integer(compute="_compute_counts", string="Committed")
    matched_count = fields.Integer(compute="_compute_counts", string="Matched")
    failed_count = fields.Integer(compute="_compute_counts", string="Failed")
    skipped_count = fields.Integer(compute="_compute_counts", string="Skipped")
    rolled_back_count = fields.Integer(compute="_compute_counts", string="Rolled Back")
    link_count = fields.Integer(compute="_compute_counts", string="Link Count")

    # ------------------------------------------------------------------ compute / ORM
    @api.depends("record_ids.state", "link_ids")
    def _compute_counts(self):
        ids = [i for i in self._ids if isinstance(i, int)]
        by_state = defaultdict(dict)
        links = {}
        if ids:
            for migration, state, count in self.env["crm.migration.record"]._read_group(
                [("migration_id", "in", ids)], ["migration_id", "state"], ["__count"]
            ):
                by_state[migration.id][state] = count
            for migration, count in self.env["crm.migration.link"]._read_group(
                [("migration_id", "in", ids)], ["migration_id"], ["__count"]
            ):
                links[migration.id] = count
        for migration in self:
            counts = by_state.get(migration.id, {})
            migration.record_count = sum(counts.values())
            for state, _label in RECORD_STATES:
                migration[f"{state}_count"] = counts.get(state, 0)
            migration.link_count = links.get(migration.id, 0)

    @api.ondelete(at_uninstall=False)
    def _unlink_except_linked(self):
        if self.env["crm.migration.link"].sudo().search_count([("migration_id", "in", self.ids)], limit=1):
            raise UserError(self.env._(
                "A migration that still has links to Odoo records cannot be deleted: roll it back first."
            ))
        # the audit trail is append-only (its rows restrict the deletion in the database too)
        if self.env["crm.migration.audit"].sudo().search_count([("migration_id", "in", self.ids)], limit=1):
            raise UserError(self.env._(
                "A migration that wrote to Odoo keeps its audit trail and cannot be deleted (roll it back to "
                "undo what it did)."
            ))

    def _check_manager(self):
        if not self.env.su and not self.env.user.has_group(MANAGER_GROUP):
            raise AccessError(self.env._("Only Migration Managers can run CRM migrations."))

    @api.model
    def _check_struct(self, vals, method, allowed):
        """The struct an RPC method takes (``None`` = empty): a dict with only ``allowed`` keys."""
        vals = {} if vals is None else vals
        if not isinstance(vals, dict):
            raise ValidationError(self.env._("%(method)s expects a struct with the keys %(keys)s.",
                                             method=method, keys=", ".join(allowed)))
        unknown = sorted(set(vals) - set(allowed))
        if unknown:
            raise ValidationError(self.env._("%(method)s: unknown key(s) %(unknown)s (known: %(keys)s).",
                                             method=method, unknown=", ".join(unknown), keys=", ".join(allowed)))
        return vals

    # ------------------------------------------------------------------ RPC API
    @api.model
    def api_create(self, vals):
        """``{"name": str, "source": str}`` -> migration id."""
        self._check_manager()
        vals = self._check_struct(vals, "api_create", ("name", "source"))
        name = vals.get("name")
        source = vals.get("source") or ""
        if not isinstance(name, str) or not name.strip():
            raise ValidationError(self.env._("api_create: key 'name' must be a non-empty string."))
        if not isinstance(source, str):
            raise ValidationError(self.env._("api_create: key 'source' must be a string."))
        return self.create({"name": name.strip(), "source": source.strip()}).id

    def api_stage(self, records, batch=0):
        """Upsert staged records by (migration, key) -> ``{"staged": n, "errors": n}``. ``batch``:
        the number of this call among the upload's (1, 2, ...; 0: not said): the commit takes the
        records in the order of their batches, then of their arrival, so a caller may send several
        batches at a time (docs/staging-contract.md)."""
        self.ensure_one()
        self._check_manager()
        # a large staging outgrows what the planner knows of the table (issue #11)
        planner_stats.refresh(self.env, ["crm.migration.record"])
        return self.with_context(**{STAGE_BATCH_CONTEXT: batch})._stage_records(records)

    def api_stage_json(self, json_text, batch=0):
        """Same as :meth:`api_stage`, with the list of staged records sent as one JSON string
        (``json.dumps(records)``): XML-RPC then carries one string instead of thousands of nested
        structs, which is much cheaper to marshal and unmarshal. Same validation, same answer."""
        self.ensure_one()
        self._check_manager()
        if not isinstance(json_text, str):
            raise ValidationError(self.env._("api_stage_json expects one string: the JSON text of a list of "
                                             "staged records."))
        try:
            records = json.loads(json_text)
        except ValueError as exc:
            raise ValidationError(self.env._("api_stage_json: invalid JSON (%(error)s).", error=str(exc))) from None
        return self.api_stage(records, batch)

    def _staged_by_key(self, records):
        """One staging call's records checked (docs/staging-contract.md) and keyed: the last one
        of a key wins, as for any upsert."""
        if not isinstance(records, list):
            raise ValidationError(self.env._("api_stage expects a list of staged records."))
        if len(records) > MAX_RECORDS_PER_CALL:
            raise ValidationError(self.env._("api_stage accepts at most %(max)s records per call (got %(n)s).",
                                             max=MAX_RECORDS_PER_CALL, n=len(records)))
        by_key = {}
        policy = guard.Policy(self.env)
        extra = self._staged_extra_vals()
        for index, record in enumerate(records):
            vals = normalize_record(self.env, record, index)
            guard.check_staged(self.env, vals, index, policy)
            vals.update(extra)
            by_key[vals["key"]] = vals
        return by_key

    def _staged_extra_vals(self):
        """Values of this migration's own that every record of a staging call is stored with,
        besides what the caller sent: the number of the staging call (``api_stage``'s ``batch``,
        checked here, where it is read: the context is the caller's too), the upload's token
        (``crm_migration_upload.py``); never a field the caller names."""
        batch = self.env.context.get(STAGE_BATCH_CONTEXT, 0)
        if isinstance(batch, bool) or not isinstance(batch, int) or not 0 <= batch <= MAX_STAGE_BATCH:
            raise ValidationError(self.env._("api_stage: batch must be an integer between 0 and %(max)s.",
                                             max=MAX_STAGE_BATCH))
        return {"stage_batch": batch}

    def _stage_records(self, records):
        if self.state == "rolled_back":
            raise UserError(self.env._("Migration %(name)s is rolled back: stage into a new migration.",
                                       name=self.display_name))
        by_key = self._staged_by_key(records)
        Record = self.env["crm.migration.record"]
        existing = Record.search_fetch([("migration_id", "=", self.id), ("key", "in", list(by_key))],
                                       ["key", "state"])
        locked = existing.filtered(lambda r: r.state in ("committed", "matched"))
        if locked:
            raise UserError(self.env._(
                "These keys are already committed in migration %(name)s and cannot be staged again "
                "(stage changes into a new migration): %(keys)s",
                name=self.display_name, keys=", ".join(locked[:20].mapped("key")),
            ))
        for record in existing:
            record.write(by_key[record.key])
        existing_keys = set(existing.mapped("key"))
        # one multi-row INSERT (services/bulk.py: same defaults and conversions as create, issue #11)
        bulk.insert_records(self.env, [dict(vals, migration_id=self.id) for key, vals in by_key.items()
                                       if key not in existing_keys])
        return {
            "staged": len(by_key),
            "errors": sum(1 for vals in by_key.values() if vals["state"] == "error"),
        }

    def api_finish_staging(self):
        """Staging done: ``mapped`` when there is nothing to confirm (no mapping lines: shipped
        mapping) or the mapping is confirmed, else ``uploaded``; returns the report."""
        self.ensure_one()
        self._check_manager()
        if self.state in STAGING_STATES:
            self.state = "mapped" if self.mapping_confirmed or not self._has_mapping_lines() else "uploaded"
        return self.api_report()

    def _has_mapping_lines(self):
        return bool(self.env["crm.migration.mapping.line"].search_count([("migration_id", "=", self.id)], limit=1))

    def _check_mapping_confirmed(self):
        """Commits (sample included) wait for the admin to confirm the mapping."""
        for migration in self:
            if migration.state == "uploaded":
                raise UserError(self.env._(
                    "Confirm the mapping first: migration %(name)s has a column mapping that was not "
                    "confirmed yet (Mapping tab).", name=migration.display_name))

    def api_commit(self, options=None):
        """Commit the staged records (``options``: ``{"batch_size": 500, "sample": n}``); returns the
        report. ``sample``: commit only a representative slice (``_mark_sample``); a plain commit
        afterwards commits the rest (approves the sample)."""
        self.ensure_one()
        self._check_manager()
        options = self._check_struct(options, "api_commit", ("batch_size", "sample"))
        sample = options.get("sample")
        if sample is not None and (isinstance(sample, bool) or not isinstance(sample, int) or sample < 1):
            raise ValidationError(self.env._("api_commit: sample must be an integer of at least 1."))
        batch_size = options.get("batch_size", DEFAULT_BATCH_SIZE)
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or not 0 < batch_size <= MAX_BATCH_SIZE:
            raise ValidationError(self.env._("api_commit: batch_size must be an integer between 1 and %(max)s.",
                                             max=MAX_BATCH_SIZE))
        self._commit(batch_size=batch_size, sample=sample)
        return self.api_report()

    def _check_committable(self):
        """What every commit (serial, sample, parallel, queued) checks first: not rolled back, the
        mapping confirmed, and what the stored records target (the group can write them)."""
        if self.state == "rolled_back":
            raise UserError(self.env._("Migration %(name)s is rolled back: stage and commit a new migration.",
                                       name=self.display_name))
        self._check_mapping_confirmed()
        guard.check_commit(self, TODO_STATES)

    def _commit(self, batch_size=DEFAULT_BATCH_SIZE, sample=None, on_batch=None):
        """Commit the staged records (all of them, or a sample of ``sample`` leaves) through the
        CommitEngine; ``on_batch(count)`` is called after each batch (the commit job commits the
        transaction there so its progress is visible). Sets the migration's state."""
        self.ensure_one()
        self._check_committable()
        if sample is not None:
            if self.sample_state != "none":
                raise UserError(self.env._(
                    "Migration %(name)s already has a sample: approve it (commit) or roll the sample back first.",
                    name=self.display_name))
            self._mark_sample(sample)
            CommitEngine(self, batch_size=batch_size, sampled_only=True, on_batch=on_batch).run()
            self.write({"sample_state": "sampled", "state": "sampled", "commit_date": fields.Datetime.now()})
            return
        if self.sample_state == "sampled":
            self.sample_state = "approved"
        CommitEngine(self, batch_size=batch_size, on_batch=on_batch).run()
        # failed, skipped, or waiting for their owner to be reconciled: committing again continues
        incomplete = self.env["crm.migration.record"].search_count(
            [("migration_id", "=", self.id), ("state", "in", ("failed", "skipped", "waiting"))], limit=1
        )
        self.write({"state": "partial" if incomplete else "committed", "commit_date": fields.Datetime.now()})

    # ------------------------------------------------------------------ hooks for glue modules
    def _after_commit_run(self, engine):
        """Called at the end of every commit run (sample or full), once every object of the run
        is committed, inside its transaction. Glue modules (``crm_migration_account``) extend it
        to do what needs a whole document (post an invoice once its lines exist); records they
        create go through ``engine.add_created_link`` so a rollback removes them. Their writes on
        the migration's records are the migration's own (not rollback conflicts)."""
        return None

    def _glue_link_models(self):
        """Models whose records glue modules create in ``_after_commit_run`` (through
        ``engine.add_created_link``) although no staged record targets them: their links are the
        engine's, not forged (services/guard.py ``check_links``)."""
        return set()

    def _before_rollback_undo(self, links):
        """Called by a rollback before it unlinks the records of ``links`` (the migration's
        ``created`` links), inside its savepoint; returns a list of error lines (the rollback then
        stops and undoes nothing). Glue modules undo here what ``_after_commit_run`` did."""
        return []

    def api_rollback(self, options=None):
        """Undo the commit exactly (no-op when already rolled back); returns the report.
        ``options``: ``{"on_conflict": "stop" | "keep" | "undo"}`` (default ``stop``): what to do
        with records edited or used in Odoo since the migration wrote them
        (:meth:`api_rollback_conflicts`): ``stop`` raises a UserError listing them (nothing
        undone), ``keep`` leaves them (their links stay, marked kept; report ``kept_conflicts``)
        and undoes the rest, ``undo`` undoes everything anyway."""
        self.ensure_one()
        self._check_manager()
        options = self._check_struct(options, "api_rollback", ("on_conflict",))
        on_conflict = options.get("on_conflict") or "stop"
        if on_conflict not in ROLLBACK_CONFLICT_OPTIONS:
            raise ValidationError(self.env._("api_rollback: on_conflict must be one of %(values)s.",
                                             values=", ".join(ROLLBACK_CONFLICT_OPTIONS)))
        if self.state != "rolled_back":
            RollbackEngine(self).run(on_conflict=on_conflict)
            self.rollback_date = fields.Datetime.now()
        return self.api_report()

    def api_rollback_conflicts(self):
        """Records a rollback would undo although they were edited or are used in Odoo since the
        migration wrote them: ``[{"key", "model", "res_id", "name", "kind": "edited" |
        "referenced", "detail"}]``. Nothing is undone. ``[]`` once rolled back."""
        self.ensure_one()
        self._check_manager()
        if self.state == "rolled_back":
            return []
        return RollbackEngine(self).conflicts()

    def _kept_conflicts(self):
        return [
            {"key": link.key, "model": link.model, "res_id": link.res_id,
             "name": guard.display_name(self.env, link.model, link.res_id),
             "kind": link.kept_kind or "", "detail": link.kept_detail or ""}
            for link in self.env["crm.migration.link"].search(
                [("migration_id", "=", self.id), ("kept", "=", True)], order="sequence, id")
        ]

    def api_report(self):
        """Counts per record state and object, failed/skipped records with their error, link counts."""
        self.ensure_one()
        self._check_manager()
        Record = self.env["crm.migration.record"]
        states = [state for state, _label in RECORD_STATES]
        counts = dict.fromkeys(states, 0)
        objects = {}
        for obj, state, count in Record._read_group(
            [("migration_id", "=", self.id)], ["object", "state"], ["__count"], order="object"
        ):
            counts[state] += count
            objects.setdefault(obj, dict.fromkeys(states, 0))[state] = count
        links = dict.fromkeys((action for action, _label in LINK_ACTIONS), 0)
        for action, count in self.env["crm.migration.link"]._read_group(
            [("migration_id", "=", self.id)], ["action"], ["__count"]
        ):
            links[action] = count

        def problems(state):
            return [
                {"key": row["key"], "error": row["error_message"] or ""}
                for row in Record.search_read(
                    [("migration_id", "=", self.id), ("state", "=", state)], ["key", "error_message"], order="id"
                )
            ]

        return {
            "id": self.id,
            "name": self.name,
            "source": self.source or "",
            "state": self.state,
            "counts": counts,
            "objects": objects,
            "failed": problems("failed"),
            "skipped": problems("skipped"),
            "links": links,
            **({"kept_conflicts": self._kept_conflicts()} if self.state == "rolled_back" else {}),
        }

    # ------------------------------------------------------------------ UI
    def _notify(self, title, report):
        counts = report["counts"]
        message = self.env._(
            "%(committed)s created, %(matched)s matched, %(failed)s failed, %(skipped)s skipped, "
            "%(error)s with errors, %(rolled_back)s rolled back.", **counts,
        )
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": title,
                "message": message,
                "type": "warning" if counts["failed"] or counts["skipped"] else "success",
                "next": {"type": "ir.actions.client", "tag": "soft_reload"},
            },
        }

    def action_finish_staging(self):
        for migration in self:
            migration.api_finish_staging()
        return True

    def action_commit(self):
        """Queue the commit job (the cron commits batch by batch; the form shows the progress)."""
        self.ensure_one()
        self._check_manager()
        if self.state == "rolled_back":
            raise UserError(self.env._("Migration %(name)s is rolled back: stage and commit a new migration.",
                                       name=self.display_name))
        self._check_mapping_confirmed()
        self._queue_job("commit")
        return True

    def action_rollback(self):
        """Open the rollback wizard: it lists the conflicts, if any, and asks how to proceed."""
        self.ensure_one()
        conflicts = self.api_rollback_conflicts()
        wizard = self.env["crm.migration.rollback.wizard"].create({
            "migration_id": self.id,
            "conflict_count": len(conflicts),
            "conflicts_text": "\n".join(
                f"{c['model']} {c['res_id']} {c['name']!r} ({c['key']}): {c['kind']}: {c['detail']}"
                for c in conflicts) or False,
        })
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Rollback"),
            "res_model": "crm.migration.rollback.wizard",
            "res_id": wizard.id,
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "new",
        }

    def _rollback_and_notify(self, on_conflict):
        self.ensure_one()
        return self._notify(self.env._("Rollback done"), self.api_rollback({"on_conflict": on_conflict}))

    def action_view_records(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("crm_migration.action_crm_migration_record")
        domain = [("migration_id", "=", self.id)]
        state = self.env.context.get("record_state")
        if state:
            domain.append(("state", "=", state))
        action.update(domain=domain, context={"default_migration_id": self.id})
        return action

    def action_view_links(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("crm_migration.action_crm_migration_link")
        action.update(domain=[("migration_id", "=", self.id)], context={})
        return action
