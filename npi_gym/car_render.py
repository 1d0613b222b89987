"""The car renderer and view cache's old import path, kept for one release: use ``npi_gym.envs.car``."""

from npi_gym.envs.car import *  # noqa: F403
from npi_gym.envs.car.render import CACHE_VERSION, camera_direction, camera_distance  # noqa: F401
