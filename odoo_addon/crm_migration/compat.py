"""What differs between the Odoo versions this addon runs on (17.0, 18.0, 19.0), in one place.

The addon is written against Odoo 18's API. This module adapts the few places where 17 or 19
differ, so the rest of the code stays version-neutral (one-line calls or a class decorator):

- ``ODOO_VERSION``: the server's major version (17, 18, 19).
- ``sql_constraints``: class decorator; on 19 turns ``_sql_constraints`` (no longer read by 19's
  ORM) into ``models.Constraint`` attributes; on 17/18 leaves the class alone.
- ``notify_progress``: 18/19 ``ir.cron._notify_progress`` (the cron runs again at once when work
  remains); on 17, which has no such call, ``_trigger()`` of the same cron does that.
- ``write_multi``: the batched low-level UPDATE of 18/19 (``_write_multi``); 17 has ``_write``
  only, so rows with equal values are written together, as 17's flush does.
- On 17 only, two backports of Odoo 18 API used throughout the addon, added to Odoo's classes
  when this module is imported and only when missing (``hasattr`` guards): ``Environment._``
  (translate with the environment's language), ``BaseModel.check_access(operation)``
  (access rights + record rules in one call) ``BaseModel.has_access(operation)`` (the same, as a
  boolean) and ``BaseModel._filtered_access(operation)`` (the records allowed).
- On 17 only, ``list`` views: 17 knows the ``tree`` view type only, 18/19 the ``list`` type
  only. The views are written as 18/19 write them (``<list>``, ``view_mode`` ``list,form``);
  ``models/ir_ui_view.py`` renames them to ``tree`` when 17 loads them (``list_to_tree``).
"""

import logging
import re
from collections import defaultdict

from odoo import api, models, release
from odoo.tools import frozendict

_logger = logging.getLogger(__name__)

ODOO_VERSION = int(release.version_info[0])

# res.users' groups: ``groups_id`` up to 18, ``group_ids`` from 19 on
USER_GROUPS_FIELD = "group_ids" if ODOO_VERSION >= 19 else "groups_id"


def sql_constraints(cls):
    """Class decorator for models declaring ``_sql_constraints`` (17/18 style)."""
    declared = cls.__dict__.get("_sql_constraints")
    if ODOO_VERSION >= 19 and declared:
        for name, definition, message in declared:
            constraint = models.Constraint(definition, message)
            attr = "_" + name
            setattr(cls, attr, constraint)
            constraint.__set_name__(cls, attr)
        delattr(cls, "_sql_constraints")
    return cls


def is_automatic(field):
    """Whether Odoo creates and writes the field itself (id, display_name, create/write uid/date):
    ``Field.automatic`` up to 18; 19 has no such attribute."""
    if hasattr(field, "automatic"):
        return field.automatic
    return field.name in models.MAGIC_COLUMNS or field.name == "display_name"


def enter_registry_test_mode(case_cls):
    """In a test class's setUpClass: new cursors wrap the test cursor until the class ends
    (registry changes such as custom fields then roll back with the test). 19 patches the
    registry from the test case (``registry_enter_test_mode_cls``); 17/18 ask the registry."""
    if hasattr(case_cls, "registry_enter_test_mode_cls"):
        case_cls.registry_enter_test_mode_cls()
    else:
        case_cls.registry.enter_test_mode(case_cls.cr)
        case_cls.addClassCleanup(case_cls.registry.leave_test_mode)


def setup_models(registry, cr):
    """Set the registry's models up again from the database (after custom fields changed):
    ``Registry.setup_models`` up to 18, ``_setup_models__`` on 19."""
    if hasattr(registry, "setup_models"):
        registry.setup_models(cr)
    else:
        registry._setup_models__(cr)


def registry_in_test_mode(registry):
    """Whether the registry serves a test (17/18 ``in_test_mode()``; 19 marks the running test
    in ``odoo.modules.module.current_test``)."""
    if hasattr(registry, "in_test_mode"):
        return registry.in_test_mode()
    from odoo.modules import module  # noqa: PLC0415 - only on some Odoo versions, read when called

    return bool(getattr(module, "current_test", None))


def field_accessible(field, model):
    """Whether the user of ``model``'s environment may read ``field`` (its ``groups``):
    ``Field.is_accessible(env)`` on 18, ``BaseModel._has_field_access`` on 19, the field's
    ``groups`` checked with ``BaseModel.user_has_groups`` on 17 (what 18's call does)."""
    if hasattr(field, "is_accessible"):
        return field.is_accessible(model.env)
    if hasattr(model, "_has_field_access"):
        return model.env.su or model._has_field_access(field, "read")
    if not field.groups or model.env.is_superuser():
        return True
    return field.groups != "." and model.user_has_groups(field.groups)


