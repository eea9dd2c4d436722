"""Match rules of a commit: a staged record not linked yet that matches exactly one existing
record (on all the fields of one of its rules) is linked to it instead of created."""

from collections import defaultdict

from .text_search import TEXT_TYPES, compare_value, search_text_rows


def find_matches(env, items):
    """Match rules of ``items`` not linked yet, rule after rule: one search per (model, rule,
    case-insensitive fields) group and round; one hit sets ``item.match_id``, several leave a
    warning and the item tries its next rule."""
    _ = env._
    pending = items
    while pending:
        groups = defaultdict(list)
        for item in pending:
            model = env[item.model]
            rule = item.next_rule(model)
            if rule:
                # text values are compared case-insensitively in SQL (exact equality, except
                # emails, is checked in Python below); other values (many2one: the resolved
                # id, False matching an empty field) with ``in``
                ci = tuple(isinstance(item.match_value(model, f), str) and model._fields[f].type in TEXT_TYPES
                           for f in rule)
                groups[(item.model, tuple(rule), ci)].append(item)
        pending = []
        for (model_name, rule, ci), rule_items in groups.items():
            model = env[model_name]
            conditions = [
                (fname, {item.match_value(model, fname).strip() if is_ci else item.match_value(model, fname)
                         for item in rule_items}, is_ci)
                for fname, is_ci in zip(rule, ci, strict=True)
            ]
            hits_by_value = defaultdict(list)
            for row in search_text_rows(model, conditions, list(rule)):
                hits_by_value[tuple(compare_value(f, row[f]) for f in rule)].append(row["id"])
            for item in rule_items:
                hits = hits_by_value.get(tuple(compare_value(f, item.match_value(model, f)) for f in rule), [])
                if len(hits) == 1:
                    item.match_id = hits[0]
                    continue
                if len(hits) > 1:
                    item.warn(",".join(rule), _(
                        "match on %(fields)s: %(count)s existing %(model)s records (ids %(ids)s); not matched",
                        fields=", ".join(rule), count=len(hits), model=model_name,
                        ids=", ".join(str(i) for i in hits[:10]),
                    ))
                pending.append(item)
