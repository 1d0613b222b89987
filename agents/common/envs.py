"""Which registered envs an agent can train on, from the registration itself (no env id is named here)."""

from __future__ import annotations

from typing import Any

from agents.common.configs import ConfigError
from npi_gym.registry import ENV_IDS, PROGRAM_CALL_IDS


def env_ids(program_calls: bool) -> tuple[str, ...]:
    """The registered ids that are (``program_calls``) or are not program-call envs, in registration order."""
    return tuple(i for i in ENV_IDS if (i in PROGRAM_CALL_IDS) == program_calls)


def first_env(program_calls: bool) -> str:
    """The first registered id that is (``program_calls``) or is not a program-call env: a config's default env."""
    return env_ids(program_calls)[0]


def check_env_family(config: Any, program_calls: bool) -> None:
    """Refuse a config whose ``env_id`` is a registered env of the other kind (an id registered elsewhere is
    left to ``gym.make`` and the trainer)."""
    ours, env_id = env_ids(program_calls), config.env_id
    if env_id in ours or env_id not in ENV_IDS:
        return
    kind = "a program-call env" if program_calls else "a table-question env"
    raise ConfigError(f"{type(config).__name__}.env_id must be {kind}, one of {', '.join(ours)}; got {env_id!r}")
