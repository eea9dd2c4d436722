from . import crm_migration
from . import crm_migration_record
from . import crm_migration_link
