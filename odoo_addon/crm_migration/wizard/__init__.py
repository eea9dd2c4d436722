from . import crm_migration_rollback_wizard
