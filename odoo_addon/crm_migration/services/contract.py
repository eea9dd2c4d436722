"""The contract with the bridge (issue #13): the JSON Schemas the bridge generates from its zod
schemas (``npm run schemas``: docs/schemas/, copied into this addon's ``schemas/`` folder) check
the shape of what the bridge sends: staged records, the profile, mapping lines.

``problem`` answers None or one clear sentence naming the key and what is wrong with it (never
the offending value when it is large); the caller adds which record, line or call it is.
``with_defaults`` fills in what the schema gives a default for (``refs``, ``match``...).
"""

import copy
import json
import os
import re

from jsonschema import Draft202012Validator

SCHEMA_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "schemas")
SCHEMA_NAMES = ("staged-record", "profile", "mapping-line")

TYPE_WORDS = {
    "object": "a struct/dict",
    "array": "a list",
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "a boolean",
    "null": "null",
}
SCALAR_TYPES = {"string", "number", "boolean", "null"}
SHOWN_CHARS = 60


def _load(name):
    with open(os.path.join(SCHEMA_DIR, f"{name}.json"), encoding="utf-8") as handle:
        schema = json.load(handle)
    Draft202012Validator.check_schema(schema)
    return schema


# ------------------------------------------------------------------ a fast yes/no
# jsonschema walks a record in about 4 ms (1,000 records: 4 s per staging call); the keywords the
# bridge's schemas use are compiled here into plain checks that answer yes/no in a few µs. When
# they say no, jsonschema finds and words the error. tests/test_contract.py proves both agree on
# every case it has; a keyword not listed here makes loading the schema fail (never a silent yes).
IGNORED = {"$schema", "$id", "$defs", "title", "description", "default"}


def _is_integer(value):
    return (isinstance(value, int) and not isinstance(value, bool)) or (isinstance(value, float) and value.is_integer())


TYPE_CHECKS = {
    "string": lambda value: isinstance(value, str),
    "object": lambda value: isinstance(value, dict),
    "array": lambda value: isinstance(value, list),
    "null": lambda value: value is None,
    "boolean": lambda value: isinstance(value, bool),
    "number": lambda value: isinstance(value, (int, float)) and not isinstance(value, bool),
    "integer": _is_integer,
}
SCALAR_CHECK = lambda value: value is None or isinstance(value, (str, int, float))  # noqa: E731 (bool is an int)
KEYWORDS = {
    "type", "properties", "required", "additionalProperties", "propertyNames", "items", "anyOf", "enum",
    "const", "minLength", "maxLength", "pattern", "minItems", "maxItems", "maxProperties", "minimum",
    "maximum", "exclusiveMinimum", "exclusiveMaximum", "$ref"}


def _all(checks):
    """One function that is true when every check is (no generator per value: this runs per cell)."""
    if not checks:
        return lambda value: True
    if len(checks) == 1:
        return checks[0]
    first, rest = checks[0], _all(checks[1:])
    return lambda value: first(value) and rest(value)


def _type_check(types):
    if len(types) == 1:
        return TYPE_CHECKS[types[0]]
    if set(types) == {"string", "number", "boolean", "null"}:
        return SCALAR_CHECK
    checks = [TYPE_CHECKS[t] for t in types]
    return lambda value: any(check(value) for check in checks)


def _string_check(schema, typed):
    """type string (when ``typed``) with its lengths and pattern, as one function."""
    low, high = schema.get("minLength", 0), schema.get("maxLength")
    search = re.compile(schema["pattern"]).search if "pattern" in schema else None
    if typed and search is None:
        if high is None:
            return lambda value: isinstance(value, str) and low <= len(value)
        return lambda value: isinstance(value, str) and low <= len(value) <= high

    def check(value):
        if not isinstance(value, str):
            return not typed
        return (low <= len(value) and (high is None or len(value) <= high)
                and (search is None or search(value) is not None))
    return check


def _ref_check(schema, root):
    ref = schema["$ref"]
    if not ref.startswith("#/$defs/"):
        raise ValueError(f"only local $defs references are supported, not {ref!r}")
    target = root["$defs"][ref[len("#/$defs/"):]]
    compiled = {}  # compiled on first use: a recursive schema refers to itself

    def check_ref(value):
        if "fn" not in compiled:
            compiled["fn"] = _compile(target, root)
        return compiled["fn"](value)
    return check_ref


def _number_check(number_bounds):
    tests = {"minimum": lambda v, b: v >= b, "maximum": lambda v, b: v <= b,
             "exclusiveMinimum": lambda v, b: v > b, "exclusiveMaximum": lambda v, b: v < b}
    number = TYPE_CHECKS["number"]
    return lambda value: not number(value) or all(tests[k](value, b) for k, b in number_bounds)


