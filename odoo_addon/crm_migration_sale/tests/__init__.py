from . import test_source_fields
