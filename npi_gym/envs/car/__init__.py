"""NPI-Canonicalize: the car family (env, renderer, view cache; the meshes ship in ``assets/``)."""

from npi_gym.envs.car.cache import StaleCacheWarning, ViewCache, default_cache_dir
from npi_gym.envs.car.env import PROGRAMS, CanonicalizeEnv, horizontal_plan, vertical_plan
from npi_gym.envs.car.render import (
    AZIMUTH_STEP,
    CARS_DIR,
    ELEVATIONS,
    N_AZIMUTHS,
    N_ELEVATIONS,
    CarModel,
    CarRenderer,
    RenderSettings,
    azimuth_deg,
    load_manifest,
    model_names,
)

__all__ = [
    "AZIMUTH_STEP",
    "CARS_DIR",
    "ELEVATIONS",
    "N_AZIMUTHS",
    "N_ELEVATIONS",
    "PROGRAMS",
    "CanonicalizeEnv",
    "CarModel",
    "CarRenderer",
    "RenderSettings",
    "StaleCacheWarning",
    "ViewCache",
    "azimuth_deg",
    "default_cache_dir",
    "horizontal_plan",
    "load_manifest",
    "model_names",
    "vertical_plan",
]
