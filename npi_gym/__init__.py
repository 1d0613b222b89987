"""npi-gym: Gymnasium environments for neural program induction.

Importing the package registers every environment id (``npi_gym.registry``) with Gymnasium.
"""

from __future__ import annotations

from npi_gym.base import InvalidCall, TaskEnv
from npi_gym.core import ProgramEnv
from npi_gym.programs import Call, Program, ProgramSet
from npi_gym.registry import ENV_IDS, FAMILIES, FAMILY_IDS, PROGRAM_CALL_IDS, register_all
from npi_gym.wrappers import FlatCalls, PreviousCall

__all__ = [
    "Call",
    "ENV_IDS",
    "FAMILIES",
    "FAMILY_IDS",
    "FlatCalls",
    "InvalidCall",
    "PROGRAM_CALL_IDS",
    "PreviousCall",
    "Program",
    "ProgramEnv",
    "ProgramSet",
    "TaskEnv",
]
__version__ = "0.1.0"

register_all()
