"""Attached records (docs/staging-contract.md, "Attached records"): chatter messages, activities
and files that belong to *another* migrated record through ``model``/``res_id`` instead of a
many2one field.

A staged record of one of ``ATTACHED_MODELS`` names its parent with ``attach_to`` (the key of a
record this migration stages, or one an earlier migration linked). The key counts like a dep
(object order, same-object passes, ``skipped`` when unresolved, the sample takes the parent
along). At commit the parent key is resolved through the links to ``(model, res_id)`` and written
into the model's own fields; the parent must be a record of a model this migration stages itself
(a Migration Manager cannot hang messages or files on users, views or settings).

- ``mail.message``: created with ``create`` (never ``message_post``), oldest first, with its
  original ``date`` and author: ``author_id`` from a ref or lookup, else the migration's
  "Imported from <source>" partner (created once and linked, so a rollback removes it).
  Nobody is notified, no mail leaves, nobody is subscribed.
- ``mail.activity``: scheduled (``active`` true) or done (``active`` false with ``date_done``, as
  Odoo 18 keeps done activities of a "keep done" type). Created under ``IMPORT_CONTEXT``, which
  leaves out mail.activity's assignment side effects (notification mail to the assignee, bus
  message, subscription of the assignee): the assignee of an imported activity is history.
- ``ir.attachment``: the bytes arrive before the commit in chunks (``api_stage_blob``, stored in
  ``crm.migration.blob.chunk``); the commit writes them and compares Odoo's own ``checksum``
  (sha1) with the staged ``blob.sha1``: a mismatch or missing bytes -> ``failed``, naming the key.

This module imports nothing from ``commit`` at import time (``commit`` imports it).
"""

import base64
import re
from collections import defaultdict

from odoo import SUPERUSER_ID

# model -> the fields a staged attached record may carry, and the fields its parent goes into
ATTACHED_MODELS = {
    "mail.message": {
        "values": ("message_type", "subject", "body", "date", "email_from"),
        "refs": ("author_id",),
        "lookups": ("author_id", "subtype_id"),
        "parent": ("model", "res_id"),
    },
    "mail.activity": {
        "values": ("summary", "note", "date_deadline", "date_done", "active"),
        "refs": (),
        "lookups": ("activity_type_id", "user_id"),
        "parent": ("res_model", "res_id"),
    },
    "ir.attachment": {
        "values": ("name", "mimetype", "description"),
        "refs": (),
        "lookups": (),
        "parent": ("res_model", "res_id"),
    },
}
MESSAGE_TYPES = ("comment", "email", "notification")
BLOB_MODEL = "ir.attachment"
SHA1_RE = re.compile(r"^[0-9a-f]{40}$")
# fields of crm.migration.record a commit reads for attached records
ITEM_FIELDS = ["attach_to", "blob_json"]
# context of a commit's creates: mail.activity.create without its assignment side effects
IMPORT_CONTEXT = "crm_migration_import"
# prefix of the key of the "Imported from <source>" author a commit links
IMPORTED_AUTHOR_KEY = "crm_migration:imported_author:"
# base64 images inside a body become attachments in mail.message.create: not ours to create
_DATA_IMAGE_RE = re.compile(r"""<img[^>]*src=["']data:image/[^"']*["'][^>]*>""", re.I)


def is_attached(model_name):
    return model_name in ATTACHED_MODELS


