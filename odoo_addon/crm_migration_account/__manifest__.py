# Copyright 2025
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
{
    "name": "CRM Migration - Accounting",
    "summary": "Source key and creation date in the source on migrated account.move records",
    "version": "1.1.0",
    "category": "Hidden",
    "license": "LGPL-3",
    "author": "crm_migration contributors, Odoo Community Association (OCA)",
    "website": "https://github.com/OCA/crm",
    "maintainers": [],
    "development_status": "Beta",
    "depends": ["crm_migration", "account"],
    "data": [
        "views/account_move_views.xml",
    ],
    "installable": True,
    "auto_install": True,
}
