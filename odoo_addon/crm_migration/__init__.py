from . import compat
from . import models
from . import wizard
from . import controllers