# ---------------------------------------------------------------------- staging
def check_attached(chk, record, values, refs, lookups, match, check):
    """Validate ``attach_to`` and ``blob`` of one staged record (``chk``: the staging checker).
    Returns ``(attach_to, blob)`` (False when absent)."""
    _ = chk.env._
    model_name = record["model"]
    attach_to = record.get("attach_to")
    blob = record.get("blob")
    spec = ATTACHED_MODELS.get(model_name)
    allowed_models = ", ".join(sorted(ATTACHED_MODELS))
    if attach_to is not None:
        if not isinstance(attach_to, str) or not attach_to.strip():
            chk.fail(_("key 'attach_to' must be the key (non-empty string) of another staged or linked record."))
        if attach_to == record["key"]:
            chk.fail(_("'attach_to' names the record itself."))
    if blob is not None:
        if (not isinstance(blob, dict) or set(blob) != {"sha1", "size"} or not isinstance(blob["sha1"], str)
                or not SHA1_RE.match(blob["sha1"]) or isinstance(blob["size"], bool)
                or not isinstance(blob["size"], int) or blob["size"] < 0):
            chk.fail(_("key 'blob' must be a struct {'sha1': 40 lower-case hex digits, 'size': bytes (integer >= 0)}."))
        if model_name != BLOB_MODEL:
            chk.fail(_("'blob' is only accepted on %(model)s records.", model=BLOB_MODEL))
    if spec is None:
        if attach_to is not None:
            chk.fail(_("'attach_to' is only accepted on records of the models %(models)s, not %(model)r.",
                       models=allowed_models, model=model_name))
        return False, False
    if not check:  # a record with an error issue is never committed
        return attach_to or False, blob or False
    if attach_to is None:
        chk.fail(_("%(model)s records are attached records: name their parent record in 'attach_to'.",
                   model=model_name))
    for what, given in (("values", values), ("refs", refs), ("lookups", lookups)):
        extra = sorted(set(given) - set(spec[what]))
        if extra:
            chk.fail(_("'%(what)s': field(s) %(fields)s not accepted on attached %(model)s records "
                       "(accepted: %(allowed)s).", what=what, fields=", ".join(repr(f) for f in extra),
                       model=model_name, allowed=", ".join(spec[what]) or _("none")))
    if match:
        chk.fail(_("attached records are never matched: 'match' must be empty."))
    message_type = values.get("message_type")
    if model_name == "mail.message" and message_type is not None and message_type not in MESSAGE_TYPES:
        chk.fail(_("'values.message_type' must be one of %(types)s.", types=", ".join(MESSAGE_TYPES)))
    if model_name == BLOB_MODEL and blob is None:
        chk.fail(_("%(model)s records need 'blob' ({'sha1', 'size'}): the bytes are sent with api_stage_blob.",
                   model=BLOB_MODEL))
    return attach_to, blob or False


# ---------------------------------------------------------------------- commit
def original_order(items):
    """Messages oldest first (their original ``date``; undated ones last, in staging order):
    the chatter is ordered by id."""
    if not any(item.model == "mail.message" for item in items):
        return items
    return sorted(items, key=lambda i: (i.date or "9999", i.record_id))


def _parent_models(engine):
    """Models of the records this migration stages (not attached records, not schema records):
    the only models attached records may go on."""
    cached = getattr(engine, "_attached_parent_models", None)
    if cached is None:
        from .staging import SCHEMA_MODEL  # noqa: PLC0415 - staging imports this module
        groups = engine.Record._read_group([("migration_id", "=", engine.migration.id)], ["model"])
        cached = {model for (model,) in groups if not is_attached(model) and model != SCHEMA_MODEL}
        engine._attached_parent_models = cached
    return cached


def resolve_parents(engine, items, link_by_key):
    """``attach_to`` -> ``item.attach_vals`` (the parent's model/res_id pair in the model's own
    fields). An unlinked parent already made the record ``skipped`` (it is a dep)."""
    _ = engine.env._
    for item in items:
        if item.done or not item.attach_to:
            continue
        link = link_by_key.get(item.attach_to)
        if not link:
            continue
        parent_model = link.model
        problem = None
        if parent_model not in _parent_models(engine) or parent_model not in engine.env:
            problem = _("attach_to: %(key)s is a %(model)s record; attached records go only on records of the "
                        "models this migration stages (%(models)s)", key=item.attach_to, model=parent_model,
                        models=", ".join(sorted(_parent_models(engine))) or _("none"))
        elif item.model == "mail.message" and "message_ids" not in engine.env[parent_model]._fields:
            problem = _("attach_to: %(model)s records have no chatter", model=parent_model)
        elif item.model == "mail.activity" and "activity_ids" not in engine.env[parent_model]._fields:
            problem = _("attach_to: %(model)s records have no activities", model=parent_model)
        if problem:
            item.finish("skipped", error=problem)
            continue
        model_field, id_field = ATTACHED_MODELS[item.model]["parent"]
        if item.model == "mail.activity":
            item.attach_vals = {"res_model_id": engine.env["ir.model"]._get_id(parent_model), id_field: link.res_id}
        else:
            item.attach_vals = {model_field: parent_model, id_field: link.res_id}


