# Copyright 2025
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
{
    "name": "CRM Migration",
    "summary": "Stage, commit and roll back CRM data migrated from any source",
    "version": "1.0.0",
    "category": "Sales/CRM",
    "license": "LGPL-3",
    "author": "crm_migration contributors",
    "depends": ["crm", "contacts"],
    "data": [
        "security/crm_migration_security.xml",
        "security/ir.model.access.csv",
        "views/crm_migration_views.xml",
        "views/crm_migration_upload_views.xml",
        "views/crm_migration_record_views.xml",
        "views/crm_migration_link_views.xml",
        "views/crm_migration_profile_views.xml",
        "views/crm_migration_source_views.xml",
        "views/crm_migration_menus.xml",
        "views/crm_migration_owner_views.xml",
        "views/crm_migration_audit_views.xml",
        "wizard/crm_migration_rollback_wizard_views.xml",
        "views/crm_migration_sample_views.xml",
        "data/ir_cron.xml",
        "views/res_config_settings_views.xml",
        "wizard/crm_migration_upload_wizard_views.xml",
        "views/crm_migration_mapping_views.xml",
        "views/crm_migration_report_views.xml",
        "views/crm_migration_delta_views.xml",
    ],
    "assets": {
        "web.assets_backend": [
            "crm_migration/static/src/**/*",
        ],
    },
    "installable": True,
    "application": True,
}
