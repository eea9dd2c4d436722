from . import test_queue_commit
