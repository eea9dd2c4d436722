from odoo import fields, models

# docs/journey.md, "Settings"
DEFAULT_BRIDGE_URL = "http://127.0.0.1:8787"


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    crm_migration_bridge_url = fields.Char(
        string="Bridge URL", config_parameter="crm_migration.bridge_url", default=DEFAULT_BRIDGE_URL,
        help="Where Odoo reaches the migration bridge, e.g. http://127.0.0.1:8787.")
    crm_migration_bridge_token = fields.Char(
        string="Bridge Token", config_parameter="crm_migration.bridge_token",
        help="Sent as 'Authorization: Bearer <token>'; the bridge's BRIDGE_TOKEN.")
    crm_migration_llm_url = fields.Char(
        string="LLM URL", config_parameter="crm_migration.llm_url",
        help="Optional OpenAI-compatible endpoint the bridge asks for column mapping proposals.")
    crm_migration_llm_key = fields.Char(string="LLM API Key", config_parameter="crm_migration.llm_key")
    crm_migration_llm_model = fields.Char(string="LLM Model", config_parameter="crm_migration.llm_model")