def _array_check(schema, root):
    low, high = schema.get("minItems", 0), schema.get("maxItems")
    item = _compile(schema["items"], root) if "items" in schema else None

    def check_array(value):
        if not isinstance(value, list):
            return True
        if len(value) < low or (high is not None and len(value) > high):
            return False
        return item is None or all(item(element) for element in value)
    return check_array


def _object_check(schema, root):
    props = {key: _compile(sub, root) for key, sub in schema.get("properties", {}).items()}
    required = tuple(schema.get("required", ()))
    extra = schema.get("additionalProperties", True)
    extra = extra if isinstance(extra, bool) else _compile(extra, root)
    names = _compile(schema["propertyNames"], root) if "propertyNames" in schema else None
    most = schema.get("maxProperties")

    def check_object(value):
        if not isinstance(value, dict):
            return True
        if most is not None and len(value) > most:
            return False
        for key in required:
            if key not in value:
                return False
        for key, item in value.items():
            if names is not None and not names(key):
                return False
            check = props.get(key)
            if check is not None:
                if not check(item):
                    return False
            elif extra is False or (extra is not True and not extra(item)):
                return False
        return True
    return check_object


def _compile(schema, root):
    """A function value -> bool for ``schema`` (a subschema of ``root``): one check per group of
    JSON Schema keywords, all of which must hold."""
    unknown = set(schema) - IGNORED - KEYWORDS
    if unknown:
        raise ValueError(f"the contract's fast check does not know the keyword(s) {sorted(unknown)}")
    checks = []
    keys = set(schema) - IGNORED
    string_keys = {"minLength", "maxLength", "pattern"}
    if "$ref" in schema:
        checks.append(_ref_check(schema, root))
    if schema.get("type") == "string" and keys <= {"type"} | string_keys:
        return _string_check(schema, True)
    if "type" in schema:
        checks.append(_type_check(schema["type"] if isinstance(schema["type"], list) else [schema["type"]]))
    if "enum" in schema:
        enum = schema["enum"]
        checks.append(lambda value: any(type(value) is type(e) and value == e for e in enum))
    if "const" in schema:
        const = schema["const"]
        checks.append(lambda value: type(value) is type(const) and value == const)
    if string_keys & keys:
        checks.append(_string_check(schema, False))
    number_bounds = [(k, schema[k]) for k in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")
                     if k in schema]
    if number_bounds:
        checks.append(_number_check(number_bounds))
    if {"minItems", "maxItems", "items"} & keys:
        checks.append(_array_check(schema, root))
    if "anyOf" in schema:
        branches = [_compile(branch, root) for branch in schema["anyOf"]]
        if all(set(b) <= {"type"} for b in schema["anyOf"]):
            checks.append(_type_check([b["type"] for b in schema["anyOf"]]))
        else:
            checks.append(lambda value: any(branch(value) for branch in branches))
    if {"properties", "required", "additionalProperties", "propertyNames", "maxProperties"} & keys:
        checks.append(_object_check(schema, root))
    return _all(checks)


SCHEMAS = {name: _load(name) for name in SCHEMA_NAMES}
VALIDATORS = {name: Draft202012Validator(schema) for name, schema in SCHEMAS.items()}
FAST = {name: _compile(schema, schema) for name, schema in SCHEMAS.items()}


def is_valid(name, instance):
    """The fast yes/no of schema ``name`` (jsonschema's answer, tests/test_contract.py)."""
    return FAST[name](instance)


def _shown(value):
    """A value for a message: short, whatever was sent."""
    text = repr(value)
    return text if len(text) <= SHOWN_CHARS else f"{text[:SHOWN_CHARS]}…"


def _type_of(value):
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def _matches_type(value, wanted):
    got = _type_of(value)
    return got == wanted or (wanted == "number" and got == "integer")


def _where(path):
    """``key 'match'`` at the top, ``'lookups.partner_id.model'`` below."""
    parts = [str(part) for part in path]
    if len(parts) == 1:
        return f"key {parts[0]!r}"
    return repr(".".join(parts))


def _types_text(types):
    words = [TYPE_WORDS.get(t, t) for t in types]
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} or {words[-1]}"


def _describe_any_of(error, path, where, got):
    """The sentence of an ``anyOf`` error: what is wrong with the value in the branch of its type."""
    schema, value = error.schema, error.instance
    branches = schema["anyOf"]
    types = [b.get("type") for b in branches]
    # the value has the type of a branch: what is wrong with it there (a branch that is one
    # constant, such as the empty hash, says least)
    candidates = [sub for sub in error.context if sub.validator != "type" and sub.schema_path
                  and _matches_type(value, branches[sub.schema_path[0]].get("type"))]
    candidates.sort(key=lambda sub: sub.validator == "const")
    if candidates:
        return _describe(candidates[0], path + tuple(candidates[0].relative_path))
    if set(types) == SCALAR_TYPES:
        return f"{where} must be a plain value (string, number, boolean or null), not {got}."
    return f"{where} must be {_types_text(list(dict.fromkeys(t for t in types if t)))}, not {got}."


