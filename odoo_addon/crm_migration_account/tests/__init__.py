from . import test_source_fields
from . import test_invoice_state
