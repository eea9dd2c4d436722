from odoo import fields, models


class CrmMigrationSourceMixin(models.AbstractModel):
    """Source identity and original creation date of a migrated record.

    Added to every model a migration creates business records in (partners, leads, events, and
    through the glue modules sale orders and invoices). The commit fills ``source_key`` from the
    staged key; ``source_create_date`` arrives in the staged values like any other field."""

    _name = "crm.migration.source.mixin"
    _description = "Migrated record: source key and creation date in the source"

    source_key = fields.Char(
        string="Source key", index=True, readonly=True, copy=False,
        help="Key of the record in the source system this record was migrated from "
             "(<source>:<object>:<id>).",
    )
    source_create_date = fields.Datetime(
        string="Created in source", copy=False,
        help="Creation date of this record in the source system it was migrated from "
             "(Odoo's own creation date is the date of the migration).",
    )
