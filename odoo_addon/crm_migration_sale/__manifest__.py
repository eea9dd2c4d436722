# Copyright 2025
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
{
    "name": "CRM Migration - Sale",
    "summary": "Source key and creation date in the source on migrated sale.order records",
    "version": "1.0.0",
    "category": "Hidden",
    "license": "LGPL-3",
    "author": "crm_migration contributors, Odoo Community Association (OCA)",
    "website": "https://github.com/OCA/crm",
    "maintainers": [],
    "development_status": "Beta",
    "depends": ["crm_migration", "sale"],
    "data": [
        "views/sale_order_views.xml",
    ],
    "installable": True,
    "auto_install": True,
}