def create(engine, model_name, items):
    """Create attached records of one model through the commit's own create
    (services/target_writes.py) (batch, retry one by
    one, links), with what each model needs before and after."""
    if model_name == "mail.message":
        _prepare_messages(engine, items)
    from .target_writes import create as create_records  # noqa: PLC0415 - it imports this module

    create_records(engine, model_name, items)
    if model_name == BLOB_MODEL:
        _write_blobs(engine, [item for item in items if item.state == "committed"])


def _prepare_messages(engine, items):
    env = engine.env
    note = env.ref("mail.mt_note")
    comment = env.ref("mail.mt_comment")
    for item in items:
        body = item.values.get("body")
        if isinstance(body, str) and _DATA_IMAGE_RE.search(body):
            item.values = dict(item.values, body=_DATA_IMAGE_RE.sub("", body))
            item.warn("body", env._("inline (base64) images removed from the body"))
        if not item.rel.get("author_id"):
            item.rel["author_id"] = _imported_author(engine, item)
        if not item.rel.get("subtype_id"):
            email = item.values.get("message_type") == "email"
            item.attach_vals["subtype_id"] = (comment if email else note).id


def _imported_author(engine, item):
    """The partner "Imported from <source>" that authors messages whose author is unknown: the
    one a migration linked under its key, else created now and linked (rollback removes it). The
    link names the staged record of the first message that needed it, so that rolling back a
    sample that created it removes it too."""
    partner_id = getattr(engine, "_attached_author_id", None)
    if partner_id:
        return partner_id
    env = engine.env
    label = (engine.migration.source or engine.migration.name or "").strip()
    key = IMPORTED_AUTHOR_KEY + label.lower()
    Partner = env["res.partner"].with_context(active_test=False)
    links = engine.Link.search([("key", "=", key)], order="id")
    partner = Partner.browse(links[:1].res_id).exists() if links else Partner
    action = "matched"
    values_after = {}
    if not partner:
        from .key_claim import claim_keys  # noqa: PLC0415
        from .quiet_context import QUIET_CONTEXT  # noqa: PLC0415 - quiet_context imports this module

        claim_keys(env, engine.migration.id, [key])  # created at most once (services/key_claim.py)
        values_after = {"name": env._("Imported from %(label)s", label=label), "active": True}
        partner = Partner.with_context(**QUIET_CONTEXT).create(values_after)
        action = "created"
    if not links.filtered(lambda link: link.migration_id == engine.migration):
        engine.sequence += 1
        engine.Link.create({
            "migration_id": engine.migration.id, "record_id": item.record_id, "key": key, "model": "res.partner",
            "res_id": partner.id,
            "action": action, "values_after_json": values_after, "written_at": env.cr.now(),
            "sequence": engine.sequence,
        })
    engine._attached_author_id = partner.id
    return partner.id


def blob_bytes(env, record):
    """The uploaded bytes of a staged record (its chunks in offset order), or None when some are
    missing or out of order."""
    data = bytearray()
    for chunk in env["crm.migration.blob.chunk"].search([("record_id", "=", record.id)], order="offset"):
        if chunk.offset != len(data):
            return None
        data += base64.b64decode(chunk.data or b"")
    return bytes(data)


def _write_blobs(engine, items):
    """Write the uploaded bytes into the created attachments and compare Odoo's checksum with
    the staged sha1; a mismatch or missing bytes removes the attachment and fails the record."""
    env = engine.env
    _ = env._
    Attachment = env[BLOB_MODEL]
    for item in items:
        blob = item.blob or {}
        data = blob_bytes(env, item.record)
        attachment = Attachment.browse(item.res_id)
        problem = None
        if data is None or len(data) != blob.get("size"):
            problem = _("blob of %(key)s: %(got)s of %(size)s bytes uploaded (api_stage_blob)",
                        key=item.key, got=len(data) if data is not None else _("not all"), size=blob.get("size"))
        else:
            vals = {"raw": data}
            if item.values.get("mimetype"):
                vals["mimetype"] = item.values["mimetype"]
            attachment.write(vals)
            if attachment.checksum != blob.get("sha1"):
                problem = _("blob of %(key)s: checksum mismatch: staged sha1 %(staged)s, Odoo computed %(odoo)s",
                            key=item.key, staged=blob.get("sha1"), odoo=attachment.checksum)
        if problem:
            attachment.unlink()
            item.link_vals = None
            item.finish("failed", error=problem)


