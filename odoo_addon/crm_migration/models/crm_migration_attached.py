"""Attached records on the staging side (docs/staging-contract.md, "Attached records"): the
parent key and file checksum of a staged record, and the bytes of files uploaded in chunks
before the commit (``api_stage_blob``)."""

import base64
import binascii

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError

from .. import compat
from ..services.attached import BLOB_MODEL, IMPORT_CONTEXT

# largest decoded chunk accepted by one api_stage_blob call
MAX_CHUNK_BYTES = 4 * 1024 * 1024
# states of a staged record whose bytes may still be (re)sent
BLOB_OPEN_STATES = ("staged", "failed", "skipped", "waiting", "error")


class CrmMigrationRecord(models.Model):
    _inherit = "crm.migration.record"

    attach_to = fields.Char(readonly=True, index=True,
                            help="Key of the record this one is attached to (messages, activities, files).")
    blob_json = fields.Json(string="File", readonly=True, help="sha1 and size of the file's bytes.")
    blob_chunk_ids = fields.One2many("crm.migration.blob.chunk", "record_id", string="File Chunks", readonly=True)
    blob_received = fields.Integer(compute="_compute_blob_received", string="Bytes Received")

    @api.depends("blob_chunk_ids.size")
    def _compute_blob_received(self):
        for record in self:
            record.blob_received = sum(record.blob_chunk_ids.mapped("size"))

    def write(self, vals):
        if "blob_json" in vals:
            # restaged with other bytes: what was uploaded for the old ones is of no use
            self.filtered(lambda r: r.blob_json != vals["blob_json"]).blob_chunk_ids.unlink()
        return super().write(vals)


@compat.sql_constraints
class CrmMigrationBlobChunk(models.Model):
    """One chunk of the bytes of a staged file (``ir.attachment`` record), in upload order."""

    _name = "crm.migration.blob.chunk"
    _description = "CRM Migration File Chunk"
    _order = "record_id, offset"
    _log_access = False

    record_id = fields.Many2one("crm.migration.record", required=True, ondelete="cascade", index=True, readonly=True)
    offset = fields.Integer(required=True, readonly=True)
    size = fields.Integer(required=True, readonly=True)
    data = fields.Binary(attachment=False, readonly=True)

    _sql_constraints = [
        ("record_offset_uniq", "unique(record_id, \"offset\")", "A chunk starts at one offset once per file."),
    ]


class CrmMigration(models.Model):
    _inherit = "crm.migration"

    def api_stage_blob(self, key, offset, chunk):
        """Append ``chunk`` (base64 text) at byte ``offset`` to the file of the staged record
        ``key`` -> ``{"key", "received", "size", "complete"}``. Offset 0 starts over; any other
        offset must be the number of bytes received so far."""
        self.ensure_one()
        self._check_manager()
        _ = self.env._
        if self.state == "rolled_back":
            raise UserError(_("Migration %(name)s is rolled back: stage into a new migration.", name=self.display_name))
        if not isinstance(key, str) or not key:
            raise ValidationError(_("api_stage_blob: 'key' must be the key of a staged %(model)s record.",
                                    model=BLOB_MODEL))
        if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
            raise ValidationError(_("api_stage_blob %(key)s: 'offset' must be an integer >= 0.", key=key))
        if not isinstance(chunk, str):
            raise ValidationError(_("api_stage_blob %(key)s: 'chunk' must be base64 text.", key=key))
        record = self.env["crm.migration.record"].search([("migration_id", "=", self.id), ("key", "=", key)])
        if not record or record.model != BLOB_MODEL or not record.blob_json:
            raise ValidationError(_("api_stage_blob: %(key)s is not a staged %(model)s record with a 'blob' in "
                                    "migration %(name)s.", key=key, model=BLOB_MODEL, name=self.display_name))
        if record.state not in BLOB_OPEN_STATES:
            raise UserError(_("api_stage_blob %(key)s: the record is %(state)s; its bytes can no longer change.",
                              key=key, state=record.state))
        try:
            data = base64.b64decode(chunk, validate=True)
        except (binascii.Error, ValueError):
            raise ValidationError(_("api_stage_blob %(key)s: 'chunk' is not valid base64.", key=key)) from None
        if len(data) > MAX_CHUNK_BYTES:
            raise ValidationError(_("api_stage_blob %(key)s: a chunk holds at most %(max)s bytes (got %(n)s).",
                                    key=key, max=MAX_CHUNK_BYTES, n=len(data)))
        size = record.blob_json["size"]
        if offset == 0:
            record.blob_chunk_ids.unlink()
        received = record.blob_received
        if offset != received:
            raise ValidationError(_("api_stage_blob %(key)s: offset %(offset)s, but %(received)s bytes were received "
                                    "so far (send from there, or from 0 to start over).",
                                    key=key, offset=offset, received=received))
        if received + len(data) > size:
            raise ValidationError(_("api_stage_blob %(key)s: %(n)s bytes would exceed the staged size %(size)s.",
                                    key=key, n=received + len(data), size=size))
        if data:
            self.env["crm.migration.blob.chunk"].create({
                "record_id": record.id, "offset": offset, "size": len(data), "data": base64.b64encode(data),
            })
        received += len(data)
        return {"key": key, "received": received, "size": size, "complete": received == size}


class MailActivity(models.Model):
    _inherit = "mail.activity"

    @api.model_create_multi
    def create(self, vals_list):
        if self.env.context.get(IMPORT_CONTEXT):
            # imported history (a commit of attached records): the ORM's create without
            # mail.activity's, which mails the assignee, subscribes them to the record and sends
            # a bus message; the assignee of a past or planned activity is not told again
            return models.Model.create(self, vals_list)
        return super().create(vals_list)