def _keys_text(where, path, text):
    return f"{text}." if not path else f"{where}: {text}."


def _missing_keys(schema, value, where, path):
    keys = ", ".join(repr(name) for name in schema["required"] if name not in value)
    return _keys_text(where, path, f"required key {keys} is missing")


def _unknown_keys(schema, value, where, path):
    known = set(schema.get("properties", {}))
    unknown = sorted(str(k) for k in value if k not in known)
    return _keys_text(where, path, f"unknown key(s) {', '.join(_shown(k) for k in unknown[:10])}")


def _wrong_type(schema, value, where, _path):
    types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
    return f"{where} must be {_types_text(types)}, not {TYPE_WORDS.get(_type_of(value), _type_of(value))}."


def _too_short(schema, _value, where, _path):
    if schema["minLength"] == 1:
        return f"{where} must be a non-empty string."
    return f"{where} must be at least {schema['minLength']} characters long."


def _no_match(schema, value, where, _path):
    if schema["pattern"] == "\\S":
        return f"{where} must not be blank."
    return f"{where} must match {schema['pattern']}, not {_shown(value)}."


def _bound(kind, words):
    """The describer of a number bound ``kind``: "must be <words> <bound>"."""
    return lambda schema, value, where, _path: f"{where} must be {words} {schema[kind]}, not {_shown(value)}."


# one sentence per JSON Schema keyword: (schema, value, where, path) -> text
DESCRIBERS = {
    "required": _missing_keys,
    "additionalProperties": _unknown_keys,
    "type": _wrong_type,
    "enum": lambda schema, value, where, _path:
        f"{where} must be one of {', '.join(repr(v) for v in schema['enum'])}, not {_shown(value)}.",
    "const": lambda schema, value, where, _path: f"{where} must be {schema['const']!r}, not {_shown(value)}.",
    "minLength": _too_short,
    "maxLength": lambda schema, value, where, _path:
        f"{where} is {len(value):,} characters long; at most {schema['maxLength']:,} are accepted.",
    "pattern": _no_match,
    "minItems": lambda schema, _value, where, _path: f"{where} must hold at least {schema['minItems']} item(s).",
    "maxItems": lambda schema, value, where, _path:
        f"{where} holds {len(value):,} items; at most {schema['maxItems']:,} are accepted.",
    "maxProperties": lambda schema, value, where, _path:
        f"{where} has {len(value):,} keys; at most {schema['maxProperties']:,} are accepted.",
    "minimum": _bound("minimum", "at least"),
    "exclusiveMinimum": _bound("exclusiveMinimum", "more than"),
    "maximum": _bound("maximum", "at most"),
    "exclusiveMaximum": _bound("exclusiveMaximum", "less than"),
}


def _describe(error, path):
    """One sentence for one jsonschema error at ``path`` (a tuple of keys)."""
    kind, schema, value = error.validator, error.schema, error.instance
    where = _where(path) if path else "the value"
    if "propertyNames" in error.relative_schema_path:
        # jsonschema checks a key against propertyNames at the path of its struct
        if kind == "maxLength":
            return (f"{where}: a key of {len(value):,} characters ({_shown(value)}); "
                    f"at most {schema['maxLength']} are accepted.")
        return f"{where}: the key {_shown(value)} is not accepted ({error.message[:120]})."
    if kind == "anyOf":
        return _describe_any_of(error, path, where, TYPE_WORDS.get(_type_of(value), _type_of(value)))
    describe = DESCRIBERS.get(kind)
    if describe is not None:
        return describe(schema, value, where, path)
    return f"{where}: {error.message[:200]}"


def problem(name, instance, prefix=()):
    """None when ``instance`` fits the schema ``name``, else one sentence about the most relevant
    error (the first key in document order among the most relevant). ``prefix``: the path of
    ``instance`` in what was sent (``("profile",)``)."""
    if FAST[name](instance):
        return None
    errors = list(VALIDATORS[name].iter_errors(instance))
    if not errors:
        return None
    # the shallowest error; among those, the first met (the schema's order of keys)
    error = min(errors, key=lambda e: len(e.absolute_path))
    return _describe(error, tuple(prefix) + tuple(error.absolute_path))


def with_defaults(name, instance):
    """A copy of ``instance`` (a dict that fits schema ``name``) with the defaults of its missing
    top-level keys filled in."""
    result = dict(instance)
    for key, spec in SCHEMAS[name].get("properties", {}).items():
        if key not in result and "default" in spec:
            result[key] = copy.deepcopy(spec["default"])
    return result