# ---------------------------------------------------------------------- rollback conflicts
def referenced_conflicts(rollback, links):
    """``[(link, "referenced", detail)]``: records the migration created that got a message,
    activity or file the migration did not create, after the migration's last write (a reply
    posted later). What Odoo itself adds while the migration commits (a "meeting scheduled" note
    on a lead whose meeting a later batch creates), or later as OdooBot (lead enrichment), is
    not a conflict."""
    env = rollback.env
    _ = env._
    targets = rollback.created_targets(links)
    if not targets:
        return []
    ours = defaultdict(set)
    last_write = None  # the end of the migration's last commit
    for link in rollback.Link.search_fetch([("migration_id", "=", rollback.migration.id)],
                                           ["model", "res_id", "action", "written_at", "create_date"]):
        stamp = link.written_at or link.create_date
        last_write = max(last_write, stamp) if last_write and stamp else (stamp or last_write)
        if link.action == "created" and link.model in ATTACHED_MODELS:
            ours[link.model].add(link.res_id)
    hits = defaultdict(lambda: defaultdict(int))
    for attached_model, spec in ATTACHED_MODELS.items():
        model_field, id_field = spec["parent"]
        Model = env[attached_model].sudo().with_context(active_test=False)
        for parent_model, by_id in targets.items():
            domain = [(model_field, "=", parent_model), (id_field, "in", list(by_id))]
            if ours[attached_model]:
                domain.append(("id", "not in", list(ours[attached_model])))
            # made by Odoo itself (OdooBot: scheduled actions such as lead enrichment): no one's work
            domain.append(("create_uid", "!=", SUPERUSER_ID))
            for row in Model.search_read(domain, [id_field, "create_date"]):
                link = by_id.get(row[id_field])
                # (written_at is stored to the second, create_date to the microsecond)
                created = row["create_date"]
                if link and created and last_write and created.replace(microsecond=0) > last_write:
                    hits[link][attached_model] += 1
    return [(link, "referenced", _("%(what)s added since the migration wrote it",
                                   what=", ".join(f"{n} {m}" for m, n in sorted(counts.items()))))
            for link, counts in hits.items()]


# ---------------------------------------------------------------------- sample diff
def diff_rows(env, records):
    """Sample diff rows of attached records: the parent they hang on ("Attached to") and, for
    files, the checksum."""
    records = records.filtered(lambda r: is_attached(r.model) and r.attach_to)
    if not records:
        return []
    _ = env._
    link_by_key = {}
    for link in env["crm.migration.link"].search_fetch([("key", "in", records.mapped("attach_to"))],
                                                       ["key", "model", "res_id"], order="id"):
        link_by_key.setdefault(link.key, link)
    rows = []
    for record in records:
        model = ATTACHED_MODELS[record.model]
        target = env[record.model].sudo().with_context(active_test=False).browse(record.res_id).exists()
        parent = link_by_key.get(record.attach_to)
        expected = _name_of(env, parent.model, parent.res_id) if parent else ""
        actual = ""
        if target:
            model_field, id_field = model["parent"]
            actual = _name_of(env, target[model_field], target[id_field])
        entries = [("attach_to", _("Attached to"), expected, actual, record.attach_to)]
        if record.model == BLOB_MODEL:
            entries.append(("checksum", _("Checksum (sha1)"), (record.blob_json or {}).get("sha1", ""),
                            target.checksum or "" if target else "", ""))
        for field, label, exp, act, source in entries:
            rows.append({
                "key": record.key, "object": record.object, "model": record.model, "res_id": record.res_id,
                "field": field, "label": label, "source": source, "expected": exp, "actual": act,
                "match": exp == act,
            })
    return rows


def _name_of(env, model_name, res_id):
    if not model_name or not res_id or model_name not in env:
        return ""
    record = env[model_name].sudo().with_context(active_test=False).browse(res_id).exists()
    return f"{model_name}: {record.display_name}" if record else ""
