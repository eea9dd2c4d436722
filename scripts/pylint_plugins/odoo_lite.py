"""Three of pylint-odoo's checks, for pylint 2.16 (Debian), because pylint-odoo is not installable here
(PyPI is not reachable on the build machines). Loaded by .pylintrc (load-plugins=odoo_lite).

- odoo-translation-required (pylint-odoo: translation-required): a user-facing exception
  (UserError, ValidationError, AccessError, RedirectWarning, MissingError, AccessDenied) raised with a
  literal or formatted string that does not go through _() / env._() is never translated.
- odoo-sql-injection (pylint-odoo: sql-injection): cr.execute() of a query built with %, +, .format()
  or an f-string, directly or through a variable assigned in the same function: pass parameters, or
  build it with odoo.tools.SQL.
- odoo-manifest-required-key / odoo-manifest-bad-license / odoo-manifest-bad-version (pylint-odoo:
  manifest-required-author, license-allowed, manifest-version-format): the keys OCA and the app store need.
"""

import re

from astroid import nodes
from pylint.checkers import BaseChecker

USER_ERRORS = {"UserError", "ValidationError", "AccessError", "RedirectWarning", "MissingError", "AccessDenied"}
TRANSLATE = {"_", "_lt"}
MANIFEST_KEYS = ("name", "version", "license", "author", "depends")
LICENSES = {"AGPL-3", "GPL-2", "GPL-2 or any later version", "GPL-3", "GPL-3 or any later version", "LGPL-3",
            "OEEL-1", "OPL-1", "Other OSI approved licence", "Other proprietary"}
# <odoo major>.0.x.y.z, or x.y.z: Odoo prefixes the series it runs, so one tree installs on 17, 18 and 19
VERSION = re.compile(r"^(\d+\.0\.)?\d+\.\d+\.\d+$")


def _is_translated(node):
    """_("..."), _lt("..."), self.env._("..."), env._("...")."""
    if not isinstance(node, nodes.Call):
        return False
    func = node.func
    return (isinstance(func, nodes.Name) and func.name in TRANSLATE) or (
        isinstance(func, nodes.Attribute) and func.attrname in TRANSLATE)


def _is_str_const(node):
    return isinstance(node, nodes.Const) and isinstance(node.value, str)


def _built_string(node):
    """A string put together at run time: f-string with values, "..." % x, "..." + x, "...".format(x)."""
    if isinstance(node, nodes.JoinedStr):
        return any(isinstance(v, nodes.FormattedValue) for v in node.values)
    if isinstance(node, nodes.BinOp) and node.op in ("%", "+"):
        return _is_str_const(node.left) or _built_string(node.left) or _is_str_const(node.right) \
            or _built_string(node.right)
    if isinstance(node, nodes.Call) and isinstance(node.func, nodes.Attribute) and node.func.attrname == "format":
        return _is_str_const(node.func.expr)
    return False


def _is_cursor(node):
    """cr, self.cr, self._cr, env.cr, self.env.cr, ..."""
    if isinstance(node, nodes.Name):
        return node.name in ("cr", "_cr", "cursor")
    return isinstance(node, nodes.Attribute) and node.attrname in ("cr", "_cr")


class OdooLiteChecker(BaseChecker):
    name = "odoo-lite"
    msgs = {
        "W8501": ("User-facing %s raised with an untranslated message: wrap it in _() / self.env._()",
                  "odoo-translation-required", "pylint-odoo's translation-required."),
        "E8502": ("SQL built with %s and passed to cr.execute(): use query parameters or odoo.tools.SQL",
                  "odoo-sql-injection", "pylint-odoo's sql-injection."),
        "C8503": ("Manifest lacks the %r key", "odoo-manifest-required-key",
                  "pylint-odoo's manifest-required-author and friends."),
        "C8504": ("Manifest license %r is not one Odoo knows", "odoo-manifest-bad-license",
                  "pylint-odoo's license-allowed."),
        "C8505": ("Manifest version %r is not x.y.z or <odoo major>.0.x.y.z", "odoo-manifest-bad-version",
                  "pylint-odoo's manifest-version-format."),
    }

    def visit_raise(self, node):
        exc = node.exc
        if not isinstance(exc, nodes.Call) or not exc.args:
            return
        func = exc.func
        name = func.name if isinstance(func, nodes.Name) else getattr(func, "attrname", None)
        if name not in USER_ERRORS:
            return
        message = exc.args[0]
        if _is_str_const(message) or _built_string(message):
            self.add_message("odoo-translation-required", node=node, args=(name,))

    def visit_call(self, node):
        func = node.func
        if not (isinstance(func, nodes.Attribute) and func.attrname == "execute" and _is_cursor(func.expr)):
            return
        if not node.args:
            return
        query = node.args[0]
        candidates = [query]
        if isinstance(query, nodes.Name):  # a variable: what it was assigned in this function
            _scope, assignments = query.lookup(query.name)
            candidates = [a.parent.value for a in assignments
                          if isinstance(a, nodes.AssignName) and isinstance(a.parent, nodes.Assign)]
        for candidate in candidates:
            if _built_string(candidate):
                how = {nodes.JoinedStr: "an f-string", nodes.BinOp: "string operators"}.get(
                    type(candidate), ".format()")
                self.add_message("odoo-sql-injection", node=node, args=(how,))
                return

    def visit_module(self, node):
        if not node.file or not node.file.endswith("__manifest__.py"):
            return
        manifest = next((n.value for n in node.body if isinstance(n, nodes.Expr)
                         and isinstance(n.value, nodes.Dict)), None)
        if manifest is None:
            self.add_message("odoo-manifest-required-key", node=node, args=("name",))
            return
        values = {k.value: v for k, v in manifest.items if isinstance(k, nodes.Const)}
        for key in MANIFEST_KEYS:
            if key not in values:
                self.add_message("odoo-manifest-required-key", node=manifest, args=(key,))
        license_ = values.get("license")
        if _is_str_const(license_) and license_.value not in LICENSES:
            self.add_message("odoo-manifest-bad-license", node=license_, args=(license_.value,))
        version = values.get("version")
        if _is_str_const(version) and not VERSION.match(version.value):
            self.add_message("odoo-manifest-bad-version", node=version, args=(version.value,))


def register(linter):
    linter.register_checker(OdooLiteChecker(linter))
