"""The working state of one staged record during a commit: its JSON fields decoded once (one
SELECT of ``ITEM_FIELDS``, ``paging.rows``), what the commit resolved for it (refs, lookups, match) and
how it ends (state, res_id, error, the link to write)."""

from odoo.fields import Command
from odoo.tools import SQL

from . import attached, derived
from .plan import match_signatures
from .staging import ref_keys

# the field filled with the staged key on create, on every model that has it
SOURCE_KEY_FIELD = "source_key"
# fields of crm.migration.record read by a commit (source_json, the large one, only on a warning)
ITEM_FIELDS = ["key", "object", "model", "values_json", "refs_json", "lookups_json", "match_json", "deps_json",
               "hash", "issues_json", *attached.ITEM_FIELDS]
# fields of crm.migration.record read to plan a commit (services/plan.py), page by page
PLAN_FIELDS = ["key", "object", "model", "refs_json", "lookups_json", "match_json", "deps_json", "stage_batch"]
# of values_json, planning reads only what PlanItem uses: the fields its match rules name, a
# message's date and what tells the lead scoring (derived.scoring_hint); PostgreSQL picks them out
# (a match rule names a field when match_json, a list of lists of names, contains [[name]]), so
# the rest of a record's values is never decoded (issue #11: half the time of a plan). A value
# that is not a JSON object comes whole, as before.
PLAN_VALUE_KEYS = ["date", "active", "stage_id", "is_won"]
PLAN_VALUES = {"values_json": SQL(
    """CASE WHEN jsonb_typeof(values_json) = 'object' THEN COALESCE(
           (SELECT jsonb_object_agg(e.key, e.value) FROM jsonb_each(values_json) e
             WHERE e.key = ANY(%s)
                OR (jsonb_typeof(match_json) = 'array' AND match_json @> jsonb_build_array(jsonb_build_array(e.key)))),
           '{}'::jsonb)
       ELSE values_json END""", PLAN_VALUE_KEYS)}
# fields of crm.migration.record written by the bookkeeping of a batch
BOOKKEEPING_FIELDS = ["state", "res_id", "error_message", "issues_json"]


class PlanItem:
    """What planning needs of one staged record, and nothing more (issue #11: a million of them
    fit in a few hundred MB, where full ``Item`` objects took 8 GB): its keys, the keys it waits
    for, its many2one ref targets (``plan._pack``), the signatures of its match rules
    (``plan.match_signatures``, hashed: a collision only adds an ordering constraint, which is
    safe), a chatter message's original date (``attached.original_order``), and what tells
    whether it moves the lead scoring frequencies (``derived.scoring_hint``)."""

    __slots__ = ("record_id", "batch", "key", "object", "model", "dep_keys", "ref_targets", "signatures", "date",
                 "scoring")

    def __init__(self, row):
        """``row``: the record's ``PLAN_FIELDS`` and the part of its values planning reads
        (``PLAN_VALUES``; ``paging.rows``)."""
        refs = row["refs_json"] or {}
        values = row["values_json"] or {}
        self.record_id = row["id"]
        self.batch = row["stage_batch"] or 0
        self.key = row["key"]
        self.object = row["object"]
        self.model = row["model"]
        self.dep_keys = tuple(dict.fromkeys(ref_keys(refs) + (row["deps_json"] or [])))
        self.ref_targets = tuple(v for v in refs.values() if isinstance(v, str))
        lookups = row["lookups_json"] or {}
        self.signatures = tuple(hash(sig) for sig in match_signatures(
            self.model, row["match_json"] or [], values, refs, lookups))
        self.date = values.get("date") if self.model == "mail.message" else None
        self.scoring = derived.scoring_hint(self.model, values, refs, lookups)


class Item:
    """Working state of one staged record during a commit (its JSON fields decoded once)."""

    def __init__(self, record, row):
        """``record``: the staged record; ``row``: its ``ITEM_FIELDS`` (``paging.rows``)."""
        self.record = record
        self.record_id = record.id
        self.key = row["key"]
        self.object = row["object"]
        self.model = row["model"]
        self.values = row["values_json"] or {}
        self.refs = row["refs_json"] or {}
        self.lookups = row["lookups_json"] or {}
        self.match = row["match_json"] or []
        self.hash = row["hash"] or ""
        self.issues = row["issues_json"] or []
        self.ref_keys = ref_keys(self.refs)
        self.deps = row["deps_json"] or []
        # keys that must be committed first: refs and deps (object order, same-object passes)
        self.dep_keys = list(dict.fromkeys(self.ref_keys + self.deps))
        self.rel = {}  # field -> resolved id (many2one) / ids (many2many), from refs and lookups
        self.new_issues = []
        self.rule_index = 0
        self.linked = None  # crm.migration.link already owning this key
        self.match_id = None  # id found by a match rule
        self.state = None  # final crm.migration.record state
        self.res_id = 0
        self.error = False
        self.link_vals = None
        # attached records (services/attached.py): the parent key, the file's {sha1, size}, and
        # the parent's model/res_id pair once resolved
        self.attach_to = row["attach_to"] or False
        self.blob = row["blob_json"] or {}
        self.attach_vals = {}

    @property
    def done(self):
        return self.state is not None

    def warn(self, fname, message):
        source = self.record.source_json or {}
        issue = {"level": "warning", "field": fname, "message": message}
        if source.get("file"):
            issue["file"] = source["file"]
        if source.get("row") is not None:
            issue["row"] = source["row"]
        self.new_issues.append(issue)

    def finish(self, state, res_id=0, error=False):
        self.state, self.res_id, self.error = state, res_id or 0, error

    def next_rule(self, model):
        """Next match rule whose plain fields are all non-empty in values, or None. A many2one
        field of a rule (from refs or lookups) is compared on the id it resolved to; no id
        matches records where the field is empty (a category without parent)."""
        while self.rule_index < len(self.match):
            rule = self.match[self.rule_index]
            self.rule_index += 1
            if all(model._fields[f].type == "many2one" or self.values.get(f) not in (None, False, "")
                   for f in rule):
                return rule
        return None

    def match_value(self, model, fname):
        if model._fields[fname].type == "many2one":
            return self.rel.get(fname) or False
        return self.values[fname]

    def create_vals(self, model):
        vals = {f: v for f, v in self.values.items() if v is not None}
        for fname, value in self.rel.items():
            if model._fields[fname].type == "many2many":
                vals[fname] = [Command.set(value)]
            else:
                vals[fname] = value
        if SOURCE_KEY_FIELD in model._fields and SOURCE_KEY_FIELD not in vals:
            vals[SOURCE_KEY_FIELD] = self.key
        vals.update(self.attach_vals)
        return vals
