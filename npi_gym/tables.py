"""The old import path of the Table task family, kept for one release: use ``npi_gym.envs.table``."""

from npi_gym.envs.table import *  # noqa: F403
from npi_gym.envs.table import __all__  # noqa: F401
