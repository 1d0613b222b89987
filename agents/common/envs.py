"""Which registered envs an agent can train on, from the registration itself (no env id is named here)."""

from __future__ import annotations

from npi_gym.registry import ENV_IDS, PROGRAM_CALL_IDS


def first_env(program_calls: bool) -> str:
    """The first registered id that is (``program_calls``) or is not a program-call env: a config's default env."""
    return next(i for i in ENV_IDS if (i in PROGRAM_CALL_IDS) == program_calls)
