# Copyright 2026
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
{
    "name": "CRM Migration - Job Queue",
    "summary": "Commit migrations as OCA queue_job jobs: chunks spread over Odoo's workers and servers",
    "version": "1.0.0",
    "category": "Hidden",
    "license": "LGPL-3",
    "author": "crm_migration contributors, Odoo Community Association (OCA)",
    "website": "https://github.com/OCA/crm",
    "maintainers": [],
    "development_status": "Beta",
    "depends": ["crm_migration", "queue_job"],
    "data": [
        "data/queue_job_data.xml",
        "views/crm_migration_views.xml",
    ],
    "installable": True,
    "auto_install": True,
}
