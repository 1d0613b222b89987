"""npi-gym: Gymnasium environments for neural program induction.

Importing the package registers every environment id with Gymnasium.
"""

from __future__ import annotations

import gymnasium as gym

from npi_gym.core import InvalidCall, ProgramEnv
from npi_gym.programs import Call, Program, ProgramSet
from npi_gym.wrappers import FlatCalls, PreviousCall

__all__ = [
    "Call",
    "FlatCalls",
    "InvalidCall",
    "PreviousCall",
    "Program",
    "ProgramEnv",
    "ProgramSet",
    "ENV_IDS",
]
__version__ = "0.1.0"


def _register(env_id: str, entry_point: str, **kwargs: object) -> None:
    if env_id not in gym.registry:
        gym.register(id=env_id, entry_point=entry_point, kwargs=kwargs)


# --- registrations ---
_register("NPI-Addition-v0", "npi_gym.envs.addition:AdditionEnv")
_register("NPI-Addition-Recursive-v0", "npi_gym.envs.addition:AdditionEnv", recursive=True)
_register("NPI-Sort-v0", "npi_gym.envs.sort:SortEnv")
_register("NPI-Sort-Recursive-v0", "npi_gym.envs.sort:SortEnv", recursive=True)
_register("NPI-Canonicalize-v0", "npi_gym.envs.car:CanonicalizeEnv")
from npi_gym.envs.table import register_table_envs; register_table_envs()  # noqa: E402, E702
# --- end registrations ---

ENV_IDS: tuple[str, ...] = tuple(i for i in gym.registry if i.startswith("NPI-"))
