from . import test_commit
from . import test_matching
from . import test_rollback
from . import test_staging
