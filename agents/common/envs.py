"""Which registered envs an agent can train on, from the registration itself (no env id is named here)."""

from __future__ import annotations

import npi_gym
from npi_gym.cli import is_program_env


def first_env(program_calls: bool) -> str:
    """The first registered id that is (``program_calls``) or is not a program-call env: a config's default env."""
    return next(i for i in npi_gym.ENV_IDS if is_program_env(i) == program_calls)
