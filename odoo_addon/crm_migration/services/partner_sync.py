"""``res.partner.create`` of one batch with base's per-partner sync done per group (issue #11).

After ``create``, Odoo's ``res.partner`` runs, partner by partner (``base/models/res_partner.py``):
``_fields_sync`` (the commercial fields from the commercial entity, then the parent's address when
the contact is of type ``contact``, then the partner's own children), the language from the
parent, and ``_handle_first_contact_creation`` (a company without an address takes its first
contact's). For 5,000 contacts that is about 15,000 single-record ``write`` calls, most of
a partner commit's time, although the contacts of one company all get the same values. Odoo's
own ``load()`` batches the first part too (``_load_records_create``), with values that differ
from ``create``'s (it copies only the parent's non-empty address fields and skips the language).

``create_partners`` gives exactly what ``create`` gives, with one ``write`` per group of partners
that get the same values (most companies of an export have no VAT number: one write for all
their contacts):

1. ``create`` with ``_partners_skip_fields_sync`` (base's own switch, the one ``load()`` uses);
2. the commercial fields of each commercial entity, read as ``_commercial_sync_from_company``
   reads them (sudo), written (sudo) on its new contacts;
3. the parent's address, as ``onchange_parent_id`` gives it, on its new contacts of type
   ``contact`` (``update_address``, as ``_fields_sync`` writes it);
4. ``_children_sync`` for the rare new partner that already has children;
5. the parent's language on the new contacts that were given none, as
   ``_onchange_parent_id_for_lang`` sets it;
6. ``_handle_first_contact_creation`` per partner, in order, as ``create`` does last; not for a
   partner without a parent or whose parent gets two or more contacts in the batch (the step
   asks for a parent with exactly one active contact: false for them, without reading).

Why the order of partners does not matter: the partners of one ``create`` are leaves (nothing
created in the batch can be named by another record of the same batch), each step writes only
the new partner, except step 6, which writes a parent that has exactly one active contact, so no
other partner of the batch reads it. A batch with an archived partner (which a parent's count of
contacts leaves out) or ``child_ids`` in its values is created the plain way, and so is every
batch on another Odoo than 18: 17 and 19 sync partners differently (17 also syncs
company-dependent fields, 19 has no first-contact step and computes the language).
``tests/test_partner_sync.py`` compares every stored field of both ways, parents included.
"""

from collections import Counter, defaultdict

from ..compat import ODOO_VERSION

SKIP_SYNC = "_partners_skip_fields_sync"


def plain(vals_list):
    """Values this module does not batch: ``create`` does its own sync."""
    return ODOO_VERSION != 18 or any(
        "child_ids" in vals or ("active" in vals and not vals["active"]) for vals in vals_list
    )


def create_partners(model, vals_list):
    if model._name != "res.partner" or model.env.context.get(SKIP_SYNC) or plain(vals_list):
        return model.create(vals_list)
    partners = model.with_context(**{SKIP_SYNC: True}).create(vals_list).with_env(model.env)
    pairs = list(zip(partners, vals_list, strict=True))
    synced = _sync_from_parents(model.browse(), pairs)
    for partner, vals in pairs:
        if partner.child_ids:  # only if another module's create made some: what create does next
            if partner.id in synced:
                partner.sudo()._commercial_sync_to_children()
            partner._children_sync(vals)
    _languages(model, pairs)
    # a parent with two or more contacts in the batch (all active) has more than one contact: the
    # step's condition (exactly one) is false for them, and so for a partner without a parent
    siblings = Counter(partner.parent_id.id for partner in partners)
    for partner in partners:
        if partner.parent_id and siblings[partner.parent_id.id] == 1:
            partner._handle_first_contact_creation()
    return partners


def _sync_from_parents(Partner, pairs):
    """Steps 2 and 3 (``_fields_sync`` from upstream); the ids given commercial fields."""
    commercial, address = defaultdict(list), defaultdict(list)
    for partner, vals in pairs:
        if vals.get("parent_id") or vals.get("type") == "contact":
            if vals.get("parent_id"):
                entity = partner.sudo().commercial_partner_id
                if entity.id != partner.id:
                    commercial[entity.id].append(partner.id)
            if partner.parent_id and partner.type == "contact":
                address[partner.parent_id.id].append(partner.id)
    fields_ = Partner._commercial_fields()
    for values, ids in _by_values(
            (Partner.sudo().browse(entity_id)._update_fields_values(fields_), ids)
            for entity_id, ids in commercial.items()):
        Partner.sudo().browse(ids).write(values)
    for values, ids in _by_values(
            (Partner.browse(ids[:1]).onchange_parent_id().get("value", {}), ids) for ids in address.values()):
        if values:  # a parent without an address gives none (update_address writes nothing)
            Partner.browse(ids).update_address(values)
    return {i for ids in commercial.values() for i in ids}


def _languages(model, pairs):
    """Step 5: ``_onchange_parent_id_for_lang`` of the partners given no language."""
    langs = defaultdict(list)
    default_lang = model.env.context.get("default_lang") or model.env.lang
    for partner, vals in pairs:
        if "lang" not in vals and partner.parent_id:
            langs[partner.parent_id.lang or default_lang].append(partner.id)
    for lang, ids in langs.items():
        model.browse(ids).write({"lang": lang})


def _by_values(pairs):
    """``(values, ids)`` pairs → one pair per distinct ``values`` (the same write on all their ids),
    in the order the values first came."""
    groups = {}
    for values, ids in pairs:
        key = repr(sorted(values.items()))
        if key in groups:
            groups[key][1].extend(ids)
        else:
            groups[key] = (values, list(ids))
    return list(groups.values())
