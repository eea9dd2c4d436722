from . import crm_migration_rollback_wizard
from . import crm_migration_upload_wizard