def as_validation_error(env, exc):
    """The ValidationError Odoo's RPC layer makes of an IntegrityError (a SQL constraint):
    ``odoo.service.model._as_validation_error`` up to 18; 19 builds it inline from
    ``BaseModel._sql_error_to_message``, done the same way here."""
    try:
        from odoo.service.model import _as_validation_error  # noqa: PLC0415 - only on some Odoo versions, read when called
    except ImportError:
        _as_validation_error = None
    if _as_validation_error:
        return _as_validation_error(env, exc)
    from odoo.exceptions import ValidationError  # noqa: PLC0415 - only on some Odoo versions, read when called

    model = env["base"]
    for rclass in env.registry.values():
        if exc.diag.table_name == rclass._table:
            model = env[rclass._name]
            break
    return ValidationError(env._("The operation cannot be completed: %s", model._sql_error_to_message(exc)))


def convert_to_column_insert(field, value, record, values=None):
    """A field's value in the SQL form an INSERT takes: ``Field.convert_to_column_insert`` on
    18/19 (translated and company-dependent fields); 17's ``_create`` uses ``convert_to_column``."""
    if hasattr(field, "convert_to_column_insert"):
        return field.convert_to_column_insert(value, record, values)
    return field.convert_to_column(value, record, values)


def write_multi(records, vals_list):
    """One low-level UPDATE per distinct row of column values: ``BaseModel._write_multi`` on
    18/19 (one statement for many records); 17 has ``_write`` only, so records whose values are
    equal are written together, as 17's own flush groups them."""
    if hasattr(records, "_write_multi"):
        records._write_multi(vals_list)
        return
    groups = defaultdict(list)
    for record_id, vals in zip(records.ids, vals_list, strict=True):
        groups[frozendict(vals)].append(record_id)
    for vals, ids in groups.items():
        records.browse(ids)._write(dict(vals))


def notify_progress(env, cron_xmlid, done, remaining):
    """Tell the running cron how much work is done and remains (18+); on 17 re-trigger it."""
    Cron = env["ir.cron"]
    if hasattr(Cron, "_notify_progress"):
        Cron._notify_progress(done=done, remaining=remaining)
    elif remaining:
        cron = env.ref(cron_xmlid, raise_if_not_found=False)
        if cron:
            cron.sudo()._trigger()


_LIST_TAG = re.compile(r"<(/?)list(?=[\s>/])")
_LIST_XPATH = re.compile(r"(//|/|\bexpr=\")list\b")


def list_to_tree(arch):
    """A view arch written for 18/19 (``<list>``) in the form 17 reads (``<tree>``)."""
    if not arch or "list" not in arch:
        return arch
    return _LIST_XPATH.sub(r"\1tree", _LIST_TAG.sub(r"<\1tree", arch))


def view_mode_to_17(view_mode):
    """``list,form`` → ``tree,form`` for an action's ``view_mode`` on 17."""
    if not view_mode:
        return view_mode
    return ",".join("tree" if mode.strip() == "list" else mode for mode in view_mode.split(","))


def _backport_17():
    """Odoo 18 API the addon uses, added to Odoo 17's classes (only where missing)."""
    _backport_env_translate()
    _backport_access()


def _backport_env_translate():
    """``Environment._``: translate in the environment's language (18+)."""
    if not hasattr(api.Environment, "_"):
        import inspect  # noqa: PLC0415 - only on some Odoo versions, read when called

        from markupsafe import Markup, escape  # noqa: PLC0415 - only on some Odoo versions, read when called

        from odoo.tools.translate import code_translations  # noqa: PLC0415 - only on some Odoo versions, read when called

        def _(self, source, *args, **kwargs):
            lang = self.lang or "en_US"
            translation = source
            if lang != "en_US":
                frame = inspect.currentframe().f_back
                name = frame.f_globals.get("__name__", "")
                module = name.split(".")[2] if name.startswith("odoo.addons.") else "base"
                translation = code_translations.get_python_translations(module, lang).get(source, source)
            values = args or kwargs
            if not values:
                return translation
            if any(isinstance(a, Markup) for a in (kwargs.values() if kwargs else args)):
                translation = escape(translation)
            try:
                return translation % values
            except (TypeError, ValueError, KeyError):
                _logger.exception("Bad translation %r for string %r", translation, source)
                return source % values

        api.Environment._ = _


def _backport_access():
    """``check_access``, ``has_access`` and ``_filtered_access`` of 18's BaseModel."""
    if not hasattr(models.BaseModel, "check_access"):
        def check_access(self, operation):
            self.check_access_rights(operation)
            self.check_access_rule(operation)

        models.BaseModel.check_access = check_access

    if not hasattr(models.BaseModel, "has_access"):
        from odoo.exceptions import AccessError  # noqa: PLC0415 - only on some Odoo versions, read when called

        def has_access(self, operation):
            if self.env.su:
                return True
            if not self.check_access_rights(operation, raise_exception=False):
                return False
            try:
                self.check_access_rule(operation)
            except AccessError:
                return False
            return True

        models.BaseModel.has_access = has_access

    if not hasattr(models.BaseModel, "_filtered_access"):
        def _filtered_access(self, operation):
            if self.env.su or not self:
                return self
            if not self.check_access_rights(operation, raise_exception=False):
                return self.browse()
            return self._filter_access_rules(operation)

        models.BaseModel._filtered_access = _filtered_access


if ODOO_VERSION < 18:
    _backport_17()
