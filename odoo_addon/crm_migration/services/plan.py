"""The commit plan: which staged records are committed together, and what may run in parallel
(issue #11; docs/staging-contract.md, "Parallel and queued commit").

A plan is a list of *waves*; a wave is a list of *chunks*; a chunk is a batch of staged records of
one object (at most ``batch_size``), committed in one transaction. The chunks of one wave are
independent: none refers to (ref, dep, ``attach_to``) or could match a record another chunk of
the same wave creates, so they may run in any order or at the same time; a wave starts once the
previous one is done. The serial commit runs the same chunks one after the other, so serial,
parallel and queued commits create the same records, links and rollback.

- objects in topological order of their refs and deps (the engine's ``object_order``);
- within an object, passes: a record waits for the records of the same object it refers to
  (parent companies), and for an earlier record of the same object with the same match-rule
  values (two staged contacts with one email: the second matches the first, whatever the
  chunks); records of a same-object cycle are skipped;
- records pointing to the same record of their own model (contacts of one company) share a
  chunk (``_pack``): Odoo's side effects on the parent then do not depend on timing;
- objects whose records must keep their order or change the registry (custom fields, chatter
  messages: ids give the chatter's order) get one chunk per wave: they run serially;
- records that move rows of a shared side table (``derived.moves_scoring``: leads created won
  or lost, which Odoo counts in shared lead scoring rows that two transactions cannot update at
  once) go in chunks of their own after the others of their pass, one chunk per wave.

A plan is plain JSON (it travels over RPC to the bridge and into queue_job's job arguments):
``{"migration": id, "since": "...", "edited_before": [link ids], "schema": bool, "total": n,
"waves": [[{"object", "ids": [record ids], "seq": first link sequence, "skip": {id: error}}]]}``.
"""

import json

from . import derived

# objects of these models are committed one chunk at a time (see above)
SERIAL_MODELS = ("ir.model.fields", "mail.message")
# a pass's records are spread over at least this many per chunk when the plan is made for several
# workers (below it, a chunk's transaction costs more than the work it shares)
MIN_SPLIT = 100
# link sequence numbers reserved per staged record (its own link and one the engine may add
# for it: the "Imported from" author of a message)
SEQUENCE_SLOTS = 2


def _sig_value(values, refs, lookups, fname):
    """The value a match rule compares for ``fname``, as known before commit: plain values in
    lower case; a many2one by the key it refers to or the lookup that resolves it."""
    if fname in refs:
        return ("ref", json.dumps(refs[fname], sort_keys=True))
    if fname in lookups:
        return ("lookup", json.dumps(lookups[fname], sort_keys=True, default=str))
    value = values.get(fname)
    if isinstance(value, str):
        value = value.strip().lower()
    return ("value", value if isinstance(value, (str, int, float, bool)) or value is None else str(value))


def match_signatures(model, match, values, refs, lookups):
    """One signature per match rule whose fields are not all empty: two records with a common
    signature could match the same Odoo record (a superset of what the rules match: safe)."""
    sigs = []
    for rule in match:
        sig_values = tuple(_sig_value(values, refs, lookups, f) for f in rule)
        if all(v[1] in (None, False, "") for v in sig_values):
            continue
        sigs.append((model, tuple(rule), sig_values))
    return sigs


def passes(items, env):
    """``(passes, cycle)``: the items of one object (in commit order) in passes, each item after
    the same-object items it refers to or may match; ``cycle``: ``{item: error}`` of items that
    can never run (a same-object cycle)."""
    implicit = {}
    owner = {}
    for item in items:
        for sig in item.signatures:
            first = owner.setdefault(sig, item)
            if first is not item:
                implicit.setdefault(item, []).append(first.key)
    result = []
    waiting = items
    while waiting:
        waiting_keys = {i.key for i in waiting}
        ready, later = [], []
        for item in waiting:
            keys = (*item.dep_keys, *implicit.get(item, ()))
            blocked = any(k in waiting_keys and k != item.key for k in keys)
            (later if blocked else ready).append(item)
        if not ready:
            cycle = {}
            for item in waiting:
                blockers = sorted(k for k in (*item.dep_keys, *implicit.get(item, ()))
                                  if k in waiting_keys and k != item.key)
                cycle[item] = env._("Refs/deps of the same object form a cycle; waiting for: %(keys)s",
                                    keys=", ".join(blockers))
            return result, cycle
        result.append(ready)
        waiting = later
    return result, {}


