from odoo import api, models


class ResGroups(models.Model):
    _inherit = "res.groups"

    @api.model
    def _crm_migration_set_category(self, group_xmlid, category_xmlid):
        """Put a group of ours under its application category, on every version: 17 and 18 set
        ``res.groups.category_id``; 19 has no such field and puts groups under a
        ``res.groups.privilege`` of the category instead (created here, with an external id of
        this module so that uninstalling removes it). Called from the security data file."""
        group = self.env.ref(group_xmlid)
        category = self.env.ref(category_xmlid)
        if "privilege_id" not in self._fields:
            group.category_id = category
            return True
        module, name = category_xmlid.split(".")
        privilege_xmlid = f"{module}.{name.replace('module_category_', 'res_groups_privilege_')}"
        privilege = self.env.ref(privilege_xmlid, raise_if_not_found=False)
        if not privilege:
            privilege = self.env["res.groups.privilege"].create(
                {"name": category.name, "category_id": category.id, "sequence": category.sequence})
            self.env["ir.model.data"]._update_xmlids(
                [{"xml_id": privilege_xmlid, "record": privilege, "noupdate": False}])
        group.privilege_id = privilege
        return True
