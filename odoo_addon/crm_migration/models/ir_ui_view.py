"""Odoo 17 only: the addon's ``<list>`` views and ``list`` view modes, loaded as 17's ``tree``.

17 knows the ``tree`` view type only, 18 and 19 the ``list`` type only; a manifest cannot choose
data files by version, so the views are written once, the 18/19 way, and renamed here while 17
installs or updates one of this project's modules (``install_module`` in the context, set by
Odoo's data loader). On 18 and 19 nothing here is defined.
"""

from odoo import api, models

from .. import compat

ARCH_KEYS = ("arch", "arch_base", "arch_db")


def _ours(env):
    return (env.context.get("install_module") or "").startswith("crm_migration")


if compat.ODOO_VERSION < 18:

    class IrUiView(models.Model):
        _inherit = "ir.ui.view"

        def _crm_migration_arch_17(self, vals):
            if _ours(self.env):
                for key in ARCH_KEYS:
                    if isinstance(vals.get(key), str):
                        vals[key] = compat.list_to_tree(vals[key])
            return vals

        @api.model_create_multi
        def create(self, vals_list):
            return super().create([self._crm_migration_arch_17(dict(vals)) for vals in vals_list])

        def write(self, vals):
            return super().write(self._crm_migration_arch_17(dict(vals)))

    class IrActionsActWindow(models.Model):
        _inherit = "ir.actions.act_window"

        def _crm_migration_mode_17(self, vals):
            if _ours(self.env) and vals.get("view_mode"):
                vals["view_mode"] = compat.view_mode_to_17(vals["view_mode"])
            return vals

        @api.model_create_multi
        def create(self, vals_list):
            return super().create([self._crm_migration_mode_17(dict(vals)) for vals in vals_list])

        def write(self, vals):
            return super().write(self._crm_migration_mode_17(dict(vals)))

    class IrActionsActWindowView(models.Model):
        _inherit = "ir.actions.act_window.view"

        @api.model_create_multi
        def create(self, vals_list):
            vals_list = [dict(vals) for vals in vals_list]
            for vals in vals_list:
                if _ours(self.env) and vals.get("view_mode") == "list":
                    vals["view_mode"] = "tree"
            return super().create(vals_list)