def _pack(items, batch_size, model_of, fill=None):
    """``(chunks, alone)``: chunks of at most ``batch_size`` items (in order), filled up to
    ``fill`` (default ``batch_size``; ``split_size``), items pointing to the same record of their
    own model through a many2one ref (contacts of one company) in the same chunk: creating a child
    may write its parent (Odoo copies the address of a company's first contact to it), which would
    otherwise depend on which chunk ran first. A group larger than ``fill`` makes a chunk of its
    own; a parent with more children than ``batch_size`` gives pieces of ``batch_size`` in
    ``alone``, to run one after the other. ``model_of``: key -> model of the ref targets (plan
    and earlier runs)."""
    fill = fill or batch_size
    group_of = {}  # ref target key -> group index
    groups = []
    for item in items:
        targets = [v for v in item.ref_targets if model_of.get(v) == item.model]
        index = next((group_of[t] for t in targets if t in group_of), None)
        if index is None:
            index = len(groups)
            groups.append([])
        groups[index].append(item)
        for target in targets:
            group_of.setdefault(target, index)
    chunks, current, alone = [], [], []
    for group in groups:
        if len(group) > batch_size:
            alone.extend(group[start:start + batch_size] for start in range(0, len(group), batch_size))
            continue
        if current and len(current) + len(group) > fill:
            chunks.append(current)
            current = []
        current.extend(group)
    if current:
        chunks.append(current)
    return chunks, alone


def split_size(count, batch_size, workers):
    """The chunk size for ``count`` records that run side by side on ``workers``: at most
    ``batch_size``, and small enough that the chunks come in whole rounds of ``workers`` (1,000
    companies on 2 workers: 2 chunks of 500, not one chunk while the other worker waits), but not
    below ``MIN_SPLIT`` records a chunk."""
    if workers <= 1 or count <= MIN_SPLIT:
        return batch_size
    chunks = -(-count // batch_size)
    chunks = -(-chunks // workers) * workers
    chunks = max(1, min(chunks, count // MIN_SPLIT))
    return min(batch_size, -(-count // chunks))


def build_waves(engine, items, order, batch_size, sequence, outside=None, workers=1):
    """The waves of ``items`` (``commit_item.PlanItem`` objects, grouped by ``order`` of objects),
    chunks of at most ``batch_size``; link sequences numbered from ``sequence``.
    ``outside``: key -> (model, res_id) of ref targets that are not in the plan (committed before).
    ``workers``: how many chunks will run at a time (``split_size``); 1 for a serial commit."""
    by_object = {}
    outside = outside or {}
    model_of = {key: model for key, (model, _res_id) in outside.items()}
    for item in items:
        by_object.setdefault(item.object, []).append(item)
        model_of[item.key] = item.model
    won_of = derived.won_stages(engine.env, items, outside)
    waves = []
    seq = sequence
    for obj in order:
        obj_items = by_object[obj]
        serial = any(item.model in SERIAL_MODELS for item in obj_items)
        obj_passes, cycle = passes(obj_items, engine.env)
        for ready in obj_passes:
            # records moving shared side-table rows (leads created won or lost): their chunks one
            # at a time, after the others of the pass
            hot, cold = [], []
            for item in ready:
                (hot if derived.moves_scoring(item, won_of) else cold).append(item)
            for group, one_by_one in ((cold, serial), (hot, True)):
                fill = batch_size if one_by_one else split_size(len(group), batch_size, workers)
                packed, alone = _pack(group, batch_size, model_of, fill) if group else ([], [])
                chunks = []
                for batch in packed + alone:
                    chunks.append({"object": obj, "ids": [i.record_id for i in batch], "seq": seq})
                    seq += SEQUENCE_SLOTS * len(batch)
                side_by_side = 0 if one_by_one else len(packed)
                if side_by_side:
                    waves.append(chunks[:side_by_side])
                waves.extend([chunk] for chunk in chunks[side_by_side:])
        if cycle:
            stuck = list(cycle)
            waves.append([{"object": obj, "ids": [i.record_id for i in stuck], "seq": seq,
                           "skip": {str(i.record_id): cycle[i] for i in stuck}}])
    return waves


def chunk_count(plan):
    return sum(len(wave) for wave in plan.get("waves", []))
